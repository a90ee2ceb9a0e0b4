/**
 * The Firmata driver against the real StandardFirmata image running in avr8js behind a pty
 * (src/rig/firmataBoard.ts): johnny-five reaches ready, the board's sampling reports become
 * heartbeats, outputs (polarity, safe values) and inputs (analog threshold with hysteresis,
 * debounce) follow the description, a silent board and a pulled cable are detected and recovered
 * from with outputs back at their safe values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '../../src/devices/types.js';
import { FirmataRigBoard } from '../../src/rig/firmataRig.js';
import { cellWithStackLight, openLink, sleep, waitFor } from './helpers.js';

const RELEASE = 8;
const LAMP_RED = 9; // wired active low: level 0 is lit
const LAMP_GREEN = 10;

let board: FirmataRigBoard | undefined;
let session: ReturnType<typeof openLink> | undefined;
afterEach(async () => {
  await session?.link.close();
  await board?.close();
  session = undefined;
  board = undefined;
});

async function start(): Promise<{ board: FirmataRigBoard; s: ReturnType<typeof openLink> }> {
  board = await FirmataRigBoard.start({ inputs: { 2: 0, 3: 0, 4: 0 }, analog: { 1: 300 } });
  session = openLink(cellWithStackLight(), board.linkPath);
  const s = session;
  await waitFor('the board ready and every input reported', () => s.link.measured, 15_000, () => JSON.stringify(s.events));
  return { board, s };
}

const readings = (s: ReturnType<typeof openLink>, device: string): Reading[] =>
  s.feedback.flatMap((f) => (f.device === device && f.fb.type === 'reading' ? [f.fb.reading] : []));
const heartbeats = (s: ReturnType<typeof openLink>, device: string) => s.feedback.filter((f) => f.device === device && f.fb.type === 'heartbeat').length;
const level = async (b: FirmataRigBoard, pin: number) => (await b.state()).levels[pin];

describe('a StandardFirmata board through johnny-five', () => {
  it('reaches ready, reports heartbeats, drives outputs with polarity and safe values, reads analog and debounced inputs', async () => {
    const { board: b, s } = await start();
    expect(s.events[0]).toMatchObject({ type: 'ready', link: 'feeder_board', firmware: 'StandardFirmata.ino 2.4' });
    const light = s.link.devices.get('stack_light')!;

    // Outputs at their safe values from the start: release off, red lit (active low), green off.
    expect(light.read().outputs).toEqual({ lamp_red: true, lamp_green: false });
    const st = await b.state();
    expect(st.outputs).toEqual(expect.arrayContaining([RELEASE, LAMP_RED, LAMP_GREEN]));
    expect([st.levels[RELEASE], st.levels[LAMP_RED], st.levels[LAMP_GREEN]]).toEqual([0, 0, 0]);

    // The board's periodic analog reports arrive as heartbeats on every device of the link.
    const before = heartbeats(s, 'feeder');
    await waitFor('ten heartbeats', () => heartbeats(s, 'feeder') >= before + 10 && heartbeats(s, 'stack_light') >= 10);

    light.write({ type: 'setOutput', channel: 'lamp_green', value: true });
    light.write({ type: 'setOutput', channel: 'lamp_red', value: false });
    await waitFor('green lit, red dark on the pins', async () => (await level(b, LAMP_GREEN)) === 1 && (await level(b, LAMP_RED)) === 1);
    expect(light.read().outputs).toEqual({ lamp_red: false, lamp_green: true });
    light.write({ type: 'setOutput', channel: 'lamp_blue', value: true });
    expect(s.feedback.at(-1)!.fb).toMatchObject({ type: 'refused', reason: expect.stringMatching(/no output "lamp_blue" on Firmata link "feeder_board"/) });
    light.write({ type: 'move', pose: 'home', target: [] });
    expect(s.feedback.at(-1)!.fb).toMatchObject({ type: 'refused', reason: expect.stringMatching(/cannot carry out move/) });

    // Analog threshold 600 with hysteresis 100: on at 650, still on at 550, off at 450.
    expect(light.read().inputs.bin_full).toBe(false);
    await b.setAnalog(1, 650);
    await waitFor('bin_full on', () => light.read().inputs.bin_full === true);
    await b.setAnalog(1, 550);
    const reports = s.link.health().reports;
    await waitFor('five more reports', () => s.link.health().reports >= reports + 10);
    expect(light.read().inputs.bin_full).toBe(true);
    await b.setAnalog(1, 450);
    await waitFor('bin_full off', () => light.read().inputs.bin_full === false);
    expect(light.diagnostics()).toMatchObject({ transport: 'firmata', state: 'ready', firmware: 'StandardFirmata.ino 2.4', connects: 1 });

    // A 40 ms bounce (chip time) on both door contacts: the raw copy sees it, the debounced
    // (200 ms) one does not.
    await b.pulseInput(3, 1, 40);
    await b.pulseInput(4, 1, 40);
    await waitFor('the raw contact to see the bounce and settle', () => readings(s, 'stack_light').some((r) => r.inputs.door_raw) && light.read().inputs.door_raw === false);
    await sleep(300);
    expect(readings(s, 'stack_light').some((r) => r.inputs.door)).toBe(false);
    // A real change is taken once it has held for the debounce time.
    await b.setInput(3, 1);
    const changedAt = performance.now();
    await waitFor('door on', () => light.read().inputs.door === true);
    const reportedAt = s.feedback.find((f) => f.device === 'stack_light' && f.fb.type === 'reading' && f.fb.reading.inputs.door)!.at;
    expect(reportedAt - changedAt).toBeGreaterThanOrEqual(195);

    // safeState: every output to its safe value.
    light.write({ type: 'safeState', category: 1 });
    await waitFor('lamps safe on the pins', async () => (await level(b, LAMP_RED)) === 0 && (await level(b, LAMP_GREEN)) === 0);
    expect(light.read().outputs).toEqual({ lamp_red: true, lamp_green: false });
  });

  it('pulses the feeder release for release_pulse_ms and reports the part sensor', async () => {
    const { board: b, s } = await start();
    const feeder = s.link.devices.get('feeder')!;
    const pulses: Array<{ level: 0 | 1 }> = [];
    b.onPin((pin, lvl) => {
      if (pin === RELEASE) pulses.push({ level: lvl });
    });
    feeder.write({ type: 'release' });
    expect(feeder.read()).toMatchObject({ moving: true, outputs: { release: true } });
    feeder.write({ type: 'release' });
    expect(s.feedback.at(-1)!.fb).toMatchObject({ type: 'refused', reason: expect.stringMatching(/still pulsing/) });
    await waitFor('motionDone', () => s.feedback.some((f) => f.fb.type === 'motionDone'));
    expect(feeder.read()).toMatchObject({ moving: false, outputs: { release: false } });
    await waitFor('the pin to go high and low again', () => pulses.length >= 2);
    // One pulse on the pin (its width is timed by the driver: release_pulse_ms, then off).
    expect(pulses.map((p) => p.level)).toEqual([1, 0]);

    await b.setInput(2, 1);
    await waitFor('part_at_pick', () => feeder.read().inputs.part_at_pick === true);
  });

  it('a silent board stops the heartbeats, is dropped and reconnected, and its devices are told it reset', async () => {
    const { board: b, s } = await start();
    await b.freeze();
    // Let in-flight reports drain, then nothing more comes.
    await sleep(150);
    const frozenAt = heartbeats(s, 'feeder');
    await sleep(400);
    expect(heartbeats(s, 'feeder')).toBe(frozenAt);
    await waitFor('the link to give up on the silent board', () => s.events.some((e) => e.type === 'lost' && /silent for \d+ ms/.test(e.reason)), 5000);
    expect(s.link.linkState).not.toBe('ready');
    s.link.devices.get('stack_light')!.write({ type: 'setOutput', channel: 'lamp_green', value: true });
    expect(s.feedback.at(-1)!.fb).toMatchObject({ type: 'refused', reason: expect.stringMatching(/not connected/) });

    await b.thaw();
    await waitFor('ready again', () => s.link.health().connects === 2, 15_000, () => JSON.stringify(s.events.slice(-3)));
    expect(s.feedback.filter((f) => f.fb.type === 'reset').map((f) => f.device).sort()).toEqual(['feeder', 'stack_light']);
    const count = heartbeats(s, 'feeder');
    await waitFor('heartbeats again', () => heartbeats(s, 'feeder') >= count + 5);
  });

  it('a pulled cable leaves the outputs as they were (no failsafe); plugged back, they are set to their safe values', async () => {
    const { board: b, s } = await start();
    const light = s.link.devices.get('stack_light')!;
    light.write({ type: 'setOutput', channel: 'lamp_green', value: true });
    await waitFor('green lit', async () => (await level(b, LAMP_GREEN)) === 1);

    await b.unplug();
    await waitFor('the link lost', () => s.events.some((e) => e.type === 'lost'), 5000);
    expect(s.events.find((e) => e.type === 'lost')).toMatchObject({ reason: expect.stringMatching(/closed|No such file|silent/) });
    // StandardFirmata keeps driving what it was told: the documented limitation.
    await sleep(300);
    expect(await level(b, LAMP_GREEN)).toBe(1);

    await b.plug();
    await waitFor('ready again', () => s.link.health().connects === 2, 15_000, () => JSON.stringify(s.events.slice(-3)));
    await waitFor('outputs at their safe values on the pins', async () => (await level(b, LAMP_GREEN)) === 0 && (await level(b, LAMP_RED)) === 0);
    expect(light.read().outputs).toEqual({ lamp_red: true, lamp_green: false });
    expect(s.feedback.some((f) => f.device === 'feeder' && f.fb.type === 'reset' && /reconnected/.test(f.fb.cause))).toBe(true);
  });
});
