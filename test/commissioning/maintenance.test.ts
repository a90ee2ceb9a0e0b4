/**
 * Maintenance mode on the simulator in virtual time: the I/O view, forcing outputs (reason, time
 * limit, journal, cleared on leaving the mode or any stop, refused where the description says so),
 * and single-step production.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DemoCell } from '../controller/runHarness.js';
import { commissioningCell, records, rejection, view } from './helpers.js';

let cell: DemoCell | undefined;
afterEach(() => {
  cell?.close();
  cell = undefined;
});

function maintenanceCell(edit?: (text: string) => string): DemoCell {
  cell = commissioningCell(edit);
  expect(rejection(cell, 'mode maintenance')).toBeUndefined();
  return cell;
}

const lamp = (c: DemoCell, channel: string) => c.run.sim.drivers.get('safety_io')!.read().outputs[channel];

describe('the I/O view', () => {
  it('shows every input with its live value and every output with its value and whether it may be forced', () => {
    const c = maintenanceCell();
    const io = view(c).io;
    expect(io).toContainEqual({ device: 'safety_io', channel: 'estop_ok', direction: 'input', value: true });
    expect(io).toContainEqual({ device: 'safety_io', channel: 'guard_closed', direction: 'input', value: true });
    expect(io).toContainEqual({ device: 'feeder', channel: 'part_at_pick', direction: 'input', value: false });
    expect(io).toContainEqual({ device: 'safety_io', channel: 'lamp_red', direction: 'output', value: false, forceable: true });
    expect(io).toContainEqual({ device: 'arm', channel: 'vacuum', direction: 'output', value: false, forceable: true });
    expect(io).toContainEqual({ device: 'feeder', channel: 'release', direction: 'output', value: false, forceable: false });
    c.openGuard(true);
    c.advance(50);
    expect(view(c).io).toContainEqual({ device: 'safety_io', channel: 'guard_closed', direction: 'input', value: false });
  });

  it('is absent from the state in Production mode', () => {
    cell = commissioningCell();
    expect(cell.run.controller.stateMessage().commissioning).toBeUndefined();
  });
});

describe('forcing outputs', () => {
  it('forces an output with a reason and a time limit, journaled with its source; the limit ends it', () => {
    const c = maintenanceCell();
    expect(rejection(c, 'force safety_io.lamp_red on 2s "Checking the Lamp wiring"')).toBeUndefined();
    c.advance(10);
    expect(lamp(c, 'lamp_red')).toBe(true);
    expect(view(c).forced).toEqual([{ device: 'safety_io', channel: 'lamp_red', value: true, reason: 'Checking the Lamp wiring', source: 'topic:/workcell/command', limitMs: 2000 }]);
    expect(view(c).io).toContainEqual({ device: 'safety_io', channel: 'lamp_red', direction: 'output', value: true, forceable: true, forced: true });
    expect(records(c, 'commissioning', 'force.on')[0]).toMatchObject({ device: 'safety_io', channel: 'lamp_red', value: true, reason: 'Checking the Lamp wiring', limitMs: 2000, source: 'topic:/workcell/command' });
    c.advance(1900);
    expect(lamp(c, 'lamp_red')).toBe(true);
    c.advance(200);
    expect(lamp(c, 'lamp_red')).toBe(false);
    expect(view(c).forced).toEqual([]);
    expect(records(c, 'commissioning', 'force.off')[0]).toMatchObject({ channel: 'lamp_red', why: 'time limit of 2 s reached' });
  });

  it('refuses outputs the description marks unforceable, and motion outputs', () => {
    const c = maintenanceCell((text) => text.replace('lamp_green: { safe_value: "off" }', 'lamp_green: { safe_value: "off", forceable: false }'));
    expect(rejection(c, 'force safety_io.lamp_green on 10s "test"')).toBe('safety_io.lamp_green is marked forceable: false in the cell description');
    expect(rejection(c, 'force feeder.release on 10s "test"')).toMatch(/feeder\.release starts a motion .* cannot be forced/);
    expect(rejection(c, 'force safety_io.siren on 10s "test"')).toBe('safety_io has no output "siren" (outputs: lamp_red, lamp_green)');
    c.advance(100);
    expect(lamp(c, 'lamp_green')).toBe(false);
    expect(records(c, 'device.command').filter((r) => r.device === 'safety_io')).toEqual([]);
  });

  it('refuses forcing outside Maintenance mode, without a reason, or beyond force_max_s', () => {
    cell = commissioningCell();
    expect(rejection(cell, 'force safety_io.lamp_red on 10s "x"')).toBe('forcing outputs is only allowed in Maintenance mode; the cell is in production mode');
    cell.send('mode maintenance');
    expect(rejection(cell, 'force safety_io.lamp_red on 10s')).toMatch(/needs a channel, a value, a time limit and a reason/);
    expect(rejection(cell, 'force safety_io.lamp_red on 10s ""')).toBe('force: a reason is required (why the output is forced, for the journal)');
    expect(rejection(cell, 'force safety_io.lamp_red on 11m "long"')).toBe('time limit 660 s exceeds commissioning.force_max_s (600 s)');
    expect(rejection(cell, 'force safety_io.lamp_red maybe 10s "x"')).toBe('force: value "maybe" is not on or off');
  });

  it('is cleared on Stop, and the output goes back to its value from before', () => {
    const c = maintenanceCell();
    c.send('reset');
    c.until('Idle');
    c.send('start');
    c.until('Execute');
    expect(rejection(c, 'force safety_io.lamp_green on 60s "lamp test during the run"')).toBeUndefined();
    c.advance(10);
    expect(lamp(c, 'lamp_green')).toBe(true);
    c.send('stop');
    c.advance(10);
    expect(lamp(c, 'lamp_green')).toBe(false);
    expect(view(c).forced).toEqual([]);
    expect(records(c, 'commissioning', 'force.off')[0]).toMatchObject({ channel: 'lamp_green', why: 'the cell entered Stopping' });
  });

  it('is cleared on an e-stop (the safe state wins) and on leaving the mode', () => {
    const c = maintenanceCell();
    c.send('force safety_io.lamp_red on 60s "x"');
    c.send('force arm.vacuum on 60s "vacuum leak test"');
    c.advance(10);
    expect(c.run.sim.drivers.get('arm')!.read().outputs.vacuum).toBe(true);
    c.send('mode manual');
    c.advance(10);
    expect(view(c).forced).toEqual([]);
    expect(c.run.sim.drivers.get('arm')!.read().outputs.vacuum).toBe(false);
    expect(records(c, 'commissioning', 'force.off').map((r) => r.why)).toEqual(['mode changed from maintenance to manual', 'mode changed from maintenance to manual']);

    c.send('mode maintenance');
    c.send('force safety_io.lamp_green on 60s "x"');
    c.advance(10);
    c.pressEstop(true);
    c.advance(10);
    expect(view(c).forced).toEqual([]);
    // lamp_green's safe value is off: the safe state set it, and nothing forced it back on.
    expect(lamp(c, 'lamp_green')).toBe(false);
    expect(lamp(c, 'lamp_red')).toBe(true);
    expect(rejection(c, 'force safety_io.lamp_green on 10s "x"')).toMatch(/^no output may be forced: e-stop latched/);
  });

  it('forces the gripper vacuum only in a wait state, and releases it when the cycle starts', () => {
    const c = maintenanceCell();
    c.send('reset');
    c.until('Idle');
    expect(rejection(c, 'force arm.vacuum on 60s "cup seal check"')).toBeUndefined();
    c.advance(10);
    expect(c.run.sim.drivers.get('arm')!.read().outputs.vacuum).toBe(true);
    c.send('start');
    c.advance(10);
    // The production sequence grips and releases with it: the forcing ends, the value goes back.
    expect(view(c).forced).toEqual([]);
    expect(c.run.sim.drivers.get('arm')!.read().outputs.vacuum).toBe(false);
    expect(records(c, 'commissioning', 'force.off').at(-1)).toMatchObject({ channel: 'vacuum', why: 'the cell entered Starting' });
    c.until('Execute');
    expect(rejection(c, 'force arm.vacuum off 60s "x"')).toMatch(/^arm\.vacuum is commanded by the production sequence: force it in a wait state .*; the cell is in Execute$/);
    // Outputs the sequence never commands stay forceable while it runs.
    expect(rejection(c, 'force safety_io.lamp_red on 60s "x"')).toBeUndefined();
  });

  it('unforce ends one forcing or all of them', () => {
    const c = maintenanceCell();
    c.send('force safety_io.lamp_red on 60s "a"');
    c.send('force safety_io.lamp_green on 60s "b"');
    expect(rejection(c, 'unforce safety_io.lamp_red')).toBeUndefined();
    expect(view(c).forced.map((f) => f.channel)).toEqual(['lamp_green']);
    expect(rejection(c, 'unforce safety_io.lamp_red')).toBe('safety_io.lamp_red is not forced');
    expect(rejection(c, 'unforce all')).toBeUndefined();
    c.advance(10);
    expect(view(c).forced).toEqual([]);
    expect(lamp(c, 'lamp_green')).toBe(false);
  });
});

describe('single-step', () => {
  const stepStarts = (c: DemoCell) => records(c, 'step').filter((r) => r.phase === 'start');

  it('runs the production cycle one step per command, never two, showing the next step', () => {
    const c = maintenanceCell();
    c.send('reset');
    c.until('Idle');
    c.send('start');
    c.until('Execute');
    const before = stepStarts(c).length;
    c.advance(5000);
    // Nothing moves by itself in single-step.
    expect(stepStarts(c).length).toBe(before);
    expect(view(c).singleStep).toEqual({ granted: false, nextStep: { device: 'feeder', step: 'release' } });

    const names: string[] = [];
    for (let n = 1; c.run.controller.tracker.totals().exited === 0; n++) {
      if (n > 40) throw new Error(`no part exited after 40 steps: ${names.join(', ')}`);
      const next = view(c).singleStep!.nextStep;
      expect(next).not.toBeNull();
      expect(rejection(c, 'step')).toBeUndefined();
      c.advance(5000);
      const started = stepStarts(c).slice(before);
      // Exactly one more step per command, and it is the one shown as next.
      expect(started).toHaveLength(n);
      expect({ device: started.at(-1)!.device, step: started.at(-1)!.step }).toEqual(next);
      names.push(`${String(started.at(-1)!.device)}:${String(started.at(-1)!.step)}`);
    }
    expect(names[0]).toBe('feeder:release');
    expect(names).toEqual(expect.arrayContaining(['arm:descend_to_pick', 'arm:grip', 'conveyor:index']));
  });

  it('a second step command before the granted step started is refused', () => {
    const c = maintenanceCell();
    c.send('reset');
    c.until('Idle');
    c.send('start');
    c.until('Execute');
    c.advance(100);
    // Grant steps until one has to wait (the arm cannot go down before the part is at the pick).
    let count = stepStarts(c).length;
    for (let i = 0; i < 10; i++) {
      expect(rejection(c, 'step')).toBeUndefined();
      if (stepStarts(c).length === count) break;
      count = stepStarts(c).length;
    }
    expect(view(c).singleStep!.granted).toBe(true);
    expect(rejection(c, 'step')).toMatch(/^the step already granted has not started yet/);
    c.advance(5000);
    // The granted step ran; the refused command gave none.
    expect(stepStarts(c).length).toBe(count + 1);
  });

  it('is only available in Maintenance mode while producing', () => {
    cell = commissioningCell();
    expect(rejection(cell, 'step')).toBe('single-step is only available in Maintenance mode; the cell is in production mode');
    cell.send('mode maintenance');
    expect(rejection(cell, 'step')).toBe('single-step runs the production cycle: Start the cell in Maintenance mode first (the cell is in Stopped)');
  });
});

describe('device diagnostics', () => {
  it('publishes heartbeat ages per device on /diagnostics', () => {
    const c = maintenanceCell();
    const seen: Array<{ name: string; values: Array<{ key: string; value: string }> }> = [];
    c.run.bus.subscribe(c.run.controller.topics.diagnostics, (m) => seen.push(...m.status));
    c.advance(1100);
    expect(seen.map((s) => s.name)).toEqual(expect.arrayContaining(['workcell: conveyor', 'workcell: safety_io']));
    expect(seen[0]!.values.map((v) => v.key)).toContain('heartbeat_age_ms');
  });
});
