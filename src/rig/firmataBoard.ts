/**
 * A simulated StandardFirmata board as its own process: the unchanged StandardFirmata image
 * (src/firmata/image.ts) in avr8js with its ADC, its UART bridged to a pty by socat, its pins
 * driven by the parent over JSON lines on stdin/stdout (src/rig/firmataRig.ts). Exits when stdin
 * closes, so a killed parent leaves nothing behind.
 *
 * Usage: node firmataBoard.js '<FirmataRigConfig JSON>'
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { AVRADC, adcConfig, type CPU } from 'avr8js';
import { AvrStation } from './avr.js';
import type { FirmataRigConfig, FirmataRigEvent, FirmataRigRequest, FirmataRigState } from './firmataRig.js';
import { parseIntelHex } from './hex.js';
import { PtyCable } from './ptyCable.js';

function emit(event: FirmataRigEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const config = JSON.parse(process.argv[2] ?? 'null') as FirmataRigConfig | null;
if (!config) {
  process.stderr.write('usage: firmataBoard <FirmataRigConfig JSON>\n');
  process.exit(2);
}

const program = parseIntelHex(readFileSync(config.hexPath, 'utf8'), config.hexPath);
const chip = new AvrStation(program);
const analog = new Map<number, number>(Object.entries(config.analog ?? {}).map(([c, v]) => [Number(c), v]));
let adc: AVRADC;

/**
 * AvrStation (the station board's chip) has no ADC, which StandardFirmata's analogRead needs (it
 * would wait for a conversion forever): attach one to each fresh CPU. The CPU is AvrStation's own;
 * reaching it here keeps the station rig untouched.
 */
function attachAdc(): void {
  const cpu = (chip as unknown as { cpu: CPU }).cpu;
  adc = new AVRADC(cpu, adcConfig);
  for (const [channel, value] of analog) adc.channelValues[channel] = (value / 1023) * 5;
}
attachAdc();
for (const [pin, level] of Object.entries(config.inputs)) chip.setInput(Number(pin), level === 1);

const cable = new PtyCable(config.linkPath, (chunk) => chip.receive(chunk), (message) => emit({ event: 'error', message }));
let running = false;

chip.onTransmit = (bytes) => cable.write(bytes);
chip.onPinChange((pin, level) => {
  if (chip.isOutput(pin)) emit({ event: 'pin', pin, level });
});

const plug = () => cable.plug();
const unplug = () => cable.unplug();

function run(on: boolean): void {
  running = on;
  if (on) chip.start();
  else chip.stop();
}

function state(): FirmataRigState {
  const levels: number[] = [];
  const outputs: number[] = [];
  for (let pin = 0; pin < 20; pin++) {
    levels.push(chip.level(pin));
    if (chip.isOutput(pin)) outputs.push(pin);
  }
  return { levels, outputs, uptimeMs: chip.uptimeMs, plugged: cable.plugged, running };
}

async function handle(request: FirmataRigRequest): Promise<FirmataRigState | undefined> {
  switch (request.op) {
    case 'setInput':
      chip.setInput(request.pin, request.level === 1);
      return undefined;
    case 'pulseInput':
      chip.pulseInput(request.pin, request.level === 1, request.ms);
      return undefined;
    case 'setAnalog':
      if (!Number.isInteger(request.channel) || request.channel < 0 || request.channel > 7) throw new RangeError(`analog channel ${request.channel} is not on an ATmega328P (0-7)`);
      analog.set(request.channel, Math.max(0, Math.min(1023, request.value)));
      adc.channelValues[request.channel] = (analog.get(request.channel)! / 1023) * 5;
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
      chip.boot(0x01);
      attachAdc();
      return undefined;
    case 'freeze':
      run(false);
      return undefined;
    case 'thaw':
      run(true);
      return undefined;
  }
}

async function shutdown(code: number): Promise<never> {
  cable.exiting = true;
  chip.stop();
  await unplug().catch(() => {});
  process.exit(code);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let request: FirmataRigRequest;
  try {
    request = JSON.parse(line) as FirmataRigRequest;
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

// JIT warm-up before pacing, so the first seconds do not lag, and past StandardFirmata's start-up
// blink (about 1.5 s). Its boot report goes nowhere (the port is not plugged yet), as when a
// board is powered before its cable is opened: the driver asks for the version itself.
chip.runCycles(16_000_000 * 2);
run(true);
plug().then(
  () => emit({ event: 'ready', linkPath: config.linkPath }),
  (error: unknown) => {
    emit({ event: 'error', message: error instanceof Error ? error.message : String(error) });
    void shutdown(1);
  },
);
