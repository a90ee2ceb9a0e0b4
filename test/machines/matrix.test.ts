/**
 * All 17 x 9 (state, command) pairs, each from a real path from boot, against the table in
 * packmlTable.ts (written independently of the machine).
 */
import { describe, expect, it } from 'vitest';
import { commandRejection, type CellEvent } from '../../machines/cellMachine.js';
import { bootCell } from './harness.js';
import { COMMANDS, STATES, expectedAfter } from './packmlTable.js';
import { command, pathTo } from './paths.js';

const pairs = STATES.flatMap((state) => COMMANDS.map((cmd) => [state, cmd] as const));

describe('PackML command matrix (machine level)', () => {
  it('covers 153 pairs, 38 of them accepted', () => {
    expect(pairs).toHaveLength(153);
    expect(pairs.filter(([s, c]) => expectedAfter(s, c) !== undefined)).toHaveLength(38);
  });

  it.each(STATES)('pathTo(%s) reaches it from boot', (state) => {
    const cell = bootCell();
    cell.send(...pathTo(state));
    expect(cell.state()).toBe(state);
  });

  it.each(pairs)('%s + %s', (state, cmd) => {
    const cell = bootCell();
    cell.send(...pathTo(state));
    const before = cell.actor.getSnapshot();
    const event: CellEvent = command(cmd, 'hmi');
    const rejection = commandRejection(before, event);
    const enteredBefore = cell.entered.length;
    cell.send(event);
    const expected = expectedAfter(state, cmd);
    if (expected === undefined) {
      expect(cell.state()).toBe(state);
      expect(cell.entered.length).toBe(enteredBefore);
      expect(cell.actor.getSnapshot().context).toEqual(before.context);
      expect(rejection).toMatch(new RegExp(`^${cmd.charAt(0).toUpperCase()}${cmd.slice(1)} is not valid in ${state} \\(valid in .+\\)$`));
    } else {
      expect(rejection).toBeUndefined();
      expect(cell.state()).toBe(expected);
      expect(cell.entered.at(-1)).toEqual({ type: 'state.entered', state: expected, cause: `cmd.${cmd} from hmi` });
    }
  });
});
