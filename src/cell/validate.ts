/**
 * Semantic checks of a cell description: everything the schema's shapes cannot see
 * (cross-references, pins, pose lengths and limits, conveyor geometry, ...).
 *
 * Works on the parsed (camelCased) description, but reports paths in the YAML's snake_case keys
 * so that `load.ts` can map every finding back to a line and column of the file.
 */
import type {
  ArmDescription,
  CellDescription,
  Condition,
  Device,
  DigitalInput,
  DigitalOutput,
  Link,
} from './schema.js';

export type PathSegment = string | number;

export interface Finding {
  /** Where, in the YAML's own keys: `['devices', 'arm', 'poses', 'pick', 2]`. */
  path: PathSegment[];
  message: string;
  /** Point at the key of the last path segment rather than its value (e.g. an unknown joint name). */
  at?: 'key';
}

// ---------------------------------------------------------------------------------------------
// "Did you mean": near misses by edit distance.

/** Optimal-string-alignment distance: Levenshtein plus transpositions of adjacent characters. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i]![j] = best;
    }
  }
  return at(a.length, b.length);
}

function camelToSnake(word: string): string {
  return word.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * The candidate the user most likely meant, or undefined when nothing is close enough.
 * Close enough: same word in another case style, or at most 1 edit (2 for words of 5+ letters).
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const pool = [...new Set(candidates)].filter((c) => c !== word);
  const normalised = camelToSnake(word).toLowerCase().replace(/-/g, '_');
  const sameWord = pool.find((c) => c.toLowerCase() === normalised);
  if (sameWord !== undefined) return sameWord;
  const limit = word.length >= 5 ? 2 : 1;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of pool) {
    const distance = editDistance(normalised, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // A shortened name (`estop` for `estop_ok`), when only one candidate starts with it.
  if (best === undefined && normalised.length >= 3) {
    const extended = pool.filter((c) => c.toLowerCase().startsWith(normalised));
    if (extended.length === 1) best = extended[0];
  }
  return best;
}

/** ` (did you mean "x"?)`, or nothing. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const guess = suggest(word, candidates);
  return guess === undefined ? '' : ` (did you mean "${guess}"?)`;
}

/** `a, b, c` or `none` for an empty list: for "defined here are ..." hints. */
function listOrNone(names: Iterable<string>): string {
  const all = [...names];
  return all.length === 0 ? 'none' : all.join(', ');
}

/** ` (did you mean "y"?)` when a candidate is close, else ` (<listName>: a, b)`. */
function guessOrList(word: string, candidates: string[], listName: string): string {
  const guess = suggest(word, candidates);
  return guess !== undefined ? ` (did you mean "${guess}"?)` : ` (${listName}: ${listOrNone(candidates)})`;
}

/** `unknown device "x" (did you mean "y"?)` or `unknown device "x" (defined: a, b)`. */
function unknownName(word: string, candidates: string[], what: string): string {
  return `unknown ${what} "${word}"${guessOrList(word, candidates, 'defined')}`;
}

export function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}

// ---------------------------------------------------------------------------------------------
// The channels of a device: what `device.channel` references may name, and what carries a pin.

type Direction = 'input' | 'output';

interface ChannelSite {
  /** The name used in `device.channel` references. */
  name: string;
  direction: Direction;
  channel: DigitalInput | DigitalOutput;
  path: PathSegment[];
  /** Link used when the channel names none. */
  inheritedLink: string;
}

function channelsOf(deviceName: string, device: Device): ChannelSite[] {
  const base: PathSegment[] = ['devices', deviceName];
  const site = (name: string, direction: Direction, channel: DigitalInput | DigitalOutput, path: PathSegment[], inheritedLink = device.link) => ({
    name,
    direction,
    channel,
    path: [...base, ...path],
    inheritedLink,
  });
  switch (device.kind) {
    case 'feeder':
      return [site('release', 'output', device.release, ['release']), site('part_at_pick', 'input', device.partAtPick, ['part_at_pick'])];
    case 'arm':
      return [
        site('vacuum', 'output', device.gripper.vacuum, ['gripper', 'vacuum']),
        site('vacuum_ok', 'input', device.gripper.vacuumOk, ['gripper', 'vacuum_ok']),
      ];
    case 'conveyor':
      return [
        site('home', 'input', device.axis.homeSensor, ['axis', 'home_sensor'], device.axis.link ?? device.link),
        site('part_at_exit', 'input', device.partAtExit, ['part_at_exit']),
      ];
    case 'io':
      return [
        ...Object.entries(device.inputs).map(([name, channel]) => site(name, 'input', channel, ['inputs', name])),
        ...Object.entries(device.outputs).map(([name, channel]) => site(name, 'output', channel, ['outputs', name])),
      ];
  }
}

const COMMANDS_BY_KIND: Record<Device['kind'], readonly string[]> = {
  feeder: ['release', 'any'],
  arm: ['move', 'any'],
  conveyor: ['index', 'home', 'any'],
  io: ['any'],
};

const ONE_EACH = ['feeder', 'arm', 'conveyor'] as const;

// ---------------------------------------------------------------------------------------------

/** Every semantic problem of a description whose shapes are already valid. */
export function validateCell(cell: CellDescription): Finding[] {
  const findings: Finding[] = [];
  const report = (path: PathSegment[], message: string, at?: 'key') =>
    findings.push(at === undefined ? { path, message } : { path, message, at });

  const links: Record<string, Link> = cell.links;
  const devices: Record<string, Device> = cell.devices;
  const linkNames = Object.keys(links);
  const deviceNames = Object.keys(devices);
  const zones = cell.safety.zones;
  const zoneNames = Object.keys(zones);

  checkDeviceCounts(devices, report);
  checkLinksAndPins(devices, links, linkNames, report);

  for (const [deviceName, device] of Object.entries(devices)) {
    if (device.kind === 'arm') checkArm(deviceName, device, report);
    if (device.kind === 'conveyor') {
      const base = ['devices', deviceName];
      const place = device.placePositionMm;
      const exit = device.exitPositionMm;
      const length = device.lengthMm;
      if (!(place < exit)) {
        report([...base, 'exit_position_mm'], `exit_position_mm (${formatNumber(exit)} mm) must be downstream of place_position_mm (${formatNumber(place)} mm)`);
      } else {
        const indexes = (exit - place) / device.indexMm;
        if (Math.abs(indexes - Math.round(indexes)) > 1e-9 * Math.max(1, indexes)) {
          report(
            [...base, 'index_mm'],
            `exit_position_mm - place_position_mm = ${formatNumber(exit - place)} mm is not a whole number of index_mm (${formatNumber(device.indexMm)} mm): ` +
              `a part placed at ${formatNumber(place)} mm would never stop at the exit sensor`,
          );
        }
      }
      if (exit > length) {
        report([...base, 'exit_position_mm'], `exit_position_mm (${formatNumber(exit)} mm) lies beyond the end of the belt (length_mm ${formatNumber(length)} mm)`);
      }
    }
  }

  // Names of safety functions must be unique: they are what the journal and the HMI show.
  const estopNames = new Map<string, number>();
  cell.safety.estopSources.forEach((source, index) => {
    const path = ['safety', 'estop_sources', index];
    const first = estopNames.get(source.name);
    if (first !== undefined) report([...path, 'name'], `duplicate e-stop source name "${source.name}" (also safety.estop_sources[${first}])`);
    else estopNames.set(source.name, index);
    if (source.kind === 'input') {
      checkInputRef(source.input, [...path, 'input'], 'an e-stop source', devices, report);
    } else if (!Object.values(links).some((link) => link.transport === 'ros2')) {
      report([...path, 'kind'], `a safe_ok_topic e-stop source needs a ros2 link, and this cell has none (links: ${listOrNone(linkNames)})`);
    }
  });
  const stopNames = new Map<string, number>();
  cell.safety.protectiveStops.forEach((stop, index) => {
    const path = ['safety', 'protective_stops', index];
    const first = stopNames.get(stop.name);
    const asEstop = estopNames.get(stop.name);
    if (first !== undefined) report([...path, 'name'], `duplicate protective stop name "${stop.name}" (also safety.protective_stops[${first}])`);
    else stopNames.set(stop.name, index);
    if (asEstop !== undefined) {
      report([...path, 'name'], `"${stop.name}" is both an e-stop source (safety.estop_sources[${asEstop}]) and a protective stop; give them different names`);
    }
    checkInputRef(stop.input, [...path, 'input'], 'a protective stop', devices, report);
  });

  for (const [zoneName, zone] of Object.entries(zones)) {
    const path = ['safety', 'zones', zoneName];
    const hasJoints = zone.joints !== undefined && Object.keys(zone.joints).length > 0;
    const hasPoses = zone.poses !== undefined && zone.poses.length > 0;
    if (!hasJoints && !hasPoses) report(path, `zone "${zoneName}" needs joints or poses to say where it is`);
    const device = devices[zone.device];
    if (device === undefined) {
      report([...path, 'device'], unknownName(zone.device, deviceNames, 'device'));
      continue;
    }
    if (device.kind !== 'arm') {
      report([...path, 'device'], `zone "${zoneName}" must belong to an arm; "${zone.device}" is a ${device.kind}`);
      continue;
    }
    const jointNames = device.joints.map((joint) => joint.name);
    for (const [jointName, [min, max]] of Object.entries(zone.joints ?? {})) {
      if (!jointNames.includes(jointName)) {
        report([...path, 'joints', jointName], `${zone.device} has no joint "${jointName}"${guessOrList(jointName, jointNames, 'joints')}`, 'key');
      } else if (!(min < max)) {
        report([...path, 'joints', jointName], `joint range [${formatNumber(min)}, ${formatNumber(max)}] must be [min, max] with min < max`);
      }
    }
    const poseNames = Object.keys(device.poses);
    (zone.poses ?? []).forEach((pose, index) => {
      if (!(pose in device.poses)) report([...path, 'poses', index], `${zone.device} has no pose "${pose}"${guessOrList(pose, poseNames, 'poses')}`);
    });
  }

  const interlockNames = new Map<string, number>();
  cell.safety.interlocks.forEach((interlock, index) => {
    const path = ['safety', 'interlocks', index];
    const first = interlockNames.get(interlock.name);
    if (first !== undefined) report([...path, 'name'], `duplicate interlock name "${interlock.name}" (also safety.interlocks[${first}])`);
    else interlockNames.set(interlock.name, index);

    const { device: forbidden, command, intoZone } = interlock.forbid;
    const forbidPath = [...path, 'forbid'];
    const device = forbidden === '*' ? undefined : devices[forbidden];
    if (forbidden !== '*' && device === undefined) {
      report([...forbidPath, 'device'], `${unknownName(forbidden, deviceNames, 'device')}; use "*" for every device`);
    }
    if (device !== undefined && !COMMANDS_BY_KIND[device.kind].includes(command)) {
      report([...forbidPath, 'command'], `command "${command}" does not apply to ${forbidden}: a ${device.kind} takes ${COMMANDS_BY_KIND[device.kind].join(', ')}`);
    }
    if (intoZone !== undefined) {
      const zone = zones[intoZone];
      if (zone === undefined) {
        report([...forbidPath, 'into_zone'], unknownName(intoZone, zoneNames, 'zone'));
      } else if (forbidden === '*') {
        report([...forbidPath, 'into_zone'], `into_zone "${intoZone}" needs forbid.device to be the zone's device "${zone.device}", not "*"`);
      } else if (zone.device !== forbidden && devices[zone.device]?.kind === 'arm') {
        // (A zone on a missing or non-arm device is reported at the zone itself.)
        report([...forbidPath, 'into_zone'], `zone "${intoZone}" belongs to ${zone.device}, not ${forbidden}`);
      }
    }
    checkCondition(interlock.when, [...path, 'when'], devices, zoneNames, report);
  });

  return findings;
}

type Report = (path: PathSegment[], message: string, at?: 'key') => void;

function checkDeviceCounts(devices: Record<string, Device>, report: Report): void {
  for (const kind of ONE_EACH) {
    const named = Object.entries(devices)
      .filter(([, device]) => device.kind === kind)
      .map(([deviceName]) => deviceName);
    if (named.length === 0) {
      report(['devices'], `the cell needs one ${kind} device (the sequencer drives one feeder -> arm -> conveyor line)`);
    }
    for (const extra of named.slice(1)) {
      report(['devices', extra, 'kind'], `only one ${kind} per cell for now (the sequencer drives one line); "${named[0]}" is already the ${kind}`);
    }
  }
}

function checkLinksAndPins(devices: Record<string, Device>, links: Record<string, Link>, linkNames: string[], report: Report): void {
  // First user of each pin, per board (link name).
  const pinsInUse = new Map<string, Map<number, string>>();
  const usePin = (linkName: string, pin: number, path: PathSegment[]) => {
    const board = pinsInUse.get(linkName) ?? new Map<number, string>();
    pinsInUse.set(linkName, board);
    const first = board.get(pin);
    if (first !== undefined) report([...path, 'pin'], `pin ${pin} on link "${linkName}" is already used by ${first}`);
    else board.set(pin, formatPathForMessage(path));
  };

  for (const [deviceName, device] of Object.entries(devices)) {
    const devicePath = ['devices', deviceName];
    const deviceLinkKnown = device.link in links;
    if (!deviceLinkKnown) report([...devicePath, 'link'], unknownName(device.link, linkNames, 'link'));

    for (const site of channelsOf(deviceName, device)) {
      const ownLink = site.channel.link;
      const linkName = ownLink ?? site.inheritedLink;
      const link = links[linkName];
      if (link === undefined) {
        // An unknown inherited link is reported once, where it is named.
        if (ownLink !== undefined) report([...site.path, 'link'], unknownName(ownLink, linkNames, 'link'));
        continue;
      }
      checkAddress(site.path, linkName, link, site.channel.pin, site.channel.topic, report);
      checkRelativeName([...site.path, 'topic'], linkName, link, site.channel.topic, report);
      if (site.direction === 'input') checkAnalogInput(site.path, linkName, link, site.channel as DigitalInput, report);
      if (site.channel.pin !== undefined && (link.transport === 'serial' || link.transport === 'firmata')) {
        usePin(linkName, site.channel.pin, site.path);
      }
    }

    if (device.kind === 'conveyor') {
      const axisPath = [...devicePath, 'axis'];
      const linkName = device.axis.link ?? device.link;
      const link = links[linkName];
      if (link === undefined) {
        if (device.axis.link !== undefined) report([...axisPath, 'link'], unknownName(device.axis.link, linkNames, 'link'));
      } else if (link.transport === 'serial' || link.transport === 'firmata') {
        if (device.axis.pin === undefined) report(axisPath, `the axis is on ${link.transport} link "${linkName}" and needs a pin (its STEP pin)`);
        else usePin(linkName, device.axis.pin, axisPath);
      } else if (device.axis.pin !== undefined) {
        report([...axisPath, 'pin'], `a pin needs a serial or firmata link; link "${linkName}" is ${link.transport}`);
      }
      if (link !== undefined && link.transport === 'ros2') {
        // A ROS axis is driven by a speed command and measured by a position topic (docs/ros2.md).
        const missing = (['speed', 'position'] as const).filter((key) => device.axis[key] === undefined);
        if (missing.length > 0) {
          report(
            axisPath,
            `the axis is on ros2 link "${linkName}" and needs ${missing.map((key) => (key === 'speed' ? '`speed: { topic }` (std_msgs/msg/Float64, m/s)' : '`position: { topic }` (nav_msgs/msg/Odometry or std_msgs/msg/Float64, m)')).join(' and ')}`,
          );
        }
        checkRelativeName([...axisPath, 'speed', 'topic'], linkName, link, device.axis.speed?.topic, report);
        checkRelativeName([...axisPath, 'position', 'topic'], linkName, link, device.axis.position?.topic, report);
      } else if (link !== undefined) {
        for (const key of ['speed', 'position'] as const) {
          if (device.axis[key] !== undefined) report([...axisPath, key], `\`${key}\` is a ROS topic and needs a ros2 link; link "${linkName}" is ${link.transport}`);
        }
      }
    }
    if (device.kind === 'arm' && device.ros !== undefined && deviceLinkKnown) {
      const link = links[device.link]!;
      for (const [key, rosName] of [['action', device.ros.action], ['trajectory_topic', device.ros.trajectoryTopic], ['joint_states_topic', device.ros.jointStatesTopic]] as const) {
        checkRelativeName([...devicePath, 'ros', key], device.link, link, rosName, report);
      }
    }
  }
}

/** A relative ROS name resolves under its ros2 link's node_namespace; without one it has no meaning. */
function checkRelativeName(path: PathSegment[], linkName: string, link: Link, rosName: string | undefined, report: Report): void {
  if (rosName === undefined || rosName.startsWith('/') || link.transport !== 'ros2' || link.nodeNamespace !== undefined) return;
  report(path, `relative ROS name "${rosName}" needs \`node_namespace\` on ros2 link "${linkName}" to resolve under; or write it absolute ("/${rosName}")`);
}

/** Only a Firmata board reads a pin as analog (the station firmware has no analog inputs). */
function checkAnalogInput(path: PathSegment[], linkName: string, link: Link, input: DigitalInput, report: Report): void {
  if (input.analogThreshold !== undefined && link.transport !== 'firmata') {
    report([...path, 'analog_threshold'], `analog inputs are read on firmata links only; link "${linkName}" is ${link.transport}`);
  }
  if (input.analogHysteresis !== undefined && input.analogThreshold === undefined) {
    report([...path, 'analog_hysteresis'], 'analog_hysteresis needs analog_threshold on the same input');
  }
}

/** Pins belong to boards (serial, firmata), topics to ROS 2; the simulator needs neither. */
function checkAddress(path: PathSegment[], linkName: string, link: Link, pin: number | undefined, topic: string | undefined, report: Report): void {
  const onBoard = link.transport === 'serial' || link.transport === 'firmata';
  if (pin !== undefined && !onBoard) report([...path, 'pin'], `a pin needs a serial or firmata link; link "${linkName}" is ${link.transport}`);
  if (topic !== undefined && link.transport !== 'ros2') report([...path, 'topic'], `a topic needs a ros2 link; link "${linkName}" is ${link.transport}`);
  if (onBoard && pin === undefined) report(path, `channel on ${link.transport} link "${linkName}" needs a pin`);
  if (link.transport === 'ros2' && topic === undefined) report(path, `channel on ros2 link "${linkName}" needs a topic`);
}

function checkArm(deviceName: string, arm: ArmDescription, report: Report): void {
  const base = ['devices', deviceName];
  const jointNames = arm.joints.map((joint) => joint.name);
  const seenJoints = new Map<string, number>();
  const limitsOk: boolean[] = [];
  arm.joints.forEach((joint, index) => {
    const path = [...base, 'joints', index];
    const first = seenJoints.get(joint.name);
    if (first !== undefined) report([...path, 'name'], `duplicate joint name "${joint.name}" (also joints[${first}])`);
    else seenJoints.set(joint.name, index);
    const ok = joint.minRad < joint.maxRad;
    limitsOk.push(ok);
    if (!ok) report([...path, 'max_rad'], `${joint.name}: min_rad (${formatNumber(joint.minRad)}) must be less than max_rad (${formatNumber(joint.maxRad)})`);
  });

  for (const [poseName, values] of Object.entries(arm.poses)) {
    const path = [...base, 'poses', poseName];
    if (values.length !== arm.joints.length) {
      report(path, `pose "${poseName}" has ${values.length} value${values.length === 1 ? '' : 's'}, but ${deviceName} has ${arm.joints.length} joints (${jointNames.join(', ')})`);
      continue;
    }
    values.forEach((value, index) => {
      const joint = arm.joints[index];
      if (joint === undefined || !limitsOk[index]) return;
      if (value < joint.minRad || value > joint.maxRad) {
        report(
          [...path, index],
          `${joint.name} = ${formatNumber(value)} rad in pose "${poseName}" is outside its limits [${formatNumber(joint.minRad)}, ${formatNumber(joint.maxRad)}]`,
        );
      }
    });
  }
  if (!(arm.homePose in arm.poses)) {
    report([...base, 'home_pose'], `home pose "${arm.homePose}" is not one of the poses${guessOrList(arm.homePose, Object.keys(arm.poses), 'poses')}`);
  }
}

/** `safety_io.estop_ok`: an existing device and one of its inputs. */
function checkInputRef(reference: string, path: PathSegment[], user: string, devices: Record<string, Device>, report: Report): void {
  const [deviceName = '', channelName = ''] = reference.split('.');
  const device = devices[deviceName];
  if (device === undefined) {
    report(path, `${unknownName(deviceName, Object.keys(devices), 'device')} in "${reference}"`);
    return;
  }
  const channels = channelsOf(deviceName, device);
  const inputs = channels.filter((c) => c.direction === 'input').map((c) => c.name);
  const match = channels.find((c) => c.name === channelName);
  if (match?.direction === 'input') return;
  const known = `inputs of ${deviceName}: ${listOrNone(inputs)}`;
  if (match?.direction === 'output') {
    report(path, `"${reference}" is an output; ${user} needs an input (${known})`);
  } else {
    report(path, `${deviceName} has no input "${channelName}"${guessOrList(channelName, inputs, `inputs of ${deviceName}`)}`);
  }
}

function checkCondition(condition: Condition, path: PathSegment[], devices: Record<string, Device>, zoneNames: string[], report: Report): void {
  if ('anyOf' in condition) {
    condition.anyOf.forEach((inner, index) => checkCondition(inner, [...path, 'any_of', index], devices, zoneNames, report));
  } else if ('allOf' in condition) {
    condition.allOf.forEach((inner, index) => checkCondition(inner, [...path, 'all_of', index], devices, zoneNames, report));
  } else if ('zone' in condition) {
    if (!zoneNames.includes(condition.zone)) report([...path, 'zone'], unknownName(condition.zone, zoneNames, 'zone'));
  } else if ('moving' in condition) {
    const device = devices[condition.moving];
    if (device === undefined) report([...path, 'moving'], unknownName(condition.moving, Object.keys(devices), 'device'));
    else if (device.kind === 'io') report([...path, 'moving'], `"${condition.moving}" is an io device and never moves`);
  } else {
    checkInputRef(condition.input, [...path, 'input'], 'an interlock condition', devices, report);
  }
}

/** `devices.arm.poses.pick`, `safety.interlocks[2].when.zone`. */
export function formatPathForMessage(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_*-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
