/**
 * Real serialized ROS 2 messages (../shared/fixtures/ros2-cdr, from rclnodejs on Jazzy with
 * Cyclone DDS) decode, with the official definitions, to their JSON; the wire captures, padded to
 * 4 bytes by rmw_cyclonedds, decode the same; and the decoded messages mean to workcell what they
 * should (a /clock sample, a joint state, a trajectory, a Trigger answer).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCell } from '../../src/cell/load.js';
import type { ArmDescription } from '../../src/cell/schema.js';
import { RosArmDriver } from '../../src/ros/drivers.js';
import { InProcessRos } from '../../src/ros/inProcess.js';
import type { ClockMsg, JointStateMsg, JointTrajectoryMsg } from '../../src/ros/messages.js';
import { QOS } from '../../src/ros/node.js';
import { SimulatedArmServer } from '../../src/ros/simulatedArm.js';
import { SimTimeClock } from '../../src/ros/simTime.js';
import { createSimulatedCell } from '../../src/sim/index.js';
import { VirtualClock } from '../../src/time/clock.js';
import { plain, reader, shapeProblems } from './definitions.js';
import { DEMO, REPO } from './helpers.js';

const FIXTURES = path.resolve(REPO, '..', 'shared', 'fixtures', 'ros2-cdr');

function fixture(name: string): { bytes: Uint8Array; json: Record<string, unknown>; type: string } {
  const bytes = new Uint8Array(readFileSync(path.join(FIXTURES, `${name}.cdr`)));
  const { type, note: _note, ...json } = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Record<string, unknown>;
  return { bytes, json, type: type as string };
}

function decode<T = Record<string, unknown>>(type: string, bytes: Uint8Array): T {
  return plain(reader(type).readMessage(bytes)) as T;
}

beforeAll(() => {
  if (!existsSync(FIXTURES)) {
    throw new Error(`the ROS 2 CDR fixtures are missing: expected them at ${FIXTURES} (shared/ beside the repository clone)`);
  }
});

describe('ROS 2 CDR fixtures', () => {
  const names = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((f) => f.endsWith('.cdr')).map((f) => f.slice(0, -4)).sort() : [];

  it('are all there', () => {
    expect(names).toEqual([
      'diagnostic_msgs-DiagnosticArray',
      'rosgraph_msgs-Clock',
      'sensor_msgs-JointState',
      'std_msgs-Bool-true',
      'std_msgs-String-cell-state',
      'std_msgs-String-start',
      'std_srvs-Trigger-Response',
      'trajectory_msgs-JointTrajectory',
    ]);
  });

  it.each(names)('%s decodes with the official definition to its JSON, which conforms to it exactly', (name) => {
    const { bytes, json, type } = fixture(name);
    expect(Array.from(bytes.slice(0, 4))).toEqual([0, 1, 0, 0]); // CDR little-endian
    expect(decode(type, bytes)).toEqual(json);
    expect(shapeProblems(json, type)).toEqual([]);
  });

  it.each(['std_msgs-String-start', 'std_msgs-Bool-true', 'std_srvs-Trigger-Response'])('wire/%s, padded on the wire, decodes the same (trailing bytes ignored)', (name) => {
    const { bytes, json, type } = fixture(name);
    const wire = new Uint8Array(readFileSync(path.join(FIXTURES, 'wire', `${name}.cdr`)));
    expect(wire.length % 4).toBe(0);
    expect(wire.length).toBeGreaterThan(bytes.length);
    expect(Array.from(wire.slice(bytes.length)).every((b) => b === 0)).toBe(true);
    const r = reader(type);
    expect(plain(r.readMessage(wire))).toEqual(json);
    expect(r.lastReadHadTrailingBytes()).toBe(true);
  });

  it('the start command is a command word workcell accepts', async () => {
    const { parseCommand } = await import('../../src/interface/operator.js');
    const msg = decode<{ data: string }>('std_msgs/msg/String', fixture('std_msgs-String-start').bytes);
    expect(parseCommand(msg.data)).toEqual({ ok: true, command: { kind: 'packml', command: 'start' } });
  });

  it('a /clock sample drives the simulated-time clock', () => {
    const msg = decode<ClockMsg>('rosgraph_msgs/msg/Clock', fixture('rosgraph_msgs-Clock').bytes);
    const graph = new InProcessRos();
    const clock = new SimTimeClock(graph.createNode('workcell'));
    const gazebo = graph.createNode('gz').createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS.clock);
    gazebo.publish({ clock: { sec: 42, nanosec: 0 } });
    gazebo.publish(msg);
    expect(clock.now()).toBe(250);
  });

  it('a joint state gives the arm its measured joints, by name', () => {
    const msg = decode<JointStateMsg>('sensor_msgs/msg/JointState', fixture('sensor_msgs-JointState').bytes);
    const loaded = loadCell(DEMO);
    if (!loaded.ok) throw new Error('demo cell');
    const arm = loaded.cell.devices.arm as ArmDescription;
    const graph = new InProcessRos();
    const driver = new RosArmDriver('arm', { ...arm, gripper: { ...arm.gripper, vacuum: { ...arm.gripper.vacuum, topic: '/v' }, vacuumOk: { ...arm.gripper.vacuumOk, topic: '/vok' } } }, graph.createNode('workcell'));
    driver.configure();
    driver.activate();
    graph.createNode('jsb').createPublisher('sensor_msgs/msg/JointState', '/joint_states', QOS.jointStates).publish(msg);
    expect(driver.read().joints).toEqual([0, -1.2, 1.5, 0.3, 1.57, -0.7]);
  });

  it('a trajectory on the topic moves the simulated arm behind ROS to its last point', () => {
    const msg = decode<JointTrajectoryMsg>('trajectory_msgs/msg/JointTrajectory', fixture('trajectory_msgs-JointTrajectory').bytes);
    expect(msg.points[1]!.time_from_start).toEqual({ sec: 2, nanosec: 500_000_000 });
    const loaded = loadCell(path.join(REPO, 'test', 'ros', 'fixtures', 'demo-ros-arm.yaml'));
    if (!loaded.ok) throw new Error('demo-ros-arm cell');
    const clock = new VirtualClock();
    const graph = new InProcessRos();
    const sim = createSimulatedCell(loaded.cell, clock, { seed: 1 });
    const server = new SimulatedArmServer({ node: graph.createNode('arm_sim'), arm: sim.drivers.get('arm')!, description: loaded.cell.devices.arm as ArmDescription, clock });
    graph.createNode('planner').createPublisher('trajectory_msgs/msg/JointTrajectory', '/arm_controller/joint_trajectory', QOS.trajectory).publish(msg);
    clock.advanceBy(5000);
    const joints = sim.drivers.get('arm')!.read().joints!;
    expect(joints.map((q) => Math.round(q * 1000) / 1000)).toEqual([0.5, -0.8, 1, 0.1, 1.57, 0.2]);
    server.close();
  });
});
