/**
 * The cell's station boards on the rig (src/rig: firmware in avr8js behind a pty), assembled as
 * src/rig/cellRig.ts assembles them for `workcell run --rig`, with one difference: a WireTap
 * (socat -x) sits between each board's pty and the pty the controller opens, so the benchmark sees
 * the bytes on the wire with their time. The belt and exit sensor are shared with the simulator
 * exactly as in cellRig.ts.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { CellDescription } from '../src/cell/schema.js';
import type { DeviceDriver } from '../src/devices/types.js';
import type { DriverContext } from '../src/runtime/run.js';
import { SimConveyor } from '../src/sim/conveyor.js';
import { boardMap, serialLinks, type BoardMap } from '../src/serial/boardMap.js';
import { provisionBoard } from '../src/serial/provision.js';
import { StationLink } from '../src/serial/station.js';
import { RigBoard, uniqueLinkDir } from '../src/rig/rigBoard.js';
import { WireTap } from './wireTap.js';

export interface TappedBoard {
  link: string;
  map: BoardMap;
  board: RigBoard;
  tap: WireTap;
  station: StationLink;
}

export interface TappedRig {
  boards: TappedBoard[];
  drivers(ctx: DriverContext): ReadonlyMap<string, DeviceDriver>;
  close(): Promise<void>;
}

/** Electrical level of each input at power-up: e-stop chain and guards healthy, sensors clear (as cellRig.ts). */
export function healthyInputs(cell: CellDescription, map: BoardMap): Record<number, 0 | 1> {
  const healthy = new Set([...cell.safety.estopSources.flatMap((s) => (s.kind === 'input' ? [s.input] : [])), ...cell.safety.protectiveStops.map((p) => p.input)]);
  const levels: Record<number, 0 | 1> = {};
  for (const c of map.channels) {
    if (c.direction !== 'input') continue;
    levels[c.pin] = healthy.has(`${c.device}.${c.channel}`) !== c.activeLow ? 1 : 0;
  }
  return levels;
}

export async function startTappedRig(cell: CellDescription, hash: string): Promise<TappedRig> {
  const boards: TappedBoard[] = [];
  const closeAll = async () => {
    for (const b of boards) await b.station.close();
    for (const b of boards) await b.tap.close();
    for (const b of boards) rmSync(path.dirname(b.tap.controllerPath), { recursive: true, force: true });
    for (const b of boards) await b.board.close();
  };
  try {
    for (const link of serialLinks(cell)) {
      const map = boardMap(cell, link, hash);
      const conveyor = map.axis?.description;
      const indexMm = conveyor?.indexMm ?? 100;
      const board = await RigBoard.start({
        physics: {
          stepsPerMm: conveyor?.axis.stepsPerMm ?? 1,
          encoderCountsPerMm: conveyor?.axis.encoderCountsPerMm ?? 1,
          homeMarks: { everyMm: indexMm, halfWidthMm: 1 },
          startMm: Math.round(indexMm * 0.37 * 1000) / 1000,
          homeActiveLevel: conveyor?.axis.homeSensor.activeLow ? 0 : 1,
        },
        inputs: healthyInputs(cell, map),
        reportBelt: conveyor !== undefined,
      });
      await provisionBoard(board.linkPath, map.baud, map.provision);
      const tap = await WireTap.start(board.linkPath, path.join(uniqueLinkDir(), 'controller'));
      const station = new StationLink({ map, descriptionHash: hash, path: tap.controllerPath });
      boards.push({ link, map, board, tap, station });
    }
    for (const b of boards) b.station.acquire();
    const deadline = performance.now() + 15_000;
    while (boards.some((b) => b.station.linkState !== 'ready' || b.station.lastTelemetry === undefined)) {
      const stuck = boards.find((b) => b.station.linkState === 'refused');
      if (stuck) throw new Error(stuck.station.health().refusedReason ?? `link ${stuck.link} refused`);
      if (performance.now() > deadline) throw new Error(`station boards not ready within 15 s: ${boards.map((b) => `${b.link} ${b.station.linkState}`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  const followers: SimConveyor[] = [];
  return {
    boards,
    drivers(ctx: DriverContext): ReadonlyMap<string, DeviceDriver> {
      const drivers = new Map<string, DeviceDriver>(ctx.sim.drivers);
      for (const { station, map, board } of boards) {
        for (const [name, device] of station.devices) drivers.set(name, device);
        const axis = map.axis;
        if (!axis) continue;
        const simConveyor = ctx.sim.drivers.get(axis.device);
        if (!(simConveyor instanceof SimConveyor)) continue;
        const exit = map.channels.find((c) => c.device === axis.device && c.channel === 'part_at_exit');
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
      return drivers;
    },
    async close() {
      for (const f of followers.splice(0)) f.deactivate();
      await closeAll();
    },
  };
}
