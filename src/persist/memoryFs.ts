/**
 * An in-memory StoreFs that models what survives a crash, for tests of the file store:
 *
 * - a file's content is volatile until `datasync` on it; a directory's entries (creations,
 *   renames, removals) are volatile until `syncDir` on that directory — as POSIX promises and
 *   no more;
 * - `afterKill()` is the directory after the process is killed (the kernel keeps everything
 *   written); `afterPowerLoss()` keeps only what was synced, and with `tornTail` also a random
 *   prefix of each file's unsynced appended bytes (a write cut mid-way);
 * - `stopAfter(n)` makes every call after the n-th hang forever (the process stopped there), and
 *   calls still under way at that moment neither take effect nor return;
 * - every call is recorded in `ops`, in the order it completed, and `maxInFlight` counts how
 *   many calls were outstanding at once (each one would hold a libuv thread-pool thread).
 */
import path from 'node:path';
import type { StoreFile, StoreFs } from './storeFs.js';

export interface FsOp {
  op: 'mkdirp' | 'readFile' | 'openAppend' | 'openTruncate' | 'rename' | 'unlink' | 'list' | 'syncDir' | 'write' | 'datasync' | 'close';
  path: string;
  to?: string;
  bytes?: Buffer;
  /** Position in `ops` (completion order). */
  index: number;
}

interface Inode {
  volatile: Buffer;
  durable: Buffer;
}

interface Snapshot {
  entries: Map<string, number>;
  dirs: Set<string>;
  inodes: Map<number, Buffer>;
}

export class MemoryFs implements StoreFs {
  readonly ops: FsOp[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private readonly inodes = new Map<number, Inode>();
  private nextInode = 1;
  private readonly entries = new Map<string, number>();
  private durableEntries = new Map<string, number>();
  private readonly dirs = new Set<string>(['/']);
  private durableDirs = new Set<string>(['/']);
  private limit = Infinity;
  private started = 0;
  private stopped = false;
  private onStop: (() => void) | undefined;
  /** Resolves when a call is refused by `stopAfter` (the simulated process has stopped). */
  readonly stoppedAt: Promise<void>;

  constructor(
    /** setImmediate hops before call number i completes (default 1): varies interleavings. */
    private readonly hops: (i: number) => number = () => 1,
    /** Return an error to make a call fail (a full disk, a failing card). */
    public failWith: (op: Omit<FsOp, 'index'>) => Error | undefined = () => undefined,
    from?: Snapshot,
  ) {
    this.stoppedAt = new Promise((resolve) => (this.onStop = resolve));
    if (from) {
      for (const dir of from.dirs) this.dirs.add(dir), this.durableDirs.add(dir);
      for (const [id, content] of from.inodes) this.inodes.set(id, { volatile: Buffer.from(content), durable: Buffer.from(content) });
      for (const [name, id] of from.entries) this.entries.set(name, id), this.durableEntries.set(name, id);
      this.nextInode = Math.max(0, ...from.inodes.keys()) + 1;
    }
  }

  /** Calls after the first `n` hang forever. */
  stopAfter(n: number): void {
    this.limit = n;
  }

  get callCount(): number {
    return this.started;
  }

  /** The directory as a fresh process sees it after this one was killed. */
  afterKill(): MemoryFs {
    const inodes = new Map<number, Buffer>();
    for (const [id, inode] of this.inodes) inodes.set(id, inode.volatile);
    return new MemoryFs(undefined, undefined, { entries: new Map(this.entries), dirs: new Set(this.dirs), inodes });
  }

  /** The directory after a power loss: only synced entries and synced content survive. */
  afterPowerLoss(options: { tornTail?: () => number } = {}): MemoryFs {
    const inodes = new Map<number, Buffer>();
    for (const [id, inode] of this.inodes) {
      let content = inode.durable;
      const extension = inode.volatile.length > inode.durable.length && inode.volatile.subarray(0, inode.durable.length).equals(inode.durable);
      if (options.tornTail && extension) {
        // Part of the unsynced tail reached the disk: a random prefix of it, as a cut write leaves.
        const extra = Math.floor(options.tornTail() * (inode.volatile.length - inode.durable.length + 1));
        content = inode.volatile.subarray(0, inode.durable.length + extra);
      }
      inodes.set(id, content);
    }
    // A durable entry in a directory whose own entry never became durable is lost with it.
    const reachable = (dir: string): boolean => dir === '/' || (this.durableDirs.has(dir) && reachable(path.posix.dirname(dir)));
    const dirs = new Set([...this.durableDirs].filter(reachable));
    const entries = new Map([...this.durableEntries].filter(([name]) => reachable(path.posix.dirname(name))));
    return new MemoryFs(undefined, undefined, { entries, dirs, inodes });
  }

  /** Current (volatile) content of a file, for tests. */
  contentOf(file: string): Buffer | undefined {
    const id = this.entries.get(norm(file));
    return id === undefined ? undefined : this.inodes.get(id)?.volatile;
  }

  /** Names of every file, for tests. */
  files(): string[] {
    return [...this.entries.keys()].sort();
  }

  private async call<T>(op: Omit<FsOp, 'index'>, effect: () => T): Promise<T> {
    const number = ++this.started;
    if (number > this.limit || this.stopped) {
      if (!this.stopped) (this.stopped = true), this.onStop?.();
      return new Promise<T>(() => {});
    }
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      for (let hop = this.hops(number); hop > 0; hop--) await new Promise((resolve) => setImmediate(resolve));
      // The process stopped while this call was under way: it neither takes effect nor returns.
      if (this.stopped) return await new Promise<T>(() => {});
      const error = this.failWith(op);
      if (error) throw error;
      const result = effect();
      this.ops.push({ ...op, index: this.ops.length });
      return result;
    } finally {
      this.inFlight--;
    }
  }

  private requireDir(dir: string, what: string): void {
    if (!this.dirs.has(dir)) throw errno('ENOENT', `${what}: no directory ${dir}`);
  }

  mkdirp(dir: string): Promise<boolean> {
    const name = norm(dir);
    return this.call({ op: 'mkdirp', path: name }, () => {
      const created = !this.dirs.has(name);
      for (let d = name; !this.dirs.has(d); d = path.posix.dirname(d)) this.dirs.add(d);
      return created;
    });
  }

  readFile(file: string): Promise<Buffer | null> {
    const name = norm(file);
    return this.call({ op: 'readFile', path: name }, () => {
      const id = this.entries.get(name);
      return id === undefined ? null : Buffer.from(this.inodes.get(id)!.volatile);
    });
  }

  private openFile(name: string, truncate: boolean): StoreFile {
    this.requireDir(path.posix.dirname(name), `open ${name}`);
    let id = this.entries.get(name);
    if (id === undefined) {
      id = this.nextInode++;
      this.inodes.set(id, { volatile: Buffer.alloc(0), durable: Buffer.alloc(0) });
      this.entries.set(name, id);
    }
    const inode = this.inodes.get(id)!;
    if (truncate) inode.volatile = Buffer.alloc(0);
    let closed = false;
    const check = (what: string) => {
      if (closed) throw errno('EBADF', `${what} on closed ${name}`);
    };
    return {
      write: (data) =>
        this.call({ op: 'write', path: name, bytes: Buffer.from(data) }, () => {
          check('write');
          inode.volatile = Buffer.concat([inode.volatile, data]);
        }),
      datasync: () =>
        this.call({ op: 'datasync', path: name }, () => {
          check('datasync');
          inode.durable = Buffer.from(inode.volatile);
        }),
      close: () =>
        this.call({ op: 'close', path: name }, () => {
          closed = true;
        }),
    };
  }

  openAppend(file: string): Promise<StoreFile> {
    const name = norm(file);
    return this.call({ op: 'openAppend', path: name }, () => this.openFile(name, false));
  }

  openTruncate(file: string): Promise<StoreFile> {
    const name = norm(file);
    return this.call({ op: 'openTruncate', path: name }, () => this.openFile(name, true));
  }

  rename(from: string, to: string): Promise<void> {
    const source = norm(from);
    const target = norm(to);
    return this.call({ op: 'rename', path: source, to: target }, () => {
      const id = this.entries.get(source);
      if (id === undefined) throw errno('ENOENT', `rename ${source}: no such file`);
      this.requireDir(path.posix.dirname(target), `rename to ${target}`);
      this.entries.delete(source);
      this.entries.set(target, id);
    });
  }

  unlinkIfExists(file: string): Promise<void> {
    const name = norm(file);
    return this.call({ op: 'unlink', path: name }, () => {
      this.entries.delete(name);
    });
  }

  list(dir: string): Promise<string[]> {
    const name = norm(dir);
    return this.call({ op: 'list', path: name }, () => {
      const names = new Set<string>();
      for (const entry of [...this.entries.keys(), ...this.dirs]) {
        if (entry !== name && path.posix.dirname(entry) === name) names.add(path.posix.basename(entry));
      }
      return [...names].sort();
    });
  }

  syncDir(dir: string): Promise<void> {
    const name = norm(dir);
    return this.call({ op: 'syncDir', path: name }, () => {
      this.requireDir(name, 'syncDir');
      // The directory's own entries (files and subdirectories) become durable, as they are now.
      for (const [entry, id] of [...this.durableEntries]) {
        if (path.posix.dirname(entry) === name && this.entries.get(entry) !== id) this.durableEntries.delete(entry);
      }
      for (const [entry, id] of this.entries) if (path.posix.dirname(entry) === name) this.durableEntries.set(entry, id);
      for (const sub of this.dirs) if (path.posix.dirname(sub) === name && sub !== name) this.durableDirs.add(sub);
    });
  }
}

function norm(file: string): string {
  return path.posix.resolve('/', file);
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${message}`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}
