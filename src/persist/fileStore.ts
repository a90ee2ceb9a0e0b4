/**
 * The file store: an append-only, checksummed intent log plus an atomically replaced belief
 * snapshot, in one directory (docs/persistence.md).
 *
 * Nothing here blocks the main thread: every write and fsync is an asynchronous call on the
 * StoreFs (node:fs/promises, run on libuv's thread pool). The main thread only serialises and
 * queues. Two chains run the I/O — the log chain (appends, group-committed with one fdatasync per
 * batch, and compaction) and the belief chain (temp file, fdatasync, rename, directory fsync) —
 * each with at most one call outstanding, so the store never holds more than two of the pool's
 * threads (four by default) and serial-port writes, which also use the pool, always find one free.
 */
import path from 'node:path';
import {
  BELIEF_FILE,
  FORMAT,
  LOG_FILE,
  SET_ASIDE_DIR,
  TEMP_SUFFIX,
  UnreadableError,
  decodeBeliefFile,
  decodeLog,
  encodeBeliefFile,
  encodeLogLine,
  type BeliefFileContent,
  type LogHeader,
  type LogRecord,
} from './format.js';
import { LogState } from './logState.js';
import { nodeStoreFs, type StoreFile, type StoreFs } from './storeFs.js';
import type { DurableStore, Intent, OpenResult, Outcome, PersistedBelief, StoreExpectation } from './types.js';

export interface FileStoreOptions {
  /** The file-system layer; node:fs/promises unless a test injects its own. */
  fs?: StoreFs;
  /** Compact the log once it holds this many records (and at least twice what it must keep). */
  compactAfterRecords?: number;
  /** Wall clock for set-aside names and the log header. */
  wallClock?: () => Date;
  /** Called once if a write or fsync fails; the store then refuses further intents. */
  onFailure?: (error: Error) => void;
}

interface QueuedLine {
  line: Buffer;
  record: LogRecord;
  resolve?: () => void;
  reject?: (error: Error) => void;
}

interface PendingBelief {
  bytes: Buffer;
  afterRecord: number;
  generation: number;
}

interface Waiter {
  record: number;
  generation: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

type StoreState = 'new' | 'opening' | 'open' | 'closed';

export function openFileStore(dir: string, options: FileStoreOptions = {}): DurableStore {
  return new FileStore(dir, options);
}

class FileStore implements DurableStore {
  private readonly fs: StoreFs;
  private readonly wallClock: () => Date;
  private readonly compactAfterRecords: number;
  private state: StoreState = 'new';
  private expect: StoreExpectation = { machineVersion: '', cellHash: '' };
  private failure: Error | undefined;
  private log = new LogState(0, 1);
  private logFile: StoreFile | undefined;
  private recordsInFile = 0;
  private compactAt: number;
  private queue: QueuedLine[] = [];
  private logRunning = false;
  private logChain: Promise<void> = Promise.resolve();
  private durableRecord = 0;
  private durableLastSeq = 0;
  private pendingBelief: PendingBelief | undefined;
  private beliefRunning = false;
  private beliefChain: Promise<void> = Promise.resolve();
  private beliefGeneration = 0;
  private durableBeliefGeneration = 0;
  private durableBeliefAfter = 0;
  private waiters: Waiter[] = [];

  constructor(
    private readonly dir: string,
    private readonly options: FileStoreOptions,
  ) {
    this.fs = options.fs ?? nodeStoreFs;
    this.wallClock = options.wallClock ?? (() => new Date());
    this.compactAfterRecords = options.compactAfterRecords ?? 2000;
    this.compactAt = this.compactAfterRecords;
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  nextSeq(): number {
    return this.log.lastSeq + 1;
  }

  async open(expect: StoreExpectation): Promise<OpenResult> {
    if (this.state !== 'new') throw new Error(`durable store ${this.dir}: open() called twice`);
    this.state = 'opening';
    this.expect = { machineVersion: expect.machineVersion, cellHash: expect.cellHash };
    try {
      return await this.openFiles();
    } catch (error) {
      this.state = 'closed';
      throw new Error(`durable store ${this.dir}: open failed (${(error as Error).message}); the controller must not start without its durable state`, { cause: error });
    }
  }

  private async openFiles(): Promise<OpenResult> {
    const fs = this.fs;
    if (await fs.mkdirp(this.dir)) await fs.syncDir(path.dirname(path.resolve(this.dir)));
    const warnings: string[] = [];
    const present = new Set(await fs.list(this.dir));
    for (const name of [BELIEF_FILE, LOG_FILE]) {
      if (!present.has(name + TEMP_SUFFIX)) continue;
      // A replacement that never got renamed into place: the original still stands.
      await fs.unlinkIfExists(this.file(name + TEMP_SUFFIX));
      warnings.push(`removed ${name + TEMP_SUFFIX}, a replacement of ${name} that was cut short before it was renamed into place; ${name} itself is intact`);
    }
    const beliefBytes = await fs.readFile(this.file(BELIEF_FILE));
    const logBytes = await fs.readFile(this.file(LOG_FILE));
    let loaded: { belief: BeliefFileContent | undefined; header: LogHeader | undefined; state: LogState };
    try {
      loaded = this.readPersisted(beliefBytes, logBytes, warnings);
    } catch (error) {
      if (!(error instanceof UnreadableError)) throw error;
      // The log goes first: cut short after it, the next open finds a belief without its log and
      // sets that aside too, instead of starting fresh from a log whose belief vanished unreported.
      const movedTo = await this.setAside(error.message, [logBytes ? LOG_FILE : undefined, beliefBytes ? BELIEF_FILE : undefined]);
      this.log = new LogState(0, 1);
      await this.rewriteLog([]);
      this.startRunning();
      return { kind: 'setAside', reason: error.message, movedTo, nextSeq: this.nextSeq(), warnings };
    }

    this.log = loaded.state;
    const beliefAfter = loaded.belief?.afterRecord ?? 0;
    const openIntents = this.log.openIntents();
    const settledSinceBelief = this.log.settledAfter(beliefAfter);
    // Compacting now also drops a torn tail, so new records never follow damaged bytes.
    this.durableBeliefAfter = beliefAfter;
    this.log.forgetSettled(beliefAfter);
    await this.rewriteLog(this.log.retained(beliefAfter, Infinity));
    this.startRunning();
    if (!loaded.belief) return { kind: 'fresh', openIntents, nextSeq: this.nextSeq(), warnings };
    return { kind: 'loaded', belief: loaded.belief.persisted, openIntents, settledSinceBelief, nextSeq: this.nextSeq(), warnings };
  }

  /** Decodes and cross-checks what is on disk; anything that may not be loaded throws UnreadableError. */
  private readPersisted(beliefBytes: Buffer | null, logBytes: Buffer | null, warnings: string[]) {
    const belief = beliefBytes ? decodeBeliefFile(beliefBytes, BELIEF_FILE) : undefined;
    if (belief) this.checkWrittenFor(BELIEF_FILE, belief.persisted.machineVersion, belief.persisted.cellHash);
    if (!logBytes) {
      if (belief) throw new UnreadableError(`${BELIEF_FILE} is present but ${LOG_FILE} is missing: the intents written with this belief are lost`);
      return { belief, header: undefined, state: new LogState(0, 1) };
    }
    const decoded = decodeLog(logBytes, LOG_FILE);
    this.checkWrittenFor(LOG_FILE, decoded.header.machineVersion, decoded.header.cellHash);
    if (decoded.tornTail) {
      const t = decoded.tornTail;
      warnings.push(`${LOG_FILE}: dropped a torn last write (${t.bytes} bytes from byte ${t.offset}, line ${t.line}: ${t.problem}); the process or the power stopped mid-write, and nothing in it had been confirmed durable`);
    }
    let state: LogState;
    try {
      state = LogState.replay(decoded.header, decoded.records, LOG_FILE);
    } catch (error) {
      throw new UnreadableError((error as Error).message);
    }
    if (belief && belief.afterRecord >= state.nextRecord) {
      throw new UnreadableError(`${BELIEF_FILE} was saved after log record ${belief.afterRecord}, but ${LOG_FILE} ends before it (next record ${state.nextRecord}): the log is older than the belief`);
    }
    return { belief, header: decoded.header, state };
  }

  private checkWrittenFor(file: string, machineVersion: string, cellHash: string): void {
    const differs: string[] = [];
    if (machineVersion !== this.expect.machineVersion) differs.push(`machine version "${machineVersion}", this controller is "${this.expect.machineVersion}"`);
    if (cellHash !== this.expect.cellHash) differs.push(`cell description ${cellHash.slice(0, 12)}, this cell's description is ${this.expect.cellHash.slice(0, 12)}`);
    if (differs.length > 0) throw new UnreadableError(`${file} was written for ${differs.join('; and for ')}`);
  }

  /** Moves files into set-aside/<date>/ with a REASON.txt, durably; returns the directory. */
  private async setAside(reason: string, names: (string | undefined)[]): Promise<string> {
    const fs = this.fs;
    const root = this.file(SET_ASIDE_DIR);
    const stamp = this.wallClock().toISOString().replace(/:/g, '-');
    const existing = new Set(await fs.list(root));
    let name = stamp;
    for (let n = 2; existing.has(name); n++) name = `${stamp}-${n}`;
    const target = path.join(root, name);
    await fs.mkdirp(target);
    const note = await fs.openTruncate(path.join(target, 'REASON.txt'));
    await note.write(Buffer.from(`Set aside by workcell at ${this.wallClock().toISOString()}, never loaded.\n${reason}\n`, 'utf8'));
    await note.datasync();
    await note.close();
    for (const file of names) if (file) await fs.rename(this.file(file), path.join(target, file));
    await fs.syncDir(target);
    await fs.syncDir(root);
    await fs.syncDir(this.dir);
    return target;
  }

  /** Replaces intents.log with a header and `records` (temp, fsync, rename, fsync dir) and opens it for appending. */
  private async rewriteLog(records: LogRecord[]): Promise<void> {
    const fs = this.fs;
    const header: LogHeader = {
      k: 'header',
      format: FORMAT,
      machineVersion: this.expect.machineVersion,
      cellHash: this.expect.cellHash,
      createdAtWall: this.wallClock().toISOString(),
      lastSeq: this.durableLastSeq,
      nextRecord: this.durableRecord + 1,
    };
    if (this.state === 'opening') {
      header.lastSeq = this.log.lastSeq;
      header.nextRecord = this.log.nextRecord;
    }
    const bytes = Buffer.concat([encodeLogLine(header, `${LOG_FILE} header`), ...records.map((r) => encodeLogLine(r, `${LOG_FILE} record ${r.r}`))]);
    const temp = this.file(LOG_FILE + TEMP_SUFFIX);
    const file = await fs.openTruncate(temp);
    await file.write(bytes);
    await file.datasync();
    await file.close();
    if (this.logFile) {
      await this.logFile.close();
      this.logFile = undefined;
    }
    await fs.rename(temp, this.file(LOG_FILE));
    await fs.syncDir(this.dir);
    this.logFile = await fs.openAppend(this.file(LOG_FILE));
    this.recordsInFile = records.length;
    this.compactAt = Math.max(this.compactAfterRecords, 2 * records.length);
  }

  private startRunning(): void {
    this.durableRecord = this.log.nextRecord - 1;
    this.durableLastSeq = this.log.lastSeq;
    this.state = 'open';
  }

  private usable(what: string): void {
    if (this.state !== 'open') throw new Error(`durable store ${this.dir}: ${what} while the store is ${this.state === 'new' ? 'not opened yet' : this.state}`);
  }

  writeIntent(intent: Intent): Promise<void> {
    try {
      this.usable(`writeIntent(${intent?.seq})`);
      if (this.failure) throw this.failure;
      this.log.checkIntent(intent);
      const record = this.log.makeIntentRecord(intent);
      const line = encodeLogLine(record, `intent ${intent.seq} (${intent.device} ${intent.step})`);
      this.log.apply(record, 'writeIntent');
      return new Promise<void>((resolve, reject) => this.enqueue({ line, record, resolve, reject }));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  writeOutcome(seq: number, outcome: Outcome): void {
    this.usable(`writeOutcome(${seq}, ${outcome})`);
    this.log.checkOutcome(seq, outcome);
    // After a failure nothing reaches the disk; the failure was already reported.
    if (this.failure) return;
    const record = this.log.makeOutcomeRecord(seq, outcome);
    const line = encodeLogLine(record, `outcome ${outcome} of intent ${seq}`);
    this.log.apply(record, 'writeOutcome');
    this.enqueue({ line, record });
  }

  saveBelief(belief: PersistedBelief): void {
    this.usable('saveBelief');
    if (belief?.format !== 1) throw new Error(`saveBelief: format must be 1, got ${String(belief?.format)}`);
    if (belief.machineVersion !== this.expect.machineVersion || belief.cellHash !== this.expect.cellHash) {
      throw new Error(`saveBelief: the belief is for machine version "${belief.machineVersion}" and cell ${belief.cellHash.slice(0, 12)}, the store was opened for "${this.expect.machineVersion}" and ${this.expect.cellHash.slice(0, 12)}`);
    }
    if (this.failure) return;
    const afterRecord = this.log.nextRecord - 1;
    const bytes = encodeBeliefFile({ afterRecord, persisted: belief });
    // Coalesced: a newer belief replaces one not yet being written.
    this.pendingBelief = { bytes, afterRecord, generation: ++this.beliefGeneration };
    if (!this.beliefRunning) this.beliefChain = this.runBeliefChain();
  }

  flush(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.state === 'new' || this.state === 'opening') return Promise.resolve();
    return this.durableUpTo(this.log.nextRecord - 1, this.beliefGeneration);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state !== 'open') {
      this.state = 'closed';
      return;
    }
    try {
      await this.flush();
    } finally {
      // A compaction may still be running after the last record became durable.
      while (this.logRunning || this.beliefRunning) await Promise.all([this.logChain, this.beliefChain]);
      this.state = 'closed';
      const file = this.logFile;
      this.logFile = undefined;
      // After a failure the chains may still hold the file; closing can fail too, and says nothing new.
      if (file) await file.close().catch((error: unknown) => {
        if (!this.failure) throw error;
      });
    }
  }

  private enqueue(entry: QueuedLine): void {
    this.queue.push(entry);
    if (!this.logRunning) this.logChain = this.runLogChain();
  }

  private durableUpTo(record: number, generation: number): Promise<void> {
    if (this.durableRecord >= record && this.durableBeliefGeneration >= generation) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ record, generation, resolve, reject }));
  }

  private wake(): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.durableRecord >= w.record && this.durableBeliefGeneration >= w.generation) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Appends queued lines in batches: one write and one fdatasync per batch (group commit). */
  private async runLogChain(): Promise<void> {
    // Cleared in the same turn the loop sees an empty queue, so a record queued next starts a new chain.
    this.logRunning = true;
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.logFile!.write(batch.length === 1 ? batch[0]!.line : Buffer.concat(batch.map((q) => q.line)));
          await this.logFile!.datasync();
        } catch (error) {
          this.fail(error, `appending to ${LOG_FILE}`, batch);
          return;
        }
        for (const q of batch) if (q.record.k === 'intent') this.durableLastSeq = q.record.seq;
        this.durableRecord = batch.at(-1)!.record.r;
        this.recordsInFile += batch.length;
        for (const q of batch) q.resolve?.();
        this.wake();
        if (this.recordsInFile >= this.compactAt) {
          const beliefAfter = this.durableBeliefAfter;
          const keep = this.log.retained(beliefAfter, this.durableRecord);
          // Worth it only if at least half the file can go; else wait until it can.
          if (keep.length * 2 > this.recordsInFile) this.compactAt = this.recordsInFile + this.compactAfterRecords;
          else {
            try {
              await this.rewriteLog(keep);
              this.log.forgetSettled(beliefAfter);
            } catch (error) {
              this.fail(error, `compacting ${LOG_FILE}`, []);
              return;
            }
          }
        }
      }
    } finally {
      this.logRunning = false;
    }
  }

  /** Writes the latest pending belief: after the log records it follows are durable; temp, fsync, rename, fsync dir. */
  private async runBeliefChain(): Promise<void> {
    this.beliefRunning = true;
    try {
      while (this.pendingBelief && !this.failure) {
        const pending = this.pendingBelief;
        this.pendingBelief = undefined;
        try {
          await this.durableUpTo(pending.afterRecord, 0);
        } catch {
          return; // the log chain failed and reported it
        }
        try {
          const temp = this.file(BELIEF_FILE + TEMP_SUFFIX);
          const file = await this.fs.openTruncate(temp);
          await file.write(pending.bytes);
          await file.datasync();
          await file.close();
          await this.fs.rename(temp, this.file(BELIEF_FILE));
          await this.fs.syncDir(this.dir);
        } catch (error) {
          this.fail(error, `replacing ${BELIEF_FILE}`, []);
          return;
        }
        this.durableBeliefAfter = pending.afterRecord;
        this.durableBeliefGeneration = pending.generation;
        this.wake();
      }
    } finally {
      this.beliefRunning = false;
    }
  }

  private fail(cause: unknown, doing: string, batch: QueuedLine[]): void {
    if (this.failure) return;
    const message = cause instanceof Error ? cause.message : String(cause);
    this.failure = new Error(`durable store ${this.dir}: ${doing} failed (${message}); nothing more is persisted, so no further motion command may be sent`, { cause });
    for (const q of [...batch, ...this.queue]) q.reject?.(this.failure);
    this.queue = [];
    for (const w of this.waiters) w.reject(this.failure);
    this.waiters = [];
    this.options.onFailure?.(this.failure);
  }
}
