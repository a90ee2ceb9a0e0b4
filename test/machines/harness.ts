/** A started cell machine actor that records what it emits. */
import { createActor } from 'xstate';
import { cellMachine, packmlState, type CellEmitted, type CellEvent, type CellInput, type PackmlState } from '../../machines/cellMachine.js';
import { BOOT_INPUT } from './paths.js';

export function bootCell(input: CellInput = BOOT_INPUT) {
  const actor = createActor(cellMachine, { input });
  const entered: Extract<CellEmitted, { type: 'state.entered' }>[] = [];
  const modeChanges: Extract<CellEmitted, { type: 'mode.changed' }>[] = [];
  actor.on('state.entered', (e) => entered.push(e));
  actor.on('mode.changed', (e) => modeChanges.push(e));
  actor.start();
  return {
    actor,
    entered,
    modeChanges,
    state: (): PackmlState => packmlState(actor.getSnapshot()),
    send(...events: CellEvent[]) {
      for (const event of events) actor.send(event);
    },
  };
}
