import { describe, expect, it } from 'vitest';
import { distributionFigure, formatTable, goalMet, machine, markdownTable, resultsProblems, valueFigure, type ResultsFile } from '../../bench/results.js';

function sample(): ResultsFile {
  return {
    schema: 'workcell-bench/1',
    generatedAt: new Date(0).toISOString(),
    quick: true,
    machine: machine(),
    wallSeconds: 1,
    sections: [
      {
        id: 'estop',
        title: '2 e-stop',
        figures: [
          distributionFigure('estop.wire', 'pin → safe frame', 'ms', [1, 2, 2.5, 4], { stat: 'p99', op: '<=', limit: 3 }),
          distributionFigure('estop.first', 'first frame', 'ms', [1, 1.5]),
        ],
        notes: ['4 trips'],
      },
      {
        id: 'throughput',
        title: '1 throughput',
        figures: [
          distributionFigure('throughput.ratio', 'controller / limit', 'ratio', [0.995, 0.999], { stat: 'min', op: '>=', limit: 0.99 }),
          valueFigure('memory.growth', 'growth', 'MB', 6.2, { stat: 'value', op: '<=', limit: 5 }),
        ],
        notes: [],
      },
    ],
    errors: [],
  };
}

describe('bench results', () => {
  it('judges each goal on the statistic it names', () => {
    const r = sample();
    const [wire, first] = r.sections[0]!.figures;
    const [ratio, growth] = r.sections[1]!.figures;
    expect(wire).toMatchObject({ met: false, dist: { n: 4, p99: 4, max: 4, median: 2 } });
    expect(first!.met).toBeUndefined();
    expect(ratio!.met).toBe(true);
    expect(growth!.met).toBe(false);
    expect(goalMet({ ...ratio!, goal: { stat: 'max', op: '>=', limit: 1 } })).toBe(false);
  });

  it('accepts a well-formed results file and names what is wrong with a broken one', () => {
    const r = sample();
    expect(resultsProblems(r)).toEqual([]);
    expect(resultsProblems(JSON.parse(JSON.stringify(r)))).toEqual([]);

    const lying = sample();
    lying.sections[0]!.figures[0] = { ...lying.sections[0]!.figures[0]!, met: true };
    expect(resultsProblems(lying)).toEqual([expect.stringMatching(/estop\.wire.*met is true but the figure misses its goal/)]);

    const unordered = sample();
    const f = unordered.sections[0]!.figures[1]!;
    if (f.kind !== 'distribution') throw new Error('fixture');
    f.dist = { ...f.dist, p99: f.dist.max + 1 };
    expect(resultsProblems(unordered)).toEqual([expect.stringMatching(/estop\.first.*min <= median <= p99 <= max/)]);

    const dup = sample();
    dup.sections[1]!.figures.push(dup.sections[0]!.figures[1]!);
    expect(resultsProblems(dup)).toEqual([expect.stringMatching(/duplicate figure id/)]);

    expect(resultsProblems({ ...sample(), schema: 'other' })).toEqual([expect.stringMatching(/^schema:/)]);
    expect(resultsProblems(null)).toEqual(['results: not an object']);
  });

  it('says MISSED in the table wherever a goal is missed', () => {
    const text = formatTable(sample());
    const line = (id: string) => text.split('\n').find((l) => l.includes(id))!;
    expect(line('pin → safe frame')).toMatch(/p99 ≤ 3\.000\s+MISSED$/);
    expect(line('controller / limit')).toMatch(/min ≥ 0\.990\s+met$/);
    expect(line('growth')).toMatch(/MISSED$/);
    expect(line('first frame')).not.toMatch(/met|MISSED/);
    const md = markdownTable(sample());
    expect(md.split('\n').filter((l) => l.includes('**MISSED**'))).toHaveLength(2);
    const failed = { ...sample(), errors: [{ section: 'startup', message: 'dist missing' }] };
    expect(formatTable(failed)).toContain('startup: FAILED: dist missing');
  });
});
