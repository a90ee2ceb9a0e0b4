/**
 * The durable store's public types (docs/persistence.md). The store keeps the controller's belief
 * about the cell and a write-ahead log of motion intents; it never keeps a statechart snapshot.
 */

/** The controller's belief about the cell, as it is persisted. */
export interface PersistedBelief {
  format: 1;
  /** Version of the controller's state machines (a string chosen by the caller). */
  machineVersion: string;
  /** Full hash of the cell description (src/cell/hash.ts). */
  cellHash: string;
  /** ISO time, for people. */
  savedAtWall: string;
  /** Parts, steps, counters, last commanded targets: opaque JSON to the store. */
  belief: unknown;
}

/** The intent to send one command to one device, recorded before the command leaves. */
export interface Intent {
  /** Strictly increasing across the store's whole life, restarts included (see DurableStore.nextSeq). */
  seq: number;
  device: string;
  step: string;
  command: unknown;
  partId?: string;
}

export const OUTCOMES = ['sent', 'confirmed', 'missed', 'abandoned'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcomes that settle an intent; `sent` does not (a sent command may still be confirmed or missed). */
export const SETTLING_OUTCOMES: readonly Outcome[] = ['confirmed', 'missed', 'abandoned'];

/** An intent with no settling outcome recorded: the process stopped between intent and outcome. */
export interface OpenIntent extends Intent {
  /** True if `sent` was durably recorded; false means the command may or may not have left. */
  sent: boolean;
}

/** An intent settled after the loaded belief was saved, so the belief may not reflect it yet. */
export interface SettledIntent {
  intent: Intent;
  outcome: Exclude<Outcome, 'sent'>;
}

export type OpenResult =
  /** Nothing persisted. `openIntents` is non-empty only if intents were written before any belief was saved. */
  | { kind: 'fresh'; openIntents: OpenIntent[]; nextSeq: number; warnings: string[] }
  /** A belief and the intents with no settling outcome recorded (the process stopped in between). */
  | {
      kind: 'loaded';
      belief: PersistedBelief;
      openIntents: OpenIntent[];
      settledSinceBelief: SettledIntent[];
      nextSeq: number;
      warnings: string[];
    }
  /** Version or hash mismatch, or unreadable: moved away, never loaded. The store starts fresh. */
  | { kind: 'setAside'; reason: string; movedTo: string; nextSeq: number; warnings: string[] };

export interface StoreExpectation {
  machineVersion: string;
  cellHash: string;
}

export interface DurableStore {
  /** Read what is persisted, set aside what may not be loaded, and make the store ready. Call once. */
  open(expect: StoreExpectation): Promise<OpenResult>;
  /** Resolves only once the intent is durable (written AND fsync'ed). The caller sends the command after that. */
  writeIntent(intent: Intent): Promise<void>;
  /** Record that the intent's command was sent / confirmed / missed / abandoned; not awaited by the caller. */
  writeOutcome(seq: number, outcome: Outcome): void;
  /** Replace the persisted belief (coalesced: only the latest pending one needs to reach disk). Not awaited. */
  saveBelief(belief: PersistedBelief): void;
  /** Resolves when everything written so far is durable; rejects if the store has failed. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** The lowest seq the next intent may carry (one above every seq this store has ever recorded). */
  nextSeq(): number;
}
