/**
 * The journal: the audit trail of a run, one JSON object per line (docs/journal.md).
 *
 * Every record carries a sequence number, the wall time (ISO 8601, for people) and the cell
 * clock's time `t` in milliseconds (virtual time in simulated runs, so a run is reproducible).
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import type { Clock } from '../time/clock.js';

export interface JournalRecord {
  seq: number;
  wall: string;
  t: number;
  kind: JournalKind;
  [field: string]: unknown;
}

export const JOURNAL_KINDS = [
  'run.start',
  'run.end',
  'state',
  'mode',
  'command',
  'device.command',
  'device.feedback',
  'interlock.refused',
  'fault',
  'recovery',
  'part',
  'estop',
  'protective',
  'step',
  'commissioning',
] as const;
export type JournalKind = (typeof JOURNAL_KINDS)[number];

/** Fields every record carries, set by the journal; a record's own fields may not reuse them. */
export const JOURNAL_COMMON_FIELDS = ['seq', 'wall', 't', 'kind'] as const;
export type JournalFields = Record<string, unknown> & { [K in (typeof JOURNAL_COMMON_FIELDS)[number]]?: never };

export interface JournalSink {
  write(line: string): void;
  close(): void;
}

/** Keeps records in memory; tests and the run summary read them back. */
export class MemorySink implements JournalSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  close(): void {}
  records(): JournalRecord[] {
    return this.lines.map((l) => JSON.parse(l) as JournalRecord);
  }
}

/**
 * Appends to a file. Lines are batched and written synchronously at the end of the current
 * macrotask (or when the batch grows large), so the hot path never waits on the disk and the
 * order on disk is the order of `record` calls.
 */
export class FileSink implements JournalSink {
  private readonly fd: number;
  private batch: string[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  write(line: string): void {
    if (this.closed) throw new Error(`journal ${this.path} is closed`);
    this.batch.push(line);
    this.batchBytes += line.length + 1;
    if (this.batchBytes >= 256 * 1024) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        if (!this.closed) this.flush();
      });
    }
  }

  flush(): void {
    if (this.batch.length === 0) return;
    const bytes = Buffer.from(this.batch.join('\n') + '\n', 'utf8');
    // writeSync may write less than asked; a journal line cut in half is worse than a slow flush.
    for (let written = 0; written < bytes.length; ) written += writeSync(this.fd, bytes, written);
    this.batch = [];
    this.batchBytes = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
  }
}

export class Journal {
  private seq = 0;
  private readonly listeners = new Set<(record: JournalRecord) => void>();

  constructor(
    private readonly clock: Clock,
    private readonly sinks: JournalSink[],
    private readonly wallClock: () => Date = () => new Date(),
  ) {}

  record(kind: JournalKind, fields: JournalFields = {}): JournalRecord {
    // Spread after the common fields, a field named `kind` or `t` would overwrite them and the
    // record would no longer say what it is or when it happened.
    for (const common of JOURNAL_COMMON_FIELDS) {
      if (Object.hasOwn(fields, common)) {
        throw new Error(`journal ${kind} record: field "${common}" is reserved for the common fields (${JOURNAL_COMMON_FIELDS.join(', ')}); name it otherwise`);
      }
    }
    const rec: JournalRecord = {
      seq: ++this.seq,
      wall: this.wallClock().toISOString(),
      t: round3(this.clock.now()),
      kind,
      ...fields,
    };
    const line = JSON.stringify(rec);
    for (const sink of this.sinks) sink.write(line);
    for (const l of this.listeners) l(rec);
    return rec;
  }

  /** Observe records as they are written (live progress, the MCAP recorder, tests). */
  onRecord(listener: (record: JournalRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const sink of this.sinks) sink.close();
  }
}

/** Microsecond resolution is plenty and keeps virtual-time journals byte-stable. */
function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
