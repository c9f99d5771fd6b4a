// The console's screens. Each is a function (main, api, argument) that renders into main.
import { Api, NGSI, entityPath } from '../shared/api';
import { clear, h } from '../shared/dom';
import { t } from '../shared/i18n';
import type { Entity } from '../shared/entity';
import { areaMap, withinParams, type AreaMap, type BBox } from './area_map';
import { twinView } from './twin';
import { tenantsView } from './tenants';
import { card, checklistBlock, problemText, table, when } from './ui';

type View = (main: HTMLElement, api: Api, arg?: string) => Promise<void>;

// A JSON editor whose errors (parse or ProblemDetails) are shown next to it.
function jsonEditor(id: string, value: unknown, labelText: string) {
  const error = h('p', { id: `${id}-error`, class: 'error', role: 'alert' });
  const area = h('textarea', { id, rows: 18, spellcheck: 'false', 'aria-describedby': `${id}-error` });
  area.value = JSON.stringify(value, null, 2);
  const field = h('div', { class: 'field' }, h('label', { for: id }, labelText), area, error);
  return {
    field,
    parse(): unknown | undefined {
      try {
        const v = JSON.parse(area.value);
        area.removeAttribute('aria-invalid');
        error.textContent = '';
        return v;
      } catch (e) {
        this.fail(String(e));
        return undefined;
      }
    },
    fail(text: string) {
      area.setAttribute('aria-invalid', 'true');
      error.textContent = text;
    },
    ok() {
      area.removeAttribute('aria-invalid');
      error.textContent = '';
    },
  };
}

const overview: View = async (main, api) => {
  const tenant = api.session.tenant;
  clear(main, h('h1', {}, t('overview')), h('div', { class: 'cards' },
    card(t('entities'), async () => {
      const types = (await api.get<{ typeList?: string[] }>(`${NGSI}/types`)).typeList ?? [];
      const rows = await Promise.all(types.map(async (ty) => {
        const r = await api.call('GET', `${NGSI}/entities`, { type: ty, count: true, limit: 0 });
        return [h('a', { href: `#/entities/${encodeURIComponent(ty)}` }, ty), r.headers.get('NGSILD-Results-Count') ?? '?'];
      }));
      return table([t('type'), t('count')], rows, t('entities'));
    }),
    card(t('devicesHealth'), async () => {
      const devices = await api.get<Device[]>('/admin/v1/devices');
      const bad = devices.filter((d) => d.silent || d.lastError);
      const accepted = devices.reduce((n, d) => n + (d.accepted ?? 0), 0);
      const rejected = devices.reduce((n, d) => n + (d.rejected ?? 0), 0);
      return h('div', {}, h('p', {}, `${devices.length} ${t('devices')}, ${bad.length} ${t('erroring')}/${t('silent')}; ` +
        `${t('accepted')} ${accepted}, ${t('rejected')} ${rejected}`),
        table([t('name'), t('health')], bad.map((d) => [d.id, health(d)]), t('devicesHealth')));
    }),
    card(t('rates'), () => ratesCard(api)),
    card(t('failingSubs'), async () => {
      const subs = await api.get<Subscription[]>(`${NGSI}/subscriptions`, { limit: 1000 });
      const bad = subs.filter(failing);
      return h('div', {}, h('p', {}, `${subs.length} ${t('subscriptions')}, ${bad.length} ${t('failed')}`),
        table(['id', t('endpoint'), t('failed'), t('time')], bad.map((s) => [s.id, s.notification?.endpoint?.uri ?? '',
          String(s.notification?.timesFailed ?? 0), when(s.notification?.lastFailure)]), t('failingSubs')));
    }),
    tenant ? card(t('usage'), async () => {
      const u = await api.get<Usage>(`/admin/v1/tenants/${encodeURIComponent(tenant)}/usage`);
      return usageList(u);
    }) : null,
  ));
};

// A subscription whose notifications fail: its last attempt failed (NGSI-LD 5.2.12 `status`
// "failed"), or it has failures and none succeeded since.
function failing(s: Subscription): boolean {
  const n = s.notification;
  if (!n) return false;
  if ((n as { status?: string }).status === 'failed') return true;
  return (n.timesFailed ?? 0) > 0 && (!n.lastSuccess || (!!n.lastFailure && n.lastFailure > n.lastSuccess));
}

interface Usage { entities?: number; historyInstances?: number; storageBytes?: number; requests?: { admitted?: number; rejected?: number };
  quotas?: { entities?: number; historyInstances?: number; storageBytes?: number; requestsPerSecond?: number; burst?: number } }

// Use against each quota (0 = none set) as a meter.
function usageList(u: Usage): HTMLElement {
  const bytes = (v: number) => (v >= 1 << 20 ? `${(v / (1 << 20)).toFixed(1)} MiB` : `${(v / 1024).toFixed(1)} KiB`);
  const rows: [string, number, number | undefined, (v: number) => string][] = [
    [t('entities'), u.entities ?? 0, u.quotas?.entities, String],
    ['history', u.historyInstances ?? 0, u.quotas?.historyInstances, String],
    ['storage', u.storageBytes ?? 0, u.quotas?.storageBytes, bytes],
  ];
  const dl = h('dl', { class: 'kv usage' });
  for (const [name, used, quota, fmt] of rows) {
    const id = `use-${name}`;
    dl.append(h('dt', { id }, name), h('dd', {}, quota ? h('meter', { min: 0, max: quota, value: Math.min(used, quota), high: quota * 0.9, 'aria-labelledby': id }) : null,
      ` ${fmt(used)}${quota ? ` / ${fmt(quota)} (${Math.round((100 * used) / quota)} %)` : ` (${t('quota')}: –)`}`));
  }
  if (u.requests) dl.append(h('dt', {}, 'requests'), h('dd', {}, `${u.requests.admitted ?? 0} / ${u.requests.rejected ?? 0} ${t('rejected')}` +
    (u.quotas?.requestsPerSecond ? ` (${u.quotas.requestsPerSecond}/s)` : '')));
  return dl;
}

// Ingestion and notification rates: the server keeps totals (devices' accepted readings,
// subscriptions' notifications sent), so the console samples them while the overview is open
// and shows the change per minute over the last sample window.
const RATE_SAMPLE_MS = 15000;
async function ratesCard(api: Api): Promise<Node> {
  const totals = async () => {
    const [devices, subs] = await Promise.all([
      api.get<Device[]>('/admin/v1/devices').catch(() => null),
      api.get<Subscription[]>(`${NGSI}/subscriptions`, { limit: 1000 }).catch(() => null),
    ]);
    return { at: Date.now(), ingested: devices?.reduce((n, d) => n + (d.accepted ?? 0) + (d.rejected ?? 0), 0),
      sent: subs?.reduce((n, s) => n + (s.notification?.timesSent ?? 0), 0) };
  };
  const first = await totals();
  const out = h('dl', { class: 'kv rates', 'aria-live': 'polite' });
  const render = (a: typeof first, b?: typeof first) => {
    // '…' until the second sample, '–' when the totals cannot be read (the role may not).
    const per = (x?: number, y?: number) => (x === undefined ? '–' : !b ? '…' : y === undefined ? '–'
      : String(Math.round(((y - x) * 60000) / Math.max(1, b.at - a.at))));
    // The totals of the newest sample.
    const last = b ?? a;
    clear(out, h('dt', {}, t('ingestRate')), h('dd', {}, `${per(a.ingested, b?.ingested)} (Σ ${last.ingested ?? '–'})`),
      h('dt', {}, t('notifyRate')), h('dd', {}, `${per(a.sent, b?.sent)} (Σ ${last.sent ?? '–'})`));
  };
  render(first);
  let prev = first;
  const tick = async () => {
    if (!out.isConnected) return;
    const now = await totals();
    if (!out.isConnected) return;
    render(prev, now);
    prev = now;
    setTimeout(() => void tick(), RATE_SAMPLE_MS);
  };
  setTimeout(() => void tick(), RATE_SAMPLE_MS);
  return out;
}

const PAGE = 20;

const entities: View = async (main, api, type) => {
  const types = (await api.get<{ typeList?: string[] }>(`${NGSI}/types`)).typeList ?? [];
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const select = h('select', { id: 'f-type' }, h('option', { value: '' }, t('allTypes')),
    ...types.map((ty) => h('option', { value: ty, selected: ty === type }, ty)));
  const q = h('input', { id: 'f-q', type: 'text', value: params.get('q') ?? '', placeholder: 'currentLevel>2' });
  const offset = Number(params.get('offset') ?? 0);
  const bboxParam = params.get('bbox')?.split(',').map(Number);
  const bbox = bboxParam?.length === 4 && bboxParam.every(Number.isFinite) ? (bboxParam as BBox) : undefined;
  const error = h('p', { id: 'f-error', class: 'error', role: 'alert' });
  const inArea = h('input', { id: 'f-area', type: 'checkbox', checked: !!bbox });
  const mapEl = h('div', { class: 'areamap', role: 'region', 'aria-label': t('mapArea') });
  let picker: AreaMap | undefined;
  const form = h('form', { class: 'filters' },
    h('p', { class: 'field' }, h('label', { for: 'f-type' }, t('type')), select),
    h('p', { class: 'field' }, h('label', { for: 'f-q' }, t('query')), q),
    h('p', { class: 'check' }, inArea, ' ', h('label', { for: 'f-area' }, t('mapArea'))),
    h('button', { type: 'submit', class: 'btn' }, t('filter')),
    h('a', { href: '#/entity/new', class: 'btn secondary' }, t('newEntity')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const area = inArea.checked && picker ? `&bbox=${picker.bounds().join(',')}` : '';
    location.hash = `#/entities/${encodeURIComponent(select.value)}?q=${encodeURIComponent(q.value)}${area}`;
  });
  const results = h('div', {});
  clear(main, h('h1', {}, t('entities')), form, error, mapEl, results);
  try {
    const r = await api.call<Entity[]>('GET', `${NGSI}/entities`, {
      type: type || (params.get('q') ? undefined : types.join(',')) || undefined, q: params.get('q') || undefined,
      limit: PAGE, offset, count: true, ...(bbox ? withinParams(bbox) : {}),
    });
    picker = await areaMap(mapEl, r.data, bbox);
    const total = Number(r.headers.get('NGSILD-Results-Count') ?? r.data.length);
    const base = `#/entities/${encodeURIComponent(type ?? '')}?q=${encodeURIComponent(params.get('q') ?? '')}${bbox ? '&bbox=' + bbox.join(',') : ''}`;
    clear(results, h('p', {}, `${total} ${t('entities')}`),
      table(['id', t('type'), t('edit')], r.data.map((e) => [e.id, e.type,
        h('a', { href: `#/entity/${encodeURIComponent(e.id)}` }, t('edit'))]), t('entities')),
      h('p', { class: 'pager' },
        offset > 0 ? h('a', { href: `${base}&offset=${Math.max(0, offset - PAGE)}` }, t('previous')) : null, ' ',
        offset + PAGE < total ? h('a', { href: `${base}&offset=${offset + PAGE}` }, t('next')) : null));
  } catch (err) {
    error.textContent = problemText(err);
    q.setAttribute('aria-invalid', 'true');
    q.setAttribute('aria-describedby', 'f-error');
  }
};

const entity: View = async (main, api, id) => {
  const isNew = !id || id === 'new';
  const current = isNew
    ? { id: 'urn:ngsi-ld:Thing:1', type: 'Thing', name: { type: 'Property', value: '' } }
    : await api.get<Entity>(entityPath(id!));
  const editor = jsonEditor('entity-json', current, t('json'));
  const status = h('p', { role: 'status', class: 'ok' });
  const save = h('button', { type: 'button', class: 'btn', onclick: async () => {
    const body = editor.parse() as Entity | undefined;
    if (!body) return;
    try {
      if (isNew) await api.call('POST', `${NGSI}/entities`, undefined, body);
      // NGSI-LD 5.6.18: PUT replaces the whole entity (id and type stay).
      else await api.call('PUT', entityPath(id!), undefined, body);
      editor.ok();
      status.textContent = t('saved');
      if (isNew) location.hash = `#/entity/${encodeURIComponent(body.id)}`;
    } catch (err) {
      status.textContent = '';
      editor.fail(problemText(err));
    }
  } }, isNew ? t('create') : t('save'));
  const del = isNew ? null : h('button', { type: 'button', class: 'btn danger', onclick: async () => {
    try {
      await api.call('DELETE', entityPath(id!));
      location.hash = '#/entities';
    } catch (err) {
      editor.fail(problemText(err));
    }
  } }, t('delete'));
  clear(main, h('p', {}, h('a', { href: '#/entities' }, '← ' + t('entities'))),
    h('h1', {}, isNew ? t('newEntity') : id!), editor.field, h('p', { class: 'actions' }, save, ' ', del), status);
};

interface Subscription { id: string; status?: string; entities?: { type?: string }[]; description?: string;
  notification?: { endpoint?: { uri?: string }; timesSent?: number; timesFailed?: number; lastFailure?: string; lastSuccess?: string; status?: string } }

const subscriptions: View = async (main, api) => {
  const subs = await api.get<Subscription[]>(`${NGSI}/subscriptions`, { limit: 1000 });
  const editor = jsonEditor('sub-json', { type: 'Subscription', entities: [{ type: 'FloodMonitoring' }], q: 'currentLevel>2',
    notification: { endpoint: { uri: 'https://example.org/alerts' } } }, t('json'));
  const create = h('button', { type: 'button', class: 'btn', onclick: async () => {
    const body = editor.parse();
    if (!body) return;
    try {
      await api.call('POST', `${NGSI}/subscriptions`, undefined, body);
      await subscriptions(main, api);
    } catch (err) {
      editor.fail(problemText(err));
    }
  } }, t('create'));
  clear(main, h('h1', {}, t('subscriptions')),
    table(['id', t('type'), t('endpoint'), t('status'), t('sent'), t('failed'), ''], subs.map((s) => [s.id,
      (s.entities ?? []).map((e) => e.type).join(', '), s.notification?.endpoint?.uri ?? '', s.status ?? '',
      String(s.notification?.timesSent ?? 0), String(s.notification?.timesFailed ?? 0),
      h('button', { type: 'button', class: 'linkbtn', 'aria-label': `${t('delete')} ${s.id}`, onclick: async () => {
        await api.call('DELETE', `${NGSI}/subscriptions/${encodeURIComponent(s.id)}`);
        await subscriptions(main, api);
      } }, t('delete'))]), t('subscriptions')),
    h('h2', {}, t('create')), editor.field, create);
};

interface Device { id: string; entity?: { id?: string; type?: string }; lastSeen?: string; lastError?: string;
  accepted?: number; rejected?: number; silent?: boolean }

function health(d: Device): string {
  return d.silent ? t('silent') : d.lastError ? `${t('erroring')}: ${d.lastError}` : t('healthy');
}

const deviceTemplate = {
  id: 'pegel-1', entity: { id: 'urn:ngsi-ld:FloodMonitoring:pegel-1', type: 'FloodMonitoring' },
  mapping: { format: 'flat', timestamp: 'ts', fields: [{ source: 'lvl', attribute: 'currentLevel', unitCode: 'MTR' }] },
  expectedInterval: 3600,
};

// Devices with their health, and one device's registration and payload mapping as JSON
// (docs/ingestion.md): #/devices/<id> edits it, #/devices/new registers one.
const devices: View = async (main, api, id) => {
  if (id) {
    const isNew = id === 'new';
    const current: Record<string, unknown> = isNew ? { ...deviceTemplate } : await api.get<Record<string, unknown>>(`/admin/v1/devices/${encodeURIComponent(id)}`);
    if (!isNew) for (const k of ['createdAt', 'accepted', 'rejected', 'silent', 'lastSeen', 'lastError', 'lastErrorAt', 'mqttUsername', 'hasPassword']) delete current[k];
    const editor = jsonEditor('device-json', current, t('json'));
    const status = h('p', { role: 'status', class: 'ok' });
    const save = h('button', { type: 'button', class: 'btn', onclick: async () => {
      const body = editor.parse() as { id?: string } | undefined;
      if (!body) return;
      try {
        if (isNew) await api.call('POST', '/admin/v1/devices', undefined, body);
        else await api.call('PUT', `/admin/v1/devices/${encodeURIComponent(id)}`, undefined, body);
        editor.ok();
        status.textContent = t('saved');
      } catch (err) {
        editor.fail(problemText(err));
      }
    } }, isNew ? t('create') : t('save'));
    clear(main, h('p', {}, h('a', { href: '#/devices' }, '← ' + t('devices'))), h('h1', {}, isNew ? t('newDevice') : id),
      editor.field, save, status);
    return;
  }
  const list = await api.get<Device[]>('/admin/v1/devices');
  const accepted = list.reduce((n, d) => n + (d.accepted ?? 0), 0);
  const rejected = list.reduce((n, d) => n + (d.rejected ?? 0), 0);
  clear(main, h('h1', {}, t('devices')), h('p', {}, `${t('accepted')}: ${accepted}, ${t('rejected')}: ${rejected} `,
    h('a', { href: '#/devices/new', class: 'btn secondary' }, t('newDevice'))),
    table(['id', 'entity', t('lastSeen'), t('accepted'), t('rejected'), t('health')], list.map((d) => [
      h('a', { href: `#/devices/${encodeURIComponent(d.id)}` }, d.id), d.entity?.id ?? '',
      when(d.lastSeen), String(d.accepted ?? 0), String(d.rejected ?? 0), health(d)]), t('devices')));
};

interface KeyRecord { id: string; role: string; name?: string; createdAt?: string; expiresAt?: string; revoked?: boolean; key?: string }

const keys: View = async (main, api) => {
  const tenant = api.session.tenant;
  if (!tenant) {
    clear(main, h('h1', {}, t('keys')), h('p', {}, t('needsTenant')));
    return;
  }
  const base = `/admin/v1/tenants/${encodeURIComponent(tenant)}/keys`;
  const list = await api.get<KeyRecord[] | { keys: KeyRecord[] }>(base);
  const records = Array.isArray(list) ? list : list.keys ?? [];
  const role = h('select', { id: 'k-role' }, ...['reader', 'editor', 'device', 'tenant-admin'].map((r) => h('option', { value: r }, r)));
  const name = h('input', { id: 'k-name', type: 'text' });
  const out = h('div', { role: 'status' });
  const form = h('form', { class: 'filters' },
    h('p', { class: 'field' }, h('label', { for: 'k-role' }, t('role')), role),
    h('p', { class: 'field' }, h('label', { for: 'k-name' }, t('name')), name),
    h('button', { type: 'submit', class: 'btn' }, t('create')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api.call<KeyRecord>('POST', base, undefined, { role: role.value, name: name.value });
      await keys(main, api);
      main.append(h('div', { class: 'card', role: 'status' }, h('p', {}, t('keyOnce')), h('code', { class: 'secret' }, r.data.key ?? '')));
    } catch (err) {
      clear(out, h('p', { class: 'error' }, problemText(err)));
    }
  });
  clear(main, h('h1', {}, t('keys')),
    table(['id', t('role'), t('name'), t('created'), t('status'), ''], records.map((k) => [k.id, k.role, k.name ?? '', when(k.createdAt),
      k.revoked ? t('revoke') + ' ✓' : 'active',
      k.revoked ? '' : h('button', { type: 'button', class: 'linkbtn', 'aria-label': `${t('revoke')} ${k.id}`, onclick: async () => {
        await api.call('DELETE', `${base}/${encodeURIComponent(k.id)}`);
        await keys(main, api);
      } }, t('revoke'))]), t('keys')),
    h('h2', {}, t('newKey')), form, out);
};

interface AuditRecord { seq?: number; at?: string | number; subject?: string; action?: string; method?: string; path?: string; target?: string; status?: number }

const audit: View = async (main, api) => {
  const tenant = api.session.tenant;
  if (!tenant) {
    clear(main, h('h1', {}, t('audit')), h('p', {}, t('needsTenant')));
    return;
  }
  const r = await api.get<AuditRecord[] | { records: AuditRecord[] }>(`/admin/v1/tenants/${encodeURIComponent(tenant)}/audit`, { limit: 200 });
  const records = Array.isArray(r) ? r : r.records ?? [];
  clear(main, h('h1', {}, t('audit')),
    table([t('time'), t('subject'), t('action'), t('target'), t('status')], records.map((a) => [when(a.at), a.subject ?? '',
      a.action ?? a.method ?? '', a.target ?? a.path ?? '', String(a.status ?? '')]), t('audit')));
};

interface Dataset { id: string; title?: { de?: string; en?: string }; types?: string[]; license?: string }

const datasetTemplate = {
  title: { de: 'Parkplatzbelegung', en: 'Parking occupancy' },
  description: { de: 'Belegung der Parkplätze im Ortskern' },
  types: ['ParkingSpot'], keywords: ['Parken'], themes: ['TRAN'], license: 'dl-by-de/2.0', accrualPeriodicity: 'CONT',
};

// Open data (docs/opendata.md): the tenant's published datasets; one is edited as JSON.
const opendata: View = async (main, api, id) => {
  const tenant = api.session.tenant;
  if (!tenant) {
    clear(main, h('h1', {}, t('opendata')), h('p', {}, t('needsTenant')));
    return;
  }
  const base = `/admin/v1/tenants/${encodeURIComponent(tenant)}/datasets`;
  if (id) {
    const isNew = id === 'new';
    const current: Record<string, unknown> = isNew ? { id: 'parking', ...datasetTemplate } : await api.get<Record<string, unknown>>(`${base}/${encodeURIComponent(id)}`);
    const editor = jsonEditor('dataset-json', current, 'JSON (DCAT-AP.de)');
    const status = h('p', { role: 'status', class: 'ok' });
    const save = h('button', { type: 'button', class: 'btn', onclick: async () => {
      const body = editor.parse() as { id?: string } | undefined;
      if (!body) return;
      const target = isNew ? String(body.id ?? '') : id;
      const { id: _named, ...definition } = body;  // the id is the URL's
      try {
        await api.call('PUT', `${base}/${encodeURIComponent(target)}`, undefined, definition);
        editor.ok();
        status.textContent = t('saved');
      } catch (err) {
        editor.fail(problemText(err));
      }
    } }, t('save'));
    clear(main, h('p', {}, h('a', { href: '#/opendata' }, '← ' + t('opendata'))), h('h1', {}, isNew ? t('newDataset') : id),
      editor.field, save, status);
    return;
  }
  const list = await api.get<Dataset[] | { datasets: Dataset[] }>(base);
  const records = Array.isArray(list) ? list : list.datasets ?? [];
  clear(main, h('h1', {}, t('opendata')),
    h('p', {}, h('a', { href: '#/opendata/new', class: 'btn secondary' }, t('newDataset')), ' ',
      h('a', { href: `/open/v1/${encodeURIComponent(tenant)}/catalog` }, 'DCAT-AP.de')),
    table(['id', t('name'), t('type'), 'Lizenz'], records.map((d) => [h('a', { href: `#/opendata/${encodeURIComponent(d.id)}` }, d.id),
      d.title?.de ?? '', (d.types ?? []).join(', '), d.license ?? '']), t('opendata')));
};


// The roll-in checklist (docs/tenancy.md) of the signed-in tenant.
const checklist: View = async (main, api) => {
  const tenant = api.session.tenant;
  if (!tenant) {
    clear(main, h('h1', {}, t('checklist')), h('p', {}, t('needsTenant')));
    return;
  }
  clear(main, h('h1', {}, t('checklist')), await checklistBlock(api, tenant));
};

export const views: Record<string, View> = { overview, entities, entity, subscriptions, devices, keys, audit, checklist, opendata,
  tenants: tenantsView, twin: twinView };
