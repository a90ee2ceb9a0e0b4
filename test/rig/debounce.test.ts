/**
 * Input debounce in the station firmware: the description's `debounce_ms`, provisioned per input
 * with the rest of the board map. A bounce shorter than the debounce time is not reported, a
 * change that holds longer is; an input without debounce reports even a short pulse; the e-stop
 * contact is never debounced. Pulses are timed in the chip's own time (the rig's `pulse`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RigBoard } from '../../src/rig/rigBoard.js';
import { boardMap } from '../../src/serial/boardMap.js';
import { FLAG } from '../../src/serial/protocol.js';
import { boardTimePasses, buildFirmware, demoSerial, LINK, openLink, pinOf, provision, startDemoBoard, waitFor } from './helpers.js';

const { cell, hash } = demoSerial();
const debounced = structuredClone(cell);
const safetyIo = debounced.devices.safety_io;
if (safetyIo?.kind !== 'io') throw new Error('demo-serial has an io device safety_io');
safetyIo.inputs.guard_closed!.debounceMs = 20;
// Asked for, and ignored by the firmware: the e-stop contact trips and reports raw.
safetyIo.inputs.estop_ok!.debounceMs = 50;
const map = boardMap(debounced, LINK, hash);

let board: RigBoard;
let session: ReturnType<typeof openLink>;

beforeAll(async () => {
  buildFirmware();
  board = await startDemoBoard(map);
  await provision(board, map.provision);
  session = openLink(map, hash, board);
  await waitFor('the link to be ready', () => session.link.linkState === 'ready');
});
afterAll(async () => {
  await session?.link.close();
  await board?.close();
});

const readings = (device: string, pass: (inputs: Record<string, boolean>) => boolean) =>
  session.of(device).filter((f) => f.type === 'reading' && pass(f.reading.inputs)).length;

it('carries debounce_ms into the provisioning record, per pin', () => {
  expect(map.provision.debounceMs).toEqual({ [pinOf(map, 'safety_io', 'estop_ok')]: 50, [pinOf(map, 'safety_io', 'guard_closed')]: 20 });
});

it('does not report bounces shorter than the debounce time, and reports a change that holds longer', async () => {
  const guard = pinOf(map, 'safety_io', 'guard_closed');
  const opened = () => readings('safety_io', (i) => i.guard_closed === false);
  // A chattering door switch: five 8 ms openings, never 20 ms in a row.
  for (let i = 0; i < 5; i++) {
    await board.pulse(guard, 0, 8);
    await boardTimePasses(board, 12);
  }
  await boardTimePasses(board, 100);
  expect(opened()).toBe(0);
  expect(session.io.read().inputs.guard_closed).toBe(true);
  // Opened for 60 ms: reported, then closed again.
  await board.pulse(guard, 0, 60);
  await waitFor('the open door to be reported', () => opened() > 0);
  await waitFor('the door closed again', () => session.io.read().inputs.guard_closed === true);
});

it('reports a short pulse on an input without debounce', async () => {
  await board.pulse(pinOf(map, 'conveyor', 'part_at_exit'), 1, 8);
  await waitFor('the 8 ms pulse to be reported', () => readings('conveyor', (i) => i.part_at_exit === true) > 0);
  await waitFor('the sensor clear again', () => session.conveyor.read().inputs.part_at_exit === false);
});

it('never debounces the e-stop contact: a 1 ms opening latches the board and reaches the controller', async () => {
  await board.pulse(pinOf(map, 'safety_io', 'estop_ok'), 0, 1);
  await waitFor('the e-stop latched on the board', () => (session.link.lastTelemetry!.flags & FLAG.estopLatched) !== 0);
  await waitFor('the opening reported', () => readings('safety_io', (i) => i.estop_ok === false) > 0);
  await waitFor('the contact closed again', () => session.io.read().inputs.estop_ok === true);
  // Latched until the controller acts again: a new output command releases it (the chain is closed).
  expect(session.link.lastTelemetry!.flags & FLAG.safeLatched).not.toBe(0);
});
