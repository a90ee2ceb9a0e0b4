import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellJsonSchema } from '../../src/cell/jsonSchema.js';
import { runCheck } from '../../src/cli/check.js';
import { runSchema } from '../../src/cli/schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DEMO = path.join(ROOT, 'hardware/cells/demo.yaml');
const BROKEN = path.join(ROOT, 'test/fixtures/cells/broken');

/** A stream that keeps what is written to it. */
function sink() {
  const chunks: string[] = [];
  const stream = {
    write(chunk: string | Uint8Array) {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { stream, text: () => chunks.join(''), lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
}

describe('runCheck', () => {
  it('prints the summary of a valid file and exits 0', () => {
    const out = sink();
    const err = sink();
    expect(runCheck([DEMO], out.stream, err.stream)).toBe(0);
    expect(out.lines()).toHaveLength(1);
    expect(out.text()).toMatch(/^.*demo\.yaml: demo_pick_and_place: 4 devices \(feeder, arm, conveyor, safety_io\), 1 e-stop source, 1 protective stop, 2 zones, 6 interlocks; hash [0-9a-f]{12}\n$/);
    expect(err.text()).toBe('');
  });

  it('prints every problem as FILE:LINE:COL: path: message, sorted by line, and exits 2', () => {
    const file = path.join(BROKEN, 'three-problems.yaml');
    const out = sink();
    const err = sink();
    expect(runCheck([file], out.stream, err.stream)).toBe(2);
    expect(out.text()).toBe('');
    expect(err.lines()).toEqual([
      `${file}:24:23: devices.feeder.release_pulse_ms: expected a number in milliseconds, got the string "short"`,
      `${file}:51:5: devices.arm.gripper.grip_ms: missing required key "grip_ms" (simulated time from vacuum on to vacuum ok, in milliseconds)`,
      `${file}:75:5: devices.conveyor.sensor_windw_mm: unknown key "sensor_windw_mm" (did you mean "sensor_window_mm"?)`,
      `${file}: 3 problems`,
    ]);
  });

  it('checks every file: valid ones still get their summary when another fails', () => {
    const broken = path.join(BROKEN, 'unknown-key.yaml');
    const out = sink();
    const err = sink();
    expect(runCheck([broken, DEMO], out.stream, err.stream)).toBe(2);
    expect(out.lines()).toHaveLength(1);
    expect(out.text()).toContain('demo_pick_and_place');
    expect(err.lines()).toEqual([`${broken}:25:5: devices.feeder.feed_s: unknown key "feed_s" (did you mean "feed_ms"?)`, `${broken}: 1 problem`]);
  });

  it('reports a missing file at 1:1 and exits 2', () => {
    const err = sink();
    expect(runCheck(['no/such/cell.yaml'], sink().stream, err.stream)).toBe(2);
    expect(err.lines()[0]).toBe('no/such/cell.yaml:1:1: cannot read the cell description: no such file');
  });

  it('exits 2 with a hint when no file is given', () => {
    const err = sink();
    expect(runCheck([], sink().stream, err.stream)).toBe(2);
    expect(err.text()).toContain('give at least one cell description file');
  });
});

describe('runSchema', () => {
  it('prints the JSON Schema, 2-space indented, and exits 0', () => {
    const out = sink();
    expect(runSchema(out.stream)).toBe(0);
    expect(out.text()).toBe(`${JSON.stringify(cellJsonSchema(), null, 2)}\n`);
    expect(out.text().split('\n')[1]).toBe('  "$schema": "http://json-schema.org/draft-07/schema#",');
  });
});
