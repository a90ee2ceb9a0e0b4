/**
 * One open serial port to a station board, at the frame level: frames out (each preceded by a
 * delimiter, so line noise before it cannot spoil it), frames in, and sequenced commands with
 * stop-and-wait acknowledgement and retransmission. The only file that imports serialport.
 */
import { SerialPort } from 'serialport';
import {
  ACK_BODY_BYTES,
  decodeAck,
  encodeFrame,
  FrameReader,
  MSG,
  nextSeq,
  type DecodeResult,
  type Frame,
} from './protocol.js';

export interface StationPortOptions {
  path: string;
  baud: number;
  /** Controller epoch carried in every frame (fencing: the board refuses older epochs). */
  epoch: number;
  /** Retransmit a command not acknowledged within this, ms. */
  ackTimeoutMs?: number;
  /** Give up on a command after this many transmissions. */
  tries?: number;
}

export interface CommandResult {
  seq: number;
  /** ACK status from the board (0 ok), or undefined when no acknowledgement came. */
  status: number | undefined;
  transmissions: number;
  /**
   * Index (in `stats.framesIn`) of the acknowledgement among the frames received on this port:
   * a frame with a higher index was sent by the board after it carried the command out.
   */
  ackFrame?: number;
}

interface PendingCommand {
  type: number;
  body: Uint8Array;
  seq: number;
  transmissions: number;
  resolve: (result: CommandResult) => void;
}

export interface PortStats {
  framesIn: number;
  crcErrorsIn: number;
  framingErrorsIn: number;
  framesOut: number;
  retransmissions: number;
}

export class StationPort {
  private port: SerialPort | undefined;
  private readonly reader: FrameReader;
  private seq = 0;
  private readonly queue: PendingCommand[] = [];
  private inFlight: PendingCommand | undefined;
  private retransmitTimer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly stats: PortStats = { framesIn: 0, crcErrorsIn: 0, framingErrorsIn: 0, framesOut: 0, retransmissions: 0 };
  lastFrameAt = 0;
  lastSendAt = 0;
  /** Sequenced commands queued so far: tells a caller whether anything was queued after its own. */
  commandsQueued = 0;
  onFrame: (frame: Frame) => void = () => {};
  onBadFrame: (result: Extract<DecodeResult, { ok: false }>) => void = () => {};
  /** The port closed or failed (the cable was pulled, the device vanished). Not called by close(). */
  onLost: (reason: string) => void = () => {};

  constructor(private readonly options: StationPortOptions) {
    this.reader = new FrameReader((result) => this.received(result));
  }

  get epoch(): number {
    return this.options.epoch;
  }

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.options.path, baudRate: this.options.baud, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(new Error(`cannot open ${this.options.path}: ${error.message}`)) : resolve())));
    if (this.closed) {
      // Closed while it was opening: let go of the device (and its lock) at once.
      await new Promise<void>((resolve) => port.close(() => resolve()));
      throw new Error(`${this.options.path} was closed while it opened`);
    }
    this.port = port;
    port.on('data', (chunk: Buffer) => this.reader.push(chunk));
    port.on('error', (error: Error) => this.lose(`serial port error on ${this.options.path}: ${error.message}`));
    port.on('close', () => this.lose(`serial port ${this.options.path} closed`));
    // Flush whatever partial frame the board may have been sending before we listened.
    port.write(Buffer.of(0));
  }

  private lose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) port.close(() => {});
    this.onLost(reason);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  get isOpen(): boolean {
    return !this.closed && this.port !== undefined;
  }

  /** Raw bytes onto the wire (tests use this to send garbage). */
  writeRaw(bytes: Uint8Array): void {
    if (!this.isOpen) return;
    this.port!.write(Buffer.from(bytes));
  }

  /** An unsequenced frame (heartbeat, query): no acknowledgement, no retransmission. */
  send(type: number, body: Uint8Array = new Uint8Array(), epoch = this.options.epoch): void {
    this.transmit({ type, seq: 0, epoch, body });
  }

  private transmit(frame: Frame): void {
    if (!this.isOpen) return;
    const wire = encodeFrame(frame);
    const out = new Uint8Array(wire.length + 1);
    out.set(wire, 1);
    this.port!.write(Buffer.from(out));
    this.stats.framesOut++;
    this.lastSendAt = performance.now();
  }

  /**
   * A sequenced command: sent once the previous one is acknowledged, retransmitted with the same
   * sequence number until acknowledged or out of tries. `urgent` commands (stop, safe) go ahead of
   * those still waiting.
   */
  command(type: number, body: Uint8Array, urgent = false): Promise<CommandResult> {
    return new Promise((resolve) => {
      const pending: PendingCommand = { type, body, seq: 0, transmissions: 0, resolve };
      if (!this.isOpen) {
        resolve({ seq: 0, status: undefined, transmissions: 0 });
        return;
      }
      this.commandsQueued++;
      if (urgent) this.queue.unshift(pending);
      else this.queue.push(pending);
      this.pump();
    });
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0 || !this.isOpen) return;
    const next = this.queue.shift()!;
    this.seq = nextSeq(this.seq);
    next.seq = this.seq;
    this.inFlight = next;
    this.sendInFlight();
  }

  private sendInFlight(): void {
    const c = this.inFlight;
    if (!c) return;
    if (c.transmissions >= (this.options.tries ?? 8)) {
      this.inFlight = undefined;
      c.resolve({ seq: c.seq, status: undefined, transmissions: c.transmissions });
      this.pump();
      return;
    }
    if (c.transmissions > 0) this.stats.retransmissions++;
    c.transmissions++;
    this.transmit({ type: c.type, seq: c.seq, epoch: this.options.epoch, body: c.body });
    this.retransmitTimer = setTimeout(() => this.sendInFlight(), this.options.ackTimeoutMs ?? 100);
  }

  private received(result: DecodeResult): void {
    if (!result.ok) {
      if (result.error === 'crc') this.stats.crcErrorsIn++;
      else this.stats.framingErrorsIn++;
      this.onBadFrame(result);
      return;
    }
    this.stats.framesIn++;
    this.lastFrameAt = performance.now();
    const frame = result.frame;
    if (frame.type === MSG.ack && frame.body.length === ACK_BODY_BYTES) {
      const ack = decodeAck(frame.body);
      const c = this.inFlight;
      if (ack.ok && c && ack.value.ackSeq === c.seq) {
        clearTimeout(this.retransmitTimer);
        this.inFlight = undefined;
        c.resolve({ seq: c.seq, status: ack.value.status, transmissions: c.transmissions, ackFrame: this.stats.framesIn });
        this.pump();
      }
    }
    this.onFrame(frame);
  }

  private failAll(): void {
    clearTimeout(this.retransmitTimer);
    const all = [...(this.inFlight ? [this.inFlight] : []), ...this.queue.splice(0)];
    this.inFlight = undefined;
    for (const c of all) c.resolve({ seq: c.seq, status: undefined, transmissions: c.transmissions });
  }
}
