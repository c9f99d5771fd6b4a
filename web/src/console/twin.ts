// The console's twin page (docs/twin.md, docs/web.md): the tenant's heavy-rain scenarios (start a
// run, publish one for the citizen app), its runs with live progress, and a run's results on a
// map -- or two runs side by side with their figures and the buildings whose depth class differs.
// Routes: #/twin, #/twin/<runId>, #/twin/<runId>?compare=<runId>.
import type * as Leaflet from 'leaflet';
import { Api, ApiError } from '../shared/api';
import { clear, h } from '../shared/dom';
import { dateTime, number } from '../shared/format';
import { t } from '../shared/i18n';

const TWIN = '/twin/v1';
const POLL_MS = 2000;

interface Scenario { id: string; definition?: { name?: string; public?: boolean; [k: string]: unknown }; inputs?: Record<string, string> }
interface Progress { fraction?: number; simulatedSeconds?: number; endSeconds?: number; etaSeconds?: number; steps?: number }
interface Run { id: string; scenario: string; state: string; createdAt?: string; endedAt?: string; error?: string; cancelRequested?: boolean; progress?: Progress }
interface Summary { maxDepth?: number; floodedAreaM2?: number; rainDepthMm?: number; buildings?: number; affectedBuildings?: number; massError?: number; steps?: number; wallSeconds?: number }
interface Results { run: string; summary: Summary; overlay?: { image: string; bounds: [[number, number], [number, number]]; polygons: string; buildings: string } }
interface Building { id?: string; properties?: { name?: string; maxDepth?: number; depthClass?: number } }

function problemText(err: unknown): string {
  if (err instanceof ApiError) return `${err.status} ${err.problem.title ?? ''}: ${err.problem.detail ?? ''}`;
  return err instanceof Error ? err.message : String(err);
}

const active = (r: Run) => r.state === 'queued' || r.state === 'running' || r.state === 'created';

function progressCell(r: Run): Node {
  const p = r.progress ?? {};
  if (r.state === 'succeeded') return h('span', {}, '100 %');
  if (r.state !== 'running') return h('span', { class: 'muted' }, r.error ?? '–');
  const pct = Math.round((p.fraction ?? 0) * 100);
  const eta = p.etaSeconds !== undefined ? ` · ETA ${Math.round(p.etaSeconds)} s` : '';
  return h('span', { class: 'prog' }, h('progress', { max: 100, value: pct, 'aria-label': `${t('progress')} ${r.id}` }), ` ${pct} %${eta}`);
}

// An image of the API (which needs the key) as a data: URL, which the CSP allows for images.
async function imageUrl(api: Api, path: string): Promise<string> {
  const res = await fetch(path, { headers: api.headers(false, { Accept: 'image/png' }) });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  const blob = await res.blob();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

// One run's results on a map: the depth image and the buildings with their depth class.
async function resultMap(L: typeof Leaflet, el: HTMLElement, api: Api, r: Results, buildings: Building[]): Promise<Leaflet.Map> {
  const map = L.map(el, { attributionControl: false, keyboard: true });
  if (r.overlay) {
    map.fitBounds(r.overlay.bounds);
    L.imageOverlay(await imageUrl(api, r.overlay.image), r.overlay.bounds, { alt: `${t('results')} ${r.run}`, className: 'hazard-img' }).addTo(map);
    L.geoJSON({ type: 'FeatureCollection', features: buildings } as GeoJSON.FeatureCollection, {
      style: (f) => ({ className: `hz-b hz-${f?.properties?.depthClass ?? 0}` }),
      onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties?.name ?? f.id}: ${number(f.properties?.maxDepth ?? 0, 2)} m`),
    }).addTo(map);
  } else {
    map.setView([51.1, 10.4], 6);
  }
  return map;
}

async function loadResults(api: Api, id: string): Promise<{ results: Results; buildings: Building[] }> {
  const results = await api.get<Results>(`${TWIN}/runs/${encodeURIComponent(id)}/results`);
  const fc = results.overlay ? await api.get<{ features?: Building[] }>(results.overlay.buildings) : { features: [] };
  return { results, buildings: fc.features ?? [] };
}

const figures: [keyof Summary, string, (v: number) => string][] = [
  ['rainDepthMm', 'hazardRain', (v) => `${number(v, 1)} mm`],
  ['maxDepth', 'hazardMaxDepth', (v) => `${number(v, 2)} m`],
  ['floodedAreaM2', 'hazardArea', (v) => `${number(v, 0)} m²`],
  ['affectedBuildings', 'hazardBuildings', (v) => String(v)],
  ['massError', 'massError', (v) => v.toExponential(1)],
];

function summaryTable(a: Results, b?: Results): HTMLElement {
  const head = [h('th', { scope: 'col' }, ''), h('th', { scope: 'col' }, a.run), b ? h('th', { scope: 'col' }, b.run) : null,
    b ? h('th', { scope: 'col' }, t('difference')) : null];
  const rows = figures.map(([k, key, fmt]) => {
    const va = a.summary[k], vb = b?.summary[k];
    const diff = va !== undefined && vb !== undefined && k !== 'massError' ? (vb - va >= 0 ? '+' : '') + fmt(vb - va) : '';
    return h('tr', {}, h('th', { scope: 'row' }, key === 'massError' ? 'mass error' : t(key as never)),
      h('td', {}, va !== undefined ? fmt(va) : '–'), b ? h('td', {}, vb !== undefined ? fmt(vb) : '–') : null, b ? h('td', {}, diff) : null);
  });
  return h('table', { class: 'twin-summary' }, h('caption', { class: 'vh' }, t('results')), h('thead', {}, h('tr', {}, ...head)), h('tbody', {}, ...rows));
}

// The buildings whose depth class differs between two runs.
function buildingDiff(a: Building[], b: Building[]): HTMLElement {
  const key = (f: Building) => String(f.id ?? f.properties?.name ?? '');
  const other = new Map(b.map((f) => [key(f), f]));
  const rows = a.filter((f) => (other.get(key(f))?.properties?.depthClass ?? 0) !== (f.properties?.depthClass ?? 0)).map((f) => {
    const g = other.get(key(f));
    return h('tr', {}, h('td', {}, f.properties?.name ?? key(f)), h('td', {}, String(f.properties?.depthClass ?? 0)),
      h('td', {}, String(g?.properties?.depthClass ?? 0)), h('td', {}, `${number(f.properties?.maxDepth ?? 0, 2)} → ${number(g?.properties?.maxDepth ?? 0, 2)} m`));
  });
  if (!rows.length) return h('p', { class: 'muted' }, t('nothing'));
  return h('table', { class: 'twin-diff' }, h('caption', {}, `${t('building')}: ${t('depthClass')}`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('building')), h('th', { scope: 'col' }, 'A'), h('th', { scope: 'col' }, 'B'), h('th', { scope: 'col' }, t('hazardMaxDepth')))),
    h('tbody', {}, ...rows));
}

async function resultsSection(api: Api, id: string, compare: string | undefined, runs: Run[]): Promise<HTMLElement> {
  const done = runs.filter((r) => r.state === 'succeeded' && r.id !== id);
  const select = h('select', { id: 'twin-compare' }, h('option', { value: '' }, t('noCompare')),
    ...done.map((r) => h('option', { value: r.id, selected: r.id === compare }, `${r.id} (${r.scenario})`)));
  select.addEventListener('change', () => {
    location.hash = `#/twin/${encodeURIComponent(id)}${select.value ? '?compare=' + encodeURIComponent(select.value) : ''}`;
  });
  const section = h('section', { class: 'card', 'aria-labelledby': 'twin-res' }, h('h2', { id: 'twin-res' }, `${t('results')}: ${id}`),
    h('p', { class: 'field' }, h('label', { for: 'twin-compare' }, t('compareWith')), select));
  const [{ default: L }, a, b] = await Promise.all([import('leaflet'), loadResults(api, id), compare ? loadResults(api, compare) : undefined,
    import('leaflet/dist/leaflet.css')]);
  const maps = h('div', { class: b ? 'twin-maps two' : 'twin-maps' });
  const elA = h('div', { class: 'twinmap', role: 'region', 'aria-label': `${t('results')} ${id}` });
  const elB = b ? h('div', { class: 'twinmap', role: 'region', 'aria-label': `${t('results')} ${compare}` }) : null;
  maps.append(elA);
  if (elB) maps.append(elB);
  section.append(summaryTable(a.results, b?.results), maps);
  if (b) section.append(h('h3', {}, t('difference')), buildingDiff(a.buildings, b.buildings));
  // The maps need their size: made once the section is in the page (see twin view).
  (section as HTMLElement & { mount?: () => Promise<void> }).mount = async () => {
    const mapA = await resultMap(L, elA, api, a.results, a.buildings);
    if (elB && b) {
      const mapB = await resultMap(L, elB, api, b.results, b.buildings);
      let syncing = false;
      const sync = (from: Leaflet.Map, to: Leaflet.Map) => from.on('moveend', () => {
        if (syncing) return;
        syncing = true;
        to.setView(from.getCenter(), from.getZoom(), { animate: false });
        syncing = false;
      });
      sync(mapA, mapB);
      sync(mapB, mapA);
    }
    section.dataset.ready = 'true';
  };
  return section;
}

export async function twinView(main: HTMLElement, api: Api, arg?: string): Promise<void> {
  const compare = new URLSearchParams(location.hash.split('?')[1] ?? '').get('compare') ?? undefined;
  const [scenarios, runs] = await Promise.all([api.get<Scenario[]>(`${TWIN}/scenarios`), api.get<Run[]>(`${TWIN}/runs`)]);
  const error = h('p', { id: 'twin-error', class: 'error', role: 'alert' });
  const fail = (err: unknown) => { error.textContent = problemText(err); };
  const rerender = () => twinView(main, api, arg).catch(fail);

  const scenarioRows = scenarios.map((s) => {
    const pubId = `pub-${s.id}`;
    const pub = h('input', { type: 'checkbox', id: pubId, checked: !!s.definition?.public, onchange: async () => {
      try {
        // PUT replaces the definition (docs/twin.md); "public" shows its runs in the citizen app.
        await api.call('PUT', `${TWIN}/scenarios/${encodeURIComponent(s.id)}`, undefined, { ...s.definition, public: pub.checked });
      } catch (err) {
        pub.checked = !pub.checked;
        fail(err);
      }
    } });
    return [s.id, String(s.definition?.name ?? ''), Object.keys(s.inputs ?? {}).join(', '),
      h('span', { class: 'check' }, pub, ' ', h('label', { for: pubId }, t('publishScenario'))),
      h('button', { type: 'button', class: 'btn', 'aria-label': `${t('startRun')}: ${s.id}`, onclick: async () => {
        try {
          await api.call('POST', `${TWIN}/runs`, undefined, { scenario: s.id });
          await rerender();
        } catch (err) {
          fail(err);
        }
      } }, t('startRun'))];
  });
  const runRows = runs.map((r) => [
    r.state === 'succeeded' ? h('a', { href: `#/twin/${encodeURIComponent(r.id)}` }, r.id) : r.id,
    r.scenario, h('span', { class: `run-state st-${r.state}` }, r.state + (r.cancelRequested ? ' (…)' : '')), progressCell(r),
    r.createdAt ? dateTime(r.createdAt) : '–',
    active(r) && !r.cancelRequested ? h('button', { type: 'button', class: 'linkbtn', 'aria-label': `${t('cancelRun')} ${r.id}`, onclick: async () => {
      try {
        await api.call('POST', `${TWIN}/runs/${encodeURIComponent(r.id)}/cancel`);
        await rerender();
      } catch (err) {
        fail(err);
      }
    } }, t('cancelRun'))
      : r.state === 'succeeded' ? h('a', { href: `#/twin/${encodeURIComponent(r.id)}` }, t('showOnMap')) : ''] as (Node | string)[]);

  const tableOf = (headers: string[], rows: (Node | string)[][], caption: string) => rows.length
    ? h('table', {}, h('caption', { class: 'vh' }, caption), h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))))
    : h('p', { class: 'muted' }, t('nothing'));
  const runsBox = h('div', { 'aria-live': 'polite' }, tableOf(['id', t('scenario'), t('state'), t('progress'), t('created'), ''], runRows, t('runs')));
  const shown = arg ?? runs.find((r) => r.state === 'succeeded')?.id;
  let results: HTMLElement | null = null;
  if (shown) {
    try {
      results = await resultsSection(api, shown, compare, runs);
    } catch (err) {
      results = h('p', { class: 'error' }, problemText(err));
    }
  }
  clear(main, h('h1', {}, t('twin')), error,
    h('h2', {}, t('scenarios')), tableOf(['id', t('name'), 'Inputs', t('published'), ''], scenarioRows, t('scenarios')),
    h('h2', {}, t('runs')), runsBox, results);
  await (results as (HTMLElement & { mount?: () => Promise<void> }) | null)?.mount?.();

  // Live progress: the runs table is read again while a run is queued or running and this view
  // is still shown; when one ends, the whole view (with its results) is made again.
  if (runs.some(active)) {
    const stamp = runsBox;
    const poll = async () => {
      if (!stamp.isConnected) return;
      try {
        const now = await api.get<Run[]>(`${TWIN}/runs`);
        if (!stamp.isConnected) return;
        const ended = runs.some((r) => active(r) && !active(now.find((n) => n.id === r.id) ?? r));
        if (ended || now.length !== runs.length) return void rerender();
        for (const r of now) {
          const row = [...runsBox.querySelectorAll('tbody tr')].find((tr) => tr.firstElementChild?.textContent === r.id);
          if (!row) continue;
          row.children[2].textContent = r.state + (r.cancelRequested ? ' (…)' : '');
          clear(row.children[3], progressCell(r));
        }
      } catch {
        /* the next poll tries again */
      }
      setTimeout(() => void poll(), POLL_MS);
    };
    setTimeout(() => void poll(), POLL_MS);
  }
}
