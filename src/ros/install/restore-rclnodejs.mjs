#!/usr/bin/env node
/**
 * postinstall: keep rclnodejs's package files where ROS 2 is absent.
 *
 * rclnodejs (an optional dependency) builds its native addon and generates its message bindings
 * at install time against a sourced ROS 2. Without ROS its install script fails, and npm then
 * drops the optional dependency without failing the install. But src/ros/rclnodejs.ts is
 * type-checked against rclnodejs's own type definitions (the build runs tsc), so this step puts
 * the package's files back, unbuilt, from npm's cache (`npm pack` of the locked version; no
 * scripts run). At run time the adapter still refuses to load it until ROS 2 is sourced and
 * rclnodejs is reinstalled against it (docs/ros2.md).
 *
 * It never fails the install: if it cannot restore the files, it says so and tsc will name the
 * missing module.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = process.env.INIT_CWD && existsSync(path.join(process.env.INIT_CWD, 'package-lock.json')) ? process.env.INIT_CWD : process.cwd();
const target = path.join(root, 'node_modules', 'rclnodejs');

function main() {
  if (existsSync(path.join(target, 'package.json'))) return;
  const lockPath = path.join(root, 'package-lock.json');
  if (!existsSync(lockPath)) return;
  const locked = JSON.parse(readFileSync(lockPath, 'utf8')).packages?.['node_modules/rclnodejs'];
  if (!locked?.version) return;
  const scratch = mkdtempSync(path.join(tmpdir(), 'rclnodejs-'));
  try {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', `rclnodejs@${locked.version}`, '--pack-destination', scratch, '--json', '--ignore-scripts'], {
        cwd: scratch,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    );
    const tarball = path.join(scratch, packed[0].filename);
    mkdirSync(target, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    writeFileSync(
      path.join(target, '.workcell-unbuilt'),
      'rclnodejs was installed where ROS 2 was not sourced: package files only (types), no native addon, no generated messages.\n' +
        'To use ROS 2: source it, then reinstall (npm_config_yes=true npm ci). See docs/ros2.md.\n',
    );
    console.log(`rclnodejs ${locked.version}: no ROS 2 here, so its files were kept without the native build (enough for type-checking; see docs/ros2.md to run on ROS 2)`);
  } catch (error) {
    console.warn(`rclnodejs could not be restored for type-checking: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
