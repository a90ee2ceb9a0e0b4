/**
 * What every simulated device shares: the DeviceDriver lifecycle, heartbeats, the link faults
 * (lost, corrupted, silent), stuck sensors, feedback on reading changes, and the device log of
 * every command received.
 */
import type { Device, DigitalOutput } from '../cell/schema.js';
import type { DeviceCommand, DeviceDriver, DeviceFeedback, DeviceKind, FeedbackListener, Reading } from '../devices/types.js';
import type { TimerId } from '../time/clock.js';
import type { LosableFeedback } from './faults.js';
import { DeviceTimers, type SimWorld, type WorldMember } from './world.js';

export interface SimDeviceOptions {
  /** Period of readings published during motion (joint states, belt position), ms. */
  motionPublishPeriodMs: number;
}

export abstract class SimDevice<D extends Device = Device> implements DeviceDriver, WorldMember {
  abstract readonly kind: DeviceKind;
  protected readonly timers: DeviceTimers;
  private readonly listeners = new Set<FeedbackListener>();
  private configured = false;
  private active = false;
  private heartbeatTimer: TimerId | undefined;
  private silentUntil: number | undefined;
  private silenceTimer: TimerId | undefined;
  private commandsToDrop = 0;
  private commandsToCorrupt = 0;
  private feedbackToLose: { count: number; type: LosableFeedback | undefined } | undefined;
  private readonly stuck = new Map<string, boolean>();
  private lastPublished = '';

  constructor(
    readonly name: string,
    protected readonly description: D,
    protected readonly world: SimWorld,
    protected readonly options: SimDeviceOptions,
  ) {
    this.timers = new DeviceTimers(world);
  }

  // -------------------------------------------------------------------------------------------
  // DeviceDriver

  /** The simulator stands in for every transport, so any link is accepted; the physics must be drivable. */
  /** This device's physical state for a restarted simulator (src/sim/persist.ts); none by default. */
  exportPhysics(): Record<string, unknown> | undefined {
    return undefined;
  }

  /** Takes over a saved physical state, before activation: at rest, as the world left it. */
  importPhysics(_state: Record<string, unknown>): void {}

  configure(): void {
    const problem = this.descriptionProblem();
    if (problem !== undefined) throw new Error(`simulated ${this.kind} "${this.name}": ${problem}`);
    this.configured = true;
  }

  activate(): void {
    if (!this.configured) throw new Error(`simulated ${this.kind} "${this.name}": configure() must succeed before activate()`);
    if (this.active) return;
    this.world.atomically(() => {
      this.active = true;
      this.armHeartbeat();
      this.publish(true);
    });
  }

  deactivate(): void {
    this.active = false;
    this.timers.cancel(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  write(command: DeviceCommand): void {
    this.world.atomically(() => {
      const received = structuredClone(command);
      if (this.commandsToDrop > 0) {
        this.commandsToDrop--;
        this.logCommand(received, 'dropped', 'lost on the link (injected lost_message)');
        return;
      }
      if (this.commandsToCorrupt > 0) {
        this.commandsToCorrupt--;
        this.logCommand(received, 'corrupted', 'bad CRC (injected corrupted_message)');
        // A corrupt frame cannot be parsed: the device cannot say which command it was.
        this.emit({ type: 'refused', command: undefined, reason: 'bad CRC' });
        return;
      }
      const problem = this.problemWith(received);
      if (problem !== undefined) {
        this.logCommand(received, 'refused', problem);
        this.emit({ type: 'refused', command: received, reason: problem });
        return;
      }
      this.logCommand(received, 'executed');
      switch (received.type) {
        case 'stop':
          this.stopMotion('controlled');
          break;
        case 'safeState':
          this.stopMotion(received.category === 0 ? 'immediate' : 'controlled');
          this.applySafeOutputs();
          break;
        default:
          this.execute(received);
      }
      this.publish();
    });
  }

  read(): Reading {
    const reading = this.measure();
    for (const [channel, value] of this.stuck) reading.inputs[channel] = value;
    return reading;
  }

  onFeedback(listener: FeedbackListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // -------------------------------------------------------------------------------------------
  // Per kind

  /** Why the description cannot be simulated, or undefined. */
  protected descriptionProblem(): string | undefined {
    return undefined;
  }
  /** Why this (well-formed, active) command is refused, or undefined to execute it. */
  protected abstract commandProblem(command: DeviceCommand): string | undefined;
  /** Carry out an accepted command other than stop and safeState. */
  protected abstract execute(command: DeviceCommand): void;
  /** Stop the current motion: at once (category 0) or decelerating (stop, category 1). */
  protected abstract stopMotion(how: 'immediate' | 'controlled'): void;
  /** The outputs and their descriptions, for the safe state. */
  protected abstract outputDescriptions(): Record<string, DigitalOutput>;
  /** Physically set an output (with whatever that output does: a vacuum valve grips or releases). */
  protected abstract setOutput(channel: string, value: boolean): void;
  /** The microcontroller reboots: motion stops dead, counters zero, outputs off. */
  protected abstract rebootPhysics(): void;
  /** The measured state, before stuck sensors are applied. */
  protected abstract measure(): Reading;
  abstract worldChanged(): void;

  // -------------------------------------------------------------------------------------------
  // Helpers for the kinds

  /** Emits a reading if it differs from the last one published (or always, if `force`). */
  protected publish(force = false): void {
    const reading = this.read();
    const key = JSON.stringify(reading);
    if (!force && key === this.lastPublished) return;
    this.lastPublished = key;
    this.emit({ type: 'reading', reading });
  }

  protected emit(feedback: DeviceFeedback): void {
    // A refusal is the reply to a write, so it is sent even while inactive.
    if (!this.active && feedback.type !== 'refused') return;
    if (this.silentUntil !== undefined) return;
    if (feedback.type !== 'heartbeat' && this.feedbackToLose !== undefined) {
      const lose = this.feedbackToLose;
      if (lose.type === undefined || lose.type === feedback.type) {
        if (--lose.count <= 0) this.feedbackToLose = undefined;
        this.world.log({ kind: 'feedback', device: this.name, feedback: feedback.type, outcome: 'lost' });
        return;
      }
    }
    const listeners = [...this.listeners];
    this.world.deliver(() => {
      const errors: unknown[] = [];
      for (const listener of listeners) {
        if (!this.listeners.has(listener)) continue;
        try {
          listener(feedback);
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} listeners of ${this.name} failed`);
    });
  }

  protected logOutput(channel: string, value: boolean): void {
    this.world.log({ kind: 'output', device: this.name, channel, value });
  }

  protected motionDone(command: DeviceCommand): void {
    this.emit({ type: 'motionDone', command });
  }

  // -------------------------------------------------------------------------------------------
  // Faults (called by the simulated cell)

  dropCommands(count: number): void {
    this.commandsToDrop += count;
  }

  corruptCommands(count: number): void {
    this.commandsToCorrupt += count;
  }

  loseFeedback(count: number, type: LosableFeedback | undefined): void {
    this.feedbackToLose = { count: (this.feedbackToLose?.count ?? 0) + count, type };
  }

  stickInput(channel: string, value: boolean | undefined): void {
    if (value === undefined) this.stuck.delete(channel);
    else this.stuck.set(channel, value);
    this.publish();
  }

  goSilent(durationMs: number): void {
    const until = this.world.now() + durationMs;
    if (this.silentUntil === undefined) this.world.log({ kind: 'link', device: this.name, event: 'silent' });
    this.silentUntil = Math.max(this.silentUntil ?? 0, until);
    this.timers.cancel(this.silenceTimer);
    this.silenceTimer = this.timers.at(this.silentUntil, () => {
      this.silentUntil = undefined;
      this.silenceTimer = undefined;
      this.world.log({ kind: 'link', device: this.name, event: 'resumed' });
      // The first message after the link comes back carries the present state.
      this.publish(true);
    });
  }

  reboot(cause: string): void {
    this.rebootPhysics();
    this.emit({ type: 'reset', cause });
    this.publish();
  }

  // -------------------------------------------------------------------------------------------

  private problemWith(command: DeviceCommand): string | undefined {
    if (!this.active) return `${this.name} is not active`;
    if (typeof command !== 'object' || command === null || typeof command.type !== 'string') return 'malformed command: expected an object with a type';
    if (command.type === 'stop') return undefined;
    if (command.type === 'safeState') {
      return command.category === 0 || command.category === 1 ? undefined : `safeState category must be 0 or 1 (got ${String(command.category)})`;
    }
    return this.commandProblem(command);
  }

  private applySafeOutputs(): void {
    const reading = this.measure();
    for (const [channel, output] of Object.entries(this.outputDescriptions())) {
      if (output.safeValue === 'hold') continue;
      const value = output.safeValue === 'on';
      if (reading.outputs[channel] !== value) this.setOutput(channel, value);
    }
  }

  private armHeartbeat(): void {
    const period = this.description.heartbeat?.periodMs;
    if (period === undefined) return;
    this.heartbeatTimer = this.timers.after(period, () => {
      this.heartbeatTimer = undefined;
      if (!this.active) return;
      this.emit({ type: 'heartbeat' });
      this.armHeartbeat();
    });
  }

  private logCommand(command: DeviceCommand, outcome: 'executed' | 'dropped' | 'corrupted' | 'refused', reason?: string): void {
    this.world.log({ kind: 'command', device: this.name, command, outcome, ...(reason !== undefined ? { reason } : {}) });
  }
}
