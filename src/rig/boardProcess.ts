/**
 * A simulated station board as its own process: the firmware image in avr8js, its UART bridged
 * to a pty by socat (the controller opens the link path like a USB serial board), and the
 * conveyor physics on its pins. Controlled over JSON lines on stdin/stdout (src/rig/control.ts);
 * exits when stdin closes, so a killed parent leaves nothing behind.
 *
 * Usage: node boardProcess.js '<RigBoardConfig JSON>'
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { AvrStation } from './avr.js';
import { ConveyorPhysics } from './conveyorPhysics.js';
import type { RigBoardConfig, RigEvent, RigRequest, RigState } from './control.js';
import { parseIntelHex } from './hex.js';
import { PtyCable } from './ptyCable.js';
import { encodeFrame, FrameReader, MSG, decodeAck } from '../serial/protocol.js';

function emit(event: RigEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const config = JSON.parse(process.argv[2] ?? 'null') as RigBoardConfig | null;
if (!config) {
  process.stderr.write('usage: boardProcess <RigBoardConfig JSON>\n');
  process.exit(2);
}

const program = parseIntelHex(readFileSync(config.hexPath, 'utf8'), config.hexPath);
const station = new AvrStation(program);
for (const [pin, level] of Object.entries(config.inputs)) station.setInput(Number(pin), level === 1);
const physics = new ConveyorPhysics(station, config.physics);
let homeOverride: boolean | null = null;

const cable = new PtyCable(config.linkPath, (chunk) => station.receive(chunk), (message) => emit({ event: 'error', message }));

station.onTransmit = (bytes) => cable.write(bytes);

/** Provision through the chip's UART directly (no pty yet), as on a bench before the board ships. */
function benchProvision(body: Uint8Array): void {
  let status: number | undefined;
  const reader = new FrameReader((r) => {
    if (r.ok && r.frame.type === MSG.ack && r.frame.body[0] === 1) {
      const ack = decodeAck(r.frame.body);
      if (ack.ok) status = ack.value.status;
    }
  });
  const toPty = station.onTransmit;
  station.onTransmit = (bytes) => reader.push(bytes);
  station.receive(Uint8Array.of(0, ...encodeFrame({ type: MSG.query, seq: 0, epoch: 0, body: new Uint8Array() })));
  station.receive(Uint8Array.of(0, ...encodeFrame({ type: MSG.provision, seq: 1, epoch: 0, body })));
  // The EEPROM write takes about 3.4 ms a byte: allow a simulated second.
  for (let slice = 0; slice < 100 && status === undefined; slice++) station.runCycles(16_000_000 / 100);
  station.onTransmit = toPty;
  if (status !== 0) throw new Error(`bench provisioning failed: ${status === undefined ? 'no acknowledgement' : `status ${status}`}`);
}

const plug = () => cable.plug();
const unplug = () => cable.unplug();

function state(): RigState {
  const levels: number[] = [];
  const outputs: number[] = [];
  for (let pin = 0; pin < 20; pin++) {
    levels.push(station.level(pin));
    if (station.isOutput(pin)) outputs.push(pin);
  }
  return {
    beltMm: physics.beltMm,
    beltSteps: physics.beltSteps,
    stepPulses: physics.stepPulses,
    lostSteps: physics.lostSteps,
    lastStepAt: physics.lastStepAt,
    driveEnabled: physics.driveEnabled,
    levels,
    outputs,
    uptimeMs: station.uptimeMs,
    plugged: cable.plugged,
  };
}

async function handle(request: RigRequest): Promise<RigState | undefined> {
  switch (request.op) {
    case 'setInput':
      station.setInput(request.pin, request.level === 1);
      return undefined;
    case 'pulse':
      station.pulseInput(request.pin, request.level === 1, request.ms);
      return undefined;
    case 'slip':
      physics.slip(request.steps);
      return undefined;
    case 'state':
      return state();
    case 'unplug':
      await unplug();
      return undefined;
    case 'plug':
      await plug();
      return undefined;
    case 'powerCycle':
      station.boot(0x01);
      physics.updateHome();
      return undefined;
    case 'inject':
      cable.write(Uint8Array.from(request.bytes));
      return undefined;
    case 'setHomeOverride':
      homeOverride = request.onMark;
      physics.homeAt = homeOverride === null ? undefined : () => homeOverride === true;
      physics.updateHome();
      return undefined;
  }
}

async function shutdown(code: number): Promise<never> {
  cable.exiting = true;
  station.stop();
  await unplug().catch(() => {});
  process.exit(code);
}

if (config.reportBelt) {
  let last = Number.NaN;
  let timer: NodeJS.Timeout | undefined;
  physics.onMove(() => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (physics.beltMm !== last) emit({ event: 'belt', beltMm: (last = physics.beltMm) });
    }, 5);
  });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let request: RigRequest;
  try {
    request = JSON.parse(line) as RigRequest;
  } catch {
    emit({ event: 'error', message: `control line is not JSON: ${line.slice(0, 80)}` });
    return;
  }
  handle(request).then(
    (s) => emit(s ? { event: 'reply', id: request.id, ok: true, state: s } : { event: 'reply', id: request.id, ok: true }),
    (error: unknown) => emit({ event: 'reply', id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
});
process.stdin.on('end', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

// JIT warm-up and boot before pacing, so the first seconds do not lag.
station.runCycles(16_000_000 / 5);
try {
  if (config.benchProvision) benchProvision(Uint8Array.from(config.benchProvision));
  station.start();
  (config.startUnplugged ? Promise.resolve() : plug()).then(
    () => emit({ event: 'ready', linkPath: config.linkPath }),
    (error: unknown) => {
      emit({ event: 'error', message: error instanceof Error ? error.message : String(error) });
      void shutdown(1);
    },
  );
} catch (error) {
  emit({ event: 'error', message: error instanceof Error ? error.message : String(error) });
  void shutdown(1);
}
