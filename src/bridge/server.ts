/**
 * The Foxglove WebSocket bridge: serves the operator interface and device telemetry over the
 * Foxglove WebSocket protocol (`foxglove.websocket.v1`), so Foxglove Studio, Lichtblick and the
 * HMI page connect without ROS. Clients publish commands on `<ns>/command` (clientPublish).
 *
 * Built on @foxglove/ws-protocol's FoxgloveServer. Where it falls short: it only sends a message
 * to every subscriber of a channel at once, so a latched topic (`<ns>/state`) could not reach a
 * client that subscribes later; the bridge sends that client the last message itself, as a
 * MESSAGE_DATA frame built to the protocol spec.
 *
 * Binding: 127.0.0.1 by default. Any other address needs a token; clients present it as the
 * `token` query parameter of the WebSocket URL (`ws://host:8765/?token=...`). With a token set,
 * a command from a client without it is refused, logged to the journal and reported back.
 */
import foxgloveWsProtocol from '@foxglove/ws-protocol';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Face, RunContext } from '../runtime/run.js';
import { throughputLimit } from '../controller/throughput.js';
import { jsonSchemaOf } from './channels.js';
import { feedChannels, openCellFeed, type CellFeed } from './feed.js';

// A CommonJS package: Node offers its exports as the default import only.
const { FoxgloveServer } = foxgloveWsProtocol;
type FoxgloveServer = InstanceType<typeof FoxgloveServer>;

export const DEFAULT_WS_PORT = 8765;
export const DEFAULT_BIND = '127.0.0.1';

export interface BridgeOptions {
  port?: number;
  host?: string;
  /** Required to bind anything but loopback; clients present it as `?token=`. */
  token?: string;
  /** Where refusals and client errors are reported for people (stderr in the CLI). */
  log?: (line: string) => void;
}

/** A face (bridge, HMI, recorder) could not start: a port in use, a file that cannot be written. */
export class FaceStartError extends Error {}

/** Loopback addresses: the only ones that may be bound without a token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Refuse a binding the rules forbid, naming the option that would allow it. */
export function checkBinding(host: string, token: string | undefined, what: string): void {
  if (!isLoopback(host) && (token === undefined || token.length === 0)) {
    throw new FaceStartError(`${what}: binding ${host} (not loopback) needs --token: any client on that network could otherwise command the cell`);
  }
  if (token !== undefined && token.length < 8) {
    throw new FaceStartError(`${what}: --token must be at least 8 characters (got ${token.length})`);
  }
}

/** The token a request presents as `?token=` (undefined when absent). */
export function tokenOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return new URL(url, 'http://placeholder').searchParams.get('token') ?? undefined;
}

export function tokenMatches(expected: string | undefined, presented: string | undefined): boolean {
  if (expected === undefined) return true;
  if (presented === undefined) return false;
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(presented, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

interface ClientState {
  name: string;
  authorized: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export class FoxgloveBridge implements Face {
  private readonly server: FoxgloveServer;
  private readonly wss: WebSocketServer;
  private readonly feed: CellFeed;
  private readonly clients = new Map<WebSocket, ClientState>();
  private readonly channelIds = new Map<string, number>();
  private readonly latchedTopics = new Set<string>();
  private readonly subscribed = new Set<number>();
  private readonly lastLatched = new Map<number, { stamp: bigint; payload: Uint8Array }>();
  private readonly log: (line: string) => void;

  private constructor(
    private readonly ctx: RunContext,
    private readonly options: BridgeOptions,
    wss: WebSocketServer,
  ) {
    this.log = options.log ?? (() => {});
    this.wss = wss;
    this.server = new FoxgloveServer({
      name: `workcell ${ctx.cell.cell.name}`,
      capabilities: ['clientPublish'],
      supportedEncodings: ['json'],
      metadata: {
        cell: ctx.cell.cell.name,
        hash: ctx.hash,
        commandTopic: ctx.controller.topics.command.name,
        tokenRequired: String(options.token !== undefined),
        // The HMI's OEE performance is measured against the cell's computed throughput limit.
        idealCycleMs: String(Math.round((60_000 / throughputLimit(ctx.cell).partsPerMinute) * 10) / 10),
      },
    });
    const source = {
      cell: ctx.cell,
      clock: ctx.clock,
      bus: ctx.bus,
      journal: ctx.journal,
      topics: ctx.controller.topics,
      drivers: ctx.drivers,
      onError: (e: Error) => this.log(`websocket bridge: stopped forwarding a message: ${e.message}`),
    };
    for (const channel of feedChannels(source)) {
      const id = this.server.addChannel({
        topic: channel.topic,
        encoding: 'json',
        schemaName: channel.schemaName,
        schema: jsonSchemaOf(channel.schemaName),
        schemaEncoding: 'jsonschema',
      });
      this.channelIds.set(channel.topic, id);
      if (channel.latched) this.latchedTopics.add(channel.topic);
    }
    // Opened once the channels exist: the latched state arrives as the feed subscribes.
    this.feed = openCellFeed(source, (m) => this.forward(m.topic, m.stamp, m.message));
    this.server.on('subscribe', (id) => this.subscribed.add(id));
    this.server.on('unsubscribe', (id) => this.subscribed.delete(id));
    this.server.on('error', (e) => this.log(`websocket bridge: ${e.message}`));
    this.server.on('message', (event) => this.onClientMessage(event.client.connection as unknown as WebSocket, event.channel.topic, event.channel.encoding, event.data));
    this.wss.on('connection', (ws, req) => this.onConnection(ws, req));
  }

  static async start(ctx: RunContext, options: BridgeOptions = {}): Promise<FoxgloveBridge> {
    const host = options.host ?? DEFAULT_BIND;
    checkBinding(host, options.token, 'websocket bridge');
    const wss = await new Promise<WebSocketServer>((resolve, reject) => {
      const s = new WebSocketServer({
        host,
        port: options.port ?? DEFAULT_WS_PORT,
        handleProtocols: (protocols) => (protocols.has(FoxgloveServer.SUPPORTED_SUBPROTOCOL) ? FoxgloveServer.SUPPORTED_SUBPROTOCOL : false),
      });
      s.once('listening', () => resolve(s));
      s.once('error', (e) => reject(new FaceStartError(`websocket bridge: cannot listen on ${host}:${options.port ?? DEFAULT_WS_PORT}: ${e.message}`)));
    });
    return new FoxgloveBridge(ctx, options, wss);
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  get host(): string {
    return (this.wss.address() as AddressInfo).address;
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const name = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const authorized = tokenMatches(this.options.token, tokenOf(req.url));
    this.clients.set(ws, { name, authorized });
    ws.on('close', () => this.clients.delete(ws));
    // Registered before the server's own handler: a new subscription to a latched channel gets
    // the last message once the server has recorded it.
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return; // the server reports it
      }
      const m = msg as { op?: unknown; subscriptions?: unknown };
      if (m.op !== 'subscribe' || !Array.isArray(m.subscriptions)) return;
      for (const s of m.subscriptions as Array<{ id?: unknown; channelId?: unknown }>) {
        if (typeof s.id !== 'number' || typeof s.channelId !== 'number') continue;
        const last = this.lastLatched.get(s.channelId);
        if (last) setImmediate(() => sendMessageData(ws, s.id as number, last.stamp, last.payload));
      }
    });
    this.server.handleConnection(ws as never, name);
    if (!authorized) {
      this.server.sendStatus({ level: 1, message: 'read-only: this client presented no valid token, so its commands are refused', id: 'token' }, ws as never);
    }
  }

  private forward(topic: string, stamp: bigint, message: unknown): void {
    const id = this.channelIds.get(topic);
    if (id === undefined) return;
    const latched = this.latchedTopics.has(topic);
    if (!latched && !this.subscribed.has(id)) return;
    const payload = encoder.encode(JSON.stringify(message));
    if (latched) this.lastLatched.set(id, { stamp, payload });
    if (this.subscribed.has(id)) this.server.sendMessage(id, stamp, payload);
  }

  private onClientMessage(ws: WebSocket, topic: string, encoding: string, data: ArrayBufferView): void {
    const client = this.clients.get(ws) ?? { name: '?', authorized: false };
    const commandTopic = this.ctx.controller.topics.command.name;
    const refuse = (command: string, reason: string) => {
      this.log(`websocket bridge: command ${JSON.stringify(command)} from ${client.name} refused: ${reason}`);
      this.ctx.journal.record('command', { command, source: `ws:${client.name}`, accepted: false, state: this.ctx.controller.packmlState, reason });
      this.ctx.bus.publish(this.ctx.controller.topics.events, {
        data: JSON.stringify({ type: 'command.rejected', t: Math.round(this.ctx.clock.now() * 1000) / 1000, command, source: `ws:${client.name}`, state: this.ctx.controller.packmlState, reason }),
      });
      this.server.sendStatus({ level: 2, message: `command refused: ${reason}` }, ws as never);
    };
    if (topic !== commandTopic) {
      this.server.sendStatus({ level: 2, message: `only ${commandTopic} accepts client messages; a message on ${topic} was dropped` }, ws as never);
      return;
    }
    let command: string;
    try {
      if (encoding !== 'json') throw new Error(`encoding ${JSON.stringify(encoding)} is not supported (this server takes json)`);
      const body = JSON.parse(decoder.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))) as { data?: unknown };
      if (typeof body !== 'object' || body === null || typeof body.data !== 'string') throw new Error('expected a std_msgs/msg/String as JSON: {"data": "<command>"}');
      command = body.data;
    } catch (e) {
      const reason = `message on ${commandTopic} is not a command: ${e instanceof Error ? e.message : String(e)}`;
      refuse('<unreadable>', reason);
      return;
    }
    if (!client.authorized) {
      refuse(command.trim().toLowerCase().slice(0, 80), 'this client presented no valid token (connect with ?token=...)');
      return;
    }
    this.ctx.bus.publish(this.ctx.controller.topics.command, { data: command });
  }

  async close(): Promise<void> {
    this.feed.close();
    for (const ws of this.clients.keys()) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** MESSAGE_DATA (opcode 0x01): subscription id (u32), receive timestamp (u64 ns), payload. */
function sendMessageData(ws: WebSocket, subscriptionId: number, stamp: bigint, payload: Uint8Array): void {
  if (ws.readyState !== ws.OPEN) return;
  const frame = new Uint8Array(1 + 4 + 8 + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint8(0, 0x01);
  view.setUint32(1, subscriptionId, true);
  view.setBigUint64(5, stamp, true);
  frame.set(payload, 13);
  ws.send(frame);
}

/** The bridge as a CellRun face. */
export function bridgeFace(options: BridgeOptions = {}): (ctx: RunContext) => Promise<FoxgloveBridge> {
  return (ctx) => FoxgloveBridge.start(ctx, options);
}
