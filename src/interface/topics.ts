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

/**
 * Check an operator-interface namespace against the rules rmw applies to absolute names, so a bad
 * one is refused here, naming the rule it breaks, rather than by rcl at start-up.
 */
export function validateNamespace(namespace: string): string {
  const problem = namespaceProblem(namespace);
  if (problem !== undefined) {
    throw new Error(
      `namespace ${JSON.stringify(namespace)} is not an absolute ROS name: ${problem} (expected something like /workcell or /line_1/cell_2)`,
    );
  }
  return namespace;
}

function namespaceProblem(namespace: unknown): string | undefined {
  if (typeof namespace !== 'string') return `it is a ${typeof namespace}, not a string`;
  if (namespace === '') return 'it is empty';
  if (!namespace.startsWith('/')) {
    return namespace.startsWith('~') ? 'a private name (~) resolves under the node\'s own name' : 'it is relative (does not start with /)';
  }
  if (namespace === '/') return 'the root namespace would put the topics at //command';
  if (namespace.endsWith('/')) return 'it ends with /';
  if (namespace.includes('//')) return 'it contains //';
  const badCharacter = /[^A-Za-z0-9_/]/.exec(namespace);
  if (badCharacter) return `character ${JSON.stringify(badCharacter[0])} at ${badCharacter.index} (only letters, digits, _ and /)`;
  const digitFirst = namespace.split('/').find((token) => /^[0-9]/.test(token));
  if (digitFirst !== undefined) return `"${digitFirst}" starts with a digit`;
  return undefined;
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
