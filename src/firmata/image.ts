/**
 * The StandardFirmata image the Firmata rig runs: Firmata 2.4 for an Arduino Uno, prebuilt in the
 * npm package avrgirl-arduino@5.0.1 and fetched (checked by sha256) into hardware/firmata/.cache/
 * by hardware/firmata/fetch-standard-firmata.mjs, in CI setup or here on first use.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../rig/rigBoard.js';

export const STANDARD_FIRMATA_SHA256 = '6d57ea7cf30e26c9c2f3a01ee37907d2c951f8bc9c27f84dddad12fa9c8b8f36';

/** Path of the checked StandardFirmata image, fetching it first if needed; throws with what to do if it cannot. */
export function standardFirmataHex(): string {
  const root = packageRoot();
  const image = path.join(root, 'hardware', 'firmata', '.cache', 'StandardFirmata.cpp.hex');
  if (existsSync(image) && createHash('sha256').update(readFileSync(image)).digest('hex') === STANDARD_FIRMATA_SHA256) return image;
  const script = path.join(root, 'hardware', 'firmata', 'fetch-standard-firmata.mjs');
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the StandardFirmata image is missing and could not be fetched:\n${(r.stderr || r.error?.message || '').trim()}`);
  return image;
}
