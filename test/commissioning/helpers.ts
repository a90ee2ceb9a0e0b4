import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommissioningView } from '../../src/commissioning/commissioning.js';
import type { CellEventMessage } from '../../src/interface/operator.js';
import type { JournalRecord } from '../../src/journal/journal.js';
import { DemoCell } from '../controller/runHarness.js';
import { DEMO_PATH } from '../controller/helpers.js';

/** A private copy of the demo cell description (teach writes to it), optionally edited as text. */
export function demoCopy(edit: (text: string) => string = (t) => t): string {
  const dir = mkdtempSync(join(tmpdir(), 'workcell-commissioning-'));
  const path = join(dir, 'demo.yaml');
  copyFileSync(DEMO_PATH, path);
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
  return path;
}

/** The demo cell, in virtual time, on a private copy of its description. */
export function commissioningCell(edit?: (text: string) => string): DemoCell {
  const cellPath = demoCopy(edit);
  const cell = new DemoCell({ cellPath });
  files.set(cell, cellPath);
  return cell;
}

const files = new WeakMap<DemoCell, string>();

/** The description file a commissioning cell was loaded from (teach writes to it). */
export function cellFile(c: DemoCell): string {
  return files.get(c)!;
}

export function view(c: DemoCell): CommissioningView {
  const v = c.run.controller.stateMessage().commissioning;
  if (!v) throw new Error(`no commissioning view: the cell is in ${c.run.controller.mode} mode`);
  return v;
}

export function records(c: DemoCell, kind: string, event?: string): JournalRecord[] {
  return (c.run.memory?.records() ?? []).filter((r) => r.kind === kind && (event === undefined || r.event === event));
}

/** The last command event (accepted or rejected) for `command`. */
export function verdict(c: DemoCell, command: string): CellEventMessage | undefined {
  return [...c.events].reverse().find((e) => (e.type === 'command.accepted' || e.type === 'command.rejected') && e.command === command);
}

export function rejection(c: DemoCell, command: string): string | undefined {
  c.send(command);
  const e = verdict(c, command.trim().toLowerCase().replace(/\s+/g, ' '));
  if (!e) throw new Error(`no verdict for ${command}`);
  return e.type === 'command.rejected' ? e.reason : undefined;
}

/** Conveyor axis as the simulator measures it. */
export function conveyorSteps(c: DemoCell): number {
  return c.run.sim.drivers.get('conveyor')!.read().axis!.positionSteps;
}

export function armJoints(c: DemoCell): number[] {
  return c.run.sim.drivers.get('arm')!.read().joints!;
}

export function moving(c: DemoCell, device: string): boolean {
  return c.run.sim.drivers.get(device)!.read().moving;
}
