import { afterEach, describe, expect, it } from 'vitest';
import { bridgeFace, checkBinding, FoxgloveBridge, type BridgeOptions } from '../../src/bridge/server.js';
import type { CellStateMessage } from '../../src/interface/operator.js';
import { DemoCell } from '../controller/runHarness.js';
import { RawFoxgloveClient } from './rawClient.js';

const TOKEN = 'correct-horse-battery';
const open: Array<{ close(): void }> = [];

async function demoWithBridge(options: BridgeOptions = {}) {
  let bridge: FoxgloveBridge | undefined;
  const make = bridgeFace({ port: 0, ...options });
  const cell = new DemoCell({ faces: [async (ctx) => (bridge = await make(ctx))] });
  await cell.run.attachFaces();
  open.push({ close: () => void cell.run.close() });
  return { cell, bridge: bridge! };
}

async function connect(port: number, query = ''): Promise<RawFoxgloveClient> {
  const client = await RawFoxgloveClient.connect(`ws://127.0.0.1:${port}/${query}`);
  open.push(client);
  await client.waitFor(() => client.channels.has('/workcell/state'), 'advertise');
  return client;
}

const stateOf = (m: unknown) => JSON.parse((m as { data: string }).data) as CellStateMessage;

afterEach(() => {
  for (const o of open.splice(0).reverse()) o.close();
});

describe('Foxglove WebSocket bridge', () => {
  it('speaks foxglove.websocket.v1: server info, advertised channels with schemas, latched state on subscribe', async () => {
    const { bridge } = await demoWithBridge();
    expect(bridge.host).toBe('127.0.0.1');
    const client = await connect(bridge.port);
    expect(client.ws.protocol).toBe('foxglove.websocket.v1');
    expect(client.serverInfo?.capabilities).toContain('clientPublish');
    expect(client.serverInfo?.supportedEncodings).toEqual(['json']);
    expect(client.serverInfo?.metadata?.commandTopic).toBe('/workcell/command');
    expect(Number(client.serverInfo?.metadata?.idealCycleMs)).toBeCloseTo(4883.3, 0);
    const topics = [...client.channels.keys()];
    for (const t of ['/workcell/state', '/workcell/events', '/workcell/command', '/diagnostics', '/workcell/journal', '/workcell/joint_states', '/workcell/devices/arm/command', '/workcell/devices/conveyor/feedback']) {
      expect(topics).toContain(t);
    }
    const state = client.channels.get('/workcell/state')!;
    expect(state).toMatchObject({ encoding: 'json', schemaName: 'std_msgs/msg/String', schemaEncoding: 'jsonschema' });
    expect(JSON.parse(state.schema)).toMatchObject({ type: 'object', properties: { data: { type: 'string' } } });
    expect(client.channels.get('/diagnostics')!.schemaName).toBe('diagnostic_msgs/msg/DiagnosticArray');

    // Latched: a client subscribing long after the last state change still gets the current state.
    const sub = client.subscribe('/workcell/state');
    const first = await client.waitFor(() => client.messages(sub)[0], 'latched state');
    expect(stateOf(first).state).toBe('Stopped');
    // A second, later client too (the library only sends to all subscribers at once).
    const late = await connect(bridge.port);
    const lateSub = late.subscribe('/workcell/state');
    expect(stateOf(await late.waitFor(() => late.messages(lateSub)[0], 'latched state for a late client')).state).toBe('Stopped');
  });

  it('takes commands a client publishes on /workcell/command and streams state, events and telemetry', async () => {
    const { cell, bridge } = await demoWithBridge();
    const client = await connect(bridge.port);
    const states = client.subscribe('/workcell/state');
    const events = client.subscribe('/workcell/events');
    const journal = client.subscribe('/workcell/journal');
    const armCommands = client.subscribe('/workcell/devices/arm/command');
    await client.waitFor(() => client.messages(states).length > 0, 'state');
    const command = client.advertise('/workcell/command');
    client.publish(command, JSON.stringify({ data: 'reset' }));
    await client.waitFor(() => cell.state === 'Resetting' || undefined, 'Resetting');
    cell.until('Idle');
    client.publish(command, JSON.stringify({ data: 'start' }));
    await client.waitFor(() => cell.state === 'Starting' || undefined, 'Starting');
    cell.until('Execute');
    cell.advance(15_000);
    await client.waitFor(() => client.messages(states).map(stateOf).find((s) => s.state === 'Execute' && s.parts.exited >= 2), 'parts exiting');
    const accepted = client.messages(events).map((m) => JSON.parse((m as { data: string }).data) as { type: string; command?: string });
    expect(accepted.filter((e) => e.type === 'command.accepted').map((e) => e.command)).toEqual(['reset', 'start']);
    const kinds = new Set(client.messages(journal).map((r) => (r as { kind: string }).kind));
    for (const k of ['command', 'state', 'device.command', 'step', 'part']) expect(kinds).toContain(k);
    const moves = client.messages(armCommands) as Array<{ device: string; command: { type: string } }>;
    expect(moves.length).toBeGreaterThan(3);
    expect(moves.every((m) => m.device === 'arm')).toBe(true);
    // A message on any other topic is not taken.
    const other = client.advertise('/workcell/state');
    client.publish(other, JSON.stringify({ data: '{}' }));
    await client.waitFor(() => client.statuses.find((s) => /only \/workcell\/command accepts client messages/.test(s.message)), 'status');
    // Unreadable command payloads are refused with a reason, never thrown.
    client.publish(command, 'not json');
    await client.waitFor(() => client.statuses.find((s) => /not a command/.test(s.message)), 'unreadable refusal');
    expect(cell.state).toBe('Execute');
  });

  it('refuses a non-loopback binding without a token, naming the option', async () => {
    expect(() => checkBinding('0.0.0.0', undefined, 'websocket bridge')).toThrow(/binding 0\.0\.0\.0 \(not loopback\) needs --token/);
    expect(() => checkBinding('192.168.1.20', '', 'HMI')).toThrow(/needs --token/);
    expect(() => checkBinding('0.0.0.0', 'short', 'HMI')).toThrow(/at least 8 characters/);
    expect(() => checkBinding('127.0.0.1', undefined, 'HMI')).not.toThrow();
    const cell = new DemoCell({ faces: [bridgeFace({ port: 0, host: '0.0.0.0' })] });
    open.push({ close: () => void cell.run.close() });
    await expect(cell.run.attachFaces()).rejects.toThrow(/needs --token/);
  });

  it('off loopback, refuses and logs commands from a client without the token; accepts them with it', async () => {
    const logged: string[] = [];
    const { cell, bridge } = await demoWithBridge({ host: '0.0.0.0', token: TOKEN, log: (l) => logged.push(l) });
    expect(bridge.host).toBe('0.0.0.0');
    for (const query of ['', '?token=wrong-token-123']) {
      const intruder = await connect(bridge.port, query);
      await intruder.waitFor(() => intruder.statuses.find((s) => /read-only/.test(s.message)), 'read-only notice');
      // It may watch...
      const sub = intruder.subscribe('/workcell/state');
      await intruder.waitFor(() => intruder.messages(sub)[0], 'state for a read-only client');
      // ...but not command.
      intruder.publish(intruder.advertise('/workcell/command'), JSON.stringify({ data: 'reset' }));
      await intruder.waitFor(() => intruder.statuses.find((s) => /command refused: this client presented no valid token/.test(s.message)), 'refusal');
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(cell.state).toBe('Stopped');
    const refusals = cell.run.memory!.records().filter((r) => r.kind === 'command' && r.accepted === false);
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatchObject({ command: 'reset', reason: expect.stringContaining('no valid token'), source: expect.stringMatching(/^ws:/) });
    expect(cell.events.filter((e) => e.type === 'command.rejected')).toHaveLength(2);
    expect(logged.filter((l) => /refused/.test(l))).toHaveLength(2);

    const operator = await connect(bridge.port, `?token=${TOKEN}`);
    operator.publish(operator.advertise('/workcell/command'), JSON.stringify({ data: 'reset' }));
    await operator.waitFor(() => cell.state === 'Resetting' || undefined, 'Resetting');
    expect(operator.statuses.find((s) => /read-only/.test(s.message))).toBeUndefined();
  });
});
