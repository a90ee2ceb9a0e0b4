/// <reference lib="dom" />
/**
 * The page's only link to the cell: a Foxglove WebSocket client (@foxglove/ws-protocol). It
 * subscribes to the operator interface (and, from workcell's own bridge, the journal) and
 * publishes commands on `<ns>/command` as a client channel, JSON or CDR, whichever the server takes.
 */
import { FoxgloveClient, type Channel } from '@foxglove/ws-protocol';
import { decoderFor, encodeCommand, type Decoder } from './decode.js';

export interface ConnectionHandlers {
  onStatus(status: 'connecting' | 'open' | 'closed', detail?: string): void;
  onServerInfo(info: { name: string; metadata: Record<string, string> }): void;
  onMessage(topic: string, message: unknown): void;
  onServerStatus(level: number, message: string): void;
}

export class CellConnection {
  private client: FoxgloveClient | undefined;
  private readonly subscriptions = new Map<number, { topic: string; decode: Decoder }>();
  private commandChannel: number | undefined;
  private commandEncoding: 'json' | 'cdr' = 'json';
  private retry: ReturnType<typeof setTimeout> | undefined;
  private closedByUs = false;
  namespace: string;

  constructor(
    private readonly url: string,
    namespace: string,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.namespace = namespace;
  }

  private wanted(topic: string): boolean {
    const ns = this.namespace;
    return [`${ns}/state`, `${ns}/events`, `${ns}/journal`, '/diagnostics'].includes(topic);
  }

  connect(): void {
    this.handlers.onStatus('connecting', this.url);
    const ws = new WebSocket(this.url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
    const client = new FoxgloveClient({ ws });
    this.client = client;
    this.subscriptions.clear();
    this.commandChannel = undefined;
    client.on('open', () => this.handlers.onStatus('open', this.url));
    client.on('serverInfo', (info) => {
      const encodings = info.supportedEncodings ?? [];
      this.commandEncoding = encodings.includes('json') || encodings.length === 0 ? 'json' : 'cdr';
      const ns = info.metadata?.commandTopic?.replace(/\/command$/, '');
      if (ns) this.namespace = ns;
      this.handlers.onServerInfo({ name: info.name, metadata: info.metadata ?? {} });
      if (info.capabilities.includes('clientPublish')) {
        const topic = `${this.namespace}/command`;
        this.commandChannel = client.advertise(
          this.commandEncoding === 'cdr'
            ? { topic, encoding: 'cdr', schemaName: 'std_msgs/msg/String', schema: 'string data', schemaEncoding: 'ros2msg' }
            : { topic, encoding: 'json', schemaName: 'std_msgs/msg/String' },
        );
      }
    });
    client.on('advertise', (channels: Channel[]) => {
      for (const channel of channels) {
        if (!this.wanted(channel.topic)) continue;
        let decode: Decoder;
        try {
          decode = decoderFor(channel);
        } catch (e) {
          this.handlers.onServerStatus(2, e instanceof Error ? e.message : String(e));
          continue;
        }
        const id = client.subscribe(channel.id);
        this.subscriptions.set(id, { topic: channel.topic, decode });
      }
    });
    client.on('message', ({ subscriptionId, data }) => {
      const sub = this.subscriptions.get(subscriptionId);
      if (!sub) return;
      let message: unknown;
      try {
        message = sub.decode(data);
      } catch (e) {
        this.handlers.onServerStatus(2, e instanceof Error ? e.message : String(e));
        return;
      }
      this.handlers.onMessage(sub.topic, message);
    });
    client.on('status', (s) => this.handlers.onServerStatus(s.level, s.message));
    client.on('error', (e) => this.handlers.onStatus('closed', e.message));
    client.on('close', () => {
      this.handlers.onStatus('closed', 'connection lost; retrying');
      if (!this.closedByUs) this.retry = setTimeout(() => this.connect(), 1000);
    });
  }

  /** Send one command word; false when the server does not take commands from this page. */
  send(command: string): boolean {
    if (!this.client || this.commandChannel === undefined) return false;
    this.client.sendMessage(this.commandChannel, encodeCommand(this.commandEncoding, command));
    return true;
  }

  close(): void {
    this.closedByUs = true;
    if (this.retry) clearTimeout(this.retry);
    this.client?.close();
  }
}
