/**
 * ROS 2 message, service and action shapes used on the ROS path (beyond the operator interface's
 * own, in src/interface/messages.ts), field for field as the official definitions, snake_case,
 * because these objects are what goes on the wire. test/ros/definitions.test.ts checks every
 * message built here against the official definitions by serializing it to CDR.
 */
import type { BoolMsg, DiagnosticArray, Header, RosTime, StringMsg } from '../interface/messages.js';

export type { BoolMsg, DiagnosticArray, Header, RosTime, StringMsg };

/** builtin_interfaces/msg/Duration: whole seconds plus nanoseconds (a fractional `sec` is truncated by rcl). */
export interface RosDuration {
  sec: number;
  nanosec: number;
}

/** std_msgs/msg/Float64 */
export interface Float64Msg {
  data: number;
}

/** geometry_msgs/msg/Vector3 (also the shape of a Point) */
export interface Vector3 {
  x: number;
  y: number;
  z: number;
}

/**
 * nav_msgs/msg/Odometry. A conveyor belt's travel is `pose.pose.position.x` (m) and its speed
 * `twist.twist.linear.x` (m/s), as gz-sim's TrackController publishes them for a track.
 */
export interface OdometryMsg {
  header: Header;
  child_frame_id: string;
  pose: { pose: { position: Vector3; orientation: Vector3 & { w: number } }; covariance: number[] };
  twist: { twist: { linear: Vector3; angular: Vector3 }; covariance: number[] };
}

/** A belt odometry message: travel `xM` (m) and speed `speedMS` (m/s) along x. */
export function beltOdometry(stamp: RosTime, frameId: string, xM: number, speedMS: number): OdometryMsg {
  return {
    header: { stamp, frame_id: frameId },
    child_frame_id: '',
    pose: { pose: { position: { x: xM, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: new Array<number>(36).fill(0) },
    twist: { twist: { linear: { x: speedMS, y: 0, z: 0 }, angular: { x: 0, y: 0, z: 0 } }, covariance: new Array<number>(36).fill(0) },
  };
}

/** rosgraph_msgs/msg/Clock */
export interface ClockMsg {
  clock: RosTime;
}

/** sensor_msgs/msg/JointState */
export interface JointStateMsg {
  header: Header;
  name: string[];
  position: number[];
  velocity: number[];
  effort: number[];
}

/** trajectory_msgs/msg/JointTrajectoryPoint */
export interface JointTrajectoryPoint {
  positions: number[];
  velocities: number[];
  accelerations: number[];
  effort: number[];
  time_from_start: RosDuration;
}

/** trajectory_msgs/msg/JointTrajectory */
export interface JointTrajectoryMsg {
  header: Header;
  joint_names: string[];
  points: JointTrajectoryPoint[];
}

/** trajectory_msgs/msg/MultiDOFJointTrajectory; workcell always sends it empty. */
export interface MultiDofJointTrajectoryMsg {
  header: Header;
  joint_names: string[];
  points: never[];
}

/** control_msgs/msg/JointTolerance */
export interface JointTolerance {
  name: string;
  position: number;
  velocity: number;
  acceleration: number;
}

/** control_msgs/action/FollowJointTrajectory goal. Component tolerances are for multi-DOF joints: always empty here. */
export interface FollowJointTrajectoryGoal {
  trajectory: JointTrajectoryMsg;
  multi_dof_trajectory: MultiDofJointTrajectoryMsg;
  path_tolerance: JointTolerance[];
  component_path_tolerance: never[];
  goal_tolerance: JointTolerance[];
  component_goal_tolerance: never[];
  goal_time_tolerance: RosDuration;
}

/** control_msgs/action/FollowJointTrajectory result error codes. */
export const FollowJointTrajectoryError = {
  SUCCESSFUL: 0,
  INVALID_GOAL: -1,
  INVALID_JOINTS: -2,
  OLD_HEADER_TIMESTAMP: -3,
  PATH_TOLERANCE_VIOLATED: -4,
  GOAL_TOLERANCE_VIOLATED: -5,
} as const;

/** control_msgs/action/FollowJointTrajectory result */
export interface FollowJointTrajectoryResult {
  error_code: number;
  error_string: string;
}

/** action_msgs/msg/GoalStatus status values: how an action goal ended. */
export const GoalStatus = {
  UNKNOWN: 0,
  ACCEPTED: 1,
  EXECUTING: 2,
  CANCELING: 3,
  SUCCEEDED: 4,
  CANCELED: 5,
  ABORTED: 6,
} as const;
export type GoalStatusCode = (typeof GoalStatus)[keyof typeof GoalStatus];

/** std_srvs/srv/Trigger */
export type TriggerRequest = Record<string, never>;
export interface TriggerResponse {
  success: boolean;
  message: string;
}

/** Topic message types the ROS path uses, by ROS type name. */
export interface RosTopicTypes {
  'std_msgs/msg/String': StringMsg;
  'std_msgs/msg/Bool': BoolMsg;
  'std_msgs/msg/Float64': Float64Msg;
  'diagnostic_msgs/msg/DiagnosticArray': DiagnosticArray;
  'sensor_msgs/msg/JointState': JointStateMsg;
  'trajectory_msgs/msg/JointTrajectory': JointTrajectoryMsg;
  'rosgraph_msgs/msg/Clock': ClockMsg;
  'nav_msgs/msg/Odometry': OdometryMsg;
}
export type RosTopicType = keyof RosTopicTypes;

// ---------------------------------------------------------------------------------------------
// Builders

/**
 * A duration in milliseconds as builtin_interfaces/Duration: whole seconds plus nanoseconds.
 * `{ sec: 0.5 }` would be truncated to 0 by rcl and the arm would jump at full speed.
 */
export function durationFromMs(ms: number): RosDuration {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a duration must be a finite, non-negative number of ms (got ${ms})`);
  let sec = Math.floor(ms / 1000);
  let nanosec = Math.round((ms - sec * 1000) * 1e6);
  if (nanosec >= 1e9) {
    sec += 1;
    nanosec -= 1e9;
  }
  return { sec, nanosec };
}

/** builtin_interfaces Time or Duration in milliseconds. */
export function msFromRosTime(t: RosTime | RosDuration): number {
  return t.sec * 1000 + t.nanosec / 1e6;
}

export function emptyHeader(): Header {
  return { stamp: { sec: 0, nanosec: 0 }, frame_id: '' };
}

/**
 * One synchronised joint-space move as a FollowJointTrajectory goal: a single point at `target`
 * reached after `durationMs`, starting from the measured joints (the controller's trajectory
 * starts from the current state when the first point is in the future). A zero header stamp means
 * "start now".
 */
export function followJointTrajectoryGoal(jointNames: string[], target: number[], durationMs: number, goalToleranceRad: number): FollowJointTrajectoryGoal {
  return {
    trajectory: jointTrajectory(jointNames, target, durationMs),
    multi_dof_trajectory: { header: emptyHeader(), joint_names: [], points: [] },
    path_tolerance: [],
    component_path_tolerance: [],
    goal_tolerance: jointNames.map((name) => ({ name, position: goalToleranceRad, velocity: 0, acceleration: 0 })),
    component_goal_tolerance: [],
    goal_time_tolerance: durationFromMs(0),
  };
}

export function jointTrajectory(jointNames: string[], target: number[], durationMs: number): JointTrajectoryMsg {
  if (target.length !== jointNames.length) {
    throw new RangeError(`a trajectory point needs one position per joint: ${jointNames.length} joints, ${target.length} positions`);
  }
  return {
    header: emptyHeader(),
    joint_names: [...jointNames],
    points: [{ positions: [...target], velocities: [], accelerations: [], effort: [], time_from_start: durationFromMs(durationMs) }],
  };
}
