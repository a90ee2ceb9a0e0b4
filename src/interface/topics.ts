/**
 * The operator interface, defined once: every face (embedded bus, ROS 2, WebSocket bridge, HMI,
 * tests) uses these names, types and QoS. Names are absolute under the configured namespace,
 * never relative (a relative name would resolve under the ROS node's own name).
 */
import type { RosMessageTypes, RosTypeName } from './messages.js';

export interface TopicDef<T extends RosTypeName = RosTypeName> {
  name: string;
  type: T;
  /** Latched (ROS: transient_local + reliable): a late subscriber receives the last message. */
  latched: boolean;
  description: string;
}

export type MessageOf<D> = D extends TopicDef<infer T> ? RosMessageTypes[T] : never;

export const DEFAULT_NAMESPACE = '/workcell';

export function validateNamespace(namespace: string): string {
  if (!/^\/[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/.test(namespace)) {
    throw new Error(
      `namespace "${namespace}" is not an absolute ROS name (expected something like /workcell or /line_1/cell_2)`,
    );
  }
  return namespace;
}

export function operatorTopics(namespace: string = DEFAULT_NAMESPACE) {
  const ns = validateNamespace(namespace);
  return {
    command: {
      name: `${ns}/command`,
      type: 'std_msgs/msg/String',
      latched: false,
      description: 'Operator commands, one word each: reset, start, stop, hold, unhold, suspend, unsuspend, abort, clear, ack, or "mode production|maintenance|manual".',
    },
    state: {
      name: `${ns}/state`,
      type: 'std_msgs/msg/String',
      latched: true,
      description: 'Cell state as JSON (see docs/operator-interface.md); latched, published on every change.',
    },
    events: {
      name: `${ns}/events`,
      type: 'std_msgs/msg/String',
      latched: false,
      description: 'Events as JSON: accepted and rejected commands with the reason, faults, recoveries.',
    },
    // ROS convention: diagnostics aggregate on the global /diagnostics topic, outside any namespace.
    diagnostics: {
      name: '/diagnostics',
      type: 'diagnostic_msgs/msg/DiagnosticArray',
      latched: false,
      description: 'Device health in diagnostic_msgs/DiagnosticArray form, one status per device.',
    },
  } as const satisfies Record<string, TopicDef>;
}

export type OperatorTopics = ReturnType<typeof operatorTopics>;
