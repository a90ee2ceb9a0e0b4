/**
 * 8: recovery. The demo cell in virtual time with one missed step injected through a scenario
 * (src/sim/faults.ts): a conveyor index that loses steps (index_short) or a feeder jam
 * (part_not_at_pick), both auto-recoverable in the demo cell. From the journal: the step record
 * with phase "missed" to the next state record entering Execute, minus the time of any homing
 * step (conveyor "home", start to done) in between: the homing motion is the axis's, not the
 * controller's. Measured in simulated time, so it is the controller's recovery logic (detection,
 * Hold, Resync, the deliberate auto-Unhold delay, Unhold), independent of the host.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CellRun } from '../src/runtime/run.js';
import type { JournalRecord } from '../src/journal/journal.js';
import { distributionFigure, type Section } from './results.js';
import { DEMO_CELL, type BenchOptions } from './options.js';

export interface RecoveryTime {
  /** Missed step to Execute, simulated ms. */
  totalMs: number;
  /** Of which homing motion, ms. */
  homingMs: number;
  /** totalMs - homingMs. */
  recoveryMs: number;
  /** Of totalMs: missed step → Held (Holding: the steps in flight end), when the cell went through Held. */
  holdingMs?: number;
  fault: string;
}

/** Recovery times found in a journal: each missed step to the next entry into Execute. */
export function recoveryTimes(records: readonly JournalRecord[]): RecoveryTime[] {
  const out: RecoveryTime[] = [];
  for (let i = 0; i < records.length; i++) {
    const miss = records[i]!;
    if (miss.kind !== 'step' || miss.phase !== 'missed') continue;
    const fault = records.slice(i + 1).find((r) => r.kind === 'fault');
    const back = records.slice(i + 1).findIndex((r) => r.kind === 'state' && r.to === 'Execute');
    if (back < 0) continue;
    const j = i + 1 + back;
    let homingMs = 0;
    const homeStarts = new Map<string, number>();
    for (const r of records.slice(i + 1, j)) {
      if (r.kind !== 'step' || r.step !== 'home') continue;
      const device = String(r.device);
      if (r.phase === 'start') homeStarts.set(device, r.t);
      else if (homeStarts.has(device)) {
        homingMs += r.t - homeStarts.get(device)!;
        homeStarts.delete(device);
      }
    }
    const totalMs = records[j]!.t - miss.t;
    const held = records.slice(i + 1, j).find((r) => r.kind === 'state' && r.to === 'Held');
    out.push({ totalMs, homingMs, recoveryMs: totalMs - homingMs, fault: String(fault?.fault ?? miss.step), ...(held ? { holdingMs: held.t - miss.t } : {}) });
    i = j;
  }
  return out;
}

export async function recoverySections(opts: BenchOptions): Promise<Section[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'workcell-bench-recovery-'));
  const injections = [
    { name: 'missed_steps', yaml: (steps: number) => `{ fault: missed_steps, device: conveyor, steps: ${steps} }`, amounts: [20, 40, 80, 200] },
    { name: 'feeder_jam', yaml: () => '{ fault: feeder_jam, device: feeder }', amounts: [1] },
  ];
  const cycles = opts.quick ? [3, 6] : [2, 3, 5, 8, 13];
  const seeds = opts.quick ? [1] : [1, 2, 3];
  const byFault = new Map<string, RecoveryTime[]>();
  try {
    for (const inj of injections) {
      for (const amount of inj.amounts) {
        for (const cycle of cycles) {
          for (const seed of seeds) {
            const file = path.join(dir, `${inj.name}-${amount}-${cycle}.yaml`);
            writeFileSync(file, `name: bench_recovery\ndescription: one missed step for the recovery benchmark\nseed: ${seed}\nexpect: {}\nevents:\n  - at: { cycle: ${cycle} }\n    inject: ${inj.yaml(amount)}\n`);
            const run = new CellRun({ cellPath: DEMO_CELL, virtualTime: true, cycles: cycle + 3, seed, autostart: true, keepJournal: true, scenarioPath: file });
            await run.run();
            const found = recoveryTimes(run.memory!.records());
            if (found.length === 0) throw new Error(`${inj.name} (${amount}) at cycle ${cycle}, seed ${seed}: no missed step followed by Execute in the journal`);
            for (const r of found) byFault.set(r.fault, [...(byFault.get(r.fault) ?? []), r]);
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const all = [...byFault.values()].flat();
  const viaHeld = all.filter((r) => r.holdingMs !== undefined);
  return [
    {
      id: 'recovery',
      title: '8 recovery',
      figures: [
        distributionFigure('recovery.all', 'missed step → Execute, without homing', 'ms (sim)', all.map((r) => r.recoveryMs)),
        ...[...byFault].map(([fault, rs]) => distributionFigure(`recovery.${fault}`, `  ${fault}`, 'ms (sim)', rs.map((r) => r.recoveryMs))),
        ...(viaHeld.length > 0
          ? [
              distributionFigure('recovery.holding', '  of which missed step → Held (the steps in flight end)', 'ms (sim)', viaHeld.map((r) => r.holdingMs!)),
              distributionFigure('recovery.afterHeld', '  of which Held → Execute, without homing (auto-Unhold delay, Resync, Unholding)', 'ms (sim)', viaHeld.map((r) => r.recoveryMs - r.holdingMs!)),
            ]
          : []),
        distributionFigure('recovery.homing', 'homing motion inside the window (subtracted)', 'ms (sim)', all.map((r) => r.homingMs)),
      ],
      notes: [
        `${all.length} recoveries: conveyor missed steps (${injections[0]!.amounts.join(', ')} steps) and a feeder jam, injected at cycles ${cycles.join(', ')}, seeds ${seeds.join(', ')}.`,
        'Simulated time from the journal: step "missed" → state Execute, minus homing steps in between. Includes the controller\'s deliberate 200 ms auto-Unhold delay.',
        `${viaHeld.length} of them went through Held: split at entering Held. Holding ends when the steps in flight (e.g. the arm's current move) have ended, so that part is mostly motion the controller waits for.`,
      ],
    },
  ];
}
