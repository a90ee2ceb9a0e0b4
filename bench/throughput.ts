/**
 * 1 (throughput), 4 (event-loop lag) and 7 (simulator speed): the demo cell in virtual time,
 * through CellRun exactly as `workcell run --sim --virtual-time --cycles N` runs it, once per seed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CellRun } from '../src/runtime/run.js';
import { throughputLimit } from '../src/controller/throughput.js';
import { distributionFigure, valueFigure, type Section } from './results.js';
import { runSequential } from './sequential.js';
import { DEMO_CELL, type BenchOptions } from './options.js';

export async function throughputSections(opts: BenchOptions): Promise<Section[]> {
  const parts = 1000;
  const seeds = opts.quick ? [1] : [1, 2, 3, 4, 5];
  const ratios: number[] = [];
  const ppms: number[] = [];
  const speeds: number[] = [];
  const lagP99: number[] = [];
  const lagMax: number[] = [];
  let limit = 0;
  let bottleneck = '';
  for (const seed of seeds) {
    const run = new CellRun({ cellPath: DEMO_CELL, virtualTime: true, cycles: parts, seed, autostart: true });
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const summary = await run.run();
    lag.disable();
    if (!summary.ok) throw new Error(`seed ${seed}: the run did not produce its lot: ${summary.message}`);
    ratios.push(summary.throughput.ratio);
    ppms.push(summary.throughput.partsPerMinute);
    limit = summary.throughput.limitPartsPerMinute;
    bottleneck = summary.throughput.bottleneck;
    speeds.push(summary.simulatedMs / summary.wallMs);
    lagP99.push(lag.percentile(99) / 1e6);
    lagMax.push(lag.max / 1e6);
  }
  const cellLimit = throughputLimit(new CellRun({ cellPath: DEMO_CELL, virtualTime: true }).cell);
  const sequentialRatios: number[] = [];
  const sequentialPpm: number[] = [];
  for (const seed of seeds) {
    const seq = runSequential(DEMO_CELL, opts.quick ? 200 : parts, seed);
    sequentialPpm.push(seq.partsPerMinute);
    sequentialRatios.push(seq.partsPerMinute / cellLimit.partsPerMinute);
  }
  const runs = `${seeds.length} runs (seeds ${seeds.join(', ')})`;
  return [
    {
      id: 'throughput',
      title: '1 throughput',
      figures: [
        distributionFigure('throughput.partsPerMinute', `controller, ${parts} parts`, 'parts/min', ppms),
        valueFigure('throughput.limit', `limit from the description (${bottleneck})`, 'parts/min', limit),
        distributionFigure('throughput.ratio', 'controller / limit', 'ratio', ratios, { stat: 'min', op: '>=', limit: 0.99 }, 'goal checked on the worst run (min)'),
        distributionFigure('throughput.sequential.partsPerMinute', `strictly sequential sequencer, ${opts.quick ? 200 : parts} parts`, 'parts/min', sequentialPpm),
        distributionFigure('throughput.sequential.ratio', 'sequential / limit', 'ratio', sequentialRatios),
      ],
      notes: [
        `${runs} of ${parts} parts each in virtual time; parts/min = parts exited over the time from the first entry into Execute to the last exit (RunSummary).`,
        `The limit is throughputLimit() (src/controller/throughput.ts) from the description alone: ${cellLimit.bottleneck.resource} busy ${cellLimit.cycleMs.toFixed(1)} ms per part.`,
        'The sequential figure comes from bench/sequential.ts, a separate strictly sequential sequencer on the same simulated devices (not the controller).',
      ],
    },
    {
      id: 'eventLoop',
      title: '4 event-loop lag',
      figures: [
        distributionFigure('eventLoop.p99', 'p99 lag per run', 'ms', lagP99),
        distributionFigure('eventLoop.max', 'max lag per run', 'ms', lagMax),
      ],
      notes: [`perf_hooks.monitorEventLoopDelay (1 ms resolution) over each of the ${runs} above: production at full virtual speed (VirtualClock.run yields to the event loop every 2000 timers).`],
    },
    {
      id: 'simSpeed',
      title: '7 simulator speed',
      figures: [distributionFigure('simSpeed.ratio', 'simulated s per wall s', 'ratio', speeds)],
      notes: [`The same ${runs}: simulated time over wall time of the whole run (controller, simulator, journal in memory off).`],
    },
  ];
}
