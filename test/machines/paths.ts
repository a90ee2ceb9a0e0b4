/**
 * Event paths from boot (no e-stop active) to each PackML state, through real commands, state
 * completes and, for Completing, the lot's last release. Written by hand from the PackML table so
 * they can drive both the machine and, through the bus, the controller runtime.
 */
import type { CellEvent, CellInput, PackmlCommand, PackmlState } from '../../machines/packml.js';

export const BOOT_INPUT: CellInput = { activeEstopSources: [] };

export function command(name: PackmlCommand, source = 'test'): CellEvent {
  return { type: `cmd.${name}`, source };
}

export function stateComplete(state: PackmlState): CellEvent {
  return { type: 'stateComplete', state };
}

const toIdle = [command('reset'), stateComplete('Resetting')];
const toExecute = [...toIdle, command('start'), stateComplete('Starting')];
const toHeld = [...toExecute, command('hold'), stateComplete('Holding')];
const toSuspended = [...toExecute, command('suspend'), stateComplete('Suspending')];
const toAborted = [command('abort'), stateComplete('Aborting')];

const PATHS: Record<PackmlState, CellEvent[]> = {
  Stopped: [],
  Resetting: [command('reset')],
  Idle: toIdle,
  Starting: [...toIdle, command('start')],
  Execute: toExecute,
  Holding: [...toExecute, command('hold')],
  Held: toHeld,
  Unholding: [...toHeld, command('unhold')],
  Suspending: [...toExecute, command('suspend')],
  Suspended: toSuspended,
  Unsuspending: [...toSuspended, command('unsuspend')],
  Completing: [...toExecute, { type: 'lot.released' }],
  Complete: [...toExecute, { type: 'lot.released' }, stateComplete('Completing')],
  Stopping: [...toIdle, command('stop')],
  Aborting: [command('abort')],
  Aborted: toAborted,
  Clearing: [...toAborted, command('clear')],
};

/** A fresh copy of the events that take a cell booted with BOOT_INPUT to `state`. */
export function pathTo(state: PackmlState): CellEvent[] {
  const path = PATHS[state];
  if (path === undefined) throw new Error(`pathTo: '${String(state)}' is not a PackML state`);
  return path.map((event) => ({ ...event }));
}
