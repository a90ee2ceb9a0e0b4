/**
 * launch/gazebo.launch.py, read with Python's own parser (there is no ROS 2 here to run it): it
 * compiles, every launch argument is declared with a description, documented at the top of the
 * file and used, the files it points to by default exist, and every node follows /clock.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe as group, expect, it } from 'vitest';
import { LAUNCH_FILE, ROOT, URDF_FILE, run } from './gazebo.js';

interface LaunchFacts {
  docstring: string;
  declared: { name: string; description: string | null; default: string | null }[];
  used: string[];
  nodes: { package: string; executable: string; useSimTime: boolean }[];
}

/** Python that walks the launch file's syntax tree and prints what the tests need, as JSON. */
const ANALYSE = String.raw`
import ast, json, sys
tree = ast.parse(open(sys.argv[1]).read(), sys.argv[1])
def const(node):
    return node.value if isinstance(node, ast.Constant) else None
def kw(call, name):
    return next((k.value for k in call.keywords if k.arg == name), None)
def name_of(call):
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
declared, used, nodes = [], [], []
assigned = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
def strings(node):
    """String constants of an expression in reading order; module-level names are followed."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.Name):
        return strings(assigned[node.id]) if node.id in assigned else []
    if isinstance(node, ast.BinOp):
        return strings(node.left) + strings(node.right)
    if isinstance(node, ast.Call):
        return strings(node.func) + [s for a in node.args for s in strings(a)]
    if isinstance(node, ast.Attribute):
        return strings(node.value)
    return []
for call in [n for n in ast.walk(tree) if isinstance(n, ast.Call)]:
    fn = name_of(call)
    if fn == 'DeclareLaunchArgument':
        default = kw(call, 'default_value')
        text = '/'.join(strings(default)) if default is not None else None
        declared.append({'name': const(call.args[0]), 'description': const(kw(call, 'description')) if kw(call, 'description') is not None else None, 'default': text})
    elif fn == 'LaunchConfiguration':
        used.append(const(call.args[0]))
    elif fn == 'Node':
        params = kw(call, 'parameters')
        sim = False
        if params is not None:
            for d in [n for n in ast.walk(params) if isinstance(n, ast.Dict)]:
                for k, v in zip(d.keys, d.values):
                    if const(k) == 'use_sim_time' and const(v) is True:
                        sim = True
        nodes.append({'package': const(kw(call, 'package')), 'executable': const(kw(call, 'executable')), 'useSimTime': sim})
print(json.dumps({'docstring': ast.get_docstring(tree) or '', 'declared': declared, 'used': used, 'nodes': nodes}))
`;

let facts: LaunchFacts;
let source: string;

beforeAll(() => {
  const r = run('python3', ['-c', ANALYSE, LAUNCH_FILE]);
  if (r.status !== 0) throw new Error(`cannot analyse ${LAUNCH_FILE}: ${r.stderr}`);
  facts = JSON.parse(r.stdout) as LaunchFacts;
  source = readFileSync(LAUNCH_FILE, 'utf8');
});

group('launch/gazebo.launch.py', () => {
  it('compiles', () => {
    const r = run('python3', ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', LAUNCH_FILE]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('declares every argument with a description, documents it at the top, and uses it', () => {
    const names = facts.declared.map((d) => d.name);
    expect(names.sort()).toEqual(['bridge_config', 'bridge_qos', 'controllers', 'gui', 'robot_description', 'world']);
    for (const d of facts.declared) {
      expect(d.description, d.name).toBeTruthy();
      expect(facts.docstring, `the docstring documents ${d.name}`).toMatch(new RegExp(`^\\s+${d.name}\\s`, 'm'));
      expect(facts.used, `${d.name} is used`).toContain(d.name);
    }
    for (const u of facts.used) expect(names, `${u} is declared`).toContain(u);
  });

  it('points by default at files that exist', () => {
    for (const d of facts.declared.filter((x) => x.name !== 'gui')) {
      const relative = d.default!.split('/').filter((p) => p.length > 0).join('/');
      expect(existsSync(path.join(ROOT, relative)), `${d.name} default ${relative}`).toBe(true);
    }
  });

  it("fills in the URDF's controller-configuration placeholder", () => {
    const placeholder = /^CONTROLLERS_PLACEHOLDER = "([^"]+)"$/m.exec(source)?.[1];
    expect(placeholder).toBeDefined();
    expect(readFileSync(URDF_FILE, 'utf8')).toContain(`<parameters>${placeholder}</parameters>`);
  });

  it('starts the bridge, the arm, the controllers and Gazebo, never workcell, and every long-running node follows /clock', () => {
    const executables = facts.nodes.map((n) => `${n.package}/${n.executable}`);
    expect(executables).toEqual(expect.arrayContaining(['ros_gz_bridge/parameter_bridge', 'ros_gz_sim/create', 'robot_state_publisher/robot_state_publisher', 'controller_manager/spawner']));
    expect(source).toContain('gz_sim.launch.py');
    expect(source).not.toContain('--autostart');
    expect(executables.some((e) => e.startsWith('workcell/'))).toBe(false);
    for (const n of facts.nodes.filter((x) => x.executable !== 'create')) expect(n.useSimTime, `${n.package}/${n.executable}`).toBe(true);
  });
});
