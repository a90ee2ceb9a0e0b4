/**
 * Measures writeIntent on the real file system (not a test; timings vary by machine):
 *   npx tsx test/persist/measureWriteIntent.ts [dir]
 * Prints median and p99 over 1000 sequential intents (each awaited, as the controller does), the
 * same with a belief saved every 4th intent, and the event-loop delay seen meanwhile.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openFileStore } from '../../src/persist/index.js';
import { EXPECT, belief, intent, tempDir } from './helpers.js';

async function measure(label: string, withBeliefs: boolean, dir: string): Promise<void> {
  const store = openFileStore(dir);
  const opened = await store.open(EXPECT);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const times: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const seq = opened.nextSeq + i;
    const start = process.hrtime.bigint();
    await store.writeIntent(intent(seq));
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    store.writeOutcome(seq, 'sent');
    store.writeOutcome(seq, 'confirmed');
    if (withBeliefs && i % 4 === 0) store.saveBelief(belief(seq));
  }
  await store.close();
  loop.disable();
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3);
  console.log(`${label}: writeIntent median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms; event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms`);
}

/** The event-loop delay with nothing to do, to tell the store's share from the machine's load. */
async function baseline(): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  loop.disable();
  console.log(`idle baseline: event-loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(2)} ms, max ${(loop.max / 1e6).toFixed(2)} ms`);
}

const dir = process.argv[2] ?? tempDir();
await baseline();
console.log(`directory ${dir}`);
await measure('intents only', false, dir);
await measure('with a belief every 4th intent', true, dir);
