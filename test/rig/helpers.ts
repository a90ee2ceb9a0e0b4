import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadCell } from '../../src/cell/load.js';
import type { CellDescription, ConveyorDescription } from '../../src/cell/schema.js';
import type { DeviceFeedback } from '../../src/devices/types.js';
import { RigBoard, packageRoot } from '../../src/rig/rigBoard.js';
import { boardMap, type BoardMap } from '../../src/serial/boardMap.js';
import { provisionBoard } from '../../src/serial/provision.js';
import type { ProvisionBody } from '../../src/serial/protocol.js';
import { StationLink, type LinkEvent } from '../../src/serial/station.js';

export const ROOT = packageRoot();
export const DEMO_SERIAL = path.join(ROOT, 'hardware', 'cells', 'demo-serial.yaml');
export const LINK = 'conveyor_board';

/** Builds the firmware (a no-op when it is current): the rig runs exactly what `make` produced. */
export function buildFirmware(): void {
  const r = spawnSync('make', ['-C', path.join(ROOT, 'hardware', 'firmware'), '--no-print-directory'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`firmware build failed:\n${r.stdout}\n${r.stderr}`);
}

export function demoSerial(): { cell: CellDescription; hash: string; map: BoardMap; conveyor: ConveyorDescription } {
  const loaded = loadCell(DEMO_SERIAL);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  const map = boardMap(loaded.cell, LINK, loaded.hash);
  return { cell: loaded.cell, hash: loaded.hash, map, conveyor: map.axis!.description };
}

export function pinOf(map: BoardMap, device: string, channel: string): number {
  const c = map.channels.find((x) => x.device === device && x.channel === channel);
  if (!c) throw new Error(`no channel ${device}.${channel} on the board`);
  return c.pin;
}

/** A board for the demo-serial conveyor: every wired input driven (e-stop healthy, guard closed, no part). */
export async function startDemoBoard(
  map: BoardMap,
  options: { startMm?: number; linkPath?: string; provision?: ProvisionBody; startUnplugged?: boolean } = {},
): Promise<RigBoard> {
  const conveyor = map.axis!.description;
  const inputs: Record<number, 0 | 1> = {};
  for (const c of map.channels) if (c.direction === 'input') inputs[c.pin] = c.activeLow ? 1 : 0;
  inputs[pinOf(map, 'safety_io', 'estop_ok')] = 1;
  inputs[pinOf(map, 'safety_io', 'guard_closed')] = 1;
  return RigBoard.start({
    physics: {
      stepsPerMm: conveyor.axis.stepsPerMm,
      encoderCountsPerMm: conveyor.axis.encoderCountsPerMm,
      homeMarks: { everyMm: conveyor.indexMm, halfWidthMm: 1 },
      startMm: options.startMm ?? 280,
      homeActiveLevel: conveyor.axis.homeSensor.activeLow ? 0 : 1,
    },
    inputs,
    ...(options.linkPath ? { linkPath: options.linkPath } : {}),
    ...(options.provision ? { provision: options.provision } : {}),
    ...(options.startUnplugged ? { startUnplugged: true } : {}),
  });
}

export async function provision(board: RigBoard, body: ProvisionBody): Promise<void> {
  await provisionBoard(board.linkPath, 115200, body);
}

/** What a failed wait prints to explain itself (set by the test file). */
export let explainTimeout: () => string = () => '';
export function setExplainTimeout(explain: () => string): void {
  explainTimeout = explain;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `ms` of the board's own (simulated) time has passed: a loaded host slows the rig down. */
export async function boardTimePasses(board: RigBoard, ms: number): Promise<void> {
  const from = (await board.state()).uptimeMs;
  await waitFor(`${ms} ms of board time`, async () => (await board.state()).uptimeMs >= from + ms, 30_000);
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${explainTimeout()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A link to the rig board, recording every feedback per device and every link event. */
export function openLink(map: BoardMap, hash: string, board: RigBoard | string, epoch?: number, hooks: { onEvent?: (event: LinkEvent) => void } = {}) {
  const events: LinkEvent[] = [];
  const link = new StationLink({
    map,
    descriptionHash: hash,
    path: typeof board === 'string' ? board : board.linkPath,
    reconnect: { initialMs: 50, maxMs: 400 },
    onEvent: (e) => {
      events.push(e);
      hooks.onEvent?.(e);
    },
    ...(epoch !== undefined ? { epoch } : {}),
  });
  const feedback = new Map<string, DeviceFeedback[]>();
  for (const [name, d] of link.devices) {
    feedback.set(name, []);
    d.onFeedback((fb) => feedback.get(name)!.push(fb));
    d.configure();
    d.activate();
  }
  const of = (device: string) => feedback.get(device)!;
  const last = <K extends DeviceFeedback['type']>(device: string, type: K) =>
    of(device).filter((f): f is Extract<DeviceFeedback, { type: K }> => f.type === type).at(-1);
  const explain = () =>
    JSON.stringify(
      {
        events: events.map((e) => ('reason' in e ? `${e.type}: ${e.reason}` : 'cause' in e ? `${e.type}: ${e.cause}` : e.type)),
        feedback: [...feedback].map(([d, fbs]) => [d, fbs.filter((f) => f.type !== 'reading' && f.type !== 'heartbeat').slice(-6)]),
        telemetry: link.lastTelemetry,
        health: { ...link.health(), boot: undefined },
      },
      null,
      1,
    );
  setExplainTimeout(explain);
  return { link, events, feedback, of, last, explain, conveyor: link.devices.get('conveyor')!, io: link.devices.get('safety_io')! };
}
