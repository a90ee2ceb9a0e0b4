/**
 * A real cell: each device is driven by its link's transport. Station boards (`serial`) and
 * StandardFirmata boards (`firmata`) are opened on their ports; devices on a `sim` link stay on the embedded simulator (a cell commissioned one
 * station at a time); ROS 2 devices come from the ROS session, added by the CLI. A board that is
 * absent or refused at start-up does not stop the controller: it boots into Stopped with that
 * device silent (its heartbeat supervision and Reset say so), and the link keeps retrying.
 */
import type { CellDescription } from '../cell/schema.js';
import type { DeviceDriver } from '../devices/types.js';
import { BoardMapError, boardMap, serialLinks } from '../serial/boardMap.js';
import { StationLink, type LinkEvent } from '../serial/station.js';
import { firmataLinksFor, type FirmataLink, type FirmataLinkEvent } from '../firmata/link.js';
import { FirmataPinMapError } from '../firmata/pinMap.js';
import type { DriverContext } from './run.js';

export interface HardwareLinks {
  /** Drivers for CellRun: the given base (the simulator's, or the ROS session's) with every board's devices over it. */
  drivers(base: (ctx: DriverContext) => ReadonlyMap<string, DeviceDriver>): (ctx: DriverContext) => ReadonlyMap<string, DeviceDriver>;
  /** One line per link and per simulated device, for the start-up banner. */
  summary(): string[];
  close(): Promise<void>;
}

export interface HardwareOptions {
  /** A link event worth a line on stderr and in the journal's neighbourhood (ready, refused, lost, reset). */
  onEvent?: (event: LinkEvent | FirmataLinkEvent) => void;
  /** How long to wait for the boards before the controller boots anyway (ms). */
  readyWithinMs?: number;
}

/** A link that cannot be opened as described; the message names it. */
export class HardwareError extends Error {}

export async function openHardware(cell: CellDescription, hash: string, options: HardwareOptions = {}): Promise<HardwareLinks> {
  const links: StationLink[] = [];
  for (const name of serialLinks(cell)) {
    try {
      links.push(new StationLink({ map: boardMap(cell, name, hash), descriptionHash: hash, ...(options.onEvent ? { onEvent: options.onEvent } : {}) }));
    } catch (error) {
      if (error instanceof BoardMapError) throw new HardwareError(`link ${name}: ${error.message}`);
      throw error;
    }
  }
  let firmata: FirmataLink[];
  try {
    firmata = firmataLinksFor({ cell, ...(options.onEvent ? { onEvent: options.onEvent } : {}) });
  } catch (error) {
    if (error instanceof FirmataPinMapError) throw new HardwareError(error.message);
    throw error;
  }
  for (const link of links) link.acquire();
  for (const link of firmata) link.acquire();
  // Give the boards a moment to boot and report, so the controller's first reading is measured; a
  // board that is not there by then is the operator's to see, not a reason to refuse to start.
  const measured = () =>
    links.every((l) => l.linkState === 'refused' || (l.linkState === 'ready' && l.lastTelemetry !== undefined)) &&
    firmata.every((l) => l.linkState === 'refused' || l.measured);
  const deadline = performance.now() + (options.readyWithinMs ?? 5000);
  while (!measured() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const boards: Array<{ devices: ReadonlyMap<string, DeviceDriver> }> = [...links, ...firmata];
  const onBoards = new Set(boards.flatMap((l) => [...l.devices.keys()]));
  return {
    drivers: (base) => (ctx) => {
      const drivers = new Map(base(ctx));
      for (const board of boards) for (const [name, device] of board.devices) drivers.set(name, device);
      return drivers;
    },
    summary: () => [
      ...links.map((l) => `${l.name}: station board on ${l.path}, ${l.linkState}${l.health().refusedReason ? ` (${l.health().refusedReason})` : ''}: ${[...l.devices.keys()].join(', ')}`),
      ...firmata.map((l) => `${l.name}: Firmata board on ${l.path}, ${l.linkState}${l.health().refusedReason ? ` (${l.health().refusedReason})` : ''}: ${[...l.devices.keys()].join(', ')}`),
      ...Object.entries(cell.devices)
        .filter(([name, d]) => !onBoards.has(name) && cell.links[d.link]?.transport === 'sim')
        .map(([name, d]) => `${name}: on the embedded simulator (link ${d.link} is transport sim)`),
    ],
    close: async () => {
      for (const link of links.splice(0)) await link.close();
      for (const link of firmata.splice(0)) await link.close();
    },
  };
}

/** One line for a link event (stderr of `workcell run`). */
export function describeLinkEvent(e: LinkEvent | FirmataLinkEvent): string {
  if (e.type === 'ready' && 'boot' in e) return `${e.link}: station ${e.boot.stationId} (firmware ${e.boot.firmwareMajor}.${e.boot.firmwareMinor}) on ${e.path}`;
  if (e.type === 'ready') return `${e.link}: Firmata board (${e.firmware}) on ${e.path}`;
  return `${e.link}: ${e.type}: ${'reason' in e ? e.reason : e.cause}`;
}
