/**
 * The simulated world across a controller restart. The embedded simulator runs inside the
 * controller's process, so a killed controller would take its world with it, and the restarted
 * cell would be empty: parts believed on the belt would be "lost" for no physical reason. With a
 * state directory the world is saved after every settled change (`sim-world.json`), and a
 * restarted simulator takes it over: the parts where they were, the belt and the arm where the
 * last snapshot saw them (a motion in progress stops there, as a board's watchdog would stop it),
 * the conveyor board's counters kept (its power was never cut), falls and releases that were under
 * way finished. It models physics, not durability: written without fsync.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SimulatedCell, SimWorldState } from './cell.js';

export const SIM_WORLD_FILE = 'sim-world.json';
const SET_ASIDE_DIR = 'set-aside';
const FORMAT = 1;

interface SavedWorld extends SimWorldState {
  format: number;
  cellHash: string;
}

export type WorldTakeOver = { restored: true; parts: number } | { restored: false; setAside: string; reason: string } | undefined;

/**
 * Take over the world saved in `stateDir` (if any) and keep saving it there. A file from another
 * cell description or format is set aside (renamed), never loaded.
 */
export function persistSimWorld(sim: SimulatedCell, stateDir: string, cellHash: string): WorldTakeOver {
  const file = path.join(stateDir, SIM_WORLD_FILE);
  let outcome: WorldTakeOver;
  if (existsSync(file)) {
    const problem = (() => {
      let saved: SavedWorld;
      try {
        saved = JSON.parse(readFileSync(file, 'utf8')) as SavedWorld;
      } catch (error) {
        return `unreadable (${error instanceof Error ? error.message : String(error)})`;
      }
      if (saved.format !== FORMAT) return `format ${String(saved.format)}, this simulator reads ${FORMAT}`;
      if (saved.cellHash !== cellHash) return `saved for another cell description (hash ${String(saved.cellHash).slice(0, 12)}…)`;
      try {
        sim.importWorld(saved);
      } catch (error) {
        return `does not fit this cell (${error instanceof Error ? error.message : String(error)})`;
      }
      outcome = { restored: true, parts: saved.world.parts.length };
      return undefined;
    })();
    if (problem !== undefined) outcome = { restored: false, setAside: setAside(stateDir, file, problem), reason: problem };
  }
  let last = '';
  const temp = `${file}.tmp`;
  const save = () => {
    const text = JSON.stringify({ format: FORMAT, cellHash, ...sim.exportWorld() } satisfies SavedWorld);
    if (text === last) return;
    last = text;
    writeFileSync(temp, text);
    renameSync(temp, file);
  };
  save();
  sim.onSettled(save);
  return outcome;
}

/** Moves the file into set-aside/<date>-sim-world/ with a REASON.txt, as the durable store does with a belief. */
function setAside(stateDir: string, file: string, reason: string): string {
  const stamp = new Date().toISOString().replace(/:/g, '-');
  let target = path.join(stateDir, SET_ASIDE_DIR, `${stamp}-sim-world`);
  for (let n = 2; existsSync(target); n++) target = path.join(stateDir, SET_ASIDE_DIR, `${stamp}-sim-world-${n}`);
  mkdirSync(target, { recursive: true });
  writeFileSync(path.join(target, 'REASON.txt'), `Set aside by workcell's simulator at ${new Date().toISOString()}, never loaded.\n${reason}\n`);
  renameSync(file, path.join(target, SIM_WORLD_FILE));
  return target;
}
