/**
 * The results of one benchmark run: figures with their goals, the machine they ran on, and the
 * table printed at the end. bench/results.json holds the latest full run; BENCHMARKS.md shows it.
 */
import { cpus, loadavg, totalmem, type as osType, release as osRelease } from 'node:os';
import { readFileSync } from 'node:fs';
import { distribution, roundDistribution, round, type Distribution } from './stats.js';

/** A goal on one statistic of a figure, e.g. p99 <= 3 ms, or min >= 0.99 (the worst run). */
export interface Goal {
  stat: 'min' | 'median' | 'p99' | 'max' | 'value';
  op: '<=' | '>=';
  limit: number;
}

export type Figure =
  | { id: string; label: string; unit: string; kind: 'distribution'; dist: Distribution; goal?: Goal; met?: boolean; note?: string }
  | { id: string; label: string; unit: string; kind: 'value'; value: number; goal?: Goal; met?: boolean; note?: string };

export interface Section {
  id: string;
  title: string;
  figures: Figure[];
  /** How it was measured in this run (sample counts, what the clock covers). */
  notes: string[];
  /** When this section ran, and the 1-minute load average then (sections may come from separate runs: --only). */
  ranAt?: string;
  loadAverage?: number;
  quick?: boolean;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews real-time figures. */
  loadAverage: { start: number; end: number };
}

export interface ResultsFile {
  schema: 'workcell-bench/1';
  generatedAt: string;
  quick: boolean;
  machine: Machine;
  wallSeconds: number;
  sections: Section[];
  /** Sections that failed to run, with the reason (a failed section is a result too). */
  errors: Array<{ section: string; message: string }>;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(info);
    if (model?.[1]) cpu = model[1].trim();
  } catch {
    // Not Linux: os.cpus() is the best there is.
  }
  const load = round(loadavg()[0] ?? 0, 2);
  return { cpu, cores: cpus().length, memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, os: `${osType()} ${osRelease()}`, loadAverage: { start: load, end: load } };
}

function statOf(f: Figure, stat: Goal['stat']): number {
  if (f.kind === 'value') return f.value;
  if (stat === 'value') throw new Error(`figure ${f.id}: a distribution has no single value; name min, median, p99 or max`);
  return f.dist[stat];
}

/** Did the figure reach its goal? Undefined when it has none. */
export function goalMet(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  const x = statOf(f, f.goal.stat);
  return f.goal.op === '<=' ? x <= f.goal.limit : x >= f.goal.limit;
}

export function distributionFigure(id: string, label: string, unit: string, samples: readonly number[], goal?: Goal, note?: string): Figure {
  const f: Figure = { id, label, unit, kind: 'distribution', dist: roundDistribution(distribution(samples)), ...(goal ? { goal } : {}), ...(note ? { note } : {}) };
  const met = goalMet(f);
  return met === undefined ? f : { ...f, met };
}

export function valueFigure(id: string, label: string, unit: string, value: number, goal?: Goal, note?: string): Figure {
  if (!Number.isFinite(value)) throw new RangeError(`figure ${id}: ${value} is not a finite number`);
  const f: Figure = { id, label, unit, kind: 'value', value: round(value, 4), ...(goal ? { goal } : {}), ...(note ? { note } : {}) };
  const met = goalMet(f);
  return met === undefined ? f : { ...f, met };
}

/** Problems with a results file's shape (empty: it is well-formed). */
export function resultsProblems(value: unknown): string[] {
  const problems: string[] = [];
  const r = value as Partial<ResultsFile> | null;
  if (typeof r !== 'object' || r === null) return ['results: not an object'];
  if (r.schema !== 'workcell-bench/1') problems.push(`schema: expected "workcell-bench/1", got ${JSON.stringify(r.schema)}`);
  if (typeof r.generatedAt !== 'string' || Number.isNaN(Date.parse(r.generatedAt))) problems.push('generatedAt: not an ISO date');
  if (typeof r.quick !== 'boolean') problems.push('quick: not a boolean');
  const m = r.machine;
  if (!m || typeof m.cpu !== 'string' || typeof m.node !== 'string' || !(m.cores >= 1)) problems.push('machine: needs cpu, cores, node');
  if (!Array.isArray(r.sections)) return [...problems, 'sections: not an array'];
  const ids = new Set<string>();
  for (const [i, s] of r.sections.entries()) {
    const where = `sections[${i}] (${s?.id ?? '?'})`;
    if (typeof s?.id !== 'string' || typeof s.title !== 'string' || !Array.isArray(s.figures) || !Array.isArray(s.notes)) {
      problems.push(`${where}: needs id, title, figures[], notes[]`);
      continue;
    }
    for (const [j, f] of s.figures.entries()) {
      const fw = `${where}.figures[${j}] (${f?.id ?? '?'})`;
      if (typeof f?.id !== 'string' || typeof f.label !== 'string' || typeof f.unit !== 'string') problems.push(`${fw}: needs id, label, unit`);
      else if (ids.has(f.id)) problems.push(`${fw}: duplicate figure id`);
      else ids.add(f.id);
      if (f?.kind === 'distribution') {
        const d = f.dist;
        if (!d || !(d.n >= 1) || !(d.min <= d.median && d.median <= d.p99 && d.p99 <= d.max)) problems.push(`${fw}: distribution needs n >= 1 and min <= median <= p99 <= max`);
      } else if (f?.kind === 'value') {
        if (!Number.isFinite(f.value)) problems.push(`${fw}: value is not a finite number`);
      } else problems.push(`${fw}: kind must be distribution or value`);
      if (f?.goal !== undefined) {
        const met = goalMet(f);
        if (f.met !== met) problems.push(`${fw}: met is ${String(f.met)} but the figure ${met ? 'meets' : 'misses'} its goal`);
      } else if (f && 'met' in f && f.met !== undefined) problems.push(`${fw}: met without a goal`);
    }
  }
  if (!Array.isArray(r.errors)) problems.push('errors: not an array');
  return problems;
}

function num(x: number): string {
  const a = Math.abs(x);
  if (a !== 0 && a < 0.01) return x.toExponential(2);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  return x.toFixed(a >= 10 ? 2 : 3);
}

function goalText(g: Goal | undefined): string {
  return g ? `${g.stat === 'value' ? '' : `${g.stat} `}${g.op === '<=' ? '≤' : '≥'} ${num(g.limit)}` : '';
}

export interface TableRow {
  section: string;
  figure: string;
  n: string;
  min: string;
  median: string;
  p99: string;
  max: string;
  unit: string;
  goal: string;
  verdict: string;
}

export function tableRows(results: ResultsFile): TableRow[] {
  const rows: TableRow[] = [];
  for (const s of results.sections) {
    for (const f of s.figures) {
      const verdict = f.met === undefined ? '' : f.met ? 'met' : 'MISSED';
      if (f.kind === 'distribution') {
        rows.push({ section: s.title, figure: f.label, n: String(f.dist.n), min: num(f.dist.min), median: num(f.dist.median), p99: num(f.dist.p99), max: num(f.dist.max), unit: f.unit, goal: goalText(f.goal), verdict });
      } else {
        rows.push({ section: s.title, figure: f.label, n: '', min: '', median: num(f.value), p99: '', max: '', unit: f.unit, goal: goalText(f.goal), verdict });
      }
    }
  }
  return rows;
}

const HEADERS: Record<keyof TableRow, string> = { section: 'benchmark', figure: 'figure', n: 'n', min: 'min', median: 'median / value', p99: 'p99', max: 'max', unit: 'unit', goal: 'goal', verdict: '' };

/** The table for a terminal: fixed-width columns. */
export function formatTable(results: ResultsFile): string {
  const rows = tableRows(results);
  const keys = Object.keys(HEADERS) as Array<keyof TableRow>;
  const width = (k: keyof TableRow) => Math.max(HEADERS[k].length, ...rows.map((r) => r[k].length));
  const line = (r: Record<keyof TableRow, string>) => keys.map((k) => (['n', 'min', 'median', 'p99', 'max'].includes(k) ? r[k].padStart(width(k)) : r[k].padEnd(width(k)))).join('  ').trimEnd();
  const out = [line(HEADERS), keys.map((k) => '-'.repeat(width(k))).join('  ')];
  let last = '';
  for (const r of rows) {
    out.push(line({ ...r, section: r.section === last ? '' : r.section }));
    last = r.section;
  }
  for (const e of results.errors) out.push(`${e.section}: FAILED: ${e.message}`);
  return out.join('\n');
}

/** The same table in Markdown, for BENCHMARKS.md. */
export function markdownTable(results: ResultsFile): string {
  const rows = tableRows(results);
  const keys = Object.keys(HEADERS) as Array<keyof TableRow>;
  const out = [`| ${keys.map((k) => HEADERS[k] || 'verdict').join(' | ')} |`, `|${keys.map((k) => (['n', 'min', 'median', 'p99', 'max'].includes(k) ? '---:' : '---')).join('|')}|`];
  for (const r of rows) out.push(`| ${keys.map((k) => (k === 'verdict' && r[k] === 'MISSED' ? '**MISSED**' : r[k])).join(' | ')} |`);
  for (const e of results.errors) out.push(`| ${e.section} | FAILED: ${e.message.replace(/\|/g, '\\|')} | | | | | | | | |`);
  return out.join('\n');
}
