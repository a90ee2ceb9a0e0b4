/**
 * `workcell run`: run a cell on the embedded simulator, with live progress on a terminal and a
 * summary at the end (or one JSON object with --json).
 */
import { CellRun, RunError, type RunOptions, type RunProgress, type RunSummary } from '../runtime/run.js';

export interface RunCliOptions {
  cell: string;
  sim?: boolean;
  cycles?: number;
  virtualTime?: boolean;
  seed?: number;
  scenario?: string;
  journal?: string;
  deviceLog?: string;
  json?: boolean;
  autostart?: boolean;
}

export async function runRun(opts: RunCliOptions, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  if (opts.autostart && !opts.sim) {
    err.write('workcell run: --autostart refused: a real cell never starts itself; it waits in Stopped for an operator Reset and Start (use --sim to simulate it)\n');
    return 2;
  }
  if (!opts.sim) {
    err.write(
      'workcell run: only simulated cells run in this version: add --sim (the serial, Firmata and ROS 2 transports validate in `workcell check` but are not driven yet)\n',
    );
    return 2;
  }
  if (opts.virtualTime && opts.cycles === undefined) {
    err.write('workcell run: --virtual-time needs --cycles N (a virtual-time run ends when the lot is done)\n');
    return 2;
  }
  const live = out.isTTY === true && !opts.json;
  const options: RunOptions = {
    cellPath: opts.cell,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.cycles !== undefined ? { cycles: opts.cycles } : {}),
    virtualTime: opts.virtualTime === true,
    ...(opts.scenario ? { scenarioPath: opts.scenario } : {}),
    ...(opts.journal ? { journalPath: opts.journal } : {}),
    ...(opts.deviceLog ? { deviceLogPath: opts.deviceLog } : {}),
    // --autostart is refused for real cells above (only --sim runs): a real cell never starts itself.
    autostart: opts.autostart === true,
    ...(live ? { onProgress: (p: RunProgress) => out.write(`\r\x1b[2K${progressLine(p)}`) } : {}),
  };
  let run: CellRun;
  try {
    run = new CellRun(options);
  } catch (e) {
    err.write(`workcell run: ${e instanceof RunError || e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (!opts.autostart && !opts.json) {
    out.write(`${run.cell.cell.name}: waiting in ${run.state === 'Stopped' ? 'Stopped' : run.state} for operator commands on ${run.controller.topics.command.name} (Ctrl-C to end)\n`);
  }
  // Ctrl-C: a normal Stop, then exit with the summary. A second Ctrl-C exits at once.
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    run.interrupt();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await run.run();
    if (live) out.write('\r\x1b[2K');
    out.write(opts.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    if (!summary.ok) err.write(`workcell run: ${summary.message}\n`);
    return summary.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await run.close();
  }
}

function progressLine(p: RunProgress): string {
  const lot = p.lotSize === null ? '' : ` / ${p.lotSize}`;
  const fault = p.lastFault ? `  last fault: ${p.lastFault}` : '';
  return `${p.state.padEnd(12)} ${p.mode}  parts ${p.exited}${lot}  ${p.partsPerMinute.toFixed(1)} parts/min  t=${(p.t / 1000).toFixed(1)} s${fault}`;
}

export function formatSummary(s: RunSummary): string {
  const rows: Array<[string, string]> = [
    ['cell', `${s.cell} (hash ${s.hash.slice(0, 12)})`],
    ['seed', `${s.seed}${s.scenario ? `, scenario ${s.scenario}` : ''}${s.virtualTime ? ', virtual time' : ', real time'}`],
    ['final state', s.finalState],
    ['parts', `released ${s.parts.released}, exited ${s.parts.exited}, rejected ${s.parts.rejected}, lost ${s.parts.lost}, in cell ${s.parts.inCell}`],
    ['cycle time', s.cycleTimeMs.mean === null ? 'n/a' : `mean ${(s.cycleTimeMs.mean / 1000).toFixed(3)} s, p95 ${(s.cycleTimeMs.p95! / 1000).toFixed(3)} s (release to exit)`],
    [
      'throughput',
      `${s.throughput.partsPerMinute.toFixed(2)} parts/min of a ${s.throughput.limitPartsPerMinute.toFixed(2)} limit (${s.throughput.bottleneck}): ratio ${s.throughput.ratio.toFixed(3)}`,
    ],
    ['faults', `${s.faults}, recoveries ${s.recoveries}`],
    ['time', `${(s.simulatedMs / 1000).toFixed(1)} s simulated in ${(s.wallMs / 1000).toFixed(2)} s wall`],
    ['result', s.message],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)} ${v}`).join('\n') + '\n';
}
