import { describe, expect, it } from 'vitest';
import type { CellDescription, Device } from '../../src/cell/schema.js';
import { firmataLinks, firmataPinMap } from '../../src/firmata/pinMap.js';
import { FirmataLink } from '../../src/firmata/link.js';
import { cellWithStackLight, demoSerial, LINK } from './helpers.js';

function withDevice(cell: CellDescription, name: string, device: Device): CellDescription {
  return { ...cell, devices: { ...cell.devices, [name]: device } };
}

describe('firmataPinMap: what the demo-serial Firmata board carries', () => {
  it('maps the feeder and the stack light, and picks a free analog pin for the heartbeat', () => {
    const { cell } = demoSerial();
    expect(firmataLinks(cell)).toEqual([LINK]);
    const map = firmataPinMap(cell, LINK);
    expect(map).toMatchObject({ link: LINK, baud: 57600, samplingIntervalMs: 25, heartbeatPin: 14 });
    expect(map.channels).toEqual([
      { device: 'feeder', channel: 'release', direction: 'output', pin: 8, activeLow: false, safeValue: 'off' },
      { device: 'feeder', channel: 'part_at_pick', direction: 'input', pin: 2, activeLow: false, debounceMs: 10, analog: undefined },
    ]);
    // With an analog input on the board, its own reports are the heartbeat.
    const withLight = firmataPinMap(cellWithStackLight(), LINK);
    expect(withLight.heartbeatPin).toBe(15);
    expect(withLight.channels.find((c) => c.channel === 'bin_full')).toMatchObject({ analog: { threshold: 600, hysteresis: 100 } });
    // Drivers for exactly the devices on the board.
    expect([...new FirmataLink({ cell: cellWithStackLight(), link: LINK }).devices.keys()]).toEqual(['feeder', 'stack_light']);
  });

  it('refuses what a Firmata board cannot carry, naming the channel', () => {
    const { cell } = demoSerial();
    const feeder = cell.devices.feeder as Extract<Device, { kind: 'feeder' }>;
    const light = cellWithStackLight().devices.stack_light as Extract<Device, { kind: 'io' }>;
    const problem = (c: CellDescription, link = LINK) => {
      try {
        firmataPinMap(c, link);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problem(cell, 'conveyor_board')).toBe('link "conveyor_board" is serial, not a Firmata board');
    expect(problem(withDevice(cell, 'feeder', { ...feeder, partAtPick: { ...feeder.partAtPick, pin: undefined } }))).toBe(
      'devices.feeder.part_at_pick: a channel on Firmata link "feeder_board" needs a pin',
    );
    expect(problem(withDevice(cell, 'feeder', { ...feeder, partAtPick: { ...feeder.partAtPick, pin: 8 } }))).toBe(
      'devices.feeder.part_at_pick: pin 8 is already used by devices.feeder.release',
    );
    expect(problem(withDevice(cell, 'feeder', { ...feeder, release: { ...feeder.release, pin: 1 } }))).toMatch(/devices\.feeder\.release: pin 1 is the board's serial port/);
    expect(problem(withDevice(cell, 'conveyor', { ...cell.devices.conveyor!, link: LINK }))).toMatch(/devices\.conveyor: a conveyor cannot be driven by a StandardFirmata board .*no host-loss failsafe/);
    expect(problem(withDevice(cell, 'feeder', { ...feeder, partAtPick: { ...feeder.partAtPick, analogHysteresis: 10 } }))).toBe(
      'devices.feeder.part_at_pick: analog_hysteresis needs analog_threshold',
    );
    const hysteresis = { ...light, inputs: { level: { pin: 15, activeLow: false, debounceMs: 0, analogThreshold: 50, analogHysteresis: 80 } }, outputs: {} };
    expect(problem(withDevice(cell, 'stack_light', hysteresis))).toMatch(/analog_hysteresis 80 is larger than analog_threshold 50/);
    const allAnalogUsed = { ...light, inputs: Object.fromEntries([14, 15, 16, 17, 18, 19].map((pin) => [`in_${pin}`, { pin, activeLow: false, debounceMs: 0 }])), outputs: {} };
    expect(problem(withDevice(cell, 'stack_light', allAnalogUsed))).toMatch(/every analog pin \(A0-A5, pins 14-19\) is a digital channel/);
  });
});
