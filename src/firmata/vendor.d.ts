/**
 * The parts of johnny-five 2.1 and firmata-io 2.3 (plain JavaScript, no published types) this
 * driver uses.
 */
declare module 'firmata-io' {
  import { EventEmitter } from 'node:events';

  export interface FirmataPin {
    supportedModes: number[];
    /** Analog channel of the pin (A0 = 0), 127 when it has none. */
    analogChannel: number;
    mode?: number;
    value?: number;
  }

  export interface FirmataOptions {
    /** Ask for the version this long after opening when the boot report was missed. */
    reportVersionTimeout?: number;
    samplingInterval?: number;
    skipCapabilities?: boolean;
  }

  export class Firmata extends EventEmitter {
    constructor(transport: unknown, options?: FirmataOptions);
    isReady: boolean;
    pins: FirmataPin[];
    analogPins: number[];
    firmware: { name?: string; version?: { major: number; minor: number } };
    MODES: { INPUT: number; OUTPUT: number; ANALOG: number; PWM: number; SERVO: number; PULLUP: number };
    reportVersionTimeoutId: NodeJS.Timeout | undefined;
    pinMode(pin: number, mode: number): this;
    digitalWrite(pin: number, value: 0 | 1): this;
    digitalRead(pin: number, callback: (value: number) => void): this;
    analogRead(channel: number, callback: (value: number) => void): this;
    reportAnalogPin(channel: number, value: 0 | 1): void;
    reportDigitalPin(pin: number, value: 0 | 1): void;
    setSamplingInterval(ms: number): void;
    reportVersion(callback: () => void): void;
    queryFirmware(callback: () => void): void;
  }

  const bindTransport: ((transport: unknown) => typeof Firmata) & { Firmata: typeof Firmata };
  export default bindTransport;
}

declare module 'johnny-five' {
  import { EventEmitter } from 'node:events';
  import type { Firmata } from 'firmata-io';

  export interface BoardOptions {
    io: Firmata;
    repl?: boolean;
    debug?: boolean;
    /** false: no SIGINT handler of its own (it would exit the process under the controller). */
    sigint?: boolean;
    /** ms from "connect" to "ready" before the board reports an error. */
    timeout?: number;
    id?: string;
  }

  export class Board extends EventEmitter {
    constructor(options: BoardOptions);
    readonly io: Firmata;
    isReady: boolean;
    /** The connect-to-ready timeout johnny-five starts on "connect". */
    timer: NodeJS.Timeout | null;
  }

  export interface PinOptions {
    pin: number;
    board: Board;
    type?: 'digital' | 'analog';
    /** 0 input, 1 output, 2 analog. */
    mode?: number;
  }

  export class Pin extends EventEmitter {
    constructor(options: PinOptions);
    high(): this;
    low(): this;
    static readonly OUTPUT: number;
    static readonly INPUT: number;
    static readonly ANALOG: number;
  }

  const five: { Board: typeof Board; Pin: typeof Pin };
  export default five;
}
