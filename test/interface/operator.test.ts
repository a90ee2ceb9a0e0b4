import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PACKML_COMMAND_WORDS, UNIT_MODES, parseCommand } from '../../src/interface/operator.js';

const EXPECTED_WORDS = 'reset, start, stop, hold, unhold, suspend, unsuspend, abort, clear, ack, mode <production|maintenance|manual>, jog, teach, force, unforce, step';

describe('parseCommand', () => {
  it.each(PACKML_COMMAND_WORDS)('parses the PackML command %s', (word) => {
    expect(parseCommand(word)).toEqual({ ok: true, command: { kind: 'packml', command: word } });
  });

  it('knows exactly the nine PackML commands', () => {
    expect([...PACKML_COMMAND_WORDS].sort()).toEqual(['abort', 'clear', 'hold', 'reset', 'start', 'stop', 'suspend', 'unhold', 'unsuspend']);
  });

  it('parses ack', () => {
    expect(parseCommand('ack')).toEqual({ ok: true, command: { kind: 'ack' } });
  });

  it.each(UNIT_MODES)('parses mode %s', (mode) => {
    expect(parseCommand(`mode ${mode}`)).toEqual({ ok: true, command: { kind: 'mode', mode } });
  });

  it.each([
    ['START', { kind: 'packml', command: 'start' }],
    ['  Stop  ', { kind: 'packml', command: 'stop' }],
    ['\tunHold\r\n', { kind: 'packml', command: 'unhold' }],
    ['ACK', { kind: 'ack' }],
    ['  MODE \t Maintenance ', { kind: 'mode', mode: 'maintenance' }],
  ])('ignores case and blanks: %j', (text, command) => {
    expect(parseCommand(text)).toEqual({ ok: true, command });
  });

  it.each([
    ['', 'empty command'],
    [' \t\n ', 'empty command'],
    ['go', `unknown command "go"; expected one of ${EXPECTED_WORDS}`],
    ['Estop', `unknown command "estop"; expected one of ${EXPECTED_WORDS}`],
    ['start now', '"start" takes no argument (got "now")'],
    ['abort  all   devices', '"abort" takes no argument (got "all devices")'],
    ['ack 3', '"ack" takes no argument (got "3")'],
    ['mode', '"mode" takes one of production, maintenance, manual'],
    ['mode auto', '"mode" takes one of production, maintenance, manual (got "auto")'],
    ['mode manual now', '"mode" takes one of production, maintenance, manual (got "manual now")'],
    ['mode 1', '"mode" takes one of production, maintenance, manual (got "1")'],
  ])('refuses %j with a reason', (text, reason) => {
    expect(parseCommand(text)).toEqual({ ok: false, reason });
  });

  it('quotes control characters and shortens a flood of text in the reason', () => {
    expect(parseCommand('st\u0000art')).toEqual({ ok: false, reason: `unknown command "st\\u0000art"; expected one of ${EXPECTED_WORDS}` });
    const flood = parseCommand(`start ${'x'.repeat(100_000)}`);
    expect(flood).toEqual({ ok: false, reason: `"start" takes no argument (got "${'x'.repeat(40)}…")` });
  });

  it('refuses something that is not a string instead of throwing', () => {
    expect(parseCommand(undefined as unknown as string)).toEqual({ ok: false, reason: 'a command is a string, got undefined' });
    expect(parseCommand(null as unknown as string)).toEqual({ ok: false, reason: 'a command is a string, got null' });
    expect(parseCommand({ data: 'start' } as unknown as string)).toEqual({ ok: false, reason: 'a command is a string, got object' });
  });

  it('either parses any string or gives a non-empty reason, never throws', () => {
    const wordish = fc
      .array(fc.constantFrom(...PACKML_COMMAND_WORDS, 'ack', 'mode', ...UNIT_MODES, 'x', ' ', '\t', 'MODE', 'Start'), { maxLength: 5 })
      .map((parts) => parts.join(' '));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), wordish), (text) => {
        const parsed = parseCommand(text);
        if (parsed.ok) {
          // Only the known words, alone or "mode <mode>", parse.
          const words = text.trim().toLowerCase().split(/\s+/);
          const { command } = parsed;
          // Commissioning commands (jog, teach, force, unforce, step) have their own grammar: test/commissioning.
          if (command.kind === 'commissioning') {
            expect(['jog', 'teach', 'force', 'unforce', 'step']).toContain(words[0]);
            return;
          }
          const expected = command.kind === 'packml' ? [command.command] : command.kind === 'ack' ? ['ack'] : ['mode', command.mode];
          expect(words).toEqual(expected);
        } else {
          expect(typeof parsed.reason).toBe('string');
          expect(parsed.reason.length).toBeGreaterThan(0);
          expect(parsed.reason).not.toContain('\n');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('parses every valid command whatever the case and surrounding blanks (property)', () => {
    const valid = fc.oneof(
      fc.constantFrom(...PACKML_COMMAND_WORDS, 'ack'),
      fc.constantFrom(...UNIT_MODES).map((mode) => `mode ${mode}`),
    );
    const blanks = fc.stringMatching(/^[ \t\r\n]{0,3}$/);
    fc.assert(
      fc.property(valid, fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), blanks, blanks, (text, upper, before, after) => {
        const mixedCase = [...text].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');
        expect(parseCommand(`${before}${mixedCase}${after}`)).toEqual(parseCommand(text));
        expect(parseCommand(text).ok).toBe(true);
      }),
    );
  });
});
