/**
 * A durable store in memory, for virtual-time tests: every call takes effect at once (as if the
 * disk were instantaneous), is recorded in `calls`, and lands on a `MemoryDisk` that a new
 * MemoryStore can open after a simulated crash. It keeps the file store's rules: seqs increase,
 * outcomes name recorded intents, a belief or log written for another machine version or cell
 * description is set aside, never loaded.
 */
import { FORMAT, strictJson, type BeliefFileContent, type LogHeader, type LogRecord } from './format.js';
import { LogState } from './logState.js';
import type { DurableStore, Intent, OpenResult, Outcome, PersistedBelief, StoreExpectation } from './types.js';

/** What a MemoryStore has made "durable"; survives the store, like a directory survives a process. */
export interface MemoryDisk {
  header?: LogHeader;
  belief?: BeliefFileContent;
  records: LogRecord[];
  setAside: { reason: string; movedTo: string; header?: LogHeader; belief?: BeliefFileContent; records: LogRecord[] }[];
}

export type StoreCall =
  | { op: 'open'; expect: StoreExpectation }
  | { op: 'writeIntent'; intent: Intent }
  | { op: 'writeOutcome'; seq: number; outcome: Outcome }
  | { op: 'saveBelief'; belief: PersistedBelief }
  | { op: 'flush' }
  | { op: 'close' };

export class MemoryStore implements DurableStore {
  readonly calls: StoreCall[] = [];
  private state = new LogState(0, 1);
  private expect: StoreExpectation | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(readonly disk: MemoryDisk = { records: [], setAside: [] }) {}

  /** Makes every later writeIntent and flush reject with `error` (a failed disk). */
  fail(error: Error): void {
    this.failure = error;
  }

  async open(expect: StoreExpectation): Promise<OpenResult> {
    if (this.expect) throw new Error('memory store: open() called twice');
    this.calls.push({ op: 'open', expect: { ...expect } });
    this.expect = { machineVersion: expect.machineVersion, cellHash: expect.cellHash };
    const disk = this.disk;
    const mismatch = [disk.header, disk.belief?.persisted]
      .filter((w): w is LogHeader | PersistedBelief => w !== undefined)
      .map((w) => describeMismatch(w, expect))
      .find((m) => m !== undefined);
    const reason = mismatch ?? (disk.belief && !disk.header ? 'belief present but intent log missing' : undefined);
    if (reason) {
      const movedTo = `memory:set-aside/${disk.setAside.length + 1}`;
      disk.setAside.push({ reason, movedTo, header: disk.header, belief: disk.belief, records: disk.records });
      delete disk.header;
      delete disk.belief;
      disk.records = [];
      this.writeHeader();
      return { kind: 'setAside', reason, movedTo, nextSeq: 1, warnings: [] };
    }
    if (!disk.header) {
      this.writeHeader();
      return { kind: 'fresh', openIntents: [], nextSeq: 1, warnings: [] };
    }
    this.state = LogState.replay(disk.header, disk.records, 'memory log');
    const openIntents = this.state.openIntents();
    if (!disk.belief) return { kind: 'fresh', openIntents, nextSeq: this.nextSeq(), warnings: [] };
    return {
      kind: 'loaded',
      belief: clone(disk.belief.persisted),
      openIntents,
      settledSinceBelief: this.state.settledAfter(disk.belief.afterRecord),
      nextSeq: this.nextSeq(),
      warnings: [],
    };
  }

  private writeHeader(): void {
    const expect = this.expect!;
    this.disk.header = { k: 'header', format: FORMAT, ...expect, createdAtWall: new Date(0).toISOString(), lastSeq: this.state.lastSeq, nextRecord: this.state.nextRecord };
  }

  private usable(what: string): void {
    if (!this.expect) throw new Error(`memory store: ${what} before open()`);
    if (this.closed) throw new Error(`memory store: ${what} after close()`);
  }

  nextSeq(): number {
    return this.state.lastSeq + 1;
  }

  writeIntent(intent: Intent): Promise<void> {
    try {
      this.usable(`writeIntent(${intent?.seq})`);
      if (this.failure) throw this.failure;
      this.state.checkIntent(intent);
      const record = clone(this.state.makeIntentRecord(intent), `intent ${intent.seq}`);
      this.calls.push({ op: 'writeIntent', intent: clone(intent) });
      this.state.apply(record, 'writeIntent');
      this.disk.records.push(record);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  writeOutcome(seq: number, outcome: Outcome): void {
    this.usable(`writeOutcome(${seq}, ${outcome})`);
    this.state.checkOutcome(seq, outcome);
    this.calls.push({ op: 'writeOutcome', seq, outcome });
    if (this.failure) return;
    const record = this.state.makeOutcomeRecord(seq, outcome);
    this.state.apply(record, 'writeOutcome');
    this.disk.records.push(record);
  }

  saveBelief(belief: PersistedBelief): void {
    this.usable('saveBelief');
    const expect = this.expect!;
    if (belief?.format !== 1) throw new Error(`saveBelief: format must be 1, got ${String(belief?.format)}`);
    const mismatch = describeMismatch(belief, expect);
    if (mismatch) throw new Error(`saveBelief: ${mismatch}`);
    const copy = clone(belief, 'the belief');
    this.calls.push({ op: 'saveBelief', belief: copy });
    if (this.failure) return;
    const afterRecord = this.state.nextRecord - 1;
    this.disk.belief = { afterRecord, persisted: copy };
    // Compaction, as the file store does it: what the belief reflects can go.
    this.disk.records = this.state.retained(afterRecord, Infinity);
    this.state.forgetSettled(afterRecord);
    this.disk.header = { ...this.disk.header!, lastSeq: this.state.lastSeq, nextRecord: this.state.nextRecord };
  }

  flush(): Promise<void> {
    this.calls.push({ op: 'flush' });
    return this.failure ? Promise.reject(this.failure) : Promise.resolve();
  }

  async close(): Promise<void> {
    this.calls.push({ op: 'close' });
    this.closed = true;
  }

  /** The belief a restarted controller would load now. */
  durableBelief(): PersistedBelief | undefined {
    return this.disk.belief ? clone(this.disk.belief.persisted) : undefined;
  }

  /** The intents a restarted controller would be told are open now. */
  openIntents(): ReturnType<LogState['openIntents']> {
    return this.state.openIntents();
  }
}

function describeMismatch(written: { machineVersion: string; cellHash: string }, expect: StoreExpectation): string | undefined {
  const differs: string[] = [];
  if (written.machineVersion !== expect.machineVersion) differs.push(`machine version "${written.machineVersion}", expected "${expect.machineVersion}"`);
  if (written.cellHash !== expect.cellHash) differs.push(`cell description ${written.cellHash.slice(0, 12)}, expected ${expect.cellHash.slice(0, 12)}`);
  return differs.length > 0 ? `written for ${differs.join('; and ')}` : undefined;
}

function clone<T>(value: T, what = 'value'): T {
  return JSON.parse(strictJson(value, what)) as T;
}
