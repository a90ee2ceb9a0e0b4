/**
 * The physical world shared by the simulated devices: the parts, the device log, the clock, the
 * seeded random generator, and the one feedback queue.
 *
 * Every entry point into the simulator (a command, a timer, an injected fault) runs inside
 * `atomically()`: feedback produced meanwhile is queued and delivered once the world is
 * consistent again, so a listener that writes the next command from inside a feedback callback
 * never sees (or disturbs) a half-done update, and every listener sees feedback in order.
 */
import { uniformIntDistribution, xoroshiro128plus, type RandomGenerator } from 'pure-rand';
import type { Clock, TimerId } from '../time/clock.js';
import type { DeviceLogEntry, DeviceLogEntryBody, DeviceLogSink, PartEvent } from './deviceLog.js';

/** Where a physical part is. */
export type PartLocation =
  /** Falling down the feeder chute towards the pick position. */
  | { where: 'chute'; device: string }
  /** Stuck in the feeder chute; still in the cell. */
  | { where: 'jammed'; device: string }
  /** Resting at the feeder's pick position; `heldBy` the arm once gripped, until the arm lifts it. */
  | { where: 'pick'; device: string; heldBy?: string }
  /** Carried by the arm's gripper. */
  | { where: 'gripper'; device: string }
  /** On a conveyor belt; `beltMm` is its place on the belt surface (world position = beltMm + belt travel). */
  | { where: 'belt'; device: string; beltMm: number }
  /** Dropped by the arm away from the place pose; still in the cell. */
  | { where: 'floor'; device: string };

export interface PartState {
  readonly id: string;
  location: PartLocation;
}

/** A physical part as reported by `SimulatedCell.parts()`. */
export interface SimPart {
  id: string;
  where: PartLocation['where'];
  /** The device whose chute, pick position, gripper or belt holds it (for floor: the arm that dropped it). */
  device: string;
  /** Gripped by this arm but still at the pick position. */
  heldBy?: string;
  /** On a belt: its position along the belt, mm (the frame of place_position_mm and exit_position_mm). */
  positionMm?: number;
}

export interface PartCounts {
  spawned: number;
  takenAway: number;
  fellOff: number;
  dropped: number;
  jammed: number;
  inCell: number;
}

/** What the world asks of every simulated device. */
export interface WorldMember {
  readonly name: string;
  /** Re-read the physical world into raw sensor values (something moved). */
  worldChanged(): void;
}

/** The world as a restarted simulator takes it over (src/sim/persist.ts). */
export interface WorldState {
  nextPart: number;
  counters: { spawned: number; takenAway: number; fellOff: number; dropped: number; jammed: number };
  /** State of the seeded generator, so a restarted run stays reproducible. */
  rng: readonly number[];
  parts: Array<{ id: string; location: PartLocation }>;
}

export class SimWorld {
  private readonly partsById = new Map<string, PartState>();
  private nextPart = 1;
  private readonly counters = { spawned: 0, takenAway: 0, fellOff: 0, dropped: 0, jammed: 0 };
  private readonly members: WorldMember[] = [];
  private rng: RandomGenerator;

  private depth = 0;
  private draining = false;
  private readonly outbox: Array<() => void> = [];
  private notifying = false;
  private notifyAgain = false;

  constructor(
    readonly clock: Clock,
    private readonly sink: DeviceLogSink,
    seed: number,
  ) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`simulator seed must be a whole number (got ${seed})`);
    this.rng = xoroshiro128plus(seed);
  }

  /** Called once each outermost update has settled (its feedback delivered): the world is consistent. */
  onSettled: (() => void) | undefined;

  exportState(): WorldState {
    return {
      nextPart: this.nextPart,
      counters: { ...this.counters },
      rng: [...(this.rng.getState?.() ?? [])],
      parts: [...this.partsById.values()].map((p) => ({ id: p.id, location: structuredClone(p.location) })),
    };
  }

  /** Takes over a saved world: its parts where they were, its counters and its generator. */
  importState(state: WorldState): void {
    this.partsById.clear();
    for (const p of state.parts) this.partsById.set(p.id, { id: p.id, location: structuredClone(p.location) });
    this.nextPart = state.nextPart;
    Object.assign(this.counters, state.counters);
    if (state.rng.length > 0) this.rng = xoroshiro128plus.fromState(state.rng);
  }

  part(id: string): PartState | undefined {
    return this.partsById.get(id);
  }

  join(member: WorldMember): void {
    this.members.push(member);
  }

  now(): number {
    return this.clock.now();
  }

  /** A whole number in [from, to], from the seeded generator. */
  randomInt(from: number, to: number): number {
    const [value, next] = uniformIntDistribution(from, to, this.rng);
    this.rng = next;
    return value;
  }

  log(entry: DeviceLogEntryBody): void {
    this.sink.write({ t: round3(this.clock.now()), ...entry } as DeviceLogEntry);
  }

  // -------------------------------------------------------------------------------------------
  // Parts

  spawn(device: string): PartState {
    const part: PartState = { id: `p${this.nextPart++}`, location: { where: 'chute', device } };
    this.partsById.set(part.id, part);
    this.counters.spawned++;
    this.partEvent(part, 'spawned', device);
    return part;
  }

  /** Moves a part and logs `event` (if given) against `device`. */
  move(part: PartState, location: PartLocation, event?: PartEvent, device?: string, positionMm?: number): void {
    part.location = location;
    if (event === 'jammed') this.counters.jammed++;
    if (event === 'dropped') this.counters.dropped++;
    if (event !== undefined) this.partEvent(part, event, device ?? location.device, positionMm);
  }

  /** The part leaves the cell. */
  remove(part: PartState, event: 'taken_away' | 'fell_off', device: string, positionMm?: number): void {
    this.partsById.delete(part.id);
    if (event === 'taken_away') this.counters.takenAway++;
    else this.counters.fellOff++;
    this.partEvent(part, event, device, positionMm);
  }

  partsWhere(predicate: (location: PartLocation) => boolean): PartState[] {
    return [...this.partsById.values()].filter((p) => predicate(p.location));
  }

  /** The part resting at a feeder's pick position (gripped or not), if any. */
  partAtPick(feeder: string): PartState | undefined {
    for (const p of this.partsById.values()) if (p.location.where === 'pick' && p.location.device === feeder) return p;
    return undefined;
  }

  allParts(): PartState[] {
    return [...this.partsById.values()];
  }

  counts(): PartCounts {
    return { ...this.counters, inCell: this.partsById.size };
  }

  /** Something physical changed: every device re-reads its sensors (re-entrant calls coalesce). */
  changed(): void {
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = true;
    try {
      do {
        this.notifyAgain = false;
        for (const m of this.members) m.worldChanged();
      } while (this.notifyAgain);
    } finally {
      this.notifying = false;
    }
  }

  private partEvent(part: PartState, event: PartEvent, device: string, positionMm?: number): void {
    this.log({ kind: 'part', part: part.id, event, device, ...(positionMm !== undefined ? { positionMm: round3(positionMm) } : {}) });
  }

  // -------------------------------------------------------------------------------------------
  // Delivery

  /** Runs `fn` as one consistent update; feedback queued meanwhile is delivered afterwards. */
  atomically<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0) {
        try {
          this.drain();
        } finally {
          this.onSettled?.();
        }
      }
    }
  }

  /** Queues a delivery (a feedback message to a device's listeners). */
  deliver(send: () => void): void {
    this.outbox.push(send);
    if (this.depth === 0) this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    const errors: unknown[] = [];
    try {
      for (let send = this.outbox.shift(); send; send = this.outbox.shift()) {
        try {
          send();
        } catch (error) {
          errors.push(error);
        }
      }
    } finally {
      this.draining = false;
    }
    // One failing listener must not keep feedback from the others; its error still surfaces.
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} feedback listeners failed`);
  }
}

/**
 * Timers of one device on the shared clock; each callback runs as one atomic world update.
 * `cancelAll()` is what a reboot does to a microcontroller's pending work.
 */
export class DeviceTimers {
  private readonly live = new Set<TimerId>();

  constructor(private readonly world: SimWorld) {}

  after(ms: number, fn: () => void): TimerId {
    const id = this.world.clock.setTimeout(() => {
      this.live.delete(id);
      this.world.atomically(fn);
    }, Math.max(0, ms));
    this.live.add(id);
    return id;
  }

  /** At absolute clock time `t` (or now, if that is past). */
  at(t: number, fn: () => void): TimerId {
    return this.after(t - this.world.now(), fn);
  }

  cancel(id: TimerId | undefined): void {
    if (id === undefined) return;
    this.world.clock.clearTimeout(id);
    this.live.delete(id);
  }

  cancelAll(): void {
    for (const id of this.live) this.world.clock.clearTimeout(id);
    this.live.clear();
  }
}

/**
 * A digital input with debouncing: the logical value follows the raw signal once it has been
 * stable for `debounceMs` (both edges). With no debounce it follows at once.
 */
export class DebouncedInput {
  private raw: boolean;
  private logical: boolean;
  private pending: TimerId | undefined;

  constructor(
    private readonly timers: DeviceTimers,
    private readonly debounceMs: number,
    initial: boolean,
    private readonly onChange: () => void,
  ) {
    this.raw = initial;
    this.logical = initial;
  }

  get value(): boolean {
    return this.logical;
  }

  /** Raw and logical value at once, nothing pending: the input as a restarted world finds it. */
  reset(value: boolean): void {
    this.timers.cancel(this.pending);
    this.pending = undefined;
    this.raw = value;
    this.logical = value;
  }

  setRaw(value: boolean): void {
    if (value === this.raw) return;
    this.raw = value;
    this.timers.cancel(this.pending);
    this.pending = undefined;
    if (value === this.logical) return;
    if (this.debounceMs <= 0) {
      this.logical = value;
      this.onChange();
      return;
    }
    this.pending = this.timers.after(this.debounceMs, () => {
      this.pending = undefined;
      this.logical = this.raw;
      this.onChange();
    });
  }
}

/** Microsecond resolution keeps virtual-time logs byte-stable (as the journal does). */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000 + 0;
}
