/**
 * The page's decoder against real ROS 2 serialized messages (../shared/fixtures/ros2-cdr, made by
 * rmw_serialize on ROS 2 Jazzy with Cyclone DDS), as foxglove_bridge would deliver them: CDR with
 * ros2msg schemas. And the JSON our own bridge sends.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROS2MSG_DEFINITIONS } from '../../src/bridge/channels.js';
import { decoderFor, encodeCommand } from '../../src/hmi/page/decode.js';
import { HmiModel } from '../../src/hmi/page/model.js';
import { ros2Codec } from '../../src/bridge/cdr.js';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const FIXTURES = path.resolve(ROOT, '..', 'shared', 'fixtures', 'ros2-cdr');
if (!existsSync(FIXTURES)) {
  throw new Error(`ROS 2 CDR fixtures not found at ${FIXTURES}: CI keeps them beside the clone (../shared/fixtures/ros2-cdr)`);
}

const SEP = '================================================================================';
/** Definitions as foxglove_bridge advertises them, for the fixture types workcell itself does not publish. */
const EXTRA_DEFINITIONS: Record<string, string> = {
  'rosgraph_msgs/msg/Clock': `builtin_interfaces/Time clock\n${SEP}\nMSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec`,
  'std_srvs/srv/Trigger_Response': 'bool success\nstring message',
  'trajectory_msgs/msg/JointTrajectory': [
    'std_msgs/Header header\nstring[] joint_names\nJointTrajectoryPoint[] points',
    SEP,
    'MSG: std_msgs/Header\nbuiltin_interfaces/Time stamp\nstring frame_id',
    SEP,
    'MSG: builtin_interfaces/Time\nint32 sec\nuint32 nanosec',
    SEP,
    'MSG: trajectory_msgs/JointTrajectoryPoint\nfloat64[] positions\nfloat64[] velocities\nfloat64[] accelerations\nfloat64[] effort\nbuiltin_interfaces/Duration time_from_start',
    SEP,
    'MSG: builtin_interfaces/Duration\nint32 sec\nuint32 nanosec',
  ].join('\n'),
};
const definition = (type: string) => (ROS2MSG_DEFINITIONS as Record<string, string>)[type] ?? EXTRA_DEFINITIONS[type];

/** Typed arrays (float64[] sequences) as plain arrays, to compare with the JSON fixtures. */
function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.cdr'));

describe('HMI decoder on real ROS 2 CDR', () => {
  it('has the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  for (const file of fixtures) {
    it(`decodes ${file} to its JSON sibling, also as captured on the wire`, () => {
      const { type, note: _note, ...expected } = JSON.parse(readFileSync(path.join(FIXTURES, file.replace(/\.cdr$/, '.json')), 'utf8')) as Record<string, unknown> & { type: string };
      const def = definition(type);
      expect(def, `a ros2msg definition for ${type}`).toBeDefined();
      const decode = decoderFor({ topic: '/t', encoding: 'cdr', schemaName: type, schema: def!, schemaEncoding: 'ros2msg' });
      const bytes = readFileSync(path.join(FIXTURES, file));
      expect(plain(decode(bytes))).toEqual(expected);
      const wire = path.join(FIXTURES, 'wire', file);
      // rmw_cyclonedds pads samples to 4 bytes; the padding is ignored.
      if (existsSync(wire)) expect(plain(decode(readFileSync(wire)))).toEqual(expected);
    });
  }

  it('encodes the types workcell records to the same bytes ROS 2 does (the MCAP recorder uses these definitions)', () => {
    for (const [file, type] of [
      ['std_msgs-String-start.cdr', 'std_msgs/msg/String'],
      ['std_msgs-Bool-true.cdr', 'std_msgs/msg/Bool'],
      ['diagnostic_msgs-DiagnosticArray.cdr', 'diagnostic_msgs/msg/DiagnosticArray'],
      ['sensor_msgs-JointState.cdr', 'sensor_msgs/msg/JointState'],
    ] as const) {
      const { type: _t, note: _n, ...message } = JSON.parse(readFileSync(path.join(FIXTURES, file.replace(/\.cdr$/, '.json')), 'utf8')) as Record<string, unknown>;
      expect(Buffer.from(ros2Codec(type, ROS2MSG_DEFINITIONS[type]).encode(message)), file).toEqual(readFileSync(path.join(FIXTURES, file)));
    }
    // A command as the page publishes it to foxglove_bridge on ROS 2.
    expect(Buffer.from(encodeCommand('cdr', 'start'))).toEqual(readFileSync(path.join(FIXTURES, 'std_msgs-String-start.cdr')));
    expect(new TextDecoder().decode(encodeCommand('json', 'start'))).toBe('{"data":"start"}');
  });

  it('decodes the JSON our bridge sends, and refuses what it cannot decode with the topic named', () => {
    const json = decoderFor({ topic: '/workcell/state', encoding: 'json', schemaName: 'std_msgs/msg/String', schema: '{}', schemaEncoding: 'jsonschema' });
    expect(json(new TextEncoder().encode('{"data":"x"}'))).toEqual({ data: 'x' });
    expect(() => json(new TextEncoder().encode('{nope'))).toThrow(/\/workcell\/state: JSON message does not parse/);
    expect(() => decoderFor({ topic: '/a', encoding: 'protobuf', schemaName: 'x', schema: '' })).toThrow(/\/a: message encoding "protobuf" is not supported/);
    expect(() => decoderFor({ topic: '/b', encoding: 'cdr', schemaName: 'x', schema: '', schemaEncoding: 'ros1msg' })).toThrow(/\/b: CDR with a ros1msg schema/);
    const cdr = decoderFor({ topic: '/c', encoding: 'cdr', schemaName: 'std_msgs/msg/String', schema: 'string data', schemaEncoding: 'ros2msg' });
    expect(() => cdr(new Uint8Array([0, 1]))).toThrow(/4-byte encapsulation header/);
    expect(() => cdr(new Uint8Array([7, 7, 0, 0, 1, 0, 0, 0]))).toThrow(/unknown CDR encapsulation 0x0707/);
    expect(() => cdr(new Uint8Array([0, 1, 0, 0, 200, 0, 0, 0, 65]))).toThrow(/std_msgs\/msg\/String: CDR sample of 9 bytes does not decode/);
  });

  it('shows the cell state a ROS 2 system sends (fewer fields) without failing', () => {
    const decode = decoderFor({ topic: '/workcell/state', encoding: 'cdr', schemaName: 'std_msgs/msg/String', schema: 'string data', schemaEncoding: 'ros2msg' });
    const message = decode(readFileSync(path.join(FIXTURES, 'std_msgs-String-cell-state.cdr'))) as { data: string };
    const model = new HmiModel();
    model.onState(JSON.parse(message.data));
    expect(model.state?.state).toBe('Execute');
    expect(model.allowedCommands()).toEqual(['stop', 'hold', 'suspend', 'abort']);
    expect(model.oee().quality).toBe(1);
  });
});
