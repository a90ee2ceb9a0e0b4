/**
 * One negative test per semantic rule: the demo cell with one thing changed must give exactly
 * that problem, at the right path, pointing at the right text in the file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDocument, type Document } from 'yaml';
import { parseCell } from '../../src/cell/load.js';
import { cellSchema } from '../../src/cell/schema.js';
import { editDistance, suggest, validateCell } from '../../src/cell/validate.js';

const DEMO = path.resolve(import.meta.dirname, '../../hardware/cells/demo.yaml');
const demoText = readFileSync(DEMO, 'utf8');

/** The demo, edited through yaml's document API (comments and layout kept). */
function demoWith(edit: (doc: Document) => void): string {
  const doc = parseDocument(demoText);
  edit(doc);
  return doc.toString();
}

/** Exactly one problem, at `problemPath`, whose message contains `message`; the text there starts with `at`. */
function expectOnly(text: string, problemPath: string, message: string, at: string): void {
  const result = parseCell(text, 'cell.yaml');
  if (result.ok) throw new Error('expected a problem, the description is valid');
  const lines = result.problems.map((p) => `${p.line}:${p.col}: ${p.path}: ${p.message}`);
  expect(result.problems, lines.join('\n')).toHaveLength(1);
  const [problem] = result.problems;
  expect(problem!.path).toBe(problemPath);
  expect(problem!.message).toContain(message);
  const found = (text.split('\n')[problem!.line - 1] ?? '').slice(problem!.col - 1);
  expect(found.startsWith(at), `text at ${problem!.line}:${problem!.col} is "${found}"`).toBe(true);
}

const SERIAL_LINK = { transport: 'serial', path: '/dev/ttyUSB0', station_id: 3 };

describe('validateCell', () => {
  it('finds nothing wrong with the demo cell', () => {
    const parsed = cellSchema.parse(parseDocument(demoText).toJS());
    expect(validateCell(parsed)).toEqual([]);
  });

  it('suggests near misses only', () => {
    expect(editDistance('serail', 'serial')).toBe(1);
    expect(suggest('feed_s', ['feed_ms', 'release_pulse_ms'])).toBe('feed_ms');
    expect(suggest('estop', ['estop_ok', 'guard_closed'])).toBe('estop_ok');
    expect(suggest('lamp', ['estop_ok', 'guard_closed'])).toBeUndefined();
    expect(suggest('feedMs', ['feed_ms'])).toBe('feed_ms');
  });
});

describe('links and addresses', () => {
  it('rejects a device naming an unknown link', () => {
    expectOnly(demoWith((d) => d.setIn(['devices', 'arm', 'link'], 'ros')), 'devices.arm.link', 'unknown link "ros" (defined: sim)', 'ros');
  });

  it('rejects a channel naming an unknown link', () => {
    const text = demoWith((d) => d.setIn(['devices', 'arm', 'gripper', 'vacuum_ok', 'link'], 'board'));
    expectOnly(text, 'devices.arm.gripper.vacuum_ok.link', 'unknown link "board"', 'board');
  });

  it('rejects a topic on a channel that is not on a ros2 link', () => {
    const text = demoWith((d) => d.setIn(['devices', 'safety_io', 'inputs', 'guard_closed', 'topic'], '/guard'));
    expectOnly(text, 'devices.safety_io.inputs.guard_closed.topic', 'a topic needs a ros2 link; link "sim" is sim', '/guard');
  });

  it('rejects a channel on a serial link without a pin', () => {
    const text = demoWith((d) => {
      d.setIn(['links', 'board'], d.createNode(SERIAL_LINK));
      d.setIn(['devices', 'feeder', 'link'], 'board');
      d.setIn(['devices', 'feeder', 'release', 'pin'], 4);
    });
    expectOnly(text, 'devices.feeder.part_at_pick', 'channel on serial link "board" needs a pin', 'part_at_pick:');
  });

  it('rejects a channel on a firmata link without a pin, inherited from the conveyor axis', () => {
    const text = demoWith((d) => {
      d.setIn(['links', 'uno'], d.createNode({ transport: 'firmata', path: '/dev/ttyACM0' }));
      d.setIn(['devices', 'conveyor', 'axis', 'link'], 'uno');
      d.setIn(['devices', 'conveyor', 'axis', 'pin'], 2);
    });
    expectOnly(text, 'devices.conveyor.axis.home_sensor', 'channel on firmata link "uno" needs a pin', 'home_sensor:');
  });

  it('rejects a conveyor axis on a serial link without its STEP pin', () => {
    const text = demoWith((d) => {
      d.setIn(['links', 'board'], d.createNode(SERIAL_LINK));
      d.setIn(['devices', 'conveyor', 'axis', 'link'], 'board');
      d.setIn(['devices', 'conveyor', 'axis', 'home_sensor', 'pin'], 5);
    });
    expectOnly(text, 'devices.conveyor.axis', 'the axis is on serial link "board" and needs a pin', 'axis:');
  });

  it('rejects a channel on a ros2 link without a topic', () => {
    const text = demoWith((d) => {
      d.setIn(['links', 'ros'], d.createNode({ transport: 'ros2' }));
      d.setIn(['devices', 'safety_io', 'outputs', 'lamp_red', 'link'], 'ros');
    });
    expectOnly(text, 'devices.safety_io.outputs.lamp_red', 'channel on ros2 link "ros" needs a topic', 'lamp_red:');
  });

  it('rejects a pin on a ros2 link', () => {
    const text = demoWith((d) => {
      d.setIn(['links', 'ros'], d.createNode({ transport: 'ros2' }));
      d.setIn(['devices', 'safety_io', 'outputs', 'lamp_red', 'link'], 'ros');
      d.setIn(['devices', 'safety_io', 'outputs', 'lamp_red', 'topic'], '/lamp/red');
      d.setIn(['devices', 'safety_io', 'outputs', 'lamp_red', 'pin'], 3);
    });
    expectOnly(text, 'devices.safety_io.outputs.lamp_red.pin', 'a pin needs a serial or firmata link; link "ros" is ros2', '3');
  });

  it('rejects an analog threshold on an input that is not on a firmata link', () => {
    const text = demoWith((d) => {
      d.setIn(['links', 'board'], d.createNode(SERIAL_LINK));
      d.setIn(['devices', 'feeder', 'link'], 'board');
      d.setIn(['devices', 'feeder', 'release', 'pin'], 4);
      d.setIn(['devices', 'feeder', 'part_at_pick', 'pin'], 5);
      d.setIn(['devices', 'feeder', 'part_at_pick', 'analog_threshold'], 600);
    });
    expectOnly(text, 'devices.feeder.part_at_pick.analog_threshold', 'analog inputs are read on firmata links only; link "board" is serial', '600');
  });

  it('rejects an analog hysteresis without its threshold', () => {
    const text = demoWith((d) => d.setIn(['devices', 'safety_io', 'inputs', 'guard_closed', 'analog_hysteresis'], 40));
    expectOnly(text, 'devices.safety_io.inputs.guard_closed.analog_hysteresis', 'analog_hysteresis needs analog_threshold', '40');
  });

  it('rejects two channels sharing a pin on one board', () => {
    const text = demoWith((d) => {
      d.setIn(['links', 'board'], d.createNode(SERIAL_LINK));
      d.setIn(['devices', 'safety_io', 'link'], 'board');
      d.setIn(['devices', 'safety_io', 'inputs', 'estop_ok', 'pin'], 2);
      d.setIn(['devices', 'safety_io', 'inputs', 'guard_closed', 'pin'], 3);
      d.setIn(['devices', 'safety_io', 'outputs', 'lamp_red', 'pin'], 4);
      d.setIn(['devices', 'safety_io', 'outputs', 'lamp_green', 'pin'], 2);
    });
    expectOnly(text, 'devices.safety_io.outputs.lamp_green.pin', 'pin 2 on link "board" is already used by devices.safety_io.inputs.estop_ok', '2');
  });

  it('rejects a conveyor STEP pin shared with a sensor', () => {
    const text = demoWith((d) => {
      d.setIn(['links', 'board'], d.createNode(SERIAL_LINK));
      d.setIn(['devices', 'conveyor', 'link'], 'board');
      d.setIn(['devices', 'conveyor', 'axis', 'pin'], 6);
      d.setIn(['devices', 'conveyor', 'axis', 'home_sensor', 'pin'], 7);
      d.setIn(['devices', 'conveyor', 'part_at_exit', 'pin'], 6);
    });
    expectOnly(text, 'devices.conveyor.axis.pin', 'pin 6 on link "board" is already used by devices.conveyor.part_at_exit', '6');
  });

  it('rejects a safe_ok_topic e-stop source in a cell without a ros2 link', () => {
    const text = demoWith((d) => d.addIn(['safety', 'estop_sources'], d.createNode({ kind: 'safe_ok_topic', name: 'plc', topic: '/safe_ok', timeout_ms: 200 })));
    expectOnly(text, 'safety.estop_sources[1].kind', 'a safe_ok_topic e-stop source needs a ros2 link, and this cell has none', 'safe_ok_topic');
  });
});

describe('devices', () => {
  it('rejects a second feeder', () => {
    const text = demoWith((d) => d.setIn(['devices', 'feeder_2'], d.getIn(['devices', 'feeder'])));
    expectOnly(text, 'devices.feeder_2.kind', 'only one feeder per cell for now', 'feeder');
  });

  it('rejects a cell without a conveyor', () => {
    const text = demoWith((d) => {
      d.deleteIn(['devices', 'conveyor']);
      d.setIn(['safety', 'interlocks'], d.createNode([{ name: 'guard', forbid: { device: '*' }, when: { input: 'safety_io.guard_closed', is: false } }]));
    });
    expectOnly(text, 'devices', 'the cell needs one conveyor device', 'devices:');
  });

  it('rejects duplicate joint names', () => {
    expectOnly(demoWith((d) => d.setIn(['devices', 'arm', 'joints', 3, 'name'], 'joint_3')), 'devices.arm.joints[3].name', 'duplicate joint name "joint_3" (also joints[2])', 'joint_3');
  });

  it('rejects a joint whose min is not below its max', () => {
    const text = demoWith((d) => d.setIn(['devices', 'arm', 'joints', 3, 'min_rad'], 3.14));
    expectOnly(text, 'devices.arm.joints[3].max_rad', 'joint_4: min_rad (3.14) must be less than max_rad (3.14)', '3.14');
  });

  it('rejects a home pose that is not defined', () => {
    expectOnly(demoWith((d) => d.setIn(['devices', 'arm', 'home_pose'], 'hom')), 'devices.arm.home_pose', 'home pose "hom" is not one of the poses (did you mean "home"?)', 'hom');
  });

  it('rejects a default home pose when no pose is called home', () => {
    const text = demoWith((d) => {
      d.deleteIn(['devices', 'arm', 'home_pose']);
      d.setIn(['devices', 'arm', 'poses', 'rest'], d.getIn(['devices', 'arm', 'poses', 'home']));
      d.deleteIn(['devices', 'arm', 'poses', 'home']);
    });
    expectOnly(text, 'devices.arm.home_pose', 'home pose "home" is not one of the poses', 'arm:');
  });

  it('rejects a pose with too many values', () => {
    const text = demoWith((d) => d.addIn(['devices', 'arm', 'poses', 'place'], 0));
    expectOnly(text, 'devices.arm.poses.place', 'pose "place" has 7 values, but arm has 6 joints', 'place:');
  });

  it('rejects an exit sensor upstream of the place position', () => {
    expectOnly(demoWith((d) => d.setIn(['devices', 'conveyor', 'exit_position_mm'], 100)), 'devices.conveyor.exit_position_mm', 'must be downstream of place_position_mm (100 mm)', '100');
  });

  it('rejects an exit sensor beyond the end of the belt', () => {
    expectOnly(demoWith((d) => d.setIn(['devices', 'conveyor', 'length_mm'], 350)), 'devices.conveyor.exit_position_mm', 'lies beyond the end of the belt (length_mm 350 mm)', '400');
  });

  it('accepts fractional geometry that is a whole number of indexes', () => {
    const text = demoWith((d) => {
      d.setIn(['devices', 'conveyor', 'index_mm'], 0.1);
      d.setIn(['devices', 'conveyor', 'place_position_mm'], 0.2);
      d.setIn(['devices', 'conveyor', 'exit_position_mm'], 0.5);
    });
    expect(parseCell(text, 'cell.yaml').ok).toBe(true);
  });
});

describe('safety names and references', () => {
  it('rejects duplicate e-stop source names', () => {
    const text = demoWith((d) => d.addIn(['safety', 'estop_sources'], d.createNode({ kind: 'input', name: 'estop_button', input: 'safety_io.guard_closed' })));
    expectOnly(text, 'safety.estop_sources[1].name', 'duplicate e-stop source name "estop_button" (also safety.estop_sources[0])', 'estop_button');
  });

  it('rejects duplicate protective stop names', () => {
    const text = demoWith((d) => d.addIn(['safety', 'protective_stops'], d.createNode({ name: 'guard_door', input: 'safety_io.estop_ok', category: 1, end_state: 'stopped' })));
    expectOnly(text, 'safety.protective_stops[1].name', 'duplicate protective stop name "guard_door"', 'guard_door');
  });

  it('rejects a name used both as an e-stop source and a protective stop', () => {
    const text = demoWith((d) => d.setIn(['safety', 'protective_stops', 0, 'name'], 'estop_button'));
    expectOnly(text, 'safety.protective_stops[0].name', '"estop_button" is both an e-stop source (safety.estop_sources[0]) and a protective stop', 'estop_button');
  });

  it('rejects a protective stop reading an unknown device', () => {
    const text = demoWith((d) => d.setIn(['safety', 'protective_stops', 0, 'input'], 'safety.guard_closed'));
    expectOnly(text, 'safety.protective_stops[0].input', 'unknown device "safety" (did you mean "safety_io"?) in "safety.guard_closed"', 'safety.guard_closed');
  });

  it('accepts the input channels of every device kind in a condition', () => {
    const text = demoWith((d) =>
      d.setIn(['safety', 'interlocks', 0, 'when'], d.createNode({ all_of: [{ input: 'arm.vacuum_ok', is: true }, { input: 'conveyor.home', is: true }, { input: 'conveyor.part_at_exit', is: false }] })),
    );
    expect(parseCell(text, 'cell.yaml').ok).toBe(true);
  });

  it('rejects a condition reading an output of a device', () => {
    const text = demoWith((d) => d.setIn(['safety', 'interlocks', 2, 'when', 'input'], 'feeder.release'));
    expectOnly(text, 'safety.interlocks[2].when.input', '"feeder.release" is an output; an interlock condition needs an input (inputs of feeder: part_at_pick)', 'feeder.release');
  });

  it('rejects a condition naming an unknown zone', () => {
    expectOnly(demoWith((d) => d.setIn(['safety', 'interlocks', 0, 'when', 'zone'], 'belt_zone')), 'safety.interlocks[0].when.zone', 'unknown zone "belt_zone" (defined: pick_zone, conveyor_zone)', 'belt_zone');
  });

  it('rejects a moving condition naming an unknown device, inside all_of', () => {
    const text = demoWith((d) => d.setIn(['safety', 'interlocks', 1, 'when'], d.createNode({ all_of: [{ zone: 'pick_zone' }, { moving: 'belt' }] })));
    expectOnly(text, 'safety.interlocks[1].when.all_of[1].moving', 'unknown device "belt"', 'belt');
  });

  it('rejects a moving condition on an io device', () => {
    expectOnly(demoWith((d) => d.setIn(['safety', 'interlocks', 1, 'when', 'moving'], 'safety_io')), 'safety.interlocks[1].when.moving', '"safety_io" is an io device and never moves', 'safety_io');
  });
});

describe('zones', () => {
  it('rejects a zone of an unknown device', () => {
    expectOnly(demoWith((d) => d.setIn(['safety', 'zones', 'pick_zone', 'device'], 'robot')), 'safety.zones.pick_zone.device', 'unknown device "robot"', 'robot');
  });

  it('rejects a zone of a device that is not an arm', () => {
    expectOnly(demoWith((d) => d.setIn(['safety', 'zones', 'pick_zone', 'device'], 'conveyor')), 'safety.zones.pick_zone.device', 'must belong to an arm; "conveyor" is a conveyor', 'conveyor');
  });

  it('rejects a zone with neither joints nor poses', () => {
    expectOnly(demoWith((d) => d.deleteIn(['safety', 'zones', 'pick_zone', 'poses'])), 'safety.zones.pick_zone', 'zone "pick_zone" needs joints or poses', 'pick_zone:');
  });

  it('rejects a zone naming an unknown joint, at the joint name', () => {
    const text = demoWith((d) => d.setIn(['safety', 'zones', 'pick_zone', 'joints'], d.createNode({ joint_7: [0, 1] })));
    expectOnly(text, 'safety.zones.pick_zone.joints.joint_7', 'arm has no joint "joint_7" (did you mean "joint_1"?)', 'joint_7');
  });

  it('rejects a zone joint range whose min is not below its max', () => {
    const text = demoWith((d) => d.setIn(['safety', 'zones', 'pick_zone', 'joints'], d.createNode({ joint_1: [1, 0.5] })));
    expectOnly(text, 'safety.zones.pick_zone.joints.joint_1', 'joint range [1, 0.5] must be [min, max] with min < max', 'joint_1:');
  });
});

describe('interlocks', () => {
  it('rejects into_zone naming an unknown zone', () => {
    expectOnly(demoWith((d) => d.setIn(['safety', 'interlocks', 1, 'forbid', 'into_zone'], 'conveyor_zon')), 'safety.interlocks[1].forbid.into_zone', 'unknown zone "conveyor_zon" (did you mean "conveyor_zone"?)', 'conveyor_zon');
  });

  it('rejects into_zone of a zone belonging to another device', () => {
    const text = demoWith((d) => {
      d.setIn(['safety', 'interlocks', 0, 'forbid', 'into_zone'], 'conveyor_zone');
    });
    expectOnly(text, 'safety.interlocks[0].forbid.into_zone', 'zone "conveyor_zone" belongs to arm, not conveyor', 'conveyor_zone');
  });

  it('rejects into_zone with forbid.device "*"', () => {
    expectOnly(demoWith((d) => d.setIn(['safety', 'interlocks', 5, 'forbid', 'into_zone'], 'pick_zone')), 'safety.interlocks[5].forbid.into_zone', 'needs forbid.device to be the zone\'s device "arm", not "*"', 'pick_zone');
  });

  it('rejects a command the device does not take', () => {
    expectOnly(demoWith((d) => d.setIn(['safety', 'interlocks', 0, 'forbid', 'command'], 'move')), 'safety.interlocks[0].forbid.command', 'command "move" does not apply to conveyor: a conveyor takes index, home, any', 'move');
  });

  it('accepts each command on its own device kind and any command for "*"', () => {
    const text = demoWith((d) => {
      d.setIn(['safety', 'interlocks', 0, 'forbid', 'command'], 'home');
      d.setIn(['safety', 'interlocks', 1, 'forbid', 'command'], 'move');
      d.setIn(['safety', 'interlocks', 5, 'forbid', 'command'], 'index');
    });
    expect(parseCell(text, 'cell.yaml').ok).toBe(true);
  });
});
