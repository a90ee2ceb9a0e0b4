/**
 * Start-up and hand-over races between the controller and a station board. A board left alone
 * (after provisioning, after a previous controller, while its cable was out) has its host-loss
 * watchdog latched; the controller must decide its first command on the board's state *now*,
 * never on what it saw before. Each test acts at the exact moment the race opens (on the link's
 * `ready` event, inside the frame that triggers it), so it does not depend on load or timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RigBoard } from '../../src/rig/rigBoard.js';
import { FLAG } from '../../src/serial/protocol.js';
import { boardTimePasses, buildFirmware, demoSerial, openLink, provision, sleep, startDemoBoard, waitFor } from './helpers.js';

const { hash, map } = demoSerial();
let board: RigBoard;
const boards: RigBoard[] = [];
const sessions: Array<ReturnType<typeof openLink>> = [];

beforeAll(async () => {
  buildFirmware();
  board = await startDemoBoard(map);
  boards.push(board);
});
afterAll(async () => {
  for (const s of sessions) await s.link.close();
  for (const b of boards) await b.close();
});

type Session = ReturnType<typeof openLink>;
type Command = Parameters<Session['conveyor']['write']>[0];

/**
 * A link that writes `commandFor(n)` (if any) to the conveyor inside the `ready` event of its
 * n-th connection: before the link has handled any frame after the one that made it ready.
 */
function linkCommandingOnReady(target: RigBoard | string, commandFor: (connection: number) => Command | undefined): Session {
  let readies = 0;
  const session: Session = openLink(map, hash, target, undefined, {
    onEvent: (e) => {
      if (e.type !== 'ready') return;
      const command = commandFor(++readies);
      if (command) session.conveyor.write(command);
    },
  });
  sessions.push(session);
  return session;
}

const outcome = (session: Session, from: number) =>
  waitFor('the motion to end or be refused', () => session.of('conveyor').slice(from).find((f) => f.type === 'motionDone' || f.type === 'refused'), 15_000);

describe('a command sent the moment the link is ready', () => {
  let session: Session;
  let fromSecond = 0;

  it('after provisioning, with the board latched by its watchdog: the latch is released and the home runs', async () => {
    await provision(board, map.provision);
    // Nobody feeds the watchdog now: it trips 250 ms (board time) after the provisioning session closed.
    await boardTimePasses(board, 2 * map.watchdogMs);
    session = linkCommandingOnReady(board, (n) => (n === 1 ? { type: 'home' } : n === 2 ? { type: 'index', steps: 100 } : undefined));
    const first = await outcome(session, 0);
    expect(first).toMatchObject({ type: 'motionDone', command: { type: 'home' } });
    // The link reported ready with the latched board already in view: a reading came first.
    expect(session.of('conveyor').findIndex((f) => f.type === 'reading')).toBeLessThan(session.of('conveyor').indexOf(first));
    await waitFor('homed', () => session.conveyor.read().axis?.homed === true);
  });

  it('after a reconnect: decided on the new connection’s telemetry, not on the last one before the cable was pulled', async () => {
    await board.unplug();
    await waitFor('the link to notice and the board to trip its watchdog', async () => session.events.some((e) => e.type === 'lost') && !(await board.state()).driveEnabled);
    fromSecond = session.of('conveyor').length;
    await board.plug();
    const second = await outcome(session, fromSecond);
    expect(second).toMatchObject({ type: 'motionDone', command: { type: 'index' } });
    expect(session.link.health().connects).toBe(2);
    // The position lost to the watchdog was reported before the index went out (at `ready`).
    const fb = session.of('conveyor').slice(fromSecond);
    expect(fb.findIndex((f) => f.type === 'reset')).toBeGreaterThanOrEqual(0);
    expect(fb.findIndex((f) => f.type === 'reset')).toBeLessThan(fb.indexOf(second));
    const t = await waitFor('the index settled', () => (session.link.lastTelemetry?.axisState === 0 ? session.link.lastTelemetry : undefined));
    expect(t.flags & FLAG.watchdogTripped).toBe(0);
  });

  it('a new controller whose first motion reuses the previous controller’s last sequence number waits for that motion to end', async () => {
    // The previous controller's last motion was the index above; the board still reports it as
    // done under its sequence number, which the next controller's first motion reuses.
    await session.link.close();
    await boardTimePasses(board, 2 * map.watchdogMs);
    // Off the home mark: the new home has to travel until the test puts the mark under the sensor.
    await board.setHomeOverride(false);
    const next = linkCommandingOnReady(board, (n) => (n === 1 ? { type: 'home' } : undefined));
    try {
      const started = await waitFor('the home to start', async () => {
        const s = await board.state();
        return s.driveEnabled && s.stepPulses > 0 ? s : undefined;
      });
      await waitFor('the home to travel on', async () => (await board.state()).stepPulses > started.stepPulses + 100);
      expect(next.of('conveyor').filter((f) => f.type === 'motionDone' || f.type === 'refused')).toEqual([]);
      await board.setHomeOverride(true);
      const done = await outcome(next, 0);
      expect(done).toMatchObject({ type: 'motionDone', command: { type: 'home' } });
      expect(next.conveyor.read().axis?.homed).toBe(true);
    } finally {
      await board.setHomeOverride(null);
      await next.link.close();
    }
  });
});

describe('a board absent when the controller starts', () => {
  it('is reported once, retried with backoff without crashing, and identified and used when it appears', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workcell-late-board-'));
    const linkPath = path.join(dir, 'station');
    try {
      const session = linkCommandingOnReady(linkPath, (n) => (n === 1 ? { type: 'home' } : undefined));
      await sleep(1200); // several retries at 50, 100, 200, 400, 400 ms
      const lost = session.events.filter((e) => e.type === 'lost');
      expect(lost).toHaveLength(1);
      expect(lost[0]!.type === 'lost' && lost[0]!.reason).toBe(
        `station board on ${linkPath} (link "conveyor_board") is not connected: ${linkPath} does not exist; retrying in 50 ms (backoff up to 400 ms)`,
      );
      expect(session.link.health()).toMatchObject({ connects: 0, problem: expect.stringMatching(/does not exist/) });
      expect(session.of('conveyor')).toEqual([]);

      // The board appears (provisioned on the bench for this cell), is identified, and is used.
      const late = await startDemoBoard(map, { linkPath, provision: map.provision });
      boards.push(late);
      const done = await outcome(session, 0);
      expect(done).toMatchObject({ type: 'motionDone', command: { type: 'home' } });
      expect(session.events.find((e) => e.type === 'ready')).toMatchObject({ boot: { stationId: map.stationId, provisioned: true } });
      expect(session.link.health().connects).toBeGreaterThanOrEqual(1);
      await session.link.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is checked when it appears: a board provisioned for another station is refused, naming both ids, and never commanded', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'workcell-late-board-'));
    const linkPath = path.join(dir, 'station');
    try {
      const session = linkCommandingOnReady(linkPath, () => ({ type: 'home' }));
      await waitFor('the absent board reported', () => session.events.some((e) => e.type === 'lost'));
      const wrong = await startDemoBoard(map, { linkPath, provision: { ...map.provision, stationId: 7 } });
      boards.push(wrong);
      const refused = await waitFor('a refusal', () => session.last('conveyor', 'refused'));
      expect(refused.reason).toMatch(/reports station id 7; the cell expects 2/);
      expect(session.link.health()).toMatchObject({ state: 'refused', connects: 0 });
      expect(session.events.some((e) => e.type === 'ready')).toBe(false);
      expect((await wrong.state()).stepPulses).toBe(0);
      await session.link.close();
      await wrong.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a board that restarts under a connected controller', () => {
  it('is checked again from its unsolicited boot frame, its interrupted motion ends, and the lost position is reported', async () => {
    const session = openLink(map, hash, board);
    sessions.push(session);
    try {
      await waitFor('ready', () => session.link.linkState === 'ready');
      session.conveyor.write({ type: 'home' });
      await waitFor('homed', () => session.conveyor.read().axis?.homed === true);
      const from = session.of('conveyor').length;
      session.conveyor.write({ type: 'index', steps: 30_000 });
      await waitFor('belt moving', async () => (await board.state()).stepPulses > 0 && session.conveyor.read().moving);

      await board.powerCycle();
      const reset = await waitFor('reset feedback', () => session.of('conveyor').slice(from).find((f) => f.type === 'reset'));
      expect(reset).toMatchObject({ cause: 'station board rebooted (reset cause: power-on)' });
      expect(session.of('conveyor').slice(from).some((f) => f.type === 'motionDone' && f.command.type === 'index')).toBe(true);
      expect(session.link.health()).toMatchObject({ state: 'ready', boot: { resetCause: 1, solicited: false, stationId: map.stationId } });
      expect((await board.state()).driveEnabled).toBe(false);
      // Nothing restarts by itself; the controller homes again.
      const homeFrom = session.of('conveyor').length;
      session.conveyor.write({ type: 'home' });
      await waitFor('homed again', () => session.of('conveyor').slice(homeFrom).some((f) => f.type === 'motionDone') && session.conveyor.read().axis?.homed === true);
    } finally {
      await session.link.close();
    }
  });
});
