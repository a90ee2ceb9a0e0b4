/**
 * What the intent log says, as a pure model: shared by the file store (replaying the log at open,
 * mirroring it live for compaction) and the memory store.
 */
import { SETTLING_OUTCOMES, type Intent, type OpenIntent, type Outcome, type SettledIntent } from './types.js';
import type { IntentRecord, LogHeader, LogRecord, OutcomeRecord } from './format.js';

interface TrackedIntent {
  record: IntentRecord;
  outcomes: OutcomeRecord[];
  /** The first settling outcome; later ones are kept in `outcomes` but do not change it. */
  settled?: OutcomeRecord;
}

export class LogState {
  private readonly intents = new Map<number, TrackedIntent>();
  constructor(
    /** Highest seq ever recorded, compacted-away intents included. */
    public lastSeq: number,
    public nextRecord: number,
  ) {}

  /** Checks an intent before it is recorded; throws a message naming the intent. */
  checkIntent(intent: Intent): void {
    if (!Number.isSafeInteger(intent.seq) || intent.seq <= 0) throw new Error(`intent seq ${String(intent.seq)} is not a positive integer`);
    if (intent.seq <= this.lastSeq) {
      throw new Error(`intent seq ${intent.seq} (${intent.device} ${intent.step}) is not above the last recorded seq ${this.lastSeq}; seqs increase across restarts, take the next from nextSeq()`);
    }
    if (typeof intent.device !== 'string' || intent.device === '') throw new Error(`intent ${intent.seq}: device must be a non-empty string`);
    if (typeof intent.step !== 'string' || intent.step === '') throw new Error(`intent ${intent.seq}: step must be a non-empty string`);
    if (intent.partId !== undefined && typeof intent.partId !== 'string') throw new Error(`intent ${intent.seq}: partId must be a string`);
  }

  /** Checks an outcome before it is recorded. */
  checkOutcome(seq: number, outcome: Outcome): void {
    if (!['sent', 'confirmed', 'missed', 'abandoned'].includes(outcome)) throw new Error(`outcome for intent ${seq}: "${String(outcome)}" is not one of sent, confirmed, missed, abandoned`);
    if (!Number.isSafeInteger(seq) || seq <= 0 || seq > this.lastSeq) throw new Error(`outcome ${outcome} for intent ${seq}: no such intent was recorded (last seq ${this.lastSeq})`);
  }

  makeIntentRecord(intent: Intent): IntentRecord {
    const record: IntentRecord = { k: 'intent', r: this.nextRecord, seq: intent.seq, device: intent.device, step: intent.step, command: intent.command };
    if (intent.partId !== undefined) record.partId = intent.partId;
    return record;
  }

  makeOutcomeRecord(seq: number, outcome: Outcome): OutcomeRecord {
    return { k: 'outcome', r: this.nextRecord, seq, outcome };
  }

  /**
   * Rebuilds the state from a log file's records. Compaction keeps only some records, so `r` and
   * intent seqs have gaps; the header says the highest seq and record number the file ever held.
   */
  static replay(header: LogHeader, records: LogRecord[], file: string): LogState {
    const state = new LogState(0, 1);
    let lastIntentSeq = 0;
    for (const record of records) {
      const where = `${file} record ${record.r}`;
      if (record.k === 'intent') {
        if (record.seq <= lastIntentSeq) throw new Error(`${where}: intent seq ${record.seq} after intent seq ${lastIntentSeq}`);
        if (record.r >= header.nextRecord && record.seq <= header.lastSeq) throw new Error(`${where}: intent seq ${record.seq} written after the header's last seq ${header.lastSeq}`);
        lastIntentSeq = record.seq;
        state.intents.set(record.seq, { record, outcomes: [] });
      } else {
        if (record.seq > Math.max(header.lastSeq, lastIntentSeq)) throw new Error(`${where}: outcome for intent ${record.seq}, which was never recorded`);
        state.attachOutcome(record);
      }
    }
    state.lastSeq = Math.max(header.lastSeq, lastIntentSeq);
    state.nextRecord = Math.max(header.nextRecord, (records.at(-1)?.r ?? 0) + 1);
    return state;
  }

  /** Applies a record being written now (its checks were made by checkIntent / checkOutcome). */
  apply(record: LogRecord, where: string): void {
    if (record.r < this.nextRecord) throw new Error(`${where}: record number ${record.r} is below the next expected ${this.nextRecord}`);
    this.nextRecord = record.r + 1;
    if (record.k === 'intent') {
      if (record.seq <= this.lastSeq) throw new Error(`${where}: intent seq ${record.seq} is not above the last seq ${this.lastSeq}`);
      this.lastSeq = record.seq;
      this.intents.set(record.seq, { record, outcomes: [] });
      return;
    }
    if (record.seq > this.lastSeq) throw new Error(`${where}: outcome for intent ${record.seq}, which was never recorded (last seq ${this.lastSeq})`);
    this.attachOutcome(record);
  }

  private attachOutcome(record: OutcomeRecord): void {
    const tracked = this.intents.get(record.seq);
    // An outcome for an intent already compacted away (a late confirmation) changes nothing.
    if (!tracked) return;
    tracked.outcomes.push(record);
    if (!tracked.settled && SETTLING_OUTCOMES.includes(record.outcome)) tracked.settled = record;
  }

  openIntents(): OpenIntent[] {
    const open: OpenIntent[] = [];
    for (const tracked of this.intents.values()) {
      if (tracked.settled) continue;
      open.push({ ...toIntent(tracked.record), sent: tracked.outcomes.some((o) => o.outcome === 'sent') });
    }
    return open;
  }

  /** Intents settled by a record after `afterRecord` (so a belief saved at `afterRecord` may not reflect them). */
  settledAfter(afterRecord: number): SettledIntent[] {
    const settled: SettledIntent[] = [];
    for (const tracked of this.intents.values()) {
      if (tracked.settled && tracked.settled.r > afterRecord) {
        settled.push({ intent: toIntent(tracked.record), outcome: tracked.settled.outcome as SettledIntent['outcome'] });
      }
    }
    return settled;
  }

  /**
   * The records a compacted log keeps, in order: every record of an intent that is open or was
   * settled after `beliefAfterRecord`; only records numbered up to `upToRecord` (those on disk).
   * Everything else is reflected in the belief on disk and can go.
   */
  retained(beliefAfterRecord: number, upToRecord: number): LogRecord[] {
    const kept: LogRecord[] = [];
    for (const tracked of this.intents.values()) {
      if (tracked.record.r > upToRecord) continue;
      const settledOnDisk = tracked.settled && tracked.settled.r <= upToRecord ? tracked.settled : undefined;
      if (settledOnDisk && settledOnDisk.r <= beliefAfterRecord) continue;
      kept.push(tracked.record, ...tracked.outcomes.filter((o) => o.r <= upToRecord));
    }
    return kept.sort((a, b) => a.r - b.r);
  }

  /** Forgets intents settled at or before `beliefAfterRecord` (after a compaction dropped them from disk). */
  forgetSettled(beliefAfterRecord: number): void {
    for (const [seq, tracked] of this.intents) {
      if (tracked.settled && tracked.settled.r <= beliefAfterRecord) this.intents.delete(seq);
    }
  }
}

function toIntent(record: IntentRecord): Intent {
  const intent: Intent = { seq: record.seq, device: record.device, step: record.step, command: record.command };
  if (record.partId !== undefined) intent.partId = record.partId;
  return intent;
}
