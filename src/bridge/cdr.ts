/**
 * ROS 2 CDR encoding and decoding from ros2msg definitions (the concatenated `.msg` text that
 * ros2 bag and foxglove_bridge carry as a channel's schema), on @foxglove/rosmsg and
 * @foxglove/rosmsg2-serialization. Pure: used by the MCAP recorder and bundled into the HMI page.
 */
import { parse } from '@foxglove/rosmsg';
import { MessageReader, MessageWriter } from '@foxglove/rosmsg2-serialization';

/** sensor_msgs/msg/JointState as the feed builds it. */
export interface JointStateLike {
  header: { stamp: { sec: number; nanosec: number }; frame_id: string };
  name: string[];
  position: number[];
  velocity: number[];
  effort: number[];
}

export interface Ros2Codec {
  decode(data: ArrayBufferView): unknown;
  encode(message: unknown): Uint8Array;
}

const codecs = new Map<string, Ros2Codec>();

/**
 * A codec for one ros2msg definition. `schemaName` only names the type in errors. A sample may
 * carry padding after its last field (rmw_cyclonedds pads every sample to 4 bytes): it is ignored.
 */
export function ros2Codec(schemaName: string, definition: string): Ros2Codec {
  const key = `${schemaName}\n${definition}`;
  const cached = codecs.get(key);
  if (cached) return cached;
  let definitions;
  try {
    definitions = parse(definition, { ros2: true });
  } catch (e) {
    throw new Error(`ros2msg schema of ${schemaName} does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  const reader = new MessageReader(definitions);
  const writer = new MessageWriter(definitions);
  const codec: Ros2Codec = {
    decode(data) {
      if (data.byteLength < 4) throw new Error(`${schemaName}: a CDR sample needs a 4-byte encapsulation header; got ${data.byteLength} bytes`);
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (bytes[0] !== 0 || (bytes[1] !== 0 && bytes[1] !== 1)) {
        throw new Error(`${schemaName}: unknown CDR encapsulation 0x${hex(bytes[0]!)}${hex(bytes[1]!)} (expected 0x0000 big-endian or 0x0001 little-endian)`);
      }
      try {
        return reader.readMessage(data);
      } catch (e) {
        throw new Error(`${schemaName}: CDR sample of ${data.byteLength} bytes does not decode: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
    encode(message) {
      return writer.writeMessage(message);
    },
  };
  codecs.set(key, codec);
  return codec;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
