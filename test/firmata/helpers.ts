import path from 'node:path';
import { loadCell } from '../../src/cell/load.js';
import type { CellDescription, IoDescription } from '../../src/cell/schema.js';
import type { DeviceFeedback } from '../../src/devices/types.js';
import { FirmataLink, type FirmataLinkEvent } from '../../src/firmata/link.js';
import { packageRoot } from '../../src/rig/rigBoard.js';

export const ROOT = packageRoot();
export const DEMO_SERIAL = path.join(ROOT, 'hardware', 'cells', 'demo-serial.yaml');
export const LINK = 'feeder_board';

export function demoSerial(): { cell: CellDescription; hash: string } {
  const loaded = loadCell(DEMO_SERIAL);
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return { cell: loaded.cell, hash: loaded.hash };
}

/**
 * The demo-serial cell with a stack light and two more inputs on the Firmata board: lamp_red
 * (pin 9, wired active low, safe on), lamp_green (pin 10, safe off), a bin-level sensor read as
 * analog on A1 (pin 15: true from 600, back to false below 500), and a door switch on pin 3
 * with 200 ms debounce next to a copy of it on pin 4 without.
 */
export function cellWithStackLight(): CellDescription {
  const { cell } = demoSerial();
  const light: IoDescription = {
    kind: 'io',
    link: LINK,
    safetyRelevant: false,
    heartbeat: { periodMs: 100, missCount: 4 },
    confirm: { factor: 1.5, marginMs: 300 },
    faults: { retries: 2, autoRecoverable: [] },
    inputs: {
      bin_full: { pin: 15, activeLow: false, debounceMs: 0, analogThreshold: 600, analogHysteresis: 100 },
      door: { pin: 3, activeLow: false, debounceMs: 200 },
      door_raw: { pin: 4, activeLow: false, debounceMs: 0 },
    },
    outputs: {
      lamp_red: { pin: 9, activeLow: true, safeValue: 'on', forceable: true },
      lamp_green: { pin: 10, activeLow: false, safeValue: 'off', forceable: true },
    },
  };
  return { ...cell, devices: { ...cell.devices, stack_light: light } };
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, explain: () => string = () => ''): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain() ? `: ${explain()}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A FirmataLink on a rig board's pty, recording its events and every device's feedback. */
export function openLink(cell: CellDescription, linkPath: string) {
  const events: FirmataLinkEvent[] = [];
  const feedback: Array<{ device: string; at: number; fb: DeviceFeedback }> = [];
  const link = new FirmataLink({ cell, link: LINK, path: linkPath, onEvent: (e) => events.push(e), reconnect: { initialMs: 50, maxMs: 400 } });
  for (const [name, device] of link.devices) device.onFeedback((fb) => feedback.push({ device: name, at: performance.now(), fb }));
  for (const device of link.devices.values()) device.activate();
  return { link, events, feedback };
}

