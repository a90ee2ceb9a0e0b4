/**
 * The transport-neutral ROS 2 node: what everything on the ROS path (the operator-interface
 * bridge, the ros2 device drivers, the simulated arm behind ROS, the /clock follower) is written
 * against. Two implementations: `InProcessRos` (in-process, DDS-like QoS matching; tests and the
 * embedded simulator) and `RclnodejsNode` (the thin rclnodejs adapter, the only importer of
 * rclnodejs).
 *
 * Everything is callback-based, never promise-based: in virtual time a promise would settle only
 * when the run loop yields, out of order with the clock's timers.
 */
import type {
  FollowJointTrajectoryGoal,
  FollowJointTrajectoryResult,
  GoalStatusCode,
  RosTopicType,
  RosTopicTypes,
  TriggerRequest,
  TriggerResponse,
} from './messages.js';

export type Reliability = 'reliable' | 'best_effort';
export type Durability = 'volatile' | 'transient_local';

export interface Qos {
  reliability: Reliability;
  durability: Durability;
  /** History depth (keep last N). */
  depth: number;
}

/** The QoS of every endpoint workcell creates, chosen once, for both ends. */
export const QOS = {
  /** Operator commands: every one matters. */
  command: { reliability: 'reliable', durability: 'volatile', depth: 10 },
  /** Cell state: latched for late joiners (an HMI started after the cell), and republished at 1 Hz. */
  state: { reliability: 'reliable', durability: 'transient_local', depth: 1 },
  events: { reliability: 'reliable', durability: 'volatile', depth: 100 },
  diagnostics: { reliability: 'reliable', durability: 'volatile', depth: 10 },
  /** Safe-OK: reliable, so a lost sample is not mistaken for silence on a healthy network. */
  safeOk: { reliability: 'reliable', durability: 'volatile', depth: 10 },
  /** /joint_states as robot_state_publisher and ros2_control publish it. */
  jointStates: { reliability: 'reliable', durability: 'volatile', depth: 10 },
  trajectory: { reliability: 'reliable', durability: 'volatile', depth: 1 },
  /** I/O topics (vacuum, sensors, speeds): a sensor's last value is what a late joiner needs. */
  io: { reliability: 'reliable', durability: 'transient_local', depth: 1 },
  /**
   * A speed command: never latched, so a late joiner (a restarted Gazebo bridge) never starts a
   * belt from a stale command; volatile matches both volatile and transient_local subscribers.
   */
  speedCommand: { reliability: 'reliable', durability: 'volatile', depth: 1 },
  /** Measured positions (odometry): best_effort subscriptions match reliable and best_effort publishers. */
  sensorStream: { reliability: 'best_effort', durability: 'volatile', depth: 10 },
  /** Odometry as ros_gz_bridge and robot drivers publish it by default. */
  odometry: { reliability: 'reliable', durability: 'volatile', depth: 10 },
  /** /clock: rclnodejs's own TimeSource subscribes reliable, so the publisher must be reliable. */
  clock: { reliability: 'reliable', durability: 'volatile', depth: 1 },
} as const satisfies Record<string, Qos>;

export type Unsubscribe = () => void;

export interface RosPublisher<T> {
  publish(message: T): void;
}

export type TriggerHandler = (request: TriggerRequest) => TriggerResponse;

/** How a FollowJointTrajectory goal went, as the client sees it. */
export interface GoalCallbacks {
  /** The server rejected the goal (it never started). */
  onRejected(reason: string): void;
  onAccepted(handle: GoalHandle): void;
  /** The goal ended: succeeded, aborted or canceled, with the server's result. */
  onResult(status: GoalStatusCode, result: FollowJointTrajectoryResult): void;
}

export interface GoalHandle {
  /** Ask the server to cancel the goal; the result still arrives through onResult (CANCELED). */
  cancel(): void;
}

export interface FollowJointTrajectoryClient {
  /** True when an action server is there to take goals. */
  serverReady(): boolean;
  sendGoal(goal: FollowJointTrajectoryGoal, callbacks: GoalCallbacks): void;
  close(): void;
}

/** What a FollowJointTrajectory server implementation decides, per goal. */
export interface FollowJointTrajectoryServerHandlers {
  /** Accept (undefined) or reject (the reason) a new goal. */
  onGoal(goal: FollowJointTrajectoryGoal): string | undefined;
  /** Execute an accepted goal; call `finish` exactly once. Returns the cancel handler. */
  execute(goal: FollowJointTrajectoryGoal, finish: (status: GoalStatusCode, result: FollowJointTrajectoryResult) => void): () => void;
}

export interface RosNode {
  readonly name: string;
  createPublisher<K extends RosTopicType>(type: K, topic: string, qos: Qos): RosPublisher<RosTopicTypes[K]>;
  createSubscription<K extends RosTopicType>(type: K, topic: string, qos: Qos, callback: (message: RosTopicTypes[K]) => void): Unsubscribe;
  /** A std_srvs/srv/Trigger service. */
  createTriggerService(name: string, handler: TriggerHandler): Unsubscribe;
  createFollowJointTrajectoryClient(action: string): FollowJointTrajectoryClient;
  createFollowJointTrajectoryServer(action: string, handlers: FollowJointTrajectoryServerHandlers): Unsubscribe;
  close(): void;
}

/**
 * Operator-interface and device names are absolute: a relative name would resolve under the
 * node's own name (`/workcell/workcell/command`). Refuse anything else, naming it.
 */
export function checkAbsoluteName(kind: string, name: string): string {
  if (typeof name !== 'string' || !/^\/[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) {
    throw new Error(`${kind} name ${JSON.stringify(name)} is not an absolute ROS name (expected something like /workcell/state)`);
  }
  return name;
}
