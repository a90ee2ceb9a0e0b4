/**
 * What workcell publishes to the outside world (the Foxglove WebSocket bridge and the MCAP
 * recorder), defined once: topic names, schema names, the ROS 2 message definitions (ros2msg) and
 * the JSON Schemas (jsonschema) of every channel.
 *
 * The operator interface keeps its ROS 2 types (std_msgs/msg/String, diagnostic_msgs/msg/
 * DiagnosticArray). Telemetry that has no ROS type (journal records, device commands and
 * feedback) travels as JSON with a JSON Schema under a `workcell/...` schema name.
 */
import type { OperatorTopics } from '../interface/topics.js';

/** ros2msg text of builtin_interfaces/Time, std_msgs/Header and the types the interface uses. */
const SEPARATOR = '================================================================================';
const TIME_MSG = 'int32 sec\nuint32 nanosec';
const HEADER_MSG = 'builtin_interfaces/Time stamp\nstring frame_id';

/**
 * ROS 2 message definitions in the concatenated form ros2 bag and foxglove_bridge use: the type's
 * own fields, then one `MSG: pkg/Type` section per dependency.
 */
export const ROS2MSG_DEFINITIONS = {
  'std_msgs/msg/String': 'string data',
  'std_msgs/msg/Bool': 'bool data',
  'diagnostic_msgs/msg/DiagnosticArray': [
    'std_msgs/Header header',
    'DiagnosticStatus[] status',
    SEPARATOR,
    'MSG: std_msgs/Header',
    HEADER_MSG,
    SEPARATOR,
    'MSG: builtin_interfaces/Time',
    TIME_MSG,
    SEPARATOR,
    'MSG: diagnostic_msgs/DiagnosticStatus',
    'byte OK=0\nbyte WARN=1\nbyte ERROR=2\nbyte STALE=3',
    'byte level\nstring name\nstring message\nstring hardware_id\nKeyValue[] values',
    SEPARATOR,
    'MSG: diagnostic_msgs/KeyValue',
    'string key\nstring value',
  ].join('\n'),
  'sensor_msgs/msg/JointState': [
    'std_msgs/Header header',
    'string[] name\nfloat64[] position\nfloat64[] velocity\nfloat64[] effort',
    SEPARATOR,
    'MSG: std_msgs/Header',
    HEADER_MSG,
    SEPARATOR,
    'MSG: builtin_interfaces/Time',
    TIME_MSG,
  ].join('\n'),
} as const;
export type Ros2TypeName = keyof typeof ROS2MSG_DEFINITIONS;

const TIME_SCHEMA = {
  type: 'object',
  properties: { sec: { type: 'integer' }, nanosec: { type: 'integer' } },
  required: ['sec', 'nanosec'],
};

/** JSON Schemas of the same types, for JSON-encoded channels. */
const JSON_SCHEMAS: Record<string, object> = {
  'std_msgs/msg/String': { type: 'object', properties: { data: { type: 'string' } }, required: ['data'] },
  'diagnostic_msgs/msg/DiagnosticArray': {
    type: 'object',
    properties: {
      header: { type: 'object', properties: { stamp: TIME_SCHEMA, frame_id: { type: 'string' } } },
      status: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            level: { type: 'integer', description: '0 OK, 1 WARN, 2 ERROR, 3 STALE' },
            name: { type: 'string' },
            message: { type: 'string' },
            hardware_id: { type: 'string' },
            values: {
              type: 'array',
              items: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'string' } } },
            },
          },
        },
      },
    },
  },
  'sensor_msgs/msg/JointState': {
    type: 'object',
    properties: {
      header: { type: 'object', properties: { stamp: TIME_SCHEMA, frame_id: { type: 'string' } } },
      name: { type: 'array', items: { type: 'string' } },
      position: { type: 'array', items: { type: 'number' } },
      velocity: { type: 'array', items: { type: 'number' } },
      effort: { type: 'array', items: { type: 'number' } },
    },
  },
  'workcell/JournalRecord': {
    type: 'object',
    description: 'One journal record (docs/journal.md): seq, wall, t (cell-clock ms), kind, and the fields of its kind.',
    properties: { seq: { type: 'integer' }, wall: { type: 'string' }, t: { type: 'number' }, kind: { type: 'string' } },
    required: ['seq', 'wall', 't', 'kind'],
    additionalProperties: true,
  },
  'workcell/DeviceCommand': {
    type: 'object',
    description: 'A command that left the controller for a device (src/devices/types.ts DeviceCommand), with the step it belongs to.',
    properties: {
      device: { type: 'string' },
      command: { type: 'object', properties: { type: { type: 'string' } }, required: ['type'], additionalProperties: true },
      step: { type: 'string' },
      partId: { type: 'string' },
    },
    required: ['device', 'command'],
  },
  'workcell/DeviceFeedback': {
    type: 'object',
    description: 'Feedback from a device (src/devices/types.ts DeviceFeedback): reading, motionDone, heartbeat, reset or refused.',
    properties: { device: { type: 'string' }, feedback: { type: 'object', properties: { type: { type: 'string' } }, required: ['type'], additionalProperties: true } },
    required: ['device', 'feedback'],
  },
};

export interface ChannelDef {
  topic: string;
  schemaName: string;
  /**
   * True: the topic has a ROS 2 type of its own (recorded as that type). False: workcell's own
   * JSON (journal, device traffic), recorded as std_msgs/msg/String holding the JSON.
   */
  ros2: boolean;
  /** Latched: a late subscriber gets the last message at once (the Foxglove bridge resends it). */
  latched: boolean;
}

export function jsonSchemaOf(schemaName: string): string {
  const schema = JSON_SCHEMAS[schemaName];
  if (!schema) throw new Error(`no JSON Schema for ${schemaName}`);
  return JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', title: schemaName, ...schema });
}

export function ros2msgOf(schemaName: string): string | undefined {
  return (ROS2MSG_DEFINITIONS as Record<string, string>)[schemaName];
}

/** Topic of the journal, of a device's commands and of its feedback, under the cell's namespace. */
export function telemetryTopics(namespace: string) {
  return {
    journal: `${namespace}/journal`,
    jointStates: `${namespace}/joint_states`,
    deviceCommand: (device: string) => `${namespace}/devices/${device}/command`,
    deviceFeedback: (device: string) => `${namespace}/devices/${device}/feedback`,
  };
}

/** Every channel a run publishes, in a stable order. */
export function cellChannels(topics: OperatorTopics, namespace: string, devices: readonly string[], hasArm: boolean): ChannelDef[] {
  const t = telemetryTopics(namespace);
  return [
    { topic: topics.state.name, schemaName: topics.state.type, ros2: true, latched: true },
    { topic: topics.events.name, schemaName: topics.events.type, ros2: true, latched: false },
    { topic: topics.command.name, schemaName: topics.command.type, ros2: true, latched: false },
    { topic: topics.diagnostics.name, schemaName: topics.diagnostics.type, ros2: true, latched: false },
    ...(hasArm ? [{ topic: t.jointStates, schemaName: 'sensor_msgs/msg/JointState', ros2: true, latched: false }] : []),
    { topic: t.journal, schemaName: 'workcell/JournalRecord', ros2: false, latched: false },
    ...devices.flatMap((d) => [
      { topic: t.deviceCommand(d), schemaName: 'workcell/DeviceCommand', ros2: false, latched: false },
      { topic: t.deviceFeedback(d), schemaName: 'workcell/DeviceFeedback', ros2: false, latched: false },
    ]),
  ];
}
