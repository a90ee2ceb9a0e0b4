/**
 * Killing the controller process stops the axis: the board's host-loss watchdog, in firmware,
 * with nothing on the controller's side left to help.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import type { RigBoard } from '../../src/rig/rigBoard.js';
import { buildFirmware, demoSerial, provision, ROOT, startDemoBoard, waitFor } from './helpers.js';

let board: RigBoard | undefined;
afterAll(async () => board?.close());

it('stops the axis within the watchdog timeout (plus its category 1 ramp) after the controller process is killed', async () => {
  buildFirmware();
  const { map, conveyor } = demoSerial();
  board = await startDemoBoard(map);
  await provision(board, map.provision);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test', 'rig', 'fixtures', 'controllerProcess.ts'), board.linkPath], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  try {
    await waitFor('the controller to start the long index', () => lines.includes('moving') || lines.find((l) => l.startsWith('refused')), 20_000);
    expect(lines).toContain('moving');
    const running = await waitFor('steps at full speed', async () => {
      const s = await board!.state();
      return s.stepPulses > 400 ? s : undefined;
    });
    expect(running.driveEnabled).toBe(true);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    const stopped = await waitFor('the drive to be disabled', async () => {
      const s = await board!.state();
      return !s.driveEnabled ? s : undefined;
    });
    const speed = conveyor.axis.maxSpeedMmS * conveyor.axis.stepsPerMm;
    const decel = conveyor.axis.accelMmS2 * conveyor.axis.stepsPerMm;
    const rampMs = (speed / decel) * 1000;
    const slackMs = 250; // pty, scheduling and the rig's pace on a loaded machine
    expect(stopped.lastStepAt - killedAt).toBeLessThanOrEqual(map.watchdogMs + rampMs + slackMs);
    // Far short of the 40 000 steps it was sent, and no more steps afterwards.
    expect(stopped.beltSteps).toBeLessThan(40_000);
    await new Promise((r) => setTimeout(r, 200));
    expect((await board.state()).stepPulses).toBe(stopped.stepPulses);
  } finally {
    child.kill('SIGKILL');
  }
});
