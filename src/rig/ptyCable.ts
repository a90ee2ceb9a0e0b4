/**
 * The rig's USB cable: socat makes a pty at the link path (the controller opens it like a USB serial
 * board) and carries bytes between it and a simulated chip's UART. Unplugging ends socat, so the
 * controller sees the device vanish, as when a cable is pulled. One per board process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export class PtyCable {
  private socat: ChildProcess | undefined;
  private isPlugged = false;
  /** Set while the board process exits: socat ending then is expected, not an error. */
  exiting = false;

  constructor(
    private readonly linkPath: string,
    private readonly toChip: (chunk: Buffer) => void,
    private readonly onError: (message: string) => void,
  ) {}

  get plugged(): boolean {
    return this.isPlugged;
  }

  /** Bytes from the chip to the controller; lost while unplugged, as on a pulled cable. */
  write(bytes: Uint8Array): void {
    if (this.isPlugged && this.socat?.stdin?.writable) this.socat.stdin.write(bytes);
  }

  async plug(): Promise<void> {
    if (this.isPlugged) return;
    mkdirSync(path.dirname(this.linkPath), { recursive: true });
    const child = spawn('socat', [`pty,raw,echo=0,link=${this.linkPath}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.socat = child;
    child.stdout!.on('data', (chunk: Buffer) => this.toChip(chunk));
    child.stdin!.on('error', () => {});
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => this.onError(`socat: ${error.message} (install socat)`));
    child.on('exit', (code) => {
      if (this.socat === child) {
        this.isPlugged = false;
        this.socat = undefined;
        if (!this.exiting && code !== null && code !== 0) this.onError(`socat exited with ${code}: ${stderr.trim()}`);
      }
    });
    const deadline = Date.now() + 5000;
    while (!existsSync(this.linkPath)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`socat did not create ${this.linkPath}: ${stderr.trim() || 'no output'}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    this.isPlugged = true;
  }

  async unplug(): Promise<void> {
    const child = this.socat;
    if (!child) return;
    this.isPlugged = false;
    this.socat = undefined;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await gone;
  }
}
