/**
 * Every message the project builds for ROS 2 conforms exactly to the official definitions and
 * survives a CDR round trip: recorded from the demo cell with its arm on ROS (topics, action
 * goals and results, Trigger answers) rather than written by hand.
 */
import { describe, expect, it } from 'vitest';
import { GoalStatus } from '../../src/ros/messages.js';
import { followJointTrajectoryGoal } from '../../src/ros/messages.js';
import { VirtualClock } from '../../src/time/clock.js';
import { roundTrip, shapeProblems } from './definitions.js';
import { DEMO_ROS_ARM, rosCell, SafetyPlc, stepUntil } from './helpers.js';

describe('messages built by workcell', () => {
  it('conform to the official ROS 2 definitions and round-trip through CDR', async () => {
    const clock = new VirtualClock();
    const { graph, run } = await rosCell({ cellPath: DEMO_ROS_ARM, clock, cycles: 2, autostart: true });
    const seen = new Map<string, unknown[]>();
    const recorder = graph.createNode('recorder');
    for (const [topic, type] of Object.entries(graph.topicTypes())) {
      recorder.createSubscription(type, topic, { reliability: 'reliable', durability: 'volatile', depth: 10 }, (m) => {
        const list = seen.get(type) ?? [];
        if (list.length < 50) list.push(structuredClone(m));
        seen.set(type, list);
      });
    }
    new SafetyPlc(graph, clock).start();
    clock.setTimeout(() => graph.callTrigger('/workcell/clear'), 200);
    const triggers = [graph.callTrigger('/workcell/start'), graph.callTrigger('/workcell/ack')];
    stepUntil(clock, () => run.state === 'Complete', 120_000, 'the lot');
    await run.close();

    expect([...seen.keys()].sort()).toEqual([
      'diagnostic_msgs/msg/DiagnosticArray',
      'sensor_msgs/msg/JointState',
      'std_msgs/msg/Bool',
      'std_msgs/msg/String',
    ]);
    const samples: Array<[string, unknown]> = [...seen].flatMap(([type, list]) => list.map((m): [string, unknown] => [type, m]));
    for (const entry of graph.actionLog) {
      if (entry.event === 'goal') samples.push(['control_msgs/action/FollowJointTrajectory_Goal', entry.goal]);
    }
    // A result as the arm reports it, and a refusal.
    samples.push(['control_msgs/action/FollowJointTrajectory_Result', { error_code: 0, error_string: '' }]);
    for (const t of triggers) samples.push(['std_srvs/srv/Trigger_Response', t]);
    expect(graph.actionLog.some((e) => e.event === 'result' && e.status === GoalStatus.SUCCEEDED)).toBe(true);

    for (const [type, message] of samples) {
      expect({ type, problems: shapeProblems(message, type) }).toEqual({ type, problems: [] });
      expect(roundTrip(message, type)).toEqual(message);
    }
  });

  it('the shape check catches what rcl would silently mangle: a fractional second, a missing field, an extra one', () => {
    const goal = followJointTrajectoryGoal(['joint_1'], [0.5], 1500, 0.01);
    expect(shapeProblems(goal, 'control_msgs/action/FollowJointTrajectory_Goal')).toEqual([]);
    const fractional = structuredClone(goal);
    fractional.trajectory.points[0]!.time_from_start = { sec: 0.5, nanosec: 0 };
    expect(shapeProblems(fractional, 'control_msgs/action/FollowJointTrajectory_Goal')).toEqual([
      'control_msgs/action/FollowJointTrajectory_Goal.trajectory.points[0].time_from_start.sec: expected int32, got 0.5',
    ]);
    const { goal_time_tolerance: _dropped, ...missing } = goal;
    expect(shapeProblems(missing, 'control_msgs/action/FollowJointTrajectory_Goal')).toEqual([
      'control_msgs/action/FollowJointTrajectory_Goal.goal_time_tolerance: missing (duration)',
    ]);
    expect(shapeProblems({ data: true, stamp: 1 }, 'std_msgs/msg/Bool')).toEqual(['std_msgs/msg/Bool.stamp: not a field of std_msgs/Bool']);
    expect(shapeProblems({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' }, status: [{ level: 7.5, name: 'x', message: '', hardware_id: '', values: [] }] }, 'diagnostic_msgs/msg/DiagnosticArray')).toEqual([
      'diagnostic_msgs/msg/DiagnosticArray.status[0].level: expected uint8, got 7.5',
    ]);
  });
});
