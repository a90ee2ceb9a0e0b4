#!/usr/bin/env node
/**
 * The `workcell` command. Exit codes: 0 success; 1 the run did not reach its goal (summary says
 * why); 2 bad input (usage, an invalid cell description, a missing file).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { runCheck } from './check.js';
import { runGraph } from './graph.js';
import { runRun } from './run.js';
import { runProvision } from '../serial/provisionCli.js';
import { runSchema } from './schema.js';
import { runReplay } from '../record/cli.js';
import { takeRosArgs } from '../ros/cli.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const version = (JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
const DEMO_CELL = path.join(packageRoot, 'hardware', 'cells', 'demo.yaml');

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a whole number above 0 (got "${value}")`);
    return n;
  };
}

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number (got "${value}")`);
    return n;
  };
}

function port(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${name} must be a port number 0-65535 (got "${value}")`);
    return n;
  };
}

const program = new Command()
  .name('workcell')
  .description('Orchestrator for robotic work cells: PackML statecharts, interlocks, e-stop latching, resync recovery.')
  .version(version)
  .showHelpAfterError()
  .exitOverride((e) => {
    // Usage errors exit 2, like every other bad input.
    process.exit(e.exitCode === 0 ? 0 : 2);
  });

program
  .command('check')
  .description('check cell description files; print every problem as FILE:LINE:COL: path: message')
  .argument('<files...>', 'cell description YAML files')
  .action((files: string[]) => {
    process.exitCode = runCheck(files, process.stdout, process.stderr);
  });

program
  .command('schema')
  .description('print the JSON Schema of cell descriptions (for editors: yaml-language-server)')
  .action(() => {
    process.exitCode = runSchema(process.stdout);
  });

program
  .command('provision')
  .description("write a cell's configuration into a station board: station id, pins, safe values, watchdog, description hash (docs/hardware.md)")
  .requiredOption('--cell <file>', 'cell description')
  .option('--link <name>', 'serial link of the board (default: the only one)')
  .option('--path <device>', "serial port of the board (default: the link's path)")
  .action(async (opts: { cell: string; link?: string; path?: string }) => {
    process.exitCode = await runProvision(opts, process.stdout, process.stderr);
  });

program
  .command('graph')
  .description('print a statechart as a Mermaid stateDiagram-v2')
  .option('--machine <name>', 'which machine', 'cell')
  .action((opts: { machine: string }) => {
    process.exitCode = runGraph(process.stdout, { machine: opts.machine });
  });

program
  .command('run')
  .description('run a cell; without --autostart it waits in Stopped for operator commands')
  .option('--cell <file>', 'cell description', DEMO_CELL)
  .option('--sim', 'drive every device through the embedded simulator')
  .option('--cycles <n>', 'lot size: end when this many parts have left the cell', positiveInt('--cycles'))
  .option('--virtual-time', 'discrete-event virtual time: as fast as possible, reproducible from --seed')
  .option('--seed <s>', 'simulator seed', integer('--seed'), 1)
  .option('--scenario <file>', 'fault-injection scenario (hardware/scenarios/*.yaml)')
  .option('--journal <file>', 'write the journal (JSON Lines) to this file')
  .option('--device-log <file>', "write the simulator's own log of every command it received")
  .option('--state-dir <dir>', 'keep the durable state here: write-ahead log of motion intents and the belief (docs/persistence.md)')
  .option('--json', 'print the summary as one JSON object')
  .addOption(new Option('--autostart', 'send Reset then Start through the operator interface (simulated cells only)'))
  .option('--hmi', 'serve the operator HMI page (http://127.0.0.1:8080) and the Foxglove WebSocket bridge')
  .option('--ws-port <port>', 'serve the Foxglove WebSocket bridge on this port (default 8765 with --hmi; 0: any free port)', port('--ws-port'))
  .option('--http-port <port>', 'port of the HMI page (default 8080; 0: any free port)', port('--http-port'))
  .option('--bind <address>', 'address the bridge and the HMI listen on; anything but loopback needs --token', '127.0.0.1')
  .option('--token <token>', 'clients must present it (?token=...) for their commands to be accepted')
  .option('--record <file.mcap>', 'record the run (operator interface, journal, device traffic) to an MCAP file')
  .option('--record-max-bytes <n>', 'rolling recording: segments FILE_000.mcap, ... kept within about n bytes', positiveInt('--record-max-bytes'))
  .option('--ros', 'put the cell on ROS 2 (needs a sourced ROS 2 and rclnodejs; see docs/ros2.md): the operator interface, and the devices on ros2 links')
  .option('--use-sim-time', 'with --ros: motion deadlines follow /clock (heartbeats stay on the monotonic clock)')
  .option('--rig', 'run the devices on serial links on simulated station boards (real firmware in avr8js behind a pty, see docs/hardware.md); the rest on the simulator')
  .action(async (opts) => {
    process.exitCode = await runRun({ ...opts, rosArgs }, process.stdout, process.stderr);
  });

program
  .command('replay')
  .description('re-drive the cell machine from an MCAP recording (workcell run --record) and report where it diverges')
  .argument('<file>', 'MCAP recording')
  .option('--json', 'print the report as one JSON object')
  .action((file: string, opts: { json?: boolean }) => {
    process.exitCode = runReplay(file, opts, process.stdout, process.stderr);
  });

// Commissioning against a running controller, through its WebSocket bridge (docs/commissioning.md).
const remoteOptions = (command: Command) =>
  command
    .option('--url <ws-url>', 'the running controller\'s WebSocket bridge', 'ws://127.0.0.1:8765')
    .option('--token <token>', 'the bridge\'s token, when it has one')
    .option('--timeout <ms>', 'how long to wait for the connection and for each answer', positiveInt('--timeout'), 10_000);

remoteOptions(
  program
    .command('jog')
    .description('Manual mode: jog the conveyor or one arm joint at the reduced speed, holding it (hold-to-run) until done, --for, Enter or Ctrl-C')
    .argument('<args...>', '<conveyor> <+|->[mm]  or  <arm> <joint> <+|->[rad]; a bare + or - jogs continuously')
    .option('--for <ms>', 'continuous jogs: hold for at most this long', positiveInt('--for'))
    .option('--speed <v>', 'a lower speed than the limit (mm/s or rad/s)', Number),
).action(async (args: string[], opts: { url: string; token?: string; timeout: number; for?: number; speed?: number }) => {
  const { runJog } = await import('./commission.js');
  process.exitCode = await runJog(args, { url: opts.url, timeoutMs: opts.timeout, ...(opts.token ? { token: opts.token } : {}), ...(opts.for ? { holdMs: opts.for } : {}), ...(opts.speed ? { speed: opts.speed } : {}) }, process.stdout, process.stderr);
});

remoteOptions(
  program
    .command('io')
    .description('Maintenance mode: the I/O view and device diagnostics; "io force <device.channel> on|off <30s> <reason>", "io unforce <device.channel>|all"')
    .argument('[args...]', 'nothing, or force ..., or unforce ...')
    .option('--json', 'print the view as one JSON object'),
).action(async (args: string[], opts: { url: string; token?: string; timeout: number; json?: boolean }) => {
  const { runIo } = await import('./commission.js');
  process.exitCode = await runIo(args, { url: opts.url, timeoutMs: opts.timeout, ...(opts.token ? { token: opts.token } : {}), ...(opts.json ? { json: true } : {}) }, process.stdout, process.stderr);
});

remoteOptions(
  program
    .command('teach')
    .description('Manual mode: write the measured arm joints as a pose, or the conveyor position, into the cell description (diff shown first, backup kept)')
    .argument('<args...>', 'pose <arm> <pose>  or  position <conveyor> <name>_position_mm')
    .option('--yes', 'write without asking'),
).action(async (args: string[], opts: { url: string; token?: string; timeout: number; yes?: boolean }) => {
  const { runTeach } = await import('./commission.js');
  process.exitCode = await runTeach(args, { url: opts.url, timeoutMs: opts.timeout, ...(opts.token ? { token: opts.token } : {}), ...(opts.yes ? { yes: true } : {}) }, process.stdout, process.stderr);
});

// ros2 launch and ros2 run append ROS's own arguments after --ros-args: they are rcl's, not ours.
const rosArgs = takeRosArgs(process.argv);
await program.parseAsync(process.argv);
