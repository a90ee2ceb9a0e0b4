import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Intent, PersistedBelief, StoreFile, StoreFs } from '../../src/persist/index.js';

export const EXPECT = { machineVersion: 'cell-machine-3', cellHash: 'c0ffee'.padEnd(64, '0') } as const;

export function belief(n: number, extra: Record<string, unknown> = {}): PersistedBelief {
  return { format: 1, ...EXPECT, savedAtWall: new Date(1_700_000_000_000 + n * 1000).toISOString(), belief: { generation: n, parts: [{ id: `p${n}`, at: 'pick' }], ...extra } };
}

export function intent(seq: number, device = 'conveyor'): Intent {
  return { seq, device, step: `${device}.step${seq}`, command: { kind: 'move', target: seq * 10 }, partId: `part-${seq}` };
}

export function tempDir(prefix = 'workcell-persist-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export interface RecordedEvent {
  what: 'write' | 'datasync' | 'syncDir' | 'rename' | 'openTruncate' | 'openAppend' | 'resolved';
  path?: string;
  to?: string;
  bytes?: Buffer;
  seq?: number;
}

/** Wraps a StoreFs, appending each completed write/fsync/rename to `events` (the test adds `resolved`). */
export function recordingFs(inner: StoreFs, events: RecordedEvent[]): StoreFs {
  const wrapFile = (file: StoreFile, name: string): StoreFile => ({
    async write(data) {
      await file.write(data);
      events.push({ what: 'write', path: name, bytes: Buffer.from(data) });
    },
    async datasync() {
      await file.datasync();
      events.push({ what: 'datasync', path: name });
    },
    close: () => file.close(),
  });
  return {
    mkdirp: (dir) => inner.mkdirp(dir),
    readFile: (file) => inner.readFile(file),
    async openAppend(file) {
      const f = await inner.openAppend(file);
      events.push({ what: 'openAppend', path: file });
      return wrapFile(f, file);
    },
    async openTruncate(file) {
      const f = await inner.openTruncate(file);
      events.push({ what: 'openTruncate', path: file });
      return wrapFile(f, file);
    },
    async rename(from, to) {
      await inner.rename(from, to);
      events.push({ what: 'rename', path: from, to });
    },
    unlinkIfExists: (file) => inner.unlinkIfExists(file),
    list: (dir) => inner.list(dir),
    async syncDir(dir) {
      await inner.syncDir(dir);
      events.push({ what: 'syncDir', path: dir });
    },
  };
}

/** A small deterministic generator (mulberry32) for hops and torn-tail lengths. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
