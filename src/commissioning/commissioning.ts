/**
 * Commissioning: the content of the Manual and Maintenance unit modes (docs/commissioning.md).
 *
 * - Manual: jog one axis (the conveyor) or one arm joint at the description's reduced speed, as
 *   long as a hold-to-run command is renewed; teach arm poses and conveyor positions back into the
 *   cell description file (diff first, backup kept).
 * - Maintenance: the I/O view, forcing outputs (reason, time limit, journaled, cleared on leaving
 *   the mode or on any stop), single-step production (one step per `step` command).
 *
 * The controller owns every path to a device: a jog increment is a step the controller dispatches
 * through its own interlock check and write-ahead send path, never a side door. Hold-to-run runs
 * on the safety clock (monotonic), like heartbeats.
 */
import type { PackmlState } from '../../machines/packml.js';
import type { ArmDescription, CellDescription, ConveyorDescription } from '../cell/schema.js';
import type { StepSpec } from '../controller/steps.js';
import type { DeviceCommand, Reading } from '../devices/types.js';
import type { Journal } from '../journal/journal.js';
import type { Clock, TimerId } from '../time/clock.js';
import type { CommissioningCommand } from './grammar.js';
import { proposeTeach, TeachError, writeTeach, type TeachProposal } from './teach.js';

/** The wait states a jog or a teach may happen in (Aborted excluded: nothing moves while aborted). */
export const JOG_STATES: readonly PackmlState[] = ['Stopped', 'Idle', 'Complete'];
/** States in which single-step grants a production step. */
const PRODUCING: readonly PackmlState[] = ['Execute', 'Completing'];

export interface CommissioningHost {
  readonly cell: CellDescription;
  /** The cell description file, for teach; absent: teach is refused. */
  readonly cellPath: string | undefined;
  readonly safetyClock: Clock;
  readonly journal: Journal;
  mode(): string;
  state(): PackmlState;
  reading(device: string): Reading;
  /** Why this motion may not leave now (e-stop latch, failed store, health, interlocks), without raising a fault. */
  motionRefusal(device: string, command: DeviceCommand): string | undefined;
  /** A step of this device is in progress. */
  busy(device: string): boolean;
  /** Start a motion through the controller's dispatch path (checked again, made durable, sent). */
  dispatch(spec: StepSpec): void;
  /** Controlled stop of one device, now, journaled with its cause. */
  stop(device: string, cause: string): void;
  /** A non-motion command (an output) to a device, now, journaled with its cause. */
  writeOutput(device: string, command: DeviceCommand, cause: string): void;
  /** An e-stop source is active or the cell is aborted: nothing but the safe state may leave. */
  estopLatchedReason(): string | undefined;
  /** Tell the operator interface (an event) and republish the state. */
  notify(event: string, message: string, extra?: { device?: string; source?: string; id?: string; diff?: string }): void;
}

export interface ForcedOutputView {
  device: string;
  channel: string;
  value: boolean;
  reason: string;
  source: string;
  limitMs: number;
}

export interface IoPointView {
  device: string;
  channel: string;
  direction: 'input' | 'output';
  value: boolean;
  /** Outputs only: may be forced (the description's `forceable`, and not a motion output). */
  forceable?: boolean;
  forced?: boolean;
}

/** What /workcell/state carries under `commissioning` outside Production mode. */
export interface CommissioningView {
  limits: { jogSpeedMmS: number; jogJointSpeedRadS: number; jogRenewTimeoutMs: number; forceMaxS: number };
  jog: null | {
    device: string;
    joint?: string;
    direction: 1 | -1;
    continuous: boolean;
    /** mm or rad still to go (distance jogs). */
    remaining?: number;
    speed: number;
    unit: 'mm/s' | 'rad/s';
    source: string;
    /** The increment in progress has ended; the next one waits for a renewal. */
    waitingForRenewal: boolean;
  };
  /** Measured positions, for jog and teach: arm joints (rad), conveyor axis (mm since homing, or null unhomed). */
  positions: Record<string, { joints: Record<string, number> } | { mm: number | null }>;
  teach: null | { id: string; file: string; key: string; value: number | number[]; diff: string };
  forced: ForcedOutputView[];
  io: IoPointView[];
  singleStep: null | { granted: boolean; nextStep: { device: string; step: string } | null };
}

interface ActiveJog {
  id: number;
  device: string;
  kind: 'conveyor' | 'arm';
  joint?: string;
  jointIndex?: number;
  direction: 1 | -1;
  remaining: number | undefined;
  /** Arm distance jogs: the joint value the jog ends at, fixed when it starts. */
  goal?: number;
  speed: number;
  source: string;
  renewed: boolean;
  incrementInFlight: boolean;
  renewTimer: TimerId | undefined;
}

interface Forced extends ForcedOutputView {
  before: boolean;
  timer: TimerId;
}

export class Commissioning {
  private readonly cell: CellDescription;
  private jog: ActiveJog | undefined;
  private nextJogId = 1;
  private readonly forced = new Map<string, Forced>();
  private teachPending: (TeachProposal & { id: string; key: string; source: string }) | undefined;
  private nextTeachId = 1;
  private stepGranted = false;
  private nextStep: { device: string; step: string } | undefined;
  private candidateThisTick: { device: string; step: string } | undefined;

  constructor(private readonly host: CommissioningHost) {
    this.cell = host.cell;
  }

  private get limits() {
    return this.cell.commissioning;
  }

  /** Handle one commissioning command; returns why it is refused, or undefined when accepted. */
  command(cmd: CommissioningCommand, source: string): string | undefined {
    switch (cmd.kind) {
      case 'jog':
        return this.startJog(cmd, source);
      case 'jogRenew':
        return this.renew();
      case 'jogStop':
        if (!this.jog) return 'no jog is active';
        this.endJog('stopped by the operator', true, source);
        return undefined;
      case 'teach':
        return this.teach(cmd, source);
      case 'teachConfirm':
        return this.teachConfirm(cmd.id, source);
      case 'teachCancel':
        if (!this.teachPending) return 'no teach proposal is pending';
        this.host.journal.record('commissioning', { event: 'teach.cancelled', id: this.teachPending.id, source });
        this.teachPending = undefined;
        return undefined;
      case 'force':
        return this.force(cmd, source);
      case 'unforce':
        return this.unforce(cmd.device, cmd.channel, source);
      case 'step':
        return this.grantStep(source);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Jog (Manual mode)

  private startJog(cmd: Extract<CommissioningCommand, { kind: 'jog' }>, source: string): string | undefined {
    const mode = this.host.mode();
    if (mode !== 'manual') return `jog is only allowed in Manual mode (send "mode manual" in a wait state); the cell is in ${mode} mode`;
    const state = this.host.state();
    if (!JOG_STATES.includes(state)) return `jog is only allowed in a wait state (${JOG_STATES.join(', ')}); the cell is in ${state}`;
    if (this.jog) return `a jog of ${this.jog.device} is active (from ${this.jog.source}); send "jog stop" first`;
    const desc = this.cell.devices[cmd.device];
    if (!desc) return `no device ${JSON.stringify(cmd.device)} (devices: ${Object.keys(this.cell.devices).join(', ')})`;
    let limit: number;
    let jointIndex: number | undefined;
    let unit: 'mm/s' | 'rad/s';
    if (desc.kind === 'conveyor') {
      if (cmd.joint !== undefined) return `conveyor ${cmd.device} has one axis: no joint to name (got ${JSON.stringify(cmd.joint)})`;
      limit = Math.min(this.limits.jogSpeedMmS, desc.axis.maxSpeedMmS);
      unit = 'mm/s';
    } else if (desc.kind === 'arm') {
      const names = desc.joints.map((j) => j.name);
      if (cmd.joint === undefined) return `jog ${cmd.device}: name the joint (${names.join(', ')})`;
      jointIndex = names.indexOf(cmd.joint);
      if (jointIndex < 0) return `arm ${cmd.device} has no joint ${JSON.stringify(cmd.joint)} (joints: ${names.join(', ')})`;
      limit = armJogLimitRadS(desc, jointIndex, this.limits.jogJointSpeedRadS, this.limits.jogSpeedMmS);
      unit = 'rad/s';
    } else {
      return `${cmd.device} is a ${desc.kind}: only a conveyor axis or an arm joint can be jogged`;
    }
    if (cmd.speed !== undefined && cmd.speed > limit + 1e-9) {
      const from =
        unit === 'mm/s'
          ? 'commissioning.jog_speed_mm_s'
          : desc.kind === 'arm' && desc.reachMm !== undefined
            ? `commissioning.jog_joint_speed_rad_s, and jog_speed_mm_s at the tool over reach_mm ${desc.reachMm}`
            : 'commissioning.jog_joint_speed_rad_s';
      return `jog speed ${cmd.speed} ${unit} exceeds the reduced-speed limit of ${round(limit, 4)} ${unit} (${from})`;
    }
    if (this.host.busy(cmd.device) || this.host.reading(cmd.device).moving) return `${cmd.device} is moving; wait until it stands still`;
    const jog: ActiveJog = {
      id: this.nextJogId++,
      device: cmd.device,
      kind: desc.kind,
      ...(cmd.joint !== undefined ? { joint: cmd.joint } : {}),
      ...(jointIndex !== undefined ? { jointIndex } : {}),
      direction: cmd.direction,
      remaining: cmd.distance,
      speed: cmd.speed ?? limit,
      source,
      renewed: false,
      incrementInFlight: false,
      renewTimer: undefined,
    };
    if (desc.kind === 'conveyor' && jog.remaining !== undefined) {
      // Whole motor steps from the start, and every increment too (below): the increments then add
      // up to exactly the distance asked, to the nearest step.
      jog.remaining = Math.round(jog.remaining * desc.axis.stepsPerMm) / desc.axis.stepsPerMm;
    }
    if (desc.kind === 'arm' && cmd.distance !== undefined) {
      // Aim every increment at one goal from the start, so the jog ends exactly a distance away.
      const q = this.host.reading(cmd.device).joints?.[jointIndex!];
      if (q === undefined) return `no joint state measured from ${cmd.device} yet`;
      const joint = desc.joints[jointIndex!]!;
      jog.goal = Math.min(joint.maxRad, Math.max(joint.minRad, q + cmd.direction * cmd.distance));
    }
    const first = this.increment(jog);
    if (typeof first === 'string') return first;
    const refusal = this.host.motionRefusal(jog.device, first.command);
    if (refusal) return `jog refused: ${refusal}`;
    this.jog = jog;
    this.host.journal.record('commissioning', {
      event: 'jog.start',
      source,
      device: jog.device,
      ...(jog.joint ? { joint: jog.joint } : {}),
      direction: jog.direction,
      ...(jog.remaining !== undefined ? { distance: jog.remaining } : { continuous: true }),
      speed: jog.speed,
      unit,
    });
    this.armRenewTimer(jog);
    this.sendIncrement(jog, first);
    return undefined;
  }

  private renew(): string | undefined {
    const jog = this.jog;
    if (!jog) return 'no jog is active to renew';
    this.armRenewTimer(jog);
    if (jog.incrementInFlight) jog.renewed = true;
    else this.nextIncrement(jog);
    return undefined;
  }

  private armRenewTimer(jog: ActiveJog): void {
    if (jog.renewTimer !== undefined) this.host.safetyClock.clearTimeout(jog.renewTimer);
    jog.renewTimer = this.host.safetyClock.setTimeout(() => {
      jog.renewTimer = undefined;
      if (this.jog === jog) this.endJog(`no renewal within ${this.limits.jogRenewTimeoutMs} ms (hold-to-run released)`, true);
    }, this.limits.jogRenewTimeoutMs);
  }

  private nextIncrement(jog: ActiveJog): void {
    const next = this.increment(jog);
    if (typeof next === 'string') {
      this.endJog(next, false);
      return;
    }
    const refusal = this.host.motionRefusal(jog.device, next.command);
    if (refusal) {
      this.endJog(`refused: ${refusal}`, false);
      return;
    }
    this.sendIncrement(jog, next);
  }

  /**
   * The next bounded increment: at most what the reduced speed covers within one renewal
   * timeout, so motion ends by itself within that timeout when renewals stop.
   */
  private increment(jog: ActiveJog): { command: DeviceCommand; expectedMs: number; amount: number } | string {
    const timeoutMs = this.limits.jogRenewTimeoutMs;
    if (jog.kind === 'conveyor') {
      const desc = this.cell.devices[jog.device] as ConveyorDescription;
      const v = jog.speed / 1000; // mm/ms
      const a = desc.axis.accelMmS2 / 1e6; // mm/ms²
      const reach = timeoutMs >= 2 * (v / a) ? v * (timeoutMs - v / a) : a * (timeoutMs / 2) ** 2;
      const amount = Math.min(jog.remaining ?? Infinity, reach);
      // Whole steps, never more than the reach (so an increment still ends within the timeout).
      const steps = jog.remaining !== undefined && amount === jog.remaining ? Math.round(amount * desc.axis.stepsPerMm) : Math.floor(amount * desc.axis.stepsPerMm);
      if (steps === 0) return 'the jog distance is below one motor step';
      const scale = Math.min(1, jog.speed / desc.axis.maxSpeedMmS);
      const moved = steps / desc.axis.stepsPerMm;
      return { command: { type: 'index', steps: jog.direction * steps, speedScale: scale }, expectedMs: trapezoidMs(moved, v, a), amount: moved };
    }
    const desc = this.cell.devices[jog.device] as ArmDescription;
    const joints = this.host.reading(jog.device).joints;
    if (!joints) return `no joint state measured from ${jog.device} yet`;
    const j = jog.jointIndex!;
    const joint = desc.joints[j]!;
    const travelMs = Math.max(timeoutMs - desc.settleMs, timeoutMs / 4);
    const reach = (jog.speed * travelMs) / 1000;
    const from = joints[j]!;
    const wanted = Math.min(jog.goal !== undefined ? Math.abs(jog.goal - from) : Infinity, reach);
    const to = Math.min(joint.maxRad, Math.max(joint.minRad, from + jog.direction * wanted));
    const amount = Math.abs(to - from);
    if (jog.goal !== undefined && amount < 1e-6) return 'done';
    if (amount < 1e-6) return `${joint.name} is at its ${jog.direction > 0 ? 'upper' : 'lower'} limit (${jog.direction > 0 ? joint.maxRad : joint.minRad} rad)`;
    const target = [...joints];
    target[j] = to;
    const scale = Math.min(1, jog.speed / joint.maxVelocityRadS);
    return { command: { type: 'move', pose: 'jog', target, speedScale: scale }, expectedMs: (amount / jog.speed) * 1000 + desc.settleMs, amount };
  }

  private sendIncrement(jog: ActiveJog, inc: { command: DeviceCommand; expectedMs: number; amount: number }): void {
    jog.incrementInFlight = true;
    jog.renewed = false;
    if (jog.goal !== undefined && inc.command.type === 'move') jog.remaining = Math.abs(jog.goal - inc.command.target[jog.jointIndex!]!) < 1e-9 ? 0 : Math.abs(jog.goal - inc.command.target[jog.jointIndex!]!);
    else if (jog.remaining !== undefined) jog.remaining = Math.max(0, jog.remaining - inc.amount);
    const command = inc.command;
    this.host.journal.record('commissioning', {
      event: 'jog.increment',
      device: jog.device,
      ...(command.type === 'index' ? { steps: command.steps, speedScale: command.speedScale } : {}),
      ...(command.type === 'move' ? { target: command.target, speedScale: command.speedScale } : {}),
    });
    this.host.dispatch({
      device: jog.device,
      name: 'jog',
      command,
      expectedMs: inc.expectedMs,
      // The increment's end is its confirmation: a jog has no postcondition beyond stopping.
      waitsAfterMotionDone: false,
      confirmed: () => true,
      evidence: () => ({ believed: {}, measured: {} }),
      fault: jog.kind === 'arm' ? 'pose_not_reached' : 'index_short',
      onConfirmed: () => this.incrementDone(jog),
    });
    // The dispatch may have been refused at the last check (it journals why): the jog ends there.
    if (this.jog === jog && !this.host.busy(jog.device)) this.endJog('refused at dispatch', false);
  }

  private incrementDone(jog: ActiveJog): void {
    if (this.jog !== jog) return;
    jog.incrementInFlight = false;
    if (jog.remaining !== undefined && jog.remaining <= 1e-9) {
      this.endJog('done', false);
      return;
    }
    if (jog.renewed) this.nextIncrement(jog);
    else this.host.notify('jog.waiting', `jog of ${jog.device}: waiting for a renewal`, { device: jog.device });
  }

  private endJog(why: string, stop: boolean, source?: string): void {
    const jog = this.jog;
    if (!jog) return;
    this.jog = undefined;
    if (jog.renewTimer !== undefined) this.host.safetyClock.clearTimeout(jog.renewTimer);
    if (stop && (jog.incrementInFlight || this.host.reading(jog.device).moving)) this.host.stop(jog.device, `jog: ${why}`);
    this.host.journal.record('commissioning', { event: 'jog.end', device: jog.device, why, ...(source ? { source } : {}) });
    this.host.notify('jog.end', `jog of ${jog.device} ended: ${why}`, { device: jog.device });
  }

  get jogActive(): boolean {
    return this.jog !== undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Teach (Manual mode)

  private teach(cmd: Extract<CommissioningCommand, { kind: 'teach' }>, source: string): string | undefined {
    const mode = this.host.mode();
    if (mode !== 'manual') return `teach is only allowed in Manual mode; the cell is in ${mode} mode`;
    if (!JOG_STATES.includes(this.host.state())) return `teach is only allowed in a wait state (${JOG_STATES.join(', ')}); the cell is in ${this.host.state()}`;
    if (!this.host.cellPath) return 'teach needs the cell description file, and this controller was started without one';
    const desc = this.cell.devices[cmd.device];
    if (!desc) return `no device ${JSON.stringify(cmd.device)}`;
    const reading = this.host.reading(cmd.device);
    if (reading.moving || this.jog?.device === cmd.device) return `${cmd.device} is moving: teach measures a standstill`;
    let path: string[];
    let value: number | number[];
    if (cmd.what === 'pose') {
      if (desc.kind !== 'arm') return `teach pose: ${cmd.device} is a ${desc.kind}, not an arm`;
      if (!reading.joints) return `no joint state measured from ${cmd.device} yet`;
      path = ['devices', cmd.device, 'poses', cmd.name];
      value = reading.joints.map((q) => round(q, 4));
    } else {
      if (desc.kind !== 'conveyor') return `teach position: ${cmd.device} is a ${desc.kind}, not a conveyor`;
      if (!(cmd.name in CONVEYOR_POSITION_KEYS)) return `teach position: ${cmd.device} has no position ${JSON.stringify(cmd.name)} (${Object.keys(CONVEYOR_POSITION_KEYS).join(', ')})`;
      const axis = reading.axis;
      if (!axis?.homed) return `teach position: ${cmd.device} is not homed, so its position means nothing; Reset homes it`;
      path = ['devices', cmd.device, cmd.name];
      value = round(axis.encoderCount / desc.axis.encoderCountsPerMm, 2);
    }
    let proposal: TeachProposal;
    try {
      proposal = proposeTeach(this.host.cellPath, path, value);
    } catch (error) {
      if (error instanceof TeachError) return error.message;
      throw error;
    }
    const id = `t${this.nextTeachId++}`;
    const key = path.join('.');
    this.teachPending = { ...proposal, id, key, source };
    this.host.journal.record('commissioning', { event: 'teach.proposed', id, source, file: proposal.file, key, value, diff: proposal.diff });
    this.host.notify('teach.proposed', `teach ${id}: ${key} = ${JSON.stringify(value)}; send "teach confirm ${id}" to write ${proposal.file}`, {
      device: cmd.device,
      source,
      id,
      diff: proposal.diff,
    });
    return undefined;
  }

  private teachConfirm(id: string, source: string): string | undefined {
    const pending = this.teachPending;
    if (!pending) return 'no teach proposal is pending';
    if (pending.id !== id) return `the pending teach proposal is ${pending.id}, not ${id}`;
    if (this.host.mode() !== 'manual') return 'teach confirm is only allowed in Manual mode';
    let backup: string;
    try {
      backup = writeTeach(pending);
    } catch (error) {
      this.teachPending = undefined;
      if (error instanceof TeachError) return error.message;
      return `writing ${pending.file} failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    this.teachPending = undefined;
    this.host.journal.record('commissioning', { event: 'teach.written', id, source, file: pending.file, backup, key: pending.key, value: pending.value });
    this.host.notify('teach.written', `taught ${pending.key} written to ${pending.file} (backup ${backup}); it takes effect when the cell is next loaded`, { source, id });
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Forcing outputs (Maintenance mode)

  /** How an output is commanded, or why it cannot be forced. */
  private outputCommand(device: string, channel: string, value: boolean): DeviceCommand | string {
    const desc = this.cell.devices[device];
    if (!desc) return `no device ${JSON.stringify(device)}`;
    if (desc.kind === 'io') {
      const out = desc.outputs[channel];
      if (!out) return `${device} has no output ${JSON.stringify(channel)} (outputs: ${Object.keys(desc.outputs).join(', ') || 'none'})`;
      if (!out.forceable) return `${device}.${channel} is marked forceable: false in the cell description`;
      return { type: 'setOutput', channel, value };
    }
    if (desc.kind === 'arm' && channel === 'vacuum') {
      if (!desc.gripper.vacuum.forceable) return `${device}.vacuum is marked forceable: false in the cell description`;
      return { type: 'vacuum', on: value };
    }
    if (desc.kind === 'feeder' && channel === 'release') return `${device}.release starts a motion (a part is released): it cannot be forced; it is not an I/O point to force`;
    return `${device} has no forceable output ${JSON.stringify(channel)}`;
  }

  private force(cmd: Extract<CommissioningCommand, { kind: 'force' }>, source: string): string | undefined {
    const mode = this.host.mode();
    if (mode !== 'maintenance') return `forcing outputs is only allowed in Maintenance mode; the cell is in ${mode} mode`;
    const latched = this.host.estopLatchedReason();
    if (latched) return `no output may be forced: ${latched}`;
    const command = this.outputCommand(cmd.device, cmd.channel, cmd.value);
    if (typeof command === 'string') return command;
    // The production sequence grips and releases with the vacuum: forcing it while the cycle runs
    // would be silently overwritten, so it is forced in a wait state only (and released on leaving it).
    if (this.sequenceOwned(cmd.device, cmd.channel) && !JOG_STATES.includes(this.host.state())) {
      return `${cmd.device}.${cmd.channel} is commanded by the production sequence: force it in a wait state (${JOG_STATES.join(', ')}); the cell is in ${this.host.state()}`;
    }
    const maxMs = this.limits.forceMaxS * 1000;
    if (cmd.durationMs > maxMs) return `time limit ${cmd.durationMs / 1000} s exceeds commissioning.force_max_s (${this.limits.forceMaxS} s)`;
    const key = `${cmd.device}.${cmd.channel}`;
    const previous = this.forced.get(key);
    if (previous) this.host.safetyClock.clearTimeout(previous.timer);
    const before = previous?.before ?? this.host.reading(cmd.device).outputs[cmd.channel] ?? false;
    const timer = this.host.safetyClock.setTimeout(() => this.release(key, `time limit of ${cmd.durationMs / 1000} s reached`), cmd.durationMs);
    this.forced.set(key, { device: cmd.device, channel: cmd.channel, value: cmd.value, reason: cmd.reason, source, limitMs: cmd.durationMs, before, timer });
    this.host.writeOutput(cmd.device, command, `force: ${cmd.reason}`);
    this.host.journal.record('commissioning', { event: 'force.on', source, device: cmd.device, channel: cmd.channel, value: cmd.value, reason: cmd.reason, limitMs: cmd.durationMs });
    this.host.notify('force.on', `${key} forced ${cmd.value ? 'on' : 'off'} for ${cmd.durationMs / 1000} s: ${cmd.reason}`, { device: cmd.device, source });
    return undefined;
  }

  private unforce(device: string | undefined, channel: string | undefined, source: string): string | undefined {
    if (device === undefined || channel === undefined) {
      if (this.forced.size === 0) return 'no output is forced';
      for (const key of [...this.forced.keys()]) this.release(key, 'unforced', true, source);
      return undefined;
    }
    const key = `${device}.${channel}`;
    if (!this.forced.has(key)) return `${key} is not forced`;
    this.release(key, 'unforced', true, source);
    return undefined;
  }

  /** End one forcing; the output goes back to its value from before (unless a safe state set it). */
  private release(key: string, why: string, restore = true, source?: string): void {
    const f = this.forced.get(key);
    if (!f) return;
    this.forced.delete(key);
    this.host.safetyClock.clearTimeout(f.timer);
    if (restore && this.host.estopLatchedReason() === undefined) {
      const command = this.outputCommand(f.device, f.channel, f.before);
      if (typeof command !== 'string') this.host.writeOutput(f.device, command, `unforce: ${why}`);
    }
    this.host.journal.record('commissioning', { event: 'force.off', device: f.device, channel: f.channel, why, ...(source ? { source } : {}) });
    this.host.notify('force.off', `${key} no longer forced: ${why}`, { device: f.device });
  }

  /** Outputs the production sequence itself commands (the gripper's vacuum). */
  private sequenceOwned(device: string, channel: string): boolean {
    return this.cell.devices[device]?.kind === 'arm' && channel === 'vacuum';
  }

  private releaseAll(why: string, restore: boolean): void {
    for (const key of [...this.forced.keys()]) this.release(key, why, restore);
  }

  // ---------------------------------------------------------------------------------------------
  // Single-step (Maintenance mode)

  private grantStep(source: string): string | undefined {
    const mode = this.host.mode();
    if (mode !== 'maintenance') return `single-step is only available in Maintenance mode; the cell is in ${mode} mode`;
    const state = this.host.state();
    if (!PRODUCING.includes(state)) return `single-step runs the production cycle: Start the cell in Maintenance mode first (the cell is in ${state})`;
    if (this.stepGranted) {
      const next = this.nextStep;
      return `the step already granted has not started yet${next ? ` (next: ${next.device} ${next.step})` : ' (no step can start now)'}`;
    }
    this.stepGranted = true;
    this.host.journal.record('commissioning', { event: 'step.granted', source, ...(this.nextStep ? { next: this.nextStep } : {}) });
    return undefined;
  }

  /** Called by the controller at the start of each pass over the stations. */
  beginTick(): void {
    this.candidateThisTick = undefined;
  }

  /** Called at the end of the pass: the step the next `step` command would start, if any. */
  endTick(production: boolean): void {
    if (!production) this.candidateThisTick = undefined;
    this.nextStep = this.candidateThisTick;
  }

  /**
   * May this production step start now? In Maintenance mode only one per granted `step`;
   * otherwise always. Records the step that waits, for the state message.
   */
  mayStartProductionStep(device: string, step: string): boolean {
    if (this.host.mode() !== 'maintenance') return true;
    if (this.stepGranted) return true;
    this.candidateThisTick ??= { device, step };
    return false;
  }

  productionStepStarted(device: string, step: string): void {
    if (this.host.mode() !== 'maintenance') return;
    this.stepGranted = false;
    this.host.journal.record('commissioning', { event: 'step.started', device, step });
  }

  // ---------------------------------------------------------------------------------------------
  // What ends commissioning work

  /** The cell entered a state. A jog belongs to its wait state; any stop clears forcing. */
  stateEntered(state: PackmlState): void {
    if (this.jog && !JOG_STATES.includes(state)) this.endJog(`the cell entered ${state}`, true);
    if (state === 'Stopping' || state === 'Aborting' || state === 'Holding') this.releaseAll(`the cell entered ${state}`, state !== 'Aborting');
    else if (!JOG_STATES.includes(state)) {
      for (const f of [...this.forced.values()]) if (this.sequenceOwned(f.device, f.channel)) this.release(`${f.device}.${f.channel}`, `the cell entered ${state}`);
    }
    if (!PRODUCING.includes(state)) this.stepGranted = false;
  }

  /** A safe state or protective stop cut motion (the controller already stopped the devices). */
  safetyStop(cause: string): void {
    this.endJog(`${cause}`, false);
    this.releaseAll(cause, false);
  }

  modeChanged(from: string, to: string): void {
    const why = `mode changed from ${from} to ${to}`;
    this.endJog(why, true);
    this.releaseAll(why, true);
    this.stepGranted = false;
    if (this.teachPending) {
      this.host.journal.record('commissioning', { event: 'teach.cancelled', id: this.teachPending.id, why });
      this.teachPending = undefined;
    }
  }

  dispose(): void {
    if (this.jog?.renewTimer !== undefined) this.host.safetyClock.clearTimeout(this.jog.renewTimer);
    for (const f of this.forced.values()) this.host.safetyClock.clearTimeout(f.timer);
  }

  // ---------------------------------------------------------------------------------------------
  // The view on /workcell/state

  view(readingOf: (device: string) => Reading): CommissioningView {
    const jog = this.jog;
    const io: IoPointView[] = [];
    const positions: CommissioningView['positions'] = {};
    for (const [device, desc] of Object.entries(this.cell.devices)) {
      const r = readingOf(device);
      for (const [channel, value] of Object.entries(r.inputs)) io.push({ device, channel, direction: 'input', value });
      for (const [channel, value] of Object.entries(r.outputs)) {
        const forceable = typeof this.outputCommand(device, channel, value) !== 'string';
        io.push({ device, channel, direction: 'output', value, forceable, ...(this.forced.has(`${device}.${channel}`) ? { forced: true } : {}) });
      }
      if (desc.kind === 'arm' && r.joints) positions[device] = { joints: Object.fromEntries(desc.joints.map((j, i) => [j.name, round(r.joints![i]!, 4)])) };
      if (desc.kind === 'conveyor') positions[device] = { mm: r.axis?.homed ? round(r.axis.encoderCount / desc.axis.encoderCountsPerMm, 2) : null };
    }
    const l = this.limits;
    return {
      limits: { jogSpeedMmS: l.jogSpeedMmS, jogJointSpeedRadS: l.jogJointSpeedRadS, jogRenewTimeoutMs: l.jogRenewTimeoutMs, forceMaxS: l.forceMaxS },
      jog: jog
        ? {
            device: jog.device,
            ...(jog.joint ? { joint: jog.joint } : {}),
            direction: jog.direction,
            continuous: jog.remaining === undefined,
            ...(jog.remaining !== undefined ? { remaining: round(jog.remaining, 4) } : {}),
            speed: jog.speed,
            unit: jog.kind === 'conveyor' ? 'mm/s' : 'rad/s',
            source: jog.source,
            waitingForRenewal: !jog.incrementInFlight,
          }
        : null,
      positions,
      teach: this.teachPending
        ? { id: this.teachPending.id, file: this.teachPending.file, key: this.teachPending.key, value: this.teachPending.value, diff: this.teachPending.diff }
        : null,
      forced: [...this.forced.values()].map(({ device, channel, value, reason, source, limitMs }) => ({ device, channel, value, reason, source, limitMs })),
      io,
      singleStep: this.host.mode() === 'maintenance' ? { granted: this.stepGranted, nextStep: this.nextStep ?? null } : null,
    };
  }
}

/**
 * The reduced speed of one arm joint's jog, rad/s: the description's joint jog speed, the joint's
 * own limit and, when the arm gives its reach, the tool speed limit. A point at most `reach_mm`
 * from the joint's axis moves at most ω·reach when only that joint turns, so ω ≤ v / reach keeps
 * the tool at or below `jog_speed_mm_s` (ISO 10218's reduced speed is a tool speed).
 */
export function armJogLimitRadS(arm: ArmDescription, jointIndex: number, jogJointSpeedRadS: number, jogSpeedMmS: number): number {
  const toolLimit = arm.reachMm !== undefined ? jogSpeedMmS / arm.reachMm : Infinity;
  return Math.min(jogJointSpeedRadS, arm.joints[jointIndex]!.maxVelocityRadS, toolLimit);
}

/** Conveyor keys a position can be taught into. */
const CONVEYOR_POSITION_KEYS = { place_position_mm: true, exit_position_mm: true } as const;

function trapezoidMs(distance: number, v: number, a: number): number {
  const rampDistance = (v * v) / a;
  return distance >= rampDistance ? distance / v + v / a : 2 * Math.sqrt(distance / a);
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
