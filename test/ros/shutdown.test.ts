/**
 * Shutting a ROS run down. CellRun.close closes its faces (the ROS session, and with it the node)
 * before it disposes the controller; in between, the controller's heartbeat watch can still find
 * the devices silent and command their safe state. On a real ROS 2 that crashed the process:
 * rclnodejs throws "publisher pointer is invalid" for a destroyed publisher, from inside a timer
 * (seen with `workcell run --ros --sim --use-sim-time` after /clock stopped; see docs/ros2.md).
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../../src/journal/journal.js';
import { QOS } from '../../src/ros/node.js';
import type { CellRun } from '../../src/runtime/run.js';
import { VirtualClock } from '../../src/time/clock.js';
import { Hmi, REPO, rosCell, stepUntil } from './helpers.js';

const GAZEBO_CELL = path.join(REPO, 'hardware', 'cells', 'demo-gazebo.yaml');

describe('closing the ROS session before the controller is disposed', () => {
  let open: CellRun[] = [];
  afterEach(async () => {
    for (const run of open) await run.close();
    open = [];
  });

  it('a safe state commanded after the node closed is refused by the drivers, not thrown; the belt was stopped on the way out', async () => {
    const clock = new VirtualClock();
    const { graph, run, session } = await rosCell({ cellPath: GAZEBO_CELL, clock });
    open.push(run);
    const hmi = new Hmi(graph);
    const speeds: number[] = [];
    graph.createNode('spy').createSubscription('std_msgs/msg/Float64', '/conveyor/belt_speed', QOS.odometry, (m) => speeds.push(m.data));
    const records = (kind: string): JournalRecord[] => run.memory!.records().filter((r) => r.kind === kind);

    // Bring the cell to Execute with the conveyor homed over ROS, then close the session mid-run.
    stepUntil(clock, () => hmi.state === 'Aborted' || hmi.state === 'Stopped', 5_000, 'boot');
    if (hmi.state === 'Aborted') hmi.send('clear');
    stepUntil(clock, () => hmi.state === 'Stopped', 5_000, 'Stopped');
    hmi.send('reset');
    stepUntil(clock, () => hmi.state === 'Idle', 30_000, 'Idle');
    hmi.send('start');
    stepUntil(clock, () => speeds.some((v) => v > 0.2), 60_000, 'the belt indexing at speed');
    const faultsBefore = records('fault').length;
    session.close();
    expect(speeds.at(-1)).toBe(0);

    // Nothing answers any more: the heartbeat watch fires and commands every device's safe state.
    expect(() => stepUntil(clock, () => records('fault').length > faultsBefore, 2_000, 'a heartbeat fault')).not.toThrow();
    expect(() => {
      for (let i = 0; i < 200 && clock.step(); i++);
    }).not.toThrow();
    const lost = records('fault').slice(faultsBefore).map((f) => (f as unknown as { fault: string }).fault);
    expect(lost).toContain('heartbeat_lost');
    const refusals = records('device.feedback').filter((r) => {
      const record = r as unknown as { feedback?: string; reason?: string };
      return record.feedback === 'refused' && /is not active/.test(record.reason ?? '');
    });
    expect(refusals.length).toBeGreaterThan(0);
  });
});
