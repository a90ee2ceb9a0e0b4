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

type Listener = (message: unknown) => void;

interface TopicSlot {
  type: string;
  latched: boolean;
  listeners: Set<Listener>;
  last?: { message: unknown };
}

export class EmbeddedBus implements Bus {
  private readonly topics = new Map<string, TopicSlot>();
  private readonly queue: Array<{ slot: TopicSlot; listeners: Listener[]; message: unknown }> = [];
  private delivering = false;

  publish<D extends TopicDef>(topic: D, message: MessageOf<D>): void {
    const slot = this.slot(topic);
    if (slot.latched) slot.last = { message };
    this.enqueue(slot, [...slot.listeners], message);
  }

  subscribe<D extends TopicDef>(topic: D, listener: (message: MessageOf<D>) => void): Unsubscribe {
    const slot = this.slot(topic);
    const l = listener as Listener;
    slot.listeners.add(l);
    if (slot.latched && slot.last) this.enqueue(slot, [l], slot.last.message);
    return () => {
      slot.listeners.delete(l);
    };
  }

  /** The last message of a latched topic, as a late subscriber would receive it. */
  latest<D extends TopicDef>(topic: D): MessageOf<D> | undefined {
    return this.topics.get(topic.name)?.last?.message as MessageOf<D> | undefined;
  }

  private slot(topic: TopicDef): TopicSlot {
    let slot = this.topics.get(topic.name);
    if (!slot) {
      slot = { type: topic.type, latched: topic.latched, listeners: new Set() };
      this.topics.set(topic.name, slot);
    } else if (slot.type !== topic.type || slot.latched !== topic.latched) {
      throw new TypeError(
        `topic ${topic.name} is already ${slot.type}${slot.latched ? ' (latched)' : ''}; cannot use it as ${topic.type}${topic.latched ? ' (latched)' : ''}`,
      );
    }
    return slot;
  }

  private enqueue(slot: TopicSlot, listeners: Listener[], message: unknown): void {
    this.queue.push({ slot, listeners, message });
    if (this.delivering) return;
    this.delivering = true;
    const errors: unknown[] = [];
    try {
      for (let item = this.queue.shift(); item; item = this.queue.shift()) {
        for (const listener of item.listeners) {
          // Unsubscribed while this message was queued: it no longer wants it.
          if (!item.slot.listeners.has(listener)) continue;
          try {
            listener(item.message);
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
