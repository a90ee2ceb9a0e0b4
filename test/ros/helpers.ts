import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CellEventMessage, CellStateMessage } from '../../src/interface/operator.js';
import { InProcessRos } from '../../src/ros/inProcess.js';
import { QOS, type RosNode } from '../../src/ros/node.js';
import { RosSession } from '../../src/ros/session.js';
import { CellRun, type RunOptions } from '../../src/runtime/run.js';
import { VirtualClock, type Clock, type TimerId } from '../../src/time/clock.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO = path.join(REPO, 'hardware', 'cells', 'demo.yaml');
export const DEMO_ROS_ARM = path.join(REPO, 'test', 'ros', 'fixtures', 'demo-ros-arm.yaml');

/** An operator's HMI on the graph: what it receives, and a command publisher. */
export class Hmi {
  readonly node: RosNode;
  readonly states: CellStateMessage[] = [];
  readonly events: CellEventMessage[] = [];
  readonly diagnostics: unknown[] = [];
  private readonly commands;

  constructor(graph: InProcessRos, namespace = '/workcell', name = 'hmi') {
    this.node = graph.createNode(name);
    this.commands = this.node.createPublisher('std_msgs/msg/String', `${namespace}/command`, QOS.command);
    this.node.createSubscription('std_msgs/msg/String', `${namespace}/state`, QOS.state, (m) => this.states.push(JSON.parse(m.data) as CellStateMessage));
    this.node.createSubscription('std_msgs/msg/String', `${namespace}/events`, QOS.events, (m) => this.events.push(JSON.parse(m.data) as CellEventMessage));
    this.node.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', QOS.diagnostics, (m) => this.diagnostics.push(m));
  }

  send(word: string): void {
    this.commands.publish({ data: word });
  }

  get state(): string | undefined {
    return this.states.at(-1)?.state;
  }
}

/** A safety PLC publishing a periodic safe-OK `true` on a clock (the monotonic one in a real cell). */
export class SafetyPlc {
  private timer: TimerId | undefined;
  private readonly publisher;

  constructor(
    graph: InProcessRos,
    private readonly clock: Clock,
    topic = '/safety/safe_ok',
    private readonly periodMs = 50,
  ) {
    this.publisher = graph.createNode('safety_plc').createPublisher('std_msgs/msg/Bool', topic, QOS.safeOk);
  }

  start(): void {
    if (this.timer !== undefined) return;
    const tick = () => {
      this.publisher.publish({ data: true });
      this.timer = this.clock.setTimeout(tick, this.periodMs);
    };
    tick();
  }

  silence(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export interface RosCellOptions extends Partial<RunOptions> {
  simulateFarSide?: boolean;
  /** The monotonic clock (state repeat); defaults to the cell's virtual clock. */
  monotonic?: Clock;
  /** Start the controller and attach the ROS face now (false: `run.run()` will). */
  attach?: boolean;
}

/** A cell run on the in-process ROS graph, in virtual time, with the ROS session attached. */
export async function rosCell(options: RosCellOptions = {}): Promise<{ graph: InProcessRos; run: CellRun; session: RosSession; clock: VirtualClock }> {
  const graph = new InProcessRos();
  const { simulateFarSide, monotonic, attach, ...runOptions } = options;
  const clock = (runOptions.clock as VirtualClock | undefined) ?? new VirtualClock();
  const session = new RosSession({ node: graph.createNode('workcell'), monotonic: monotonic ?? clock, simulateFarSide: simulateFarSide ?? true, closeNode: true });
  const run = new CellRun({
    cellPath: DEMO,
    virtualTime: true,
    keepJournal: true,
    seed: 3,
    clock,
    drivers: session.drivers,
    faces: [session.face],
    ...runOptions,
  });
  if (attach !== false) {
    run.start();
    await run.attachFaces();
  }
  return { graph, run, session, clock };
}

/** Step virtual time until `done()` or fail after `limitMs` of it. */
export function stepUntil(clock: VirtualClock, done: () => boolean, limitMs = 60_000, what = 'condition'): void {
  const end = clock.now() + limitMs;
  while (!done()) {
    if (clock.now() > end || !clock.step()) throw new Error(`${what} not reached by t=${clock.now()} ms`);
  }
}
