/**
 * Scenario files (hardware/scenarios/*.yaml): scripted fault injections and operator commands for
 * a simulated run, with what the run is expected to show. Format in docs/scenarios.md.
 *
 * `ScenarioRunner` fires each event once, when its trigger happens: a production cycle starting
 * (the controller calls `onCycle(n)` just before it releases the n-th part), a clock time after
 * `start()`, or the n-th entry into a PackML state (`onStateEntered`). Every action is written to
 * the device log as a `scenario` entry, just before the action itself.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import YAML, { isMap, isPair, isScalar, LineCounter, type Document } from 'yaml';
import { z } from 'zod';
import { PACKML_STATES, type PackmlState } from '../../machines/packml.js';
import { FAULT_KINDS, NAME_PATTERN, type CellDescription, type FaultKind } from '../cell/schema.js';
import { parseCommand } from '../interface/operator.js';
import type { Clock, TimerId } from '../time/clock.js';
import type { SimulatedCell } from './cell.js';
import type { ScenarioTrigger } from './deviceLog.js';
import { faultInjectionSchema, faultProblem, type FaultInjection } from './faults.js';

export { PACKML_STATES };

export type ScenarioEvent = {
  at: ScenarioTrigger;
  /** Extra wait after the trigger before acting, ms (an operator's reaction time). */
  delayMs: number;
  note?: string;
} & ({ inject: FaultInjection; command?: undefined } | { command: string; inject?: undefined });

export interface Scenario {
  name: string;
  description: string;
  /** The cell it is written for, as written in the file (relative to the file). */
  cell?: string;
  /** `cell` resolved against the scenario file's folder (set by loadScenario). */
  cellPath?: string;
  seed?: number;
  events: ScenarioEvent[];
  expect: {
    /** Fault kinds the controller must report during the run. */
    faults: FaultKind[];
    /** The PackML state the cell must end in. */
    finalState?: PackmlState;
    /** Recovery kinds the controller must report (e.g. confirmation_by_measurement). */
    recoveries: string[];
    /** Lot size (--cycles) the expectation is written for. */
    cycles: number;
  };
}

// ---------------------------------------------------------------------------------------------
// Schema (snake_case YAML, strict)

const triggerSchema = z
  .strictObject({
    cycle: z.number().int().min(1).optional().describe('when production cycle n starts (the n-th part is released)'),
    time_ms: z.number().nonnegative().optional().describe('clock time after ScenarioRunner.start(), ms'),
    state: z.enum(PACKML_STATES).optional().describe('when the cell enters this PackML state'),
    occurrence: z.number().int().min(1).optional().describe('with state: the n-th entry (default 1)'),
  })
  .superRefine((at, ctx) => {
    const given = (['cycle', 'time_ms', 'state'] as const).filter((k) => at[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `give exactly one of cycle, time_ms or state${given.length ? ` (got ${given.join(' and ')})` : ''}` });
    }
    if (at.occurrence !== undefined && at.state === undefined) {
      ctx.addIssue({ code: 'custom', message: 'occurrence goes with state', path: ['occurrence'] });
    }
  })
  .transform((at): ScenarioTrigger => {
    if (at.cycle !== undefined) return { cycle: at.cycle };
    if (at.time_ms !== undefined) return { timeMs: at.time_ms };
    return { state: at.state!, occurrence: at.occurrence ?? 1 };
  });

const commandWord = z.string().superRefine((word, ctx) => {
  const parsed = parseCommand(word);
  if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
});

const eventSchema = z
  .strictObject({
    at: triggerSchema,
    delay_ms: z.number().nonnegative().optional().describe('wait this long after the trigger before acting'),
    inject: faultInjectionSchema.optional(),
    command: commandWord.optional().describe('an operator command word, sent through the operator interface'),
    note: z.string().optional(),
  })
  .superRefine((e, ctx) => {
    if ((e.inject === undefined) === (e.command === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'an event has exactly one of inject or command' });
    }
  })
  .transform(
    (e): ScenarioEvent =>
      ({
        at: e.at,
        delayMs: e.delay_ms ?? 0,
        ...(e.note !== undefined ? { note: e.note } : {}),
        ...(e.inject !== undefined ? { inject: e.inject } : { command: e.command!.trim().toLowerCase() }),
      }) as ScenarioEvent,
  );

export const scenarioSchema = z
  .strictObject({
    name: z.string().regex(NAME_PATTERN, 'names are lower_snake_case: a letter, then letters, digits or underscores'),
    description: z.string().min(1).describe('what happens in this scenario, and what the controller should do'),
    cell: z.string().min(1).optional().describe('path of the cell description it is written for, relative to this file'),
    seed: z.number().int().nonnegative().optional().describe('default simulator seed'),
    events: z.array(eventSchema).default([]),
    expect: z.strictObject({
      faults: z.array(z.enum(FAULT_KINDS)).default([]).describe('fault kinds the controller must report'),
      final_state: z.enum(PACKML_STATES).optional().describe('PackML state the cell ends in'),
      recoveries: z.array(z.string().regex(NAME_PATTERN)).default([]).describe('recovery kinds the controller must report'),
      cycles: z.number().int().positive().default(30).describe('lot size (--cycles) the expectation is written for'),
    }),
  })
  .transform(
    (s): Scenario => ({
      name: s.name,
      description: s.description,
      ...(s.cell !== undefined ? { cell: s.cell } : {}),
      ...(s.seed !== undefined ? { seed: s.seed } : {}),
      events: s.events,
      expect: {
        faults: s.expect.faults,
        recoveries: s.expect.recoveries,
        cycles: s.expect.cycles,
        ...(s.expect.final_state !== undefined ? { finalState: s.expect.final_state } : {}),
      },
    }),
  );

// ---------------------------------------------------------------------------------------------
// Loading, with errors that point at the line

/** Parses scenario YAML; `source` names it in errors (`file:line:col: path: message`). */
export function parseScenario(text: string, source = '<scenario>'): Scenario {
  const lineCounter = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    throw new Error(
      doc.errors
        .map((e) => {
          const pos = e.linePos?.[0];
          // The message's first line; the rest is the library's excerpt of the source.
          return `${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${e.message.split('\n')[0]}`;
        })
        .join('\n'),
    );
  }
  const result = scenarioSchema.safeParse(doc.toJS());
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      let path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
      // An unknown key: point at the key itself.
      const unknownKey = issue.code === 'unrecognized_keys' && issue.keys.length > 0;
      if (unknownKey) path = [...path, issue.keys[0]!];
      const pos = locate(doc, lineCounter, path, unknownKey);
      const where = path.length > 0 ? `${formatPath(path)}: ` : '';
      return `${source}${pos ? `:${pos.line}:${pos.col}` : ''}: ${where}${issue.message}`;
    });
    throw new Error(`invalid scenario\n${lines.join('\n')}`);
  }
  return result.data;
}

export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read scenario ${path}: ${(error as Error).message}`);
  }
  const scenario = parseScenario(text, path);
  if (scenario.cell !== undefined) scenario.cellPath = resolve(dirname(path), scenario.cell);
  return scenario;
}

/** Problems of the scenario against a cell (unknown devices, channels, wrong kinds); empty if none. */
export function scenarioProblems(scenario: Scenario, cell: CellDescription): string[] {
  const problems: string[] = [];
  scenario.events.forEach((event, i) => {
    if (event.inject === undefined) return;
    const problem = faultProblem(cell, event.inject);
    if (problem !== undefined) problems.push(`scenario ${scenario.name}, events[${i}].inject: ${problem}`);
  });
  return problems;
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/**
 * Line and column of the node at `path` (of its key, with `atKey`), or of its deepest ancestor
 * that exists (a missing field points at the object that lacks it).
 */
function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
  atKey: boolean,
): { line: number; col: number } | undefined {
  if (atKey && path.length > 0) {
    const parent = doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === path[path.length - 1]);
      const range = pair && isScalar(pair.key) ? pair.key.range : undefined;
      if (range) return lineCounter.linePos(range[0]);
    }
  }
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range) return lineCounter.linePos(range[0]);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Running

export interface ScenarioHooks {
  clock: Clock;
  sim: SimulatedCell;
  /** Sends an operator command word through the operator interface. */
  sendCommand(word: string): void;
}

export class ScenarioRunner {
  private readonly stateEntries = new Map<string, number>();
  private readonly timers = new Set<TimerId>();
  private readonly triggered = new Set<number>();
  private readonly fired = new Set<number>();
  private started = false;

  constructor(
    readonly scenario: Scenario,
    private readonly hooks: ScenarioHooks,
  ) {
    const problems = scenarioProblems(scenario, hooks.sim.cell);
    if (problems.length > 0) throw new Error(`scenario ${scenario.name} does not fit cell ${hooks.sim.cell.cell.name}:\n${problems.join('\n')}`);
  }

  /** Arms the time-based events; their `time_ms` counts from now. */
  start(): void {
    if (this.started) throw new Error(`scenario ${this.scenario.name} is already started`);
    this.started = true;
    this.scenario.events.forEach((event, index) => {
      if (!('timeMs' in event.at)) return;
      this.triggered.add(index);
      this.later(event.at.timeMs + event.delayMs, () => this.fire(index, event));
    });
  }

  /** The controller starts production cycle `n` (it is about to release the n-th part). */
  onCycle(n: number): void {
    this.scenario.events.forEach((event, index) => {
      if ('cycle' in event.at && event.at.cycle === n) this.trigger(index, event);
    });
  }

  /** The cell entered PackML state `state`. */
  onStateEntered(state: string): void {
    const occurrence = (this.stateEntries.get(state) ?? 0) + 1;
    this.stateEntries.set(state, occurrence);
    this.scenario.events.forEach((event, index) => {
      if ('state' in event.at && event.at.state === state && event.at.occurrence === occurrence) this.trigger(index, event);
    });
  }

  /** Events not fired yet (by index in the file). */
  pending(): number[] {
    return this.scenario.events.map((_, i) => i).filter((i) => !this.fired.has(i));
  }

  /** Cancels the events still waiting on the clock. */
  dispose(): void {
    for (const id of this.timers) this.hooks.clock.clearTimeout(id);
    this.timers.clear();
  }

  private trigger(index: number, event: ScenarioEvent): void {
    if (this.triggered.has(index)) return;
    this.triggered.add(index);
    // A fault applies at once, so it hits the step that follows the trigger (a jam hits the very
    // release of its cycle). A command goes through the clock, so the controller never receives
    // an operator command from inside its own callback.
    if (event.inject !== undefined && event.delayMs === 0) this.fire(index, event);
    else this.later(event.delayMs, () => this.fire(index, event));
  }

  private later(ms: number, fn: () => void): void {
    const id = this.hooks.clock.setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    this.timers.add(id);
  }

  private fire(index: number, event: ScenarioEvent): void {
    if (this.fired.has(index)) return;
    this.fired.add(index);
    const base = { scenario: this.scenario.name, event: index, trigger: event.at };
    if (event.inject !== undefined) {
      this.hooks.sim.logScenario({ ...base, action: 'inject', fault: event.inject });
      this.hooks.sim.inject(event.inject);
    } else {
      this.hooks.sim.logScenario({ ...base, action: 'command', command: event.command });
      this.hooks.sendCommand(event.command);
    }
  }
}
