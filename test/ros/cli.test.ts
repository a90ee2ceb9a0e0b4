/**
 * `workcell run --ros` where ROS 2 is absent (these machines): a clear message saying what to do,
 * exit 2, never a stack trace, and rclnodejs is never imported before the environment is checked.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadRclnodejs, rosEnvironmentProblem, RosUnavailableError } from '../../src/ros/rclnodejs.js';
import { takeRosArgs } from '../../src/ros/cli.js';
import { CLI, ROOT } from '../e2e/cli.js';

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const base = { ...process.env };
  delete base.AMENT_PREFIX_PATH;
  delete base.ROS_DISTRO;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...base, ...env } });
  if (r.error) throw r.error;
  return r;
}

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('workcell run --ros without ROS 2', () => {
  it('says ROS 2 is not sourced and what to do, and exits 2', () => {
    const r = run(['run', '--sim', '--ros']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^workcell run: ROS 2 is not available: no ROS 2 environment is sourced in this shell \(AMENT_PREFIX_PATH and ROS_DISTRO are unset\)/);
    expect(r.stderr).toContain('source /opt/ros/jazzy/setup.bash');
    expect(r.stderr).toContain('npm rebuild rclnodejs');
    noStack(r.stderr);
  });

  it('with a ROS environment but no usable rclnodejs here, says that instead, without importing it', () => {
    const r = run(['run', '--sim', '--ros'], { AMENT_PREFIX_PATH: '/opt/ros/jazzy', ROS_DISTRO: 'jazzy' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^workcell run: ROS 2 is not available: rclnodejs (is not installed|has no native addon for ROS jazzy|has no generated message bindings)/);
    expect(r.stderr).toContain('npm rebuild rclnodejs');
    noStack(r.stderr);
  });

  it('accepts the arguments ros2 launch appends after --ros-args', () => {
    const r = run(['run', '--sim', '--ros', '--ros-args', '-r', '__node:=workcell', '-r', '__ns:=/line_1', '-p', 'use_sim_time:=true', '--params-file', '/tmp/p.yaml']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ROS 2 is not available/);
    expect(r.stderr).not.toMatch(/unknown option|too many arguments/);
  });

  it('refuses --use-sim-time without --ros, and --ros with --virtual-time', () => {
    const a = run(['run', '--sim', '--use-sim-time']);
    expect(a.status).toBe(2);
    expect(a.stderr).toBe('workcell run: --use-sim-time needs --ros (simulated time comes from ROS /clock)\n');
    const b = run(['run', '--sim', '--ros', '--virtual-time', '--cycles', '1']);
    expect(b.status).toBe(2);
    expect(b.stderr).toBe('workcell run: --ros runs on real time, or on /clock with --use-sim-time: drop --virtual-time\n');
  });
});

describe('loading rclnodejs', () => {
  it('checks the environment before importing anything', async () => {
    expect(rosEnvironmentProblem({})).toBe('no ROS 2 environment is sourced in this shell (AMENT_PREFIX_PATH and ROS_DISTRO are unset)');
    expect(rosEnvironmentProblem({ AMENT_PREFIX_PATH: '/opt/ros/humble' })).toBe('no ROS 2 environment is sourced in this shell (ROS_DISTRO is unset)');
    expect(rosEnvironmentProblem({ AMENT_PREFIX_PATH: '/opt/ros/humble', ROS_DISTRO: 'humble' })).toBeUndefined();
    await expect(loadRclnodejs({})).rejects.toBeInstanceOf(RosUnavailableError);
  });

  it('takes ROS arguments off the command line', () => {
    const argv = ['node', 'main.js', 'run', '--ros', '--ros-args', '-p', 'use_sim_time:=true'];
    expect(takeRosArgs(argv)).toEqual(['--ros-args', '-p', 'use_sim_time:=true']);
    expect(argv).toEqual(['node', 'main.js', 'run', '--ros']);
    expect(takeRosArgs(['node', 'main.js', 'run'])).toEqual([]);
  });
});
