/**
 * The PackML command table written out again, independently of machines/packml.ts, straight from
 * /work/shared/reference/packml.md (with Hold accepted in the suspend family, our documented
 * choice). Tests compare the machine against this copy; importing the machine's own table would
 * prove nothing.
 */
export const STATES = [
  'Idle', 'Held', 'Suspended', 'Complete', 'Stopped', 'Aborted',
  'Resetting', 'Starting', 'Execute', 'Completing', 'Holding', 'Unholding',
  'Suspending', 'Unsuspending', 'Stopping', 'Aborting', 'Clearing',
] as const;
export type State = (typeof STATES)[number];

export const COMMANDS = ['reset', 'start', 'stop', 'hold', 'unhold', 'suspend', 'unsuspend', 'abort', 'clear'] as const;
export type Command = (typeof COMMANDS)[number];

const allBut = (...excluded: State[]): State[] => STATES.filter((s) => !excluded.includes(s));

/** command -> [states where it is valid, state it leads to] */
const TABLE: Record<Command, [State[], State]> = {
  reset: [['Stopped', 'Complete'], 'Resetting'],
  start: [['Idle'], 'Starting'],
  hold: [['Execute', 'Suspended', 'Unsuspending', 'Suspending'], 'Holding'],
  unhold: [['Held'], 'Unholding'],
  suspend: [['Execute'], 'Suspending'],
  unsuspend: [['Suspended'], 'Unsuspending'],
  stop: [allBut('Stopping', 'Stopped', 'Clearing', 'Aborting', 'Aborted'), 'Stopping'],
  abort: [allBut('Aborting', 'Aborted'), 'Aborting'],
  clear: [['Aborted'], 'Clearing'],
};

/** The state `command` leads to from `state`, or undefined when the command is not valid there. */
export function expectedAfter(state: State, command: Command): State | undefined {
  const [validIn, leadsTo] = TABLE[command];
  return validIn.includes(state) ? leadsTo : undefined;
}

/** Where each acting state goes on its state complete (Execute's is lot.released -> Completing). */
export const STATE_COMPLETE: Partial<Record<State, State>> = {
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
};
