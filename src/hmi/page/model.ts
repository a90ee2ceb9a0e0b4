/**
 * What the HMI shows, computed from what arrives on the operator interface: DOM-free, so it is
 * tested in Node and shared by any rendering.
 *
 * OEE and the cycle-time chart are computed here, in the page, from the state messages it
 * receives (so they work the same against foxglove_bridge on ROS 2): they cover the time since the
 * page connected, except quality, which uses the run's cumulative part counts.
 */
import { COMMAND_RULES, PACKML_COMMANDS, type PackmlCommand, type PackmlState } from '../../../machines/packml.js';
import type { CellEventMessage, CellStateMessage } from '../../interface/operator.js';
import type { DiagnosticStatus } from '../../interface/messages.js';

export const CYCLE_HISTORY = 100;

/** A missed step holds the cell; the resync happens while it is held and as it resumes. */
const RESYNC_STATES = new Set(['Holding', 'Held', 'Unholding']);

/** States in which the cell is meant to be producing: planned production time for availability. */
const PLANNED_STATES = new Set(['Starting', 'Execute', 'Holding', 'Held', 'Unholding', 'Suspending', 'Suspended', 'Unsuspending', 'Completing']);

export interface CommandOutcome {
  command: string;
  accepted: boolean;
  reason?: string;
  source: string;
  t: number;
}

export interface ResyncView {
  device?: string;
  step?: string;
  kind: string;
  believed: unknown;
  measured: unknown;
  t: number;
}

export interface Oee {
  availability: number | null;
  performance: number | null;
  quality: number | null;
  oee: number | null;
}

/** The state message as it may arrive: a ROS 2 system may send fewer fields. */
export type StateView = Partial<CellStateMessage> & { state: string };

export class HmiModel {
  state: StateView | undefined;
  diagnostics: DiagnosticStatus[] = [];
  lastOutcome: CommandOutcome | undefined;
  readonly cycleTimes: number[] = [];
  readonly recentEvents: CellEventMessage[] = [];
  resync: ResyncView | undefined;
  /** Ideal cycle time (ms) from the server's metadata, for OEE performance. */
  idealCycleMs: number | undefined;
  private readonly timeIn = new Map<string, number>();
  private accountedAt: number | undefined;
  /** The latest exit seen (`t` undefined until an exit is seen, so the first cycle is a real one). */
  private lastExit: { t?: number; exited: number } | undefined;
  private firstFinished: number | undefined;
  private finishedSinceStart = 0;

  onState(message: StateView): void {
    const t = typeof message.t === 'number' ? message.t : undefined;
    if (this.state && t !== undefined && this.accountedAt !== undefined && t >= this.accountedAt) {
      this.timeIn.set(this.state.state, (this.timeIn.get(this.state.state) ?? 0) + (t - this.accountedAt));
    }
    if (t !== undefined) this.accountedAt = t;
    const parts = message.parts;
    if (parts && t !== undefined) {
      const finished = finishedParts(parts);
      if (this.firstFinished === undefined) this.firstFinished = finished;
      this.finishedSinceStart = finished - this.firstFinished;
      const exited = parts.exited ?? 0;
      if (!this.lastExit || exited < this.lastExit.exited) {
        // The first count seen (or a new run): a cycle is only measured between two exits seen here.
        this.lastExit = { exited };
      } else if (exited > this.lastExit.exited) {
        if (this.lastExit.t !== undefined) {
          const n = exited - this.lastExit.exited;
          const each = (t - this.lastExit.t) / n;
          for (let i = 0; i < n; i++) this.cycleTimes.push(each);
          if (this.cycleTimes.length > CYCLE_HISTORY) this.cycleTimes.splice(0, this.cycleTimes.length - CYCLE_HISTORY);
        }
        this.lastExit = { t, exited };
      }
    }
    this.state = message;
  }

  onEvent(event: CellEventMessage): void {
    this.recentEvents.push(event);
    if (this.recentEvents.length > 50) this.recentEvents.shift();
    if (event.type === 'command.accepted' || event.type === 'command.rejected') {
      this.lastOutcome = {
        command: event.command,
        accepted: event.type === 'command.accepted',
        ...(event.type === 'command.rejected' ? { reason: event.reason } : {}),
        source: event.source,
        t: event.t,
      };
    }
  }

  onDiagnostics(status: DiagnosticStatus[]): void {
    this.diagnostics = status;
  }

  /** Journal records (workcell's own bridge only): missed-step evidence for the Resync view. */
  onJournal(record: Record<string, unknown>): void {
    if ('believed' in record && 'measured' in record) {
      this.resync = {
        kind: String(record.fault ?? record.recovery ?? record.kind),
        ...(typeof record.device === 'string' ? { device: record.device } : {}),
        ...(typeof record.step === 'string' ? { step: record.step } : {}),
        believed: record.believed,
        measured: record.measured,
        t: Number(record.t),
      };
    }
  }

  /** Whether the cell is still dealing with the missed step the resync evidence is about. */
  resyncInProgress(): boolean {
    return this.resync !== undefined && RESYNC_STATES.has(this.state?.state ?? '');
  }

  /** Whether PackML allows `command` in the current state (the controller still has the last word). */
  allowed(command: PackmlCommand): boolean {
    const s = this.state?.state;
    return s !== undefined && (COMMAND_RULES[command].validIn as readonly string[]).includes(s);
  }

  allowedCommands(): PackmlCommand[] {
    return PACKML_COMMANDS.filter((c) => this.allowed(c));
  }

  /** Time spent in each state since the page connected (ms of cell time). */
  timeInState(state: PackmlState): number {
    return this.timeIn.get(state) ?? 0;
  }

  oee(): Oee {
    const execute = this.timeIn.get('Execute') ?? 0;
    let planned = 0;
    for (const [s, ms] of this.timeIn) if (PLANNED_STATES.has(s)) planned += ms;
    const availability = planned > 0 ? execute / planned : null;
    const performance = this.idealCycleMs !== undefined && execute > 0 ? Math.min(1, (this.idealCycleMs * this.finishedSinceStart) / execute) : null;
    const parts = this.state?.parts;
    const total = parts ? finishedParts(parts) : 0;
    const quality = parts && total > 0 ? (parts.exited ?? 0) / total : null;
    const oee = availability !== null && performance !== null && quality !== null ? availability * performance * quality : null;
    return { availability, performance, quality, oee };
  }
}

/** Parts that left the cell one way or another (a ROS 2 system's state may lack some counts). */
function finishedParts(parts: Partial<CellStateMessage['parts']>): number {
  return (parts.exited ?? 0) + (parts.rejected ?? 0) + (parts.lost ?? 0);
}

export function percent(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(1)} %`;
}

/** Cell-clock milliseconds as m:ss.s */
export function cellTime(ms: number): string {
  const s = ms / 1000;
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(1).padStart(4, '0')}`;
}
