import type { CellEventMessage } from '../../src/interface/operator.js';
import { CellRun, type RunOptions } from '../../src/runtime/run.js';
import { VirtualClock } from '../../src/time/clock.js';
import { DEMO_PATH } from './helpers.js';
import type { State } from '../machines/packmlTable.js';

/**
 * A demo cell on the simulator in virtual time, driven only as an operator would: commands on
 * /workcell/command, and physical inputs (e-stop, guard door) on the simulated devices.
 */
export class DemoCell {
  readonly run: CellRun;
  readonly events: CellEventMessage[] = [];

  /** `beforeStart` acts on the simulated cell before the controller boots (e.g. an e-stop already pressed). */
  constructor(options: Partial<RunOptions> & { beforeStart?: (run: CellRun) => void } = {}) {
    const { beforeStart, ...runOptions } = options;
    this.run = new CellRun({ cellPath: DEMO_PATH, virtualTime: true, keepJournal: true, seed: 5, ...runOptions });
    this.run.bus.subscribe(this.run.controller.topics.events, (m) => this.events.push(JSON.parse(m.data) as CellEventMessage));
    beforeStart?.(this.run);
    this.run.start();
  }

  get clock(): VirtualClock {
    return this.run.clock as VirtualClock;
  }

  get state(): string {
    return this.run.state;
  }

  send(word: string): void {
    this.run.send(word);
  }

  /** Let virtual time run until the cell is in `state` (or fail after `limitMs` of cell time). */
  until(state: string, limitMs = 120_000): void {
    const end = this.clock.now() + limitMs;
    while (this.run.state !== state) {
      if (this.clock.now() > end || !this.clock.step()) {
        throw new Error(`cell did not reach ${state} (it is ${this.run.state} at t=${this.clock.now()} ms)`);
      }
    }
  }

  advance(ms: number): void {
    this.clock.advanceBy(ms);
  }

  pressEstop(pressed: boolean): void {
    this.run.sim.setInput('safety_io', 'estop_ok', !pressed);
  }

  openGuard(open: boolean): void {
    this.run.sim.setInput('safety_io', 'guard_closed', !open);
  }

  lastCommandEvent(): CellEventMessage | undefined {
    return [...this.events].reverse().find((e) => e.type === 'command.accepted' || e.type === 'command.rejected');
  }

  close(): void {
    this.run.close();
  }
}

/** How to bring the demo cell into each state through the operator interface. */
export const reach: Record<State, (c: DemoCell) => void> = {
  Stopped: () => {},
  Resetting: (c) => c.send('reset'),
  Idle: (c) => (c.send('reset'), c.until('Idle')),
  Starting: (c) => (reach.Idle(c), c.send('start')),
  Execute: (c) => (reach.Starting(c), c.until('Execute')),
  Holding: (c) => (reach.Execute(c), c.send('hold')),
  Held: (c) => (reach.Holding(c), c.until('Held')),
  Unholding: (c) => (reach.Held(c), c.send('unhold')),
  Suspending: (c) => (reach.Execute(c), c.send('suspend')),
  Suspended: (c) => (reach.Suspending(c), c.until('Suspended')),
  Unsuspending: (c) => (reach.Suspended(c), c.send('unsuspend')),
  Stopping: (c) => (reach.Execute(c), c.send('stop')),
  // From a standstill the simulator confirms the safe state at once; with the arm mid-move its
  // category 1 stop takes time, so Aborting can be seen.
  Aborting: (c) => (reach.Execute(c), c.advance(200), c.send('abort')),
  Aborted: (c) => (c.send('abort'), c.until('Aborted')),
  Clearing: (c) => (reach.Aborted(c), c.send('clear')),
  // A lot of one part: Execute moves on to Completing once that part has been released.
  Completing: (c) => (reach.Execute(c), c.until('Completing')),
  Complete: (c) => (reach.Completing(c), c.until('Complete')),
};

