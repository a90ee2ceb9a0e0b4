/**
 * use_sim_time: motion deadlines follow /clock through the clock the statecharts use, while
 * heartbeats (and safe-OK timeouts) stay on the monotonic clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../src/journal/journal.js';
import { InProcessRos } from '../../src/ros/inProcess.js';
import { durationFromMs, msFromRosTime } from '../../src/ros/messages.js';
import { QOS } from '../../src/ros/node.js';
import { SimTimeClock } from '../../src/ros/simTime.js';
import { CellRun } from '../../src/runtime/run.js';
import { VirtualClock } from '../../src/time/clock.js';
import { DEMO } from './helpers.js';
import { armMoveMs } from '../../src/cell/kinematics.js';
import type { ArmDescription } from '../../src/cell/schema.js';

/** A simulator publishing /clock (1700000000 s since the epoch and on, as Gazebo's wall-based start might). */
function simulator(graph: InProcessRos) {
  const publisher = graph.createNode('gz_sim').createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS.clock);
  const startMs = 1_700_000_000_000;
  let simMs = 0;
  return {
    tick(ms: number) {
      simMs += ms;
      const total = startMs + simMs;
      publisher.publish({ clock: { sec: Math.floor(total / 1000), nanosec: Math.round((total % 1000) * 1e6) } });
    },
    rewind(ms: number) {
      simMs -= ms;
      this.tick(0);
    },
  };
}

describe('SimTimeClock', () => {
  it('stands still until /clock arrives, then follows it relative to the first sample, firing timers in order', () => {
    const graph = new InProcessRos();
    const clock = new SimTimeClock(graph.createNode('workcell'));
    const sim = simulator(graph);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 50);
    const cancelled = clock.setTimeout(() => fired.push('never'), 60);
    clock.clearTimeout(cancelled);
    expect(clock.started).toBe(false);
    expect(clock.now()).toBe(0);
    sim.tick(0);
    expect(clock.started).toBe(true);
    sim.tick(40);
    expect(fired).toEqual([]);
    sim.tick(70);
    expect(fired).toEqual(['b@50', 'a@100']);
    expect(clock.now()).toBe(110);
    // Half a millisecond survives: times are kept relative, not as epoch doubles.
    sim.tick(0.5);
    expect(clock.now()).toBeCloseTo(110.5, 6);
  });

  it('ignores a /clock that goes back (a simulator reset) and counts it', () => {
    const graph = new InProcessRos();
    const clock = new SimTimeClock(graph.createNode('workcell'));
    const sim = simulator(graph);
    sim.tick(0);
    sim.tick(500);
    sim.rewind(300);
    expect(clock.now()).toBe(500);
    expect(clock.backwardJumps).toBe(1);
  });

  it('durations are whole seconds plus nanoseconds', () => {
    expect(durationFromMs(2500)).toEqual({ sec: 2, nanosec: 500_000_000 });
    expect(durationFromMs(0.000001)).toEqual({ sec: 0, nanosec: 1 });
    expect(durationFromMs(1999.9999999)).toEqual({ sec: 2, nanosec: 0 });
    expect(msFromRosTime({ sec: 42, nanosec: 250_000_000 })).toBe(42_250);
    expect(() => durationFromMs(-1)).toThrow(/non-negative/);
  });
});

describe('a cell on simulated time', () => {
  let run: CellRun | undefined;
  afterEach(async () => {
    await run?.close();
    run = undefined;
  });

  function simulatedCell() {
    const graph = new InProcessRos();
    const clock = new SimTimeClock(graph.createNode('workcell'));
    const monotonic = new VirtualClock();
    run = new CellRun({ cellPath: DEMO, clock, safetyClock: monotonic, keepJournal: true, seed: 2 });
    run.start();
    const sim = simulator(graph);
    sim.tick(0);
    return { run, clock, monotonic, sim };
  }

  const records = (r: CellRun, kind: string): JournalRecord[] => r.memory!.records().filter((x) => x.kind === kind);

  const missed = (r: CellRun) => records(r, 'step').filter((s) => (s as { phase?: string }).phase === 'missed');

  /** Tick /clock in 20 ms steps (wall time standing still) until `done`. */
  function tickUntil(sim: ReturnType<typeof simulator>, done: () => boolean, what: string): void {
    for (let i = 0; i < 5000; i++) {
      if (done()) return;
      sim.tick(20);
    }
    throw new Error(`${what} not reached`);
  }

  /**
   * Bring the cell to Execute with the arm's first move command lost on the link (only its
   * deadline can end that step); returns when the step started and its deadline, from the description.
   */
  function lostArmMove(r: CellRun, sim: ReturnType<typeof simulator>): { started: number; deadlineMs: number } {
    r.send('reset');
    tickUntil(sim, () => r.state === 'Idle', 'Idle');
    r.sim.inject({ fault: 'lost_message', device: 'arm', direction: 'command' });
    r.send('start');
    const isArmMove = (x: JournalRecord) => (x as { device?: string }).device === 'arm' && (x as { command?: { type: string } }).command?.type === 'move';
    tickUntil(sim, () => records(r, 'device.command').some(isArmMove), 'an arm move');
    const command = records(r, 'device.command').find(isArmMove) as unknown as { t: number; command: { target: number[] } };
    const arm = r.cell.devices.arm as ArmDescription;
    const expected = armMoveMs(arm.poses[arm.homePose]!, command.command.target, arm);
    return { started: command.t, deadlineMs: expected * arm.confirm.factor + arm.confirm.marginMs };
  }

  it('a motion deadline follows /clock: it never expires while the simulator is paused, however long', () => {
    const { run, clock, monotonic, sim } = simulatedCell();
    const { started } = lostArmMove(run, sim);
    // The simulator pauses. Minutes of wall time: no motion deadline passes...
    const pausedAt = clock.now();
    monotonic.advanceBy(120_000);
    expect(clock.now()).toBe(pausedAt);
    expect(pausedAt - started).toBeLessThan(100);
    expect(missed(run)).toEqual([]);
    // ...but heartbeats run on the monotonic clock: the silent devices are noticed.
    expect(records(run, 'fault').map((f) => (f as unknown as { fault: string }).fault)).toContain('heartbeat_lost');
  });

  it('a motion deadline expires when /clock passes it, even if no wall time went by', () => {
    const { run, clock, sim } = simulatedCell();
    const { started, deadlineMs } = lostArmMove(run, sim);
    // Just short of the deadline in simulated time: still waiting.
    sim.tick(started + deadlineMs - 1 - clock.now());
    expect(missed(run)).toEqual([]);
    sim.tick(1);
    expect(missed(run)).toMatchObject([{ device: 'arm', reason: 'late' }]);
    expect(missed(run)[0]!.t).toBeCloseTo(started + deadlineMs, 3);
    // The monotonic clock never moved: no device counts as silent.
    expect(records(run, 'fault').map((f) => (f as unknown as { fault: string }).fault)).not.toContain('heartbeat_lost');
  });
});
