import { describe, expect, it } from 'vitest';
import { assign, createActor, setup } from 'xstate';
import { VirtualClock } from '../../src/time/clock.js';

/** A station that waits for a part and gives up after 1000 ms. */
function makeMachine(clock: VirtualClock) {
  return setup({
    types: { context: {} as { timedOutAt?: number }, events: {} as { type: 'go' } | { type: 'partArrived' } },
  }).createMachine({
    id: 'waiter',
    initial: 'idle',
    context: {},
    states: {
      idle: { on: { go: 'waiting' } },
      waiting: {
        after: { 1000: { target: 'timedOut' } },
        on: { partArrived: 'done' },
      },
      timedOut: { entry: assign({ timedOutAt: () => clock.now() }) },
      done: {},
    },
  });
}

describe('VirtualClock as the XState actor clock', () => {
  it('takes an `after` transition exactly at the virtual deadline', () => {
    const clock = new VirtualClock();
    const actor = createActor(makeMachine(clock), { clock }).start();
    clock.advanceTo(250);
    actor.send({ type: 'go' });
    expect(clock.nextDue()).toBe(1250);

    clock.advanceTo(1249);
    expect(actor.getSnapshot().value).toBe('waiting');
    clock.advanceTo(1250);
    expect(actor.getSnapshot().value).toBe('timedOut');
    expect(actor.getSnapshot().context.timedOutAt).toBe(1250);
    actor.stop();
  });

  it('cancels the delayed transition on the virtual clock when the state is left early', () => {
    const clock = new VirtualClock();
    const actor = createActor(makeMachine(clock), { clock }).start();
    actor.send({ type: 'go' });
    expect(clock.pending).toBe(1);
    clock.advanceTo(999);
    actor.send({ type: 'partArrived' });
    expect(clock.pending).toBe(0);
    clock.advanceTo(5000);
    expect(actor.getSnapshot().value).toBe('done');
    actor.stop();
  });

  it('runs a machine to its deadline with run() without real waiting', async () => {
    const clock = new VirtualClock();
    const actor = createActor(makeMachine(clock), { clock }).start();
    actor.send({ type: 'go' });
    await expect(clock.run({ done: () => actor.getSnapshot().value === 'timedOut' })).resolves.toBe('done');
    expect(clock.now()).toBe(1000);
    actor.stop();
  });
});
