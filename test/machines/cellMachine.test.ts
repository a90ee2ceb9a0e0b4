import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  ACTING_STATES,
  PACKML_COMMANDS,
  PACKML_STATES,
  PACKTAGS_STATE_NUMBER,
  STATE_COMPLETE_TARGET,
  UNIT_MODE_NUMBER,
  WAIT_STATES,
  cellMachine,
  commandRejection,
  packmlState,
  parseCellInput,
  type CellEvent,
} from '../../machines/cellMachine.js';
import { bootCell } from './harness.js';
import { COMMANDS, STATES, STATE_COMPLETE, type State } from './packmlTable.js';
import { command, pathTo, stateComplete } from './paths.js';

const estop = (source = 'estop_button'): CellEvent => ({ type: 'estop.tripped', source });
const release = (source = 'estop_button'): CellEvent => ({ type: 'estop.released', source });
const toMode = (mode: 'production' | 'maintenance' | 'manual'): CellEvent => ({ type: 'cmd.mode', mode, source: 'hmi' });

function cellIn(state: State) {
  const cell = bootCell();
  cell.send(...pathTo(state));
  expect(cell.state()).toBe(state);
  return cell;
}

describe('boot', () => {
  it('comes up in Stopped when no e-stop source is active', () => {
    const cell = bootCell({ activeEstopSources: [] });
    expect(cell.state()).toBe('Stopped');
    expect(cell.entered).toEqual([{ type: 'state.entered', state: 'Stopped', cause: 'boot' }]);
    expect(cell.actor.getSnapshot().context.mode).toBe('production');
  });

  it('comes up in Aborted when any e-stop source is active, and the boot pseudo-state is never seen', () => {
    const cell = bootCell({ activeEstopSources: ['light_curtain', 'estop_button'], mode: 'maintenance' });
    expect(cell.state()).toBe('Aborted');
    expect(cell.actor.getSnapshot().value).toBe('Aborted');
    expect(cell.entered).toEqual([
      { type: 'state.entered', state: 'Aborted', cause: 'boot with e-stop active: light_curtain, estop_button' },
    ]);
    expect(cell.actor.getSnapshot().context).toMatchObject({ mode: 'maintenance', activeEstopSources: ['light_curtain', 'estop_button'] });
  });

  it('never boots into Execute or any acting state', () => {
    for (const activeEstopSources of [[], ['a'], ['a', 'b']]) {
      expect(['Stopped', 'Aborted']).toContain(bootCell({ activeEstopSources }).state());
    }
  });

  it('rejects a malformed input with an error naming the field', () => {
    expect(() => parseCellInput(undefined)).toThrow(/input is required/);
    expect(() => parseCellInput({ activeEstopSources: 'estop_button' })).toThrow(/input\.activeEstopSources .*got "estop_button"/);
    expect(() => parseCellInput({ activeEstopSources: [''] })).toThrow(/input\.activeEstopSources/);
    expect(() => parseCellInput({ activeEstopSources: [], mode: 'auto' })).toThrow(/input\.mode must be one of production, maintenance, manual; got "auto"/);
    expect(parseCellInput({ activeEstopSources: ['a', 'a'] })).toEqual({ activeEstopSources: ['a'], mode: 'production' });
    const actor = createActor(cellMachine, { input: { activeEstopSources: 'x' } as never });
    expect(actor.getSnapshot().status).toBe('error');
  });
});

describe('PackML constants', () => {
  it('lists the 17 states, split into 6 wait and 11 acting states', () => {
    expect([...PACKML_STATES].sort()).toEqual([...STATES].sort());
    expect([...WAIT_STATES].sort()).toEqual(['Aborted', 'Complete', 'Held', 'Idle', 'Stopped', 'Suspended']);
    expect([...WAIT_STATES, ...ACTING_STATES].sort()).toEqual([...STATES].sort());
    expect([...PACKML_COMMANDS]).toEqual([...COMMANDS]);
  });

  it('numbers states as PackTags StateCurrent and modes as PackML unit modes', () => {
    const packTags = ['Undefined', 'Clearing', 'Stopped', 'Starting', 'Idle', 'Suspended', 'Execute', 'Stopping', 'Aborting',
      'Aborted', 'Holding', 'Held', 'Unholding', 'Suspending', 'Unsuspending', 'Resetting', 'Completing', 'Complete'];
    for (const state of STATES) expect(PACKTAGS_STATE_NUMBER[state], state).toBe(packTags.indexOf(state));
    expect(UNIT_MODE_NUMBER).toEqual({ production: 1, maintenance: 2, manual: 3 });
  });

  it('STATE_COMPLETE_TARGET matches the standard', () => {
    expect(STATE_COMPLETE_TARGET).toEqual(STATE_COMPLETE);
  });

  it('packmlState refuses a value that is not a PackML state', () => {
    expect(() => packmlState({ value: { abortable: 'Parked' } })).toThrow(/'abortable\.Parked' is not a PackML state/);
    expect(() => packmlState({ value: {} })).toThrow(/0 active children/);
  });
});

describe('state.entered', () => {
  it('is emitted once on entry to every state along each path, with the cause', () => {
    const cell = cellIn('Clearing');
    expect(cell.entered).toEqual([
      { type: 'state.entered', state: 'Stopped', cause: 'boot' },
      { type: 'state.entered', state: 'Aborting', cause: 'cmd.abort from test' },
      { type: 'state.entered', state: 'Aborted', cause: 'state complete Aborting' },
      { type: 'state.entered', state: 'Clearing', cause: 'cmd.clear from test' },
    ]);
  });

  it.each(STATES)('entering %s announces it', (state) => {
    const cell = cellIn(state);
    expect(cell.entered.at(-1)?.state).toBe(state);
    expect(cell.actor.getSnapshot().context.lastCause).toBe(cell.entered.at(-1)?.cause);
  });
});

describe('state complete', () => {
  it.each(Object.entries(STATE_COMPLETE))('%s completes to %s', (acting, next) => {
    const cell = cellIn(acting as State);
    cell.send(stateComplete(acting as State));
    expect(cell.state()).toBe(next);
  });

  it('ignores a late completion for a state already left, and one for another state', () => {
    const cell = cellIn('Idle');
    cell.send(stateComplete('Resetting'));
    expect(cell.state()).toBe('Idle');
    expect(commandRejection(cell.actor.getSnapshot(), stateComplete('Resetting'))).toBe('state complete for Resetting ignored: the cell is in Idle');
    cell.send(command('start'), stateComplete('Holding'), stateComplete('Execute'));
    expect(cell.state()).toBe('Starting');
  });

  it('Execute completes on lot.released, then Completing on its state complete', () => {
    const cell = cellIn('Execute');
    cell.send({ type: 'lot.released' });
    expect(cell.entered.at(-1)).toEqual({ type: 'state.entered', state: 'Completing', cause: 'lot released' });
    cell.send(stateComplete('Completing'));
    expect(cell.state()).toBe('Complete');
    const idle = cellIn('Idle');
    idle.send({ type: 'lot.released' });
    expect(idle.state()).toBe('Idle');
  });
});

describe('unit mode', () => {
  // Wait states with no lot in progress (docs/packml.md).
  const MODE_STATES: State[] = ['Stopped', 'Idle', 'Aborted', 'Complete'];

  it.each(STATES)('a mode change in %s', (state) => {
    const cell = cellIn(state);
    const entered = cell.entered.length;
    const rejection = commandRejection(cell.actor.getSnapshot(), toMode('manual'));
    cell.send(toMode('manual'));
    expect(cell.state()).toBe(state);
    expect(cell.entered.length).toBe(entered);
    if (MODE_STATES.includes(state)) {
      expect(rejection).toBeUndefined();
      expect(cell.modeChanges).toEqual([{ type: 'mode.changed', from: 'production', to: 'manual', source: 'hmi' }]);
      expect(cell.actor.getSnapshot().context.mode).toBe('manual');
    } else {
      expect(rejection).toBe(
        `mode change is only allowed in a wait state with no lot in progress (Stopped, Idle, Aborted, Complete); the cell is in ${state}`,
      );
      expect(cell.modeChanges).toEqual([]);
      expect(cell.actor.getSnapshot().context.mode).toBe('production');
    }
  });

  it('refuses a change to the current mode and an unknown mode, saying why', () => {
    const cell = cellIn('Idle');
    expect(commandRejection(cell.actor.getSnapshot(), toMode('production'))).toBe('the cell is already in production mode');
    const unknown = { type: 'cmd.mode', mode: 'auto', source: 'hmi' } as unknown as CellEvent;
    expect(commandRejection(cell.actor.getSnapshot(), unknown)).toBe("unknown unit mode 'auto' (modes: production, maintenance, manual)");
    cell.send(toMode('production'), unknown);
    expect(cell.modeChanges).toEqual([]);
    expect(cell.actor.getSnapshot().context.mode).toBe('production');
  });

  it('a mode change never starts anything: Start is still needed', () => {
    const cell = cellIn('Idle');
    cell.send(toMode('maintenance'), toMode('production'));
    expect(cell.state()).toBe('Idle');
    expect(cell.modeChanges.map((m) => `${m.from}->${m.to}`)).toEqual(['production->maintenance', 'maintenance->production']);
  });
});

describe('emergency stop', () => {
  it.each(STATES.filter((s) => s !== 'Aborting' && s !== 'Aborted'))('estop.tripped in %s leads to Aborting', (state) => {
    const cell = cellIn(state);
    cell.send(estop());
    expect(cell.state()).toBe('Aborting');
    expect(cell.entered.at(-1)).toEqual({ type: 'state.entered', state: 'Aborting', cause: 'estop estop_button' });
    expect(cell.actor.getSnapshot().context.activeEstopSources).toEqual(['estop_button']);
  });

  it.each(['Aborting', 'Aborted'] as const)('estop.tripped in %s records the source and changes no state', (state) => {
    const cell = cellIn(state);
    const entered = cell.entered.length;
    cell.send(estop('light_curtain'));
    expect(cell.state()).toBe(state);
    expect(cell.entered.length).toBe(entered);
    expect(cell.actor.getSnapshot().context.activeEstopSources).toEqual(['light_curtain']);
  });

  it('Clear is refused while any source is active, listing them, and accepted once all are released', () => {
    const cell = bootCell();
    cell.send(estop('estop_button'), estop('light_curtain'), estop('estop_button'), stateComplete('Aborting'));
    expect(cell.state()).toBe('Aborted');
    const refused = () => commandRejection(cell.actor.getSnapshot(), command('clear'));
    expect(refused()).toBe('Clear refused: e-stop sources still active: estop_button, light_curtain');
    cell.send(command('clear'));
    expect(cell.state()).toBe('Aborted');

    cell.send(release('estop_button'));
    expect(cell.state()).toBe('Aborted'); // releasing never restarts anything
    expect(refused()).toBe('Clear refused: e-stop sources still active: light_curtain');
    cell.send(command('clear'));
    expect(cell.state()).toBe('Aborted');

    cell.send(release('light_curtain'));
    expect(refused()).toBeUndefined();
    cell.send(command('clear'), stateComplete('Clearing'));
    expect(cell.state()).toBe('Stopped');
    cell.send(command('start'));
    expect(cell.state()).toBe('Stopped'); // Reset, then Start, are still separate commands
  });

  it('a cell booted with an e-stop active clears only after release', () => {
    const cell = bootCell({ activeEstopSources: ['estop_button'] });
    cell.send(command('clear'));
    expect(cell.state()).toBe('Aborted');
    cell.send(release('estop_button'), command('clear'));
    expect(cell.state()).toBe('Clearing');
  });

  it('an e-stop released while Aborting still leaves the cell in Aborted', () => {
    const cell = cellIn('Execute');
    cell.send(estop(), release(), stateComplete('Aborting'));
    expect(cell.state()).toBe('Aborted');
  });
});

describe('protective stop', () => {
  // Hold where Hold is valid (end state held), already-held states stay, otherwise Stop where valid.
  const expected: Record<State, [held: State, stopped: State]> = {
    Execute: ['Holding', 'Stopping'],
    Suspending: ['Holding', 'Stopping'],
    Suspended: ['Holding', 'Stopping'],
    Unsuspending: ['Holding', 'Stopping'],
    Holding: ['Holding', 'Stopping'],
    Held: ['Held', 'Stopping'],
    Unholding: ['Stopping', 'Stopping'],
    Resetting: ['Stopping', 'Stopping'],
    Idle: ['Stopping', 'Stopping'],
    Starting: ['Stopping', 'Stopping'],
    Completing: ['Stopping', 'Stopping'],
    Complete: ['Stopping', 'Stopping'],
    Stopping: ['Stopping', 'Stopping'],
    Stopped: ['Stopped', 'Stopped'],
    Clearing: ['Clearing', 'Clearing'],
    Aborting: ['Aborting', 'Aborting'],
    Aborted: ['Aborted', 'Aborted'],
  };
  const cases = STATES.flatMap((s) => (['held', 'stopped'] as const).map((endState) => [s, endState] as const));

  it.each(cases)('in %s with end state %s', (state, endState) => {
    const cell = cellIn(state);
    const entered = cell.entered.length;
    cell.send({ type: 'protective.tripped', source: 'guard_door', endState });
    const next = expected[state][endState === 'held' ? 0 : 1];
    expect(cell.state()).toBe(next);
    if (next === state) expect(cell.entered.length).toBe(entered);
    else expect(cell.entered.at(-1)?.cause).toBe(`protective guard_door (end state ${endState})`);
  });
});

describe('internal hold', () => {
  it.each(['Execute', 'Suspending', 'Suspended', 'Unsuspending'] as const)('fault.hold in %s leads to Holding', (state) => {
    const cell = cellIn(state);
    cell.send({ type: 'fault.hold', cause: 'part_not_at_pick' });
    expect(cell.entered.at(-1)).toEqual({ type: 'state.entered', state: 'Holding', cause: 'fault part_not_at_pick' });
  });

  it.each(['Idle', 'Starting', 'Held', 'Holding', 'Unholding', 'Stopped', 'Aborted', 'Completing'] as const)('fault.hold in %s is ignored', (state) => {
    const cell = cellIn(state);
    cell.send({ type: 'fault.hold', cause: 'jam' });
    expect(cell.state()).toBe(state);
  });
});

describe('Hold from the suspend family (TR88.00.02-2015 reading)', () => {
  it.each(['Suspending', 'Suspended', 'Unsuspending'] as const)('Hold in %s holds, and Unhold resumes Execute', (state) => {
    const cell = cellIn(state);
    cell.send(command('hold'), stateComplete('Holding'), command('unhold'), stateComplete('Unholding'));
    expect(cell.entered.slice(-4).map((e) => e.state)).toEqual(['Holding', 'Held', 'Unholding', 'Execute']);
  });
});

describe('parts flow (Suspended)', () => {
  it('starved in Execute suspends, and flow.ok unsuspends by itself', () => {
    const cell = cellIn('Execute');
    cell.send({ type: 'flow.starved', cause: 'feeder_empty' });
    expect(cell.entered.at(-1)).toEqual({ type: 'state.entered', state: 'Suspending', cause: 'flow starved: feeder_empty' });
    cell.send(stateComplete('Suspending'), { type: 'flow.ok' });
    expect(cell.entered.slice(-2)).toEqual([
      { type: 'state.entered', state: 'Suspended', cause: 'state complete Suspending' },
      { type: 'state.entered', state: 'Unsuspending', cause: 'flow ok' },
    ]);
    cell.send(stateComplete('Unsuspending'));
    expect(cell.state()).toBe('Execute');
  });

  it('a flow that recovers during Suspending passes through Suspended into Unsuspending', () => {
    const cell = cellIn('Execute');
    cell.send({ type: 'flow.blocked', cause: 'outfeed_full' }, { type: 'flow.ok' }, stateComplete('Suspending'));
    expect(cell.entered.slice(-2).map((e) => e.state)).toEqual(['Suspended', 'Unsuspending']);
  });

  it('a condition that arose while Held suspends the cell as soon as it is back in Execute', () => {
    const cell = cellIn('Held');
    cell.send({ type: 'flow.starved', cause: 'feeder_empty' });
    expect(cell.state()).toBe('Held');
    cell.send(command('unhold'), stateComplete('Unholding'));
    expect(cell.entered.slice(-2).map((e) => e.state)).toEqual(['Execute', 'Suspending']);
  });

  it('an operator Suspend is not ended by flow.ok: it needs Unsuspend', () => {
    const cell = cellIn('Suspended');
    cell.send({ type: 'flow.starved', cause: 'feeder_empty' }, { type: 'flow.ok' });
    expect(cell.state()).toBe('Suspended');
    cell.send(command('unsuspend'));
    expect(cell.state()).toBe('Unsuspending');
  });

  it('flow events outside Execute and Suspended change no state', () => {
    for (const state of ['Idle', 'Stopped', 'Complete', 'Aborted'] as const) {
      const cell = cellIn(state);
      cell.send({ type: 'flow.blocked', cause: 'outfeed_full' }, { type: 'flow.ok' });
      expect(cell.state()).toBe(state);
    }
  });
});
