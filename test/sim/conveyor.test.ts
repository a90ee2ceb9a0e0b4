import { describe, expect, test } from 'vitest';
import { MARK_HALF_WIDTH_MM } from '../../src/sim/index.js';
import { Harness } from './helpers.js';

/** Trapezoidal move time, ms, written out independently of the simulator. */
function trapezoidMs(mm: number, vMmS: number, aMmS2: number): number {
  return (mm >= (vMmS * vMmS) / aMmS2 ? mm / vMmS + vMmS / aMmS2 : 2 * Math.sqrt(mm / aMmS2)) * 1000;
}

describe('simulated conveyor: homing', () => {
  test('homing runs to the next mark at homing speed, then zeroes the counters there', () => {
    const h = new Harness({ seed: 3 });
    const c = h.conveyorDesc;
    expect(h.conveyor.read().axis).toEqual({ positionSteps: 0, encoderCount: 0, homed: false });
    const took = h.motion('conveyor', { type: 'home' });
    const offset = h.log.ofKind('motion')[0]!.beltMm!;
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(c.indexMm);
    expect(took).toBeCloseTo(((c.indexMm - offset) / c.axis.homingSpeedMmS) * 1000, 6);
    expect(h.conveyor.read()).toMatchObject({ moving: false, inputs: { home: true }, axis: { positionSteps: 0, encoderCount: 0, homed: true } });
    expect(h.log.ofKind('motion')[1]).toMatchObject({ event: 'end', how: 'completed', beltMm: c.indexMm });

    // Aligned: a full index brings the next mark to the sensor; the counters count from the mark.
    h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    expect(h.conveyor.read()).toMatchObject({
      inputs: { home: true },
      axis: { positionSteps: h.indexSteps(), encoderCount: c.indexMm * c.axis.encoderCountsPerMm, homed: true },
    });
  });

  test('the home input is true only while a mark is at the sensor', () => {
    const h = new Harness({ seed: 3 });
    h.home();
    const steps = Math.round((MARK_HALF_WIDTH_MM + 2) * h.conveyorDesc.axis.stepsPerMm);
    h.motion('conveyor', { type: 'index', steps });
    expect(h.conveyor.read().inputs.home).toBe(false);
    h.motion('conveyor', { type: 'index', steps: -steps });
    expect(h.conveyor.read().inputs.home).toBe(true);
  });

  test('the initial belt offset comes from the seed', () => {
    const offsetFor = (seed: number) => {
      const h = new Harness({ seed });
      h.home();
      return h.log.ofKind('motion')[0]!.beltMm;
    };
    expect(offsetFor(11)).toBe(offsetFor(11));
    expect(new Set([offsetFor(11), offsetFor(12), offsetFor(13)]).size).toBe(3);
  });

  test('a stop during homing leaves the axis unhomed', () => {
    const h = new Harness({ seed: 3 });
    h.conveyor.write({ type: 'home' });
    h.wait(100);
    h.conveyor.write({ type: 'stop' });
    h.runUntil(() => h.feedbackOf('conveyor', 'motionDone').length === 1);
    expect(h.conveyor.read().axis?.homed).toBe(false);
  });
});

describe('simulated conveyor: indexing and parts', () => {
  test('an index moves the belt and its parts by index_mm on a trapezoidal profile; the part reaches the exit sensor', () => {
    const h = new Harness();
    const c = h.conveyorDesc;
    h.home();
    h.feedPickPlace();
    expect(h.conveyor.read().inputs.part_at_exit).toBe(false);
    const t0 = h.clock.now();
    const took = h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    expect(took).toBeCloseTo(trapezoidMs(c.indexMm, c.axis.maxSpeedMmS, c.axis.accelMmS2), 6);
    expect(h.sim.parts()).toEqual([{ id: 'p1', where: 'belt', device: 'conveyor', positionMm: c.placePositionMm + c.indexMm }]);
    expect(c.placePositionMm + c.indexMm).toBe(c.exitPositionMm);
    expect(h.conveyor.read()).toMatchObject({
      inputs: { part_at_exit: true },
      axis: { positionSteps: h.indexSteps(), encoderCount: c.indexMm * c.axis.encoderCountsPerMm },
    });
    // The sensor saw the part as it entered the window, before the belt stopped.
    const atExit = h.log.ofKind('part').find((e) => e.event === 'at_exit')!;
    expect(atExit.positionMm).toBeCloseTo(c.exitPositionMm - c.sensorWindowMm, 3);
    expect(atExit.t).toBeGreaterThan(t0);
    expect(atExit.t).toBeLessThan(t0 + took);
    // Readings during the index show the counters advancing.
    const counts = h
      .feedbackOf('conveyor', 'reading')
      .filter((r) => r.t > t0)
      .map((r) => (r.feedback.type === 'reading' ? r.feedback.reading.axis!.positionSteps : NaN));
    expect(counts.length).toBeGreaterThan(10);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
  });

  test('missed steps leave the encoder and the part short, while the step counter counts them all', () => {
    const h = new Harness();
    const c = h.conveyorDesc;
    h.home();
    h.feedPickPlace();
    const missed = 100; // 10 mm: beyond the 5 mm sensor window
    h.sim.inject({ fault: 'missed_steps', device: 'conveyor', steps: missed });
    h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    const shortMm = missed / c.axis.stepsPerMm;
    expect(h.conveyor.read().axis).toEqual({
      positionSteps: h.indexSteps(),
      encoderCount: (c.indexMm - shortMm) * c.axis.encoderCountsPerMm,
      homed: true,
    });
    expect(h.sim.parts()[0]?.positionMm).toBeCloseTo(c.exitPositionMm - shortMm, 9);
    expect(h.conveyor.read().inputs.part_at_exit).toBe(false);
    // Only the next index slips.
    h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    expect(h.conveyor.read().axis?.encoderCount).toBe((2 * c.indexMm - shortMm) * c.axis.encoderCountsPerMm);
  });

  test('the downstream takes a part resting at the exit away after takeaway_ms', () => {
    const h = new Harness();
    h.home();
    h.feedPickPlace();
    h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    const t0 = h.clock.now();
    h.clock.advanceTo(t0 + h.conveyorDesc.takeawayMs - 1);
    expect(h.sim.parts()).toHaveLength(1);
    h.clock.advanceTo(t0 + h.conveyorDesc.takeawayMs);
    expect(h.sim.parts()).toEqual([]);
    expect(h.conveyor.read().inputs.part_at_exit).toBe(false);
    expect(h.sim.counts()).toMatchObject({ spawned: 1, takenAway: 1, inCell: 0 });
    expect(h.log.ofKind('part').at(-1)).toMatchObject({ part: 'p1', event: 'taken_away', device: 'conveyor' });
  });

  test('a part carried past length_mm falls off the end', () => {
    const h = new Harness();
    const c = h.conveyorDesc;
    h.home();
    h.feedPickPlace();
    h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    // Index again before the downstream takes it.
    h.motion('conveyor', { type: 'index', steps: h.indexSteps() });
    expect(h.sim.parts()).toEqual([]);
    expect(h.sim.counts()).toMatchObject({ fellOff: 1, takenAway: 0, inCell: 0 });
    const fell = h.log.ofKind('part').find((e) => e.event === 'fell_off')!;
    expect(fell.positionMm).toBeCloseTo(c.lengthMm, 3);
    expect(h.conveyor.read().inputs.part_at_exit).toBe(false);
  });

  test('a microcontroller reset stops the belt dead and loses home; the belt and its parts stay where they are', () => {
    const h = new Harness();
    h.home();
    h.feedPickPlace();
    h.conveyor.write({ type: 'index', steps: h.indexSteps() });
    h.wait(400);
    const position = h.sim.parts()[0]!.positionMm!;
    expect(position).toBeGreaterThan(100);
    h.sim.inject({ fault: 'mcu_reset', device: 'conveyor' });
    expect(h.conveyor.read()).toMatchObject({ moving: false, axis: { positionSteps: 0, encoderCount: 0, homed: false } });
    expect(h.feedbackOf('conveyor', 'reset')).toHaveLength(1);
    h.wait(2000);
    expect(h.sim.parts()[0]!.positionMm).toBe(position);
    expect(h.feedbackOf('conveyor', 'motionDone')).toHaveLength(1); // the homing, not the cut index
    expect(h.log.ofKind('motion').at(-1)).toMatchObject({ event: 'end', command: 'index', how: 'reset' });
    // Homing again finds a mark.
    h.home();
    expect(h.conveyor.read()).toMatchObject({ inputs: { home: true }, axis: { homed: true, positionSteps: 0 } });
  });

  test('safe state category 1 decelerates at accel; category 0 stops dead', () => {
    const c = new Harness().conveyorDesc;
    const vMmMs = c.axis.maxSpeedMmS / 1000;
    const decelMs = (c.axis.maxSpeedMmS / c.axis.accelMmS2) * 1000;

    const h1 = new Harness();
    h1.home();
    h1.conveyor.write({ type: 'index', steps: h1.indexSteps() });
    h1.wait(400); // cruising
    const enc0 = h1.conveyor.read().axis!.encoderCount;
    h1.conveyor.write({ type: 'safeState', category: 1 });
    h1.runUntil(() => h1.feedbackOf('conveyor', 'motionDone').length === 2);
    expect(h1.clock.now() - h1.feedbackOf('conveyor', 'motionDone')[0]!.t - 400).toBeCloseTo(decelMs, 6);
    const travelledMm = (h1.conveyor.read().axis!.encoderCount - enc0) / c.axis.encoderCountsPerMm;
    expect(travelledMm).toBeCloseTo((vMmMs * decelMs) / 2, 0);

    const h0 = new Harness();
    h0.home();
    h0.conveyor.write({ type: 'index', steps: h0.indexSteps() });
    h0.wait(400);
    const steps0 = h0.conveyor.read().axis!.positionSteps;
    h0.conveyor.write({ type: 'safeState', category: 0 });
    expect(h0.conveyor.read()).toMatchObject({ moving: false, axis: { positionSteps: steps0 } });
    expect(h0.feedbackOf('conveyor', 'motionDone').at(-1)!.t).toBe(h0.clock.now());
  });

  test('a second motion while moving is refused as busy', () => {
    const h = new Harness();
    h.conveyor.write({ type: 'home' });
    h.conveyor.write({ type: 'index', steps: 10 });
    expect(h.feedbackOf('conveyor', 'refused')[0]?.feedback).toMatchObject({ reason: expect.stringContaining('busy') });
    h.conveyor.write({ type: 'index', steps: 1.5 } as never);
    expect(h.log.ofKind('command').at(-1)).toMatchObject({ outcome: 'refused' });
  });
});
