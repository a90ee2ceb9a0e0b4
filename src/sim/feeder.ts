/**
 * Simulated part feeder: a release solenoid over a gravity chute that ends at the pick position.
 *
 * `release` energises the solenoid for release_pulse_ms and lets one new part go; it rests at
 * the pick position feed_ms later (or jams in the chute if the pick position is occupied, or if
 * a feeder_jam was injected). `moving` is true while any released part is still in the chute;
 * each release ends with its own motionDone when its part lands or jams. A part in the chute
 * cannot be called back: stop and safeState end the pulse (safe value) but not the fall.
 */
import type { DigitalOutput, FeederDescription } from '../cell/schema.js';
import type { DeviceCommand, Reading } from '../devices/types.js';
import type { TimerId } from '../time/clock.js';
import { SimDevice, type SimDeviceOptions } from './device.js';
import { DebouncedInput, type PartState, type SimWorld } from './world.js';

interface Flight {
  part: PartState;
  command: DeviceCommand;
  jams: boolean;
  /** False once the microcontroller rebooted: it no longer knows about this release. */
  reports: boolean;
}

export class SimFeeder extends SimDevice<FeederDescription> {
  readonly kind = 'feeder' as const;
  private release = false;
  private pulseTimer: TimerId | undefined;
  private readonly inFlight: Flight[] = [];
  private jamsPending = 0;
  private readonly partAtPick: DebouncedInput;

  constructor(name: string, description: FeederDescription, world: SimWorld, options: SimDeviceOptions) {
    super(name, description, world, options);
    this.partAtPick = new DebouncedInput(this.timers, description.partAtPick.debounceMs, false, () => this.publish());
  }

  /** Parts that were falling down the chute landed while the simulator was down. */
  override importPhysics(): void {
    for (const part of this.world.partsWhere((l) => l.where === 'chute' && l.device === this.name)) {
      if (this.world.partAtPick(this.name) !== undefined) this.world.move(part, { where: 'jammed', device: this.name }, 'jammed');
      else this.world.move(part, { where: 'pick', device: this.name }, 'at_pick');
    }
    this.partAtPick.reset(this.world.partAtPick(this.name) !== undefined);
  }

  /** The next `count` releases jam in the chute. */
  jam(count: number): void {
    this.jamsPending += count;
  }

  worldChanged(): void {
    this.partAtPick.setRaw(this.world.partAtPick(this.name) !== undefined);
  }

  protected commandProblem(command: DeviceCommand): string | undefined {
    if (command.type === 'release') return undefined;
    return `feeder ${this.name} accepts release, stop and safeState, not ${command.type}`;
  }

  protected execute(command: DeviceCommand): void {
    if (command.type !== 'release') return;
    const d = this.description;
    this.setOutput('release', true);
    this.timers.cancel(this.pulseTimer);
    this.pulseTimer = this.timers.after(d.releasePulseMs, () => {
      this.pulseTimer = undefined;
      this.setOutput('release', false);
      this.publish();
    });
    const part = this.world.spawn(this.name);
    const jams = this.jamsPending > 0;
    if (jams) this.jamsPending--;
    const flight: Flight = { part, command, jams, reports: true };
    this.inFlight.push(flight);
    this.timers.after(d.feedMs, () => this.land(flight));
  }

  private land(flight: Flight): void {
    this.inFlight.splice(this.inFlight.indexOf(flight), 1);
    if (flight.jams || this.world.partAtPick(this.name) !== undefined) {
      this.world.move(flight.part, { where: 'jammed', device: this.name }, 'jammed');
    } else {
      this.world.move(flight.part, { where: 'pick', device: this.name }, 'at_pick');
    }
    this.world.changed();
    this.publish();
    if (flight.reports) this.motionDone(flight.command);
  }

  protected stopMotion(): void {
    // Nothing to stop: the solenoid pulse is an output (safe state handles it), the fall is gravity.
  }

  protected outputDescriptions(): Record<string, DigitalOutput> {
    return { release: this.description.release };
  }

  protected setOutput(channel: string, value: boolean): void {
    if (channel !== 'release' || this.release === value) return;
    this.release = value;
    if (!value) {
      this.timers.cancel(this.pulseTimer);
      this.pulseTimer = undefined;
    }
    this.logOutput(channel, value);
  }

  protected rebootPhysics(): void {
    this.setOutput('release', false);
    for (const flight of this.inFlight) flight.reports = false;
  }

  protected measure(): Reading {
    return {
      inputs: { part_at_pick: this.partAtPick.value },
      outputs: { release: this.release },
      // A rebooted board has forgotten the releases before it: it reports only its own.
      moving: this.inFlight.some((f) => f.reports),
    };
  }
}
