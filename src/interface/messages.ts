/**
 * ROS 2 message shapes used by the operator interface, field for field as the ROS 2 types, so the
 * ROS adapter and the WebSocket bridge carry them unchanged. Field names are the ROS ones
 * (snake_case), because these objects are what goes on the wire.
 */

/** builtin_interfaces/msg/Time */
export interface RosTime {
  sec: number;
  nanosec: number;
}

/** std_msgs/msg/Header */
export interface Header {
  stamp: RosTime;
  frame_id: string;
}

/** std_msgs/msg/String */
export interface StringMsg {
  data: string;
}

/** std_msgs/msg/Bool */
export interface BoolMsg {
  data: boolean;
}

/** diagnostic_msgs/msg/KeyValue */
export interface KeyValue {
  key: string;
  value: string;
}

/** diagnostic_msgs/msg/DiagnosticStatus levels (a `byte` on the wire). */
export const DiagnosticLevel = { OK: 0, WARN: 1, ERROR: 2, STALE: 3 } as const;
export type DiagnosticLevel = (typeof DiagnosticLevel)[keyof typeof DiagnosticLevel];

/** diagnostic_msgs/msg/DiagnosticStatus */
export interface DiagnosticStatus {
  level: DiagnosticLevel;
  name: string;
  message: string;
  hardware_id: string;
  values: KeyValue[];
}

/** diagnostic_msgs/msg/DiagnosticArray */
export interface DiagnosticArray {
  header: Header;
  status: DiagnosticStatus[];
}

/** Map from ROS type name to its TypeScript shape. */
export interface RosMessageTypes {
  'std_msgs/msg/String': StringMsg;
  'std_msgs/msg/Bool': BoolMsg;
  'diagnostic_msgs/msg/DiagnosticArray': DiagnosticArray;
}
export type RosTypeName = keyof RosMessageTypes;

/** A time in milliseconds since the run's epoch as a builtin_interfaces/Time (whole seconds + nanoseconds). */
export function toRosTime(ms: number): RosTime {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot express ${ms} ms as a builtin_interfaces/Time`);
  let sec = Math.floor(ms / 1000);
  let nanosec = Math.round((ms - sec * 1000) * 1e6);
  // Rounding can carry into the next second (1999.9999999 ms); nanosec must stay below 1e9.
  if (nanosec >= 1e9) {
    sec += 1;
    nanosec -= 1e9;
  }
  return { sec, nanosec };
}
