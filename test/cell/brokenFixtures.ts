/**
 * What each file in test/fixtures/cells/broken/ must produce: every problem, in report order,
 * with its exact line and column, its path, a fragment of its message and the text found at that
 * position in the file (so a wrong column is caught even when the numbers were copied wrongly).
 *
 * `kind` says which stage finds it: `syntax` (YAML), `shape` (the schema: a JSON Schema validator
 * sees these too) or `semantic` (cross-references, which only `workcell check` sees).
 */
export interface ExpectedProblem {
  line: number;
  col: number;
  path: string;
  message: string;
  /** The file's text at line:col starts with this. */
  at: string;
}

export interface BrokenFixture {
  kind: 'syntax' | 'duplicate' | 'shape' | 'semantic';
  problems: ExpectedProblem[];
}

export const BROKEN_FIXTURES: Record<string, BrokenFixture> = {
  'syntax-error.yaml': {
    kind: 'syntax',
    problems: [
      // The unclosed `{` itself, then what yaml makes of the lines after it.
      { line: 23, col: 19, path: '', message: 'YAML syntax: Flow map in block collection must be sufficiently indented and end with a }', at: '{ debounce_ms: 10' },
      { line: 24, col: 23, path: '', message: 'YAML syntax:', at: '150' },
      { line: 24, col: 23, path: '', message: 'YAML syntax:', at: '150' },
      { line: 25, col: 14, path: '', message: 'YAML syntax:', at: '1200' },
      { line: 25, col: 14, path: '', message: 'YAML syntax:', at: '1200' },
    ],
  },
  'syntax-errors.yaml': {
    kind: 'syntax',
    problems: [
      { line: 44, col: 20, path: '', message: 'end with a ] (the bracket opened here is not closed; noticed on line 45)', at: '[-0.6, -0.6' },
      { line: 102, col: 20, path: '', message: 'YAML syntax: Nested mappings are not allowed in compact mappings', at: 'Rule: the conveyor' },
    ],
  },
  'duplicate-key.yaml': {
    kind: 'duplicate',
    problems: [{ line: 26, col: 5, path: 'devices.feeder.feed_ms', message: 'duplicate key "feed_ms" (first on line 25)', at: 'feed_ms: 1500' }],
  },
  'unknown-key.yaml': {
    kind: 'shape',
    // The missing feed_ms is not reported separately: the suggestion already names it.
    problems: [{ line: 25, col: 5, path: 'devices.feeder.feed_s', message: 'unknown key "feed_s" (did you mean "feed_ms"?)', at: 'feed_s:' }],
  },
  'string-milliseconds.yaml': {
    kind: 'shape',
    problems: [
      { line: 25, col: 14, path: 'devices.feeder.feed_ms', message: 'expected a number in milliseconds, got the string "1.2s" (write 1200)', at: '1.2s' },
    ],
  },
  'negative-duration.yaml': {
    kind: 'shape',
    problems: [{ line: 48, col: 16, path: 'devices.arm.settle_ms', message: 'must not be negative, got -50 ms', at: '-50' }],
  },
  'wrong-transport.yaml': {
    kind: 'shape',
    problems: [
      {
        line: 15,
        col: 16,
        path: 'links.sim.transport',
        message: 'unknown transport "ros" (did you mean "ros2"?); expected one of "sim", "serial", "firmata", "ros2"',
        at: 'ros',
      },
    ],
  },
  'unknown-device-kind.yaml': {
    kind: 'shape',
    problems: [{ line: 59, col: 11, path: 'devices.conveyor.kind', message: 'unknown kind "conveyer" (did you mean "conveyor"?)', at: 'conveyer' }],
  },
  'missing-required-key.yaml': {
    kind: 'shape',
    // Reported at the key naming the mapping that lacks it.
    problems: [{ line: 29, col: 3, path: 'devices.arm.tolerance_rad', message: 'missing required key "tolerance_rad"', at: 'arm:' }],
  },
  'three-problems.yaml': {
    kind: 'shape',
    problems: [
      { line: 24, col: 23, path: 'devices.feeder.release_pulse_ms', message: 'expected a number in milliseconds, got the string "short"', at: 'short' },
      { line: 51, col: 5, path: 'devices.arm.gripper.grip_ms', message: 'missing required key "grip_ms"', at: 'gripper:' },
      { line: 75, col: 5, path: 'devices.conveyor.sensor_windw_mm', message: 'unknown key "sensor_windw_mm" (did you mean "sensor_window_mm"?)', at: 'sensor_windw_mm' },
    ],
  },
  'stop-category.yaml': {
    kind: 'shape',
    problems: [{ line: 50, col: 20, path: 'devices.arm.stop_category', message: 'expected one of 0, 1, got 2', at: '2' }],
  },
  'bad-name.yaml': {
    kind: 'shape',
    problems: [{ line: 45, col: 7, path: 'devices.arm.poses.AbovePlace', message: '"AbovePlace" is not a valid name: names are lower_snake_case', at: 'AbovePlace:' }],
  },
  'channel-needs-mapping.yaml': {
    kind: 'shape',
    problems: [
      { line: 53, col: 7, path: 'devices.arm.gripper.vacuum_ok', message: 'expected a mapping (key: value lines), got an empty value (write {} for an empty mapping)', at: 'vacuum_ok:' },
    ],
  },
  'condition-typo.yaml': {
    kind: 'shape',
    problems: [{ line: 108, col: 15, path: 'safety.interlocks[1].when.movng', message: 'unknown key "movng" (did you mean "moving"?)', at: 'movng' }],
  },
  'pose-wrong-length.yaml': {
    kind: 'semantic',
    problems: [{ line: 44, col: 7, path: 'devices.arm.poses.pick', message: 'pose "pick" has 5 values, but arm has 6 joints', at: 'pick:' }],
  },
  'pose-outside-limits.yaml': {
    kind: 'semantic',
    problems: [
      { line: 43, col: 27, path: 'devices.arm.poses.above_pick[1]', message: 'joint_2 = -2.3 rad in pose "above_pick" is outside its limits [-2, 2]', at: '-2.3' },
    ],
  },
  'zone-unknown-pose.yaml': {
    kind: 'semantic',
    problems: [{ line: 99, col: 43, path: 'safety.zones.conveyor_zone.poses[0]', message: 'arm has no pose "plac" (did you mean "place"?)', at: 'plac]' }],
  },
  'interlock-unknown-device.yaml': {
    kind: 'semantic',
    problems: [
      { line: 103, col: 25, path: 'safety.interlocks[0].forbid.device', message: 'unknown device "conveyer" (did you mean "conveyor"?)', at: 'conveyer' },
    ],
  },
  'estop-names-output.yaml': {
    kind: 'semantic',
    problems: [
      {
        line: 94,
        col: 49,
        path: 'safety.estop_sources[0].input',
        message: '"safety_io.lamp_red" is an output; an e-stop source needs an input (inputs of safety_io: estop_ok, guard_closed)',
        at: 'safety_io.lamp_red',
      },
    ],
  },
  'estop-unknown-channel.yaml': {
    kind: 'semantic',
    problems: [{ line: 94, col: 49, path: 'safety.estop_sources[0].input', message: 'safety_io has no input "estop" (did you mean "estop_ok"?)', at: 'safety_io.estop' }],
  },
  'duplicate-interlock-names.yaml': {
    kind: 'semantic',
    problems: [
      {
        line: 113,
        col: 13,
        path: 'safety.interlocks[3].name',
        message: 'duplicate interlock name "no_release_onto_occupied_pick" (also safety.interlocks[2])',
        at: 'no_release_onto_occupied_pick',
      },
    ],
  },
  'unknown-link.yaml': {
    kind: 'semantic',
    problems: [{ line: 20, col: 11, path: 'devices.feeder.link', message: 'unknown link "simm" (did you mean "sim"?)', at: 'simm' }],
  },
  'pin-on-sim.yaml': {
    kind: 'semantic',
    problems: [{ line: 23, col: 43, path: 'devices.feeder.part_at_pick.pin', message: 'a pin needs a serial or firmata link; link "sim" is sim', at: '4 }' }],
  },
  'conveyor-geometry.yaml': {
    kind: 'semantic',
    problems: [
      {
        line: 71,
        col: 15,
        path: 'devices.conveyor.index_mm',
        message: 'exit_position_mm - place_position_mm = 250 mm is not a whole number of index_mm (300 mm)',
        at: '300',
      },
    ],
  },
};
