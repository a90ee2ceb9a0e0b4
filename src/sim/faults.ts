/**
 * Fault injection: the vocabulary shared by `SimulatedCell.inject()` and scenario files.
 *
 * In YAML the keys are snake_case (`duration_ms`, `feedback_type`); once parsed they are camelCase
 * like the rest of the project (`durationMs`, `feedbackType`). Fault names stay snake_case values.
 * docs/scenarios.md describes each fault.
 */
import { z } from 'zod';
import { NAME_PATTERN, snakeToCamel, type CellDescription, type Device } from '../cell/schema.js';
import type { DeviceFeedback } from '../devices/types.js';

export const FEEDBACK_TYPES = ['reading', 'motionDone', 'refused', 'reset'] as const satisfies readonly Exclude<DeviceFeedback['type'], 'heartbeat'>[];
export type LosableFeedback = (typeof FEEDBACK_TYPES)[number];

export type FaultInjection =
  /** Conveyor: the next index moves `steps` motor steps short (the encoder sees it, the step counter does not). */
  | { fault: 'missed_steps'; device: string; steps: number }
  /** Any device: `channel` reads `value` regardless of physics until released. */
  | { fault: 'sensor_stuck'; device: string; channel: string; value: boolean }
  /** Clears a sensor_stuck. */
  | { fault: 'sensor_release'; device: string; channel: string }
  /** Feeder: the next `count` (default 1) released parts jam in the chute instead of landing. */
  | { fault: 'feeder_jam'; device: string; count?: number }
  /** Arm: the next `count` (default 1) moves stop at `fraction` of the way; motionDone is still reported. */
  | { fault: 'arm_stall'; device: string; fraction: number; count?: number }
  /**
   * Link: the next `count` (default 1) commands to the device are dropped, or the next `count`
   * feedback messages from it are lost (heartbeats excepted; only `feedbackType` ones if given).
   */
  | { fault: 'lost_message'; device: string; direction: 'command' | 'feedback'; count?: number; feedbackType?: LosableFeedback }
  /** Link: the next `count` (default 1) commands arrive corrupt and are refused ('bad CRC'). */
  | { fault: 'corrupted_message'; device: string; count?: number }
  /** The device's microcontroller reboots: motion stops, counters zero, home lost, outputs off. */
  | { fault: 'mcu_reset'; device: string }
  /** The device sends nothing (no heartbeats, no feedback) for `durationMs`; commands still arrive. */
  | { fault: 'heartbeat_silent'; device: string; durationMs: number }
  /** Presses or releases an e-stop button: drives the input of an e-stop source of kind input. */
  | { fault: 'estop'; source?: string; pressed: boolean }
  /** Opens or closes a guard: drives the input of a protective stop (default: the one named guard_door). */
  | { fault: 'guard_door'; stop?: string; open: boolean };

export type FaultName = FaultInjection['fault'];

export const FAULT_NAMES = [
  'missed_steps',
  'sensor_stuck',
  'sensor_release',
  'feeder_jam',
  'arm_stall',
  'lost_message',
  'corrupted_message',
  'mcu_reset',
  'heartbeat_silent',
  'estop',
  'guard_door',
] as const satisfies readonly FaultName[];

// ---------------------------------------------------------------------------------------------
// The YAML form (snake_case keys, strict), camelCased once parsed.

function camelKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[snakeToCamel(k)] = v;
  return out;
}

function fault<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape).transform((v) => camelKeys(v as Record<string, unknown>));
}

const deviceName = z.string().regex(NAME_PATTERN, 'a device name from the cell description (lower_snake_case)');
const channelName = z.string().regex(NAME_PATTERN, 'a channel name such as part_at_pick (lower_snake_case)');
const count = z.number().int().min(1).max(1000).optional().describe('how many times; default 1');

const faultOptions = [
  fault({ fault: z.literal('missed_steps'), device: deviceName, steps: z.number().int().min(1).describe('motor steps lost') }),
  fault({ fault: z.literal('sensor_stuck'), device: deviceName, channel: channelName, value: z.boolean() }),
  fault({ fault: z.literal('sensor_release'), device: deviceName, channel: channelName }),
  fault({ fault: z.literal('feeder_jam'), device: deviceName, count }),
  fault({
    fault: z.literal('arm_stall'),
    device: deviceName,
    fraction: z.number().min(0).lt(1).describe('fraction of the way at which the arm stops, 0 <= f < 1'),
    count,
  }),
  fault({
    fault: z.literal('lost_message'),
    device: deviceName,
    direction: z.enum(['command', 'feedback']),
    count,
    feedback_type: z.enum(FEEDBACK_TYPES).optional().describe('with direction feedback: lose only this kind of feedback'),
  }),
  fault({ fault: z.literal('corrupted_message'), device: deviceName, count }),
  fault({ fault: z.literal('mcu_reset'), device: deviceName }),
  fault({ fault: z.literal('heartbeat_silent'), device: deviceName, duration_ms: z.number().positive() }),
  fault({ fault: z.literal('estop'), source: z.string().regex(NAME_PATTERN).optional(), pressed: z.boolean() }),
  fault({ fault: z.literal('guard_door'), stop: z.string().regex(NAME_PATTERN).optional(), open: z.boolean() }),
] as const;

/** A fault as written in a scenario file; parses to a `FaultInjection`. */
export const faultInjectionSchema = z
  .discriminatedUnion('fault', faultOptions)
  .superRefine((f, ctx) => {
    if (f.fault === 'lost_message' && f.direction === 'command' && f.feedbackType !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'feedback_type applies only to direction: feedback', path: ['feedback_type'] });
    }
  }) as unknown as z.ZodType<FaultInjection>;

// ---------------------------------------------------------------------------------------------
// Checks against a cell: both for scenarios (before a run) and for programmatic inject() calls.

/** The logical input channels each kind of device reports in its Reading. */
export function inputChannels(device: Device): string[] {
  switch (device.kind) {
    case 'feeder':
      return ['part_at_pick'];
    case 'arm':
      return ['vacuum_ok'];
    case 'conveyor':
      return ['home', 'part_at_exit'];
    case 'io':
      return Object.keys(device.inputs);
  }
}

const NEEDS_KIND: Partial<Record<FaultName, Device['kind']>> = {
  missed_steps: 'conveyor',
  feeder_jam: 'feeder',
  arm_stall: 'arm',
};

/**
 * Why `fault` cannot be applied to `cell`, or undefined if it can. Checks the shape too, so a
 * fault built in code (not parsed from YAML) gets a clear message instead of odd behaviour.
 */
export function faultProblem(cell: CellDescription, fault: FaultInjection): string | undefined {
  const f = fault as FaultInjection & Record<string, unknown>;
  if (typeof f !== 'object' || f === null || !(FAULT_NAMES as readonly string[]).includes(f.fault)) {
    return `unknown fault ${JSON.stringify((f as { fault?: unknown } | null)?.fault)}; expected one of ${FAULT_NAMES.join(', ')}`;
  }
  const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
  if ('count' in f && f.count !== undefined && !isInt(f.count, 1)) return `${f.fault}: count must be a whole number >= 1 (got ${String(f.count)})`;
  switch (f.fault) {
    case 'estop': {
      if (typeof f.pressed !== 'boolean') return 'estop: pressed must be true or false';
      const sources = cell.safety.estopSources.filter((s) => s.kind === 'input');
      if (sources.length === 0) return 'estop: the cell has no e-stop source of kind input';
      if (f.source !== undefined && !sources.some((s) => s.name === f.source)) {
        return `estop: no e-stop source of kind input named "${f.source}" (have: ${sources.map((s) => s.name).join(', ')})`;
      }
      return undefined;
    }
    case 'guard_door': {
      if (typeof f.open !== 'boolean') return 'guard_door: open must be true or false';
      const name = f.stop ?? 'guard_door';
      if (!cell.safety.protectiveStops.some((s) => s.name === name)) {
        const have = cell.safety.protectiveStops.map((s) => s.name);
        return `guard_door: the cell has no protective stop named "${name}"${have.length ? ` (have: ${have.join(', ')})` : ''}`;
      }
      return undefined;
    }
  }
  const device = cell.devices[f.device];
  if (device === undefined) return `${f.fault}: no device "${f.device}" in the cell (have: ${Object.keys(cell.devices).join(', ')})`;
  const needs = NEEDS_KIND[f.fault];
  if (needs !== undefined && device.kind !== needs) return `${f.fault}: device "${f.device}" is a ${device.kind}; this fault needs a ${needs}`;
  switch (f.fault) {
    case 'missed_steps':
      return isInt(f.steps, 1) ? undefined : `missed_steps: steps must be a whole number >= 1 (got ${String(f.steps)})`;
    case 'arm_stall':
      return typeof f.fraction === 'number' && f.fraction >= 0 && f.fraction < 1
        ? undefined
        : `arm_stall: fraction must be a number with 0 <= fraction < 1 (got ${String(f.fraction)})`;
    case 'sensor_stuck':
    case 'sensor_release': {
      const channels = inputChannels(device);
      if (!channels.includes(f.channel)) return `${f.fault}: device "${f.device}" has no input "${f.channel}" (have: ${channels.join(', ') || 'none'})`;
      if (f.fault === 'sensor_stuck' && typeof f.value !== 'boolean') return 'sensor_stuck: value must be true or false';
      return undefined;
    }
    case 'lost_message':
      if (f.direction !== 'command' && f.direction !== 'feedback') return `lost_message: direction must be command or feedback (got ${String(f.direction)})`;
      if (f.feedbackType !== undefined && (f.direction !== 'feedback' || !(FEEDBACK_TYPES as readonly string[]).includes(f.feedbackType))) {
        return `lost_message: feedback_type must be one of ${FEEDBACK_TYPES.join(', ')}, with direction feedback`;
      }
      return undefined;
    case 'heartbeat_silent':
      return typeof f.durationMs === 'number' && f.durationMs > 0 ? undefined : `heartbeat_silent: duration_ms must be > 0 (got ${String(f.durationMs)})`;
    default:
      return undefined;
  }
}
