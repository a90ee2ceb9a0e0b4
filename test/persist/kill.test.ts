/**
 * The real store on the real file system, in a child process killed with SIGKILL at random
 * moments, five lives in a row on one directory: every intent the child was promised durable and
 * never settled is open after the restart, the belief is one the child saved, nothing is set aside.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileStore } from '../../src/persist/index.js';
import { EXPECT, belief, rng, tempDir } from './helpers.js';

const CHILD = path.join(import.meta.dirname, 'fixtures', 'killChild.ts');

/** Runs the child until it has acknowledged `ackCount` more intents, then SIGKILLs it. */
function runAndKill(dir: string, ackCount: number): Promise<{ acked: number[]; opened: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked: number[] = [];
    let opened = '';
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('opened')) opened = line;
        if (line.startsWith('acked ')) acked.push(Number(line.slice(6)));
      }
      if (!killed && acked.length >= ackCount) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve({ acked, opened }) : reject(new Error(`child exited without being killed: ${stderr}`))));
  });
}

describe('SIGKILL on the real file system', () => {
  it('five lives killed at random points lose no acknowledged open intent', async () => {
    const dir = tempDir();
    const random = rng(20261122);
    const everAcked = new Set<number>();
    for (let life = 1; life <= 5; life++) {
      const { acked, opened } = await runAndKill(dir, 10 + Math.floor(random() * 120));
      expect(opened, `life ${life} opened`).toMatch(/^opened (fresh|loaded) \d+/);
      acked.forEach((s) => everAcked.add(s));
      const parent = openFileStore(dir);
      const result = await parent.open(EXPECT);
      expect(result.kind, `after life ${life}`).toBe('loaded');
      if (result.kind !== 'loaded') return;
      const open = new Set(result.openIntents.map((i) => i.seq));
      // Acknowledged in this life and never to be confirmed (every third): must be open.
      for (const seq of acked.filter((s) => s % 3 === 0)) expect(open.has(seq), `life ${life}: intent ${seq} acknowledged, never settled`).toBe(true);
      for (const seq of open) expect(seq % 3 === 0 || seq >= Math.max(...acked), `life ${life}: open intent ${seq} is one left open or the last in flight`).toBe(true);
      const generation = (result.belief.belief as { generation: number }).generation;
      expect(result.belief).toEqual(belief(generation, { lastSeq: generation }));
      expect(generation).toBeLessThanOrEqual(Math.max(...acked));
      expect(result.nextSeq).toBeGreaterThan(Math.max(...everAcked));
      // The next life continues from what this open left (and abandons the open intents, as Resync would).
      await parent.close();
    }
  }, 60_000);
});
