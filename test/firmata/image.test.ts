import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { standardFirmataHex, STANDARD_FIRMATA_SHA256 } from '../../src/firmata/image.js';
import { parseIntelHex } from '../../src/rig/hex.js';
import { tempDir } from '../e2e/cli.js';
import { ROOT } from './helpers.js';

it('the rig runs the StandardFirmata image checked by its sha256', () => {
  const image = standardFirmataHex();
  expect(createHash('sha256').update(readFileSync(image)).digest('hex')).toBe(STANDARD_FIRMATA_SHA256);
  // A whole Uno image: the reset vector is a jump, and it fits the 32 KiB flash.
  const program = parseIntelHex(readFileSync(image, 'utf8'), image);
  expect(program[1]! & 0xfe).toBe(0x94);
});

it('without the registry, fetching the image fails with what to do', () => {
  // The script alone in an empty tree: no cached image, and a registry nobody answers on.
  const dir = tempDir('workcell-firmata-fetch-');
  mkdirSync(path.join(dir, 'firmata'));
  const script = path.join(dir, 'firmata', 'fetch-standard-firmata.mjs');
  copyFileSync(path.join(ROOT, 'hardware', 'firmata', 'fetch-standard-firmata.mjs'), script);
  const r = spawnSync(process.execPath, [script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_cache: path.join(dir, 'npm-cache'), npm_config_fetch_retries: '0', npm_config_fetch_timeout: '3000' },
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/`npm pack avrgirl-arduino@5\.0\.1` failed \(offline, or the registry is unreachable\?\)/);
  expect(r.stderr).toMatch(/run `node hardware\/firmata\/fetch-standard-firmata\.mjs` once with network access/);
  expect(existsSync(path.join(dir, 'firmata', '.cache', 'StandardFirmata.cpp.hex'))).toBe(false);
});
