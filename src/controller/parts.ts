/**
 * Part tracking: the controller's belief about where every part is. Each released part has an id
 * from release to exit and ends in exactly one of: exited, rejected (removed on purpose), lost (no
 * longer accounted for, recorded by resync) or still in the cell.
 */
import type { Journal } from '../journal/journal.js';

export type PartPlace = 'feeding' | 'at_pick' | 'gripped' | 'on_belt';
export type PartOutcome = 'exited' | 'rejected' | 'lost';

export interface TrackedPart {
  id: string;
  place: PartPlace;
  /** Position along the belt in mm, while on the belt. */
  beltMm?: number;
  releasedAt: number;
}

export interface PartCounts {
  released: number;
  exited: number;
  rejected: number;
  lost: number;
  inCell: number;
}

/** How many finished parts the tracker remembers: enough to name a double booking, bounded so a
 * cell that runs for months does not grow with every part. */
const RECENT_OUTCOMES = 256;
/** Release-to-exit times kept for the p95 (the mean covers every exit). */
const CYCLE_TIME_WINDOW = 10_000;

export class PartTracker {
  private readonly parts = new Map<string, TrackedPart>();
  private readonly counts = { released: 0, exited: 0, rejected: 0, lost: 0 };
  private readonly recentOutcomes = new Map<string, PartOutcome>();
  private readonly recentCycleTimes: number[] = [];
  private cycleTimeSum = 0;
  private cycleTimeCount = 0;
  /** Bumped on every change of the belief, so it is persisted only when it changed. */
  version = 0;

  constructor(
    private readonly journal: Journal,
    private readonly now: () => number,
  ) {}

  release(): TrackedPart {
    const part: TrackedPart = { id: `P${++this.counts.released}`, place: 'feeding', releasedAt: this.now() };
    this.parts.set(part.id, part);
    this.version++;
    this.journal.record('part', { partId: part.id, event: 'released' });
    return part;
  }

  move(id: string, place: PartPlace, event: string, beltMm?: number): void {
    const part = this.get(id);
    this.version++;
    part.place = place;
    if (beltMm === undefined) delete part.beltMm;
    else part.beltMm = beltMm;
    this.journal.record('part', { partId: id, event, ...(beltMm === undefined ? {} : { beltMm }) });
  }

  /** Advance every part on the belt by `mm` (belief after a confirmed index). */
  advanceBelt(mm: number): void {
    this.version++;
    for (const p of this.parts.values()) if (p.place === 'on_belt') p.beltMm = (p.beltMm ?? 0) + mm;
  }

  /**
   * `restated` marks an outcome the last run may already have journaled: one booked after a restart
   * from a confirmation in the write-ahead log that the saved belief did not yet include.
   */
  finish(id: string, outcome: PartOutcome, reason?: string, restated = false): void {
    const earlier = this.recentOutcomes.get(id);
    if (earlier) throw new Error(`part ${id} already ${earlier}`);
    const part = this.get(id);
    this.parts.delete(id);
    this.version++;
    this.recentOutcomes.set(id, outcome);
    if (this.recentOutcomes.size > RECENT_OUTCOMES) this.recentOutcomes.delete(this.recentOutcomes.keys().next().value!);
    this.counts[outcome]++;
    if (outcome === 'exited' && !restated) this.recordCycleTime(this.now() - part.releasedAt);
    this.journal.record('part', { partId: id, event: outcome, ...(reason ? { reason } : {}), ...(restated ? { restated: true } : {}) });
  }

  find(place: PartPlace, beltMm?: number): TrackedPart | undefined {
    for (const p of this.parts.values()) {
      if (p.place !== place) continue;
      if (beltMm !== undefined && Math.abs((p.beltMm ?? NaN) - beltMm) > 1e-6) continue;
      return p;
    }
    return undefined;
  }

  inCell(): TrackedPart[] {
    return [...this.parts.values()];
  }

  get released(): number {
    return this.counts.released;
  }

  get exited(): number {
    return this.counts.exited;
  }

  /** The belief as persisted: parts in the cell and the counters (so ids never repeat). */
  snapshot(): { parts: TrackedPart[]; counts: { released: number; exited: number; rejected: number; lost: number } } {
    return { parts: this.inCell().map((p) => ({ ...p })), counts: { ...this.counts } };
  }

  /**
   * Take over a persisted belief after a restart. Times are relative to the clock of the run that
   * saved them, so release times restart from now.
   */
  restore(saved: { parts: TrackedPart[]; counts: { released: number; exited: number; rejected: number; lost: number } }): void {
    this.parts.clear();
    Object.assign(this.counts, saved.counts);
    for (const p of saved.parts) this.parts.set(p.id, { ...p, releasedAt: this.now() });
    this.version++;
  }

  /** Release-to-exit times: the mean over every exit of this run, the most recent ones for percentiles. */
  cycleTimes(): { mean: number | null; recent: readonly number[] } {
    return { mean: this.cycleTimeCount ? this.cycleTimeSum / this.cycleTimeCount : null, recent: this.recentCycleTimes };
  }

  private recordCycleTime(ms: number): void {
    this.cycleTimeSum += ms;
    this.cycleTimeCount++;
    this.recentCycleTimes.push(ms);
    if (this.recentCycleTimes.length > CYCLE_TIME_WINDOW) this.recentCycleTimes.splice(0, this.recentCycleTimes.length - CYCLE_TIME_WINDOW);
  }

  totals(): PartCounts {
    return { ...this.counts, inCell: this.parts.size };
  }

  private get(id: string): TrackedPart {
    const part = this.parts.get(id);
    if (!part) throw new Error(`unknown part ${id}`);
    return part;
  }
}
