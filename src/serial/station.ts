/**
 * The serial station driver: one StationLink per board (a serial link in the description), and
 * one DeviceDriver per device on it (a conveyor axis, I/O, a feeder's actuator).
 *
 * The link opens the port, identifies the board from its boot frame (refusing one whose station
 * id or description hash does not match the cell), feeds the board's host-loss watchdog with
 * heartbeats, turns telemetry into readings, and reconnects with backoff when the cable is
 * pulled. Safety does not depend on it: the firmware stops the axis and sets its outputs safe
 * on e-stop and on host loss by itself; the driver reports what happened.
 */
import { existsSync } from 'node:fs';
import type { DeviceCommand, DeviceDriver, DeviceFeedback, DeviceKind, FeedbackListener, Reading } from '../devices/types.js';
import { boardMap, type BoardChannel, type BoardMap } from './boardMap.js';
import { StationPort, type PortStats } from './port.js';
import {
  ackStatusText,
  AXIS_PINS,
  decodeAck,
  decodeBoot,
  decodeTelemetry,
  describeResetCause,
  encodeHome,
  encodeMove,
  encodeSafe,
  encodeSetOutputs,
  FLAG,
  hashToHex,
  MOTION_RESULT,
  MSG,
  NO_PIN,
  PROTOCOL_VERSION,
  type BootInfo,
  type Frame,
  type Telemetry,
} from './protocol.js';
import type { CellDescription } from '../cell/schema.js';

export type LinkState = 'idle' | 'connecting' | 'identifying' | 'ready' | 'refused' | 'lost' | 'closed';

export interface StationLinkOptions {
  map: BoardMap;
  /** Full description hash (src/cell/hash.ts): the board must report this one. */
  descriptionHash: string;
  /** Controller epoch; defaults to the wall clock in seconds, so a restarted controller outranks its predecessor. */
  epoch?: number;
  /** Port path, when not the description's (a rig's pty). */
  path?: string;
  /** Reconnect backoff, ms: doubles from initialMs up to maxMs. */
  reconnect?: { initialMs: number; maxMs: number };
  /** No frame from the board for this long: the link is lost. */
  silenceMs?: number;
  /** Something worth a journal line happened on the link. */
  onEvent?: (event: LinkEvent) => void;
}

export type LinkEvent =
  | { type: 'ready'; link: string; boot: BootInfo; path: string }
  | { type: 'refused'; link: string; reason: string }
  | { type: 'lost'; link: string; reason: string }
  | { type: 'reset'; link: string; cause: string };

export interface LinkHealth {
  link: string;
  state: LinkState;
  path: string;
  boot: BootInfo | undefined;
  refusedReason: string | undefined;
  /** Counters the board reports: frames it rejected (bad CRC, framing, stale epoch) and accepted. */
  board: Pick<Telemetry, 'crcErrors' | 'framingErrors' | 'staleEpochFrames' | 'acceptedFrames'> | undefined;
  port: PortStats | undefined;
  connects: number;
  lastFrameAgeMs: number | undefined;
  /** Why the link is not ready (port missing, no boot frame, refused, lost), until it is. */
  problem: string | undefined;
}

const QUERY_EVERY_MS = 100;
const IDENTIFY_TIMEOUT_MS = 3000;
const STALE_EPOCH = 5;
/**
 * Silence after which the port is closed and reopened. Generous on purpose: the controller's own
 * heartbeat watch (heartbeat.period_ms x miss_count) reacts to a silent device long before this;
 * this only decides when to start over with a fresh port.
 */
const SILENCE_MS = 1000;

export function defaultEpoch(): number {
  return Math.floor(Date.now() / 1000) >>> 0;
}

export class StationLink {
  readonly name: string;
  readonly path: string;
  readonly epoch: number;
  private state: LinkState = 'idle';
  private port: StationPort | undefined;
  /** The latest `safe` frame queued, while it is unacknowledged (see the safeState command). */
  private safeOnItsWay: { port: StationPort; category: number; queuedAs: number; result: Promise<string | undefined> } | undefined;
  private boot: BootInfo | undefined;
  private telemetry: Telemetry | undefined;
  private refusedReason: string | undefined;
  private connects = 0;
  private backoffMs: number;
  private timers = new Set<NodeJS.Timeout>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private users = 0;
  private homing = false;
  /** The motion command the board is carrying out, by the sequence number that started it. */
  private motion: { device: string; command: DeviceCommand; seq: number } | undefined;
  readonly devices = new Map<string, StationDevice>();
  private lastPortStats: PortStats | undefined;
  /** The boot frame that passed the identity check on this connection; ready once telemetry follows. */
  private identified: BootInfo | undefined;
  /** Which frame on which port carried the latest telemetry (motion ends are read only from telemetry after the ack). */
  private telemetryFrame: { port: StationPort; frame: number } | undefined;
  /** The problem last reported by a `lost` event: a retry for the same reason is not reported again. */
  private reportedProblem: string | undefined;
  private problem: string | undefined;
  /** Ports being opened or closed: close() waits for them, so the device is free when it returns. */
  private readonly settling = new Set<Promise<unknown>>();

  constructor(private readonly options: StationLinkOptions) {
    this.name = options.map.link;
    this.path = options.path ?? options.map.path;
    this.epoch = options.epoch ?? defaultEpoch();
    this.backoffMs = options.reconnect?.initialMs ?? 100;
    for (const [name, device] of Object.entries(options.map.devices)) {
      this.devices.set(name, new StationDevice(name, device.kind, this, options.map.channels.filter((c) => c.device === name)));
    }
  }

  get map(): BoardMap {
    return this.options.map;
  }

  health(): LinkHealth {
    const t = this.telemetry;
    return {
      link: this.name,
      state: this.state,
      path: this.path,
      boot: this.boot,
      refusedReason: this.refusedReason,
      board: t ? { crcErrors: t.crcErrors, framingErrors: t.framingErrors, staleEpochFrames: t.staleEpochFrames, acceptedFrames: t.acceptedFrames } : undefined,
      port: this.port ? { ...this.port.stats } : this.lastPortStats,
      connects: this.connects,
      lastFrameAgeMs: this.port && this.port.lastFrameAt > 0 ? performance.now() - this.port.lastFrameAt : undefined,
      problem: this.state === 'ready' ? undefined : (this.refusedReason ?? this.problem),
    };
  }

  get linkState(): LinkState {
    return this.state;
  }

  /** A device on this board became active: the first one opens the link. */
  acquire(): void {
    this.users++;
    if (this.state === 'idle') void this.connect();
  }

  release(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) void this.close();
  }

  async close(): Promise<void> {
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    clearInterval(this.heartbeatTimer);
    const port = this.port;
    this.port = undefined;
    if (port) {
      this.lastPortStats = { ...port.stats };
      this.dropPort(port);
    }
    while (this.settling.size > 0) await Promise.all([...this.settling]);
  }

  /** Close a port without waiting here; close() waits for it. */
  private dropPort(port: StationPort): void {
    const closing = port.close().catch(() => {});
    this.settling.add(closing);
    void closing.then(() => this.settling.delete(closing));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    this.identified = undefined;
    // A board that is unplugged or not powered yet: its device node does not exist. Not an error
    // of the controller's: reported once, retried with backoff until the board appears.
    if (!existsSync(this.path)) {
      this.retry(`station board on ${this.path} (link "${this.name}") is not connected: ${this.path} does not exist`);
      return;
    }
    const port = new StationPort({ path: this.path, baud: this.map.baud, epoch: this.epoch });
    const opening = port.open();
    const settled = opening.catch(() => {});
    this.settling.add(settled);
    void settled.then(() => this.settling.delete(settled));
    try {
      await opening;
    } catch (error) {
      this.retry(`station board on ${this.path} (link "${this.name}"): ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if ((this.state as LinkState) === 'closed') {
      this.dropPort(port);
      return;
    }
    this.port = port;
    port.onFrame = (frame) => this.frame(frame);
    port.onLost = (reason) => this.lost(reason);
    this.state = 'identifying';
    const started = performance.now();
    const query = () => {
      if (this.port !== port || this.state !== 'identifying') return;
      if (performance.now() - started > IDENTIFY_TIMEOUT_MS) {
        this.lost(
          this.identified
            ? `no telemetry from the station board on ${this.path} within ${IDENTIFY_TIMEOUT_MS} ms of its boot frame`
            : `no boot frame from ${this.path} within ${IDENTIFY_TIMEOUT_MS} ms (is it a workcell station board?)`,
        );
        return;
      }
      port.send(MSG.query);
      this.later(QUERY_EVERY_MS, query);
    };
    query();
  }

  private retry(reason: string): void {
    if (this.state === 'closed') return;
    if (this.state !== 'refused') this.state = 'lost';
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.reconnect?.maxMs ?? 2000);
    this.problem = reason;
    // Once per distinct problem: an absent board retried every 2 s must not flood the journal.
    if (this.state !== 'refused' && reason !== this.reportedProblem) {
      this.reportedProblem = reason;
      this.options.onEvent?.({ type: 'lost', link: this.name, reason: `${reason}; retrying in ${wait} ms (backoff up to ${this.options.reconnect?.maxMs ?? 2000} ms)` });
    }
    this.later(wait, () => void this.connect());
  }

  private lost(reason: string): void {
    if (this.state === 'closed') return;
    clearInterval(this.heartbeatTimer);
    const port = this.port;
    this.port = undefined;
    if (port) {
      this.lastPortStats = { ...port.stats };
      this.dropPort(port);
    }
    // Commands waiting on the old port were answered (undefined status) by the port itself.
    this.retry(reason);
  }

  private refuse(reason: string): void {
    const news = reason !== this.refusedReason;
    this.refusedReason = reason;
    this.state = 'refused';
    // Checked again on every retry; reported once until something changes.
    if (news) {
      this.options.onEvent?.({ type: 'refused', link: this.name, reason });
      for (const d of this.devices.values()) d.emit({ type: 'refused', command: undefined, reason });
    }
    clearInterval(this.heartbeatTimer);
    const port = this.port;
    this.port = undefined;
    if (port) this.dropPort(port);
    // A refused board is checked again slowly: someone may swap or re-provision it.
    this.backoffMs = this.options.reconnect?.maxMs ?? 2000;
    this.retry(reason);
  }

  /** Why this board is not the one the cell expects, or undefined when it is. */
  private identityProblem(boot: BootInfo): string | undefined {
    const where = `station board on ${this.path} (link "${this.name}")`;
    if (boot.protocolVersion !== PROTOCOL_VERSION) return `${where} speaks protocol version ${boot.protocolVersion}; this controller speaks ${PROTOCOL_VERSION}`;
    if (!boot.provisioned) return `${where} is not provisioned; provision it for this cell (station id ${this.map.stationId})`;
    if (boot.stationId !== this.map.stationId) return `${where} reports station id ${boot.stationId}; the cell expects ${this.map.stationId}`;
    const hash = hashToHex(boot.descriptionHash);
    if (hash !== this.options.descriptionHash) {
      return `${where} was provisioned for cell description ${hash.slice(0, 12)}, this cell is ${this.options.descriptionHash.slice(0, 12)}; re-provision the board`;
    }
    return undefined;
  }

  private frame(frame: Frame): void {
    if (frame.type === MSG.ack && this.state === 'identifying') {
      const ack = decodeAck(frame.body);
      if (ack.ok && ack.value.status === STALE_EPOCH) {
        this.refuse(
          `station board on ${this.path} (link "${this.name}") is owned by a newer controller (epoch ${frame.epoch}); this controller's epoch ${this.epoch} is older, so it is fenced off`,
        );
        return;
      }
    }
    if (frame.type === MSG.boot) {
      const boot = decodeBoot(frame.body);
      if (!boot.ok) return;
      const problem = this.identityProblem(boot.value);
      if (problem) {
        this.refuse(problem);
        return;
      }
      // While connected, only a boot frame nobody asked for means the board restarted.
      if (this.state === 'ready' && boot.value.solicited) return;
      const rebooted = this.state === 'ready';
      this.boot = boot.value;
      this.refusedReason = undefined;
      if (rebooted) {
        // An unsolicited boot frame while connected: the board restarted under us.
        this.motionEnded();
        this.reportReset(`station board rebooted (reset cause: ${describeResetCause(boot.value.resetCause)})`);
        return;
      }
      // Identified; ready once the first telemetry of this connection shows the board's state
      // (latches, motion), so that no command is decided on the state of an earlier connection.
      if (this.state === 'identifying') this.identified = boot.value;
      return;
    }
    if (frame.type === MSG.telemetry && (this.state === 'ready' || (this.state === 'identifying' && this.identified))) {
      const t = decodeTelemetry(frame.body);
      if (!t.ok || !this.port) return;
      this.telemetryFrame = { port: this.port, frame: this.port.stats.framesIn };
      if (this.state === 'identifying') this.ready(t.value);
      else this.onTelemetry(t.value);
    }
  }

  private ready(first: Telemetry): void {
    this.state = 'ready';
    this.connects++;
    this.backoffMs = this.options.reconnect?.initialMs ?? 100;
    this.problem = undefined;
    this.reportedProblem = undefined;
    // Heartbeats at a quarter of the board's watchdog, skipped when another frame just went out.
    const every = Math.max(10, Math.min(50, Math.floor(this.map.watchdogMs / 4)));
    const port = this.port!;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (this.port !== port) return;
      if (performance.now() - port.lastFrameAt > (this.options.silenceMs ?? SILENCE_MS)) {
        this.lost(`station board on ${this.path} silent for ${Math.round(performance.now() - port.lastFrameAt)} ms`);
        return;
      }
      if (performance.now() - port.lastSendAt >= every) port.send(MSG.heartbeat);
    }, every);
    // Readings (and a `reset` if the axis lost its position meanwhile) before the event, so that
    // whoever acts on `ready` already sees the board as it is now.
    this.onTelemetry(first);
    if (this.port === port) this.options.onEvent?.({ type: 'ready', link: this.name, boot: this.boot!, path: this.path });
  }

  private reportReset(cause: string): void {
    this.options.onEvent?.({ type: 'reset', link: this.name, cause });
    for (const d of this.devices.values()) if (d.kind === 'conveyor') d.emit({ type: 'reset', cause });
  }

  /** The motion in progress is over whatever telemetry says (the board restarted under it). */
  private motionEnded(): void {
    const m = this.motion;
    if (!m) return;
    this.motion = undefined;
    this.homing = false;
    this.devices.get(m.device)?.emit({ type: 'motionDone', command: m.command });
  }

  private onTelemetry(t: Telemetry): void {
    const before = this.telemetry;
    this.telemetry = t;
    const homed = (t.flags & FLAG.homed) !== 0;
    if (before && (before.flags & FLAG.homed) !== 0 && !homed && !this.homing) {
      const causes: string[] = [];
      if (t.flags & FLAG.watchdogTripped) causes.push(`the host-loss watchdog tripped (no valid frame for ${this.map.watchdogMs} ms)`);
      if (t.flags & FLAG.estopLatched) causes.push('the e-stop chain opened');
      if (causes.length === 0) causes.push('drive power was removed (safe state)');
      this.reportReset(`station board: axis position lost: ${causes.join('; ')}`);
    }
    const m = this.motion;
    const result = m && t.motionSeq === m.seq ? MOTION_RESULT[t.motionResult as keyof typeof MOTION_RESULT] : undefined;
    const ended = result === 'done' || result === 'stopped' || result === 'failed';
    if (ended) this.motion = undefined;
    // An e-stop the board latched while its contact opened and closed again between two telemetry
    // frames (a short opening, a bouncing contact): show the contact open once, so that the
    // controller latches it too, then as it is.
    const estopPin = this.map.provision.estopPin;
    const estopNewlyLatched = (t.flags & FLAG.estopLatched) !== 0 && (!before || (before.flags & FLAG.estopLatched) === 0);
    if (estopNewlyLatched && estopPin !== NO_PIN && (t.flags & FLAG.estopOpen) === 0) {
      const bit = 1 << estopPin;
      const shown = { ...t, inputs: (this.map.provision.estopHealthyLevel === 1 ? t.inputs & ~bit : t.inputs | bit) >>> 0 };
      for (const d of this.devices.values()) d.telemetry(shown);
    }
    // Readings first, so that at motionDone read() already shows where the motion ended.
    for (const d of this.devices.values()) d.telemetry(t);
    if (ended) {
      this.homing = false;
      this.devices.get(m!.device)?.emit({ type: 'motionDone', command: m!.command });
    }
  }

  /** Latest telemetry (undefined before the first one). */
  get lastTelemetry(): Telemetry | undefined {
    return this.telemetry;
  }

  isMoving(device: string): boolean {
    return this.motion?.device === device;
  }

  // -------------------------------------------------------------------------------------------
  // Commands from the devices

  private async send(type: number, body: Uint8Array, urgent = false): Promise<string | undefined> {
    const port = this.port;
    if (!port || this.state !== 'ready') return `station board on link "${this.name}" is not connected (${this.state}); its watchdog keeps it in its safe state`;
    const result = await port.command(type, body, urgent);
    if (result.status === undefined) return `station board on link "${this.name}" did not acknowledge after ${result.transmissions} transmissions`;
    if (result.status !== 0) return ackStatusText(result.status);
    return undefined;
  }

  private sendSafe(category: 0 | 1): Promise<string | undefined> {
    const result = this.send(MSG.safe, encodeSafe({ category }), true);
    const port = this.port;
    if (port) {
      const onItsWay = { port, category, queuedAs: port.commandsQueued, result };
      this.safeOnItsWay = onItsWay;
      void result.finally(() => {
        if (this.safeOnItsWay === onItsWay) this.safeOnItsWay = undefined;
      });
    }
    return result;
  }

  /** Before acting again after a safe state, release the board's latch (refused while the e-stop is open). */
  private async clearLatch(): Promise<string | undefined> {
    const t = this.telemetry;
    if (!t || (t.flags & (FLAG.safeLatched | FLAG.estopLatched | FLAG.watchdogTripped)) === 0) return undefined;
    return this.send(MSG.clear, new Uint8Array());
  }

  async command(device: StationDevice, command: DeviceCommand): Promise<void> {
    const refuse = (reason: string) => device.emit({ type: 'refused', command, reason });
    const axis = this.map.axis;
    switch (command.type) {
      case 'index':
      case 'home': {
        if (!axis || axis.device !== device.name) return refuse(`${device.name} has no axis on this board`);
        if (this.motion) return refuse(`${device.name} is busy with ${this.motion.command.type}; send stop first`);
        const a = axis.description.axis;
        const cleared = await this.clearLatch();
        if (cleared) return refuse(cleared);
        const body =
          command.type === 'index'
            ? encodeMove({ steps: command.steps, speedStepsS: Math.max(1, Math.round(a.maxSpeedMmS * (command.speedScale ?? 1) * a.stepsPerMm)), accelStepsS2: Math.round(a.accelMmS2 * a.stepsPerMm) })
            : encodeHome({
                speedStepsS: Math.round(a.homingSpeedMmS * a.stepsPerMm),
                direction: 1,
                maxTravelSteps: Math.round((axis.description.lengthMm + axis.description.indexMm) * a.stepsPerMm),
              });
        const port = this.port;
        if (!port || this.state !== 'ready') return refuse(`station board on link "${this.name}" is not connected (${this.state})`);
        if (command.type === 'home') this.homing = true;
        const result = await port.command(command.type === 'index' ? MSG.move : MSG.home, body);
        if (result.status !== 0) {
          this.homing = false;
          if (result.status === undefined) {
            // Unknown whether the board started it (a lost acknowledgement): stop the axis to be sure.
            if (this.port === port && this.state === 'ready') void port.command(MSG.stop, new Uint8Array(), true);
            return refuse(`station board on link "${this.name}" did not acknowledge ${command.type}`);
          }
          return refuse(ackStatusText(result.status));
        }
        this.motion = { device: device.name, command, seq: result.seq };
        // The board may already have finished (a zero-length move, already on the home mark) in
        // telemetry that arrived after the acknowledgement. Only then: telemetry from before it may
        // show the same motion seq finished by an earlier connection or an earlier controller.
        const seen = this.telemetryFrame;
        if (this.telemetry && seen && seen.port === port && result.ackFrame !== undefined && seen.frame > result.ackFrame) this.onTelemetry(this.telemetry);
        return;
      }
      case 'stop': {
        if (axis?.device !== device.name) return;
        // Sent whether or not a motion is known here: stopping an idle axis costs nothing, and a
        // motion whose acknowledgement was lost is stopped too.
        if (!this.motion && (this.state !== 'ready' || !this.port)) return;
        const problem = await this.send(MSG.stop, new Uint8Array(), true);
        if (problem && this.motion) refuse(problem);
        return;
      }
      case 'safeState': {
        // The board's safe state is board-wide and latched: when every device on the link is sent
        // to it in one turn, one frame serves them all. Shared only while that frame is still
        // unacknowledged and nothing (a `clear`, a move) was queued behind it.
        const port = this.port;
        const onItsWay = this.safeOnItsWay;
        const shared = onItsWay && port && onItsWay.port === port && onItsWay.category === command.category && onItsWay.queuedAs === port.commandsQueued;
        const problem = await (shared ? onItsWay.result : this.sendSafe(command.category));
        if (problem) refuse(problem);
        return;
      }
      case 'setOutput': {
        const channel = device.channel(command.channel, 'output');
        if (!channel) return refuse(`${device.name} has no output "${command.channel}" on this board`);
        const problem = (await this.clearLatch()) ?? (await this.setLevel(channel, command.value));
        if (problem) refuse(problem);
        return;
      }
      case 'release': {
        const channel = device.channel('release', 'output');
        const feeder = this.map.devices[device.name];
        if (!channel || feeder?.kind !== 'feeder') return refuse(`${device.name} has no release actuator on this board`);
        const problem = (await this.clearLatch()) ?? (await this.setLevel(channel, true));
        if (problem) return refuse(problem);
        device.pulsing = true;
        setTimeout(() => {
          void this.setLevel(channel, false).then((p) => {
            device.pulsing = false;
            if (p) refuse(p);
            device.emit({ type: 'motionDone', command });
          });
        }, feeder.releasePulseMs);
        return;
      }
      default:
        return refuse(`a serial station board cannot carry out ${command.type}`);
    }
  }

  private setLevel(channel: BoardChannel, value: boolean): Promise<string | undefined> {
    const level = value !== channel.activeLow;
    return this.send(MSG.setOutputs, encodeSetOutputs({ mask: 1 << channel.pin, levels: level ? 1 << channel.pin : 0 }));
  }
}

export class StationDevice implements DeviceDriver {
  private readonly listeners = new Set<FeedbackListener>();
  private last: Reading;
  private lastKey = '';
  private active = false;
  pulsing = false;

  constructor(
    readonly name: string,
    readonly kind: DeviceKind,
    private readonly link: StationLink,
    private readonly channels: BoardChannel[],
  ) {
    this.last = this.emptyReading();
  }

  configure(): void {
    // The board map was checked when the link was built (stationDrivers); nothing is left to refuse.
  }

  activate(): void {
    if (this.active) return;
    this.active = true;
    this.link.acquire();
  }

  deactivate(): void {
    if (!this.active) return;
    this.active = false;
    this.link.release();
  }

  write(command: DeviceCommand): void {
    const copy = structuredClone(command);
    this.link.command(this, copy).catch((error: unknown) => {
      this.emit({ type: 'refused', command: copy, reason: `serial station driver failed: ${error instanceof Error ? error.message : String(error)}` });
    });
  }

  read(): Reading {
    return structuredClone(this.last);
  }

  onFeedback(listener: FeedbackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Link health for the Maintenance view and /diagnostics (commissioning, issue #11). */
  diagnostics(): Record<string, string | number> {
    const h = this.link.health();
    const out: Record<string, string | number> = { transport: 'serial', link: h.link, path: h.path, link_state: h.state, connects: h.connects };
    if (h.boot) {
      out.station_id = h.boot.stationId;
      out.firmware = `${h.boot.firmwareMajor}.${h.boot.firmwareMinor}`;
      out.protocol_version = h.boot.protocolVersion;
    }
    if (h.port) {
      out.frames_in = h.port.framesIn;
      out.frames_out = h.port.framesOut;
      out.crc_errors_in = h.port.crcErrorsIn;
      out.framing_errors_in = h.port.framingErrorsIn;
      out.retransmissions = h.port.retransmissions;
    }
    if (h.board) {
      out.board_crc_errors = h.board.crcErrors;
      out.board_framing_errors = h.board.framingErrors;
      out.board_accepted_frames = h.board.acceptedFrames;
    }
    if (h.lastFrameAgeMs !== undefined) out.last_frame_age_ms = Math.round(h.lastFrameAgeMs);
    return out;
  }

  emit(feedback: DeviceFeedback): void {
    for (const l of [...this.listeners]) l(feedback);
  }

  channel(name: string, direction: 'input' | 'output'): BoardChannel | undefined {
    return this.channels.find((c) => c.channel === name && c.direction === direction);
  }

  private emptyReading(): Reading {
    const inputs: Record<string, boolean> = {};
    const outputs: Record<string, boolean> = {};
    for (const c of this.channels) (c.direction === 'input' ? inputs : outputs)[c.channel] = false;
    const r: Reading = { inputs, outputs, moving: false };
    if (this.kind === 'conveyor') {
      r.inputs.home = false;
      r.axis = { positionSteps: 0, encoderCount: 0, homed: false };
    }
    return r;
  }

  telemetry(t: Telemetry): void {
    const r = this.emptyReading();
    for (const c of this.channels) {
      const levels = c.direction === 'input' ? t.inputs : t.outputs;
      const level = ((levels >>> c.pin) & 1) === 1;
      (c.direction === 'input' ? r.inputs : r.outputs)[c.channel] = level !== c.activeLow;
    }
    if (this.kind === 'conveyor') {
      const homeLevel = (t.inputs >>> AXIS_PINS.home) & 1;
      r.inputs.home = homeLevel === this.link.map.provision.homeActiveLevel;
      r.moving = t.axisState !== 0 || this.link.isMoving(this.name);
      r.axis = { positionSteps: t.positionSteps, encoderCount: t.encoderCount, homed: (t.flags & FLAG.homed) !== 0 };
    } else if (this.kind === 'feeder') {
      r.moving = this.pulsing;
    }
    this.last = r;
    const key = JSON.stringify(r);
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.emit({ type: 'reading', reading: structuredClone(r) });
    } else {
      this.emit({ type: 'heartbeat' });
    }
  }
}

export interface StationDriversOptions {
  cell: CellDescription;
  hash: string;
  /** Port path per serial link name (a rig's ptys); the description's path otherwise. */
  paths?: Record<string, string>;
  epoch?: number;
  onEvent?: (event: LinkEvent) => void;
}

/** A StationLink for each of the given serial links, with its devices' drivers. */
export function stationLinks(links: string[], options: StationDriversOptions): StationLink[] {
  return links.map(
    (link) =>
      new StationLink({
        map: boardMap(options.cell, link, options.hash),
        descriptionHash: options.hash,
        ...(options.paths?.[link] ? { path: options.paths[link] } : {}),
        ...(options.epoch !== undefined ? { epoch: options.epoch } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      }),
  );
}
