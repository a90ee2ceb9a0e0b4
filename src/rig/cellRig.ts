/**
 * A whole cell's station boards on the rig: one simulated board (src/rig/boardProcess.ts) per
 * serial link, provisioned for the cell as a commissioning engineer would, with the serial
 * station driver on its pty for the devices of that link and the embedded simulator for every
 * other device. The belt moved by the board's STEP pulses is the simulator's belt, so the arm
 * places real simulated parts on it and its exit sensor reaches the board as a pin level.
 */
import { loadCell } from '../cell/load.js';
import type { CellDescription } from '../cell/schema.js';
import type { DeviceDriver } from '../devices/types.js';
import type { DriverContext } from '../runtime/run.js';
import { SimConveyor } from '../sim/conveyor.js';
import { boardMap, serialLinks, type BoardMap } from '../serial/boardMap.js';
import { provisionBoard } from '../serial/provision.js';
import { StationLink, type LinkEvent } from '../serial/station.js';
import { RigBoard } from './rigBoard.js';
import { SimFeeder } from '../sim/feeder.js';
import { FirmataLink, type FirmataLinkEvent } from '../firmata/link.js';
import { firmataLinks, firmataPinMap, type FirmataPinMap } from '../firmata/pinMap.js';
import { FirmataRigBoard } from './firmataRig.js';

export interface CellRig {
  /** Drivers for CellRun: station drivers on the boards' ptys, the simulator for the rest. */
  drivers(ctx: DriverContext): ReadonlyMap<string, DeviceDriver>;
  boards: ReadonlyMap<string, RigBoard>;
  links: StationLink[];
  /** StandardFirmata boards (src/rig/firmataRig.ts), by firmata link name, and their drivers' links. */
  firmataBoards: ReadonlyMap<string, FirmataRigBoard>;
  firmataLinks: FirmataLink[];
  close(): Promise<void>;
}

/** Electrical level of each digital input of a Firmata board at power-up (as initialInputs). */
function initialFirmataInputs(cell: CellDescription, map: FirmataPinMap): Record<number, 0 | 1> {
  const healthy = new Set([...cell.safety.estopSources.flatMap((s) => (s.kind === 'input' ? [s.input] : [])), ...cell.safety.protectiveStops.map((p) => p.input)]);
  const levels: Record<number, 0 | 1> = {};
  for (const c of map.channels) {
    if (c.direction !== 'input' || c.analog) continue;
    levels[c.pin] = healthy.has(`${c.device}.${c.channel}`) !== c.activeLow ? 1 : 0;
  }
  return levels;
}

/** Electrical level of each input at power-up: e-stop chain and guards healthy, sensors clear. */
function initialInputs(cell: CellDescription, map: BoardMap): Record<number, 0 | 1> {
  const healthy = new Set([...cell.safety.estopSources.flatMap((s) => (s.kind === 'input' ? [s.input] : [])), ...cell.safety.protectiveStops.map((p) => p.input)]);
  const levels: Record<number, 0 | 1> = {};
  for (const c of map.channels) {
    if (c.direction !== 'input') continue;
    const logical = healthy.has(`${c.device}.${c.channel}`);
    levels[c.pin] = logical !== c.activeLow ? 1 : 0;
  }
  return levels;
}

export async function startCellRig(cell: CellDescription, hash: string, onEvent?: (event: LinkEvent | FirmataLinkEvent) => void): Promise<CellRig> {
  const boards = new Map<string, RigBoard>();
  const links: StationLink[] = [];
  const fBoards = new Map<string, FirmataRigBoard>();
  const fLinks: FirmataLink[] = [];
  const maps = serialLinks(cell).map((link) => boardMap(cell, link, hash));
  try {
    for (const map of maps) {
      const conveyor = map.axis?.description;
      const indexMm = conveyor?.indexMm ?? 100;
      const board = await RigBoard.start({
        physics: {
          stepsPerMm: conveyor?.axis.stepsPerMm ?? 1,
          encoderCountsPerMm: conveyor?.axis.encoderCountsPerMm ?? 1,
          homeMarks: { everyMm: indexMm, halfWidthMm: 1 },
          // Part way to the next home mark, so that homing has something to do.
          startMm: Math.round(indexMm * 0.37 * 1000) / 1000,
          homeActiveLevel: conveyor?.axis.homeSensor.activeLow ? 0 : 1,
        },
        inputs: initialInputs(cell, map),
        reportBelt: conveyor !== undefined,
      });
      boards.set(map.link, board);
      await provisionBoard(board.linkPath, map.baud, map.provision);
      links.push(new StationLink({ map, descriptionHash: hash, path: board.linkPath, ...(onEvent ? { onEvent } : {}) }));
    }
    for (const name of firmataLinks(cell)) {
      const map = firmataPinMap(cell, name);
      const board = await FirmataRigBoard.start({ inputs: initialFirmataInputs(cell, map) });
      fBoards.set(name, board);
      fLinks.push(new FirmataLink({ cell, link: name, path: board.linkPath, ...(onEvent ? { onEvent } : {}) }));
    }
    for (const link of fLinks) link.acquire();
    // Power the boards up before the controller boots, as on a cell: connect, identify, and wait
    // for the first telemetry, so the controller's first reading is measured, not assumed.
    for (const link of links) link.acquire();
    const deadline = performance.now() + 15_000;
    while (links.some((l) => l.linkState !== 'ready' || l.lastTelemetry === undefined)) {
      const stuck = links.find((l) => l.linkState === 'refused');
      if (stuck) throw new Error(stuck.health().refusedReason ?? `link ${stuck.name} refused`);
      if (performance.now() > deadline) throw new Error(`station boards not ready within 15 s: ${links.map((l) => `${l.name} ${l.linkState}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    while (fLinks.some((l) => !l.measured)) {
      const stuck = fLinks.find((l) => l.linkState === 'refused');
      if (stuck) throw new Error(stuck.health().refusedReason ?? `link ${stuck.name} refused`);
      if (performance.now() > deadline) throw new Error(`Firmata boards not ready within 15 s: ${fLinks.map((l) => `${l.name} ${l.linkState}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (error) {
    for (const link of fLinks) await link.close();
    for (const b of fBoards.values()) await b.close();
    for (const link of links) await link.close();
    for (const b of boards.values()) await b.close();
    throw error;
  }

  const followers: Array<SimConveyor | SimFeeder> = [];
  return {
    boards,
    links,
    firmataBoards: fBoards,
    firmataLinks: fLinks,
    drivers(ctx: DriverContext): ReadonlyMap<string, DeviceDriver> {
      const drivers = new Map<string, DeviceDriver>(ctx.sim.drivers);
      for (const link of links) {
        for (const [name, device] of link.devices) drivers.set(name, device);
        const axis = link.map.axis;
        const board = boards.get(link.name)!;
        if (!axis) continue;
        const simConveyor = ctx.sim.drivers.get(axis.device);
        if (!(simConveyor instanceof SimConveyor)) continue;
        // The simulated belt follows the board's stepper; the simulated exit sensor drives its pin.
        const exit = link.map.channels.find((c) => c.device === axis.device && c.channel === 'part_at_exit');
        simConveyor.configure();
        simConveyor.activate();
        followers.push(simConveyor);
        let lastExit: boolean | undefined;
        simConveyor.onFeedback((fb) => {
          if (fb.type !== 'reading' || !exit) return;
          const value = fb.reading.inputs.part_at_exit === true;
          if (value === lastExit) return;
          lastExit = value;
          void board.setInput(exit.pin, value !== exit.activeLow ? 1 : 0).catch(() => {});
        });
        void board.state().then((s) => simConveyor.followBelt(s.beltMm)).catch(() => {});
        board.onBelt((beltMm) => simConveyor.followBelt(beltMm));
      }
      for (const link of fLinks) {
        for (const [name, device] of link.devices) drivers.set(name, device);
        const board = fBoards.get(link.name)!;
        for (const [name, device] of Object.entries(link.map.devices)) {
          const simFeeder = ctx.sim.drivers.get(name);
          if (device.kind !== 'feeder' || !(simFeeder instanceof SimFeeder)) continue;
          // The simulated chute follows the board's release pin; the simulated part sensor drives its pin.
          const release = link.map.channels.find((c) => c.device === name && c.channel === 'release')!;
          const sensor = link.map.channels.find((c) => c.device === name && c.channel === 'part_at_pick')!;
          simFeeder.configure();
          simFeeder.activate();
          followers.push(simFeeder);
          let released = false;
          board.onPin((pin, level) => {
            if (pin !== release.pin) return;
            const on = (level === 1) !== release.activeLow;
            if (on && !released) simFeeder.write({ type: 'release' });
            released = on;
          });
          let lastSensor: boolean | undefined;
          simFeeder.onFeedback((fb) => {
            if (fb.type !== 'reading') return;
            const value = fb.reading.inputs.part_at_pick === true;
            if (value === lastSensor) return;
            lastSensor = value;
            void board.setInput(sensor.pin, value !== sensor.activeLow ? 1 : 0).catch(() => {});
          });
        }
      }
      return drivers;
    },
    async close() {
      for (const follower of followers.splice(0)) follower.deactivate();
      for (const link of fLinks) await link.close();
      for (const board of fBoards.values()) await board.close();
      for (const link of links) await link.close();
      for (const board of boards.values()) await board.close();
    },
  };
}

/**
 * For `workcell run --rig`: load the description, start and provision its boards. Returns the
 * rig, or a message for the user (bad description, no serial link, missing firmware image).
 */
export async function startRigForRun(cellPath: string, err: NodeJS.WritableStream): Promise<CellRig | string> {
  const loaded = loadCell(cellPath);
  if (!loaded.ok) return `the cell description has problems:\n${loaded.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}`).join('\n')}`;
  if (serialLinks(loaded.cell).length === 0 && firmataLinks(loaded.cell).length === 0) return `--rig: ${cellPath} has no device on a serial link or a firmata link (try hardware/cells/demo-serial.yaml)`;
  try {
    return await startCellRig(loaded.cell, loaded.hash, (e) => {
      if (e.type === 'ready' && 'firmware' in e) err.write(`rig: ${e.link}: ${e.firmware} on ${e.path}\n`);
      else if (e.type === 'ready') err.write(`rig: ${e.link}: station ${e.boot.stationId} (firmware ${e.boot.firmwareMajor}.${e.boot.firmwareMinor}) on ${e.path}\n`);
      else err.write(`rig: ${e.link}: ${e.type}: ${'reason' in e ? e.reason : e.cause}\n`);
    });
  } catch (error) {
    return `--rig: ${error instanceof Error ? error.message : String(error)}`;
  }
}
