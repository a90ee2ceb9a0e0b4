/**
 * The conveyor over ROS: RosConveyorDriver commands the belt speed (std_msgs/Float64, m/s) and
 * measures the belt travel (nav_msgs/Odometry or std_msgs/Float64, m); the embedded simulator's
 * conveyor stands behind the ROS interface as the Gazebo world does (SimulatedConveyorServer
 * integrates the speed into odometry and carries the parts), on the in-process graph.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCell, parseCell } from '../../src/cell/load.js';
import type { CellDescription, ConveyorDescription } from '../../src/cell/schema.js';
import type { DeviceFeedback } from '../../src/devices/types.js';
import { RosConveyorDriver, rosDrivers } from '../../src/ros/drivers.js';
import { InProcessRos } from '../../src/ros/inProcess.js';
import type { OdometryMsg } from '../../src/ros/messages.js';
import { QOS } from '../../src/ros/node.js';
import { SimulatedConveyorServer } from '../../src/ros/simulatedConveyor.js';
import type { CellRun } from '../../src/runtime/run.js';
import { createSimulatedCell, MARK_HALF_WIDTH_MM } from '../../src/sim/index.js';
import { VirtualClock } from '../../src/time/clock.js';
import { shapeProblems } from './definitions.js';
import { Hmi, REPO, rosCell, stepUntil } from './helpers.js';

const GAZEBO_CELL = path.join(REPO, 'hardware', 'cells', 'demo-gazebo.yaml');

function gazeboCell(): CellDescription {
  const loaded = loadCell(GAZEBO_CELL);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.cell;
}

/** The ROS conveyor driver against the simulated belt behind ROS, on one graph and one virtual clock. */
function conveyorRig(options: { positionAsFloat?: boolean; startMm?: number } = {}) {
  const cell = gazeboCell();
  const description = cell.devices.conveyor as ConveyorDescription;
  if (options.positionAsFloat) description.axis.position = { topic: '/conveyor/travel', type: 'std_msgs/msg/Float64' };
  const clock = new VirtualClock();
  const graph = new InProcessRos();
  const sim = createSimulatedCell(cell, clock, { seed: 1 });
  const server = new SimulatedConveyorServer({
    node: graph.createNode('belt_sim'),
    conveyor: sim.drivers.get('conveyor')!,
    description,
    clock,
    ...(options.startMm !== undefined ? { startMm: options.startMm } : {}),
  });
  const speeds: Array<{ t: number; v: number }> = [];
  graph.createNode('spy').createSubscription('std_msgs/msg/Float64', '/conveyor/belt_speed', QOS.odometry, (m) => speeds.push({ t: clock.now(), v: m.data }));
  const driver = new RosConveyorDriver('conveyor', description, graph.createNode('workcell'), clock);
  const feedback: DeviceFeedback[] = [];
  driver.onFeedback((fb) => feedback.push(fb));
  driver.configure();
  driver.activate();
  const done = () => feedback.filter((f) => f.type === 'motionDone').length;
  const counts = () => driver.read().axis!.encoderCount;
  return { cell, description, clock, graph, sim, server, driver, feedback, speeds, done, counts };
}

type Rig = ReturnType<typeof conveyorRig>;

function home(rig: Rig): void {
  rig.driver.write({ type: 'home' });
  stepUntil(rig.clock, () => rig.done() === 1, 30_000, 'homed');
}

/** Largest speed change per second between consecutive speed commands while speeding up, mm/s². */
function maxAcceleration(speeds: Array<{ t: number; v: number }>): number {
  let max = 0;
  for (let i = 1; i < speeds.length; i++) {
    const a = speeds[i - 1]!;
    const b = speeds[i]!;
    if (Math.abs(b.v) > Math.abs(a.v) && b.t > a.t) max = Math.max(max, ((Math.abs(b.v) - Math.abs(a.v)) * 1000) / ((b.t - a.t) / 1000));
  }
  return max;
}

describe('RosConveyorDriver against the simulated belt behind ROS', () => {
  it('homes on the centre of the home mark: position zero there, the home sensor on, never faster than homing speed', () => {
    const rig = conveyorRig();
    expect(rig.driver.read()).toMatchObject({ moving: false, axis: { homed: false } });
    rig.clock.advanceBy(20);
    // The belt starts a third of an index off a mark: homing has to search downstream.
    expect(rig.driver.read().inputs.home).toBe(false);
    home(rig);
    const reading = rig.driver.read();
    expect(reading).toMatchObject({ moving: false, inputs: { home: true }, axis: { homed: true } });
    // Zero is the mark's centre (a multiple of index_mm of belt travel): the belt stands within tolerance of it.
    const mark = Math.round(rig.server.travelMm / rig.description.indexMm) * rig.description.indexMm;
    expect(Math.abs(rig.server.travelMm - mark)).toBeLessThanOrEqual(rig.description.axis.toleranceMm);
    expect(Math.abs(reading.axis!.encoderCount)).toBeLessThanOrEqual(rig.description.axis.toleranceMm * rig.description.axis.encoderCountsPerMm);
    expect(Math.max(...rig.speeds.map((s) => Math.abs(s.v)))).toBeCloseTo(rig.description.axis.homingSpeedMmS / 1000, 9);
    expect(rig.speeds.at(-1)!.v).toBe(0);
    expect(rig.feedback.filter((f) => f.type === 'motionDone')).toEqual([{ type: 'motionDone', command: { type: 'home' } }]);
  });

  it('homes when it starts on the mark, and when the seek overshoots the mark', () => {
    for (const startMm of [0.5, 300 - MARK_HALF_WIDTH_MM - 0.3]) {
      const rig = conveyorRig({ startMm });
      rig.clock.advanceBy(20);
      home(rig);
      expect(rig.driver.read()).toMatchObject({ inputs: { home: true }, axis: { homed: true } });
      const mark = Math.round(rig.server.travelMm / rig.description.indexMm) * rig.description.indexMm;
      expect(Math.abs(rig.server.travelMm - mark)).toBeLessThanOrEqual(rig.description.axis.toleranceMm);
    }
  });

  it('indexes by a trapezoid within max speed and acceleration and stops on the target within tolerance', () => {
    const rig = conveyorRig();
    rig.clock.advanceBy(20);
    home(rig);
    const { axis, indexMm } = rig.description;
    const before = rig.speeds.length;
    rig.driver.write({ type: 'index', steps: indexMm * axis.stepsPerMm });
    expect(rig.driver.read().moving).toBe(true);
    stepUntil(rig.clock, () => rig.done() === 2, 5000, 'index done');
    const profile = rig.speeds.slice(before);
    expect(Math.max(...profile.map((s) => s.v))).toBeLessThanOrEqual(axis.maxSpeedMmS / 1000 + 1e-12);
    expect(Math.max(...profile.map((s) => s.v))).toBeGreaterThan((axis.maxSpeedMmS / 1000) * 0.9);
    expect(maxAcceleration(profile)).toBeLessThanOrEqual(axis.accelMmS2 * 1.01);
    expect(profile.at(-1)!.v).toBe(0);
    const reading = rig.driver.read();
    expect(reading.moving).toBe(false);
    expect(Math.abs(reading.axis!.encoderCount - indexMm * axis.encoderCountsPerMm)).toBeLessThanOrEqual(axis.toleranceMm * axis.encoderCountsPerMm);
    expect(Math.abs(reading.axis!.positionSteps - indexMm * axis.stepsPerMm)).toBeLessThanOrEqual(axis.toleranceMm * axis.stepsPerMm);
    // One index is one mark further: the home sensor sees the next mark.
    expect(reading.inputs.home).toBe(true);
    // Backwards too.
    rig.driver.write({ type: 'index', steps: -100 * axis.stepsPerMm });
    stepUntil(rig.clock, () => rig.done() === 3, 5000, 'index back');
    expect(Math.abs(rig.counts() - 200 * axis.encoderCountsPerMm)).toBeLessThanOrEqual(axis.toleranceMm * axis.encoderCountsPerMm);
  });

  it('stop ramps the belt down at the description\'s acceleration and reports the motion done, short of its target', () => {
    const rig = conveyorRig();
    rig.clock.advanceBy(20);
    home(rig);
    rig.driver.write({ type: 'index', steps: 3000 });
    rig.clock.advanceBy(300);
    const speedAtStop = rig.speeds.at(-1)!.v;
    expect(speedAtStop).toBeGreaterThan(0.3);
    rig.driver.write({ type: 'stop' });
    const stoppedAt = rig.clock.now();
    stepUntil(rig.clock, () => rig.done() === 2, 2000, 'stopped');
    const rampMs = rig.speeds.filter((s) => s.t >= stoppedAt).find((s) => s.v === 0)!.t - stoppedAt;
    // 0.4 m/s at 1600 mm/s² takes 250 ms to stop (to within one 4 ms odometry period).
    expect(rampMs).toBeGreaterThanOrEqual(((speedAtStop * 1000) / rig.description.axis.accelMmS2) * 1000 - 8);
    expect(rig.counts()).toBeLessThan(300 * 4 - 10);
    expect(rig.driver.read().moving).toBe(false);
  });

  it('safeState commands speed 0 at once and ends the motion', () => {
    const rig = conveyorRig();
    rig.clock.advanceBy(20);
    home(rig);
    rig.driver.write({ type: 'index', steps: 3000 });
    rig.clock.advanceBy(200);
    rig.driver.write({ type: 'safeState', category: 1 });
    expect(rig.speeds.at(-1)!.v).toBe(0);
    expect(rig.driver.read().moving).toBe(false);
    expect(rig.feedback.at(-1)).toMatchObject({ type: 'motionDone', command: { type: 'index' } });
    const travel = rig.server.travelMm;
    rig.clock.advanceBy(500);
    expect(rig.server.travelMm).toBe(travel);
  });

  it('refuses a second motion while one runs, fractional steps and other commands', () => {
    const rig = conveyorRig();
    rig.clock.advanceBy(20);
    rig.driver.write({ type: 'home' });
    rig.driver.write({ type: 'index', steps: 10 });
    rig.driver.write({ type: 'index', steps: 1.5 } as never);
    rig.driver.write({ type: 'release' });
    expect(rig.feedback.filter((f) => f.type === 'refused').map((f) => f.type === 'refused' && f.reason)).toEqual([
      'conveyor conveyor is busy with home; send stop first',
      'index steps must be a whole number (got 1.5)',
      'conveyor conveyor accepts index, home, stop and safeState, not release',
    ]);
  });

  it('every position message is a heartbeat; a position that jumps (the far side restarted) loses the home', () => {
    const rig = conveyorRig();
    rig.clock.advanceBy(400);
    // Odometry at 250 Hz: about 100 heartbeats in 400 ms.
    expect(rig.feedback.filter((f) => f.type === 'heartbeat').length).toBeGreaterThanOrEqual(99);
    home(rig);
    rig.graph.createNode('gazebo_reset').createPublisher('std_msgs/msg/Float64', '/conveyor/odometry_reset_unused', QOS.odometry);
    const odometry = rig.graph.createNode('restarted').createPublisher('nav_msgs/msg/Odometry', '/conveyor/odometry', QOS.odometry);
    const msg: OdometryMsg = {
      header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
      child_frame_id: '',
      pose: { pose: { position: { x: 5, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: new Array<number>(36).fill(0) },
      twist: { twist: { linear: { x: 0, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: new Array<number>(36).fill(0) },
    };
    odometry.publish(msg);
    expect(rig.feedback.find((f) => f.type === 'reset')).toMatchObject({ type: 'reset', cause: expect.stringContaining('/conveyor/odometry jumped by') });
    expect(rig.driver.read().axis!.homed).toBe(false);
  });

  it('reads the belt travel from a std_msgs/Float64 position topic too', () => {
    const rig = conveyorRig({ positionAsFloat: true });
    rig.clock.advanceBy(20);
    home(rig);
    rig.driver.write({ type: 'index', steps: 3000 });
    stepUntil(rig.clock, () => rig.done() === 2, 5000, 'index done');
    expect(Math.abs(rig.counts() - 1200)).toBeLessThanOrEqual(4);
  });

  it('publishes odometry and speed commands that conform to the official definitions', () => {
    const rig = conveyorRig();
    const odometry: OdometryMsg[] = [];
    rig.graph.createNode('odom_spy').createSubscription('nav_msgs/msg/Odometry', '/conveyor/odometry', QOS.sensorStream, (m) => odometry.push(m));
    rig.driver.write({ type: 'home' });
    rig.clock.advanceBy(100);
    expect(odometry.length).toBeGreaterThan(10);
    expect(shapeProblems(odometry.at(-1)!, 'nav_msgs/msg/Odometry')).toEqual([]);
    expect(shapeProblems({ data: rig.speeds.at(-1)!.v }, 'std_msgs/msg/Float64')).toEqual([]);
  });
});

describe('ROS names of a cell', () => {
  const base = (conveyorAxisExtra: string, link = 'transport: ros2') => `version: 1
cell: { name: c, namespace: /workcell }
links:
  sim: { transport: sim }
  ros: { ${link} }
devices:
  feeder: { kind: feeder, link: sim, release: { safe_value: "off" }, part_at_pick: {}, release_pulse_ms: 100, feed_ms: 500 }
  arm:
    kind: arm
    link: sim
    joints: [{ name: j1, min_rad: -1, max_rad: 1, max_velocity_rad_s: 1 }]
    poses: { home: [0], above_pick: [0], pick: [0], above_place: [0], place: [0] }
    tolerance_rad: 0.01
    gripper: { vacuum: { safe_value: hold }, vacuum_ok: {}, grip_ms: 100, release_ms: 100 }
  conveyor:
    kind: conveyor
    link: ros
    axis:
      steps_per_mm: 10
      encoder_counts_per_mm: 4
      max_speed_mm_s: 400
      accel_mm_s2: 1600
      homing_speed_mm_s: 100
      tolerance_mm: 1
      home_sensor: { topic: conveyor/home }
${conveyorAxisExtra}
    index_mm: 300
    place_position_mm: 100
    exit_position_mm: 400
    length_mm: 450
    part_at_exit: { topic: /conveyor/part_at_exit }
    takeaway_ms: 500
`;

  it('a conveyor axis on a ros2 link without speed and position topics is refused at its line and column', () => {
    const result = parseCell(base('', 'transport: ros2, node_namespace: /cell_a'), 'cell.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.line}:${p.col}: ${p.path}: ${p.message}`)).toEqual([
      '18:5: devices.conveyor.axis: the axis is on ros2 link "ros" and needs `speed: { topic }` (std_msgs/msg/Float64, m/s) and `position: { topic }` (nav_msgs/msg/Odometry or std_msgs/msg/Float64, m)',
    ]);
  });

  it('a relative name needs node_namespace on its link', () => {
    const result = parseCell(base('      speed: { topic: /conveyor/belt_speed }\n      position: { topic: /conveyor/odometry }'), 'cell.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => `${p.line}:${p.col}: ${p.path}: ${p.message}`)).toEqual([
      '25:29: devices.conveyor.axis.home_sensor.topic: relative ROS name "conveyor/home" needs `node_namespace` on ros2 link "ros" to resolve under; or write it absolute ("/conveyor/home")',
    ]);
  });

  it('relative names resolve under the link\'s node_namespace; absolute ones stay', () => {
    const result = parseCell(
      base('      speed: { topic: conveyor/belt_speed }\n      position: { topic: conveyor/odometry, type: std_msgs/msg/Float64 }', 'transport: ros2, node_namespace: /cell_a'),
      'cell.yaml',
    );
    if (!result.ok) throw new Error(result.problems.map((p) => p.message).join('\n'));
    const graph = new InProcessRos();
    const drivers = rosDrivers(result.cell, graph.createNode('workcell'), new VirtualClock());
    for (const d of drivers.values()) {
      d.configure();
      d.activate();
    }
    expect(graph.topicTypes()).toEqual({
      '/cell_a/conveyor/belt_speed': 'std_msgs/msg/Float64',
      '/cell_a/conveyor/odometry': 'std_msgs/msg/Float64',
      '/cell_a/conveyor/home': 'std_msgs/msg/Bool',
      '/conveyor/part_at_exit': 'std_msgs/msg/Bool',
    });
  });
});

describe('the Gazebo demo cell, every device on ROS, the embedded simulator behind it', () => {
  let open: CellRun[] = [];
  afterEach(async () => {
    for (const run of open) await run.close();
    open = [];
  });

  it('produces a lot end to end: the conveyor homes and indexes over belt speed and odometry', async () => {
    const clock = new VirtualClock();
    const { graph, run } = await rosCell({ cellPath: GAZEBO_CELL, clock, cycles: 4, autostart: true, attach: false });
    open.push(run);
    const hmi = new Hmi(graph);
    const speeds: number[] = [];
    graph.createNode('spy').createSubscription('std_msgs/msg/Float64', '/conveyor/belt_speed', QOS.odometry, (m) => speeds.push(m.data));
    clock.setTimeout(() => hmi.send('clear'), 200);
    const summary = await run.run();
    expect(summary).toMatchObject({ ok: true, finalState: 'Complete', faults: 0 });
    expect(summary.parts.exited).toBe(4);
    expect(Math.max(...speeds)).toBeCloseTo(0.4, 6);
    expect(speeds.at(-1)).toBe(0);
    expect(graph.incompatibilities).toEqual([]);
    expect(hmi.state).toBe('Complete');
  });
});
