/**
 * Commissioning on the ROS 2 face, on the in-process graph in virtual time: the same command text
 * on `<ns>/command` (std_msgs/String) jogs an arm joint whose FollowJointTrajectory goals are
 * stretched to the reduced speed, and the ROS conveyor driver honours a jog's speedScale.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCell } from '../../src/cell/load.js';
import type { ConveyorDescription } from '../../src/cell/schema.js';
import type { DeviceFeedback } from '../../src/devices/types.js';
import { RosConveyorDriver } from '../../src/ros/drivers.js';
import { InProcessRos } from '../../src/ros/inProcess.js';
import type { FollowJointTrajectoryGoal } from '../../src/ros/messages.js';
import { QOS } from '../../src/ros/node.js';
import { SimulatedConveyorServer } from '../../src/ros/simulatedConveyor.js';
import type { CellRun } from '../../src/runtime/run.js';
import { createSimulatedCell } from '../../src/sim/index.js';
import { VirtualClock } from '../../src/time/clock.js';
import { DEMO_ROS_ARM, Hmi, REPO, rosCell, SafetyPlc, stepUntil } from '../ros/helpers.js';

let open: CellRun[] = [];
afterEach(async () => {
  for (const run of open) await run.close();
  open = [];
});

/** The ROS arm demo cell with its safety PLC signalling, cleared from its boot in Aborted to Stopped. */
async function stoppedArmCell(): Promise<Awaited<ReturnType<typeof rosCell>> & { clock: VirtualClock }> {
  const clock = new VirtualClock();
  const cell = await rosCell({ cellPath: DEMO_ROS_ARM, clock });
  open.push(cell.run);
  new SafetyPlc(cell.graph, clock).start();
  clock.advanceBy(100);
  expect(cell.graph.callTrigger('/workcell/clear').success).toBe(true);
  stepUntil(clock, () => cell.run.state === 'Stopped');
  return { ...cell, clock };
}

function goalSeconds(goal: FollowJointTrajectoryGoal): number {
  const t = goal.trajectory.points.at(-1)!.time_from_start;
  return t.sec + t.nanosec / 1e9;
}

describe('commissioning over ROS 2', () => {
  it('jogs an arm joint from the command topic at the reduced joint speed, and stops when renewals stop', async () => {
    const { clock, graph, run } = await stoppedArmCell();
    const hmi = new Hmi(graph);
    const limit = run.cell.commissioning.jogJointSpeedRadS;

    hmi.send('mode manual');
    hmi.send('jog arm joint_1 + continuous');
    expect(hmi.events.filter((e) => e.type === 'command.rejected')).toEqual([]);
    expect(hmi.events.find((e) => e.type === 'command.accepted' && e.command === 'jog arm joint_1 + continuous')).toMatchObject({ source: 'topic:/workcell/command' });
    for (let i = 0; i < 10; i++) {
      clock.advanceBy(100);
      hmi.send('jog renew');
    }
    const goals = graph.actionLog.filter((e): e is { action: string; event: 'goal'; goal: FollowJointTrajectoryGoal } => e.event === 'goal').map((e) => e.goal);
    expect(goals.length).toBeGreaterThan(2);
    // The first goal starts at the measured joints; each next one where the previous one ended.
    let from = goals[0]!.trajectory.points[0]!.positions;
    const speeds: number[] = [];
    for (const goal of goals) {
      const to = goal.trajectory.points.at(-1)!.positions;
      // Only joint_1 moves, upwards, and no faster than the reduced joint speed (1 % for where
      // the measured joint stood when the goal left).
      expect(to[0]!).toBeGreaterThan(from[0]!);
      for (let j = 1; j < to.length; j++) expect(to[j]).toBeCloseTo(from[j]!, 6);
      speeds.push((to[0]! - from[0]!) / goalSeconds(goal));
      from = to;
    }
    for (const speed of speeds) expect(speed).toBeLessThanOrEqual(limit * 1.01);
    // The arm could do 1 rad/s: the goals are the reduced speed, not a slow arm.
    expect(Math.max(...speeds)).toBeGreaterThan(limit * 0.8);

    // Renewals stop: the jog ends by itself, journaled with its cause, and no new goal leaves.
    stepUntil(clock, () => hmi.events.some((e) => e.type === 'commissioning' && e.event === 'jog.end'), 2000, 'jog.end');
    const goalCount = graph.actionLog.filter((e) => e.event === 'goal').length;
    clock.advanceBy(2000);
    expect(graph.actionLog.filter((e) => e.event === 'goal').length).toBe(goalCount);
    expect(run.memory!.records().filter((r) => r.kind === 'commissioning' && r.event === 'jog.end').at(-1)).toMatchObject({ why: expect.stringMatching(/no renewal within/) });
    // The same text in Production mode is refused with its reason, on this face too.
    hmi.send('mode production');
    hmi.send('jog arm joint_1 +0.1');
    expect(hmi.events.at(-1)).toMatchObject({ type: 'command.rejected', reason: expect.stringMatching(/only allowed in Manual mode/) });
  });

  it('single-steps the production cycle through the /workcell/step Trigger service, one step per call', async () => {
    const { clock, graph, run } = await stoppedArmCell();
    expect(graph.serviceNames()).toContain('/workcell/step');
    // In Production mode the service answers with the controller's reason.
    expect(graph.callTrigger('/workcell/step')).toEqual({
      success: false,
      message: 'step refused in Stopped: single-step is only available in Maintenance mode; the cell is in production mode',
    });

    const hmi = new Hmi(graph);
    hmi.send('mode maintenance');
    expect(graph.callTrigger('/workcell/reset').success).toBe(true);
    stepUntil(clock, () => run.state === 'Idle', 60_000, 'Idle');
    expect(graph.callTrigger('/workcell/start').success).toBe(true);
    stepUntil(clock, () => run.state === 'Execute', 10_000, 'Execute');
    const starts = () => run.memory!.records().filter((r) => r.kind === 'step' && r.phase === 'start');
    const before = starts().length;
    clock.advanceBy(3000);
    expect(starts().length).toBe(before);
    for (let n = 1; n <= 3; n++) {
      const answer = graph.callTrigger('/workcell/step');
      expect(answer).toEqual({ success: true, message: 'step accepted in Execute' });
      clock.advanceBy(5000);
      expect(starts().length - before).toBe(n);
    }
    expect(starts()[before]).toMatchObject({ device: 'feeder', step: 'release' });
    expect(run.memory!.records().filter((r) => r.kind === 'commissioning' && r.event === 'step.granted').map((r) => r.source)).toEqual([
      'service:/workcell/step',
      'service:/workcell/step',
      'service:/workcell/step',
    ]);
  });

  it('the ROS conveyor driver runs an index with a speedScale no faster than that fraction of max_speed_mm_s', () => {
    const loaded = loadCell(path.join(REPO, 'hardware', 'cells', 'demo-gazebo.yaml'));
    if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
    const description = loaded.cell.devices.conveyor as ConveyorDescription;
    const clock = new VirtualClock();
    const graph = new InProcessRos();
    const sim = createSimulatedCell(loaded.cell, clock, { seed: 1 });
    new SimulatedConveyorServer({ node: graph.createNode('belt_sim'), conveyor: sim.drivers.get('conveyor')!, description, clock });
    const speeds: number[] = [];
    graph.createNode('spy').createSubscription('std_msgs/msg/Float64', '/conveyor/belt_speed', QOS.odometry, (m) => speeds.push(m.data));
    const driver = new RosConveyorDriver('conveyor', description, graph.createNode('workcell'), clock);
    const feedback: DeviceFeedback[] = [];
    driver.onFeedback((fb) => feedback.push(fb));
    driver.configure();
    driver.activate();
    const done = () => feedback.filter((f) => f.type === 'motionDone').length;
    driver.write({ type: 'home' });
    stepUntil(clock, () => done() === 1, 30_000, 'homed');

    const before = driver.read().axis!.encoderCount;
    speeds.length = 0;
    const scale = 0.25;
    const mm = 60;
    driver.write({ type: 'index', steps: mm * description.axis.stepsPerMm, speedScale: scale });
    stepUntil(clock, () => done() === 2, 30_000, 'index done');
    const topMS = (description.axis.maxSpeedMmS * scale) / 1000;
    expect(Math.max(...speeds)).toBeLessThanOrEqual(topMS + 1e-9);
    expect(Math.max(...speeds)).toBeGreaterThan(topMS * 0.9);
    expect((driver.read().axis!.encoderCount - before) / description.axis.encoderCountsPerMm).toBeCloseTo(mm, 0);

    driver.write({ type: 'index', steps: 100, speedScale: 1.5 });
    expect(feedback.at(-1)).toMatchObject({ type: 'refused', reason: expect.stringMatching(/speedScale must be a number in \(0, 1\]/) });
  });
});
