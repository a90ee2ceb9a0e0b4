/**
 * `workcell replay FILE.mcap`: re-drive the cell machine (machines/cellMachine.ts, the PackML
 * statechart) from a recording and report where it diverges from what was recorded.
 *
 * The inputs the machine received are in the journal: operator commands (`command`), e-stop
 * sources (`estop`), protective stops (`protective`) and faults that hold the cell (`fault`).
 * The controller's own completions (state complete, lot released, flow) leave no input record:
 * the `state` record they caused names them in its cause, and replay sends them from there, so
 * the machine still decides where each one leads. Divergences: a command accepted in the
 * recording but refused by the machine (or the reverse, or refused for another reason), a state
 * or mode change the machine does not make, or makes differently, or makes and the recording
 * does not show.
 */
import { createActor } from 'xstate';
import { cellMachine, commandRejection, type CellEvent, type PackmlState } from '../../machines/cellMachine.js';
import { PACKML_STATES } from '../../machines/packml.js';
import { parseCommand } from '../interface/operator.js';
import type { JournalRecord } from '../journal/journal.js';
import { readRecording } from './read.js';
import { telemetryTopics } from '../bridge/channels.js';

export interface Divergence {
  seq: number;
  t: number;
  recorded: string;
  replayed: string;
}

export interface ReplayReport {
  records: number;
  commands: number;
  transitions: number;
  finalState: string;
  divergences: Divergence[];
}

/** The internal event a `state` record's cause names, if it names one. */
function internalEvent(cause: string): CellEvent | undefined {
  const complete = /^state complete (\w+)$/.exec(cause);
  if (complete && (PACKML_STATES as readonly string[]).includes(complete[1]!)) return { type: 'stateComplete', state: complete[1] as PackmlState };
  if (cause === 'lot released') return { type: 'lot.released' };
  if (cause === 'flow ok') return { type: 'flow.ok' };
  const flow = /^(?:flow )?(starved|blocked): (.*)$/.exec(cause);
  if (flow) return flow[1] === 'starved' ? { type: 'flow.starved', cause: flow[2]! } : { type: 'flow.blocked', cause: flow[2]! };
  return undefined;
}

export function replayJournal(records: readonly JournalRecord[]): ReplayReport {
  const start = records.find((r) => r.kind === 'run.start');
  if (!start) {
    throw new Error('the recording has no run.start record: it does not begin at the start of a run (a later segment of a rolling recording cannot be replayed on its own)');
  }
  const divergences: Divergence[] = [];
  const diverge = (r: JournalRecord, recorded: string, replayed: string) => divergences.push({ seq: r.seq, t: r.t, recorded, replayed });
  const states: Array<{ state: string; cause: string }> = [];
  const modes: Array<{ from: string; to: string }> = [];
  const activeEstopSources = Array.isArray(start.activeEstopSources) ? (start.activeEstopSources as string[]) : [];
  const actor = createActor(cellMachine, { input: { activeEstopSources } });
  actor.on('state.entered', (e) => states.push({ state: e.state, cause: e.cause }));
  actor.on('mode.changed', (e) => modes.push({ from: e.from, to: e.to }));
  actor.start();
  let current: string | null = null;
  let commands = 0;
  let transitions = 0;

  // The state record an input causes is journaled at once, before any other input: a transition
  // still queued when the next input arrives is one the recording never shows.
  const flushUnrecorded = (r: JournalRecord) => {
    for (const extra of states.splice(0)) diverge(r, 'no state change', `${current ?? '(boot)'} -> ${extra.state} (${extra.cause})`);
  };
  const inputs = new Set(['command', 'estop', 'protective', 'fault']);

  for (const r of records) {
    if (r.seq < start.seq) continue;
    if (inputs.has(r.kind)) flushUnrecorded(r);
    switch (r.kind) {
      case 'command': {
        const source = String(r.source ?? '');
        // Refused by the WebSocket bridge (no token): it never reached the controller.
        if (source.startsWith('ws:')) break;
        commands++;
        const accepted = r.accepted === true;
        const parsed = parseCommand(String(r.command));
        let reason: string | undefined;
        let event: CellEvent | undefined;
        if (!parsed.ok) reason = parsed.reason;
        else if (parsed.command.kind === 'packml') event = { type: `cmd.${parsed.command.command}`, source } as CellEvent;
        else if (parsed.command.kind === 'mode') event = { type: 'cmd.mode', mode: parsed.command.mode, source };
        if (event) reason = commandRejection(actor.getSnapshot(), event);
        const recordedAs = accepted ? 'accepted' : `rejected (${String(r.reason)})`;
        const replayedAs = reason === undefined ? 'accepted' : `rejected (${reason})`;
        if (recordedAs !== replayedAs) diverge(r, `command ${String(r.command)} ${recordedAs}`, `command ${String(r.command)} ${replayedAs}`);
        if (reason === undefined && event) actor.send(event);
        break;
      }
      case 'estop':
        actor.send(r.active === true ? { type: 'estop.tripped', source: String(r.source) } : { type: 'estop.released', source: String(r.source) });
        break;
      case 'protective':
        if (r.active === true) actor.send({ type: 'protective.tripped', source: String(r.source), endState: r.endState === 'stopped' ? 'stopped' : 'held' });
        break;
      case 'fault':
        actor.send({ type: 'fault.hold', cause: String(r.fault) });
        break;
      case 'mode': {
        const made = modes.shift();
        if (!made) diverge(r, `mode ${String(r.from)} -> ${String(r.to)}`, 'no mode change');
        else if (made.from !== r.from || made.to !== r.to) diverge(r, `mode ${String(r.from)} -> ${String(r.to)}`, `mode ${made.from} -> ${made.to}`);
        break;
      }
      case 'state': {
        transitions++;
        const cause = String(r.cause);
        if (states.length === 0) {
          const internal = internalEvent(cause);
          if (internal) actor.send(internal);
        }
        const made = states.shift();
        const recorded = `${String(r.from ?? '(boot)')} -> ${String(r.to)} (${cause})`;
        if (!made) diverge(r, recorded, `stays in ${current ?? '(not booted)'}`);
        else if (made.state !== r.to || made.cause !== cause) diverge(r, recorded, `${current ?? '(boot)'} -> ${made.state} (${made.cause})`);
        if (made) current = made.state;
        break;
      }
      default:
        break;
    }
  }
  flushUnrecorded(records[records.length - 1]!);
  const finalState = current ?? 'unknown';
  actor.stop();
  return { records: records.length, commands, transitions, finalState, divergences };
}

/** The journal records of a recording, from its journal topic. */
export function journalOfRecording(file: string): JournalRecord[] {
  const recording = readRecording(file);
  const topic = [...recording.topics.keys()].find((t) => t.endsWith('/journal') && recording.topics.get(t)!.metadata.get('workcell.json_schema') === 'workcell/JournalRecord');
  if (!topic) throw new Error(`${file} has no journal topic (expected <namespace>/journal, e.g. ${telemetryTopics('/workcell').journal}): was it recorded by workcell run --record?`);
  return recording.messages.filter((m) => m.topic === topic).map((m) => m.json as JournalRecord);
}

export function replayRecording(file: string): ReplayReport {
  return replayJournal(journalOfRecording(file));
}

export function formatReplay(file: string, report: ReplayReport): string {
  const head = `${file}: ${report.records} journal records, ${report.commands} commands, ${report.transitions} state changes replayed through the cell machine; final state ${report.finalState}`;
  if (report.divergences.length === 0) return `${head}\nno divergence: the cell machine makes every recorded decision the same way\n`;
  const lines = report.divergences.slice(0, 20).map((d) => `  seq ${d.seq} t=${d.t} ms: recorded ${d.recorded}; replay: ${d.replayed}`);
  const more = report.divergences.length > 20 ? [`  ... and ${report.divergences.length - 20} more`] : [];
  return `${head}\n${report.divergences.length} divergence(s), first at seq ${report.divergences[0]!.seq}:\n${[...lines, ...more].join('\n')}\n`;
}
