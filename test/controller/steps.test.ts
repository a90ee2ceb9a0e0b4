import { describe, expect, it } from 'vitest';
import { StepRunner, type StepOutcome, type StepSpec } from '../../src/controller/steps.js';
import { VirtualClock } from '../../src/time/clock.js';

function setup() {
  const clock = new VirtualClock();
  const outcomes: Array<{ kind: string; name: string; at: number; reason?: string }> = [];
  const runner = new StepRunner(
    clock,
    (_device, expected) => expected * 1.5 + 100,
    (o: StepOutcome) => outcomes.push({ kind: o.kind, name: o.step.name, at: clock.now(), ...(o.kind === 'missed' ? { reason: o.reason } : {}) }),
  );
  return { clock, runner, outcomes };
}

function spec(over: Partial<StepSpec> & { name: string; confirmed: () => boolean }): StepSpec {
  return {
    device: 'dev',
    command: { type: 'release' },
    expectedMs: 1000,
    waitsAfterMotionDone: true,
    evidence: () => ({ believed: 1, measured: 0 }),
    fault: 'part_not_at_pick',
    ...over,
  };
}

describe('steps: postcondition, deadline, contradiction', () => {
  it('confirms when the postcondition becomes true before the deadline', () => {
    const { clock, runner, outcomes } = setup();
    let arrived = false;
    runner.begin(spec({ name: 'release', confirmed: () => arrived }));
    clock.advanceBy(900);
    runner.evaluate();
    expect(outcomes).toEqual([]);
    arrived = true;
    runner.evaluate();
    expect(outcomes).toEqual([{ kind: 'confirmed', name: 'release', at: 900 }]);
    expect(runner.busy('dev')).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('misses a late confirmation exactly at expected x factor + margin', () => {
    const { clock, runner, outcomes } = setup();
    runner.begin(spec({ name: 'release', confirmed: () => false }));
    clock.advanceBy(10_000);
    expect(outcomes).toEqual([{ kind: 'missed', name: 'release', at: 1600, reason: 'late' }]);
  });

  it('a move is judged when the device says done: a mismatch then is a contradiction', () => {
    const { clock, runner, outcomes } = setup();
    let atTarget = false;
    runner.begin(spec({ name: 'move', waitsAfterMotionDone: false, confirmed: () => atTarget }));
    clock.advanceBy(500);
    runner.motionDone('dev');
    expect(outcomes).toEqual([{ kind: 'missed', name: 'move', at: 500, reason: 'contradicted' }]);
  });

  it('a move passing through its target is not confirmed before the device says done', () => {
    const { runner, outcomes } = setup();
    runner.begin(spec({ name: 'move', waitsAfterMotionDone: false, confirmed: () => true }));
    runner.evaluate();
    expect(outcomes).toEqual([]);
    runner.motionDone('dev');
    expect(outcomes.map((o) => o.kind)).toEqual(['confirmed']);
  });

  it('refuses a second step on a busy device; abandonAll clears deadlines silently', () => {
    const { clock, runner, outcomes } = setup();
    runner.begin(spec({ name: 'a', confirmed: () => false }));
    expect(() => runner.begin(spec({ name: 'b', confirmed: () => false }))).toThrow(/dev already has step a/);
    expect(runner.abandonAll().map((s) => s.name)).toEqual(['a']);
    clock.advanceBy(10_000);
    expect(outcomes).toEqual([]);
  });

  it('runs belief updates on confirmation only', () => {
    const { clock, runner } = setup();
    const log: string[] = [];
    runner.begin(spec({ name: 'ok', confirmed: () => true, onConfirmed: () => log.push('ok') }));
    runner.evaluate();
    runner.begin(spec({ name: 'late', confirmed: () => false, onConfirmed: () => log.push('late') }));
    clock.advanceBy(5000);
    expect(log).toEqual(['ok']);
  });
});
