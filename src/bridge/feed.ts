/**
 * One stream of everything a running cell shows the outside world: the operator interface (as on
 * the bus), every journal record, every device command (from the journal) and every piece of
 * device feedback (from the drivers), and the arm's joint states. The Foxglove bridge and the
 * MCAP recorder both consume it, so what is served live and what is recorded are the same.
 */
import type { CellDescription } from '../cell/schema.js';
import type { DeviceDriver, DeviceFeedback } from '../devices/types.js';
import type { Bus } from '../interface/bus.js';
import type { JointStateLike } from './cdr.js';
import { toRosTime } from '../interface/messages.js';
import type { OperatorTopics } from '../interface/topics.js';
import type { Journal, JournalRecord } from '../journal/journal.js';
import type { Clock } from '../time/clock.js';
import { cellChannels, telemetryTopics, type ChannelDef } from './channels.js';

export interface FeedMessage {
  topic: string;
  /** Cell-clock time, ms. */
  t: number;
  /** The same instant on the wall-clock timeline (ns since the Unix epoch): see CellFeed.stampNs. */
  stamp: bigint;
  message: unknown;
}

export interface FeedSource {
  cell: CellDescription;
  clock: Clock;
  bus: Bus;
  journal: Journal;
  topics: OperatorTopics;
  drivers: ReadonlyMap<string, DeviceDriver>;
  /** Records written before the feed was opened (RunContext.journalHistory). */
  journalHistory?: readonly JournalRecord[];
  /** A consumer's error: reported here, never thrown into the controller that published. */
  onError?: (error: Error) => void;
}

export interface CellFeed {
  readonly channels: readonly ChannelDef[];
  /** Wall-clock time (ns since the Unix epoch) of cell time `t` ms: the timeline clients see. */
  stampNs(t: number): bigint;
  close(): void;
}

function armOf(cell: CellDescription) {
  return Object.entries(cell.devices).find(([, d]) => d.kind === 'arm');
}

/** The channels a feed from `source` publishes on. */
export function feedChannels(source: Pick<FeedSource, 'cell' | 'topics' | 'drivers'>): ChannelDef[] {
  return cellChannels(source.topics, source.cell.cell.namespace, [...source.drivers.keys()], armOf(source.cell) !== undefined);
}

/**
 * Open the feed: `listener` gets every message from now on (and the journal history first). The
 * timeline is the cell clock anchored at the wall time the feed opened, so a virtual-time run
 * still shows its real durations in Foxglove.
 */
export function openCellFeed(source: FeedSource, listener: (m: FeedMessage) => void): CellFeed {
  const { cell, clock, bus, journal, topics, drivers } = source;
  const namespace = cell.cell.namespace;
  const tele = telemetryTopics(namespace);
  const arm = armOf(cell);
  const jointNames = arm && arm[1].kind === 'arm' ? arm[1].joints.map((j) => j.name) : [];
  const channels = feedChannels(source);
  const epochNs = BigInt(Date.now()) * 1_000_000n - BigInt(Math.round(clock.now() * 1e6));
  const stampNs = (t: number) => epochNs + BigInt(Math.round(t * 1e6));
  let reported = false;
  const emit = (topic: string, message: unknown, t = clock.now()) => {
    try {
      listener({ topic, t, stamp: stampNs(t), message });
    } catch (e) {
      // The feed is called from the journal, the bus and the drivers: a failing face must not
      // break the controller's own work. Reported once; the controller carries on.
      if (!reported) source.onError?.(e instanceof Error ? e : new Error(String(e)));
      reported = true;
    }
  };

  const onJournal = (record: JournalRecord) => {
    emit(tele.journal, record, record.t);
    if (record.kind === 'device.command' && typeof record.device === 'string') {
      const { seq: _seq, wall: _wall, t: _t, kind: _kind, ...command } = record;
      emit(tele.deviceCommand(record.device), command, record.t);
    }
  };
  for (const record of source.journalHistory ?? []) onJournal(record);

  const cleanup: Array<() => void> = [
    journal.onRecord(onJournal),
    bus.subscribe(topics.state, (m) => emit(topics.state.name, m)),
    bus.subscribe(topics.events, (m) => emit(topics.events.name, m)),
    bus.subscribe(topics.command, (m) => emit(topics.command.name, m)),
    bus.subscribe(topics.diagnostics, (m) => emit(topics.diagnostics.name, m)),
  ];
  for (const [name, driver] of drivers) {
    cleanup.push(
      driver.onFeedback((feedback: DeviceFeedback) => {
        const t = clock.now();
        emit(tele.deviceFeedback(name), { device: name, feedback }, t);
        if (arm && name === arm[0] && feedback.type === 'reading' && feedback.reading.joints) {
          const joints: JointStateLike = {
            header: { stamp: toRosTime(Number(stampNs(t) / 1_000_000n)), frame_id: '' },
            name: jointNames,
            position: feedback.reading.joints,
            velocity: [],
            effort: [],
          };
          emit(tele.jointStates, joints, t);
        }
      }),
    );
  }
  return {
    channels,
    stampNs,
    close() {
      for (const c of cleanup.splice(0)) c();
    },
  };
}
