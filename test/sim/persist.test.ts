/**
 * The simulated world across a restart (src/sim/persist.ts): a second simulator on the same state
 * directory finds the parts, the belt and the arm where the first left them; what was under way
 * when it stopped finishes or stops as it physically would; a world saved for another cell
 * description is set aside, never loaded.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { persistSimWorld, SIM_WORLD_FILE } from '../../src/sim/persist.js';
import { Harness } from './helpers.js';

const HASH = 'a'.repeat(64);

function stateDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'workcell-simworld-'));
}

/** A simulator keeping its world in `dir`, its drivers activated after it took over what was there. */
function lifeOn(dir: string, seed: number, hash = HASH) {
  const h = new Harness({ seed, activate: false });
  const outcome = persistSimWorld(h.sim, dir, hash);
  for (const driver of h.sim.drivers.values()) {
    driver.configure();
    driver.activate();
  }
  return { h, outcome };
}

const firstLife = (dir: string) => lifeOn(dir, 1).h;
/** A second life: another seed, so nothing matches by chance. */
const restart = (dir: string, hash = HASH) => lifeOn(dir, 99, hash);

describe('the simulated world across a restart', () => {
  it('parts, belt, arm and board counters are where the first life left them', () => {
    const dir = stateDir();
    const first = firstLife(dir);
    first.home();
    first.feedPickPlace(); // p1 on the belt at the place position
    first.feed(); // p2 at the pick
    first.moveArm('above_pick');
    first.moveArm('pick');
    first.grip(); // p2 gripped, still at the pick
    const before = { parts: first.sim.parts(), conveyor: first.conveyor.read(), arm: first.arm.read(), counts: first.sim.counts() };
    expect(before.parts.map((p) => [p.id, p.where])).toEqual([
      ['p1', 'belt'],
      ['p2', 'pick'],
    ]);

    const { h, outcome } = restart(dir);
    expect(outcome).toEqual({ restored: true, parts: 2 });
    expect(h.sim.parts()).toEqual(before.parts);
    expect(h.sim.counts()).toEqual(before.counts);
    expect(h.conveyor.read().axis).toEqual(before.conveyor.axis);
    expect(h.arm.read()).toMatchObject({ joints: before.arm.joints, inputs: { vacuum_ok: true }, outputs: { vacuum: true } });
    expect(h.feeder.read().inputs.part_at_pick).toBe(true);
    // The world goes on: the next index carries p1 to the exit, and the next part is p3.
    h.moveArm('above_pick');
    h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    expect(h.conveyor.read().inputs.part_at_exit).toBe(true);
    h.motion('feeder', { type: 'release' });
    expect(h.sim.parts().map((p) => p.id)).toContain('p3');
  });

  it('what was under way finishes as physics would: a release puts its part on the belt, a falling part lands', () => {
    const dir = stateDir();
    const first = firstLife(dir);
    first.home();
    first.feed();
    first.moveArm('above_pick');
    first.moveArm('pick');
    first.grip();
    first.moveArm('above_pick');
    first.moveArm('above_place');
    first.moveArm('place');
    first.arm.write({ type: 'vacuum', on: false }); // the release is under way...
    first.feeder.write({ type: 'release' }); // ...and p2 is falling down the chute
    first.wait(10);
    expect(first.sim.parts().map((p) => p.where)).toEqual(['gripper', 'chute']);

    const { h } = restart(dir);
    const parts = h.sim.parts();
    expect(parts.map((p) => [p.id, p.where])).toEqual([
      ['p1', 'belt'],
      ['p2', 'pick'],
    ]);
    // On the belt at the place position (the belt was restored before the part was put on it).
    expect(parts[0]!.positionMm).toBeCloseTo(h.conveyorDesc.placePositionMm, 6);
    expect(h.arm.read().inputs.vacuum_ok).toBe(false);
    expect(h.feeder.read().inputs.part_at_pick).toBe(true);
  });

  it('a motion under way stops where the last snapshot saw it', () => {
    const dir = stateDir();
    const first = firstLife(dir);
    first.home();
    first.conveyor.write({ type: 'index', steps: first.indexSteps() });
    first.wait(300);
    const mid = first.conveyor.read().axis!;
    expect(first.conveyor.read().moving).toBe(true);
    expect(mid.positionSteps).toBeGreaterThan(0);
    expect(mid.positionSteps).toBeLessThan(first.indexSteps());

    const { h } = restart(dir);
    expect(h.conveyor.read().moving).toBe(false);
    // Within one reading period of where the first life's belt was.
    const axis = h.conveyor.read().axis!;
    expect(axis.homed).toBe(true);
    expect(Math.abs(axis.positionSteps - mid.positionSteps)).toBeLessThanOrEqual(h.conveyorDesc.axis.maxSpeedMmS * h.conveyorDesc.axis.stepsPerMm * 0.02 + 1);
  });

  it('a world saved for another cell description is set aside with its reason, never loaded', () => {
    const dir = stateDir();
    const first = new Harness({ seed: 1 });
    persistSimWorld(first.sim, dir, HASH);
    first.feed();

    const { h, outcome } = restart(dir, 'b'.repeat(64));
    expect(outcome).toMatchObject({ restored: false, reason: expect.stringContaining('another cell description') });
    expect(h.sim.parts()).toEqual([]);
    const aside = (outcome as { setAside: string }).setAside;
    expect(readFileSync(path.join(aside, 'REASON.txt'), 'utf8')).toContain('never loaded');
    expect(JSON.parse(readFileSync(path.join(aside, SIM_WORLD_FILE), 'utf8')).world.parts).toHaveLength(1);
    // The new life saves its own (empty) world in its place.
    expect(JSON.parse(readFileSync(path.join(dir, SIM_WORLD_FILE), 'utf8')).cellHash).toBe('b'.repeat(64));
  });

  it('an unreadable file is set aside too, naming what is wrong', () => {
    const dir = stateDir();
    writeFileSync(path.join(dir, SIM_WORLD_FILE), '{"format":1, "cellHash": "');
    const { outcome } = restart(dir);
    expect(outcome).toMatchObject({ restored: false, reason: expect.stringMatching(/^unreadable \(/) });
    expect(existsSync(path.join(dir, 'set-aside'))).toBe(true);
    expect(readdirSync(path.join(dir, 'set-aside'))).toHaveLength(1);
  });
});
