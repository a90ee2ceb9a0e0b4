/**
 * Launch and deployment files, checked where ROS 2 and a booted systemd are absent: the launch
 * files parsed (every argument described and used; never --autostart), package.xml and the
 * parameters file, the systemd unit through `systemd-analyze verify`, and the unit's start script
 * run for real, talking sd_notify to a real unix datagram socket.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO } from './helpers.js';

const LAUNCH_PY = path.join(REPO, 'launch', 'workcell.launch.py');
const LAUNCH_XML = path.join(REPO, 'launch', 'workcell.launch.xml');

interface Declared {
  name: string;
  default: string | null;
  description: string | null;
  choices?: string[] | null;
}
interface Inspection {
  py: { declared: Declared[]; used: string[]; strings: string[]; nodes: Array<Record<string, unknown>>; generate: boolean };
  xml: { root: string; declared: Declared[]; used: string[]; includes: Array<{ file: string; args: Record<string, string> }>; text: string };
}

function inspectLaunch(): Inspection {
  const r = spawnSync('python3', [path.join(REPO, 'test', 'ros', 'launch_inspect.py'), LAUNCH_PY, LAUNCH_XML], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`launch_inspect.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Inspection;
}

const ARGUMENTS = ['cell', 'namespace', 'use_sim_time', 'sim', 'params_file', 'gui'];

describe('launch files', () => {
  const launch = inspectLaunch();

  it('workcell.launch.py declares every argument with a description, and uses each one', () => {
    expect(launch.py.generate).toBe(true);
    expect(launch.py.declared.map((a) => a.name)).toEqual(ARGUMENTS);
    for (const a of launch.py.declared) expect(a.description?.length ?? 0, a.name).toBeGreaterThan(20);
    expect(launch.py.used).toEqual([...ARGUMENTS].sort());
    expect(launch.py.declared.find((a) => a.name === 'sim')).toMatchObject({ default: 'none', choices: ['none', 'embedded', 'gazebo'] });
  });

  it('starts the workcell node, never with --autostart, and lists its arguments in its docstring', () => {
    expect(launch.py.nodes).toHaveLength(1);
    expect(launch.py.nodes[0]).toMatchObject({ package: 'workcell', executable: 'workcell', name: 'NODE_NAME' });
    expect(launch.py.strings).toContain('--ros');
    expect(launch.py.strings.some((s) => s.includes('--autostart') && !s.includes('never passes --autostart'))).toBe(false);
    expect(launch.xml.text).not.toMatch(/--autostart"|autostart:=|'--autostart'/);
    const doc = launch.py.strings[0]!;
    for (const name of ARGUMENTS) expect(doc).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
  });

  it('includes launch/gazebo.launch.py for sim:=gazebo only if it is there', () => {
    const source = readFileSync(LAUNCH_PY, 'utf8');
    expect(source).toContain('"gazebo.launch.py"');
    expect(source).toMatch(/if gazebo\.exists\(\):/);
  });

  it('workcell.launch.xml declares the same arguments, described, with the same defaults, and passes each on', () => {
    expect(launch.xml.root).toBe('launch');
    expect(launch.xml.declared.map((a) => a.name)).toEqual(ARGUMENTS);
    for (const a of launch.xml.declared) {
      const py = launch.py.declared.find((p) => p.name === a.name)!;
      expect({ name: a.name, default: a.default, description: a.description }).toEqual({ name: py.name, default: py.default, description: py.description });
    }
    expect(launch.xml.used).toEqual([...ARGUMENTS].sort());
    expect(launch.xml.includes).toEqual([{ file: '$(dirname)/workcell.launch.py', args: Object.fromEntries(ARGUMENTS.map((n) => [n, `$(var ${n})`])) }]);
  });

  it('the parameters file is keyed by the node name and sets only what the node reads', () => {
    const params = parseYaml(readFileSync(path.join(REPO, 'launch', 'params', 'workcell.yaml'), 'utf8')) as Record<string, { ros__parameters: Record<string, unknown> }>;
    expect(Object.keys(params)).toEqual(['/**/workcell']);
    expect(params['/**/workcell']!.ros__parameters).toEqual({ use_sim_time: false });
  });
});

describe('ROS package', () => {
  it('package.xml names the package, its version, its build type and the interfaces it uses', () => {
    const xml = readFileSync(path.join(REPO, 'package.xml'), 'utf8');
    const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    expect(xml).toContain('<name>workcell</name>');
    expect(xml).toContain(`<version>${version}</version>`);
    expect(xml).toContain('<build_type>ament_cmake</build_type>');
    for (const dep of ['std_msgs', 'std_srvs', 'diagnostic_msgs', 'sensor_msgs', 'trajectory_msgs', 'control_msgs', 'rosgraph_msgs', 'launch_ros', 'launch_xml']) {
      expect(xml).toContain(`<exec_depend>${dep}</exec_depend>`);
    }
    const check = spawnSync('python3', ['-c', 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(r.tag, r.get("format"))', path.join(REPO, 'package.xml')], { encoding: 'utf8' });
    expect(check.stdout.trim()).toBe('package 3');
  });

  it('CMakeLists.txt installs the launch files, the program and the ros2 run entry point', () => {
    const cmake = readFileSync(path.join(REPO, 'CMakeLists.txt'), 'utf8');
    expect(cmake).toMatch(/project\(workcell NONE\)/);
    expect(cmake).toMatch(/install\(DIRECTORY dist hardware launch docs\s+DESTINATION share\/\$\{PROJECT_NAME\}/);
    expect(cmake).toMatch(/install\(DIRECTORY node_modules\s+DESTINATION share\/\$\{PROJECT_NAME\}/);
    expect(cmake).toMatch(/install\(PROGRAMS src\/ros\/colcon\/workcell DESTINATION lib\/\$\{PROJECT_NAME\} COMPONENT workcell\)/);
    expect(existsSync(path.join(REPO, 'src', 'ros', 'colcon', 'workcell'))).toBe(true);
  });
});

describe('colcon install layout', () => {
  it('CMake installs a tree from which `ros2 run workcell workcell` runs the CLI and the launch files are found', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workcell-colcon-'));
    // ament_cmake is not installed here: a stand-in that only provides ament_package(), so the
    // install rules and the entry point themselves are what is exercised.
    const stub = path.join(dir, 'stub');
    mkdirSync(stub);
    writeFileSync(path.join(stub, 'ament_cmakeConfig.cmake'), 'macro(ament_package)\nendmacro()\n');
    const install = path.join(dir, 'install');
    const cmake = (args: string[]) => {
      const r = spawnSync('cmake', args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`cmake ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    };
    cmake(['-S', REPO, '-B', path.join(dir, 'build'), `-DCMAKE_PREFIX_PATH=${stub}`, `-DCMAKE_INSTALL_PREFIX=${install}`]);
    // The program's component; the npm dependencies (a plain copy of node_modules) are linked instead.
    cmake(['--install', path.join(dir, 'build'), '--component', 'workcell']);
    symlinkSync(path.join(REPO, 'node_modules'), path.join(install, 'share', 'workcell', 'node_modules'));
    for (const f of ['share/workcell/launch/workcell.launch.py', 'share/workcell/launch/workcell.launch.xml', 'share/workcell/launch/params/workcell.yaml', 'share/workcell/hardware/cells/demo.yaml', 'share/workcell/package.json']) {
      expect(existsSync(path.join(install, f)), f).toBe(true);
    }
    const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    const r = spawnSync(path.join(install, 'lib', 'workcell', 'workcell'), ['--version'], { encoding: 'utf8', env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` } });
    expect(r.stdout.trim()).toBe(version);
    const check = spawnSync(path.join(install, 'lib', 'workcell', 'workcell'), ['check', path.join(install, 'share', 'workcell', 'hardware', 'cells', 'demo.yaml')], { encoding: 'utf8', env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` } });
    expect(check.status).toBe(0);
  }, 120_000);
});

describe('systemd', () => {
  const UNIT = path.join(REPO, 'hardware', 'systemd', 'workcell.service');
  const START = path.join(REPO, 'hardware', 'systemd', 'workcell-start');

  function verify(unitText: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'workcell-unit-'));
    const file = path.join(dir, 'workcell.service');
    // verify checks that ExecStart exists: point it at this checkout's start script.
    writeFileSync(file, unitText.replace('/opt/workcell/hardware/systemd/workcell-start', START));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    return `${r.stdout}${r.stderr}`.trim();
  }

  it('the unit passes systemd-analyze verify without a warning (and a broken one does not)', () => {
    const unit = readFileSync(UNIT, 'utf8');
    expect(verify(unit)).toBe('');
    expect(verify(unit.replace('DevicePolicy=closed', 'DevicePolicy=shut'))).toMatch(/device policy/i);
  });

  it('runs as a dedicated user in dialout, with the watchdog, a restart policy and hardening', () => {
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of [
      'Type=notify',
      'NotifyAccess=all',
      'WatchdogSec=10',
      'Restart=on-failure',
      'User=workcell',
      'SupplementaryGroups=dialout',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'DevicePolicy=closed',
      'DeviceAllow=char-ttyACM rw',
      'DeviceAllow=char-ttyUSB rw',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
    expect(unit).not.toContain('--autostart');
    expect(readFileSync(START, 'utf8')).not.toMatch(/^[^#]*--autostart/m);
  });

  it('the start script brings the controller up in Stopped, tells systemd it is ready, pings the watchdog, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workcell-notify-'));
    const socketPath = path.join(dir, 'notify.sock');
    const receiver = spawn('python3', [
      '-c',
      `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
s.settimeout(20)
while True:
    data = s.recv(4096).decode()
    print(data, flush=True)
    if data == "STOPPING=1":
        break`,
      socketPath,
    ]);
    const received: string[] = [];
    let buffer = '';
    receiver.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      received.push(...lines);
    });
    await new Promise<void>((resolve) => {
      const wait = () => (received.includes('listening') ? resolve() : setTimeout(wait, 20));
      wait();
    });
    const controller = spawn(START, [], {
      env: {
        PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
        WORKCELL_HOME: REPO,
        WORKCELL_CELL: path.join(REPO, 'hardware', 'cells', 'demo.yaml'),
        WORKCELL_JOURNAL: path.join(dir, 'journal.jsonl'),
        WORKCELL_RUN_ARGS: '--sim --json',
        NOTIFY_SOCKET: socketPath,
        WATCHDOG_USEC: '200000',
      },
    });
    let out = '';
    controller.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const wait = () => {
        if (received.filter((l) => l === 'WATCHDOG=1').length >= 3) resolve();
        else if (Date.now() - started > 30_000) reject(new Error(`no watchdog pings; received ${JSON.stringify(received)}`));
        else setTimeout(wait, 50);
      };
      wait();
    });
    controller.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => controller.on('exit', resolve));
    await new Promise<void>((resolve) => (receiver.exitCode !== null ? resolve() : receiver.on('exit', () => resolve())));
    expect(code).toBe(0);
    expect(received).toContain('READY=1');
    expect(received).toContain('STATUS=demo_pick_and_place: Stopped');
    expect(received.at(-1)).toBe('STOPPING=1');
    // It never started itself: the run ended where it began.
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toMatchObject({ finalState: 'Stopped', parts: { released: 0 } });
  });
});
