/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The Commission tab of the HMI (Manual and Maintenance modes, docs/commissioning.md): jog with
 * hold-to-run buttons, teach with the diff shown before writing, the I/O view with forcing, and
 * single-step. Sized for the touch panel: every target is at least 48 px; nothing needs hover.
 *
 * Hold-to-run: pressing a jog button sends `jog … continuous` and then `jog renew` every third of
 * the renewal timeout while the finger stays on it; lifting it (or sliding off, or the touch being
 * cancelled) sends `jog stop`. If the page or the link dies mid-jog, the renewals stop and the
 * controller stops the axis by itself within the timeout.
 */
import type { CommissioningView } from '../../commissioning/commissioning.js';

type Send = (command: string) => void;

function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function setHtml(el: Element | null, html: string): void {
  if (!el) return;
  if ((el as HTMLElement).dataset.html !== html) {
    el.innerHTML = html;
    (el as HTMLElement).dataset.html = html;
  }
}

let holding: { timer: ReturnType<typeof setInterval> } | undefined;
let renewEveryMs = 100;

function release(send: Send): void {
  if (!holding) return;
  clearInterval(holding.timer);
  holding = undefined;
  send('jog stop');
}

/** Wire the tab's controls once. */
export function setupCommission(send: Send): void {
  const panel = document.getElementById('tab-commission');
  if (!panel) return;
  panel.addEventListener('pointerdown', (e) => {
    const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button[data-jog]');
    if (!b || b.disabled) return;
    e.preventDefault();
    release(send);
    send(`jog ${b.dataset.jog} continuous`);
    holding = { timer: setInterval(() => send('jog renew'), renewEveryMs) };
    b.setPointerCapture?.(e.pointerId);
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture']) panel.addEventListener(type, () => release(send));
  window.addEventListener('blur', () => release(send));
  // A panel that switches away (screen off, another app) must not keep a jog alive.
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) release(send);
  });
  panel.addEventListener('click', (e) => {
    const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button');
    if (!b) return;
    if (b.dataset.teach) {
      const name = (document.getElementById('teach-name') as HTMLInputElement | null)?.value.trim() ?? '';
      if (name) send(`teach ${b.dataset.teach} ${name}`);
    } else if (b.dataset.force) {
      const reason = (document.getElementById('force-reason') as HTMLInputElement | null)?.value.trim() ?? '';
      const seconds = (document.getElementById('force-seconds') as HTMLInputElement | null)?.value.trim() || '60';
      send(`force ${b.dataset.force} ${seconds}s "${reason.replace(/"/g, "'")}"`);
    }
  });
}

/** Render the tab from the state (`commissioning` is present only in Manual and Maintenance mode). */
export function renderCommission(mode: string | undefined, view: CommissioningView | undefined, stale: boolean): void {
  const panel = document.getElementById('tab-commission');
  if (!panel) return;
  if (!view) {
    (document.getElementById('commission-grid') as HTMLElement).hidden = true;
    setHtml(document.getElementById('commission-note'), `<p class="muted">The cell is in ${esc(mode ?? '?')} mode. Jog and teach need Manual mode; the I/O view and forcing need Maintenance mode (Operate → Mode).</p>`);
    return;
  }
  renewEveryMs = Math.max(30, view.limits.jogRenewTimeoutMs / 3);
  const manual = mode === 'manual';
  const jog = view.jog;
  const jogRows = Object.entries(view.positions)
    .flatMap(([device, p]) =>
      'joints' in p
        ? Object.entries(p.joints).map(([joint, q]) => ({ target: `${device} ${joint}`, label: `${device} ${joint}`, value: `${q.toFixed(3)} rad` }))
        : [{ target: device, label: device, value: p.mm === null ? 'not homed' : `${p.mm.toFixed(1)} mm` }],
    )
    .map(
      (r) =>
        `<tr><td>${esc(r.label)}</td><td data-position="${esc(r.target)}">${esc(r.value)}</td><td><button class="jog" data-jog="${esc(r.target)} -" ${!manual || stale ? 'disabled' : ''} aria-label="jog ${esc(r.target)} minus">−</button><button class="jog" data-jog="${esc(r.target)} +" ${!manual || stale ? 'disabled' : ''} aria-label="jog ${esc(r.target)} plus">+</button></td></tr>`,
    )
    .join('');
  const teach = view.teach;
  const io = view.io;
  const maintenance = mode === 'maintenance';
  const ioRows = io
    .map((p) => {
      const ref = `${p.device}.${p.channel}`;
      const controls =
        p.direction === 'output' && maintenance && p.forceable
          ? p.forced
            ? `<button class="small" data-command="unforce ${esc(ref)}">Unforce</button>`
            : `<button class="small" data-force="${esc(ref)} on">Force on</button><button class="small" data-force="${esc(ref)} off">Force off</button>`
          : p.direction === 'output' && !p.forceable
            ? '<span class="muted">not forceable</span>'
            : '';
      return `<tr data-io="${esc(ref)}"><td>${esc(p.device)}</td><td>${esc(p.channel)}</td><td>${p.direction === 'input' ? 'in' : 'out'}</td><td><span class="${p.value ? 'warn' : 'off'}">${p.value ? 'ON' : 'off'}</span>${p.forced ? ' <b class="on">FORCED</b>' : ''}</td><td>${controls}</td></tr>`;
    })
    .join('');
  const single = view.singleStep;
  setHtml(document.getElementById('commission-note'), '');
  (document.getElementById('commission-grid') as HTMLElement).hidden = false;
  setHtml(
    document.getElementById('jog-limits'),
    `hold a button: reduced speed ${view.limits.jogSpeedMmS} mm/s, ${view.limits.jogJointSpeedRadS} rad/s; release stops`,
  );
  setHtml(
    document.getElementById('jog-status'),
    jog ? `Jogging ${esc(jog.device)}${jog.joint ? ` ${esc(jog.joint)}` : ''} ${jog.direction > 0 ? '+' : '−'} at ${jog.speed} ${esc(jog.unit)}` : manual ? 'No jog.' : 'Jog and teach need Manual mode.',
  );
  setHtml(document.getElementById('jog-table'), jogRows);
  for (const b of document.querySelectorAll<HTMLButtonElement>('#tab-commission button[data-teach]')) b.disabled = !manual || stale;
  setHtml(
    document.getElementById('teach-proposal'),
    teach
      ? `<p>Proposal <b>${esc(teach.id)}</b>: ${esc(teach.key)} = ${esc(JSON.stringify(teach.value))}</p><pre class="diff" data-testid="teach-diff">${esc(teach.diff)}</pre><div class="row"><button class="small" data-command="teach confirm ${esc(teach.id)}">Write to ${esc(teach.file.split('/').pop())}</button><button class="small" data-command="teach cancel">Cancel</button></div>`
      : '',
  );
  setHtml(
    document.getElementById('single-step'),
    single
      ? `<h2>Single-step</h2><div class="row"><button class="small" data-command="step" ${stale ? 'disabled' : ''}>Step</button><span data-testid="next-step">${single.nextStep ? `next: ${esc(single.nextStep.device)} ${esc(single.nextStep.step)}` : single.granted ? 'granted, waiting' : 'no step can start now'}</span></div>`
      : '',
  );
  (document.getElementById('force-inputs') as HTMLElement).hidden = !maintenance;
  setHtml(document.getElementById('io-hint'), maintenance ? 'force with a reason, for a limited time' : 'forcing needs Maintenance mode');
  setHtml(document.getElementById('io-table'), `<tr><th>Device</th><th>Channel</th><th></th><th>Value</th><th></th></tr>${ioRows}`);
}
