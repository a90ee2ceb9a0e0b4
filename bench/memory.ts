/**
 * 5: memory. A child process (node --expose-gc, so garbage is collected before each reading) runs
 * the demo cell in virtual time and reports its RSS after start and after each checkpoint.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { valueFigure, type Section } from './results.js';
import { DEMO_CELL, type BenchOptions } from './options.js';

const MB = 1024 * 1024;

export async function memorySections(opts: BenchOptions): Promise<Section[]> {
  const [early, late] = opts.quick ? [500, 2_000] : [10_000, 100_000];
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memoryChild.js');
  const lines = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', child, DEMO_CELL, String(early), String(late)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`memory child exited ${code}: ${err.trim()}`))));
  });
  const readings = lines
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { parts: number; rssBytes: number; heapUsedBytes: number; heapTotalBytes: number; externalBytes: number });
  const at = (parts: number) => {
    const r = readings.find((x) => x.parts === parts);
    if (!r) throw new Error(`memory child reported no reading at ${parts} parts`);
    return r;
  };
  const start = at(0);
  const a = at(early);
  const b = at(late);
  const peak = Math.max(...readings.map((r) => r.rssBytes));
  return [
    {
      id: 'memory',
      title: '5 memory',
      figures: [
        valueFigure('memory.rss.start', 'RSS after start (Stopped)', 'MB', start.rssBytes / MB, { stat: 'value', op: '<=', limit: 80 }),
        valueFigure('memory.rss.early', `RSS after ${early.toLocaleString('en')} parts`, 'MB', a.rssBytes / MB, { stat: 'value', op: '<=', limit: 80 }),
        valueFigure('memory.rss.late', `RSS after ${late.toLocaleString('en')} parts`, 'MB', b.rssBytes / MB, { stat: 'value', op: '<=', limit: 80 }),
        valueFigure('memory.growth', `RSS growth ${early.toLocaleString('en')} → ${late.toLocaleString('en')} parts`, 'MB', (b.rssBytes - a.rssBytes) / MB, { stat: 'value', op: '<=', limit: 5 }),
        valueFigure('memory.heap.used', `V8 heap used after ${late.toLocaleString('en')} parts (live objects)`, 'MB', b.heapUsedBytes / MB),
        valueFigure('memory.heap.reserved', `V8 heap reserved after ${late.toLocaleString('en')} parts`, 'MB', b.heapTotalBytes / MB),
        valueFigure('memory.heap.growth', `heap used growth ${early.toLocaleString('en')} → ${late.toLocaleString('en')} parts`, 'MB', (b.heapUsedBytes - a.heapUsedBytes) / MB),
        valueFigure('memory.heapTotal.growth', `V8 heap reserved growth ${early.toLocaleString('en')} → ${late.toLocaleString('en')} parts`, 'MB', (b.heapTotalBytes - a.heapTotalBytes) / MB),
        valueFigure('memory.rss.peak', 'highest RSS read', 'MB', peak / MB),
      ],
      notes: [
        `One child process (node --expose-gc), gc() before each reading; the demo cell in virtual time, no journal file.${opts.quick ? ` Quick: checkpoints at ${early} and ${late} parts instead of 10,000 and 100,000.` : ''}`,
        'Growth is measured from the first checkpoint (warm: code compiled, pools filled) to the last, not from start.',
        'The V8 heap reserved (pages V8 keeps after gc(); it varies from reading to reading) is most of the RSS above start; the heap used (live objects) is what tells whether objects leak.',
      ],
    },
  ];
}
