/**
 * `npm run bench` (after `npm run build`): runs every benchmark of BENCHMARKS.md, prints the table
 * and writes bench/results.json. `--quick`: the same figures from fewer samples, under a minute.
 * `--only a,b`: only those benchmarks (throughput, estop, memory, startup, recovery); the other
 * sections already in the results file are kept, each with the time and load it ran at.
 * `--out FILE`: write the results there instead.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, machine, resultsProblems, type ResultsFile, type Section } from './results.js';
import { ROOT, type BenchOptions } from './options.js';
import { updateBenchmarksMd } from './report.js';
import { throughputSections } from './throughput.js';
import { memorySections } from './memory.js';
import { startupSections } from './startup.js';
import { recoverySections } from './recovery.js';
import { estopSections } from './estop.js';

// In this order: the e-stop rig last, so that nothing it leaves behind (child processes ending, a
// controller still working off a flood's backlog) runs into another benchmark.
const BENCHES: Record<string, (o: BenchOptions) => Promise<Section[]>> = {
  throughput: throughputSections,
  memory: memorySections,
  startup: startupSections,
  recovery: recoverySections,
  estop: estopSections,
};

const SECTION_ORDER = ['throughput', 'estopWire', 'estopProcess', 'eventLoop', 'memory', 'startup', 'simSpeed', 'recovery'];
const order = (id: string) => (SECTION_ORDER.includes(id) ? SECTION_ORDER.indexOf(id) : SECTION_ORDER.length);
/** Which benchmark writes a section. */
function sectionOwner(id: string): string {
  if (id === 'eventLoop' || id === 'simSpeed') return 'throughput';
  if (id.startsWith('estop')) return 'estop';
  return id;
}

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' } },
  strict: true,
});
const only = values.only?.split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((s) => !(s in BENCHES)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`bench: --only ${unknown.join(',')}: unknown; choose from ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
const quick = values.quick === true;
const out = values.out ?? path.join(ROOT, 'bench', 'results.json');
const options: BenchOptions = { quick, log: (line) => process.stderr.write(`${line}\n`) };

const started = performance.now();
const results: ResultsFile = { schema: 'workcell-bench/1', generatedAt: new Date().toISOString(), quick, machine: machine(), wallSeconds: 0, sections: [], errors: [] };
for (const [name, bench] of Object.entries(BENCHES)) {
  if (only && !only.includes(name)) continue;
  const t0 = performance.now();
  options.log(`bench: ${name}${quick ? ' (quick)' : ''}...`);
  try {
    const load = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    const ranAt = new Date().toISOString();
    results.sections.push(...(await bench(options)).map((s) => ({ ...s, ranAt, loadAverage: load, quick })));
  } catch (error) {
    results.errors.push({ section: name, message: error instanceof Error ? error.message : String(error) });
  }
  results.sections.sort((a, b) => order(a.id) - order(b.id));
  options.log(`bench: ${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
results.wallSeconds = Math.round((performance.now() - started) / 100) / 10;
if (only && existsSync(out)) {
  // Keep what this run did not measure, in the order of the earlier file.
  const earlier = JSON.parse(readFileSync(out, 'utf8')) as ResultsFile;
  const problems = resultsProblems(earlier);
  if (problems.length > 0) options.log(`bench: ${out} is not a results file (${problems[0]}); it is replaced`);
  else {
    const fresh = new Set(results.sections.map((s) => s.id));
    const kept = earlier.sections.filter((s) => !fresh.has(s.id) && !only.some((name) => sectionOwner(s.id) === name));
    results.sections = [...kept, ...results.sections].sort((a, b) => order(a.id) - order(b.id));
    // Quick if any section in the file is.
    results.quick = results.sections.some((s) => s.quick === true);
  }
}
results.machine.loadAverage.end = Math.round((loadavg()[0] ?? 0) * 100) / 100;
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
// The default results file is what BENCHMARKS.md shows: keep its block in step.
if (values.out === undefined) updateBenchmarksMd(results);
process.stdout.write(`${formatTable(results)}\n\n${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}, load average ${results.machine.loadAverage.start} → ${results.machine.loadAverage.end}; ${results.quick ? 'quick, ' : ''}${results.wallSeconds} s; written to ${path.relative(process.cwd(), out) || out}\n`);
// Exit explicitly: a closed real-time run may still hold timers (the controller working off a
// flood's command backlog), and the figures are written.
process.exit(results.errors.length > 0 ? 1 : 0);
