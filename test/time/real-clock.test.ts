import { describe, expect, it } from 'vitest';
import { RealClock } from '../../src/time/clock.js';

// Times nothing: it only checks that real timers fire, in order, and that a cleared one does not.
describe('RealClock', () => {
  it('fires a timer and does not fire a cleared one', async () => {
    const clock = new RealClock();
    const fired: string[] = [];
    const cleared = clock.setTimeout(() => fired.push('cleared'), 0);
    clock.clearTimeout(cleared);
    clock.clearTimeout(cleared);
    clock.clearTimeout(12345);
    await new Promise<void>((resolve) =>
      // Node fires a 0 ms timer before a 5 ms one, so had the clear failed "cleared" would show here.
      clock.setTimeout(() => {
        fired.push('kept');
        resolve();
      }, 5),
    );
    expect(fired).toEqual(['kept']);
  });

  it('reads time since its own creation, never going back', () => {
    const clock = new RealClock();
    const first = clock.now();
    const second = clock.now();
    expect(first).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThanOrEqual(first);
  });
});
