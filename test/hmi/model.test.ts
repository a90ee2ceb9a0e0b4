import { describe, expect, it } from 'vitest';
import { CYCLE_HISTORY, HmiModel, type StateView } from '../../src/hmi/page/model.js';

const parts = (exited: number, extra: Partial<{ rejected: number; lost: number }> = {}) => ({
  released: exited + 1,
  exited,
  rejected: extra.rejected ?? 0,
  lost: extra.lost ?? 0,
  inCell: 1,
});
const state = (s: string, t: number, exited: number, extra = {}): StateView => ({ state: s, t, parts: parts(exited, extra) });

describe('HMI model', () => {
  it('measures cycle times between exits it has seen, keeping the last 100', () => {
    const m = new HmiModel();
    m.onState(state('Execute', 1_000, 3)); // joined mid-run: no cycle yet
    m.onState(state('Execute', 2_500, 3));
    m.onState(state('Execute', 4_000, 4)); // first exit seen: still no cycle
    expect(m.cycleTimes).toEqual([]);
    m.onState(state('Execute', 9_000, 5));
    m.onState(state('Execute', 19_000, 7)); // two exits at once: the interval is shared
    expect(m.cycleTimes).toEqual([5_000, 5_000, 5_000]);
    for (let i = 0; i < 150; i++) m.onState(state('Execute', 20_000 + i * 4_000, 8 + i));
    expect(m.cycleTimes).toHaveLength(CYCLE_HISTORY);
    expect(m.cycleTimes.at(-1)).toBe(4_000);
  });

  it('computes availability, performance and quality from time in state and part counts', () => {
    const m = new HmiModel();
    m.idealCycleMs = 4_000;
    m.onState(state('Idle', 0, 0));
    m.onState(state('Starting', 10_000, 0)); // 10 s in Idle: not planned production time
    m.onState(state('Execute', 11_000, 0)); // 1 s Starting
    m.onState(state('Holding', 31_000, 4, { rejected: 1 })); // 20 s Execute, 5 parts finished
    m.onState(state('Held', 32_000, 4, { rejected: 1 })); // 1 s Holding
    m.onState(state('Unholding', 40_000, 4, { rejected: 1 })); // 8 s Held
    const oee = m.oee();
    expect(oee.availability).toBeCloseTo(20 / 30, 6);
    expect(oee.performance).toBeCloseTo((4_000 * 5) / 20_000, 6);
    expect(oee.quality).toBeCloseTo(4 / 5, 6);
    expect(oee.oee).toBeCloseTo((20 / 30) * 1 * 0.8, 6);
    expect(m.timeInState('Idle')).toBe(10_000);
  });

  it('enables exactly the commands PackML allows in the state shown', () => {
    const m = new HmiModel();
    expect(m.allowedCommands()).toEqual([]);
    m.onState(state('Stopped', 0, 0));
    expect(m.allowedCommands()).toEqual(['reset', 'abort']);
    m.onState(state('Aborted', 1, 0));
    expect(m.allowedCommands()).toEqual(['clear']);
    m.onState(state('Held', 2, 0));
    expect(m.allowedCommands()).toEqual(['stop', 'unhold', 'abort']);
  });

  it('keeps missed-step evidence for the Resync view, in progress only while the cell is held', () => {
    const m = new HmiModel();
    m.onState(state('Execute', 0, 0));
    m.onJournal({ kind: 'step', t: 1 });
    expect(m.resync).toBeUndefined();
    m.onJournal({ kind: 'fault', t: 5, fault: 'index_short', device: 'conveyor', step: 'index', believed: { encoderCount: 1200 }, measured: { encoderCount: 1184 } });
    m.onState(state('Holding', 6, 0));
    expect(m.resyncInProgress()).toBe(true);
    expect(m.resync).toMatchObject({ kind: 'index_short', device: 'conveyor', step: 'index', believed: { encoderCount: 1200 }, measured: { encoderCount: 1184 } });
    m.onState(state('Execute', 9, 0));
    expect(m.resyncInProgress()).toBe(false);
  });
});
