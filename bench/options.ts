/** Options shared by every benchmark, and where things are. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('no package.json above bench/');
    dir = up;
  }
  return dir;
}

export const ROOT = findRoot();
export const DEMO_CELL = path.join(ROOT, 'hardware', 'cells', 'demo.yaml');
export const DEMO_SERIAL_CELL = path.join(ROOT, 'hardware', 'cells', 'demo-serial.yaml');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

export interface BenchOptions {
  /** Fewer samples, the same figures, under a minute in all. */
  quick: boolean;
  log: (line: string) => void;
}
