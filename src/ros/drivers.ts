/**
 * DeviceDrivers for devices on a `ros2` link: the arm through the standard ros2_control
 * interfaces (control_msgs/FollowJointTrajectory, or a trajectory_msgs/JointTrajectory topic as a
 * fallback; measured positions from sensor_msgs/JointState), and plain I/O through std_msgs/Bool
 * topics (vacuum, vacuum ok, part sensors, release solenoids, lamps), so a cell whose feeder or
 * I/O is another ROS node needs only configuration.
 *
 * A driver carries out and reports; confirmation (within the description's tolerance and
 * deadline) stays with the controller, from the readings these drivers publish.
 */
import type { ArmDescription, CellDescription, DigitalInput, DigitalOutput, FeederDescription, IoDescription } from '../cell/schema.js';
import { armTravelMs, atPose } from '../cell/kinematics.js';
import type { DeviceCommand, DeviceDriver, DeviceFeedback, DeviceKind, FeedbackListener, Reading } from '../devices/types.js';
import type { Clock, TimerId } from '../time/clock.js';
import {
  FollowJointTrajectoryError,
  GoalStatus,
  durationFromMs,
  emptyHeader,
  followJointTrajectoryGoal,
  type GoalStatusCode,
  type FollowJointTrajectoryResult,
  type JointStateMsg,
  type JointTrajectoryMsg,
} from './messages.js';
import { checkAbsoluteName, QOS, type FollowJointTrajectoryClient, type GoalHandle, type RosNode, type RosPublisher } from './node.js';

type MoveCommand = Extract<DeviceCommand, { type: 'move' }>;

/** Shared plumbing: listeners, lifecycle flags, Bool channels with polarity. */
abstract class RosDevice implements DeviceDriver {
  abstract readonly kind: DeviceKind;
  private readonly listeners = new Set<FeedbackListener>();
  protected readonly cleanup: Array<() => void> = [];
  protected configured = false;
  protected active = false;

  constructor(
    readonly name: string,
    protected readonly node: RosNode,
  ) {}

  abstract configure(): void;
  abstract read(): Reading;
  protected abstract start(): void;
  protected abstract execute(command: DeviceCommand): void;

  activate(): void {
    if (!this.configured) throw new Error(`ros2 ${this.kind} "${this.name}": configure() must succeed before activate()`);
    if (this.active) return;
    this.active = true;
    this.start();
  }

  deactivate(): void {
    this.active = false;
    for (const c of this.cleanup.splice(0)) c();
  }

  write(command: DeviceCommand): void {
    if (!this.active) {
      this.emit({ type: 'refused', command, reason: `ros2 ${this.kind} "${this.name}" is not active` });
      return;
    }
    this.execute(command);
  }

  onFeedback(listener: FeedbackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected emit(feedback: DeviceFeedback): void {
    for (const listener of [...this.listeners]) listener(feedback);
  }

  protected publishReading(): void {
    this.emit({ type: 'reading', reading: this.read() });
  }

  /** Topic of a channel, or a clear error naming the channel. */
  protected channelTopic(channel: string, spec: DigitalInput | DigitalOutput): string {
    if (spec.topic === undefined) throw new Error(`ros2 ${this.kind} "${this.name}": channel ${channel} needs a \`topic\` (std_msgs/msg/Bool) on a ros2 link`);
    return checkAbsoluteName(`${this.name}.${channel} topic`, spec.topic);
  }

  /** Subscribe a Bool input; the logical value (polarity applied) goes to `set`. */
  protected boolInput(channel: string, spec: DigitalInput, set: (value: boolean) => void): void {
    const topic = this.channelTopic(channel, spec);
    this.cleanup.push(this.node.createSubscription('std_msgs/msg/Bool', topic, QOS.io, (msg) => set((msg.data === true) !== spec.activeLow)));
  }

  /** A Bool output publisher taking logical values. */
  protected boolOutput(channel: string, spec: DigitalOutput): (value: boolean) => void {
    const publisher: RosPublisher<{ data: boolean }> = this.node.createPublisher('std_msgs/msg/Bool', this.channelTopic(channel, spec), QOS.io);
    return (value) => publisher.publish({ data: value !== spec.activeLow });
  }
}

function safeValue(spec: DigitalOutput, present: boolean): boolean {
  return spec.safeValue === 'hold' ? present : spec.safeValue === 'on';
}

// ---------------------------------------------------------------------------------------------
// The arm

export interface RosArmOptions {
  /** Names of the arm's ROS interfaces; from the description's `ros` block, defaults otherwise. */
  action?: string;
  trajectoryTopic?: string;
  jointStatesTopic?: string;
  useAction?: boolean;
}

/**
 * The arm over ros2_control. Every move is one synchronised point (its duration from the joint
 * velocities of the description, as whole seconds plus nanoseconds). The first trajectory after
 * activation or any stop starts with the measured joint state as its point at time 0, so the
 * controller never interpolates from a stale setpoint.
 */
export class RosArmDriver extends RosDevice {
  readonly kind = 'arm' as const;
  private readonly action: string;
  private readonly trajectoryTopic: string;
  private readonly jointStatesTopic: string;
  private readonly useAction: boolean;
  private joints: number[] | undefined;
  private vacuum = false;
  private vacuumOk = false;
  private moving = false;
  private move: MoveCommand | undefined;
  private goal: GoalHandle | undefined;
  /** Bumped on every new move or stop, so a late result of an earlier goal changes nothing. */
  private moveSeq = 0;
  private startFromMeasured = true;
  /** A move that arrived before the first joint state. */
  private waitingForJoints = false;
  private client: FollowJointTrajectoryClient | undefined;
  private trajectoryPublisher: RosPublisher<JointTrajectoryMsg> | undefined;
  private setVacuum: ((on: boolean) => void) | undefined;
  /** Why the last goal failed, for the refusal the controller journals. */
  lastGoalError: string | undefined;

  constructor(
    name: string,
    private readonly description: ArmDescription,
    node: RosNode,
    options: RosArmOptions = {},
  ) {
    super(name, node);
    this.action = options.action ?? description.ros?.action ?? '/arm_controller/follow_joint_trajectory';
    this.trajectoryTopic = options.trajectoryTopic ?? description.ros?.trajectoryTopic ?? '/arm_controller/joint_trajectory';
    this.jointStatesTopic = options.jointStatesTopic ?? description.ros?.jointStatesTopic ?? '/joint_states';
    this.useAction = options.useAction ?? description.ros?.useAction ?? true;
  }

  get jointNames(): string[] {
    return this.description.joints.map((j) => j.name);
  }

  configure(): void {
    checkAbsoluteName(`arm ${this.name} action`, this.action);
    checkAbsoluteName(`arm ${this.name} trajectory topic`, this.trajectoryTopic);
    checkAbsoluteName(`arm ${this.name} joint_states topic`, this.jointStatesTopic);
    this.channelTopic('vacuum', this.description.gripper.vacuum);
    this.channelTopic('vacuum_ok', this.description.gripper.vacuumOk);
    this.configured = true;
  }

  protected start(): void {
    this.startFromMeasured = true;
    this.joints = undefined;
    this.cleanup.push(this.node.createSubscription('sensor_msgs/msg/JointState', this.jointStatesTopic, QOS.jointStates, (msg) => this.onJointState(msg)));
    this.boolInput('vacuum_ok', this.description.gripper.vacuumOk, (value) => {
      this.vacuumOk = value;
      this.publishReading();
    });
    this.setVacuum = this.boolOutput('vacuum', this.description.gripper.vacuum);
    if (this.useAction) {
      const client = this.node.createFollowJointTrajectoryClient(this.action);
      this.client = client;
      this.cleanup.push(() => client.close());
    } else {
      this.trajectoryPublisher = this.node.createPublisher('trajectory_msgs/msg/JointTrajectory', this.trajectoryTopic, QOS.trajectory);
    }
  }

  read(): Reading {
    return {
      inputs: { vacuum_ok: this.vacuumOk },
      outputs: { vacuum: this.vacuum },
      moving: this.moving,
      ...(this.joints ? { joints: [...this.joints] } : {}),
    };
  }

  protected execute(command: DeviceCommand): void {
    switch (command.type) {
      case 'move':
        this.startMove(command);
        return;
      case 'vacuum':
        this.vacuum = command.on;
        this.setVacuum?.(command.on);
        this.publishReading();
        return;
      case 'stop':
        this.halt();
        return;
      case 'safeState': {
        this.halt();
        const safe = safeValue(this.description.gripper.vacuum, this.vacuum);
        if (safe !== this.vacuum || this.description.gripper.vacuum.safeValue !== 'hold') {
          this.vacuum = safe;
          this.setVacuum?.(safe);
        }
        this.publishReading();
        return;
      }
      default:
        this.emit({ type: 'refused', command, reason: `arm ${this.name} accepts move, vacuum, stop and safeState, not ${command.type}` });
    }
  }

  private startMove(command: MoveCommand): void {
    const problem = this.moveProblem(command);
    if (problem !== undefined) {
      this.emit({ type: 'refused', command, reason: problem });
      return;
    }
    if (this.joints === undefined) {
      // Nothing measured yet (just started): the move waits for the first /joint_states; the
      // controller's deadline for the step still runs.
      this.move = command;
      this.waitingForJoints = true;
      this.moving = true;
      this.publishReading();
      return;
    }
    this.sendMove(command, this.joints);
  }

  private sendMove(command: MoveCommand, from: number[]): void {
    const seq = ++this.moveSeq;
    const travelMs = armTravelMs(from, command.target, this.description);
    const goal = followJointTrajectoryGoal(this.jointNames, command.target, travelMs, this.description.toleranceRad);
    if (this.startFromMeasured) {
      // The measured state as the point at time 0: the trajectory starts where the arm is.
      goal.trajectory.points.unshift({ positions: [...from], velocities: [], accelerations: [], effort: [], time_from_start: durationFromMs(0) });
      // A zero-length move has nothing after its start point: keep the target strictly later.
      if (travelMs === 0) goal.trajectory.points[1]!.time_from_start = durationFromMs(1);
    }
    this.move = command;
    this.moving = true;
    this.lastGoalError = undefined;
    this.publishReading();
    if (this.client) {
      this.client.sendGoal(goal, {
        onRejected: (reason) => {
          if (seq !== this.moveSeq) return;
          this.endMove();
          this.emit({ type: 'refused', command, reason: `${this.action} rejected the goal: ${reason}` });
        },
        onAccepted: (handle) => {
          if (seq !== this.moveSeq) {
            handle.cancel();
            return;
          }
          this.startFromMeasured = false;
          this.goal = handle;
        },
        onResult: (status, result) => {
          if (seq !== this.moveSeq) return;
          this.goalEnded(command, status, result);
        },
      });
    } else {
      this.trajectoryPublisher!.publish(goal.trajectory);
      this.startFromMeasured = false;
      // Without an action there is no result: the move ends when /joint_states shows the target.
      this.checkTopicMoveDone();
    }
  }

  private moveProblem(command: MoveCommand): string | undefined {
    const n = this.description.joints.length;
    if (!Array.isArray(command.target) || command.target.length !== n) return `move target must have ${n} joint values`;
    for (const [j, joint] of this.description.joints.entries()) {
      const q = command.target[j]!;
      if (typeof q !== 'number' || !Number.isFinite(q)) return `${joint.name} target ${String(q)} is not a number`;
      if (q < joint.minRad || q > joint.maxRad) return `${joint.name} target ${q} rad is outside its limits [${joint.minRad}, ${joint.maxRad}]`;
    }
    if (this.moving && this.move !== undefined) return `arm ${this.name} is busy with a move to ${this.move.pose}; send stop first`;
    if (this.useAction && !this.client!.serverReady()) return `no FollowJointTrajectory server on ${this.action}`;
    return undefined;
  }

  private goalEnded(command: MoveCommand, status: GoalStatusCode, result: FollowJointTrajectoryResult): void {
    this.goal = undefined;
    this.endMove();
    if (status === GoalStatus.ABORTED && (result.error_code === FollowJointTrajectoryError.INVALID_GOAL || result.error_code === FollowJointTrajectoryError.INVALID_JOINTS)) {
      this.lastGoalError = `${result.error_code}: ${result.error_string}`;
      this.emit({ type: 'refused', command, reason: `${this.action} aborted the goal (error ${this.lastGoalError})` });
      return;
    }
    if (status !== GoalStatus.SUCCEEDED) {
      // Aborted on a tolerance, or canceled: the controller sees from the joints where it stopped.
      this.lastGoalError = `status ${status}, error ${result.error_code}: ${result.error_string}`;
      this.startFromMeasured = true;
    }
    this.emit({ type: 'motionDone', command });
  }

  /** Stop here (category 2): cancel the goal; the next trajectory starts from the measured state. */
  private halt(): void {
    this.startFromMeasured = true;
    const command = this.move;
    if (command === undefined) return;
    this.waitingForJoints = false;
    if (this.goal) {
      // The result (CANCELED) ends the move; the controller confirms from /joint_states.
      this.goal.cancel();
      return;
    }
    if (!this.useAction) {
      // A trajectory with no points stops a JointTrajectoryController where it is.
      this.trajectoryPublisher?.publish({ header: emptyHeader(), joint_names: this.jointNames, points: [] });
    }
    ++this.moveSeq;
    this.endMove();
    this.emit({ type: 'motionDone', command });
  }

  private endMove(): void {
    this.moving = false;
    this.move = undefined;
    this.publishReading();
  }

  private onJointState(msg: JointStateMsg): void {
    const positions: number[] = [];
    for (const joint of this.description.joints) {
      const i = msg.name.indexOf(joint.name);
      const q = i < 0 ? undefined : msg.position[i];
      // A JointState may carry other joints too, in any order; one without ours changes nothing.
      if (q === undefined || !Number.isFinite(q)) return;
      positions.push(q);
    }
    this.joints = positions;
    if (this.waitingForJoints && this.move !== undefined) {
      this.waitingForJoints = false;
      this.sendMove(this.move, positions);
      return;
    }
    this.publishReading();
    if (!this.useAction) this.checkTopicMoveDone();
  }

  private checkTopicMoveDone(): void {
    const command = this.move;
    if (command === undefined || this.joints === undefined) return;
    if (!atPose(this.joints, command.target, this.description.toleranceRad)) return;
    this.endMove();
    this.emit({ type: 'motionDone', command });
  }
}

// ---------------------------------------------------------------------------------------------
// Plain I/O: an io device, or a feeder that is another ROS node

/** An io device whose inputs and outputs are std_msgs/Bool topics. */
export class RosIoDriver extends RosDevice {
  readonly kind = 'io' as const;
  private readonly inputs: Record<string, boolean> = {};
  private readonly outputs: Record<string, boolean> = {};
  private readonly setters = new Map<string, (value: boolean) => void>();

  constructor(
    name: string,
    private readonly description: IoDescription,
    node: RosNode,
  ) {
    super(name, node);
    for (const channel of Object.keys(description.inputs)) this.inputs[channel] = false;
    for (const [channel, spec] of Object.entries(description.outputs)) this.outputs[channel] = spec.safeValue === 'on';
  }

  configure(): void {
    for (const [channel, spec] of Object.entries(this.description.inputs)) this.channelTopic(channel, spec);
    for (const [channel, spec] of Object.entries(this.description.outputs)) this.channelTopic(channel, spec);
    this.configured = true;
  }

  protected start(): void {
    for (const [channel, spec] of Object.entries(this.description.inputs)) {
      this.boolInput(channel, spec, (value) => {
        this.inputs[channel] = value;
        this.publishReading();
      });
    }
    for (const [channel, spec] of Object.entries(this.description.outputs)) this.setters.set(channel, this.boolOutput(channel, spec));
  }

  read(): Reading {
    return { inputs: { ...this.inputs }, outputs: { ...this.outputs }, moving: false };
  }

  protected execute(command: DeviceCommand): void {
    switch (command.type) {
      case 'setOutput': {
        const set = this.setters.get(command.channel);
        if (!set) {
          this.emit({ type: 'refused', command, reason: `io ${this.name} has no output ${command.channel}` });
          return;
        }
        this.outputs[command.channel] = command.value;
        set(command.value);
        this.publishReading();
        return;
      }
      case 'stop':
        return;
      case 'safeState':
        for (const [channel, spec] of Object.entries(this.description.outputs)) {
          const value = safeValue(spec, this.outputs[channel] === true);
          this.outputs[channel] = value;
          this.setters.get(channel)?.(value);
        }
        this.publishReading();
        return;
      default:
        this.emit({ type: 'refused', command, reason: `io ${this.name} accepts setOutput, stop and safeState, not ${command.type}` });
    }
  }
}

/**
 * A feeder that is another ROS node: the release solenoid as a Bool output (held on for
 * release_pulse_ms on the device clock) and part_at_pick as a Bool input.
 */
export class RosFeederDriver extends RosDevice {
  readonly kind = 'feeder' as const;
  private partAtPick = false;
  private release = false;
  private setRelease: ((value: boolean) => void) | undefined;
  private pulse: { command: DeviceCommand; timer: TimerId } | undefined;

  constructor(
    name: string,
    private readonly description: FeederDescription,
    node: RosNode,
    private readonly clock: Clock,
  ) {
    super(name, node);
  }

  configure(): void {
    this.channelTopic('release', this.description.release);
    this.channelTopic('part_at_pick', this.description.partAtPick);
    this.configured = true;
  }

  protected start(): void {
    this.setRelease = this.boolOutput('release', this.description.release);
    this.boolInput('part_at_pick', this.description.partAtPick, (value) => {
      this.partAtPick = value;
      this.publishReading();
    });
    this.cleanup.push(() => this.endPulse(false));
  }

  read(): Reading {
    return { inputs: { part_at_pick: this.partAtPick }, outputs: { release: this.release }, moving: this.pulse !== undefined };
  }

  protected execute(command: DeviceCommand): void {
    switch (command.type) {
      case 'release': {
        if (this.pulse) {
          this.emit({ type: 'refused', command, reason: `feeder ${this.name} is already releasing` });
          return;
        }
        this.setOutput(true);
        this.pulse = { command, timer: this.clock.setTimeout(() => this.endPulse(true), this.description.releasePulseMs) };
        this.publishReading();
        return;
      }
      case 'stop':
      case 'safeState':
        this.endPulse(true);
        if (command.type === 'safeState') this.setOutput(safeValue(this.description.release, this.release));
        this.publishReading();
        return;
      default:
        this.emit({ type: 'refused', command, reason: `feeder ${this.name} accepts release, stop and safeState, not ${command.type}` });
    }
  }

  private setOutput(value: boolean): void {
    this.release = value;
    this.setRelease?.(value);
  }

  private endPulse(report: boolean): void {
    const pulse = this.pulse;
    if (!pulse) return;
    this.clock.clearTimeout(pulse.timer);
    this.pulse = undefined;
    this.setOutput(false);
    if (report) {
      this.publishReading();
      this.emit({ type: 'motionDone', command: pulse.command });
    }
  }
}

/**
 * Drivers for the devices of a cell that sit on a ros2 link (by device name); others are left
 * to the caller (the embedded simulator, a serial rig). A conveyor on ROS is not supported yet:
 * it is refused by name.
 */
export function rosDrivers(cell: CellDescription, node: RosNode, clock: Clock): Map<string, DeviceDriver> {
  const drivers = new Map<string, DeviceDriver>();
  for (const [name, device] of Object.entries(cell.devices)) {
    if (cell.links[device.link]?.transport !== 'ros2') continue;
    switch (device.kind) {
      case 'arm':
        drivers.set(name, new RosArmDriver(name, device, node));
        break;
      case 'io':
        drivers.set(name, new RosIoDriver(name, device, node));
        break;
      case 'feeder':
        drivers.set(name, new RosFeederDriver(name, device, node, clock));
        break;
      case 'conveyor':
        throw new Error(`device ${name}: a conveyor on a ros2 link is not supported yet (run it on a serial or Firmata link, or the simulator)`);
    }
  }
  return drivers;
}
