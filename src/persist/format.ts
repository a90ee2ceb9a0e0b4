/**
 * The on-disk format (docs/persistence.md).
 *
 * intents.log — append-only JSON Lines, one record per line, each line `<crc32 hex> <json>\n`.
 *   The first record is a header (format, machine version, cell hash); then intents and outcomes,
 *   each with a record number `r` that keeps increasing across compactions. The newline is the
 *   commit mark: a last line without it, or with a bad checksum and nothing valid after it, is a
 *   torn write (the process or the power stopped mid-write) and is dropped.
 * belief.json — replaced atomically (temp file, fsync, rename, fsync of the directory). Line 1 is
 *   a header with the body's byte length and sha256; the body is the persisted belief plus
 *   `afterRecord`, the last log record written before the belief was handed to the store.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { OUTCOMES, type Intent, type Outcome, type PersistedBelief } from './types.js';

export const FORMAT = 1;
export const LOG_FILE = 'intents.log';
export const BELIEF_FILE = 'belief.json';
export const SET_ASIDE_DIR = 'set-aside';
export const TEMP_SUFFIX = '.tmp';

export interface LogHeader {
  k: 'header';
  format: 1;
  machineVersion: string;
  cellHash: string;
  createdAtWall: string;
  /** Highest intent seq ever recorded in this directory (survives compaction). */
  lastSeq: number;
  /** Record number the next record will carry (survives compaction). */
  nextRecord: number;
}
export interface IntentRecord extends Intent {
  k: 'intent';
  r: number;
}
export interface OutcomeRecord {
  k: 'outcome';
  r: number;
  seq: number;
  outcome: Outcome;
}
export type LogRecord = IntentRecord | OutcomeRecord;

const nonNegativeInt = z.number().int().nonnegative();
const headerSchema = z.object({
  k: z.literal('header'),
  format: z.number(),
  machineVersion: z.string(),
  cellHash: z.string(),
  createdAtWall: z.string(),
  lastSeq: nonNegativeInt,
  nextRecord: z.number().int().positive(),
});
const intentSchema = z.object({
  k: z.literal('intent'),
  r: z.number().int().positive(),
  seq: z.number().int().positive(),
  device: z.string().min(1),
  step: z.string().min(1),
  command: z.unknown(),
  partId: z.string().optional(),
});
const outcomeSchema = z.object({
  k: z.literal('outcome'),
  r: z.number().int().positive(),
  seq: z.number().int().positive(),
  outcome: z.enum(OUTCOMES),
});
const recordSchema = z.discriminatedUnion('k', [headerSchema, intentSchema, outcomeSchema]);

/**
 * JSON for the disk. Refuses what JSON would silently change (NaN and Infinity become null,
 * BigInt throws a bare TypeError), naming where in the value it is.
 */
export function strictJson(value: unknown, what: string): string {
  let refused = false;
  const text = JSON.stringify(value, (_key, member: unknown) => {
    if (typeof member === 'bigint' || (typeof member === 'number' && !Number.isFinite(member))) {
      refused = true;
      return null;
    }
    return member;
  });
  if (refused) throw new Error(`${what} cannot be persisted as JSON: ${refusedMembers(value, '').join('; ')}`);
  if (text === undefined) throw new Error(`${what} cannot be persisted as JSON: it is ${typeof value}`);
  return text;
}

/** Where in `value` the members JSON cannot hold are (walked only once one was found). */
function refusedMembers(value: unknown, at: string): string[] {
  if (typeof value === 'bigint') return [`${at || '(the value)'} is a BigInt`];
  if (typeof value === 'number' && !Number.isFinite(value)) return [`${at || '(the value)'} is ${value}`];
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => refusedMembers(item, `${at}[${i}]`));
  return Object.entries(value).flatMap(([key, member]) => refusedMembers(member, at ? `${at}.${key}` : key));
}

function crcHex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}

/** One log line, checksum first. */
export function encodeLogLine(record: LogHeader | LogRecord, what: string): Buffer {
  const json = Buffer.from(strictJson(record, what), 'utf8');
  return Buffer.concat([Buffer.from(`${crcHex(json)} `, 'ascii'), json, Buffer.from('\n', 'ascii')]);
}

export class UnreadableError extends Error {}

export interface DecodedLog {
  header: LogHeader;
  records: LogRecord[];
  /** Set when the end of the file held a torn write; the bytes from `offset` on were dropped. */
  tornTail?: { offset: number; bytes: number; line: number; problem: string };
}

type LineCheck = { ok: true; record: z.infer<typeof recordSchema> } | { ok: false; problem: string };

function checkLine(line: Buffer): LineCheck {
  if (line.length < 10 || line[8] !== 0x20) return { ok: false, problem: 'not a `<crc32> <json>` line' };
  const crc = line.subarray(0, 8).toString('ascii');
  const json = line.subarray(9);
  if (!/^[0-9a-f]{8}$/.test(crc)) return { ok: false, problem: 'not a `<crc32> <json>` line' };
  if (crcHex(json) !== crc) return { ok: false, problem: `checksum mismatch (line says ${crc}, content gives ${crcHex(json)})` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json.toString('utf8'));
  } catch (error) {
    return { ok: false, problem: `checksum matches but the JSON does not parse (${(error as Error).message})` };
  }
  const checked = recordSchema.safeParse(parsed);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return { ok: false, problem: `not a valid record: ${issue ? `${issue.path.join('.') || '(record)'}: ${issue.message}` : 'unknown shape'}` };
  }
  return { ok: true, record: checked.data };
}

/**
 * Reads intents.log. A torn tail is reported and dropped; damage before valid records, a missing
 * header or records out of order throw UnreadableError with the line and byte offset.
 */
export function decodeLog(bytes: Buffer, file: string): DecodedLog {
  const lines: { start: number; end: number; terminated: boolean }[] = [];
  for (let start = 0; start < bytes.length; ) {
    const newline = bytes.indexOf(0x0a, start);
    if (newline === -1) {
      lines.push({ start, end: bytes.length, terminated: false });
      break;
    }
    lines.push({ start, end: newline, terminated: true });
    start = newline + 1;
  }
  const checks = lines.map((l) => (l.terminated ? checkLine(bytes.subarray(l.start, l.end)) : ({ ok: false, problem: 'last line has no newline (write cut short)' } as LineCheck)));
  // The first bad line starts a torn tail only if nothing valid follows it.
  const firstBad = checks.findIndex((c) => !c.ok);
  let validCount = checks.length;
  let tornTail: DecodedLog['tornTail'];
  if (firstBad !== -1) {
    const laterValid = checks.slice(firstBad + 1).filter((c) => c.ok).length;
    const bad = checks[firstBad] as { ok: false; problem: string };
    const badLine = lines[firstBad]!;
    if (laterValid > 0) {
      throw new UnreadableError(`${file} line ${firstBad + 1} (byte ${badLine.start}): ${bad.problem}, and ${laterValid} valid record(s) follow it — the file was damaged, not cut short by a crash`);
    }
    validCount = firstBad;
    tornTail = { offset: badLine.start, bytes: bytes.length - badLine.start, line: firstBad + 1, problem: bad.problem };
  }
  const valid = checks.slice(0, validCount).map((c) => (c as { ok: true; record: z.infer<typeof recordSchema> }).record);
  const first = valid[0];
  if (first === undefined || first.k !== 'header') {
    throw new UnreadableError(`${file}: the first record is ${first === undefined ? 'missing (the file holds no complete record)' : `a ${first.k} record`}, expected the header`);
  }
  if (first.format !== FORMAT) throw new UnreadableError(`${file}: format ${first.format}, this version reads format ${FORMAT}`);
  const header = first as LogHeader;
  const records: LogRecord[] = [];
  let lastR = 0;
  for (let i = 1; i < valid.length; i++) {
    const record = valid[i]!;
    if (record.k === 'header') throw new UnreadableError(`${file} line ${i + 1}: a second header`);
    if (record.r <= lastR) throw new UnreadableError(`${file} line ${i + 1}: record number ${record.r} after ${lastR} (records out of order)`);
    lastR = record.r;
    records.push(record as LogRecord);
  }
  return tornTail ? { header, records, tornTail } : { header, records };
}

export interface BeliefFileContent {
  /** The last log record written before this belief was handed to the store. */
  afterRecord: number;
  persisted: PersistedBelief;
}

const beliefHeaderSchema = z.object({ workcell: z.literal('belief'), format: z.number(), bytes: nonNegativeInt, sha256: z.string() });
const persistedSchema = z.object({
  format: z.literal(1),
  machineVersion: z.string(),
  cellHash: z.string(),
  savedAtWall: z.string(),
  belief: z.unknown(),
});
const beliefBodySchema = z.object({ afterRecord: nonNegativeInt, persisted: persistedSchema });

export function encodeBeliefFile(content: BeliefFileContent): Buffer {
  const body = Buffer.from(strictJson(content, 'the belief') + '\n', 'utf8');
  const sha256 = createHash('sha256').update(body).digest('hex');
  const header = JSON.stringify({ workcell: 'belief', format: FORMAT, bytes: body.length, sha256 });
  return Buffer.concat([Buffer.from(header + '\n', 'utf8'), body]);
}

export function decodeBeliefFile(bytes: Buffer, file: string): BeliefFileContent {
  const newline = bytes.indexOf(0x0a);
  if (newline === -1) throw new UnreadableError(`${file}: no header line`);
  let header: z.infer<typeof beliefHeaderSchema>;
  try {
    const parsed = beliefHeaderSchema.safeParse(JSON.parse(bytes.subarray(0, newline).toString('utf8')));
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    header = parsed.data;
  } catch (error) {
    throw new UnreadableError(`${file}: the header line is not a belief header (${(error as Error).message})`);
  }
  if (header.format !== FORMAT) throw new UnreadableError(`${file}: format ${header.format}, this version reads format ${FORMAT}`);
  const body = bytes.subarray(newline + 1);
  if (body.length !== header.bytes) throw new UnreadableError(`${file}: the body has ${body.length} bytes, the header says ${header.bytes}`);
  const sha256 = createHash('sha256').update(body).digest('hex');
  if (sha256 !== header.sha256) throw new UnreadableError(`${file}: sha256 mismatch (header ${header.sha256.slice(0, 12)}…, body ${sha256.slice(0, 12)}…)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new UnreadableError(`${file}: the body does not parse (${(error as Error).message})`);
  }
  const checked = beliefBodySchema.safeParse(parsed);
  if (!checked.success) {
    throw new UnreadableError(`${file}: ${checked.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
  }
  return checked.data as BeliefFileContent;
}
