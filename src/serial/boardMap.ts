/**
 * What one station board carries, derived from the cell description: which device channels sit
 * on which pins, the axis, the e-stop contact, and the provisioning record (safe values, watchdog,
 * station id, description hash) the board keeps in its EEPROM and acts on by itself.
 */
import type { CellDescription, ConveyorDescription, Device, DigitalInput, DigitalOutput } from '../cell/schema.js';
import { AXIS_PINS, GENERAL_PINS, hexToHash, NO_PIN, type ProvisionBody } from './protocol.js';

export interface BoardChannel {
  device: string;
  /** Channel name as the device reports it in Reading.inputs / Reading.outputs. */
  channel: string;
  pin: number;
  direction: 'input' | 'output';
  activeLow: boolean;
  safeValue?: DigitalOutput['safeValue'];
  /** Inputs: the description's debounce_ms, applied by the board's firmware. */
  debounceMs?: number;
}

export interface BoardMap {
  link: string;
  path: string;
  baud: number;
  stationId: number;
  watchdogMs: number;
  /** Devices on this board, by name. */
  devices: Record<string, Device>;
  channels: BoardChannel[];
  axis: { device: string; description: ConveyorDescription } | undefined;
  provision: ProvisionBody;
}

export class BoardMapError extends Error {}

/** Channel name -> (description, direction) of a device's digital channels. */
function channelsOf(device: Device): Array<[string, DigitalInput | DigitalOutput, 'input' | 'output']> {
  switch (device.kind) {
    case 'feeder':
      return [
        ['release', device.release, 'output'],
        ['part_at_pick', device.partAtPick, 'input'],
      ];
    case 'conveyor':
      return [['part_at_exit', device.partAtExit, 'input']];
    case 'io':
      return [
        ...Object.entries(device.inputs).map(([n, c]) => [n, c, 'input'] as [string, DigitalInput, 'input']),
        ...Object.entries(device.outputs).map(([n, c]) => [n, c, 'output'] as [string, DigitalOutput, 'output']),
      ];
    case 'arm':
      return [];
  }
}

export function boardMap(cell: CellDescription, linkName: string, descriptionHash: string): BoardMap {
  const link = cell.links[linkName];
  if (!link) throw new BoardMapError(`link "${linkName}" is not in the cell description`);
  if (link.transport !== 'serial') throw new BoardMapError(`link "${linkName}" is ${link.transport}, not a serial station board`);
  const where = (device: string, path: string) => `devices.${device}.${path}`;
  const devices: Record<string, Device> = {};
  const channels: BoardChannel[] = [];
  let axis: BoardMap['axis'];
  const pinUser = new Map<number, string>();
  const usePin = (pin: number | undefined, at: string): number => {
    if (pin === undefined) throw new BoardMapError(`${at}: a channel on serial link "${linkName}" needs a pin`);
    const first = pinUser.get(pin);
    if (first) throw new BoardMapError(`${at}: pin ${pin} is already used by ${first}`);
    pinUser.set(pin, at);
    return pin;
  };

  for (const [name, device] of Object.entries(cell.devices)) {
    const deviceOnLink = device.link === linkName;
    const channelList = channelsOf(device);
    const onLink = channelList.filter(([, c]) => (c.link ?? device.link) === linkName);
    const axisOnLink = device.kind === 'conveyor' && (device.axis.link ?? device.link) === linkName;
    if (!deviceOnLink && onLink.length === 0 && !axisOnLink) continue;
    if (device.kind === 'arm') {
      throw new BoardMapError(`devices.${name}: an arm cannot be driven by a serial station board (link "${linkName}"); use ros2 or sim for the arm`);
    }
    // One device, one board: a device split over links needs a driver per channel, which this is not.
    const elsewhere = channelList.filter(([, c]) => (c.link ?? device.link) !== linkName);
    if (elsewhere.length > 0 || (device.kind === 'conveyor' && !axisOnLink)) {
      const [channel, c] = elsewhere[0] ?? ['axis', { link: device.kind === 'conveyor' ? device.axis.link : undefined }];
      throw new BoardMapError(
        `devices.${name}: the serial station driver needs every channel of a device on one board; ${channel} is on link "${c.link ?? device.link}", not "${linkName}"`,
      );
    }
    devices[name] = device;
    if (device.kind === 'conveyor') {
      if (axis) throw new BoardMapError(`devices.${name}: a station board drives one axis, and "${axis.device}" already uses it`);
      if (device.axis.pin !== AXIS_PINS.step) {
        throw new BoardMapError(`${where(name, 'axis.pin')}: the station board's STEP pin is ${AXIS_PINS.step} (DIR ${AXIS_PINS.dir}, ENABLE ${AXIS_PINS.enable}, encoder ${AXIS_PINS.encoderA}/${AXIS_PINS.encoderB}); got ${String(device.axis.pin)}`);
      }
      if (device.axis.homeSensor.pin !== AXIS_PINS.home) {
        throw new BoardMapError(`${where(name, 'axis.home_sensor.pin')}: the station board's home switch is on pin ${AXIS_PINS.home}; got ${String(device.axis.homeSensor.pin)}`);
      }
      for (const [role, pin] of Object.entries(AXIS_PINS)) pinUser.set(pin, `the axis (${role})`);
      axis = { device: name, description: device };
      const speed = device.axis.maxSpeedMmS * device.axis.stepsPerMm;
      if (speed > 9000) throw new BoardMapError(`${where(name, 'axis.max_speed_mm_s')}: ${speed} steps/s exceeds the board's 9000 steps/s`);
    }
    for (const [channel, c, direction] of channelList) {
      const at = where(name, channel);
      const pin = usePin(c.pin, at);
      if (!GENERAL_PINS.includes(pin)) {
        throw new BoardMapError(`${at}.pin: pin ${pin} is not a general I/O pin of the station board (${GENERAL_PINS.join(', ')})`);
      }
      channels.push({
        device: name,
        channel,
        pin,
        direction,
        activeLow: c.activeLow,
        ...(direction === 'output' ? { safeValue: (c as DigitalOutput).safeValue } : { debounceMs: (c as DigitalInput).debounceMs }),
      });
    }
  }
  if (Object.keys(devices).length === 0) throw new BoardMapError(`no device uses serial link "${linkName}"`);

  let estopPin = NO_PIN;
  let estopHealthyLevel: 0 | 1 = 1;
  for (const source of cell.safety.estopSources) {
    if (source.kind !== 'input') continue;
    const [device, channel] = source.input.split('.') as [string, string];
    const c = channels.find((x) => x.device === device && x.channel === channel);
    if (!c) continue;
    if (estopPin !== NO_PIN) throw new BoardMapError(`safety.estop_sources: the station board on link "${linkName}" watches one e-stop contact; ${source.name} would be a second`);
    estopPin = c.pin;
    // The contact reads logical true while the chain is healthy.
    estopHealthyLevel = c.activeLow ? 0 : 1;
  }

  const bit = (pin: number) => 1 << pin;
  let inputMask = 0;
  let outputMask = 0;
  let safeHighMask = 0;
  let safeHoldMask = 0;
  const debounceMs: Record<number, number> = {};
  for (const c of channels) {
    if (c.direction === 'input') {
      inputMask |= bit(c.pin);
      if (c.debounceMs) {
        if (c.debounceMs > 0xffff) throw new BoardMapError(`devices.${c.device}.${c.channel}.debounce_ms: ${c.debounceMs} ms exceeds the station board's ${0xffff} ms`);
        // The board samples its inputs every millisecond.
        debounceMs[c.pin] = Math.ceil(c.debounceMs);
      }
    } else {
      outputMask |= bit(c.pin);
      if (c.safeValue === 'hold') safeHoldMask |= bit(c.pin);
      else if ((c.safeValue === 'on') !== c.activeLow) safeHighMask |= bit(c.pin);
    }
  }
  const conveyor = axis?.description;
  const provision: ProvisionBody = {
    stationId: link.stationId,
    watchdogMs: Math.round(link.watchdogMs),
    descriptionHash: hexToHash(descriptionHash),
    inputMask: inputMask >>> 0,
    outputMask: outputMask >>> 0,
    safeHighMask: safeHighMask >>> 0,
    safeHoldMask: safeHoldMask >>> 0,
    estopPin,
    estopHealthyLevel,
    homeActiveLevel: conveyor?.axis.homeSensor.activeLow ? 0 : 1,
    stopCategory: conveyor?.axis.stopCategory ?? 1,
    stopDecelStepsS2: Math.max(1, Math.round(conveyor ? conveyor.axis.accelMmS2 * conveyor.axis.stepsPerMm : 1)),
    debounceMs,
  };
  return { link: linkName, path: link.path, baud: link.baud, stationId: link.stationId, watchdogMs: link.watchdogMs, devices, channels, axis, provision };
}

/** Serial links used by any device or channel of the cell. */
export function serialLinks(cell: CellDescription): string[] {
  return Object.entries(cell.links)
    .filter(([, link]) => link.transport === 'serial')
    .map(([name]) => name)
    .filter((name) =>
      Object.values(cell.devices).some(
        (d) => d.link === name || channelsOf(d).some(([, c]) => c.link === name) || (d.kind === 'conveyor' && d.axis.link === name),
      ),
    );
}
