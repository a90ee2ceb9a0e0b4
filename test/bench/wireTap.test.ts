/**
 * The e-stop benchmark's wire tap against the real socat: frames written on the controller's pty
 * come out on the board's side unchanged, and the tap reports them decoded, with a CLOCK_MONOTONIC
 * time between the write and their arrival.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameReader, MSG, type Frame } from '../../src/serial/protocol.js';
import { realtimeOffsetNs, SocatDumpParser, WireTap, type TappedFrame } from '../../bench/wireTap.js';

const dir = mkdtempSync(path.join(tmpdir(), 'workcell-bench-tap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('wire tap (socat -x)', () => {
  it('passes frames both ways and reports each with its time on the wire', async () => {
    // The "board": a pty whose other end is this test (as src/rig/boardProcess.ts does with socat).
    const boardPath = path.join(dir, 'board');
    const board = spawn('socat', [`pty,raw,echo=0,link=${boardPath}`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
    await until('the board pty', () => existsSync(boardPath));
    const atBoard: Frame[] = [];
    const boardReader = new FrameReader((r) => r.ok && atBoard.push(r.frame));
    board.stdout!.on('data', (d: Buffer) => boardReader.push(d));

    const tap = await WireTap.start(boardPath, path.join(dir, 'controller'));
    const seen: TappedFrame[] = [];
    tap.onFrame((f) => seen.push(f));
    const port = new SerialPort({ path: tap.controllerPath, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    const atController: Frame[] = [];
    const controllerReader = new FrameReader((r) => r.ok && atController.push(r.frame));
    port.on('data', (d: Buffer) => controllerReader.push(d));
    try {
      const safe: Frame = { type: MSG.safe, seq: 7, epoch: 42, body: Uint8Array.of(1) };
      const before = process.hrtime.bigint();
      port.write(Buffer.concat([Buffer.of(0), Buffer.from(encodeFrame(safe)), Buffer.of(0)]));
      await until('the safe frame at the board and on the tap', () => atBoard.length > 0 && seen.some((f) => f.direction === 'toBoard'));
      const after = process.hrtime.bigint();
      expect(atBoard[0]).toMatchObject({ type: MSG.safe, seq: 7, epoch: 42 });
      const tapped = seen.find((f) => f.direction === 'toBoard')!;
      expect(tapped.frame).toMatchObject({ type: MSG.safe, seq: 7, epoch: 42 });
      expect([...tapped.frame.body]).toEqual([1]);
      // The tap's time lies between the write and the moment the test saw it (1 ms of slack for
      // the realtime/monotonic offset and socat's microsecond stamps).
      expect(tapped.monoNs).toBeGreaterThanOrEqual(before - 1_000_000n);
      expect(tapped.monoNs).toBeLessThanOrEqual(after + 1_000_000n);

      const ack: Frame = { type: MSG.ack, seq: 0, epoch: 42, body: Uint8Array.of(7, 0) };
      board.stdin!.write(Buffer.concat([Buffer.from(encodeFrame(ack)), Buffer.of(0)]));
      await until('the ack at the controller and on the tap', () => atController.length > 0 && seen.some((f) => f.direction === 'toController'));
      expect(atController[0]).toMatchObject({ type: MSG.ack, epoch: 42 });
      expect(seen.find((f) => f.direction === 'toController')!.frame.type).toBe(MSG.ack);
      expect(tap.parseErrors).toBe('');
    } finally {
      await new Promise<void>((r) => port.close(() => r()));
      await tap.close();
      board.kill('SIGTERM');
    }
  });

  it('reads socat 1.7 microsecond stamps and nanosecond stamps, choosing by the arrival time', () => {
    const got: bigint[] = [];
    const arrival = BigInt(new Date(2026, 10, 22, 15, 6, 4).getTime()) * 1_000_000n + 561_000_000n; // 15:06:04.561
    const us = new SocatDumpParser((_d, t) => got.push(t), undefined, () => arrival);
    us.push('> 2026/11/22 15:06:04.000560548  length=1 from=0 to=0\n 78                                               x\n--\n');
    expect(us.fractionUnit).toBe('us');
    expect(got[0]! - (arrival - 561_000_000n)).toBe(560_548_000n);
    const ns = new SocatDumpParser((_d, t) => got.push(t), undefined, () => arrival);
    ns.push('< 2026/11/22 15:06:04.560548123  length=2 from=0 to=1\n 78 00                                            x.\n--\n');
    expect(ns.fractionUnit).toBe('ns');
    expect(got[1]! - (arrival - 561_000_000n)).toBe(560_548_123n);
    expect(() => ns.push('garbage\n--\n')).toThrow(/unexpected record header/);
  });

  it('measures the realtime − monotonic offset consistently', () => {
    const a = realtimeOffsetNs();
    const b = realtimeOffsetNs();
    const diff = a > b ? a - b : b - a;
    expect(diff).toBeLessThan(1_000_000n);
  });
});
