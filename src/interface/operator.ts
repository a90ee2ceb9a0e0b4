/**
 * What travels on the operator interface: command words in, state and events out (as JSON inside
 * std_msgs/String). Documented field by field in docs/operator-interface.md.
 */

import { COMMISSIONING_VERBS, parseCommissioning, type CommissioningCommand } from '../commissioning/grammar.js';
import type { CommissioningView } from '../commissioning/commissioning.js';

export const PACKML_COMMAND_WORDS = [
  'reset',
  'start',
  'stop',
  'hold',
  'unhold',
  'suspend',
  'unsuspend',
  'abort',
  'clear',
] as const;
export type PackmlCommandWord = (typeof PACKML_COMMAND_WORDS)[number];

export const UNIT_MODES = ['production', 'maintenance', 'manual'] as const;
export type UnitModeName = (typeof UNIT_MODES)[number];

export type OperatorCommand =
  | { kind: 'packml'; command: PackmlCommandWord }
  | { kind: 'ack' }
  | { kind: 'mode'; mode: UnitModeName }
  /** Manual and Maintenance mode commands (jog, teach, force, unforce, step): src/commissioning. */
  | { kind: 'commissioning'; command: CommissioningCommand };

export type ParsedCommand = { ok: true; command: OperatorCommand } | { ok: false; reason: string };

/** Parse one command as sent on /workcell/command (case-insensitive, surrounding blanks ignored). */
export function parseCommand(text: string): ParsedCommand {
  // The WebSocket bridge hands over whatever JSON arrived: refuse a non-string instead of throwing.
  if (typeof text !== 'string') return { ok: false, reason: `a command is a string, got ${text === null ? 'null' : typeof text}` };
  const words = text.trim().toLowerCase().split(/\s+/).filter((w) => w.length > 0);
  const [verb, arg, ...rest] = words;
  if (verb === undefined) return { ok: false, reason: 'empty command' };
  if ((PACKML_COMMAND_WORDS as readonly string[]).includes(verb) || verb === 'ack') {
    if (arg !== undefined) return { ok: false, reason: `${quote(verb)} takes no argument (got ${quote(words.slice(1).join(' '))})` };
    return verb === 'ack' ? { ok: true, command: { kind: 'ack' } } : { ok: true, command: { kind: 'packml', command: verb as PackmlCommandWord } };
  }
  if ((COMMISSIONING_VERBS as readonly string[]).includes(verb)) {
    const parsed = parseCommissioning(text);
    return parsed.ok ? { ok: true, command: { kind: 'commissioning', command: parsed.command } } : parsed;
  }
  if (verb === 'mode') {
    if (arg === undefined || rest.length > 0 || !(UNIT_MODES as readonly string[]).includes(arg)) {
      return { ok: false, reason: `"mode" takes one of ${UNIT_MODES.join(', ')}${arg === undefined ? '' : ` (got ${quote(words.slice(1).join(' '))})`}` };
    }
    return { ok: true, command: { kind: 'mode', mode: arg as UnitModeName } };
  }
  return {
    ok: false,
    reason: `unknown command ${quote(verb)}; expected one of ${[...PACKML_COMMAND_WORDS, 'ack', 'mode <production|maintenance|manual>', ...COMMISSIONING_VERBS].join(', ')}`,
  };
}

/**
 * Echo operator input in a reason: JSON-quoted so control characters stay visible and the reason
 * stays one line, and shortened so a flood of text is not copied into every event and journal line.
 */
function quote(text: string): string {
  const limit = 40;
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}

export interface AlarmView {
  id: number;
  /** Cell-clock time in ms when raised. */
  t: number;
  kind: string;
  device?: string;
  message: string;
  acknowledged: boolean;
}

export interface InterlockView {
  name: string;
  /** True when the rule's condition holds now, i.e. it forbids its motion now. */
  active: boolean;
  /** Active and a pending step of the sequence is waiting on it. */
  blocking: boolean;
}

/** JSON carried by /workcell/state. */
export interface CellStateMessage {
  cell: string;
  /** PackML state name. */
  state: string;
  /** PackTags StateCurrent number of `state` (ISA-TR88.00.02); see `stateNumbering`. */
  stateNumber: number;
  stateNumbering: 'PackTags';
  mode: UnitModeName;
  modeNumber: number;
  /** Cell-clock time, ms. */
  t: number;
  cause?: string;
  lot: { size: number | null; released: number };
  parts: { released: number; exited: number; rejected: number; lost: number; inCell: number };
  estop: { active: boolean; sources: Array<{ name: string; active: boolean }> };
  protectiveStops: Array<{ name: string; active: boolean; category: 1 | 2 }>;
  interlocks: InterlockView[];
  devices: Array<{ name: string; kind: string; healthy: boolean; moving: boolean; step?: string }>;
  alarms: AlarmView[];
  lastFault?: { kind: string; device?: string; message: string; t: number };
  /** Manual and Maintenance modes only: jog, teach, forced outputs, the I/O view, single-step (docs/commissioning.md). */
  commissioning?: CommissioningView;
}

/** JSON carried by /workcell/events. `type` says which of the shapes below it is. */
export type CellEventMessage =
  | { type: 'command.accepted'; t: number; command: string; source: string; state: string }
  | { type: 'command.rejected'; t: number; command: string; source: string; state: string; reason: string }
  | { type: 'state.changed'; t: number; from: string; to: string; cause: string }
  | { type: 'mode.changed'; t: number; from: string; to: string; source: string }
  | { type: 'fault'; t: number; kind: string; device?: string; message: string; partId?: string }
  | { type: 'interlock.refused'; t: number; interlock: string; device: string; command: string }
  | { type: 'recovery'; t: number; kind: string; device?: string; message: string }
  | { type: 'estop'; t: number; source: string; active: boolean }
  | { type: 'protective'; t: number; source: string; active: boolean; category: 1 | 2; endState: 'held' | 'stopped' }
  | { type: 'alarm.acknowledged'; t: number; ids: number[]; source: string }
  /** Manual and Maintenance work: jog.end, jog.waiting, teach.proposed (with the diff), teach.written, force.on, force.off. */
  | { type: 'commissioning'; t: number; event: string; message: string; device?: string; source?: string; id?: string; diff?: string };
