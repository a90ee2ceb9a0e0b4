/**
 * Random missed-step schedules (fast-check, seeded) on the simulated demo cell in virtual time:
 * slips, jams, stalls, lost and corrupted messages, stuck sensors, board resets, at random times;
 * an operator who unholds two seconds after every Held. Invariants on the simulator's device log
 * and the journal: every part accounted for once, no part placed or exited twice, no new step
 * between a missed step and its Resync, and every index that did not slip itself ends on the grid
 * of home marks (a slip made up from measurement, never repeated from a stale target).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceLogEntry } from '../../src/sim/index.js';
import { DeviceLogMemory, type FaultInjection } from '../../src/sim/index.js';
import { CellRun } from '../../src/runtime/run.js';
import type { CellStateMessage } from '../../src/interface/operator.js';
import { DEMO_PATH } from '../controller/helpers.js';
import { checkDeviceLogConservation, checkJournalConservation } from '../e2e/invariants.js';

const RUNS = Number(process.env.RECOVERY_RUNS ?? 200);

const fault: fc.Arbitrary<FaultInjection> = fc.oneof(
  fc.record({ fault: fc.constant('missed_steps' as const), device: fc.constant('conveyor'), steps: fc.integer({ min: 15, max: 80 }) }),
  fc.record({ fault: fc.constant('feeder_jam' as const), device: fc.constant('feeder') }),
  fc.record({ fault: fc.constant('arm_stall' as const), device: fc.constant('arm'), fraction: fc.double({ min: 0.2, max: 0.8, noNaN: true }) }),
  fc.record({ fault: fc.constant('lost_message' as const), device: fc.constantFrom('feeder', 'conveyor'), direction: fc.constant('command' as const) }),
  fc.record({ fault: fc.constant('lost_message' as const), device: fc.constant('arm'), direction: fc.constant('feedback' as const), feedbackType: fc.constant('motionDone' as const) }),
  fc.record({ fault: fc.constant('corrupted_message' as const), device: fc.constantFrom('feeder', 'conveyor', 'arm') }),
  fc.record({ fault: fc.constant('mcu_reset' as const), device: fc.constant('conveyor') }),
);
const schedule = fc.array(fc.record({ at: fc.integer({ min: 8_000, max: 60_000 }), fault }), { minLength: 1, maxLength: 5 });

async function runSchedule(events: Array<{ at: number; fault: FaultInjection }>, seed: number) {
  const deviceLog = new DeviceLogMemory();
  const run = new CellRun({ cellPath: DEMO_PATH, virtualTime: true, keepJournal: true, cycles: 10, autostart: true, seed, deviceLog, stallTimeoutMs: 60_000 });
  let helds = 0;
  let last = '';
  run.bus.subscribe(run.controller.topics.state, (m) => {
    const state = (JSON.parse(m.data) as CellStateMessage).state;
    if (state === 'Held' && last !== 'Held' && ++helds <= 12) run.clock.setTimeout(() => run.send('unhold'), 2000);
    last = state;
  });
  for (const e of events) run.clock.setTimeout(() => run.sim.inject(e.fault), e.at);
  const summary = await run.run();
  return { summary, journal: run.memory!.records() as Array<Record<string, any>>, log: deviceLog.entries };
}

function checkNoStepBeforeResync(journal: Array<Record<string, any>>) {
  let missedAt: number | undefined;
  for (const r of journal) {
    if (r.kind === 'step' && r.phase === 'missed') missedAt ??= r.t;
    if (r.kind === 'recovery' && r.recovery === 'resync') missedAt = undefined;
    if (missedAt !== undefined && r.kind === 'device.command') {
      // Between a missed step and its Resync only stops, safe states and Resync's own re-homing leave.
      expect(['stop', 'safeState', 'home'], `${r.device} ${JSON.stringify(r.command)} at ${r.t} after a miss at ${missedAt}`).toContain(r.command.type);
    }
  }
}

function checkNothingTwice(log: DeviceLogEntry[], journal: Array<Record<string, any>>) {
  const placed = new Map<string, number>();
  for (const e of log) if (e.kind === 'part' && e.event === 'placed') placed.set(e.part, (placed.get(e.part) ?? 0) + 1);
  for (const [part, n] of placed) expect(n, `${part} placed ${n} times`).toBe(1);
  const exits = journal.filter((r) => r.kind === 'part' && r.event === 'exited').map((r) => r.partId);
  expect(new Set(exits).size).toBe(exits.length);
}

/**
 * Every index that did not itself slip ends on the grid of home marks (relative to the last
 * homing): a slip is made up by the next index, never repeated in full nor added up.
 */
function checkIndexesOnGrid(log: DeviceLogEntry[]) {
  let home: number | undefined;
  let slipPending = false;
  let slipped = false;
  for (const e of log) {
    if (e.kind === 'fault' && e.fault.fault === 'missed_steps') slipPending = true;
    if (e.kind === 'fault' && e.fault.fault === 'mcu_reset') home = undefined;
    if (e.kind !== 'motion' || e.device !== 'conveyor') continue;
    if (e.event === 'start' && e.command === 'index') {
      slipped = slipPending; // the simulator applies a slip to the next index
      slipPending = false;
    }
    if (e.event !== 'end' || e.how !== 'completed') continue;
    if (e.command === 'home') {
      home = e.beltMm!;
      continue;
    }
    if (home === undefined || slipped) continue;
    const offset = (((e.beltMm! - home) % 300) + 300) % 300;
    expect(Math.min(offset, 300 - offset), `index ending at ${e.beltMm} mm (t=${e.t}) is off the marks by ${offset.toFixed(1)} mm`).toBeLessThanOrEqual(1.0);
  }
}

describe(`missed-step recovery over ${RUNS} random schedules`, () => {
  it('conserves parts, places and exits each once, starts nothing before Resync, and makes slips up', async () => {
    let recovered = 0;
    await fc.assert(
      fc.asyncProperty(schedule, fc.integer({ min: 1, max: 1_000_000 }), async (events, seed) => {
        const { summary, journal, log } = await runSchedule(events, seed);
        const totals = checkJournalConservation(journal);
        checkDeviceLogConservation(log, totals);
        checkNothingTwice(log, journal);
        checkNoStepBeforeResync(journal);
        checkIndexesOnGrid(log);
        if (summary.finalState === 'Complete') recovered++;
      }),
      { numRuns: RUNS, seed: 1122, endOnFailure: true },
    );
    // Most schedules must actually recover to the end of the lot, or the property proves little.
    expect(recovered).toBeGreaterThan(RUNS * 0.5);
  }, Math.max(120_000, RUNS * 2_000));
});
