/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The operator HMI page: connects over the Foxglove WebSocket protocol (to workcell's bridge, or
 * to foxglove_bridge on ROS 2) and shows the cell. Query parameters: `ws` (WebSocket URL; default
 * the workcell bridge beside this page), `token` (sent to the bridge), `ns` (namespace).
 */
import { PACKML_COMMANDS, type PackmlCommand } from '../../../machines/packml.js';
import type { CellEventMessage } from '../../interface/operator.js';
import type { DiagnosticArray } from '../../interface/messages.js';
import { CellConnection } from './connection.js';
import { cellTime, HmiModel, percent, type StateView } from './model.js';
import { renderCommission, setupCommission } from './commission.js';

const model = new HmiModel();
const $ = <T extends Element = HTMLElement>(id: string) => document.getElementById(id) as unknown as T;

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Replace an element's markup only when it changed (keeps touch targets stable). */
function setHtml(el: Element, html: string): void {
  if ((el as HTMLElement).dataset.html !== html) {
    el.innerHTML = html;
    (el as HTMLElement).dataset.html = html;
  }
}

// ---------------------------------------------------------------------------------------------
// Static parts: tabs, the PackML diagram, command and mode buttons

const LAYOUT: Array<[string, number, number, 'wait' | 'acting']> = [
  ['Resetting', 0, 0, 'acting'], ['Idle', 1, 0, 'wait'], ['Starting', 2, 0, 'acting'], ['Execute', 3, 0, 'acting'], ['Completing', 4, 0, 'acting'], ['Complete', 5, 0, 'wait'],
  ['Holding', 0, 1, 'acting'], ['Held', 1, 1, 'wait'], ['Unholding', 2, 1, 'acting'], ['Suspending', 3, 1, 'acting'], ['Suspended', 4, 1, 'wait'], ['Unsuspending', 5, 1, 'acting'],
  ['Stopping', 0, 2, 'acting'], ['Stopped', 1, 2, 'wait'], ['Aborting', 3, 2, 'acting'], ['Aborted', 4, 2, 'wait'], ['Clearing', 5, 2, 'acting'],
];
const ARROWS: Array<[string, string]> = [
  ['Resetting', 'Idle'], ['Idle', 'Starting'], ['Starting', 'Execute'], ['Execute', 'Completing'], ['Completing', 'Complete'],
  ['Holding', 'Held'], ['Held', 'Unholding'], ['Suspending', 'Suspended'], ['Suspended', 'Unsuspending'],
  ['Stopping', 'Stopped'], ['Aborting', 'Aborted'], ['Aborted', 'Clearing'],
];
const BOX_W = 92;
const BOX_H = 40;
const pos = (col: number, row: number) => ({ x: 6 + col * 101, y: 8 + row * 51 });

function buildDiagram(): void {
  const svg = $('diagram');
  const at = new Map(LAYOUT.map(([s, c, r]) => [s, pos(c, r)]));
  const lines = ARROWS.map(([a, b]) => {
    const p = at.get(a)!;
    const q = at.get(b)!;
    return `<line x1="${p.x + BOX_W}" y1="${p.y + BOX_H / 2}" x2="${q.x - 2}" y2="${q.y + BOX_H / 2}"/>`;
  }).join('');
  const boxes = LAYOUT.map(([s, c, r, kind]) => {
    const p = pos(c, r);
    return `<g data-state="${s}"><rect class="${kind}" x="${p.x}" y="${p.y}" width="${BOX_W}" height="${BOX_H}"/><text x="${p.x + BOX_W / 2}" y="${p.y + BOX_H / 2}">${s}</text></g>`;
  }).join('');
  svg.innerHTML = `<defs><marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#607d8b"/></marker></defs>${lines}${boxes}`;
}

const COMMAND_ORDER: PackmlCommand[] = ['reset', 'start', 'stop', 'hold', 'unhold', 'suspend', 'unsuspend', 'clear', 'abort'];

function label(command: PackmlCommand): string {
  return command.charAt(0).toUpperCase() + command.slice(1);
}

function buildButtons(): void {
  const commands = $('commands');
  for (const command of COMMAND_ORDER) {
    const b = document.createElement('button');
    b.className = `cmd${command === 'abort' ? ' abort' : ''}`;
    b.dataset.command = command;
    b.disabled = true;
    // A screen is not an emergency-stop device: Abort is labelled as the software stop it is.
    b.innerHTML = command === 'abort' ? 'Abort<small>software stop</small>' : label(command);
    b.setAttribute('aria-label', command === 'abort' ? 'Abort (software stop)' : label(command));
    commands.appendChild(b);
  }
  const modes = $('modes');
  for (const mode of ['production', 'maintenance', 'manual']) {
    const b = document.createElement('button');
    b.className = 'modebtn';
    b.dataset.command = `mode ${mode}`;
    b.textContent = mode.charAt(0).toUpperCase() + mode.slice(1);
    modes.appendChild(b);
  }
  document.body.addEventListener('click', (e) => {
    const target = (e.target as HTMLElement).closest('button');
    if (!target) return;
    if (target.dataset.tab) return selectTab(target.dataset.tab);
    const command = target.dataset.command;
    if (command) sendCommand(command);
  });
}

function selectTab(tab: string): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab));
  for (const p of document.querySelectorAll<HTMLElement>('.panel')) p.hidden = p.dataset.panel !== tab;
}

// ---------------------------------------------------------------------------------------------
// Connection

const params = new URLSearchParams(location.search);
let connection: CellConnection | undefined;

function sendCommand(command: string): void {
  const outcome = $('outcome');
  if (!connection || !connection.send(command)) {
    outcome.className = 'outcome rejected';
    outcome.textContent = `${command}: not sent — this server does not take commands from the page`;
    return;
  }
  outcome.className = 'outcome';
  outcome.textContent = `${command}: sent…`;
}

async function start(): Promise<void> {
  buildDiagram();
  buildButtons();
  setupCommission(sendCommand); // Commission tab: jog, teach, I/O, single-step
  let url = params.get('ws');
  if (!url) {
    let wsPort = 8765;
    try {
      const config = (await (await fetch('config.json')).json()) as { wsPort?: number };
      if (typeof config.wsPort === 'number') wsPort = config.wsPort;
    } catch {
      // Not served by workcell: the default bridge port.
    }
    url = `ws://${location.hostname || '127.0.0.1'}:${wsPort}/`;
  }
  const token = params.get('token');
  if (token) url += `${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
  connection = new CellConnection(url, params.get('ns') ?? '/workcell', {
    onStatus(status, detail) {
      // Without a connection the screen shows old values: dim them and offer no commands.
      document.body.classList.toggle('stale', status !== 'open');
      if (status !== 'open') for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-command]')) b.disabled = true;
      else scheduleRender();
      const el = $('connection');
      el.className = `conn ${status}`;
      el.textContent = status === 'open' ? 'connected' : status === 'connecting' ? 'connecting…' : `disconnected${detail ? `: ${detail}` : ''}`;
    },
    onServerInfo(info) {
      const ideal = Number(info.metadata.idealCycleMs);
      if (Number.isFinite(ideal) && ideal > 0) model.idealCycleMs = ideal;
      if (info.metadata.cell) $('cell-name').textContent = info.metadata.cell;
    },
    onMessage(topic, message) {
      const ns = connection!.namespace;
      try {
        if (topic === `${ns}/state`) model.onState(JSON.parse((message as { data: string }).data) as StateView);
        else if (topic === `${ns}/events`) model.onEvent(JSON.parse((message as { data: string }).data) as CellEventMessage);
        else if (topic === '/diagnostics') model.onDiagnostics((message as DiagnosticArray).status ?? []);
        else if (topic === `${ns}/journal`) model.onJournal(message as Record<string, unknown>);
      } catch (e) {
        console.error(`${topic}: ${e instanceof Error ? e.message : String(e)}`);
      }
      scheduleRender();
    },
    onServerStatus(level, message) {
      if (/^read-only/.test(message)) {
        $('connection').textContent = 'connected — read-only (no valid token)';
        return;
      }
      if (level >= 2) {
        const outcome = $('outcome');
        outcome.className = 'outcome rejected';
        outcome.textContent = message;
      }
    },
  });
  connection.connect();
}

// ---------------------------------------------------------------------------------------------
// Rendering

let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

let shownOutcome: unknown;

function render(): void {
  const s = model.state;
  if (!s) return;
  if (s.cell) $('cell-name').textContent = s.cell;
  const badge = $('state-badge');
  badge.textContent = s.state;
  badge.className = `badge state-${s.state}`;
  $('mode-badge').textContent = s.mode ? `${s.mode.charAt(0).toUpperCase()}${s.mode.slice(1)}` : '–';
  $('estop-badge').hidden = !s.estop?.active;
  for (const g of document.querySelectorAll('#diagram g')) g.classList.toggle('current', g.getAttribute('data-state') === s.state);
  for (const b of document.querySelectorAll<HTMLButtonElement>('button.cmd')) {
    const c = b.dataset.command as PackmlCommand;
    if ((PACKML_COMMANDS as readonly string[]).includes(c)) b.disabled = !model.allowed(c) || document.body.classList.contains('stale');
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>('button.modebtn')) {
    b.classList.toggle('current', b.dataset.command === `mode ${s.mode}`);
    b.disabled = document.body.classList.contains('stale');
  }

  const outcome = model.lastOutcome;
  if (outcome && outcome !== shownOutcome) {
    shownOutcome = outcome;
    const el = $('outcome');
    el.className = `outcome ${outcome.accepted ? 'accepted' : 'rejected'}`;
    el.textContent = outcome.accepted ? `✔ ${outcome.command}: accepted at ${cellTime(outcome.t)}` : `✖ ${outcome.command} refused: ${outcome.reason ?? ''}`;
  }

  const sources = s.estop?.sources ?? [];
  const stops = s.protectiveStops ?? [];
  setHtml(
    $('safety-summary'),
    [
      ...sources.map((x) => `<li><span>E-stop ${esc(x.name)}</span><span class="${x.active ? 'on' : 'off'}">${x.active ? 'ACTIVE' : 'released'}</span></li>`),
      ...stops.map((x) => `<li><span>Guard ${esc(x.name)}</span><span class="${x.active ? 'warn' : 'off'}">${x.active ? 'TRIPPED' : 'closed'}</span></li>`),
    ].join('') || '<li class="muted">no sources reported</li>',
  );
  setHtml(
    $('estop-table'),
    `<tr><th>Source</th><th>State</th></tr>${sources.map((x) => `<tr><td>${esc(x.name)}</td><td><span class="${x.active ? 'on' : 'off'}">${x.active ? 'ACTIVE' : 'released'}</span></td></tr>`).join('')}`,
  );
  setHtml(
    $('protective-table'),
    `<tr><th>Input</th><th>Category</th><th>State</th></tr>${stops.map((x) => `<tr><td>${esc(x.name)}</td><td>${esc(x.category)}</td><td><span class="${x.active ? 'warn' : 'off'}">${x.active ? 'TRIPPED' : 'ok'}</span></td></tr>`).join('')}`,
  );
  setHtml(
    $('interlock-table'),
    `<tr><th>Rule</th><th>Now</th><th>Blocking</th></tr>${(s.interlocks ?? [])
      .map((i) => `<tr><td>${esc(i.name)}</td><td>${i.active ? '<span class="warn">active</span>' : '<span class="off">clear</span>'}</td><td>${i.blocking ? '<span class="on">blocking</span>' : 'no'}</td></tr>`)
      .join('')}`,
  );

  const diag = new Map(model.diagnostics.map((d) => [d.name.replace(/^workcell: /, ''), d]));
  const levelText = ['OK', 'WARN', 'ERROR', 'STALE'];
  const deviceNames = [...new Set([...(s.devices ?? []).map((d) => d.name), ...diag.keys()])];
  setHtml(
    $('device-table'),
    `<tr><th>Device</th><th>Kind</th><th>Health</th><th>Moving</th><th>Step</th><th>Heartbeat age</th></tr>${deviceNames
      .map((name) => {
        const d = (s.devices ?? []).find((x) => x.name === name);
        const g = diag.get(name);
        const level = g ? (levelText[g.level] ?? String(g.level)) : d ? (d.healthy ? 'OK' : 'ERROR') : '?';
        const cls = level === 'OK' ? 'off' : level === 'WARN' ? 'warn' : 'on';
        const age = g?.values.find((v) => v.key === 'heartbeat_age_ms')?.value;
        return `<tr><td>${esc(name)}</td><td>${esc(d?.kind ?? '')}</td><td><span class="${cls}">${esc(level)}</span> ${esc(g && g.message !== 'ok' ? g.message : '')}</td><td>${d?.moving ? 'yes' : 'no'}</td><td>${esc(d?.step ?? '')}</td><td>${age !== undefined ? `${esc(age)} ms` : ''}</td></tr>`;
      })
      .join('')}`,
  );

  const alarms = s.alarms ?? [];
  const count = $('alarm-count');
  count.textContent = String(alarms.length);
  count.className = `count${alarms.length ? ' some' : ''}`;
  const newest = alarms[alarms.length - 1];
  setHtml($('alarm-newest'), newest ? `<b>${esc(newest.kind)}</b> ${esc(newest.message)} <span class="muted">at ${cellTime(newest.t)}</span>${alarms.length > 1 ? ` (+${alarms.length - 1} more)` : ''}` : '<span class="muted">none open</span>');
  for (const id of ['ack-mini', 'ack-all']) ($(id) as HTMLButtonElement).disabled = alarms.length === 0 || document.body.classList.contains('stale');
  setHtml(
    $('alarm-table'),
    alarms.length
      ? `<tr><th>Time</th><th>Cause</th><th>Device</th><th>Message</th></tr>${alarms.map((a) => `<tr><td>${cellTime(a.t)}</td><td>${esc(a.kind)}</td><td>${esc(a.device ?? '')}</td><td>${esc(a.message)}</td></tr>`).join('')}`
      : '<tr><td class="muted">No open alarms.</td></tr>',
  );
  $('last-fault').textContent = s.lastFault ? `Last fault: ${s.lastFault.kind} — ${s.lastFault.message} at ${cellTime(s.lastFault.t)}` : '';

  const p = s.parts;
  setHtml(
    $('counters'),
    p
      ? [
          ['exited', p.exited],
          ['released', p.released],
          ['in cell', p.inCell],
          ['rejected', p.rejected],
          ['lost', p.lost],
          ['lot', s.lot?.size ?? '∞'],
        ]
          .map(([k, v]) => `<div data-counter="${k}">${k}<b>${esc(v)}</b></div>`)
          .join('')
      : '',
  );
  const oee = model.oee();
  const oeeCells = [
    ['Availability', oee.availability],
    ['Performance', oee.performance],
    ['Quality', oee.quality],
    ['OEE', oee.oee],
  ] as const;
  setHtml($('oee-mini'), oeeCells.map(([k, v]) => `<div>${k}<b>${percent(v)}</b></div>`).join(''));
  setHtml($('oee'), oeeCells.map(([k, v]) => `<div>${k}<b>${percent(v)}</b></div>`).join(''));
  renderChart();
  renderResync();
  renderCommission(s.mode, s.commissioning, document.body.classList.contains('stale'));
}

function renderChart(): void {
  const times = model.cycleTimes;
  $('cycle-n').textContent = String(times.length);
  if (times.length === 0) {
    setHtml($('chart'), '<text x="20" y="125">No cycle completed since this screen connected.</text>');
    return;
  }
  const max = Math.max(...times) * 1.1;
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const w = 900 / 100;
  const h = (ms: number) => (ms / max) * 210;
  const bars = times.map((ms, i) => `<rect x="${70 + i * w}" y="${230 - h(ms)}" width="${w - 1.5}" height="${h(ms)}"/>`).join('');
  const meanY = 230 - h(mean);
  setHtml(
    $('chart'),
    `${bars}<line class="mean" x1="70" x2="970" y1="${meanY}" y2="${meanY}"/><text x="4" y="${meanY + 5}">${(mean / 1000).toFixed(2)} s</text><text x="4" y="24">${(max / 1000).toFixed(1)} s</text><text x="4" y="234">0</text>`,
  );
}

function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, value]];
}

function show(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? x.toFixed(3) : String(x))).join(', ');
  return v === undefined ? '–' : String(v);
}

function renderResync(): void {
  const r = model.resync;
  const active = model.resyncInProgress();
  $('resync-dot').hidden = !active;
  if (!r) {
    setHtml($('resync'), '<p class="muted">No resync in progress. When a step is missed, what the controller believed and what the sensors measure appear here.</p>');
    return;
  }
  const believed = new Map(flatten(r.believed));
  const measured = new Map(flatten(r.measured));
  const keys = [...new Set([...believed.keys(), ...measured.keys()])];
  setHtml(
    $('resync'),
    `<p><b>${active ? 'Resync in progress' : 'Last resync (the cell has moved on)'}</b>: ${esc(r.kind)}${r.device ? ` on ${esc(r.device)}` : ''}${r.step ? `, step ${esc(r.step)}` : ''} at ${cellTime(r.t)}</p><table><tr><th>Value</th><th>Believed</th><th>Measured</th></tr>${keys
      .map((k) => {
        const b = show(believed.get(k));
        const m = show(measured.get(k));
        return `<tr class="${b !== m ? 'differs' : ''}"><td>${esc(k)}</td><td>${esc(b)}</td><td>${esc(m)}</td></tr>`;
      })
      .join('')}</table>`,
  );
}

void start();
