/**
 * A conveyor jog through the rig: the demo-serial cell's conveyor on a simulated station board
 * running the real firmware (avr8js behind a pty), in real time. The jog's bounded increments
 * reach the board as MOVE frames with the reduced speed; the belt stops when renewals stop; the
 * board's link diagnostics (station id, firmware, frame counters) reach /diagnostics. Then the
 * guard door and the e-stop, opened on the board's inputs during a jog, act exactly as in
 * Production (a protective stop and the interlock; the safe state and Aborted).
 */
import { afterAll, expect, it } from 'vitest';
import type { DiagnosticStatus } from '../../src/interface/messages.js';
import type { CellEventMessage } from '../../src/interface/operator.js';
import { startCellRig, type CellRig } from '../../src/rig/cellRig.js';
import { CellRun } from '../../src/runtime/run.js';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCell } from '../../src/cell/load.js';
import { boardMap } from '../../src/serial/boardMap.js';
import { buildFirmware, DEMO_SERIAL, pinOf, waitFor } from '../rig/helpers.js';

/**
 * demo-serial with heartbeats of 250 ms instead of 100 ms, 8 of them missed before a device counts
 * as lost (2 s): the emulated boards share two busy CI cores with everything else, which can stall
 * this process for a second, and these tests are about the jog, not about heartbeat timing (the rig
 * tests cover that). The hold-to-run timeout stays the description's 300 ms.
 */
function tolerantDemoSerial(): { path: string; cell: ReturnType<typeof loadCell> & { ok: true } } {
  const path = join(mkdtempSync(join(tmpdir(), 'workcell-commissioning-rig-')), 'demo-serial.yaml');
  copyFileSync(DEMO_SERIAL, path);
  writeFileSync(path, readFileSync(path, 'utf8').replace(/heartbeat: \{ period_ms: 100, miss_count: \d+ \}/g, 'heartbeat: { period_ms: 250, miss_count: 8 }'));
  const loaded = loadCell(path);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  for (const [name, device] of Object.entries(loaded.cell.devices)) {
    if (device.heartbeat && device.heartbeat.missCount !== 8) throw new Error(`the tolerant heartbeat was not applied to ${name}`);
  }
  return { path, cell: loaded };
}

let rig: CellRig | undefined;
let run: CellRun | undefined;
/** The events of the first test's cell (the e-stop test continues on the same cell and boards). */
const events: CellEventMessage[] = [];
let cellPath = '';
afterAll(async () => {
  await run?.close();
  await rig?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The journal without the operator's repeated commands and their refusals, to explain a failure. */
function quietRecords(r: CellRun) {
  return r.memory!.records().filter((x) => x.kind !== 'command' && x.kind !== 'interlock.refused');
}

it('jogs the conveyor through the station board at the reduced speed, only while renewed', async () => {
  buildFirmware();
  const { path, cell: loaded } = tolerantDemoSerial();
  cellPath = path;
  const { cell, hash } = loaded;
  rig = await startCellRig(cell, hash);
  run = new CellRun({ cellPath: path, keepJournal: true, drivers: (ctx) => rig!.drivers(ctx) });
  const r = run;
  r.bus.subscribe(r.controller.topics.events, (m) => events.push(JSON.parse(m.data) as CellEventMessage));
  const diagnostics: DiagnosticStatus[] = [];
  r.bus.subscribe(r.controller.topics.diagnostics, (m) => diagnostics.push(...m.status));
  r.start();
  const board = rig.boards.get('conveyor_board')!;
  await waitFor('the board identified and heard from', () => r.controller.stateMessage().devices.every((d) => d.healthy) && rig!.links[0]!.health().boot !== undefined, 20_000);

  // Home first (as commissioning does): the board has moved once and its latch is cleared.
  r.send('reset');
  await waitFor('Idle after homing through the board', () => r.state === 'Idle', 30_000).catch((error: Error) => {
    // Say where it stood: the last journal records tell a stuck homing from a stuck link.
    const last = r.memory!.records().slice(-12).map((x) => JSON.stringify(x).slice(0, 300));
    throw new Error(`${error.message}; state ${r.state}; last records:\n${last.join('\n')}`);
  });
  r.send('mode manual');
  r.send('jog conveyor + continuous');
  expect(events.filter((e) => e.type === 'command.rejected')).toEqual([]);
  const startMm = (await board.state()).beltMm;
  const limit = cell.commissioning.jogSpeedMmS;
  const t0 = performance.now();
  for (let i = 0; i < 12; i++) {
    await sleep(100);
    // On a loaded machine the board's inputs can go stale for a moment (no telemetry for two
    // heartbeat periods); they then count as dangerous and the interlock refuses the next
    // increment, ending the jog, exactly as it would refuse production motion. Jog again.
    if (r.controller.stateMessage().commissioning?.jog === null) r.send('jog conveyor + continuous');
    else r.send('jog renew');
  }
  const lastRenewal = performance.now();
  const heldMm = (await board.state()).beltMm - startMm;
  // The belt really moved, and on average no faster than the reduced speed.
  expect(heldMm).toBeGreaterThan(30);
  expect(heldMm / ((lastRenewal - t0) / 1000)).toBeLessThanOrEqual(limit);

  await waitFor('the jog to end by itself', () => events.some((e) => e.type === 'commissioning' && e.event === 'jog.end'), 3000);
  await waitFor('the belt to stand still', async () => !r.controller.stateMessage().devices.find((d) => d.name === 'conveyor')!.moving, 3000);
  const stopped = await board.state();
  await sleep(500);
  expect((await board.state()).beltMm).toBe(stopped.beltMm);
  // The last step pulse came within the renewal timeout (plus deceleration and link latency).
  expect(stopped.lastStepAt).toBeGreaterThan(0);
  const journal = r.memory!.records();
  const end = journal.filter((x) => x.kind === 'commissioning' && x.event === 'jog.end').at(-1)!;
  expect(end.why).toMatch(/no renewal within 300 ms|refused: interlock nothing_moves_with_guard_open/);
  // Every increment left as an index with the reduced speed scale, through the step path.
  const sent = journal.filter((x) => x.kind === 'device.command' && x.step === 'jog');
  expect(sent.length).toBeGreaterThan(2);
  for (const x of sent) expect(x.command).toMatchObject({ type: 'index', speedScale: limit / 400 });
  expect(journal.some((x) => x.kind === 'device.command' && x.device === 'conveyor' && (x.command as { type: string }).type === 'stop')).toBe(true);
  expect(performance.now() - lastRenewal).toBeGreaterThan(0);

  // Device diagnostics from the board: station id, firmware, frame counters.
  await waitFor('diagnostics with the board link', () => diagnostics.find((s) => s.name === 'workcell: conveyor' && s.values.some((v) => v.key === 'station_id')), 3000);
  const conveyor = diagnostics.filter((s) => s.name === 'workcell: conveyor').at(-1)!;
  const values = Object.fromEntries(conveyor.values.map((v) => [v.key, v.value]));
  expect(values.station_id).toBe(String(cell.links.conveyor_board!.transport === 'serial' ? cell.links.conveyor_board!.stationId : -1));
  expect(values.firmware).toMatch(/^\d+\.\d+$/);
  expect(Number(values.frames_in)).toBeGreaterThan(10);
  expect(Number(values.retransmissions)).toBeGreaterThanOrEqual(0);
}, 60_000);

it('the guard door opened on the board during a conveyor jog: a protective stop ends it, and the interlock refuses jogging until it closes', async () => {
  const r = run!;
  try {
    // Continues on the first test's cell: Manual mode, Idle, the jog over.
    const board = rig!.boards.get('conveyor_board')!;
    const loaded = loadCell(cellPath);
    if (!loaded.ok) throw new Error('the cell description no longer loads');
    const guardPin = pinOf(boardMap(loaded.cell, 'conveyor_board', loaded.hash), 'safety_io', 'guard_closed');
    await waitFor('a wait state', () => r.state === 'Idle', 5000);
    const startMm = (await board.state()).beltMm;
    // The operator holds the jog button, and keeps pressing it after the jog has ended.
    const hold = setInterval(() => {
      if (r.controller.stateMessage().commissioning?.jog === null) r.send('jog conveyor + continuous');
      else r.send('jog renew');
    }, 50);
    let openedAt: number;
    try {
      await waitFor('the belt moving under the jog', async () => (await board.state()).beltMm - startMm > 10, 10_000);
      openedAt = r.memory!.records().length;
      await board.setInput(guardPin, 0);
      await waitFor('the jog to end', () => r.memory!.records().slice(openedAt).some((x) => x.kind === 'commissioning' && x.event === 'jog.end'), 10_000);
      await waitFor('Stopped', () => r.state === 'Stopped', 10_000);
      await waitFor('the belt to stand still', async () => {
        const a = (await board.state()).beltMm;
        await sleep(200);
        return (await board.state()).beltMm === a;
      });
      // Half a second of the operator trying again with the guard open: nothing moves.
      const stillMm = (await board.state()).beltMm;
      await sleep(500);
      expect((await board.state()).beltMm).toBe(stillMm);
    } finally {
      clearInterval(hold);
    }
    const after = r.memory!.records().slice(openedAt);
    const end = after.find((x) => x.kind === 'commissioning' && x.event === 'jog.end')!;
    expect(end.why).toBe('protective stop guard_door');
    const retries = after.filter((x) => x.kind === 'command' && x.command === 'jog conveyor + continuous' && x.state === 'Stopped');
    expect(retries.length).toBeGreaterThan(0);
    for (const x of retries) expect(x).toMatchObject({ accepted: false, reason: 'jog refused: interlock nothing_moves_with_guard_open' });
    expect(after.slice(after.indexOf(end)).some((x) => x.kind === 'device.command' && x.step === 'jog')).toBe(false);

    const closedAt = r.memory!.records().length;
    await board.setInput(guardPin, 1);
    await waitFor('the guard seen closed', () =>
      r.memory!.records().slice(closedAt).some((x) => x.kind === 'device.feedback' && x.device === 'safety_io' && (x.inputs as Record<string, boolean> | undefined)?.guard_closed === true),
    );
    // Closed again, nothing has moved by itself; a new jog is the operator's, and it is allowed.
    expect(r.memory!.records().slice(closedAt).some((x) => x.kind === 'device.command' && x.device === 'conveyor' && x.step === 'jog')).toBe(false);
    r.send('jog conveyor -5');
    expect(events.at(-1)).toMatchObject({ type: 'command.accepted', command: 'jog conveyor -5' });
    // Held until done (over a busy serial link one increment can outlast the renewal timeout).
    const renew = setInterval(() => {
      if (r.controller.stateMessage().commissioning?.jog) r.send('jog renew');
    }, 50);
    try {
      await waitFor('the short jog done', () => r.memory!.records().slice(closedAt).some((x) => x.kind === 'commissioning' && x.event === 'jog.end'));
    } finally {
      clearInterval(renew);
    }
    expect(r.memory!.records().slice(closedAt).find((x) => x.kind === 'commissioning' && x.event === 'jog.end')).toMatchObject({ why: 'done' });
  } catch (error) {
    const last = quietRecords(r).slice(-25).map((x) => JSON.stringify(x).slice(0, 260));
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nstate ${r.state}; last records:\n${last.join('\n')}`);
  }
}, 60_000);

it('an e-stop during a conveyor jog through the board: the belt stops, Aborted, the jog is over and nothing restarts', async () => {
  const r = run!;
  try {
    // Continues on the same cell: Manual mode, Stopped (the guard test's protective stop), no jog.
    const board = rig!.boards.get('conveyor_board')!;
    const loaded = loadCell(cellPath);
    if (!loaded.ok) throw new Error('the cell description no longer loads');
    const estopPin = pinOf(boardMap(loaded.cell, 'conveyor_board', loaded.hash), 'safety_io', 'estop_ok');
    expect(r.controller.mode).toBe('manual');
    const waiting = () => r.state === 'Stopped' || r.state === 'Idle';
    await waitFor('a wait state', waiting, 5000);

    // The operator holds the jog button: renewals every 50 ms from a timer in this process, so no
    // await on the board can starve them. (On a loaded machine the board's inputs can go stale for
    // a moment and the interlock ends the jog, as in the first test: it is jogged again then.)
    const startMm = (await board.state()).beltMm;
    const hold = setInterval(() => {
      if (waiting() && r.controller.stateMessage().commissioning?.jog === null) r.send('jog conveyor + continuous');
      else r.send('jog renew');
    }, 50);
    let pressedAt: number;
    try {
      r.send('jog conveyor + continuous');
      await waitFor('the belt moving under the jog', async () => (await board.state()).beltMm - startMm > 10, 10_000);
      pressedAt = r.memory!.records().length;
      await board.setInput(estopPin, 0);
      // The renewals keep coming after the e-stop, and change nothing.
      await waitFor('Aborted', () => r.state === 'Aborted', 10_000);
      await sleep(200);
    } finally {
      clearInterval(hold);
    }
    const after = r.memory!.records().slice(pressedAt);
    const tripped = after.find((x) => x.kind === 'estop' && x.active === true)!;
    expect(tripped).toBeDefined();
    // Safe state to every device first, in the same turn that saw the chain open and before the
    // trip is even journaled, as in Production; the jog ended by it.
    const openedAt = after.findIndex((x) => x.kind === 'device.feedback' && x.device === 'safety_io' && (x.inputs as Record<string, boolean> | undefined)?.estop_ok === false);
    expect(openedAt).toBeGreaterThanOrEqual(0);
    const tripTurn = after.slice(openedAt, after.indexOf(tripped));
    const safeStates = tripTurn.filter((x) => x.kind === 'device.command' && (x.command as { type: string }).type === 'safeState');
    expect([...new Set(safeStates.map((x) => x.device))].sort()).toEqual(['arm', 'conveyor', 'feeder', 'safety_io']);
    expect(tripTurn.find((x) => x.kind === 'commissioning' && x.event === 'jog.end')).toMatchObject({ why: 'safe state' });
    const renewalsAfter = after.slice(openedAt).filter((x) => x.kind === 'command' && x.command === 'jog renew');
    expect(renewalsAfter.length).toBeGreaterThan(0);
    for (const x of renewalsAfter) expect(x).toMatchObject({ accepted: false, reason: 'no jog is active to renew' });
    // No jog increment leaves once the chain is seen open.
    expect(after.slice(openedAt).some((x) => x.kind === 'device.command' && x.step === 'jog')).toBe(false);

    await waitFor('the belt to stand still', async () => {
      const a = (await board.state()).beltMm;
      await sleep(200);
      return (await board.state()).beltMm === a;
    });
    const stoppedMm = (await board.state()).beltMm;
    // Renewals and a new jog are refused; closing the e-stop chain again restarts nothing (latched).
    r.send('jog renew');
    expect(events.at(-1)).toMatchObject({ type: 'command.rejected', command: 'jog renew', reason: 'no jog is active to renew' });
    r.send('jog conveyor +10');
    expect(events.at(-1)).toMatchObject({ type: 'command.rejected', reason: expect.stringMatching(/only allowed in a wait state .* Aborted/) });
    await board.setInput(estopPin, 1);
    await sleep(800);
    expect(r.state).toBe('Aborted');
    expect((await board.state()).beltMm).toBe(stoppedMm);
  } catch (error) {
    // Say where the cell stood: a stale board under load reads differently from a wrong e-stop path.
    const last = quietRecords(r).slice(-25).map((x) => JSON.stringify(x).slice(0, 260));
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nstate ${r.state}; last records:\n${last.join('\n')}`);
  }
}, 60_000);
