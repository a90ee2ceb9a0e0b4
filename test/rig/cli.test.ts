/**
 * `workcell run --cell hardware/cells/demo-serial.yaml --rig`: the demo cell with its conveyor and
 * safety I/O on a simulated station board (real firmware behind a pty), end to end through the
 * built CLI, as a user runs it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { CLI, readJsonLines, ROOT, tempDir, workcell } from '../e2e/cli.js';
import { buildFirmware, DEMO_SERIAL, demoSerial, openLink, startDemoBoard, waitFor } from './helpers.js';

beforeAll(() => buildFirmware());

it('produces parts end to end with the conveyor on the rig', () => {
  const dir = tempDir('workcell-rig-');
  const journal = path.join(dir, 'journal.jsonl');
  const r = workcell(['run', '--cell', DEMO_SERIAL, '--rig', '--autostart', '--cycles', '2', '--json', '--journal', journal], { timeoutMs: 90_000 });
  expect(r.stderr).toMatch(/rig: conveyor_board: station 2/);
  expect(r.status, r.stderr).toBe(0);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; finalState: string; parts: { exited: number }; virtualTime: boolean };
  expect(summary).toMatchObject({ ok: true, finalState: 'Complete', virtualTime: false, parts: { exited: 2 } });
  // The conveyor's motions came back from the board: homing, then indexes confirmed by its encoder.
  const records = readJsonLines<{ kind: string; device?: string; feedback?: string; command?: unknown }>(journal);
  const conveyorDone = records.filter((x) => x.kind === 'device.feedback' && x.device === 'conveyor' && x.feedback === 'motionDone');
  expect(conveyorDone.map((x) => x.command)).toEqual(expect.arrayContaining(['home', 'index']));
});

it('refuses --rig with --virtual-time, and a cell without serial links, with a clear message', () => {
  const virtual = workcell(['run', '--cell', DEMO_SERIAL, '--rig', '--virtual-time', '--cycles', '1']);
  expect(virtual.status).toBe(2);
  expect(virtual.stderr).toMatch(/--rig runs in real time/);
  const simOnly = workcell(['run', '--cell', path.join('hardware', 'cells', 'demo.yaml'), '--rig', '--autostart', '--cycles', '1']);
  expect(simOnly.status).toBe(2);
  expect(simOnly.stderr).toMatch(/has no device on a serial link/);
});

it('workcell provision writes the cell into a board, which the driver then accepts; bad input exits 2', async () => {
  const { map, hash } = demoSerial();
  const board = await startDemoBoard(map);
  try {
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      // Asynchronous: the board process answers through this process's event loop.
      const child = spawn(process.execPath, [CLI, 'provision', '--cell', DEMO_SERIAL, '--path', board.linkPath], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`conveyor_board: station 2 on .* provisioned for demo_pick_and_place ${hash.slice(0, 12)}`));
    const session = openLink(map, hash, board);
    try {
      await waitFor('ready', () => session.link.linkState === 'ready');
    } finally {
      await session.link.close();
    }
  } finally {
    await board.close();
  }
  const noLink = workcell(['provision', '--cell', DEMO_SERIAL, '--link', 'sim']);
  expect(noLink.status).toBe(2);
  expect(noLink.stderr).toMatch(/link "sim" is sim, not a serial station board/);
});
