/**
 * Simulated I/O device: digital inputs driven from outside (`SimulatedCell.setInput`, the estop
 * and guard_door faults) and outputs set by `setOutput` commands.
 *
 * Inputs start true when their name ends in `_ok` or `_closed` (an e-stop chain that is healthy,
 * a guard that is shut: the state of a cell ready to run), false otherwise. Outputs start false.
 */
import type { DigitalOutput, IoDescription } from '../cell/schema.js';
import type { DeviceCommand, Reading } from '../devices/types.js';
import { SimDevice, type SimDeviceOptions } from './device.js';
import { DebouncedInput, type SimWorld } from './world.js';

/** The power-up value of a simulated input, from its name. */
export function initialInputValue(channel: string): boolean {
  return channel.endsWith('_ok') || channel.endsWith('_closed');
}

export class SimIo extends SimDevice<IoDescription> {
  readonly kind = 'io' as const;
  private readonly inputs = new Map<string, DebouncedInput>();
  private readonly outputs = new Map<string, boolean>();

  constructor(name: string, description: IoDescription, world: SimWorld, options: SimDeviceOptions) {
    super(name, description, world, options);
    for (const [channel, input] of Object.entries(description.inputs)) {
      this.inputs.set(channel, new DebouncedInput(this.timers, input.debounceMs, initialInputValue(channel), () => this.publish()));
    }
    for (const channel of Object.keys(description.outputs)) this.outputs.set(channel, false);
  }

  /** The description's inputs, by name. */
  inputNames(): string[] {
    return Object.keys(this.description.inputs);
  }

  /** Drives an input's raw signal (debounced like any input). */
  setInput(channel: string, value: boolean): void {
    const input = this.inputs.get(channel);
    if (input === undefined) throw new Error(`io device "${this.name}" has no input "${channel}" (have: ${[...this.inputs.keys()].join(', ') || 'none'})`);
    input.setRaw(value);
  }

  worldChanged(): void {}

  protected commandProblem(command: DeviceCommand): string | undefined {
    if (command.type !== 'setOutput') return `io device ${this.name} accepts setOutput, stop and safeState, not ${command.type}`;
    if (!this.outputs.has(command.channel)) return `io device ${this.name} has no output "${command.channel}"`;
    if (typeof command.value !== 'boolean') return 'setOutput value must be true or false';
    return undefined;
  }

  protected execute(command: DeviceCommand): void {
    if (command.type === 'setOutput') this.setOutput(command.channel, command.value);
  }

  protected stopMotion(): void {
    // An I/O device has no motion.
  }

  protected outputDescriptions(): Record<string, DigitalOutput> {
    return this.description.outputs;
  }

  protected setOutput(channel: string, value: boolean): void {
    if (!this.outputs.has(channel) || this.outputs.get(channel) === value) return;
    this.outputs.set(channel, value);
    this.logOutput(channel, value);
  }

  protected rebootPhysics(): void {
    for (const channel of this.outputs.keys()) this.setOutput(channel, false);
  }

  protected measure(): Reading {
    return {
      inputs: Object.fromEntries([...this.inputs].map(([channel, input]) => [channel, input.value])),
      outputs: Object.fromEntries(this.outputs),
      moving: false,
    };
  }
}
