/**
 * The production sequence of a pick-and-place cell (feeder -> arm -> conveyor).
 *
 * Each station's next step is derived from the controller's belief (part tracking) and the
 * measured state of the devices, not from a program counter: after a hold, a stop or a resync the
 * same rules pick up at the first step whose postcondition is not met, so no step is repeated and
 * none skipped. Stations work in parallel wherever the interlocks allow: the feeder releases the
 * next part while the arm places, the conveyor indexes while the arm returns.
 */
import type { CellDescription } from '../cell/schema.js';
import type { Reading } from '../devices/types.js';
import { armMoveMs, atPose, trapezoidMs } from '../cell/kinematics.js';
import type { PartTracker } from './parts.js';
import type { StepSpec } from './steps.js';
import { pickPlaceDevices, type PickPlaceDevices } from './throughput.js';

export interface SequenceContext {
  reading(device: string): Reading;
  tracker: PartTracker;
  /** May the feeder release another part (Execute, lot not yet fully released)? */
  mayRelease(): boolean;
}

export type Phase = 'production' | 'resetting';

export class PickPlaceSequence {
  readonly devices: PickPlaceDevices;
  private readonly poses: Record<string, number[]>;

  constructor(readonly cell: CellDescription) {
    this.devices = pickPlaceDevices(cell);
    this.poses = this.devices.arm.desc.poses;
  }

  get stations(): string[] {
    return [this.devices.feeder.name, this.devices.arm.name, this.devices.conveyor.name];
  }

  /** The next step for a station in production, or undefined when it has nothing to do now. */
  nextProductionStep(device: string, ctx: SequenceContext): StepSpec | undefined {
    const { feeder, arm, conveyor } = this.devices;
    if (device === feeder.name) return this.feederStep(ctx);
    if (device === arm.name) return this.armStep(ctx);
    if (device === conveyor.name) return this.conveyorStep(ctx);
    return undefined;
  }

  /** Steps that bring a station to its reset position: the arm home, the conveyor homed. */
  nextResetStep(device: string, ctx: SequenceContext, homedThisReset: boolean): StepSpec | undefined {
    const { arm, conveyor } = this.devices;
    if (device === arm.name) {
      const home = this.pose(arm.desc.homePose);
      if (this.armAt(ctx, arm.desc.homePose)) return undefined;
      return this.armMove(ctx, 'go_home', arm.desc.homePose, home);
    }
    if (device === conveyor.name && !homedThisReset) {
      const c = conveyor.desc;
      return {
        device,
        name: 'home',
        command: { type: 'home' },
        expectedMs: ((c.indexMm / c.axis.homingSpeedMmS) * 1000),
        waitsAfterMotionDone: false,
        confirmed: () => {
          const r = ctx.reading(device);
          return r.axis?.homed === true && r.inputs.home === true;
        },
        evidence: () => ({ believed: { homed: true }, measured: { homed: ctx.reading(device).axis?.homed, home: ctx.reading(device).inputs.home } }),
        fault: 'home_not_found',
      };
    }
    return undefined;
  }

  /** Every station in its reset position, verified by measurement. */
  resetComplete(ctx: SequenceContext): boolean {
    const { arm, conveyor } = this.devices;
    const c = ctx.reading(conveyor.name);
    return this.armAt(ctx, arm.desc.homePose) && c.axis?.homed === true && c.inputs.home === true;
  }

  armAt(ctx: SequenceContext, pose: string): boolean {
    const joints = ctx.reading(this.devices.arm.name).joints;
    return joints !== undefined && atPose(joints, this.pose(pose), this.devices.arm.desc.toleranceRad);
  }

  private feederStep(ctx: SequenceContext): StepSpec | undefined {
    const { feeder } = this.devices;
    const t = ctx.tracker;
    if (!ctx.mayRelease()) return undefined;
    if (t.find('feeding') || t.find('at_pick')) return undefined;
    if (ctx.reading(feeder.name).inputs.part_at_pick) return undefined;
    const step: StepSpec = {
      device: feeder.name,
      name: 'release',
      command: { type: 'release' },
      expectedMs: feeder.desc.feedMs + feeder.desc.partAtPick.debounceMs,
      waitsAfterMotionDone: true,
      confirmed: () => ctx.reading(feeder.name).inputs.part_at_pick === true,
      evidence: () => ({ believed: { part_at_pick: true }, measured: { part_at_pick: ctx.reading(feeder.name).inputs.part_at_pick } }),
      fault: 'part_not_at_pick',
      // The part gets its id when the release actually leaves for the feeder.
      onDispatched: () => {
        step.partId = t.release().id;
      },
      onConfirmed: () => t.move(step.partId!, 'at_pick', 'at_pick'),
    };
    return step;
  }

  private armStep(ctx: SequenceContext): StepSpec | undefined {
    const { arm, conveyor } = this.devices;
    const t = ctx.tracker;
    const r = ctx.reading(arm.name);
    const held = t.find('gripped');
    const at = (p: string) => this.armAt(ctx, p);

    // Between poses (a stop cut a move short): first back to the nearer approach pose, from where
    // every move of the cycle is a known path; never straight across from wherever it stopped.
    if (!['home', 'above_pick', 'pick', 'above_place', 'place', arm.desc.homePose].some(at)) {
      const q = r.joints ?? this.pose('above_pick');
      const nearer = distance(q, this.pose('above_pick')) <= distance(q, this.pose('above_place')) ? 'above_pick' : 'above_place';
      return this.armMove(ctx, 'back_to_approach', nearer, this.pose(nearer), held?.id);
    }

    if (held) {
      if (at('place')) {
        return {
          device: arm.name,
          name: 'release',
          partId: held.id,
          command: { type: 'vacuum', on: false },
          expectedMs: arm.desc.gripper.releaseMs,
          waitsAfterMotionDone: true,
          confirmed: () => ctx.reading(arm.name).inputs.vacuum_ok === false,
          evidence: () => ({ believed: { vacuum_ok: false }, measured: { vacuum_ok: ctx.reading(arm.name).inputs.vacuum_ok } }),
          fault: 'vacuum_not_released',
          onConfirmed: () => t.move(held.id, 'on_belt', 'placed', conveyor.desc.placePositionMm),
        };
      }
      if (at('above_place')) {
        // The place spot must be clear of the previous part (the conveyor indexed it away).
        if (t.find('on_belt', conveyor.desc.placePositionMm)) return undefined;
        return this.armMove(ctx, 'descend_to_place', 'place', this.pose('place'), held.id);
      }
      if (at('pick')) {
        const move = this.armMove(ctx, 'lift_from_pick', 'above_pick', this.pose('above_pick'), held.id);
        const feeder = this.devices.feeder.name;
        // Lifting must also clear the pick position; which fault a miss is depends on what failed.
        return {
          ...move,
          confirmed: () => move.confirmed() && ctx.reading(feeder).inputs.part_at_pick === false,
          diagnose: () => (move.confirmed() ? 'pick_not_cleared' : 'pose_not_reached'),
          evidence: () => ({
            believed: { pose: 'above_pick', part_at_pick: false },
            measured: { joints: ctx.reading(arm.name).joints, part_at_pick: ctx.reading(feeder).inputs.part_at_pick },
          }),
        };
      }
      return this.armMove(ctx, 'transfer', 'above_place', this.pose('above_place'), held.id);
    }

    if (at('pick')) {
      const waiting = t.find('at_pick');
      if (waiting && !r.inputs.vacuum_ok) {
        return {
          device: arm.name,
          name: 'grip',
          partId: waiting.id,
          command: { type: 'vacuum', on: true },
          expectedMs: arm.desc.gripper.gripMs,
          waitsAfterMotionDone: true,
          confirmed: () => ctx.reading(arm.name).inputs.vacuum_ok === true,
          evidence: () => ({ believed: { vacuum_ok: true }, measured: { vacuum_ok: ctx.reading(arm.name).inputs.vacuum_ok } }),
          fault: 'vacuum_not_ok',
          onConfirmed: () => t.move(waiting.id, 'gripped', 'picked'),
        };
      }
      return this.armMove(ctx, 'lift_from_pick', 'above_pick', this.pose('above_pick'));
    }
    if (at('place')) return this.armMove(ctx, 'lift_from_place', 'above_place', this.pose('above_place'));
    if (at('above_pick')) {
      const waiting = t.find('at_pick');
      if (waiting) return this.armMove(ctx, 'descend_to_pick', 'pick', this.pose('pick'), waiting.id);
      return undefined;
    }
    // Anywhere else (home, above_place, between poses after a stop): go and wait above the pick.
    return this.armMove(ctx, at('above_place') ? 'return' : 'to_above_pick', 'above_pick', this.pose('above_pick'));
  }

  private conveyorStep(ctx: SequenceContext): StepSpec | undefined {
    const { conveyor } = this.devices;
    const c = conveyor.desc;
    const t = ctx.tracker;
    const placed = t.find('on_belt', c.placePositionMm);
    if (!placed) return undefined;
    const r0 = ctx.reading(conveyor.name);
    // Blocked downstream: wait until the exit is clear.
    if (r0.inputs.part_at_exit) return undefined;
    if (!r0.axis?.homed) return undefined;
    const countsPerMm = c.axis.encoderCountsPerMm;
    // A fresh index goes one index_mm from here; one cut short by a stop resumes to its target,
    // re-seeded from the measured encoder count (never the full distance again).
    // Indexes aim at the grid of home marks (one index apart), not at "here + one index": a belt
    // left short by a slip that was booked anyway catches up on the next index, so slips never add up.
    const expectedCount = this.indexTargetCount ?? (this.gridCount ?? r0.axis.encoderCount) + c.indexMm * countsPerMm;
    const remainingMm = (expectedCount - r0.axis.encoderCount) / countsPerMm;
    if (remainingMm <= c.axis.toleranceMm) return undefined; // arrived already: settleIndex() books it
    const steps = Math.round(remainingMm * c.axis.stepsPerMm);
    const toleranceCounts = c.axis.toleranceMm * countsPerMm;
    const arrivesAtExit = this.indexReachesExit;
    const encoderOk = () => Math.abs((ctx.reading(conveyor.name).axis?.encoderCount ?? NaN) - expectedCount) <= toleranceCounts;
    const partAtExit = () => ctx.reading(conveyor.name).inputs.part_at_exit === true;
    return {
      device: conveyor.name,
      name: 'index',
      partId: placed.id,
      command: { type: 'index', steps },
      expectedMs: trapezoidMs(remainingMm, c.axis.maxSpeedMmS, c.axis.accelMmS2),
      onDispatched: () => {
        if (this.indexTargetCount === undefined) this.exitSeenDuringIndex = false;
        this.indexTargetCount = expectedCount;
      },
      waitsAfterMotionDone: false,
      confirmed: () => encoderOk() && (!arrivesAtExit || partAtExit() || this.exitSeenDuringIndex),
      // Which fault a miss is depends on what failed: the belt itself, or only the part sensor.
      diagnose: () => (encoderOk() ? 'part_not_at_exit' : 'index_short'),
      evidence: () => ({
        believed: { encoderCount: expectedCount, part_at_exit: arrivesAtExit },
        measured: { encoderCount: ctx.reading(conveyor.name).axis?.encoderCount, part_at_exit: ctx.reading(conveyor.name).inputs.part_at_exit },
      }),
      fault: 'index_short',
      onConfirmed: () => {
        this.gridCount = this.indexTargetCount;
        this.indexTargetCount = undefined;
        this.bookIndex(t);
      },
    };
  }

  private armMove(ctx: SequenceContext, name: string, pose: string, target: number[], partId?: string): StepSpec {
    const { arm } = this.devices;
    const from = ctx.reading(arm.name).joints ?? target;
    return {
      device: arm.name,
      name,
      ...(partId ? { partId } : {}),
      command: { type: 'move', pose, target },
      expectedMs: armMoveMs(from, target, arm.desc),
      waitsAfterMotionDone: false,
      confirmed: () => {
        const r = ctx.reading(arm.name);
        return !r.moving && r.joints !== undefined && atPose(r.joints, target, arm.desc.toleranceRad);
      },
      evidence: () => ({ believed: { pose, joints: target }, measured: { joints: ctx.reading(arm.name).joints } }),
      fault: 'pose_not_reached',
    };
  }

  /** Encoder count the belt must reach to finish the index under way (kept across a stop). */
  private indexTargetCount: number | undefined;

  /** Belief after a completed index: the belt's parts moved one index; one at the exit has exited. */
  private bookIndex(t: PartTracker, fromLog = false): void {
    this.exitSeenDuringIndex = false;
    const c = this.devices.conveyor.desc;
    t.advanceBelt(c.indexMm);
    for (const p of t.inCell()) {
      if (p.place !== 'on_belt' || Math.abs((p.beltMm ?? NaN) - c.exitPositionMm) >= 1e-6) continue;
      if (fromLog) t.finish(p.id, 'exited', 'its index was confirmed in the write-ahead log after the last saved belief', true);
      else t.finish(p.id, 'exited');
    }
  }

  /** Encoder count of the home mark the belt should stand at (zero at homing); undefined until homed. */
  private gridCount: number | undefined;

  /** The exit sensor saw a part arrive since the pending index started (the part may be gone now). */
  private exitSeenDuringIndex = false;

  /** The controller reports every change of the exit sensor here. */
  exitSensorChanged(value: boolean): void {
    if (value && this.indexTargetCount !== undefined) this.exitSeenDuringIndex = true;
  }

  /** Does one index carry a part from the place position to the exit sensor? */
  private get indexReachesExit(): boolean {
    const c = this.devices.conveyor.desc;
    return Math.abs(c.placePositionMm + c.indexMm - c.exitPositionMm) < 1e-6;
  }

  /** The pending index target (encoder counts), for the persisted belief. */
  get indexTarget(): number | undefined {
    return this.indexTargetCount;
  }

  restoreIndexTarget(count: number | undefined): void {
    this.indexTargetCount = count;
  }

  /**
   * An index the last controller dispatched after its belief was saved, and which it did not see
   * confirmed: its target died with it. The belt may have gone all the way, part way or not at all;
   * Reset's homing (the marks are one index apart) and the exit sensor decide, in axisHomed().
   */
  private indexCutShortAtCrash = false;

  markIndexCutShortAtCrash(): void {
    this.indexCutShortAtCrash = true;
  }

  /** An index the last controller saw confirmed after its belief was saved: book it now. */
  bookIndexConfirmedAfterBelief(t: PartTracker): void {
    this.indexTargetCount = undefined;
    this.indexCutShortAtCrash = false;
    this.bookIndex(t, true);
  }

  /** Is an index under way or cut short (its target not yet reached and confirmed)? */
  get indexPending(): boolean {
    return this.indexTargetCount !== undefined || this.indexCutShortAtCrash;
  }

  /**
   * The axis was homed. Homing zeroes the encoder, so an index target is meaningless now; and as the
   * home marks are one index apart, homing after an index was cut short finished that index if the
   * belt had started it. The exit sensor decides: the part is there, or the index never happened.
   * Returns true when an index was booked.
   */
  axisHomed(ctx: SequenceContext): boolean {
    const pending = this.indexTargetCount !== undefined || this.indexCutShortAtCrash;
    this.indexTargetCount = undefined;
    this.indexCutShortAtCrash = false;
    this.gridCount = 0; // homing stops on a mark and zeroes the encoder
    const c = this.devices.conveyor.desc;
    const arrivesAtExit = this.indexReachesExit;
    if (!pending || !arrivesAtExit || !ctx.tracker.find('on_belt', c.placePositionMm)) return false;
    if (ctx.reading(this.devices.conveyor.name).inputs.part_at_exit !== true) return false;
    this.bookIndex(ctx.tracker);
    return true;
  }

  /** Repairs Resync makes before production may resume: a conveyor that lost its position is homed. */
  nextRepairStep(device: string, ctx: SequenceContext): StepSpec | undefined {
    if (device !== this.devices.conveyor.name) return undefined;
    if (ctx.reading(device).axis?.homed === true) return undefined;
    return this.nextResetStep(device, ctx, false);
  }

  /**
   * An index whose step was cut short but whose belt did reach the target (measured): book it
   * now, as its confirmation would have. Returns true when it did.
   */
  settleIndex(ctx: SequenceContext): boolean {
    const { conveyor } = this.devices;
    const c = conveyor.desc;
    const r = ctx.reading(conveyor.name);
    if (this.indexTargetCount === undefined || !r.axis?.homed || r.moving) return false;
    const reached = Math.abs(this.indexTargetCount - r.axis.encoderCount) <= c.axis.toleranceMm * c.axis.encoderCountsPerMm;
    // Short of the target, but the exit sensor saw the part arrive: it reached the exit (and may
    // already have been taken away by the downstream); the belt's shortfall stays in its encoder.
    if (!reached && !this.exitSeenDuringIndex) return false;
    this.gridCount = this.indexTargetCount;
    this.indexTargetCount = undefined;
    this.bookIndex(ctx.tracker);
    return true;
  }

  private pose(name: string): number[] {
    const p = this.poses[name];
    if (!p) throw new Error(`the arm has no pose "${name}"`);
    return p;
  }
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(...a.map((v, j) => v - b[j]!));
}
