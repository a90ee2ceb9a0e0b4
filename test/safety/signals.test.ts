import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../e2e/cli.js';
import { DEMO_PATH } from '../controller/helpers.js';
import { DemoCell, reach } from '../controller/runHarness.js';

/** The demo cell with a ROS safe-OK signal as a second e-stop source. */
function cellWithSafeOk(): string {
  const text = readFileSync(DEMO_PATH, 'utf8')
    .replace('links:\n  sim:\n    transport: sim\n', 'links:\n  sim:\n    transport: sim\n  ros:\n    transport: ros2\n')
    .replace(
      '    - { kind: input, name: estop_button, input: safety_io.estop_ok }\n',
      '    - { kind: input, name: estop_button, input: safety_io.estop_ok }\n    - { kind: safe_ok_topic, name: safety_plc, topic: /safety/safe_ok, timeout_ms: 500 }\n',
    );
  expect(text).toContain('safety_plc');
  const file = path.join(tempDir(), 'safe-ok.yaml');
  writeFileSync(file, text);
  return file;
}

const SAFE_OK = { name: '/safety/safe_ok', type: 'std_msgs/msg/Bool' as const, latched: false, description: 'test' };

describe('safe-OK signal over a topic (std_msgs/Bool, true repeated)', () => {
  it('is a trip until heard; its absence for the timeout trips; false trips at once', () => {
    const cell = new DemoCell({ cellPath: cellWithSafeOk() });
    expect(cell.state).toBe('Aborted'); // never heard at boot: fail safe
    let publishing = true;
    const beat = () => {
      if (publishing) cell.run.bus.publish(SAFE_OK, { data: true });
      cell.clock.setTimeout(beat, 100);
    };
    beat();
    cell.advance(200);
    cell.send('clear');
    cell.until('Stopped');
    reach.Execute(cell);
    cell.advance(3000);
    expect(cell.state).toBe('Execute');

    publishing = false;
    const silentFrom = cell.clock.now();
    cell.until('Aborting');
    // Tripped after the timeout (500 ms), checked every timeout / 4.
    expect(cell.clock.now() - silentFrom).toBeGreaterThan(400);
    expect(cell.clock.now() - silentFrom).toBeLessThanOrEqual(500 + 125 + 100);
    const estop = cell.run.controller.stateMessage().estop;
    expect(estop.sources).toContainEqual({ name: 'safety_plc', active: true });
    cell.until('Aborted');
    cell.send('clear');
    expect(cell.lastCommandEvent()).toMatchObject({ type: 'command.rejected', reason: expect.stringContaining('safety_plc') });

    publishing = true;
    cell.advance(300);
    expect(cell.state).toBe('Aborted'); // coming back restarts nothing
    cell.send('clear');
    cell.until('Stopped');

    cell.run.bus.publish(SAFE_OK, { data: false });
    expect(cell.run.controller.stateMessage().estop.sources).toContainEqual({ name: 'safety_plc', active: true });
    void cell.close();
  });
});

describe('heartbeats', () => {
  it('a silent device holds the cell with a fault naming it and its age; when it returns nothing restarts', () => {
    const cell = new DemoCell();
    reach.Execute(cell);
    cell.advance(2000);
    cell.run.sim.inject({ fault: 'heartbeat_silent', device: 'conveyor', durationMs: 2000 });
    cell.until('Held');
    const fault = cell.run.memory!.records().find((r) => r.kind === 'fault' && r.fault === 'heartbeat_lost')!;
    expect(fault).toMatchObject({ device: 'conveyor', message: expect.stringMatching(/conveyor silent: last sign of life \d+ ms ago/) });
    expect(fault.heartbeatAgeMs as number).toBeGreaterThan(300); // 100 ms x 3 misses
    cell.advance(5000);
    expect(cell.run.memory!.records().some((r) => r.kind === 'recovery' && r.recovery === 'heartbeat_back' && r.device === 'conveyor')).toBe(true);
    expect(cell.state).toBe('Held');
    expect(cell.run.controller.stateMessage().devices.find((d) => d.name === 'conveyor')!.healthy).toBe(true);
    void cell.close();
  });

  it('a silent safety-relevant device is an e-stop source: safe state, Aborting, Clear refused until it is heard again', () => {
    const cell = new DemoCell();
    reach.Execute(cell);
    cell.advance(2000);
    cell.run.sim.inject({ fault: 'heartbeat_silent', device: 'safety_io', durationMs: 3000 });
    cell.until('Aborted');
    cell.send('clear');
    expect(cell.lastCommandEvent()).toMatchObject({ type: 'command.rejected', reason: expect.stringContaining('heartbeat:safety_io') });
    cell.advance(4000);
    expect(cell.state).toBe('Aborted');
    cell.send('clear');
    cell.until('Stopped');
    void cell.close();
  });
});
