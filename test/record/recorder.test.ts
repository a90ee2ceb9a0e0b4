import { McapIndexedReader } from '@mcap/core';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecording } from '../../src/record/read.js';
import { recorderFace } from '../../src/record/recorder.js';
import { formatReplay, journalOfRecording, replayJournal, replayRecording } from '../../src/record/replay.js';
import { CellRun } from '../../src/runtime/run.js';
import type { JournalRecord } from '../../src/journal/journal.js';
import { tempDir } from '../e2e/cli.js';
import { DEMO_PATH } from '../controller/helpers.js';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);

async function recordedRun(file: string, options: { cycles: number; scenario?: string; maxBytes?: number; seed?: number }) {
  const run = new CellRun({
    cellPath: DEMO_PATH,
    virtualTime: true,
    cycles: options.cycles,
    autostart: true,
    keepJournal: true,
    seed: options.seed ?? 3,
    ...(options.scenario ? { scenarioPath: path.join(ROOT, 'hardware', 'scenarios', options.scenario) } : {}),
    faces: [recorderFace({ path: file, ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}) })],
  });
  const summary = await run.run();
  return { run, summary, journal: run.memory!.records() };
}

describe('MCAP flight recorder', () => {
  it('records every journal record, the operator interface and device traffic, and reads back with @mcap/core', async () => {
    const file = path.join(tempDir(), 'run.mcap');
    const { summary, journal } = await recordedRun(file, { cycles: 4 });
    expect(summary.ok).toBe(true);
    const recording = readRecording(file);
    expect(recording.profile).toBe('ros2');
    expect(recording.metadata.get('workcell')).toEqual(new Map([['cell', 'demo_pick_and_place'], ['hash', journal[0]!.hash as string], ['segment', '0']]));
    for (const [topic, info] of recording.topics) {
      expect(info.messageEncoding, topic).toBe('cdr');
      expect(info.encoding, topic).toBe('ros2msg');
    }
    // The journal topic holds exactly the run's journal, from run.start to run.end.
    expect(journalOfRecording(file)).toEqual(journal);
    expect(journal[0]!.kind).toBe('run.start');
    expect(journal.at(-1)!.kind).toBe('run.end');

    const on = (topic: string) => recording.messages.filter((m) => m.topic === topic);
    const states = on('/workcell/state').map((m) => JSON.parse((m.message as { data: string }).data) as { state: string; parts: { exited: number } });
    expect(states[0]!.state).toBe('Stopped');
    expect(states.at(-1)!.state).toBe('Complete');
    expect(states.at(-1)!.parts.exited).toBe(4);
    expect(on('/workcell/command').map((m) => (m.message as { data: string }).data)).toEqual(['reset', 'start']);
    const diagnostics = on('/diagnostics');
    expect(diagnostics.length).toBeGreaterThan(0);
    expect((diagnostics[0]!.message as { status: Array<{ name: string }> }).status.map((s) => s.name)).toContain('workcell: arm');
    const joints = on('/workcell/joint_states');
    expect(joints.length).toBeGreaterThan(10);
    expect((joints[0]!.message as { name: string[] }).name).toEqual(['joint_1', 'joint_2', 'joint_3', 'joint_4', 'joint_5', 'joint_6']);

    // Device commands on their topics match the journal's device.command records one for one.
    const journalCommands = journal.filter((r) => r.kind === 'device.command' && r.device === 'conveyor').map((r) => r.command);
    expect(on('/workcell/devices/conveyor/command').map((m) => (m.json as { command: unknown }).command)).toEqual(journalCommands);
    const feedback = on('/workcell/devices/feeder/feedback').map((m) => (m.json as { feedback: { type: string } }).feedback.type);
    expect(feedback).toContain('motionDone');
    expect(feedback).toContain('reading');

    // The summary and indexes (what Foxglove and ros2 bag seek with) agree with the content.
    const bytes = readFileSync(file);
    const indexed = await McapIndexedReader.Initialize({
      readable: { size: async () => BigInt(bytes.length), read: async (offset, size) => bytes.subarray(Number(offset), Number(offset + size)) },
    });
    expect(indexed.header.profile).toBe('ros2');
    expect(Number(indexed.statistics!.messageCount)).toBe(recording.messages.length);
    expect(indexed.channelsById.size).toBe(recording.topics.size);
    let indexedJournal = 0;
    const journalChannel = [...indexed.channelsById.values()].find((c) => c.topic === '/workcell/journal')!.id;
    for await (const m of indexed.readMessages({ topics: ['/workcell/journal'] })) if (m.channelId === journalChannel) indexedJournal++;
    expect(indexedJournal).toBe(journal.length);

    // Log times follow the cell clock: in order, and spanning the simulated duration.
    const times = recording.messages.map((m) => m.logTime);
    const span = Number(times.reduce((a, b) => (b > a ? b : a)) - times.reduce((a, b) => (b < a ? b : a))) / 1e6;
    expect(Math.abs(span - summary.simulatedMs)).toBeLessThan(1500);
  });

  it('replays a recording through the cell machine with no divergence, faults and recoveries included', async () => {
    for (const scenario of [undefined, 'conveyor_slip.yaml', 'estop_trip_and_release.yaml', 'guard_door.yaml']) {
      const file = path.join(tempDir(), 'run.mcap');
      const { summary, journal } = await recordedRun(file, { cycles: scenario ? 30 : 6, ...(scenario ? { scenario } : {}) });
      const report = replayRecording(file);
      expect(report.divergences, formatReplay(file, report)).toEqual([]);
      expect(report.transitions).toBe(journal.filter((r) => r.kind === 'state').length);
      expect(report.transitions).toBeGreaterThanOrEqual(7);
      expect(report.finalState).toBe(summary.finalState);
    }
  });

  it('reports where a tampered recording diverges from the cell machine', async () => {
    const file = path.join(tempDir(), 'run.mcap');
    const { journal } = await recordedRun(file, { cycles: 2 });
    const records = journalOfRecording(file);
    // The recording claims Start was accepted while the cell was still Stopped.
    const start = records.findIndex((r) => r.kind === 'command' && r.command === 'start');
    const reset = records.findIndex((r) => r.kind === 'command' && r.command === 'reset');
    const swapped: JournalRecord[] = records.map((r, i) => (i === reset ? { ...r, command: 'start' } : i === start ? { ...r, command: 'reset' } : r));
    const report = replayJournal(swapped);
    expect(report.divergences[0]).toMatchObject({ seq: records[reset]!.seq, recorded: 'command start accepted' });
    expect(report.divergences[0]!.replayed).toMatch(/^command start rejected \(Start is not valid in Stopped/);
    // A state the machine would not enter.
    const execute = records.findIndex((r) => r.kind === 'state' && r.to === 'Execute');
    const wrongState = replayJournal(records.map((r, i) => (i === execute ? { ...r, to: 'Held' } : r)));
    expect(wrongState.divergences[0]).toMatchObject({ seq: records[execute]!.seq, recorded: expect.stringContaining('-> Held'), replayed: expect.stringContaining('-> Execute') });
    expect(journal.length).toBe(records.length);
    // Without run.start there is nothing to boot the machine from.
    expect(() => replayJournal(records.slice(1))).toThrow(/no run.start record/);
  });

  it('rolls over into segments within the size limit, each one readable on its own', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'long.mcap');
    const maxBytes = 256 * 1024;
    await recordedRun(file, { cycles: 40, maxBytes });
    const segments = readdirSync(dir).filter((f) => f.endsWith('.mcap')).sort();
    expect(segments.length).toBeGreaterThan(1);
    expect(segments.every((f) => /^long_\d{3}\.mcap$/.test(f))).toBe(true);
    const total = segments.reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
    expect(total).toBeLessThanOrEqual(maxBytes + 64 * 1024);
    // The oldest segments were dropped; every kept one starts with the cell state.
    expect(segments[0]).not.toBe('long_000.mcap');
    for (const f of segments) {
      const recording = readRecording(path.join(dir, f));
      expect(recording.messages[0]!.topic, f).toBe('/workcell/state');
    }
    expect(() => replayRecording(path.join(dir, segments[0]!))).toThrow(/no run.start record/);
  });
});
