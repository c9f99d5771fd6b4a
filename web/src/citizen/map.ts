// The map: Leaflet with the deployment's base map (or none: the municipality's outline and the
// data only), one marker per entity, and markers that would overlap grouped into clusters.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { t, label } from '../shared/i18n';
import { position, type Entity } from '../shared/entity';
import { look, placeName } from './layers';
import type { AppConfig } from './state';
import { hazardLayer, hazardLegend } from './hazard';

const CELL = 48; // px: markers closer than this at the current zoom form a cluster

export interface MapView {
  show(entities: Entity[]): void;
  showHazard(on: boolean): void;
  locate(at: [number, number]): void;
  destroy(): void;
}

export function entityHref(e: Entity): string {
  return `#/e/${encodeURIComponent(e.type)}/${encodeURIComponent(e.id)}`;
}

// A marker acts on a click, and on Enter or Space when it has the keyboard focus (Leaflet makes
// markers focusable but only opens popups by keyboard).
function activate(m: L.Marker, action: () => void): void {
  m.on('click', action);
  m.on('keypress', (ev) => {
    const key = (ev as L.LeafletKeyboardEvent).originalEvent.key;
    if (key === 'Enter' || key === ' ') action();
  });
}

export function createMap(el: HTMLElement, config: AppConfig): MapView {
  const map = L.map(el, { zoomControl: true, attributionControl: true, keyboard: true, zoomSnap: 0.5 });
  map.attributionControl.setPrefix(false);
  if (config.tiles) {
    L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution, maxZoom: config.tiles.maxZoom }).addTo(map);
  } else {
    map.attributionControl.addAttribution(t('noBaseMap'));
  }
  let outline: L.GeoJSON | undefined;
  if (config.area) {
    outline = L.geoJSON(config.area as GeoJSON.GeoJsonObject, { interactive: false, style: { className: 'outline' } }).addTo(map);
  }
  // The hazard map lies under the markers (an image pane below the marker pane).
  const hazard = config.hazard ? hazardLayer(config.hazard) : undefined;
  const legend = config.hazard ? hazardLegend() : undefined;
  const markers = L.layerGroup().addTo(map);
  let current: Entity[] = [];
  let me: L.CircleMarker | undefined;
  let fitted = false;

  const render = () => {
    markers.clearLayers();
    const cells = new Map<string, Entity[]>();
    for (const e of current) {
      const p = position(e);
      if (!p) continue;
      const pt = map.project([p[1], p[0]], map.getZoom());
      const key = `${Math.floor(pt.x / CELL)}:${Math.floor(pt.y / CELL)}`;
      const list = cells.get(key);
      if (list) list.push(e);
      else cells.set(key, [e]);
    }
    for (const group of cells.values()) {
      if (group.length === 1 || map.getZoom() >= map.getMaxZoom()) {
        for (const e of group) markers.addLayer(marker(e));
      } else {
        markers.addLayer(cluster(group));
      }
    }
  };

  const marker = (e: Entity) => {
    const p = position(e)!;
    const lk = look(e.type);
    const summary = lk.summary(e);
    const m = L.marker([p[1], p[0]], {
      icon: L.divIcon({ className: `mk ty-${e.type} st-${lk.state(e)}`, html: `<span aria-hidden="true">${lk.symbol}</span>`, iconSize: [30, 30] }),
      title: `${placeName(e)}${summary ? ' – ' + summary : ''} (${label(e.type)})`,
      alt: placeName(e),
      keyboard: true,
      riseOnHover: true,
    });
    activate(m, () => { location.hash = entityHref(e); });
    return m;
  };

  const cluster = (group: Entity[]) => {
    const bounds = L.latLngBounds(group.map((e) => { const p = position(e)!; return [p[1], p[0]] as [number, number]; }));
    const worst = group.map((e) => look(e.type).state(e)).includes('alert') ? 'alert'
      : group.map((e) => look(e.type).state(e)).includes('warn') ? 'warn' : 'ok';
    const m = L.marker(bounds.getCenter(), {
      icon: L.divIcon({ className: `mk cluster st-${worst}`, html: `<span>${group.length}</span>`, iconSize: [36, 36] }),
      title: `${group.length} ${t('clusterOf')} – ${t('zoomIn')}`,
      keyboard: true,
    });
    activate(m, () => map.fitBounds(bounds.pad(0.5), { maxZoom: map.getZoom() + 3 }));
    return m;
  };

  map.on('zoomend', render);
  const fit = () => {
    const pts = current.map(position).filter((p): p is [number, number] => !!p).map((p) => [p[1], p[0]] as [number, number]);
    const b = outline ? outline.getBounds() : pts.length ? L.latLngBounds(pts) : undefined;
    if (b && b.isValid()) map.fitBounds(b.pad(0.05));
    else map.setView([51.1, 10.4], 6);
  };

  return {
    show(entities) {
      current = entities;
      if (!fitted) { fit(); fitted = true; }
      render();
    },
    showHazard(on) {
      if (!hazard || !legend) return;
      if (on && !map.hasLayer(hazard)) { hazard.addTo(map); legend.addTo(map); }
      if (!on && map.hasLayer(hazard)) { hazard.remove(); legend.remove(); }
    },
    locate(at) {
      me?.remove();
      me = L.circleMarker([at[1], at[0]], { radius: 8, className: 'me' }).addTo(map);
      map.setView([at[1], at[0]], Math.max(map.getZoom(), 16));
    },
    destroy() {
      map.remove();
    },
  };
}
