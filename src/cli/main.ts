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
import { runSchema } from './schema.js';

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
  .option('--json', 'print the summary as one JSON object')
  .addOption(new Option('--autostart', 'send Reset then Start through the operator interface (simulated cells only)'))
  .action(async (opts) => {
    process.exitCode = await runRun(opts, process.stdout, process.stderr);
  });

await program.parseAsync(process.argv);
