import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { FAULT_KINDS } from '../../src/cell/schema.js';
import { loadScenario, parseScenario, scenarioProblems, ScenarioRunner, type Scenario } from '../../src/sim/index.js';
import { DEMO_PATH, demoCell, Harness } from './helpers.js';

const SCENARIO_DIR = fileURLToPath(new URL('../../hardware/scenarios/', import.meta.url));
const files = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml'));

const REQUIRED = [
  'nominal',
  'conveyor_slip',
  'part_sensor_stuck',
  'feeder_jam',
  'arm_stall',
  'lost_confirmation',
  'mcu_reset',
  'estop_trip_and_release',
  'guard_door',
  'heartbeat_silent',
  'corrupted_message',
  'operator_stop',
];

describe('shipped scenario files', () => {
  test('every required scenario is shipped', () => {
    expect(files.map((f) => basename(f, '.yaml'))).toEqual(expect.arrayContaining(REQUIRED));
  });

  test.each(files)('%s loads, fits the demo cell and says what it expects', (file) => {
    const scenario = loadScenario(join(SCENARIO_DIR, file));
    expect(scenario.name).toBe(basename(file, '.yaml'));
    expect(scenario.description.length).toBeGreaterThan(40);
    expect(scenario.cellPath).toBe(DEMO_PATH);
    expect(scenarioProblems(scenario, demoCell())).toEqual([]);
    expect(scenario.expect.finalState).toBeDefined();
    for (const kind of scenario.expect.faults) expect(FAULT_KINDS).toContain(kind);
    // A fault scenario injects something and expects the controller to report it (safety
    // scenarios report through the state instead).
    if (scenario.expect.faults.length > 0) expect(scenario.events.some((e) => e.inject !== undefined)).toBe(true);
  });
});

describe('shipped scenarios applied to the simulator', () => {
  test.each(files)('%s: every event fires and applies without error', (file) => {
    const scenario = loadScenario(join(SCENARIO_DIR, file));
    const h = new Harness({ seed: scenario.seed ?? 1 });
    const commands: string[] = [];
    const runner = new ScenarioRunner(scenario, { clock: h.clock, sim: h.sim, sendCommand: (w) => commands.push(w) });
    runner.start();
    for (let cycle = 1; cycle <= 10; cycle++) runner.onCycle(cycle);
    for (const state of ['Held', 'Execute', 'Held', 'Stopped', 'Aborted', 'Held']) runner.onStateEntered(state);
    h.clock.advanceTo(200_000);
    expect(runner.pending()).toEqual([]);
    expect(commands).toEqual(scenario.events.filter((e) => e.command !== undefined).map((e) => e.command));
    expect(h.log.ofKind('scenario')).toHaveLength(scenario.events.length);
    expect(h.log.ofKind('fault')).toHaveLength(scenario.events.filter((e) => e.inject !== undefined).length);
  });
});

describe('parsing scenarios', () => {
  const valid = `name: slip
description: The conveyor slips.
events:
  - at: { cycle: 5 }
    inject: { fault: missed_steps, device: conveyor, steps: 40 }
  - at: { time_ms: 30000 }
    command: stop
  - at: { state: Held, occurrence: 2 }
    delay_ms: 100
    inject: { fault: heartbeat_silent, device: arm, duration_ms: 500 }
expect:
  faults: [index_short]
  final_state: Held
`;

  test('snake_case YAML parses to camelCase, with defaults', () => {
    const s = parseScenario(valid);
    expect(s).toEqual({
      name: 'slip',
      description: 'The conveyor slips.',
      events: [
        { at: { cycle: 5 }, delayMs: 0, inject: { fault: 'missed_steps', device: 'conveyor', steps: 40 } },
        { at: { timeMs: 30000 }, delayMs: 0, command: 'stop' },
        { at: { state: 'Held', occurrence: 2 }, delayMs: 100, inject: { fault: 'heartbeat_silent', device: 'arm', durationMs: 500 } },
      ],
      expect: { faults: ['index_short'], recoveries: [], cycles: 30, finalState: 'Held' },
    });
  });

  test.each([
    ['an unknown fault', valid.replace('fault: missed_steps', 'fault: missed_step'), /x\.yaml:5:22: events\[0\]\.inject\.fault: Invalid discriminator value/],
    ['a missing field', valid.replace(', steps: 40', ''), /x\.yaml:5:13: events\[0\]\.inject\.steps: Invalid input: expected number/],
    ['an unknown key, pointing at the key', valid.replace('delay_ms: 100', 'delay: 100'), /x\.yaml:9:5: events\[2\]\.delay: Unrecognized key/],
    ['two triggers', valid.replace('{ cycle: 5 }', '{ cycle: 5, time_ms: 3 }'), /events\[0\]\.at: give exactly one of cycle, time_ms or state \(got cycle and time_ms\)/],
    ['an event with no action', valid.replace('    command: stop\n', ''), /events\[1\]: an event has exactly one of inject or command/],
    ['a bad operator command', valid.replace('command: stop', 'command: halt'), /x\.yaml:7:14: events\[1\]\.command: unknown command "halt"/],
    ['a state PackML does not have', valid.replace('state: Held', 'state: Paused'), /events\[2\]\.at\.state: /],
    ['an unknown fault kind', valid.replace('[index_short]', '[index_shrt]'), /x\.yaml:12:12: expect\.faults\[0\]: /],
    [
      'feedback_type with direction command',
      valid.replace('fault: missed_steps, device: conveyor, steps: 40', 'fault: lost_message, device: arm, direction: command, feedback_type: reading'),
      /events\[0\]\.inject\.feedback_type: feedback_type applies only to direction: feedback/,
    ],
    ['a YAML syntax error', valid.replace('{ cycle: 5 }', '{ cycle: 5 '), /^x\.yaml:\d+:\d+: /],
  ])('rejects %s with the place and the reason', (_, text, message) => {
    expect(() => parseScenario(text, 'x.yaml')).toThrow(message);
  });

  test('loadScenario names a missing file', () => {
    expect(() => loadScenario(join(SCENARIO_DIR, 'nope.yaml'))).toThrow(/cannot read scenario .*nope\.yaml/);
  });
});

describe('ScenarioRunner', () => {
  function setup(scenario: Scenario) {
    const h = new Harness();
    const commands: Array<[number, string]> = [];
    const runner = new ScenarioRunner(scenario, { clock: h.clock, sim: h.sim, sendCommand: (w) => commands.push([h.clock.now(), w]) });
    return { h, commands, runner };
  }

  test('refuses a scenario that does not fit the cell', () => {
    const s = parseScenario(`name: bad
description: names a device the cell lacks
events:
  - at: { cycle: 1 }
    inject: { fault: feeder_jam, device: hopper }
expect: { faults: [] }
`);
    const h = new Harness();
    expect(() => new ScenarioRunner(s, { clock: h.clock, sim: h.sim, sendCommand: () => {} })).toThrow(
      /events\[0\]\.inject: feeder_jam: no device "hopper" in the cell/,
    );
  });

  test('fires cycle, time and state events once each, and logs them before acting', () => {
    const s = parseScenario(`name: mixed
description: one of each trigger
events:
  - at: { cycle: 2 }
    inject: { fault: feeder_jam, device: feeder }
  - at: { time_ms: 1000 }
    command: hold
  - at: { state: Held, occurrence: 2 }
    delay_ms: 250
    command: unhold
  - at: { state: Held }
    inject: { fault: sensor_stuck, device: feeder, channel: part_at_pick, value: true }
expect: { faults: [] }
`);
    const { h, commands, runner } = setup(s);
    h.clock.advanceTo(500);
    runner.start(); // time_ms counts from here, so the hold is due at 1500
    runner.onCycle(1);
    expect(h.log.ofKind('fault')).toEqual([]);
    runner.onCycle(2);
    expect(h.log.entries.map((e) => e.kind)).toEqual(['scenario', 'fault']);
    expect(h.log.ofKind('scenario')[0]).toEqual({
      t: 500,
      kind: 'scenario',
      scenario: 'mixed',
      event: 0,
      trigger: { cycle: 2 },
      action: 'inject',
      fault: { fault: 'feeder_jam', device: 'feeder' },
    });
    // The jam hits the very release of cycle 2.
    h.feeder.write({ type: 'release' });
    runner.onCycle(2);
    expect(h.log.ofKind('fault')).toHaveLength(1);

    h.clock.advanceTo(1499);
    expect(commands).toEqual([]);
    h.clock.advanceTo(1500);
    expect(commands).toEqual([[1500, 'hold']]);
    h.clock.advanceTo(500 + h.feederDesc.feedMs);
    expect(h.sim.parts()[0]?.where).toBe('jammed');

    runner.onStateEntered('Held');
    expect(h.feeder.read().inputs.part_at_pick).toBe(true); // the stuck sensor, at the first Held
    runner.onStateEntered('Execute');
    h.clock.advanceTo(2000);
    runner.onStateEntered('Held');
    expect(commands).toHaveLength(1);
    h.clock.advanceTo(2250);
    expect(commands).toEqual([
      [1500, 'hold'],
      [2250, 'unhold'],
    ]);
    runner.onStateEntered('Held');
    h.clock.advanceTo(5000);
    expect(commands).toHaveLength(2);
    expect(runner.pending()).toEqual([]);
    expect(h.log.ofKind('scenario').map((e) => [e.event, e.action])).toEqual([
      [0, 'inject'],
      [1, 'command'],
      [3, 'inject'],
      [2, 'command'],
    ]);
  });

  test('a command triggered from inside a controller callback is sent on the next clock turn', () => {
    const s = parseScenario(`name: cb
description: stop when Held
events:
  - at: { state: Held }
    command: stop
expect: { faults: [] }
`);
    const { h, commands, runner } = setup(s);
    runner.onStateEntered('Held');
    expect(commands).toEqual([]);
    h.clock.step();
    expect(commands).toEqual([[0, 'stop']]);
  });

  test('dispose cancels events still waiting on the clock', () => {
    const s = parseScenario(`name: later
description: a late stop
events:
  - at: { time_ms: 1000 }
    command: stop
expect: { faults: [] }
`);
    const { h, commands, runner } = setup(s);
    runner.start();
    expect(() => runner.start()).toThrow(/already started/);
    runner.dispose();
    h.clock.advanceTo(5000);
    expect(commands).toEqual([]);
    expect(runner.pending()).toEqual([0]);
  });
});
