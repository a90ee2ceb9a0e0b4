/**
 * Plain I/O on ROS: an io device and a feeder that are other ROS nodes, through std_msgs/Bool
 * topics, on the in-process graph (test/fixtures/cells/valid/ros2.yaml describes them).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCell } from '../../src/cell/load.js';
import type { CellDescription, FeederDescription, IoDescription } from '../../src/cell/schema.js';
import type { DeviceFeedback } from '../../src/devices/types.js';
import { RosFeederDriver, RosIoDriver, rosDrivers } from '../../src/ros/drivers.js';
import { InProcessRos } from '../../src/ros/inProcess.js';
import { QOS } from '../../src/ros/node.js';
import { VirtualClock } from '../../src/time/clock.js';
import { REPO } from './helpers.js';

function ros2Cell(): CellDescription {
  const loaded = loadCell(path.join(REPO, 'test', 'fixtures', 'cells', 'valid', 'ros2.yaml'));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.cell;
}

function listen(graph: InProcessRos, topic: string): boolean[] {
  const seen: boolean[] = [];
  graph.createNode(`spy${topic.replace(/\//g, '_')}`).createSubscription('std_msgs/msg/Bool', topic, QOS.io, (m) => seen.push(m.data));
  return seen;
}

describe('I/O over std_msgs/Bool topics', () => {
  it('an io device reads its inputs and drives its outputs, the safe state included', () => {
    const cell = ros2Cell();
    const graph = new InProcessRos();
    const io = new RosIoDriver('cell_io', cell.devices.cell_io as IoDescription, graph.createNode('workcell'));
    const feedback: DeviceFeedback[] = [];
    io.onFeedback((fb) => feedback.push(fb));
    const red = listen(graph, '/stack_light/red');
    io.configure();
    io.activate();
    expect(io.read()).toEqual({ inputs: { guard_closed: false }, outputs: { lamp_red: true }, moving: false });
    // The guard switch node publishes its state.
    graph.createNode('guard').createPublisher('std_msgs/msg/Bool', '/safety/guard_closed', QOS.io).publish({ data: true });
    expect(io.read().inputs.guard_closed).toBe(true);
    io.write({ type: 'setOutput', channel: 'lamp_red', value: false });
    io.write({ type: 'safeState', category: 1 });
    expect(red).toEqual([false, true]);
    io.write({ type: 'setOutput', channel: 'horn', value: true });
    expect(feedback.at(-1)).toEqual({ type: 'refused', command: { type: 'setOutput', channel: 'horn', value: true }, reason: 'io cell_io has no output horn' });
  });

  it('a late subscriber gets a sensor\'s last value (transient_local on both ends)', () => {
    const cell = ros2Cell();
    const graph = new InProcessRos();
    graph.createNode('guard').createPublisher('std_msgs/msg/Bool', '/safety/guard_closed', QOS.io).publish({ data: true });
    const io = new RosIoDriver('cell_io', cell.devices.cell_io as IoDescription, graph.createNode('workcell'));
    io.configure();
    io.activate();
    expect(io.read().inputs.guard_closed).toBe(true);
  });

  it('a feeder pulses its release for release_pulse_ms and reports part_at_pick', () => {
    const cell = ros2Cell();
    const graph = new InProcessRos();
    const clock = new VirtualClock();
    const feeder = new RosFeederDriver('feeder', cell.devices.feeder as FeederDescription, graph.createNode('workcell'), clock);
    const feedback: DeviceFeedback[] = [];
    feeder.onFeedback((fb) => feedback.push(fb));
    const release = listen(graph, '/feeder/release');
    feeder.configure();
    feeder.activate();
    feeder.write({ type: 'release' });
    expect(feeder.read()).toMatchObject({ outputs: { release: true }, moving: true });
    feeder.write({ type: 'release' });
    expect(feedback.at(-1)).toMatchObject({ type: 'refused', reason: 'feeder feeder is already releasing' });
    clock.advanceBy(149);
    expect(release).toEqual([true]);
    clock.advanceBy(1);
    expect(release).toEqual([true, false]);
    expect(feedback.at(-1)).toEqual({ type: 'motionDone', command: { type: 'release' } });
    graph.createNode('sensor').createPublisher('std_msgs/msg/Bool', '/feeder/part_at_pick', QOS.io).publish({ data: true });
    expect(feeder.read().inputs.part_at_pick).toBe(true);
  });

  it('every device on a ros2 link gets its ROS driver, the conveyor included', () => {
    const cell = ros2Cell();
    const drivers = rosDrivers(cell, new InProcessRos().createNode('workcell'), new VirtualClock());
    expect(Object.fromEntries([...drivers].map(([name, d]) => [name, d.constructor.name]))).toMatchObject({ conveyor: 'RosConveyorDriver' });
  });
});
