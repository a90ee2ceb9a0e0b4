/**
 * The serial station driver against the real firmware in avr8js behind a real pty: homing,
 * indexing, slip made visible by the encoder, the e-stop acting in firmware, outputs and their
 * safe values, random bytes from the board's side.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RigBoard } from '../../src/rig/rigBoard.js';
import { StationPort } from '../../src/serial/port.js';
import { FLAG, MSG, PROTOCOL_VERSION } from '../../src/serial/protocol.js';
import { buildFirmware, demoSerial, openLink, pinOf, provision, startDemoBoard, waitFor } from './helpers.js';

const { hash, map, conveyor } = demoSerial();
const countsPerStep = conveyor.axis.encoderCountsPerMm / conveyor.axis.stepsPerMm;
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

async function motionDoneAfter(device: string, from: number) {
  return waitFor(`motionDone from ${device}`, () => session.of(device).slice(from).find((f) => f.type === 'motionDone'), 15_000);
}

describe('a provisioned station board behind a pty', () => {
  it('is identified from its boot frame and reports its inputs with polarity applied', async () => {
    expect(session.events.find((e) => e.type === 'ready')).toMatchObject({ boot: { stationId: 2, provisioned: true, protocolVersion: PROTOCOL_VERSION } });
    const io = await waitFor('a reading', () => session.last('safety_io', 'reading'));
    expect(io.reading.inputs).toEqual({ estop_ok: true, guard_closed: true });
    // Safe values hold until the controller sets the lamps: red on, green off.
    expect(io.reading.outputs).toEqual({ lamp_red: true, lamp_green: false });
    expect(session.conveyor.read().axis?.homed).toBe(false);
  });

  it('homes onto the home mark and zeroes position and encoder there', async () => {
    const from = session.of('conveyor').length;
    session.conveyor.write({ type: 'home' });
    await motionDoneAfter('conveyor', from);
    const r = await waitFor('homed reading', () => (session.conveyor.read().axis?.homed ? session.conveyor.read() : undefined));
    expect(r.inputs.home).toBe(true);
    expect(r.axis).toMatchObject({ positionSteps: 0, encoderCount: 0 });
    const rig = await board.state();
    // The belt started 280 mm past a mark; the next mark is at 300 mm, its window begins 1 mm before.
    expect(rig.beltMm).toBeGreaterThan(298.5);
    expect(rig.beltMm).toBeLessThan(300);
  });

  it('indexes with the encoder counting the belt’s real travel', async () => {
    const before = await board.state();
    const from = session.of('conveyor').length;
    const steps = conveyor.indexMm * conveyor.axis.stepsPerMm;
    session.conveyor.write({ type: 'index', steps });
    await waitFor('moving reading', () => session.of('conveyor').slice(from).some((f) => f.type === 'reading' && f.reading.moving));
    await motionDoneAfter('conveyor', from);
    const r = await waitFor('settled reading', () => (!session.conveyor.read().moving ? session.conveyor.read() : undefined));
    expect(r.axis!.positionSteps).toBe(steps);
    expect(Math.abs(r.axis!.encoderCount - steps * countsPerStep)).toBeLessThanOrEqual(1);
    const after = await board.state();
    expect(after.beltSteps - before.beltSteps).toBe(steps);
    expect(after.lostSteps).toBe(0);
  });

  it('makes lost steps visible: the encoder falls short of the step counter, and a resync move catches up', async () => {
    const start = session.conveyor.read().axis!;
    const steps = conveyor.indexMm * conveyor.axis.stepsPerMm;
    const lost = 250;
    await board.slip(lost);
    let from = session.of('conveyor').length;
    session.conveyor.write({ type: 'index', steps });
    await motionDoneAfter('conveyor', from);
    const slipped = await waitFor('settled', () => (!session.conveyor.read().moving ? session.conveyor.read().axis! : undefined));
    expect(slipped.positionSteps - start.positionSteps).toBe(steps);
    const targetCount = start.encoderCount + steps * countsPerStep;
    const shortCounts = targetCount - slipped.encoderCount;
    // Beyond the tolerance the controller confirms an index with: a missed step, detectable.
    expect(shortCounts).toBeGreaterThan(conveyor.axis.toleranceMm * conveyor.axis.encoderCountsPerMm);
    expect(Math.abs(shortCounts - lost * countsPerStep)).toBeLessThanOrEqual(1);
    // Resync as the controller does: move the remainder, re-seeded from the measured count.
    from = session.of('conveyor').length;
    session.conveyor.write({ type: 'index', steps: Math.round((shortCounts / conveyor.axis.encoderCountsPerMm) * conveyor.axis.stepsPerMm) });
    await motionDoneAfter('conveyor', from);
    const resynced = await waitFor('settled', () => (!session.conveyor.read().moving ? session.conveyor.read().axis! : undefined));
    expect(Math.abs(resynced.encoderCount - targetCount)).toBeLessThanOrEqual(conveyor.axis.toleranceMm * conveyor.axis.encoderCountsPerMm);
  });

  it('sets outputs with polarity, and refuses a channel that is not on the board', async () => {
    session.io.write({ type: 'setOutput', channel: 'lamp_green', value: true });
    await waitFor('lamp_green on', () => session.io.read().outputs.lamp_green === true);
    expect((await board.state()).levels[pinOf(map, 'safety_io', 'lamp_green')]).toBe(1);
    const from = session.of('safety_io').length;
    session.io.write({ type: 'setOutput', channel: 'horn', value: true });
    const refused = await waitFor('refused', () => session.of('safety_io').slice(from).find((f) => f.type === 'refused'));
    expect(refused).toMatchObject({ reason: expect.stringMatching(/no output "horn"/) });
  });

  it('survives random bytes from the board’s side of the link and keeps reporting', async () => {
    const before = session.link.health().port!;
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let burst = 0; burst < 20; burst++) await board.inject(Uint8Array.from({ length: 200 }, random));
    await waitFor('bad frames counted', () => {
      const h = session.link.health().port!;
      return h.crcErrorsIn + h.framingErrorsIn > before.crcErrorsIn + before.framingErrorsIn;
    });
    // Valid frames still come through once the garbage has passed.
    const afterGarbage = session.link.health().port!.framesIn;
    await waitFor('a valid frame after the garbage', () => session.link.health().port!.framesIn > afterGarbage);
    expect(session.link.linkState).toBe('ready');
    // Still a working link: a command round trip.
    session.io.write({ type: 'setOutput', channel: 'lamp_green', value: false });
    await waitFor('lamp_green off', () => session.io.read().outputs.lamp_green === false);
  });

  it('e-stop: the firmware stops the axis and sets outputs safe by itself, reports it, and refuses motion until the chain closes', async () => {
    session.io.write({ type: 'setOutput', channel: 'lamp_red', value: false });
    session.io.write({ type: 'setOutput', channel: 'lamp_green', value: true });
    await waitFor('lamps set', () => session.io.read().outputs.lamp_green === true && session.io.read().outputs.lamp_red === false);
    const from = session.of('conveyor').length;
    session.conveyor.write({ type: 'index', steps: 30_000 });
    await waitFor('belt moving', async () => (await board.state()).stepPulses > 0 && session.conveyor.read().moving);
    const estopPin = pinOf(map, 'safety_io', 'estop_ok');
    await board.setInput(estopPin, 0);
    await motionDoneAfter('conveyor', from);
    const rig = await board.state();
    expect(rig.driveEnabled).toBe(false);
    expect(rig.levels[pinOf(map, 'safety_io', 'lamp_red')]).toBe(1);
    expect(rig.levels[pinOf(map, 'safety_io', 'lamp_green')]).toBe(0);
    const io = await waitFor('estop reported', () => (session.io.read().inputs.estop_ok === false ? session.io.read() : undefined));
    expect(io.outputs).toEqual({ lamp_red: true, lamp_green: false });
    expect(session.last('conveyor', 'reset')).toMatchObject({ cause: expect.stringMatching(/e-stop chain opened/) });
    // Stopped short of the 30 000 steps, and nothing moves while the chain is open.
    const pulses = rig.stepPulses;
    const refusedFrom = session.of('conveyor').length;
    session.conveyor.write({ type: 'home' });
    const refused = await waitFor('refused', () => session.of('conveyor').slice(refusedFrom).find((f) => f.type === 'refused'));
    expect(refused).toMatchObject({ reason: expect.stringMatching(/e-stop chain open/) });
    await new Promise((r) => setTimeout(r, 100));
    expect((await board.state()).stepPulses).toBe(pulses);
    // Chain closed again: nothing restarts by itself; a new command from the controller runs.
    await board.setInput(estopPin, 1);
    await waitFor('estop_ok back', () => session.io.read().inputs.estop_ok === true);
    await new Promise((r) => setTimeout(r, 100));
    expect((await board.state()).stepPulses).toBe(pulses);
    const homeFrom = session.of('conveyor').length;
    session.conveyor.write({ type: 'home' });
    await motionDoneAfter('conveyor', homeFrom);
    await waitFor('homed again', () => session.conveyor.read().axis?.homed === true);
  });

  it('a safe state for every device on the board in one turn goes out as one frame; after a clear it is sent again', async () => {
    const queued = vi.spyOn(StationPort.prototype, 'command');
    const safeFrames = () => queued.mock.calls.filter(([type]) => type === MSG.safe).length;
    try {
      session.io.write({ type: 'setOutput', channel: 'lamp_green', value: true });
      await waitFor('lamp_green on', () => session.io.read().outputs.lamp_green === true);
      const before = safeFrames();
      session.conveyor.write({ type: 'safeState', category: 1 });
      session.io.write({ type: 'safeState', category: 1 });
      // The board is latched safe: its outputs at their safe values, and neither device refused.
      await waitFor('safe latch reported', () => ((session.link.lastTelemetry?.flags ?? 0) & FLAG.safeLatched) !== 0);
      await waitFor('lamps safe', () => session.io.read().outputs.lamp_green === false && session.io.read().outputs.lamp_red === true);
      expect(safeFrames() - before).toBe(1);
      expect([...session.of('conveyor'), ...session.of('safety_io')].filter((f) => f.type === 'refused' && f.command?.type === 'safeState')).toEqual([]);
      // An output set after it clears the latch first; the next safe state is a frame of its own.
      session.io.write({ type: 'setOutput', channel: 'lamp_green', value: true });
      await waitFor('lamp_green on again', () => session.io.read().outputs.lamp_green === true);
      session.io.write({ type: 'safeState', category: 1 });
      await waitFor('lamps safe again', () => session.io.read().outputs.lamp_green === false);
      expect(safeFrames() - before).toBe(2);
    } finally {
      queued.mockRestore();
    }
  });
});
