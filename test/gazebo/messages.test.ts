/**
 * Every Gazebo message written as text in the world (TriggeredPublisher matches, outputs and
 * service requests) parses as its message type, checked by protoc against Debian's ignition-msgs
 * definitions. Gazebo Harmonic uses gz-msgs 10 (package gz.msgs), which Debian does not ship; the
 * messages used here (Boolean, Double, Empty, StringMsg, Pose, Odometry, WorldStatistics, Visual)
 * have the same fields in ignition-msgs 8. A mistyped field would otherwise fail only at run time,
 * inside Gazebo, as a log line.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe as group, expect, it } from 'vitest';
import { URDF_FILE, WORLD_FILE, child, describe, pluginsNamed, type SdfElement, type SdfModel } from './gazebo.js';

const MSGS_ROOT = '/usr/include/ignition/msgs8';

interface MessageText {
  where: string;
  type: string;
  text: string;
}

/** `header.data` + `{ key: "state" }` -> `header { data: { key: "state" } }` */
function fieldText(fieldPath: string, value: string): string {
  const parts = fieldPath.split('.');
  let text = `${parts[parts.length - 1]}: ${value}`;
  for (let i = parts.length - 2; i >= 0; i--) text = `${parts[i]} { ${text} }`;
  return text;
}

function triggeredTexts(plugins: SdfElement[], owner: string): MessageText[] {
  const out: MessageText[] = [];
  pluginsNamed(plugins, 'TriggeredPublisher').forEach((p, n) => {
    const where = `${owner} TriggeredPublisher #${n + 1}`;
    const input = child(p, 'input');
    if (input) {
      const type = input.attributes.type ?? '';
      out.push({ where: `${where} input`, type, text: '' });
      for (const match of input.children.filter((c) => c.tag === 'match')) {
        const field = match.attributes.field;
        out.push({ where: `${where} match`, type, text: field ? fieldText(field, match.value) : match.value });
      }
    }
    for (const output of p.children.filter((c) => c.tag === 'output')) {
      out.push({ where: `${where} output ${output.attributes.topic}`, type: output.attributes.type ?? '', text: output.value });
    }
    for (const service of p.children.filter((c) => c.tag === 'service')) {
      out.push({ where: `${where} service ${service.attributes.name} request`, type: service.attributes.reqType ?? '', text: service.attributes.reqMsg ?? '' });
      out.push({ where: `${where} service ${service.attributes.name} reply`, type: service.attributes.repType ?? '', text: '' });
    }
  });
  return out;
}

function allTexts(worldPlugins: SdfElement[], models: SdfModel[]): MessageText[] {
  const texts = triggeredTexts(worldPlugins, 'world');
  const walk = (m: SdfModel) => {
    texts.push(...triggeredTexts(m.plugins, `model ${m.name}`));
    m.models.forEach(walk);
  };
  models.forEach(walk);
  return texts;
}

let protoFiles: string[];

/** Problems protoc finds, one per distinct (type, text). */
function parseProblems(texts: MessageText[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const t of texts) {
    const key = `${t.type}\n${t.text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!t.type.startsWith('gz.msgs.')) {
      problems.push(`${t.where}: ${t.type} is not a gz.msgs type`);
      continue;
    }
    const type = t.type.replace(/^gz\.msgs\./, 'ignition.msgs.');
    const r = spawnSync('protoc', [`-I${MSGS_ROOT}`, `--encode=${type}`, ...protoFiles], { cwd: MSGS_ROOT, input: t.text, encoding: 'utf8' });
    if (r.error) throw new Error(`protoc cannot run (install protobuf-compiler): ${r.error.message}`);
    if (r.status !== 0) problems.push(`${t.where}: ${t.type} "${t.text}": ${r.stderr.trim()}`);
  }
  return problems;
}

let texts: MessageText[];

beforeAll(() => {
  const dir = path.join(MSGS_ROOT, 'ignition', 'msgs');
  try {
    protoFiles = readdirSync(dir).filter((f) => f.endsWith('.proto')).map((f) => `ignition/msgs/${f}`);
  } catch {
    throw new Error(`${dir} is missing: install libignition-msgs-dev (see .ci/setup.d/40-gazebo-checks.sh)`);
  }
  const world = describe(WORLD_FILE).worlds[0]!;
  const arm = describe(URDF_FILE).models[0]!;
  texts = allTexts(world.plugins, [...world.models, arm]);
}, 120_000);

group('Gazebo message texts', () => {
  it('every TriggeredPublisher match, output and service request parses as its message type', () => {
    expect(texts.length).toBeGreaterThan(50);
    expect(parseProblems(texts)).toEqual([]);
  });

  it('a mistyped field, a wrong value and an unknown type are reported', () => {
    const problems = parseProblems([
      { where: 'a', type: 'gz.msgs.Boolean', text: 'dat: true' },
      { where: 'b', type: 'gz.msgs.Pose', text: fieldText('header.data', '{ key: "state" valu: "1" }') },
      { where: 'c', type: 'gz.msgs.Double', text: 'data: "fast"' },
      { where: 'd', type: 'gz.msgs.NoSuchMessage', text: '' },
    ]);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^a: gz.msgs.Boolean "dat: true": .*no field named "dat"/);
    expect(problems[1]).toMatch(/^b: .*valu/);
    expect(problems[2]).toMatch(/^c: /);
    expect(problems[3]).toMatch(/^d: .*NoSuchMessage/);
  });
});
