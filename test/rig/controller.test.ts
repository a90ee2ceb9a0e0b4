/**
 * The controller on the rig: the demo-serial cell with its conveyor and safety I/O on a simulated
 * station board. Pulling the board's cable in Execute aborts the cell (the board carries the
 * safety-relevant I/O) while the board stops itself; plugging it back reconnects, re-identifies
 * the board, and the operator's Clear and Reset bring the cell back, homing the axis again. A board
 * that carries nothing safety-relevant holds the cell instead, and Unhold resyncs it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadCell } from '../../src/cell/load.js';
import { startCellRig, type CellRig } from '../../src/rig/cellRig.js';
import { CellRun } from '../../src/runtime/run.js';
import { buildFirmware, DEMO_SERIAL, setExplainTimeout, waitFor } from './helpers.js';

type CellDoc = {
  links: Record<string, { watchdog_ms?: number }>;
  devices: Record<string, { link: string; heartbeat?: { period_ms: number; miss_count: number }; takeaway_ms?: number }>;
};

/**
 * The demo-serial cell as these tests run it, written to a temporary file. Each test controller
 * shares two cores with two simulated boards (and, on a busy machine, much more): its event loop
 * may stall for half a second. With the demo's 400 ms heartbeat watch and 250 ms board watchdog
 * such a stall aborts the cell before the test has done anything, so here a device is silent only
 * after 1.5 s and a board trips its watchdog after 1 s. What the tests assert — a pulled cable is
 * noticed, the board stops by itself, nothing restarts — is unchanged, only noticed later.
 * The exit sensor reaches the board through this process (the simulated belt follows the board's
 * steps, the simulated sensor drives the board's pin), a loop that lags on a loaded host; and the
 * simulated downstream takes a part away takeaway_ms after it entered the exit window of a belt
 * moved from outside (SimConveyor.followBelt cannot tell a slowly moving belt from one at rest).
 * With the demo's 500 ms a part could vanish before the controller saw it at the exit; with 1.5 s
 * it stays long enough to be seen.
 */
function loadTolerantCell(edit: (doc: CellDoc) => void = () => {}) {
  const doc = parse(readFileSync(DEMO_SERIAL, 'utf8')) as CellDoc;
  for (const device of Object.values(doc.devices)) if (device.heartbeat) device.heartbeat = { period_ms: 100, miss_count: 15 };
  const conveyor = doc.devices['conveyor'];
  if (conveyor) conveyor.takeaway_ms = 1500;
  const board = doc.links['conveyor_board'];
  if (board) board.watchdog_ms = 1000;
  edit(doc);
  const dir = mkdtempSync(path.join(tmpdir(), 'workcell-rig-cell-'));
  const cellPath = path.join(dir, 'cell.yaml');
  writeFileSync(cellPath, stringify(doc));
  const loaded = loadCell(cellPath);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return { cellPath, cell: loaded.cell, hash: loaded.hash, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What a timed-out wait prints: the cell's state, its last faults and refusals, the links. */
function explainRun(r: CellRun): void {
  setExplainTimeout(() =>
    JSON.stringify(
      {
        state: r.state,
        records: (r.memory!.records() as Array<Record<string, unknown>>)
          .filter((x) => x.kind === 'fault' || x.kind === 'transition' || x.feedback === 'refused' || x.feedback === 'reset')
          .slice(-12),
        links: rig?.links.map((l) => ({ ...l.health(), boot: undefined })),
      },
      null,
      1,
    ),
  );
}

let rig: CellRig | undefined;
let run: CellRun | undefined;
const cleanups: Array<() => void> = [];
async function closeAll(): Promise<void> {
  await run?.close();
  await rig?.close();
  run = undefined;
  rig = undefined;
  for (const remove of cleanups.splice(0)) remove();
}
afterAll(closeAll);

it('lost steps on the board show as index_short and the cell recovers through Resync, parts still exiting', async () => {
  buildFirmware();
  const { cellPath, cell, hash, remove } = loadTolerantCell();
  cleanups.push(remove);
  rig = await startCellRig(cell, hash);
  run = new CellRun({ cellPath, autostart: true, keepJournal: true, cycles: 2, drivers: (ctx) => rig!.drivers(ctx) });
  run.start();
  const r = run;
  explainRun(r);
  const records = () => r.memory!.records() as Array<Record<string, unknown>>;
  await waitFor('Execute', () => r.state === 'Execute', 20_000);
  // The belt slips for the first index: 30 mm of steps that do not move it.
  await rig.boards.get('conveyor_board')!.slip(300);
  await waitFor('the lot to complete', () => r.state === 'Complete', 60_000);
  const fault = records().find((x) => x.kind === 'fault' && x.fault === 'index_short');
  expect(fault).toMatchObject({ device: 'conveyor' });
  expect(records().filter((x) => x.kind === 'recovery').map((x) => x.recovery)).toContain('resync');
  expect(r.controller.tracker.totals().exited).toBe(2);
  await closeAll();
}, 150_000);

it('a pulled cable aborts the cell; plugged back, the board is re-identified and Clear, Reset home it again', async () => {
  buildFirmware();
  const { cellPath, cell, hash, remove } = loadTolerantCell();
  cleanups.push(remove);
  rig = await startCellRig(cell, hash);
  run = new CellRun({ cellPath, autostart: true, keepJournal: true, drivers: (ctx) => rig!.drivers(ctx) });
  run.start();
  const r = run;
  explainRun(r);
  const records = () => r.memory!.records() as Array<Record<string, unknown>>;
  await waitFor('Execute with the conveyor homed', () => r.state === 'Execute' && r.controller.tracker.released > 0, 20_000);
  const board = rig.boards.get('conveyor_board')!;

  // A babbling line first: random bytes from the board's side are dropped and counted; the cell runs on.
  const released = r.controller.tracker.released;
  const bad = () => rig!.links[0]!.health().port!.crcErrorsIn + rig!.links[0]!.health().port!.framingErrorsIn;
  const badBefore = bad();
  let seed = 4242;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let burst = 0; burst < 20; burst++) await board.inject(Uint8Array.from({ length: 200 }, random));
  await waitFor('the garbage counted', () => bad() > badBefore);
  await waitFor('the next part released', () => r.controller.tracker.released > released, 45_000);
  expect(r.state).toBe('Execute');
  expect(records().filter((x) => x.kind === 'fault')).toEqual([]);

  await board.unplug();
  await waitFor('Aborted', () => r.state === 'Aborted', 10_000);
  const lost = records().find((x) => x.kind === 'fault' && x.fault === 'heartbeat_lost' && x.device === 'safety_io');
  expect(lost).toBeDefined();
  await waitFor('the board to stop by itself', async () => !(await board.state()).driveEnabled);

  await board.plug();
  await waitFor('reconnected', () => rig!.links[0]!.health().connects === 2, 10_000);
  await waitFor('safety_io heard from again', () => records().some((x) => x.kind === 'recovery' && x.device === 'safety_io'));
  // Nothing restarts by itself.
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(r.state).toBe('Aborted');

  r.send('clear');
  await waitFor('Stopped', () => r.state === 'Stopped', 10_000);
  r.send('reset');
  await waitFor('Idle after homing through the board', () => r.state === 'Idle', 20_000);
  expect(rig.links[0]!.devices.get('conveyor')!.read().axis?.homed).toBe(true);
}, 150_000);

it('a pulled cable of a board without safety-relevant devices holds the cell; plugged back, Unhold resyncs and the lot completes', async () => {
  buildFirmware();
  // demo-serial with only the conveyor on its board; everything else on the simulator.
  const unpin = (x: unknown): void => {
    if (x && typeof x === 'object') {
      delete (x as { pin?: unknown }).pin;
      for (const v of Object.values(x)) unpin(v);
    }
  };
  const loaded = loadTolerantCell((doc) => {
    for (const [name, device] of Object.entries(doc.devices)) {
      if (name === 'conveyor') continue;
      device.link = 'sim';
      unpin(device);
    }
    for (const name of Object.keys(doc.links)) if (name !== 'sim' && name !== 'conveyor_board') delete doc.links[name];
  });
  const cellPath = loaded.cellPath;
  cleanups.push(loaded.remove);
  try {
    rig = await startCellRig(loaded.cell, loaded.hash);
    run = new CellRun({ cellPath, autostart: true, keepJournal: true, cycles: 2, drivers: (ctx) => rig!.drivers(ctx) });
    run.start();
    const r = run;
    explainRun(r);
    const records = () => r.memory!.records() as Array<Record<string, unknown>>;
    await waitFor('Execute with a part released', () => r.state === 'Execute' && r.controller.tracker.released > 0, 20_000);
    const board = rig.boards.get('conveyor_board')!;

    await board.unplug();
    await waitFor('Held', () => r.state === 'Held', 10_000);
    expect(records().find((x) => x.kind === 'fault' && x.fault === 'heartbeat_lost')).toMatchObject({ device: 'conveyor' });
    await waitFor('the board to stop by itself', async () => !(await board.state()).driveEnabled);

    await board.plug();
    await waitFor('reconnected', () => rig!.links[0]!.health().connects === 2, 10_000);
    await waitFor('the lost position reported', () => records().some((x) => x.kind === 'fault' && x.fault === 'axis_position_lost'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.state).toBe('Held');

    r.send('unhold');
    // On a loaded machine this process may stall past the board's watchdog even so: the
    // board trips, the cell holds, and the operator unholds once more (as many times as it takes).
    let unholds = 1;
    await waitFor(
      'the lot to complete',
      () => {
        if (r.state === 'Held' && unholds < 6) {
          unholds++;
          r.send('unhold');
        }
        return r.state === 'Complete';
      },
      90_000,
    );
    expect(records().some((x) => x.kind === 'recovery' && x.recovery === 'resync' && x.reason === 'unhold')).toBe(true);
    expect(r.controller.tracker.totals()).toMatchObject({ exited: 2, lost: 0 });
  } finally {
    await closeAll();
  }
}, 150_000);
