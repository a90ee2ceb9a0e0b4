import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createSimulatedCell, DeviceLogFile, initialInputValue, type DeviceLogEntry } from '../../src/sim/index.js';
import { VirtualClock } from '../../src/time/clock.js';
import { demoCell, Harness } from './helpers.js';

describe('lifecycle and heartbeats', () => {
  test('configure accepts any link but checks the physics can be driven', () => {
    const cell = demoCell();
    cell.links.sim = { transport: 'serial', path: '/dev/ttyUSB0', baud: 115200, stationId: 3, watchdogMs: 250 };
    const arm = cell.devices.arm;
    if (arm?.kind !== 'arm') throw new Error('demo arm');
    delete arm.poses.place;
    const sim = createSimulatedCell(cell, new VirtualClock(), { seed: 1 });
    expect(() => sim.drivers.get('feeder')!.configure()).not.toThrow();
    expect(() => sim.drivers.get('arm')!.configure()).toThrow(/arm "arm": the simulator needs a pose named "place"/);
    expect(() => sim.drivers.get('arm')!.activate()).toThrow(/configure\(\) must succeed/);
  });

  test('commands are refused (and logged) until the device is active', () => {
    const h = new Harness({ activate: false });
    h.feeder.configure();
    h.feeder.write({ type: 'release' });
    expect(h.feedbackOf('feeder')).toEqual([{ t: 0, feedback: { type: 'refused', command: { type: 'release' }, reason: 'feeder is not active' } }]);
    expect(h.log.ofKind('command')).toEqual([
      { t: 0, kind: 'command', device: 'feeder', command: { type: 'release' }, outcome: 'refused', reason: 'feeder is not active' },
    ]);
    expect(h.sim.counts().spawned).toBe(0);
  });

  test('heartbeats every period_ms while active, none once deactivated', () => {
    const h = new Harness();
    h.clock.advanceTo(1000);
    expect(h.feedbackOf('feeder', 'heartbeat').map((r) => r.t)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
    expect(h.feedbackOf('safety_io', 'heartbeat')).toHaveLength(20);
    h.feeder.deactivate();
    h.clock.advanceTo(2000);
    expect(h.feedbackOf('feeder', 'heartbeat')).toHaveLength(10);
  });

  test('activate publishes the present reading', () => {
    const h = new Harness();
    expect(h.feedbackOf('conveyor')[0]).toEqual({ t: 0, feedback: { type: 'reading', reading: h.conveyor.read() } });
  });
});

describe('link faults', () => {
  test('lost commands are logged as dropped and do nothing; the one after is executed', () => {
    const h = new Harness();
    h.sim.inject({ fault: 'lost_message', device: 'arm', direction: 'command', count: 2 });
    h.arm.write({ type: 'move', pose: 'above_pick', target: h.pose('above_pick') });
    h.arm.write({ type: 'vacuum', on: true });
    h.wait(2000);
    expect(h.arm.read()).toMatchObject({ joints: h.pose('home'), outputs: { vacuum: false } });
    expect(h.feedbackOf('arm').filter((r) => r.feedback.type !== 'heartbeat' && r.t > 0)).toEqual([]);
    h.arm.write({ type: 'vacuum', on: true });
    expect(h.arm.read().outputs.vacuum).toBe(true);
    expect(h.log.ofKind('command').map((e) => [e.command.type, e.outcome])).toEqual([
      ['move', 'dropped'],
      ['vacuum', 'dropped'],
      ['vacuum', 'executed'],
    ]);
  });

  test('lost feedback: the motion happens, its motionDone never arrives; later feedback does', () => {
    const h = new Harness();
    h.sim.inject({ fault: 'lost_message', device: 'arm', direction: 'feedback', feedbackType: 'motionDone' });
    h.arm.write({ type: 'move', pose: 'above_pick', target: h.pose('above_pick') });
    h.wait(2000);
    expect(h.arm.read()).toMatchObject({ joints: h.pose('above_pick'), moving: false });
    expect(h.feedbackOf('arm', 'motionDone')).toEqual([]);
    expect(h.feedbackOf('arm', 'heartbeat').length).toBeGreaterThan(0);
    expect(h.log.ofKind('feedback')).toEqual([{ t: 650, kind: 'feedback', device: 'arm', feedback: 'motionDone', outcome: 'lost' }]);
    h.moveArm('pick');
    expect(h.feedbackOf('arm', 'motionDone')).toHaveLength(1);
  });

  test('a corrupted command is refused with bad CRC and not executed', () => {
    const h = new Harness();
    h.sim.inject({ fault: 'corrupted_message', device: 'feeder' });
    h.feeder.write({ type: 'release' });
    h.wait(2000);
    expect(h.sim.counts().spawned).toBe(0);
    expect(h.feedbackOf('feeder', 'refused').map((r) => r.feedback)).toEqual([{ type: 'refused', command: undefined, reason: 'bad CRC' }]);
    expect(h.log.ofKind('command')[0]).toMatchObject({ command: { type: 'release' }, outcome: 'corrupted' });
    h.feed();
    expect(h.sim.counts().spawned).toBe(1);
  });

  test('heartbeat silence: no heartbeats and no feedback for the duration; commands still act; then a fresh reading', () => {
    const h = new Harness();
    h.clock.advanceTo(1000);
    const before = h.feedbackOf('arm').length;
    h.sim.inject({ fault: 'heartbeat_silent', device: 'arm', durationMs: 1000 });
    h.arm.write({ type: 'move', pose: 'above_pick', target: h.pose('above_pick') });
    h.clock.advanceTo(1999.999);
    expect(h.feedbackOf('arm').slice(before)).toEqual([]);
    h.clock.advanceTo(2000);
    expect(h.arm.read().joints).toEqual(h.pose('above_pick')); // the move happened meanwhile
    const after = h.feedbackOf('arm').filter((r) => r.t >= 2000);
    expect(after[0]).toEqual({ t: 2000, feedback: { type: 'reading', reading: h.arm.read() } });
    h.clock.advanceTo(2300);
    expect(h.feedbackOf('arm', 'heartbeat').filter((r) => r.t > 2000).length).toBeGreaterThanOrEqual(2);
    expect(h.log.ofKind('link').map((e) => [e.t, e.event])).toEqual([
      [1000, 'silent'],
      [2000, 'resumed'],
    ]);
  });

  test('a stuck sensor reads its value regardless of physics until released', () => {
    const h = new Harness();
    h.sim.inject({ fault: 'sensor_stuck', device: 'feeder', channel: 'part_at_pick', value: true });
    expect(h.feeder.read().inputs.part_at_pick).toBe(true);
    h.sim.inject({ fault: 'sensor_release', device: 'feeder', channel: 'part_at_pick' });
    expect(h.feeder.read().inputs.part_at_pick).toBe(false);
    h.sim.inject({ fault: 'sensor_stuck', device: 'feeder', channel: 'part_at_pick', value: false });
    h.motion('feeder', { type: 'release' });
    h.wait(100);
    expect(h.sim.parts()[0]?.where).toBe('pick');
    expect(h.feeder.read().inputs.part_at_pick).toBe(false);
  });

  test('a fault that does not fit the cell is refused with a clear message and leaves no trace', () => {
    const h = new Harness();
    expect(() => h.sim.inject({ fault: 'missed_steps', device: 'conveyer', steps: 4 })).toThrow(/no device "conveyer" in the cell/);
    expect(() => h.sim.inject({ fault: 'missed_steps', device: 'arm', steps: 4 })).toThrow(/"arm" is a arm; this fault needs a conveyor/);
    expect(() => h.sim.inject({ fault: 'sensor_stuck', device: 'arm', channel: 'part_at_pick', value: true })).toThrow(/no input "part_at_pick" \(have: vacuum_ok\)/);
    expect(() => h.sim.inject({ fault: 'arm_stall', device: 'arm', fraction: 1.5 })).toThrow(/0 <= fraction < 1/);
    expect(() => h.sim.inject({ fault: 'guard_door', stop: 'light_curtain', open: true })).toThrow(/no protective stop named "light_curtain"/);
    expect(h.log.entries).toEqual([]);
  });
});

describe('inputs of I/O devices', () => {
  test('inputs named *_ok or *_closed start true, others false', () => {
    expect(initialInputValue('estop_ok')).toBe(true);
    expect(initialInputValue('guard_closed')).toBe(true);
    expect(initialInputValue('start_button')).toBe(false);
    const h = new Harness();
    expect(h.io.read()).toEqual({ inputs: { estop_ok: true, guard_closed: true }, outputs: { lamp_red: false, lamp_green: false }, moving: false });
  });

  test('estop and guard_door faults drive the inputs named by the cell, and are logged', () => {
    const h = new Harness();
    h.sim.inject({ fault: 'estop', pressed: true });
    expect(h.io.read().inputs.estop_ok).toBe(false);
    h.sim.inject({ fault: 'guard_door', open: true });
    expect(h.io.read().inputs.guard_closed).toBe(false);
    h.sim.inject({ fault: 'estop', source: 'estop_button', pressed: false });
    expect(h.io.read().inputs.estop_ok).toBe(true);
    expect(h.log.entries.map((e) => e.kind)).toEqual(['fault', 'input', 'fault', 'input', 'fault', 'input']);
    expect(h.log.ofKind('input').map((e) => [e.device, e.channel, e.value])).toEqual([
      ['safety_io', 'estop_ok', false],
      ['safety_io', 'guard_closed', false],
      ['safety_io', 'estop_ok', true],
    ]);
    // Each change is published as a reading.
    const readings = h.feedbackOf('safety_io', 'reading').slice(1);
    expect(readings.map((r) => (r.feedback.type === 'reading' ? r.feedback.reading.inputs : {}))).toEqual([
      { estop_ok: false, guard_closed: true },
      { estop_ok: false, guard_closed: false },
      { estop_ok: true, guard_closed: false },
    ]);
  });

  test('setInput drives only inputs of I/O devices, with clear errors otherwise', () => {
    const h = new Harness();
    h.sim.setInput('safety_io', 'guard_closed', false);
    expect(h.io.read().inputs.guard_closed).toBe(false);
    expect(() => h.sim.setInput('feeder', 'part_at_pick', true)).toThrow(/"feeder" is a feeder; only inputs of io devices/);
    expect(() => h.sim.setInput('safety_io', 'door', true)).toThrow(/no input "door" \(have: estop_ok, guard_closed\)/);
    expect(() => h.sim.setInput('nothing', 'x', true)).toThrow(/no device "nothing"/);
  });

  test('safe state sets every output to its safe value; setOutput sets one', () => {
    const h = new Harness();
    h.io.write({ type: 'setOutput', channel: 'lamp_green', value: true });
    expect(h.io.read().outputs).toEqual({ lamp_red: false, lamp_green: true });
    h.io.write({ type: 'safeState', category: 0 });
    expect(h.io.read().outputs).toEqual({ lamp_red: true, lamp_green: false });
    h.io.write({ type: 'setOutput', channel: 'siren', value: true });
    expect(h.feedbackOf('safety_io', 'refused')[0]?.feedback).toMatchObject({ reason: expect.stringContaining('no output "siren"') });
  });
});

describe('the device log', () => {
  /** A scripted run touching every kind of physics and fault. */
  function scriptedRun(seed: number): DeviceLogEntry[] {
    const h = new Harness({ seed });
    h.home();
    h.feedPickPlace();
    h.sim.inject({ fault: 'missed_steps', device: 'conveyor', steps: 30 });
    h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    h.sim.inject({ fault: 'feeder_jam', device: 'feeder' });
    h.motion('feeder', { type: 'release' });
    h.feedPickPlace();
    h.sim.inject({ fault: 'estop', pressed: true });
    for (const driver of h.sim.drivers.values()) driver.write({ type: 'safeState', category: 1 });
    h.wait(3000);
    return h.log.entries;
  }

  test('the same seed gives an identical device log; another seed a different one', () => {
    const a = scriptedRun(7);
    expect(a.length).toBeGreaterThan(40);
    expect(scriptedRun(7)).toEqual(a);
    expect(JSON.stringify(scriptedRun(8))).not.toEqual(JSON.stringify(a));
  });

  test('DeviceLogFile writes JSON Lines, truncating an old file unless appending', () => {
    const dir = mkdtempSync(join(tmpdir(), 'devicelog-'));
    const path = join(dir, 'device.jsonl');
    writeFileSync(path, 'old content\n');
    const file = new DeviceLogFile(path);
    const clock = new VirtualClock();
    const sim = createSimulatedCell(demoCell(), clock, { seed: 1, deviceLog: file });
    const feeder = sim.drivers.get('feeder')!;
    feeder.configure();
    feeder.activate();
    feeder.write({ type: 'release' });
    clock.advanceTo(2000);
    file.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const entries = lines.map((l) => JSON.parse(l) as DeviceLogEntry);
    expect(entries[0]).toEqual({ t: 0, kind: 'command', device: 'feeder', command: { type: 'release' }, outcome: 'executed' });
    expect(entries.filter((e) => e.kind === 'part').map((e) => (e.kind === 'part' ? e.event : ''))).toEqual(['spawned', 'at_pick']);

    const appended = new DeviceLogFile(path, { append: true });
    appended.write({ t: 5, kind: 'input', device: 'safety_io', channel: 'estop_ok', value: false });
    appended.close();
    expect(readFileSync(path, 'utf8').trimEnd().split('\n')).toHaveLength(lines.length + 1);
  });
});

describe('feedback delivery', () => {
  test('a listener that writes from inside a feedback callback sees consistent state, in order', () => {
    const h = new Harness();
    const seen: string[] = [];
    h.arm.onFeedback((f) => {
      if (f.type === 'motionDone' && f.command.type === 'move' && f.command.pose === 'above_pick') {
        seen.push(`done above_pick, moving=${h.arm.read().moving}`);
        h.arm.write({ type: 'move', pose: 'pick', target: h.pose('pick') });
        seen.push(`wrote pick, moving=${h.arm.read().moving}`);
      }
    });
    h.moveArm('above_pick');
    h.runUntil(() => h.feedbackOf('arm', 'motionDone').length === 2);
    expect(seen).toEqual(['done above_pick, moving=false', 'wrote pick, moving=true']);
    expect(h.arm.read().joints).toEqual(h.pose('pick'));
  });
});
