import { describe, expect, test } from 'vitest';
import { Harness } from './helpers.js';

describe('simulated feeder', () => {
  test('release pulses the solenoid, the part lands after feed_ms, part_at_pick follows after its debounce', () => {
    const h = new Harness();
    const { releasePulseMs, feedMs } = h.feederDesc;
    const debounce = h.feederDesc.partAtPick.debounceMs;
    expect(debounce).toBeGreaterThan(0);

    h.feeder.write({ type: 'release' });
    expect(h.feeder.read()).toMatchObject({ outputs: { release: true }, moving: true, inputs: { part_at_pick: false } });
    expect(h.sim.parts()).toEqual([{ id: 'p1', where: 'chute', device: 'feeder' }]);

    h.clock.advanceTo(releasePulseMs - 1);
    expect(h.feeder.read().outputs.release).toBe(true);
    h.clock.advanceTo(releasePulseMs);
    expect(h.feeder.read().outputs.release).toBe(false);
    expect(h.feeder.read().moving).toBe(true);

    h.clock.advanceTo(feedMs);
    expect(h.sim.parts()).toEqual([{ id: 'p1', where: 'pick', device: 'feeder' }]);
    expect(h.feeder.read().moving).toBe(false);
    expect(h.feedbackOf('feeder', 'motionDone').map((r) => r.t)).toEqual([feedMs]);
    expect(h.feeder.read().inputs.part_at_pick).toBe(false); // still debouncing
    h.clock.advanceTo(feedMs + debounce);
    expect(h.feeder.read().inputs.part_at_pick).toBe(true);

    const partEvents = h.log.ofKind('part').map((e) => [e.t, e.part, e.event]);
    expect(partEvents).toEqual([
      [0, 'p1', 'spawned'],
      [feedMs, 'p1', 'at_pick'],
    ]);
  });

  test('a part released onto an occupied pick position jams in the chute', () => {
    const h = new Harness();
    h.feed();
    h.motion('feeder', { type: 'release' });
    expect(h.sim.parts()).toEqual([
      { id: 'p1', where: 'pick', device: 'feeder' },
      { id: 'p2', where: 'jammed', device: 'feeder' },
    ]);
    expect(h.feeder.read().inputs.part_at_pick).toBe(true); // still the old part
    expect(h.sim.counts()).toMatchObject({ spawned: 2, jammed: 1, inCell: 2 });
    expect(h.log.ofKind('part').filter((e) => e.event === 'jammed').map((e) => e.part)).toEqual(['p2']);
  });

  test('an injected feeder jam makes the next N releases jam, then parts land again', () => {
    const h = new Harness();
    h.sim.inject({ fault: 'feeder_jam', device: 'feeder', count: 2 });
    h.motion('feeder', { type: 'release' });
    h.motion('feeder', { type: 'release' });
    h.wait(100);
    expect(h.feeder.read().inputs.part_at_pick).toBe(false);
    h.feed();
    expect(h.sim.parts().map((p) => [p.id, p.where])).toEqual([
      ['p1', 'jammed'],
      ['p2', 'jammed'],
      ['p3', 'pick'],
    ]);
    expect(h.log.ofKind('fault')).toEqual([{ t: 0, kind: 'fault', fault: { fault: 'feeder_jam', device: 'feeder', count: 2 } }]);
  });

  test('safe state de-energises the release solenoid at once; the part already falling still lands', () => {
    const h = new Harness();
    h.feeder.write({ type: 'release' });
    h.wait(50);
    h.feeder.write({ type: 'safeState', category: 0 });
    expect(h.feeder.read().outputs.release).toBe(false);
    h.runUntil(() => h.feedbackOf('feeder', 'motionDone').length === 1);
    expect(h.sim.parts()[0]?.where).toBe('pick');
    expect(h.log.ofKind('output').map((e) => [e.t, e.value])).toEqual([
      [0, true],
      [50, false],
    ]);
  });

  test('the feeder refuses commands it does not understand', () => {
    const h = new Harness();
    h.feeder.write({ type: 'index', steps: 10 });
    const refused = h.feedbackOf('feeder', 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.feedback).toMatchObject({ type: 'refused', command: { type: 'index' } });
    expect(h.log.ofKind('command')[0]).toMatchObject({ outcome: 'refused', reason: expect.stringContaining('not index') });
    expect(h.sim.counts().spawned).toBe(0);
  });
});
