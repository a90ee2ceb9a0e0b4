import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readJsonLines, tempDir, workcell } from './cli.js';
import { checkDeviceLogConservation, checkJournalConservation } from './invariants.js';

describe('workcell run: 200 parts in virtual time, end to end through the CLI', () => {
  const dir = tempDir();
  const journalPath = path.join(dir, 'journal.jsonl');
  const deviceLogPath = path.join(dir, 'device-log.jsonl');
  const result = workcell([
    'run', '--sim', '--virtual-time', '--cycles', '200', '--autostart', '--seed', '7',
    '--journal', journalPath, '--device-log', deviceLogPath, '--json',
  ]);

  it('exits 0 with 200 parts exited and a summary on stdout', () => {
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ ok: true, finalState: 'Complete', lotSize: 200, virtualTime: true, seed: 7 });
    expect(summary.parts.exited).toBe(200);
    expect(summary.parts.inCell).toBe(0);
  });

  it('conserves parts on the journal and on the device log, and no part exits twice', () => {
    const journal = readJsonLines(journalPath);
    const totals = checkJournalConservation(journal);
    expect(totals).toMatchObject({ released: 200, exited: 200, rejected: 0, lost: 0, inCell: 0 });
    const exits = journal.filter((r) => r.kind === 'part' && r.event === 'exited').map((r) => r.partId);
    expect(new Set(exits).size).toBe(exits.length);
    const physical = checkDeviceLogConservation(readJsonLines(deviceLogPath), totals);
    expect(physical.spawned).toBe(200);
    expect(physical.reachedExit).toBe(200);
  });

  it('reaches at least 0.95 of the throughput limit computed from the description', () => {
    const summary = JSON.parse(result.stdout);
    expect(summary.throughput.bottleneck).toBe('arm');
    expect(summary.throughput.limitPartsPerMinute).toBeCloseTo(60_000 / 4883.333, 1);
    expect(summary.throughput.ratio).toBeGreaterThanOrEqual(0.95);
    expect(summary.throughput.ratio).toBeLessThanOrEqual(1.0);
  });

  it('never starts a second step on a station before the first is confirmed', () => {
    const journal = readJsonLines(journalPath);
    const open = new Map<string, string>();
    for (const r of journal) {
      if (r.kind !== 'step') continue;
      const device = r.device as string;
      if (r.phase === 'start') {
        expect(open.has(device), `${device} started ${String(r.step)} while ${open.get(device)} was open`).toBe(false);
        open.set(device, r.step as string);
      } else open.delete(device);
    }
  });
});

describe('determinism', () => {
  it('the same seed gives the same journal, ignoring wall time', () => {
    const dir = tempDir();
    const run = (name: string) => {
      const journal = path.join(dir, name);
      const r = workcell(['run', '--sim', '--virtual-time', '--cycles', '30', '--autostart', '--seed', '11', '--journal', journal, '--json']);
      expect(r.status).toBe(0);
      return readJsonLines(journal).map(({ wall: _wall, ...rest }) => {
        // The summary's wall-clock duration is the only other field that depends on the machine.
        if (rest.kind === 'run.end') (rest.summary as Record<string, unknown>).wallMs = 0;
        return JSON.stringify(rest);
      });
    };
    const a = run('a.jsonl');
    const b = run('b.jsonl');
    expect(a.length).toBeGreaterThan(500);
    expect(b).toEqual(a);
  });

  it('a different seed changes the simulated cell (the conveyor starts elsewhere before homing)', () => {
    const dir = tempDir();
    const times = [3, 4].map((seed) => {
      const journal = path.join(dir, `s${seed}.jsonl`);
      expect(workcell(['run', '--sim', '--virtual-time', '--cycles', '2', '--autostart', '--seed', String(seed), '--journal', journal, '--json']).status).toBe(0);
      return readJsonLines(journal).find((r) => r.kind === 'step' && r.step === 'home' && r.phase === 'done')!.t;
    });
    expect(times[0]).not.toBe(times[1]);
  });
});

describe('workcell run: refusals and bad input', () => {
  it('refuses --autostart for a cell that is not simulated', () => {
    const r = workcell(['run', '--autostart']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--autostart refused: a real cell never starts itself/);
  });

  it('refuses a virtual-time run without a lot size', () => {
    const r = workcell(['run', '--sim', '--virtual-time']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--virtual-time needs --cycles/);
  });

  it('reports an invalid cell description with file, line and column', () => {
    const r = workcell(['run', '--sim', '--virtual-time', '--cycles', '1', '--cell', 'package.json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/package\.json:\d+:\d+: /);
  });

  it('rejects a malformed --cycles', () => {
    const r = workcell(['run', '--sim', '--cycles', 'many']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--cycles must be a whole number above 0/);
  });
});
