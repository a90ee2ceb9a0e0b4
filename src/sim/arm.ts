/**
 * Simulated 6-axis arm with a vacuum gripper.
 *
 * `move` travels linearly and synchronised in joint space from the measured joints to the target
 * over max_j(|Δq_j| / max_velocity_j), then settles for settle_ms; joint readings are published
 * every `motionPublishPeriodMs` meanwhile and at the end; motionDone follows the settling.
 *
 * The gripper grips only at the pick pose (cell.devices.<arm>.poses.pick) with a part there, and
 * puts a part on the belt only at the place pose (poses.place); elsewhere a released part is
 * dropped. The simulator links the first feeder and the first conveyor of the cell to the arm.
 */
import type { ArmDescription, DigitalOutput } from '../cell/schema.js';
import { speedScaleProblem, type DeviceCommand, type Reading } from '../devices/types.js';
import type { TimerId } from '../time/clock.js';
import type { MotionEnd } from './deviceLog.js';
import { SimDevice, type SimDeviceOptions } from './device.js';
import { armTravelMs } from '../cell/kinematics.js';
import { MotionProfile } from './motion.js';
import { DebouncedInput, type PartState, type SimWorld } from './world.js';

/** A controlled stop (stop, safe state category 1) brings the arm to rest within this time. */
export const ARM_STOP_MS = 100;

type MoveCommand = Extract<DeviceCommand, { type: 'move' }>;

interface ArmMotion {
  command: MoveCommand;
  from: number[];
  to: number[];
  /** Fraction of the path travelled (0..1) over time. */
  profile: MotionProfile;
  /** When the move would have ended with no stall and no stop: travel + settle_ms. */
  nominalEnd: number;
  phase: 'travel' | 'settle';
  how: MotionEnd;
  travelTimer: TimerId | undefined;
  tickTimer: TimerId | undefined;
  doneTimer: TimerId | undefined;
}

/** Where the arm hands parts to, wired by the simulated cell. */
export interface ArmSurroundings {
  /** Feeder whose pick position is the arm's pick pose. */
  feeder?: string;
  /** Puts a part on the conveyor at its place position; logs `placed`. */
  placeOnBelt?: (part: PartState, by: string) => void;
}

export class SimArm extends SimDevice<ArmDescription> {
  readonly kind = 'arm' as const;
  private joints: number[];
  private motion: ArmMotion | undefined;
  private pendingStall: { fraction: number; count: number } | undefined;
  private vacuum = false;
  private held: PartState | undefined;
  private gripTimer: TimerId | undefined;
  private releaseTimer: TimerId | undefined;
  private readonly vacuumOk: DebouncedInput;
  private surroundings: ArmSurroundings = {};

  constructor(name: string, description: ArmDescription, world: SimWorld, options: SimDeviceOptions) {
    super(name, description, world, options);
    const home = description.poses[description.homePose];
    this.joints = home && home.length === description.joints.length ? [...home] : description.joints.map(() => 0);
    this.vacuumOk = new DebouncedInput(this.timers, description.gripper.vacuumOk.debounceMs, false, () => this.publish());
  }

  connect(surroundings: ArmSurroundings): void {
    this.surroundings = surroundings;
  }

  override exportPhysics(): Record<string, unknown> {
    const m = this.motion;
    const s = m === undefined ? 1 : Math.min(1, m.profile.positionAt(this.world.now()));
    const joints = m === undefined ? [...this.joints] : m.from.map((q, j) => q + (m.to[j]! - q) * s);
    return { joints, vacuum: this.vacuum, held: this.held?.id ?? null };
  }

  /** Joints where they were (a move in progress stops there), the valve as it was, its part held. */
  override importPhysics(state: Record<string, unknown>): void {
    const joints = state.joints;
    if (!Array.isArray(joints) || joints.length !== this.joints.length || !joints.every((q) => typeof q === 'number' && Number.isFinite(q))) {
      throw new Error(`saved arm state: joints must be ${this.joints.length} numbers`);
    }
    this.joints = [...(joints as number[])];
    this.vacuum = state.vacuum === true;
    this.held = typeof state.held === 'string' ? this.world.part(state.held) : undefined;
    // A release that was under way finished while the simulator was down.
    if (!this.vacuum && this.held !== undefined) this.releasePart();
    this.vacuumOk.reset(this.held !== undefined);
  }

  /** The next `count` moves stop at `fraction` of the way. */
  stall(fraction: number, count: number): void {
    this.pendingStall = { fraction, count };
  }

  worldChanged(): void {
    this.vacuumOk.setRaw(this.held !== undefined);
    this.considerGrip();
  }

  protected override descriptionProblem(): string | undefined {
    const d = this.description;
    const n = d.joints.length;
    for (const [pose, q] of Object.entries(d.poses)) {
      if (q.length !== n) return `pose "${pose}" has ${q.length} values but the arm has ${n} joints`;
    }
    for (const required of [d.homePose, 'pick', 'place']) {
      if (d.poses[required] === undefined) {
        return `the simulator needs a pose named "${required}" (poses: ${Object.keys(d.poses).join(', ') || 'none'})`;
      }
    }
    return this.limitsProblem(d.poses[d.homePose]!);
  }

  protected commandProblem(command: DeviceCommand): string | undefined {
    switch (command.type) {
      case 'move': {
        if (this.motion !== undefined) return `arm ${this.name} is busy with a move to ${this.motion.command.pose}; send stop first`;
        if (!Array.isArray(command.target) || command.target.length !== this.description.joints.length) {
          return `move target must have ${this.description.joints.length} joint values`;
        }
        return speedScaleProblem(command.speedScale) ?? this.limitsProblem(command.target);
      }
      case 'vacuum':
        return typeof command.on === 'boolean' ? undefined : 'vacuum command needs on: true or false';
      default:
        return `arm ${this.name} accepts move, vacuum, stop and safeState, not ${command.type}`;
    }
  }

  private limitsProblem(target: readonly number[]): string | undefined {
    for (const [j, joint] of this.description.joints.entries()) {
      const q = target[j]!;
      if (typeof q !== 'number' || !Number.isFinite(q)) return `${joint.name} target ${String(q)} is not a number`;
      if (q < joint.minRad || q > joint.maxRad) return `${joint.name} target ${q} rad is outside its limits [${joint.minRad}, ${joint.maxRad}]`;
    }
    return undefined;
  }

  protected execute(command: DeviceCommand): void {
    if (command.type === 'vacuum') this.setOutput('vacuum', command.on);
    else if (command.type === 'move') this.startMove(command);
  }

  // -------------------------------------------------------------------------------------------
  // Motion

  private startMove(command: MoveCommand): void {
    const now = this.world.now();
    const from = [...this.joints];
    const to = [...command.target];
    // A jog's speedScale slows every joint by the same factor (the move stays synchronised).
    const travel = this.travelMs(from, to) / (command.speedScale ?? 1);
    const stall = this.pendingStall?.fraction;
    if (this.pendingStall !== undefined && --this.pendingStall.count <= 0) this.pendingStall = undefined;
    const extent = stall ?? 1;
    const profile = travel > 0 ? MotionProfile.constantSpeed(now, extent, 1 / travel) : MotionProfile.still(now, extent);
    this.timers.cancel(this.gripTimer);
    this.gripTimer = undefined;
    this.motion = {
      command,
      from,
      to,
      profile,
      nominalEnd: now + travel + this.description.settleMs,
      phase: 'travel',
      how: stall !== undefined ? 'stalled' : 'completed',
      travelTimer: undefined,
      tickTimer: undefined,
      doneTimer: undefined,
    };
    this.world.log({ kind: 'motion', device: this.name, event: 'start', command: 'move', joints: from, target: to });
    this.scheduleTravel(this.motion);
  }

  private travelMs(from: readonly number[], to: readonly number[]): number {
    return armTravelMs(from, to, this.description);
  }

  private scheduleTravel(m: ArmMotion): void {
    this.timers.cancel(m.travelTimer);
    this.timers.cancel(m.tickTimer);
    m.tickTimer = undefined;
    m.travelTimer = this.timers.at(m.profile.endTime, () => this.travelEnded(m));
    this.scheduleTick(m);
  }

  private scheduleTick(m: ArmMotion): void {
    const next = this.world.now() + this.options.motionPublishPeriodMs;
    if (next >= m.profile.endTime) return;
    m.tickTimer = this.timers.at(next, () => {
      m.tickTimer = undefined;
      this.updateJoints(m);
      this.publish();
      this.scheduleTick(m);
    });
  }

  private updateJoints(m: ArmMotion): void {
    const s = m.profile.positionAt(this.world.now());
    this.joints = s >= 1 ? [...m.to] : m.from.map((q, j) => q + (m.to[j]! - q) * s);
    this.checkLeftPick();
  }

  private travelEnded(m: ArmMotion): void {
    this.timers.cancel(m.tickTimer);
    m.travelTimer = undefined;
    m.tickTimer = undefined;
    this.updateJoints(m);
    this.publish();
    m.phase = 'settle';
    // A stopped motion ends at standstill; a stalled one is reported when the move should have ended.
    if (m.how === 'stopped') this.finish(m);
    else m.doneTimer = this.timers.at(Math.max(this.world.now(), m.nominalEnd), () => this.finish(m));
  }

  private finish(m: ArmMotion): void {
    this.timers.cancel(m.doneTimer);
    this.motion = undefined;
    this.world.log({ kind: 'motion', device: this.name, event: 'end', command: 'move', how: m.how, joints: [...this.joints] });
    this.considerGrip();
    this.publish();
    this.motionDone(m.command);
  }

  protected stopMotion(how: 'immediate' | 'controlled'): void {
    const m = this.motion;
    if (m === undefined) return;
    if (m.how === 'completed') m.how = 'stopped';
    if (m.phase === 'settle') {
      this.finish(m);
      return;
    }
    const now = this.world.now();
    if (how === 'immediate') {
      m.profile = m.profile.frozenAt(now);
      m.how = 'stopped';
      this.travelEnded(m);
      return;
    }
    const v = m.profile.velocityAt(now);
    const remaining = m.profile.endPosition - m.profile.positionAt(now);
    // Closer to the end than the stopping distance: it arrives (sooner than ARM_STOP_MS) anyway.
    if ((v * ARM_STOP_MS) / 2 >= remaining) return;
    m.profile = m.profile.deceleratedFrom(now, v / ARM_STOP_MS);
    m.how = 'stopped';
    this.scheduleTravel(m);
  }

  // -------------------------------------------------------------------------------------------
  // Gripper

  private pose(name: string): number[] | undefined {
    return this.description.poses[name];
  }

  private isAt(pose: string): boolean {
    const q = this.pose(pose);
    return q !== undefined && q.length === this.joints.length && q.every((v, j) => Math.abs(v - this.joints[j]!) <= this.description.toleranceRad);
  }

  /** The part waiting at the pick position, not gripped yet. */
  private partWaitingAtPick(): PartState | undefined {
    const feeder = this.surroundings.feeder;
    if (feeder === undefined) return undefined;
    const part = this.world.partAtPick(feeder);
    return part !== undefined && part.location.where === 'pick' && part.location.heldBy === undefined ? part : undefined;
  }

  private considerGrip(): void {
    if (!this.vacuum || this.held !== undefined || this.gripTimer !== undefined || this.motion !== undefined) return;
    if (!this.isAt('pick') || this.partWaitingAtPick() === undefined) return;
    this.gripTimer = this.timers.after(this.description.gripper.gripMs, () => {
      this.gripTimer = undefined;
      const part = this.partWaitingAtPick();
      if (!this.vacuum || this.held !== undefined || this.motion !== undefined || !this.isAt('pick') || part === undefined) return;
      this.held = part;
      this.world.move(part, { where: 'pick', device: this.surroundings.feeder!, heldBy: this.name }, 'gripped', this.name);
      this.world.changed();
      this.publish();
    });
  }

  /** The gripped part leaves the pick position with the first joint reading outside its tolerance. */
  private checkLeftPick(): void {
    const part = this.held;
    if (part === undefined || part.location.where !== 'pick' || this.isAt('pick')) return;
    this.world.move(part, { where: 'gripper', device: this.name });
    this.world.changed();
  }

  private releasePart(): void {
    this.releaseTimer = undefined;
    const part = this.held;
    if (part === undefined) return;
    this.held = undefined;
    const feeder = this.surroundings.feeder;
    if (part.location.where === 'pick') {
      // Never lifted: it stays where it is.
      this.world.move(part, { where: 'pick', device: part.location.device });
    } else if (this.isAt('place') && this.surroundings.placeOnBelt !== undefined) {
      this.surroundings.placeOnBelt(part, this.name);
    } else if (this.isAt('pick') && feeder !== undefined && this.world.partAtPick(feeder) === undefined) {
      this.world.move(part, { where: 'pick', device: feeder }, 'at_pick', feeder);
    } else {
      this.world.move(part, { where: 'floor', device: this.name }, 'dropped', this.name);
    }
    this.world.changed();
    this.publish();
  }

  protected outputDescriptions(): Record<string, DigitalOutput> {
    return { vacuum: this.description.gripper.vacuum };
  }

  protected setOutput(channel: string, value: boolean): void {
    if (channel !== 'vacuum' || this.vacuum === value) return;
    this.vacuum = value;
    this.logOutput(channel, value);
    if (value) {
      this.timers.cancel(this.releaseTimer);
      this.releaseTimer = undefined;
      this.considerGrip();
    } else {
      this.timers.cancel(this.gripTimer);
      this.gripTimer = undefined;
      if (this.held !== undefined) this.releaseTimer = this.timers.after(this.description.gripper.releaseMs, () => this.releasePart());
    }
  }

  protected rebootPhysics(): void {
    const m = this.motion;
    if (m !== undefined) {
      this.updateJoints(m);
      this.timers.cancel(m.travelTimer);
      this.timers.cancel(m.tickTimer);
      this.timers.cancel(m.doneTimer);
      this.motion = undefined;
      this.world.log({ kind: 'motion', device: this.name, event: 'end', command: 'move', how: 'reset', joints: [...this.joints] });
    }
    // The valve is off at power-up: a held part is let go.
    this.setOutput('vacuum', false);
  }

  protected measure(): Reading {
    return {
      inputs: { vacuum_ok: this.vacuumOk.value },
      outputs: { vacuum: this.vacuum },
      moving: this.motion !== undefined,
      joints: [...this.joints],
    };
  }
}
