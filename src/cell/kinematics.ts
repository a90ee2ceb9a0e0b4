/**
 * Joint-space geometry and motion timing, shared by the controller (zone occupancy for
 * interlocks), the throughput calculation and the simulator, so all three agree on one model:
 * arm moves are linear and synchronised in joint space, conveyor moves are trapezoidal.
 */
import type { ArmDescription, ConveyorDescription, Zone } from './schema.js';

/** An axis-aligned box in joint space; joints a zone does not constrain are unbounded. */
export interface JointBox {
  min: number[];
  max: number[];
}

export function zoneBox(zone: Zone, arm: ArmDescription): JointBox {
  const n = arm.joints.length;
  const min = new Array<number>(n).fill(-Infinity);
  const max = new Array<number>(n).fill(Infinity);
  if (zone.joints) {
    for (const [jointName, [lo, hi]] of Object.entries(zone.joints)) {
      const j = arm.joints.findIndex((jt) => jt.name === jointName);
      if (j < 0) throw new Error(`zone names unknown joint ${jointName}`);
      min[j] = lo;
      max[j] = hi;
    }
  }
  if (zone.poses && zone.poses.length > 0) {
    for (let j = 0; j < n; j++) {
      const values = zone.poses.map((p) => {
        const pose = arm.poses[p];
        if (!pose) throw new Error(`zone names unknown pose ${p}`);
        return pose[j]!;
      });
      min[j] = Math.max(min[j]!, Math.min(...values) - zone.marginRad);
      max[j] = Math.min(max[j]!, Math.max(...values) + zone.marginRad);
    }
  }
  return { min, max };
}

export function inBox(q: readonly number[], box: JointBox): boolean {
  return q.every((v, j) => v >= box.min[j]! && v <= box.max[j]!);
}

/**
 * The part [s0, s1] of the straight joint-space segment a -> b (s from 0 to 1) that lies in the
 * box, or undefined when the segment misses it.
 */
export function segmentInBox(a: readonly number[], b: readonly number[], box: JointBox): [number, number] | undefined {
  let s0 = 0;
  let s1 = 1;
  for (let j = 0; j < a.length; j++) {
    const lo = box.min[j]!;
    const hi = box.max[j]!;
    const d = b[j]! - a[j]!;
    if (d === 0) {
      if (a[j]! < lo || a[j]! > hi) return undefined;
      continue;
    }
    let t0 = (lo - a[j]!) / d;
    let t1 = (hi - a[j]!) / d;
    if (t0 > t1) [t0, t1] = [t1, t0];
    s0 = Math.max(s0, t0);
    s1 = Math.min(s1, t1);
    if (s0 > s1) return undefined;
  }
  return [s0, s1];
}

/** Travel time of a synchronised joint move (without settling): the slowest joint sets the pace. */
export function armTravelMs(from: readonly number[], to: readonly number[], arm: ArmDescription): number {
  let t = 0;
  for (let j = 0; j < arm.joints.length; j++) {
    t = Math.max(t, (Math.abs(to[j]! - from[j]!) / arm.joints[j]!.maxVelocityRadS) * 1000);
  }
  return t;
}

/** Full duration of an arm move as the arm performs it: travel, then settling at the target. */
export function armMoveMs(from: readonly number[], to: readonly number[], arm: ArmDescription): number {
  return armTravelMs(from, to, arm) + arm.settleMs;
}

/** Joint position at fraction s (0..1) of the travel from `from` to `to`. */
export function interpolate(from: readonly number[], to: readonly number[], s: number): number[] {
  return from.map((v, j) => v + (to[j]! - v) * s);
}

/** True when every joint is within `tolerance` of the pose. */
export function atPose(q: readonly number[], pose: readonly number[], tolerance: number): boolean {
  return q.length === pose.length && q.every((v, j) => Math.abs(v - pose[j]!) <= tolerance);
}

/** Time of a trapezoidal (or triangular) move over `distance` with the given speed and acceleration. */
export function trapezoidMs(distance: number, maxSpeed: number, accel: number): number {
  const d = Math.abs(distance);
  if (d === 0) return 0;
  const accelDistance = (maxSpeed * maxSpeed) / accel;
  const seconds = d >= accelDistance ? d / maxSpeed + maxSpeed / accel : 2 * Math.sqrt(d / accel);
  return seconds * 1000;
}

export function conveyorIndexMs(conveyor: ConveyorDescription): number {
  return trapezoidMs(conveyor.indexMm, conveyor.axis.maxSpeedMmS, conveyor.axis.accelMmS2);
}
