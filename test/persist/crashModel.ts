/**
 * Drives a file store on a MemoryFs through a workload that may stop at any file-system call,
 * keeping a model of what the caller was promised; `checkReopen` opens what survived and checks
 * it against that model.
 */
import { expect } from 'vitest';
import { MemoryFs, openFileStore, type DurableStore, type Intent, type OpenResult, type Outcome, type PersistedBelief } from '../../src/persist/index.js';
import { EXPECT, belief, intent } from './helpers.js';

export type Step =
  | { op: 'intent'; device: string; wait: boolean }
  | { op: 'outcome'; pick: number; outcome: Outcome }
  | { op: 'belief' }
  | { op: 'flush' };

export interface Model {
  /** Every intent handed to writeIntent, by seq. */
  written: Map<number, Intent>;
  /** Seqs whose writeIntent resolved. */
  acknowledged: Set<number>;
  /** Outcomes called, per seq, in order. */
  outcomes: Map<number, Outcome[]>;
  /** Seqs whose settling outcome is known durable (a flush or a later intent resolved after it). */
  durableSettled: Set<number>;
  beliefs: PersistedBelief[];
  /** Index into `beliefs` known durable (a flush resolved after it), -1 if none. */
  durableBelief: number;
  /** Seq the store gave for the next intent at the start. */
  firstSeq: number;
}

function settledSoFar(model: Model): number[] {
  return [...model.outcomes].filter(([, o]) => o.some((x) => x !== 'sent')).map(([s]) => s);
}

export async function runWorkload(store: DurableStore, steps: Step[], stopped: Promise<void>, firstSeq: number): Promise<Model> {
  const model: Model = { written: new Map(), acknowledged: new Set(), outcomes: new Map(), durableSettled: new Set(), beliefs: [], durableBelief: -1, firstSeq };
  let halted = false;
  void stopped.then(() => (halted = true));
  const until = <T>(p: Promise<T>): Promise<T | 'stopped'> => Promise.race([p, stopped.then(() => 'stopped' as const)]);
  let seq = firstSeq;
  const pending: Promise<unknown>[] = [];
  for (const step of steps) {
    if (halted) break;
    if (step.op === 'intent') {
      const it = intent(seq++, step.device);
      model.written.set(it.seq, it);
      // Outcomes called before this intent reach the disk before it (one log, in call order).
      const settledBefore = settledSoFar(model);
      const p = store.writeIntent(it).then(() => {
        model.acknowledged.add(it.seq);
        settledBefore.forEach((s) => model.durableSettled.add(s));
      });
      pending.push(p);
      if (step.wait && (await until(p)) === 'stopped') break;
    } else if (step.op === 'outcome') {
      const seqs = [...model.written.keys()];
      if (seqs.length === 0) continue;
      const target = seqs[step.pick % seqs.length]!;
      store.writeOutcome(target, step.outcome);
      model.outcomes.set(target, [...(model.outcomes.get(target) ?? []), step.outcome]);
    } else if (step.op === 'belief') {
      const b = belief(model.beliefs.length + 1, { lastSeq: seq - 1 });
      model.beliefs.push(b);
      store.saveBelief(b);
    } else {
      const settledNow = settledSoFar(model);
      const beliefNow = model.beliefs.length - 1;
      if ((await until(store.flush())) === 'stopped') break;
      settledNow.forEach((s) => model.durableSettled.add(s));
      model.durableBelief = beliefNow;
    }
  }
  if (!halted) await until(Promise.all(pending));
  return model;
}

/** Opens what survived and checks it against the model; returns the result. */
export async function checkReopen(survivor: MemoryFs, model: Model, label: string): Promise<Exclude<OpenResult, { kind: 'setAside' }>> {
  const store = openFileStore('/cell', { fs: survivor, compactAfterRecords: 10 });
  const result = await store.open(EXPECT);
  expect(result.kind, `${label}: a crash never makes the store unreadable (${result.kind === 'setAside' ? result.reason : ''})`).not.toBe('setAside');
  const r = result as Exclude<OpenResult, { kind: 'setAside' }>;
  const open = new Map(r.openIntents.map((i) => [i.seq, i]));
  for (const seq of model.acknowledged) {
    const settling = (model.outcomes.get(seq) ?? []).some((o) => o !== 'sent');
    if (!settling) expect(open.has(seq), `${label}: acknowledged intent ${seq}, never settled, is open after restart`).toBe(true);
  }
  for (const [seq, found] of open) {
    const { sent, ...asWritten } = found;
    expect(model.written.get(seq), `${label}: open intent ${seq} was written by the caller`).toEqual(asWritten);
    if (sent) expect(model.outcomes.get(seq) ?? [], `${label}: intent ${seq} is marked sent only if sent was recorded`).toContain('sent');
    expect(model.durableSettled.has(seq), `${label}: intent ${seq} was durably settled before the crash, yet is open`).toBe(false);
  }
  if (r.kind === 'loaded') {
    const index = model.beliefs.findIndex((b) => JSON.stringify(b) === JSON.stringify(r.belief));
    expect(index, `${label}: the loaded belief is one the caller saved`).toBeGreaterThanOrEqual(0);
    expect(index, `${label}: the loaded belief is not older than one known durable`).toBeGreaterThanOrEqual(model.durableBelief);
    for (const s of r.settledSinceBelief) expect(model.written.get(s.intent.seq)).toEqual(s.intent);
  } else {
    expect(model.durableBelief, `${label}: no belief loaded although one was durable`).toBe(-1);
  }
  const maxWritten = Math.max(0, ...model.acknowledged);
  expect(r.nextSeq, `${label}: nextSeq is above every acknowledged intent`).toBeGreaterThan(maxWritten);
  // The store keeps working after the restart, and a second restart reads what it wrote.
  const seq = r.nextSeq;
  await store.writeIntent(intent(seq));
  store.saveBelief(belief(1000));
  await store.close();
  const again = await openFileStore('/cell', { fs: survivor }).open(EXPECT);
  expect(again.kind, `${label}: second restart`).toBe('loaded');
  if (again.kind === 'loaded') {
    expect(again.openIntents.map((i) => i.seq)).toContain(seq);
    expect(again.belief).toEqual(belief(1000));
  }
  return r;
}
