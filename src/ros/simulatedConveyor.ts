/**
 * The embedded simulator's conveyor standing behind the ROS interface the way the Gazebo world
 * serves it (docs/simulation.md, "The conveyor axis contract"): it takes the belt speed
 * (std_msgs/msg/Float64, m/s) as gz-sim's TrackController does, integrates it into the belt
 * travel, and publishes that as nav_msgs/msg/Odometry (pose.pose.position.x, m; or as a Float64
 * when the description says so) at a steady rate, with the home and exit sensors as
 * std_msgs/msg/Bool on change. The simulated belt (SimConveyor.followBelt) carries the parts and
 * decides the sensors, so the rest of the simulated cell works as with any other conveyor driver.
 */
import type { ConveyorDescription } from '../cell/schema.js';
import type { DeviceDriver, Reading } from '../devices/types.js';
import { toRosTime } from '../interface/messages.js';
import { SimConveyor } from '../sim/conveyor.js';
import type { Clock, TimerId } from '../time/clock.js';
import { beltOdometry } from './messages.js';
import { checkAbsoluteName, QOS, type RosNode } from './node.js';

export interface SimulatedConveyorServerOptions {
  node: RosNode;
  /** The simulator's conveyor driver; the server configures and activates it and moves its belt. */
  conveyor: DeviceDriver;
  /** The description with absolute ROS names (names.ts resolveRosNames). */
  description: ConveyorDescription;
  clock: Clock;
  /** Odometry period; Gazebo's TrackController publishes at 250 Hz (4 ms). */
  periodMs?: number;
  /** Belt travel at start, mm: off a home mark, so homing has to search (a third of an index by default). */
  startMm?: number;
}

export class SimulatedConveyorServer {
  private readonly cleanup: Array<() => void> = [];
  private readonly sim: SimConveyor;
  private beltMm: number;
  private speedMS = 0;
  private timer: TimerId | undefined;
  private lastTickAt: number;
  private readonly last: { home?: boolean; exit?: boolean } = {};
  private closed = false;

  constructor(private readonly options: SimulatedConveyorServerOptions) {
    const { node, conveyor, description, clock } = options;
    if (!(conveyor instanceof SimConveyor)) throw new Error(`simulated conveyor behind ROS: ${conveyor.name} is not the embedded simulator's conveyor`);
    this.sim = conveyor;
    const axis = description.axis;
    const speedTopic = axis.speed?.topic;
    const positionTopic = axis.position?.topic;
    const homeTopic = axis.homeSensor.topic;
    const exitTopic = description.partAtExit.topic;
    if (speedTopic === undefined || positionTopic === undefined || homeTopic === undefined || exitTopic === undefined) {
      throw new Error(`simulated conveyor behind ROS: ${conveyor.name} needs axis speed and position topics and home_sensor and part_at_exit topics`);
    }
    for (const [what, topic] of [['speed', speedTopic], ['position', positionTopic], ['home', homeTopic], ['part_at_exit', exitTopic]] as const) {
      checkAbsoluteName(`${conveyor.name} ${what} topic`, topic);
    }
    this.beltMm = options.startMm ?? description.indexMm / 3;
    this.lastTickAt = clock.now();

    const asFloat = axis.position?.type === 'std_msgs/msg/Float64';
    const odometry = asFloat ? undefined : node.createPublisher('nav_msgs/msg/Odometry', positionTopic, QOS.odometry);
    const position = asFloat ? node.createPublisher('std_msgs/msg/Float64', positionTopic, QOS.odometry) : undefined;
    const home = node.createPublisher('std_msgs/msg/Bool', homeTopic, QOS.io);
    const exit = node.createPublisher('std_msgs/msg/Bool', exitTopic, QOS.io);
    this.publishPosition = () => {
      const xM = this.beltMm / 1000;
      if (odometry) odometry.publish(beltOdometry(toRosTime(clock.now()), 'conveyor', xM, this.speedMS));
      else position!.publish({ data: xM });
    };
    const sensors = (reading: Reading) => {
      const h = reading.inputs.home === true;
      const e = reading.inputs.part_at_exit === true;
      if (h !== this.last.home) {
        this.last.home = h;
        home.publish({ data: h !== axis.homeSensor.activeLow });
      }
      if (e !== this.last.exit) {
        this.last.exit = e;
        exit.publish({ data: e !== description.partAtExit.activeLow });
      }
    };
    this.cleanup.push(
      conveyor.onFeedback((fb) => {
        if (fb.type === 'reading') sensors(fb.reading);
      }),
      node.createSubscription('std_msgs/msg/Float64', speedTopic, QOS.speedCommand, (msg) => {
        if (typeof msg.data !== 'number' || !Number.isFinite(msg.data)) return;
        this.advance();
        // A TrackController with the belt's limits: never faster than the description allows.
        const top = axis.maxSpeedMmS / 1000;
        this.speedMS = Math.max(-top, Math.min(top, msg.data));
      }),
    );
    conveyor.configure();
    conveyor.activate();
    this.sim.followBelt(this.beltMm);
    sensors(conveyor.read());
    this.publishPosition();
    this.schedule();
  }

  private readonly publishPosition: () => void;

  /** Belt travel now, mm. */
  get travelMm(): number {
    return this.beltMm;
  }

  private advance(): void {
    const now = this.options.clock.now();
    const dtS = (now - this.lastTickAt) / 1000;
    this.lastTickAt = now;
    if (this.speedMS === 0 || dtS <= 0) return;
    this.beltMm += this.speedMS * 1000 * dtS;
    this.sim.followBelt(this.beltMm);
  }

  private schedule(): void {
    this.timer = this.options.clock.setTimeout(() => {
      if (this.closed) return;
      this.advance();
      this.publishPosition();
      this.schedule();
    }, this.options.periodMs ?? 4);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    for (const c of this.cleanup.splice(0)) c();
    this.options.conveyor.deactivate();
  }
}
