/**
 * Steps: one command to one device, with a postcondition read from feedback and a deadline on the
 * cell clock. A confirmation that is late, missing, or contradicts the command is a missed step.
 */
import type { FaultKind } from '../cell/schema.js';
import type { DeviceCommand } from '../devices/types.js';
import type { Clock, TimerId } from '../time/clock.js';

export interface StepSpec {
  device: string;
  /** Name in the cycle, e.g. descend_to_pick, index, release. */
  name: string;
  command: DeviceCommand;
  partId?: string;
  /** Expected duration; the deadline is expected x factor + margin from the device description. */
  expectedMs: number;
  /** The postcondition, read from live state. */
  confirmed(): boolean;
  /**
   * When the device reports the motion done, may the step still be confirmed later? False for
   * moves whose measured end state is final (an arm move, an index): a mismatch then is a miss.
   */
  waitsAfterMotionDone: boolean;
  /** What was believed and what is measured, for the fault record. */
  evidence(): { believed: unknown; measured: unknown };
  fault: FaultKind;
  /** For steps whose postcondition has several parts: which fault a miss is, from what failed. */
  diagnose?(): FaultKind;
  /** Belief update when the command has actually left for the device (e.g. a part id is assigned). */
  onDispatched?(): void;
  /** Belief update when confirmed. */
  onConfirmed?(): void;
}

export interface ActiveStep extends StepSpec {
  id: number;
  startedAt: number;
  deadlineAt: number;
  motionDone: boolean;
  timer: TimerId;
}

export type StepOutcome =
  /**
   * `via: 'measurement'`: the device's own done message never came, but at the deadline the
   * measured state shows the step happened (a lost confirmation is not a missed step).
   */
  | { kind: 'confirmed'; step: ActiveStep; via: 'feedback' | 'measurement' }
  | { kind: 'missed'; step: ActiveStep; reason: 'late' | 'contradicted'; fault: FaultKind };

/** At most one step per device; confirms or misses them as feedback and time arrive. */
export class StepRunner {
  private readonly active = new Map<string, ActiveStep>();
  private nextId = 1;
  /** Bumped whenever a step begins or ends: a cheap "anything changed?" for observers. */
  version = 0;

  constructor(
    private readonly clock: Clock,
    private readonly deadlineFor: (device: string, expectedMs: number) => number,
    private readonly onOutcome: (outcome: StepOutcome) => void,
  ) {}

  busy(device: string): boolean {
    return this.active.has(device);
  }

  get(device: string): ActiveStep | undefined {
    return this.active.get(device);
  }

  get size(): number {
    return this.active.size;
  }

  all(): ActiveStep[] {
    return [...this.active.values()];
  }

  begin(spec: StepSpec): ActiveStep {
    if (this.active.has(spec.device)) throw new Error(`${spec.device} already has step ${this.active.get(spec.device)!.name} in progress`);
    const deadline = this.deadlineFor(spec.device, spec.expectedMs);
    const step: ActiveStep = {
      ...spec,
      id: this.nextId++,
      startedAt: this.clock.now(),
      deadlineAt: this.clock.now() + deadline,
      motionDone: false,
      timer: this.clock.setTimeout(() => this.expire(spec.device, step.id), deadline),
    };
    this.active.set(spec.device, step);
    this.version++;
    return step;
  }

  /** The device reported the end of the motion this step commanded. */
  motionDone(device: string): void {
    const step = this.active.get(device);
    if (!step) return;
    step.motionDone = true;
    if (step.confirmed()) this.finish(step, { kind: 'confirmed', step, via: 'feedback' });
    else if (!step.waitsAfterMotionDone) this.miss(step, 'contradicted');
  }

  /** Something changed: confirm every step whose postcondition now holds. */
  evaluate(): void {
    for (const step of [...this.active.values()]) {
      // A move is confirmed at its end (the device says done and the measurement agrees), not
      // when it passes through the target on the way.
      const needsMotionDone = !step.waitsAfterMotionDone;
      if (needsMotionDone && !step.motionDone) continue;
      if (step.confirmed()) this.finish(step, { kind: 'confirmed', step, via: 'feedback' });
    }
  }

  /** Forget one device's step (a stop cut its motion); its outcome is not reported. */
  abandon(device: string): ActiveStep | undefined {
    const step = this.active.get(device);
    if (!step) return undefined;
    this.clock.clearTimeout(step.timer);
    this.active.delete(device);
    this.version++;
    return step;
  }

  /** Forget every step (an abort cut them); their outcomes are not reported. */
  abandonAll(): ActiveStep[] {
    const steps = [...this.active.values()];
    for (const s of steps) this.clock.clearTimeout(s.timer);
    this.active.clear();
    this.version++;
    return steps;
  }

  private expire(device: string, id: number): void {
    const step = this.active.get(device);
    if (!step || step.id !== id) return;
    if (!step.confirmed()) this.miss(step, 'late');
    else this.finish(step, { kind: 'confirmed', step, via: step.waitsAfterMotionDone || step.motionDone ? 'feedback' : 'measurement' });
  }

  private miss(step: ActiveStep, reason: 'late' | 'contradicted'): void {
    this.finish(step, { kind: 'missed', step, reason, fault: step.diagnose?.() ?? step.fault });
  }

  private finish(step: ActiveStep, outcome: StepOutcome): void {
    this.clock.clearTimeout(step.timer);
    this.active.delete(step.device);
    this.version++;
    if (outcome.kind === 'confirmed') step.onConfirmed?.();
    this.onOutcome(outcome);
  }
}
