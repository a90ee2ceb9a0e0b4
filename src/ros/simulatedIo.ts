/**
 * The embedded simulator's feeder and I/O devices standing behind their std_msgs/Bool topics, the
 * way the Gazebo world serves them (docs/simulation.md): the feeder's release solenoid starts a
 * feed on its rising edge and part_at_pick is published on change; an io device's outputs are
 * taken from their topics, and its inputs are published on change and repeated periodically
 * (Gazebo repeats the safety inputs at 10 Hz), which is the device's sign of life.
 */
import type { DigitalInput, DigitalOutput, FeederDescription, IoDescription } from '../cell/schema.js';
import type { DeviceDriver, Reading } from '../devices/types.js';
import type { Clock, TimerId } from '../time/clock.js';
import { checkAbsoluteName, QOS, type RosNode } from './node.js';

export interface SimulatedStationServerOptions {
  node: RosNode;
  /** The simulator's driver of the device; the server configures and activates it. */
  device: DeviceDriver;
  /** The description with absolute ROS names (names.ts resolveRosNames). */
  description: FeederDescription | IoDescription;
  clock: Clock;
  /** How often an io device's inputs are repeated, ms. */
  repeatMs?: number;
}

function topicOf(device: string, channel: string, spec: DigitalInput | DigitalOutput): string {
  if (spec.topic === undefined) throw new Error(`simulated ${device} behind ROS: channel ${channel} needs a \`topic\``);
  return checkAbsoluteName(`${device}.${channel} topic`, spec.topic);
}

export class SimulatedStationServer {
  private readonly cleanup: Array<() => void> = [];
  private timer: TimerId | undefined;
  private closed = false;

  constructor(private readonly options: SimulatedStationServerOptions) {
    const { node, device, description, clock } = options;
    const inputs: Array<[string, DigitalInput]> = description.kind === 'feeder' ? [['part_at_pick', description.partAtPick]] : Object.entries(description.inputs);
    const outputs: Array<[string, DigitalOutput]> = description.kind === 'feeder' ? [['release', description.release]] : Object.entries(description.outputs);
    const publishers = new Map(inputs.map(([channel, spec]) => [channel, { spec, publisher: node.createPublisher('std_msgs/msg/Bool', topicOf(device.name, channel, spec), QOS.io) }]));
    const last = new Map<string, boolean>();
    const publishInputs = (reading: Reading, always: boolean) => {
      for (const [channel, { spec, publisher }] of publishers) {
        const value = reading.inputs[channel] === true;
        if (!always && last.get(channel) === value) continue;
        last.set(channel, value);
        publisher.publish({ data: value !== spec.activeLow });
      }
    };
    this.cleanup.push(
      device.onFeedback((fb) => {
        if (fb.type === 'reading') publishInputs(fb.reading, false);
      }),
    );
    for (const [channel, spec] of outputs) {
      let previous = false;
      this.cleanup.push(
        node.createSubscription('std_msgs/msg/Bool', topicOf(device.name, channel, spec), QOS.io, (msg) => {
          const value = (msg.data === true) !== spec.activeLow;
          if (description.kind === 'feeder') {
            // The feeder cycles on the solenoid's rising edge, as the Gazebo world's TriggeredPublisher.
            if (value && !previous) device.write({ type: 'release' });
          } else {
            device.write({ type: 'setOutput', channel, value });
          }
          previous = value;
        }),
      );
    }
    device.configure();
    device.activate();
    publishInputs(device.read(), true);
    if (description.kind === 'io') {
      const repeat = () => {
        if (this.closed) return;
        publishInputs(device.read(), true);
        this.timer = clock.setTimeout(repeat, options.repeatMs ?? 100);
      };
      this.timer = clock.setTimeout(repeat, options.repeatMs ?? 100);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    for (const c of this.cleanup.splice(0)) c();
    this.options.device.deactivate();
  }
}
