/**
 * A cell run on a ROS 2 node: the extension points CellRun takes (`drivers`, `faces`), built on
 * the transport-neutral RosNode, so the same code runs on the in-process graph (tests, the
 * embedded simulator) and on rclnodejs.
 *
 * - `drivers`: devices on a ros2 link are driven over ROS; the others by the embedded simulator.
 *   With `simulateFarSide`, the simulator also stands behind the ROS interface, as the Gazebo
 *   world does (an arm serving FollowJointTrajectory and publishing /joint_states, a belt taking
 *   its speed and publishing odometry, Bool sensors and actuators), so the ROS path runs end to end.
 * - `face`: the operator interface on ROS (topics, Trigger services, safe-OK inputs).
 */
import type { DeviceDriver } from '../devices/types.js';
import type { DriverContext, Face, RunContext } from '../runtime/run.js';
import type { Clock } from '../time/clock.js';
import { rosDrivers } from './drivers.js';
import type { RosNode } from './node.js';
import { OperatorBridge } from './operatorBridge.js';
import { SimulatedArmServer } from './simulatedArm.js';
import { resolveRosNames } from './names.js';
import { SimulatedConveyorServer } from './simulatedConveyor.js';
import { SimulatedStationServer } from './simulatedIo.js';

export interface RosSessionOptions {
  node: RosNode;
  /** Monotonic wall clock: the 1 Hz state repeat runs on it, never on simulated time. */
  monotonic: Clock;
  /** The embedded simulator stands behind the ROS interface of the ros2 devices. */
  simulateFarSide?: boolean;
  /** Close the node with the session (the CLI's own node; not a shared test graph's). */
  closeNode?: boolean;
  statePeriodMs?: number;
}

export class RosSession {
  private readonly farSide: Array<{ close(): void }> = [];
  /** The drivers this session put on ROS: taken off the node before it closes. */
  private readonly rosDevices: DeviceDriver[] = [];
  private bridge: OperatorBridge | undefined;
  private closed = false;

  constructor(private readonly options: RosSessionOptions) {}

  /** For CellRun's `drivers`: one driver per device. */
  readonly drivers = (ctx: DriverContext): ReadonlyMap<string, DeviceDriver> => {
    const ros = rosDrivers(ctx.cell, this.options.node, ctx.clock);
    this.rosDevices.push(...ros.values());
    const cell = resolveRosNames(ctx.cell);
    const drivers = new Map<string, DeviceDriver>();
    for (const [name, device] of Object.entries(cell.devices)) {
      const viaRos = ros.get(name);
      if (viaRos === undefined) {
        drivers.set(name, ctx.sim.drivers.get(name)!);
        continue;
      }
      drivers.set(name, viaRos);
      if (!this.options.simulateFarSide) continue;
      const node = this.options.node;
      const simulated = ctx.sim.drivers.get(name)!;
      switch (device.kind) {
        case 'arm':
          this.farSide.push(new SimulatedArmServer({ node, arm: simulated, description: device, clock: ctx.clock }));
          break;
        case 'conveyor':
          this.farSide.push(new SimulatedConveyorServer({ node, conveyor: simulated, description: device, clock: ctx.clock }));
          break;
        case 'feeder':
        case 'io':
          this.farSide.push(new SimulatedStationServer({ node, device: simulated, description: device, clock: ctx.clock }));
          break;
      }
    }
    return drivers;
  };

  /** For CellRun's `faces`: the operator interface on ROS. */
  readonly face = (ctx: RunContext): Face => {
    this.bridge = new OperatorBridge({
      node: this.options.node,
      bus: ctx.bus,
      topics: ctx.controller.topics,
      cell: ctx.cell,
      command: (word, source) => ctx.controller.command(word, source),
      monotonic: this.options.monotonic,
      ...(this.options.statePeriodMs !== undefined ? { statePeriodMs: this.options.statePeriodMs } : {}),
    });
    return { close: () => this.close() };
  };

  get serviceNames(): string[] {
    return this.bridge?.serviceNames ?? [];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bridge?.close();
    // The controller outlives its faces for a moment (CellRun.close disposes it after them), and its
    // heartbeat watch may still command a safe state: a driver taken off the node refuses that
    // command instead of publishing on a destroyed publisher (rclnodejs throws, and a throw in a
    // timer ends the process). Deactivating also sends what leaving the link sends (belt speed 0)
    // while the node can still carry it.
    for (const driver of this.rosDevices.splice(0)) driver.deactivate();
    for (const server of this.farSide.splice(0)) server.close();
    if (this.options.closeNode) this.options.node.close();
  }
}
