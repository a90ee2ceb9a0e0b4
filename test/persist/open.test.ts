/**
 * Opening what is on disk, on the real file system: what may not be loaded (another machine
 * version or cell description, damage) is moved to set-aside/<date>/ with a REASON.txt and
 * reported, never loaded; a torn last write is dropped with a warning and the rest kept.
 */
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BELIEF_FILE, LOG_FILE, SET_ASIDE_DIR, openFileStore, type OpenResult } from '../../src/persist/index.js';
import { EXPECT, belief, intent, tempDir } from './helpers.js';

/** A directory holding a belief (generation 2) and intents 1..3, 1 confirmed, 2 sent, 3 not sent. */
async function populated(): Promise<string> {
  const dir = tempDir();
  const store = openFileStore(dir);
  await store.open(EXPECT);
  await store.writeIntent(intent(1));
  store.writeOutcome(1, 'sent');
  store.writeOutcome(1, 'confirmed');
  store.saveBelief(belief(1));
  await store.writeIntent(intent(2));
  store.writeOutcome(2, 'sent');
  store.saveBelief(belief(2));
  await store.writeIntent(intent(3));
  await store.close();
  return dir;
}

function setAsideOf(result: OpenResult): { reason: string; movedTo: string } {
  expect(result.kind).toBe('setAside');
  if (result.kind !== 'setAside') throw new Error('unreachable');
  return result;
}

describe('opening a store directory', () => {
  it('a fresh directory opens fresh, and a closed store reopens with its belief and open intents', async () => {
    const dir = tempDir();
    expect(await openFileStore(path.join(dir, 'cell')).open(EXPECT)).toMatchObject({ kind: 'fresh', openIntents: [], nextSeq: 1 });
    const reopened = await openFileStore(await populated()).open(EXPECT);
    expect(reopened).toMatchObject({ kind: 'loaded', belief: belief(2), nextSeq: 4, warnings: [] });
    if (reopened.kind !== 'loaded') return;
    expect(reopened.openIntents).toEqual([
      { ...intent(2), sent: true },
      { ...intent(3), sent: false },
    ]);
  });

  it.each([
    ['cell description', { ...EXPECT, cellHash: 'beef'.padEnd(64, '1') }, /cell description c0ffee000000, this cell's description is beef11111111/],
    ['machine version', { ...EXPECT, machineVersion: 'cell-machine-4' }, /machine version "cell-machine-3", this controller is "cell-machine-4"/],
  ])('a store written for another %s is set aside to a dated directory, never loaded', async (_what, expectation, reasonPattern) => {
    const dir = await populated();
    const before = { belief: readFileSync(path.join(dir, BELIEF_FILE)), log: readFileSync(path.join(dir, LOG_FILE)) };
    const store = openFileStore(dir, { wallClock: () => new Date('2026-11-22T10:11:12.345Z') });
    const { reason, movedTo } = setAsideOf(await store.open(expectation));
    expect(reason).toMatch(reasonPattern);
    expect(movedTo).toBe(path.join(dir, SET_ASIDE_DIR, '2026-11-22T10-11-12.345Z'));
    // Moved whole, byte for byte, with the reason beside them.
    expect(readFileSync(path.join(movedTo, BELIEF_FILE))).toEqual(before.belief);
    expect(readFileSync(path.join(movedTo, LOG_FILE))).toEqual(before.log);
    expect(readFileSync(path.join(movedTo, 'REASON.txt'), 'utf8')).toContain(reason);
    expect(existsSync(path.join(dir, BELIEF_FILE))).toBe(false);
    // The store starts fresh for the new description, and says so again on the next open.
    expect(store.nextSeq()).toBe(1);
    await store.writeIntent(intent(1));
    await store.close();
    const next = await openFileStore(dir).open(expectation);
    expect(next).toMatchObject({ kind: 'fresh', nextSeq: 2 });
    // Opening with the old expectation now sets the new store aside too (a second dated name).
    const back = setAsideOf(await openFileStore(dir, { wallClock: () => new Date('2026-11-22T10:11:12.345Z') }).open(EXPECT));
    expect(back.movedTo).toBe(path.join(dir, SET_ASIDE_DIR, '2026-11-22T10-11-12.345Z-2'));
    expect(readdirSync(path.join(dir, SET_ASIDE_DIR)).sort()).toEqual(['2026-11-22T10-11-12.345Z', '2026-11-22T10-11-12.345Z-2']);
  });

  it('a corrupted belief is set aside with a reason naming the file and the check that failed', async () => {
    const dir = await populated();
    const file = path.join(dir, BELIEF_FILE);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"generation":2', '"generation":7'));
    const { reason, movedTo } = setAsideOf(await openFileStore(dir).open(EXPECT));
    expect(reason).toMatch(/^belief\.json: sha256 mismatch/);
    expect(existsSync(path.join(movedTo, BELIEF_FILE))).toBe(true);
    expect(existsSync(path.join(movedTo, LOG_FILE))).toBe(true);
  });

  it.each([
    ['a belief cut short', (b: string) => b.slice(0, b.length - 20), /belief\.json: the body has \d+ bytes, the header says \d+/],
    ['a belief that is not one', () => '{"parts": []}\n', /belief\.json: the header line is not a belief header/],
    ['an empty belief', () => '', /belief\.json: no header line/],
  ])('%s is set aside', async (_what, damage, pattern) => {
    const dir = await populated();
    const file = path.join(dir, BELIEF_FILE);
    writeFileSync(file, damage(readFileSync(file, 'utf8')));
    expect(setAsideOf(await openFileStore(dir).open(EXPECT)).reason).toMatch(pattern);
  });

  it('damage in the middle of the log (valid records after it) is set aside, naming line and byte', async () => {
    const dir = await populated();
    const file = path.join(dir, LOG_FILE);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"sent"', '"snet"');
    writeFileSync(file, lines.join('\n'));
    const { reason } = setAsideOf(await openFileStore(dir).open(EXPECT));
    expect(reason).toMatch(/^intents\.log line 3 \(byte \d+\): checksum mismatch .* valid record\(s\) follow it — the file was damaged, not cut short/);
  });

  it('a log of another format, or without its header, is set aside', async () => {
    const dir = await populated();
    const file = path.join(dir, LOG_FILE);
    const lines = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, lines.slice(1).join('\n'));
    expect(setAsideOf(await openFileStore(dir).open(EXPECT)).reason).toMatch(/intents\.log: the first record is a intent record, expected the header/);
  });

  it('a belief without its log is set aside: the intents that went with it are lost', async () => {
    const dir = await populated();
    const { rmSync } = await import('node:fs');
    rmSync(path.join(dir, LOG_FILE));
    expect(setAsideOf(await openFileStore(dir).open(EXPECT)).reason).toMatch(/belief\.json is present but intents\.log is missing/);
  });

  it.each([
    ['half a line', (line: string) => line.slice(0, 30)],
    ['a whole line without its newline', (line: string) => line.trimEnd()],
    ['zeros (a block allocated, never written)', () => '\0'.repeat(512)],
    ['a line with a bad checksum', (line: string) => line.replace(/^[0-9a-f]{8}/, '00000000')],
  ])('a torn last write (%s) is dropped with a warning; everything before it is kept', async (_what, tear) => {
    const dir = await populated();
    const file = path.join(dir, LOG_FILE);
    const whole = readFileSync(file, 'utf8');
    const torn = `${whole.split('\n')[1]!.replace('"r":', '"r":9').replace('"seq":1,', '"seq":4,')}\n`;
    appendFileSync(file, tear(torn));
    const store = openFileStore(dir);
    const result = await store.open(EXPECT);
    expect(result.kind).toBe('loaded');
    if (result.kind !== 'loaded') return;
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/^intents\.log: dropped a torn last write \(\d+ bytes from byte \d+, line \d+: .+\)/);
    expect(result.openIntents.map((i) => i.seq)).toEqual([2, 3]);
    // The torn bytes are gone from disk: new records follow good ones, and the next open is clean.
    await store.writeIntent(intent(result.nextSeq));
    await store.close();
    const again = await openFileStore(dir).open(EXPECT);
    expect(again).toMatchObject({ kind: 'loaded', warnings: [] });
    if (again.kind === 'loaded') expect(again.openIntents.map((i) => i.seq)).toEqual([2, 3, 4]);
  });

  it('a replacement cut short before its rename is removed; the original stands', async () => {
    const dir = await populated();
    writeFileSync(path.join(dir, `${BELIEF_FILE}.tmp`), 'half a bel');
    const result = await openFileStore(dir).open(EXPECT);
    expect(result).toMatchObject({ kind: 'loaded', belief: belief(2) });
    expect(result.warnings.join()).toMatch(/removed belief\.json\.tmp, a replacement of belief\.json that was cut short/);
    expect(existsSync(path.join(dir, `${BELIEF_FILE}.tmp`))).toBe(false);
  });

  it('intents written before any belief are reported as open on a fresh start', async () => {
    const dir = tempDir();
    const store = openFileStore(dir);
    await store.open(EXPECT);
    await store.writeIntent(intent(1, 'arm'));
    store.writeOutcome(1, 'sent');
    await store.close();
    expect(await openFileStore(dir).open(EXPECT)).toEqual({ kind: 'fresh', openIntents: [{ ...intent(1, 'arm'), sent: true }], nextSeq: 2, warnings: [] });
  });
});
