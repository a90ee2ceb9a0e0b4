import { describe, expect, it } from 'vitest';
import { workcell } from './cli.js';

describe('the workcell command', () => {
  it('has --help on every subcommand', () => {
    const top = workcell(['--help']);
    expect(top.status).toBe(0);
    for (const sub of ['check', 'schema', 'graph', 'run']) {
      expect(top.stdout).toContain(sub);
      const help = workcell([sub, '--help']);
      expect(help.status, sub).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`Usage: workcell ${sub}`));
    }
    expect(workcell(['run', '--help']).stdout).toMatch(/--virtual-time[\s\S]*--seed[\s\S]*--scenario[\s\S]*--journal[\s\S]*--device-log[\s\S]*--json[\s\S]*--autostart/);
  });

  it('exits 2 on an unknown subcommand or option', () => {
    expect(workcell(['frobnicate']).status).toBe(2);
    expect(workcell(['run', '--no-such-option']).status).toBe(2);
  });

  it('check: 0 and a one-line summary for the demo cell, 2 and located problems for a broken one', () => {
    const ok = workcell(['check', 'hardware/cells/demo.yaml']);
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim().split('\n')).toHaveLength(1);
    expect(ok.stdout).toMatch(/demo_pick_and_place: 4 devices .* hash [0-9a-f]{12}/);
    const bad = workcell(['check', 'test/fixtures/cells/broken/three-problems.yaml']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/three-problems\.yaml:\d+:\d+: /);
  });

  it('schema prints a JSON Schema; graph prints Mermaid', () => {
    const schema = workcell(['schema']);
    expect(schema.status).toBe(0);
    expect(JSON.parse(schema.stdout)).toHaveProperty('$schema');
    const graph = workcell(['graph']);
    expect(graph.status).toBe(0);
    expect(graph.stdout).toMatch(/^stateDiagram-v2/);
    expect(workcell(['graph', '--machine', 'nope']).status).toBe(2);
  });
});
