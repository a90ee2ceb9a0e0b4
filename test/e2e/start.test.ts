/**
 * `npm start`'s path: the demo cell in real time with --autostart, ended by Ctrl-C (SIGINT), which
 * performs a normal Stop before the process exits. Real time is only waited on here, never measured.
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, readJsonLines, ROOT, tempDir } from './cli.js';

async function waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start: real time, autostart, Ctrl-C', () => {
  it('reaches Execute by itself through Reset and Start, and Ctrl-C stops it normally', async () => {
    const journal = path.join(tempDir(), 'journal.jsonl');
    const child = spawn(process.execPath, [CLI, 'run', '--sim', '--autostart', '--journal', journal, '--json'], { cwd: ROOT });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const states = () => (existsSync(journal) ? readJsonLines(journal).filter((r) => r.kind === 'state').map((r) => r.to) : []);

    await waitFor(() => states().includes('Execute'), 20_000);
    child.kill('SIGINT');
    const code = await exited;

    expect(states().slice(0, 6)).toEqual(['Stopped', 'Resetting', 'Idle', 'Starting', 'Execute', 'Stopping']);
    expect(readJsonLines(journal).find((r) => r.kind === 'state')).toMatchObject({ from: null, to: 'Stopped', cause: 'boot' });
    expect(states().at(-1)).toBe('Stopped');
    const commands = readJsonLines(journal).filter((r) => r.kind === 'command').map((r) => [r.command, r.accepted]);
    expect(commands).toEqual([['reset', true], ['start', true], ['stop', true]]);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ ok: true, finalState: 'Stopped', virtualTime: false, lotSize: null });
    expect(code).toBe(0);
  });

  it('Ctrl-C in Aborted (an e-stop latched) ends cleanly too: the cell is at rest, exit 0', async () => {
    const dir = tempDir();
    const journal = path.join(dir, 'journal.jsonl');
    const scenario = path.join(dir, 'estop.yaml');
    writeFileSync(
      scenario,
      [
        'name: estop_then_ctrl_c',
        'description: The e-stop is pressed at 0.3 s; the operator ends the run with Ctrl-C.',
        `cell: ${JSON.stringify(path.join(ROOT, 'hardware', 'cells', 'demo.yaml'))}`,
        'events:',
        '  - at: { time_ms: 300 }',
        '    inject: { fault: estop, source: estop_button, pressed: true }',
        'expect:',
        '  faults: []',
        '  final_state: Aborted',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [CLI, 'run', '--sim', '--scenario', scenario, '--journal', journal, '--json'], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const states = () => (existsSync(journal) ? readJsonLines(journal).filter((r) => r.kind === 'state').map((r) => r.to) : []);

    await waitFor(() => states().includes('Aborted'), 20_000);
    child.kill('SIGINT');
    const code = await exited;

    expect(states().at(-1)).toBe('Aborted');
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, finalState: 'Aborted' });
    expect(code, stderr).toBe(0);
  });
});
