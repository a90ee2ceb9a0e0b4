import { describe, expect, it } from 'vitest';
import { JOURNAL_KINDS, Journal, MemorySink, type JournalRecord } from '../../src/journal/journal.js';
import { VirtualClock } from '../../src/time/clock.js';

/** A wall clock that reads a fixed start plus one second per call, so `wall` is predictable. */
function steppingWallClock(startIso: string) {
  let calls = 0;
  return () => new Date(Date.parse(startIso) + 1000 * calls++);
}

describe('Journal', () => {
  it('numbers records 1, 2, 3 ..., stamps them with the cell clock and the wall clock, and keeps fields', () => {
    const clock = new VirtualClock();
    const sink = new MemorySink();
    const journal = new Journal(clock, [sink], steppingWallClock('2025-01-02T03:04:05.000Z'));

    const first = journal.record('run.start', { cell: 'demo', hash: 'abc', seed: 7, virtualTime: true, lotSize: 3 });
    clock.advanceTo(12.5);
    journal.record('state', { from: 'Idle', to: 'Starting', cause: 'command start' });
    clock.advanceTo(1000);
    journal.record('part', { partId: 'p1', event: 'released', nested: { joints: [0, -1.2] } });

    expect(first).toEqual({
      seq: 1,
      wall: '2025-01-02T03:04:05.000Z',
      t: 0,
      kind: 'run.start',
      cell: 'demo',
      hash: 'abc',
      seed: 7,
      virtualTime: true,
      lotSize: 3,
    });
    expect(sink.records()).toEqual([
      first,
      { seq: 2, wall: '2025-01-02T03:04:06.000Z', t: 12.5, kind: 'state', from: 'Idle', to: 'Starting', cause: 'command start' },
      {
        seq: 3,
        wall: '2025-01-02T03:04:07.000Z',
        t: 1000,
        kind: 'part',
        partId: 'p1',
        event: 'released',
        nested: { joints: [0, -1.2] },
      },
    ]);
    // The common fields lead each line, so a journal reads well in a terminal.
    expect(sink.lines[1]).toMatch(/^\{"seq":2,"wall":"[^"]+","t":12\.5,"kind":"state",/);
  });

  it('records a kind with no fields', () => {
    const journal = new Journal(new VirtualClock(), [new MemorySink()], () => new Date(0));
    expect(journal.record('run.end')).toEqual({ seq: 1, wall: '1970-01-01T00:00:00.000Z', t: 0, kind: 'run.end' });
  });

  it('keeps t to the microsecond so virtual-time journals are byte-stable', () => {
    const clock = new VirtualClock();
    const sink = new MemorySink();
    const journal = new Journal(clock, [sink], () => new Date(0));
    clock.advanceTo(1 / 3);
    journal.record('step', { device: 'conveyor', step: 'index', phase: 'start' });
    expect(sink.records()[0]!.t).toBe(0.333);
  });

  it.each(['seq', 'wall', 't', 'kind'])('refuses a field named %s, which would overwrite a common field', (field) => {
    const sink = new MemorySink();
    const journal = new Journal(new VirtualClock(), [sink], () => new Date(0));
    expect(() => journal.record('recovery', { [field]: 'resync', message: 'x' } as Record<string, unknown>)).toThrow(
      `journal recovery record: field "${field}" is reserved for the common fields (seq, wall, t, kind); name it otherwise`,
    );
    expect(sink.lines).toEqual([]);
    // The refused record used no sequence number.
    expect(journal.record('recovery', { recovery: 'resync', message: 'x' }).seq).toBe(1);
  });

  it('writes the same line to every sink and closes them all', () => {
    const closed: string[] = [];
    class NamedSink extends MemorySink {
      constructor(readonly name: string) {
        super();
      }
      override close(): void {
        closed.push(this.name);
      }
    }
    const a = new NamedSink('a');
    const b = new NamedSink('b');
    const journal = new Journal(new VirtualClock(), [a, b], () => new Date(0));
    journal.record('estop', { source: 'estop_button', active: true });
    journal.record('estop', { source: 'estop_button', active: false });
    expect(a.lines).toHaveLength(2);
    expect(b.lines).toEqual(a.lines);
    journal.close();
    expect(closed).toEqual(['a', 'b']);
  });

  it('tells onRecord listeners about each record, in order, until they unsubscribe', () => {
    const journal = new Journal(new VirtualClock(), [new MemorySink()], () => new Date(0));
    const seen: Array<[string, number]> = [];
    const stopFirst = journal.onRecord((record: JournalRecord) => seen.push(['first', record.seq]));
    journal.onRecord((record: JournalRecord) => seen.push(['second', record.seq]));
    const written = journal.record('mode', { from: 'production', to: 'maintenance', source: 'hmi' });
    stopFirst();
    journal.record('mode', { from: 'maintenance', to: 'production', source: 'hmi' });
    expect(seen).toEqual([
      ['first', 1],
      ['second', 1],
      ['second', 2],
    ]);
    let received: JournalRecord | undefined;
    journal.onRecord((record) => (received = record));
    const third = journal.record('command', { command: 'start', source: 'cli', accepted: false, state: 'Stopped', reason: 'not valid in Stopped' });
    expect(received).toEqual(third);
    expect(written.kind).toBe('mode');
  });

  it('offers every kind the controller writes', () => {
    expect([...JOURNAL_KINDS]).toEqual([
      'run.start',
      'run.end',
      'state',
      'mode',
      'command',
      'device.command',
      'device.feedback',
      'interlock.refused',
      'fault',
      'recovery',
      'part',
      'estop',
      'protective',
      'step',
      'commissioning',
    ]);
  });
});
