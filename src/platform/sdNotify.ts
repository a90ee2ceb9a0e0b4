/**
 * systemd's notification protocol (sd_notify): READY=1 once the controller runs, WATCHDOG=1 at
 * half the unit's WatchdogSec from the event loop (so a stalled loop stops the pings and systemd
 * restarts the controller, which boots in Stopped or Aborted, never in Execute), STOPPING=1 on
 * the way out. Without NOTIFY_SOCKET (not started by systemd) it does nothing.
 *
 * Node cannot send a unix datagram itself, and `systemd-notify` exits before systemd can
 * attribute its message to the service; so one long-lived python3 relay (ROS 2 requires python3,
 * and it is on every Debian-family controller) sends each line it is given as one datagram.
 * The unit needs NotifyAccess=all (the relay is a child of the main process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Face, RunContext } from '../runtime/run.js';

const RELAY = `
import os, socket, sys
address = os.environ["NOTIFY_SOCKET"]
if address.startswith("@"):
    address = "\\0" + address[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in sys.stdin:
    line = line.rstrip("\\n")
    if line:
        sock.sendto(line.encode(), address)
`;

export interface Notifier {
  /** READY=1 (with a STATUS= line). */
  ready(status: string): void;
  status(status: string): void;
  /** STOPPING=1, and the watchdog pings end. */
  stopping(): void;
  close(): void;
  /** Interval of the watchdog pings in ms, or undefined when the unit has no watchdog. */
  readonly watchdogIntervalMs: number | undefined;
}

/** A notifier for this process, or a no-op one when systemd is not listening. */
export function systemdNotifier(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): Notifier {
  const socketPath = env.NOTIFY_SOCKET;
  if (!socketPath) return { ready() {}, status() {}, stopping() {}, close() {}, watchdogIntervalMs: undefined };
  const watchdogUsec = Number(env.WATCHDOG_USEC);
  // WATCHDOG_PID, when set, names the process the watchdog is for.
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  const watchdogIntervalMs = Number.isFinite(watchdogUsec) && watchdogUsec > 0 && forUs ? watchdogUsec / 1000 / 2 : undefined;

  let relay: ChildProcess | undefined = spawn('python3', ['-c', RELAY], { env: { NOTIFY_SOCKET: socketPath, PATH: env.PATH ?? '/usr/bin:/bin' }, stdio: ['pipe', 'ignore', 'inherit'] });
  relay.on('error', (error) => {
    process.stderr.write(`workcell: systemd notification unavailable (${error.message}); is python3 installed?\n`);
    relay = undefined;
  });
  relay.stdin?.on('error', () => undefined);
  const send = (...lines: string[]) => {
    // One datagram per line; newlines inside a STATUS would split it.
    for (const line of lines) relay?.stdin?.write(`${line.replace(/[\r\n]+/g, ' ')}\n`);
  };
  let timer: NodeJS.Timeout | undefined;
  if (watchdogIntervalMs !== undefined) {
    timer = setInterval(() => send('WATCHDOG=1'), watchdogIntervalMs);
    timer.unref();
  }
  return {
    watchdogIntervalMs,
    ready: (status) => send('READY=1', `STATUS=${status}`),
    status: (status) => send(`STATUS=${status}`),
    stopping: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      send('STOPPING=1');
    },
    close: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      relay?.stdin?.end();
      relay = undefined;
    },
  };
}

/**
 * For CellRun's `faces`: READY once the controller runs (in Stopped or Aborted: it never starts
 * itself), the PackML state as the unit's STATUS, STOPPING on the way out.
 */
export function systemdFace(env: NodeJS.ProcessEnv = process.env): (ctx: RunContext) => Face {
  return (ctx) => {
    const notifier = systemdNotifier(env);
    let shown = ctx.controller.packmlState as string;
    notifier.ready(`${ctx.cell.cell.name}: ${shown}`);
    const unsubscribe = ctx.bus.subscribe(ctx.controller.topics.state, (msg) => {
      const state = (JSON.parse(msg.data) as { state: string }).state;
      if (state === shown) return;
      shown = state;
      notifier.status(`${ctx.cell.cell.name}: ${state}`);
    });
    return {
      close: () => {
        unsubscribe();
        notifier.stopping();
        notifier.close();
      },
    };
  };
}
