/**
 * One simulated ATmega328P (avr8js) running a firmware image unchanged: timers, USART, GPIO,
 * EEPROM, held to wall-clock pace (16 MHz is real time). The USART is exposed as bytes in and
 * bytes out; pins by Arduino Uno number (0-7 port D, 8-13 port B, 14-19 port C).
 */
import {
  AVREEPROM,
  AVRIOPort,
  AVRTimer,
  AVRUSART,
  CPU,
  EEPROMMemoryBackend,
  PinState,
  avrInstruction,
  eepromConfig,
  portBConfig,
  portCConfig,
  portDConfig,
  timer0Config,
  timer1Config,
  timer2Config,
  usart0Config,
} from 'avr8js';

export const CLOCK_HZ = 16_000_000;
const MCUSR = 0x54;
const SREG = 0x5f;
/** Lag beyond which the simulator stops catching up (a paused process must not replay seconds at once). */
const MAX_CATCH_UP_CYCLES = CLOCK_HZ / 20;

export type PinListener = (pin: number, level: 0 | 1) => void;

export function pinLocation(pin: number): { port: 'B' | 'C' | 'D'; bit: number } {
  if (!Number.isInteger(pin) || pin < 0 || pin > 19) throw new RangeError(`pin ${pin} is not on an ATmega328P (0-19)`);
  if (pin < 8) return { port: 'D', bit: pin };
  if (pin < 14) return { port: 'B', bit: pin - 8 };
  return { port: 'C', bit: pin - 14 };
}

export class AvrStation {
  private cpu!: CPU;
  private usart!: AVRUSART;
  private ports!: Record<'B' | 'C' | 'D', AVRIOPort>;
  private readonly rxQueue: number[] = [];
  private readonly inputs = new Map<number, boolean>();
  private readonly pinListeners: PinListener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private paceWall = 0;
  private paceCycles = 0;
  /** Bytes the firmware sent, delivered after each slice. */
  private txBatch: number[] = [];

  onTransmit: (bytes: Uint8Array) => void = () => {};

  constructor(
    private readonly program: Uint8Array,
    readonly eeprom: EEPROMMemoryBackend = new EEPROMMemoryBackend(1024),
  ) {
    this.boot(0x01);
  }

  /** Power-on (or another reset cause, as MCUSR bits): a fresh chip, the same EEPROM and wiring. */
  boot(resetCause: number): void {
    const words = new Uint16Array(this.program.buffer.slice(this.program.byteOffset, this.program.byteOffset + this.program.byteLength));
    this.cpu = new CPU(words);
    new AVRTimer(this.cpu, timer0Config);
    new AVRTimer(this.cpu, timer1Config);
    new AVRTimer(this.cpu, timer2Config);
    new AVREEPROM(this.cpu, this.eeprom);
    this.usart = new AVRUSART(this.cpu, usart0Config, CLOCK_HZ);
    // avr8js clears UDRE when its interrupt is serviced; on the chip only writing UDR clears it
    // (datasheet 20.11.2). Without this, a transmitter that idles with UDRIE off never restarts.
    const usartInternals = this.usart as unknown as { UDRE: { constant: boolean }; RXC: Parameters<CPU['setInterruptFlag']>[0] };
    usartInternals.UDRE.constant = true;
    // avr8js also drops a received byte whose interrupt is pending when UCSR0B is written (as a
    // transmitter toggling UDRIE does); the chip keeps it. Re-raise RXC after such a write.
    const writeUcsrb = this.cpu.writeHooks[usart0Config.UCSRB]!;
    this.cpu.writeHooks[usart0Config.UCSRB] = (value, oldValue, addr, mask) => {
      const received = this.cpu.data[usart0Config.UCSRA]! & 0x80;
      const handled = writeUcsrb(value, oldValue, addr, mask);
      if (received) this.cpu.setInterruptFlag(usartInternals.RXC);
      return handled;
    };
    this.ports = { B: new AVRIOPort(this.cpu, portBConfig), C: new AVRIOPort(this.cpu, portCConfig), D: new AVRIOPort(this.cpu, portDConfig) };
    this.cpu.data[MCUSR] = resetCause;

    this.rxQueue.length = 0;
    this.usart.onByteTransmit = (byte) => this.txBatch.push(byte);
    // The USART refuses a byte while it still receives one: feed the next from its completion.
    this.usart.onRxComplete = () => this.pumpRx();
    for (const [name, offset] of [['B', 8], ['C', 14], ['D', 0]] as const) {
      this.ports[name].addListener((value, old) => {
        const changed = value ^ old;
        for (let bit = 0; bit < 8; bit++) {
          if (changed & (1 << bit)) for (const l of this.pinListeners) l(offset + bit, (value >> bit) & 1 ? 1 : 0);
        }
      });
    }
    for (const [pin, level] of this.inputs) this.applyInput(pin, level);
    this.paceWall = performance.now();
    this.paceCycles = 0;
  }

  get cycles(): number {
    return this.cpu.cycles;
  }

  /** Simulated time since the last boot, ms. */
  get uptimeMs(): number {
    return (this.cpu.cycles / CLOCK_HZ) * 1000;
  }

  onPinChange(listener: PinListener): void {
    this.pinListeners.push(listener);
  }

  /** Drive an input pin from outside (the wiring); remembered across reboots. */
  setInput(pin: number, level: boolean): void {
    this.inputs.set(pin, level);
    this.applyInput(pin, level);
  }

  /**
   * Drive an input to `level` for `ms` of the chip's own time, then back to where it was: a
   * bounce or a short pulse, exact whatever the host's load.
   */
  pulseInput(pin: number, level: boolean, ms: number): void {
    const back = this.inputs.get(pin) ?? false;
    this.setInput(pin, level);
    this.cpu.addClockEvent(() => this.setInput(pin, back), Math.max(1, Math.round((ms * CLOCK_HZ) / 1000)));
  }

  private applyInput(pin: number, level: boolean): void {
    const { port, bit } = pinLocation(pin);
    this.ports[port].setPin(bit, level);
  }

  /** Level the chip drives on a pin (outputs), or the level on an input pin. */
  level(pin: number): 0 | 1 {
    const { port, bit } = pinLocation(pin);
    const state = this.ports[port].pinState(bit);
    if (state === PinState.High) return 1;
    if (state === PinState.Low) return 0;
    return this.inputs.get(pin) ? 1 : 0;
  }

  isOutput(pin: number): boolean {
    const { port, bit } = pinLocation(pin);
    const state = this.ports[port].pinState(bit);
    return state === PinState.High || state === PinState.Low;
  }

  receive(bytes: Uint8Array): void {
    for (const b of bytes) this.rxQueue.push(b);
    this.pumpRx();
  }

  private pumpRx(): void {
    if (this.rxQueue.length === 0 || this.usart.rxBusy || !this.usart.rxEnable) return;
    if (this.usart.writeByte(this.rxQueue[0]!) !== false) this.rxQueue.shift();
  }

  /** Run `cycles` cycles as fast as possible (boot, JIT warm-up, tests). */
  runCycles(cycles: number): void {
    const end = this.cpu.cycles + cycles;
    const cpu = this.cpu;
    const data = cpu.data;
    while (cpu.cycles < end) {
      const interruptsWereOff = (data[SREG]! & 0x80) === 0;
      avrInstruction(cpu);
      // The chip executes one more instruction after the I flag is set (SEI, OUT SREG, RETI)
      // before it serves an interrupt; avr8js does not. Compilers rely on it to update SP
      // atomically (out SPH; out SREG; out SPL): without it an interrupt lands on a half-written
      // stack pointer and its pushes corrupt memory.
      if (interruptsWereOff && (data[SREG]! & 0x80) !== 0) avrInstruction(cpu);
      cpu.tick();
    }
    this.pumpRx();
    this.flushTx();
  }

  private flushTx(): void {
    if (this.txBatch.length === 0) return;
    const bytes = Uint8Array.from(this.txBatch);
    this.txBatch = [];
    this.onTransmit(bytes);
  }

  /** Run at wall-clock pace until stop(). */
  start(): void {
    if (this.timer) return;
    this.paceWall = performance.now();
    this.paceCycles = this.cpu.cycles;
    const slice = () => {
      const target = this.paceCycles + ((performance.now() - this.paceWall) * CLOCK_HZ) / 1000;
      let behind = target - this.cpu.cycles;
      if (behind > MAX_CATCH_UP_CYCLES) {
        // Too far behind (the host was busy): drop the backlog rather than replay it in a burst.
        this.paceCycles -= behind - MAX_CATCH_UP_CYCLES;
        behind = MAX_CATCH_UP_CYCLES;
      }
      while (behind > 0) {
        const chunk = Math.min(behind, CLOCK_HZ / 2000);
        this.runCycles(chunk);
        behind -= chunk;
      }
      this.timer = setTimeout(slice, 1);
    };
    this.timer = setTimeout(slice, 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
