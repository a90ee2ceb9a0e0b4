import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cellMachineMermaid } from '../src/cli/graph.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows the PackML statechart exactly as `workcell graph` generates it from the machine', () => {
    const block = /<!-- generated:cell-graph:start[^\n]*\n```mermaid\n([\s\S]*?)```\n<!-- generated:cell-graph:end -->/.exec(readme);
    expect(block, 'README has the generated graph block').not.toBeNull();
    expect(block![1]!.trimEnd()).toBe(cellMachineMermaid().trimEnd());
  });

  it('gives the set-up-and-run and the test commands', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
