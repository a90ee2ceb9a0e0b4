/**
 * Decode a Foxglove WebSocket channel's messages, whichever server sent them: workcell's own
 * bridge sends JSON (`encoding: json`); foxglove_bridge on ROS 2 sends CDR with a `ros2msg`
 * schema. DOM-free, so the tests run it in Node against real serialized ROS 2 messages.
 */
import { ros2Codec } from '../../bridge/cdr.js';

export interface ChannelInfo {
  topic: string;
  encoding: string;
  schemaName: string;
  schema: string;
  schemaEncoding?: string;
}

export type Decoder = (data: ArrayBufferView) => unknown;

const text = new TextDecoder('utf-8');

export function decoderFor(channel: ChannelInfo): Decoder {
  switch (channel.encoding) {
    case 'json':
      return (data) => {
        const s = text.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        try {
          return JSON.parse(s);
        } catch (e) {
          throw new Error(`${channel.topic}: JSON message does not parse: ${e instanceof Error ? e.message : String(e)}`);
        }
      };
    case 'cdr': {
      const schemaEncoding = channel.schemaEncoding ?? 'ros2msg';
      if (schemaEncoding !== 'ros2msg') {
        throw new Error(`${channel.topic}: CDR with a ${schemaEncoding} schema is not supported (only ros2msg)`);
      }
      const codec = ros2Codec(channel.schemaName, channel.schema);
      return (data) => codec.decode(data);
    }
    default:
      throw new Error(`${channel.topic}: message encoding ${JSON.stringify(channel.encoding)} is not supported (json or cdr)`);
  }
}

/** Encode a std_msgs/msg/String command for a server that takes `encoding`. */
export function encodeCommand(encoding: 'json' | 'cdr', command: string): Uint8Array {
  if (encoding === 'json') return new TextEncoder().encode(JSON.stringify({ data: command }));
  return ros2Codec('std_msgs/msg/String', 'string data').encode({ data: command });
}
