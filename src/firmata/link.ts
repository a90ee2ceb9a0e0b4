/**
 * The Firmata driver: one FirmataLink per StandardFirmata board (a firmata link in the
 * description), and one DeviceDriver per device on it (a feeder's sensor and release solenoid,
 * I/O such as a stack light).
 *
 * The board is driven through johnny-five: a `Board` over a firmata-io `Firmata` on a serialport
 * 13 `SerialPort` (johnny-five's own serialport 8 does not install on Node 20). Outputs are
 * johnny-five `Pin`s. Inputs are read from the board's io directly (`digitalRead`, `analogRead`):
 * johnny-five's input components poll on a timer they never clear, which would keep the process
 * alive and pile up with every reconnect; the reports themselves are event-driven.
 *
 * StandardFirmata cannot receive a heartbeat and has no host-loss failsafe: its outputs stay
 * where they were when the controller goes away. Its periodic analog reports (one every sampling
 * interval) are the board's sign of life, passed on as `heartbeat` feedback; a silent board is the
 * controller's heartbeat supervision's to catch. A closed port is reopened with backoff; on every
 * reconnect pin modes are set again, outputs go to their safe values, and devices get `reset`.
 */
import { SerialPort } from 'serialport';
import type { Board, Pin } from 'johnny-five';
import type { Firmata } from 'firmata-io';
import type { CellDescription } from '../cell/schema.js';
import type { DeviceCommand, DeviceDriver, DeviceFeedback, DeviceKind, FeedbackListener, Reading } from '../devices/types.js';
import { firmataLinks, firmataPinMap, type FirmataChannel, type FirmataInput, type FirmataOutput, type FirmataPinMap } from './pinMap.js';

export type FirmataLinkState = 'idle' | 'connecting' | 'identifying' | 'ready' | 'refused' | 'lost' | 'closed';

export interface FirmataLinkOptions {
  cell: CellDescription;
  /** Name of the firmata link in the description. */
  link: string;
  /** Port path, when not the description's (a rig's pty). */
  path?: string;
  /** Serial speed, when not the description's. */
  baud?: number;
  onEvent?: (event: FirmataLinkEvent) => void;
  /** Reconnect backoff, ms: doubles from initialMs up to maxMs. */
  reconnect?: { initialMs: number; maxMs: number };
  /** No report from the board for this long: the port is closed and reopened. */
  silenceMs?: number;
  /** Ask for the version this long after opening when the board's boot report did not come. */
  reportVersionTimeoutMs?: number;
  /** Give up on a board that has not identified itself within this long, and start over. */
  identifyTimeoutMs?: number;
}

export type FirmataLinkEvent =
  | { type: 'ready'; link: string; path: string; firmware: string }
  | { type: 'refused'; link: string; reason: string }
  | { type: 'lost'; link: string; reason: string }
  | { type: 'reset'; link: string; cause: string };

export interface FirmataLinkHealth {
  link: string;
  state: FirmataLinkState;
  path: string;
  firmware: string | undefined;
  refusedReason: string | undefined;
  connects: number;
  /** Reports received since the port last opened. */
  reports: number;
  lastReportAgeMs: number | undefined;
}

/**
 * Silence after which the port is closed and reopened. Generous on purpose: the controller's own
 * heartbeat watch (heartbeat.period_ms x miss_count) reacts to a silent device long before this.
 */
const SILENCE_MS = 1500;
/** A real Uno resets when its port opens and boots for about 1.7 s (bootloader, start-up blink). */
const IDENTIFY_TIMEOUT_MS = 5000;
const ASK_VERSION_EVERY_MS = 500;
const REPORT_VERSION_TIMEOUT_MS = 200;
const PIN_MODE = { input: 0, output: 1, analog: 2 } as const;

interface FiveModule {
  Board: typeof Board;
  Pin: typeof Pin;
}
let fiveModule: Promise<{ five: FiveModule; Firmata: typeof Firmata }> | undefined;
/** johnny-five and firmata-io are loaded on first use: only cells with Firmata boards need them. */
function loadFive(): Promise<{ five: FiveModule; Firmata: typeof Firmata }> {
  fiveModule ??= Promise.all([import('johnny-five'), import('firmata-io')]).then(([j5, fio]) => ({ five: j5.default, Firmata: fio.default.Firmata }));
  return fiveModule;
}

export class FirmataLink {
  readonly name: string;
  readonly path: string;
  readonly map: FirmataPinMap;
  readonly devices: ReadonlyMap<string, FirmataDevice>;
  private state: FirmataLinkState = 'idle';
  private port: SerialPort | undefined;
  private io: Firmata | undefined;
  private board: Board | undefined;
  private outputPins = new Map<number, Pin>();
  /** Logical value of every output as last commanded (Firmata does not report outputs). */
  private readonly outputs = new Map<number, boolean>();
  /** Logical value of every input after threshold and debounce; undefined until first reported. */
  private readonly inputs = new Map<number, boolean>();
  /** Logical value before debounce, and the timer confirming it. */
  private readonly pendingInputs = new Map<number, { value: boolean; timer: NodeJS.Timeout }>();
  private firmware: string | undefined;
  private refusedReason: string | undefined;
  private connects = 0;
  private reports = 0;
  private lastReportAt = 0;
  private backoffMs: number;
  private users = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private silenceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: FirmataLinkOptions) {
    this.map = firmataPinMap(options.cell, options.link);
    this.name = options.link;
    this.path = options.path ?? this.map.path;
    this.backoffMs = options.reconnect?.initialMs ?? 100;
    for (const c of this.map.channels) if (c.direction === 'output') this.outputs.set(c.pin, c.safeValue === 'on');
    const devices = new Map<string, FirmataDevice>();
    for (const [name, device] of Object.entries(this.map.devices)) {
      devices.set(name, new FirmataDevice(name, device.kind, this, this.map.channels.filter((c) => c.device === name)));
    }
    this.devices = devices;
  }

  get linkState(): FirmataLinkState {
    return this.state;
  }

  /** True once connected and every input has been reported at least once. */
  get measured(): boolean {
    return this.state === 'ready' && this.map.channels.every((c) => c.direction === 'output' || this.inputs.has(c.pin));
  }

  health(): FirmataLinkHealth {
    return {
      link: this.name,
      state: this.state,
      path: this.path,
      firmware: this.firmware,
      refusedReason: this.refusedReason,
      connects: this.connects,
      reports: this.reports,
      lastReportAgeMs: this.lastReportAt > 0 ? performance.now() - this.lastReportAt : undefined,
    };
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
    this.endPulses(false);
    await this.dropPort();
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private async dropPort(): Promise<void> {
    clearInterval(this.silenceTimer);
    this.silenceTimer = undefined;
    for (const p of this.pendingInputs.values()) clearTimeout(p.timer);
    this.pendingInputs.clear();
    const { port, io, board } = this;
    this.port = undefined;
    this.io = undefined;
    this.board = undefined;
    this.outputPins.clear();
    if (io) clearTimeout(io.reportVersionTimeoutId);
    if (board?.timer) clearTimeout(board.timer);
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    let loaded: Awaited<ReturnType<typeof loadFive>>;
    try {
      loaded = await loadFive();
    } catch (error) {
      this.refuse(`johnny-five / firmata-io cannot be loaded (npm install): ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    // Firmata and the Board are attached before the port opens: johnny-five holds "ready" back
    // until it has seen the port's "open" (as "connect").
    const port = new SerialPort({ path: this.path, baudRate: this.options.baud ?? this.map.baud, autoOpen: false });
    const io = new loaded.Firmata(port, { reportVersionTimeout: this.options.reportVersionTimeoutMs ?? REPORT_VERSION_TIMEOUT_MS });
    const identifyMs = this.options.identifyTimeoutMs ?? IDENTIFY_TIMEOUT_MS;
    const board = new loaded.five.Board({ io, repl: false, debug: false, sigint: false, timeout: identifyMs });
    board.on('error', (error: Error) => {
      if (this.board === board) this.lost(`Firmata board on ${this.path}: ${error.message}`);
    });
    board.on('ready', () => {
      if (this.board === board) this.ready(board, io, loaded.five);
    });
    port.on('close', () => {
      if (this.port === port) this.lost(`port ${this.path} closed`);
    });
    port.on('error', (error: Error) => {
      if (this.port === port) this.lost(`port ${this.path}: ${error.message}`);
    });
    this.port = port;
    this.io = io;
    this.board = board;
    try {
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      await this.dropPort();
      this.retry(`cannot open ${this.path}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if ((this.state as FirmataLinkState) === 'closed') {
      await this.dropPort();
      return;
    }
    this.reports = 0;
    this.lastReportAt = 0;
    this.state = 'identifying';
    const started = performance.now();
    // firmata-io asks for the version once; a board that missed it (or was still booting) is asked again.
    const ask = () => {
      if (this.io !== io || this.state !== 'identifying') return;
      if (performance.now() - started > identifyMs) {
        this.lost(`no Firmata version report from ${this.path} within ${identifyMs} ms (is it a StandardFirmata board?)`);
        return;
      }
      if (performance.now() - started > ASK_VERSION_EVERY_MS) {
        io.reportVersion(() => {});
        io.queryFirmware(() => {});
      }
      this.later(ASK_VERSION_EVERY_MS, ask);
    };
    this.later(ASK_VERSION_EVERY_MS, ask);
  }

  private retry(reason: string): void {
    if (this.state === 'closed') return;
    if (this.state !== 'refused') this.state = 'lost';
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.reconnect?.maxMs ?? 2000);
    this.options.onEvent?.({ type: 'lost', link: this.name, reason: `${reason}; retrying in ${wait} ms` });
    this.later(wait, () => void this.connect());
  }

  private lost(reason: string): void {
    if (this.state === 'closed' || this.state === 'lost') return;
    this.endPulses(true);
    void this.dropPort();
    this.retry(reason);
  }

  private refuse(reason: string): void {
    const news = reason !== this.refusedReason;
    this.refusedReason = reason;
    this.state = 'refused';
    if (news) {
      this.options.onEvent?.({ type: 'refused', link: this.name, reason });
      for (const d of this.devices.values()) d.emit({ type: 'refused', command: undefined, reason });
    }
    void this.dropPort();
    // Checked again slowly: someone may reflash or swap the board.
    this.backoffMs = this.options.reconnect?.maxMs ?? 2000;
    this.retry(reason);
  }

  /** Why this board cannot carry the description's channels, or undefined when it can. */
  private pinProblem(io: Firmata): string | undefined {
    const where = `Firmata board on ${this.path} (link "${this.name}")`;
    const need = (pin: number, mode: number, what: string) => {
      const p = io.pins[pin];
      if (!p) return `${where} has no pin ${pin} (${what})`;
      if (mode === PIN_MODE.analog && p.analogChannel === 127) return `${where}: pin ${pin} is not an analog pin (${what})`;
      if (!p.supportedModes.includes(mode)) return `${where}: pin ${pin} cannot be ${mode === PIN_MODE.output ? 'an output' : mode === PIN_MODE.analog ? 'analog' : 'an input'} (${what})`;
      return undefined;
    };
    for (const c of this.map.channels) {
      const mode = c.direction === 'output' ? PIN_MODE.output : c.analog ? PIN_MODE.analog : PIN_MODE.input;
      const problem = need(c.pin, mode, `${c.device}.${c.channel}`);
      if (problem) return problem;
    }
    return need(this.map.heartbeatPin, PIN_MODE.analog, 'heartbeat reports');
  }

  private ready(board: Board, io: Firmata, five: FiveModule): void {
    const problem = this.pinProblem(io);
    if (problem) {
      this.refuse(problem);
      return;
    }
    const reconnected = this.connects > 0;
    this.state = 'ready';
    this.connects++;
    this.refusedReason = undefined;
    this.backoffMs = this.options.reconnect?.initialMs ?? 100;
    this.firmware = `${io.firmware.name ?? 'Firmata'} ${io.firmware.version?.major ?? '?'}.${io.firmware.version?.minor ?? '?'}`;
    io.setSamplingInterval(this.map.samplingIntervalMs);
    // Outputs first, at their safe values (hold: as last commanded), so nothing is left energised
    // from before; a board that reset on open drives them low until now.
    for (const c of this.map.channels) {
      if (c.direction !== 'output') continue;
      if (c.safeValue !== 'hold') this.outputs.set(c.pin, c.safeValue === 'on');
      this.outputPins.set(c.pin, new five.Pin({ pin: c.pin, board, type: 'digital', mode: PIN_MODE.output }));
      this.drive(c, this.outputs.get(c.pin) === true);
    }
    this.inputs.clear();
    for (const c of this.map.channels) {
      if (c.direction !== 'input') continue;
      if (c.analog) {
        // firmata-io addresses analog pins by channel (A0 = 0); StandardFirmata starts them in analog mode.
        const channel = io.pins[c.pin]!.analogChannel;
        io.pinMode(channel, PIN_MODE.analog);
        io.analogRead(channel, (value) => this.report(io, c, value));
      } else {
        io.pinMode(c.pin, PIN_MODE.input);
        io.digitalRead(c.pin, (value) => this.report(io, c, value));
      }
    }
    const beatPin = this.map.heartbeatPin;
    if (!this.map.channels.some((c) => c.pin === beatPin)) {
      const channel = io.pins[beatPin]!.analogChannel;
      io.pinMode(channel, PIN_MODE.analog);
      io.analogRead(channel, () => this.report(io, undefined, 0));
    }
    this.lastReportAt = performance.now();
    const silenceMs = this.options.silenceMs ?? SILENCE_MS;
    this.silenceTimer = setInterval(() => {
      if (this.io === io && performance.now() - this.lastReportAt > silenceMs) {
        this.lost(`Firmata board on ${this.path} silent for ${Math.round(performance.now() - this.lastReportAt)} ms (no sampling reports)`);
      }
    }, Math.max(20, this.map.samplingIntervalMs));
    this.options.onEvent?.({ type: 'ready', link: this.name, path: this.path, firmware: this.firmware });
    if (reconnected) {
      const cause = `Firmata board on ${this.path} (link "${this.name}") reconnected: pin modes set again, outputs at their safe values`;
      this.options.onEvent?.({ type: 'reset', link: this.name, cause });
      for (const d of this.devices.values()) d.emit({ type: 'reset', cause });
    }
    this.publish(true);
  }

  /** A report from the board: an input's value (digital level or analog value), or a heartbeat-only analog report. */
  private report(io: Firmata, channel: FirmataInput | undefined, value: number): void {
    if (this.io !== io) return;
    this.reports++;
    this.lastReportAt = performance.now();
    if (channel) this.inputChanged(channel, value);
    // Analog reports come every sampling interval: those of the heartbeat pin are the sign of life.
    if (channel === undefined || channel.pin === this.map.heartbeatPin) this.publish(true);
  }

  private inputChanged(c: FirmataInput, raw: number): void {
    let level: boolean;
    if (c.analog) {
      const before = this.pendingInputs.get(c.pin)?.value ?? this.inputs.get(c.pin);
      const wasHigh = before === undefined ? false : before !== c.activeLow;
      level = wasHigh ? raw >= c.analog.threshold - c.analog.hysteresis : raw >= c.analog.threshold;
    } else {
      level = raw !== 0;
    }
    const value = level !== c.activeLow;
    const current = this.inputs.get(c.pin);
    const pending = this.pendingInputs.get(c.pin);
    if (pending && pending.value === value) return;
    if (pending) {
      clearTimeout(pending.timer);
      this.pendingInputs.delete(c.pin);
    }
    if (value === current) return;
    // The first report is taken as it is: there is no earlier value to hold on to.
    if (c.debounceMs === 0 || current === undefined) {
      this.inputs.set(c.pin, value);
      this.publish(false);
      return;
    }
    const timer = setTimeout(() => {
      this.pendingInputs.delete(c.pin);
      this.inputs.set(c.pin, value);
      this.publish(false);
    }, c.debounceMs);
    this.pendingInputs.set(c.pin, { value, timer });
  }

  private publish(beat: boolean): void {
    for (const d of this.devices.values()) d.update(beat);
  }

  /** Readings of a device's channels (logical values). */
  channelValues(channels: FirmataChannel[]): Pick<Reading, 'inputs' | 'outputs'> {
    const inputs: Record<string, boolean> = {};
    const outputs: Record<string, boolean> = {};
    for (const c of channels) {
      if (c.direction === 'input') inputs[c.channel] = this.inputs.get(c.pin) ?? false;
      else outputs[c.channel] = this.outputs.get(c.pin) ?? false;
    }
    return { inputs, outputs };
  }

  private drive(c: FirmataOutput, value: boolean): void {
    this.outputs.set(c.pin, value);
    const pin = this.outputPins.get(c.pin);
    if (!pin) return;
    if (value !== c.activeLow) pin.high();
    else pin.low();
  }

  /** Set a logical output; returns why it could not be, or undefined. */
  setOutput(c: FirmataOutput, value: boolean): string | undefined {
    if (this.state !== 'ready') return `Firmata board on link "${this.name}" is not connected (${this.state})`;
    this.drive(c, value);
    this.publish(false);
    return undefined;
  }

  /** Every output of these channels to its safe value (hold keeps it), whether or not connected. */
  safeOutputs(channels: FirmataChannel[]): void {
    for (const c of channels) {
      if (c.direction !== 'output' || c.safeValue === 'hold') continue;
      this.drive(c, c.safeValue === 'on');
    }
    this.publish(false);
  }

  private endPulses(report: boolean): void {
    for (const d of this.devices.values()) d.endPulse(report);
  }

  get connected(): boolean {
    return this.state === 'ready';
  }
}

export class FirmataDevice implements DeviceDriver {
  private readonly listeners = new Set<FeedbackListener>();
  private last: Reading;
  private lastKey = '';
  private active = false;
  private pulse: { command: DeviceCommand; timer: NodeJS.Timeout } | undefined;

  constructor(
    readonly name: string,
    readonly kind: DeviceKind,
    private readonly link: FirmataLink,
    private readonly channels: FirmataChannel[],
  ) {
    this.last = this.measure();
  }

  configure(): void {
    // The pin map was checked when the link was built; the pins themselves when the board connects.
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

  read(): Reading {
    return structuredClone(this.last);
  }

  onFeedback(listener: FeedbackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The board's link, for the Maintenance view and /diagnostics. */
  diagnostics(): Record<string, string | number> {
    const h = this.link.health();
    return {
      transport: 'firmata',
      link: h.link,
      state: h.state,
      path: h.path,
      firmware: h.firmware ?? 'unknown',
      connects: h.connects,
      reports: h.reports,
      ...(h.lastReportAgeMs !== undefined ? { lastReportAgeMs: Math.round(h.lastReportAgeMs) } : {}),
      ...(h.refusedReason ? { refused: h.refusedReason } : {}),
    };
  }

  emit(feedback: DeviceFeedback): void {
    for (const l of [...this.listeners]) l(feedback);
  }

  private output(channel: string): FirmataOutput | undefined {
    return this.channels.find((c): c is FirmataOutput => c.direction === 'output' && c.channel === channel);
  }

  write(command: DeviceCommand): void {
    const refuse = (reason: string) => this.emit({ type: 'refused', command: structuredClone(command), reason });
    switch (command.type) {
      case 'release': {
        const release = this.output('release');
        const feeder = this.link.map.devices[this.name];
        if (!release || feeder?.kind !== 'feeder') return refuse(`${this.name} has no release actuator on Firmata link "${this.link.name}"`);
        if (this.pulse) return refuse(`${this.name} is still pulsing its release actuator`);
        if (!this.link.connected) return refuse(`Firmata board on link "${this.link.name}" is not connected (${this.link.linkState})`);
        // Moving and the energised solenoid show in one reading.
        this.pulse = { command: structuredClone(command), timer: setTimeout(() => this.endPulse(true), feeder.releasePulseMs) };
        this.link.setOutput(release, true);
        return;
      }
      case 'stop':
        // A part already let go cannot be called back; the solenoid is de-energised now.
        this.endPulse(true);
        return;
      case 'safeState':
        this.endPulse(true);
        this.link.safeOutputs(this.channels);
        return;
      case 'setOutput': {
        const c = this.output(command.channel);
        if (!c) return refuse(`${this.name} has no output "${command.channel}" on Firmata link "${this.link.name}"`);
        const problem = this.link.setOutput(c, command.value);
        if (problem) refuse(problem);
        return;
      }
      default:
        return refuse(`a Firmata board cannot carry out ${command.type} (${this.name} is a ${this.kind})`);
    }
  }

  /** End the release pulse in progress: solenoid off, and (report) motionDone for its command. */
  endPulse(report: boolean): void {
    const pulse = this.pulse;
    if (!pulse) return;
    clearTimeout(pulse.timer);
    this.pulse = undefined;
    const release = this.output('release');
    if (release && this.link.connected) this.link.setOutput(release, false);
    else if (release) this.link.safeOutputs([release]);
    this.update(false);
    if (report) this.emit({ type: 'motionDone', command: pulse.command });
  }

  private measure(): Reading {
    return { ...this.link.channelValues(this.channels), moving: this.pulse !== undefined };
  }

  /** The link's values changed, or (beat) a periodic report arrived: a reading if anything changed, else a heartbeat. */
  update(beat: boolean): void {
    const r = this.measure();
    const key = JSON.stringify(r);
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.last = r;
      this.emit({ type: 'reading', reading: structuredClone(r) });
    } else if (beat) {
      this.emit({ type: 'heartbeat' });
    }
  }
}

export interface FirmataLinksOptions {
  cell: CellDescription;
  /** Port path per firmata link name (a rig's ptys); the description's path otherwise. */
  paths?: Record<string, string>;
  onEvent?: (event: FirmataLinkEvent) => void;
}

/** A FirmataLink for each of the cell's firmata links that drives a device. */
export function firmataLinksFor(options: FirmataLinksOptions): FirmataLink[] {
  return firmataLinks(options.cell).map(
    (link) =>
      new FirmataLink({
        cell: options.cell,
        link,
        ...(options.paths?.[link] ? { path: options.paths[link] } : {}),
        ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      }),
  );
}
