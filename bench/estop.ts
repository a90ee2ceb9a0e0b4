/**
 * 2 and 3: emergency-stop reaction through the real serial rig.
 *
 * The demo-serial cell runs in this process (CellRun, real time) with its conveyor and safety I/O
 * on a simulated station board: the station firmware in avr8js behind a pty (src/rig), reached
 * through a WireTap (socat -x) so the bytes on the wire are seen with their time. A trip:
 *
 *   t0        the harness drives the board's e-stop input pin to "open" (RigBoard.setInput; t0 is
 *             taken just before the request leaves for the board process, so the figure includes
 *             delivering the pin change to the simulated chip)
 *   telemetry the board's telemetry frame showing the e-stop contact open, on the wire (tap)
 *   data      that frame's bytes handed to the controller process by serialport ('data' event)
 *   write     each `safe` frame handed to serialport's write() by the station driver
 *   safe      each `safe` frame on the wire (tap): one per device on the board's link
 *
 * 2 (wire) = t0 → the last `safe` frame on the wire of every station. 3 (in-process) = data → the
 * last `safe` frame handed to write(). All times are CLOCK_MONOTONIC (process.hrtime.bigint());
 * the tap's REALTIME stamps are converted (wireTap.ts). After each trip the operator's way back:
 * release the e-stop, Clear (→ Stopped), and for production trips Reset (homing) and Start.
 * Conditions: idle (Stopped), production (a random moment of Execute), and both again with a
 * flood of operator commands through the WebSocket bridge from another process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SerialPort } from 'serialport';
import { loadCell } from '../src/cell/load.js';
import { CellRun } from '../src/runtime/run.js';
import { bridgeFace, type FoxgloveBridge } from '../src/bridge/server.js';
import { EmbeddedBus } from '../src/interface/bus.js';
import type { CellStateMessage } from '../src/interface/operator.js';
import { decodeFrame, decodeTelemetry, FLAG, FrameReader, MSG, type Frame } from '../src/serial/protocol.js';
import { distributionFigure, valueFigure, type Figure, type Section } from './results.js';
import { DEMO_SERIAL_CELL, type BenchOptions } from './options.js';
import { startTappedRig, type TappedBoard, type TappedRig } from './tappedRig.js';

type Condition = 'idle' | 'production' | 'flood-idle' | 'flood-production';

interface Trip {
  condition: Condition;
  t0: bigint;
  /** Per board link: e-stop telemetry on the wire, safe frames on the wire (first sight of each seq). */
  wire: Map<string, { telemetryNs?: bigint; safeNs: Map<number, bigint> }>;
  /** Per port path: the data event carrying the e-stop telemetry, and safe frames handed to write(). */
  inProcess: Map<string, { dataNs?: bigint; writeNs: bigint[] }>;
  deliveredNs?: bigint;
}

interface TripResult {
  condition: Condition;
  wireLastSafeMs: number;
  wireFirstSafeMs: number;
  wireTelemetryMs: number;
  wireHostMs: number;
  inProcessLastMs: number;
  inProcessFirstMs: number;
  deliveryMs: number;
}

const ms = (ns: bigint) => Number(ns) / 1e6;
const now = () => process.hrtime.bigint();
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** Frames of one write() chunk (the driver writes 0x00, frame, 0x00). */
function framesIn(chunk: unknown): Frame[] {
  if (!(chunk instanceof Uint8Array)) return [];
  const out: Frame[] = [];
  let start = 0;
  for (let i = 0; i <= chunk.length; i++) {
    if (i === chunk.length || chunk[i] === 0) {
      if (i > start) {
        const d = decodeFrame(chunk.subarray(start, i));
        if (d.ok) out.push(d.frame);
      }
      start = i + 1;
    }
  }
  return out;
}

/** The e-stop contact as the board reports it: which pin, and its electrical level when open. */
let estopContact = { pin: -1, openLevel: 0 };

/**
 * Recognises the telemetry frame that shows the e-stop open, as the station driver reads it: the
 * contact's pin at its open level, the board's e-stop-open flag, or its e-stop-latched flag newly
 * set (an opening shorter than a telemetry period, which the driver shows as open once). One
 * detector per byte stream: "newly" is relative to that stream's previous telemetry.
 */
function estopDetector(): (frame: Frame) => boolean {
  let latchedBefore: boolean | undefined;
  return (frame) => {
    if (frame.type !== MSG.telemetry) return false;
    const t = decodeTelemetry(frame.body);
    if (!t.ok) return false;
    const latched = (t.value.flags & FLAG.estopLatched) !== 0;
    const newlyLatched = latched && latchedBefore === false;
    latchedBefore = latched;
    const pinLevel = (t.value.inputs >>> estopContact.pin) & 1;
    return (t.value.flags & FLAG.estopOpen) !== 0 || pinLevel === estopContact.openLevel || newlyLatched;
  };
}

/** A small seeded generator (mulberry32) for the gaps and production delays: runs are repeatable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let current: Trip | undefined;
/** When the station driver last handed a `safe` frame to write(), in or between trips. */
let lastSafeWriteNs = 0n;

/** Wrap serialport's write() and 'data' delivery once: the in-process ends of the measurement. */
function installPortHooks(): void {
  const proto = SerialPort.prototype as unknown as {
    write: (...a: unknown[]) => boolean;
    emit: (event: string | symbol, ...a: unknown[]) => boolean;
    path: string;
    __benchHooked?: boolean;
  };
  if (proto.__benchHooked) return;
  proto.__benchHooked = true;
  const write = proto.write;
  proto.write = function (this: { path: string }, ...args: unknown[]) {
    const trip = current;
    const t = now();
    for (const f of framesIn(args[0])) {
      if (f.type !== MSG.safe) continue;
      lastSafeWriteNs = t;
      trip?.inProcess.get(this.path)?.writeNs.push(t);
    }
    return write.apply(this, args);
  };
  const readers = new WeakMap<object, FrameReader>();
  const emit = proto.emit;
  proto.emit = function (this: { path: string }, event: string | symbol, ...args: unknown[]) {
    if (event === 'data' && current) {
      const t = now();
      let reader = readers.get(this);
      if (!reader) {
        const isEstopTelemetry = estopDetector();
        reader = new FrameReader((r) => {
          const trip = current;
          const slot = trip?.inProcess.get(this.path);
          if (r.ok && isEstopTelemetry(r.frame) && slot && slot.dataNs === undefined) slot.dataNs = (reader as FrameReader & { at?: bigint }).at;
        });
        readers.set(this, reader);
      }
      (reader as FrameReader & { at?: bigint }).at = t;
      reader.push(args[0] as Uint8Array);
    } else if (event === 'data') readers.get(this)?.push(args[0] as Uint8Array);
    return emit.call(this, event, ...args);
  };
}

class Flood {
  private constructor(
    private readonly child: ChildProcess,
    readonly started: Promise<void>,
  ) {}
  static start(url: string, rate: number, word: string): Flood {
    const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'floodClient.js');
    const child = spawn(process.execPath, [script, url, String(rate), word], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const started = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if ((JSON.parse(line) as { event: string }).event === 'flooding') resolve();
      });
      child.on('exit', (code) => reject(new Error(`flood client exited ${code}: ${stderr.trim()}`)));
    });
    return new Flood(child, started);
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}

export async function estopSections(opts: BenchOptions): Promise<Section[]> {
  const counts: Record<Condition, number> = opts.quick
    ? { idle: 40, production: 1, 'flood-idle': 15, 'flood-production': 1 }
    : { idle: 620, production: 20, 'flood-idle': 350, 'flood-production': 10 };
  // BENCH_ESTOP_TRIPS="idle=5,flood-idle=5" overrides the counts (for working on the benchmark).
  for (const part of (process.env.BENCH_ESTOP_TRIPS ?? '').split(',').filter(Boolean)) {
    const [name, n] = part.split('=');
    if (!(name! in counts) || !(Number(n) >= 0)) throw new Error(`BENCH_ESTOP_TRIPS: "${part}" is not <condition>=<count> (conditions: ${Object.keys(counts).join(', ')})`);
    counts[name as Condition] = Number(n);
  }
  const floodRate = 10_000;
  const floodWord = 'unsuspend'; // valid on the interface, refused in every state these trips pass through
  const loaded = loadCell(DEMO_SERIAL_CELL);
  if (!loaded.ok) throw new Error(`${DEMO_SERIAL_CELL}: ${loaded.problems.map((p) => p.message).join('; ')}`);
  const cell = loaded.cell;
  const source = cell.safety.estopSources.find((s) => s.kind === 'input');
  if (!source || source.kind !== 'input') throw new Error('the demo-serial cell has no e-stop input');
  const [device, channel] = source.input.split('.') as [string, string];

  installPortHooks();
  const rig: TappedRig = await startTappedRig(cell, loaded.hash);
  let bridge: FoxgloveBridge | undefined;
  const run = new CellRun({
    cellPath: DEMO_SERIAL_CELL,
    drivers: rig.drivers,
    faces: [async (ctx) => (bridge = await bridgeFace({ port: 0, host: '127.0.0.1' })(ctx))],
  });
  const results: TripResult[] = [];
  const failures: string[] = [];
  const skipped: string[] = [];
  /** Flood commands delivered on the command topic, and handled (refused) by the controller. */
  let floodReceived = 0;
  let floodHandled = 0;
  /** Of those, refused on arrival because the controller's bounded backlog was full. */
  let floodRefusedFull = 0;
  let floodWallMs = 0;
  let floodHandledDuring = 0;
  let floodBacklogAtStop = 0;
  let floodDrainMs: number | undefined;
  let maxDriftUs = 0;
  const pressedAgain = new Map<string, number>();
  try {
    const estopBoard: TappedBoard | undefined = rig.boards.find((b) => b.map.channels.some((c) => c.device === device && c.channel === channel));
    const pinChannel = estopBoard?.map.channels.find((c) => c.device === device && c.channel === channel);
    if (!estopBoard || !pinChannel) throw new Error(`${source.input} is not on a station board of ${DEMO_SERIAL_CELL}`);
    const level = (logical: boolean): 0 | 1 => (logical !== pinChannel.activeLow ? 1 : 0);
    estopContact = { pin: pinChannel.pin, openLevel: level(false) };
    // A board's safe state is board-wide and latched: the station driver sends one `safe` frame per
    // board however many of its devices are sent to it in that turn.
    const expectedSafe = new Map(rig.boards.map((b) => [b.link, 1]));

    for (const b of rig.boards) {
      const isEstopTelemetry = estopDetector();
      b.tap.onFrame((f) => {
        const estopShown = f.direction === 'toController' && isEstopTelemetry(f.frame);
        const trip = current;
        if (!trip || f.monoNs < trip.t0) return;
        const slot = trip.wire.get(b.link)!;
        if (estopShown && slot.telemetryNs === undefined) slot.telemetryNs = f.monoNs;
        if (f.direction === 'toBoard' && f.frame.type === MSG.safe && !slot.safeNs.has(f.frame.seq)) slot.safeNs.set(f.frame.seq, f.monoNs);
      });
    }
    run.start();
    await run.attachFaces();
    const bus = run.bus as EmbeddedBus;
    const topics = run.controller.topics;
    bus.subscribe(topics.command, (m) => {
      if (m.data === floodWord) floodReceived++;
    });
    const estopActive = () => {
      const s = bus.latest(topics.state);
      return s ? (JSON.parse(s.data) as CellStateMessage).estop.active : undefined;
    };
    const lastFault = () => {
      const st = bus.latest(topics.state);
      const f = st ? (JSON.parse(st.data) as CellStateMessage).lastFault : undefined;
      return f ? `${f.kind}: ${f.message}` : undefined;
    };
    await waitUntil('Stopped after boot', () => run.state === 'Stopped', 15_000);
    const rand = random(13);
    const refusals = new Map<string, string>();
    const floodRefusal = `"command":${JSON.stringify(floodWord)}`;
    bus.subscribe(topics.events, (m) => {
      // The controller handles operator commands in turns (a backlog when they come faster): a
      // flood command counts as handled when its refusal is published. No JSON parse per flood event.
      if (m.data.includes(floodRefusal) && m.data.includes('"command.rejected"')) {
        floodHandled++;
        if (m.data.includes('commands are already waiting')) floodRefusedFull++;
        return;
      }
      const e = JSON.parse(m.data) as { type: string; command?: string; reason?: string };
      if (e.type === 'command.rejected' && e.command && e.command !== floodWord) refusals.set(e.command, e.reason ?? '');
    });
    /**
     * Press a command button as an operator would: once, and again every second while the cell is
     * still in `from` (the controller refused it, e.g. a device not yet heard from), until `to`.
     */
    const press = async (word: string, from: string, to: string, timeoutMs: number) => {
      const end = performance.now() + timeoutMs;
      while (run.state !== to) {
        if (performance.now() > end) throw new Error(`${word} did not bring the cell to ${to} in ${timeoutMs / 1000} s (it is ${run.state}; last refusal of ${word}: ${refusals.get(word) ?? 'none'})`);
        if (run.state === from) {
          refusals.delete(word);
          run.send(word);
          if (refusals.has(word)) pressedAgain.set(word, (pressedAgain.get(word) ?? 0) + 1);
        }
        // Give the press a second to take the cell out of `from` (under a flood it waits in the
        // controller's command backlog) before pressing again: never a tight loop of presses.
        await waitUntil(`${to} after ${word}`, () => run.state !== from, 1000).catch(() => {});
        if (run.state !== to && run.state !== from) await waitUntil(`${to} after ${word}`, () => run.state === to, Math.max(0, end - performance.now())).catch(() => {});
      }
    };
    const clearToStopped = async () => {
      await press('clear', 'Aborted', 'Stopped', 10_000);
    };

    const trip = async (condition: Condition) => {
      if (condition.endsWith('production')) {
        await press('reset', 'Stopped', 'Idle', 30_000);
        await press('start', 'Idle', 'Execute', 10_000);
        await sleep(300 + rand() * 2500);
        if (run.state !== 'Execute') throw new Error(`production trip: the cell left Execute by itself (${run.state})`);
      } else {
        // The previous trip's safe frames (the safe state sent again on entering Aborting) go out
        // one at a time, each waiting for the board's acknowledgement: let them all be written
        // (none for longer than the 100 ms retransmission timeout) so that none falls into this trip.
        await waitUntil("the previous trip's safe frames written", () => now() - lastSafeWriteNs > 150_000_000n, 5000);
        await sleep(5 + rand() * 40); // not phase-locked to the 20 ms telemetry period
      }
      const t: Trip = {
        condition,
        t0: 0n,
        wire: new Map(rig.boards.map((b) => [b.link, { safeNs: new Map() }])),
        inProcess: new Map(rig.boards.map((b) => [b.tap.controllerPath, { writeNs: [] }])),
      };
      current = t;
      t.t0 = now();
      const delivered = estopBoard.board.setInput(pinChannel.pin, level(false)).then(() => (t.deliveredNs = now()));
      try {
        await waitUntil('every safe frame on the wire', () => rig.boards.every((b) => t.wire.get(b.link)!.safeNs.size >= expectedSafe.get(b.link)!), 3000);
        await waitUntil('every safe frame written', () => rig.boards.every((b) => t.inProcess.get(b.tap.controllerPath)!.writeNs.length >= expectedSafe.get(b.link)!), 1000);
        await delivered;
      } finally {
        current = undefined;
      }
      const wires = [...t.wire.values()];
      const procs = [...t.inProcess.values()];
      // The reaction is the first safe frame on each board's link; the controller sends the safe
      // state once more on entering Aborting, and those later frames are not counted.
      const reaction = (link: string, times: Iterable<bigint>) => [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, expectedSafe.get(link)!);
      const wireTimes = rig.boards.flatMap((b) => reaction(b.link, t.wire.get(b.link)!.safeNs.values()));
      const wireLast = wireTimes.reduce((a, b) => (b > a ? b : a));
      const wireFirst = wireTimes.reduce((a, b) => (b < a ? b : a));
      const tel = wires.find((w) => w.telemetryNs !== undefined)?.telemetryNs;
      const data = procs.find((p) => p.dataNs !== undefined)?.dataNs;
      if (tel === undefined || data === undefined) throw new Error(`trip ${results.length + 1}: the e-stop telemetry frame was not seen (${tel === undefined ? 'on the wire' : 'in the process'})`);
      // A safe state commanded before the e-stop telemetry arrived was not this reaction (e.g. a
      // board heard from too late counts as a tripped safety input): the trip is a failure, not a figure.
      if (wireFirst < tel) throw new Error(`trip ${results.length + 1}: the safe state was on the wire ${ms(tel - wireFirst).toFixed(1)} ms before the e-stop telemetry (another cause)`);
      const writes = rig.boards.flatMap((b) => reaction(b.link, t.inProcess.get(b.tap.controllerPath)!.writeNs));
      const writeLast = writes.reduce((a, b) => (b > a ? b : a));
      const writeFirst = writes.reduce((a, b) => (b < a ? b : a));
      if (writeFirst < data) throw new Error(`trip ${results.length + 1}: the first safe frame was written ${ms(data - writeFirst).toFixed(1)} ms before the e-stop telemetry reached the process (another cause)`);
      results.push({
        condition,
        wireLastSafeMs: ms(wireLast - t.t0),
        wireFirstSafeMs: ms(wireFirst - t.t0),
        wireTelemetryMs: ms(tel - t.t0),
        wireHostMs: ms(wireLast - tel),
        inProcessLastMs: ms(writeLast - data),
        inProcessFirstMs: ms(writeFirst - data),
        deliveryMs: ms(t.deliveredNs! - t.t0),
      });
      // The operator's way back: release the button, Clear once the controller sees it released.
      await waitUntil('Aborted', () => run.state === 'Aborted', 10_000);
      await estopBoard.board.setInput(pinChannel.pin, level(true));
      await waitUntil('the e-stop released at the controller', () => estopActive() === false, 5000);
      await clearToStopped();
    };

    let consecutiveFailures = 0;
    const maxConsecutiveFailures = opts.quick ? 3 : 10;
    const runTrips = async (condition: Condition) => {
      for (let i = 0; i < counts[condition]; i++) {
        try {
          await trip(condition);
          consecutiveFailures = 0;
        } catch (e) {
          const message = `${condition}: ${e instanceof Error ? e.message : String(e)} (cell ${run.state}, last fault: ${lastFault() ?? 'none'})`;
          failures.push(message);
          opts.log(`  e-stop trip failed: ${message}`);
          // A failed trip is a result (counted in the table); only a rig that no longer works at all ends the run.
          consecutiveFailures++;
          if (consecutiveFailures >= maxConsecutiveFailures) {
            skipped.push(`${condition}: ${maxConsecutiveFailures} trips in a row failed; the remaining ${counts[condition] - i - 1} ${condition} trips were not run`);
            return;
          }
          // Bring the cell back to Stopped as an operator would before the next trip.
          await estopBoard.board.setInput(pinChannel.pin, level(true));
          await sleep(200);
          for (let attempt = 0; attempt < 10 && run.state !== 'Stopped'; attempt++) {
            if (run.state === 'Aborted') run.send('clear');
            else if (!['Stopping', 'Clearing', 'Aborting'].includes(run.state)) run.send('stop');
            await waitUntil('Stopped after a failed trip', () => run.state === 'Stopped', 3000).catch(() => {});
          }
          if (run.state !== 'Stopped') {
            skipped.push(`${condition}: after a failed trip the cell stays ${run.state}; the remaining ${counts[condition] - i - 1} ${condition} trips were not run`);
            return;
          }
        }
        if (i % 50 === 49) opts.log(`  e-stop ${condition}: ${i + 1}/${counts[condition]}`);
      }
    };
    await runTrips('idle');
    await runTrips('production');
    if (counts['flood-idle'] + counts['flood-production'] > 0) {
      const flood = Flood.start(`ws://127.0.0.1:${bridge!.port}/`, floodRate, floodWord);
      await flood.started;
      const floodStart = performance.now();
      const receivedBefore = floodReceived;
      const handledBefore = floodHandled;
      try {
        await runTrips('flood-idle');
        await runTrips('flood-production');
      } finally {
        await flood.stop();
        floodWallMs = performance.now() - floodStart;
        floodReceived -= receivedBefore;
        floodHandled -= handledBefore;
        floodHandledDuring = floodHandled;
        floodBacklogAtStop = floodReceived - floodHandled;
      }
      // Commands still waiting in the controller's backlog are handled after the flood stops: wait
      // for them (bounded) so that they do not run on into whatever is measured next.
      const drainStart = performance.now();
      await waitUntil('the flood backlog handled', () => floodHandled >= floodReceived, 120_000)
        .then(() => (floodDrainMs = performance.now() - drainStart))
        .catch(() => skipped.push(`the controller had not handled the flood's backlog 120 s after the flood stopped (${floodReceived - floodHandled} commands left)`));
    }
    for (const b of rig.boards) maxDriftUs = Math.max(maxDriftUs, Math.abs(Number(b.tap.recalibrate()) / 1000));
    const parseErrors = rig.boards.map((b) => b.tap.parseErrors).join('');
    if (parseErrors) throw new Error(`wire tap: ${parseErrors}`);
  } finally {
    current = undefined;
    await run.close();
    await rig.close();
  }

  if (results.length === 0) throw new Error(`no e-stop trip completed: ${failures.slice(0, 3).join('; ')}`);
  const of = (c: Condition | 'all') => results.filter((r) => c === 'all' || r.condition === c);
  const pick = (c: Condition | 'all', k: keyof Omit<TripResult, 'condition'>) => of(c).map((r) => r[k]);
  const conditions: Condition[] = ['idle', 'production', 'flood-idle', 'flood-production'];
  const wireGoal = { stat: 'p99', op: '<=', limit: 3 } as const;
  const procGoal = { stat: 'p99', op: '<=', limit: 1 } as const;
  const present = conditions.filter((c) => of(c).length > 0);
  const wireFigures: Figure[] = [
    distributionFigure('estop.wire.all', 'pin → last safe frame on the wire, all trips', 'ms', pick('all', 'wireLastSafeMs'), wireGoal),
    ...present.map((c) => distributionFigure(`estop.wire.${c}`, `  ${c}`, 'ms', pick(c, 'wireLastSafeMs'), wireGoal)),
    distributionFigure('estop.wire.firstSafe', 'pin → first safe frame on the wire', 'ms', pick('all', 'wireFirstSafeMs')),
    distributionFigure('estop.wire.board', '  of which pin → e-stop telemetry on the wire (board, 115200 baud)', 'ms', pick('all', 'wireTelemetryMs')),
    distributionFigure('estop.wire.host', '  of which telemetry on the wire → last safe frame on the wire', 'ms', pick('all', 'wireHostMs')),
    distributionFigure('estop.wire.delivery', 'pin request → applied in the board process (upper bound)', 'ms', pick('all', 'deliveryMs')),
    valueFigure('estop.failures', 'trips without a complete measurement (see notes)', 'trips', failures.length, { stat: 'value', op: '<=', limit: 0 }),
  ];
  const floodTrips = of('flood-idle').length + of('flood-production').length;
  if (floodTrips > 0) {
    wireFigures.push(
      valueFigure('estop.flood.rate', 'flood commands delivered to the controller (command topic)', 'commands/s', floodReceived / (floodWallMs / 1000), { stat: 'value', op: '>=', limit: floodRate * 0.95 }, 'the load condition: did the flood arrive?'),
      valueFigure('estop.flood.handled', 'flood commands handled (refused) by the controller meanwhile', 'commands/s', floodHandledDuring / (floodWallMs / 1000)),
      valueFigure('estop.flood.refusedFull', '  of which refused on arrival (backlog full)', 'commands/s', floodRefusedFull / (floodWallMs / 1000)),
      valueFigure('estop.flood.backlog', 'flood commands still in its backlog when the flood stopped', 'commands', floodBacklogAtStop),
    );
    if (floodDrainMs !== undefined) wireFigures.push(valueFigure('estop.flood.drain', 'time to handle that backlog after the flood stopped', 's', floodDrainMs / 1000));
  }
  const procFigures: Figure[] = [
    distributionFigure('estop.process.all', 'e-stop telemetry in → last safe frame to write(), all trips', 'ms', pick('all', 'inProcessLastMs'), procGoal),
    ...present.map((c) => distributionFigure(`estop.process.${c}`, `  ${c}`, 'ms', pick(c, 'inProcessLastMs'), procGoal)),
    distributionFigure('estop.process.first', 'e-stop telemetry in → first safe frame to write()', 'ms', pick('all', 'inProcessFirstMs'), procGoal),
  ];
  const trips = conditions.map((c) => `${of(c).length} ${c}`).join(', ');
  return [
    {
      id: 'estopWire',
      title: '2 e-stop, serial rig, wire',
      figures: wireFigures,
      notes: [
        ...[...pressedAgain].map(([word, n]) => `${word} was refused ${n} times and pressed again (the operator's way; e.g. while a device's telemetry was late).`),
        `${results.length} trips (${trips}) on hardware/cells/demo-serial.yaml: the conveyor board's firmware in avr8js, one safe frame expected per board (the board's safe state is board-wide: the station driver sends one frame for all the devices on its link).`,
        `Flood: ${floodRate} "${floodWord}" commands/s from a separate process through the Foxglove WebSocket bridge, refused by the controller. The controller handles 16 operator commands per event-loop turn; at most 1,024 wait (64 more places for stop and abort) and the rest are refused as they arrive, so the operator's own Clear/Reset/Start wait behind at most that backlog (or are refused while it is full: the harness presses again).`,
        `Clocks: CLOCK_MONOTONIC; socat's REALTIME stamps converted with an offset re-measured at the end (drift ${maxDriftUs.toFixed(1)} µs).`,
        ...failures.slice(0, 10).map((f) => `failed trip: ${f}`),
        ...(failures.length > 10 ? [`... and ${failures.length - 10} more failed trips`] : []),
        ...skipped,
      ],
    },
    {
      id: 'estopProcess',
      title: '3 e-stop, in-process',
      figures: procFigures,
      notes: ['From serialport delivering the chunk that completes the e-stop telemetry frame to the station driver handing the last `safe` frame to serialport write(); the same trips as 2.'],
    },
  ];
}
