// A line chart of aggregated history: the average as a line, min..max as a band, optional
// threshold lines. Plain SVG (no library), with a text summary and a table for screen readers.
import { h } from './dom';
import { number, shortTime } from './format';
import { t } from './i18n';

export interface Period {
  start: number; // ms since 1970
  end: number;
  avg: number;
  min: number;
  max: number;
}

export interface Threshold {
  value: number;
  label: string;
  kind: 'warn' | 'alert';
}

const NS = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function ticks(lo: number, hi: number, n: number): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

export function chart(periods: Period[], unitText: string, caption: string, thresholds: Threshold[] = []): HTMLElement {
  const W = 360, H = 200, L = 44, R = 8, T = 10, B = 26;
  const from = periods[0].start, to = periods[periods.length - 1].end;
  let lo = Math.min(...periods.map((p) => p.min)), hi = Math.max(...periods.map((p) => p.max));
  for (const th of thresholds) if (th.value <= hi * 1.3 + 1e-9) { lo = Math.min(lo, th.value); hi = Math.max(hi, th.value); }
  const pad = (hi - lo) * 0.08 || 1;
  lo -= pad; hi += pad;
  const x = (ms: number) => L + ((ms - from) / (to - from || 1)) * (W - L - R);
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const mid = (p: Period) => (p.start + p.end) / 2;

  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': caption });
  for (const v of ticks(lo, hi, 4)) {
    root.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: L - 4, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, number(v, 2)));
  }
  const days = to - from > 36 * 3600e3;
  const xt = ticks(from, to, 4).length ? Array.from({ length: 4 }, (_, i) => from + ((i + 0.5) * (to - from)) / 4) : [];
  for (const ms of xt) root.append(svg('text', { x: x(ms), y: H - 8, class: 'tick', 'text-anchor': 'middle' }, shortTime(ms, days)));
  const band = periods.map((p) => `${x(mid(p))},${y(p.max)}`).concat(periods.slice().reverse().map((p) => `${x(mid(p))},${y(p.min)}`));
  root.append(svg('polygon', { points: band.join(' '), class: 'band' }));
  root.append(svg('polyline', { points: periods.map((p) => `${x(mid(p))},${y(p.avg)}`).join(' '), class: 'line' }));
  for (const th of thresholds) {
    root.append(svg('line', { x1: L, x2: W - R, y1: y(th.value), y2: y(th.value), class: `threshold ${th.kind}` }));
    root.append(svg('text', { x: W - R - 2, y: y(th.value) - 3, class: `tlabel ${th.kind}`, 'text-anchor': 'end' }, th.label));
  }
  if (unitText) root.append(svg('text', { x: 2, y: T + 2, class: 'tick unit' }, unitText));

  const rows = periods.map((p) => h('tr', {}, h('td', {}, shortTime(p.start, days) + (days ? '' : '')),
    h('td', {}, number(p.avg)), h('td', {}, number(p.min)), h('td', {}, number(p.max))));
  const table = h('details', { class: 'chart-table' }, h('summary', {}, t('table')),
    h('table', {}, h('caption', {}, caption),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('from')), h('th', { scope: 'col' }, t('average')),
        h('th', { scope: 'col' }, t('minimum')), h('th', { scope: 'col' }, t('maximum')))),
      h('tbody', {}, ...rows)));
  const fig = h('figure', { class: 'figure' });
  fig.append(root as unknown as Node, table);
  return fig;
}

// The history of a text-valued attribute (a state such as free/occupied): a strip with one
// segment per period in a state, the share of time in each state, and the changes as a table.
export interface Change {
  at: number; // ms since 1970
  value: string;
}

export function stateChart(changes: Change[], from: number, to: number, caption: string, show: (v: string) => string): HTMLElement {
  const W = 360, H = 34, L = 4, R = 4;
  const x = (ms: number) => L + ((Math.max(from, Math.min(to, ms)) - from) / (to - from || 1)) * (W - L - R);
  const values = [...new Set(changes.map((c) => c.value))];
  const share = new Map<string, number>();
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart states', role: 'img', 'aria-label': caption });
  changes.forEach((c, i) => {
    const end = i + 1 < changes.length ? changes[i + 1].at : to;
    const start = Math.max(c.at, from);
    if (end <= start) return;
    share.set(c.value, (share.get(c.value) ?? 0) + (end - start));
    root.append(svg('rect', { x: x(start), y: 4, width: Math.max(0.5, x(end) - x(start)), height: H - 16, class: `state s${values.indexOf(c.value) % 6}` }));
  });
  root.append(svg('text', { x: L, y: H - 1, class: 'tick' }, shortTime(from, to - from > 36 * 3600e3)));
  root.append(svg('text', { x: W - R, y: H - 1, class: 'tick', 'text-anchor': 'end' }, shortTime(to, to - from > 36 * 3600e3)));
  const total = [...share.values()].reduce((a, b) => a + b, 0) || 1;
  const legend = h('ul', { class: 'states-legend' }, ...values.map((v, i) => h('li', {},
    h('span', { class: `sw s${i % 6}`, 'aria-hidden': 'true' }), ` ${show(v)} ${number((100 * (share.get(v) ?? 0)) / total, 0)} %`)));
  const days = to - from > 36 * 3600e3;
  const table = h('details', { class: 'chart-table' }, h('summary', {}, t('table')),
    h('table', {}, h('caption', {}, caption),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('from')), h('th', { scope: 'col' }, t('value')))),
      h('tbody', {}, ...changes.map((c) => h('tr', {}, h('td', {}, shortTime(c.at, days) + (days ? ' ' + shortTime(c.at, false) : '')), h('td', {}, show(c.value)))))));
  const fig = h('figure', { class: 'figure' });
  fig.append(root as unknown as Node, legend, table);
  return fig;
}
