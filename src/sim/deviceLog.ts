/**
 * The device log: what the simulated devices actually received and what physically happened,
 * written by the simulator and independent of the controller's journal. Safety invariants are
 * checked on it, so it records what reached the devices, not what the controller says it sent.
 * Format: JSON Lines, one entry per line (docs/scenarios.md, "Device log").
 */
import { writeFileSync } from 'node:fs';
import type { DeviceCommand, DeviceCommandType, DeviceFeedback } from '../devices/types.js';
import { FileSink } from '../journal/journal.js';
import type { FaultInjection } from './faults.js';

/** What became of a command that reached a device. */
export type CommandOutcome = 'executed' | 'dropped' | 'corrupted' | 'refused';

export const PART_EVENTS = ['spawned', 'at_pick', 'jammed', 'gripped', 'placed', 'dropped', 'at_exit', 'taken_away', 'fell_off'] as const;
export type PartEvent = (typeof PART_EVENTS)[number];

/** How a motion ended. */
export type MotionEnd = 'completed' | 'stopped' | 'stalled' | 'reset';

export type ScenarioTrigger = { cycle: number } | { timeMs: number } | { state: string; occurrence: number };

export type DeviceLogEntry =
  | { t: number; kind: 'command'; device: string; command: DeviceCommand; outcome: CommandOutcome; reason?: string }
  | { t: number; kind: 'part'; part: string; event: PartEvent; device: string; positionMm?: number }
  | { t: number; kind: 'fault'; fault: FaultInjection }
  /** An input changed by `setInput` (the e-stop chain, the guard door...), not by physics. */
  | { t: number; kind: 'input'; device: string; channel: string; value: boolean }
  /** An output of a device changed (commanded, safe state, end of a pulse, reset). */
  | { t: number; kind: 'output'; device: string; channel: string; value: boolean }
  | {
      t: number;
      kind: 'motion';
      device: string;
      event: 'start' | 'end';
      command: DeviceCommandType;
      how?: MotionEnd;
      /** Arm: measured joints at this instant; at start also the target. */
      joints?: number[];
      target?: number[];
      /** Conveyor: belt travel since the run began (physical), position counter and encoder. */
      beltMm?: number;
      positionSteps?: number;
      encoderCount?: number;
    }
  /** A feedback message the device sent that an injected fault lost on the link. */
  | { t: number; kind: 'feedback'; device: string; feedback: DeviceFeedback['type']; outcome: 'lost' }
  /** Link silence (heartbeat_silent): no heartbeats and no feedback between these two entries. */
  | { t: number; kind: 'link'; device: string; event: 'silent' | 'resumed' }
  | {
      t: number;
      kind: 'scenario';
      scenario: string;
      /** Index of the event in the scenario file (0-based). */
      event: number;
      trigger: ScenarioTrigger;
      action: 'inject' | 'command';
      fault?: FaultInjection;
      command?: string;
    };

/** Distributes `Omit` over the union, so each entry kind keeps its own fields. */
export type DeviceLogEntryBody = DeviceLogEntry extends infer E ? (E extends DeviceLogEntry ? Omit<E, 't'> : never) : never;

export interface DeviceLogSink {
  write(entry: DeviceLogEntry): void;
  close(): void;
}

/** Keeps entries in memory, for tests. */
export class DeviceLogMemory implements DeviceLogSink {
  readonly entries: DeviceLogEntry[] = [];
  write(entry: DeviceLogEntry): void {
    this.entries.push(entry);
  }
  close(): void {}
  /** Entries of one kind, typed. */
  ofKind<K extends DeviceLogEntry['kind']>(kind: K): Extract<DeviceLogEntry, { kind: K }>[] {
    return this.entries.filter((e): e is Extract<DeviceLogEntry, { kind: K }> => e.kind === kind);
  }
}

/**
 * A JSON Lines file, written in synchronous batches at the end of each macrotask (the journal's
 * FileSink), so the simulation never waits on the disk. The file is truncated unless `append`.
 */
export class DeviceLogFile implements DeviceLogSink {
  private readonly sink: FileSink;

  constructor(readonly path: string, options: { append?: boolean } = {}) {
    if (!options.append) writeFileSync(path, '');
    this.sink = new FileSink(path);
  }

  write(entry: DeviceLogEntry): void {
    this.sink.write(JSON.stringify(entry));
  }

  flush(): void {
    this.sink.flush();
  }

  close(): void {
    this.sink.close();
  }
}

/** Discards everything: the default when no device log is wanted. */
export class DeviceLogNone implements DeviceLogSink {
  write(): void {}
  close(): void {}
}
