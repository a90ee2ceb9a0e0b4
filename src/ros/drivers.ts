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
import type { ArmDescription, CellDescription, ConveyorDescription, DigitalInput, DigitalOutput, FeederDescription, IoDescription } from '../cell/schema.js';
import { armTravelMs, atPose } from '../cell/kinematics.js';
import { speedScaleProblem, type DeviceCommand, type DeviceDriver, type DeviceFeedback, type DeviceKind, type FeedbackListener, type Reading } from '../devices/types.js';
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
  type OdometryMsg,
} from './messages.js';
import { resolveRosNames } from './names.js';
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
    // A jog's speedScale stretches the trajectory: the same path, reached later (reduced speed).
    const travelMs = armTravelMs(from, command.target, this.description) / (command.speedScale ?? 1);
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
    const scaleProblem = speedScaleProblem(command.speedScale);
    if (scaleProblem !== undefined) return scaleProblem;
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

// ---------------------------------------------------------------------------------------------
// The conveyor: a belt speed command and a measured belt position

type ConveyorMotionCommand = Extract<DeviceCommand, { type: 'index' | 'home' }>;

/**
 * Phases of a motion. index: ramp towards the target. Homing: `seek` downstream at homing speed
 * to the home mark, then find both of its edges at creep speed (`back` upstream off the mark,
 * `across` over it) and stop at its centre (`centre`), which becomes position zero.
 * `stopping`: a controlled stop ramps down; `settle`: speed 0 is commanded, waiting for the
 * measured position to stand still.
 */
type ConveyorPhase = 'index' | 'seek' | 'back' | 'across' | 'centre' | 'stopping' | 'settle';

interface ConveyorMotion {
  command: ConveyorMotionCommand;
  phase: ConveyorPhase;
  /** Target belt position, m (index: set at the first measured position; centre: the mark's centre). */
  targetM?: number;
  /** index: the signed distance to travel, m. */
  distanceM?: number;
  edgeA?: number;
  backOnMark?: boolean;
  sawHomeAcross?: boolean;
  /** homing ends with the mark's centre as zero; any other end leaves the axis as it was. */
  zeroAtEnd?: number;
  /** A stop command cut the motion short: it ends where the belt stands, without correction. */
  stopRequested?: boolean;
  /** Creeping approaches made after the belt settled off its target (bounded by MAX_CORRECTIONS). */
  corrections?: number;
}

/**
 * How many times a motion creeps back onto its target after settling off it (a belt that hears
 * its speed commands late coasts past where the driver stopped it) before it ends anyway and
 * leaves the verdict to the controller's confirmation.
 */
const MAX_CORRECTIONS = 5;

/**
 * An indexing conveyor whose axis is a speed-controlled belt on ROS: the belt speed command on
 * `axis.speed.topic` (std_msgs/msg/Float64, m/s, positive downstream; e.g. gz-sim's
 * TrackController) and the measured belt travel on `axis.position.topic` (nav_msgs/msg/Odometry
 * pose.pose.position.x, or std_msgs/msg/Float64, m). Home and exit sensors are Bool topics.
 *
 * The driver closes the position loop itself: every position message updates the commanded
 * speed (a trapezoid from the description's max speed and acceleration, decelerating to stop on
 * the target within tolerance). Readings carry positionSteps and encoderCount derived from the
 * measured position since homing (steps_per_mm, encoder_counts_per_mm); every position message is
 * also the device's heartbeat. If position messages stop, the belt keeps its last speed until the
 * controller's deadline or heartbeat watch stops it: give the conveyor a heartbeat.
 */
export class RosConveyorDriver extends RosDevice {
  readonly kind = 'conveyor' as const;
  private positionM: number | undefined;
  private lastPositionAt = 0;
  private zeroM = 0;
  private homed = false;
  private home = false;
  private partAtExit = false;
  private speedMS = 0;
  /** Belt speed measured from the last two position messages, m/s (direction decisions use it). */
  private measuredMS = 0;
  private motion: ConveyorMotion | undefined;
  private speedPublisher: RosPublisher<{ data: number }> | undefined;
  private lastCounts: number | undefined;

  constructor(
    name: string,
    private readonly description: ConveyorDescription,
    node: RosNode,
    private readonly clock: Clock,
  ) {
    super(name, node);
  }

  private get axis() {
    return this.description.axis;
  }

  private speedTopic(): string {
    const topic = this.axis.speed?.topic;
    if (topic === undefined) throw new Error(`ros2 conveyor "${this.name}": the axis needs \`speed: { topic }\` (std_msgs/msg/Float64, m/s) on a ros2 link`);
    return checkAbsoluteName(`${this.name} axis speed topic`, topic);
  }

  private positionTopic(): string {
    const topic = this.axis.position?.topic;
    if (topic === undefined) throw new Error(`ros2 conveyor "${this.name}": the axis needs \`position: { topic }\` (nav_msgs/msg/Odometry or std_msgs/msg/Float64, m) on a ros2 link`);
    return checkAbsoluteName(`${this.name} axis position topic`, topic);
  }

  configure(): void {
    this.speedTopic();
    this.positionTopic();
    this.channelTopic('home', this.axis.homeSensor);
    this.channelTopic('part_at_exit', this.description.partAtExit);
    this.configured = true;
  }

  protected start(): void {
    this.motion = undefined;
    this.positionM = undefined;
    this.measuredMS = 0;
    this.homed = false;
    const publisher = this.node.createPublisher('std_msgs/msg/Float64', this.speedTopic(), QOS.speedCommand);
    this.speedPublisher = publisher;
    // Leaving the link never leaves a belt running unwatched.
    this.cleanup.push(() => {
      try {
        publisher.publish({ data: 0 });
      } catch {
        // The node is already closed: nothing of ours can reach the belt any more.
      }
    });
    this.commandSpeed(0, true);
    const topic = this.positionTopic();
    if (this.axis.position?.type === 'std_msgs/msg/Float64') {
      this.cleanup.push(this.node.createSubscription('std_msgs/msg/Float64', topic, QOS.sensorStream, (msg) => this.onPosition(msg.data)));
    } else {
      this.cleanup.push(this.node.createSubscription('nav_msgs/msg/Odometry', topic, QOS.sensorStream, (msg: OdometryMsg) => this.onPosition(msg.pose.pose.position.x)));
    }
    this.boolInput('home', this.axis.homeSensor, (value) => this.onHome(value));
    this.boolInput('part_at_exit', this.description.partAtExit, (value) => {
      this.partAtExit = value;
      this.publishReading();
    });
  }

  read(): Reading {
    const travelledMm = this.positionM === undefined ? 0 : (this.positionM - this.zeroM) * 1000;
    return {
      inputs: { home: this.home, part_at_exit: this.partAtExit },
      outputs: {},
      moving: this.motion !== undefined,
      axis: {
        positionSteps: Math.round(travelledMm * this.axis.stepsPerMm) + 0,
        encoderCount: Math.round(travelledMm * this.axis.encoderCountsPerMm) + 0,
        homed: this.homed,
      },
    };
  }

  protected execute(command: DeviceCommand): void {
    switch (command.type) {
      case 'index':
      case 'home': {
        if (command.type === 'index' && (typeof command.steps !== 'number' || !Number.isInteger(command.steps))) {
          this.emit({ type: 'refused', command, reason: `index steps must be a whole number (got ${String(command.steps)})` });
          return;
        }
        // commissioning: a jog's reduced speed, refused when out of (0, 1].
        const scaleProblem = command.type === 'index' ? speedScaleProblem(command.speedScale) : undefined;
        if (scaleProblem !== undefined) {
          this.emit({ type: 'refused', command, reason: scaleProblem });
          return;
        }
        if (this.motion !== undefined) {
          this.emit({ type: 'refused', command, reason: `conveyor ${this.name} is busy with ${this.motion.command.type}; send stop first` });
          return;
        }
        this.motion =
          command.type === 'index'
            ? { command, phase: 'index', distanceM: command.steps / this.axis.stepsPerMm / 1000 }
            : { command, phase: this.home ? 'back' : 'seek', backOnMark: this.home };
        this.publishReading();
        // Nothing measured yet: the motion starts with the first position message.
        if (this.positionM !== undefined) this.control(0);
        return;
      }
      case 'stop':
        if (this.motion !== undefined) {
          this.motion.stopRequested = true;
          this.motion.zeroAtEnd = undefined;
          if (this.motion.phase !== 'settle') this.motion.phase = 'stopping';
        }
        return;
      case 'safeState':
        // Speed 0 at once, whatever the stop category: the belt has no brake but its drive.
        this.commandSpeed(0, true);
        if (this.motion !== undefined) this.endMotion();
        return;
      default:
        this.emit({ type: 'refused', command, reason: `conveyor ${this.name} accepts index, home, stop and safeState, not ${command.type}` });
    }
  }

  private onPosition(xM: number): void {
    if (typeof xM !== 'number' || !Number.isFinite(xM)) return;
    const now = this.clock.now();
    const previous = this.positionM;
    const dtS = previous === undefined ? 0 : Math.max(0, (now - this.lastPositionAt) / 1000);
    this.positionM = xM;
    this.lastPositionAt = now;
    if (previous !== undefined && dtS > 0) this.measuredMS = (xM - previous) / dtS;
    this.emit({ type: 'heartbeat' });
    if (previous !== undefined && this.jumped(previous, xM, dtS)) {
      // The far side restarted (a Gazebo reset puts the odometry back to 0): the position is lost.
      this.homed = false;
      this.emit({ type: 'reset', cause: `${this.positionTopic()} jumped by ${((xM - previous) * 1000).toFixed(1)} mm` });
    }
    if (this.motion !== undefined) this.control(dtS, previous);
    const counts = this.read().axis!.encoderCount;
    if (this.motion !== undefined || counts !== this.lastCounts) {
      this.lastCounts = counts;
      this.publishReading();
    }
  }

  /** More travel than the belt can do between two samples (plus a margin). */
  private jumped(previous: number, xM: number, dtS: number): boolean {
    const possibleMm = (this.axis.maxSpeedMmS * 2) * Math.max(dtS, 0.1) + 10 * this.axis.toleranceMm;
    return Math.abs(xM - previous) * 1000 > possibleMm;
  }

  private onHome(value: boolean): void {
    const m = this.motion;
    const wasHome = this.home;
    this.home = value;
    this.publishReading();
    if (m === undefined || this.positionM === undefined || value === wasHome) return;
    const x = this.positionM;
    if (m.phase === 'seek' && value) {
      this.commandSpeed(0);
      m.phase = 'back';
      m.backOnMark = true;
      return;
    }
    if (m.phase === 'back') {
      // Only a mark left while moving upstream gives its upstream edge; one left while still
      // coasting downstream (overshoot, or a belt that hears the reversal late: the measured
      // speed, not the commanded one, tells) is crossed again on the way back.
      if (value) m.backOnMark = true;
      else if (m.backOnMark === true && this.measuredMS < 0) {
        m.edgeA = x;
        m.phase = 'across';
        this.control(0);
      } else m.backOnMark = false;
      return;
    }
    if (m.phase === 'across') {
      if (value) m.sawHomeAcross = true;
      else if (m.sawHomeAcross && m.edgeA !== undefined && this.measuredMS > 0) {
        m.targetM = (m.edgeA + x) / 2;
        m.zeroAtEnd = m.targetM;
        m.phase = 'centre';
        this.control(0);
      }
    }
  }

  /** Creep speed for edge finding and the last millimetres, m/s. */
  private creepMS(): number {
    return Math.min(this.axis.homingSpeedMmS, this.axis.maxSpeedMmS) / 10 / 1000;
  }

  /** One step of the position loop, at a position message (`dtS` since the previous one). */
  private control(dtS: number, previous?: number): void {
    const m = this.motion;
    const x = this.positionM;
    if (m === undefined || x === undefined) return;
    const accel = this.axis.accelMmS2 / 1000;
    switch (m.phase) {
      case 'index':
      case 'centre': {
        if (m.targetM === undefined) m.targetM = x + (m.distanceM ?? 0);
        const dir = Math.sign(m.targetM - x) || 1;
        const remaining = Math.abs(m.targetM - x);
        const speed = Math.abs(this.speedMS);
        // Past the target while still driving at it (a late belt): stop, and creep back once settled,
        // rather than reversing at speed.
        if (m.phase === 'index' && this.speedMS !== 0 && Math.sign(this.speedMS) !== dir) {
          this.commandSpeed(0);
          m.phase = 'settle';
          return;
        }
        // Stop when the next sample would reach the target, or within a tenth of the tolerance.
        if (remaining <= Math.max(this.axis.toleranceMm / 10 / 1000, speed * dtS)) {
          this.commandSpeed(0);
          m.phase = 'settle';
          return;
        }
        // commissioning: a jog's speedScale lowers the top speed (reduced speed).
        const scale = m.command.type === 'index' ? (m.command.speedScale ?? 1) : 1;
        const reduced = (this.axis.maxSpeedMmS * scale) / 1000;
        // A correction creeps, and never above a jog's reduced speed either.
        const top = m.phase === 'centre' ? Math.min(this.creepMS(), reduced) : reduced;
        const ramp = dtS > 0 ? speed + accel * dtS : Math.max(speed, Math.min(top, accel * 0.01));
        // Never above `top`, even when a jog's reduced speed is below the creep speed.
        const next = Math.min(top, Math.max(this.creepMS(), Math.min(top, ramp, Math.sqrt(2 * accel * remaining))));
        this.commandSpeed(dir * next);
        return;
      }
      case 'seek':
        this.commandSpeed(this.axis.homingSpeedMmS / 1000);
        return;
      case 'back':
        this.commandSpeed(-this.creepMS());
        return;
      case 'across':
        this.commandSpeed(this.creepMS());
        return;
      case 'stopping': {
        const speed = Math.max(0, Math.abs(this.speedMS) - accel * dtS);
        this.commandSpeed(Math.sign(this.speedMS) * speed);
        if (speed === 0) m.phase = 'settle';
        return;
      }
      case 'settle': {
        // Standing still: no more than a tenth of the creep speed between two samples (a
        // simulated or measured belt jitters by micrometres).
        if (previous === undefined) return;
        const moved = Math.abs(x - previous);
        if (!(moved < 1e-6 || (dtS > 0 && moved / dtS < this.creepMS() / 10))) return;
        // Settled off the target by more than half the tolerance: creep back onto it.
        const offM = m.targetM === undefined ? 0 : Math.abs(m.targetM - x);
        if (!m.stopRequested && offM * 1000 > this.axis.toleranceMm / 2 && (m.corrections ?? 0) < MAX_CORRECTIONS) {
          m.corrections = (m.corrections ?? 0) + 1;
          m.phase = 'centre';
          this.control(0);
          return;
        }
        this.endMotion();
        return;
      }
    }
  }

  private endMotion(): void {
    const m = this.motion;
    if (m === undefined) return;
    this.motion = undefined;
    if (m.command.type === 'home' && m.zeroAtEnd !== undefined) {
      this.zeroM = m.zeroAtEnd;
      this.homed = true;
    }
    this.publishReading();
    this.emit({ type: 'motionDone', command: m.command });
  }

  private commandSpeed(speedMS: number, always = false): void {
    const speed = speedMS + 0;
    if (!always && speed === this.speedMS) return;
    this.speedMS = speed;
    this.speedPublisher?.publish({ data: speed });
  }
}

/**
 * Drivers for the devices of a cell that sit on a ros2 link (by device name); others are left
 * to the caller (the embedded simulator, a serial rig). Relative ROS names are resolved under
 * their link's node_namespace first.
 */
export function rosDrivers(cell: CellDescription, node: RosNode, clock: Clock): Map<string, DeviceDriver> {
  const resolved = resolveRosNames(cell);
  const drivers = new Map<string, DeviceDriver>();
  for (const [name, device] of Object.entries(resolved.devices)) {
    if (resolved.links[device.link]?.transport !== 'ros2') continue;
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
        drivers.set(name, new RosConveyorDriver(name, device, node, clock));
        break;
    }
  }
  return drivers;
}
