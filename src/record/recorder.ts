/**
 * The MCAP flight recorder: writes everything the cell feed carries (operator interface, every
 * journal record, device commands and feedback, joint states) to an MCAP file with its schemas.
 *
 * Profile `ros2`: every channel is CDR with a ros2msg schema, so `ros2 bag` (MCAP storage) plays
 * it back as well as Foxglove and Lichtblick open it. Topics that have no ROS type (the journal,
 * device commands and feedback) are std_msgs/msg/String carrying one JSON document, the same
 * convention as /workcell/state and /workcell/events; the channel's `workcell.json_schema`
 * metadata names what the JSON is.
 *
 * Rolling (maxBytes set): the recording is split into segments FILE_000.mcap, FILE_001.mcap, ...
 * each closed at a quarter of the limit; the oldest are deleted so the total stays within it. Each
 * segment starts with the latest cell state, so it opens on its own.
 */
import { McapWriter, type IWritable } from '@mcap/core';
import { closeSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ros2Codec, type Ros2Codec } from '../bridge/cdr.js';
import { ros2msgOf, type ChannelDef } from '../bridge/channels.js';
import { feedChannels, openCellFeed, type CellFeed, type FeedMessage, type FeedSource } from '../bridge/feed.js';
import type { Face, RunContext } from '../runtime/run.js';
import { FaceStartError } from '../bridge/server.js';

export interface RecorderOptions {
  path: string;
  /** Rolling recorder: keep at most about this many bytes on disk (at least 256 KiB). */
  maxBytes?: number;
  log?: (line: string) => void;
}

export const MIN_ROLLING_BYTES = 256 * 1024;
const STRING_TYPE = 'std_msgs/msg/String';

/** An IWritable on a file descriptor: synchronous writes, so bytes are on disk in call order. */
class FileWritable implements IWritable {
  private pos = 0n;
  constructor(private readonly fd: number) {}
  async write(buffer: Uint8Array): Promise<void> {
    for (let written = 0; written < buffer.byteLength; ) written += writeSync(this.fd, buffer, written);
    this.pos += BigInt(buffer.byteLength);
  }
  position(): bigint {
    return this.pos;
  }
}

interface Segment {
  path: string;
  fd: number;
  writable: FileWritable;
  writer: McapWriter;
  schemaIds: Map<string, number>;
  channelIds: Map<string, number>;
  sequence: Map<number, number>;
}

export class McapRecorder implements Face {
  private readonly feed: CellFeed;
  private readonly channels: Map<string, ChannelDef>;
  private readonly codecs = new Map<string, Ros2Codec>();
  private chain: Promise<void> = Promise.resolve();
  private segment: Segment | undefined;
  private segmentIndex = 0;
  private readonly closedSegments: string[] = [];
  private readonly lastLatched = new Map<string, FeedMessage>();
  private failed: Error | undefined;
  private firstFd: number | undefined;
  private closed = false;
  private readonly log: (line: string) => void;
  /** Files written, oldest first (one unless rolling). */
  readonly files: string[] = [];

  constructor(
    private readonly source: FeedSource & { hash?: string },
    private readonly options: RecorderOptions,
  ) {
    if (options.maxBytes !== undefined && options.maxBytes < MIN_ROLLING_BYTES) {
      throw new FaceStartError(`--record-max-bytes must be at least ${MIN_ROLLING_BYTES} (got ${options.maxBytes})`);
    }
    if (path.extname(options.path) !== '.mcap') throw new FaceStartError(`--record ${options.path}: the file name must end in .mcap`);
    this.log = options.log ?? (() => {});
    // Open the first file now: a path that cannot be written fails before the run, not during it.
    const first = this.segmentPath(0);
    try {
      this.firstFd = openSync(first, 'w');
    } catch (e) {
      throw new FaceStartError(`--record ${first}: cannot write it: ${e instanceof Error ? e.message : String(e)}`);
    }
    // Channels first: the journal history and the latched state arrive as the feed opens.
    this.channels = new Map(feedChannels(source).map((c) => [c.topic, c]));
    this.feed = openCellFeed({ ...source, onError: (e) => this.fail(e) }, (m) => this.enqueue(m));
  }

  private enqueue(m: FeedMessage): void {
    if (this.closed || this.failed) return;
    const channel = this.channels.get(m.topic);
    if (!channel) return;
    this.chain = this.chain.then(() => this.write(channel, m)).catch((e: unknown) => this.fail(e));
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = e instanceof Error ? e : new Error(String(e));
    this.log(`recorder: stopped recording to ${this.options.path}: ${this.failed.message}`);
  }

  private segmentPath(index: number): string {
    if (this.options.maxBytes === undefined) return this.options.path;
    const ext = path.extname(this.options.path);
    return `${this.options.path.slice(0, -ext.length)}_${String(index).padStart(3, '0')}${ext}`;
  }

  private async openSegment(): Promise<Segment> {
    const file = this.segmentPath(this.segmentIndex++);
    const fd = this.firstFd ?? openSync(file, 'w');
    this.firstFd = undefined;
    const writable = new FileWritable(fd);
    const segmentBytes = this.options.maxBytes === undefined ? undefined : Math.floor(this.options.maxBytes / 4);
    const writer = new McapWriter({ writable, chunkSize: segmentBytes === undefined ? 1024 * 1024 : Math.max(16 * 1024, Math.floor(segmentBytes / 8)) });
    await writer.start({ profile: 'ros2', library: 'workcell' });
    this.files.push(file);
    // Which run this is: the cell, its description hash, and the segment's place in a rolling recording.
    await writer.addMetadata({
      name: 'workcell',
      metadata: new Map([
        ['cell', this.source.cell.cell.name],
        ...(this.source.hash ? ([['hash', this.source.hash]] as Array<[string, string]>) : []),
        ['segment', String(this.segmentIndex - 1)],
      ]),
    });
    return { path: file, fd, writable, writer, schemaIds: new Map(), channelIds: new Map(), sequence: new Map() };
  }

  private async channelId(segment: Segment, channel: ChannelDef): Promise<number> {
    const known = segment.channelIds.get(channel.topic);
    if (known !== undefined) return known;
    const type = channel.ros2 ? channel.schemaName : STRING_TYPE;
    const definition = ros2msgOf(type);
    if (definition === undefined) throw new Error(`no ros2msg definition for ${type}`);
    let schemaId = segment.schemaIds.get(type);
    if (schemaId === undefined) {
      schemaId = await segment.writer.registerSchema({ name: type, encoding: 'ros2msg', data: new TextEncoder().encode(definition) });
      segment.schemaIds.set(type, schemaId);
    }
    const metadata = new Map<string, string>();
    if (!channel.ros2) metadata.set('workcell.json_schema', channel.schemaName);
    const id = await segment.writer.registerChannel({ topic: channel.topic, schemaId, messageEncoding: 'cdr', metadata });
    segment.channelIds.set(channel.topic, id);
    return id;
  }

  private encode(channel: ChannelDef, message: unknown): Uint8Array {
    const type = channel.ros2 ? channel.schemaName : STRING_TYPE;
    let codec = this.codecs.get(type);
    if (!codec) this.codecs.set(type, (codec = ros2Codec(type, ros2msgOf(type)!)));
    return codec.encode(channel.ros2 ? message : { data: JSON.stringify(message) });
  }

  private async write(channel: ChannelDef, m: FeedMessage): Promise<void> {
    if (!this.segment) {
      this.segment = await this.openSegment();
      // A later segment opens on its own: it starts with the latest of every latched topic.
      for (const [topic, latched] of this.lastLatched) await this.add(this.segment, this.channels.get(topic)!, latched);
    }
    await this.add(this.segment, channel, m);
    if (channel.latched) this.lastLatched.set(m.topic, m);
    const max = this.options.maxBytes;
    if (max !== undefined && this.segment.writable.position() >= max / 4) await this.roll(max);
  }

  private async add(segment: Segment, channel: ChannelDef, m: FeedMessage): Promise<void> {
    const channelId = await this.channelId(segment, channel);
    const sequence = (segment.sequence.get(channelId) ?? 0) + 1;
    segment.sequence.set(channelId, sequence);
    const stamp = m.stamp;
    await segment.writer.addMessage({ channelId, sequence, logTime: stamp, publishTime: stamp, data: this.encode(channel, m.message) });
  }

  private async roll(max: number): Promise<void> {
    const done = this.segment!;
    this.segment = undefined;
    await this.endSegment(done);
    this.closedSegments.push(done.path);
    const size = (f: string) => statSync(f).size;
    while (this.closedSegments.length > 0 && this.closedSegments.reduce((s, f) => s + size(f), 0) + max / 4 > max) {
      const oldest = this.closedSegments.shift()!;
      unlinkSync(oldest);
      this.files.splice(this.files.indexOf(oldest), 1);
    }
  }

  private async endSegment(segment: Segment): Promise<void> {
    try {
      await segment.writer.end();
    } finally {
      closeSync(segment.fd);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.feed.close();
    await this.chain;
    this.closed = true;
    if (this.segment) await this.endSegment(this.segment);
    this.segment = undefined;
    if (this.firstFd !== undefined) {
      // Nothing was ever recorded (a run that ended at once): still a valid, empty recording.
      this.segment = await this.openSegment();
      await this.endSegment(this.segment);
      this.segment = undefined;
    }
    // A failure was reported when it happened; the run itself is not failed for it.
    if (this.failed) this.log(`recorder: ${this.options.path} is incomplete: ${this.failed.message}`);
  }
}

/** The recorder as a CellRun face (attach it first, so it has every record from run.start on). */
export function recorderFace(options: RecorderOptions): (ctx: RunContext) => McapRecorder {
  return (ctx) =>
    new McapRecorder(
      { cell: ctx.cell, hash: ctx.hash, clock: ctx.clock, bus: ctx.bus, journal: ctx.journal, topics: ctx.controller.topics, drivers: ctx.drivers, journalHistory: ctx.journalHistory },
      options,
    );
}
