/**
 * `workcell provision`: write a cell's configuration for one serial link into its station board
 * (what the commissioning engineer does once per board, and again after any change of the cell
 * description). Exit codes: 0 provisioned; 1 the board did not answer or refused; 2 bad input.
 */
import { loadCell } from '../cell/load.js';
import { shortHash } from '../cell/hash.js';
import { BoardMapError, boardMap, serialLinks } from './boardMap.js';
import { provisionBoard } from './provision.js';
import { describeResetCause } from './protocol.js';

export interface ProvisionCliOptions {
  cell: string;
  link?: string;
  path?: string;
}

export async function runProvision(opts: ProvisionCliOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const loaded = loadCell(opts.cell);
  if (!loaded.ok) {
    err.write(`workcell provision: the cell description has problems:\n${loaded.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}`).join('\n')}\n`);
    return 2;
  }
  const links = serialLinks(loaded.cell);
  const link = opts.link ?? (links.length === 1 ? links[0] : undefined);
  if (link === undefined) {
    err.write(`workcell provision: name the board with --link (serial links in ${opts.cell}: ${links.join(', ') || 'none'})\n`);
    return 2;
  }
  let map;
  try {
    map = boardMap(loaded.cell, link, loaded.hash);
  } catch (error) {
    if (error instanceof BoardMapError) {
      err.write(`workcell provision: ${opts.cell}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const path = opts.path ?? map.path;
  try {
    const boot = await provisionBoard(path, map.baud, map.provision);
    out.write(
      `${link}: station ${boot.stationId} on ${path} provisioned for ${loaded.cell.cell.name} ${shortHash(loaded.hash)} ` +
        `(firmware ${boot.firmwareMajor}.${boot.firmwareMinor}, protocol ${boot.protocolVersion}, watchdog ${boot.watchdogMs} ms, last reset: ${describeResetCause(boot.resetCause & 0x0f)})\n`,
    );
    return 0;
  } catch (error) {
    err.write(`workcell provision: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
