import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { cellMachineMermaid, runGraph } from '../../src/cli/graph.js';
import { COMMANDS, STATES, STATE_COMPLETE, expectedAfter, type State } from './packmlTable.js';

const word = (command: string) => command.charAt(0).toUpperCase() + command.slice(1);

/** source -> target -> label items (each without its parenthesised condition) */
function parseEdges(mermaid: string): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  for (const line of mermaid.split('\n').slice(1)) {
    if (line.trim() === '') continue;
    const match = /^\s+(\S+) --> (\S+) : (.+)$/.exec(line);
    if (!match) throw new Error(`not a Mermaid transition line: ${JSON.stringify(line)}`);
    const [, source, target, labels] = match as unknown as [string, string, string, string];
    const targets = edges.get(source) ?? new Map<string, string[]>();
    edges.set(source, targets);
    targets.set(target, labels.split(', ').map((l) => l.replace(/ \(.*\)$/, '')));
  }
  return edges;
}

function capture(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

describe('workcell graph', () => {
  const mermaid = cellMachineMermaid();
  const edges = parseEdges(mermaid);

  it('is a Mermaid stateDiagram-v2 over the 17 PackML state names only', () => {
    expect(mermaid.split('\n')[0]).toBe('stateDiagram-v2');
    const names = new Set([...edges.keys(), ...[...edges.values()].flatMap((t) => [...t.keys()])]);
    names.delete('[*]');
    expect([...names].sort()).toEqual([...STATES].sort());
  });

  it('boots into Stopped, or Aborted with an e-stop active', () => {
    expect([...(edges.get('[*]')?.keys() ?? [])].sort()).toEqual(['Aborted', 'Stopped']);
  });

  it.each(STATES)('edges from %s carry exactly the commands the table accepts there', (state) => {
    const fromState = edges.get(state) ?? new Map<string, string[]>();
    for (const command of COMMANDS) {
      const target = expectedAfter(state, command);
      const drawnTo = [...fromState].filter(([, labels]) => labels.includes(word(command))).map(([t]) => t);
      expect(drawnTo, `${state} + ${command}`).toEqual(target === undefined ? [] : [target]);
    }
  });

  it.each(Object.entries(STATE_COMPLETE))('%s has a state-complete edge to %s', (acting, next) => {
    expect(edges.get(acting as State)?.get(next)).toContain('SC');
  });

  it('runGraph prints the cell machine and returns 0', () => {
    const out = capture();
    expect(runGraph(out.stream, {})).toBe(0);
    expect(out.text()).toBe(mermaid);
    const named = capture();
    expect(runGraph(named.stream, { machine: 'cell' })).toBe(0);
    expect(named.text()).toBe(mermaid);
  });

  it('runGraph names an unknown machine and returns 2', () => {
    const out = capture();
    expect(runGraph(out.stream, { machine: 'conveyor' })).toBe(2);
    expect(out.text()).toBe("workcell graph: unknown machine 'conveyor'; known machines: cell\n");
    expect(runGraph(capture().stream, { machine: 'toString' })).toBe(2);
  });
});
