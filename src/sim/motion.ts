/**
 * One-dimensional motion profiles made of constant-acceleration segments, in clock milliseconds.
 *
 * The simulator moves things analytically rather than in fixed ticks: a profile answers "where
 * is it at time t" and "when does it reach x", so sensor edges (a part entering the exit window,
 * a home mark passing the sensor) are scheduled at their exact instants.
 *
 * Positions are non-decreasing along a profile (distance travelled, always >= 0); the caller
 * applies the direction. Units are the caller's (mm, or a path fraction for the arm) per ms.
 */

interface Segment {
  /** Start time, clock ms. */
  t0: number;
  duration: number;
  x0: number;
  /** Speed at t0, units per ms (>= 0). */
  v0: number;
  /** Acceleration, units per ms² (negative while decelerating). */
  a: number;
}

export class MotionProfile {
  private constructor(
    private readonly segments: readonly Segment[],
    readonly startTime: number,
    private readonly startPosition: number,
    /** The planned distance, exactly: the segments' sum may differ from it in the last bits. */
    private readonly plannedEnd?: number,
  ) {}

  /** Standing still at `x` from `t0` on. */
  static still(t0: number, x = 0): MotionProfile {
    return new MotionProfile([], t0, x);
  }

  /** Constant speed from the start (no ramp) over `distance`. */
  static constantSpeed(t0: number, distance: number, speed: number): MotionProfile {
    if (distance <= 0 || speed <= 0) return MotionProfile.still(t0);
    return new MotionProfile([{ t0, duration: distance / speed, x0: 0, v0: speed, a: 0 }], t0, 0, distance);
  }

  /** Trapezoidal (or, for short moves, triangular) profile over `distance`. */
  static trapezoid(t0: number, distance: number, maxSpeed: number, accel: number): MotionProfile {
    if (distance <= 0) return MotionProfile.still(t0);
    const rampDistance = (maxSpeed * maxSpeed) / (2 * accel);
    if (2 * rampDistance >= distance) {
      const tPeak = Math.sqrt(distance / accel);
      const vPeak = accel * tPeak;
      return new MotionProfile(
        [
          { t0, duration: tPeak, x0: 0, v0: 0, a: accel },
          { t0: t0 + tPeak, duration: tPeak, x0: distance / 2, v0: vPeak, a: -accel },
        ],
        t0,
        0,
        distance,
      );
    }
    const tRamp = maxSpeed / accel;
    const tCruise = (distance - 2 * rampDistance) / maxSpeed;
    return new MotionProfile(
      [
        { t0, duration: tRamp, x0: 0, v0: 0, a: accel },
        { t0: t0 + tRamp, duration: tCruise, x0: rampDistance, v0: maxSpeed, a: 0 },
        { t0: t0 + tRamp + tCruise, duration: tRamp, x0: distance - rampDistance, v0: maxSpeed, a: -accel },
      ],
      t0,
      0,
      distance,
    );
  }

  get endTime(): number {
    const last = this.segments[this.segments.length - 1];
    return last === undefined ? this.startTime : last.t0 + last.duration;
  }

  get endPosition(): number {
    if (this.plannedEnd !== undefined) return this.plannedEnd;
    const last = this.segments[this.segments.length - 1];
    return last === undefined ? this.startPosition : positionIn(last, last.duration);
  }

  positionAt(t: number): number {
    if (t <= this.startTime) return this.segments[0]?.x0 ?? this.startPosition;
    if (t >= this.endTime) return this.endPosition;
    for (const s of this.segments) {
      if (t <= s.t0 + s.duration) return positionIn(s, t - s.t0);
    }
    return this.endPosition;
  }

  velocityAt(t: number): number {
    for (const s of this.segments) {
      if (t >= s.t0 && t < s.t0 + s.duration) return Math.max(0, s.v0 + s.a * (t - s.t0));
    }
    return 0;
  }

  /** The first time the profile reaches position `x`, or undefined if it never does. */
  timeAt(x: number): number | undefined {
    if (x <= (this.segments[0]?.x0 ?? this.startPosition)) return this.startTime;
    if (x > this.endPosition) return undefined;
    if (x === this.endPosition) return this.endTime;
    for (const s of this.segments) {
      const end = positionIn(s, s.duration);
      if (x > end) continue;
      const dx = x - s.x0;
      let tau: number;
      if (s.a === 0) tau = dx / s.v0;
      else {
        // Smaller root of a/2 τ² + v0 τ - dx = 0 (the first time x is reached).
        const disc = Math.max(0, s.v0 * s.v0 + 2 * s.a * dx);
        tau = (-s.v0 + Math.sqrt(disc)) / s.a;
      }
      return s.t0 + Math.min(Math.max(tau, 0), s.duration);
    }
    return undefined;
  }

  /** From time `t`, decelerate at `decel` (units/ms²) to standstill; the rest of this profile is dropped. */
  deceleratedFrom(t: number, decel: number): MotionProfile {
    const x = this.positionAt(t);
    const v = this.velocityAt(t);
    if (v <= 0) return this.frozenAt(t);
    const kept = this.segmentsUntil(t);
    return new MotionProfile([...kept, { t0: t, duration: v / decel, x0: x, v0: v, a: -decel }], this.startTime, this.startPosition);
  }

  /** Stops dead at time `t` (category 0: drive power removed). */
  frozenAt(t: number): MotionProfile {
    const kept = this.segmentsUntil(t);
    if (kept.length === 0) return new MotionProfile([], this.startTime, this.positionAt(t));
    return new MotionProfile(kept, this.startTime, this.startPosition);
  }

  /** The segments before `t`, the one running at `t` cut at `t`. */
  private segmentsUntil(t: number): Segment[] {
    const kept: Segment[] = [];
    for (const s of this.segments) {
      if (s.t0 >= t) break;
      kept.push({ ...s, duration: Math.min(s.duration, t - s.t0) });
    }
    return kept;
  }
}

function positionIn(s: Segment, tau: number): number {
  return s.x0 + s.v0 * tau + 0.5 * s.a * tau * tau;
}
