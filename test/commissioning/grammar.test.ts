import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommissioning, parseDuration } from '../../src/commissioning/grammar.js';
import { parseCommand } from '../../src/interface/operator.js';

describe('the commissioning grammar', () => {
  it.each([
    ['jog conveyor +10', { kind: 'jog', device: 'conveyor', direction: 1, distance: 10 }],
    ['JOG Conveyor -2.5mm at 100', { kind: 'jog', device: 'conveyor', direction: -1, distance: 2.5, speed: 100 }],
    ['jog conveyor + continuous', { kind: 'jog', device: 'conveyor', direction: 1 }],
    ['jog arm joint_2 -0.05', { kind: 'jog', device: 'arm', joint: 'joint_2', direction: -1, distance: 0.05 }],
    ['jog arm joint_2 - continuous at 0.1rad/s', { kind: 'jog', device: 'arm', joint: 'joint_2', direction: -1, speed: 0.1 }],
    ['jog renew', { kind: 'jogRenew' }],
    ['jog stop', { kind: 'jogStop' }],
    ['teach pose arm above_pick', { kind: 'teach', what: 'pose', device: 'arm', name: 'above_pick' }],
    ['teach position conveyor place_position_mm', { kind: 'teach', what: 'position', device: 'conveyor', name: 'place_position_mm' }],
    ['teach confirm t3', { kind: 'teachConfirm', id: 't3' }],
    ['teach cancel', { kind: 'teachCancel' }],
    ['force safety_io.lamp_red on 30s "Lamp Test"', { kind: 'force', device: 'safety_io', channel: 'lamp_red', value: true, durationMs: 30_000, reason: 'Lamp Test' }],
    ['force arm.vacuum off 500ms leak check', { kind: 'force', device: 'arm', channel: 'vacuum', value: false, durationMs: 500, reason: 'leak check' }],
    ['unforce safety_io.lamp_red', { kind: 'unforce', device: 'safety_io', channel: 'lamp_red' }],
    ['unforce all', { kind: 'unforce' }],
    ['step', { kind: 'step' }],
  ])('parses %j', (text, command) => {
    expect(parseCommissioning(text)).toEqual({ ok: true, command });
    // The operator interface hands the same text to the same grammar, whatever the face.
    expect(parseCommand(text)).toEqual({ ok: true, command: { kind: 'commissioning', command } });
  });

  it.each([
    ['jog', /"jog" needs a device/],
    ['jog conveyor', /missing direction and distance/],
    ['jog conveyor +0', /distance "0" is not a positive number/],
    ['jog conveyor +x', /distance "x" is not a positive number/],
    ['jog conveyor +10 at', /"at" needs a positive speed/],
    ['jog conveyor +10 fast', /unexpected "fast"/],
    ['teach', /"teach" takes pose, position, confirm or cancel/],
    ['teach pose arm', /usage: teach pose <arm> <pose>/],
    ['teach pose arm Above-Pick', /usage: teach pose <arm> <pose>/],
    ['force lamp_red on 30s "x"', /"lamp_red" is not device.channel/],
    ['force safety_io.lamp_red on forever "x"', /time limit "forever" is not a duration/],
    ['unforce', /usage: unforce/],
    ['step 2', /"step" takes no argument/],
  ])('refuses %j with a reason', (text, reason) => {
    const parsed = parseCommand(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('reads durations', () => {
    expect([parseDuration('30s'), parseDuration('5m'), parseDuration('500ms'), parseDuration('2'), parseDuration('1h')]).toEqual([30_000, 300_000, 500, 2000, 3_600_000]);
    expect(parseDuration('0s')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
  });

  it('never throws, and a reason is one line', () => {
    const words = fc.array(fc.constantFrom('jog', 'teach', 'force', 'unforce', 'step', 'conveyor', 'arm', '+', '-10', 'joint_1', 'renew', 'continuous', 'at', '5', 'on', '30s', '"r"', 'a.b', 'pose', 'all'), { maxLength: 7 });
    fc.assert(
      fc.property(fc.oneof(fc.string(), words.map((w) => w.join(' '))), (text) => {
        const parsed = parseCommand(text);
        if (!parsed.ok) expect(parsed.reason).not.toContain('\n');
      }),
    );
  });
});
