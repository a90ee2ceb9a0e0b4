/**
 * plainGoal (src/ros/rclnodejs.ts): on a real ROS 2, rclnodejs 2.2 hands an action server's goal
 * callback a plain object whose float64[] fields are Float64Arrays, and its execute callback the
 * goal as a message object whose sequences are wrappers, not arrays (`points[0]` undefined; seen as
 * "Cannot read properties of undefined (reading 'positions')" in the simulated arm). The handlers
 * take plain objects with plain arrays everywhere. rclnodejs cannot load here (no ROS 2): these
 * inputs reproduce the two shapes observed, nothing more.
 */
import { describe, expect, it } from 'vitest';
import { followJointTrajectoryGoal } from '../../src/ros/messages.js';
import { plainGoal } from '../../src/ros/rclnodejs.js';

const names = ['joint_1', 'joint_2', 'joint_3'];
const goal = followJointTrajectoryGoal(names, [0.5, -1.25, 2], 1500, 0.01);

/** The goal with every number[] as a Float64Array, as the goal callback receives it. */
function withTypedArrays(value: unknown): unknown {
  if (Array.isArray(value) && value.every((v) => typeof v === 'number') && value.length > 0) return Float64Array.from(value as number[]);
  if (Array.isArray(value)) return value.map(withTypedArrays);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withTypedArrays(v)]));
  return value;
}

describe('plainGoal', () => {
  it('turns Float64Array fields into plain arrays, everything else unchanged', () => {
    const typed = withTypedArrays(goal) as { trajectory: { points: Array<{ positions: unknown }> } };
    expect(typed.trajectory.points[0]!.positions).toBeInstanceOf(Float64Array);
    const plain = plainGoal(typed);
    expect(plain).toEqual(goal);
    expect(Array.isArray(plain.trajectory.points[0]!.positions)).toBe(true);
    expect(JSON.parse(JSON.stringify(plain))).toEqual(goal);
  });

  it('takes a message object through its toPlainObject, without typed arrays', () => {
    const calls: unknown[] = [];
    const message = {
      // A message object's sequence is a wrapper: indexing it gives undefined.
      trajectory: { joint_names: names, points: { size: 1 } },
      toPlainObject(enableTypedArray: boolean) {
        calls.push(enableTypedArray);
        return enableTypedArray ? withTypedArrays(goal) : structuredClone(goal);
      },
    };
    expect(plainGoal(message)).toEqual(goal);
    expect(calls).toEqual([false]);
  });
});
