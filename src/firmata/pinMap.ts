/**
 * What one StandardFirmata board carries, derived from the cell description: which device
 * channels sit on which pins, how each is read (digital with debounce, or analog against a
 * threshold with hysteresis), and which analog pin's periodic reports serve as the heartbeat.
 */
import type { CellDescription, Device, DigitalInput, DigitalOutput } from '../cell/schema.js';

export interface FirmataInput {
  device: string;
  /** Channel name as the device reports it in Reading.inputs. */
  channel: string;
  direction: 'input';
  pin: number;
  activeLow: boolean;
  debounceMs: number;
  /** Read as an analog value (0-1023) against a threshold, with hysteresis; digital otherwise. */
  analog: { threshold: number; hysteresis: number } | undefined;
}

export interface FirmataOutput {
  device: string;
  channel: string;
  direction: 'output';
  pin: number;
  activeLow: boolean;
  safeValue: DigitalOutput['safeValue'];
}

export type FirmataChannel = FirmataInput | FirmataOutput;

export interface FirmataPinMap {
  link: string;
  path: string;
  baud: number;
  samplingIntervalMs: number;
  /** Devices on this board, by name (feeders and I/O). */
  devices: Record<string, Device>;
  channels: FirmataChannel[];
  /**
   * Analog pin (Arduino pin number, A0 = 14 on an Uno) whose reports are the heartbeat: the first
   * analog input on the board, else the first of A0..A5 no channel uses (left unwired).
   */
  heartbeatPin: number;
}

export class FirmataPinMapError extends Error {}

/** Arduino Uno pin numbers of A0..A5; a board with other analog pins reports them at connect. */
export const UNO_ANALOG_PINS = [14, 15, 16, 17, 18, 19] as const;
/** The UART the board talks Firmata on. */
const SERIAL_PINS = new Set([0, 1]);

function channelsOf(device: Device): Array<[string, DigitalInput | DigitalOutput, 'input' | 'output']> {
  switch (device.kind) {
    case 'feeder':
      return [
        ['release', device.release, 'output'],
        ['part_at_pick', device.partAtPick, 'input'],
      ];
    case 'io':
      return [
        ...Object.entries(device.inputs).map(([n, c]) => [n, c, 'input'] as [string, DigitalInput, 'input']),
        ...Object.entries(device.outputs).map(([n, c]) => [n, c, 'output'] as [string, DigitalOutput, 'output']),
      ];
    case 'conveyor':
      return [['part_at_exit', device.partAtExit, 'input']];
    case 'arm':
      return [];
  }
}

export function firmataPinMap(cell: CellDescription, linkName: string): FirmataPinMap {
  const link = cell.links[linkName];
  if (!link) throw new FirmataPinMapError(`link "${linkName}" is not in the cell description`);
  if (link.transport !== 'firmata') throw new FirmataPinMapError(`link "${linkName}" is ${link.transport}, not a Firmata board`);
  const devices: Record<string, Device> = {};
  const channels: FirmataChannel[] = [];
  const pinUser = new Map<number, string>();

  for (const [name, device] of Object.entries(cell.devices)) {
    const list = channelsOf(device);
    const onLink = list.filter(([, c]) => (c.link ?? device.link) === linkName);
    if (device.link !== linkName && onLink.length === 0) continue;
    const at = `devices.${name}`;
    if (device.kind === 'arm' || device.kind === 'conveyor') {
      throw new FirmataPinMapError(
        `${at}: a ${device.kind} cannot be driven by a StandardFirmata board (link "${linkName}"): it has no host-loss failsafe; put motion on a station board (serial link)`,
      );
    }
    // One device, one board: its readings and heartbeat come from one link.
    if (onLink.length !== list.length) {
      const elsewhere = list.find(([, c]) => (c.link ?? device.link) !== linkName)!;
      throw new FirmataPinMapError(`${at}.${elsewhere[0]}: channel on link "${elsewhere[1].link ?? device.link}" but the device is on Firmata link "${linkName}"; keep a device's channels on one board`);
    }
    devices[name] = device;
    for (const [channel, c, direction] of list) {
      const where = `${at}.${channel}`;
      if (c.pin === undefined) throw new FirmataPinMapError(`${where}: a channel on Firmata link "${linkName}" needs a pin`);
      if (SERIAL_PINS.has(c.pin)) throw new FirmataPinMapError(`${where}: pin ${c.pin} is the board's serial port (Firmata talks on pins 0 and 1)`);
      const first = pinUser.get(c.pin);
      if (first) throw new FirmataPinMapError(`${where}: pin ${c.pin} is already used by ${first}`);
      pinUser.set(c.pin, where);
      if (direction === 'input') {
        const input = c as DigitalInput;
        if (input.analogHysteresis !== undefined && input.analogThreshold === undefined) {
          throw new FirmataPinMapError(`${where}: analog_hysteresis needs analog_threshold`);
        }
        const analog = input.analogThreshold === undefined ? undefined : { threshold: input.analogThreshold, hysteresis: input.analogHysteresis ?? 0 };
        if (analog && analog.hysteresis > analog.threshold) {
          throw new FirmataPinMapError(`${where}: analog_hysteresis ${analog.hysteresis} is larger than analog_threshold ${analog.threshold}; the input could never turn off`);
        }
        channels.push({ device: name, channel, direction, pin: c.pin, activeLow: c.activeLow, debounceMs: input.debounceMs, analog });
      } else {
        channels.push({ device: name, channel, direction, pin: c.pin, activeLow: c.activeLow, safeValue: (c as DigitalOutput).safeValue });
      }
    }
  }
  if (Object.keys(devices).length === 0) throw new FirmataPinMapError(`link "${linkName}": no device uses this Firmata board`);
  const firstAnalog = channels.find((c) => c.direction === 'input' && c.analog !== undefined);
  const heartbeatPin = firstAnalog?.pin ?? UNO_ANALOG_PINS.find((p) => !pinUser.has(p));
  if (heartbeatPin === undefined) {
    throw new FirmataPinMapError(`link "${linkName}": every analog pin (A0-A5, pins 14-19) is a digital channel; leave one free or make one an analog input, its periodic reports are the board's heartbeat`);
  }
  return { link: linkName, path: link.path, baud: link.baud, samplingIntervalMs: link.samplingIntervalMs, devices, channels, heartbeatPin };
}

/** Names of the cell's Firmata links that drive at least one device. */
export function firmataLinks(cell: CellDescription): string[] {
  return Object.entries(cell.links)
    .filter(([name, link]) => link.transport === 'firmata' && Object.values(cell.devices).some((d) => d.link === name || channelsOf(d).some(([, c]) => c.link === name)))
    .map(([name]) => name);
}
