/**
 * The controller: the PackML cell machine, the production sequence beside it, the devices, the
 * interlocks and the operator interface, on one clock.
 *
 * The cell machine (machines/cellMachine.ts) only decides states. The acting work of each state
 * (homing in Resetting, production in Execute, reaching a safe point in Holding and Stopping, the
 * safe state in Aborting) is done here, and reported back with `stateComplete`. The sequence is
 * not invoked by the machine, so Hold and Stop never cut a motion mid-way and Unhold re-sends
 * nothing: in-flight steps finish, and the next step is derived from what is true in the cell.
 */
import { createActor, type Actor } from 'xstate';
import { cellMachine } from '../../machines/cellMachine.js';
import {
  commandRejection,
  packmlState,
  PACKTAGS_STATE_NUMBER,
  UNIT_MODE_NUMBER,
  type CellEvent,
  type PackmlState,
} from '../../machines/packml.js';
import type { CellDescription, EstopSource, ProtectiveStop } from '../cell/schema.js';
import { MOTION_COMMANDS, type DeviceCommand, type DeviceDriver, type DeviceFeedback, type Reading } from '../devices/types.js';
import type { Bus } from '../interface/bus.js';
import { DiagnosticLevel, toRosTime, type DiagnosticStatus } from '../interface/messages.js';
import { parseCommand, type AlarmView, type CellEventMessage, type CellStateMessage } from '../interface/operator.js';
import { operatorTopics, type OperatorTopics } from '../interface/topics.js';
import type { Journal } from '../journal/journal.js';
import { InterlockTable, type LiveState } from '../safety/interlocks.js';
import type { Clock, TimerId } from '../time/clock.js';
import { PartTracker } from './parts.js';
import { PickPlaceSequence, type SequenceContext } from './pickPlace.js';
import { StepRunner, type ActiveStep, type StepOutcome, type StepSpec } from './steps.js';
import type { DurableStore, OpenResult } from '../persist/index.js';
// Commissioning: Manual and Maintenance mode work
import { Commissioning } from '../commissioning/commissioning.js';

/** Version of what the controller persists; a persisted belief of another version is set aside. */
export const BELIEF_VERSION = 'workcell-belief-1/packml-1/pick-place-1';

export interface ControllerHooks {
  /** Cycle n starts: the n-th part has been released. */
  onCycle?(n: number): void;
  onStateEntered?(state: PackmlState): void;
  /** Test points for crash tests: an intent became durable; its command was sent; Resync runs; a step starts. */
  onIntentDurable?(seq: number): void;
  onSent?(seq: number, device: string, step: string): void;
  onResync?(): void;
  onStepStart?(device: string, step: string): void;
}

export interface ControllerOptions {
  cell: CellDescription;
  cellHash: string;
  clock: Clock;
  /**
   * The clock safety timeouts (heartbeats) run on: the monotonic wall clock, never simulated
   * time, so a paused simulator cannot freeze fault detection. In a virtual-time run the virtual
   * clock stands in for it explicitly (pass the same clock). Defaults to `clock`.
   */
  safetyClock?: Clock;
  bus: Bus;
  journal: Journal;
  drivers: ReadonlyMap<string, DeviceDriver>;
  /** Parts in the lot; Execute goes to Completing once they have all been released. */
  lotSize?: number;
  hooks?: ControllerHooks;
  /** Period of /diagnostics, ms of cell-clock time. */
  diagnosticsPeriodMs?: number;
  /** Facts about the run for the journal's run.start record (seed, virtual time, scenario). */
  runInfo?: Record<string, unknown>;
  /** The cell description file, for teach in Manual mode (docs/commissioning.md). */
  cellPath?: string;
}

type Phase = 'idle' | 'resetting' | 'resyncing' | 'production';

const PRODUCING_STATES: ReadonlySet<PackmlState> = new Set(['Execute', 'Completing']);
/** After an auto-recoverable fault, how long the cell stays Held before it unholds by itself. */
const AUTO_RECOVER_DELAY_MS = 200;

/** What an operator or maintainer should look at when a step keeps failing. */
const WHAT_TO_CHECK: Record<string, string> = {
  part_not_at_pick: 'check the feeder chute for a jam and the part-present sensor at the pick position',
  pick_not_cleared: 'check the part-present sensor at the pick position (stuck on?) and whether the gripper really took the part',
  vacuum_not_ok: 'check the vacuum supply, the suction cup and the vacuum switch',
  vacuum_not_released: 'check the vacuum valve and the vacuum switch',
  pose_not_reached: "check the arm's path for an obstruction and the arm controller for errors",
  index_short: 'check the belt for slip, the motor coupling and the encoder',
  part_not_at_exit: 'check the exit sensor and whether the part is on the belt',
  home_not_found: 'check the home sensor, its wiring and the home marks on the belt',
  axis_position_lost: "check the station board's power supply and its reset cause",
};
/** Operator commands handled per turn of the event loop; the rest wait (see receiveCommand). */
const COMMANDS_PER_TURN = 16;
/**
 * Operator commands that may wait for later turns. Beyond it a command is refused at once, so a
 * flood costs bounded memory and an operator's next command waits at most a few milliseconds.
 */
export const COMMAND_BACKLOG_LIMIT = 1024;
/** Room beyond the limit kept for Stop and Abort, so an operator can still stop a flooded controller. */
export const STOP_RESERVE = 64;

export class Controller {
  readonly topics: OperatorTopics;
  readonly tracker: PartTracker;
  /** Manual and Maintenance mode work: jog, teach, forcing, single-step (src/commissioning). */
  readonly commissioning: Commissioning;
  private readonly cell: CellDescription;
  private readonly clock: Clock;
  private readonly safetyClock: Clock;
  private readonly unhealthy = new Set<string>();
  private heartbeatTimer: TimerId | undefined;
  private readonly bus: Bus;
  private readonly journal: Journal;
  private readonly drivers: ReadonlyMap<string, DeviceDriver>;
  private readonly interlocks: InterlockTable;
  private readonly sequence: PickPlaceSequence;
  private readonly steps: StepRunner;
  private readonly sequenceContext: SequenceContext;
  private readonly readings = new Map<string, Reading>();
  private readonly inFlight = new Map<string, DeviceCommand>();
  private readonly lastSignOfLife = new Map<string, number>();
  private readonly estopActive = new Map<string, boolean>();
  private readonly protectiveActive = new Map<string, boolean>();
  private readonly blockedBy = new Set<string>();
  /** Consecutive missed steps per device since its last confirmed step. */
  private readonly missesInARow = new Map<string, number>();
  /** The missed step that holds the cell now, and whether it may resume by itself. */
  private holdingFault: { device: string; kind: string; autoRecoverable: boolean } | undefined;
  /** Parts Resync found that the controller never released: never adopted, reported. */
  private readonly quarantined = new Set<string>();
  private nextQuarantineId = 1;
  private resyncedInThisState = false;
  /** A step missed while Completing: the sequence waits for a safe point and Resync. */
  private completingPaused = false;
  private store: DurableStore | undefined;
  private readonly intentSeq = new Map<number, number>();
  private readonly pendingIntents = new Set<Promise<void>>();
  private savedBeliefVersion = -1;
  private openIntentsFromLastRun: unknown[] = [];
  private readonly commandBacklog: Array<{ text: string; source: string }> = [];
  private commandsThisTurn = 0;
  private turnEndScheduled = false;
  private readonly safeOkLastTrue = new Map<string, number>();
  private safeOkTimer: TimerId | undefined;
  /** Per station, the step and rules it is waiting on, so each wait is journaled once. */
  private readonly waiting = new Map<string, string>();
  private readonly alarms: AlarmView[] = [];
  private readonly cleanup: Array<() => void> = [];
  private actor!: Actor<typeof cellMachine>;
  private state: PackmlState = 'Stopped';
  private booted = false;
  private phase: Phase = 'idle';
  private homedThisReset = false;
  private lotReleasedSent = false;
  private ticking = false;
  private tickAgain = false;
  private lastStateJson = '';
  private lastQuickKey = '';
  private lastFault: CellStateMessage['lastFault'];
  private diagnosticsTimer: TimerId | undefined;
  private nextAlarmId = 1;
  private started = false;
  readonly lotSize: number | undefined;
  /** Cell-clock time of the first entry into Execute, and of every exit, for the run summary. */
  executeStartedAt: number | undefined;
  lastExitAt: number | undefined;
  faults = 0;
  recoveries = 0;
  /** Parts that exited in an earlier life of this controller (restored belief): not this run's throughput. */
  exitedBeforeThisRun = 0;

  constructor(private readonly options: ControllerOptions) {
    this.cell = options.cell;
    this.clock = options.clock;
    this.safetyClock = options.safetyClock ?? options.clock;
    this.bus = options.bus;
    this.journal = options.journal;
    this.drivers = options.drivers;
    this.lotSize = options.lotSize;
    this.topics = operatorTopics(this.cell.cell.namespace);
    this.interlocks = new InterlockTable(this.cell);
    this.sequence = new PickPlaceSequence(this.cell);
    this.tracker = new PartTracker(this.journal, () => this.clock.now());
    this.sequenceContext = {
      reading: (d) => this.reading(d),
      tracker: this.tracker,
      mayRelease: () => this.state === 'Execute' && (this.lotSize === undefined || this.tracker.totals().released < this.lotSize),
    };
    this.steps = new StepRunner(
      this.clock,
      (device, expectedMs) => {
        const confirm = this.cell.devices[device]!.confirm;
        return expectedMs * confirm.factor + confirm.marginMs;
      },
      (outcome) => this.onStepOutcome(outcome),
    );
    for (const name of Object.keys(this.cell.devices)) {
      if (!this.drivers.has(name)) throw new Error(`no driver for device ${name}`);
    }
    // commissioning: every motion it asks for goes through dispatch (interlocks, write-ahead, send).
    this.commissioning = new Commissioning({
      cell: this.cell,
      cellPath: options.cellPath,
      safetyClock: this.safetyClock,
      journal: this.journal,
      mode: () => this.mode,
      state: () => this.state,
      reading: (device) => this.reading(device),
      motionRefusal: (device, command) => {
        const forbidden = this.motionForbiddenReason();
        if (forbidden) return forbidden;
        if (!this.healthy(device)) return `${device} is unhealthy (no sign of life)`;
        const refusals = this.interlocks.refusals(device, command, this.live);
        if (refusals.length === 0) return undefined;
        const interlock = refusals.map((r) => r.interlock).join(', ');
        this.journal.record('interlock.refused', { interlock, device, command, stage: 'guard' });
        this.publishEvent({ type: 'interlock.refused', t: this.now(), interlock, device, command: command.type });
        return `interlock ${interlock}`;
      },
      busy: (device) => this.steps.busy(device),
      dispatch: (spec) => this.dispatch(spec),
      stop: (device, cause) => {
        this.drivers.get(device)!.write({ type: 'stop' });
        this.journal.record('device.command', { device, command: { type: 'stop' }, cause });
      },
      writeOutput: (device, command, cause) => {
        this.journal.record('device.command', { device, command, cause });
        this.drivers.get(device)!.write(command);
      },
      estopLatchedReason: () => this.estopLatchedReason(),
      notify: (event, message, extra = {}) => {
        this.publishEvent({ type: 'commissioning', t: this.now(), event, message, ...extra });
        this.publishState();
      },
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Life cycle

  start(): void {
    if (this.started) throw new Error('controller already started');
    // Read every device before any of them is activated: feedback from the first one must find
    // the whole process image (the e-stop inputs above all) and a running cell machine.
    for (const [name, driver] of this.drivers) {
      driver.configure();
      this.readings.set(name, driver.read());
      this.lastSignOfLife.set(name, this.safetyClock.now());
    }
    const activeAtBoot: string[] = [];
    for (const source of this.cell.safety.estopSources) {
      const active = this.estopSourceActive(source);
      this.estopActive.set(source.name, active);
      if (active) activeAtBoot.push(source.name);
    }
    for (const stop of this.cell.safety.protectiveStops) this.protectiveActive.set(stop.name, this.protectiveInputTripped(stop));

    this.journal.record('run.start', {
      cell: this.cell.cell.name,
      hash: this.options.cellHash,
      lotSize: this.lotSize ?? null,
      ...this.options.runInfo,
      activeEstopSources: activeAtBoot,
    });
    this.takeOverPersistedBelief();

    this.actor = createActor(cellMachine, { input: { activeEstopSources: activeAtBoot }, clock: this.clock });
    const subs = [
      this.actor.on('state.entered', (e) => this.onStateEntered(e.state, e.cause)),
      this.actor.on('mode.changed', (e) => {
        this.journal.record('mode', { from: e.from, to: e.to, source: e.source });
        this.publishEvent({ type: 'mode.changed', t: this.now(), from: e.from, to: e.to, source: e.source });
        this.commissioning.modeChanged(e.from, e.to);
      }),
    ];
    for (const s of subs) this.cleanup.push(() => s.unsubscribe());
    this.actor.start();
    this.state = packmlState(this.actor.getSnapshot());
    this.started = true;

    for (const [name, driver] of this.drivers) {
      this.cleanup.push(driver.onFeedback((fb) => this.onFeedback(name, fb)));
      driver.activate();
    }
    this.cleanup.push(this.bus.subscribe(this.topics.command, (msg) => this.receiveCommand(msg.data, `topic:${this.topics.command.name}`)));
    this.subscribeSafeOkSources();
    this.scheduleDiagnostics();
    this.scheduleHeartbeatCheck();
    this.publishState();
  }

  /**
   * Persist the belief and a write-ahead log of motion intents in `store` (already opened). A
   * belief loaded from it is taken over at start(); the machines still boot fresh, and the next
   * Reset resyncs that belief against what the devices measure.
   */
  attachStore(store: DurableStore, opened: OpenResult): void {
    if (this.started) throw new Error('attach the store before start()');
    this.store = store;
    this.openedStore = opened;
  }

  private openedStore: OpenResult | undefined;

  /** Real work virtual time must wait for: intents being made durable. */
  pendingWork(): Promise<unknown> | undefined {
    return this.pendingIntents.size > 0 ? Promise.all(this.pendingIntents) : undefined;
  }

  /**
   * Stop watching heartbeats, safe-OK topics and diagnostics. Closing a run calls it before it takes
   * the transports down, so their going silent is not read as a device lost.
   */
  stopWatches(): void {
    if (this.diagnosticsTimer !== undefined) this.clock.clearTimeout(this.diagnosticsTimer);
    if (this.heartbeatTimer !== undefined) this.safetyClock.clearTimeout(this.heartbeatTimer);
    if (this.safeOkTimer !== undefined) this.safetyClock.clearTimeout(this.safeOkTimer);
    this.diagnosticsTimer = this.heartbeatTimer = this.safeOkTimer = undefined;
  }

  dispose(): void {
    this.stopWatches();
    this.steps.abandonAll();
    this.commissioning.dispose();
    for (const c of this.cleanup.splice(0)) c();
    for (const driver of this.drivers.values()) driver.deactivate();
    this.actor?.stop();
  }

  get packmlState(): PackmlState {
    return this.state;
  }

  get mode(): string {
    return this.actor.getSnapshot().context.mode;
  }

  private takeOverPersistedBelief(): void {
    const opened = this.openedStore;
    if (!opened) return;
    for (const warning of (opened as { warnings?: string[] }).warnings ?? []) {
      this.journal.record('recovery', { recovery: 'persistence_warning', message: warning });
    }
    if (opened.kind === 'setAside') {
      const message = `persisted state set aside (${opened.reason}); moved to ${opened.movedTo}`;
      this.journal.record('recovery', { recovery: 'belief_set_aside', message });
      this.alarms.push({ id: this.nextAlarmId++, t: this.now(), kind: 'belief_set_aside', message, acknowledged: false });
      return;
    }
    type SavedBelief = {
      parts: Array<{ id: string; place: 'feeding' | 'at_pick' | 'gripped' | 'on_belt'; beltMm?: number; releasedAt: number }>;
      counts: { released: number; exited: number; rejected: number; lost: number };
      indexTargetCount?: number;
    };
    // A store whose first belief was never saved opens fresh, but may hold intents all the same.
    if (opened.kind === 'fresh' && opened.openIntents.length === 0) return;
    const saved: SavedBelief =
      opened.kind === 'loaded'
        ? (opened.belief.belief as SavedBelief)
        : { parts: [], counts: { released: 0, exited: 0, rejected: 0, lost: 0 } };
    // The belief may be older than the last intents (it is saved lazily; intents are written
    // ahead). A release intent names its part: that part may exist even if the belief never saw
    // it, so it is tracked as being fed (Resync finds it or records it lost) and ids never repeat.
    const parts = [...saved.parts];
    const counts = { ...saved.counts };
    const laterIntents: Array<{ partId?: string; step: string; device: string }> = [
      ...opened.openIntents,
      ...(opened.kind === 'loaded' ? opened.settledSinceBelief.map((settled) => settled.intent) : []),
    ];
    for (const intent of laterIntents) {
      const id = intent.partId;
      const n = /^P(\d+)$/.exec(id ?? '')?.[1];
      if (id === undefined || n === undefined) continue;
      counts.released = Math.max(counts.released, Number(n));
      if (parts.some((p) => p.id === id) || Number(n) <= saved.counts.released) continue;
      // Where the part was last meant to be, from the step the intent was for; Resync settles it.
      const place = placeForStep(intent.device, intent.step, this.sequence.devices);
      parts.push({ id, place, releasedAt: 0, ...(place === 'on_belt' ? { beltMm: this.sequence.devices.conveyor.desc.placePositionMm } : {}) });
    }
    this.tracker.restore({ parts, counts });
    this.sequence.restoreIndexTarget(saved.indexTargetCount);
    // Indexes the belief never saw: a confirmed one is booked; one left unconfirmed is Reset's
    // homing's to decide (the exit sensor tells whether it carried its part to the exit).
    const conveyor = this.sequence.devices.conveyor.name;
    const indexesSinceBelief = [
      ...(opened.kind === 'loaded' ? opened.settledSinceBelief.map((s) => ({ seq: s.intent.seq, device: s.intent.device, step: s.intent.step, confirmed: s.outcome === 'confirmed' })) : []),
      ...opened.openIntents.map((i) => ({ seq: i.seq, device: i.device, step: i.step, confirmed: false })),
    ]
      .filter((i) => i.device === conveyor && i.step === 'index')
      .sort((a, b) => a.seq - b.seq);
    for (const index of indexesSinceBelief) {
      if (index.confirmed) this.sequence.bookIndexConfirmedAfterBelief(this.tracker);
      else this.sequence.markIndexCutShortAtCrash();
    }
    // The gripper is only ever opened at the place pose: a release the last run commanded for a
    // part tells where that part went, if the vacuum is found off (settlePlaceBeforeHoming).
    const arm = this.sequence.devices.arm.name;
    for (const intent of laterIntents) if (intent.device === arm && intent.step === 'release' && intent.partId) this.releasedByLastRun.add(intent.partId);
    this.openIntentsFromLastRun = opened.openIntents;
    this.exitedBeforeThisRun = this.tracker.exited;
    this.savedBeliefVersion = this.tracker.version;
    this.journal.record('recovery', {
      recovery: 'belief_restored',
      message: `belief of the last run restored (${parts.length} parts in the cell); Reset resyncs it against the devices`,
      parts,
      counts,
      openIntents: opened.openIntents,
    });
  }

  private saveBelief(): void {
    if (!this.store || this.tracker.version === this.savedBeliefVersion) return;
    this.savedBeliefVersion = this.tracker.version;
    this.store.saveBelief({
      format: 1,
      machineVersion: BELIEF_VERSION,
      cellHash: this.options.cellHash,
      savedAtWall: new Date().toISOString(),
      belief: { ...this.tracker.snapshot(), indexTargetCount: this.sequence.indexTarget },
    });
  }

  private settleIntent(step: ActiveStep, outcome: 'confirmed' | 'missed' | 'abandoned'): void {
    const seq = this.intentSeq.get(step.id);
    if (seq === undefined) return;
    this.intentSeq.delete(step.id);
    this.store?.writeOutcome(seq, outcome);
  }

  // ---------------------------------------------------------------------------------------------
  // Operator commands

  /**
   * Commands from the operator interface are handled at once, up to a budget per turn of the event
   * loop; beyond it they wait for later turns. A flood of commands therefore can never keep a
   * device's e-stop input (or anything else) waiting: safety inputs are handled as they arrive.
   * A full backlog refuses the command (journaled and answered like any refusal), never grows.
   */
  private receiveCommand(text: string, source: string): void {
    if (this.commandBacklog.length === 0 && this.commandsThisTurn < COMMANDS_PER_TURN) {
      this.countCommandInTurn();
      this.command(text, source);
      return;
    }
    if (this.commandBacklog.length >= COMMAND_BACKLOG_LIMIT && !(this.bringsToRest(text) && this.commandBacklog.length < COMMAND_BACKLOG_LIMIT + STOP_RESERVE)) {
      const reason = `${COMMAND_BACKLOG_LIMIT} commands are already waiting: commands arrive faster than the controller handles them (${COMMANDS_PER_TURN} per turn of its event loop)`;
      this.rejectCommand(shownCommand(text), source, reason);
      return;
    }
    this.commandBacklog.push({ text, source });
    this.countCommandInTurn();
  }

  private bringsToRest(text: string): boolean {
    const parsed = parseCommand(text);
    return parsed.ok && parsed.command.kind === 'packml' && (parsed.command.command === 'stop' || parsed.command.command === 'abort');
  }

  private countCommandInTurn(): void {
    this.commandsThisTurn++;
    if (this.turnEndScheduled) return;
    this.turnEndScheduled = true;
    this.clock.setTimeout(() => {
      this.turnEndScheduled = false;
      this.commandsThisTurn = 0;
      for (const { text, source } of this.commandBacklog.splice(0, COMMANDS_PER_TURN)) {
        this.commandsThisTurn++;
        this.command(text, source);
      }
      if (this.commandBacklog.length > 0) this.countCommandInTurn();
    }, 0);
  }

  /** Handle one operator command word, as received on /workcell/command. */
  command(text: string, source: string): boolean {
    const parsed = parseCommand(text);
    text = shownCommand(text);
    if (!parsed.ok) return this.rejectCommand(text, source, parsed.reason);
    const cmd = parsed.command;
    if (cmd.kind === 'commissioning') {
      // commissioning: jog, teach, force, unforce, step. Renewals are not journaled one by one.
      const reason = this.commissioning.command(cmd.command, source);
      if (reason !== undefined) return this.rejectCommand(text, source, reason);
      if (cmd.command.kind !== 'jogRenew') this.acceptCommand(text, source);
      this.afterInput();
      return true;
    }
    if (cmd.kind === 'ack') {
      const ids = this.alarms.filter((a) => !a.acknowledged).map((a) => a.id);
      for (const a of this.alarms) a.acknowledged = true;
      this.acceptCommand(text, source);
      this.publishEvent({ type: 'alarm.acknowledged', t: this.now(), ids, source });
      this.publishState();
      return true;
    }
    const event: CellEvent =
      cmd.kind === 'mode' ? { type: 'cmd.mode', mode: cmd.mode, source } : ({ type: `cmd.${cmd.command}`, source } as CellEvent);
    const reason = commandRejection(this.actor.getSnapshot(), event);
    if (reason !== undefined) return this.rejectCommand(text, source, reason);
    this.acceptCommand(text, source);
    this.actor.send(event);
    this.publishState();
    return true;
  }

  private acceptCommand(command: string, source: string): void {
    this.journal.record('command', { command, source, accepted: true, state: this.state });
    this.publishEvent({ type: 'command.accepted', t: this.now(), command, source, state: this.state });
  }

  private rejectCommand(command: string, source: string, reason: string): false {
    this.journal.record('command', { command, source, accepted: false, state: this.state, reason });
    this.publishEvent({ type: 'command.rejected', t: this.now(), command, source, state: this.state, reason });
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // PackML states: the acting work of each one

  private onStateEntered(state: PackmlState, cause: string): void {
    // The boot entry comes from nowhere.
    const from = this.booted ? this.state : null;
    this.booted = true;
    this.state = state;
    this.journal.record('state', { from, to: state, cause });
    this.publishEvent({ type: 'state.changed', t: this.now(), from: from ?? '', to: state, cause });
    this.options.hooks?.onStateEntered?.(state);
    this.commissioning.stateEntered(state); // commissioning: a jog ends, forcing clears on a stop
    this.resyncedInThisState = false;
    switch (state) {
      case 'Resetting':
        this.homedThisReset = false;
        this.placeSettledBeforeHoming = false;
        this.phase = 'resetting';
        break;
      case 'Execute':
        this.executeStartedAt ??= this.now();
        this.phase = 'production';
        this.holdingFault = undefined;
        break;
      case 'Unholding':
      case 'Unsuspending':
        // Unhold always resyncs first: repairs (re-homing a lost axis), then belief against measurement.
        this.phase = 'resyncing';
        break;
      case 'Held':
        this.phase = 'idle';
        this.maybeAutoRecover();
        break;
      case 'Completing':
        this.phase = 'production';
        this.completingPaused = false;
        break;
      case 'Aborting':
        // Normally already done by the e-stop path; an operator Abort arrives here first. Stop the
        // sequence before the safe state, so feedback it causes cannot start a step.
        this.phase = 'idle';
        this.commandSafeState();
        break;
      default:
        if (!PRODUCING_STATES.has(state)) this.phase = 'idle';
    }
    // Completion is decided outside the machine's own transition, on the clock: never re-enter it.
    this.clock.setTimeout(() => this.afterInput(), 0);
  }

  /** Report `stateComplete` for the current acting state when its work is done. */
  private checkStateComplete(): void {
    const s = this.state;
    let done = false;
    switch (s) {
      case 'Resetting':
        if (this.steps.size > 0 || !this.sequence.resetComplete(this.sequenceContext)) break;
        done = this.resyncOnce('reset');
        break;
      case 'Starting':
        done = this.readyToStart();
        break;
      case 'Holding':
      case 'Stopping':
      case 'Suspending':
        // A safe point: no step in progress and nothing still moving (a cut motion decelerating).
        done = this.steps.size === 0 && this.nothingMoves();
        break;
      case 'Unholding':
      case 'Unsuspending': {
        if (this.steps.size > 0 || !this.nothingMoves()) break;
        if (this.reading(this.sequence.devices.conveyor.name).axis?.homed !== true) break; // re-homing first
        done = this.resyncOnce(s === 'Unholding' ? 'unhold' : 'unsuspend');
        break;
      }
      case 'Aborting':
        done = this.nothingMoves();
        break;
      case 'Clearing':
        done = [...this.estopActive.values()].every((a) => !a);
        break;
      case 'Completing':
        if (this.completingPaused) {
          // Reach a safe point, resync, and go on only where the fault may resume by itself;
          // otherwise the cell waits with its alarm (Stop or Abort remain available).
          if (this.steps.size > 0 || !this.nothingMoves() || !this.holdingFault?.autoRecoverable) break;
          if (this.safetySourceActive() || !this.resyncOnce('completing')) break;
          this.completingPaused = false;
          this.resyncedInThisState = false;
          this.holdingFault = undefined;
          this.phase = 'production';
          this.recoveries++;
          this.journal.record('recovery', { recovery: 'auto_resume', message: 'missed step while Completing: resynced, the lot goes on' });
          this.tick();
          break;
        }
        done = this.steps.size === 0 && this.tracker.inCell().length === 0;
        break;
      case 'Execute':
        // The whole lot has been released and none of it is still on its way to the pick (also true
        // after a restart that found the last parts lost): Execute moves on to Completing.
        if (this.lotSize !== undefined && !this.lotReleasedSent && this.tracker.released >= this.lotSize && !this.tracker.find('feeding')) {
          this.lotReleasedSent = true;
          this.actor.send({ type: 'lot.released' });
        }
        return;
      default:
        return;
    }
    if (done) this.actor.send({ type: 'stateComplete', state: s });
  }

  /** Any e-stop source or protective stop active now. */
  private safetySourceActive(): boolean {
    return [...this.estopActive.values(), ...this.protectiveActive.values()].some((a) => a);
  }

  private nothingMoves(): boolean {
    return [...this.drivers.keys()].every((d) => !this.reading(d).moving && !this.inFlight.has(d));
  }

  private allHealthy(): boolean {
    return [...this.drivers.keys()].every((d) => this.healthy(d));
  }

  private readyToStart(): boolean {
    return (
      this.allHealthy() &&
      this.sequence.resetComplete(this.sequenceContext) &&
      !this.safetySourceActive()
    );
  }

  /**
   * An internal hold for a missed step resumes by itself only where the description marks that fault
   * auto-recoverable, its retries are not used up, and no safety source is active (safety.md rule 3).
   */
  private maybeAutoRecover(): void {
    const fault = this.holdingFault;
    if (!fault?.autoRecoverable) return;
    this.clock.setTimeout(() => {
      if (this.state !== 'Held' || this.holdingFault !== fault || !fault.autoRecoverable || this.safetySourceActive() || !this.allHealthy()) return;
      this.recoveries++;
      this.journal.record('recovery', { recovery: 'auto_unhold', device: fault.device, message: `${fault.kind} is auto-recoverable: unholding after Resync` });
      this.publishEvent({ type: 'recovery', t: this.now(), kind: 'auto_unhold', device: fault.device, message: `${fault.kind} is auto-recoverable: unholding after Resync` });
      this.command('unhold', 'controller:auto-recover');
    }, AUTO_RECOVER_DELAY_MS);
  }

  /**
   * Resync once per acting state; then wait, if needed, until an unknown part has been removed
   * (it is never adopted). True when the state may complete.
   */
  private resyncOnce(reason: string): boolean {
    // Resync compares belief with measurement: it waits until every device is heard from again.
    if (!this.allHealthy()) return false;
    if (!this.resyncedInThisState) {
      this.resyncedInThisState = true;
      this.resync(reason);
    } else {
      this.quarantineUnknownParts(reason);
    }
    return this.quarantined.size === 0;
  }

  /**
   * Resync: read what is really true in the cell, compare it with the belief, journal both side by
   * side, and reconcile the part tracking. Next steps are then derived from this, so a step whose
   * confirmation was lost but which happened is not repeated, and one that did not is retried.
   */
  private resync(reason: string): void {
    this.options.hooks?.onResync?.();
    const believed = this.beliefView();
    this.reconcileBelief(reason);
    this.quarantineUnknownParts(reason);
    const measured = this.measuredView();
    this.recoveries++;
    this.journal.record('recovery', {
      recovery: 'resync',
      reason,
      message: `Resync on ${reason}: belief compared with measurement`,
      believed,
      measured,
      reconciled: this.beliefView(),
      quarantined: [...this.quarantined],
      ...(this.openIntentsFromLastRun.length > 0 ? { openIntentsOfLastRun: this.openIntentsFromLastRun } : {}),
    });
    // Intents of the last run whose outcome was never written: Resync has now accounted for what
    // really happened, so they are closed.
    for (const intent of this.openIntentsFromLastRun as Array<{ seq: number }>) this.store?.writeOutcome(intent.seq, 'abandoned');
    this.openIntentsFromLastRun = [];
    this.publishEvent({ type: 'recovery', t: this.now(), kind: 'resync', message: `Resync on ${reason}` });
  }

  private beliefView(): Record<string, unknown> {
    return {
      parts: this.tracker.inCell().map((p) => ({ id: p.id, place: p.place, ...(p.beltMm === undefined ? {} : { beltMm: p.beltMm }) })),
      indexPending: this.sequence.indexPending,
    };
  }

  private measuredView(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const name of this.drivers.keys()) {
      const r = this.reading(name);
      out[name] = { inputs: r.inputs, outputs: r.outputs, moving: r.moving, ...(r.joints ? { joints: r.joints } : {}), ...(r.axis ? { axis: r.axis } : {}) };
    }
    return out;
  }

  /** A part at the pick position that the controller never released is reported, never adopted. */
  private quarantineUnknownParts(reason: string): void {
    const atPick = this.reading(this.sequence.devices.feeder.name).inputs.part_at_pick === true;
    // Explained: a part on its way or waiting there, or the gripped part with the arm still down at the pick.
    const explained =
      this.tracker.find('at_pick') !== undefined ||
      this.tracker.find('feeding') !== undefined ||
      (this.tracker.find('gripped') !== undefined && this.sequence.armAt(this.sequenceContext, 'pick'));
    if (!atPick) {
      for (const id of this.quarantined) this.journal.record('part', { partId: id, event: 'removed', reason: `${reason}: the pick position is clear` });
      this.quarantined.clear();
      return;
    }
    if (explained || this.quarantined.size > 0) return;
    const id = `Q${this.nextQuarantineId++}`;
    this.quarantined.add(id);
    this.journal.record('part', { partId: id, event: 'quarantined', reason: `${reason}: a part the controller never released is at the pick position` });
    this.raiseFault('unexpected_part', `an unknown part (${id}) is at the pick position: remove it; the cell waits until it is gone`, this.sequence.devices.feeder.name);
  }

  private placeSettledBeforeHoming = false;

  /**
   * Reset moves the arm home before its Resync, which would erase the one piece of evidence that a
   * part believed gripped was put down on the belt: the arm standing at the place pose with its
   * vacuum off (a release whose confirmation was lost, e.g. by a crash). Read it before any motion.
   */
  private settlePlaceBeforeHoming(): void {
    const { arm, conveyor } = this.sequence.devices;
    const part = this.tracker.find('gripped');
    const r = this.reading(arm.name);
    if (!part || r.inputs.vacuum_ok === true) return;
    const atPlace = this.sequence.armAt(this.sequenceContext, 'place');
    // Lifting from the place with the valve off: the release the last run commanded happened.
    const releasedThere = r.outputs.vacuum === false && this.releasedByLastRun.has(part.id);
    if (!atPlace && !releasedThere) return;
    this.tracker.move(part.id, 'on_belt', 'placed', conveyor.desc.placePositionMm);
    this.recoveries++;
    const evidence = atPlace ? 'arm at place, vacuum off' : 'its release was commanded at the place pose and the valve is off';
    this.journal.record('recovery', { recovery: 'confirmation_by_measurement', device: arm.name, step: 'release', partId: part.id, message: `reset: ${part.id} was released at the place position (${evidence})` });
  }

  /** Parts the last run commanded the gripper to let go of (arm release intents the belief had not seen settled). */
  private readonly releasedByLastRun = new Set<string>();

  /**
   * Bring the belief back in line with what the sensors say where a confirmation was lost: a part
   * believed on its way that is really there is accepted (not fed again); one that is not is lost.
   * (The full resync of missed steps builds on this.)
   */
  private reconcileBelief(reason: string): void {
    const { feeder, arm } = this.sequence.devices;
    if (this.sequence.settleIndex(this.sequenceContext)) {
      this.recoveries++;
      this.journal.record('recovery', { recovery: 'index_settled_by_measurement', device: this.sequence.devices.conveyor.name, message: `${reason}: the cut index had reached its target` });
    }
    const atPick = this.reading(feeder.name).inputs.part_at_pick === true;
    const vacuumOk = this.reading(arm.name).inputs.vacuum_ok === true;
    const armAtPick = this.sequence.armAt(this.sequenceContext, 'pick');
    // The gripper first: a part believed gripped that it no longer holds was put down or dropped.
    const gripped = this.tracker.find('gripped');
    if (gripped && !vacuumOk) {
      if (this.sequence.armAt(this.sequenceContext, 'place')) {
        this.tracker.move(gripped.id, 'on_belt', 'placed', this.sequence.devices.conveyor.desc.placePositionMm);
      } else this.tracker.finish(gripped.id, 'lost', `${reason}: not held by the gripper`);
    }
    // Upstream of the gripper parts move in release order, chute -> pick -> gripper, and confirmations
    // cut short (a crash, a lost message) leave the belief behind: the sensors say how many parts are
    // at each place, and the oldest have gone furthest.
    const upstream = this.tracker
      .inCell()
      .filter((p) => p.place === 'feeding' || p.place === 'at_pick')
      .sort((a, b) => releaseOrder(a.id) - releaseOrder(b.id));
    // A part gripped at the pick and not lifted yet is still what the pick sensor sees.
    let pickExplained = gripped !== undefined && vacuumOk && armAtPick;
    if (vacuumOk && !this.tracker.find('gripped')) {
      const first = upstream.shift();
      if (first) {
        this.tracker.move(first.id, 'gripped', 'picked');
        pickExplained = armAtPick;
      }
    }
    if (atPick && !pickExplained) {
      const next = upstream.shift();
      if (next?.place === 'feeding') this.tracker.move(next.id, 'at_pick', 'at_pick');
    }
    for (const part of upstream) {
      this.tracker.finish(part.id, 'lost', part.place === 'feeding' ? `${reason}: released but never arrived at the pick position` : `${reason}: no longer at the pick position`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Devices

  private onFeedback(device: string, fb: DeviceFeedback): void {
    // A refusal may come from the driver itself (a board that is not connected refuses locally),
    // so it is no sign of life; a live device also sends readings or heartbeats.
    if (fb.type !== 'refused') {
      this.lastSignOfLife.set(device, this.safetyClock.now());
      if (this.unhealthy.has(device)) this.deviceCameBack(device);
    }
    switch (fb.type) {
      case 'heartbeat':
        return;
      case 'reading': {
        const before = this.readings.get(device);
        this.readings.set(device, fb.reading);
        const ioChanged = !before || changedIo(before, fb.reading);
        if (device === this.sequence.devices.conveyor.name && before?.inputs.part_at_exit !== fb.reading.inputs.part_at_exit) {
          this.sequence.exitSensorChanged(fb.reading.inputs.part_at_exit === true);
        }
        if (before && ioChanged) {
          this.journal.record('device.feedback', { device, inputs: fb.reading.inputs, outputs: fb.reading.outputs, moving: fb.reading.moving });
        }
        this.checkSafetyInputs();
        this.steps.evaluate();
        if (!ioChanged) {
          // Joint states arrive at 50 Hz: only republish when something the state shows changed.
          this.tick();
          if (this.quickStateKey() !== this.lastQuickKey) this.publishState();
          return;
        }
        break;
      }
      case 'motionDone':
        this.inFlight.delete(device);
        this.journal.record('device.feedback', { device, feedback: 'motionDone', command: fb.command.type });
        this.steps.motionDone(device);
        break;
      case 'reset': {
        this.journal.record('device.feedback', { device, feedback: 'reset', cause: fb.cause });
        this.inFlight.delete(device);
        // The rebooted board forgot the command: its step is abandoned, not missed (Resync repairs).
        this.abandonStep(device);
        this.raiseFault('axis_position_lost', `${device} reset (${fb.cause}): its position is lost until homed`, device);
        break;
      }
      case 'refused':
        this.journal.record('device.feedback', { device, feedback: 'refused', reason: fb.reason });
        this.inFlight.delete(device);
        this.raiseFault('command_refused', `${device} refused a command: ${fb.reason}`, device);
        break;
    }
    this.afterInput();
  }

  /** After any input: start what may start, complete acting states, publish what changed. */
  private afterInput(): void {
    this.tick();
    this.saveBelief();
    this.publishState();
  }

  private tick(): void {
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.tickAgain = false;
        this.blockedBy.clear();
        this.commissioning.beginTick(); // commissioning: single-step
        if (this.phase === 'resetting' && !this.placeSettledBeforeHoming && this.allHealthy()) {
          this.placeSettledBeforeHoming = true;
          this.settlePlaceBeforeHoming();
        }
        if (this.phase !== 'idle' && (this.phase !== 'resetting' || this.placeSettledBeforeHoming)) {
          for (const station of this.sequence.stations) {
            // A silent station's readings are stale: start nothing on it until it is heard again.
            if (this.steps.busy(station) || !this.healthy(station)) continue;
            const spec =
              this.phase === 'resetting'
                ? this.sequence.nextResetStep(station, this.sequenceContext, this.homedThisReset)
                : this.phase === 'resyncing'
                  ? this.sequence.nextRepairStep(station, this.sequenceContext)
                  : this.sequence.nextProductionStep(station, this.sequenceContext);
            if (!spec) continue;
            // The sequence waits on an interlock instead of failing.
            const refusals = this.interlocks.refusals(station, spec.command, this.live);
            if (refusals.length > 0) {
              for (const r of refusals) this.blockedBy.add(r.interlock);
              const interlock = refusals.map((r) => r.interlock).join(', ');
              const key = `${spec.name}:${interlock}`;
              if (this.waiting.get(station) !== key) {
                this.waiting.set(station, key);
                this.journal.record('interlock.refused', { interlock, device: station, command: spec.command, step: spec.name, stage: 'guard' });
              }
              continue;
            }
            this.waiting.delete(station);
            // commissioning: in Maintenance mode one production step per operator `step`.
            if (this.phase === 'production' && !this.commissioning.mayStartProductionStep(station, spec.name)) continue;
            this.dispatch(spec);
            if (this.phase === 'production' && this.steps.busy(station)) this.commissioning.productionStepStarted(station, spec.name);
          }
        }
        this.commissioning.endTick(this.phase === 'production');
        this.checkStateComplete();
      } while (this.tickAgain);
    } finally {
      this.ticking = false;
    }
  }

  /**
   * The last check before a command leaves for a device (`stage` dispatch, and again at send when
   * the intent had to be made durable first): the e-stop latch, the device's health, the interlocks.
   */
  private mayLeave(device: string, command: DeviceCommand, stage: 'dispatch' | 'send'): boolean {
    const latched = this.estopLatchedReason();
    if (latched) {
      // Nothing but the safe state reaches a device while an e-stop source is active.
      this.journal.record('interlock.refused', { interlock: latched, device, command, stage });
      this.publishEvent({ type: 'interlock.refused', t: this.now(), interlock: latched, device, command: command.type });
      return false;
    }
    if (!this.healthy(device)) {
      this.journal.record('interlock.refused', { interlock: `${device} unhealthy`, device, command, stage });
      return false;
    }
    if (MOTION_COMMANDS.has(command.type)) {
      const reason = this.motionForbiddenReason();
      const refusals = this.interlocks.refusals(device, command, this.live);
      if (reason || refusals.length > 0) {
        const interlock = reason ?? refusals.map((r) => r.interlock).join(', ');
        this.journal.record('interlock.refused', { interlock, device, command, stage });
        this.publishEvent({ type: 'interlock.refused', t: this.now(), interlock, device, command: command.type });
        this.raiseFault('interlock_refused', `${command.type} to ${device} refused at ${stage} by ${interlock}`, device);
        return false;
      }
    }
    return true;
  }

  /**
   * Start a step. With a durable store the intent is made durable first (write-ahead), and the
   * command leaves only then, after checking everything again: the world may have changed.
   */
  private dispatch(spec: StepSpec): void {
    const { device, command } = spec;
    if (!this.mayLeave(device, command, 'dispatch')) return;
    if (MOTION_COMMANDS.has(command.type)) this.inFlight.set(device, command);
    spec.onDispatched?.();
    const step = this.steps.begin(spec);
    this.journal.record('step', { device, step: spec.name, phase: 'start', ...(step.partId ? { partId: step.partId } : {}) });
    this.options.hooks?.onStepStart?.(device, spec.name);
    const store = this.store;
    if (!store) {
      this.send(step);
      return;
    }
    const seq = store.nextSeq();
    this.intentSeq.set(step.id, seq);
    const pending = store
      .writeIntent({ seq, device, step: spec.name, command, ...(step.partId ? { partId: step.partId } : {}) })
      .then(
        () => this.intentDurable(step, seq),
        (error: unknown) => this.persistenceFailed(step, error),
      )
      .finally(() => this.pendingIntents.delete(pending));
    this.pendingIntents.add(pending);
  }

  private intentDurable(step: ActiveStep, seq: number): void {
    this.options.hooks?.onIntentDurable?.(seq);
    if (this.steps.get(step.device)?.id !== step.id) return; // cut short meanwhile (its outcome is written)
    if (!this.mayLeave(step.device, step.command, 'send')) {
      this.abandonStep(step.device);
      this.afterInput();
      return;
    }
    this.send(step);
    this.store?.writeOutcome(seq, 'sent');
    this.options.hooks?.onSent?.(seq, step.device, step.name);
    this.afterInput();
  }

  /** The disk failed: no further motion may leave (the intent cannot be made durable). */
  private persistenceFailed(step: ActiveStep, error: unknown): void {
    const message = `the durable store failed (${error instanceof Error ? error.message : String(error)}): no motion can be made durable, so none is sent`;
    // The store goes first, so that abandoning the step does not write to the failed store.
    this.store = undefined;
    this.storeFailed = true;
    if (this.steps.get(step.device)?.id === step.id) this.abandonStep(step.device);
    this.raiseFault('persistence_failed', message);
    this.afterInput();
  }

  private storeFailed = false;

  private send(step: ActiveStep): void {
    const { device, command } = step;
    this.journal.record('device.command', { device, command, step: step.name, ...(step.partId ? { partId: step.partId } : {}) });
    if (step.name === 'release' && device === this.sequence.devices.feeder.name) {
      this.options.hooks?.onCycle?.(this.tracker.totals().released);
    }
    this.drivers.get(device)!.write(command);
  }

  private estopLatchedReason(): string | undefined {
    const active = [...this.estopActive].filter(([, a]) => a).map(([n]) => n);
    if (active.length > 0) return `e-stop latched (${active.join(', ')})`;
    if (this.state === 'Aborting' || this.state === 'Aborted') return `cell is ${this.state}`;
    return undefined;
  }

  /** Why no motion may start at all now, if so. */
  private motionForbiddenReason(): string | undefined {
    const latched = this.estopLatchedReason();
    if (latched) return latched;
    if (this.storeFailed) return 'the durable store failed';
    if (this.state === 'Aborting' || this.state === 'Aborted') return `cell is ${this.state}`;
    return undefined;
  }

  private onStepOutcome(outcome: StepOutcome): void {
    const { step } = outcome;
    // The controller is done waiting for this command; physical motion still shows in the reading.
    this.inFlight.delete(step.device);
    this.settleIntent(step, outcome.kind === 'confirmed' ? 'confirmed' : 'missed');
    const partField = step.partId ? { partId: step.partId } : {};
    if (outcome.kind === 'confirmed') {
      this.journal.record('step', { device: step.device, step: step.name, phase: 'done', ...partField, ...(outcome.via === 'measurement' ? { via: 'measurement' } : {}) });
      if (outcome.via === 'measurement') {
        this.recoveries++;
        const message = `${step.device} ${step.name}: done message lost; measured state confirms the step happened (not repeated)`;
        this.journal.record('recovery', { recovery: 'confirmation_by_measurement', device: step.device, step: step.name, message });
        this.publishEvent({ type: 'recovery', t: this.now(), kind: 'confirmation_by_measurement', device: step.device, message });
      }
      if (step.device === this.sequence.devices.conveyor.name && step.name === 'home') {
        this.homedThisReset = true;
        if (this.sequence.axisHomed(this.sequenceContext)) {
          this.recoveries++;
          this.journal.record('recovery', { recovery: 'index_completed_by_homing', device: step.device, message: 'homing finished the index that was cut short; the part is at the exit' });
        }
      }
      this.missesInARow.delete(step.device);
      const totals = this.tracker.totals();
      if (totals.exited > 0) this.lastExitAt = this.now();
      // Outcomes can come from a deadline timer: start what may start, complete what is complete.
      this.afterInput();
      return;
    }
    const evidence = step.evidence();
    this.journal.record('step', { device: step.device, step: step.name, phase: 'missed', reason: outcome.reason, ...partField });
    const desc = this.cell.devices[step.device]!;
    const misses = (this.missesInARow.get(step.device) ?? 0) + 1;
    this.missesInARow.set(step.device, misses);
    const exhausted = misses > desc.faults.retries;
    const what = `${step.device} ${step.name}: confirmation ${outcome.reason === 'late' ? 'missing at its deadline' : 'contradicts the command'}`;
    const message = exhausted
      ? `${what}; ${misses - 1} ${misses - 1 === 1 ? 'retry' : 'retries'} used up. Believed ${JSON.stringify(evidence.believed)}, measured ${JSON.stringify(evidence.measured)}: ${WHAT_TO_CHECK[outcome.fault] ?? 'check the device'}, then Unhold`
      : what;
    const autoRecoverable = !exhausted && (desc.faults.autoRecoverable as readonly string[]).includes(outcome.fault);
    // A second fault while holding can only take away the right to resume by itself.
    this.holdingFault = { device: step.device, kind: outcome.fault, autoRecoverable: autoRecoverable && (this.holdingFault?.autoRecoverable ?? true) };
    // PackML has no Hold from Completing: the sequence pauses there instead, until Resync (below).
    if (this.state === 'Completing') {
      this.phase = 'idle';
      this.completingPaused = true;
    }
    this.raiseFault(outcome.fault, message, step.device, {
      step: step.name,
      ...partField,
      believed: evidence.believed,
      measured: evidence.measured,
      retry: misses,
      retries: desc.faults.retries,
      ...(exhausted ? { retriesExhausted: true } : {}),
    });
    this.afterInput();
  }

  private raiseFault(kind: string, message: string, device?: string, extra: Record<string, unknown> = {}): void {
    this.faults++;
    // Only a missed step (handled above) may be auto-recoverable; any other fault needs the operator.
    if (extra.step === undefined && this.holdingFault) this.holdingFault.autoRecoverable = false;
    if (extra.step === undefined && !this.holdingFault) this.holdingFault = { device: device ?? '', kind, autoRecoverable: false };
    this.journal.record('fault', { fault: kind, ...(device ? { device } : {}), message, ...extra });
    const partId = typeof extra.partId === 'string' ? extra.partId : undefined;
    this.publishEvent({ type: 'fault', t: this.now(), kind, ...(device ? { device } : {}), message, ...(partId ? { partId } : {}) });
    this.alarms.push({ id: this.nextAlarmId++, t: this.now(), kind, ...(device ? { device } : {}), message, acknowledged: false });
    if (this.alarms.length > 100) this.alarms.splice(0, this.alarms.length - 100);
    this.lastFault = { kind, ...(device ? { device } : {}), message, t: this.now() };
    this.actor.send({ type: 'fault.hold', cause: kind });
  }

  // ---------------------------------------------------------------------------------------------
  // Safety inputs

  private estopSourceActive(source: EstopSource): boolean {
    if (source.kind === 'safe_ok_topic') {
      // Fail safe: never heard, heard false, or silent for the timeout all count as tripped.
      const last = this.safeOkLastTrue.get(source.name);
      return last === undefined || this.safetyClock.now() - last > source.timeoutMs;
    }
    const [device, channel] = source.input.split('.') as [string, string];
    return this.reading(device).inputs[channel] !== true;
  }

  private protectiveInputTripped(stop: ProtectiveStop): boolean {
    const [device, channel] = stop.input.split('.') as [string, string];
    return this.reading(device).inputs[channel] !== true;
  }

  private checkSafetyInputs(): void {
    for (const source of this.cell.safety.estopSources) {
      const active = this.estopSourceActive(source);
      if (active === this.estopActive.get(source.name)) continue;
      this.estopActive.set(source.name, active);
      if (active) {
        // Safe state first, then tell the machine: nothing queued may come before it.
        this.phase = 'idle';
        this.commandSafeState();
        this.journal.record('estop', { source: source.name, active: true });
        this.publishEvent({ type: 'estop', t: this.now(), source: source.name, active: true });
        this.actor.send({ type: 'estop.tripped', source: source.name });
      } else {
        this.journal.record('estop', { source: source.name, active: false });
        this.publishEvent({ type: 'estop', t: this.now(), source: source.name, active: false });
        this.actor.send({ type: 'estop.released', source: source.name });
      }
    }
    for (const stop of this.cell.safety.protectiveStops) {
      const tripped = this.protectiveInputTripped(stop);
      if (tripped === this.protectiveActive.get(stop.name)) continue;
      this.protectiveActive.set(stop.name, tripped);
      if (tripped) this.protectiveStop(stop);
      this.journal.record('protective', { source: stop.name, active: tripped, category: stop.category, endState: stop.endState });
      this.publishEvent({ type: 'protective', t: this.now(), source: stop.name, active: tripped, category: stop.category, endState: stop.endState });
      if (tripped) this.actor.send({ type: 'protective.tripped', source: stop.name, endState: stop.endState });
    }
  }

  /**
   * A guard opened or a light curtain broke: motion stops now, with the stop category from the
   * description (1: controlled stop, then every output to its safe value; 2: controlled stop, power
   * kept). Motions cut short are abandoned, not missed; the sequence resumes from measured state.
   */
  private protectiveStop(stop: ProtectiveStop): void {
    // No new step may start from here on, even from feedback the stop commands themselves cause.
    this.phase = 'idle';
    this.commissioning.safetyStop(`protective stop ${stop.name}`);
    for (const [name, driver] of this.drivers) {
      const moving = this.inFlight.has(name) || this.reading(name).moving;
      if (stop.category === 1) {
        driver.write({ type: 'safeState', category: 1 });
        this.journal.record('device.command', { device: name, command: { type: 'safeState', category: 1 }, cause: stop.name });
      } else if (moving) {
        driver.write({ type: 'stop' });
        this.journal.record('device.command', { device: name, command: { type: 'stop' }, cause: stop.name });
      }
      const step = this.steps.get(name);
      if (step && MOTION_COMMANDS.has(step.command.type)) this.abandonStep(name);
    }
  }

  /** Every device to its safe state, at once. Steps in flight are abandoned, not completed. */
  private commandSafeState(): void {
    this.commissioning.safetyStop('safe state'); // commissioning: no jog increment after this
    for (const [name, driver] of this.drivers) {
      const desc = this.cell.devices[name]!;
      const category = desc.kind === 'arm' ? desc.stopCategory : desc.kind === 'conveyor' ? desc.axis.stopCategory : 1;
      driver.write({ type: 'safeState', category });
      this.journal.record('device.command', { device: name, command: { type: 'safeState', category } });
    }
    for (const step of this.steps.all()) this.abandonStep(step.device);
  }

  /**
   * A step cut short (a stop, a safe state, a board that rebooted, a refusal at send): forgotten
   * without an outcome, its intent closed as abandoned, journaled. Never counted as done.
   */
  private abandonStep(device: string): void {
    const step = this.steps.abandon(device);
    if (!step) return;
    this.inFlight.delete(device);
    this.settleIntent(step, 'abandoned');
    this.journal.record('step', { device, step: step.name, phase: 'abandoned', ...(step.partId ? { partId: step.partId } : {}) });
  }

  // ---------------------------------------------------------------------------------------------
  // Safe-OK signals: a positive `true` repeated periodically; its absence for the timeout trips.

  private subscribeSafeOkSources(): void {
    const sources = this.cell.safety.estopSources.filter((s) => s.kind === 'safe_ok_topic');
    if (sources.length === 0) return;
    for (const source of sources) {
      const topic = { name: source.topic, type: 'std_msgs/msg/Bool' as const, latched: false, description: `safe-OK signal of ${source.name}` };
      this.cleanup.push(
        this.bus.subscribe(topic, (msg) => {
          if (msg.data === true) this.safeOkLastTrue.set(source.name, this.safetyClock.now());
          else this.safeOkLastTrue.delete(source.name);
          this.checkSafetyInputs();
          this.afterInput();
        }),
      );
    }
    const every = Math.max(1, Math.min(...sources.map((s) => s.timeoutMs)) / 4);
    const check = () => {
      this.checkSafetyInputs();
      this.afterInput();
      this.safeOkTimer = this.safetyClock.setTimeout(check, every);
    };
    this.safeOkTimer = this.safetyClock.setTimeout(check, every);
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeats

  private heartbeatAge(device: string): number {
    return this.safetyClock.now() - (this.lastSignOfLife.get(device) ?? 0);
  }

  private scheduleHeartbeatCheck(): void {
    const periods = Object.values(this.cell.devices).flatMap((d) => (d.heartbeat ? [d.heartbeat.periodMs] : []));
    if (periods.length === 0) return;
    const every = Math.min(...periods);
    const check = () => {
      for (const name of this.drivers.keys()) {
        if (!this.unhealthy.has(name) && !this.healthy(name)) this.deviceWentSilent(name);
      }
      this.heartbeatTimer = this.safetyClock.setTimeout(check, every);
    };
    this.heartbeatTimer = this.safetyClock.setTimeout(check, every);
  }

  /**
   * A silent device is unhealthy: the cell holds, or, if the device is safety-relevant, the loss
   * of its heartbeat is an e-stop source (safe state first, then Aborting).
   */
  private deviceWentSilent(device: string): void {
    this.unhealthy.add(device);
    const age = Math.round(this.heartbeatAge(device));
    const desc = this.cell.devices[device]!;
    const message = `${device} silent: last sign of life ${age} ms ago (heartbeat ${desc.heartbeat!.periodMs} ms x ${desc.heartbeat!.missCount})`;
    if (desc.safetyRelevant) {
      const source = `heartbeat:${device}`;
      this.estopActive.set(source, true);
      this.phase = 'idle';
      this.commandSafeState();
      this.journal.record('estop', { source, active: true, message });
      this.publishEvent({ type: 'estop', t: this.now(), source, active: true });
      this.raiseFault('heartbeat_lost', message, device, { heartbeatAgeMs: age });
      this.actor.send({ type: 'estop.tripped', source });
    } else {
      this.raiseFault('heartbeat_lost', message, device, { heartbeatAgeMs: age });
    }
    this.afterInput();
  }

  /** Healthy again; nothing restarts until the operator acts. */
  private deviceCameBack(device: string): void {
    this.unhealthy.delete(device);
    this.recoveries++;
    this.journal.record('recovery', { recovery: 'heartbeat_back', device, message: `${device} heard from again` });
    this.publishEvent({ type: 'recovery', t: this.now(), kind: 'heartbeat_back', device, message: `${device} heard from again` });
    const source = `heartbeat:${device}`;
    if (this.estopActive.get(source)) {
      this.estopActive.set(source, false);
      this.journal.record('estop', { source, active: false });
      this.publishEvent({ type: 'estop', t: this.now(), source, active: false });
      this.actor.send({ type: 'estop.released', source });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Live state for interlocks and the sequence

  private reading(device: string): Reading {
    const r = this.readings.get(device);
    if (!r) throw new Error(`no reading from ${device}`);
    return r;
  }

  private readonly live: LiveState = {
    reading: (d) => this.readings.get(d),
    // An input on a link not heard from within two heartbeat periods may have changed unseen.
    fresh: (d) => {
      const hb = this.cell.devices[d]?.heartbeat;
      return !hb || this.heartbeatAge(d) <= 2 * hb.periodMs;
    },
    motionInFlight: (d) => this.inFlight.has(d),
    armTarget: (d) => {
      const c = this.inFlight.get(d);
      return c?.type === 'move' ? c.target : undefined;
    },
  };


  // ---------------------------------------------------------------------------------------------
  // Operator interface out

  private now(): number {
    return Math.round(this.clock.now() * 1000) / 1000;
  }

  private publishEvent(event: CellEventMessage): void {
    this.bus.publish(this.topics.events, { data: JSON.stringify(event) });
  }

  stateMessage(): CellStateMessage {
    const snapshot = this.actor.getSnapshot();
    const active = this.interlocks.activeRules(this.live);
    const totals = this.tracker.totals();
    return {
      cell: this.cell.cell.name,
      state: this.state,
      stateNumber: PACKTAGS_STATE_NUMBER[this.state],
      stateNumbering: 'PackTags',
      mode: snapshot.context.mode,
      modeNumber: UNIT_MODE_NUMBER[snapshot.context.mode],
      t: this.now(),
      cause: snapshot.context.lastCause,
      lot: { size: this.lotSize ?? null, released: totals.released },
      parts: totals,
      estop: {
        active: [...this.estopActive.values()].some((a) => a),
        sources: [...this.estopActive].map(([name, active]) => ({ name, active })),
      },
      protectiveStops: this.cell.safety.protectiveStops.map((p) => ({ name: p.name, active: this.protectiveActive.get(p.name) ?? false, category: p.category })),
      interlocks: this.interlocks.rules.map((r) => ({ name: r.name, active: active.has(r.name), blocking: this.blockedBy.has(r.name) })),
      devices: [...this.drivers.keys()].map((name) => {
        const step = this.steps.get(name);
        return {
          name,
          kind: this.cell.devices[name]!.kind,
          healthy: this.healthy(name),
          moving: this.reading(name).moving,
          ...(step ? { step: step.name } : {}),
        };
      }),
      alarms: this.alarms.filter((a) => !a.acknowledged),
      ...(this.lastFault ? { lastFault: this.lastFault } : {}),
      // commissioning: only outside Production mode
      ...(snapshot.context.mode !== 'production' ? { commissioning: this.commissioning.view((d) => this.reading(d)) } : {}),
    };
  }

  /** A cheap summary of what the state message shows, to skip rebuilding it when nothing moved. */
  private quickStateKey(): string {
    const active = this.interlocks.activeRules(this.live);
    return `${this.state}|${this.steps.version}|${this.tracker.released}|${this.tracker.exited}|${this.alarms.length}|${[...active].join()}|${[...this.blockedBy].join()}`;
  }

  /** Publish /workcell/state when anything other than the time changed. */
  private publishState(): void {
    if (!this.started) return;
    this.lastQuickKey = this.quickStateKey();
    const msg = this.stateMessage();
    const key = JSON.stringify({ ...msg, t: 0 });
    if (key === this.lastStateJson) return;
    this.lastStateJson = key;
    this.bus.publish(this.topics.state, { data: JSON.stringify(msg) });
  }

  private scheduleDiagnostics(): void {
    const period = this.options.diagnosticsPeriodMs ?? 1000;
    this.diagnosticsTimer = this.clock.setTimeout(() => {
      this.publishDiagnostics();
      this.scheduleDiagnostics();
    }, period);
  }

  /** Heard from within its heartbeat period x miss count (devices without a heartbeat count as healthy). */
  private healthy(device: string): boolean {
    const hb = this.cell.devices[device]!.heartbeat;
    if (!hb) return true;
    return this.heartbeatAge(device) <= hb.periodMs * hb.missCount;
  }

  publishDiagnostics(): void {
    const now = this.now();
    const status: DiagnosticStatus[] = [...this.drivers.keys()].map((name) => {
      const age = this.heartbeatAge(name);
      const healthy = this.healthy(name);
      return {
        level: healthy ? DiagnosticLevel.OK : DiagnosticLevel.ERROR,
        name: `workcell: ${name}`,
        message: healthy ? 'ok' : `heartbeat lost: last sign of life ${Math.round(age)} ms ago`,
        hardware_id: `${this.cell.devices[name]!.link}:${name}`,
        values: [
          { key: 'heartbeat_age_ms', value: String(Math.round(age)) },
          // commissioning: protocol counters, firmware, station id, where the driver knows them
          ...Object.entries(this.drivers.get(name)!.diagnostics?.() ?? {}).map(([key, value]) => ({ key, value: String(value) })),
        ],
      };
    });
    this.bus.publish(this.topics.diagnostics, { header: { stamp: toRosTime(now), frame_id: '' }, status });
  }
}

/** Where a part is believed to be once the step an intent was for has happened (for restores). */
function placeForStep(device: string, step: string, devices: PickPlaceSequence['devices']): 'feeding' | 'at_pick' | 'gripped' | 'on_belt' {
  if (device === devices.feeder.name) return 'feeding';
  if (device === devices.conveyor.name) return 'on_belt';
  return step === 'descend_to_pick' || step === 'grip' ? 'at_pick' : 'gripped';
}

/** The command as journaled: normalised, and cut short so a flood of junk cannot bloat every record. */
function shownCommand(text: unknown): string {
  const s = typeof text === 'string' ? text.trim().toLowerCase().replace(/\s+/g, ' ') : `<${text === null ? 'null' : typeof text}>`;
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function changedIo(a: Reading, b: Reading): boolean {
  return a.moving !== b.moving || !shallowEqual(a.inputs, b.inputs) || !shallowEqual(a.outputs, b.outputs);
}

function shallowEqual(a: Record<string, boolean>, b: Record<string, boolean>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** Part ids are P1, P2, ... in release order. */
function releaseOrder(id: string): number {
  return Number(/\d+/.exec(id)?.[0] ?? Number.MAX_SAFE_INTEGER);
}
