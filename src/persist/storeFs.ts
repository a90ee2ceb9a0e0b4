/**
 * The file-system layer the file store works through: the few calls it needs, all asynchronous.
 * The real one wraps node:fs/promises, whose calls run on libuv's thread pool, so no write or
 * fsync ever runs on the main thread. Tests inject their own (a recorder, the crash-modelling
 * MemoryFs) to see every write and fsync in order.
 */
import { constants, mkdir, open, readFile, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface StoreFile {
  /** Writes all of `data` at the end (append) or at the current position (truncated file). */
  write(data: Uint8Array): Promise<void>;
  /** fdatasync: the data, and the size needed to read it back, are on the disk when it resolves. */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreFs {
  /** Creates the directory and its parents; resolves true if it had to create `dir` itself. */
  mkdirp(dir: string): Promise<boolean>;
  /** The whole file, or null if it does not exist. */
  readFile(file: string): Promise<Buffer | null>;
  /** Opens for appending, creating the file if needed. */
  openAppend(file: string): Promise<StoreFile>;
  /** Creates or truncates the file and opens it for writing. */
  openTruncate(file: string): Promise<StoreFile>;
  rename(from: string, to: string): Promise<void>;
  /** Removes the file; no error if it does not exist. */
  unlinkIfExists(file: string): Promise<void>;
  /** Names in the directory (empty if it does not exist). */
  list(dir: string): Promise<string[]>;
  /** fsync of a directory: renames, creations and removals in it are on the disk when it resolves. */
  syncDir(dir: string): Promise<void>;
}

class NodeFile implements StoreFile {
  constructor(private readonly handle: FileHandle) {}
  async write(data: Uint8Array): Promise<void> {
    // A short write is legal; a record cut in half would read as a torn tail, so keep writing.
    for (let done = 0; done < data.length; ) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done);
      done += bytesWritten;
    }
  }
  datasync(): Promise<void> {
    return this.handle.datasync();
  }
  close(): Promise<void> {
    return this.handle.close();
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/** The real file system (node:fs/promises). */
export const nodeStoreFs: StoreFs = {
  async mkdirp(dir) {
    const first = await mkdir(dir, { recursive: true });
    return first !== undefined;
  },
  async readFile(file) {
    try {
      return await readFile(file);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  },
  async openAppend(file) {
    return new NodeFile(await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644));
  },
  async openTruncate(file) {
    return new NodeFile(await open(file, constants.O_WRONLY | constants.O_TRUNC | constants.O_CREAT, 0o644));
  },
  rename(from, to) {
    return rename(from, to);
  },
  async unlinkIfExists(file) {
    try {
      await unlink(file);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  },
  async syncDir(dir) {
    const handle = await open(path.resolve(dir), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
