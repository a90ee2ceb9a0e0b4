/**
 * Teach in Manual mode: the measured arm joints become a named pose, the measured conveyor position
 * a named position, written back to the cell description (comments kept) after a diff, with a backup.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCell } from '../../src/cell/load.js';
import type { CellEventMessage } from '../../src/interface/operator.js';
import type { DemoCell } from '../controller/runHarness.js';
import { armJoints, cellFile, commissioningCell, records, rejection, view } from './helpers.js';

let cell: DemoCell | undefined;
afterEach(() => {
  cell?.close();
  cell = undefined;
});

function proposal(c: DemoCell): Extract<CellEventMessage, { type: 'commissioning' }> {
  const e = [...c.events].reverse().find((x) => x.type === 'commissioning' && x.event === 'teach.proposed');
  if (!e || e.type !== 'commissioning') throw new Error('no teach proposal published');
  return e;
}

/** Jog joint_1 by +0.1 rad in Manual mode, renewing until done. */
function jogJoint1(c: DemoCell): void {
  expect(rejection(c, 'jog arm joint_1 +0.1')).toBeUndefined();
  for (let i = 0; i < 20 && view(c).jog; i++) {
    c.advance(100);
    if (view(c).jog) c.send('jog renew');
  }
  c.advance(300);
}

describe('teach pose', () => {
  it('writes the measured joints as the named pose after a diff, keeping comments and a backup', () => {
    cell = commissioningCell();
    const c = cell;
    const file = cellFile(c);
    const original = readFileSync(file, 'utf8');
    c.send('mode manual');
    jogJoint1(c);
    const joints = armJoints(c);
    expect(joints[0]).toBeCloseTo(0.1, 6);

    expect(rejection(c, 'teach pose arm above_pick')).toBeUndefined();
    // Proposed, not written: the diff comes first.
    expect(readFileSync(file, 'utf8')).toBe(original);
    const p = proposal(c);
    expect(p.id).toBe('t1');
    expect(p.diff).toContain('-      above_pick:  [-0.6, -0.9, 1.3,  0.0,  1.2,  0.0]');
    expect(p.diff).toContain(`+      above_pick:  [${joints.map((q) => String(Math.round(q * 1e4) / 1e4)).join(', ')}]`);
    // Only that line changes.
    expect(p.diff!.split('\n').filter((l) => /^[-+][^-+]/.test(l))).toHaveLength(2);
    expect(view(c).teach).toMatchObject({ id: 't1', key: 'devices.arm.poses.above_pick' });

    expect(rejection(c, 'teach confirm t2')).toBe('the pending teach proposal is t1, not t2');
    expect(rejection(c, 'teach confirm t1')).toBeUndefined();
    const written = readFileSync(file, 'utf8');
    expect(readFileSync(`${file}.bak`, 'utf8')).toBe(original);
    const poses = (parse(written) as { devices: { arm: { poses: Record<string, number[]> } } }).devices.arm.poses;
    expect(poses.above_pick).toEqual(joints.map((q) => Math.round(q * 1e4) / 1e4));
    // Everything else as it was: the other poses, the comments, the schema line.
    expect(poses.pick).toEqual([-0.6, -0.6, 1.5, 0.0, 0.7, 0.0]);
    expect(written).toContain('# yaml-language-server: $schema=../../docs/cell.schema.json');
    expect(written).toContain('      #            j1     j2    j3    j4    j5    j6');
    expect(written).toContain('release: { safe_value: "off" }          # release solenoid de-energises on any stop');
    expect(written.split('\n').length).toBe(original.split('\n').length);
    // Still a valid description, with the taught pose in it.
    const loaded = loadCell(file);
    expect(loaded.ok && loaded.cell.devices.arm?.kind === 'arm' ? loaded.cell.devices.arm.poses.above_pick : undefined).toEqual(poses.above_pick);
    expect(records(c, 'commissioning', 'teach.written')[0]).toMatchObject({ id: 't1', source: 'topic:/workcell/command', backup: `${file}.bak`, key: 'devices.arm.poses.above_pick' });
    expect(view(c).teach).toBeNull();
  });

  it('a new pose name is added next to the others', () => {
    cell = commissioningCell();
    const c = cell;
    const file = cellFile(c);
    c.send('mode manual');
    c.send('teach pose arm inspect');
    c.send('teach confirm t1');
    const poses = (parse(readFileSync(file, 'utf8')) as { devices: { arm: { poses: Record<string, number[]> } } }).devices.arm.poses;
    expect(Object.keys(poses)).toEqual(['home', 'above_pick', 'pick', 'above_place', 'place', 'inspect']);
    expect(poses.inspect).toEqual(poses.home);
  });

  it('refuses to write when the file changed since the proposal', () => {
    cell = commissioningCell();
    const c = cell;
    const file = cellFile(c);
    c.send('mode manual');
    c.send('teach pose arm inspect');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n# edited by hand\n`);
    expect(rejection(c, 'teach confirm t1')).toBe(`${file} changed since the proposal was made; teach again to see the new diff`);
    expect(existsSync(`${file}.bak`)).toBe(false);
  });

  it('is refused outside Manual mode, while moving, or for the wrong kind of device', () => {
    cell = commissioningCell();
    const c = cell;
    expect(rejection(c, 'teach pose arm above_pick')).toBe('teach is only allowed in Manual mode; the cell is in production mode');
    c.send('mode manual');
    expect(rejection(c, 'teach pose conveyor above_pick')).toBe('teach pose: conveyor is a conveyor, not an arm');
    expect(rejection(c, 'teach position arm place_position_mm')).toBe('teach position: arm is a arm, not a conveyor');
    expect(rejection(c, 'teach position conveyor place_mm')).toMatch(/is not a conveyor position key/);
    c.send('jog arm joint_1 + continuous');
    expect(rejection(c, 'teach pose arm above_pick')).toBe('arm is moving: teach measures a standstill');
    expect(rejection(c, 'teach confirm t1')).toBe('no teach proposal is pending');
  });
});

describe('teach position', () => {
  it('needs a homed conveyor, refuses a position that breaks the description, then writes its measured position', () => {
    // With 60 mm indexes, exit (400) - place stays a whole number of indexes for place = 40.
    cell = commissioningCell((text) => text.replace('index_mm: 300', 'index_mm: 60'));
    const c = cell;
    const file = cellFile(c);
    c.send('mode manual');
    expect(rejection(c, 'teach position conveyor place_position_mm')).toBe('teach position: conveyor is not homed, so its position means nothing; Reset homes it');
    c.send('reset');
    c.until('Idle');
    expect(rejection(c, 'jog conveyor +40')).toBeUndefined();
    for (let i = 0; i < 20 && view(c).jog; i++) {
      c.advance(100);
      if (view(c).jog) c.send('jog renew');
    }
    c.advance(300);
    expect(view(c).positions.conveyor).toEqual({ mm: 40 });
    expect(rejection(c, 'teach position conveyor exit_position_mm')).toMatch(/^teaching devices\.conveyor\.exit_position_mm would make .* invalid: .*exit_position_mm \(40 mm\) must be downstream of place_position_mm \(100 mm\)/);
    expect(rejection(c, 'teach position conveyor place_position_mm')).toBeUndefined();
    expect(proposal(c).diff).toContain('-    place_position_mm: 100\n+    place_position_mm: 40\n');
    c.send('teach confirm t1');
    expect(records(c, 'commissioning', 'teach.written')).toHaveLength(1);
    expect((parse(readFileSync(file, 'utf8')) as { devices: { conveyor: { place_position_mm: number } } }).devices.conveyor.place_position_mm).toBe(40);
  });
});
