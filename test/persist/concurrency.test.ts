/**
 * Many intents in flight, outcomes and belief saves interleaved, calls completing in scrambled
 * turns: the log keeps call order, intents resolve in order, appends are group-committed, the
 * store never holds more than two thread-pool calls at once, and compaction keeps the log small
 * without dropping anything still needed.
 */
import { describe, expect, it } from 'vitest';
import { LOG_FILE, MemoryFs, openFileStore } from '../../src/persist/index.js';
import { EXPECT, belief, intent, rng } from './helpers.js';

function logRecords(fs: MemoryFs): { k: string; r?: number; seq?: number; outcome?: string }[] {
  return fs
    .contentOf(`/cell/${LOG_FILE}`)!
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l.slice(9)));
}

describe('concurrency', () => {
  it.each([0, 1, 2, 3])('interleaved calls keep their order on disk (interleaving seed %i)', async (seed) => {
    const random = rng(seed);
    // Zero hops included: a call may complete in the very turn it was made.
    const fs = new MemoryFs(() => Math.floor(random() * 4));
    const store = openFileStore('/cell', { fs });
    await store.open(EXPECT);
    const expected: string[] = [];
    const resolvedOrder: number[] = [];
    const pending: Promise<void>[] = [];
    for (let seq = 1; seq <= 200; seq++) {
      pending.push(store.writeIntent(intent(seq, ['arm', 'feeder', 'conveyor'][seq % 3])).then(() => void resolvedOrder.push(seq)));
      expected.push(`intent ${seq}`);
      if (seq > 3 && random() < 0.7) {
        const target = seq - 3;
        const outcome = random() < 0.5 ? 'sent' : 'confirmed';
        store.writeOutcome(target, outcome);
        expected.push(`${outcome} ${target}`);
      }
      if (random() < 0.2) store.saveBelief(belief(seq));
      if (random() < 0.1) await pending.at(-1);
      if (random() < 0.05) await store.flush();
    }
    store.saveBelief(belief(1000));
    await Promise.all(pending);
    await store.close();
    const onDisk = logRecords(fs).filter((r) => r.k !== 'header').map((r) => (r.k === 'intent' ? `intent ${r.seq}` : `${r.outcome} ${r.seq}`));
    expect(onDisk).toEqual(expected);
    expect(resolvedOrder).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const logSyncs = fs.ops.filter((o) => o.op === 'datasync' && o.path === `/cell/${LOG_FILE}`).length;
    expect(logSyncs, 'group commit: fewer fdatasyncs than records').toBeLessThan(expected.length / 2);
    expect(fs.maxInFlight, 'the store holds at most two thread-pool calls at once').toBeLessThanOrEqual(2);
    const reopened = await openFileStore('/cell', { fs: fs.afterPowerLoss() }).open(EXPECT);
    expect(reopened).toMatchObject({ kind: 'loaded', belief: belief(1000), nextSeq: 201 });
  });

  it('compaction keeps the log bounded and keeps open intents across many compactions', async () => {
    const fs = new MemoryFs();
    const store = openFileStore('/cell', { fs, compactAfterRecords: 50 });
    await store.open(EXPECT);
    await store.writeIntent(intent(1, 'arm')); // never settled: the cell stopped mid-move long ago
    store.writeOutcome(1, 'sent');
    let largest = 0;
    for (let seq = 2; seq <= 2000; seq++) {
      await store.writeIntent(intent(seq));
      store.writeOutcome(seq, 'sent');
      store.writeOutcome(seq, seq % 10 === 0 ? 'missed' : 'confirmed');
      if (seq % 7 === 0) store.saveBelief(belief(seq));
      largest = Math.max(largest, fs.contentOf(`/cell/${LOG_FILE}`)!.toString().split('\n').length);
    }
    store.saveBelief(belief(9999));
    await store.close();
    expect(largest, 'records in the log file at most').toBeLessThan(200);
    const compactions = fs.ops.filter((o) => o.op === 'rename' && o.to === `/cell/${LOG_FILE}`).length;
    expect(compactions).toBeGreaterThan(50);
    for (const survivor of [fs.afterPowerLoss(), fs.afterKill()]) {
      const reopened = await openFileStore('/cell', { fs: survivor }).open(EXPECT);
      expect(reopened).toMatchObject({ kind: 'loaded', belief: belief(9999), nextSeq: 2001, openIntents: [{ ...intent(1, 'arm'), sent: true }] });
    }
  });

  it('intents settled after the last durable belief are kept and reported as settledSinceBelief', async () => {
    const fs = new MemoryFs();
    const store = openFileStore('/cell', { fs, compactAfterRecords: 4 });
    await store.open(EXPECT);
    await store.writeIntent(intent(1));
    store.writeOutcome(1, 'confirmed');
    store.saveBelief(belief(1));
    await store.flush();
    for (let seq = 2; seq <= 12; seq++) {
      await store.writeIntent(intent(seq));
      store.writeOutcome(seq, seq === 5 ? 'missed' : 'confirmed');
    }
    await store.close();
    const reopened = await openFileStore('/cell', { fs: fs.afterPowerLoss() }).open(EXPECT);
    expect(reopened.kind).toBe('loaded');
    if (reopened.kind !== 'loaded') return;
    expect(reopened.belief).toEqual(belief(1));
    expect(reopened.openIntents).toEqual([]);
    expect(reopened.settledSinceBelief.map((s) => `${s.intent.seq} ${s.outcome}`)).toEqual(
      Array.from({ length: 11 }, (_, i) => `${i + 2} ${i + 2 === 5 ? 'missed' : 'confirmed'}`),
    );
  });
});
