/**
 * `workcell run`: run a cell on the embedded simulator, with live progress on a terminal and a
 * summary at the end (or one JSON object with --json).
 */
import { CellRun, RunError, type RunOptions, type RunProgress, type RunSummary } from '../runtime/run.js';
import { checkBinding, DEFAULT_BIND, DEFAULT_WS_PORT, FaceStartError } from '../bridge/server.js';
import { operatorFaces } from '../hmi/server.js';
import { MIN_ROLLING_BYTES, recorderFace } from '../record/recorder.js';
import { prepareRosRun } from '../ros/cli.js';
import { systemdFace } from '../platform/sdNotify.js';
import { startRigForRun, type CellRig } from '../rig/cellRig.js';
import { loadCell } from '../cell/load.js';
import type { CellDescription } from '../cell/schema.js';
import { describeLinkEvent, openHardware, type HardwareLinks } from '../runtime/hardware.js';

export interface RunCliOptions {
  cell: string;
  sim?: boolean;
  cycles?: number;
  virtualTime?: boolean;
  seed?: number;
  scenario?: string;
  journal?: string;
  deviceLog?: string;
  stateDir?: string;
  json?: boolean;
  autostart?: boolean;
  hmi?: boolean;
  wsPort?: number;
  httpPort?: number;
  bind?: string;
  token?: string;
  record?: string;
  recordMaxBytes?: number;
  /** Put the cell on ROS 2 (src/ros). */
  ros?: boolean;
  useSimTime?: boolean;
  /** `--ros-args ...` as ros2 launch / ros2 run append them. */
  rosArgs?: string[];
  /** Devices on serial links on simulated station boards (src/rig), the rest on the simulator. */
  rig?: boolean;
}

export async function runRun(opts: RunCliOptions, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  if (opts.rig) {
    const problem = opts.virtualTime ? '--rig runs in real time (the boards run their firmware at 16 MHz); leave out --virtual-time' : opts.ros ? '--rig and --ros both replace drivers; use one' : undefined;
    if (problem) {
      err.write(`workcell run: ${problem}\n`);
      return 2;
    }
    // Everything not on a simulated station board runs on the embedded simulator.
    opts = { ...opts, sim: true };
  }
  if (opts.autostart && !opts.sim) {
    err.write('workcell run: --autostart refused: a real cell never starts itself; it waits in Stopped for an operator Reset and Start (use --sim to simulate it)\n');
    return 2;
  }
  let cellOnHardware: { cell: CellDescription; hash: string } | undefined;
  if (!opts.sim) {
    if (opts.virtualTime) {
      err.write('workcell run: --virtual-time simulates time, so it needs --sim (a real cell runs on the wall clock, or on /clock with --ros --use-sim-time)\n');
      return 2;
    }
    const loaded = loadCell(opts.cell);
    if (!loaded.ok) {
      err.write(`workcell run: the cell description has problems:\n${loaded.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}`).join('\n')}\n`);
      return 2;
    }
    cellOnHardware = { cell: loaded.cell, hash: loaded.hash };
    // rclnodejs is loaded because the cell says so: its ros2 devices are on ROS.
    if (Object.values(loaded.cell.links).some((link) => link.transport === 'ros2')) opts = { ...opts, ros: true };
  }
  if (opts.virtualTime && opts.cycles === undefined) {
    err.write('workcell run: --virtual-time needs --cycles N (a virtual-time run ends when the lot is done)\n');
    return 2;
  }
  // What was opened before the run exists (the ROS node, the serial ports, the rig): closed again if
  // the run never starts, or their handles would keep the process alive after the error.
  const abandon: Array<() => unknown> = [];
  const giveUp = async (message: string): Promise<number> => {
    for (const close of abandon.reverse()) await close();
    err.write(`workcell run: ${message}\n`);
    return 2;
  };
  const live = out.isTTY === true && !opts.json;
  const options: RunOptions = {
    cellPath: opts.cell,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.cycles !== undefined ? { cycles: opts.cycles } : {}),
    virtualTime: opts.virtualTime === true,
    ...(opts.scenario ? { scenarioPath: opts.scenario } : {}),
    ...(opts.journal ? { journalPath: opts.journal } : {}),
    ...(opts.deviceLog ? { deviceLogPath: opts.deviceLog } : {}),
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    // --autostart is refused for real cells above (only --sim runs): a real cell never starts itself.
    autostart: opts.autostart === true,
    ...(live ? { onProgress: (p: RunProgress) => out.write(`\r\x1b[2K${progressLine(p)}`) } : {}),
  };
  const faces = operatorFacesFor(opts, err);
  if (typeof faces === 'string') {
    err.write(`workcell run: ${faces}\n`);
    return 2;
  }
  if (faces.length > 0) options.faces = faces;
  if (opts.useSimTime && !opts.ros) {
    err.write('workcell run: --use-sim-time needs --ros (simulated time comes from ROS /clock)\n');
    return 2;
  }
  if (opts.ros) {
    // rclnodejs is loaded only here, after checking that ROS 2 is sourced.
    const ros = await prepareRosRun({ sim: opts.sim === true, useSimTime: opts.useSimTime === true, virtualTime: opts.virtualTime === true, rosArgs: opts.rosArgs ?? [] });
    if (typeof ros === 'string') {
      err.write(`workcell run: ${ros}\n`);
      return 2;
    }
    abandon.push(() => ros.abandon());
    options.drivers = ros.drivers;
    options.faces = [...(options.faces ?? []), ros.face];
    if (ros.clock) options.clock = ros.clock;
    if (ros.safetyClock) options.safetyClock = ros.safetyClock;
  }
  if (cellOnHardware) {
    let hardware: HardwareLinks;
    try {
      hardware = await openHardware(cellOnHardware.cell, cellOnHardware.hash, { onEvent: (e) => err.write(`${describeLinkEvent(e)}\n`) });
    } catch (e) {
      return giveUp(e instanceof Error ? e.message : String(e));
    }
    abandon.push(() => hardware.close());
    for (const line of hardware.summary()) err.write(`${line}\n`);
    options.drivers = hardware.drivers(options.drivers ?? ((ctx) => ctx.sim.drivers));
    options.faces = [...(options.faces ?? []), () => ({ close: () => hardware.close() })];
  }
  // Started by systemd (hardware/systemd/workcell.service): ready, status and watchdog pings.
  if (process.env.NOTIFY_SOCKET) options.faces = [...(options.faces ?? []), systemdFace()];
  let rig: CellRig | undefined;
  if (opts.rig) {
    const started = await startRigForRun(opts.cell, err);
    if (typeof started === 'string') return giveUp(started);
    rig = started;
    abandon.push(() => started.close());
    options.drivers = rig.drivers;
    options.faces = [...(options.faces ?? []), () => ({ close: () => rig!.close() })];
  }
  let run: CellRun;
  try {
    run = new CellRun(options);
  } catch (e) {
    return giveUp(e instanceof RunError || e instanceof Error ? e.message : String(e));
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
    let summary: RunSummary;
    try {
      summary = await run.run();
    } catch (e) {
      // A face that cannot start (a port in use, a recording that cannot be written) is bad input.
      if (!(e instanceof FaceStartError)) throw e;
      err.write(`workcell run: ${e.message}\n`);
      return 2;
    }
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

/**
 * The recorder (first, so it has the journal from run.start on), the Foxglove WebSocket bridge
 * (with --hmi or --ws-port) and the HMI page (--hmi), as CellRun faces; a string says why not.
 */
function operatorFacesFor(opts: RunCliOptions, err: NodeJS.WriteStream): NonNullable<RunOptions['faces']> | string {
  const faces: NonNullable<RunOptions['faces']> = [];
  if (opts.recordMaxBytes !== undefined && !opts.record) return '--record-max-bytes needs --record FILE.mcap';
  if (opts.record) {
    if (!opts.record.endsWith('.mcap')) return `--record ${opts.record}: the file name must end in .mcap`;
    if (opts.recordMaxBytes !== undefined && opts.recordMaxBytes < MIN_ROLLING_BYTES) return `--record-max-bytes must be at least ${MIN_ROLLING_BYTES} (got ${opts.recordMaxBytes})`;
    faces.push(recorderFace({ path: opts.record, ...(opts.recordMaxBytes !== undefined ? { maxBytes: opts.recordMaxBytes } : {}), log: (line) => err.write(`${line}\n`) }));
  }
  const serve = opts.hmi === true || opts.wsPort !== undefined;
  if (!serve && (opts.httpPort !== undefined || opts.token !== undefined || (opts.bind !== undefined && opts.bind !== DEFAULT_BIND))) {
    return '--http-port, --bind and --token apply to the HMI and the WebSocket bridge: add --hmi (or --ws-port)';
  }
  if (opts.httpPort !== undefined && !opts.hmi) return '--http-port needs --hmi';
  if (serve) {
    const host = opts.bind ?? DEFAULT_BIND;
    try {
      checkBinding(host, opts.token, '--bind');
    } catch (e) {
      return (e as Error).message;
    }
    faces.push(
      ...operatorFaces({
        hmi: opts.hmi === true,
        host,
        ...(opts.token !== undefined ? { token: opts.token } : {}),
        wsPort: opts.wsPort ?? DEFAULT_WS_PORT,
        ...(opts.httpPort !== undefined ? { httpPort: opts.httpPort } : {}),
        log: (line) => err.write(`${line}\n`),
        onListening: ({ wsPort, httpPort, host: h }) => {
          const shown = h.includes(':') ? `[${h}]` : h;
          err.write(`Foxglove WebSocket bridge on ws://${shown}:${wsPort}/${httpPort !== undefined ? `; HMI on http://${shown}:${httpPort}/` : ''}\n`);
        },
      }),
    );
  }
  return faces;
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
