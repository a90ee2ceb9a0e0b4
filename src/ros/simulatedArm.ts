/**
 * The embedded simulator's arm standing behind the ROS interface, as ros2_control would: it
 * serves control_msgs/FollowJointTrajectory (and takes the JointTrajectory topic), publishes
 * sensor_msgs/JointState, takes the vacuum command and publishes the vacuum-ok sensor as
 * std_msgs/Bool. With it, the ROS path (RosArmDriver) runs end to end wherever ROS 2 is absent
 * (on the in-process graph) or present (on a real one, through the rclnodejs adapter).
 */
import type { ArmDescription } from '../cell/schema.js';
import { atPose } from '../cell/kinematics.js';
import type { DeviceCommand, DeviceDriver, Reading } from '../devices/types.js';
import { toRosTime } from '../interface/messages.js';
import type { Clock } from '../time/clock.js';
import {
  FollowJointTrajectoryError,
  GoalStatus,
  type FollowJointTrajectoryGoal,
  type FollowJointTrajectoryResult,
  type GoalStatusCode,
  type JointTrajectoryMsg,
} from './messages.js';
import { checkAbsoluteName, QOS, type RosNode } from './node.js';

export interface SimulatedArmServerOptions {
  node: RosNode;
  /** The simulator's arm driver; the server configures and activates it. */
  arm: DeviceDriver;
  description: ArmDescription;
  clock: Clock;
}

interface RunningGoal {
  command: Extract<DeviceCommand, { type: 'move' }>;
  finish: (status: GoalStatusCode, result: FollowJointTrajectoryResult) => void;
  canceled: boolean;
}

export class SimulatedArmServer {
  private readonly cleanup: Array<() => void> = [];
  private running: RunningGoal | undefined;
  private lastVacuumOk: boolean | undefined;
  private goals = 0;
  private readonly names: string[];

  constructor(private readonly options: SimulatedArmServerOptions) {
    const { node, arm, description } = options;
    this.names = description.joints.map((j) => j.name);
    const ros = {
      action: description.ros?.action ?? '/arm_controller/follow_joint_trajectory',
      trajectoryTopic: description.ros?.trajectoryTopic ?? '/arm_controller/joint_trajectory',
      jointStatesTopic: description.ros?.jointStatesTopic ?? '/joint_states',
    };
    const vacuumTopic = description.gripper.vacuum.topic;
    const vacuumOkTopic = description.gripper.vacuumOk.topic;
    if (vacuumTopic === undefined || vacuumOkTopic === undefined) {
      throw new Error(`simulated arm behind ROS: the gripper's vacuum and vacuum_ok channels need a \`topic\``);
    }
    checkAbsoluteName('vacuum topic', vacuumTopic);
    checkAbsoluteName('vacuum_ok topic', vacuumOkTopic);

    const jointStates = node.createPublisher('sensor_msgs/msg/JointState', ros.jointStatesTopic, QOS.jointStates);
    const vacuumOk = node.createPublisher('std_msgs/msg/Bool', vacuumOkTopic, QOS.io);
    const publish = (reading: Reading) => {
      if (reading.joints) {
        jointStates.publish({
          header: { stamp: toRosTime(options.clock.now()), frame_id: '' },
          name: [...this.names],
          position: [...reading.joints],
          velocity: [],
          effort: [],
        });
      }
      const ok = reading.inputs.vacuum_ok === true;
      if (ok !== this.lastVacuumOk) {
        this.lastVacuumOk = ok;
        vacuumOk.publish({ data: ok !== description.gripper.vacuumOk.activeLow });
      }
    };

    this.cleanup.push(
      arm.onFeedback((fb) => {
        if (fb.type === 'reading') publish(fb.reading);
        // The arm's heartbeat is a joint state too: ros2_control publishes them at a steady rate.
        else if (fb.type === 'heartbeat') publish(arm.read());
        else if (fb.type === 'motionDone') this.motionDone(fb.command);
        else if (fb.type === 'refused') this.refused(fb.command, fb.reason);
      }),
      node.createSubscription('std_msgs/msg/Bool', vacuumTopic, QOS.io, (msg) => {
        arm.write({ type: 'vacuum', on: (msg.data === true) !== description.gripper.vacuum.activeLow });
      }),
      node.createSubscription('trajectory_msgs/msg/JointTrajectory', ros.trajectoryTopic, QOS.trajectory, (msg) => this.onTrajectoryTopic(msg)),
      node.createFollowJointTrajectoryServer(ros.action, {
        onGoal: (goal) => this.goalProblem(goal.trajectory),
        execute: (goal, finish) => this.execute(goal, finish),
      }),
    );
    arm.configure();
    arm.activate();
    publish(arm.read());
  }

  /** Why a trajectory cannot be followed (as the JointTrajectoryController rejects it), or undefined. */
  private goalProblem(trajectory: JointTrajectoryMsg): string | undefined {
    const missing = this.names.filter((n) => !trajectory.joint_names.includes(n));
    if (missing.length > 0 || trajectory.joint_names.length !== this.names.length) {
      return `joints ${JSON.stringify(trajectory.joint_names)} do not match the controller's ${JSON.stringify(this.names)}`;
    }
    if (trajectory.points.length === 0) return 'the trajectory has no points';
    for (const [i, point] of trajectory.points.entries()) {
      const t = point.time_from_start;
      if (!Number.isInteger(t.sec) || !Number.isInteger(t.nanosec) || t.nanosec < 0 || t.nanosec >= 1e9) {
        return `point ${i}: time_from_start must be whole seconds plus nanoseconds below 1e9 (got ${JSON.stringify(t)})`;
      }
      if (point.positions.length !== this.names.length) return `point ${i} has ${point.positions.length} positions for ${this.names.length} joints`;
    }
    return undefined;
  }

  /** The last point, in the description's joint order. */
  private target(trajectory: JointTrajectoryMsg): number[] {
    const last = trajectory.points[trajectory.points.length - 1]!;
    return this.names.map((n) => last.positions[trajectory.joint_names.indexOf(n)]!);
  }

  private execute(goal: FollowJointTrajectoryGoal, finish: RunningGoal['finish']): () => void {
    // A new goal preempts the one under way, as the JointTrajectoryController does.
    if (this.running) this.end(GoalStatus.ABORTED, FollowJointTrajectoryError.INVALID_GOAL, 'preempted by a newer goal');
    const command = { type: 'move' as const, pose: `ros_goal_${++this.goals}`, target: this.target(goal.trajectory) };
    const running: RunningGoal = { command, finish, canceled: false };
    this.running = running;
    this.options.arm.write(command);
    return () => {
      if (this.running !== running) return;
      running.canceled = true;
      this.options.arm.write({ type: 'stop' });
    };
  }

  private onTrajectoryTopic(msg: JointTrajectoryMsg): void {
    if (msg.points.length === 0) {
      // An empty trajectory stops the controller where it is.
      this.options.arm.write({ type: 'stop' });
      return;
    }
    if (this.goalProblem(msg) !== undefined) return;
    if (this.running) this.end(GoalStatus.ABORTED, FollowJointTrajectoryError.INVALID_GOAL, 'preempted by a trajectory on the topic');
    this.options.arm.write({ type: 'move', pose: `ros_topic_${++this.goals}`, target: this.target(msg) });
  }

  private motionDone(command: DeviceCommand): void {
    const running = this.running;
    if (!running || !isMoveFor(command, running)) return;
    const reached = atPose(this.options.arm.read().joints ?? [], running.command.target, this.options.description.toleranceRad);
    if (running.canceled) this.end(GoalStatus.CANCELED, FollowJointTrajectoryError.SUCCESSFUL, 'canceled');
    else if (reached) this.end(GoalStatus.SUCCEEDED, FollowJointTrajectoryError.SUCCESSFUL, '');
    else this.end(GoalStatus.ABORTED, FollowJointTrajectoryError.GOAL_TOLERANCE_VIOLATED, 'the arm stopped short of the goal');
  }

  private refused(command: DeviceCommand | undefined, reason: string): void {
    const running = this.running;
    if (!running || !isMoveFor(command, running)) return;
    this.end(GoalStatus.ABORTED, FollowJointTrajectoryError.INVALID_GOAL, reason);
  }

  private end(status: GoalStatusCode, code: number, message: string): void {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    running.finish(status, { error_code: code, error_string: message });
  }

  close(): void {
    for (const c of this.cleanup.splice(0)) c();
    this.options.arm.deactivate();
  }
}

/** The simulator hands back a copy of the command it received: match it by its unique pose name. */
function isMoveFor(command: DeviceCommand | undefined, running: RunningGoal): boolean {
  return command?.type === 'move' && command.pose === running.command.pose;
}
