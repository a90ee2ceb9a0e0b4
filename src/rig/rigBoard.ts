/**
 * The parent's handle on one simulated station board (src/rig/boardProcess.ts in a child
 * process): start it, wait for its pty, drive its inputs and physics, pull and plug its cable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RigBoardConfig, RigEvent, RigRequest, RigState } from './control.js';
import { encodeProvision, type ProvisionBody } from '../serial/protocol.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository (or installed package) root: the nearest folder above with a package.json. */
export function packageRoot(): string {
  let dir = here;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${here}`);
    dir = up;
  }
  return dir;
}

/** The station firmware image built by `make -C hardware/firmware`. */
export function defaultFirmwareHex(): string {
  return path.join(packageRoot(), 'hardware', 'firmware', 'build', 'station.hex');
}

/** A fresh, unique folder for pty links, so boards and test runs never collide. */
export function uniqueLinkDir(): string {
  return mkdtempSync(path.join(tmpdir(), `workcell-rig-${process.pid}-${randomBytes(3).toString('hex')}-`));
}

type RigRequestBody = RigRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export type RigBoardStart = Omit<RigBoardConfig, 'hexPath' | 'linkPath' | 'benchProvision'> & {
  hexPath?: string;
  linkPath?: string;
  /** Provisioned on the bench (through the chip's UART) before its pty appears. */
  provision?: ProvisionBody;
};

export class RigBoard {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (s: RigState | undefined) => void; reject: (e: Error) => void }>();
  private readonly beltListeners: Array<(beltMm: number) => void> = [];
  private readonly errors: string[] = [];
  private exited = false;
  private ownedDir: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly linkPath: string,
  ) {}

  static async start(options: RigBoardStart): Promise<RigBoard> {
    const hexPath = options.hexPath ?? defaultFirmwareHex();
    if (!existsSync(hexPath)) throw new Error(`station firmware image ${hexPath} is missing: build it with \`make -C hardware/firmware\``);
    let ownedDir: string | undefined;
    let linkPath = options.linkPath;
    if (linkPath === undefined) {
      ownedDir = uniqueLinkDir();
      linkPath = path.join(ownedDir, 'station');
    }
    const { provision, ...rest } = options;
    const config: RigBoardConfig = { ...rest, hexPath, linkPath, ...(provision ? { benchProvision: [...encodeProvision(provision)] } : {}) };
    const ts = path.extname(fileURLToPath(import.meta.url)) === '.ts';
    const entry = path.join(here, ts ? 'boardProcess.ts' : 'boardProcess.js');
    const args = ts ? ['--import', 'tsx', entry, JSON.stringify(config)] : [entry, JSON.stringify(config)];
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], cwd: packageRoot() });
    const board = new RigBoard(child, linkPath);
    board.ownedDir = ownedDir;
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.on('exit', (code) => {
        board.exited = true;
        const error = new Error(`rig board process exited (${code}): ${[...board.errors, stderr.trim()].filter(Boolean).join('; ')}`);
        for (const p of board.pending.values()) p.reject(error);
        board.pending.clear();
        reject(error);
      });
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let event: RigEvent;
        try {
          event = JSON.parse(line) as RigEvent;
        } catch {
          return;
        }
        if (event.event === 'ready') resolve();
        else if (event.event === 'belt') for (const l of board.beltListeners) l(event.beltMm);
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

  private request(body: RigRequestBody): Promise<RigState | undefined> {
    if (this.exited) return Promise.reject(new Error('rig board process has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ ...body, id })}\n`);
    });
  }

  async setInput(pin: number, level: 0 | 1): Promise<void> {
    await this.request({ op: 'setInput', pin, level });
  }

  /** The input at `level` for `ms` of the board's own time, then back: a bounce. */
  async pulse(pin: number, level: 0 | 1, ms: number): Promise<void> {
    await this.request({ op: 'pulse', pin, level, ms });
  }

  /** The next `steps` step pulses do not move the belt (lost steps). */
  async slip(steps: number): Promise<void> {
    await this.request({ op: 'slip', steps });
  }

  async state(): Promise<RigState> {
    return (await this.request({ op: 'state' }))!;
  }

  /** Pull the USB cable: the pty disappears; the board keeps running on its own supply. */
  async unplug(): Promise<void> {
    await this.request({ op: 'unplug' });
  }

  async plug(): Promise<void> {
    await this.request({ op: 'plug' });
  }

  async powerCycle(): Promise<void> {
    await this.request({ op: 'powerCycle' });
  }

  /** Force the home switch (true: on a mark, false: off), or hand it back to the belt (null). */
  async setHomeOverride(onMark: boolean | null): Promise<void> {
    await this.request({ op: 'setHomeOverride', onMark });
  }

  /** Bytes onto the controller's side of the link as if the board sent them. */
  async inject(bytes: Uint8Array): Promise<void> {
    await this.request({ op: 'inject', bytes: [...bytes] });
  }

  onBelt(listener: (beltMm: number) => void): void {
    this.beltListeners.push(listener);
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
