/**
 * The description hash: identifies what the controller actually runs, so a journal or an HMI can
 * say which description a run used. It is taken over the parsed description (defaults applied,
 * keys camelCased), so comments, key order, whitespace and writing a default explicitly do not
 * change it; any changed value does.
 */
import { createHash } from 'node:crypto';
import type { CellDescription } from './schema.js';

/** Characters of the hash shown to people (summaries, HMI, journal headers). */
export const HASH_DISPLAY_LENGTH = 12;

/** JSON with object keys sorted at every level; `undefined` members are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error(`canonicalJson: ${value} has no JSON form`);
    }
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}

/** sha256 of the canonical JSON of the parsed description, full hex (64 characters). */
export function cellHash(cell: CellDescription): string {
  return createHash('sha256').update(canonicalJson(cell), 'utf8').digest('hex');
}

/** The first HASH_DISPLAY_LENGTH characters, for display. */
export function shortHash(hash: string): string {
  return hash.slice(0, HASH_DISPLAY_LENGTH);
}
