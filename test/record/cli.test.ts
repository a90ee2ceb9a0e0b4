import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { CLI, ROOT, tempDir, workcell, type CliResult } from '../e2e/cli.js';

/** The CLI in a child process without blocking the event loop (the test holds a port open meanwhile). */
function workcellAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('workcell run --record and workcell replay (built CLI)', () => {
  it('records a virtual-time run and replays it with no divergence', () => {
    const file = path.join(tempDir(), 'lot.mcap');
    const run = workcell(['run', '--sim', '--virtual-time', '--cycles', '5', '--autostart', '--seed', '4', '--record', file, '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const replay = workcell(['replay', file]);
    expect(replay.stderr).toBe('');
    expect(replay.stdout).toMatch(/no divergence/);
    expect(replay.stdout).toMatch(/final state Complete/);
    expect(replay.status).toBe(0);
    const json = JSON.parse(workcell(['replay', file, '--json']).stdout) as { divergences: unknown[]; finalState: string };
    expect(json).toMatchObject({ divergences: [], finalState: 'Complete' });
  });

  it('reports a port in use as bad input, not a crash', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const r = await workcellAsync(['run', '--sim', '--virtual-time', '--cycles', '1', '--ws-port', String(port)]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^workcell run: websocket bridge: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });

  it('refuses bad input with exit 2 and a reason', () => {
    const dir = tempDir();
    const missing = workcell(['replay', path.join(dir, 'nothing.mcap')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read recording .*nothing\.mcap/);
    const notMcap = workcell(['replay', path.join(path.dirname(new URL(import.meta.url).pathname), 'cli.test.ts')]);
    expect(notMcap.status).toBe(2);
    expect(notMcap.stderr).toMatch(/is not a readable MCAP file/);
    const wrongName = workcell(['run', '--sim', '--virtual-time', '--cycles', '1', '--record', path.join(dir, 'x.bag')]);
    expect(wrongName.status).toBe(2);
    expect(wrongName.stderr).toMatch(/--record .*x\.bag: the file name must end in \.mcap/);
    const small = workcell(['run', '--sim', '--virtual-time', '--cycles', '1', '--record', path.join(dir, 'x.mcap'), '--record-max-bytes', '1000']);
    expect(small.status).toBe(2);
    expect(small.stderr).toMatch(/--record-max-bytes must be at least 262144/);
    const open = workcell(['run', '--sim', '--virtual-time', '--cycles', '1', '--hmi', '--bind', '0.0.0.0']);
    expect(open.status).toBe(2);
    expect(open.stderr).toMatch(/binding 0\.0\.0\.0 \(not loopback\) needs --token/);
    const stray = workcell(['run', '--sim', '--virtual-time', '--cycles', '1', '--token', 'abcdefghij']);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toMatch(/add --hmi \(or --ws-port\)/);
    const unwritable = workcell(['run', '--sim', '--virtual-time', '--cycles', '1', '--record', path.join(dir, 'no', 'such', 'dir', 'x.mcap')]);
    expect(unwritable.status).toBe(2);
    expect(unwritable.stderr).toMatch(/^workcell run: --record .*x\.mcap: cannot write it: ENOENT/);
    const badPort = workcell(['run', '--sim', '--hmi', '--ws-port', '70000']);
    expect(badPort.status).toBe(2);
    expect(badPort.stderr).toMatch(/--ws-port must be a port number/);
  });
});
