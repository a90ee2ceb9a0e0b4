/**
 * The station protocol (docs/station-protocol.md): what the controller and a station board
 * running workcell's firmware (hardware/firmware/) say to each other over a serial link.
 *
 * Wire format: every frame is COBS-encoded and ends with one 0x00 byte. Decoded, a frame is
 *   type u8 | seq u8 | epoch u32 LE | body ... | CRC-16/CCITT-FALSE u16 LE (over everything before it)
 * Multi-byte numbers are little-endian, as on the AVR. This module is pure (no I/O): framing,
 * CRC, message encoders and decoders, each refusing malformed input with a reason.
 */

/** 2: the PROVISION body carries a debounce time per input. */
export const PROTOCOL_VERSION = 2;
/** Largest decoded frame (header + body + CRC) either side accepts. */
export const MAX_FRAME_BYTES = 96;
const HEADER_BYTES = 6;
const CRC_BYTES = 2;

// ---------------------------------------------------------------------------------------------
// CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor (check 0x29B1).
// The firmware computes it with avr-libc's _crc_xmodem_update from the same initial value.

export function crc16(bytes: Uint8Array, initial = 0xffff): number {
  let crc = initial;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

// ---------------------------------------------------------------------------------------------
// COBS (Consistent Overhead Byte Stuffing): the encoded frame contains no 0x00, so 0x00 marks
// the end of every frame and a receiver resynchronises at the next one after any garbage.

export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 254) + 1);
  let codeAt = 0;
  let code = 1;
  let o = 1;
  for (const byte of data) {
    if (byte === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      out[o++] = byte;
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return out.slice(0, o);
}

/** Decodes one COBS block (without its 0x00 delimiter); undefined when it is not valid COBS. */
export function cobsDecode(encoded: Uint8Array): Uint8Array | undefined {
  const out: number[] = [];
  let i = 0;
  while (i < encoded.length) {
    const code = encoded[i]!;
    if (code === 0) return undefined;
    if (i + code > encoded.length) return undefined;
    for (let k = 1; k < code; k++) {
      const byte = encoded[i + k]!;
      if (byte === 0) return undefined;
      out.push(byte);
    }
    i += code;
    if (code !== 0xff && i < encoded.length) out.push(0);
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// Frames

export interface Frame {
  type: number;
  seq: number;
  epoch: number;
  body: Uint8Array;
}

export function encodeFrame(frame: Frame): Uint8Array {
  const raw = new Uint8Array(HEADER_BYTES + frame.body.length + CRC_BYTES);
  if (raw.length > MAX_FRAME_BYTES) throw new RangeError(`frame of ${raw.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  const view = new DataView(raw.buffer);
  view.setUint8(0, frame.type);
  view.setUint8(1, frame.seq & 0xff);
  view.setUint32(2, frame.epoch >>> 0, true);
  raw.set(frame.body, HEADER_BYTES);
  view.setUint16(raw.length - CRC_BYTES, crc16(raw.subarray(0, raw.length - CRC_BYTES)), true);
  const encoded = cobsEncode(raw);
  const wire = new Uint8Array(encoded.length + 1);
  wire.set(encoded);
  return wire;
}

export type DecodeError = 'cobs' | 'short' | 'long' | 'crc';
export type DecodeResult = { ok: true; frame: Frame } | { ok: false; error: DecodeError; detail: string };

/** Decodes one delimited frame (the bytes between two 0x00). */
export function decodeFrame(encoded: Uint8Array): DecodeResult {
  if (encoded.length > cobsEncodedLimit()) return { ok: false, error: 'long', detail: `${encoded.length} bytes before the delimiter (at most ${cobsEncodedLimit()})` };
  const raw = cobsDecode(encoded);
  if (raw === undefined) return { ok: false, error: 'cobs', detail: 'not valid COBS' };
  if (raw.length < HEADER_BYTES + CRC_BYTES) return { ok: false, error: 'short', detail: `${raw.length} bytes decoded (at least ${HEADER_BYTES + CRC_BYTES})` };
  if (raw.length > MAX_FRAME_BYTES) return { ok: false, error: 'long', detail: `${raw.length} bytes decoded (at most ${MAX_FRAME_BYTES})` };
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const expected = view.getUint16(raw.length - CRC_BYTES, true);
  const actual = crc16(raw.subarray(0, raw.length - CRC_BYTES));
  if (expected !== actual) return { ok: false, error: 'crc', detail: `CRC 0x${hex4(actual)} does not match 0x${hex4(expected)}` };
  return {
    ok: true,
    frame: { type: view.getUint8(0), seq: view.getUint8(1), epoch: view.getUint32(2, true), body: raw.slice(HEADER_BYTES, raw.length - CRC_BYTES) },
  };
}

function cobsEncodedLimit(): number {
  return MAX_FRAME_BYTES + Math.ceil(MAX_FRAME_BYTES / 254) + 1;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/**
 * Splits a byte stream at 0x00 delimiters and decodes each frame. Garbage between frames costs at
 * most the frame it lands in; an over-long run without a delimiter is dropped as it grows.
 */
export class FrameReader {
  private buffer = new Uint8Array(cobsEncodedLimit() + 1);
  private length = 0;
  private overflowed = false;

  constructor(private readonly onResult: (result: DecodeResult) => void) {}

  push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === 0) {
        if (this.overflowed) this.onResult({ ok: false, error: 'long', detail: 'no delimiter within the longest frame' });
        else if (this.length > 0) this.onResult(decodeFrame(this.buffer.subarray(0, this.length)));
        this.length = 0;
        this.overflowed = false;
      } else if (this.length < this.buffer.length) {
        this.buffer[this.length++] = byte;
      } else {
        this.overflowed = true;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sequence numbers: commands use 1..255 and wrap from 255 to 1 (0 marks an unsequenced frame).

export function nextSeq(seq: number): number {
  return seq >= 255 ? 1 : seq + 1;
}

// ---------------------------------------------------------------------------------------------
// Message types

export const MSG = {
  // controller -> board
  heartbeat: 0x01,
  query: 0x02,
  move: 0x10,
  home: 0x11,
  stop: 0x12,
  setOutputs: 0x13,
  safe: 0x14,
  clear: 0x15,
  provision: 0x20,
  // board -> controller
  boot: 0x80,
  ack: 0x81,
  telemetry: 0x82,
} as const;

/** Command results in an ACK frame. */
export const ACK_STATUS = {
  0: 'ok',
  1: 'bad length',
  2: 'unknown command',
  3: 'busy: a motion is in progress',
  4: 'latched in the safe state: clear first',
  5: 'stale epoch: a newer controller owns this board',
  6: 'e-stop chain open',
  7: 'board not provisioned',
  8: 'bad argument',
  9: 'axis not homed',
} as const satisfies Record<number, string>;
export type AckStatus = keyof typeof ACK_STATUS;

export const RESET_CAUSE_BITS = { powerOn: 0x01, external: 0x02, brownOut: 0x04, watchdog: 0x08 } as const;

export function describeResetCause(bits: number): string {
  const names = Object.entries(RESET_CAUSE_BITS)
    .filter(([, bit]) => (bits & bit) !== 0)
    .map(([name]) => ({ powerOn: 'power-on', external: 'reset pin', brownOut: 'brown-out', watchdog: 'watchdog' })[name]);
  return names.length > 0 ? names.join(', ') : 'unknown';
}

/** Axis states in telemetry. */
export const AXIS_STATE = { 0: 'idle', 1: 'moving', 2: 'homing', 3: 'stopping' } as const;
/** Result of the motion started by command `motionSeq`. */
export const MOTION_RESULT = { 0: 'none', 1: 'running', 2: 'done', 3: 'stopped', 4: 'failed' } as const;

export const FLAG = {
  homed: 0x0001,
  estopOpen: 0x0002,
  estopLatched: 0x0004,
  watchdogTripped: 0x0008,
  safeLatched: 0x0010,
  homeFailed: 0x0020,
  provisioned: 0x0040,
  driveEnabled: 0x0080,
} as const;

// ---------------------------------------------------------------------------------------------
// Bodies

export interface MoveBody {
  steps: number;
  speedStepsS: number;
  accelStepsS2: number;
}
export interface HomeBody {
  speedStepsS: number;
  /** +1 downstream, -1 upstream. */
  direction: 1 | -1;
  maxTravelSteps: number;
}
export interface SetOutputsBody {
  /** Board pins (bit n = pin n) to change. */
  mask: number;
  /** Electrical levels for the masked pins. */
  levels: number;
}
export interface SafeBody {
  category: 0 | 1;
}

/** Pins of the station board's fixed axis wiring (Arduino Uno numbering, see docs/hardware.md). */
export const AXIS_PINS = { encoderA: 2, encoderB: 3, step: 4, dir: 5, enable: 6, home: 7 } as const;
/** Pins available as configurable digital inputs and outputs. */
export const GENERAL_PINS: readonly number[] = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
export const NO_PIN = 0xff;

export interface ProvisionBody {
  stationId: number;
  watchdogMs: number;
  /** sha256 of the cell description (src/cell/hash.ts), 32 bytes. */
  descriptionHash: Uint8Array;
  /** Pins used as inputs (bit n = pin n); pull-ups stay off, the wiring drives every input. */
  inputMask: number;
  outputMask: number;
  /** Outputs whose safe level is high (electrical); the others are low unless held. */
  safeHighMask: number;
  /** Outputs that keep their present level in the safe state (safe_value: hold). */
  safeHoldMask: number;
  /** Input on the e-stop chain's auxiliary contact, or NO_PIN. */
  estopPin: number;
  /** Electrical level of estopPin while the chain is healthy (closed). */
  estopHealthyLevel: 0 | 1;
  /** Electrical level of the home switch when on the home mark. */
  homeActiveLevel: 0 | 1;
  /** Stop category on e-stop and watchdog: 0 drive power off at once, 1 decelerate then off. */
  stopCategory: 0 | 1;
  /** Deceleration for category 1 stops, steps/s². */
  stopDecelStepsS2: number;
  /**
   * Debounce time per input pin, ms (a new level is reported once it has held this long); pins
   * not named, and 0, report the raw level. The e-stop contact trips on its raw level regardless.
   */
  debounceMs: Partial<Record<number, number>>;
}

export interface BootInfo {
  firmwareMajor: number;
  firmwareMinor: number;
  protocolVersion: number;
  stationId: number;
  resetCause: number;
  provisioned: boolean;
  /** An answer to QUERY or PROVISION; false for the frame a board sends when it starts. */
  solicited: boolean;
  watchdogMs: number;
  descriptionHash: Uint8Array;
}

export interface Telemetry {
  positionSteps: number;
  encoderCount: number;
  /** Electrical levels of pins 0..31 (bit n = pin n). */
  inputs: number;
  outputs: number;
  axisState: number;
  flags: number;
  motionSeq: number;
  motionResult: number;
  crcErrors: number;
  framingErrors: number;
  staleEpochFrames: number;
  acceptedFrames: number;
}

export interface Ack {
  ackSeq: number;
  status: number;
}

export const MOVE_BODY_BYTES = 12;
export const HOME_BODY_BYTES = 9;
export const SET_OUTPUTS_BODY_BYTES = 8;
export const PROVISION_BODY_BYTES = 1 + 2 + 32 + 16 + 1 + 1 + 1 + 1 + 4 + 2 * GENERAL_PINS.length;
export const BOOT_BODY_BYTES = 1 + 1 + 1 + 1 + 1 + 1 + 2 + 32;
export const TELEMETRY_BODY_BYTES = 4 + 4 + 4 + 4 + 1 + 2 + 1 + 1 + 2 * 4;
export const ACK_BODY_BYTES = 2;

function body(length: number, write: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(length);
  write(new DataView(bytes.buffer));
  return bytes;
}

function checkInt(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${what} must be a whole number in [${min}, ${max}] (got ${value})`);
  return value;
}

export function encodeMove(m: MoveBody): Uint8Array {
  return body(MOVE_BODY_BYTES, (v) => {
    v.setInt32(0, checkInt('move steps', m.steps, -0x7fffffff, 0x7fffffff), true);
    v.setUint32(4, checkInt('move speed (steps/s)', m.speedStepsS, 1, 0xffffffff), true);
    v.setUint32(8, checkInt('move acceleration (steps/s²)', m.accelStepsS2, 1, 0xffffffff), true);
  });
}

export function encodeHome(h: HomeBody): Uint8Array {
  return body(HOME_BODY_BYTES, (v) => {
    v.setUint32(0, checkInt('homing speed (steps/s)', h.speedStepsS, 1, 0xffffffff), true);
    v.setInt8(4, h.direction);
    v.setUint32(5, checkInt('homing travel (steps)', h.maxTravelSteps, 1, 0x7fffffff), true);
  });
}

export function encodeSetOutputs(s: SetOutputsBody): Uint8Array {
  return body(SET_OUTPUTS_BODY_BYTES, (v) => {
    v.setUint32(0, s.mask >>> 0, true);
    v.setUint32(4, s.levels >>> 0, true);
  });
}

export function encodeSafe(s: SafeBody): Uint8Array {
  return Uint8Array.of(s.category);
}

export function encodeProvision(p: ProvisionBody): Uint8Array {
  if (p.descriptionHash.length !== 32) throw new RangeError(`description hash must be 32 bytes (got ${p.descriptionHash.length})`);
  return body(PROVISION_BODY_BYTES, (v) => {
    let o = 0;
    v.setUint8(o, checkInt('station id', p.stationId, 1, 254));
    o += 1;
    v.setUint16(o, checkInt('watchdog (ms)', p.watchdogMs, 1, 0xffff), true);
    o += 2;
    new Uint8Array(v.buffer).set(p.descriptionHash, o);
    o += 32;
    for (const mask of [p.inputMask, p.outputMask, p.safeHighMask, p.safeHoldMask]) {
      v.setUint32(o, mask >>> 0, true);
      o += 4;
    }
    v.setUint8(o++, p.estopPin);
    v.setUint8(o++, p.estopHealthyLevel);
    v.setUint8(o++, p.homeActiveLevel);
    v.setUint8(o++, p.stopCategory);
    v.setUint32(o, checkInt('stop deceleration (steps/s²)', p.stopDecelStepsS2, 1, 0xffffffff), true);
    o += 4;
    for (const [pin, ms] of Object.entries(p.debounceMs)) {
      if (!GENERAL_PINS.includes(Number(pin))) throw new RangeError(`debounce on pin ${pin}: only the general pins ${GENERAL_PINS.join(', ')} are debounced`);
      checkInt(`debounce of pin ${pin} (ms)`, ms ?? 0, 0, 0xffff);
    }
    for (const pin of GENERAL_PINS) {
      v.setUint16(o, p.debounceMs[pin] ?? 0, true);
      o += 2;
    }
  });
}

export type BodyResult<T> = { ok: true; value: T } | { ok: false; reason: string };

function needLength(what: string, bytes: Uint8Array, length: number): string | undefined {
  return bytes.length === length ? undefined : `${what} body is ${bytes.length} bytes (expected ${length})`;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function decodeBoot(bytes: Uint8Array): BodyResult<BootInfo> {
  const problem = needLength('boot', bytes, BOOT_BODY_BYTES);
  if (problem) return { ok: false, reason: problem };
  const v = viewOf(bytes);
  return {
    ok: true,
    value: {
      firmwareMajor: v.getUint8(0),
      firmwareMinor: v.getUint8(1),
      protocolVersion: v.getUint8(2),
      stationId: v.getUint8(3),
      resetCause: v.getUint8(4),
      provisioned: (v.getUint8(5) & 1) !== 0,
      solicited: (v.getUint8(5) & 2) !== 0,
      watchdogMs: v.getUint16(6, true),
      descriptionHash: bytes.slice(8, 40),
    },
  };
}

export function decodeTelemetry(bytes: Uint8Array): BodyResult<Telemetry> {
  const problem = needLength('telemetry', bytes, TELEMETRY_BODY_BYTES);
  if (problem) return { ok: false, reason: problem };
  const v = viewOf(bytes);
  return {
    ok: true,
    value: {
      positionSteps: v.getInt32(0, true),
      encoderCount: v.getInt32(4, true),
      inputs: v.getUint32(8, true),
      outputs: v.getUint32(12, true),
      axisState: v.getUint8(16),
      flags: v.getUint16(17, true),
      motionSeq: v.getUint8(19),
      motionResult: v.getUint8(20),
      crcErrors: v.getUint16(21, true),
      framingErrors: v.getUint16(23, true),
      staleEpochFrames: v.getUint16(25, true),
      acceptedFrames: v.getUint16(27, true),
    },
  };
}

export function decodeAck(bytes: Uint8Array): BodyResult<Ack> {
  const problem = needLength('ack', bytes, ACK_BODY_BYTES);
  if (problem) return { ok: false, reason: problem };
  return { ok: true, value: { ackSeq: bytes[0]!, status: bytes[1]! } };
}

export function ackStatusText(status: number): string {
  return (ACK_STATUS as Record<number, string>)[status] ?? `unknown status ${status}`;
}

export function hashToHex(hash: Uint8Array): string {
  return Buffer.from(hash).toString('hex');
}

export function hexToHash(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new RangeError(`a description hash is 64 lowercase hex digits (got "${hex}")`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}
