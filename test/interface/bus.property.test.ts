/**
 * The bus's ordering and latching promises over random programs of publish, subscribe and
 * unsubscribe, issued both from outside and from inside subscribers while a delivery is running.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../src/interface/bus.js';
import type { TopicDef } from '../../src/interface/topics.js';

const TOPICS: Array<TopicDef<'std_msgs/msg/String'>> = [
  { name: '/p/latched_a', type: 'std_msgs/msg/String', latched: true, description: '' },
  { name: '/p/latched_b', type: 'std_msgs/msg/String', latched: true, description: '' },
  { name: '/p/plain_a', type: 'std_msgs/msg/String', latched: false, description: '' },
  { name: '/p/plain_b', type: 'std_msgs/msg/String', latched: false, description: '' },
];

type Operation =
  | { op: 'publish'; topic: number; nested: boolean }
  | { op: 'subscribe'; topic: number; nested: boolean }
  | { op: 'unsubscribe'; target: number; nested: boolean };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('publish' as const), topic: fc.nat(TOPICS.length - 1), nested: fc.boolean() }),
  },
  fc.record({ op: fc.constant('subscribe' as const), topic: fc.nat(TOPICS.length - 1), nested: fc.boolean() }),
  fc.record({ op: fc.constant('unsubscribe' as const), target: fc.nat(40), nested: fc.boolean() }),
);

interface Subscriber {
  topic: number;
  active: boolean;
  /** Index of the latest message on its topic when it subscribed, or -1. */
  latestAtSubscribe: number;
  /** Index of the last message published (any topic) before it subscribed, or -1. */
  publishedBefore: number;
  received: number[];
  /** Undefined until subscribe() returns (a latched message is delivered before it does). */
  unsubscribe?: () => void;
}

interface Published {
  topic: number;
  /** Subscribers subscribed when it was published. */
  audience: number[];
}

/**
 * Runs a program. "Nested" operations are not run where they stand: they wait in a queue, and the
 * next delivery to any subscriber runs one of them from inside that subscriber.
 */
function runProgram(program: Operation[]) {
  const bus = new EmbeddedBus();
  const subscribers: Subscriber[] = [];
  const published: Published[] = [];
  const latest: number[] = TOPICS.map(() => -1);
  const violations: string[] = [];
  const deferred: Operation[] = [];

  const execute = (operation: Operation) => {
    if (operation.op === 'publish') {
      const index = published.length;
      published.push({
        topic: operation.topic,
        audience: subscribers.flatMap((s, id) => (s.active && s.topic === operation.topic ? [id] : [])),
      });
      latest[operation.topic] = index;
      bus.publish(TOPICS[operation.topic]!, { data: String(index) });
    } else if (operation.op === 'subscribe') {
      const id = subscribers.length;
      const subscriber: Subscriber = {
        topic: operation.topic,
        active: true,
        latestAtSubscribe: latest[operation.topic]!,
        publishedBefore: published.length - 1,
        received: [],
      };
      subscribers.push(subscriber);
      subscriber.unsubscribe = bus.subscribe(TOPICS[operation.topic]!, (message) => {
        if (!subscriber.active) violations.push(`subscriber ${id} got message ${message.data} after unsubscribing`);
        subscriber.received.push(Number(message.data));
        const next = deferred.shift();
        if (next) execute(next);
      });
    } else {
      const unsubscribable = subscribers.filter((s) => s.active && s.unsubscribe !== undefined);
      const subscriber = unsubscribable[operation.target % Math.max(1, unsubscribable.length)];
      if (subscriber) {
        subscriber.active = false;
        subscriber.unsubscribe!();
      }
    }
  };

  for (const operation of program) {
    if (operation.nested) deferred.push(operation);
    else execute(operation);
  }
  return { subscribers, published, violations };
}

describe('EmbeddedBus under random interleavings', () => {
  it('keeps publish order, latching and unsubscribe promises for every subscriber', () => {
    fc.assert(
      fc.property(fc.array(operation, { minLength: 5, maxLength: 80, size: 'medium' }), (program) => {
        const { subscribers, published, violations } = runProgram(program);
        expect(violations).toEqual([]);

        subscribers.forEach((subscriber, id) => {
          const latched = TOPICS[subscriber.topic]!.latched;
          for (const index of subscriber.received) {
            expect(published[index]!.topic, `subscriber ${id} got another topic's message`).toBe(subscriber.topic);
          }
          // Publish order, each message at most once.
          for (let i = 1; i < subscriber.received.length; i++) {
            expect(subscriber.received[i]!).toBeGreaterThan(subscriber.received[i - 1]!);
          }
          // Nothing older than what it may see: the latched message, or only later ones.
          const oldestAllowed = latched ? subscriber.latestAtSubscribe : subscriber.publishedBefore + 1;
          for (const index of subscriber.received) expect(index).toBeGreaterThanOrEqual(oldestAllowed);
          // A subscriber still subscribed got the latched message first (it was queued when it joined).
          if (latched && subscriber.active && subscriber.latestAtSubscribe >= 0) {
            expect(subscriber.received[0]).toBe(subscriber.latestAtSubscribe);
          }
        });

        // Everyone subscribed at publish time and still subscribed at the end received it.
        published.forEach((message, index) => {
          for (const id of message.audience) {
            if (subscribers[id]!.active) expect(subscribers[id]!.received, `subscriber ${id}, message ${index}`).toContain(index);
          }
        });
      }),
      { numRuns: 1500 },
    );
  });
});
