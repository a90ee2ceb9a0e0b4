/**
 * `workcell jog`, `workcell io`, `workcell teach`: commissioning against a running controller,
 * through its Foxglove WebSocket bridge (`workcell run --hmi` or `--ws-port`), with the same
 * command text every face carries (docs/commissioning.md). Exit codes: 0 done; 1 the controller
 * refused (the reason is printed); 2 bad usage or no connection.
 */
import foxgloveWsProtocol from '@foxglove/ws-protocol';
import { createInterface } from 'node:readline/promises';
import WebSocket from 'ws';
import type { CommissioningView } from '../commissioning/commissioning.js';
import type { DiagnosticArray } from '../interface/messages.js';
import type { CellEventMessage, CellStateMessage } from '../interface/operator.js';

const { FoxgloveClient } = foxgloveWsProtocol;
type Client = InstanceType<typeof FoxgloveClient>;

export interface RemoteOptions {
  url: string;
  token?: string;
  /** How long to wait for the connection and for each answer, ms (default 10 s; `--timeout`). */
  timeoutMs?: number;
}

type Out = { write(text: string): unknown };

/** A connection to a running controller's bridge: its state, its events, and commands. */
export class RemoteCell {
  state: CellStateMessage | undefined;
  diagnostics: DiagnosticArray | undefined;
  readonly events: CellEventMessage[] = [];
  private commandChannel: number | undefined;
  private readonly waiters = new Set<() => void>();
  /** Pending waits: a lost connection ends them at once, with its reason, instead of at their timeout. */
  private readonly pending = new Set<{ timer: ReturnType<typeof setTimeout>; reject: (error: Error) => void }>();
  /** Why the connection is gone, once it is. */
  private lost: Error | undefined;

  /** Why the connection to the bridge is gone (undefined while it is up, or closed by us). */
  get connectionLost(): string | undefined {
    return this.closed ? undefined : this.lost?.message;
  }
  private closed = false;

  private constructor(
    private readonly client: Client,
    private readonly timeoutMs: number,
  ) {}

  static async connect(options: RemoteOptions): Promise<RemoteCell> {
    const url = new URL(options.url);
    if (options.token !== undefined) url.searchParams.set('token', options.token);
    const ws = new WebSocket(url.toString(), [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    const client = new FoxgloveClient({ ws: ws as never });
    const remote = new RemoteCell(client, options.timeoutMs ?? 10_000);
    const subs = new Map<number, string>();
    let namespace = '/workcell';
    const decoder = new TextDecoder();
    let connected = false;
    const failed = new Promise<never>((_, reject) => {
      client.on('error', (e) => {
        const error = new Error(`${connected ? 'lost the bridge at' : 'cannot reach the bridge at'} ${options.url}: ${e instanceof Error ? e.message : String(e)}`);
        remote.fail(error);
        reject(error);
      });
      client.on('close', () => {
        if (remote.closed) return;
        const error = new Error(`the bridge at ${options.url} closed the connection`);
        remote.fail(error);
        reject(error);
      });
    });
    failed.catch(() => {});
    client.on('serverInfo', (info) => {
      namespace = info.metadata?.commandTopic?.replace(/\/command$/, '') ?? namespace;
      if (info.capabilities.includes('clientPublish')) {
        remote.commandChannel = client.advertise({ topic: `${namespace}/command`, encoding: 'json', schemaName: 'std_msgs/msg/String' });
      }
      remote.wake();
    });
    client.on('advertise', (channels) => {
      for (const c of channels) {
        if (![`${namespace}/state`, `${namespace}/events`, '/diagnostics'].includes(c.topic) || c.encoding !== 'json') continue;
        subs.set(client.subscribe(c.id), c.topic);
      }
    });
    client.on('message', ({ subscriptionId, data }) => {
      const topic = subs.get(subscriptionId);
      if (topic === undefined) return;
      const message = JSON.parse(decoder.decode(data)) as { data?: string } & DiagnosticArray;
      if (topic === '/diagnostics') remote.diagnostics = message;
      else if (topic.endsWith('/state')) remote.state = JSON.parse(message.data!) as CellStateMessage;
      else remote.events.push(JSON.parse(message.data!) as CellEventMessage);
      remote.wake();
    });
    client.on('status', (s) => {
      if (s.level >= 1 && /read-only|token/.test(s.message)) remote.readOnly = s.message;
      remote.wake();
    });
    try {
      await Promise.race([remote.until(() => remote.state !== undefined && remote.commandChannel !== undefined, 'the cell state from the bridge'), failed]);
    } catch (error) {
      remote.close();
      throw error;
    }
    connected = true;
    return remote;
  }

  /** Set when the bridge said this client may not command (no valid token). */
  readOnly: string | undefined;

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The connection is gone: every wait ends now with the reason (no wait runs to its timeout). */
  private fail(error: Error): void {
    this.lost ??= error;
    for (const p of [...this.pending]) {
      clearTimeout(p.timer);
      p.reject(this.lost);
    }
    this.pending.clear();
    this.waiters.clear();
  }

  /** Resolve once `check` holds (checked on every message). */
  until<T>(check: () => T | undefined | false, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.lost) {
        reject(this.lost);
        return;
      }
      const attempt = () => {
        const v = check();
        if (v === undefined || v === false) return;
        this.waiters.delete(attempt);
        clearTimeout(entry.timer);
        this.pending.delete(entry);
        resolve(v);
      };
      const entry = {
        timer: setTimeout(() => {
          this.waiters.delete(attempt);
          this.pending.delete(entry);
          reject(new Error(`no answer from the controller: timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
        reject,
      };
      this.pending.add(entry);
      this.waiters.add(attempt);
      attempt();
    });
  }

  /** Send a command without waiting for its verdict (jog renewals). */
  post(command: string): void {
    this.client.sendMessage(this.commandChannel!, new TextEncoder().encode(JSON.stringify({ data: command })));
  }

  /** Send a command and wait for its verdict: undefined when accepted, else the reason. */
  async command(command: string): Promise<string | undefined> {
    const shown = command.trim().toLowerCase().replace(/\s+/g, ' ');
    const from = this.events.length;
    this.post(command);
    const verdict = await this.until(
      () => this.events.slice(from).find((e) => (e.type === 'command.accepted' || e.type === 'command.rejected') && e.command === shown.slice(0, 80)),
      `the verdict on "${shown}"`,
    );
    return verdict.type === 'command.rejected' ? verdict.reason : undefined;
  }

  close(): void {
    this.closed = true;
    this.fail(new Error('the connection was closed'));
    this.client.close();
  }
}

async function withRemote(options: RemoteOptions, err: Out, act: (remote: RemoteCell) => Promise<number>): Promise<number> {
  let remote: RemoteCell;
  try {
    remote = await RemoteCell.connect(options);
  } catch (e) {
    err.write(`workcell: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  try {
    if (remote.readOnly) {
      err.write(`workcell: ${remote.readOnly}\n`);
      return 2;
    }
    return await act(remote);
  } catch (e) {
    err.write(`workcell: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    remote.close();
  }
}

function refused(err: Out, command: string, reason: string | undefined): number {
  if (reason === undefined) return 0;
  err.write(`workcell: "${command}" refused: ${reason}\n`);
  return 1;
}

// -------------------------------------------------------------------------------------------------
// workcell jog

export interface JogCliOptions extends RemoteOptions {
  /** Continuous jogs: hold for at most this long, ms (Enter or Ctrl-C releases earlier). */
  holdMs?: number;
  speed?: number;
}

/**
 * `workcell jog <device> [joint] <+|-><distance>|<+|-> ...`: the CLI holds the jog by renewing it
 * (hold-to-run) until the distance is done, `--for` elapses, Enter or Ctrl-C — then it stops
 * renewing and the controller stops the axis within the renewal timeout, or at once on Ctrl-C.
 */
export async function runJog(args: string[], options: JogCliOptions, out: Out, err: Out): Promise<number> {
  if (args.length < 2) {
    err.write('workcell jog: usage: workcell jog <conveyor> <+|->[mm] | workcell jog <arm> <joint> <+|->[rad] (a bare + or - is continuous)\n');
    return 2;
  }
  const motion = args.at(-1)!;
  const continuous = motion === '+' || motion === '-';
  const text = `jog ${args.join(' ')}${continuous ? ' continuous' : ''}${options.speed !== undefined ? ` at ${options.speed}` : ''}`;
  return withRemote(options, err, async (remote) => {
    const renewEvery = Math.max(20, (remote.state?.commissioning?.limits.jogRenewTimeoutMs ?? 300) / 3);
    const reason = await remote.command(text);
    if (reason !== undefined) return refused(err, text, reason);
    out.write(`${text}: accepted; holding (Enter or Ctrl-C releases)\n`);
    let released = false;
    const release = () => {
      released = true;
    };
    const stdin = process.stdin.isTTY ? createInterface({ input: process.stdin }) : undefined;
    stdin?.once('line', release);
    process.once('SIGINT', release);
    const deadline = performance.now() + (options.holdMs ?? (continuous ? 10_000 : 60_000));
    try {
      while (!released && performance.now() < deadline && remote.state?.commissioning?.jog && !remote.connectionLost) {
        await new Promise((resolve) => setTimeout(resolve, renewEvery));
        if (remote.state?.commissioning?.jog && !remote.connectionLost) remote.post('jog renew');
      }
      const lost = remote.connectionLost;
      if (lost !== undefined) {
        // No renewal reaches the controller any more: it stops the axis by itself within the renewal timeout.
        err.write(`workcell: ${lost}; the controller stops the jog by itself when its renewals stop\n`);
        return 1;
      }
      if (remote.state?.commissioning?.jog) await remote.command('jog stop').catch(() => undefined);
      const end = [...remote.events].reverse().find((e) => e.type === 'commissioning' && e.event === 'jog.end');
      out.write(`${end?.type === 'commissioning' ? end.message : 'jog ended'}\n`);
      printPositions(out, remote.state?.commissioning);
      return 0;
    } finally {
      stdin?.close();
      process.off('SIGINT', release);
    }
  });
}

function printPositions(out: Out, view: CommissioningView | undefined): void {
  for (const [device, p] of Object.entries(view?.positions ?? {})) {
    if ('joints' in p) out.write(`${device}: ${Object.entries(p.joints).map(([j, q]) => `${j}=${q}`).join(' ')} rad\n`);
    else out.write(`${device}: ${p.mm === null ? 'not homed' : `${p.mm} mm`}\n`);
  }
}

// -------------------------------------------------------------------------------------------------
// workcell io

/**
 * `workcell io`: the I/O view (every input and output, what is forced) and device diagnostics;
 * `workcell io force <device.channel> on|off <duration> <reason...>`, `workcell io unforce <ref|all>`.
 */
export async function runIo(args: string[], options: RemoteOptions & { json?: boolean }, out: Out, err: Out): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== undefined && verb !== 'force' && verb !== 'unforce') {
    err.write(`workcell io: unknown action "${verb}" (expected nothing, force or unforce)\n`);
    return 2;
  }
  if (verb === 'force' && rest.length < 4) {
    err.write('workcell io force: usage: workcell io force <device.channel> on|off <duration: 30s, 5m> <reason...>\n');
    return 2;
  }
  return withRemote(options, err, async (remote) => {
    if (verb !== undefined) {
      const text = verb === 'force' ? `force ${rest.slice(0, 3).join(' ')} ${JSON.stringify(rest.slice(3).join(' '))}` : `unforce ${rest.join(' ')}`;
      const reason = await remote.command(text);
      if (reason !== undefined) return refused(err, text, reason);
      out.write(`${text}: accepted\n`);
    }
    // Diagnostics come periodically: wait briefly for one.
    await remote.until(() => remote.diagnostics, '/diagnostics', 2500).catch(() => undefined);
    const view = remote.state?.commissioning;
    if (options.json) {
      out.write(`${JSON.stringify({ mode: remote.state?.mode, io: view?.io ?? null, forced: view?.forced ?? [], diagnostics: remote.diagnostics?.status ?? [] })}\n`);
      return 0;
    }
    if (!view) {
      out.write(`the cell is in ${remote.state?.mode ?? 'an unknown'} mode: the I/O view is shown in Manual and Maintenance mode ("workcell run" operator: mode maintenance)\n`);
    } else {
      out.write('device      channel          dir  value  \n');
      for (const p of view.io) {
        const flags = [p.forced ? 'FORCED' : '', p.direction === 'output' && p.forceable === false ? 'not forceable' : ''].filter(Boolean).join(', ');
        out.write(`${p.device.padEnd(11)} ${p.channel.padEnd(16)} ${p.direction === 'input' ? 'in ' : 'out'}  ${(p.value ? 'on' : 'off').padEnd(5)}  ${flags}\n`);
      }
      for (const f of view.forced) out.write(`forced: ${f.device}.${f.channel} ${f.value ? 'on' : 'off'} for up to ${f.limitMs / 1000} s by ${f.source}: ${f.reason}\n`);
    }
    for (const s of remote.diagnostics?.status ?? []) {
      out.write(`${s.name}: ${s.message}; ${s.values.map((v) => `${v.key}=${v.value}`).join(' ')}\n`);
    }
    return 0;
  });
}

// -------------------------------------------------------------------------------------------------
// workcell teach

/**
 * `workcell teach pose <arm> <pose>` / `workcell teach position <conveyor> <key>`: asks the
 * controller for the edit, shows its diff, and writes it only after a yes (or with --yes).
 */
export async function runTeach(args: string[], options: RemoteOptions & { yes?: boolean }, out: Out, err: Out): Promise<number> {
  if (args.length !== 3 || (args[0] !== 'pose' && args[0] !== 'position')) {
    err.write('workcell teach: usage: workcell teach pose <arm> <pose> | workcell teach position <conveyor> <name>_position_mm\n');
    return 2;
  }
  const text = `teach ${args.join(' ')}`;
  return withRemote(options, err, async (remote) => {
    const from = remote.events.length;
    const reason = await remote.command(text);
    if (reason !== undefined) return refused(err, text, reason);
    const proposed = await remote.until(
      () => remote.events.slice(from).find((e): e is Extract<CellEventMessage, { type: 'commissioning' }> => e.type === 'commissioning' && e.event === 'teach.proposed'),
      'the teach proposal',
    );
    out.write(proposed.diff ?? '');
    out.write(`\n${proposed.message}\n`);
    let yes = options.yes === true;
    if (!yes) {
      if (!process.stdin.isTTY) {
        await remote.command('teach cancel');
        err.write('workcell teach: not written: confirm with --yes (no terminal to ask on)\n');
        return 1;
      }
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      yes = /^y(es)?$/i.test((await rl.question('Write this change? [y/N] ')).trim());
      rl.close();
    }
    if (!yes) {
      await remote.command('teach cancel');
      out.write('not written\n');
      return 1;
    }
    const confirm = `teach confirm ${proposed.id}`;
    const refusal = await remote.command(confirm);
    if (refusal !== undefined) return refused(err, confirm, refusal);
    const written = await remote.until(() => remote.events.slice(from).find((e) => e.type === 'commissioning' && e.event === 'teach.written'), 'the write');
    out.write(`${written.type === 'commissioning' ? written.message : 'written'}\n`);
    return 0;
  });
}
