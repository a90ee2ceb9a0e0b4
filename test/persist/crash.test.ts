/**
 * Crash at every point: the workload is run once to count its file-system calls, then again for
 * each k, stopping for good at call k (the process died there). What survives — everything
 * written (kill), only what was synced (power loss), or that plus a torn tail — is reopened and
 * checked: nothing acknowledged is lost, nothing is invented, the belief is one the caller saved
 * and not older than one known durable, and the store keeps working.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryFs, openFileStore } from '../../src/persist/index.js';
import { EXPECT, belief, rng } from './helpers.js';
import { checkReopen, runWorkload, type Step } from './crashModel.js';

/** Homing, a few production steps, a missed step and its resync, in store calls. */
const SCRIPT: Step[] = [
  { op: 'belief' },
  { op: 'intent', device: 'conveyor', wait: true },
  { op: 'outcome', pick: 0, outcome: 'sent' },
  { op: 'outcome', pick: 0, outcome: 'confirmed' },
  { op: 'belief' },
  { op: 'intent', device: 'feeder', wait: false },
  { op: 'intent', device: 'arm', wait: true },
  { op: 'outcome', pick: 1, outcome: 'sent' },
  { op: 'outcome', pick: 2, outcome: 'sent' },
  { op: 'outcome', pick: 1, outcome: 'confirmed' },
  { op: 'flush' },
  { op: 'intent', device: 'conveyor', wait: true },
  { op: 'outcome', pick: 3, outcome: 'sent' },
  { op: 'outcome', pick: 2, outcome: 'missed' },
  { op: 'belief' },
  { op: 'intent', device: 'arm', wait: true },
  { op: 'outcome', pick: 4, outcome: 'sent' },
  { op: 'outcome', pick: 3, outcome: 'abandoned' },
  { op: 'belief' },
  { op: 'intent', device: 'conveyor', wait: true },
  { op: 'outcome', pick: 5, outcome: 'sent' },
  { op: 'outcome', pick: 4, outcome: 'confirmed' },
  { op: 'belief' },
  { op: 'flush' },
  { op: 'intent', device: 'feeder', wait: true },
];

async function runUntil(limit: number, seed: number, steps: Step[]) {
  const fs = new MemoryFs((i) => 1 + Math.floor(rng(seed * 7919 + i)() * 3));
  fs.stopAfter(limit);
  const store = openFileStore('/cell', { fs, compactAfterRecords: 4 });
  const opened = await Promise.race([store.open(EXPECT), fs.stoppedAt.then(() => undefined)]);
  const model = opened
    ? await runWorkload(store, steps, fs.stoppedAt, opened.nextSeq)
    : { written: new Map(), acknowledged: new Set<number>(), outcomes: new Map(), durableSettled: new Set<number>(), beliefs: [], durableBelief: -1, firstSeq: 1 };
  return { fs, model };
}

describe('crash at every file-system call', () => {
  it('a scripted run survives a kill, a power loss and a torn write at each of its calls', async () => {
    const full = await runUntil(Infinity, 1, SCRIPT);
    const total = full.fs.callCount;
    expect(total).toBeGreaterThan(60);
    // The script compacts the log along the way (so crashes inside compaction are covered too).
    expect(full.fs.ops.filter((o) => o.op === 'rename' && o.to === '/cell/intents.log').length).toBeGreaterThan(1);
    const tearing = rng(99);
    for (let k = 0; k <= total; k++) {
      const { fs, model } = await runUntil(k, 1, SCRIPT);
      await checkReopen(fs.afterKill(), model, `killed after call ${k}/${total}`);
      await checkReopen(fs.afterPowerLoss(), model, `power lost after call ${k}/${total}`);
      await checkReopen(fs.afterPowerLoss({ tornTail: tearing }), model, `power lost mid-write after call ${k}/${total}`);
    }
  });

  it('a restarted store, crashed again at every call, still loses nothing', async () => {
    // First life: the whole script; second life: reopen and run it again, stopping at call k.
    const first = await runUntil(Infinity, 2, SCRIPT);
    const counting = first.fs.afterPowerLoss();
    const probe = openFileStore('/cell', { fs: counting, compactAfterRecords: 4 });
    const firstSeq = (await probe.open(EXPECT)).nextSeq;
    await runWorkload(probe, SCRIPT, new Promise(() => {}), firstSeq);
    await probe.close();
    const total = counting.callCount;
    for (let k = 0; k <= total; k += 3) {
      const fs = first.fs.afterPowerLoss();
      fs.stopAfter(k);
      const store = openFileStore('/cell', { fs, compactAfterRecords: 4 });
      const opened = await Promise.race([store.open(EXPECT), fs.stoppedAt.then(() => undefined)]);
      if (!opened) continue; // stopped while opening: the first life's state is checked by the test above
      const model = await runWorkload(store, SCRIPT, fs.stoppedAt, opened.nextSeq);
      // What the first life left open stays open unless the second life settled it.
      if (opened.kind !== 'setAside') {
        for (const { sent, ...asWritten } of opened.openIntents) {
          model.written.set(asWritten.seq, asWritten);
          model.acknowledged.add(asWritten.seq);
          if (sent) model.outcomes.set(asWritten.seq, ['sent', ...(model.outcomes.get(asWritten.seq) ?? [])]);
        }
      }
      if (opened.kind === 'loaded') model.beliefs.unshift(opened.belief), model.durableBelief = Math.max(0, model.durableBelief + 1);
      await checkReopen(fs.afterPowerLoss(), model, `second life, power lost after call ${k}/${total}`);
    }
  });

  it('random workloads crashed at random calls (property)', async () => {
    const stepArb: fc.Arbitrary<Step> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constant('intent' as const), device: fc.constantFrom('conveyor', 'arm', 'feeder'), wait: fc.boolean() }) },
      { weight: 5, arbitrary: fc.record({ op: fc.constant('outcome' as const), pick: fc.nat(50), outcome: fc.constantFrom('sent' as const, 'confirmed' as const, 'missed' as const, 'abandoned' as const) }) },
      { weight: 2, arbitrary: fc.constant({ op: 'belief' as const }) },
      { weight: 1, arbitrary: fc.constant({ op: 'flush' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), fc.nat(400), fc.nat(1000), fc.constantFrom('kill', 'power', 'torn'), async (steps, stopAt, seed, mode) => {
        const { fs, model } = await runUntil(stopAt, seed, steps);
        const survivor = mode === 'kill' ? fs.afterKill() : fs.afterPowerLoss(mode === 'torn' ? { tornTail: rng(seed) } : {});
        await checkReopen(survivor, model, `${mode} after call ${stopAt}`);
      }),
      { numRuns: Number(process.env.PERSIST_RUNS ?? 150), seed: Number(process.env.PERSIST_SEED ?? 20261122) },
    );
  });
});

describe('crash while setting aside', () => {
  it('a damaged store is reported at every restart until it has been moved away whole', async () => {
    const base = new MemoryFs();
    const writer = openFileStore('/cell', { fs: base });
    await writer.open(EXPECT);
    await writer.writeIntent({ seq: 1, device: 'arm', step: 'pick', command: { pose: 'pick' } });
    writer.saveBelief(belief(1));
    await writer.close();
    // Damage the belief on disk (a bad block), through the same layer.
    const damaged = base.afterPowerLoss();
    const raw = (await damaged.readFile('/cell/belief.json'))!;
    const file = await damaged.openTruncate('/cell/belief.json');
    await file.write(Buffer.from(raw.toString('utf8').replace('"generation":1', '"generation":9')));
    await file.datasync();
    const counting = damaged.afterPowerLoss();
    expect((await openFileStore('/cell', { fs: counting }).open(EXPECT)).kind).toBe('setAside');
    const total = counting.callCount;
    for (let k = 0; k <= total; k++) {
      const fs = damaged.afterPowerLoss();
      fs.stopAfter(k);
      await Promise.race([openFileStore('/cell', { fs }).open(EXPECT), fs.stoppedAt]);
      for (const [how, survivor] of [['killed', fs.afterKill()], ['power lost', fs.afterPowerLoss()]] as const) {
        const result = await openFileStore('/cell', { fs: survivor }).open(EXPECT);
        const label = `${how} after call ${k}/${total} of the first open`;
        expect(result.kind, label).not.toBe('loaded');
        if (result.kind === 'fresh') {
          // Only once the move is complete: both files are in a set-aside directory, nothing is open.
          expect(result.openIntents, label).toEqual([]);
          const setAside = survivor.files().filter((f) => f.startsWith('/cell/set-aside/'));
          expect(setAside.some((f) => f.endsWith('/belief.json')) && setAside.some((f) => f.endsWith('/intents.log')), label).toBe(true);
        }
      }
    }
  });
});
