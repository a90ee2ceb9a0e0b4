/**
 * The physical throughput limit of a pick-and-place cell, from its description alone (not from
 * the controller's schedule): every resource — the feeder, the arm, the conveyor, and every
 * interlock zone, which only one device may occupy at a time — is busy some time per part; the
 * busiest one sets the limit. The README works this through by hand for demo.yaml.
 */
import type { ArmDescription, CellDescription, ConveyorDescription, FeederDescription } from '../cell/schema.js';
import { armMoveMs, conveyorIndexMs, segmentInBox, zoneBox, armTravelMs, type JointBox } from '../cell/kinematics.js';

export interface PickPlaceDevices {
  feeder: { name: string; desc: FeederDescription };
  arm: { name: string; desc: ArmDescription };
  conveyor: { name: string; desc: ConveyorDescription };
}

export function pickPlaceDevices(cell: CellDescription): PickPlaceDevices {
  const find = <K extends 'feeder' | 'arm' | 'conveyor'>(kind: K) => {
    const entry = Object.entries(cell.devices).find(([, d]) => d.kind === kind);
    if (!entry) throw new Error(`the cell has no ${kind}: a pick-and-place cell needs a feeder, an arm and a conveyor`);
    return { name: entry[0], desc: entry[1] as Extract<CellDescription['devices'][string], { kind: K }> };
  };
  return { feeder: find('feeder'), arm: find('arm'), conveyor: find('conveyor') };
}

/** One activity of the arm in a cycle: a move between named poses, or a dwell at a pose. */
export interface ArmActivity {
  name: string;
  from: string;
  to: string;
  ms: number;
}

/** The arm's work for one part, starting and ending above the pick position. */
export function armCycle(arm: ArmDescription): ArmActivity[] {
  const pose = (name: string) => {
    const p = arm.poses[name];
    if (!p) throw new Error(`the arm has no pose "${name}" (a pick-and-place cycle uses above_pick, pick, above_place, place)`);
    return p;
  };
  const move = (name: string, from: string, to: string): ArmActivity => ({ name, from, to, ms: armMoveMs(pose(from), pose(to), arm) });
  return [
    move('descend_to_pick', 'above_pick', 'pick'),
    { name: 'grip', from: 'pick', to: 'pick', ms: arm.gripper.gripMs },
    move('lift_from_pick', 'pick', 'above_pick'),
    move('transfer', 'above_pick', 'above_place'),
    move('descend_to_place', 'above_place', 'place'),
    { name: 'release', from: 'place', to: 'place', ms: arm.gripper.releaseMs },
    move('lift_from_place', 'place', 'above_place'),
    move('return', 'above_place', 'above_pick'),
  ];
}

/**
 * How long one arm activity keeps a zone occupied, with the controller's rule: a move occupies a
 * zone from the moment it is commanded if its path enters the zone, until the arm has left it.
 */
function armZoneOccupancyMs(activity: ArmActivity, arm: ArmDescription, box: JointBox): number {
  const from = arm.poses[activity.from]!;
  const to = arm.poses[activity.to]!;
  const span = segmentInBox(from, to, box);
  if (!span) return 0;
  if (activity.from === activity.to) return activity.ms; // a dwell inside the zone
  const travel = armTravelMs(from, to, arm);
  const endsInside = span[1] >= 1;
  // Entering: occupied from the command on. Leaving: occupied until the path exits the box.
  return endsInside ? activity.ms : travel * span[1];
}

export interface ResourceLoad {
  resource: string;
  kind: 'device' | 'zone';
  busyMsPerPart: number;
  detail: string;
}

export interface ThroughputLimit {
  resources: ResourceLoad[];
  bottleneck: ResourceLoad;
  cycleMs: number;
  partsPerMinute: number;
}

export function throughputLimit(cell: CellDescription): ThroughputLimit {
  const { feeder, arm, conveyor } = pickPlaceDevices(cell);
  const cycle = armCycle(arm.desc);
  const feedMs = feeder.desc.feedMs + feeder.desc.partAtPick.debounceMs;
  const indexMs = conveyorIndexMs(conveyor.desc);
  const motionMsPerPart: Record<string, number> = { [feeder.name]: feedMs, [conveyor.name]: indexMs };

  const resources: ResourceLoad[] = [
    { resource: feeder.name, kind: 'device', busyMsPerPart: feedMs, detail: `feed ${fmt(feeder.desc.feedMs)} + debounce ${fmt(feeder.desc.partAtPick.debounceMs)}` },
    {
      resource: arm.name,
      kind: 'device',
      busyMsPerPart: cycle.reduce((s, a) => s + a.ms, 0),
      detail: cycle.map((a) => `${a.name} ${fmt(a.ms)}`).join(' + '),
    },
    {
      resource: conveyor.name,
      kind: 'device',
      busyMsPerPart: indexMs,
      detail: `index ${conveyor.desc.indexMm} mm at ${conveyor.desc.axis.maxSpeedMmS} mm/s, ${conveyor.desc.axis.accelMmS2} mm/s² = ${fmt(indexMs)}`,
    },
  ];

  for (const [zoneName, zone] of Object.entries(cell.safety.zones)) {
    if (zone.device !== arm.name) continue;
    const box = zoneBox(zone, arm.desc);
    const parts: string[] = [];
    let busy = 0;
    for (const activity of cycle) {
      const ms = armZoneOccupancyMs(activity, arm.desc, box);
      if (ms > 0) {
        busy += ms;
        parts.push(`${arm.name} ${activity.name} ${fmt(ms)}`);
      }
    }
    // Every other device an interlock keeps out of this zone occupies it while it moves.
    const excluded = new Set(
      cell.safety.interlocks
        .filter((il) => il.forbid.device !== arm.name && conditionMentionsZone(il.when, zoneName))
        .map((il) => il.forbid.device),
    );
    for (const device of excluded) {
      const ms = device === '*' ? 0 : (motionMsPerPart[device] ?? 0);
      if (ms > 0) {
        busy += ms;
        parts.push(`${device} motion ${fmt(ms)}`);
      }
    }
    resources.push({ resource: zoneName, kind: 'zone', busyMsPerPart: busy, detail: parts.join(' + ') || 'not entered' });
  }

  const bottleneck = resources.reduce((a, b) => (b.busyMsPerPart > a.busyMsPerPart ? b : a));
  return { resources, bottleneck, cycleMs: bottleneck.busyMsPerPart, partsPerMinute: 60_000 / bottleneck.busyMsPerPart };
}

function conditionMentionsZone(cond: CellDescription['safety']['interlocks'][number]['when'], zone: string): boolean {
  if ('zone' in cond) return cond.zone === zone;
  if ('anyOf' in cond) return cond.anyOf.some((c) => conditionMentionsZone(c, zone));
  if ('allOf' in cond) return cond.allOf.some((c) => conditionMentionsZone(c, zone));
  return false;
}

function fmt(ms: number): string {
  return `${Math.round(ms)} ms`;
}
