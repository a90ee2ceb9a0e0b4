/**
 * A tap on a serial link: socat between the controller's pty and the board's pty, dumping every
 * chunk it passes (-x -v) with its own timestamp. The controller opens the tap's pty as if it were
 * the board's; socat forwards each chunk as soon as it reads it (a C select loop, tens of µs).
 *
 * Clock: socat stamps each chunk with CLOCK_REALTIME at its read() — the moment the bytes left the
 * writer's side of the pty, i.e. were on the wire. The harness works in CLOCK_MONOTONIC
 * (process.hrtime.bigint(), the same clock in every process on the machine); `realtimeOffsetNs()`
 * measures REALTIME − MONOTONIC at the edge of a millisecond of Date.now() (about 1 µs precise), and
 * every tap timestamp is converted with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { decodeFrame, type Frame } from '../src/serial/protocol.js';

export type Direction = 'toBoard' | 'toController';

export interface TappedFrame {
  direction: Direction;
  /** CLOCK_MONOTONIC ns (process.hrtime.bigint() scale) of the chunk that ended the frame. */
  monoNs: bigint;
  frame: Frame;
}

/** REALTIME − MONOTONIC in ns: the median of five measurements at Date.now() millisecond edges. */
export function realtimeOffsetNs(): bigint {
  const samples: bigint[] = [];
  for (let i = 0; i < 5; i++) {
    const a = Date.now();
    let b = Date.now();
    while (b === a) b = Date.now();
    const mono = process.hrtime.bigint();
    samples.push(BigInt(b) * 1_000_000n - mono);
  }
  samples.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  return samples[2]!;
}

const HEADER = /^([<>]) (\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6,9})\s+length=(\d+)/;

/**
 * The fraction of a second after the dot: socat 1.7 prints microseconds zero-padded to nine digits
 * ("04.000560548" is 560548 µs), later versions nanoseconds. `unit` says which.
 */
export type FractionUnit = 'us' | 'ns';

/** Parses socat -x -v output into timestamped chunks (realtime ns). Keeps partial records. */
export class SocatDumpParser {
  private text = '';
  /**
   * Decided on the first record unless given: the reading that lies closest to the moment the
   * record arrived (`arrivalRealNs`) — the two differ by up to a second, the arrival by microseconds.
   */
  constructor(
    private readonly onChunk: (direction: Direction, realNs: bigint, bytes: Uint8Array) => void,
    private unit: FractionUnit | undefined = undefined,
    private readonly arrivalRealNs: () => bigint = () => BigInt(Date.now()) * 1_000_000n,
  ) {}

  get fractionUnit(): FractionUnit | undefined {
    return this.unit;
  }

  push(data: string): void {
    this.text += data;
    for (;;) {
      const end = this.text.indexOf('\n--\n');
      if (end < 0) return;
      const record = this.text.slice(0, end);
      this.text = this.text.slice(end + 4);
      this.parseRecord(record);
    }
  }

  private parseRecord(record: string): void {
    const lines = record.split('\n');
    const header = HEADER.exec(lines[0] ?? '');
    if (!header) throw new Error(`socat dump: unexpected record header ${JSON.stringify(lines[0])}`);
    const [, dir, y, mo, d, h, mi, s, frac, len] = header;
    // socat prints local time; Date interprets these fields in the same local zone.
    const ms = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime();
    const base = BigInt(ms) * 1_000_000n;
    const fraction = BigInt(frac!);
    const asNs = base + (frac!.length === 9 ? fraction : BigInt(frac!.padEnd(9, '0')));
    const asUs = base + fraction * 1000n;
    if (this.unit === undefined) {
      const arrival = this.arrivalRealNs();
      const off = (x: bigint) => (arrival > x ? arrival - x : x - arrival);
      this.unit = frac!.length === 9 && off(asUs) < off(asNs) ? 'us' : 'ns';
    }
    const realNs = this.unit === 'us' ? asUs : asNs;
    const length = Number(len);
    const bytes: number[] = [];
    for (const line of lines.slice(1)) {
      // " 68 65 6c ...  ascii": at most 16 hex bytes in the first 49 characters.
      for (const hex of line.slice(0, 49).match(/[0-9a-f]{2}/g) ?? []) bytes.push(parseInt(hex, 16));
    }
    if (bytes.length < length) throw new Error(`socat dump: record says ${length} bytes, found ${bytes.length}`);
    this.onChunk(dir === '>' ? 'toBoard' : 'toController', realNs, Uint8Array.from(bytes.slice(0, length)));
  }
}

/** Splits a direction's byte stream into frames at 0x00, timestamped by the chunk that ended each. */
class TimedFrameSplitter {
  private buffer: number[] = [];
  constructor(private readonly onFrame: (frame: Frame, monoNs: bigint) => void) {}
  push(bytes: Uint8Array, monoNs: bigint): void {
    for (const b of bytes) {
      if (b !== 0) {
        if (this.buffer.length < 256) this.buffer.push(b);
        continue;
      }
      if (this.buffer.length > 0) {
        const decoded = decodeFrame(Uint8Array.from(this.buffer));
        if (decoded.ok) this.onFrame(decoded.frame, monoNs);
      }
      this.buffer = [];
    }
  }
}

export class WireTap {
  private readonly listeners = new Set<(f: TappedFrame) => void>();
  private offsetNs: bigint;
  private errors = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly controllerPath: string,
  ) {
    this.offsetNs = realtimeOffsetNs();
    const splitters = {
      toBoard: new TimedFrameSplitter((frame, monoNs) => this.emit({ direction: 'toBoard', monoNs, frame })),
      toController: new TimedFrameSplitter((frame, monoNs) => this.emit({ direction: 'toController', monoNs, frame })),
    };
    const parser = new SocatDumpParser(
      (direction, realNs, bytes) => splitters[direction].push(bytes, realNs - this.offsetNs),
      undefined,
      () => process.hrtime.bigint() + this.offsetNs,
    );
    child.stderr!.setEncoding('latin1');
    child.stderr!.on('data', (d: string) => {
      try {
        parser.push(d);
      } catch (e) {
        this.errors += `${e instanceof Error ? e.message : String(e)}\n`;
      }
    });
  }

  /** Tap between `boardPath` (the board's pty) and a new pty at `controllerPath` for the controller. */
  static async start(boardPath: string, controllerPath: string): Promise<WireTap> {
    const child = spawn('socat', ['-x', '-v', `pty,raw,echo=0,link=${controllerPath}`, `OPEN:${boardPath},raw,echo=0`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const tap = new WireTap(child, controllerPath);
    const deadline = performance.now() + 5000;
    while (!existsSync(controllerPath)) {
      if (child.exitCode !== null || performance.now() > deadline) throw new Error(`socat tap did not create ${controllerPath} (exit ${child.exitCode})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return tap;
  }

  /** Measure the REALTIME − MONOTONIC offset again; returns the change (drift) in ns. */
  recalibrate(): bigint {
    const next = realtimeOffsetNs();
    const drift = next - this.offsetNs;
    this.offsetNs = next;
    return drift;
  }

  get parseErrors(): string {
    return this.errors;
  }

  onFrame(listener: (f: TappedFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(f: TappedFrame): void {
    for (const l of this.listeners) l(f);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}
