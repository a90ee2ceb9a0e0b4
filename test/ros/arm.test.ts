/**
 * The arm over ROS: RosArmDriver sends control_msgs/FollowJointTrajectory goals (or publishes on
 * the JointTrajectory topic) and reads sensor_msgs/JointState; the embedded simulator's arm stands
 * behind the ROS interface (SimulatedArmServer), on the in-process graph.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadCell } from '../../src/cell/load.js';
import type { ArmDescription, CellDescription } from '../../src/cell/schema.js';
import type { DeviceFeedback } from '../../src/devices/types.js';
import { RosArmDriver } from '../../src/ros/drivers.js';
import { InProcessRos } from '../../src/ros/inProcess.js';
import { GoalStatus, type FollowJointTrajectoryGoal } from '../../src/ros/messages.js';
import { QOS } from '../../src/ros/node.js';
import { SimulatedArmServer } from '../../src/ros/simulatedArm.js';
import type { CellRun } from '../../src/runtime/run.js';
import { createSimulatedCell } from '../../src/sim/index.js';
import { VirtualClock } from '../../src/time/clock.js';
import { shapeProblems } from './definitions.js';
import { DEMO_ROS_ARM, Hmi, rosCell, SafetyPlc, stepUntil } from './helpers.js';

function demoRosCell(): CellDescription {
  const loaded = loadCell(DEMO_ROS_ARM);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.cell;
}

/** The ROS arm driver against the simulated arm behind ROS, on one graph and one virtual clock. */
function armRig(options: { useAction?: boolean; serverJoints?: string[] } = {}) {
  const cell = demoRosCell();
  const clock = new VirtualClock();
  const graph = new InProcessRos();
  const sim = createSimulatedCell(cell, clock, { seed: 1 });
  const description = cell.devices.arm as ArmDescription;
  const serverDescription: ArmDescription = options.serverJoints
    ? { ...description, joints: description.joints.map((j, i) => ({ ...j, name: options.serverJoints![i]! })) }
    : description;
  const server = new SimulatedArmServer({ node: graph.createNode('arm_sim'), arm: sim.drivers.get('arm')!, description: serverDescription, clock });
  const driver = new RosArmDriver('arm', description, graph.createNode('workcell'), options.useAction === false ? { useAction: false } : {});
  const feedback: DeviceFeedback[] = [];
  driver.onFeedback((fb) => feedback.push(fb));
  driver.configure();
  driver.activate();
  const goals = () => graph.actionLog.filter((e): e is { action: string; event: 'goal'; goal: FollowJointTrajectoryGoal } => e.event === 'goal').map((e) => e.goal);
  const done = () => feedback.filter((f) => f.type === 'motionDone').length;
  const poses = description.poses;
  return { cell, clock, graph, sim, server, driver, feedback, goals, done, poses, description };
}

describe('RosArmDriver against the simulated arm behind ROS', () => {
  it('waits for the first joint state, then starts its first trajectory from the measured joints, durations as whole sec + nanosec', () => {
    const rig = armRig();
    const target = rig.poses.above_pick!;
    rig.driver.write({ type: 'move', pose: 'above_pick', target });
    expect(rig.driver.read().moving).toBe(true);
    expect(rig.goals()).toHaveLength(0); // nothing measured yet
    stepUntil(rig.clock, () => rig.goals().length === 1, 1000, 'first goal');
    const goal = rig.goals()[0]!;
    expect(goal.trajectory.joint_names).toEqual(rig.description.joints.map((j) => j.name));
    expect(goal.trajectory.points).toHaveLength(2);
    expect(goal.trajectory.points[0]).toMatchObject({ positions: rig.poses.home, time_from_start: { sec: 0, nanosec: 0 } });
    // home -> above_pick: joint_1 moves 0.6 rad at 1.0 rad/s, the slowest: 600 ms.
    expect(goal.trajectory.points[1]).toMatchObject({ positions: target, time_from_start: { sec: 0, nanosec: 600_000_000 } });
    expect(goal.goal_tolerance.every((t) => t.position === rig.description.toleranceRad)).toBe(true);
    stepUntil(rig.clock, () => rig.done() === 1, 5000, 'motionDone');
    expect(rig.graph.actionLog.at(-1)).toMatchObject({ event: 'result', status: GoalStatus.SUCCEEDED });
    expect(rig.driver.read()).toMatchObject({ moving: false, joints: target });

    // The next move, with no stop in between, is one point; above_pick -> above_place takes 1.5 s.
    rig.driver.write({ type: 'move', pose: 'above_place', target: rig.poses.above_place! });
    expect(rig.goals()[1]!.trajectory.points).toEqual([
      { positions: rig.poses.above_place, velocities: [], accelerations: [], effort: [], time_from_start: { sec: 1, nanosec: 500_000_000 } },
    ]);
    stepUntil(rig.clock, () => rig.done() === 2, 5000, 'second motionDone');
  });

  it('cancels the goal on stop and on safeState; the next trajectory starts from where the arm stopped', () => {
    const rig = armRig();
    stepUntil(rig.clock, () => rig.driver.read().joints !== undefined, 1000, 'joint states');
    rig.driver.write({ type: 'move', pose: 'above_place', target: rig.poses.above_place! });
    rig.clock.advanceBy(400);
    rig.driver.write({ type: 'stop' });
    expect(rig.graph.actionLog.filter((e) => e.event === 'cancel')).toHaveLength(1);
    stepUntil(rig.clock, () => rig.done() === 1, 2000, 'motionDone after cancel');
    expect(rig.graph.actionLog.at(-1)).toMatchObject({ event: 'result', status: GoalStatus.CANCELED });
    rig.clock.advanceBy(200);
    const stoppedAt = rig.driver.read().joints!;
    expect(stoppedAt[0]).toBeGreaterThan(rig.poses.home![0]!);
    expect(stoppedAt[0]).toBeLessThan(rig.poses.above_place![0]!);

    rig.driver.write({ type: 'move', pose: 'above_place', target: rig.poses.above_place! });
    const resumed = rig.goals()[1]!;
    expect(resumed.trajectory.points[0]).toMatchObject({ positions: stoppedAt, time_from_start: { sec: 0, nanosec: 0 } });
    rig.clock.advanceBy(100);
    rig.driver.write({ type: 'safeState', category: 1 });
    expect(rig.graph.actionLog.filter((e) => e.event === 'cancel')).toHaveLength(2);
    stepUntil(rig.clock, () => rig.done() === 2, 2000, 'motionDone after safeState');
    rig.driver.write({ type: 'move', pose: 'home', target: rig.poses.home! });
    expect(rig.goals()[2]!.trajectory.points).toHaveLength(2);
  });

  it('reports a rejected goal as a refusal naming the action and the reason', () => {
    const rig = armRig({ serverJoints: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'] });
    stepUntil(rig.clock, () => rig.driver.read().joints === undefined && rig.clock.now() > 300, 1000, 'time');
    // Joint states carry other names: the driver never measures its joints.
    expect(rig.driver.read().joints).toBeUndefined();
    const graph = rig.graph;
    graph.createNode('other').createPublisher('sensor_msgs/msg/JointState', '/joint_states', QOS.jointStates).publish({
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
      name: ['gripper_finger', ...rig.description.joints.map((j) => j.name).reverse()],
      position: [0.04, ...[...rig.poses.home!].reverse()],
      velocity: [],
      effort: [],
    });
    // Mapped by name, whatever the order and extra joints.
    expect(rig.driver.read().joints).toEqual(rig.poses.home);
    rig.driver.write({ type: 'move', pose: 'above_pick', target: rig.poses.above_pick! });
    const refusal = rig.feedback.find((f) => f.type === 'refused');
    expect(refusal).toMatchObject({ type: 'refused', reason: expect.stringMatching(/^\/arm_controller\/follow_joint_trajectory rejected the goal: joints .* do not match/) });
    expect(rig.driver.read().moving).toBe(false);
  });

  it('refuses a move with no action server, and one outside the joint limits, naming them', () => {
    const cell = demoRosCell();
    const graph = new InProcessRos();
    const driver = new RosArmDriver('arm', cell.devices.arm as ArmDescription, graph.createNode('workcell'));
    const feedback: DeviceFeedback[] = [];
    driver.onFeedback((fb) => feedback.push(fb));
    driver.configure();
    driver.activate();
    driver.write({ type: 'move', pose: 'x', target: [0, 0, 0, 0, 0, 0] });
    driver.write({ type: 'move', pose: 'y', target: [0, 5, 0, 0, 0, 0] });
    expect(feedback.filter((f) => f.type === 'refused').map((f) => (f as { reason: string }).reason)).toEqual([
      'no FollowJointTrajectory server on /arm_controller/follow_joint_trajectory',
      'joint_2 target 5 rad is outside its limits [-2, 2]',
    ]);
  });

  it('a channel without a topic is refused at configure time, naming it', () => {
    const cell = demoRosCell();
    const arm = cell.devices.arm as ArmDescription;
    const broken: ArmDescription = { ...arm, gripper: { ...arm.gripper, vacuumOk: { ...arm.gripper.vacuumOk, topic: undefined } } };
    const driver = new RosArmDriver('arm', broken, new InProcessRos().createNode('workcell'));
    expect(() => driver.configure()).toThrow('ros2 arm "arm": channel vacuum_ok needs a `topic` (std_msgs/msg/Bool) on a ros2 link');
  });

  it('falls back to the JointTrajectory topic, confirming the move from /joint_states within tolerance', () => {
    const rig = armRig({ useAction: false });
    const published: unknown[] = [];
    rig.graph.createNode('spy').createSubscription('trajectory_msgs/msg/JointTrajectory', '/arm_controller/joint_trajectory', QOS.trajectory, (m) => published.push(m));
    stepUntil(rig.clock, () => rig.driver.read().joints !== undefined, 1000, 'joint states');
    rig.driver.write({ type: 'move', pose: 'above_pick', target: rig.poses.above_pick! });
    expect(published).toHaveLength(1);
    expect(rig.goals()).toHaveLength(0);
    stepUntil(rig.clock, () => rig.done() === 1, 5000, 'motionDone from joint states');
    expect(rig.driver.read().joints!.every((q, j) => Math.abs(q - rig.poses.above_pick![j]!) <= rig.description.toleranceRad)).toBe(true);
    // Stop: an empty trajectory holds the controller where it is.
    rig.driver.write({ type: 'move', pose: 'above_place', target: rig.poses.above_place! });
    rig.clock.advanceBy(300);
    rig.driver.write({ type: 'stop' });
    expect(published.at(-1)).toMatchObject({ points: [] });
    rig.clock.advanceBy(500);
    expect(rig.driver.read().joints![0]).toBeLessThan(rig.poses.above_place![0]! - 0.1);
    // Every trajectory published conforms to the official definition.
    for (const m of published) expect(shapeProblems(m, 'trajectory_msgs/msg/JointTrajectory')).toEqual([]);
  });

  it('drives the vacuum and reads vacuum ok over std_msgs/Bool; the safe state holds a gripped part', () => {
    const rig = armRig();
    const vacuum: boolean[] = [];
    rig.graph.createNode('spy').createSubscription('std_msgs/msg/Bool', '/gripper/vacuum', QOS.io, (m) => vacuum.push(m.data));
    rig.driver.write({ type: 'vacuum', on: true });
    expect(vacuum).toEqual([true]);
    rig.graph.createNode('switch').createPublisher('std_msgs/msg/Bool', '/gripper/vacuum_ok', QOS.io).publish({ data: true });
    expect(rig.driver.read().inputs.vacuum_ok).toBe(true);
    rig.driver.write({ type: 'safeState', category: 0 });
    expect(rig.driver.read().outputs.vacuum).toBe(true);
    expect(vacuum).toEqual([true]);
  });
});

describe('the demo cell with its arm on ROS', () => {
  let open: CellRun[] = [];
  afterEach(async () => {
    for (const run of open) await run.close();
    open = [];
  });

  it('produces a lot end to end: every arm move is a FollowJointTrajectory goal confirmed by /joint_states', async () => {
    const clock = new VirtualClock();
    const { graph, run } = await rosCell({ cellPath: DEMO_ROS_ARM, clock, cycles: 5, autostart: true, attach: false });
    open.push(run);
    const plc = new SafetyPlc(graph, clock);
    plc.start();
    const hmi = new Hmi(graph);
    // It boots Aborted (safe-OK never heard yet); the operator clears it over ROS, then autostart runs.
    clock.setTimeout(() => hmi.send('clear'), 200);
    const summary = await run.run();
    expect(summary).toMatchObject({ ok: true, finalState: 'Complete', faults: 0 });
    expect(summary.parts.exited).toBe(5);
    // The simulator's own throughput model holds over ROS: the arm is still the bottleneck.
    expect(summary.throughput.ratio).toBeGreaterThan(0.9);
    const goals = graph.actionLog.filter((e) => e.event === 'goal');
    const results = graph.actionLog.filter((e) => e.event === 'result');
    expect(goals.length).toBeGreaterThanOrEqual(5 * 6);
    expect(results.every((r) => r.event === 'result' && r.status === GoalStatus.SUCCEEDED)).toBe(true);
    expect(hmi.state).toBe('Complete');
  });

  it('an Abort during a move cancels the goal at once', async () => {
    const clock = new VirtualClock();
    const { graph, run } = await rosCell({ cellPath: DEMO_ROS_ARM, clock });
    open.push(run);
    const plc = new SafetyPlc(graph, clock);
    plc.start();
    clock.advanceBy(100);
    expect(graph.callTrigger('/workcell/clear').success).toBe(true);
    stepUntil(clock, () => run.state === 'Stopped');
    graph.callTrigger('/workcell/reset');
    stepUntil(clock, () => run.state === 'Idle');
    graph.callTrigger('/workcell/start');
    // Wait until a goal is under way (a transfer takes 1.5 s), then abort.
    stepUntil(clock, () => {
      const last = graph.actionLog.at(-1);
      return last?.event === 'goal' && last.goal.trajectory.points.at(-1)!.time_from_start.sec >= 1;
    }, 60_000, 'a long goal');
    const cancelsBefore = graph.actionLog.filter((e) => e.event === 'cancel').length;
    expect(graph.callTrigger('/workcell/abort').success).toBe(true);
    expect(graph.actionLog.filter((e) => e.event === 'cancel').length).toBe(cancelsBefore + 1);
    stepUntil(clock, () => run.state === 'Aborted', 5000, 'Aborted');
    expect(graph.actionLog.filter((e) => e.event === 'result').at(-1)).toMatchObject({ status: GoalStatus.CANCELED });
  });
});
