// The map of the entity browser: shows where the listed entities are and gives the visible area
// as a filter. Leaflet is loaded only when the browser is opened (its own chunk).
import type { Entity } from '../shared/entity';
import { position } from '../shared/entity';

export type BBox = [number, number, number, number]; // west, south, east, north

export interface AreaMap {
  bounds(): BBox;
}

export async function areaMap(el: HTMLElement, entities: Entity[], bbox?: BBox): Promise<AreaMap> {
  const [{ default: L }] = await Promise.all([import('leaflet'), import('leaflet/dist/leaflet.css')]);
  const map = L.map(el, { attributionControl: false, keyboard: true });
  const pts = entities.map(position).filter((p): p is [number, number] => !!p).map((p) => [p[1], p[0]] as [number, number]);
  for (const p of pts) L.circleMarker(p, { radius: 6, className: 'pt' }).addTo(map);
  if (bbox) map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]]);
  else if (pts.length) map.fitBounds(L.latLngBounds(pts).pad(0.2), { maxZoom: 16 });
  else map.setView([51.1, 10.4], 6);
  return {
    bounds() {
      const b = map.getBounds();
      const r = (x: number) => Math.round(x * 1e5) / 1e5;
      return [r(b.getWest()), r(b.getSouth()), r(b.getEast()), r(b.getNorth())];
    },
  };
}

// NGSI-LD geoQ (4.10) parameters for entities within the box.
export function withinParams(b: BBox): Record<string, string> {
  const [w, s, e, n] = b;
  return { georel: 'within', geometry: 'Polygon', coordinates: JSON.stringify([[[w, s], [e, s], [e, n], [w, n], [w, s]]]) };
}
