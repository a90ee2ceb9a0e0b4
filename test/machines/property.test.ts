/**
 * Random event sequences from boot (commands, completions and every condition event): Execute is
 * only ever entered from Starting, Unholding or Unsuspending, Starting only on cmd.start, and an
 * active e-stop keeps the cell in Aborting/Aborted.
 */
import fc from 'fast-check';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { PACKML_STATES, cellMachine, packmlState, type CellEvent, type CellSnapshot, type PackmlState } from '../../machines/cellMachine.js';
import { SAMPLE_EVENTS } from './sampleEvents.js';

/**
 * Steps resolved while running, so sequences make progress as a real controller and operator
 * would: a state complete for whatever acting state the cell is in, or one of the commands the
 * cell accepts right now. Arbitrary (mostly rejected) events are mixed in.
 */
type Step = CellEvent | { type: 'completeCurrent' } | { type: 'acceptedCommand'; pick: number };

const isCommand = (e: CellEvent) => e.type.startsWith('cmd.');
// Stop, Abort and mode changes come often enough from the unguided events below.
const PROGRESS_COMMANDS = SAMPLE_EVENTS.filter((e) => isCommand(e) && !['cmd.stop', 'cmd.abort', 'cmd.mode'].includes(e.type));
const estopEvent = (type: 'estop.tripped' | 'estop.released') =>
  fc.constantFrom('estop_button', 'safe_ok_ros').map((source): CellEvent => ({ type, source }));
const ofType = (...prefixes: string[]) => SAMPLE_EVENTS.filter((e) => prefixes.some((p) => e.type.startsWith(p)));
// Weighted so that runs get through the whole model rather than sit in Aborted or Suspended.
const eventArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.constant({ type: 'completeCurrent' as const }), weight: 12 },
  { arbitrary: fc.nat().map((pick) => ({ type: 'acceptedCommand' as const, pick })), weight: 12 },
  { arbitrary: fc.constantFrom(...ofType('cmd.')), weight: 2 },
  { arbitrary: fc.constantFrom(...ofType('stateComplete')), weight: 1 },
  { arbitrary: fc.constantFrom(...ofType('protective.', 'fault.', 'lot.', 'flow.')), weight: 2 },
  { arbitrary: fc.constant<CellEvent>({ type: 'flow.ok' }), weight: 1 },
  { arbitrary: estopEvent('estop.tripped'), weight: 1 },
  { arbitrary: estopEvent('estop.released'), weight: 3 },
);

function resolve(step: Step, snapshot: CellSnapshot, commands: readonly CellEvent[]): CellEvent {
  if (step.type === 'completeCurrent') return { type: 'stateComplete', state: packmlState(snapshot) };
  if (step.type === 'acceptedCommand') {
    const accepted = commands.filter((e) => snapshot.can(e));
    return accepted[step.pick % Math.max(accepted.length, 1)] ?? { type: 'stateComplete', state: packmlState(snapshot) };
  }
  return step;
}
const bootArb = fc.subarray(['estop_button', 'safe_ok_ros']);

interface Entry { state: PackmlState; from: PackmlState | 'boot'; event: CellEvent | undefined }

function run(activeEstopSources: string[], steps: Step[], commands: readonly CellEvent[] = PROGRESS_COMMANDS) {
  const actor = createActor(cellMachine, { input: { activeEstopSources } });
  const entries: Entry[] = [];
  let current: PackmlState | 'boot' = 'boot';
  let sending: CellEvent | undefined;
  actor.on('state.entered', (e) => {
    entries.push({ state: e.state, from: current, event: sending });
    current = e.state;
  });
  actor.start();
  const states: PackmlState[] = [packmlState(actor.getSnapshot())];
  for (const step of steps) {
    const event = resolve(step, actor.getSnapshot(), commands);
    sending = event;
    actor.send(event);
    states.push(packmlState(actor.getSnapshot()));
    const { activeEstopSources: active } = actor.getSnapshot().context;
    if (active.length > 0) expect(['Aborting', 'Aborted']).toContain(states.at(-1));
  }
  return { entries, states };
}

describe('cellMachine properties over random event sequences', () => {
  it('Execute is entered only through Starting, Unholding or Unsuspending; Starting only on cmd.start', () => {
    const visited = new Set<PackmlState>();
    fc.assert(
      fc.property(bootArb, fc.array(eventArb, { maxLength: 80, size: 'max' }), (boot, events) => {
        const { entries } = run(boot, events);
        entries.forEach((e) => visited.add(e.state));
        expect(['Stopped', 'Aborted']).toContain(entries[0]?.state);
        for (const entry of entries) {
          if (entry.state === 'Execute') expect(['Starting', 'Unholding', 'Unsuspending']).toContain(entry.from);
          if (entry.state === 'Starting') {
            expect(entry.event?.type).toBe('cmd.start');
            expect(entry.from).toBe('Idle');
          }
        }
      }),
      { numRuns: 2000 },
    );
    // The generator must actually get there, or the property above says nothing.
    expect([...visited].sort()).toEqual([...PACKML_STATES].sort());
  });

  it('no sequence without cmd.start ever reaches Execute', () => {
    const withoutStart = eventArb.filter((e) => e.type !== 'cmd.start');
    const commandsButStart = PROGRESS_COMMANDS.filter((e) => e.type !== 'cmd.start');
    let idleRuns = 0;
    fc.assert(
      fc.property(bootArb, fc.array(withoutStart, { maxLength: 80, size: 'max' }), (boot, events) => {
        const { entries } = run(boot, events, commandsButStart);
        if (entries.some((e) => e.state === 'Idle')) idleRuns += 1;
        expect(entries.map((e) => e.state)).not.toContain('Execute');
        expect(entries.map((e) => e.state)).not.toContain('Starting');
      }),
      { numRuns: 1000 },
    );
    expect(idleRuns).toBeGreaterThan(100); // the runs do get to where Start would matter
  });
});
