// The entity page: current values with units, last update and freshness, and the history of
// each observed number as a chart (the temporal API's avg/min/max per period) and of each
// observed text (a state such as free/occupied) as a strip of its states over the period.
import { Api, ApiError, NGSI, entityPath } from '../shared/api';
import { chart, stateChart, type Change, type Period, type Threshold } from '../shared/chart';
import { clear, h } from '../shared/dom';
import { attr, attributes, lastObserved, num, type Attribute, type Entity } from '../shared/entity';
import { ago, dateTime, number, unit } from '../shared/format';
import { label, t, type Key } from '../shared/i18n';
import { look, placeName } from './layers';

const STALE_MS = 3 * 3600e3; // older observations are marked stale

interface Range {
  key: Key;
  hours: number;
  period: string; // aggrPeriodDuration
}
const ranges: Range[] = [
  { key: 'h24', hours: 24, period: 'PT1H' },
  { key: 'd7', hours: 168, period: 'PT6H' },
  { key: 'd30', hours: 720, period: 'P1D' },
];
let rangeIndex = 0;

function showValue(a: Attribute): string {
  const v = a.value ?? a.object;
  if (typeof v === 'number') return `${number(v)}${unit(a.unitCode) ? ' ' + unit(a.unitCode) : ''}`;
  if (typeof v === 'string') return label(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? label(x) : JSON.stringify(x))).join(', ');
  return v === undefined ? '' : JSON.stringify(v);
}

function freshness(at: string | undefined): HTMLElement | null {
  if (!at) return null;
  const stale = Date.now() - Date.parse(at) > STALE_MS;
  return h('span', { class: `fresh ${stale ? 'stale' : 'ok'}` }, `${t('lastUpdate')}: `,
    h('time', { datetime: at, title: dateTime(at) }, ago(at)), ` (${stale ? t('stale') : t('fresh')})`);
}

function thresholds(e: Entity, name: string): Threshold[] {
  if (e.type !== 'FloodMonitoring' || name !== 'currentLevel') return [];
  const out: Threshold[] = [];
  const alert = num(e, 'alertLevel');
  const danger = num(e, 'dangerLevel');
  if (alert !== undefined) out.push({ value: alert, label: t('alertLevel'), kind: 'warn' });
  if (danger !== undefined) out.push({ value: danger, label: t('dangerLevel'), kind: 'alert' });
  return out;
}

type Aggregated = Record<string, { avg?: [number, string, string][]; min?: [number, string, string][]; max?: [number, string, string][] }>;

function periodsOf(a: Aggregated[string] | undefined): Period[] {
  if (!a?.avg) return [];
  const byStart = (list?: [number, string, string][]) => new Map((list ?? []).map((x) => [x[1], x[0]]));
  const mins = byStart(a.min), maxs = byStart(a.max);
  return a.avg.filter((x) => typeof x[0] === 'number').map((x) => ({
    start: Date.parse(x[1]), end: Date.parse(x[2]), avg: x[0], min: mins.get(x[1]) ?? x[0], max: maxs.get(x[1]) ?? x[0],
  }));
}

function trend(p: Period[]): string | null {
  if (p.length < 3) return null;
  const d = p[p.length - 1].avg - p[p.length - 3].avg;
  const scale = Math.max(...p.map((x) => x.max)) - Math.min(...p.map((x) => x.min)) || 1;
  return Math.abs(d) < scale * 0.03 ? t('trendSteady') : d > 0 ? t('trendRising') : t('trendFalling');
}

type Raw = Record<string, { values?: [unknown, string][] } | { values?: [unknown, string][] }[]>;

// The changes of text attributes over the period (the raw history: texts are not aggregated).
async function textHistory(api: Api, e: Entity, names: string[], since: Date): Promise<Map<string, Change[]>> {
  const out = new Map<string, Change[]>();
  if (!names.length) return out;
  const data = await api.get<Raw>(`${NGSI}/temporal/entities/${encodeURIComponent(e.id)}`, {
    type: e.type, attrs: names.join(','), options: 'temporalValues', timerel: 'after', timeAt: since.toISOString(),
  });
  for (const name of names) {
    const a = data[name];
    const values = (Array.isArray(a) ? a[0]?.values : a?.values) ?? [];
    const changes: Change[] = [];
    for (const [v, at] of values.map(([v, at]) => [v, Date.parse(at)] as const).sort((p, q) => p[1] - q[1])) {
      if (typeof v !== 'string' || Number.isNaN(at)) continue;
      if (!changes.length || changes[changes.length - 1].value !== v) changes.push({ at, value: v });
    }
    out.set(name, changes);
  }
  return out;
}

async function renderHistory(api: Api, e: Entity, observed: Observed, box: HTMLElement): Promise<void> {
  const names = observed.numbers;
  const r = ranges[rangeIndex];
  clear(box, h('p', { class: 'loading' }, t('loading')));
  const since = new Date(Date.now() - r.hours * 3600e3);
  since.setUTCMinutes(0, 0, 0);
  let data: Aggregated = {};
  let texts: Map<string, Change[]>;
  try {
    [data, texts] = await Promise.all([names.length ? api.get<Aggregated>(`${NGSI}/temporal/entities/${encodeURIComponent(e.id)}`, {
      type: e.type, attrs: names.join(','), options: 'aggregatedValues', aggrMethods: 'avg,min,max',
      aggrPeriodDuration: r.period, timerel: 'after', timeAt: since.toISOString(),
    }) : Promise.resolve({}), textHistory(api, e, observed.texts, since)]);
  } catch (err) {
    clear(box, h('p', { class: 'error', role: 'status' }, t('error')));
    return;
  }
  clear(box);
  for (const name of names) {
    const periods = periodsOf(data[name]);
    const a = attr(e, name)!;
    const heading = h('h3', {}, label(name));
    if (!periods.length) {
      box.append(heading, h('p', { class: 'muted' }, t('noHistory')));
      continue;
    }
    const tr = trend(periods);
    if (tr && r.hours === 24) heading.append(h('span', { class: 'trend' }, ` (${tr})`));
    const caption = `${label(name)}, ${t(r.key)}: ${t('average')} ${number(periods[periods.length - 1].avg)} ${unit(a.unitCode)}`;
    box.append(heading, chart(periods, unit(a.unitCode), caption, thresholds(e, name)));
  }
  for (const name of observed.texts) {
    const changes = texts.get(name) ?? [];
    const heading = h('h3', {}, label(name));
    if (!changes.length) {
      box.append(heading, h('p', { class: 'muted' }, t('noHistory')));
      continue;
    }
    box.append(heading, stateChart(changes, since.getTime(), Date.now(), `${label(name)}, ${t(r.key)}`, label));
  }
}

interface Observed {
  numbers: string[];
  texts: string[];
}

export async function entityPage(main: HTMLElement, api: Api, type: string, id: string): Promise<void> {
  clear(main, h('p', { class: 'loading' }, t('loading')));
  let e: Entity;
  try {
    e = await api.get<Entity>(entityPath(id), { type });
  } catch (err) {
    const missing = err instanceof ApiError && err.status === 404;
    clear(main, h('a', { href: '#/', class: 'back' }, '← ' + t('back')),
      h('h1', {}, label(type)), h('p', { class: 'error', role: 'alert' }, missing ? t('notFound') : t('error')));
    return;
  }
  document.title = `${placeName(e)} – Allmende`;
  const lk = look(e.type);
  const state = lk.state(e);
  const share = h('button', { type: 'button', class: 'btn', onclick: () => void shareLink(share) }, t('share'));
  const values = h('dl', { class: 'values' });
  for (const [name, a] of attributes(e)) {
    if (name === 'location' || name === 'name' || a.type === 'Relationship' || a.type === 'GeoProperty') continue;
    values.append(h('div', { class: 'value' }, h('dt', {}, label(name)), h('dd', {}, showValue(a),
      a.observedAt ? h('small', {}, ' · ', h('time', { datetime: a.observedAt, title: dateTime(a.observedAt) }, ago(a.observedAt))) : null)));
  }
  const observedOf = (kind: string) => attributes(e).filter(([, a]) => typeof a.value === kind && a.observedAt).map(([n]) => n);
  const observed: Observed = { numbers: observedOf('number'), texts: observedOf('string') };
  const hasHistory = observed.numbers.length + observed.texts.length > 0;
  const historyBox = h('div', { class: 'history', 'aria-live': 'polite' });
  const rangeGroup = h('div', { class: 'seg', role: 'group', 'aria-label': t('range') });
  const renderRanges = () => {
    clear(rangeGroup, ...ranges.map((r, i) => h('button', {
      type: 'button', class: 'segbtn', 'aria-pressed': String(i === rangeIndex),
      onclick: () => { rangeIndex = i; renderRanges(); void renderHistory(api, e, observed, historyBox); },
    }, t(r.key))));
  };
  renderRanges();
  clear(main,
    h('a', { href: '#/', class: 'back' }, '← ' + t('back')),
    h('h1', {}, placeName(e)),
    h('p', { class: 'sub' }, h('span', { class: `badge st-${state}` }, label(e.type)), ' ', lk.summary(e)),
    h('p', {}, freshness(lastObserved(e))),
    h('p', {}, share),
    h('section', { 'aria-labelledby': 'cv' }, h('h2', { id: 'cv' }, t('currentValues')), values),
    hasHistory ? h('section', { 'aria-labelledby': 'hist' }, h('h2', { id: 'hist' }, t('history')), rangeGroup, historyBox) : null,
  );
  if (hasHistory) await renderHistory(api, e, observed, historyBox);
}

async function shareLink(button: HTMLElement): Promise<void> {
  const url = location.href;
  try {
    if (navigator.share) await navigator.share({ url, title: document.title });
    else {
      await navigator.clipboard.writeText(url);
      button.textContent = t('copied');
    }
  } catch {
    /* the user cancelled */
  }
}
