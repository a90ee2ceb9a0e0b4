import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, loadCell, parseCell, type Problem } from '../../src/cell/load.js';
import { BROKEN_FIXTURES } from './brokenFixtures.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/cells');
const BROKEN = path.join(FIXTURES, 'broken');
const VALID = path.join(FIXTURES, 'valid');
const DEMO = path.resolve(import.meta.dirname, '../../hardware/cells/demo.yaml');
const demoText = readFileSync(DEMO, 'utf8');

function problemsOf(text: string): Problem[] {
  const result = parseCell(text, 'cell.yaml');
  if (result.ok) throw new Error(`expected problems, the description is valid: ${result.summary}`);
  return result.problems;
}

function textAt(text: string, line: number, col: number): string {
  return (text.split('\n')[line - 1] ?? '').slice(col - 1);
}

describe('broken cell descriptions', () => {
  it('every broken fixture has its expectations, and every expectation its fixture', () => {
    expect(readdirSync(BROKEN).sort()).toEqual(Object.keys(BROKEN_FIXTURES).sort());
  });

  for (const [file, expected] of Object.entries(BROKEN_FIXTURES)) {
    it(`${file}: every problem at its line and column`, () => {
      const fullPath = path.join(BROKEN, file);
      const text = readFileSync(fullPath, 'utf8');
      const result = loadCell(fullPath);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const got = result.problems.map((p) => ({ line: p.line, col: p.col, path: p.path, message: p.message, file: p.file }));
      expect(got, got.map((p) => `${p.line}:${p.col}: ${p.path}: ${p.message}`).join('\n')).toHaveLength(expected.problems.length);
      expected.problems.forEach((want, index) => {
        const problem = got[index]!;
        expect(problem.file).toBe(fullPath);
        expect({ line: problem.line, col: problem.col, path: problem.path }).toEqual({ line: want.line, col: want.col, path: want.path });
        expect(problem.message).toContain(want.message);
        expect(textAt(text, problem.line, problem.col).startsWith(want.at), `text at ${problem.line}:${problem.col}`).toBe(true);
      });
    });
  }
});

describe('valid cell descriptions', () => {
  it('the demo cell is valid, with a one-line summary', () => {
    const result = loadCell(DEMO);
    expect(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n')).toBe(true);
    if (!result.ok) return;
    expect(result.summary).toBe(
      `demo_pick_and_place: 4 devices (feeder, arm, conveyor, safety_io), 1 e-stop source, 1 protective stop, 2 zones, 6 interlocks; hash ${result.hash.slice(0, 12)}`,
    );
    expect(result.hash).toMatch(/^[0-9a-f]{64}$/);
    // Parsed, camelCased and with defaults applied.
    expect(result.cell.devices.conveyor).toMatchObject({ kind: 'conveyor', placePositionMm: 100, exitPositionMm: 400 });
    expect(result.cell.links.sim).toEqual({ transport: 'sim' });
  });

  const files = readdirSync(VALID).sort();
  it('the valid set covers each transport', () => {
    const transports = new Set<string>();
    for (const file of files) {
      const result = loadCell(path.join(VALID, file));
      if (result.ok) Object.values(result.cell.links).forEach((link) => transports.add(link.transport));
    }
    expect([...transports].sort()).toEqual(['firmata', 'ros2', 'serial', 'sim']);
  });

  for (const file of files) {
    it(`${file} is valid`, () => {
      const result = loadCell(path.join(VALID, file));
      expect(result.ok, result.ok ? '' : result.problems.map(formatProblem).join('\n')).toBe(true);
    });
  }

  it('a ros2 cell with a safe_ok_topic e-stop source keeps its timeout', () => {
    const result = loadCell(path.join(VALID, 'ros2.yaml'));
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    expect(result.cell.safety.estopSources).toEqual([{ kind: 'safe_ok_topic', name: 'safety_plc', topic: '/safety/safe_ok', timeoutMs: 200 }]);
  });
});

describe('parseCell on text', () => {
  it('reports a missing file at 1:1', () => {
    const result = loadCell(path.join(FIXTURES, 'no-such-cell.yaml'));
    expect(result).toEqual({
      ok: false,
      problems: [{ file: path.join(FIXTURES, 'no-such-cell.yaml'), line: 1, col: 1, path: '', message: 'cannot read the cell description: no such file' }],
    });
  });

  it('reports an empty file as a whole', () => {
    const [problem, ...rest] = problemsOf('# nothing here\n');
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ line: 1, col: 1, path: '' });
    expect(problem?.message).toContain('a cell description is a mapping');
  });

  it('reports every syntax error, not just the first', () => {
    const text = demoText.replace('feed_ms: 1200', 'feed_ms: [1200').replace('takeaway_ms: 500', 'takeaway_ms: "500');
    const problems = problemsOf(text);
    const lines = text.split('\n');
    const feedLine = lines.findIndex((l) => l.includes('feed_ms: [1200')) + 1;
    const takeawayLine = lines.findIndex((l) => l.includes('takeaway_ms: "500')) + 1;
    expect(problems.some((p) => p.line === feedLine && p.message.startsWith('YAML syntax'))).toBe(true);
    expect(problems.some((p) => p.line >= takeawayLine && p.message.includes('quote'))).toBe(true);
  });

  it('collapses a cascade of unexpected tokens into one problem', () => {
    const text = demoText.replace('max_velocity_rad_s: 1.0 }\n      - { name: joint_3', 'max_velocity_rad_s: 1.0 }}\n      - { name: joint_3');
    const problems = problemsOf(text);
    expect(problems.length).toBeLessThan(5);
    expect(problems[0]?.message).toMatch(/Unexpected flow-map-end token.*\(and \d+ more unexpected tokens through line \d+\)/);
  });

  it('reports several documents in one file', () => {
    const problems = problemsOf(`${demoText}\n---\nversion: 1\n`);
    expect(problems[0]?.message).toContain('multiple documents');
  });

  it('reports an alias to an anchor that does not exist', () => {
    const text = demoText.replace('heartbeat: { period_ms: 100, miss_count: 3 }', 'heartbeat: *beat');
    const [problem, ...rest] = problemsOf(text);
    expect(rest).toEqual([]);
    expect(problem?.message).toContain('unknown anchor "*beat"');
    expect(textAt(text, problem!.line, problem!.col).startsWith('*beat')).toBe(true);
  });

  it('follows anchors and aliases', () => {
    const text = demoText
      .replace('  feeder:\n    kind: feeder\n    link: sim\n    heartbeat: { period_ms: 100, miss_count: 3 }', '  feeder:\n    kind: feeder\n    link: sim\n    heartbeat: &beat { period_ms: 100, miss_count: 3 }')
      .replace('  arm:\n    kind: arm\n    link: sim\n    heartbeat: { period_ms: 100, miss_count: 3 }', '  arm:\n    kind: arm\n    link: sim\n    heartbeat: *beat');
    expect(text).toContain('*beat');
    expect(parseCell(text, 'cell.yaml').ok).toBe(true);
  });

  it('reports duplicate keys with both lines', () => {
    const text = demoText.replace('  sim:\n    transport: sim\n', '  sim:\n    transport: sim\n  sim:\n    transport: sim\n');
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 16, col: 3, path: 'links.sim', message: 'duplicate key "sim" (first on line 14); a key may appear once per mapping' });
  });

  it('lists the allowed keys when an unknown key is not close to any', () => {
    const text = demoText.replace('    settle_ms: 50\n', '    settle_ms: 50\n    colour: blue\n');
    const [problem, ...rest] = problemsOf(text);
    expect(rest).toEqual([]);
    expect(problem?.path).toBe('devices.arm.colour');
    expect(problem?.message).toMatch(/^unknown key "colour" \(allowed here: kind, link, .*tolerance_rad.*gripper\)$/);
  });

  it('suggests the snake_case spelling of a camelCase key', () => {
    const text = demoText.replace('    release_pulse_ms: 150\n', '    releasePulseMs: 150\n');
    const problems = problemsOf(text);
    expect(problems.map((p) => p.message)).toEqual(['unknown key "releasePulseMs" (did you mean "release_pulse_ms"?)']);
  });

  it('explains a quoted number and an integer that is not whole', () => {
    const text = demoText.replace('retries: 2, auto_recoverable: [part_not_at_pick]', 'retries: 1.5, auto_recoverable: [part_not_at_pick]').replace('release_pulse_ms: 150', 'release_pulse_ms: "150"');
    expect(problemsOf(text).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'devices.feeder.release_pulse_ms: expected a number in milliseconds, got the string "150" (remove the quotes)',
      'devices.feeder.faults.retries: expected a whole number, got 1.5',
    ]);
  });

  it('names the options of an unknown enum value and of a missing discriminator', () => {
    const text = demoText.replace('release: { safe_value: "off" }', 'release: { safe_value: "of" }').replace('    - { kind: input, name: estop_button', '    - { name: estop_button');
    expect(problemsOf(text).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'devices.feeder.release.safe_value: expected one of "off", "on", "hold", got the string "of" (did you mean "off"?)',
      'safety.estop_sources[0].kind: missing required key "kind" (one of "input", "safe_ok_topic")',
    ]);
  });

  it('picks the condition the engineer meant from an incomplete one', () => {
    const text = demoText.replace('when: { input: feeder.part_at_pick, is: true }', 'when: { input: feeder.part_at_pick }');
    const problems = problemsOf(text);
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'safety.interlocks[2].when.is: missing required key "is" (the value of the input for which the condition is true)',
    ]);
  });

  it('finds problems inside nested any_of conditions', () => {
    const text = demoText.replace('when: { moving: feeder }', 'when: { any_of: [{ moving: feeder }, { zone: Pick_Zone }] }');
    const [problem, ...rest] = problemsOf(text);
    expect(rest).toEqual([]);
    expect(problem?.path).toBe('safety.interlocks[4].when.any_of[1].zone');
    expect(problem?.message).toContain('names are lower_snake_case');
    expect(textAt(text, problem!.line, problem!.col).startsWith('Pick_Zone')).toBe(true);
  });

  it('says how many values a zone joint range needs', () => {
    const text = demoText.replace('pick_zone: { device: arm, poses: [pick], margin_rad: 0.1 }', 'pick_zone: { device: arm, joints: { joint_1: [0.5] } }');
    expect(problemsOf(text).map((p) => `${p.path}: ${p.message}`)).toEqual(['safety.zones.pick_zone.joints.joint_1: needs exactly 2 values, got 1']);
  });

  it('does not run the semantic checks while shapes are wrong', () => {
    // An unknown pose (semantic) next to a string duration (shape): only the shape is reported.
    const text = demoText.replace('poses: [pick], margin_rad', 'poses: [pik], margin_rad').replace('feed_ms: 1200', 'feed_ms: soon');
    expect(problemsOf(text).map((p) => p.path)).toEqual(['devices.feeder.feed_ms']);
  });

  it('reports problems sorted by line, then column', () => {
    const problems = loadCell(path.join(BROKEN, 'three-problems.yaml'));
    if (problems.ok) throw new Error('expected problems');
    const positions = problems.problems.map((p) => p.line * 1000 + p.col);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('formats a problem as FILE:LINE:COL: path: message', () => {
    expect(formatProblem({ file: 'a.yaml', line: 3, col: 7, path: 'devices.arm', message: 'oops' })).toBe('a.yaml:3:7: devices.arm: oops');
    expect(formatProblem({ file: 'a.yaml', line: 1, col: 1, path: '', message: 'oops' })).toBe('a.yaml:1:1: oops');
  });
});
