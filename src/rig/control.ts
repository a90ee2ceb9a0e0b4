/** The control channel between a rig board process and its parent: JSON lines on stdin/stdout. */
import type { ConveyorPhysicsOptions } from './conveyorPhysics.js';

export interface RigBoardConfig {
  /** Intel HEX firmware image. */
  hexPath: string;
  /** Where the board's pty appears (a symlink socat makes); unique per board. */
  linkPath: string;
  physics: ConveyorPhysicsOptions;
  /** Level of every wired input pin at power-up (the harness drives each one explicitly). */
  inputs: Record<number, 0 | 1>;
  /** Publish the belt position (`belt` events) as it moves, for a shared simulated world. */
  reportBelt?: boolean;
  /**
   * A PROVISION body (src/serial/protocol.ts encodeProvision) written through the chip's own
   * UART before the pty appears: a board provisioned on the bench, plugged into the cell later.
   */
  benchProvision?: number[];
  /** Start with the cable pulled: the pty appears on the first `plug`. */
  startUnplugged?: boolean;
}

export type RigRequest =
  | { id: number; op: 'setInput'; pin: number; level: 0 | 1 }
  /** The pin at `level` for `ms` of the chip's time, then back (a contact bounce). */
  | { id: number; op: 'pulse'; pin: number; level: 0 | 1; ms: number }
  | { id: number; op: 'slip'; steps: number }
  | { id: number; op: 'state' }
  | { id: number; op: 'unplug' }
  | { id: number; op: 'plug' }
  | { id: number; op: 'powerCycle' }
  | { id: number; op: 'setHomeOverride'; onMark: boolean | null }
  /** Bytes onto the pty from the board's side, bypassing the chip (line noise, a babbling board). */
  | { id: number; op: 'inject'; bytes: number[] };

export interface RigState {
  beltMm: number;
  beltSteps: number;
  stepPulses: number;
  lostSteps: number;
  /** Date.now() of the last STEP pulse (0: none yet). */
  lastStepAt: number;
  driveEnabled: boolean;
  /** Levels of pins 0..19. */
  levels: number[];
  /** Pins the firmware drives as outputs. */
  outputs: number[];
  uptimeMs: number;
  plugged: boolean;
}

export type RigEvent =
  | { event: 'ready'; linkPath: string }
  | { event: 'reply'; id: number; ok: true; state?: RigState }
  | { event: 'reply'; id: number; ok: false; error: string }
  | { event: 'belt'; beltMm: number }
  | { event: 'error'; message: string };
