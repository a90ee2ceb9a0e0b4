/**
 * A real cell (`workcell run` without --sim): each device on its link's transport. The station
 * board is the real firmware in the AVR simulator behind a pty, opened by the path written in
 * the cell description exactly as a board on /dev/serial/by-id is; the feeder and the arm stay on
 * the embedded simulator because their link says `transport: sim`.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import type { DeviceDriver } from '../../src/devices/types.js';
import { loadCell } from '../../src/cell/load.js';
import { boardMap } from '../../src/serial/boardMap.js';
import { openHardware, type HardwareLinks } from '../../src/runtime/hardware.js';
import { CellRun } from '../../src/runtime/run.js';
import type { RigBoard } from '../../src/rig/rigBoard.js';
import { FirmataRigBoard } from '../../src/rig/firmataRig.js';
import { buildFirmware, DEMO_SERIAL, provision, startDemoBoard, waitFor } from '../rig/helpers.js';
import { CLI, ROOT, tempDir, workcell } from './cli.js';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'hardware', 'station-conveyor.yaml');

/** The fixture cell with its station board at `boardPath`, written to a temporary file. */
function cellAt(boardPath: string): string {
  const doc = parseDocument(readFileSync(FIXTURE, 'utf8'));
  doc.setIn(['links', 'conveyor_board', 'path'], boardPath);
  const file = path.join(tempDir('workcell-hw-'), 'cell.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

function loaded(file: string) {
  const l = loadCell(file);
  if (!l.ok) throw new Error(l.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  return l;
}

let board: RigBoard | undefined;
let hardware: HardwareLinks | undefined;
let run: CellRun | undefined;
afterEach(async () => {
  await run?.close();
  await hardware?.close();
  await board?.close();
  run = hardware = board = undefined;
});

async function boardFor(): Promise<{ file: string; board: RigBoard }> {
  buildFirmware();
  // Provision for the fixture's map: the board's description hash must be the fixture's.
  const probe = loaded(cellAt('/dev/null'));
  const b = await startDemoBoard(boardMap(probe.cell, 'conveyor_board', probe.hash), { startMm: 37 });
  const file = cellAt(b.linkPath);
  const { cell, hash } = loaded(file);
  await provision(b, boardMap(cell, 'conveyor_board', hash).provision);
  return { file, board: b };
}

describe('workcell run on hardware', () => {
  it('drives the conveyor on the station board named in the description; Reset homes the real axis', async () => {
    const started = await boardFor();
    board = started.board;
    const { cell, hash } = loaded(started.file);
    hardware = await openHardware(cell, hash);
    expect(hardware.summary()).toEqual([
      `conveyor_board: station board on ${board.linkPath}, ready: conveyor, safety_io`,
      'feeder: on the embedded simulator (link sim is transport sim)',
      'arm: on the embedded simulator (link sim is transport sim)',
    ]);
    const hw = hardware;
    let drivers: ReadonlyMap<string, DeviceDriver> = new Map();
    run = new CellRun({ cellPath: started.file, keepJournal: true, drivers: (ctx) => (drivers = hw.drivers((c) => c.sim.drivers)(ctx)) });
    run.start();
    // The conveyor is the board's; the feeder the simulator's.
    expect(drivers.get('conveyor')?.constructor.name).toBe('StationDevice');
    expect(drivers.get('feeder')?.constructor.name).toMatch(/^Sim/);
    const r = run;
    expect(r.state).toBe('Stopped');
    r.send('reset');
    await waitFor('Idle after Reset', () => r.state === 'Idle', 20_000);
    // The firmware homed its axis: the carriage is on a home mark and the board says homed.
    const after = await board.state();
    const offMark = Math.abs(after.beltMm - Math.round(after.beltMm / 300) * 300);
    expect(offMark, `belt at ${after.beltMm} mm`).toBeLessThanOrEqual(1);
    expect(after.beltMm).toBeGreaterThan(37); // it moved downstream to the mark, from where it stood
    expect(drivers.get('conveyor')!.read().axis).toMatchObject({ homed: true, positionSteps: 0 });
  });

  it('a board that is not there: the controller boots, fail-safe, with the e-stop on that board counted as pressed', async () => {
    const file = cellAt(path.join(tempDir('workcell-hw-'), 'no-such-board'));
    const { cell, hash } = loaded(file);
    hardware = await openHardware(cell, hash, { readyWithinMs: 300 });
    expect(hardware.summary()[0]).toMatch(/^conveyor_board: station board on .*no-such-board, (connecting|waiting|lost|closed)/);
    const hw = hardware;
    run = new CellRun({ cellPath: file, keepJournal: true, drivers: hw.drivers((ctx) => ctx.sim.drivers) });
    run.start();
    const r = run;
    // The e-stop chain's auxiliary contact is wired to the absent board: unknown counts as pressed.
    expect(r.state).toBe('Aborted');
    const records = () => r.memory!.records();
    expect(records().find((x) => x.kind === 'state')).toMatchObject({ to: 'Aborted', cause: 'boot with e-stop active: estop_button' });
    r.send('clear');
    expect(r.state).toBe('Aborted');
    expect(records().find((x) => x.kind === 'command' && x.accepted === false)?.reason).toContain('estop_button');
    // Its devices are reported silent; the link's own refusals of the safe state are no sign of life.
    await waitFor('safety_io reported silent', () => records().find((x) => x.kind === 'fault' && x.fault === 'heartbeat_lost' && x.device === 'safety_io'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(records().filter((x) => x.kind === 'recovery')).toEqual([]);
  });

  it('the CLI runs a real cell without --sim, lists where each device is, waits in Stopped, and ends on Ctrl-C', async () => {
    const started = await boardFor();
    board = started.board;
    const child = spawn(process.execPath, [CLI, 'run', '--cell', started.file], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor('waiting in Stopped', () => stdout.includes('waiting in Stopped'), 30_000);
    expect(stderr).toContain(`conveyor_board: station 2 (firmware`);
    expect(stderr).toContain('feeder: on the embedded simulator');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
  });

  it('opens a StandardFirmata board at the path in the description and drives its feeder', async () => {
    const firmata = await FirmataRigBoard.start({ inputs: { 2: 0 } });
    try {
      const doc = parseDocument(readFileSync(DEMO_SERIAL, 'utf8'));
      doc.setIn(['links', 'feeder_board', 'path'], firmata.linkPath);
      doc.setIn(['links', 'conveyor_board', 'path'], path.join(tempDir('workcell-hw-'), 'unplugged'));
      const file = path.join(tempDir('workcell-hw-'), 'cell.yaml');
      writeFileSync(file, doc.toString());
      const { cell, hash } = loaded(file);
      // The station board is unplugged: do not wait for it, wait for the Firmata board.
      hardware = await openHardware(cell, hash, { readyWithinMs: 100 });
      const hw = hardware;
      await waitFor('the Firmata board ready', () => hw.summary().includes(`feeder_board: Firmata board on ${firmata.linkPath}, ready: feeder`), 15_000);
      const drivers = hardware.drivers((ctx) => ctx.sim.drivers)({ sim: { drivers: new Map() } } as never);
      const feeder = drivers.get('feeder')!;
      expect(feeder.constructor.name).toBe('FirmataDevice');
      feeder.configure();
      feeder.activate();
      await waitFor('the feeder reading', () => feeder.read().inputs.part_at_pick === false);
      // A release pulse reaches the solenoid pin on the board.
      const levels: Array<0 | 1> = [];
      firmata.onPin((pin, level) => pin === 8 && levels.push(level));
      feeder.write({ type: 'release' });
      await waitFor('the release pulse on the board: pin 8 high, then low', () => levels.join('') === '10', 10_000);
    } finally {
      await hardware?.close();
      hardware = undefined;
      await firmata.close();
    }
  });

  it('refuses what a real cell cannot do, saying why', () => {
    const file = cellAt('/dev/ttyUSB9');
    const virtual = workcell(['run', '--cell', file, '--virtual-time', '--cycles', '1']);
    expect(virtual.status).toBe(2);
    expect(virtual.stderr).toContain('--virtual-time simulates time, so it needs --sim');
    const autostart = workcell(['run', '--cell', file, '--autostart']);
    expect(autostart.status).toBe(2);
    expect(autostart.stderr).toContain('a real cell never starts itself');
  });
});
