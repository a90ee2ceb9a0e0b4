/**
 * The interlock table of the cell description, evaluated on live device state.
 *
 * A zone counts as occupied while the arm's measured joints are inside it, and also while a move
 * is under way whose remaining path enters it: a descent is committed the moment it is commanded,
 * so a conveyor must not start just because the arm has not reached the zone yet. Likewise a
 * device counts as moving from the moment a motion command leaves for it until it reports done.
 */
import type { ArmDescription, CellDescription, Condition, Interlock } from '../cell/schema.js';
import { inBox, segmentInBox, zoneBox, type JointBox } from '../cell/kinematics.js';
import { MOTION_COMMANDS, type DeviceCommand, type Reading } from '../devices/types.js';

export interface LiveState {
  reading(device: string): Reading | undefined;
  /** True while a motion command to this device is in flight (commanded, not yet reported done). */
  motionInFlight(device: string): boolean;
  /** Target of the arm move in flight, if any. */
  armTarget(device: string): readonly number[] | undefined;
  /**
   * Is this device's reading fresh (heard from recently)? An input from a stale device counts as
   * unknown, i.e. as the dangerous value. Optional: absent means always fresh.
   */
  fresh?(device: string): boolean;
}

export interface Refusal {
  interlock: string;
  description?: string;
}

export class InterlockTable {
  private readonly boxes = new Map<string, { device: string; box: JointBox }>();

  constructor(private readonly cell: CellDescription) {
    for (const [name, zone] of Object.entries(cell.safety.zones)) {
      const arm = cell.devices[zone.device];
      if (arm?.kind !== 'arm') throw new Error(`zone ${name}: device ${zone.device} is not an arm`);
      this.boxes.set(name, { device: zone.device, box: zoneBox(zone, arm as ArmDescription) });
    }
  }

  get rules(): readonly Interlock[] {
    return this.cell.safety.interlocks;
  }

  /** Is the zone occupied now (measured joints inside, or the move under way heads into it)? */
  zoneOccupied(zone: string, live: LiveState): boolean {
    const z = this.boxes.get(zone);
    if (!z) throw new Error(`unknown zone ${zone}`);
    const joints = live.reading(z.device)?.joints;
    if (!joints) return true; // no measurement yet: assume the worst
    if (inBox(joints, z.box)) return true;
    const target = live.armTarget(z.device);
    return target !== undefined && segmentInBox(joints, target, z.box) !== undefined;
  }

  /** Would an arm move to `target` from the measured joints enter the zone? */
  pathEntersZone(zone: string, from: readonly number[], target: readonly number[]): boolean {
    const z = this.boxes.get(zone);
    if (!z) throw new Error(`unknown zone ${zone}`);
    return segmentInBox(from, target, z.box) !== undefined;
  }

  /** Live value of a condition. */
  holds(cond: Condition, live: LiveState): boolean {
    if ('zone' in cond) return this.zoneOccupied(cond.zone, live);
    if ('moving' in cond) return live.motionInFlight(cond.moving) || (live.reading(cond.moving)?.moving ?? false);
    if ('input' in cond) {
      const [device, channel] = cond.input.split('.') as [string, string];
      if (live.fresh && !live.fresh(device)) return true;
      const value = live.reading(device)?.inputs[channel];
      // An unknown input value is treated as the dangerous one: the rule forbids.
      return value === undefined ? true : value === cond.is;
    }
    if ('anyOf' in cond) return cond.anyOf.some((c) => this.holds(c, live));
    return cond.allOf.every((c) => this.holds(c, live));
  }

  /** Rules whose condition holds now (their motion is forbidden now). */
  activeRules(live: LiveState): Set<string> {
    const active = new Set<string>();
    for (const rule of this.rules) if (this.holds(rule.when, live)) active.add(rule.name);
    return active;
  }

  /** Every rule that forbids sending `command` to `device` now; empty when it may go. */
  refusals(device: string, command: DeviceCommand, live: LiveState): Refusal[] {
    const out: Refusal[] = [];
    for (const rule of this.rules) {
      if (!this.applies(rule, device, command, live)) continue;
      if (this.holds(rule.when, live)) out.push({ interlock: rule.name, description: rule.description });
    }
    return out;
  }

  private applies(rule: Interlock, device: string, command: DeviceCommand, live: LiveState): boolean {
    const f = rule.forbid;
    if (f.device !== '*' && f.device !== device) return false;
    if (!MOTION_COMMANDS.has(command.type)) return false;
    if (f.command !== 'any' && f.command !== command.type) return false;
    if (f.intoZone !== undefined) {
      if (command.type !== 'move') return false;
      const from = live.reading(device)?.joints;
      if (!from) return true;
      return this.pathEntersZone(f.intoZone, from, command.target);
    }
    return true;
  }
}
