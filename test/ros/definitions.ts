/**
 * The official ROS 2 (Jazzy) message definitions, as a well-kept library carries them
 * (@foxglove/rosmsg-msgs-common), plus the two interfaces it lacks, written out from their
 * official sources (std_srvs/srv/Trigger, control_msgs/action/FollowJointTrajectory and its
 * tolerance messages) and parsed with @foxglove/rosmsg. With them: a strict shape check and a CDR
 * round trip (@foxglove/rosmsg2-serialization) for every message the project builds.
 */
import type { MessageDefinition } from '@foxglove/message-definition';
import { parse } from '@foxglove/rosmsg';
import { ros2jazzy } from '@foxglove/rosmsg-msgs-common';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';

/** std_srvs/srv/Trigger (official .srv): an empty request; this is its response. */
const TRIGGER_RESPONSE = `
bool success   # indicate successful run of triggered service
string message # informational, e.g. for error messages
`;

/** control_msgs/msg/JointTolerance (official .msg). */
const JOINT_TOLERANCE = `
string name
float64 position
float64 velocity
float64 acceleration
`;

/** control_msgs/msg/JointComponentTolerance (official .msg). */
const JOINT_COMPONENT_TOLERANCE = `
uint16 X_AXIS=1
uint16 Y_AXIS=2
uint16 Z_AXIS=3
uint16 TRANSLATION=4
uint16 ROTATION=5
string joint_name
uint16 component
float64 position
float64 velocity
float64 acceleration
`;

/** control_msgs/action/FollowJointTrajectory (official .action): the goal part. */
const FJT_GOAL = `
trajectory_msgs/JointTrajectory trajectory
trajectory_msgs/MultiDOFJointTrajectory multi_dof_trajectory
control_msgs/JointTolerance[] path_tolerance
control_msgs/JointComponentTolerance[] component_path_tolerance
control_msgs/JointTolerance[] goal_tolerance
control_msgs/JointComponentTolerance[] component_goal_tolerance
builtin_interfaces/Duration goal_time_tolerance
`;

/** control_msgs/action/FollowJointTrajectory (official .action): the result part. */
const FJT_RESULT = `
int32 error_code
int32 SUCCESSFUL = 0
int32 INVALID_GOAL = -1
int32 INVALID_JOINTS = -2
int32 OLD_HEADER_TIMESTAMP = -3
int32 PATH_TOLERANCE_VIOLATED = -4
int32 GOAL_TOLERANCE_VIOLATED = -5
string error_string
`;

function named(name: string, text: string): MessageDefinition {
  const [root] = parse(text, { ros2: true, skipTypeFixup: true });
  return { ...root!, name };
}

const extra: Record<string, MessageDefinition> = {
  'std_srvs/Trigger_Response': named('std_srvs/Trigger_Response', TRIGGER_RESPONSE),
  'control_msgs/JointTolerance': named('control_msgs/JointTolerance', JOINT_TOLERANCE),
  'control_msgs/JointComponentTolerance': named('control_msgs/JointComponentTolerance', JOINT_COMPONENT_TOLERANCE),
  'control_msgs/FollowJointTrajectory_Goal': named('control_msgs/FollowJointTrajectory_Goal', FJT_GOAL),
  'control_msgs/FollowJointTrajectory_Result': named('control_msgs/FollowJointTrajectory_Result', FJT_RESULT),
};

const all: Record<string, MessageDefinition> = { ...(ros2jazzy as Record<string, MessageDefinition>), ...extra };

/** `std_msgs/msg/String` and `std_srvs/srv/Trigger_Response` as the definitions name them. */
export function definitionName(rosType: string): string {
  return rosType.replace(/\/(msg|srv|action)\//, '/');
}

function definitionsFor(rosType: string): MessageDefinition[] {
  const name = definitionName(rosType);
  const root = all[name];
  if (!root) throw new Error(`no official definition loaded for ${rosType}`);
  return [root, ...Object.values(all).filter((d) => d !== root)];
}

export function reader(rosType: string): MessageReader {
  return new MessageReader(definitionsFor(rosType));
}

export function writer(rosType: string): MessageWriter {
  return new MessageWriter(definitionsFor(rosType));
}

/** Typed arrays as plain arrays, bigints as numbers: the shape a JSON fixture has. */
export function plain(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'bigint') return Number(value);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

const INTEGER_RANGES: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  byte: [0, 255],
  char: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * Every problem with `message` as a `rosType`: a missing field, a field the definition does not
 * have, a wrong primitive (a fractional or out-of-range integer, such as `{ sec: 0.5 }`), a
 * non-array where the definition has a sequence. Empty when it conforms exactly.
 */
export function shapeProblems(message: unknown, rosType: string): string[] {
  const problems: string[] = [];
  check(message, definitionName(rosType), rosType, problems);
  return problems;
}

function check(value: unknown, type: string, at: string, problems: string[]): void {
  if (type === 'time' || type === 'duration') type = type === 'time' ? 'builtin_interfaces/Time' : 'builtin_interfaces/Duration';
  const definition = all[type];
  if (definition) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      problems.push(`${at}: expected a ${type} object, got ${JSON.stringify(value)}`);
      return;
    }
    const fields = definition.definitions.filter((f) => !f.isConstant);
    const names = new Set(fields.map((f) => f.name));
    for (const key of Object.keys(value)) if (!names.has(key)) problems.push(`${at}.${key}: not a field of ${type}`);
    for (const field of fields) {
      const v = (value as Record<string, unknown>)[field.name];
      if (v === undefined) {
        problems.push(`${at}.${field.name}: missing (${field.type}${field.isArray ? '[]' : ''})`);
        continue;
      }
      if (field.isArray) {
        if (!Array.isArray(v)) {
          problems.push(`${at}.${field.name}: expected an array of ${field.type}, got ${JSON.stringify(v)}`);
          continue;
        }
        if (field.arrayLength !== undefined && v.length !== field.arrayLength) problems.push(`${at}.${field.name}: expected ${field.arrayLength} elements`);
        v.forEach((item, i) => check(item, field.type, `${at}.${field.name}[${i}]`, problems));
      } else {
        check(v, field.type, `${at}.${field.name}`, problems);
      }
    }
    return;
  }
  const range = INTEGER_RANGES[type];
  if (range) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) problems.push(`${at}: expected ${type}, got ${JSON.stringify(value)}`);
  } else if (type === 'float32' || type === 'float64') {
    if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${at}: expected ${type}, got ${JSON.stringify(value)}`);
  } else if (type === 'bool') {
    if (typeof value !== 'boolean') problems.push(`${at}: expected bool, got ${JSON.stringify(value)}`);
  } else if (type === 'string' || type === 'wstring') {
    if (typeof value !== 'string') problems.push(`${at}: expected string, got ${JSON.stringify(value)}`);
  } else {
    problems.push(`${at}: unknown type ${type}`);
  }
}

/** Serialize with the official definition, then read back: the result (as plain data). */
export function roundTrip(message: unknown, rosType: string): unknown {
  const bytes = writer(rosType).writeMessage(message);
  return plain(reader(rosType).readMessage(bytes));
}
