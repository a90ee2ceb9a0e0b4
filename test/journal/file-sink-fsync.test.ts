// Its own file because it replaces node:fs for the whole module graph.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FileSink } from '../../src/journal/journal.js';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return {
    ...actual,
    writeSync: vi.fn(actual.writeSync),
    fsyncSync: vi.fn(actual.fsyncSync),
    closeSync: vi.fn(actual.closeSync),
  };
});

const dir = mkdtempSync(join(tmpdir(), 'workcell-journal-fsync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FileSink.close', () => {
  it('writes the pending lines, then fsyncs, then closes the file', () => {
    const path = join(dir, 'run.jsonl');
    const sink = new FileSink(path);
    vi.mocked(fs.writeSync).mockClear();
    sink.write('{"seq":1}');
    sink.write('{"seq":2}');
    expect(fs.writeSync).not.toHaveBeenCalled(); // still batched
    sink.close();

    const written = vi.mocked(fs.writeSync).mock.invocationCallOrder;
    const synced = vi.mocked(fs.fsyncSync).mock.invocationCallOrder;
    const closed = vi.mocked(fs.closeSync).mock.invocationCallOrder;
    expect(written.length).toBeGreaterThan(0);
    expect(synced).toHaveLength(1);
    expect(closed).toHaveLength(1);
    expect(Math.max(...written)).toBeLessThan(synced[0]!);
    expect(synced[0]!).toBeLessThan(closed[0]!);
    expect(vi.mocked(fs.fsyncSync).mock.calls[0]![0]).toBe(vi.mocked(fs.closeSync).mock.calls[0]![0]);
    expect(readFileSync(path, 'utf8')).toBe('{"seq":1}\n{"seq":2}\n');
  });

  it('keeps writing until the whole batch is down when the OS writes less than asked', () => {
    const path = join(dir, 'short-writes.jsonl');
    const sink = new FileSink(path);
    const realWriteSync = vi.mocked(fs.writeSync).getMockImplementation()!;
    const writeBuffer = realWriteSync as unknown as (fd: number, buffer: Buffer, offset: number, length: number) => number;
    // Let the OS take at most 7 bytes per call, as a full pipe or a signal might.
    vi.mocked(fs.writeSync).mockImplementation(((fd: number, data: Buffer | string, offset?: number) => {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      const from = typeof data === 'string' ? 0 : (offset ?? 0);
      return writeBuffer(fd, bytes, from, Math.min(7, bytes.length - from));
    }) as typeof fs.writeSync);
    try {
      sink.write(JSON.stringify({ seq: 1, note: 'größer als sieben Bytes' }));
      sink.close();
    } finally {
      vi.mocked(fs.writeSync).mockImplementation(realWriteSync);
    }
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ seq: 1, note: 'größer als sieben Bytes' });
  });
});
