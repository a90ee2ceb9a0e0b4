import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const MACHINES_DIR = join(import.meta.dirname, '../../machines');
const FORBIDDEN = [/^node:/, /^(fs|net|path|child_process|os)(\/|$)/, /^serialport/, /^rclnodejs/, /^johnny-five/, /^firmata-io/, /(^|\/)src(\/|$)/];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.[cm]?[jt]s$/.test(name) ? [path] : [];
  });
}

/** Every module specifier in static imports/exports, dynamic imports and require calls. */
function importedSpecifiers(source: string): string[] {
  const patterns = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]/g, /\brequire\s*\(\s*['"]([^'"]+)['"]/g];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1] ?? ''));
}

describe('machines/ purity', () => {
  const files = sourceFiles(MACHINES_DIR);

  it('finds the machine sources', () => {
    expect(files.map((f) => relative(MACHINES_DIR, f))).toEqual(expect.arrayContaining(['cellMachine.ts', 'packml.ts']));
  });

  it('the import scanner catches every forbidden form', () => {
    const bad = `import fs from 'node:fs';\nimport { x } from "../src/clock.js";\nconst s = await import('serialport');\nrequire('johnny-five');\nexport * from 'net';`;
    const found = importedSpecifiers(bad).filter((s) => FORBIDDEN.some((f) => f.test(s)));
    expect(found).toEqual(['node:fs', '../src/clock.js', 'net', 'serialport', 'johnny-five']);
  });

  it.each(files.map((f) => [relative(MACHINES_DIR, f), f]))('%s imports no I/O module and nothing under src/', (_name, file) => {
    const specifiers = importedSpecifiers(readFileSync(file, 'utf8'));
    const offending = specifiers.filter((s) => FORBIDDEN.some((f) => f.test(s)));
    expect(offending).toEqual([]);
  });
});
