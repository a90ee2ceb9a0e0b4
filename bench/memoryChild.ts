/**
 * Child process of the memory benchmark (run with --expose-gc): the demo cell in virtual time for
 * the largest checkpoint's number of parts; at start (Stopped, before Reset) and at each checkpoint
 * it collects garbage and prints the resident set size as one JSON line.
 *
 * Usage: node --expose-gc memoryChild.js CELL CHECKPOINT...
 */
import { CellRun } from '../src/runtime/run.js';

const [cellPath, ...rest] = process.argv.slice(2);
const checkpoints = rest.map(Number);
if (!cellPath || checkpoints.length === 0 || checkpoints.some((n) => !Number.isInteger(n) || n <= 0)) {
  process.stderr.write('usage: memoryChild CELL CHECKPOINT... (whole numbers of parts)\n');
  process.exit(2);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('memoryChild: run with node --expose-gc\n');
  process.exit(2);
}
const report = (parts: number) => {
  gc();
  const m = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ parts, rssBytes: m.rss, heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external })}\n`);
};
const pending = [...checkpoints].sort((a, b) => a - b);
const run = new CellRun({
  cellPath,
  virtualTime: true,
  cycles: pending.at(-1)!,
  autostart: true,
  stallTimeoutMs: 120_000,
  onProgress: (p) => {
    while (pending.length > 0 && p.exited >= pending[0]!) report(pending.shift()!);
  },
});
run.start();
report(0);
const summary = await run.run();
while (pending.length > 0 && summary.parts.exited >= pending[0]!) report(pending.shift()!);
if (!summary.ok) {
  process.stderr.write(`memoryChild: ${summary.message}\n`);
  process.exit(1);
}
