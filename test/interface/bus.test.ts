import { describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../src/interface/bus.js';
import type { DiagnosticArray } from '../../src/interface/messages.js';
import { operatorTopics, type TopicDef } from '../../src/interface/topics.js';

const topics = operatorTopics();
const text = (data: string) => ({ data });

/** Collects what each named subscriber received, in one shared log so cross-subscriber order shows. */
function recorder() {
  const log: string[] = [];
  const listen = (who: string) => (message: { data: string }) => {
    log.push(`${who}:${message.data}`);
  };
  return { log, listen };
}

describe('EmbeddedBus latching', () => {
  it('gives a late subscriber to a latched topic the last message only, exactly once', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    bus.publish(topics.state, text('s1'));
    bus.publish(topics.state, text('s2'));
    bus.publish(topics.state, text('s3'));

    bus.subscribe(topics.state, listen('late'));
    expect(log).toEqual(['late:s3']);

    bus.publish(topics.state, text('s4'));
    bus.publish(topics.events, text('e1'));
    expect(log).toEqual(['late:s3', 'late:s4']);
  });

  it('does not replay to a subscriber that was there before the first message', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    bus.subscribe(topics.state, listen('early'));
    expect(log).toEqual([]);
    bus.publish(topics.state, text('s1'));
    bus.publish(topics.state, text('s2'));
    expect(log).toEqual(['early:s1', 'early:s2']);
  });

  it('keeps the last message of a latched topic readable through latest()', () => {
    const bus = new EmbeddedBus();
    expect(bus.latest(topics.state)).toBeUndefined();
    bus.publish(topics.state, text('s1'));
    bus.publish(topics.state, text('s2'));
    expect(bus.latest(topics.state)).toEqual(text('s2'));
    bus.publish(topics.events, text('e1'));
    expect(bus.latest(topics.events)).toBeUndefined();
  });

  it('gives a late subscriber to a non-latched topic nothing from before it subscribed', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    bus.publish(topics.events, text('e1'));
    bus.publish(topics.command, text('start'));
    bus.subscribe(topics.events, listen('late'));
    bus.subscribe(topics.command, listen('lateCommand'));
    expect(log).toEqual([]);
    bus.publish(topics.events, text('e2'));
    expect(log).toEqual(['late:e2']);
  });

  it('replays to a subscriber added from inside a subscriber after the message being delivered', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    let added = false;
    bus.subscribe(topics.state, (message) => {
      log.push(`first:${message.data}`);
      if (!added) {
        added = true;
        bus.subscribe(topics.state, listen('added'));
      }
    });
    bus.subscribe(topics.state, listen('second'));
    bus.publish(topics.state, text('s1'));
    // "added" joined while s1 was being delivered: it gets s1 once, as the latched message, after
    // everyone who was subscribed when s1 was published.
    expect(log).toEqual(['first:s1', 'second:s1', 'added:s1']);
    bus.publish(topics.state, text('s2'));
    expect(log.slice(3)).toEqual(['first:s2', 'second:s2', 'added:s2']);
  });
});

describe('EmbeddedBus ordering', () => {
  it('delivers a message published from inside a subscriber after the current one, to everyone', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    bus.subscribe(topics.events, (message) => {
      log.push(`A:${message.data}`);
      if (message.data === 'm1') bus.publish(topics.events, text('m2'));
    });
    bus.subscribe(topics.events, listen('B'));
    bus.publish(topics.events, text('m1'));
    // Without the queue, B would see m2 before m1.
    expect(log).toEqual(['A:m1', 'B:m1', 'A:m2', 'B:m2']);
  });

  it('queues messages on other topics published from a subscriber behind the current one', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    bus.subscribe(topics.command, (message) => {
      log.push(`controller:${message.data}`);
      bus.publish(topics.events, text(`accepted ${message.data}`));
      bus.publish(topics.state, text('Starting'));
    });
    bus.subscribe(topics.command, listen('audit'));
    bus.subscribe(topics.events, listen('hmiEvents'));
    bus.subscribe(topics.state, listen('hmiState'));
    bus.publish(topics.command, text('start'));
    expect(log).toEqual(['controller:start', 'audit:start', 'hmiEvents:accepted start', 'hmiState:Starting']);
  });

  it('has delivered everything, nested messages included, when the outer publish returns', () => {
    const bus = new EmbeddedBus();
    const received: string[] = [];
    bus.subscribe(topics.events, (message) => {
      received.push(message.data);
      const depth = Number(message.data);
      if (depth < 5) bus.publish(topics.events, text(String(depth + 1)));
    });
    bus.publish(topics.events, text('0'));
    expect(received).toEqual(['0', '1', '2', '3', '4', '5']);
  });
});

describe('EmbeddedBus unsubscribe', () => {
  it('stops delivery; calling the handle twice is harmless', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    const unsubscribe = bus.subscribe(topics.events, listen('A'));
    bus.publish(topics.events, text('e1'));
    unsubscribe();
    unsubscribe();
    bus.publish(topics.events, text('e2'));
    expect(log).toEqual(['A:e1']);
  });

  it('drops a message already queued for a subscriber that unsubscribed before its turn', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    let unsubscribeB = () => {};
    bus.subscribe(topics.events, (message) => {
      log.push(`A:${message.data}`);
      if (message.data === 'm1') {
        bus.publish(topics.events, text('m2')); // queued, with B among its recipients
        unsubscribeB(); // B also has m1 still to come
      }
    });
    unsubscribeB = bus.subscribe(topics.events, listen('B'));
    bus.publish(topics.events, text('m1'));
    expect(log).toEqual(['A:m1', 'A:m2']);
  });

  it('drops a latched replay queued for a subscriber that unsubscribed before it was delivered', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    bus.publish(topics.state, text('s1'));
    bus.subscribe(topics.events, () => {
      const unsubscribe = bus.subscribe(topics.state, listen('late'));
      unsubscribe();
    });
    bus.publish(topics.events, text('e1'));
    expect(log).toEqual([]);
  });

  it('treats each subscribe call as its own subscription, even with the same function', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    const listener = listen('f');
    const first = bus.subscribe(topics.events, listener);
    bus.subscribe(topics.events, listener);
    bus.publish(topics.events, text('e1'));
    first();
    bus.publish(topics.events, text('e2'));
    expect(log).toEqual(['f:e1', 'f:e1', 'f:e2']);
  });

  it('does not hand a re-subscribed function a message queued for its earlier subscription', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    const listener = listen('f');
    let unsubscribeF = () => {};
    bus.subscribe(topics.events, (message) => {
      if (message.data !== 'm1') return;
      bus.publish(topics.events, text('m2')); // queued for the first subscription of f
      unsubscribeF();
      bus.subscribe(topics.events, listener); // subscribed after m2 was published
    });
    unsubscribeF = bus.subscribe(topics.events, listener);
    bus.publish(topics.events, text('m1'));
    bus.publish(topics.events, text('m3'));
    expect(log).toEqual(['f:m3']);
  });
});

describe('EmbeddedBus failing subscribers', () => {
  it('delivers to the others and throws the error to the publisher', () => {
    const bus = new EmbeddedBus();
    const { log, listen } = recorder();
    const failure = new Error('HMI crashed');
    bus.subscribe(topics.events, listen('before'));
    bus.subscribe(topics.events, () => {
      throw failure;
    });
    bus.subscribe(topics.events, listen('after'));
    expect(() => bus.publish(topics.events, text('e1'))).toThrow(failure);
    expect(log).toEqual(['before:e1', 'after:e1']);

    // The bus is not left half-delivering: the next message goes out normally (and fails again).
    expect(() => bus.publish(topics.events, text('e2'))).toThrow(failure);
    expect(log).toEqual(['before:e1', 'after:e1', 'before:e2', 'after:e2']);
  });

  it('reports several failures together as an AggregateError', () => {
    const bus = new EmbeddedBus();
    const first = new Error('first');
    const second = new Error('second');
    bus.subscribe(topics.events, () => {
      throw first;
    });
    bus.subscribe(topics.events, () => {
      throw second;
    });
    let caught: unknown;
    try {
      bus.publish(topics.events, text('e1'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AggregateError);
    expect((caught as AggregateError).errors).toEqual([first, second]);
    expect((caught as AggregateError).message).toBe('2 bus subscribers failed');
  });

  it('surfaces a failure in a nested delivery to the outer publisher, not inside the subscriber', () => {
    const bus = new EmbeddedBus();
    const failure = new Error('state consumer failed');
    let nestedPublishThrew = false;
    bus.subscribe(topics.command, () => {
      try {
        bus.publish(topics.state, text('Starting'));
      } catch {
        nestedPublishThrew = true;
      }
    });
    bus.subscribe(topics.state, () => {
      throw failure;
    });
    expect(() => bus.publish(topics.command, text('start'))).toThrow(failure);
    expect(nestedPublishThrew).toBe(false);
  });

  it('leaves no subscription behind when the latched replay throws out of subscribe', () => {
    const bus = new EmbeddedBus();
    const failure = new Error('cannot render');
    const received: string[] = [];
    bus.publish(topics.state, text('s1'));
    expect(() =>
      bus.subscribe(topics.state, (message) => {
        received.push(message.data);
        throw failure;
      }),
    ).toThrow(failure);
    // The caller never got an unsubscribe handle, so the listener must not stay subscribed.
    expect(() => bus.publish(topics.state, text('s2'))).not.toThrow();
    expect(received).toEqual(['s1']);
  });
});

describe('EmbeddedBus topic types', () => {
  const stateAsDiagnostics: TopicDef<'diagnostic_msgs/msg/DiagnosticArray'> = {
    name: '/workcell/state',
    type: 'diagnostic_msgs/msg/DiagnosticArray',
    latched: true,
    description: 'wrong type on purpose',
  };
  const emptyDiagnostics: DiagnosticArray = { header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' }, status: [] };

  it('refuses a topic name reused with another type, naming the topic and both types', () => {
    const bus = new EmbeddedBus();
    const received: unknown[] = [];
    bus.subscribe(topics.state, (message) => received.push(message));
    expect(() => bus.publish(stateAsDiagnostics, emptyDiagnostics)).toThrow(
      'topic /workcell/state is already std_msgs/msg/String (latched); cannot use it as diagnostic_msgs/msg/DiagnosticArray (latched)',
    );
    expect(() => bus.subscribe(stateAsDiagnostics, () => {})).toThrow(TypeError);
    expect(received).toEqual([]);
  });

  it('refuses a topic name reused with other latching', () => {
    const bus = new EmbeddedBus();
    bus.publish(topics.state, text('s1'));
    const stateUnlatched: TopicDef<'std_msgs/msg/String'> = { ...topics.state, latched: false };
    expect(() => bus.subscribe(stateUnlatched, () => {})).toThrow(
      'topic /workcell/state is already std_msgs/msg/String (latched); cannot use it as std_msgs/msg/String',
    );
  });

  it('accepts an equal definition of a topic built separately', () => {
    const bus = new EmbeddedBus();
    const received: string[] = [];
    bus.subscribe(operatorTopics('/workcell').events, (message) => received.push(message.data));
    bus.publish(operatorTopics().events, text('e1'));
    expect(received).toEqual(['e1']);
  });
});
