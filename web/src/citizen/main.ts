// The citizen app: the map of the municipality's public layers with warnings on top, and a
// page per entity. Routes live in the URL's fragment, so every view has a shareable link:
// #/ (map), #/e/<type>/<id> (entity page); ?t=<tenant> chooses the municipality.
import './style.css';
import { Api } from '../shared/api';
import { $, clear, focusMain, h } from '../shared/dom';
import { bindLangButton, label, t } from '../shared/i18n';
import { distance, metres } from '../shared/format';
import { position, type Entity } from '../shared/entity';
import { createMap, entityHref, type MapView } from './map';
import { look, placeName } from './layers';
import { entityPage } from './entity';
import { layerTypes, loadConfig, loadLayer, type AppConfig } from './state';
import { warningsOf } from './warnings';
import { fetchKept, kept } from './offline';
import { closeHazardMap, hazardPage, hazardWarningText, isSimulated } from './hazard';

let config: AppConfig;
let api: Api;
const byType = new Map<string, Entity[]>();
const hidden = new Set<string>(JSON.parse(localStorage.getItem('allmende.hidden') || '[]') as string[]);
let here: [number, number] | undefined;
let mapView: MapView | undefined;
let loaded: Promise<void> | undefined;

let failedLayers = 0;

async function loadAll(): Promise<void> {
  await Promise.all(layerTypes(config).map(async (type) => {
    try {
      byType.set(type, (await loadLayer(api, type)).filter((e) => !isSimulated(e)));
    } catch {
      byType.set(type, []); // not public here, or unavailable: the layer stays empty
      failedLayers++;
    }
  }));
}

function visible(): Entity[] {
  const out: Entity[] = [];
  for (const [type, list] of byType) if (!hidden.has(type)) out.push(...list);
  return out;
}

function warningsSection(): HTMLElement {
  const all: Entity[] = [...byType.values()].flat();
  const ws = warningsOf(all);
  const section = h('section', { class: 'warnings', 'aria-labelledby': 'warn-h' },
    h('h2', { id: 'warn-h' }, t('warnings')));
  const items = ws.map((w) => h('li', { class: `warning ${w.severity}` }, h('a', { href: entityHref(w.entity) }, w.text)));
  // The simulated flood: after the measured warnings, marked as a simulation.
  if (config.hazard) items.push(h('li', { class: 'warning warn sim' }, h('a', { href: '#/hazard' }, hazardWarningText(config.hazard))));
  if (!items.length) section.append(h('p', { class: 'muted' }, t('noWarnings')));
  else section.append(h('ul', {}, ...items));
  return section;
}

function listSection(): HTMLElement {
  let items = visible().map((e) => ({ e, d: here && position(e) ? metres(here, position(e)!) : undefined }));
  if (here) items.sort((a, b) => (a.d ?? Infinity) - (b.d ?? Infinity));
  else items.sort((a, b) => a.e.type.localeCompare(b.e.type) || placeName(a.e).localeCompare(placeName(b.e), undefined, { numeric: true }));
  return h('section', { class: 'places', 'aria-labelledby': 'list-h' }, h('h2', { id: 'list-h' }, t('list')),
    h('ul', { class: 'list' }, ...items.map(({ e, d }) => {
      const lk = look(e.type);
      return h('li', {}, h('a', { href: entityHref(e) },
        h('span', { class: `dot st-${lk.state(e)}`, 'aria-hidden': 'true' }, lk.symbol),
        h('span', { class: 'name' }, placeName(e)),
        h('span', { class: 'meta' }, `${label(e.type)}${lk.summary(e) ? ' · ' + lk.summary(e) : ''}${d !== undefined ? ' · ' + distance(d) : ''}`)));
    })));
}

function hazardChip(onChange: () => void): HTMLElement | null {
  if (!config.hazard) return null;
  return h('span', { class: 'chip' },
    h('input', { type: 'checkbox', id: 'layer-hazard', checked: !hidden.has('hazard'), onchange: (ev: Event) => {
      if ((ev.target as HTMLInputElement).checked) hidden.delete('hazard');
      else hidden.add('hazard');
      localStorage.setItem('allmende.hidden', JSON.stringify([...hidden]));
      onChange();
    } }),
    h('label', { for: 'layer-hazard' }, h('span', { class: 'swatch hz-3', 'aria-hidden': 'true' }), t('hazardLayer')));
}

function layerControls(onChange: () => void): HTMLElement {
  return h('fieldset', { class: 'layers' }, h('legend', {}, t('layers')), h('div', { class: 'chips' }, hazardChip(onChange),
    ...layerTypes(config).map((type) => {
      const id = `layer-${type}`;
      const count = byType.get(type)?.length ?? 0;
      return h('span', { class: 'chip' },
        h('input', { type: 'checkbox', id, checked: !hidden.has(type), onchange: (ev: Event) => {
          if ((ev.target as HTMLInputElement).checked) hidden.delete(type);
          else hidden.add(type);
          localStorage.setItem('allmende.hidden', JSON.stringify([...hidden]));
          onChange();
        } }),
        h('label', { for: id }, h('span', { class: `swatch ty-${type}`, 'aria-hidden': 'true' }), `${label(type)} (${count})`));
    })));
}

async function mapPage(main: HTMLElement): Promise<void> {
  document.title = `${config.name || 'Allmende'} – Allmende`;
  if (!loaded) loaded = loadAll();
  clear(main, h('p', { class: 'loading' }, t('loading')));
  await loaded;
  const mapEl = h('div', { id: 'map', class: 'map', role: 'region', 'aria-label': t('mapLabel') });
  const status = h('p', { class: 'status', role: 'status' });
  let list = listSection();
  const refresh = () => {
    mapView?.show(visible());
    mapView?.showHazard(!hidden.has('hazard'));
    const next = listSection();
    list.replaceWith(next);
    list = next;
  };
  const near = h('button', { type: 'button', class: 'btn', onclick: () => {
    navigator.geolocation?.getCurrentPosition((p) => {
      here = [p.coords.longitude, p.coords.latitude];
      mapView?.locate(here);
      status.textContent = '';
      refresh();
    }, () => { status.textContent = t('nearMeFailed'); }, { timeout: 10000 });
  } }, t('nearMe'));
  const nothing = failedLayers === layerTypes(config).length ? h('p', { class: 'error', role: 'alert' }, t('noData')) : null;
  clear(main, h('h1', { class: 'vh' }, config.name || 'Allmende'), nothing, warningsSection(), layerControls(refresh), mapEl,
    h('div', { class: 'tools' }, near, status), list);
  mapView?.destroy();
  mapView = createMap(mapEl, config);
  mapView.show(visible());
  mapView.showHazard(!hidden.has('hazard'));
  if (here) mapView.locate(here);
}

// `moveFocus`: after a change of view (not at the first load, where the page starts at the top).
async function route(moveFocus = true): Promise<void> {
  const main = $('main');
  const m = location.hash.match(/^#\/e\/([^/]+)\/(.+)$/);
  if (location.hash === '#/hazard') {
    mapView?.destroy();
    mapView = undefined;
    await hazardPage(main, config.hazard ?? null);
  } else if (m) {
    closeHazardMap();
    mapView?.destroy();
    mapView = undefined;
    await entityPage(main, api, decodeURIComponent(m[1]), decodeURIComponent(m[2]));
  } else {
    closeHazardMap();
    await mapPage(main);
  }
  if (moveFocus) focusMain();
}

function renderChrome(): void {
  $('town').textContent = config?.name || 'Allmende';
  (document.querySelector('.skip') as HTMLElement).textContent = t('skip');
  $('foot').textContent = `Allmende · ${t('privacy')}`;
  if (!navigator.onLine) $('foot').textContent = t('offline');
}

async function start(): Promise<void> {
  bindLangButton($('lang'), () => { renderChrome(); void route(false); });
  try {
    config = await loadConfig();
  } catch {
    config = { tenant: '', name: '', area: null, tiles: null, authRequired: false, layers: null };
  }
  api = new Api({ tenant: config.tenant });
  const tenant = config.tenant;
  api.fetcher = (url, init) => fetchKept(url, init, tenant);
  renderChrome();
  window.addEventListener('hashchange', () => void route());
  window.addEventListener('online', renderChrome);
  window.addEventListener('offline', renderChrome);
  await route(false);
  performance.mark('allmende-rendered'); // map, warnings and list shown: bench/web_tti measures this
  await kept(); // the answers shown are stored (written while the page rendered)
  document.body.dataset.ready = 'true'; // tests (and bench/web_tti, before it reads the mark) wait for this
  if ('serviceWorker' in navigator && location.protocol !== 'file:') {
    navigator.serviceWorker.register('/sw.js').catch(() => undefined);
  }
}

void start();
