import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/time/clock.js';

/** Sets a timer that logs its label and the virtual time it fired at. */
function logger(clock: VirtualClock) {
  const log: Array<[string, number]> = [];
  const at = (label: string, delayMs: number, then?: () => void) =>
    clock.setTimeout(() => {
      log.push([label, clock.now()]);
      then?.();
    }, delayMs);
  return { log, at };
}

describe('VirtualClock timers', () => {
  it('fires timers in deadline order, jumping now() to each deadline', () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    at('c', 30);
    at('a', 10);
    at('b', 20);
    expect(clock.now()).toBe(0);
    expect(clock.nextDue()).toBe(10);
    while (clock.step());
    expect(log).toEqual([
      ['a', 10],
      ['b', 20],
      ['c', 30],
    ]);
    expect(clock.now()).toBe(30);
    expect(clock.pending).toBe(0);
    expect(clock.nextDue()).toBeUndefined();
    expect(clock.step()).toBe(false);
  });

  it('fires timers with equal deadlines in the order they were set', () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    for (const label of ['first', 'second', 'third', 'fourth']) at(label, 5);
    clock.advanceTo(5);
    expect(log.map(([label]) => label)).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('orders any set of timers by deadline, then by setting order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 50 }), { maxLength: 60 }), (delays) => {
        const clock = new VirtualClock();
        const fired: number[] = [];
        delays.forEach((delay, index) => clock.setTimeout(() => fired.push(index), delay));
        while (clock.step());
        const expected = delays
          .map((delay, index) => ({ due: Math.max(0, delay), index }))
          .sort((x, y) => x.due - y.due || x.index - y.index)
          .map(({ index }) => index);
        expect(fired).toEqual(expected);
      }),
    );
  });

  it('treats a negative delay as 0 and numbers timers uniquely', () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    clock.advanceTo(100);
    const ids = [at('late', -50), at('now', 0)];
    expect(new Set(ids).size).toBe(2);
    clock.advanceTo(100);
    expect(log).toEqual([
      ['late', 100],
      ['now', 100],
    ]);
  });

  it('refuses a NaN or infinite delay', () => {
    const clock = new VirtualClock();
    expect(() => clock.setTimeout(() => {}, Number.NaN)).toThrow('virtual timer delay must be a finite number of ms, got NaN');
    expect(() => clock.setTimeout(() => {}, Infinity)).toThrow(RangeError);
    expect(() => clock.setTimeout(() => {}, -Infinity)).toThrow(RangeError);
    expect(clock.pending).toBe(0);
  });

  it('fires a 0 ms timer set inside a firing timer after the ones already due at that instant', () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    at('a', 10, () => at('set by a', 0));
    at('b', 10);
    at('c', 11);
    clock.advanceTo(20);
    expect(log).toEqual([
      ['a', 10],
      ['b', 10],
      ['set by a', 10],
      ['c', 11],
    ]);
  });
});

describe('VirtualClock.clearTimeout', () => {
  it('cancels a timer before it fires', () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    const cancelled = at('cancelled', 10);
    at('kept', 20);
    clock.clearTimeout(cancelled);
    expect(clock.pending).toBe(1);
    expect(clock.nextDue()).toBe(20);
    clock.advanceTo(30);
    expect(log).toEqual([['kept', 20]]);
  });

  it('ignores clearing a timer that already fired, twice, or an id it never gave out', () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    const fired = at('fired', 5);
    at('later', 15);
    clock.advanceTo(10);
    clock.clearTimeout(fired);
    clock.clearTimeout(fired);
    clock.clearTimeout(9999);
    expect(clock.pending).toBe(1);
    clock.advanceTo(20);
    expect(log).toEqual([
      ['fired', 5],
      ['later', 15],
    ]);
  });

  it('cancels a timer due at the same instant from inside a firing timer', () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    let victim = 0;
    at('killer', 10, () => clock.clearTimeout(victim));
    victim = at('victim', 10);
    clock.advanceTo(10);
    expect(log).toEqual([['killer', 10]]);
    expect(clock.pending).toBe(0);
  });
});

describe('VirtualClock.advanceTo / advanceBy', () => {
  it('fires everything due up to the target, including timers set on the way, then sets the time', () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    at('a', 10, () => at('a+5', 5, () => at('a+5+100', 100)));
    at('b', 15);
    at('exactly at target', 25);
    at('after target', 26);
    clock.advanceTo(25);
    expect(log).toEqual([
      ['a', 10],
      ['b', 15],
      ['a+5', 15],
      ['exactly at target', 25],
    ]);
    expect(clock.now()).toBe(25);
    expect(clock.pending).toBe(2);
    clock.advanceBy(1);
    expect(log.at(-1)).toEqual(['after target', 26]);
  });

  it('refuses to go back, and leaves the clock where it was', () => {
    const clock = new VirtualClock();
    clock.advanceTo(100);
    expect(() => clock.advanceTo(99)).toThrow('virtual time cannot go back (now 100 ms, asked 99 ms)');
    expect(() => clock.advanceBy(-1)).toThrow(RangeError);
    expect(() => clock.advanceTo(Number.NaN)).toThrow('virtual time cannot be advanced to NaN');
    expect(clock.now()).toBe(100);
    clock.advanceTo(100);
    expect(clock.now()).toBe(100);
  });
});

describe('VirtualClock.run', () => {
  it('stops as soon as done() is true', async () => {
    const clock = new VirtualClock();
    let count = 0;
    const tick = () => {
      count++;
      clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    await expect(clock.run({ done: () => count === 3 })).resolves.toBe('done');
    expect(clock.now()).toBe(30);
    expect(clock.pending).toBe(1);
  });

  it('stops when no timer is left, without moving the clock further', async () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    at('only', 40);
    await expect(clock.run({ done: () => false, until: 1000 })).resolves.toBe('idle');
    expect(log).toEqual([['only', 40]]);
    expect(clock.now()).toBe(40);
  });

  it('stops at `until`: timers due then fire, later ones wait, and the clock reads `until`', async () => {
    const clock = new VirtualClock();
    const { log, at } = logger(clock);
    at('before', 50);
    at('at until', 100);
    at('after', 101);
    await expect(clock.run({ done: () => false, until: 100 })).resolves.toBe('until');
    expect(log).toEqual([
      ['before', 50],
      ['at until', 100],
    ]);
    expect(clock.now()).toBe(100);
    expect(clock.pending).toBe(1);
  });

  it('refuses an `until` in the past', async () => {
    const clock = new VirtualClock();
    clock.advanceTo(500);
    clock.setTimeout(() => {}, 100);
    await expect(clock.run({ done: () => false, until: 200 })).rejects.toThrow(
      'virtual time cannot go back (now 500 ms, run until 200 ms)',
    );
    expect(clock.now()).toBe(500);
  });

  it('lets the event loop in while it runs, so an endless run can still be stopped', async () => {
    const clock = new VirtualClock();
    let fired = 0;
    const tick = () => {
      fired++;
      clock.setTimeout(tick, 1);
    };
    clock.setTimeout(tick, 1);
    let stopRequested = false;
    setImmediate(() => {
      stopRequested = true;
    });
    await expect(clock.run({ done: () => stopRequested, yieldEvery: 10 })).resolves.toBe('done');
    expect(fired).toBe(10);
  });
});
