import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PACKML_COMMAND_WORDS, UNIT_MODES } from '../../src/interface/operator.js';
import { operatorTopics } from '../../src/interface/topics.js';

const doc = readFileSync(new URL('../../docs/operator-interface.md', import.meta.url), 'utf8');
const operatorSource = readFileSync(new URL('../../src/interface/operator.ts', import.meta.url), 'utf8');

/** The top-level field names of an exported interface in operator.ts. */
function interfaceFields(name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(operatorSource)?.[1];
  if (body === undefined) throw new Error(`interface ${name} not found in src/interface/operator.ts`);
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

describe('docs/operator-interface.md', () => {
  it('lists every topic with its type', () => {
    for (const topic of Object.values(operatorTopics())) {
      const name = topic.name.replace('/workcell/', '<ns>/');
      expect(doc).toMatch(new RegExp(`^\\| \`${name}\` \\| \`${topic.type}\` \\|`, 'm'));
    }
  });

  it('documents every command word and every mode', () => {
    for (const word of [...PACKML_COMMAND_WORDS, 'ack']) expect(doc).toMatch(new RegExp(`^\\| \`${word}\` \\|`, 'm'));
    for (const mode of UNIT_MODES) expect(doc).toContain(`\`mode ${mode}\``);
  });

  it('documents every field of CellStateMessage', () => {
    const fields = interfaceFields('CellStateMessage');
    expect(fields.length).toBeGreaterThan(10);
    for (const field of fields) expect(doc, field).toMatch(new RegExp(`^\\| \`${field}\` \\|`, 'm'));
  });

  it('documents every event type of CellEventMessage', () => {
    const union = /export type CellEventMessage =([\s\S]*?);\n/.exec(operatorSource)?.[1] ?? '';
    const types = [...union.matchAll(/type: '([\w.]+)'/g)].map((m) => m[1]!);
    expect(types.length).toBeGreaterThan(5);
    for (const type of types) expect(doc, type).toMatch(new RegExp(`^\\| \`${type.replace('.', '\\.')}\` \\|`, 'm'));
  });
});
