/**
 * The controller on the rig: the demo-serial cell with its conveyor and safety I/O on a simulated
 * station board. Pulling the board's cable in Execute aborts the cell (the board carries the
 * safety-relevant I/O) while the board stops itself; plugging it back reconnects, re-identifies
 * the board, and the operator's Clear and Reset bring the cell back, homing the axis again.
 */
import { afterAll, expect, it } from 'vitest';
import { startCellRig, type CellRig } from '../../src/rig/cellRig.js';
import { CellRun } from '../../src/runtime/run.js';
import { buildFirmware, DEMO_SERIAL, demoSerial, waitFor } from './helpers.js';

let rig: CellRig | undefined;
let run: CellRun | undefined;
async function closeAll(): Promise<void> {
  await run?.close();
  await rig?.close();
  run = undefined;
  rig = undefined;
}
afterAll(closeAll);

it('lost steps on the board show as index_short and the cell recovers through Resync, parts still exiting', async () => {
  buildFirmware();
  const { cell, hash } = demoSerial();
  rig = await startCellRig(cell, hash);
  run = new CellRun({ cellPath: DEMO_SERIAL, autostart: true, keepJournal: true, cycles: 2, drivers: (ctx) => rig!.drivers(ctx) });
  run.start();
  const r = run;
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
});

it('a pulled cable aborts the cell; plugged back, the board is re-identified and Clear, Reset home it again', async () => {
  buildFirmware();
  const { cell, hash } = demoSerial();
  rig = await startCellRig(cell, hash);
  run = new CellRun({ cellPath: DEMO_SERIAL, autostart: true, keepJournal: true, drivers: (ctx) => rig!.drivers(ctx) });
  run.start();
  const r = run;
  const records = () => r.memory!.records() as Array<Record<string, unknown>>;
  await waitFor('Execute with the conveyor homed', () => r.state === 'Execute' && r.controller.tracker.released > 0, 20_000);
  const board = rig.boards.get('conveyor_board')!;

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
});
