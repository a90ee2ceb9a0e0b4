/**
 * Safety invariants under random schedules (fast-check, seeded): e-stop trips and releases, guard
 * openings, operator commands and silent heartbeats at random times, in virtual-time runs of the
 * demo cell. Checked on the simulator's device log and by an observer at each device, not only on
 * the journal. CI runs SAFETY_RUNS (default 1000); `npm run campaign:safety` runs 10,000.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runSchedule, safetyBreaches, type ScheduledEvent } from './schedule.js';

const RUNS = Number(process.env.SAFETY_RUNS ?? 1000);
const HORIZON_MS = 30_000;

const at = fc.integer({ min: 0, max: HORIZON_MS });
const word = fc.constantFrom('reset', 'start', 'stop', 'hold', 'unhold', 'suspend', 'unsuspend', 'abort', 'clear', 'ack', 'mode manual', 'mode production');
const event: fc.Arbitrary<ScheduledEvent> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ at, kind: fc.constant('estop' as const), pressed: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ at, kind: fc.constant('guard' as const), open: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ at, kind: fc.constant('command' as const), word }) },
  {
    weight: 2,
    arbitrary: fc.record({
      at,
      kind: fc.constant('silent' as const),
      device: fc.constantFrom('feeder', 'arm', 'conveyor', 'safety_io'),
      durationMs: fc.integer({ min: 100, max: 3000 }),
    }),
  },
);
// An operator who resets and starts the cell, plus random trouble on top.
const schedule = fc
  .array(event, { maxLength: 12 })
  .map((extra): ScheduledEvent[] => [{ at: 100, kind: 'command', word: 'reset' }, { at: 6000, kind: 'command', word: 'start' }, ...extra]);

describe(`safety invariants over ${RUNS} random schedules`, () => {
  it('no motion after an e-stop before Reset; no forbidden command reaches a device; safe values on every trip; never Execute without Start; Stop and Abort accepted where PackML allows', () => {
    let executes = 0;
    let trips = 0;
    fc.assert(
      fc.property(schedule, fc.integer({ min: 1, max: 1_000_000 }), (events, seed) => {
        const result = runSchedule(events, { seed, horizonMs: HORIZON_MS });
        if (result.journal.some((r) => r.kind === 'state' && r.to === 'Execute')) executes++;
        if (result.journal.some((r) => r.kind === 'estop' && r.active)) trips++;
        expect(safetyBreaches(result)).toEqual([]);
      }),
      { numRuns: RUNS, seed: 20261122, endOnFailure: true },
    );
    // The schedules must actually exercise production and trips, or the property proves little.
    expect(executes).toBeGreaterThan(RUNS * 0.3);
    expect(trips).toBeGreaterThan(RUNS * 0.3);
  }, Math.max(60_000, RUNS * 150)); // about 15 ms a schedule alone; leave room for a busy machine
});
