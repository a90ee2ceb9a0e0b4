import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cobsDecode,
  cobsEncode,
  crc16,
  decodeAck,
  decodeBoot,
  decodeFrame,
  decodeTelemetry,
  encodeFrame,
  encodeMove,
  encodeProvision,
  FrameReader,
  MAX_FRAME_BYTES,
  MOVE_BODY_BYTES,
  MSG,
  nextSeq,
  PROVISION_BODY_BYTES,
  type DecodeResult,
} from '../../src/serial/protocol.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

function readAll(chunks: Uint8Array[]): DecodeResult[] {
  const results: DecodeResult[] = [];
  const reader = new FrameReader((r) => results.push(r));
  for (const chunk of chunks) reader.push(chunk);
  return results;
}

describe('CRC-16/CCITT-FALSE', () => {
  it('matches the catalogue check value for "123456789"', () => {
    expect(crc16(new TextEncoder().encode('123456789'))).toBe(0x29b1);
  });
  it('is the initial value on no bytes and changes with any single flipped bit', () => {
    expect(crc16(new Uint8Array())).toBe(0xffff);
    const data = new TextEncoder().encode('workcell');
    for (let i = 0; i < data.length * 8; i++) {
      const flipped = data.slice();
      flipped[i >> 3]! ^= 1 << (i & 7);
      expect(crc16(flipped)).not.toBe(crc16(data));
    }
  });
});

describe('COBS', () => {
  it('encodes the published examples', () => {
    expect([...cobsEncode(bytes(0x00))]).toEqual([0x01, 0x01]);
    expect([...cobsEncode(bytes(0x00, 0x00))]).toEqual([0x01, 0x01, 0x01]);
    expect([...cobsEncode(bytes(0x11, 0x22, 0x00, 0x33))]).toEqual([0x03, 0x11, 0x22, 0x02, 0x33]);
    expect([...cobsEncode(bytes(0x11, 0x00, 0x00, 0x00))]).toEqual([0x02, 0x11, 0x01, 0x01, 0x01]);
    const run254 = Uint8Array.from({ length: 254 }, (_, i) => i + 1);
    expect([...cobsEncode(run254)]).toEqual([0xff, ...run254, 0x01]);
  });
  it('round-trips any bytes, and the encoding never contains 0x00', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        const encoded = cobsEncode(data);
        expect(encoded.includes(0)).toBe(false);
        expect([...cobsDecode(encoded)!]).toEqual([...data]);
      }),
    );
  });
  it('rejects a block whose code byte points past its end, or that contains 0x00', () => {
    expect(cobsDecode(bytes(0x05, 0x11, 0x22))).toBeUndefined();
    expect(cobsDecode(bytes(0x03, 0x11, 0x00))).toBeUndefined();
  });
});

describe('frames', () => {
  const frame = { type: MSG.move, seq: 42, epoch: 0xdeadbeef, body: encodeMove({ steps: -3000, speedStepsS: 4000, accelStepsS2: 16000 }) };

  it('round-trip: type, sequence number, epoch and body survive', () => {
    const wire = encodeFrame(frame);
    expect(wire.at(-1)).toBe(0);
    const [result] = readAll([wire]);
    expect(result).toEqual({ ok: true, frame });
    expect(frame.body.length).toBe(MOVE_BODY_BYTES);
  });

  it('any single corrupted byte is caught (CRC or framing), never delivered as a different frame', () => {
    const wire = encodeFrame(frame);
    for (let i = 0; i < wire.length - 1; i++) {
      for (const value of [0x00, 0x01, wire[i]! ^ 0x40, 0xff]) {
        if (value === wire[i]) continue;
        const bad = wire.slice();
        bad[i] = value;
        const results = readAll([bad]);
        for (const r of results) expect(r.ok).toBe(false);
      }
    }
  });

  it('a frame split across any chunk boundaries decodes the same', () => {
    const wire = encodeFrame(frame);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 6 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let from = 0;
        for (const p of points) {
          chunks.push(wire.subarray(from, p));
          from = p;
        }
        chunks.push(wire.subarray(from));
        expect(readAll(chunks)).toEqual([{ ok: true, frame }]);
      }),
    );
  });

  it('resynchronises after garbage: garbage costs the frame it lands in, the next one decodes', () => {
    const garbage = bytes(0x13, 0x37, 0xff, 0x42, 0x00, 0x99);
    const results = readAll([garbage, encodeFrame(frame), encodeFrame(frame)]);
    expect(results.map((r) => r.ok)).toEqual([false, false, true]);
    expect(results.at(-1)).toEqual({ ok: true, frame });
    // A leading delimiter (what the controller sends before every frame) flushes the garbage.
    expect(readAll([garbage, bytes(0), encodeFrame(frame)]).at(-1)).toEqual({ ok: true, frame });
  });

  it('refuses short and over-long frames with a reason', () => {
    const short = readAll([bytes(0x02, 0x01, 0x00)]);
    expect(short).toEqual([{ ok: false, error: 'short', detail: expect.stringContaining('bytes decoded') }]);
    const long = readAll([new Uint8Array(500).fill(0x55), bytes(0)]);
    expect(long).toEqual([{ ok: false, error: 'long', detail: expect.any(String) }]);
    expect(() => encodeFrame({ type: 1, seq: 1, epoch: 1, body: new Uint8Array(MAX_FRAME_BYTES) })).toThrow(/exceeds/);
  });

  it('random byte streams never throw and never yield a frame whose CRC does not check', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        for (const r of readAll(chunks)) {
          if (r.ok) {
            // A random frame that passes is possible (1 in 65536): it must re-encode to itself.
            expect(decodeFrame(encodeFrame(r.frame).subarray(0, -1))).toEqual(r);
          }
        }
      }),
    );
  });
});

describe('sequence numbers', () => {
  it('run 1..255 and wrap to 1, never 0 (0 marks an unsequenced frame)', () => {
    expect(nextSeq(0)).toBe(1);
    expect(nextSeq(1)).toBe(2);
    expect(nextSeq(254)).toBe(255);
    expect(nextSeq(255)).toBe(1);
    let seq = 0;
    const seen = new Set<number>();
    for (let i = 0; i < 600; i++) {
      seq = nextSeq(seq);
      seen.add(seq);
    }
    expect(seen.has(0)).toBe(false);
    expect(seen.size).toBe(255);
  });
  it('a wrapped sequence number survives the frame round trip', () => {
    const wire = encodeFrame({ type: MSG.stop, seq: nextSeq(255), epoch: 7, body: new Uint8Array() });
    expect(readAll([wire])).toEqual([{ ok: true, frame: { type: MSG.stop, seq: 1, epoch: 7, body: new Uint8Array() } }]);
  });
});

describe('bodies', () => {
  it('refuse the wrong length with what was expected', () => {
    expect(decodeBoot(new Uint8Array(3))).toEqual({ ok: false, reason: 'boot body is 3 bytes (expected 40)' });
    expect(decodeTelemetry(new Uint8Array(0))).toMatchObject({ ok: false, reason: expect.stringMatching(/telemetry body is 0 bytes/) });
    expect(decodeAck(new Uint8Array(5))).toMatchObject({ ok: false });
  });
  it('refuse out-of-range values when encoding, naming the field', () => {
    expect(() => encodeMove({ steps: 1.5, speedStepsS: 100, accelStepsS2: 100 })).toThrow(/move steps/);
    expect(() => encodeMove({ steps: 10, speedStepsS: 0, accelStepsS2: 100 })).toThrow(/move speed/);
    const provision = {
      stationId: 3,
      watchdogMs: 250,
      descriptionHash: new Uint8Array(32).fill(7),
      inputMask: 0,
      outputMask: 0,
      safeHighMask: 0,
      safeHoldMask: 0,
      estopPin: 0xff,
      estopHealthyLevel: 1 as const,
      homeActiveLevel: 1 as const,
      stopCategory: 1 as const,
      stopDecelStepsS2: 16000,
      debounceMs: { 9: 20, 19: 0x1234 },
    };
    const encoded = encodeProvision(provision);
    expect(encoded.length).toBe(PROVISION_BODY_BYTES);
    // One u16 per general pin 8..19 after the stop deceleration, as the firmware's config_t lays it out.
    const debounce = new DataView(encoded.buffer, 59);
    expect([0, 1, 11].map((i) => debounce.getUint16(2 * i, true))).toEqual([0, 20, 0x1234]);
    expect(() => encodeProvision({ ...provision, debounceMs: { 7: 5 } })).toThrow(/only the general pins/);
    expect(() => encodeProvision({ ...provision, debounceMs: { 9: 70_000 } })).toThrow(/debounce of pin 9/);
    expect(() => encodeProvision({ ...provision, stationId: 0 })).toThrow(/station id/);
    expect(() => encodeProvision({ ...provision, descriptionHash: new Uint8Array(8) })).toThrow(/32 bytes/);
  });
  it('decode telemetry fields at their documented offsets', () => {
    const b = new Uint8Array(29);
    const v = new DataView(b.buffer);
    v.setInt32(0, -1234, true);
    v.setInt32(4, 5678, true);
    v.setUint32(8, 1 << 10, true);
    v.setUint16(17, 0x41, true);
    v.setUint8(19, 200);
    v.setUint8(20, 2);
    v.setUint16(25, 9, true);
    const t = decodeTelemetry(b);
    expect(t).toMatchObject({ ok: true, value: { positionSteps: -1234, encoderCount: 5678, inputs: 1024, flags: 0x41, motionSeq: 200, motionResult: 2, staleEpochFrames: 9 } });
  });
});
