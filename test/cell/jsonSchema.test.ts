import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { cellJsonSchema } from '../../src/cell/jsonSchema.js';
import { BROKEN_FIXTURES } from './brokenFixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/cells');
const DEMO = path.join(ROOT, 'hardware/cells/demo.yaml');
const COMMITTED = path.join(ROOT, 'docs/cell.schema.json');

function yamlData(file: string): unknown {
  return parseDocument(readFileSync(file, 'utf8')).toJS();
}

// ajv-formats is CommonJS: its function is both the module and its `default`.
const addFormats = formatsPlugin.default;

let compiled: ValidateFunction | undefined;
function validator() {
  if (compiled === undefined) {
    const ajv = new Ajv({ allErrors: true, strict: true });
    addFormats(ajv);
    compiled = ajv.compile(cellJsonSchema());
  }
  return compiled;
}

const validFiles = [DEMO, ...readdirSync(path.join(FIXTURES, 'valid')).map((f) => path.join(FIXTURES, 'valid', f))];

describe('cellJsonSchema', () => {
  it('is draft-07 with an id, a title and descriptions', () => {
    const schema = cellJsonSchema();
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.$id).toBe('urn:workcell:cell-description:1');
    expect(schema.title).toBe('workcell cell description');
    expect(JSON.stringify(schema).match(/"description":/g)?.length).toBeGreaterThan(100);
    expect(JSON.stringify(schema)).not.toContain('__schema');
  });

  it('docs/cell.schema.json is up to date', () => {
    const committed: unknown = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    expect(committed, 'docs/cell.schema.json is stale: run `npm run build && node dist/src/cli/main.js schema > docs/cell.schema.json`').toEqual(
      cellJsonSchema(),
    );
  });

  it('compiles under a strict JSON Schema validator', () => {
    expect(() => validator()).not.toThrow();
  });

  for (const file of validFiles) {
    it(`accepts ${path.relative(ROOT, file)}`, () => {
      const validate = validator();
      const ok = validate(yamlData(file));
      expect(ok, JSON.stringify(validate.errors, null, 2)).toBe(true);
    });
  }

  const shapeErrors = Object.entries(BROKEN_FIXTURES).filter(([, fixture]) => fixture.kind === 'shape');
  it('has shape-error fixtures to reject', () => {
    expect(shapeErrors.length).toBeGreaterThanOrEqual(10);
  });
  for (const [file] of shapeErrors) {
    it(`rejects ${file} (a shape error)`, () => {
      const validate = validator();
      expect(validate(yamlData(path.join(FIXTURES, 'broken', file)))).toBe(false);
    });
  }

  it('every cell file names the committed schema for editors', () => {
    for (const file of validFiles) {
      const firstLine = readFileSync(file, 'utf8').split('\n')[0] ?? '';
      const match = /^# yaml-language-server: \$schema=(.+)$/.exec(firstLine);
      expect(match, file).not.toBeNull();
      expect(path.resolve(path.dirname(file), match![1]!)).toBe(COMMITTED);
    }
  });
});

describe('docs/cell-description.md', () => {

  function propertyNames(node: unknown, into = new Set<string>()): Set<string> {
    if (Array.isArray(node)) node.forEach((item) => propertyNames(item, into));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
        if (key === 'properties' && value !== null && typeof value === 'object') Object.keys(value).forEach((name) => into.add(name));
        propertyNames(value, into);
      }
    }
    return into;
  }

  it('documents every key of the schema', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/cell-description.md'), 'utf8');
    const keys = [...propertyNames(cellJsonSchema())];
    expect(keys.length).toBeGreaterThan(60);
    // As code: `key` itself or within a dotted key or an example, e.g. `heartbeat.period_ms`.
    const undocumented = keys.filter((key) => !new RegExp(`\`[^\`\n]*\\b${key}\\b[^\`\n]*\``).test(doc));
    expect(undocumented).toEqual([]);
  });
});
