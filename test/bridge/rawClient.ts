/**
 * A Foxglove WebSocket client written from the protocol spec (foxglove.websocket.v1) on the plain
 * `ws` package, so the bridge is checked against the spec rather than against the library it
 * is built on.
 */
import WebSocket from 'ws';

export interface AdvertisedChannel {
  id: number;
  topic: string;
  encoding: string;
  schemaName: string;
  schema: string;
  schemaEncoding?: string;
}

export class RawFoxgloveClient {
  serverInfo: { name: string; capabilities: string[]; supportedEncodings?: string[]; metadata?: Record<string, string> } | undefined;
  readonly channels = new Map<string, AdvertisedChannel>();
  readonly statuses: Array<{ level: number; message: string }> = [];
  /** Decoded JSON payloads per subscription id, with their timestamps. */
  readonly received = new Map<number, Array<{ stamp: bigint; message: unknown }>>();
  private nextSub = 1;
  private nextClientChannel = 1;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const buf = data as Buffer;
        if (buf[0] === 0x01) {
          const sub = buf.readUInt32LE(1);
          const stamp = buf.readBigUInt64LE(5);
          const message = JSON.parse(buf.subarray(13).toString('utf8'));
          if (!this.received.has(sub)) this.received.set(sub, []);
          this.received.get(sub)!.push({ stamp, message });
        }
      } else {
        const msg = JSON.parse(String(data)) as { op: string } & Record<string, unknown>;
        if (msg.op === 'serverInfo') this.serverInfo = msg as never;
        if (msg.op === 'advertise') for (const c of msg.channels as AdvertisedChannel[]) this.channels.set(c.topic, c);
        if (msg.op === 'status') this.statuses.push({ level: msg.level as number, message: msg.message as string });
      }
      for (const w of [...this.waiters]) w();
    });
  }

  static connect(url: string): Promise<RawFoxgloveClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['foxglove.websocket.v1']);
      const client = new RawFoxgloveClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Resolve once `check` returns a value other than undefined/false (checked on every message). */
  waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        const v = check();
        if (v !== undefined && v !== false) {
          this.waiters.delete(attempt);
          clearTimeout(timer);
          clearInterval(poll);
          resolve(v);
        }
      };
      // Checked on every message, and now and then for conditions outside the connection.
      const poll = setInterval(attempt, 20);
      const timer = setTimeout(() => {
        this.waiters.delete(attempt);
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(attempt);
      attempt();
    });
  }

  subscribe(topic: string): number {
    const channel = this.channels.get(topic);
    if (!channel) throw new Error(`${topic} not advertised`);
    const id = this.nextSub++;
    this.ws.send(JSON.stringify({ op: 'subscribe', subscriptions: [{ id, channelId: channel.id }] }));
    return id;
  }

  advertise(topic: string, encoding = 'json', schemaName = 'std_msgs/msg/String'): number {
    const id = this.nextClientChannel++;
    this.ws.send(JSON.stringify({ op: 'advertise', channels: [{ id, topic, encoding, schemaName }] }));
    return id;
  }

  /** Client MESSAGE_DATA (opcode 0x01): channel id (u32 LE), payload. */
  publish(channelId: number, payload: string | Uint8Array): void {
    const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
    const frame = Buffer.alloc(5 + body.length);
    frame[0] = 0x01;
    frame.writeUInt32LE(channelId, 1);
    body.copy(frame, 5);
    this.ws.send(frame);
  }

  messages(sub: number): unknown[] {
    return (this.received.get(sub) ?? []).map((m) => m.message);
  }

  close(): void {
    this.ws.close();
  }
}
