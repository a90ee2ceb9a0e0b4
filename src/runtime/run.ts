/**
 * One run of a cell: the description, one clock, the operator interface, the journal, the
 * devices (the embedded simulator here), the controller, and an optional scenario — assembled,
 * run to the end of the lot (or until the cell stalls or is interrupted), and summarised.
 *
 * The CLI and the tests both use this; neither reaches into the controller's internals.
 */
import { persistSimWorld } from '../sim/persist.js';
import { loadCell } from '../cell/load.js';
import type { CellDescription } from '../cell/schema.js';
import { Controller } from '../controller/controller.js';
import { throughputLimit, type ThroughputLimit } from '../controller/throughput.js';
import { EmbeddedBus, type Bus } from '../interface/bus.js';
import type { CellStateMessage } from '../interface/operator.js';
import { FileSink, Journal, MemorySink, type JournalRecord, type JournalSink } from '../journal/journal.js';
import { createSimulatedCell, DeviceLogFile, DeviceLogNone, loadScenario, ScenarioRunner, type DeviceLogSink, type SimulatedCell } from '../sim/index.js';
import { RealClock, VirtualClock, type Clock } from '../time/clock.js';
import type { PackmlState } from '../../machines/packml.js';
import type { DeviceDriver } from '../devices/types.js';
import { BELIEF_VERSION } from '../controller/controller.js';
import { openFileStore, type DurableStore } from '../persist/index.js';

export interface RunOptions {
  cellPath: string;
  seed?: number;
  /** Lot size: the run ends when this many parts have left the cell. Undefined: until stopped. */
  cycles?: number;
  virtualTime?: boolean;
  scenarioPath?: string;
  journalPath?: string;
  deviceLogPath?: string;
  /** Or any device-log sink (tests keep it in memory). */
  deviceLog?: DeviceLogSink;
  /**
   * Directory of the durable state (write-ahead intent log and belief, docs/persistence.md).
   * Without it nothing is persisted.
   */
  stateDir?: string;
  /** Or any durable store (tests). */
  store?: DurableStore;
  /** Send Reset, then Start, through the operator interface (simulated cells only). */
  autostart?: boolean;
  /** Keep journal records in memory too (tests). */
  keepJournal?: boolean;
  /** Virtual time only: give up when the cell has made no progress for this long (ms). */
  stallTimeoutMs?: number;
  onProgress?(progress: RunProgress): void;
  /**
   * Drivers for the cell's devices. Defaults to the embedded simulator for every device; a serial
   * rig, Firmata boards or ROS 2 replace some of them (the map must have one driver per device).
   */
  drivers?: (ctx: DriverContext) => ReadonlyMap<string, DeviceDriver>;
  /**
   * The cell clock, when it comes from outside (ROS /clock with use_sim_time: src/ros/simTime.ts).
   * Defaults to a VirtualClock with `virtualTime`, else a RealClock.
   */
  clock?: Clock;
  /**
   * The clock safety timeouts (heartbeats, safe-OK) run on: give the monotonic wall clock whenever
   * `clock` is simulated time, so a paused simulator cannot freeze fault detection. Defaults to the cell clock.
   */
  safetyClock?: Clock;
  /** Faces attached once the controller runs (ROS 2 adapter, WebSocket bridge, HMI, recorder). */
  faces?: Array<(ctx: RunContext) => Face | Promise<Face>>;
}

export interface DriverContext {
  cell: CellDescription;
  hash: string;
  clock: Clock;
  seed: number;
  /** The embedded simulator: its drivers, and the simulated world a rig's physics can share. */
  sim: SimulatedCell;
}

export interface RunContext {
  cell: CellDescription;
  hash: string;
  clock: Clock;
  bus: Bus;
  journal: Journal;
  controller: Controller;
  sim: SimulatedCell;
  /** The drivers the controller runs (the simulator's, or those given in `drivers`): for telemetry faces. */
  drivers: ReadonlyMap<string, DeviceDriver>;
  /**
   * Journal records written before this face was attached (run.start and the boot state come
   * first): a recorder writes these, then follows `journal.onRecord`, and misses nothing.
   */
  journalHistory: readonly JournalRecord[];
}

/** Something attached to a run that must be closed with it. */
export interface Face {
  close(): void | Promise<void>;
}

export interface RunProgress {
  state: string;
  mode: string;
  exited: number;
  lotSize: number | null;
  partsPerMinute: number;
  lastFault?: string;
  t: number;
}

export interface RunSummary {
  cell: string;
  hash: string;
  seed: number;
  virtualTime: boolean;
  scenario: string | null;
  lotSize: number | null;
  finalState: string;
  parts: { released: number; exited: number; rejected: number; lost: number; inCell: number };
  cycleTimeMs: { mean: number | null; p95: number | null };
  throughput: { partsPerMinute: number; limitPartsPerMinute: number; ratio: number; bottleneck: string };
  faults: number;
  recoveries: number;
  simulatedMs: number;
  wallMs: number;
  ok: boolean;
  message: string;
}

export class RunError extends Error {}

export class CellRun {
  readonly clock: Clock;
  readonly bus: Bus;
  readonly journal: Journal;
  readonly memory: MemorySink | undefined;
  readonly sim: SimulatedCell;
  readonly controller: Controller;
  readonly limit: ThroughputLimit;
  readonly cell: CellDescription;
  readonly hash: string;
  readonly seed: number;
  private readonly deviceLog: DeviceLogSink;
  private readonly scenario: ScenarioRunner | undefined;
  private readonly scenarioName: string | null;
  /** Last /workcell/state, kept as text: parsed only when progress is shown. */
  private lastStateText: string | undefined;
  private lastProgressAt = 0;
  private interrupted = false;
  private closed = false;
  private startedRun = false;
  private readonly faces: Face[] = [];
  private store: DurableStore | undefined;
  private readonly drivers: ReadonlyMap<string, DeviceDriver>;
  /** Journal records kept until the faces are attached (see RunContext.journalHistory). */
  private journalHistory: JournalRecord[] | undefined;
  private readonly stopJournalHistory: () => void;

  constructor(private readonly options: RunOptions) {
    const loaded = loadCell(options.cellPath);
    if (!loaded.ok) {
      const lines = loaded.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}`);
      throw new RunError(`the cell description has problems:\n${lines.join('\n')}`);
    }
    this.cell = loaded.cell;
    this.hash = loaded.hash;
    this.seed = options.seed ?? 1;
    this.limit = throughputLimit(this.cell);
    this.clock = options.clock ?? (options.virtualTime ? new VirtualClock() : new RealClock());
    this.bus = new EmbeddedBus();
    const sinks: JournalSink[] = [];
    if (options.keepJournal) sinks.push((this.memory = new MemorySink()));
    if (options.journalPath) sinks.push(new FileSink(options.journalPath));
    // Wall time in a virtual-time run is still the real wall clock: it says when the run happened.
    this.journal = new Journal(this.clock, sinks);
    if (options.faces?.length) this.journalHistory = [];
    this.stopJournalHistory = options.faces?.length ? this.journal.onRecord((record) => this.journalHistory?.push(record)) : () => {};
    this.deviceLog = options.deviceLog ?? (options.deviceLogPath ? new DeviceLogFile(options.deviceLogPath) : new DeviceLogNone());
    this.sim = createSimulatedCell(this.cell, this.clock, { seed: this.seed, deviceLog: this.deviceLog });
    // A simulated cell outlives its controller: the world is kept with the durable state, so a
    // restarted controller finds the parts where the killed one left them.
    if (options.stateDir && !options.drivers) {
      const takeOver = persistSimWorld(this.sim, options.stateDir, this.hash);
      if (takeOver?.restored) this.journal.record('recovery', { recovery: 'sim_world_restored', message: `the simulated world saved in ${options.stateDir} was taken over (${takeOver.parts} parts in the cell)` });
      else if (takeOver) this.journal.record('recovery', { recovery: 'sim_world_set_aside', message: `the saved simulated world was set aside in ${takeOver.setAside}: ${takeOver.reason}; the simulator starts empty` });
    }

    let scenarioHooks: ScenarioRunner | undefined;
    this.scenarioName = null;
    if (options.scenarioPath) {
      const scenario = loadScenario(options.scenarioPath);
      this.scenarioName = scenario.name;
      scenarioHooks = new ScenarioRunner(scenario, {
        clock: this.clock,
        sim: this.sim,
        sendCommand: (word) => this.bus.publish(this.controller.topics.command, { data: word }),
      });
    }
    this.scenario = scenarioHooks;
    this.controller = new Controller({
      cell: this.cell,
      cellHash: this.hash,
      clock: this.clock,
      ...(options.safetyClock ? { safetyClock: options.safetyClock } : {}),
      bus: this.bus,
      journal: this.journal,
      drivers: (this.drivers = options.drivers ? options.drivers({ cell: this.cell, hash: this.hash, clock: this.clock, seed: this.seed, sim: this.sim }) : this.sim.drivers),
      ...(options.cycles !== undefined ? { lotSize: options.cycles } : {}),
      runInfo: { seed: this.seed, virtualTime: options.virtualTime === true, scenario: this.scenarioName },
      cellPath: options.cellPath, // teach writes back to it (commissioning, #11)
      hooks: {
        onCycle: (n) => this.scenario?.onCycle(n),
        onStateEntered: (s) => this.scenario?.onStateEntered(s),
        // The observers' logs are written out before the kill, so a crash test sees both lives
        // whole; the controller's own durable state gets no such help.
        ...crashPoints(process.env.WORKCELL_CRASH_AT, () => {
          for (const sink of sinks) if (sink instanceof FileSink) sink.flush();
          if (this.deviceLog instanceof DeviceLogFile) this.deviceLog.flush();
        }),
      },
    });
    this.bus.subscribe(this.controller.topics.state, (msg) => {
      this.lastStateText = msg.data;
    });
  }

  get state(): PackmlState {
    return this.controller.packmlState;
  }

  /** Send an operator command through the operator interface, as an HMI would. */
  send(word: string): void {
    this.bus.publish(this.controller.topics.command, { data: word });
  }

  /** Ask a real-time run to end: a normal Stop, then the run returns. */
  interrupt(): void {
    this.interrupted = true;
    if (!['Stopped', 'Stopping', 'Aborted', 'Aborting', 'Clearing'].includes(this.state)) this.send('stop');
  }

  /** Start the controller (and the scenario); `run()` does this itself. Tests drive the clock after it. */
  start(): void {
    if (this.startedRun) return;
    this.startedRun = true;
    this.controller.start();
    this.scenario?.start();
    if (this.options.autostart) this.armAutostart();
  }

  /** Attach the faces given in the options (run() does this after start()). */
  async attachFaces(): Promise<void> {
    const ctx: RunContext = {
      cell: this.cell,
      hash: this.hash,
      clock: this.clock,
      bus: this.bus,
      journal: this.journal,
      controller: this.controller,
      sim: this.sim,
      drivers: this.drivers,
      journalHistory: this.journalHistory ?? [],
    };
    for (const make of this.options.faces ?? []) this.faces.push(await make(ctx));
    // Every face now follows the journal itself.
    this.journalHistory = undefined;
    this.stopJournalHistory();
  }

  /** Open the durable store, if any, and hand its belief to the controller (run() does this). */
  async openStore(): Promise<void> {
    const store = this.options.store ?? (this.options.stateDir ? openFileStore(this.options.stateDir) : undefined);
    if (!store || this.store) return;
    const opened = await store.open({ machineVersion: BELIEF_VERSION, cellHash: this.hash });
    this.store = store;
    this.controller.attachStore(store, opened);
  }

  async run(): Promise<RunSummary> {
    const wallStart = performance.now();
    await this.openStore();
    this.start();
    await this.attachFaces();
    const outcome = this.clock instanceof VirtualClock ? await this.runVirtual(this.clock) : await this.runReal();
    const summary = this.summary(outcome, performance.now() - wallStart);
    this.journal.record('run.end', { summary });
    await this.close();
    return summary;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller.stopWatches();
    for (const face of this.faces.splice(0).reverse()) await face.close();
    await this.controller.pendingWork();
    this.controller.dispose();
    if (this.store) {
      await this.store.flush();
      await this.store.close();
    }
    this.journal.close();
    this.deviceLog.close();
  }

  /** Reset once the cell is Stopped, Start once it is Idle, as an operator would: through the bus. */
  private armAutostart(): void {
    let resetSent = false;
    let startSent = false;
    const unsubscribe = this.bus.subscribe(this.controller.topics.state, (msg) => {
      const s = (JSON.parse(msg.data) as CellStateMessage).state;
      if (s === 'Stopped' && !resetSent) {
        resetSent = true;
        this.clock.setTimeout(() => this.send('reset'), 0);
      } else if (s === 'Idle' && !startSent) {
        startSent = true;
        this.clock.setTimeout(() => this.send('start'), 0);
        unsubscribe();
      }
    });
  }

  private lotDone(): boolean {
    return this.options.cycles !== undefined && this.state === 'Complete';
  }

  private async runVirtual(clock: VirtualClock): Promise<string> {
    const stallMs = this.options.stallTimeoutMs ?? 120_000;
    let lastProgressKey = '';
    let lastProgressT = 0;
    const outcome = await clock.run({
      // Write-ahead: virtual time waits while an intent is being made durable.
      settle: () => this.controller.pendingWork(),
      done: () => {
        if (this.lotDone()) return true;
        const key = `${this.state}/${this.controller.tracker.exited}/${this.controller.tracker.released}`;
        if (key !== lastProgressKey) {
          lastProgressKey = key;
          lastProgressT = clock.now();
        }
        if (this.options.onProgress) this.reportProgress();
        return clock.now() - lastProgressT > stallMs;
      },
    });
    if (this.lotDone()) return 'lot complete';
    if (outcome === 'idle') return `nothing left to happen in ${this.state}`;
    return `no progress for ${Math.round(stallMs / 1000)} s of simulated time in ${this.state}`;
  }

  private async runReal(): Promise<string> {
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        this.reportProgress();
        if (this.lotDone()) {
          clearInterval(poll);
          resolve('lot complete');
        } else if (this.interrupted && ['Stopped', 'Aborted'].includes(this.state)) {
          clearInterval(poll);
          resolve(`interrupted; the cell is ${this.state}`);
        }
      }, 100);
    });
  }

  private reportProgress(): void {
    if (!this.options.onProgress) return;
    const t = this.clock.now();
    if (t - this.lastProgressAt < 250 && !this.lotDone()) return;
    this.lastProgressAt = t;
    const totals = this.controller.tracker.totals();
    const lastFault = this.lastStateText ? (JSON.parse(this.lastStateText) as CellStateMessage).lastFault : undefined;
    this.options.onProgress({
      state: this.state,
      mode: this.controller.mode,
      exited: totals.exited,
      lotSize: this.options.cycles ?? null,
      partsPerMinute: this.achievedPartsPerMinute(),
      ...(lastFault ? { lastFault: `${lastFault.kind}: ${lastFault.message}` } : {}),
      t,
    });
  }

  private achievedPartsPerMinute(): number {
    const { executeStartedAt, lastExitAt } = this.controller;
    const exited = this.controller.tracker.exited - this.controller.exitedBeforeThisRun;
    if (executeStartedAt === undefined || lastExitAt === undefined || exited === 0 || lastExitAt <= executeStartedAt) return 0;
    return (exited / (lastExitAt - executeStartedAt)) * 60_000;
  }

  summary(outcome: string, wallMs: number): RunSummary {
    const totals = this.controller.tracker.totals();
    const cycleTimes = this.controller.tracker.cycleTimes();
    const times = [...cycleTimes.recent].sort((a, b) => a - b);
    const mean = cycleTimes.mean;
    const p95 = times.length ? times[Math.min(times.length - 1, Math.ceil(0.95 * times.length) - 1)]! : null;
    const ppm = this.achievedPartsPerMinute();
    const lot = this.options.cycles ?? null;
    // With a lot: done when it has left the cell. Without one (npm start, a launch file): ending it
    // with Ctrl-C is the expected way to finish, once the cell is at rest: Stopped after the normal
    // Stop, or Aborted (latched; Stop is not valid there), so `ros2 launch` sees a clean exit.
    const ok = lot !== null ? totals.exited >= lot && this.lotDone() : this.interrupted && (this.state === 'Stopped' || this.state === 'Aborted');
    return {
      cell: this.cell.cell.name,
      hash: this.hash,
      seed: this.seed,
      virtualTime: this.clock instanceof VirtualClock,
      scenario: this.scenarioName,
      lotSize: lot,
      finalState: this.state,
      parts: totals,
      cycleTimeMs: { mean: mean === null ? null : round(mean), p95: p95 === null ? null : round(p95) },
      throughput: {
        partsPerMinute: round(ppm),
        limitPartsPerMinute: round(this.limit.partsPerMinute),
        ratio: round(ppm / this.limit.partsPerMinute, 4),
        bottleneck: this.limit.bottleneck.resource,
      },
      faults: this.controller.faults,
      recoveries: this.controller.recoveries,
      simulatedMs: round(this.clock.now()),
      wallMs: round(wallMs),
      ok,
      message: ok ? (lot !== null ? `${totals.exited} parts exited` : `${outcome} (${totals.exited} parts exited)`) : outcome,
    };
  }
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Crash points for the crash tests (`WORKCELL_CRASH_AT`): the process kills itself with SIGKILL,
 * as a power cut or the OOM killer would, at `intent:N` (intent N durable, its command not sent),
 * `sent:N` (sent, not yet confirmed), `homing:N` (the N-th home command sent, the axis homing) or
 * `resync:N` (at the start of the N-th Resync).
 */
function crashPoints(spec: string | undefined, beforeDeath: () => void) {
  if (!spec) return {};
  const match = /^(intent|sent|homing|resync):(\d+)$/.exec(spec);
  if (!match) throw new RunError(`WORKCELL_CRASH_AT="${spec}": expected intent:N, sent:N, homing:N or resync:N`);
  const [, point, nText] = match;
  const n = Number(nText);
  let count = 0;
  const die = () => {
    beforeDeath();
    process.kill(process.pid, 'SIGKILL');
  };
  switch (point) {
    case 'intent':
      return { onIntentDurable: () => void (++count === n && die()) };
    case 'sent':
      return { onSent: () => void (++count === n && die()) };
    case 'homing':
      // The home command has left: the axis is homing when the controller dies.
      return { onSent: (_seq: number, _device: string, step: string) => void (step === 'home' && ++count === n && die()) };
    default:
      return { onResync: () => void (++count === n && die()) };
  }
}
