// NGSI-LD entities in the normalized representation, as the apps read them.

export interface Attribute {
  type: string;
  value?: unknown;
  object?: unknown;
  unitCode?: string;
  observedAt?: string;
  [sub: string]: unknown;
}

export interface Entity {
  id: string;
  type: string;
  [attr: string]: unknown;
}

const core = new Set(['id', 'type', '@context', 'scope', 'createdAt', 'modifiedAt', 'deletedAt']);

export function attributes(e: Entity): [string, Attribute][] {
  const out: [string, Attribute][] = [];
  for (const [k, v] of Object.entries(e)) {
    if (core.has(k)) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first && typeof first === 'object' && 'type' in first) out.push([k, first as Attribute]);
  }
  return out;
}

export function attr(e: Entity, name: string): Attribute | undefined {
  const v = e[name];
  const first = Array.isArray(v) ? v[0] : v;
  return first && typeof first === 'object' ? (first as Attribute) : undefined;
}

export function num(e: Entity, name: string): number | undefined {
  const v = attr(e, name)?.value;
  return typeof v === 'number' ? v : undefined;
}

export function str(e: Entity, name: string): string | undefined {
  const v = attr(e, name)?.value;
  return typeof v === 'string' ? v : undefined;
}

// [lon, lat] of a Point location (or the first position of another geometry).
export function position(e: Entity): [number, number] | undefined {
  const g = attr(e, 'location')?.value as { type?: string; coordinates?: unknown } | undefined;
  let c: unknown = g?.coordinates;
  while (Array.isArray(c) && Array.isArray(c[0])) c = c[0];
  if (Array.isArray(c) && typeof c[0] === 'number' && typeof c[1] === 'number') return [c[0], c[1]];
  return undefined;
}

// The newest observedAt of the entity's attributes.
export function lastObserved(e: Entity): string | undefined {
  let best: string | undefined;
  for (const [, a] of attributes(e)) if (a.observedAt && (!best || a.observedAt > best)) best = a.observedAt;
  return best;
}

// The short name of an entity for lists: its `name`, else the last part of its id.
export function title(e: Entity, typeLabel: (type: string) => string = (x) => x): string {
  const n = attr(e, 'name')?.value;
  if (typeof n === 'string' && n) return n;
  const parts = e.id.split(':');
  return `${typeLabel(e.type)} ${parts[parts.length - 1]}`;
}
