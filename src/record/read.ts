/**
 * Read an MCAP recording back: every message decoded by its channel's encoding (CDR with a
 * ros2msg schema, or JSON), and std_msgs/String channels that carry JSON (workcell's convention)
 * parsed once more.
 */
import { McapStreamReader, type TypedMcapRecord } from '@mcap/core';
import { readFileSync } from 'node:fs';
import { ros2Codec } from '../bridge/cdr.js';

export interface RecordedMessage {
  topic: string;
  schemaName: string;
  logTime: bigint;
  sequence: number;
  /** The decoded message (for std_msgs/String: `{ data }`). */
  message: unknown;
  /** For channels whose String data is JSON (metadata `workcell.json_schema`): the parsed document. */
  json?: unknown;
}

export interface Recording {
  profile: string;
  library: string;
  topics: Map<string, { schemaName: string; encoding: string; messageEncoding: string; count: number; metadata: Map<string, string> }>;
  /** Metadata records by name (workcell writes `workcell`: cell, hash, segment). */
  metadata: Map<string, Map<string, string>>;
  messages: RecordedMessage[];
}

export function readRecording(file: string): Recording {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read recording ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const reader = new McapStreamReader({ validateCrcs: true });
  reader.append(bytes);
  const schemas = new Map<number, { name: string; encoding: string; text: string }>();
  const channels = new Map<number, { topic: string; schemaId: number; messageEncoding: string; metadata: Map<string, string> }>();
  const recording: Recording = { profile: '', library: '', topics: new Map(), metadata: new Map(), messages: [] };
  const text = new TextDecoder();
  let sawFooter = false;
  for (;;) {
    let record: TypedMcapRecord | undefined;
    try {
      record = reader.nextRecord();
    } catch (e) {
      throw new Error(`${file} is not a readable MCAP file: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!record) break;
    switch (record.type) {
      case 'Header':
        recording.profile = record.profile;
        recording.library = record.library;
        break;
      case 'Schema':
        schemas.set(record.id, { name: record.name, encoding: record.encoding, text: text.decode(record.data) });
        break;
      case 'Channel': {
        channels.set(record.id, { topic: record.topic, schemaId: record.schemaId, messageEncoding: record.messageEncoding, metadata: record.metadata });
        const schema = schemas.get(record.schemaId);
        if (!recording.topics.has(record.topic)) {
          recording.topics.set(record.topic, {
            schemaName: schema?.name ?? '',
            encoding: schema?.encoding ?? '',
            messageEncoding: record.messageEncoding,
            count: 0,
            metadata: record.metadata,
          });
        }
        break;
      }
      case 'Message': {
        const channel = channels.get(record.channelId);
        if (!channel) throw new Error(`${file}: message on channel ${record.channelId}, which was never declared`);
        const schema = schemas.get(channel.schemaId);
        let message: unknown;
        if (channel.messageEncoding === 'cdr') {
          if (!schema || schema.encoding !== 'ros2msg') throw new Error(`${file}: CDR channel ${channel.topic} has no ros2msg schema`);
          message = ros2Codec(schema.name, schema.text).decode(record.data);
        } else if (channel.messageEncoding === 'json') {
          message = JSON.parse(text.decode(record.data));
        } else {
          throw new Error(`${file}: channel ${channel.topic} has message encoding ${channel.messageEncoding}, which this reader does not decode`);
        }
        const entry: RecordedMessage = { topic: channel.topic, schemaName: schema?.name ?? '', logTime: record.logTime, sequence: record.sequence, message };
        if (channel.metadata.has('workcell.json_schema')) entry.json = JSON.parse((message as { data: string }).data);
        recording.messages.push(entry);
        recording.topics.get(channel.topic)!.count++;
        break;
      }
      case 'Metadata':
        recording.metadata.set(record.name, record.metadata);
        break;
      case 'Footer':
        sawFooter = true;
        break;
      default:
        break;
    }
  }
  if (!sawFooter || !reader.done()) {
    throw new Error(`${file} ends before its footer: the recording was cut short (the run did not close it)`);
  }
  return recording;
}
