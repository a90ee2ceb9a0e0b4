/**
 * Simulated indexing conveyor: a belt driven by a stepper axis with an encoder, home marks
 * (cleats) every index_mm, a part sensor at the exit and a downstream that takes parts away.
 *
 * Geometry: positions along the conveyor are in mm from its upstream end (the frame of
 * place_position_mm, exit_position_mm, length_mm). The belt's travel since the run began is
 * `belt`; a part on the belt keeps its place on the belt surface, so its position is that place
 * plus the belt travel. A home mark is at the home sensor whenever the belt travel is a multiple
 * of index_mm (within MARK_HALF_WIDTH_MM); the belt starts at a seeded random offset in
 * [0, index_mm) from a mark.
 *
 * Motion is analytic (MotionProfile): sensor edges are scheduled at the exact instants a part or
 * a mark crosses a sensor window, and readings are published every `motionPublishPeriodMs`.
 */
import type { ConveyorDescription, DigitalOutput } from '../cell/schema.js';
import { speedScaleProblem, type DeviceCommand, type Reading } from '../devices/types.js';
import type { TimerId } from '../time/clock.js';
import type { MotionEnd } from './deviceLog.js';
import { SimDevice, type SimDeviceOptions } from './device.js';
import { MotionProfile } from './motion.js';
import { DebouncedInput, round3, type PartState, type SimWorld } from './world.js';

/** Half the length of a home mark along the belt: the home sensor is on within this of a mark. */
export const MARK_HALF_WIDTH_MM = 1;
/** Comparisons of positions in mm tolerate this much floating-point noise. */
const EPS_MM = 1e-9;
/** A crossing is also checked this far past its edge, where the part (or mark) is surely across. */
const PAST_EDGE_MM = 1e-6;

interface BeltMotion {
  command: Extract<DeviceCommand, { type: 'index' | 'home' }>;
  /** Commanded travel (mm, >= 0) over time; the belt physically moves `scale` times it. */
  profile: MotionProfile;
  dir: 1 | -1;
  scale: number;
  beltAtStart: number;
  stepsAtStart: number;
  how: MotionEnd;
  endTimer: TimerId | undefined;
  tickTimer: TimerId | undefined;
  edgeTimers: TimerId[];
}

export class SimConveyor extends SimDevice<ConveyorDescription> {
  readonly kind = 'conveyor' as const;
  /** Belt travel since the run began, mm, while no motion is in progress. */
  private belt: number;
  /** Step counter while no motion is in progress. */
  private steps = 0;
  /** Belt travel at which the encoder reads 0 (power-up, reset, homing). */
  private encoderZero: number;
  private homed = false;
  private motion: BeltMotion | undefined;
  private missedStepsPending = 0;
  /** Parts inside the exit sensor window, with their takeaway timers (armed once the belt rests). */
  private readonly atExit = new Map<PartState, TimerId | undefined>();
  private readonly homeInput: DebouncedInput;
  private readonly exitInput: DebouncedInput;

  constructor(name: string, description: ConveyorDescription, world: SimWorld, options: SimDeviceOptions) {
    super(name, description, world, options);
    // Micrometre resolution is plenty, and keeps the offset a whole number of µm for the log.
    this.belt = world.randomInt(0, Math.round(description.indexMm * 1000) - 1) / 1000;
    this.encoderZero = this.belt;
    this.homeInput = new DebouncedInput(this.timers, description.axis.homeSensor.debounceMs, this.markAtSensor(this.belt), () => this.publish());
    this.exitInput = new DebouncedInput(this.timers, description.partAtExit.debounceMs, false, () => this.publish());
  }

  /** The next index moves `steps` motor steps short. */
  missSteps(steps: number): void {
    this.missedStepsPending += steps;
  }

  /** The arm lets go of a part at the place pose: it lands at place_position_mm. */
  placePart(part: PartState, by: string): void {
    const x = this.description.placePositionMm;
    this.world.move(part, { where: 'belt', device: this.name, beltMm: x - this.beltNow() }, 'placed', by, x);
    this.sense();
    if (this.motion !== undefined) this.scheduleEdges(this.motion);
  }

  /**
   * The belt moved by something outside the simulator (a rig's stepper physics, src/rig): take
   * its travel, carry the parts with it and re-read the sensors. Only while this simulated
   * conveyor runs no motion of its own.
   */
  followBelt(beltMm: number): void {
    if (this.motion !== undefined) throw new Error(`conveyor ${this.name} is moving by itself; it cannot also follow an outside belt`);
    this.world.atomically(() => {
      this.belt = beltMm;
      this.sense();
      this.publish();
    });
  }

  override exportPhysics(): Record<string, unknown> {
    return { belt: this.beltNow(), steps: this.stepsNow(), encoderZero: this.encoderZero, homed: this.homed };
  }

  /**
   * The belt where it was (a motion in progress is cut where the snapshot saw it: the board's
   * watchdog stops the axis when its controller dies), the board's counters and homed flag kept.
   */
  override importPhysics(state: Record<string, unknown>): void {
    this.belt = num(state.belt, 'belt');
    this.steps = num(state.steps, 'steps');
    this.encoderZero = num(state.encoderZero, 'encoderZero');
    this.homed = state.homed === true;
    this.sense();
    this.homeInput.reset(this.markAtSensor(this.belt));
    this.exitInput.reset(this.atExit.size > 0);
  }

  /** Position of a part on this belt, mm from the upstream end. */
  positionOf(part: PartState): number | undefined {
    return part.location.where === 'belt' && part.location.device === this.name ? part.location.beltMm + this.beltNow() : undefined;
  }

  worldChanged(): void {
    // Parts reach the belt only through placePart, which senses at once.
  }

  protected commandProblem(command: DeviceCommand): string | undefined {
    if (command.type !== 'index' && command.type !== 'home') return `conveyor ${this.name} accepts index, home, stop and safeState, not ${command.type}`;
    if (command.type === 'index' && (typeof command.steps !== 'number' || !Number.isInteger(command.steps))) {
      return `index steps must be a whole number (got ${String(command.steps)})`;
    }
    if (command.type === 'index' && speedScaleProblem(command.speedScale) !== undefined) return speedScaleProblem(command.speedScale);
    return this.motion !== undefined ? `conveyor ${this.name} is busy with ${this.motion.command.type}; send stop first` : undefined;
  }

  protected execute(command: DeviceCommand): void {
    if (command.type !== 'index' && command.type !== 'home') return;
    const now = this.world.now();
    const axis = this.description.axis;
    let profile: MotionProfile;
    let dir: 1 | -1 = 1;
    let scale = 1;
    if (command.type === 'index') {
      dir = command.steps < 0 ? -1 : 1;
      const steps = Math.abs(command.steps);
      // A jog's speedScale lowers the top speed (commissioning: reduced speed).
      profile = MotionProfile.trapezoid(now, steps / axis.stepsPerMm, (axis.maxSpeedMmS * (command.speedScale ?? 1)) / 1000, axis.accelMmS2 / 1e6);
      if (this.missedStepsPending > 0 && steps > 0) {
        // The stepper slips: the belt moves short, the step counter still counts every pulse.
        scale = Math.max(0, steps - this.missedStepsPending) / steps;
        this.missedStepsPending = 0;
      }
    } else {
      // Homing runs at homing speed (no ramp) downstream to the next mark and stops on it.
      const index = this.description.indexMm;
      const phase = mod(this.belt, index);
      const distance = phase < EPS_MM || index - phase < EPS_MM ? 0 : index - phase;
      profile = MotionProfile.constantSpeed(now, distance, axis.homingSpeedMmS / 1000);
    }
    const m: BeltMotion = {
      command,
      profile,
      dir,
      scale,
      beltAtStart: this.belt,
      stepsAtStart: this.steps,
      how: 'completed',
      endTimer: undefined,
      tickTimer: undefined,
      edgeTimers: [],
    };
    this.motion = m;
    this.logMotion('start', m.command.type);
    this.schedule(m);
  }

  // -------------------------------------------------------------------------------------------
  // Motion

  private beltNow(): number {
    const m = this.motion;
    if (m === undefined) return this.belt;
    return m.beltAtStart + m.dir * m.scale * m.profile.positionAt(this.world.now());
  }

  private stepsNow(): number {
    const m = this.motion;
    if (m === undefined) return this.steps;
    return m.stepsAtStart + m.dir * Math.round(m.profile.positionAt(this.world.now()) * this.description.axis.stepsPerMm);
  }

  private schedule(m: BeltMotion): void {
    this.timers.cancel(m.endTimer);
    this.timers.cancel(m.tickTimer);
    m.tickTimer = undefined;
    m.endTimer = this.timers.at(m.profile.endTime, () => this.finish(m));
    this.scheduleTick(m);
    this.scheduleEdges(m);
  }

  private scheduleTick(m: BeltMotion): void {
    const next = this.world.now() + this.options.motionPublishPeriodMs;
    if (next >= m.profile.endTime) return;
    m.tickTimer = this.timers.at(next, () => {
      m.tickTimer = undefined;
      this.sense();
      this.publish();
      this.scheduleTick(m);
    });
  }

  /** Timers at every instant a part or a home mark crosses an edge of a sensor window or the belt's ends. */
  private scheduleEdges(m: BeltMotion): void {
    for (const id of m.edgeTimers) this.timers.cancel(id);
    m.edgeTimers = [];
    if (m.scale === 0) return;
    const d = this.description;
    const now = this.world.now();
    const travelledNow = m.scale * m.profile.positionAt(now);
    const travelledEnd = m.scale * m.profile.endPosition;
    const edgesCrossed: number[] = [];
    // Physical travel (from the motion's start) at which world position `x` moves onto `edge`.
    const addEdge = (x: number, edge: number) => {
      const travel = travelledNow + m.dir * (edge - x);
      if (travel > travelledNow) edgesCrossed.push(travel, travel + PAST_EDGE_MM);
    };
    for (const part of this.world.partsWhere((l) => l.where === 'belt' && l.device === this.name)) {
      const x = this.positionOf(part)!;
      for (const edge of [d.exitPositionMm - d.sensorWindowMm, d.exitPositionMm + d.sensorWindowMm, d.lengthMm, 0]) addEdge(x, edge);
    }
    const b = this.beltNow();
    const bEnd = b + m.dir * (travelledEnd - travelledNow);
    const first = Math.floor((Math.min(b, bEnd) - MARK_HALF_WIDTH_MM) / d.indexMm);
    const last = Math.ceil((Math.max(b, bEnd) + MARK_HALF_WIDTH_MM) / d.indexMm);
    for (let k = first; k <= last; k++) {
      addEdge(b, k * d.indexMm - MARK_HALF_WIDTH_MM);
      addEdge(b, k * d.indexMm + MARK_HALF_WIDTH_MM);
    }
    for (const travel of edgesCrossed) {
      if (travel > travelledEnd) continue;
      const t = m.profile.timeAt(travel / m.scale);
      if (t === undefined) continue;
      m.edgeTimers.push(
        this.timers.at(t, () => {
          this.sense();
          this.publish();
        }),
      );
    }
  }

  private finish(m: BeltMotion): void {
    this.belt = this.beltNow();
    this.steps = this.stepsNow();
    this.clearMotion(m);
    if (m.command.type === 'home' && m.how === 'completed') {
      // On the mark: snap away floating-point noise, then zero the counters there.
      this.belt = Math.round(this.belt / this.description.indexMm) * this.description.indexMm;
      this.steps = 0;
      this.encoderZero = this.belt;
      this.homed = true;
    }
    this.sense();
    this.logMotion('end', m.command.type, m.how);
    this.publish();
    this.motionDone(m.command);
  }

  private clearMotion(m: BeltMotion): void {
    this.timers.cancel(m.endTimer);
    this.timers.cancel(m.tickTimer);
    for (const id of m.edgeTimers) this.timers.cancel(id);
    this.motion = undefined;
  }

  protected stopMotion(how: 'immediate' | 'controlled'): void {
    const m = this.motion;
    if (m === undefined) return;
    const now = this.world.now();
    m.how = 'stopped';
    if (how === 'immediate') {
      m.profile = m.profile.frozenAt(now);
      this.finish(m);
      return;
    }
    m.profile = m.profile.deceleratedFrom(now, this.description.axis.accelMmS2 / 1e6);
    this.schedule(m);
  }

  // -------------------------------------------------------------------------------------------
  // Sensors and parts

  private markAtSensor(belt: number): boolean {
    const index = this.description.indexMm;
    const offset = mod(belt, index);
    return Math.min(offset, index - offset) <= MARK_HALF_WIDTH_MM + EPS_MM;
  }

  /** Re-reads the physical state into sensors, and handles parts falling off or reaching the exit. */
  private sense(): void {
    const d = this.description;
    for (const part of this.world.partsWhere((l) => l.where === 'belt' && l.device === this.name)) {
      const x = this.positionOf(part)!;
      if (x > d.lengthMm + EPS_MM || x < -EPS_MM) {
        this.leaveExit(part);
        this.world.remove(part, 'fell_off', this.name, x);
        continue;
      }
      const inWindow = Math.abs(x - d.exitPositionMm) <= d.sensorWindowMm + EPS_MM;
      if (!inWindow) {
        this.leaveExit(part);
        continue;
      }
      if (!this.atExit.has(part)) {
        this.world.log({ kind: 'part', part: part.id, event: 'at_exit', device: this.name, positionMm: round3(x) });
        this.atExit.set(part, undefined);
      }
      // The downstream reaches for a part that rests at the exit, not for one passing by.
      if (this.motion === undefined && this.atExit.get(part) === undefined) {
        this.atExit.set(
          part,
          this.timers.after(d.takeawayMs, () => this.takeAway(part)),
        );
      }
    }
    this.exitInput.setRaw(this.atExit.size > 0);
    this.homeInput.setRaw(this.markAtSensor(this.beltNow()));
  }

  private leaveExit(part: PartState): void {
    if (!this.atExit.has(part)) return;
    this.timers.cancel(this.atExit.get(part));
    this.atExit.delete(part);
  }

  private takeAway(part: PartState): void {
    this.atExit.delete(part);
    const x = this.positionOf(part);
    if (x === undefined) return;
    if (Math.abs(x - this.description.exitPositionMm) <= this.description.sensorWindowMm + EPS_MM) {
      this.world.remove(part, 'taken_away', this.name, x);
    }
    this.sense();
    this.publish();
  }

  // -------------------------------------------------------------------------------------------

  protected outputDescriptions(): Record<string, DigitalOutput> {
    return {};
  }

  protected setOutput(): void {}

  protected rebootPhysics(): void {
    const m = this.motion;
    if (m !== undefined) {
      this.belt = this.beltNow();
      this.clearMotion(m);
      this.logMotion('end', m.command.type, 'reset');
    }
    // The belt and its parts stay where they are; the board has forgotten everything else.
    this.steps = 0;
    this.encoderZero = this.belt;
    this.homed = false;
    this.sense();
  }

  protected measure(): Reading {
    const counts = (this.beltNow() - this.encoderZero) * this.description.axis.encoderCountsPerMm;
    return {
      inputs: { home: this.homeInput.value, part_at_exit: this.exitInput.value },
      outputs: {},
      moving: this.motion !== undefined,
      axis: { positionSteps: this.stepsNow() + 0, encoderCount: Math.round(counts) + 0, homed: this.homed },
    };
  }

  private logMotion(event: 'start' | 'end', command: 'index' | 'home', how?: MotionEnd): void {
    const axis = this.measure().axis!;
    this.world.log({
      kind: 'motion',
      device: this.name,
      event,
      command,
      ...(how !== undefined ? { how } : {}),
      beltMm: round3(this.beltNow()),
      positionSteps: axis.positionSteps,
      encoderCount: axis.encoderCount,
    });
  }
}

function mod(x: number, m: number): number {
  return ((x % m) + m) % m;
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`saved conveyor state: ${what} is not a number`);
  return value;
}
