/**
 * One clock shared by the statecharts, the device actors and the simulator.
 *
 * The interface is a superset of XState's `Clock` (setTimeout/clearTimeout), so the same object
 * is passed to `createActor(machine, { clock })`. `now()` is milliseconds since the clock's own
 * epoch (the start of the run), never wall time: keep times relative.
 */
export type TimerId = number;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, timeoutMs: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** Real time, for `npm start` and real cells: Node timers and the monotonic clock. */
export class RealClock implements Clock {
  private readonly epoch = performance.now();
  private readonly timers = new Map<TimerId, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return performance.now() - this.epoch;
  }

  setTimeout(fn: () => void, timeoutMs: number): TimerId {
    const id = this.nextId++;
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        fn();
      }, Math.max(0, timeoutMs)),
    );
    return id;
  }

  clearTimeout(id: TimerId): void {
    const handle = this.timers.get(id);
    if (handle !== undefined) {
      clearTimeout(handle);
      this.timers.delete(id);
    }
  }
}

interface Timer {
  id: TimerId;
  due: number;
  /** Insertion order: timers due at the same instant fire in the order they were set. */
  seq: number;
  fn: () => void;
}

/**
 * Discrete-event virtual time: a queue of timers; `step()` jumps to the next deadline and fires it.
 *
 * XState's SimulatedClock fires every due timer at the end of an `increment` and cannot tell when
 * the next timer is due; this clock can, so a run advances exactly from event to event, as fast as
 * the code runs, and in the same order every time.
 */
export class VirtualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private seq = 0;
  private heap: Timer[] = [];
  /** Timers set and neither fired nor cleared; heap entries not in here are skipped. */
  private readonly live = new Set<TimerId>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, timeoutMs: number): TimerId {
    // A NaN deadline compares false with everything and would silently break the queue's order;
    // an infinite one would drag run() to t = Infinity.
    if (!Number.isFinite(timeoutMs)) {
      throw new RangeError(`virtual timer delay must be a finite number of ms, got ${timeoutMs}`);
    }
    const id = this.nextId++;
    this.live.add(id);
    this.push({ id, due: this.time + Math.max(0, timeoutMs), seq: this.seq++, fn });
    return id;
  }

  clearTimeout(id: TimerId): void {
    this.live.delete(id);
  }

  /** Number of timers still to fire. */
  get pending(): number {
    return this.live.size;
  }

  /** When the next timer is due, or undefined when nothing is scheduled. */
  nextDue(): number | undefined {
    this.dropCancelledHead();
    return this.heap[0]?.due;
  }

  /** Fire the next timer (advancing time to its deadline). Returns false when none is left. */
  step(): boolean {
    this.dropCancelledHead();
    const timer = this.pop();
    if (timer === undefined) return false;
    this.live.delete(timer.id);
    this.time = timer.due;
    timer.fn();
    return true;
  }

  /** Fire every timer due at or before `time`, then set the clock to `time`. */
  advanceTo(time: number): void {
    if (Number.isNaN(time)) throw new RangeError('virtual time cannot be advanced to NaN');
    if (time < this.time) throw new RangeError(`virtual time cannot go back (now ${this.time} ms, asked ${time} ms)`);
    for (;;) {
      const due = this.nextDue();
      if (due === undefined || due > time) break;
      this.step();
    }
    this.time = time;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  /**
   * Run until `done()` is true or no timer is left, yielding to the event loop every
   * `yieldEvery` timers so signals (Ctrl-C) and I/O still get through. Returns the reason it stopped.
   */
  async run(options: {
    done: () => boolean;
    until?: number;
    yieldEvery?: number;
    /**
     * Real work the run must wait for before virtual time moves on (e.g. a write-ahead intent
     * being made durable): while it returns a promise, the clock awaits it and does not advance.
     */
    settle?: () => Promise<unknown> | undefined;
  }): Promise<'done' | 'idle' | 'until'> {
    const yieldEvery = options.yieldEvery ?? 2000;
    if (options.until !== undefined && !(options.until >= this.time)) {
      throw new RangeError(`virtual time cannot go back (now ${this.time} ms, run until ${options.until} ms)`);
    }
    let fired = 0;
    for (;;) {
      for (let pending = options.settle?.(); pending; pending = options.settle?.()) await pending;
      if (options.done()) return 'done';
      const due = this.nextDue();
      if (due === undefined) return 'idle';
      if (options.until !== undefined && due > options.until) {
        this.time = options.until;
        return 'until';
      }
      this.step();
      if (++fired % yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private dropCancelledHead(): void {
    while (this.heap.length > 0 && !this.live.has(this.heap[0]!.id)) this.pop();
  }

  private before(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
