/**
 * The PackML machine state model (ISA-TR88.00.02 / OPC 30050) as plain data, plus the event
 * vocabulary of the cell machine and two pure helpers that read its snapshots.
 *
 * Pure: no I/O, no imports from src/. See docs/packml.md for the rules in prose.
 */

export const PACKML_STATES = [
  'Idle',
  'Held',
  'Suspended',
  'Complete',
  'Stopped',
  'Aborted',
  'Resetting',
  'Starting',
  'Execute',
  'Completing',
  'Holding',
  'Unholding',
  'Suspending',
  'Unsuspending',
  'Stopping',
  'Aborting',
  'Clearing',
] as const;
export type PackmlState = (typeof PACKML_STATES)[number];

/** States the machine rests in until a command or a condition moves it. */
export const WAIT_STATES = ['Idle', 'Held', 'Suspended', 'Complete', 'Stopped', 'Aborted'] as const satisfies readonly PackmlState[];
export type WaitState = (typeof WAIT_STATES)[number];

/**
 * States in which the controller is doing something and which end by themselves ("state
 * complete"). Execute is one of them: its state complete is `lot.released`.
 */
export const ACTING_STATES = [
  'Resetting',
  'Starting',
  'Execute',
  'Completing',
  'Holding',
  'Unholding',
  'Suspending',
  'Unsuspending',
  'Stopping',
  'Aborting',
  'Clearing',
] as const satisfies readonly PackmlState[];
export type ActingState = (typeof ACTING_STATES)[number];

/** Where a `stateComplete` event leads from each acting state (Execute ends with `lot.released`). */
export const STATE_COMPLETE_TARGET = {
  Resetting: 'Idle',
  Starting: 'Execute',
  Holding: 'Held',
  Unholding: 'Execute',
  Suspending: 'Suspended',
  Unsuspending: 'Execute',
  Stopping: 'Stopped',
  Aborting: 'Aborted',
  Clearing: 'Stopped',
  Completing: 'Complete',
} as const satisfies Record<Exclude<ActingState, 'Execute'>, PackmlState>;
export type CompletableState = keyof typeof STATE_COMPLETE_TARGET;

export const PACKML_COMMANDS = ['reset', 'start', 'stop', 'hold', 'unhold', 'suspend', 'unsuspend', 'abort', 'clear'] as const;
export type PackmlCommand = (typeof PACKML_COMMANDS)[number];

/**
 * The command validity table. Hold is accepted in the whole suspend family (the
 * TR88.00.02-2015 reading; docs/packml.md says why).
 */
export const COMMAND_RULES: Record<PackmlCommand, { validIn: readonly PackmlState[]; leadsTo: PackmlState }> = {
  reset: { validIn: ['Stopped', 'Complete'], leadsTo: 'Resetting' },
  start: { validIn: ['Idle'], leadsTo: 'Starting' },
  hold: { validIn: ['Execute', 'Suspending', 'Suspended', 'Unsuspending'], leadsTo: 'Holding' },
  unhold: { validIn: ['Held'], leadsTo: 'Unholding' },
  suspend: { validIn: ['Execute'], leadsTo: 'Suspending' },
  unsuspend: { validIn: ['Suspended'], leadsTo: 'Unsuspending' },
  stop: { validIn: statesExcept(['Stopping', 'Stopped', 'Clearing', 'Aborting', 'Aborted']), leadsTo: 'Stopping' },
  abort: { validIn: statesExcept(['Aborting', 'Aborted']), leadsTo: 'Aborting' },
  clear: { validIn: ['Aborted'], leadsTo: 'Clearing' },
};

/** How the table states the "every state except ..." commands, for rejection messages. */
const VALID_IN_WORDING: Partial<Record<PackmlCommand, string>> = {
  stop: 'every state except Stopping, Stopped, Clearing, Aborting, Aborted',
  abort: 'every state except Aborting, Aborted',
};

function statesExcept(excluded: readonly PackmlState[]): PackmlState[] {
  return PACKML_STATES.filter((state) => !excluded.includes(state));
}

export const UNIT_MODES = ['production', 'maintenance', 'manual'] as const;
export type UnitMode = (typeof UNIT_MODES)[number];
export const UNIT_MODE_NUMBER: Record<UnitMode, number> = { production: 1, maintenance: 2, manual: 3 };

/**
 * Wait states in which the unit mode may change: the ones with no lot in progress. Held and
 * Suspended are excluded because Unhold and Unsuspend resume the interrupted lot where it
 * stopped, which assumes the mode (and the positions a manual jog would move) are unchanged.
 */
export const MODE_CHANGE_STATES = ['Stopped', 'Idle', 'Aborted', 'Complete'] as const satisfies readonly WaitState[];

/** PackTags StateCurrent numbering (not OPC UA's StateEnumeration). 0 is Undefined. */
export const PACKTAGS_STATE_NUMBER: Record<PackmlState, number> = {
  Clearing: 1,
  Stopped: 2,
  Starting: 3,
  Idle: 4,
  Suspended: 5,
  Execute: 6,
  Stopping: 7,
  Aborting: 8,
  Aborted: 9,
  Holding: 10,
  Held: 11,
  Unholding: 12,
  Suspending: 13,
  Unsuspending: 14,
  Resetting: 15,
  Completing: 16,
  Complete: 17,
};

// ---------------------------------------------------------------------------------------------
// Events into the cell machine, events it emits, its context and input.

export type CommandEvent = { type: `cmd.${PackmlCommand}`; source: string };
export type ModeEvent = { type: 'cmd.mode'; mode: UnitMode; source: string };

export type CellEvent =
  | CommandEvent
  | ModeEvent
  /** The acting part of the controller finished the named acting state. */
  | { type: 'stateComplete'; state: PackmlState }
  | { type: 'estop.tripped'; source: string }
  | { type: 'estop.released'; source: string }
  | { type: 'protective.tripped'; source: string; endState: 'held' | 'stopped' }
  /** An internal condition (missed step, jam) that holds the cell. */
  | { type: 'fault.hold'; cause: string }
  /** In Execute: the lot's last part has been released. */
  | { type: 'lot.released' }
  | { type: 'flow.starved'; cause: string }
  | { type: 'flow.blocked'; cause: string }
  | { type: 'flow.ok' };

export type CellEmitted =
  | { type: 'state.entered'; state: PackmlState; cause: string }
  | { type: 'mode.changed'; from: UnitMode; to: UnitMode; source: string };

export interface CellInput {
  activeEstopSources: string[];
  mode?: UnitMode;
}

export interface CellContext {
  mode: UnitMode;
  /** E-stop sources tripped and not yet released; Clear is refused while any remain. */
  activeEstopSources: string[];
  /** Why the latest transition happened, e.g. 'cmd.hold from hmi', 'estop estop_button'. */
  lastCause: string;
  /** Set while parts flow is interrupted ('starved: ...' / 'blocked: ...'); undefined when it flows. */
  flowInterruption?: string;
  /** Whether the current suspension came from a flow condition (it then ends by itself on flow.ok). */
  suspendedByFlow: boolean;
}

// ---------------------------------------------------------------------------------------------
// Reading snapshots

/** A nested XState state value: a state key, or one child key per compound state. */
export type CellStateValue = string | { [key: string]: CellStateValue };

/** What the helpers below need from a cell machine snapshot. */
export interface CellSnapshotLike {
  value: CellStateValue;
  context: Pick<CellContext, 'activeEstopSources' | 'mode'>;
  can(event: CellEvent): boolean;
}

function isPackmlState(name: string): name is PackmlState {
  return (PACKML_STATES as readonly string[]).includes(name);
}

/** The flat PackML name of the state a cell machine snapshot is in. */
export function packmlState(snapshot: { value: CellStateValue }): PackmlState {
  let value: CellStateValue = snapshot.value;
  let path = '';
  for (;;) {
    if (typeof value === 'string') {
      if (isPackmlState(value)) return value;
      throw new Error(`cell machine state '${path}${value}' is not a PackML state`);
    }
    const keys = Object.keys(value);
    const key = keys[0];
    if (keys.length !== 1 || key === undefined) {
      throw new Error(`cell machine state value at '${path || '(root)'}' has ${keys.length} active children; expected exactly one`);
    }
    value = value[key] as CellStateValue;
    path += `${key}.`;
  }
}

export function commandWord(command: PackmlCommand): string {
  return command.charAt(0).toUpperCase() + command.slice(1);
}

function commandOf(type: string): PackmlCommand | undefined {
  const word = type.startsWith('cmd.') ? type.slice(4) : '';
  return (PACKML_COMMANDS as readonly string[]).includes(word) ? (word as PackmlCommand) : undefined;
}

/**
 * Why the machine would not accept `event` now, or undefined if it would. The verdict comes from
 * `snapshot.can(event)`; the table only supplies the wording.
 */
export function commandRejection(snapshot: CellSnapshotLike, event: CellEvent): string | undefined {
  if (snapshot.can(event)) return undefined;
  const state = packmlState(snapshot);
  if (event.type === 'cmd.mode') return modeChangeRejection(snapshot, state, event);

  const command = commandOf(event.type);
  if (command === undefined) {
    if (event.type.startsWith('cmd.')) {
      return `unknown command '${event.type.slice(4)}' (commands: ${PACKML_COMMANDS.join(', ')}, mode)`;
    }
    if (event.type === 'stateComplete') {
      return `state complete for ${String(event.state)} ignored: the cell is in ${state}`;
    }
    return `${event.type} is not accepted in ${state}`;
  }
  const active = snapshot.context.activeEstopSources;
  if (command === 'clear' && state === 'Aborted' && active.length > 0) {
    return `Clear refused: e-stop sources still active: ${active.join(', ')}`;
  }
  const rule = COMMAND_RULES[command];
  const validIn = VALID_IN_WORDING[command] ?? rule.validIn.join(', ');
  return `${commandWord(command)} is not valid in ${state} (valid in ${validIn})`;
}

function modeChangeRejection(snapshot: CellSnapshotLike, state: PackmlState, event: ModeEvent): string {
  if (!(UNIT_MODES as readonly string[]).includes(event.mode)) {
    return `unknown unit mode '${String(event.mode)}' (modes: ${UNIT_MODES.join(', ')})`;
  }
  if (!(MODE_CHANGE_STATES as readonly string[]).includes(state)) {
    return `mode change is only allowed in a wait state with no lot in progress (${MODE_CHANGE_STATES.join(', ')}); the cell is in ${state}`;
  }
  if (snapshot.context.mode === event.mode) return `the cell is already in ${event.mode} mode`;
  return `mode change to ${event.mode} refused in ${state}`;
}
