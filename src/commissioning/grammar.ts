/**
 * The commissioning command words (Manual and Maintenance modes), parsed from the same command
 * text every face carries (embedded bus, ROS 2 /workcell/command, the WebSocket bridge, the HMI,
 * the CLI). docs/operator-interface.md lists them; docs/commissioning.md explains them.
 *
 *   jog <conveyor> <+|->[<mm>] [continuous] [at <mm/s>]
 *   jog <arm> <joint> <+|->[<rad>] [continuous] [at <rad/s>]
 *   jog renew | jog stop
 *   teach pose <arm> <pose> | teach position <conveyor> <key>_position_mm
 *   teach confirm <id> | teach cancel
 *   force <device>.<channel> <on|off> <duration> "<reason>"
 *   unforce <device>.<channel> | unforce all
 *   step
 *
 * Words are case-insensitive except the reason of a force, which is kept as written.
 */

export type CommissioningCommand =
  | {
      kind: 'jog';
      device: string;
      /** Arm jogs: the joint name. */
      joint?: string;
      direction: 1 | -1;
      /** mm (conveyor) or rad (joint); undefined: continuous while renewed. */
      distance?: number;
      /** Requested speed (mm/s or rad/s), never above the description's limit. */
      speed?: number;
    }
  | { kind: 'jogRenew' }
  | { kind: 'jogStop' }
  | { kind: 'teach'; what: 'pose' | 'position'; device: string; name: string }
  | { kind: 'teachConfirm'; id: string }
  | { kind: 'teachCancel' }
  | { kind: 'force'; device: string; channel: string; value: boolean; durationMs: number; reason: string }
  | { kind: 'unforce'; device?: string; channel?: string }
  | { kind: 'step' };

export const COMMISSIONING_VERBS = ['jog', 'teach', 'force', 'unforce', 'step'] as const;

export const COMMISSIONING_USAGE = [
  'jog <conveyor> <+|->[mm] [continuous] [at <mm/s>]',
  'jog <arm> <joint> <+|->[rad] [continuous] [at <rad/s>]',
  'jog renew',
  'jog stop',
  'teach pose <arm> <pose>',
  'teach position <conveyor> <name>_position_mm',
  'teach confirm <id>',
  'teach cancel',
  'force <device>.<channel> <on|off> <duration: 30s, 5m, 500ms> "<reason>"',
  'unforce <device>.<channel>|all',
  'step',
] as const;

export type ParsedCommissioning = { ok: true; command: CommissioningCommand } | { ok: false; reason: string };

const NAME = /^[a-z][a-z0-9_]*$/;
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)$/;

/** Parse a commissioning command; `text` is the whole command as received (already a string). */
export function parseCommissioning(text: string): ParsedCommissioning {
  const trimmed = text.trim();
  const verb = trimmed.split(/\s+/, 1)[0]!.toLowerCase();
  const restText = trimmed.slice(verb.length).trim();
  switch (verb) {
    case 'jog':
      return parseJog(words(restText));
    case 'teach':
      return parseTeach(words(restText));
    case 'force':
      return parseForce(restText);
    case 'unforce':
      return parseUnforce(words(restText));
    case 'step':
      return restText === '' ? ok({ kind: 'step' }) : fail(`"step" takes no argument (got ${quote(restText)})`);
    default:
      return fail(`not a commissioning command: ${quote(verb)}`);
  }
}

function parseJog(w: string[]): ParsedCommissioning {
  const usage = `usage: ${COMMISSIONING_USAGE.slice(0, 4).join(' | ')}`;
  if (w.length === 1 && w[0] === 'renew') return ok({ kind: 'jogRenew' });
  if (w.length === 1 && w[0] === 'stop') return ok({ kind: 'jogStop' });
  const [device, ...rest] = w;
  if (device === undefined) return fail(`"jog" needs a device; ${usage}`);
  if (!NAME.test(device)) return fail(`jog: ${quote(device)} is not a device name; ${usage}`);
  let joint: string | undefined;
  // An arm jog names its joint before the direction; a conveyor jog starts with the direction.
  if (rest[0] !== undefined && NAME.test(rest[0]) && rest[0] !== 'continuous') joint = rest.shift();
  const motion = rest.shift();
  if (motion === undefined) return fail(`jog ${device}: missing direction and distance, e.g. +10 or - continuous; ${usage}`);
  const m = /^([+-])(.*)$/.exec(motion);
  if (!m) return fail(`jog ${device}: ${quote(motion)} is not a direction (+ or -) with an optional distance; ${usage}`);
  const direction = m[1] === '-' ? -1 : 1;
  let distance: number | undefined;
  const amount = m[2]!.replace(/(mm|rad)$/, '');
  if (amount !== '') {
    if (!NUMBER.test(amount) || Number(amount) <= 0) return fail(`jog ${device}: distance ${quote(m[2]!)} is not a positive number`);
    distance = Number(amount);
  }
  let continuous = false;
  let speed: number | undefined;
  while (rest.length > 0) {
    const word = rest.shift()!;
    if (word === 'continuous') continuous = true;
    else if (word === 'at') {
      const value = rest.shift()?.replace(/(mm\/s|rad\/s)$/, '');
      if (value === undefined || !NUMBER.test(value) || Number(value) <= 0) return fail(`jog ${device}: "at" needs a positive speed`);
      speed = Number(value);
    } else return fail(`jog ${device}: unexpected ${quote(word)}; ${usage}`);
  }
  if (continuous && distance !== undefined) return fail(`jog ${device}: a jog is either a distance or continuous, not both`);
  if (!continuous && distance === undefined) return fail(`jog ${device}: give a distance (e.g. ${direction > 0 ? '+' : '-'}10) or "continuous"`);
  return ok({ kind: 'jog', device, ...(joint !== undefined ? { joint } : {}), direction, ...(distance !== undefined ? { distance } : {}), ...(speed !== undefined ? { speed } : {}) });
}

function parseTeach(w: string[]): ParsedCommissioning {
  const [what, a, b, ...extra] = w;
  if (what === 'confirm') {
    if (a === undefined || b !== undefined) return fail('"teach confirm" takes the id of the proposal, e.g. teach confirm t1');
    return ok({ kind: 'teachConfirm', id: a });
  }
  if (what === 'cancel') return a === undefined ? ok({ kind: 'teachCancel' }) : fail('"teach cancel" takes no argument');
  if (what !== 'pose' && what !== 'position') return fail(`"teach" takes pose, position, confirm or cancel (got ${quote(what ?? '')})`);
  if (a === undefined || b === undefined || extra.length > 0 || !NAME.test(a) || !NAME.test(b)) {
    return fail(what === 'pose' ? 'usage: teach pose <arm> <pose>' : 'usage: teach position <conveyor> <name>_position_mm');
  }
  if (what === 'position' && !b.endsWith('_position_mm')) return fail(`teach position: ${quote(b)} is not a conveyor position key (…_position_mm, e.g. place_position_mm)`);
  return ok({ kind: 'teach', what, device: a, name: b });
}

function parseForce(restText: string): ParsedCommissioning {
  const usage = `usage: ${COMMISSIONING_USAGE[8]}`;
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(.*)$/s.exec(restText);
  if (!m) return fail(`"force" needs a channel, a value, a time limit and a reason; ${usage}`);
  const ref = parseRef(m[1]!);
  if (typeof ref === 'string') return fail(`force: ${ref}; ${usage}`);
  const valueWord = m[2]!.toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(valueWord)) return fail(`force: value ${quote(m[2]!)} is not on or off`);
  const durationMs = parseDuration(m[3]!);
  if (durationMs === undefined) return fail(`force: time limit ${quote(m[3]!)} is not a duration such as 30s, 5m or 500ms`);
  let reason = m[4]!.trim();
  if (/^".*"$/s.test(reason) || /^'.*'$/s.test(reason)) reason = reason.slice(1, -1).trim();
  if (reason === '') return fail('force: a reason is required (why the output is forced, for the journal)');
  if (reason.length > 200) return fail('force: the reason is longer than 200 characters');
  return ok({ kind: 'force', ...ref, value: ['on', 'true', '1'].includes(valueWord), durationMs, reason });
}

function parseUnforce(w: string[]): ParsedCommissioning {
  if (w.length === 1 && w[0] === 'all') return ok({ kind: 'unforce' });
  if (w.length !== 1) return fail(`usage: ${COMMISSIONING_USAGE[9]}`);
  const ref = parseRef(w[0]!);
  return typeof ref === 'string' ? fail(`unforce: ${ref}`) : ok({ kind: 'unforce', ...ref });
}

function parseRef(text: string): { device: string; channel: string } | string {
  const [device, channel, ...more] = text.toLowerCase().split('.');
  if (device === undefined || channel === undefined || more.length > 0 || !NAME.test(device) || !NAME.test(channel)) {
    return `${quote(text)} is not device.channel, e.g. safety_io.lamp_red`;
  }
  return { device, channel };
}

/** `30s`, `5m`, `500ms`, `1h`; a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)?$/.exec(text.toLowerCase());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'h' ? n * 3_600_000 : n * 60_000;
  return ms > 0 ? ms : undefined;
}

function words(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter((w) => w.length > 0);
}

function ok(command: CommissioningCommand): ParsedCommissioning {
  return { ok: true, command };
}

function fail(reason: string): ParsedCommissioning {
  return { ok: false, reason };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
