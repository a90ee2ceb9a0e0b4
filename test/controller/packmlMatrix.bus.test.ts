/**
 * The PackML matrix again, on the whole controller: every (state, command) pair, each state reached
 * by real operator commands and real time on the simulated demo cell, each command sent on
 * /workcell/command, and the answer read from /workcell/events and the state.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS, expectedAfter, STATES } from '../machines/packmlTable.js';
import { DemoCell, reach } from './runHarness.js';

describe('PackML matrix through the operator interface (153 pairs)', () => {
  for (const state of STATES) {
    for (const command of COMMANDS) {
      const after = expectedAfter(state, command);
      it(`${command} in ${state} is ${after ? `accepted -> ${after}` : 'rejected'}`, () => {
        const cell = new DemoCell({ cycles: 1 });
        try {
          reach[state](cell);
          expect(cell.state).toBe(state);
          const eventsBefore = cell.events.length;
          cell.send(command);
          const answer = cell.lastCommandEvent();
          expect(cell.events.length).toBeGreaterThan(eventsBefore);
          expect(answer).toMatchObject({ command, state, source: 'topic:/workcell/command' });
          if (after) {
            expect(answer!.type).toBe('command.accepted');
            // The first transition after the command; an acting state may already have completed
            // (the simulator confirms a safe state at once).
            const moved = cell.events.slice(eventsBefore).find((e) => e.type === 'state.changed');
            expect(moved).toMatchObject({ from: state, to: after });
          } else {
            expect(answer!.type).toBe('command.rejected');
            expect(answer).toHaveProperty('reason', expect.stringContaining(state));
            expect(cell.state).toBe(state);
          }
          const journaled = cell.run.memory!.records().filter((r) => r.kind === 'command').at(-1)!;
          expect(journaled).toMatchObject({ command, state, accepted: after !== undefined });
        } finally {
          cell.close();
        }
      });
    }
  }
});

describe('operator interface: boot, modes and Start', () => {
  it('boots into Stopped with every e-stop source released', () => {
    const normal = new DemoCell();
    expect(normal.state).toBe('Stopped');
    expect(normal.run.controller.stateMessage().estop).toEqual({ active: false, sources: [{ name: 'estop_button', active: false }] });
    normal.close();
  });

  it('boots into Aborted when an e-stop is pressed at start-up, and Clear waits for its release', () => {
    const cell = new DemoCell({ beforeStart: (run) => run.sim.setInput('safety_io', 'estop_ok', false) });
    expect(cell.state).toBe('Aborted');
    cell.send('clear');
    expect(cell.lastCommandEvent()).toMatchObject({ type: 'command.rejected', reason: expect.stringContaining('estop_button') });
    cell.pressEstop(false);
    cell.send('clear');
    expect(cell.lastCommandEvent()).toMatchObject({ type: 'command.accepted' });
    cell.until('Stopped');
    cell.close();
  });

  it('refuses a mode change in Execute, with the reason, and accepts it in Stopped', () => {
    const cell = new DemoCell();
    reach.Execute(cell);
    cell.send('mode manual');
    expect(cell.lastCommandEvent()).toMatchObject({ type: 'command.rejected', state: 'Execute' });
    expect(cell.run.controller.stateMessage().mode).toBe('production');
    cell.send('stop');
    cell.until('Stopped');
    cell.send('mode maintenance');
    expect(cell.lastCommandEvent()).toMatchObject({ type: 'command.accepted' });
    const state = cell.run.controller.stateMessage();
    expect(state).toMatchObject({ mode: 'maintenance', modeNumber: 2, state: 'Stopped', stateNumber: 2, stateNumbering: 'PackTags' });
    cell.close();
  });

  it('rejects unknown and malformed commands with a reason, changing nothing', () => {
    const cell = new DemoCell();
    for (const word of ['go', 'start now', 'mode fast', '']) {
      cell.send(word);
      const e = cell.lastCommandEvent();
      expect(e?.type).toBe('command.rejected');
      expect((e as { reason: string }).reason.length).toBeGreaterThan(5);
    }
    expect(cell.state).toBe('Stopped');
    cell.close();
  });

  it('publishes the state latched: a late subscriber gets the current state at once', () => {
    const cell = new DemoCell();
    reach.Idle(cell);
    let seen: string | undefined;
    cell.run.bus.subscribe(cell.run.controller.topics.state, (m) => (seen = JSON.parse(m.data).state));
    expect(seen).toBe('Idle');
    cell.close();
  });
});
