/**
 * Invariants checked on what a run left behind: the controller's journal, and the simulator's
 * own device log (what really reached the devices and what physically happened).
 */
import { expect } from 'vitest';

type Rec = Record<string, unknown>;

const TERMINAL = new Set(['exited', 'rejected', 'lost']);

/** Journal: every released part ends in at most one outcome; counts add up to the summary. */
export function checkJournalConservation(journal: Rec[]) {
  const released = new Set<string>();
  const outcome = new Map<string, string>();
  for (const r of journal) {
    if (r.kind !== 'part') continue;
    const id = r.partId as string;
    // Quarantined parts (Q1, ...) were never released by the controller: not part of the count.
    if (id.startsWith('Q')) continue;
    if (r.event === 'released') {
      expect(released.has(id), `${id} released twice`).toBe(false);
      released.add(id);
    } else {
      expect(released.has(id), `${id} ${String(r.event)} before it was released`).toBe(true);
      expect(outcome.has(id), `${id} ${String(r.event)} after it already ${outcome.get(id)}`).toBe(false);
      if (TERMINAL.has(r.event as string)) outcome.set(id, r.event as string);
    }
  }
  const count = (o: string) => [...outcome.values()].filter((v) => v === o).length;
  const totals = { released: released.size, exited: count('exited'), rejected: count('rejected'), lost: count('lost') };
  const inCell = totals.released - totals.exited - totals.rejected - totals.lost;
  const end = journal.find((r) => r.kind === 'run.end') as { summary: { parts: Rec } } | undefined;
  expect(end, 'journal has a run.end record').toBeDefined();
  expect(end!.summary.parts).toEqual({ ...totals, inCell });
  return { ...totals, inCell };
}

/**
 * Device log: every part the feeder really produced is, physically, in exactly one place; and the
 * controller's counts agree with physics: one spawned part per release it journaled, and every
 * part it says exited really reached the exit.
 */
export function checkDeviceLogConservation(deviceLog: Rec[], journalTotals: { released: number; exited: number; lost: number }) {
  const last = new Map<string, string>();
  const reachedExit = new Set<string>();
  for (const e of deviceLog) {
    if (e.kind !== 'part') continue;
    const part = e.part as string;
    const event = e.event as string;
    if (event === 'spawned') expect(last.has(part), `${part} spawned twice`).toBe(false);
    else expect(last.has(part), `${part} ${event} before it spawned`).toBe(true);
    const prev = last.get(part);
    expect(prev === 'taken_away' || prev === 'fell_off', `${part} ${event} after it left the cell`).toBe(false);
    last.set(part, event);
    if (event === 'at_exit') reachedExit.add(part);
  }
  const spawned = last.size;
  const left = [...last.values()].filter((v) => v === 'taken_away' || v === 'fell_off').length;
  const releases = deviceLog.filter((e) => e.kind === 'command' && (e.command as Rec | undefined)?.type === 'release');
  const executedReleases = releases.filter((e) => e.outcome === 'executed').length;
  expect(spawned).toBe(executedReleases);
  // The controller counts a part released when its command leaves; one lost or corrupted on the
  // link never spawned a part (the controller later records it lost).
  const unexecuted = releases.filter((e) => e.outcome !== 'executed').length;
  expect(journalTotals.released - spawned).toBe(unexecuted);
  expect(reachedExit.size).toBeGreaterThanOrEqual(journalTotals.exited);
  return { spawned, left, inCell: spawned - left, reachedExit: reachedExit.size };
}
