/**
 * PartTracker: one outcome per part, and memory that does not grow with every part a cell makes.
 */
import { describe, expect, it } from 'vitest';
import { PartTracker } from '../../src/controller/parts.js';
import { Journal, MemorySink } from '../../src/journal/journal.js';
import { VirtualClock } from '../../src/time/clock.js';

function tracker(): { parts: PartTracker; clock: VirtualClock; sink: MemorySink } {
  const clock = new VirtualClock();
  const sink = new MemorySink();
  return { parts: new PartTracker(new Journal(clock, [sink], () => new Date(0)), () => clock.now()), clock, sink };
}

describe('PartTracker', () => {
  it('refuses a second outcome for a part, naming the first', () => {
    const { parts } = tracker();
    const p = parts.release();
    parts.finish(p.id, 'exited');
    expect(() => parts.finish(p.id, 'lost')).toThrow(`part ${p.id} already exited`);
    expect(() => parts.finish('P99', 'lost')).toThrow('unknown part P99');
    expect(parts.totals()).toEqual({ released: 1, exited: 1, rejected: 0, lost: 0, inCell: 0 });
  });

  it('keeps the mean cycle time over every exit but only the latest 10,000 for percentiles', () => {
    const { parts, clock } = tracker();
    const n = 10_050;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = parts.release();
      const cycle = 1_000 + (i % 7);
      clock.advanceBy(cycle);
      sum += cycle;
      parts.finish(p.id, 'exited');
    }
    const times = parts.cycleTimes();
    expect(times.mean).toBeCloseTo(sum / n, 9);
    expect(times.recent).toHaveLength(10_000);
    // The oldest 50 fell out of the window: the first kept is part 51's.
    expect(times.recent[0]).toBe(1_000 + (50 % 7));
    expect(parts.exited).toBe(n);
  });

  it('a restated exit counts but has no cycle time (its release time is not this run\'s)', () => {
    const { parts, clock, sink } = tracker();
    const p = parts.release();
    clock.advanceBy(500);
    parts.finish(p.id, 'exited', 'index confirmed in the log', true);
    expect(parts.cycleTimes()).toEqual({ mean: null, recent: [] });
    expect(parts.exited).toBe(1);
    expect(sink.records().at(-1)).toMatchObject({ kind: 'part', partId: p.id, event: 'exited', restated: true });
  });
});
