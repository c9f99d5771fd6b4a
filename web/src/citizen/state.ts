// What the citizen app knows: the deployment's configuration (/app-config.json) and the current
// state of the public entities, loaded per layer.
import { Api, ApiError, NGSI } from '../shared/api';
import type { Entity } from '../shared/entity';
import { defaultLayers } from './layers';
import type { Hazard } from './hazard';
import { fetchKept } from './offline';

export interface AppConfig {
  tenant: string;
  name: string;
  area: unknown | null;
  tiles: { url: string; attribution: string; maxZoom: number } | null;
  authRequired: boolean;
  layers: { type: string; attributes: string[] }[] | null;
  hazard?: Hazard | null; // the published heavy-rain simulation (citizen/hazard.ts)
}

// The municipality: ?t=<tenant> in the page's URL, else the deployment's default.
export async function loadConfig(): Promise<AppConfig> {
  const tenant = new URLSearchParams(location.search).get('t');
  const res = await fetchKept('/app-config.json' + (tenant ? `?tenant=${encodeURIComponent(tenant)}` : ''));
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => ({})));
  return res.json();
}

export function layerTypes(config: AppConfig): string[] {
  return config.layers ? config.layers.map((l) => l.type) : defaultLayers;
}

// Every entity of one public type (pages of 1000, the server's largest).
export async function loadLayer(api: Api, type: string): Promise<Entity[]> {
  const out: Entity[] = [];
  for (let offset = 0; offset < 20000; offset += 1000) {
    const page = await api.get<Entity[]>(`${NGSI}/entities`, { type, limit: 1000, offset });
    out.push(...page);
    if (page.length < 1000) break;
  }
  return out;
}
