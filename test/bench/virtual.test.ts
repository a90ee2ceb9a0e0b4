/**
 * The virtual-time measurements behind the benchmark figures: the strictly sequential sequencer
 * and the recovery times read from a journal (both deterministic in virtual time; nothing timed).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CellRun } from '../../src/runtime/run.js';
import { throughputLimit } from '../../src/controller/throughput.js';
import type { JournalRecord } from '../../src/journal/journal.js';
import { runSequential } from '../../bench/sequential.js';
import { recoveryTimes } from '../../bench/recovery.js';
import { DEMO_CELL, ROOT } from '../../bench/options.js';

describe('strictly sequential sequencer', () => {
  it('produces every part, one step at a time: one cycle is the sum of all station times', () => {
    const result = runSequential(DEMO_CELL, 12, 3);
    expect(result.parts).toBe(12);
    const run = new CellRun({ cellPath: DEMO_CELL, virtualTime: true });
    const limit = throughputLimit(run.cell);
    const loads = Object.fromEntries(limit.resources.map((r) => [r.resource, r.busyMsPerPart]));
    // Feed, the whole arm cycle and the index never overlap: each part costs at least their sum.
    const sequentialCycle = loads.feeder! + loads.arm! + loads.conveyor!;
    expect(result.spanMs / result.parts).toBeGreaterThanOrEqual(sequentialCycle * ((result.parts - 1) / result.parts));
    expect(result.partsPerMinute).toBeLessThan(limit.partsPerMinute * 0.75);
    expect(result.partsPerMinute).toBeGreaterThan(0);
  });
});

describe('recovery times from the journal', () => {
  it('measures missed step → Execute on a real run with a conveyor slip', async () => {
    const run = new CellRun({ cellPath: DEMO_CELL, virtualTime: true, cycles: 8, seed: 7, keepJournal: true, autostart: true, scenarioPath: path.join(ROOT, 'hardware', 'scenarios', 'conveyor_slip.yaml') });
    await run.run();
    const records = run.memory!.records();
    const times = recoveryTimes(records);
    expect(times).toHaveLength(1);
    const [r] = times;
    const miss = records.find((x) => x.kind === 'step' && x.phase === 'missed')!;
    const back = records.find((x) => x.kind === 'state' && x.to === 'Execute' && x.t > miss.t)!;
    const held = records.find((x) => x.kind === 'state' && x.to === 'Held' && x.t >= miss.t)!;
    expect(held.t).toBeLessThan(back.t);
    expect(r).toEqual({ fault: 'index_short', totalMs: back.t - miss.t, homingMs: 0, recoveryMs: back.t - miss.t, holdingMs: held.t - miss.t });
    expect(r!.recoveryMs).toBeGreaterThan(0);
  });

  it('subtracts homing motion inside the window and ignores misses never followed by Execute', () => {
    const rec = (t: number, kind: JournalRecord['kind'], fields: Record<string, unknown>): JournalRecord => ({ seq: t, wall: '', t, kind, ...fields });
    const records = [
      rec(100, 'step', { device: 'conveyor', step: 'index', phase: 'missed' }),
      rec(101, 'fault', { fault: 'axis_position_lost' }),
      rec(300, 'state', { from: 'Holding', to: 'Held' }),
      rec(400, 'step', { device: 'conveyor', step: 'home', phase: 'start' }),
      rec(2400, 'step', { device: 'conveyor', step: 'home', phase: 'done' }),
      rec(2700, 'state', { from: 'Unholding', to: 'Execute' }),
      rec(5000, 'step', { device: 'feeder', step: 'release', phase: 'missed' }),
      rec(5001, 'fault', { fault: 'part_not_at_pick' }),
    ];
    expect(recoveryTimes(records)).toEqual([{ fault: 'axis_position_lost', totalMs: 2600, homingMs: 2000, recoveryMs: 600, holdingMs: 200 }]);
  });
});
