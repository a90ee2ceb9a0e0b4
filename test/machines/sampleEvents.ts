/** One concrete event of every kind the cell machine takes, for graph traversal and fuzzing. */
import type { CellEvent } from '../../machines/packml.js';
import { COMMANDS, STATES } from './packmlTable.js';
import { command, stateComplete } from './paths.js';

export const SAMPLE_EVENTS: readonly CellEvent[] = [
  ...COMMANDS.map((c) => command(c, 'hmi')),
  ...(['production', 'maintenance', 'manual'] as const).map((mode): CellEvent => ({ type: 'cmd.mode', mode, source: 'hmi' })),
  ...STATES.map((s) => stateComplete(s)),
  { type: 'estop.tripped', source: 'estop_button' },
  { type: 'estop.released', source: 'estop_button' },
  { type: 'protective.tripped', source: 'guard_door', endState: 'held' },
  { type: 'protective.tripped', source: 'light_curtain', endState: 'stopped' },
  { type: 'fault.hold', cause: 'part_not_at_pick' },
  { type: 'lot.released' },
  { type: 'flow.starved', cause: 'feeder_empty' },
  { type: 'flow.blocked', cause: 'outfeed_full' },
  { type: 'flow.ok' },
];
