/**
 * The physics around a station board's axis: a belt moved by the STEP pulses the firmware
 * produces (while the driver is enabled), a quadrature encoder that counts the belt's real travel,
 * and a home switch. Slip is simulated by step pulses that do not move the belt, so the encoder
 * shows them as lost.
 */
import { AXIS_PINS } from '../serial/protocol.js';
import type { AvrStation } from './avr.js';

export interface ConveyorPhysicsOptions {
  stepsPerMm: number;
  encoderCountsPerMm: number;
  /** Home marks along the belt, every `everyMm` (a cleat); the switch is on within halfWidthMm of one. */
  homeMarks: { everyMm: number; halfWidthMm: number };
  /** Belt position at power-up, mm from a home mark. */
  startMm: number;
  /** Electrical level of the home switch on a mark. */
  homeActiveLevel: 0 | 1;
}

/** Quadrature states (A, B) in downstream order: A leads B. */
const QUADRATURE: ReadonlyArray<readonly [boolean, boolean]> = [
  [false, false],
  [true, false],
  [true, true],
  [false, true],
];

export class ConveyorPhysics {
  /** Belt travel in motor steps since power-up (only steps that moved it). */
  beltSteps = 0;
  stepPulses = 0;
  lostSteps = 0;
  /** Wall time (Date.now()) of the last step pulse. */
  lastStepAt = 0;
  private slipPending = 0;
  private encoderEmitted = 0;
  private readonly listeners: Array<(beltMm: number) => void> = [];
  /** Replaces the home marks (a shared simulated world decides where the marks are). */
  homeAt: ((beltMm: number) => boolean) | undefined;

  constructor(
    private readonly station: AvrStation,
    private readonly options: ConveyorPhysicsOptions,
  ) {
    station.onPinChange((pin, level) => {
      if (pin === AXIS_PINS.step && level === 1) this.stepPulse();
    });
    this.driveEncoder();
    this.updateHome();
  }

  get beltMm(): number {
    return this.options.startMm + this.beltSteps / this.options.stepsPerMm;
  }

  get driveEnabled(): boolean {
    return this.station.level(AXIS_PINS.enable) === 0;
  }

  /** The next `steps` step pulses do not move the belt. */
  slip(steps: number): void {
    this.slipPending += steps;
  }

  onMove(listener: (beltMm: number) => void): void {
    this.listeners.push(listener);
  }

  private stepPulse(): void {
    this.stepPulses++;
    this.lastStepAt = Date.now();
    if (!this.driveEnabled) return; // an unpowered driver ignores STEP
    if (this.slipPending > 0) {
      this.slipPending--;
      this.lostSteps++;
      return;
    }
    this.beltSteps += this.station.level(AXIS_PINS.dir) === 1 ? 1 : -1;
    this.driveEncoder();
    this.updateHome();
    for (const l of this.listeners) l(this.beltMm);
  }

  private driveEncoder(): void {
    const target = Math.floor((this.beltSteps * this.options.encoderCountsPerMm) / this.options.stepsPerMm);
    while (this.encoderEmitted !== target) {
      this.encoderEmitted += target > this.encoderEmitted ? 1 : -1;
      // Gray code: one of A and B changes per count, so each call below makes at most one edge.
      const [a, b] = QUADRATURE[((this.encoderEmitted % 4) + 4) % 4]!;
      this.station.setInput(AXIS_PINS.encoderA, a);
      this.station.setInput(AXIS_PINS.encoderB, b);
    }
  }

  updateHome(): void {
    const x = this.beltMm;
    const { everyMm, halfWidthMm } = this.options.homeMarks;
    const offset = ((x % everyMm) + everyMm) % everyMm;
    const onMark = this.homeAt ? this.homeAt(x) : Math.min(offset, everyMm - offset) <= halfWidthMm + 1e-9;
    const level = onMark ? this.options.homeActiveLevel === 1 : this.options.homeActiveLevel === 0;
    this.station.setInput(AXIS_PINS.home, level);
  }
}
