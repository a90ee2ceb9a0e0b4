import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { cellSchema, type CellDescription } from '../../src/cell/schema.js';

export const DEMO_PATH = new URL('../../hardware/cells/demo.yaml', import.meta.url).pathname;

/** The demo cell, parsed straight through the schema (the loader has its own tests). */
export function demoCell(): CellDescription {
  return cellSchema.parse(parse(readFileSync(DEMO_PATH, 'utf8')));
}
