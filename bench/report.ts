/**
 * The results block of BENCHMARKS.md, rendered from a results file: the machine, then the table.
 * `npm run bench` rewrites it after a full run; `node dist/bench/report.js` does it from
 * bench/results.json alone. test/bench/report.test.ts keeps the two in step.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable, resultsProblems, type ResultsFile } from './results.js';
import { ROOT } from './options.js';

export const BLOCK_START = '<!-- bench:results:start (npm run bench rewrites this block from bench/results.json) -->';
export const BLOCK_END = '<!-- bench:results:end -->';
export const BENCHMARKS_MD = path.join(ROOT, 'BENCHMARKS.md');
export const RESULTS_JSON = path.join(ROOT, 'bench', 'results.json');

export function renderResultsBlock(r: ResultsFile): string {
  const m = r.machine;
  const loads = [...new Set(r.sections.map((s) => s.loadAverage).filter((x): x is number => x !== undefined))];
  const lines = [
    BLOCK_START,
    '',
    `Run of ${r.generatedAt.slice(0, 16).replace('T', ' ')} UTC${r.quick ? ' (**quick**: fewer samples)' : ''}, ${r.wallSeconds} s: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}.`,
    `1-minute load average ${m.loadAverage.start} at the start and ${m.loadAverage.end} at the end${loads.length > 0 ? ` (per section: ${r.sections.map((s) => `${s.id} ${s.loadAverage ?? '?'}`).join(', ')})` : ''}: the machine is shared, and every real-time figure (2, 3, 4, 6, 7) is only as good as the CPU it got.`,
    '',
    markdownTable(r),
    '',
    ...r.sections.flatMap((s) => s.notes.map((n) => `- ${s.title}: ${n}`)),
    '',
    BLOCK_END,
  ];
  return lines.join('\n');
}

/** BENCHMARKS.md with its results block replaced (throws if the markers are missing). */
export function withResultsBlock(markdown: string, r: ResultsFile): string {
  const a = markdown.indexOf(BLOCK_START);
  const b = markdown.indexOf(BLOCK_END);
  if (a < 0 || b < a) throw new Error(`BENCHMARKS.md has no results block (${BLOCK_START} ... ${BLOCK_END})`);
  return markdown.slice(0, a) + renderResultsBlock(r) + markdown.slice(b + BLOCK_END.length);
}

export function readResults(file = RESULTS_JSON): ResultsFile {
  const r = JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
  const problems = resultsProblems(r);
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
  return r;
}

export function updateBenchmarksMd(r: ResultsFile, file = BENCHMARKS_MD): void {
  writeFileSync(file, withResultsBlock(readFileSync(file, 'utf8'), r));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  updateBenchmarksMd(readResults());
  process.stdout.write(`${path.relative(process.cwd(), BENCHMARKS_MD)} updated from ${path.relative(process.cwd(), RESULTS_JSON)}\n`);
}
