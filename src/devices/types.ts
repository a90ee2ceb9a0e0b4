/**
 * The device interface: what the controller sees of a station, whatever drives it (the embedded
 * simulator, a serial station board, a Firmata board, ROS 2 topics and actions).
 *
 * Modelled on ros2_control's hardware component: a lifecycle (configure, activate, deactivate)
 * and a read/write split. A device carries out commands and reports what it measures; it never
 * decides a state change. Confirmation of a step (did the part arrive, did the arm reach its
 * pose) is the controller's job, from `read()` and feedback, against deadlines.
 */

export type DeviceKind = 'feeder' | 'arm' | 'conveyor' | 'io';

/** Commands that leave the controller for a device. Plain data: journaled and logged as is. */
export type DeviceCommand =
  /** Feeder: pulse the release actuator for its `release_pulse_ms`. */
  | { type: 'release' }
  /**
   * Arm: synchronised joint-space move to `target` (radians, one per joint); `pose` names it.
   * `speedScale` (0, 1], optional: run at that fraction of the joints' maximum speeds (a
   * commissioning jog's reduced speed); absent means full speed.
   */
  | { type: 'move'; pose: string; target: number[]; speedScale?: number }
  /** Arm: vacuum valve of the gripper. */
  | { type: 'vacuum'; on: boolean }
  /** Conveyor: find the home mark, then zero the position counter. */
  | { type: 'home' }
  /**
   * Conveyor: relative move of the axis by `steps` motor steps (positive is downstream).
   * `speedScale` (0, 1], optional: top speed is that fraction of `max_speed_mm_s` (a jog).
   */
  | { type: 'index'; steps: number; speedScale?: number }
  /** Any device: controlled stop of the current motion (category 2: power kept). */
  | { type: 'stop' }
  /** I/O device: set one output. */
  | { type: 'setOutput'; channel: string; value: boolean }
  /**
   * Any device: every output to its safe value from the description, every axis stopped with the
   * given stop category (0: drive power removed now; 1: controlled stop, then power removed).
   */
  | { type: 'safeState'; category: 0 | 1 };

export type DeviceCommandType = DeviceCommand['type'];

/** Commands that start motion: the ones interlocks and the e-stop latch refuse. */
export const MOTION_COMMANDS: ReadonlySet<DeviceCommandType> = new Set(['release', 'move', 'home', 'index']);

export interface AxisReading {
  /** Motor position counter in steps since homing (what the drive believes). */
  positionSteps: number;
  /** Encoder count since homing: what the belt really did (lost steps show here). */
  encoderCount: number;
  /** False after power-up or a microcontroller reset until the axis is homed again. */
  homed: boolean;
}

/** Measured state of one device. Inputs and outputs are logical values (polarity applied). */
export interface Reading {
  /** Feeder: part_at_pick. Arm: vacuum_ok. Conveyor: home, part_at_exit. I/O: its inputs. */
  inputs: Record<string, boolean>;
  /** Feeder: release. Arm: vacuum. I/O: its outputs. */
  outputs: Record<string, boolean>;
  /** True while the device is carrying out a motion command. */
  moving: boolean;
  /** Arm: measured joint positions, radians, in the description's joint order. */
  joints?: number[];
  /** Conveyor: its axis. */
  axis?: AxisReading;
}

export type DeviceFeedback =
  /** The measured state changed (an input, an output, motion started or ended, joints moved). */
  | { type: 'reading'; reading: Reading }
  /** The device finished, or gave up on, the motion started by `command`. */
  | { type: 'motionDone'; command: DeviceCommand }
  /** A sign of life on the link. */
  | { type: 'heartbeat' }
  /** The device (re)booted: its position is lost until homed. */
  | { type: 'reset'; cause: string }
  /** The device refused or could not parse a command. */
  | { type: 'refused'; command: DeviceCommand | undefined; reason: string };

export type FeedbackListener = (feedback: DeviceFeedback) => void;

export interface DeviceDriver {
  readonly name: string;
  readonly kind: DeviceKind;
  /** Check that the description can be driven (pins, topics, joints); throw with a clear message if not. */
  configure(): void;
  /** Start exchanging with the device. */
  activate(): void;
  /** Stop exchanging with the device (its outputs stay where they are; safety is the firmware's). */
  deactivate(): void;
  /** Send a command. Returns at once; results come back as feedback. */
  write(command: DeviceCommand): void;
  /** Latest measured state. */
  read(): Reading;
  onFeedback(listener: FeedbackListener): () => void;
  /**
   * Optional: what the link knows about itself, for the Maintenance view and /diagnostics —
   * protocol counters (frames, CRC errors, retransmissions), firmware version, station id.
   */
  diagnostics?(): Record<string, string | number>;
}

/** A valid optional speed scale: absent, or a number in (0, 1]. Returns why not, or undefined. */
export function speedScaleProblem(scale: unknown): string | undefined {
  if (scale === undefined) return undefined;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale <= 0 || scale > 1) {
    return `speedScale must be a number in (0, 1] (got ${String(scale)})`;
  }
  return undefined;
}
