/**
 * Bundle the HMI page at build time (`npm run build` runs this after tsc): one script with the
 * Foxglove client and the CDR decoder inside, the HTML and the CSS, into dist/hmi/. Nothing is
 * fetched from a network at run time; the page works on an offline cell.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pageBundleDir, pageSourceDir } from './paths.js';

export async function bundlePage(outDir = pageBundleDir()): Promise<void> {
  const src = pageSourceDir();
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(src, 'main.ts')],
    outfile: path.join(outDir, 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome100', 'firefox100', 'safari15'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'style.css']) copyFileSync(path.join(src, file), path.join(outDir, file));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  await bundlePage();
}
