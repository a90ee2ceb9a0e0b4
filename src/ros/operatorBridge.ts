/**
 * The operator interface on a ROS 2 node, unchanged: /<ns>/command in; /<ns>/state (reliable,
 * transient_local, published on change and every second), /<ns>/events and /diagnostics out; a
 * std_srvs/Trigger service per command word that answers success, or the reason it was refused;
 * and each safe-OK source's std_msgs/Bool topic carried into the controller.
 *
 * No sequencing here: commands go to the controller as they come, and what the controller
 * publishes on the embedded bus goes out as it is.
 */
import type { CellDescription } from '../cell/schema.js';
import type { Bus } from '../interface/bus.js';
import type { CellEventMessage } from '../interface/operator.js';
import type { OperatorTopics, TopicDef } from '../interface/topics.js';
import type { Clock, TimerId } from '../time/clock.js';
import type { StringMsg } from './messages.js';
import { QOS, type RosNode } from './node.js';

/**
 * The commands served as std_srvs/srv/Trigger under the namespace: /<ns>/reset, /<ns>/start, ...
 * `step` is Maintenance mode's single-step (commissioning, #11): one production step per call,
 * answered with the reason when refused. Jog and force take arguments: they stay on <ns>/command.
 */
export const TRIGGER_COMMANDS = ['reset', 'start', 'stop', 'hold', 'unhold', 'clear', 'abort', 'ack', 'step'] as const;
export type TriggerCommand = (typeof TRIGGER_COMMANDS)[number];

export interface OperatorBridgeOptions {
  node: RosNode;
  bus: Bus;
  topics: OperatorTopics;
  cell: CellDescription;
  /** Hand one command to the controller, saying where it came from; true when accepted. */
  command(word: string, source: string): boolean;
  /**
   * The monotonic wall clock for the periodic state: like heartbeats, it must not freeze when a
   * simulator (and its /clock) pauses.
   */
  monotonic: Clock;
  /** Period of the repeated state, ms (1000: 1 Hz). */
  statePeriodMs?: number;
}

export class OperatorBridge {
  private readonly cleanup: Array<() => void> = [];
  private lastState: StringMsg | undefined;
  private stateTimer: TimerId | undefined;
  private closed = false;
  readonly serviceNames: string[];

  constructor(private readonly options: OperatorBridgeOptions) {
    const { node, bus, topics } = options;
    const state = node.createPublisher('std_msgs/msg/String', topics.state.name, QOS.state);
    const events = node.createPublisher('std_msgs/msg/String', topics.events.name, QOS.events);
    const diagnostics = node.createPublisher('diagnostic_msgs/msg/DiagnosticArray', topics.diagnostics.name, QOS.diagnostics);

    this.cleanup.push(
      bus.subscribe(topics.state, (msg) => {
        this.lastState = msg;
        state.publish(msg);
      }),
      bus.subscribe(topics.events, (msg) => events.publish(msg)),
      bus.subscribe(topics.diagnostics, (msg) => diagnostics.publish(msg)),
      node.createSubscription('std_msgs/msg/String', topics.command.name, QOS.command, (msg) => bus.publish(topics.command, { data: msg.data })),
    );

    // Safe-OK sources: the controller watches their timeout on its safety clock; this only carries them.
    for (const source of options.cell.safety.estopSources) {
      if (source.kind !== 'safe_ok_topic') continue;
      const busTopic: TopicDef<'std_msgs/msg/Bool'> = { name: source.topic, type: 'std_msgs/msg/Bool', latched: false, description: `safe-OK signal of ${source.name}` };
      this.cleanup.push(node.createSubscription('std_msgs/msg/Bool', source.topic, QOS.safeOk, (msg) => bus.publish(busTopic, { data: msg.data === true })));
    }

    const namespace = topics.command.name.slice(0, -'/command'.length);
    this.serviceNames = TRIGGER_COMMANDS.map((word) => `${namespace}/${word}`);
    for (const [i, word] of TRIGGER_COMMANDS.entries()) {
      const name = this.serviceNames[i]!;
      this.cleanup.push(node.createTriggerService(name, () => this.trigger(word, `service:${name}`)));
    }

    // A late subscriber may miss a depth-1 latched sample that was replaced before it matched:
    // the state is also repeated every second.
    const period = options.statePeriodMs ?? 1000;
    const repeat = () => {
      if (this.lastState) state.publish(this.lastState);
      this.stateTimer = options.monotonic.setTimeout(repeat, period);
    };
    this.stateTimer = options.monotonic.setTimeout(repeat, period);
  }

  /** Run one command and answer as std_srvs/Trigger: accepted, or refused with the controller's reason. */
  private trigger(word: TriggerCommand, source: string): { success: boolean; message: string } {
    let verdict: CellEventMessage | undefined;
    const unsubscribe = this.options.bus.subscribe(this.options.topics.events, (msg) => {
      const event = JSON.parse(msg.data) as CellEventMessage;
      if ((event.type === 'command.accepted' || event.type === 'command.rejected') && event.source === source && verdict === undefined) verdict = event;
    });
    let accepted: boolean;
    try {
      accepted = this.options.command(word, source);
    } finally {
      unsubscribe();
    }
    if (verdict?.type === 'command.rejected') return { success: false, message: `${word} refused in ${verdict.state}: ${verdict.reason}` };
    if (!accepted) return { success: false, message: `${word} refused` };
    return { success: true, message: verdict?.type === 'command.accepted' ? `${word} accepted in ${verdict.state}` : `${word} accepted` };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.stateTimer !== undefined) this.options.monotonic.clearTimeout(this.stateTimer);
    for (const c of this.cleanup.splice(0)) c();
  }
}
