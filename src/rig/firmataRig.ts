/**
 * The parent's handle on one simulated StandardFirmata board (src/rig/firmataBoard.ts in a child
 * process): the real StandardFirmata image in avr8js behind a pty, with its pins driven by the
 * harness (digital levels, analog values), its output pins reported as they change, and the
 * faults a test needs (cable pulled, chip frozen, power cycle).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { standardFirmataHex } from '../firmata/image.js';
import { packageRoot, uniqueLinkDir } from './rigBoard.js';
import { rmSync } from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface FirmataRigConfig {
  hexPath: string;
  /** Where the board's pty appears (a symlink socat makes); unique per board. */
  linkPath: string;
  /** Level of every wired digital input pin at power-up (the harness drives each one explicitly). */
  inputs: Record<number, 0 | 1>;
  /** Value (0-1023, as the ADC reads it) of analog channels at power-up; the others read 0. */
  analog?: Record<number, number>;
}

export type FirmataRigRequest =
  | { id: number; op: 'setInput'; pin: number; level: 0 | 1 }
  | { id: number; op: 'setAnalog'; channel: number; value: number }
  /** An input at `level` for `ms` of the chip's own time, then back: a bounce, exact under any host load. */
  | { id: number; op: 'pulseInput'; pin: number; level: 0 | 1; ms: number }
  | { id: number; op: 'state' }
  /** Pull the USB cable: the pty disappears; the chip keeps running. */
  | { id: number; op: 'unplug' }
  | { id: number; op: 'plug' }
  | { id: number; op: 'powerCycle' }
  /** Halt the chip (a hung board): the port stays open, nothing more comes from it. */
  | { id: number; op: 'freeze' }
  | { id: number; op: 'thaw' };

export interface FirmataRigState {
  /** Levels of pins 0..19. */
  levels: number[];
  /** Pins the firmware drives as outputs. */
  outputs: number[];
  uptimeMs: number;
  plugged: boolean;
  running: boolean;
}

export type FirmataRigEvent =
  | { event: 'ready'; linkPath: string }
  | { event: 'reply'; id: number; ok: true; state?: FirmataRigState }
  | { event: 'reply'; id: number; ok: false; error: string }
  /** An output pin changed level (the chip drives it). */
  | { event: 'pin'; pin: number; level: 0 | 1 }
  | { event: 'error'; message: string };

type RequestBody = FirmataRigRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export type FirmataRigStart = Omit<FirmataRigConfig, 'hexPath' | 'linkPath'> & { hexPath?: string; linkPath?: string };

export class FirmataRigBoard {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (s: FirmataRigState | undefined) => void; reject: (e: Error) => void }>();
  private readonly pinListeners: Array<(pin: number, level: 0 | 1) => void> = [];
  private readonly errors: string[] = [];
  private exited = false;
  private ownedDir: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly linkPath: string,
  ) {}

  static async start(options: FirmataRigStart): Promise<FirmataRigBoard> {
    const hexPath = options.hexPath ?? standardFirmataHex();
    let ownedDir: string | undefined;
    let linkPath = options.linkPath;
    if (linkPath === undefined) {
      ownedDir = uniqueLinkDir();
      linkPath = path.join(ownedDir, 'firmata');
    }
    const config: FirmataRigConfig = { ...options, hexPath, linkPath };
    const ts = path.extname(fileURLToPath(import.meta.url)) === '.ts';
    const entry = path.join(here, ts ? 'firmataBoard.ts' : 'firmataBoard.js');
    const args = ts ? ['--import', 'tsx', entry, JSON.stringify(config)] : [entry, JSON.stringify(config)];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: packageRoot() });
    const board = new FirmataRigBoard(child, linkPath);
    board.ownedDir = ownedDir;
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => {
        board.exited = true;
        const error = new Error(`Firmata rig board process exited (${code}): ${[...board.errors, stderr.trim()].filter(Boolean).join('; ')}`);
        for (const p of board.pending.values()) p.reject(error);
        board.pending.clear();
        reject(error);
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let event: FirmataRigEvent;
        try {
          event = JSON.parse(line) as FirmataRigEvent;
        } catch {
          return;
        }
        if (event.event === 'ready') resolve();
        else if (event.event === 'pin') for (const l of board.pinListeners) l(event.pin, event.level);
        else if (event.event === 'error') board.errors.push(event.message);
        else if (event.event === 'reply') {
          const p = board.pending.get(event.id);
          board.pending.delete(event.id);
          if (p) event.ok ? p.resolve(event.state) : p.reject(new Error(event.error));
        }
      });
    });
    await ready;
    return board;
  }

  private request(body: RequestBody): Promise<FirmataRigState | undefined> {
    if (this.exited) return Promise.reject(new Error('Firmata rig board process has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  async setInput(pin: number, level: 0 | 1): Promise<void> {
    await this.request({ op: 'setInput', pin, level });
  }

  /** Drive an input to `level` for `ms` of the chip's time, then back to where it was. */
  async pulseInput(pin: number, level: 0 | 1, ms: number): Promise<void> {
    await this.request({ op: 'pulseInput', pin, level, ms });
  }

  /** Analog channel `channel` (A0 = 0) reads `value` (0-1023). */
  async setAnalog(channel: number, value: number): Promise<void> {
    await this.request({ op: 'setAnalog', channel, value });
  }

  async state(): Promise<FirmataRigState> {
    return (await this.request({ op: 'state' }))!;
  }

  async unplug(): Promise<void> {
    await this.request({ op: 'unplug' });
  }

  async plug(): Promise<void> {
    await this.request({ op: 'plug' });
  }

  async powerCycle(): Promise<void> {
    await this.request({ op: 'powerCycle' });
  }

  async freeze(): Promise<void> {
    await this.request({ op: 'freeze' });
  }

  async thaw(): Promise<void> {
    await this.request({ op: 'thaw' });
  }

  /** Output pins as the chip drives them (the release solenoid, lamps). */
  onPin(listener: (pin: number, level: 0 | 1) => void): () => void {
    this.pinListeners.push(listener);
    return () => {
      const i = this.pinListeners.indexOf(listener);
      if (i >= 0) this.pinListeners.splice(i, 1);
    };
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.stdin!.end();
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(kill);
    }
    if (this.ownedDir) rmSync(this.ownedDir, { recursive: true, force: true });
  }
}
