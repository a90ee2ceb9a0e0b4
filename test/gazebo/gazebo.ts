/**
 * Helpers for the Gazebo checks: the SDFormat checker (tools/sdfcheck, built here against Debian's
 * libsdformat12 on first use and cached by its source hash), the description it prints, and a
 * little rigid-body geometry for forward kinematics.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
export const GAZEBO = path.join(ROOT, 'hardware', 'gazebo');
export const WORLD_FILE = path.join(GAZEBO, 'worlds', 'demo_cell.sdf');
export const URDF_FILE = path.join(GAZEBO, 'urdf', 'workcell_arm.urdf');
export const BRIDGE_FILE = path.join(GAZEBO, 'config', 'bridge.yaml');
export const BRIDGE_QOS_FILE = path.join(GAZEBO, 'config', 'bridge_qos.yaml');
export const CONTROLLERS_FILE = path.join(GAZEBO, 'config', 'arm_controllers.yaml');
export const DEMO_CELL = path.join(ROOT, 'hardware', 'cells', 'demo.yaml');
export const GAZEBO_CELL = path.join(ROOT, 'hardware', 'cells', 'demo-gazebo.yaml');
export const LAUNCH_FILE = path.join(ROOT, 'launch', 'gazebo.launch.py');
const SDFCHECK_SOURCE = path.join(ROOT, 'tools', 'sdfcheck', 'sdfcheck.cc');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { cwd?: string } = {}): RunResult {
  const r = spawnSync(command, args, { cwd: options.cwd ?? ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${command} is not installed (see .ci/setup.d/40-gazebo-checks.sh)`);
    throw r.error;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The sdfcheck binary, compiled once per source version. Parallel test files may race to build
 * it: each compiles to its own file and renames it into place, so no one runs a half-written one.
 */
export function sdfcheckBinary(): string {
  const source = readFileSync(SDFCHECK_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = path.join(tmpdir(), 'workcell-sdfcheck');
  const binary = path.join(dir, `sdfcheck-${hash}`);
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const flags = run('pkg-config', ['--cflags', '--libs', 'sdformat12']);
  if (flags.status !== 0) throw new Error(`pkg-config cannot find sdformat12 (install libsdformat-dev): ${flags.stderr}`);
  const partial = `${binary}.${process.pid}.tmp`;
  const build = run('g++', ['-std=c++17', '-O1', '-o', partial, SDFCHECK_SOURCE, ...flags.stdout.trim().split(/\s+/)]);
  if (build.status !== 0) throw new Error(`building tools/sdfcheck failed:\n${build.stderr}`);
  renameSync(partial, binary);
  return binary;
}

export function sdfcheck(args: string[]): RunResult {
  return run(sdfcheckBinary(), args);
}

// ---------------------------------------------------------------------------------------------
// What `sdfcheck --json` prints (poses are [x, y, z, qw, qx, qy, qz])

export type Pose = [number, number, number, number, number, number, number];
export interface SdfElement {
  tag: string;
  attributes: Record<string, string>;
  value: string;
  children: SdfElement[];
}
export interface SdfGeometry {
  type: string;
  size?: [number, number, number];
  radius?: number;
  length?: number;
}
export interface SdfLink {
  name: string;
  pose: Pose;
  mass: number;
  collisions: { name: string; pose: Pose; geometry: SdfGeometry | null }[];
  sensors: { name: string; type: string; topic: string; pose: Pose; element: SdfElement }[];
}
export interface SdfJoint {
  name: string;
  type: string;
  parent: string;
  child: string;
  pose: Pose;
  axis: { xyz: [number, number, number]; lower: number | null; upper: number | null; velocity: number | null; effort: number | null } | null;
}
export interface SdfModel {
  name: string;
  static: boolean;
  pose: Pose;
  links: SdfLink[];
  joints: SdfJoint[];
  frames: { name: string; attachedTo: string; pose: Pose }[];
  plugins: SdfElement[];
  models: SdfModel[];
}
export interface SdfDescription {
  file: string;
  sdfVersion: string;
  worlds: { name: string; gravity: [number, number, number]; plugins: SdfElement[]; models: SdfModel[] }[];
  models: SdfModel[];
}

export function describe(file: string): SdfDescription {
  const r = sdfcheck(['--json', file]);
  if (r.status !== 0) throw new Error(`sdfcheck --json ${file} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout) as SdfDescription;
}

export function child(element: SdfElement, tag: string): SdfElement | undefined {
  return element.children.find((c) => c.tag === tag);
}

export function childValue(element: SdfElement, tag: string): string | undefined {
  return child(element, tag)?.value;
}

/** Plugins whose name (the system's class) ends with `system`, e.g. `TriggeredPublisher`. */
export function pluginsNamed(plugins: SdfElement[], system: string): SdfElement[] {
  return plugins.filter((p) => (p.attributes.name ?? '').endsWith(`::${system}`));
}

export function named<T extends { name: string }>(items: T[], name: string, what: string): T {
  const item = items.find((i) => i.name === name);
  if (!item) throw new Error(`no ${what} named ${name} (have: ${items.map((i) => i.name).join(', ')})`);
  return item;
}

// ---------------------------------------------------------------------------------------------
// Geometry

export type Vec3 = [number, number, number];

export function add(a: Vec3, b: Vec3): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}
export function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}
export function scale(a: Vec3, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}
export function norm(a: Vec3): number {
  return Math.hypot(a[0], a[1], a[2]);
}

/** Rotates v by the unit quaternion (w, x, y, z). */
export function rotate(q: readonly [number, number, number, number], v: Vec3): Vec3 {
  const [w, x, y, z] = q;
  // v' = v + 2w (u x v) + 2 u x (u x v), u = (x, y, z)
  const u: Vec3 = [x, y, z];
  const uv = cross(u, v);
  const uuv = cross(u, uv);
  return add(v, add(scale(uv, 2 * w), scale(uuv, 2)));
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** Rodrigues: rotates v by angle about the unit axis. */
export function rotateAbout(axis: Vec3, angle: number, v: Vec3): Vec3 {
  const k = scale(axis, 1 / norm(axis));
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const kv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
  return add(add(scale(v, c), scale(cross(k, v), s)), scale(k, kv * (1 - c)));
}

/** Transforms a point given in a frame with this pose into the pose's parent frame. */
export function transformPoint(pose: Pose, p: Vec3): Vec3 {
  return add([pose[0], pose[1], pose[2]], rotate([pose[3], pose[4], pose[5], pose[6]], p));
}

export function position(pose: Pose): Vec3 {
  return [pose[0], pose[1], pose[2]];
}

/** Yaw of a pose whose rotation is about z only. */
export function yaw(pose: Pose): number {
  return 2 * Math.atan2(pose[6], pose[3]);
}

/**
 * Forward kinematics as a product of exponentials: every revolute joint's axis and origin are
 * taken at zero joint angles (as SDFormat resolves them), and a point and a direction fixed to
 * the last link are carried through the joints from the tool end to the base.
 */
export function forwardKinematics(joints: SdfJoint[], q: readonly number[], point: Vec3, direction: Vec3): { point: Vec3; direction: Vec3 } {
  if (joints.length !== q.length) throw new Error(`${joints.length} joints but ${q.length} joint values`);
  let p = point;
  let d = direction;
  for (let j = joints.length - 1; j >= 0; j--) {
    const joint = joints[j]!;
    if (!joint.axis) throw new Error(`joint ${joint.name} has no axis`);
    const origin = position(joint.pose);
    p = add(rotateAbout(joint.axis.xyz, q[j]!, sub(p, origin)), origin);
    d = rotateAbout(joint.axis.xyz, q[j]!, d);
  }
  return { point: p, direction: d };
}
