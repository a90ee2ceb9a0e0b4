/**
 * An in-process ROS 2 graph: nodes, topics with DDS's QoS matching rules, Trigger services and
 * FollowJointTrajectory actions, all in one process. It is what the tests and the embedded
 * simulator behind ROS run on wherever ROS 2 is absent, with the same names, message shapes and
 * QoS as the rclnodejs adapter.
 *
 * The QoS rules kept here are those that bite on a real graph (see shared/reference/rclnodejs.md):
 * a reliable subscription never matches a best-effort publisher, a transient_local subscription
 * never matches a volatile publisher, and only transient_local endpoints hand a late joiner the
 * last `depth` messages. Incompatible pairs are recorded, as rmw reports them, and get nothing.
 *
 * Delivery is synchronous but never re-entrant (a message published from a callback is delivered
 * after the current one), like the embedded bus.
 */
import type { FollowJointTrajectoryGoal, FollowJointTrajectoryResult, GoalStatusCode, RosTopicType, RosTopicTypes, TriggerResponse } from './messages.js';
import {
  checkAbsoluteName,
  type FollowJointTrajectoryClient,
  type FollowJointTrajectoryServerHandlers,
  type GoalCallbacks,
  type Qos,
  type RosNode,
  type RosPublisher,
  type TriggerHandler,
  type Unsubscribe,
} from './node.js';

interface Endpoint {
  node: string;
  qos: Qos;
}
interface Writer extends Endpoint {
  /** transient_local publishers keep their last `depth` messages for late joiners. */
  kept: unknown[];
}
interface Reader extends Endpoint {
  callback: (message: unknown) => void;
}
interface TopicSlot {
  type: RosTopicType;
  writers: Set<Writer>;
  readers: Set<Reader>;
}

export interface QosIncompatibility {
  topic: string;
  publisher: string;
  subscriber: string;
  reason: string;
}

/** Why a publisher with `w` cannot serve a subscription with `r`, or undefined when they match. */
export function qosMismatch(w: Qos, r: Qos): string | undefined {
  if (w.reliability === 'best_effort' && r.reliability === 'reliable') return 'a reliable subscription does not match a best_effort publisher';
  if (w.durability === 'volatile' && r.durability === 'transient_local') return 'a transient_local subscription does not match a volatile publisher';
  return undefined;
}

export class InProcessRos {
  private readonly topics = new Map<string, TopicSlot>();
  private readonly services = new Map<string, { node: string; handler: TriggerHandler }>();
  private readonly actions = new Map<string, { node: string; handlers: FollowJointTrajectoryServerHandlers }>();
  private readonly queue: Array<() => void> = [];
  private delivering = false;
  readonly incompatibilities: QosIncompatibility[] = [];
  /** Every action goal sent and cancel requested on the graph, in order (like action introspection). */
  readonly actionLog: Array<{ action: string; event: 'goal'; goal: FollowJointTrajectoryGoal } | { action: string; event: 'cancel' | 'rejected' | 'result'; status?: GoalStatusCode; detail?: string }> = [];

  createNode(name: string): RosNode {
    return new InProcessNode(this, name);
  }

  /** Call a Trigger service as a client would (`ros2 service call NAME std_srvs/srv/Trigger`). */
  callTrigger(name: string): TriggerResponse {
    const service = this.services.get(name);
    if (!service) throw new Error(`no service ${name} (services: ${[...this.services.keys()].sort().join(', ') || 'none'})`);
    return service.handler({});
  }

  serviceNames(): string[] {
    return [...this.services.keys()].sort();
  }

  /** Topic names with their type, as `ros2 topic list -t` shows them. */
  topicTypes(): Record<string, RosTopicType> {
    return Object.fromEntries([...this.topics].map(([name, slot]) => [name, slot.type]));
  }

  /** QoS of the publishers on a topic. */
  publisherQos(topic: string): Qos[] {
    return [...(this.topics.get(topic)?.writers ?? [])].map((w) => w.qos);
  }

  // -------------------------------------------------------------------------------------------
  // Used by InProcessNode

  slot(topic: string, type: RosTopicType): TopicSlot {
    checkAbsoluteName('topic', topic);
    let slot = this.topics.get(topic);
    if (!slot) {
      slot = { type, writers: new Set(), readers: new Set() };
      this.topics.set(topic, slot);
    } else if (slot.type !== type) {
      throw new TypeError(`topic ${topic} carries ${slot.type}; cannot use it as ${type}`);
    }
    return slot;
  }

  addWriter(topic: string, type: RosTopicType, writer: Writer): () => void {
    const slot = this.slot(topic, type);
    slot.writers.add(writer);
    for (const reader of slot.readers) this.noteMismatch(topic, writer, reader);
    return () => slot.writers.delete(writer);
  }

  addReader(topic: string, type: RosTopicType, reader: Reader): () => void {
    const slot = this.slot(topic, type);
    slot.readers.add(reader);
    for (const writer of slot.writers) {
      if (this.noteMismatch(topic, writer, reader)) continue;
      if (writer.qos.durability === 'transient_local' && reader.qos.durability === 'transient_local') {
        for (const message of writer.kept.slice(-reader.qos.depth)) this.deliver(() => reader.callback(message), slot, reader);
      }
    }
    return () => slot.readers.delete(reader);
  }

  write(topic: string, type: RosTopicType, writer: Writer, message: unknown): void {
    const slot = this.slot(topic, type);
    if (writer.qos.durability === 'transient_local') {
      writer.kept.push(message);
      if (writer.kept.length > writer.qos.depth) writer.kept.splice(0, writer.kept.length - writer.qos.depth);
    }
    for (const reader of [...slot.readers]) {
      if (qosMismatch(writer.qos, reader.qos) !== undefined) continue;
      this.deliver(() => reader.callback(message), slot, reader);
    }
  }

  addService(name: string, node: string, handler: TriggerHandler): () => void {
    checkAbsoluteName('service', name);
    if (this.services.has(name)) throw new Error(`service ${name} is already served by ${this.services.get(name)!.node}`);
    this.services.set(name, { node, handler });
    return () => this.services.delete(name);
  }

  addActionServer(name: string, node: string, handlers: FollowJointTrajectoryServerHandlers): () => void {
    checkAbsoluteName('action', name);
    if (this.actions.has(name)) throw new Error(`action ${name} is already served by ${this.actions.get(name)!.node}`);
    this.actions.set(name, { node, handlers });
    return () => this.actions.delete(name);
  }

  actionServer(name: string): FollowJointTrajectoryServerHandlers | undefined {
    return this.actions.get(name)?.handlers;
  }

  /** Run `fn` now, or after the delivery under way (never re-entrant). */
  run(fn: () => void): void {
    this.queue.push(fn);
    if (this.delivering) return;
    this.delivering = true;
    const errors: unknown[] = [];
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        try {
          next();
        } catch (error) {
          errors.push(error);
        }
      }
    } finally {
      this.delivering = false;
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} ROS callbacks failed`);
  }

  private deliver(fn: () => void, slot: TopicSlot, reader: Reader): void {
    // Unsubscribed while the message was queued: it no longer wants it.
    this.run(() => {
      if (slot.readers.has(reader)) fn();
    });
  }

  private noteMismatch(topic: string, writer: Writer, reader: Reader): boolean {
    const reason = qosMismatch(writer.qos, reader.qos);
    if (reason === undefined) return false;
    this.incompatibilities.push({ topic, publisher: writer.node, subscriber: reader.node, reason });
    return true;
  }
}

class InProcessNode implements RosNode {
  private readonly cleanup: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly graph: InProcessRos,
    readonly name: string,
  ) {}

  createPublisher<K extends RosTopicType>(type: K, topic: string, qos: Qos): RosPublisher<RosTopicTypes[K]> {
    const writer: Writer = { node: this.name, qos: { ...qos }, kept: [] };
    this.cleanup.push(this.graph.addWriter(topic, type, writer));
    return {
      publish: (message) => {
        if (this.closed) throw new Error(`node ${this.name} is closed; cannot publish on ${topic}`);
        this.graph.run(() => this.graph.write(topic, type, writer, message));
      },
    };
  }

  createSubscription<K extends RosTopicType>(type: K, topic: string, qos: Qos, callback: (message: RosTopicTypes[K]) => void): Unsubscribe {
    const remove = this.graph.addReader(topic, type, { node: this.name, qos: { ...qos }, callback: callback as (m: unknown) => void });
    this.cleanup.push(remove);
    return remove;
  }

  createTriggerService(name: string, handler: TriggerHandler): Unsubscribe {
    const remove = this.graph.addService(name, this.name, handler);
    this.cleanup.push(remove);
    return remove;
  }

  createFollowJointTrajectoryServer(action: string, handlers: FollowJointTrajectoryServerHandlers): Unsubscribe {
    const remove = this.graph.addActionServer(action, this.name, handlers);
    this.cleanup.push(remove);
    return remove;
  }

  createFollowJointTrajectoryClient(action: string): FollowJointTrajectoryClient {
    checkAbsoluteName('action', action);
    const graph = this.graph;
    return {
      serverReady: () => graph.actionServer(action) !== undefined,
      sendGoal(goal: FollowJointTrajectoryGoal, callbacks: GoalCallbacks): void {
        graph.run(() => {
          graph.actionLog.push({ action, event: 'goal', goal: structuredClone(goal) });
          const server = graph.actionServer(action);
          const reason = server ? server.onGoal(goal) : `no action server on ${action}`;
          if (!server || reason !== undefined) {
            graph.actionLog.push({ action, event: 'rejected', detail: reason });
            callbacks.onRejected(reason!);
            return;
          }
          let finished = false;
          let cancelRequested = false;
          let cancelExecution: (() => void) | undefined;
          callbacks.onAccepted({
            cancel: () => {
              if (finished || cancelRequested) return;
              cancelRequested = true;
              graph.actionLog.push({ action, event: 'cancel' });
              graph.run(() => cancelExecution?.());
            },
          });
          const finish = (status: GoalStatusCode, result: FollowJointTrajectoryResult) => {
            if (finished) return;
            finished = true;
            graph.actionLog.push({ action, event: 'result', status, detail: result.error_string });
            graph.run(() => callbacks.onResult(status, result));
          };
          cancelExecution = server.execute(goal, finish);
          if (cancelRequested && !finished) cancelExecution();
        });
      },
      close(): void {},
    };
  }

  close(): void {
    this.closed = true;
    for (const c of this.cleanup.splice(0)) c();
  }
}

