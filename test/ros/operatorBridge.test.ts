/**
 * The operator interface on ROS 2, through the in-process graph with the names, message shapes
 * and QoS the rclnodejs adapter uses: an HMI node on the graph drives the demo cell.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { QOS } from '../../src/ros/node.js';
import { TRIGGER_COMMANDS } from '../../src/ros/operatorBridge.js';
import { VirtualClock } from '../../src/time/clock.js';
import type { CellRun } from '../../src/runtime/run.js';
import { DEMO_ROS_ARM, Hmi, rosCell, SafetyPlc, stepUntil } from './helpers.js';

let open: CellRun[] = [];
afterEach(async () => {
  for (const run of open) await run.close();
  open = [];
});

async function demo(options: Parameters<typeof rosCell>[0] = {}) {
  const cell = await rosCell(options);
  open.push(cell.run);
  return cell;
}

describe('operator interface on ROS 2', () => {
  it('offers the topics and services under the namespace, with their types, and no QoS mismatch with an HMI', async () => {
    const { graph } = await demo();
    const hmi = new Hmi(graph);
    expect(graph.topicTypes()).toMatchObject({
      '/workcell/command': 'std_msgs/msg/String',
      '/workcell/state': 'std_msgs/msg/String',
      '/workcell/events': 'std_msgs/msg/String',
      '/diagnostics': 'diagnostic_msgs/msg/DiagnosticArray',
    });
    expect(graph.serviceNames()).toEqual(TRIGGER_COMMANDS.map((w) => `/workcell/${w}`).sort());
    expect(graph.publisherQos('/workcell/state')).toEqual([{ reliability: 'reliable', durability: 'transient_local', depth: 1 }]);
    expect(graph.incompatibilities).toEqual([]);
    // A late-joining HMI is handed the latched state at once.
    expect(hmi.state).toBe('Stopped');
    expect(hmi.states[0]).toMatchObject({ cell: 'demo_pick_and_place', stateNumbering: 'PackTags', stateNumber: 2, mode: 'production' });
  });

  it('a subscriber asking for transient_local never matches a volatile publisher (and the mismatch is reported)', async () => {
    const { graph } = await demo();
    const node = graph.createNode('wrong_hmi');
    const got: string[] = [];
    node.createSubscription('std_msgs/msg/String', '/workcell/events', { ...QOS.events, durability: 'transient_local' }, (m) => got.push(m.data));
    const hmi = new Hmi(graph);
    hmi.send('reset');
    expect(got).toEqual([]);
    expect(graph.incompatibilities).toEqual([
      { topic: '/workcell/events', publisher: 'workcell', subscriber: 'wrong_hmi', reason: 'a transient_local subscription does not match a volatile publisher' },
    ]);
  });

  it('carries commands in and state and events out; rejections come with their reason', async () => {
    const { graph, clock } = await demo();
    const hmi = new Hmi(graph);
    hmi.send('start');
    expect(hmi.events.at(-1)).toMatchObject({ type: 'command.rejected', command: 'start', source: 'topic:/workcell/command', state: 'Stopped' });
    expect((hmi.events.at(-1) as { reason: string }).reason).toMatch(/Stopped/);
    hmi.send('reset');
    expect(hmi.events.find((e) => e.type === 'command.accepted')).toMatchObject({ command: 'reset', source: 'topic:/workcell/command' });
    stepUntil(clock, () => hmi.state === 'Idle', 60_000, 'Idle');
    hmi.send('start');
    stepUntil(clock, () => hmi.state === 'Execute', 60_000, 'Execute');
    stepUntil(clock, () => (hmi.states.at(-1)?.parts.exited ?? 0) >= 1, 60_000, 'a part out');
    expect(hmi.events.map((e) => e.type)).toContain('state.changed');
  });

  it('answers each Trigger service with success, or the reason it was refused', async () => {
    const { graph, clock, run } = await demo();
    expect(graph.callTrigger('/workcell/start')).toEqual({ success: false, message: expect.stringMatching(/^start refused in Stopped: .+/) });
    expect(graph.callTrigger('/workcell/clear')).toMatchObject({ success: false, message: expect.stringMatching(/^clear refused in Stopped/) });
    expect(graph.callTrigger('/workcell/reset')).toEqual({ success: true, message: 'reset accepted in Stopped' });
    stepUntil(clock, () => run.state === 'Idle');
    expect(graph.callTrigger('/workcell/start')).toEqual({ success: true, message: 'start accepted in Idle' });
    stepUntil(clock, () => run.state === 'Execute');
    expect(graph.callTrigger('/workcell/hold').success).toBe(true);
    stepUntil(clock, () => run.state === 'Held');
    expect(graph.callTrigger('/workcell/hold')).toMatchObject({ success: false, message: expect.stringMatching(/^hold refused in Held/) });
    expect(graph.callTrigger('/workcell/unhold').success).toBe(true);
    stepUntil(clock, () => run.state === 'Execute');
    expect(graph.callTrigger('/workcell/ack')).toMatchObject({ success: true });
    expect(graph.callTrigger('/workcell/stop').success).toBe(true);
    stepUntil(clock, () => run.state === 'Stopped');
    expect(graph.callTrigger('/workcell/abort').success).toBe(true);
    stepUntil(clock, () => run.state === 'Aborted');
    // Released e-stop: Clear is accepted and leads to Stopped.
    expect(graph.callTrigger('/workcell/clear').success).toBe(true);
    stepUntil(clock, () => run.state === 'Stopped');
    // The journal names the service as the command's source.
    const sources = run.memory!.records().filter((r) => r.kind === 'command').map((r) => (r as unknown as { source: string }).source);
    expect(sources).toContain('service:/workcell/start');
  });

  it('clear is refused over the service while the e-stop is still pressed, naming it', async () => {
    const { graph, clock, run } = await demo();
    run.sim.setInput('safety_io', 'estop_ok', false);
    stepUntil(clock, () => run.state === 'Aborted');
    const answer = graph.callTrigger('/workcell/clear');
    expect(answer.success).toBe(false);
    expect(answer.message).toMatch(/estop_button/);
  });

  it('repeats the state every second on the monotonic clock, not on the cell clock', async () => {
    const monotonic = new VirtualClock();
    const { graph, clock } = await demo({ monotonic });
    const hmi = new Hmi(graph);
    const before = hmi.states.length;
    clock.advanceBy(5000); // cell time runs; nothing changes in Stopped
    expect(hmi.states.length).toBe(before);
    monotonic.advanceBy(3000);
    expect(hmi.states.length).toBe(before + 3);
    expect(hmi.states.at(-1)!.state).toBe('Stopped');
  });

  it('publishes device health on /diagnostics', async () => {
    const { graph, clock } = await demo();
    const hmi = new Hmi(graph);
    clock.advanceBy(1500);
    const last = hmi.diagnostics.at(-1) as { header: { stamp: { sec: number; nanosec: number } }; status: Array<{ name: string; level: number; hardware_id: string; values: unknown[] }> };
    expect(last.status.map((s) => s.name).sort()).toEqual(['workcell: arm', 'workcell: conveyor', 'workcell: feeder', 'workcell: safety_io']);
    expect(last.status.every((s) => s.level === 0)).toBe(true);
    expect(Number.isInteger(last.header.stamp.sec) && Number.isInteger(last.header.stamp.nanosec)).toBe(true);
  });

  it('a safe-OK over ROS is an e-stop source whose timeout runs on the monotonic clock, even with simulated time paused', async () => {
    const monotonic = new VirtualClock();
    const { graph, clock, run } = await demo({ cellPath: DEMO_ROS_ARM, monotonic, safetyClock: monotonic });
    const hmi = new Hmi(graph);
    // Never heard from: the source is active at boot, so the cell boots in Aborted.
    expect(run.state).toBe('Aborted');
    const plc = new SafetyPlc(graph, monotonic);
    plc.start();
    monotonic.advanceBy(100);
    hmi.send('clear');
    stepUntil(clock, () => run.state === 'Stopped', 10_000, 'Stopped after clear');
    hmi.send('reset');
    // Reset needs time on both clocks: the PLC keeps the source healthy meanwhile.
    for (let i = 0; i < 200 && run.state !== 'Idle'; i++) {
      monotonic.advanceBy(50);
      clock.advanceBy(50);
    }
    expect(run.state).toBe('Idle');
    // The simulator (and so the cell clock) pauses; the PLC falls silent; the monotonic clock goes on.
    plc.silence();
    const cellTime = clock.now();
    monotonic.advanceBy(300);
    expect(clock.now()).toBe(cellTime);
    expect(hmi.events).toContainEqual(expect.objectContaining({ type: 'estop', source: 'safety_plc', active: true }));
    expect(['Aborting', 'Aborted']).toContain(run.state);
    // It latches: safe-OK coming back does not restart anything.
    plc.start();
    monotonic.advanceBy(500);
    clock.advanceBy(2000);
    expect(run.state).toBe('Aborted');
  });
});
