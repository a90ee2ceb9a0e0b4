/**
 * The commissioning docs stay true to the code: every command word is in the operator-interface
 * table, every event the operator interface carries and every journal event is documented, and
 * every `commissioning:` key of the schema is in docs/commissioning.md or docs/cell-description.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMISSIONING_VERBS } from '../../src/commissioning/grammar.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const operatorDoc = read('docs/operator-interface.md');
const journalDoc = read('docs/journal.md');
const commissioningDoc = read('docs/commissioning.md');
const cellDoc = read('docs/cell-description.md');
const source = read('src/commissioning/commissioning.ts');
const schema = read('src/cell/schema.ts');

/** The commissioning section of docs/operator-interface.md. */
const operatorSection = /### Commissioning commands[\s\S]*?\n(?=#{2,3} |`abort` is a software stop)/.exec(operatorDoc)?.[0] ?? '';

describe('commissioning docs', () => {
  it('the operator-interface table has a row for every commissioning word', () => {
    expect(operatorSection.length).toBeGreaterThan(200);
    for (const verb of COMMISSIONING_VERBS) expect(operatorSection, verb).toMatch(new RegExp(`^\\| \`${verb}( [^\`]*)?\``, 'm'));
  });

  it('documents every commissioning event on the operator interface', () => {
    const events = [...new Set([...source.matchAll(/notify\('([\w.]+)'/g)].map((m) => m[1]!))];
    expect(events.length).toBeGreaterThan(4);
    // The events table's row (the state table has a `commissioning` row too).
    const row = operatorDoc.split('\n').find((line) => line.startsWith('| `commissioning` | `t, event'));
    expect(row).toBeDefined();
    for (const event of events) expect(row, event).toContain(`\`${event}\``);
  });

  it('documents every journal event of the commissioning record', () => {
    const events = [...new Set([...source.matchAll(/\bevent: '([\w.]+)'/g)].map((m) => m[1]!))];
    expect(events.length).toBeGreaterThan(8);
    const section = /### `commissioning`[\s\S]*?(?=\n## |\n### )/.exec(journalDoc)?.[0] ?? '';
    for (const event of events) expect(section, event).toContain(`\`${event}\``);
  });

  it('names every commissioning setting of the cell description', () => {
    const block = /commissioningSchema = obj\(\{([\s\S]*?)\n\}\);/.exec(schema)?.[1] ?? '';
    const keys = [...block.matchAll(/^\s*(\w+): /gm)].map((m) => m[1]!);
    expect(keys).toEqual(expect.arrayContaining(['jog_speed_mm_s', 'jog_joint_speed_rad_s', 'jog_renew_timeout_ms', 'force_max_s']));
    for (const key of keys) expect(commissioningDoc, key).toContain(`commissioning.${key}`);
    expect(cellDoc).toContain('forceable');
  });
});
