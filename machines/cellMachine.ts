/**
 * The cell's outer statechart: the PackML machine state model (docs/packml.md).
 *
 * Nesting follows the standard picture: Aborting and Aborted sit at the top; every other state
 * is inside `abortable` (Abort and an e-stop lead to Aborting), and the states where Stop is
 * valid are inside `stoppable` within it. State keys are the PackML names; `packmlState()`
 * flattens a snapshot to one of them.
 *
 * Pure: the only side effect is `emit` (`state.entered` on entry to every PackML state,
 * `mode.changed` on an accepted mode change). No timers, no I/O, no imports from src/.
 */
import { assign, emit, setup } from 'xstate';
import type { SnapshotFrom } from 'xstate';
import {
  UNIT_MODES,
  type CellContext,
  type CellEmitted,
  type CellEvent,
  type CellInput,
  type CompletableState,
  type PackmlState,
  type UnitMode,
} from './packml.js';

export * from './packml.js';

function isUnitMode(value: unknown): value is UnitMode {
  return typeof value === 'string' && (UNIT_MODES as readonly string[]).includes(value);
}

/**
 * Checks an actor input and returns it with defaults filled in. XState reports an error thrown
 * while creating the initial context only asynchronously, so a caller holding untrusted input
 * should call this first; the machine calls it too.
 */
export function parseCellInput(input: unknown): Required<CellInput> {
  if (input === undefined || input === null || typeof input !== 'object') {
    throw new Error('cellMachine input is required: { activeEstopSources: string[]; mode?: UnitMode }');
  }
  const { activeEstopSources: sources, mode = 'production' } = input as Record<string, unknown>;
  if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new Error(
      `cellMachine input.activeEstopSources must be an array of e-stop source names; got ${JSON.stringify(sources)}`,
    );
  }
  if (!isUnitMode(mode)) {
    throw new Error(`cellMachine input.mode must be one of ${UNIT_MODES.join(', ')}; got ${JSON.stringify(mode)}`);
  }
  return { activeEstopSources: [...new Set(sources as string[])], mode };
}

function initialContext(input: CellInput): CellContext {
  const { activeEstopSources, mode } = parseCellInput(input);
  return { mode, activeEstopSources, lastCause: 'boot', flowInterruption: undefined, suspendedByFlow: false };
}

/** The cause recorded for a transition taken on `event`. */
export function describeCause(event: CellEvent): string {
  switch (event.type) {
    case 'cmd.mode':
      return `cmd.mode ${event.mode} from ${event.source}`;
    case 'stateComplete':
      return `state complete ${event.state}`;
    case 'estop.tripped':
    case 'estop.released':
      return `${event.type === 'estop.tripped' ? 'estop' : 'estop released'} ${event.source}`;
    case 'protective.tripped':
      return `protective ${event.source} (end state ${event.endState})`;
    case 'fault.hold':
      return `fault ${event.cause}`;
    case 'lot.released':
      return 'lot released';
    case 'flow.starved':
      return `starved: ${event.cause}`;
    case 'flow.blocked':
      return `blocked: ${event.cause}`;
    case 'flow.ok':
      return 'flow ok';
    default:
      return `${event.type} from ${event.source}`;
  }
}

const announce = (state: PackmlState) => ({ type: 'announceState', params: { state } }) as const;
const completes = (state: CompletableState) => ({ type: 'isCompletionOf', params: { state } }) as const;

// Shared transition blocks, so each rule is written once.
const modeChange = {
  'cmd.mode': { guard: 'isModeChangeToAnotherMode', actions: ['announceModeChange', 'changeMode'] },
} as const;
const hold = {
  'cmd.hold': { target: '#Holding', actions: 'recordCause' },
  'fault.hold': { target: '#Holding', actions: 'recordCause' },
  // Otherwise (end state stopped) the stoppable superstate's handler leads to Stopping.
  'protective.tripped': { guard: 'isHeldEndState', target: '#Holding', actions: 'recordCause' },
} as const;
// Already holding: a protective stop asking for Held changes nothing (one asking for Stopped
// still falls through to Stopping).
const alreadyHeld = { 'protective.tripped': { guard: 'isHeldEndState' } } as const;

export const cellMachine = setup({
  types: {
    context: {} as CellContext,
    events: {} as CellEvent,
    input: {} as CellInput,
    emitted: {} as CellEmitted,
  },
  actions: {
    announceState: emit(({ context }, params: { state: PackmlState }) => ({
      type: 'state.entered' as const,
      state: params.state,
      cause: context.lastCause,
    })),
    recordCause: assign({ lastCause: ({ event }) => describeCause(event) }),
    recordBootCause: assign({
      lastCause: ({ context }) =>
        context.activeEstopSources.length > 0 ? `boot with e-stop active: ${context.activeEstopSources.join(', ')}` : 'boot',
    }),
    recordEstopSource: assign({
      activeEstopSources: ({ context, event }) =>
        event.type === 'estop.tripped' && !context.activeEstopSources.includes(event.source)
          ? [...context.activeEstopSources, event.source]
          : context.activeEstopSources,
    }),
    releaseEstopSource: assign({
      activeEstopSources: ({ context, event }) =>
        event.type === 'estop.released' ? context.activeEstopSources.filter((s) => s !== event.source) : context.activeEstopSources,
    }),
    recordFlowInterrupted: assign({ flowInterruption: ({ event }) => describeCause(event) }),
    recordFlowOk: assign({ flowInterruption: undefined }),
    markSuspendedByOperator: assign({ suspendedByFlow: false }),
    markSuspendedByFlow: assign({
      suspendedByFlow: true,
      lastCause: ({ context }) => `flow ${context.flowInterruption ?? 'interrupted'}`,
    }),
    recordFlowResumeCause: assign({ lastCause: 'flow ok' }),
    // Emitted before `changeMode` so `from` is still the old mode.
    announceModeChange: emit(({ context, event }) => ({
      type: 'mode.changed' as const,
      from: context.mode,
      to: event.type === 'cmd.mode' ? event.mode : context.mode,
      source: event.type === 'cmd.mode' ? event.source : '',
    })),
    changeMode: assign({
      mode: ({ context, event }) => (event.type === 'cmd.mode' ? event.mode : context.mode),
      lastCause: ({ event }) => describeCause(event),
    }),
  },
  guards: {
    isCompletionOf: ({ event }, params: { state: CompletableState }) =>
      event.type === 'stateComplete' && event.state === params.state,
    hasActiveEstop: ({ context }) => context.activeEstopSources.length > 0,
    hasNoActiveEstop: ({ context }) => context.activeEstopSources.length === 0,
    isHeldEndState: ({ event }) => event.type === 'protective.tripped' && event.endState === 'held',
    isFlowInterrupted: ({ context }) => context.flowInterruption !== undefined,
    isFlowSuspensionOver: ({ context }) => context.suspendedByFlow && context.flowInterruption === undefined,
    isModeChangeToAnotherMode: ({ context, event }) =>
      event.type === 'cmd.mode' && isUnitMode(event.mode) && event.mode !== context.mode,
  },
}).createMachine({
  id: 'cell',
  context: ({ input }) => initialContext(input),
  initial: 'boot',
  // Conditions recorded in every state; the states below decide what they change.
  on: {
    'estop.tripped': { actions: 'recordEstopSource' },
    'estop.released': { actions: 'releaseEstopSource' },
    'flow.starved': { actions: 'recordFlowInterrupted' },
    'flow.blocked': { actions: 'recordFlowInterrupted' },
    'flow.ok': { actions: 'recordFlowOk' },
  },
  states: {
    // Transient: resolved before the first snapshot is observable.
    boot: {
      always: [
        { guard: 'hasActiveEstop', target: 'Aborted', actions: 'recordBootCause' },
        { target: '#Stopped', actions: 'recordBootCause' },
      ],
    },
    Aborting: {
      id: 'Aborting',
      entry: announce('Aborting'),
      on: { stateComplete: { guard: completes('Aborting'), target: 'Aborted', actions: 'recordCause' } },
    },
    Aborted: {
      id: 'Aborted',
      entry: announce('Aborted'),
      on: {
        'cmd.clear': { guard: 'hasNoActiveEstop', target: '#Clearing', actions: 'recordCause' },
        ...modeChange,
      },
    },
    abortable: {
      initial: 'Stopped',
      on: {
        'cmd.abort': { target: '#Aborting', actions: 'recordCause' },
        'estop.tripped': { target: '#Aborting', actions: ['recordEstopSource', 'recordCause'] },
      },
      states: {
        Clearing: {
          id: 'Clearing',
          entry: announce('Clearing'),
          on: { stateComplete: { guard: completes('Clearing'), target: '#Stopped', actions: 'recordCause' } },
        },
        Stopped: {
          id: 'Stopped',
          entry: announce('Stopped'),
          on: { 'cmd.reset': { target: '#Resetting', actions: 'recordCause' }, ...modeChange },
        },
        Stopping: {
          id: 'Stopping',
          entry: announce('Stopping'),
          on: { stateComplete: { guard: completes('Stopping'), target: '#Stopped', actions: 'recordCause' } },
        },
        stoppable: {
          initial: 'Resetting',
          on: {
            'cmd.stop': { target: '#Stopping', actions: 'recordCause' },
            'protective.tripped': { target: '#Stopping', actions: 'recordCause' },
          },
          states: {
            Resetting: {
              id: 'Resetting',
              entry: announce('Resetting'),
              on: { stateComplete: { guard: completes('Resetting'), target: '#Idle', actions: 'recordCause' } },
            },
            Idle: {
              id: 'Idle',
              entry: announce('Idle'),
              on: { 'cmd.start': { target: '#Starting', actions: 'recordCause' }, ...modeChange },
            },
            Starting: {
              id: 'Starting',
              entry: announce('Starting'),
              on: { stateComplete: { guard: completes('Starting'), target: '#Execute', actions: 'recordCause' } },
            },
            Execute: {
              id: 'Execute',
              entry: announce('Execute'),
              // A flow condition that arose while the cell was elsewhere still suspends it.
              always: { guard: 'isFlowInterrupted', target: '#Suspending', actions: 'markSuspendedByFlow' },
              on: {
                ...hold,
                'cmd.suspend': { target: '#Suspending', actions: ['markSuspendedByOperator', 'recordCause'] },
                'lot.released': { target: '#Completing', actions: 'recordCause' },
              },
            },
            Completing: {
              id: 'Completing',
              entry: announce('Completing'),
              on: { stateComplete: { guard: completes('Completing'), target: '#Complete', actions: 'recordCause' } },
            },
            Complete: {
              id: 'Complete',
              entry: announce('Complete'),
              on: { 'cmd.reset': { target: '#Resetting', actions: 'recordCause' }, ...modeChange },
            },
            Holding: {
              id: 'Holding',
              entry: announce('Holding'),
              on: {
                ...alreadyHeld,
                stateComplete: { guard: completes('Holding'), target: '#Held', actions: 'recordCause' },
              },
            },
            Held: {
              id: 'Held',
              entry: announce('Held'),
              on: { ...alreadyHeld, 'cmd.unhold': { target: '#Unholding', actions: 'recordCause' } },
            },
            Unholding: {
              id: 'Unholding',
              entry: announce('Unholding'),
              on: { stateComplete: { guard: completes('Unholding'), target: '#Execute', actions: 'recordCause' } },
            },
            Suspending: {
              id: 'Suspending',
              entry: announce('Suspending'),
              on: {
                ...hold,
                stateComplete: { guard: completes('Suspending'), target: '#Suspended', actions: 'recordCause' },
              },
            },
            Suspended: {
              id: 'Suspended',
              entry: announce('Suspended'),
              // A flow suspension ends by itself once parts flow again (also if they did while Suspending).
              always: { guard: 'isFlowSuspensionOver', target: '#Unsuspending', actions: 'recordFlowResumeCause' },
              on: {
                ...hold,
                'cmd.unsuspend': { target: '#Unsuspending', actions: 'recordCause' },
              },
            },
            Unsuspending: {
              id: 'Unsuspending',
              entry: announce('Unsuspending'),
              on: {
                ...hold,
                stateComplete: { guard: completes('Unsuspending'), target: '#Execute', actions: 'recordCause' },
              },
            },
          },
        },
      },
    },
  },
});

export type CellSnapshot = SnapshotFrom<typeof cellMachine>;
