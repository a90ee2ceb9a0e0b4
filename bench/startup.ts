/**
 * 6: start-up. The built CLI is spawned as a user would start it (`workcell run --sim --ws-port 0`,
 * the demo cell, no autostart); the clock starts just before spawn() and stops when a WebSocket
 * client (the Foxglove protocol client, as the HMI would be) receives /workcell/state with the cell
 * in Stopped: the process is up, the controller booted, the operator interface answers. The time
 * of the CLI's "waiting in Stopped" line on stdout is recorded too.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import foxgloveWsProtocol from '@foxglove/ws-protocol';
import WebSocket from 'ws';
import { distributionFigure, type Section } from './results.js';
import { CLI, ROOT, type BenchOptions } from './options.js';

const { FoxgloveClient } = foxgloveWsProtocol;

interface StartupSample {
  waitingLineMs: number;
  stoppedOnWsMs: number;
}

async function startOnce(): Promise<StartupSample> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', '--sim', '--ws-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    return await new Promise<StartupSample>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let waitingLineMs: number | undefined;
      let connecting = false;
      const timer = setTimeout(() => reject(new Error(`no Stopped state on the WebSocket within 20 s; stderr: ${stderr.trim()}`)), 20_000);
      child.on('exit', (code) => reject(new Error(`workcell run exited ${code} before it was ready: ${stderr.trim()}`)));
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (waitingLineMs === undefined && stdout.includes('waiting in Stopped')) waitingLineMs = performance.now() - t0;
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /Foxglove WebSocket bridge on (ws:\/\/\S+?)\/?(?:;|\s|$)/.exec(stderr);
        if (!m || connecting) return;
        connecting = true;
        const client = new FoxgloveClient({ ws: new WebSocket(m[1]!, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]) });
        const decoder = new TextDecoder();
        let stateSub: number | undefined;
        client.on('advertise', (channels) => {
          const state = channels.find((c) => c.topic.endsWith('/state') && c.topic.startsWith('/workcell'));
          if (state && stateSub === undefined) stateSub = client.subscribe(state.id);
        });
        client.on('message', ({ subscriptionId, data }) => {
          if (subscriptionId !== stateSub) return;
          const body = JSON.parse(decoder.decode(data)) as { data?: string };
          const state = body.data ? (JSON.parse(body.data) as { state?: string }).state : undefined;
          if (state !== 'Stopped') return;
          const stoppedOnWsMs = performance.now() - t0;
          clearTimeout(timer);
          client.close();
          if (waitingLineMs === undefined) reject(new Error('Stopped on the WebSocket before the "waiting in Stopped" line'));
          else resolve({ waitingLineMs, stoppedOnWsMs });
        });
        client.on('error', (e) => reject(e));
      });
    });
  } finally {
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await gone;
    }
  }
}

export async function startupSections(opts: BenchOptions): Promise<Section[]> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const runs = opts.quick ? 5 : 20;
  await startOnce(); // the first start reads everything from disk; the figures are for a warm file cache
  const samples: StartupSample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await startOnce());
  return [
    {
      id: 'startup',
      title: '6 start-up',
      figures: [
        distributionFigure('startup.stoppedOnWebSocket', 'spawn → Stopped received over WebSocket', 'ms', samples.map((s) => s.stoppedOnWsMs), { stat: 'p99', op: '<=', limit: 1000 }),
        distributionFigure('startup.waitingLine', 'spawn → "waiting in Stopped" on stdout', 'ms', samples.map((s) => s.waitingLineMs)),
      ],
      notes: [`${runs} starts of the built CLI (\`workcell run --sim --ws-port 0\`, demo cell) after one unmeasured warm-up start; each ended with SIGINT.`],
    },
  ];
}
