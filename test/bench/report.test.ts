/**
 * BENCHMARKS.md shows the latest results: its results block is exactly what bench/report.ts
 * renders from bench/results.json, and that file is well-formed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BENCHMARKS_MD, BLOCK_END, BLOCK_START, readResults, RESULTS_JSON, withResultsBlock } from '../../bench/report.js';

describe('BENCHMARKS.md', () => {
  it('shows bench/results.json as it is (run `node dist/bench/report.js` after a bench run)', () => {
    expect(existsSync(RESULTS_JSON), `${RESULTS_JSON} is missing: run npm run bench`).toBe(true);
    const results = readResults();
    const md = readFileSync(BENCHMARKS_MD, 'utf8');
    expect(md).toContain(BLOCK_START);
    expect(md).toContain(BLOCK_END);
    expect(withResultsBlock(md, results)).toBe(md);
    // Every section's figures appear in the table with their verdicts.
    for (const s of results.sections) for (const f of s.figures) expect(md).toContain(`| ${f.label} |`);
  });

  it('refuses a document without the results block', () => {
    const results = readResults();
    expect(() => withResultsBlock('# Benchmarks\n', results)).toThrow(/no results block/);
  });
});
