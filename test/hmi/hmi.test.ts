/**
 * The HMI page in Debian's Chromium against the demo cell (virtual time, driven by the test),
 * served by workcell's own HTTP server and talking only the Foxglove WebSocket protocol.
 * Screenshots land in test-results/hmi/.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import foxgloveWsProtocol from '@foxglove/ws-protocol';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { ros2Codec } from '../../src/bridge/cdr.js';
import { ROS2MSG_DEFINITIONS } from '../../src/bridge/channels.js';
import { HmiServer, operatorFaces } from '../../src/hmi/server.js';
import { DemoCell } from '../controller/runHarness.js';
import { openPanel, waitText, type Panel } from './browser.js';

const { FoxgloveServer } = foxgloveWsProtocol;
const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);

let cell: DemoCell;
let panel: Panel;
let page: Page;

/** Commands travel browser -> WebSocket -> bus: wait (in real time) for the cell to act on one. */
async function waitState(state: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (cell.state !== state) {
    if (Date.now() > end) throw new Error(`cell did not reach ${state} (it is ${cell.state})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function press(command: string): Promise<void> {
  await page.click(`button[data-command="${command}"]`);
}

const shownState = (pattern: RegExp) => waitText(page, '[data-testid=state]', pattern);
const enabled = (command: string) => page.locator(`button.cmd[data-command="${command}"]`).isEnabled();

beforeAll(async () => {
  let httpPort = 0;
  cell = new DemoCell({
    faces: operatorFaces({ hmi: true, wsPort: 0, httpPort: 0, onListening: (where) => (httpPort = where.httpPort!) }),
  });
  await cell.run.attachFaces();
  panel = await openPanel(`http://127.0.0.1:${httpPort}/`);
  page = panel.page;
}, 60_000);

beforeEach(async () => {
  await page?.click('nav button[data-tab=operate]');
});

afterAll(async () => {
  await panel?.close();
  await cell?.run.close();
});

describe('operator HMI in Chromium', () => {
  it('runs the cell from the page: Reset, Start, counters rising; an invalid command shows its reason', async () => {
    await waitText(page, '[data-testid=connection]', /^connected$/);
    await shownState(/^Stopped$/);
    await waitText(page, '#diagram g.current', /^Stopped$/);
    expect(await enabled('start')).toBe(false);
    expect(await enabled('reset')).toBe(true);
    // A screen is not an emergency-stop device: Abort is labelled as a software stop.
    const abortLabel = (await page.locator('button[data-command=abort]').textContent()) ?? '';
    expect(abortLabel).toMatch(/^Abort\s*software stop$/);
    expect(abortLabel).not.toMatch(/e-?stop|emergency/i);

    await press('reset');
    await waitState('Resetting');
    cell.until('Idle');
    await shownState(/^Idle$/);
    expect(await enabled('start')).toBe(true);
    await press('start');
    await waitState('Starting');
    cell.until('Execute');
    cell.advance(20_000);
    await shownState(/^Execute$/);
    await waitText(page, '#diagram g.current', /^Execute$/);
    const exited = Number((await waitText(page, '[data-counter=exited] b', /^[1-9]\d*$/)) || 0);
    expect(exited).toBeGreaterThanOrEqual(2);
    expect(await enabled('start')).toBe(false);
    expect(await enabled('hold')).toBe(true);
    cell.advance(15_000);
    await waitText(page, '[data-counter=exited] b', new RegExp(`^(?!${exited}$)\\d+$`));
    await waitText(page, '[data-testid=oee]', /Availability\s*\d+\.\d %/);

    // An invalid command: a mode change in Execute is refused, and the page says why.
    await press('mode maintenance');
    await waitText(page, '[data-testid=outcome]', /mode maintenance refused: mode change is only allowed in a wait state/);
    await panel.screenshot('execute');
    await page.click('nav button[data-tab=performance]');
    await waitText(page, '#cycle-n', /^[1-9]/);
    await panel.screenshot('cycle-times');
    await page.click('nav button[data-tab=safety]');
    await waitText(page, '[data-testid=interlock-table]', /no_release_onto_occupied_pick/);
    await panel.screenshot('interlocks');
    await page.click('nav button[data-tab=devices]');
    await waitText(page, '[data-testid=device-table]', /arm\s*arm\s*OK/);
    await panel.screenshot('devices');
    await page.click('nav button[data-tab=operate]');
  });

  it('shows an alarm with its time and cause, and acknowledges it; Resync shows believed versus measured', async () => {
    cell.run.sim.inject({ fault: 'feeder_jam', device: 'feeder' });
    const faultsBefore = cell.events.filter((e) => e.type === 'fault').length;
    // Stop the clock at the fault: the cell is holding while it resyncs.
    for (let i = 0; i < 600 && cell.events.filter((e) => e.type === 'fault').length === faultsBefore; i++) cell.advance(100);
    const fault = cell.events.filter((e) => e.type === 'fault').at(-1);
    expect(fault?.type).toBe('fault');
    const kind = fault!.type === 'fault' ? fault!.kind : '';
    await waitText(page, '#alarm-count', /^[1-9]/);
    await waitText(page, '[data-testid=alarm-newest]', new RegExp(kind));
    await page.click('nav button[data-tab=alarms]');
    await waitText(page, '[data-testid=alarm-table]', new RegExp(`\\d:\\d\\d\\.\\d\\s*${kind}\\s*feeder`));
    await panel.screenshot('alarm');
    await page.click('nav button[data-tab=resync]');
    await waitText(page, '[data-testid=resync]', /Resync in progress: part_not_at_pick on feeder, step release/);
    await waitText(page, '[data-testid=resync]', /part_at_pick\s*true\s*false/);
    await panel.screenshot('resync');
    await page.click('nav button[data-tab=alarms]');
    await page.click('#ack-all');
    await waitText(page, '#alarm-count', /^0$/);
    await waitText(page, '[data-testid=alarm-table]', /No open alarms/);
    expect(cell.events.some((e) => e.type === 'alarm.acknowledged' && e.ids.length > 0)).toBe(true);
    await page.click('nav button[data-tab=operate]');
    // Whatever the fault left the cell in, bring it back to Execute the operator's way.
    cell.advance(5_000);
    if (cell.state === 'Held') {
      await shownState(/^Held$/);
      await press('unhold');
      await waitState('Unholding');
      cell.until('Execute');
    }
    await shownState(/^Execute$/);
  });

  it('Abort shows Aborted and disables Start; Clear, Reset, Start bring it back', async () => {
    await press('abort');
    await waitState('Aborting');
    cell.until('Aborted');
    await shownState(/^Aborted$/);
    await waitText(page, '#diagram g.current', /^Aborted$/);
    expect(await enabled('start')).toBe(false);
    expect(await enabled('abort')).toBe(false);
    expect(await enabled('clear')).toBe(true);
    await panel.screenshot('aborted');
    await press('clear');
    await waitState('Clearing');
    cell.until('Stopped');
    await press('reset');
    await waitState('Resetting');
    cell.until('Idle');
    await shownState(/^Idle$/);
    await press('start');
    await waitState('Starting');
    cell.until('Execute');
    await shownState(/^Execute$/);
  });

  it('an e-stop tripped in the simulator shows on screen and Clear is refused while it is active; release, Clear, Reset, Start', async () => {
    cell.pressEstop(true);
    cell.until('Aborted');
    await shownState(/^Aborted$/);
    await waitText(page, '[data-testid=estop-badge]', /E-stop active/);
    expect(await page.locator('[data-testid=estop-badge]').isVisible()).toBe(true);
    await waitText(page, '[data-testid=safety-summary]', /E-stop estop_button\s*ACTIVE/);
    await press('clear');
    await waitText(page, '[data-testid=outcome]', /clear refused: Clear refused: e-stop sources still active: estop_button/);
    expect(cell.state).toBe('Aborted');
    await panel.screenshot('estop-clear-refused');

    cell.pressEstop(false);
    cell.advance(100);
    await waitText(page, '[data-testid=safety-summary]', /E-stop estop_button\s*released/);
    expect(await page.locator('[data-testid=estop-badge]').isVisible()).toBe(false);
    // Releasing restarts nothing.
    expect(cell.state).toBe('Aborted');
    await press('clear');
    await waitState('Clearing');
    cell.until('Stopped');
    await shownState(/^Stopped$/);
    await press('reset');
    await waitState('Resetting');
    cell.until('Idle');
    await press('start');
    await waitState('Starting');
    cell.until('Execute');
    await shownState(/^Execute$/);
    await panel.screenshot('after-estop');
  });

  it('off loopback: a page without the token is refused with the reason; with ?token= it commands the cell', async () => {
    const token = 'panel-token-4711';
    let httpPort = 0;
    const guarded = new DemoCell({
      faces: operatorFaces({ hmi: true, host: '0.0.0.0', token, wsPort: 0, httpPort: 0, onListening: (where) => (httpPort = where.httpPort!) }),
    });
    try {
      await guarded.run.attachFaces();
      const other = await panel.context.newPage();
      await other.goto(`http://127.0.0.1:${httpPort}/`);
      await waitText(other, '[data-testid=state]', /^Stopped$/);
      await waitText(other, '[data-testid=connection]', /read-only \(no valid token\)/);
      await other.click('button[data-command=reset]');
      await waitText(other, '[data-testid=outcome]', /refused: this client presented no valid token/);
      expect(guarded.state).toBe('Stopped');
      await other.goto(`http://127.0.0.1:${httpPort}/?token=${token}`);
      await waitText(other, '[data-testid=state]', /^Stopped$/);
      await waitText(other, '[data-testid=connection]', /^connected$/);
      await other.click('button[data-command=reset]');
      const end = Date.now() + 5000;
      while (guarded.state !== 'Resetting' && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(guarded.state).toBe('Resetting');
      // The cell goes away: the page says so, dims what it shows and offers no commands.
      await guarded.run.close();
      await waitText(other, '[data-testid=connection]', /^disconnected/);
      expect(await other.locator('body.stale').count()).toBe(1);
      expect(await other.locator('button[data-command]:enabled').count()).toBe(0);
      await other.close();
    } finally {
      await guarded.run.close();
    }
  });

  it('shows a ROS 2 server\'s CDR messages (real serialized fixtures) and publishes CDR commands to it', async () => {
    // Not foxglove_bridge itself (it needs ROS 2): a Foxglove protocol server offering what it
    // offers on ROS 2 (CDR, ros2msg schemas, no JSON) and sending real rmw-serialized samples.
    const fixtures = path.resolve(ROOT, '..', 'shared', 'fixtures', 'ros2-cdr');
    const server = new FoxgloveServer({ name: 'ros2-like', capabilities: ['clientPublish'], supportedEncodings: ['cdr'] });
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has(FoxgloveServer.SUPPORTED_SUBPROTOCOL) ? FoxgloveServer.SUPPORTED_SUBPROTOCOL : false) });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => server.handleConnection(ws as never, 'page'));
    const stateId = server.addChannel({ topic: '/workcell/state', encoding: 'cdr', schemaName: 'std_msgs/msg/String', schema: ROS2MSG_DEFINITIONS['std_msgs/msg/String'], schemaEncoding: 'ros2msg' });
    const diagId = server.addChannel({ topic: '/diagnostics', encoding: 'cdr', schemaName: 'diagnostic_msgs/msg/DiagnosticArray', schema: ROS2MSG_DEFINITIONS['diagnostic_msgs/msg/DiagnosticArray'], schemaEncoding: 'ros2msg' });
    server.on('subscribe', (id) => {
      const file = id === stateId ? 'std_msgs-String-cell-state.cdr' : id === diagId ? 'diagnostic_msgs-DiagnosticArray.cdr' : undefined;
      if (file) setTimeout(() => server.sendMessage(id, 1n, readFileSync(path.join(fixtures, file))), 50);
    });
    const published: Array<{ topic: string; encoding: string; data: unknown }> = [];
    server.on('message', ({ channel, data }) => {
      published.push({ topic: channel.topic, encoding: channel.encoding, data: ros2Codec('std_msgs/msg/String', 'string data').decode(data) });
    });
    const hmi = await HmiServer.start({ port: 0, wsPort: 1 });
    const other = await panel.context.newPage();
    try {
      await other.goto(`http://127.0.0.1:${hmi.port}/?ws=ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
      await waitText(other, '[data-testid=state]', /^Execute$/);
      await waitText(other, '[data-counter=exited] b', /^10$/);
      await other.click('nav button[data-tab=devices]');
      await waitText(other, '[data-testid=device-table]', /feeder\s*ERROR heartbeat lost/);
      await other.click('nav button[data-tab=operate]');
      expect(await other.locator('button.cmd[data-command=hold]').isEnabled()).toBe(true);
      expect(await other.locator('button.cmd[data-command=start]').isEnabled()).toBe(false);
      await other.click('button[data-command=hold]');
      const end = Date.now() + 5000;
      while (published.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(published).toEqual([{ topic: '/workcell/command', encoding: 'cdr', data: { data: 'hold' } }]);
    } finally {
      await other.close();
      await hmi.close();
      for (const c of wss.clients) c.terminate();
      wss.close();
    }
  });

  it('loads nothing from outside workcell and logs no errors', () => {
    expect(panel.outsideRequests).toEqual([]);
    expect(panel.consoleErrors).toEqual([]);
  });
});
