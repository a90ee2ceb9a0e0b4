import { describe, expect, it } from 'vitest';
import { loadCell } from '../../src/cell/load.js';
import type { CellDescription } from '../../src/cell/schema.js';
import { boardMap, BoardMapError, serialLinks } from '../../src/serial/boardMap.js';
import { parseIntelHex } from '../../src/rig/hex.js';
import { DEMO_SERIAL } from '../rig/helpers.js';

function demo(): { cell: CellDescription; hash: string } {
  const loaded = loadCell(DEMO_SERIAL);
  if (!loaded.ok) throw new Error('demo-serial.yaml does not load');
  return { cell: loaded.cell, hash: loaded.hash };
}

describe('boardMap: what the demo-serial station board carries', () => {
  it('maps channels to pins with polarity and safe values, and the e-stop contact', () => {
    const { cell, hash } = demo();
    expect(serialLinks(cell)).toEqual(['conveyor_board']);
    const map = boardMap(cell, 'conveyor_board', hash);
    expect(Object.keys(map.devices).sort()).toEqual(['conveyor', 'safety_io']);
    expect(map.axis?.device).toBe('conveyor');
    const p = map.provision;
    expect(p).toMatchObject({ stationId: 2, watchdogMs: 250, estopPin: 8, estopHealthyLevel: 1, homeActiveLevel: 1, stopCategory: 1, stopDecelStepsS2: 16000 });
    expect(p.inputMask).toBe((1 << 8) | (1 << 9) | (1 << 10));
    expect(p.outputMask).toBe((1 << 14) | (1 << 15));
    expect(p.safeHighMask).toBe(1 << 14); // lamp_red on, lamp_green off
    expect(Buffer.from(p.descriptionHash).toString('hex')).toBe(hash);
  });

  it('inverts safe levels for active-low outputs and keeps "hold" outputs where they are', () => {
    const { cell, hash } = demo();
    const io = cell.devices.safety_io!;
    if (io.kind !== 'io') throw new Error('safety_io is io');
    io.outputs.lamp_red = { ...io.outputs.lamp_red!, activeLow: true };
    io.outputs.lamp_green = { ...io.outputs.lamp_green!, safeValue: 'hold' };
    const p = boardMap(cell, 'conveyor_board', hash).provision;
    expect(p.safeHighMask & (1 << 14)).toBe(0);
    expect(p.safeHoldMask).toBe(1 << 15);
  });

  it('provisions each input’s debounce_ms in whole milliseconds (the board samples every 1 ms), and refuses one it cannot hold', () => {
    const { cell, hash } = demo();
    expect(boardMap(cell, 'conveyor_board', hash).provision.debounceMs).toEqual({});
    const io = cell.devices.safety_io!;
    if (io.kind !== 'io') throw new Error('safety_io is io');
    io.inputs.guard_closed = { ...io.inputs.guard_closed!, debounceMs: 2.5 };
    const guardPin = io.inputs.guard_closed.pin!;
    expect(boardMap(cell, 'conveyor_board', hash).provision.debounceMs).toEqual({ [guardPin]: 3 });
    io.inputs.guard_closed = { ...io.inputs.guard_closed, debounceMs: 70_000 };
    expect(() => boardMap(cell, 'conveyor_board', hash)).toThrow("devices.safety_io.guard_closed.debounce_ms: 70000 ms exceeds the station board's 65535 ms");
  });

  it('refuses what the board cannot drive, naming the place in the description', () => {
    const { cell, hash } = demo();
    const conveyor = cell.devices.conveyor!;
    if (conveyor.kind !== 'conveyor') throw new Error('conveyor');
    const wrongStep = structuredClone(cell);
    (wrongStep.devices.conveyor as typeof conveyor).axis.pin = 3;
    expect(() => boardMap(wrongStep, 'conveyor_board', hash)).toThrow(/devices\.conveyor\.axis\.pin: the station board's STEP pin is 4 .* got 3/);
    const wrongHome = structuredClone(cell);
    (wrongHome.devices.conveyor as typeof conveyor).axis.homeSensor.pin = 9;
    expect(() => boardMap(wrongHome, 'conveyor_board', hash)).toThrow(/axis\.home_sensor\.pin: the station board's home switch is on pin 7; got 9/);
    const axisPin = structuredClone(cell);
    (axisPin.devices.conveyor as typeof conveyor).partAtExit.pin = 2;
    expect(() => boardMap(axisPin, 'conveyor_board', hash)).toThrow(/devices\.conveyor\.part_at_exit: pin 2 is already used by the axis \(encoderA\)/);
    const tooFast = structuredClone(cell);
    (tooFast.devices.conveyor as typeof conveyor).axis.maxSpeedMmS = 1000;
    expect(() => boardMap(tooFast, 'conveyor_board', hash)).toThrow(BoardMapError);
    expect(() => boardMap(cell, 'sim', hash)).toThrow(/link "sim" is sim, not a serial station board/);
    expect(() => boardMap(cell, 'nope', hash)).toThrow(/link "nope" is not in the cell description/);
  });
});

describe('Intel HEX', () => {
  it('loads records into a flash image and refuses a bad checksum or a truncated file, with the line', () => {
    const image = parseIntelHex(':0400000001020304F2\n:00000001FF\n');
    expect([...image.subarray(0, 5)]).toEqual([1, 2, 3, 4, 0xff]);
    expect(() => parseIntelHex(':0400000001020304F3\n:00000001FF\n', 'x.hex')).toThrow('x.hex:1: checksum mismatch');
    expect(() => parseIntelHex(':0400000001020304F2\n', 'x.hex')).toThrow(/no end-of-file record/);
    expect(() => parseIntelHex('hello\n', 'x.hex')).toThrow(/x.hex:1: not an Intel HEX record/);
  });
});
