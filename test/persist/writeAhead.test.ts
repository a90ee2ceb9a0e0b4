/**
 * Write-ahead order, checked directly: every intent's bytes were written to intents.log AND
 * fdatasync'ed (in a directory whose entry for the log was itself fsync'ed) before writeIntent
 * resolved — on the real file system through a recording layer, and on the crash-modelling
 * MemoryFs by cutting the power at the very moment each writeIntent resolves.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOG_FILE, MemoryFs, nodeStoreFs, openFileStore, type OpenResult } from '../../src/persist/index.js';
import { EXPECT, belief, intent, recordingFs, rng, tempDir, type RecordedEvent } from './helpers.js';

function intentSeqsIn(bytes: Buffer): number[] {
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 9)
    .map((l) => JSON.parse(l.slice(9)) as { k: string; seq?: number })
    .filter((r) => r.k === 'intent')
    .map((r) => r.seq!);
}

/** For each resolved intent: the index of the write holding it, the datasync after it, the dir sync after the log's last rename. */
function checkOrder(events: RecordedEvent[], logPath: string, dir: string): number {
  let checked = 0;
  events.forEach((event, resolvedAt) => {
    if (event.what !== 'resolved') return;
    const before = events.slice(0, resolvedAt);
    const writeAt = before.findIndex((e) => e.what === 'write' && e.path === logPath && intentSeqsIn(e.bytes!).includes(event.seq!));
    expect(writeAt, `intent ${event.seq}: its bytes were written to ${LOG_FILE} before writeIntent resolved`).toBeGreaterThanOrEqual(0);
    const syncAt = before.findIndex((e, i) => i > writeAt && e.what === 'datasync' && e.path === logPath);
    expect(syncAt, `intent ${event.seq}: ${LOG_FILE} was fdatasync'ed after the write and before writeIntent resolved`).toBeGreaterThan(writeAt);
    const renameAt = before.map((e, i) => (e.what === 'rename' && e.to === logPath ? i : -1)).filter((i) => i >= 0 && i < writeAt).at(-1);
    expect(renameAt, `${LOG_FILE} was put in place by a rename`).toBeDefined();
    const dirSyncAt = before.findIndex((e, i) => i > renameAt! && e.what === 'syncDir' && path.resolve(e.path!) === path.resolve(dir));
    expect(dirSyncAt, `intent ${event.seq}: the directory was fsync'ed after ${LOG_FILE} was renamed into place`).toBeGreaterThan(renameAt!);
    checked++;
  });
  return checked;
}

describe('write-ahead order', () => {
  it('on the real file system, every intent is written and fdatasync-ed before writeIntent resolves', async () => {
    const dir = tempDir();
    const events: RecordedEvent[] = [];
    const store = openFileStore(dir, { fs: recordingFs(nodeStoreFs, events), compactAfterRecords: 40 });
    await store.open(EXPECT);
    // Sequential (as the controller sends one command after another) and bursts in flight together.
    for (let seq = 1; seq <= 30; seq++) {
      await store.writeIntent(intent(seq));
      events.push({ what: 'resolved', seq });
      store.writeOutcome(seq, 'sent');
      store.writeOutcome(seq, 'confirmed');
      if (seq % 5 === 0) store.saveBelief(belief(seq));
    }
    const burst = Array.from({ length: 40 }, (_, i) => 31 + i).map((seq) =>
      store.writeIntent(intent(seq, seq % 2 ? 'arm' : 'feeder')).then(() => events.push({ what: 'resolved', seq })),
    );
    store.saveBelief(belief(99));
    await Promise.all(burst);
    await store.close();
    expect(checkOrder(events, path.join(dir, LOG_FILE), dir)).toBe(70);
  });

  it('cutting the power at the moment any writeIntent resolves never loses that intent', async () => {
    const fs = new MemoryFs((i) => 1 + Math.floor(rng(i)() * 3));
    const store = openFileStore('/cell', { fs, compactAfterRecords: 12 });
    await store.open(EXPECT);
    const cuts: { seq: number; settled: boolean; disk: MemoryFs; torn: MemoryFs }[] = [];
    const settledCalls = new Set<number>();
    const tearing = rng(7);
    const inFlight: Promise<void>[] = [];
    for (let seq = 1; seq <= 40; seq++) {
      const p = store.writeIntent(intent(seq)).then(() => {
        cuts.push({ seq, settled: settledCalls.has(seq), disk: fs.afterPowerLoss(), torn: fs.afterPowerLoss({ tornTail: tearing }) });
      });
      inFlight.push(p);
      if (seq % 3 === 0) await p; // some alone, some group-committed with others
      if (seq > 2) {
        store.writeOutcome(seq - 2, seq % 4 === 0 ? 'confirmed' : 'sent');
        if (seq % 4 === 0) settledCalls.add(seq - 2);
      }
      if (seq % 7 === 0) store.saveBelief(belief(seq));
    }
    await Promise.all(inFlight);
    await store.close();
    expect(cuts).toHaveLength(40);
    expect(cuts.filter((c) => !c.settled).length).toBeGreaterThan(30);
    for (const { seq, settled, disk, torn } of cuts) {
      for (const survivor of [disk, torn]) {
        const reopened = await openFileStore('/cell', { fs: survivor }).open(EXPECT);
        expect(reopened.kind, `power cut when intent ${seq} resolved`).not.toBe('setAside');
        expect(reopened.nextSeq).toBeGreaterThan(seq);
        if (settled) continue; // its confirmation may have reached the disk with it
        const open = (reopened as Exclude<OpenResult, { kind: 'setAside' }>).openIntents;
        // seq was acknowledged and not yet settled by any call made before the cut: it must be open.
        expect(open.map((i) => i.seq), `power cut when intent ${seq} resolved`).toContain(seq);
        expect(open.find((i) => i.seq === seq)).toMatchObject(intent(seq));
      }
    }
  });

  it('a store that was failing would be caught: the recorded order is what the check reads', () => {
    // The check itself must fail on a resolution that precedes the fsync.
    const events: RecordedEvent[] = [
      { what: 'rename', path: '/d/intents.log.tmp', to: '/d/intents.log' },
      { what: 'syncDir', path: '/d' },
      { what: 'write', path: '/d/intents.log', bytes: Buffer.from(`00000000 ${JSON.stringify({ k: 'intent', seq: 1 })}\n`) },
      { what: 'resolved', seq: 1 },
      { what: 'datasync', path: '/d/intents.log' },
    ];
    expect(() => checkOrder(events, '/d/intents.log', '/d')).toThrow(/fdatasync'ed after the write/);
  });
});
