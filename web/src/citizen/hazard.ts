// The heavy-rain hazard map (docs/web.md): the municipality's published flood simulation
// (/app-config.json "hazard", a run of the digital twin) as a map layer -- the water depth
// classes as an image, the affected buildings outlined, a legend -- a warning on top, and its
// own page (#/hazard) with the figures and the affected buildings as text.
import L from 'leaflet';
import { clear, h } from '../shared/dom';
import { dateTime, number } from '../shared/format';
import { t } from '../shared/i18n';
import type { Entity } from '../shared/entity';
import { fetchKept } from './offline';

export interface HazardSummary {
  maxDepth?: number;
  floodedAreaM2?: number;
  rainDepthMm?: number;
  simulatedSeconds?: number;
  buildings?: number;
  affectedBuildings?: number;
}

export interface Hazard {
  scenario: string;
  name: string;
  run: string;
  ended?: string;
  bounds: [[number, number], [number, number]];
  image: string;
  polygons: string;
  buildings: string;
  summary: HazardSummary;
}

interface BuildingFeature {
  id?: string;
  properties?: { name?: string; maxDepth?: number; depthClass?: number };
  geometry?: unknown;
}

// The twin's depth classes 1-4 (docs/twin.md): 0.1-0.3, 0.3-0.5, 0.5-1, over 1 m.
export function depthBand(cls: number): string {
  const n = (v: number) => number(v, 1);
  return [`< ${n(0.1)} m`, `${n(0.1)}–${n(0.3)} m`, `${n(0.3)}–${n(0.5)} m`, `${n(0.5)}–${n(1)} m`, `> ${n(1)} m`][cls] ?? '';
}

// Gauges the twin writes for a scenario (`...:twin-<scenario>-<gauge>`) are simulated, not
// measured: they belong to the hazard map, not to the water-level layer or its warnings.
export function isSimulated(e: Entity): boolean {
  return e.id.includes(':twin-') || 'scenario' in e;
}

let buildingsOf: Promise<BuildingFeature[]> | undefined;
let buildingsRun = '';
function buildings(hz: Hazard): Promise<BuildingFeature[]> {
  if (!buildingsOf || buildingsRun !== hz.run) {
    buildingsRun = hz.run;
    buildingsOf = fetchKept(hz.buildings).then((r) => (r.ok ? r.json() : { features: [] }))
      .then((fc: { features?: BuildingFeature[] }) => fc.features ?? []).catch(() => []);
  }
  return buildingsOf;
}

// The layer: depth image and affected buildings (loaded after the map is interactive).
export function hazardLayer(hz: Hazard): L.LayerGroup {
  const group = L.layerGroup();
  L.imageOverlay(hz.image, hz.bounds, { alt: t('hazardMapAlt'), className: 'hazard-img', interactive: false }).addTo(group);
  void buildings(hz).then((list) => {
    const hit = list.filter((f) => (f.properties?.depthClass ?? 0) > 0);
    if (!hit.length) return;
    L.geoJSON({ type: 'FeatureCollection', features: hit } as GeoJSON.FeatureCollection, {
      interactive: false,
      style: (f) => ({ className: `hz-b hz-${f?.properties?.depthClass ?? 0}` }),
    }).addTo(group);
  });
  return group;
}

export function hazardLegend(): L.Control {
  const c = new L.Control({ position: 'bottomleft' });
  c.onAdd = () => h('div', { class: 'hz-legend' }, h('strong', {}, t('hazardLegend')),
    ...[1, 2, 3, 4].map((k) => h('span', { class: 'hz-row' }, h('span', { class: `hz-sw hz-${k}`, 'aria-hidden': 'true' }), depthBand(k))));
  return c;
}

export function hazardWarningText(hz: Hazard): string {
  const s = hz.summary;
  const facts = [s.affectedBuildings !== undefined ? `${s.affectedBuildings} ${t('hazardBuildings')}` : '',
    s.maxDepth !== undefined ? `${t('hazardMaxDepth')} ${number(s.maxDepth, 1)} m` : ''].filter(Boolean);
  return `${t('hazardWarning')}: ${hz.name}${facts.length ? ' – ' + facts.join(', ') : ''}`;
}

let pageMap: L.Map | undefined;

// Removes the map of the hazard page (when another view is shown).
export function closeHazardMap(): void {
  pageMap?.remove();
  pageMap = undefined;
}

// #/hazard: what was simulated, a map of just the simulated area, the figures, the legend and the
// affected buildings as text.
export async function hazardPage(main: HTMLElement, hz: Hazard | null): Promise<void> {
  document.title = `${t('hazardTitle')} – Allmende`;
  closeHazardMap();
  const back = h('a', { href: '#/', class: 'back' }, '← ' + t('back'));
  if (!hz) {
    clear(main, back, h('h1', {}, t('hazardTitle')), h('p', { class: 'muted' }, t('notFound')));
    return;
  }
  const s = hz.summary;
  const facts: [string, string | undefined][] = [
    [t('hazardRain'), s.rainDepthMm !== undefined ? `${number(s.rainDepthMm, 1)} mm` : undefined],
    [t('hazardMaxDepth'), s.maxDepth !== undefined ? `${number(s.maxDepth, 2)} m` : undefined],
    [t('hazardArea'), s.floodedAreaM2 !== undefined ? `${number(s.floodedAreaM2, 0)} m²` : undefined],
    [t('hazardBuildings'), s.affectedBuildings !== undefined ? `${s.affectedBuildings}${s.buildings ? ' / ' + s.buildings : ''}` : undefined],
    [t('hazardComputed'), hz.ended ? dateTime(hz.ended) : undefined],
  ];
  const list = h('div', {}, h('p', { class: 'loading' }, t('loading')));
  const mapEl = h('div', { class: 'map hz-map', role: 'region', 'aria-label': t('hazardMapAlt') });
  clear(main, back, h('h1', {}, t('hazardTitle')), h('p', { class: 'sub' }, hz.name), h('p', { class: 'hz-note' }, t('hazardSim')), mapEl,
    h('dl', { class: 'values' }, ...facts.filter(([, v]) => v).map(([k, v]) => h('div', { class: 'value' }, h('dt', {}, k), h('dd', {}, v!)))),
    h('h2', {}, t('hazardLegend')),
    h('ul', { class: 'hz-legend-list' }, ...[1, 2, 3, 4].map((k) => h('li', {}, h('span', { class: `hz-sw hz-${k}`, 'aria-hidden': 'true' }), ` ${t('depthClass')} ${k}: ${depthBand(k)}`))),
    h('h2', {}, t('hazardBuildings')), list);
  pageMap = L.map(mapEl, { keyboard: true, zoomSnap: 0.5 });
  pageMap.attributionControl.setPrefix(false);
  pageMap.fitBounds(hz.bounds);
  hazardLayer(hz).addTo(pageMap);
  hazardLegend().addTo(pageMap);
  const hit = (await buildings(hz)).filter((f) => (f.properties?.depthClass ?? 0) > 0)
    .sort((a, b) => (b.properties?.maxDepth ?? 0) - (a.properties?.maxDepth ?? 0));
  clear(list, hit.length ? h('table', { class: 'hz-table' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('building')), h('th', { scope: 'col' }, t('hazardMaxDepth')), h('th', { scope: 'col' }, t('depthClass')))),
    h('tbody', {}, ...hit.map((f) => h('tr', {}, h('td', {}, f.properties?.name || String(f.id ?? '')),
      h('td', {}, `${number(f.properties?.maxDepth ?? 0, 2)} m`), h('td', {}, `${f.properties?.depthClass} (${depthBand(f.properties?.depthClass ?? 0)})`)))))
    : h('p', { class: 'muted' }, t('hazardNone')));
}
