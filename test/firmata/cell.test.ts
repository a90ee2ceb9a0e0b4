/**
 * The demo-serial cell with its feeder on a StandardFirmata board (real image in avr8js behind a
 * pty). First the controller in this process with only the Firmata board on the rig (the other
 * devices simulated; the station board has its own tests in test/rig): the feeder releases only
 * while its sensor, read through Firmata, shows the pick position clear, each release is
 * confirmed by that sensor, and a board that goes silent holds the cell, which does not restart by
 * itself. Then the whole cell (conveyor on a station board, feeder on Firmata, arm simulated)
 * through the built CLI in a child process, as a user runs it. One file, so the two rigs never
 * run at the same time.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCellRig, type CellRig } from '../../src/rig/cellRig.js';
import { CellRun } from '../../src/runtime/run.js';
import { CLI, readJsonLines, tempDir } from '../e2e/cli.js';
import { DEMO_SERIAL, demoSerial, LINK, ROOT, sleep, waitFor } from './helpers.js';

let rig: CellRig | undefined;
let run: CellRun | undefined;
async function closeAll(): Promise<void> {
  await run?.close();
  await rig?.close();
  run = undefined;
  rig = undefined;
}
afterAll(closeAll);

beforeAll(() => {
  const r = spawnSync('make', ['-C', path.join(ROOT, 'hardware', 'firmware'), '--no-print-directory'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`station firmware build failed:\n${r.stdout}\n${r.stderr}`);
});

type Rec = Record<string, unknown> & { kind: string; seq: number };

it('releases parts only onto a clear pick position, confirmed through Firmata; a silent Firmata board holds the cell', async () => {
  const { cell, hash } = demoSerial();
  // The rig starts boards for the Firmata link only; the simulator drives the station board's devices.
  const onSim = (name: string) => ({ ...cell.devices[name]!, link: 'sim' });
  rig = await startCellRig({ ...cell, devices: { ...cell.devices, conveyor: onSim('conveyor'), safety_io: onSim('safety_io') } }, hash);
  expect([...rig.boards.keys(), ...rig.firmataBoards.keys()]).toEqual([LINK]);
  const firmata = rig.firmataBoards.get(LINK)!;
  let releasePulses = 0;
  firmata.onPin((pin, level) => {
    if (pin === 8 && level === 1) releasePulses++;
  });
  run = new CellRun({ cellPath: DEMO_SERIAL, autostart: true, keepJournal: true, drivers: (ctx) => rig!.drivers(ctx) });
  run.start();
  const r = run;
  const records = () => r.memory!.records() as Rec[];
  const explain = () => `state ${r.state}; ${JSON.stringify(records().filter((x) => x.kind === 'fault' || x.kind === 'state' || x.kind === 'recovery').map((x) => [x.t, x.kind, x.fault ?? x.state ?? x.recovery, x.device, x.message]))}`;
  const confirmedReleases = () => records().filter((x) => x.kind === 'step' && x.device === 'feeder' && x.step === 'release' && x.phase === 'done').length;
  await waitFor('two releases confirmed', () => confirmedReleases() >= 2, 45_000, explain);

  // Every release went out while the Firmata sensor showed the pick position clear, and was
  // confirmed by the sensor turning on (a reading from the Firmata device).
  const feederRecords = records().filter((x) => x.device === 'feeder');
  const releases = records().filter((x) => x.kind === 'device.command' && x.device === 'feeder' && (x.command as { type?: string } | undefined)?.type === 'release');
  expect(releases.length).toBeGreaterThanOrEqual(2);
  for (const release of releases) {
    const sensorBefore = feederRecords.filter((x) => x.kind === 'device.feedback' && x.seq < release.seq && x.inputs !== undefined).at(-1);
    expect((sensorBefore?.inputs as Record<string, boolean> | undefined)?.part_at_pick ?? false).toBe(false);
    const confirmed = feederRecords.find((x) => x.kind === 'device.feedback' && x.seq > release.seq && (x.inputs as Record<string, boolean> | undefined)?.part_at_pick === true);
    expect(confirmed, `no part_at_pick after release #${release.seq}`).toBeDefined();
  }
  // The releases are the board's: one pulse on its release pin each.
  expect(releasePulses).toBeGreaterThanOrEqual(releases.length - 1);
  expect(releasePulses).toBeLessThanOrEqual(releases.length);

  // The Firmata board goes silent: its sampling reports stop, the heartbeat watch holds the cell.
  const after = (seq: number, what: (x: Rec) => boolean) => () => records().some((x) => x.seq > seq && what(x));
  const frozenAt = records().at(-1)!.seq;
  await firmata.freeze();
  await waitFor('heartbeat_lost on the feeder', after(frozenAt, (x) => x.kind === 'fault' && x.fault === 'heartbeat_lost' && x.device === 'feeder'), 10_000, explain);
  await waitFor('Held', () => r.state === 'Held', 15_000, explain);
  const thawedAt = records().at(-1)!.seq;
  await firmata.thaw();
  await waitFor('the feeder heard from again', after(thawedAt, (x) => x.kind === 'recovery' && x.device === 'feeder'), 20_000, explain);
  await sleep(500);
  expect(r.state).toBe('Held');
  await closeAll();
}, 120_000);

it('produces parts end to end with the conveyor on a station board and the feeder on StandardFirmata', () => {
  const dir = tempDir('workcell-firmata-');
  const journal = path.join(dir, 'journal.jsonl');
  // Interrupted (SIGINT, as an operator would) if it has not finished by then: it then still
  // writes its summary and journal, which say why.
  const r = spawnSync(process.execPath, [CLI, 'run', '--cell', DEMO_SERIAL, '--rig', '--autostart', '--cycles', '3', '--json', '--journal', journal], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 100_000,
    killSignal: 'SIGINT',
  });
  expect(r.stderr).toMatch(/rig: feeder_board: StandardFirmata\.ino 2\.4 on /);
  expect(r.stderr).toMatch(/rig: conveyor_board: station 2/);
  const faults = () =>
    readJsonLines<{ kind: string; t: number; fault?: string; device?: string; message?: string }>(journal)
      .filter((x) => x.kind === 'fault')
      .map((x) => `${Math.round(x.t)} ms ${x.fault} ${x.device}: ${x.message}`)
      .join('\n');
  expect(r.status, `${r.stderr}\n${faults()}`).toBe(0);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; finalState: string; parts: { released: number; exited: number } };
  expect(summary).toMatchObject({ ok: true, finalState: 'Complete', parts: { exited: 3 } });
  // The feeder's releases ended on the Firmata board and were confirmed by its sensor.
  const records = readJsonLines<{ kind: string; device?: string; feedback?: string; command?: unknown; inputs?: Record<string, boolean> }>(journal);
  const feeder = records.filter((x) => x.kind === 'device.feedback' && x.device === 'feeder');
  expect(feeder.filter((x) => x.feedback === 'motionDone' && x.command === 'release').length).toBeGreaterThanOrEqual(3);
  expect(feeder.filter((x) => x.inputs?.part_at_pick === true).length).toBeGreaterThanOrEqual(3);
}, 120_000);
