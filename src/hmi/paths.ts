/** Where the HMI page's sources and its bundle live, from the package root. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module with a package.json (src/ and dist/ alike). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const pageSourceDir = () => path.join(packageRoot(), 'src', 'hmi', 'page');
/** The bundled page: `npm run build` writes it. */
export const pageBundleDir = () => path.join(packageRoot(), 'dist', 'hmi');
