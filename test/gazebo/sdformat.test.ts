/**
 * The world and the arm, checked by Debian's SDFormat 12 parser (tools/sdfcheck runs the checks
 * of SDFormat 12's `ign sdf -k`) and the URDF by urdfdom's check_urdf, as Gazebo and ROS will
 * read them. The generated files must also be exactly what hardware/gazebo/generate.py writes.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe as group, expect, it } from 'vitest';
import { GAZEBO, URDF_FILE, WORLD_FILE, describe, run, sdfcheck, sdfcheckBinary } from './gazebo.js';

function scratch(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'workcell-gazebo-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  sdfcheckBinary();
}, 120_000);

group('SDFormat', () => {
  it('accepts the world and the arm (URDF through its URDF parser)', () => {
    const r = sdfcheck([WORLD_FILE, URDF_FILE]);
    expect(r.stderr).toContain('demo_cell.sdf: valid SDFormat 1.9');
    expect(r.stderr).toContain('workcell_arm.urdf: valid SDFormat 1.9');
    expect(r.status).toBe(0);
  });

  it('the world is written in SDFormat 1.9 or lower, so SDFormat 12 reads it without conversion', () => {
    const declared = /<sdf version="(\d+)\.(\d+)"/.exec(readFileSync(WORLD_FILE, 'utf8'));
    expect(declared).not.toBeNull();
    const [major, minor] = [Number(declared![1]), Number(declared![2])];
    expect(major === 1 && minor <= 9).toBe(true);
    expect(describe(WORLD_FILE).sdfVersion).toBe('1.9');
  });

  it('reports a joint whose child link does not exist, naming the file', () => {
    const broken = scratch('broken.sdf', readFileSync(WORLD_FILE, 'utf8').replace('<child>pusher</child>', '<child>no_such_link</child>'));
    const r = sdfcheck([broken]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${broken}: `);
    expect(r.stderr).toMatch(/no_such_link/);
  });

  it('reports two sibling models with the same name', () => {
    const text = readFileSync(WORLD_FILE, 'utf8').replace('<model name="bin">', '<model name="pedestal">');
    const r = sdfcheck([scratch('duplicate.sdf', text)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/pedestal/);
  });

  it('reports a pose relative to a frame that does not exist', () => {
    const text = readFileSync(WORLD_FILE, 'utf8').replace('<pose relative_to="feeder">', '<pose relative_to="feedr">');
    const r = sdfcheck([scratch('relative.sdf', text)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/feedr/);
  });

  it('refuses a missing file and bad usage', () => {
    expect(sdfcheck([path.join(GAZEBO, 'no-such.sdf')]).status).toBe(1);
    expect(sdfcheck(['--json']).status).toBe(2);
    expect(sdfcheck(['--frobnicate', WORLD_FILE]).status).toBe(2);
  });
});

group('check_urdf (urdfdom)', () => {
  it('parses the arm: one tree from world to the tool tip', () => {
    const r = run('check_urdf', [URDF_FILE]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('robot name is: workcell_arm');
    expect(r.stdout).toContain('root Link: world');
    for (const link of ['base_link', 'link_1', 'link_2', 'link_3', 'link_4', 'link_5', 'link_6', 'vacuum_cup', 'tool_tip']) {
      expect(r.stdout).toContain(`child(1):  ${link}`);
    }
  });

  it('rejects a URDF whose joint names a missing link', () => {
    const text = readFileSync(URDF_FILE, 'utf8').replace('<child link="tool_tip"/>', '<child link="tool_tp"/>');
    const r = run('check_urdf', [scratch('broken.urdf', text)]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/tool_tp/);
  });
});

group('generated files', () => {
  it('the committed URDF and world are what generate.py writes', () => {
    const r = run('python3', [path.join(GAZEBO, 'generate.py'), '--check']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('generate.py --check notices a hand edit', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workcell-gazebo-gen-'));
    for (const sub of ['urdf', 'worlds']) run('mkdir', ['-p', path.join(dir, sub)]);
    copyFileSync(path.join(GAZEBO, 'generate.py'), path.join(dir, 'generate.py'));
    copyFileSync(URDF_FILE, path.join(dir, 'urdf', 'workcell_arm.urdf'));
    writeFileSync(path.join(dir, 'worlds', 'demo_cell.sdf'), readFileSync(WORLD_FILE, 'utf8').replace('<max_step_size>0.001', '<max_step_size>0.002'));
    const r = run('python3', [path.join(dir, 'generate.py'), '--check']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('demo_cell.sdf is not what generate.py writes');
  });
});
