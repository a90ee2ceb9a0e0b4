/**
 * The link to a station board: identity checked from the boot frame, fencing and the watchdog
 * fed only by valid frames of the current controller, and a pulled cable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RigBoard } from '../../src/rig/rigBoard.js';
import { StationPort } from '../../src/serial/port.js';
import { defaultEpoch } from '../../src/serial/station.js';
import { decodeAck, decodeTelemetry, encodeFrame, FLAG, MSG, type Telemetry } from '../../src/serial/protocol.js';
import { buildFirmware, demoSerial, openLink, pinOf, provision, startDemoBoard, waitFor } from './helpers.js';

const { hash, map } = demoSerial();
let board: RigBoard;

beforeAll(async () => {
  buildFirmware();
  board = await startDemoBoard(map);
});
afterAll(async () => board?.close());

describe('identity', () => {
  it('refuses a board provisioned with another station id, naming both', async () => {
    await provision(board, { ...map.provision, stationId: 3 });
    const session = openLink(map, hash, board);
    try {
      const refused = await waitFor('a refusal', () => session.last('conveyor', 'refused'));
      expect(refused.reason).toMatch(/reports station id 3; the cell expects 2/);
      expect(session.last('safety_io', 'refused')?.reason).toBe(refused.reason);
      expect(session.link.health()).toMatchObject({ state: 'refused', connects: 0 });
      expect(session.of('conveyor').some((f) => f.type === 'reading')).toBe(false);
    } finally {
      await session.link.close();
    }
  });

  it('refuses a board provisioned for another cell description', async () => {
    const otherHash = Uint8Array.from(map.provision.descriptionHash, (b, i) => (i === 0 ? b ^ 0xff : b));
    await provision(board, { ...map.provision, descriptionHash: otherHash });
    const session = openLink(map, hash, board);
    try {
      const refused = await waitFor('a refusal', () => session.last('conveyor', 'refused'));
      expect(refused.reason).toMatch(new RegExp(`provisioned for cell description ${Buffer.from(otherHash).toString('hex').slice(0, 12)}, this cell is ${hash.slice(0, 12)}`));
      expect(session.link.linkState).toBe('refused');
    } finally {
      await session.link.close();
    }
  });

  it('accepts the board once it is provisioned for this cell', async () => {
    await provision(board, map.provision);
    const session = openLink(map, hash, board);
    try {
      await waitFor('ready', () => session.link.linkState === 'ready');
      expect(session.of('conveyor').some((f) => f.type === 'refused')).toBe(false);
    } finally {
      await session.link.close();
    }
  });
});

describe('fencing and the watchdog', () => {
  it('garbage, bad-CRC and stale-epoch frames are rejected, counted, and do not feed the watchdog', async () => {
    // Newer than every controller before it (epochs are wall-clock seconds by default).
    const epoch = defaultEpoch() + 1000;
    const port = new StationPort({ path: board.linkPath, baud: 115200, epoch });
    let telemetry: Telemetry | undefined;
    const acks: Array<{ ackSeq: number; status: number }> = [];
    port.onFrame = (frame) => {
      if (frame.type === MSG.telemetry) {
        const t = decodeTelemetry(frame.body);
        if (t.ok) telemetry = t.value;
      }
      if (frame.type === MSG.ack) {
        const a = decodeAck(frame.body);
        if (a.ok) acks.push(a.value);
      }
    };
    await port.open();
    try {
      port.send(MSG.query);
      expect((await port.command(MSG.clear, new Uint8Array())).status).toBe(0);
      // Fed with valid heartbeats for well over the watchdog time: the latch stays clear.
      for (let i = 0; i < 12; i++) {
        port.send(MSG.heartbeat);
        await new Promise((r) => setTimeout(r, 50));
      }
      const fed = await waitFor('telemetry', () => telemetry);
      expect(fed.flags & FLAG.watchdogTripped).toBe(0);
      const before = { ...fed };

      // Now only rejects: random bytes, frames with a flipped CRC bit, and frames from an older epoch.
      const badCrc = encodeFrame({ type: MSG.heartbeat, seq: 0, epoch, body: new Uint8Array() });
      badCrc[badCrc.length - 2]! ^= 0x01;
      let seed = 7;
      const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      for (let i = 0; i < 16; i++) {
        port.writeRaw(Uint8Array.from({ length: 20 }, () => random() || 1));
        port.writeRaw(Uint8Array.of(0));
        port.writeRaw(badCrc);
        port.send(MSG.heartbeat, new Uint8Array(), epoch - 1);
        port.writeRaw(Uint8Array.of(0, ...encodeFrame({ type: MSG.clear, seq: 77, epoch: epoch - 1, body: new Uint8Array() })));
        await new Promise((r) => setTimeout(r, 40));
      }
      const tripped = await waitFor('the watchdog to trip', () => (telemetry && telemetry.flags & FLAG.watchdogTripped ? telemetry : undefined));
      expect(tripped.flags & FLAG.safeLatched).not.toBe(0);
      expect(tripped.crcErrors).toBeGreaterThan(before.crcErrors);
      expect(tripped.framingErrors + tripped.crcErrors).toBeGreaterThan(before.framingErrors + before.crcErrors + 16);
      expect(tripped.staleEpochFrames - before.staleEpochFrames).toBeGreaterThanOrEqual(16);
      // The older controller is told why its command was refused.
      expect(acks).toContainEqual({ ackSeq: 77, status: 5 });
      // Outputs went to their safe values by themselves.
      const rig = await board.state();
      expect(rig.levels[pinOf(map, 'safety_io', 'lamp_red')]).toBe(1);
      expect(rig.levels[pinOf(map, 'safety_io', 'lamp_green')]).toBe(0);
    } finally {
      await port.close();
    }
    // A controller older than that one (the default epoch is the wall clock) is fenced off.
    const older = openLink(map, hash, board);
    try {
      const refused = await waitFor('a refusal', () => older.last('conveyor', 'refused'));
      expect(refused.reason).toMatch(new RegExp(`owned by a newer controller \\(epoch ${epoch}\\)`));
      expect(older.link.linkState).toBe('refused');
    } finally {
      await older.link.close();
    }
  });
});

describe('a pulled cable', () => {
  it('is detected, the board stops by its watchdog, and plugging it back reconnects, re-identifies and reports the lost position', async () => {
    // A power cycle forgets the newer epoch of the test before (it lives in RAM only).
    await board.powerCycle();
    await provision(board, map.provision);
    const session = openLink(map, hash, board);
    try {
      await waitFor('ready', () => session.link.linkState === 'ready');
      session.conveyor.write({ type: 'home' });
      await waitFor('homed', () => session.conveyor.read().axis?.homed === true);
      session.conveyor.write({ type: 'index', steps: 30_000 });
      await waitFor('belt moving', async () => (await board.state()).stepPulses > 0 && session.conveyor.read().moving);

      await board.unplug();
      await waitFor('the link to notice', () => session.events.some((e) => e.type === 'lost'));
      const stopped = await waitFor('the board to stop by itself', async () => {
        const s = await board.state();
        return !s.driveEnabled ? s : undefined;
      });
      expect(stopped.beltSteps).toBeLessThan(30_000);
      const heartbeatsWhileUnplugged = session.of('conveyor').length;
      await new Promise((r) => setTimeout(r, 300));
      // No sign of life reaches the controller while unplugged: its heartbeat watch sees the loss.
      expect(session.of('conveyor').length).toBe(heartbeatsWhileUnplugged);

      await board.plug();
      await waitFor('reconnected', () => session.link.health().connects === 2 && session.link.linkState === 'ready');
      const reset = await waitFor('reset feedback', () => session.last('conveyor', 'reset'));
      expect(reset.cause).toMatch(/host-loss watchdog tripped/);
      // The interrupted index ends (stopped), and the readings show where the belt really is.
      await waitFor('motionDone for the interrupted index', () => session.of('conveyor').some((f) => f.type === 'motionDone' && f.command.type === 'index'));
      const r = await waitFor('fresh reading', () => session.last('conveyor', 'reading'));
      expect(r.reading.axis?.homed).toBe(false);
      expect(r.reading.moving).toBe(false);
    } finally {
      await session.link.close();
    }
  });
});
