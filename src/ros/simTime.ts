/**
 * use_sim_time: a Clock that follows /clock (rosgraph_msgs/Clock), for the statecharts, the
 * steps' motion deadlines and the devices. Safety timeouts (heartbeats, safe-OK) never use it:
 * they stay on the monotonic wall clock, so a paused simulator cannot freeze fault detection.
 *
 * Time is kept relative, in ms since the first /clock sample (absolute epoch doubles lose
 * precision). Before the first sample the clock stands at 0 and no timer fires. A /clock that
 * goes back (a simulator reset) is ignored and counted: deadlines never run backwards.
 */
import { VirtualClock, type Clock, type TimerId } from '../time/clock.js';
import { msFromRosTime, type ClockMsg } from './messages.js';
import { QOS, type RosNode, type Unsubscribe } from './node.js';

export const CLOCK_TOPIC = '/clock';

export class SimTimeClock implements Clock {
  private readonly timeline = new VirtualClock();
  private epochMs: number | undefined;
  private readonly unsubscribe: Unsubscribe;
  /** /clock samples that went back in time and were ignored. */
  backwardJumps = 0;

  constructor(node: RosNode, topic: string = CLOCK_TOPIC) {
    this.unsubscribe = node.createSubscription('rosgraph_msgs/msg/Clock', topic, QOS.clock, (msg) => this.onClock(msg));
  }

  /** True once a /clock sample has arrived. */
  get started(): boolean {
    return this.epochMs !== undefined;
  }

  now(): number {
    return this.timeline.now();
  }

  setTimeout(fn: () => void, timeoutMs: number): TimerId {
    return this.timeline.setTimeout(fn, timeoutMs);
  }

  clearTimeout(id: TimerId): void {
    this.timeline.clearTimeout(id);
  }

  close(): void {
    this.unsubscribe();
  }

  private onClock(msg: ClockMsg): void {
    const ms = msFromRosTime(msg.clock);
    if (!Number.isFinite(ms)) return;
    if (this.epochMs === undefined) this.epochMs = ms;
    const t = ms - this.epochMs;
    if (t < this.timeline.now()) {
      this.backwardJumps++;
      return;
    }
    this.timeline.advanceTo(t);
  }
}
