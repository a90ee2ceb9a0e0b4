import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../src/sim/index.js';
import { readJsonLines, ROOT, tempDir, workcell } from './cli.js';
import { checkDeviceLogConservation, checkJournalConservation } from './invariants.js';

type Rec = Record<string, any>;
const SCENARIOS = path.join(ROOT, 'hardware', 'scenarios');
const MOTION = new Set(['release', 'move', 'home', 'index']);

const executed = (log: Rec[]) => log.filter((e) => e.kind === 'command' && e.outcome === 'executed');
const inputAt = (log: Rec[], channel: string, value: boolean) => log.find((e) => e.kind === 'input' && e.channel === channel && e.value === value)?.t as number;

/** What each scenario must show physically, on the simulator's own device log. */
const physical: Record<string, (log: Rec[], journal: Rec[]) => void> = {
  nominal: (log) => {
    expect(log.filter((e) => e.kind === 'part' && ['jammed', 'dropped', 'fell_off'].includes(e.event))).toEqual([]);
    expect(log.filter((e) => e.kind === 'fault')).toEqual([]);
  },
  conveyor_slip: (log) => {
    const ends = log.filter((e) => e.kind === 'motion' && e.device === 'conveyor' && e.event === 'end' && e.command === 'index');
    // Steps per mm 10, counts per mm 4: a slip leaves the encoder behind the step counter.
    expect(ends.some((e) => Math.abs(e.encoderCount / 4 - e.positionSteps / 10) > 1)).toBe(true);
  },
  part_sensor_stuck: (log, journal) => {
    expect(log.some((e) => e.kind === 'fault' && e.fault.fault === 'sensor_stuck')).toBe(true);
    const reported = journal.find((r) => r.kind === 'fault' && r.fault === 'pick_not_cleared')!;
    expect(reported.measured.part_at_pick).toBe(true);
    // The sensor never clears, so no part may be released onto the believed-occupied position.
    expect(executed(log).filter((e) => e.device === 'feeder' && e.command.type === 'release' && e.t > reported.t)).toEqual([]);
  },
  feeder_jam: (log) => expect(log.some((e) => e.kind === 'part' && e.event === 'jammed')).toBe(true),
  arm_stall: (log) => {
    const stall = log.findIndex((e) => e.kind === 'motion' && e.device === 'arm' && e.how === 'stalled');
    expect(stall).toBeGreaterThan(0);
    const stoppedAt = (log[stall] as { joints: number[] }).joints;
    // The next move is re-seeded from where the arm really stopped: to the nearer approach pose,
    // never straight on to the stale target.
    const next = log.slice(stall + 1).find((e) => e.kind === 'command' && e.device === 'arm' && e.command.type === 'move' && e.outcome === 'executed');
    const poses = { above_pick: [-0.6, -0.9, 1.3, 0, 1.2, 0], above_place: [0.9, -0.9, 1.3, 0, 1.2, 0] };
    const dist = (q: number[]) => Math.hypot(...q.map((v, j) => v - stoppedAt[j]!));
    const nearer = dist(poses.above_pick) <= dist(poses.above_place) ? 'above_pick' : 'above_place';
    expect(next?.command.pose).toBe(nearer);
  },
  retries_exhausted: (log, journal) => {
    const faults = journal.filter((r) => r.kind === 'fault' && r.fault === 'pose_not_reached');
    expect(faults.map((f) => f.retry)).toEqual([1, 2, 3]);
    const last = faults.at(-1)!;
    expect(last.retriesExhausted).toBe(true);
    expect(last.message).toMatch(/2 retries used up\. Believed .* measured .*check the arm's path for an obstruction/);
    // Stays Held: nothing moves after the last fault.
    expect(executed(log).filter((e) => MOTION.has(e.command.type) && e.t > last.t)).toEqual([]);
  },
  lost_confirmation: (log) => {
    expect(log.filter((e) => e.kind === 'feedback' && e.device === 'arm' && e.outcome === 'lost').length).toBe(3);
    // Not repeated: the arm never receives the same move twice in a row.
    const moves = executed(log).filter((e) => e.device === 'arm' && e.command.type === 'move').map((e) => e.command.pose);
    for (let i = 1; i < moves.length; i++) expect(moves[i], `move ${i} repeats ${moves[i - 1]}`).not.toBe(moves[i - 1]);
  },
  lost_command: (log) => expect(log.some((e) => e.kind === 'command' && e.device === 'conveyor' && e.outcome === 'dropped')).toBe(true),
  mcu_reset: (log) => {
    const reset = log.find((e) => e.kind === 'fault' && e.fault.fault === 'mcu_reset')!.t;
    // Its position is lost: the conveyor may not index again before it is homed.
    const after = executed(log).filter((e) => e.device === 'conveyor' && e.t > reset).map((e) => e.command.type);
    expect(after).toContain('home');
    expect(after.indexOf('index') === -1 || after.indexOf('home') < after.indexOf('index')).toBe(true);
  },
  estop_trip_and_release: (log, journal) => {
    const trip = inputAt(log, 'estop_ok', false);
    expect(trip).toBeGreaterThan(0);
    // Every device gets its safe state at the trip, before anything else reaches it.
    for (const device of ['feeder', 'arm', 'conveyor', 'safety_io']) {
      const first = log.find((e) => e.kind === 'command' && e.device === device && e.t >= trip);
      expect(first?.command.type, device).toBe('safeState');
    }
    // No motion between the trip and the next accepted Reset.
    const reset = journal.find((r) => r.kind === 'command' && r.command === 'reset' && r.accepted && r.t > trip)!.t;
    expect(executed(log).filter((e) => MOTION.has(e.command.type) && e.t > trip && e.t < reset)).toEqual([]);
  },
  guard_door: (log) => {
    const open = inputAt(log, 'guard_closed', false);
    const closed = inputAt(log, 'guard_closed', true);
    expect(open).toBeLessThan(closed);
    expect(executed(log).filter((e) => MOTION.has(e.command.type) && e.t > open && e.t < closed)).toEqual([]);
  },
  heartbeat_silent: (log) => {
    expect(log.some((e) => e.kind === 'link' && e.device === 'arm' && e.event === 'silent')).toBe(true);
    expect(log.some((e) => e.kind === 'link' && e.device === 'arm' && e.event === 'resumed')).toBe(true);
  },
  corrupted_message: (log) => expect(log.some((e) => e.kind === 'command' && e.outcome === 'corrupted')).toBe(true),
  operator_stop: (_log, journal) => {
    expect(journal.filter((r) => r.kind === 'command' && r.command === 'stop' && r.accepted).length).toBe(2);
  },
};

const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml')).sort();

describe('shipped scenarios do what their files say', () => {
  it('every shipped scenario has a physical check here', () => {
    expect(files.map((f) => f.replace(/\.yaml$/, ''))).toEqual(Object.keys(physical).sort());
  });

  for (const file of files) {
    it(file, () => {
      const scenario = loadScenario(path.join(SCENARIOS, file));
      const dir = tempDir();
      const journalPath = path.join(dir, 'journal.jsonl');
      const deviceLogPath = path.join(dir, 'device-log.jsonl');
      const r = workcell([
        'run', '--sim', '--virtual-time', '--autostart', '--cycles', String(scenario.expect.cycles),
        '--scenario', path.join(SCENARIOS, file), '--journal', journalPath, '--device-log', deviceLogPath, '--json',
        ...(scenario.seed !== undefined ? ['--seed', String(scenario.seed)] : []),
      ]);
      const summary = JSON.parse(r.stdout);
      const journal = readJsonLines(journalPath);
      const log = readJsonLines(deviceLogPath);

      const faults = [...new Set(journal.filter((x) => x.kind === 'fault').map((x) => x.fault))].sort();
      expect(faults).toEqual([...scenario.expect.faults].sort());
      const recoveries = new Set(journal.filter((x) => x.kind === 'recovery').map((x) => x.recovery));
      for (const k of scenario.expect.recoveries) expect(recoveries, `recovery ${k}`).toContain(k);
      if (scenario.expect.finalState) expect(summary.finalState).toBe(scenario.expect.finalState);
      expect(r.status).toBe(summary.finalState === 'Complete' ? 0 : 1);

      const totals = checkJournalConservation(journal);
      checkDeviceLogConservation(log, totals);
      physical[scenario.name]!(log, journal);
    });
  }
});
