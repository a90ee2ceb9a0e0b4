/**
 * The cell description schema: the single source of truth for `hardware/cells/*.yaml`.
 *
 * YAML keys are snake_case (like ROS parameters); every object is converted to camelCase keys
 * once parsed. Names chosen by the user (devices, channels, poses, zones, links) are record keys
 * and are never converted. Units are part of key names (`_ms`, `_mm`, `_rad`, `_mm_s`).
 *
 * Cross-references (a zone naming an unknown pose, a joint vector of the wrong length, ...) are
 * checked in `validate.ts`, which walks the parsed result; this file only states shapes.
 */
import { z } from 'zod';

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;
type CamelKeys<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function camelKeys<T extends Record<string, unknown>>(value: T): CamelKeys<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) out[snakeToCamel(k)] = v;
  }
  return out as CamelKeys<T>;
}

/** A strict (unknown keys are errors) snake_case object, camelCased once parsed. */
function obj<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape).transform((v) => camelKeys(v as Record<string, unknown>) as CamelKeys<z.output<z.ZodObject<S>>>);
}

export const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;
const name = z
  .string()
  .regex(NAME_PATTERN, 'names are lower_snake_case: a letter, then letters, digits or underscores');

const ms = (what: string) => z.number().nonnegative().describe(`${what}, in milliseconds`);
const positiveMs = (what: string) => z.number().positive().describe(`${what}, in milliseconds`);
const rosName = z
  .string()
  .regex(/^\/[A-Za-z_][A-Za-z0-9_/]*$/, 'an absolute ROS name such as /workcell or /arm_controller/joint_trajectory');
/** A device's ROS name: absolute, or relative to its ros2 link's node_namespace. */
const deviceRosName = z
  .string()
  .regex(
    /^\/?[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/,
    "a ROS name: absolute (/feeder/release) or relative to the link's node_namespace (feeder/release)",
  );

// ---------------------------------------------------------------------------------------------
// Links: how the controller reaches a device. Channels name a link, or inherit their device's.

export const TRANSPORTS = ['sim', 'serial', 'firmata', 'ros2'] as const;
export type TransportKind = (typeof TRANSPORTS)[number];

const simLink = obj({ transport: z.literal('sim').describe('the embedded simulator') });
const serialLink = obj({
  transport: z.literal('serial').describe('a station board running workcell firmware, over a serial port'),
  path: z.string().min(1).describe('serial device path; prefer /dev/serial/by-id/... on a cell'),
  baud: z.number().int().positive().default(115200).describe('serial speed, in bits per second'),
  station_id: z.number().int().min(1).max(254).describe('station id the board reports in its boot frame'),
  watchdog_ms: positiveMs('host-loss watchdog configured on the board').default(250),
});
const firmataLink = obj({
  transport: z.literal('firmata').describe('a StandardFirmata board, over a serial port'),
  path: z.string().min(1).describe('serial device path of a StandardFirmata board'),
  baud: z.number().int().positive().default(57600).describe('serial speed, in bits per second'),
  sampling_interval_ms: positiveMs('Firmata sampling interval; its reports double as the heartbeat').default(50),
});
const ros2Link = obj({
  transport: z.literal('ros2').describe('ROS 2 topics and actions'),
  node_namespace: rosName.optional().describe("namespace the relative ROS names (topics, action) of this link's devices resolve under"),
});
export const linkSchema = z.discriminatedUnion('transport', [simLink, serialLink, firmataLink, ros2Link]);

// ---------------------------------------------------------------------------------------------
// Channels

/** Where a channel lives on its link: a pin (serial station board, Firmata) or a topic (ROS 2). */
const address = {
  link: name.optional().describe('link driving this channel; defaults to the device link'),
  pin: z.number().int().min(0).max(69).optional().describe('pin number on a serial or Firmata board'),
  topic: deviceRosName.optional().describe('ROS 2 topic (std_msgs/msg/Bool) for a ros2 link; a relative name resolves under the link\'s node_namespace'),
  active_low: z.boolean().default(false).describe('the electrical level is inverted'),
};

export const SAFE_VALUES = ['off', 'on', 'hold'] as const;
export const digitalOutputSchema = obj({
  ...address,
  safe_value: z
    .enum(SAFE_VALUES)
    .describe('value commanded on any stop: off, on, or hold (keep the present value, e.g. a vacuum gripper holding a part)'),
  forceable: z.boolean().default(true).describe('may be forced in Maintenance mode'),
});
export const digitalInputSchema = obj({
  ...address,
  debounce_ms: ms('debounce time').default(0),
  analog_threshold: z
    .number()
    .int()
    .min(0)
    .max(1023)
    .optional()
    .describe('Firmata only: read the pin as an analog input (0-1023); the input is true at or above this value'),
  analog_hysteresis: z
    .number()
    .int()
    .min(0)
    .max(511)
    .optional()
    .describe('Firmata only, with analog_threshold: once true, the input stays true until the value falls below threshold - hysteresis'),
});

export const heartbeatSchema = obj({
  period_ms: positiveMs('expected period of a sign of life'),
  miss_count: z.number().int().min(1).default(3).describe('missed periods before the device is unhealthy'),
});

const confirmSchema = obj({
  factor: z.number().min(1).default(1.5).describe('deadline = expected duration x factor + margin_ms'),
  margin_ms: ms('fixed deadline margin added to every confirmation').default(300),
});

export const FAULT_KINDS = [
  'part_not_at_pick',
  'pick_not_cleared',
  'vacuum_not_ok',
  'vacuum_not_released',
  'pose_not_reached',
  'axis_position_lost',
  'index_short',
  'part_not_at_exit',
  'home_not_found',
  'heartbeat_lost',
  'link_lost',
  'command_refused',
  'interlock_refused',
  'unexpected_part',
  'persistence_failed',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const faultPolicy = obj({
  retries: z.number().int().min(0).max(10).default(2).describe('retries of one step before the cell stays Held'),
  auto_recoverable: z.array(z.enum(FAULT_KINDS)).default([]).describe('faults that may resume by themselves after a successful Resync'),
});

const deviceCommon = {
  link: name.describe('link (from `links`) driving the device; channels may override it'),
  safety_relevant: z.boolean().default(false).describe('losing this device aborts the cell instead of holding it'),
  heartbeat: heartbeatSchema.optional().describe('expected sign of life; without it the device is not watched'),
  confirm: confirmSchema.prefault({ factor: 1.5, margin_ms: 300 }).describe('deadlines for confirming each step of this device'),
  faults: faultPolicy.prefault({ retries: 2, auto_recoverable: [] }).describe('what the controller does when a step of this device fails'),
};

// ---------------------------------------------------------------------------------------------
// Device kinds

export const feederSchema = obj({
  kind: z.literal('feeder').describe('a part feeder: releases one part to the pick position'),
  ...deviceCommon,
  release: digitalOutputSchema.describe('release actuator (solenoid)'),
  part_at_pick: digitalInputSchema.describe('part-present sensor at the pick position'),
  release_pulse_ms: positiveMs('how long the release actuator is energised'),
  feed_ms: positiveMs('simulated time from release to the part resting at the pick position'),
});

export const jointSchema = obj({
  name: name.describe('joint name, as the arm reports it (e.g. in joint_states)'),
  min_rad: z.number().describe('lower joint limit, in radians'),
  max_rad: z.number().describe('upper joint limit, in radians'),
  max_velocity_rad_s: z.number().positive().describe('maximum joint speed, in radians per second'),
});

export const armSchema = obj({
  kind: z.literal('arm').describe('a robot arm with a vacuum gripper'),
  ...deviceCommon,
  joints: z.array(jointSchema).min(1).max(12).describe('the joints in order from base to tool'),
  poses: z.record(name, z.array(z.number())).describe('named poses in joint space, radians, one value per joint'),
  home_pose: name.default('home').describe('name of the pose (from poses) that is the arm\'s home'),
  settle_ms: ms('settling time after every move').default(0),
  reach_mm: z.number().positive().optional().describe('the farthest the tool centre point can be from any joint axis, in millimetres: with it, a joint jog in Manual mode is slowed so the tool moves no faster than commissioning.jog_speed_mm_s'),
  tolerance_rad: z.number().positive().describe('per-joint tolerance for "pose reached"'),
  stop_category: z.union([z.literal(0), z.literal(1)]).default(1).describe('stop category on a safety stop: 0 removes drive power at once, 1 stops under control, then removes power'),
  ros: obj({
    action: deviceRosName.default('/arm_controller/follow_joint_trajectory').describe('FollowJointTrajectory action server'),
    trajectory_topic: deviceRosName.default('/arm_controller/joint_trajectory').describe('JointTrajectory topic, used when use_action is false'),
    joint_states_topic: deviceRosName.default('/joint_states').describe('JointState topic the measured joint positions come from'),
    use_action: z.boolean().default(true).describe('send moves through the action (true) or publish them on trajectory_topic (false)'),
  }).optional().describe('ROS 2 names, for an arm on a ros2 link'),
  gripper: obj({
    vacuum: digitalOutputSchema.describe('vacuum valve; safe value hold keeps a part'),
    vacuum_ok: digitalInputSchema.describe('vacuum switch: on when a part is held'),
    grip_ms: positiveMs('simulated time from vacuum on to vacuum ok'),
    release_ms: positiveMs('simulated time from vacuum off to the part released'),
  }).describe('the vacuum gripper'),
});

export const axisSchema = obj({
  link: name.optional().describe('link driving the axis; defaults to the device link'),
  pin: z.number().int().min(0).max(69).optional().describe('STEP pin on a station board'),
  steps_per_mm: z.number().positive().describe('motor steps per millimetre of belt travel'),
  encoder_counts_per_mm: z.number().positive().describe('encoder counts per millimetre of belt travel'),
  max_speed_mm_s: z.number().positive().describe('top belt speed, in millimetres per second'),
  accel_mm_s2: z.number().positive().describe('belt acceleration, in millimetres per second squared'),
  homing_speed_mm_s: z.number().positive().describe('belt speed while seeking the home mark, in millimetres per second'),
  tolerance_mm: z.number().positive().describe('encoder position must agree with the target within this'),
  home_sensor: digitalInputSchema.describe('home mark sensor; referred to as the channel `home`'),
  speed: obj({
    topic: deviceRosName.describe('std_msgs/msg/Float64 belt speed command, in metres per second, positive downstream'),
  }).optional().describe('belt speed command, for an axis on a ros2 link'),
  position: obj({
    topic: deviceRosName.describe('measured belt travel, in metres'),
    type: z
      .enum(['nav_msgs/msg/Odometry', 'std_msgs/msg/Float64'])
      .default('nav_msgs/msg/Odometry')
      .describe('nav_msgs/msg/Odometry (pose.pose.position.x) or std_msgs/msg/Float64 (data)'),
  }).optional().describe('measured belt travel (the encoder), for an axis on a ros2 link; its messages are also the heartbeat'),
  stop_category: z.union([z.literal(0), z.literal(1)]).default(1).describe('stop category on a safety stop: 0 removes drive power at once, 1 stops under control, then removes power'),
});

export const conveyorSchema = obj({
  kind: z.literal('conveyor').describe('an indexing conveyor driven by a stepper axis'),
  ...deviceCommon,
  axis: axisSchema.describe('the stepper axis driving the belt'),
  index_mm: z.number().positive().describe('belt travel of one index'),
  place_position_mm: z.number().nonnegative().describe('where the arm puts parts, along the belt'),
  exit_position_mm: z.number().positive().describe('position of the exit sensor along the belt'),
  length_mm: z.number().positive().describe('belt length; a part carried past it leaves the cell'),
  part_at_exit: digitalInputSchema.describe('part sensor at exit_position_mm'),
  sensor_window_mm: z.number().positive().default(5).describe('a part sensor sees a part whose centre is within this distance'),
  takeaway_ms: positiveMs('simulated time the downstream takes to remove a part from the exit'),
});

export const ioSchema = obj({
  kind: z.literal('io').describe('plain digital inputs and outputs: safety contacts, guard switches, stack lights'),
  ...deviceCommon,
  inputs: z.record(name, digitalInputSchema).default({}).describe('named digital inputs'),
  outputs: z.record(name, digitalOutputSchema).default({}).describe('named digital outputs'),
});

export const deviceSchema = z.discriminatedUnion('kind', [feederSchema, armSchema, conveyorSchema, ioSchema]);
export const DEVICE_KINDS = ['feeder', 'arm', 'conveyor', 'io'] as const;

// ---------------------------------------------------------------------------------------------
// Safety

/** `device.channel`, e.g. `safety_io.estop_ok` or `feeder.part_at_pick`. */
const channelRef = z
  .string()
  .regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, 'a channel reference is device.channel, e.g. feeder.part_at_pick');

const estopInput = obj({
  kind: z.literal('input').describe('a digital input wired to the e-stop chain'),
  name: name.describe('name of the e-stop source, as logged and shown on the HMI'),
  input: channelRef.describe('auxiliary contact of the e-stop chain; true while the chain is healthy'),
});
const estopSafeOk = obj({
  kind: z.literal('safe_ok_topic').describe('a periodically repeated "safe OK" over ROS 2'),
  name: name.describe('name of the e-stop source, as logged and shown on the HMI'),
  topic: rosName.describe('std_msgs/msg/Bool, true repeated periodically while safe'),
  timeout_ms: positiveMs('absence of true for this long trips the source'),
});
export const estopSourceSchema = z.discriminatedUnion('kind', [estopInput, estopSafeOk]);

export const protectiveStopSchema = obj({
  name: name.describe('name of the protective stop, as logged and shown on the HMI'),
  input: channelRef.describe('true while the guard is closed / the light curtain is clear'),
  category: z.union([z.literal(1), z.literal(2)]).describe('stop category: 1 stops under control, then removes power; 2 stops under control and keeps power'),
  end_state: z.enum(['held', 'stopped']).describe('PackML state the cell ends in: held or stopped'),
});

export const zoneSchema = obj({
  device: name.describe('the arm whose joint state defines the zone'),
  joints: z
    .record(name, z.tuple([z.number(), z.number()]))
    .optional()
    .describe('joint ranges [min, max] in radians; joints not listed are unconstrained'),
  poses: z.array(name).optional().describe('named poses; the zone is the joint box spanning them, widened by margin_rad'),
  margin_rad: z.number().nonnegative().default(0.05).describe('widening of the zone on every side, in radians'),
});

const conditionLeaf = z.union([
  obj({ zone: name.describe('true while the zone device is inside the zone') }),
  obj({
    input: channelRef.describe('an input channel, device.channel'),
    is: z.boolean().describe('the value of the input for which the condition is true'),
  }),
  obj({ moving: name.describe('true while this device is in motion') }),
]);
export type ConditionInput =
  | z.input<typeof conditionLeaf>
  | { any_of: ConditionInput[] }
  | { all_of: ConditionInput[] };
export type Condition =
  | z.output<typeof conditionLeaf>
  | { anyOf: Condition[] }
  | { allOf: Condition[] };
export const conditionSchema: z.ZodType<Condition, ConditionInput> = z.lazy(() =>
  z.union([
    conditionLeaf,
    obj({ any_of: z.array(conditionSchema).min(1).describe('true while at least one of these conditions is true') }),
    obj({ all_of: z.array(conditionSchema).min(1).describe('true while every one of these conditions is true') }),
  ]),
) as unknown as z.ZodType<Condition, ConditionInput>;

export const interlockSchema = obj({
  name: name.describe('name of the interlock, as logged and shown on the HMI'),
  description: z.string().optional().describe('what the interlock prevents, in words'),
  forbid: obj({
    device: z.union([name, z.literal('*')]).describe('device whose motion is forbidden, or * for every device'),
    command: z.enum(['release', 'move', 'index', 'home', 'any']).default('any').describe('the forbidden command: release (feeder), move (arm), index or home (conveyor), any'),
    into_zone: name.optional().describe('only motions whose target lies in this zone'),
  }).describe('the motion the interlock forbids'),
  when: conditionSchema.describe('condition under which the motion is forbidden'),
});

export const safetySchema = obj({
  estop_sources: z.array(estopSourceSchema).default([]).describe('emergency-stop sources: any one of them tripping aborts the cell'),
  protective_stops: z.array(protectiveStopSchema).default([]).describe('guards and light curtains: stop the cell with their category and end state'),
  zones: z.record(name, zoneSchema).default({}).describe('named regions of an arm\'s joint space, used by interlocks'),
  interlocks: z.array(interlockSchema).default([]).describe('rules that forbid a motion in a condition'),
});

// ---------------------------------------------------------------------------------------------
// Commissioning (Manual and Maintenance modes, docs/commissioning.md)

export const commissioningSchema = obj({
  jog_speed_mm_s: z.number().positive().default(250).describe('reduced speed of a conveyor jog, in millimetres per second (ISO 10218: 250 mm/s for manual operation)'),
  jog_joint_speed_rad_s: z.number().positive().default(0.25).describe('reduced speed of an arm joint jog, in radians per second'),
  jog_renew_timeout_ms: positiveMs('a jog stops when no hold-to-run renewal arrives for this long (monotonic clock)').default(300),
  force_max_s: z.number().positive().default(600).describe('longest time an output may be forced in Maintenance mode, in seconds'),
});

// ---------------------------------------------------------------------------------------------
// The cell

export const cellSchema = obj({
  version: z.literal(1).describe('cell description format version'),
  cell: obj({
    name: name.describe('name of the cell, as logged and shown on the HMI'),
    description: z.string().optional().describe('what the cell does, in words'),
    namespace: rosName.default('/workcell').describe('operator-interface namespace; topic names are absolute below it'),
  }).describe('the cell as a whole'),
  links: z.record(name, linkSchema).describe('how the controller reaches devices, by link name'),
  devices: z.record(name, deviceSchema).describe('the stations of the cell, by device name'),
  safety: safetySchema
    .prefault({ estop_sources: [], protective_stops: [], zones: {}, interlocks: [] })
    .describe('e-stop sources, protective stops, zones and interlocks'),
  commissioning: commissioningSchema
    .prefault({})
    .describe('Manual and Maintenance mode limits: jog speeds, hold-to-run renewal timeout, forcing time limit'),
});

export type CellDescription = z.output<typeof cellSchema>;
export type CellDescriptionInput = z.input<typeof cellSchema>;
export type Link = z.output<typeof linkSchema>;
export type Device = z.output<typeof deviceSchema>;
export type FeederDescription = z.output<typeof feederSchema>;
export type ArmDescription = z.output<typeof armSchema>;
export type ConveyorDescription = z.output<typeof conveyorSchema>;
export type IoDescription = z.output<typeof ioSchema>;
export type DigitalOutput = z.output<typeof digitalOutputSchema>;
export type DigitalInput = z.output<typeof digitalInputSchema>;
export type Zone = z.output<typeof zoneSchema>;
export type Interlock = z.output<typeof interlockSchema>;
export type EstopSource = z.output<typeof estopSourceSchema>;
export type ProtectiveStop = z.output<typeof protectiveStopSchema>;
export type CommissioningLimits = z.output<typeof commissioningSchema>;
