import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSink, Journal, type JournalRecord } from '../../src/journal/journal.js';
import { VirtualClock } from '../../src/time/clock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'workcell-journal-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const readLines = (path: string) => readFileSync(path, 'utf8').split('\n');
const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FileSink', () => {
  it('writes one valid JSON object per line, in order, and close() puts everything on disk', () => {
    const path = join(dir, 'run.jsonl');
    const clock = new VirtualClock();
    const journal = new Journal(clock, [new FileSink(path)], () => new Date(0));
    for (let i = 0; i < 500; i++) {
      clock.advanceBy(10);
      journal.record('step', { device: 'conveyor', step: `index ${i}`, phase: i % 2 === 0 ? 'start' : 'done', note: 'ünïcödé ✓ 工' });
    }
    journal.close();

    const lines = readLines(path);
    expect(lines.at(-1)).toBe(''); // the file ends with a newline
    const records = lines.slice(0, -1).map((line) => JSON.parse(line) as JournalRecord);
    expect(records).toHaveLength(500);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(records.map((r) => r.t)).toEqual(Array.from({ length: 500 }, (_, i) => 10 * (i + 1)));
    expect(records[499]).toMatchObject({ kind: 'step', step: 'index 499', note: 'ünïcödé ✓ 工' });
  });

  it('reaches the file by the end of the current macrotask without close()', async () => {
    const path = join(dir, 'run.jsonl');
    const sink = new FileSink(path);
    sink.write('{"seq":1}');
    sink.write('{"seq":2}');
    await nextMacrotask();
    expect(readLines(path)).toEqual(['{"seq":1}', '{"seq":2}', '']);
    sink.write('{"seq":3}');
    await nextMacrotask();
    expect(readLines(path)).toEqual(['{"seq":1}', '{"seq":2}', '{"seq":3}', '']);
    sink.close();
  });

  it('writes a large batch at once rather than holding it in memory', () => {
    const path = join(dir, 'run.jsonl');
    const sink = new FileSink(path);
    const line = JSON.stringify({ seq: 1, padding: 'x'.repeat(1000) });
    for (let i = 0; i < 300; i++) sink.write(line);
    // 300 KB written synchronously, before any macrotask could run.
    expect(readLines(path).filter((l) => l === line).length).toBeGreaterThanOrEqual(256);
    sink.close();
    expect(readLines(path).filter((l) => l === line)).toHaveLength(300);
  });

  it('appends to an existing journal', () => {
    const path = join(dir, 'run.jsonl');
    writeFileSync(path, '{"seq":1}\n');
    const sink = new FileSink(path);
    sink.write('{"seq":2}');
    sink.close();
    expect(readLines(path)).toEqual(['{"seq":1}', '{"seq":2}', '']);
  });

  it('refuses a write after close(), naming the file; closing twice is harmless', () => {
    const path = join(dir, 'run.jsonl');
    const sink = new FileSink(path);
    sink.write('{"seq":1}');
    sink.close();
    sink.close();
    expect(() => sink.write('{"seq":2}')).toThrow(`journal ${path} is closed`);
    const journal = new Journal(new VirtualClock(), [sink], () => new Date(0));
    expect(() => journal.record('run.end', { summary: {} })).toThrow('is closed');
    expect(readLines(path)).toEqual(['{"seq":1}', '']);
  });

  it('names the path when the file cannot be opened', () => {
    const path = join(dir, 'missing', 'run.jsonl');
    expect(() => new FileSink(path)).toThrow(path);
  });
});
