import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JOURNAL_COMMON_FIELDS, JOURNAL_KINDS } from '../../src/journal/journal.js';

const doc = readFileSync(new URL('../../docs/journal.md', import.meta.url), 'utf8');

describe('docs/journal.md', () => {
  it.each(JOURNAL_KINDS)('has a section for the kind %s', (kind) => {
    expect(doc).toContain(`\n### \`${kind}\`\n`);
  });

  it('documents no kind the journal does not have', () => {
    const documented = [...doc.matchAll(/^### `([^`]+)`$/gm)].map((m) => m[1]);
    expect(documented).toEqual([...JOURNAL_KINDS]);
  });

  it('lists the common fields in the order records carry them', () => {
    const table = [...doc.matchAll(/^\| `(\w+)` \| (?:integer|string|number) \|/gm)].map((m) => m[1]);
    expect(table).toEqual([...JOURNAL_COMMON_FIELDS]);
  });
});
