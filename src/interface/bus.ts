/**
 * Typed publish/subscribe over the operator interface's topics.
 *
 * `EmbeddedBus` is the in-process implementation: the default wherever ROS 2 is absent and what
 * the tests drive. Delivery is synchronous but never re-entrant: a message published from inside
 * a subscriber is queued and delivered after the current one, so every subscriber sees every
 * topic's messages in publish order.
 */
import type { MessageOf, TopicDef } from './topics.js';

export type Unsubscribe = () => void;

export interface Bus {
  publish<D extends TopicDef>(topic: D, message: MessageOf<D>): void;
  subscribe<D extends TopicDef>(topic: D, listener: (message: MessageOf<D>) => void): Unsubscribe;
}

/**
 * One subscribe() call. Kept as its own object (not the bare function) so the same function
 * subscribed twice is two subscriptions, and a function that unsubscribes and subscribes again
 * does not receive messages queued for its earlier subscription.
 */
interface Subscription {
  listener: (message: unknown) => void;
}

interface TopicSlot {
  type: string;
  latched: boolean;
  subscriptions: Set<Subscription>;
  last?: { message: unknown };
}

export class EmbeddedBus implements Bus {
  private readonly topics = new Map<string, TopicSlot>();
  private readonly queue: Array<{ slot: TopicSlot; subscriptions: Subscription[]; message: unknown }> = [];
  private delivering = false;

  publish<D extends TopicDef>(topic: D, message: MessageOf<D>): void {
    const slot = this.slot(topic);
    if (slot.latched) slot.last = { message };
    this.enqueue(slot, [...slot.subscriptions], message);
  }

  subscribe<D extends TopicDef>(topic: D, listener: (message: MessageOf<D>) => void): Unsubscribe {
    const slot = this.slot(topic);
    const subscription: Subscription = { listener: listener as (message: unknown) => void };
    slot.subscriptions.add(subscription);
    const unsubscribe = () => {
      slot.subscriptions.delete(subscription);
    };
    if (slot.latched && slot.last) {
      try {
        this.enqueue(slot, [subscription], slot.last.message);
      } catch (error) {
        // The caller gets the error instead of the handle, so it could never unsubscribe:
        // a subscribe that throws leaves no subscription behind.
        unsubscribe();
        throw error;
      }
    }
    return unsubscribe;
  }

  /** The last message of a latched topic, as a late subscriber would receive it. */
  latest<D extends TopicDef>(topic: D): MessageOf<D> | undefined {
    return this.topics.get(topic.name)?.last?.message as MessageOf<D> | undefined;
  }

  private slot(topic: TopicDef): TopicSlot {
    let slot = this.topics.get(topic.name);
    if (!slot) {
      slot = { type: topic.type, latched: topic.latched, subscriptions: new Set() };
      this.topics.set(topic.name, slot);
    } else if (slot.type !== topic.type || slot.latched !== topic.latched) {
      throw new TypeError(
        `topic ${topic.name} is already ${slot.type}${slot.latched ? ' (latched)' : ''}; cannot use it as ${topic.type}${topic.latched ? ' (latched)' : ''}`,
      );
    }
    return slot;
  }

  private enqueue(slot: TopicSlot, subscriptions: Subscription[], message: unknown): void {
    this.queue.push({ slot, subscriptions, message });
    if (this.delivering) return;
    this.delivering = true;
    const errors: unknown[] = [];
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift()) {
        for (const subscription of item.subscriptions) {
          // Unsubscribed while this message was queued: it no longer wants it.
          if (!item.slot.subscriptions.has(subscription)) continue;
          try {
            subscription.listener(item.message);
          } catch (error) {
            errors.push(error);
          }
        }
      }
    } finally {
      this.delivering = false;
    }
    // One failing subscriber must not keep a message from the others; its error still surfaces.
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} bus subscribers failed`);
  }
}
