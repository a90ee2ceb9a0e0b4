/**
 * The HMI's Commission tab in Debian's Chromium (playwright-core) at the touch panel's size,
 * against the demo cell in virtual time: hold-to-run jog buttons (mouse and touch), teach with
 * its diff, the I/O view with forcing, single-step. Screenshots land in test-results/hmi/.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { operatorFaces } from '../../src/hmi/server.js';
import { DemoCell } from '../controller/runHarness.js';
import { openPanel, waitText, type Panel } from '../hmi/browser.js';
import { conveyorSteps, demoCopy, records, view } from './helpers.js';

let cell: DemoCell;
let panel: Panel;
let page: Page;
let file: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

beforeAll(async () => {
  let httpPort = 0;
  file = demoCopy();
  cell = new DemoCell({ cellPath: file, faces: operatorFaces({ hmi: true, wsPort: 0, httpPort: 0, onListening: (where) => (httpPort = where.httpPort!) }) });
  await cell.run.attachFaces();
  panel = await openPanel(`http://127.0.0.1:${httpPort}/`);
  page = panel.page;
  await waitText(page, '[data-testid=connection]', /connected/);
}, 60_000);

afterAll(async () => {
  await panel?.close();
  await cell?.run.close();
});

it('shows what each mode allows, and jogs the conveyor only while the + button is held', async () => {
  await page.click('nav button[data-tab=commission]');
  await waitText(page, '#commission-note', /production mode\. Jog and teach need Manual mode/);
  await page.click('nav button[data-tab=operate]');
  await page.click('button[data-command="mode manual"]');
  await until('Manual mode', () => cell.run.controller.mode === 'manual');
  await page.click('nav button[data-tab=commission]');
  const plus = page.locator('button[data-jog="conveyor +"]');
  await plus.waitFor();
  expect(await plus.isEnabled()).toBe(true);
  await plus.scrollIntoViewIfNeeded();
  const box = (await plus.boundingBox())!;
  // Touch-sized target.
  expect(box.height).toBeGreaterThanOrEqual(48);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await until('the jog to start', () => records(cell, 'commissioning', 'jog.start').length === 1).catch((e: Error) => {
    throw new Error(`${e.message}; commands: ${JSON.stringify(cell.events.filter((x) => x.type.startsWith('command')))}`);
  });
  // While held, the page renews in real time; the cell's virtual time follows in small slices.
  for (let i = 0; i < 20; i++) {
    await sleep(40);
    cell.advance(20);
  }
  const held = conveyorSteps(cell);
  expect(held).toBeGreaterThan(0);
  expect(records(cell, 'commissioning', 'jog.increment').length).toBeGreaterThan(1);
  await waitText(page, '[data-testid=jog-status]', /Jogging conveyor \+ at 250 mm\/s/);
  await panel.screenshot('commission-jog');
  await page.mouse.up();
  await until('the jog to end', () => records(cell, 'commissioning', 'jog.end').length === 1);
  expect(records(cell, 'commissioning', 'jog.end')[0]!.why).toBe('stopped by the operator');
  cell.advance(1000);
  const stopped = conveyorSteps(cell);
  cell.advance(1000);
  expect(conveyorSteps(cell)).toBe(stopped);
  await waitText(page, '[data-testid=jog-status]', /No jog\./);
}, 60_000);

it('hold-to-run with a finger on the touch panel: a long touch keeps the jog alive, lifting the finger stops it', async () => {
  // Real touch input (Chromium's touch emulation through CDP), held well past the browser's
  // long-press gesture, which must neither cancel the jog nor open anything.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
  try {
    const minus = page.locator('button[data-jog="conveyor -"]');
    await minus.scrollIntoViewIfNeeded();
    const box = (await minus.boundingBox())!;
    const finger = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const starts = records(cell, 'commissioning', 'jog.start').length;
    const ends = records(cell, 'commissioning', 'jog.end').length;
    const before = conveyorSteps(cell);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [finger] });
    await until('the jog to start', () => records(cell, 'commissioning', 'jog.start').length === starts + 1);
    expect(records(cell, 'commissioning', 'jog.start').at(-1)).toMatchObject({ device: 'conveyor', direction: -1, continuous: true });
    for (let i = 0; i < 40; i++) {
      await sleep(40);
      cell.advance(20);
    }
    // 1.6 s of touch: still the same jog, moving upstream.
    expect(records(cell, 'commissioning', 'jog.end')).toHaveLength(ends);
    expect(conveyorSteps(cell)).toBeLessThan(before);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await until('the jog to end', () => records(cell, 'commissioning', 'jog.end').length === ends + 1);
    expect(records(cell, 'commissioning', 'jog.end').at(-1)!.why).toBe('stopped by the operator');
    cell.advance(1000);
    const stopped = conveyorSteps(cell);
    cell.advance(1000);
    expect(conveyorSteps(cell)).toBe(stopped);
  } finally {
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false });
    await cdp.detach();
  }
}, 30_000);

it('teaches a pose: the diff is shown, and the file is written only on the button', async () => {
  const before = readFileSync(file, 'utf8');
  await page.fill('#teach-name', 'inspect');
  await page.click('button[data-teach="pose arm"]');
  await waitText(page, '[data-testid=teach-diff]', /\+ {6}inspect: \[0, -1\.2, 1\.5, 0, 1\.2, 0\]/);
  expect(readFileSync(file, 'utf8')).toBe(before);
  await page.click('button[data-command="teach confirm t1"]');
  await until('the write', () => records(cell, 'commissioning', 'teach.written').length === 1);
  expect(readFileSync(file, 'utf8')).toContain('      inspect: [0, -1.2, 1.5, 0, 1.2, 0]\n');
  expect(readFileSync(`${file}.bak`, 'utf8')).toBe(before);
}, 30_000);

it('the I/O view forces an output with a reason, shows it forced, and unforces it', async () => {
  await page.click('nav button[data-tab=operate]');
  await page.click('button[data-command="mode maintenance"]');
  await until('Maintenance mode', () => cell.run.controller.mode === 'maintenance');
  await page.click('nav button[data-tab=commission]');
  await waitText(page, '[data-io="feeder.release"]', /not forceable/);
  await waitText(page, '[data-io="safety_io.estop_ok"]', /ON/);
  await page.fill('#force-reason', 'stack light check');
  await page.fill('#force-seconds', '30');
  await page.click('button[data-force="safety_io.lamp_red on"]');
  await until('the forcing', () => records(cell, 'commissioning', 'force.on').length === 1);
  cell.advance(10);
  expect(records(cell, 'commissioning', 'force.on')[0]).toMatchObject({ device: 'safety_io', channel: 'lamp_red', value: true, reason: 'stack light check', limitMs: 30_000 });
  expect(cell.run.sim.drivers.get('safety_io')!.read().outputs.lamp_red).toBe(true);
  await waitText(page, '[data-io="safety_io.lamp_red"]', /ON FORCED/);
  await panel.screenshot('commission-io');
  await page.click('button[data-command="unforce safety_io.lamp_red"]');
  await until('the unforce', () => records(cell, 'commissioning', 'force.off').length === 1);
  cell.advance(10);
  expect(cell.run.sim.drivers.get('safety_io')!.read().outputs.lamp_red).toBe(false);
  expect(panel.consoleErrors).toEqual([]);
  expect(panel.outsideRequests).toEqual([]);
}, 30_000);

it('single-step from the panel: the next step is shown, and one Step press starts exactly that step', async () => {
  // Maintenance mode from the test before; the cycle started, nothing moves by itself.
  cell.send('reset');
  cell.until('Idle');
  cell.send('start');
  cell.until('Execute');
  cell.advance(1000);
  const starts = () => records(cell, 'step').filter((r) => r.phase === 'start');
  const before = starts().length;
  await waitText(page, '[data-testid=next-step]', /next: feeder release/);
  await page.click('#single-step button[data-command="step"]');
  await until('the step granted', () => records(cell, 'commissioning', 'step.granted').length === 1);
  cell.advance(3000);
  expect(starts().slice(before).map((r) => `${String(r.device)} ${String(r.step)}`)).toEqual(['feeder release']);
  // The panel shows the step the next press would start, as the state says.
  const next = view(cell).singleStep!.nextStep!;
  expect(next).not.toEqual({ device: 'feeder', step: 'release' });
  await waitText(page, '[data-testid=next-step]', new RegExp(`next: ${next.device} ${next.step}`));
  await panel.screenshot('commission-single-step');
}, 30_000);
