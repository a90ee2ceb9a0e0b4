/**
 * `workcell jog`, `workcell io`, `workcell teach`: the built CLI, in a child process, against a
 * running controller (the demo cell on the simulator, in real time) through its WebSocket bridge.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bridgeFace, type FoxgloveBridge } from '../../src/bridge/server.js';
import { CellRun } from '../../src/runtime/run.js';
import { CLI, ROOT } from '../e2e/cli.js';
import { demoCopy } from './helpers.js';

const TOKEN = 'commissioning-token';

/**
 * The demo cell for a CLI test in real time: a generous renewal timeout, and heartbeats that
 * tolerate a busy CI machine stalling this process for a moment (20 periods instead of 3; a lost
 * safety-relevant device would abort the cell). These tests are about the CLI; hold-to-run and
 * heartbeat timing are tested in virtual time (jog.test.ts) and through the rig.
 */
function cliCell(): string {
  return demoCopy((text) =>
    text.replace('safety:\n', 'commissioning:\n  jog_renew_timeout_ms: 1000\n\nsafety:\n').replace(/miss_count: 3 \}/g, 'miss_count: 20 }'),
  );
}
let run: CellRun;
let bridge: FoxgloveBridge;
let file: string;

function workcell(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--url', `ws://127.0.0.1:${bridge.port}`, '--token', TOKEN, '--timeout', '25000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  file = cliCell();
  run = new CellRun({ cellPath: file, keepJournal: true, faces: [async (ctx) => (bridge = await bridgeFace({ port: 0, token: TOKEN })(ctx))] });
  run.start();
  await run.attachFaces();
});

afterAll(async () => {
  await run?.close();
});

describe('the commissioning CLI against a running controller', () => {
  it('workcell jog is refused in Production mode, with the reason, exit 1', async () => {
    const r = await workcell(['jog', 'conveyor', '+10']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('"jog conveyor +10" refused: jog is only allowed in Manual mode');
  });

  it('workcell jog holds a distance jog until it is done, then workcell teach writes the pose after its diff', async () => {
    run.send('mode manual');
    const jog = await workcell(['jog', 'arm', 'joint_1', '+0.5']);
    expect(jog.stderr).toBe('');
    expect(jog.status).toBe(0);
    expect(jog.stdout).toContain('jog of arm ended: done');
    const q1 = run.controller.stateMessage().commissioning!.positions.arm!;
    expect('joints' in q1 && q1.joints.joint_1).toBeCloseTo(0.5, 3);
    // More than one increment: the CLI renewed the jog while it held it.
    expect(run.memory!.records().filter((r) => r.kind === 'commissioning' && r.event === 'jog.increment').length).toBeGreaterThan(1);

    // Teach writes what is measured (in real time the simulated arm may settle a hair short).
    const measured = run.controller.stateMessage().commissioning!.positions.arm!;
    const joints = 'joints' in measured ? Object.values(measured.joints) : [];
    const teach = await workcell(['teach', 'pose', 'arm', 'inspect', '--yes']);
    expect(teach.stderr).toBe('');
    expect(teach.status).toBe(0);
    expect(teach.stdout).toContain(`+      inspect: [${joints.join(', ')}]\n`);
    expect(teach.stdout).toContain(`written to ${file} (backup ${file}.bak)`);
    const poses = (parse(readFileSync(file, 'utf8')) as { devices: { arm: { poses: Record<string, number[]> } } }).devices.arm.poses;
    expect(poses.inspect).toEqual(joints);
    expect(poses.inspect![0]).toBeCloseTo(0.5, 3);
  });

  it('workcell teach without a terminal and without --yes writes nothing', async () => {
    const before = readFileSync(file, 'utf8');
    const r = await workcell(['teach', 'pose', 'arm', 'other']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('not written: confirm with --yes');
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(run.controller.stateMessage().commissioning!.teach).toBeNull();
  });

  it('workcell io shows the I/O view and diagnostics, and forces an output with its reason', async () => {
    run.send('mode maintenance');
    const forced = await workcell(['io', 'force', 'safety_io.lamp_green', 'on', '30s', 'lamp', 'check']);
    expect(forced.stderr).toBe('');
    expect(forced.status).toBe(0);
    expect(forced.stdout).toMatch(/^safety_io\s+lamp_green\s+out\s+on\s+FORCED$/m);
    expect(forced.stdout).toMatch(/^safety_io\s+estop_ok\s+in\s+on\s*$/m);
    expect(forced.stdout).toMatch(/^feeder\s+release\s+out\s+off\s+not forceable$/m);
    expect(forced.stdout).toContain('forced: safety_io.lamp_green on for up to 30 s by topic:/workcell/command: lamp check');
    expect(forced.stdout).toMatch(/^workcell: conveyor: ok; heartbeat_age_ms=\d+/m);
    const journaled = run.memory!.records().find((r) => r.kind === 'commissioning' && r.event === 'force.on');
    expect(journaled).toMatchObject({ device: 'safety_io', channel: 'lamp_green', reason: 'lamp check' });

    const json = await workcell(['io', 'unforce', 'all', '--json']);
    expect(json.status).toBe(0);
    const view = JSON.parse(json.stdout.split('\n').find((l) => l.startsWith('{'))!) as { forced: unknown[]; io: Array<{ channel: string; value: boolean }> };
    expect(view.forced).toEqual([]);
    expect(view.io.find((p) => p.channel === 'lamp_green')!.value).toBe(false);
  });

  it('a wrong token is a clear error, exit 2, and nothing is commanded', async () => {
    const child = spawn(process.execPath, [CLI, 'jog', 'conveyor', '+10', '--url', `ws://127.0.0.1:${bridge.port}`, '--token', 'wrong-token-123'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise((resolve) => child.on('close', resolve));
    expect(status).toBe(2);
    expect(stderr).toMatch(/^workcell: read-only: this client presented no valid token/);
    expect(run.memory!.records().filter((r) => r.kind === 'commissioning' && r.event === 'jog.start' && r.device === 'conveyor')).toEqual([]);
  });

  it('no bridge is a clear error, exit 2, at once (not after the answer timeout)', async () => {
    // A minute's answer timeout: the refused connection alone must end the command.
    const child = spawn(process.execPath, [CLI, 'io', '--url', 'ws://127.0.0.1:9', '--timeout', '60000'], { cwd: ROOT });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise((resolve) => child.on('close', resolve));
    expect(status).toBe(2);
    expect(stderr).toMatch(/^workcell: cannot reach the bridge at ws:\/\/127\.0\.0\.1:9/);
  }, 30_000);
});

describe('the commissioning CLI when the bridge goes away', () => {
  it('a held jog ends: the CLI exits 1 with the reason at once, and the controller stops the axis when renewals stop', async () => {
    const lostFile = cliCell();
    let lostBridge: FoxgloveBridge | undefined;
    const cell = new CellRun({ cellPath: lostFile, keepJournal: true, faces: [async (ctx) => (lostBridge = await bridgeFace({ port: 0, token: TOKEN })(ctx))] });
    try {
      cell.start();
      await cell.attachFaces();
      cell.send('mode manual');
      // Held for up to a minute, with a minute to wait for any answer: only the lost connection can end it early.
      const child = spawn(process.execPath, [CLI, 'jog', 'conveyor', '+', '--for', '60000', '--url', `ws://127.0.0.1:${lostBridge!.port}`, '--token', TOKEN, '--timeout', '60000'], {
        cwd: ROOT,
      });
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const journal = () => cell.memory!.records();
      const deadline = Date.now() + 15_000;
      while (!journal().some((r) => r.kind === 'commissioning' && r.event === 'jog.increment')) {
        if (Date.now() > deadline) throw new Error(`the jog never started; stdout ${stdout}; stderr ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await lostBridge!.close();
      const status = await exited;
      expect(stderr).toMatch(/^workcell: the bridge at ws:\/\/127\.0\.0\.1:\d+ closed the connection; the controller stops the jog by itself when its renewals stop\n$/);
      expect(status).toBe(1);
      // The controller, without renewals, ends the jog and stops the belt by itself.
      const end = Date.now() + 10_000;
      while (!journal().some((r) => r.kind === 'commissioning' && r.event === 'jog.end')) {
        if (Date.now() > end) throw new Error('the jog did not end without renewals');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(journal().find((r) => r.kind === 'commissioning' && r.event === 'jog.end')!.why).toBe('no renewal within 1000 ms (hold-to-run released)');
    } finally {
      await cell.close();
    }
  }, 40_000);
});
