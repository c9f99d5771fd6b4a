// The platform admin's tenants (docs/tenancy.md, docs/web.md): all municipalities with their
// status, rolling in a new one from a template (GET /admin/v1/templates), and one tenant's page:
// its record, the data model catalogue of its template with the entities it holds, its roll-in
// checklist, suspend/activate, and deletion after typing its name (the server checks ?confirm=).
// Routes: #/tenants, #/tenants/<name>. The texts live here, not in shared/i18n.ts, so that the
// citizen app's first load does not carry them.
import { Api, ApiError, NGSI } from '../shared/api';
import { clear, h } from '../shared/dom';
import { currentLang, label, t } from '../shared/i18n';
import { card, checklistBlock, problemText, table, when } from './ui';

const de = {
  rollIn: 'Neue Gemeinde aufnehmen',
  rollInHint: 'Legt den Mandanten an und wendet die Vorlage an: Datenmodelle, Abonnements, Open-Data-Einstellungen, Kontingente, erste Schlüssel, Checkliste.',
  ags: 'Amtlicher Gemeindeschlüssel (AGS, 8 Ziffern)',
  nameField: 'Mandant (Name im Header NGSILD-Tenant; leer: der AGS)',
  displayName: 'Anzeigename',
  contact: 'Kontakt (E-Mail)',
  template: 'Vorlage',
  noTemplate: '(ohne Vorlage)',
  area: 'Gemeindegebiet (GeoJSON Polygon, optional)',
  create: 'Aufnehmen',
  created: 'Aufgenommen',
  keysOnce: 'Die Schlüssel der Vorlage werden nur jetzt angezeigt -- an die Gemeinde weitergeben:',
  catalogue: 'Datenmodelle und Entitäten',
  publicCol: 'öffentlich',
  count: 'Entitäten',
  record: 'Mandant',
  quotas: 'Kontingente',
  del: 'Mandant löschen',
  delHint: 'Löscht alle Daten der Gemeinde (ein Archiv wird vorher geschrieben). Zur Bestätigung den Namen des Mandanten eingeben.',
  confirm: 'Name zur Bestätigung',
  deleted: 'Gelöscht',
  back: 'Mandanten',
  types: 'Datenmodelle',
  yes: 'ja',
  no: 'nein',
  badArea: 'Das Gemeindegebiet ist kein JSON',
};
const en: typeof de = {
  rollIn: 'Roll in a municipality',
  rollInHint: 'Creates the tenant and applies the template: data models, subscriptions, open-data settings, quotas, first keys, checklist.',
  ags: 'Official municipality key (AGS, 8 digits)',
  nameField: 'Tenant (name in the NGSILD-Tenant header; empty: the AGS)',
  displayName: 'Display name',
  contact: 'Contact (e-mail)',
  template: 'Template',
  noTemplate: '(no template)',
  area: 'Municipal area (GeoJSON Polygon, optional)',
  create: 'Roll in',
  created: 'Rolled in',
  keysOnce: 'The template\'s keys are shown only now -- hand them to the municipality:',
  catalogue: 'Data models and entities',
  publicCol: 'public',
  count: 'Entities',
  record: 'Tenant',
  quotas: 'Quotas',
  del: 'Delete tenant',
  delHint: 'Deletes all the municipality\'s data (an archive is written first). Type the tenant\'s name to confirm.',
  confirm: 'Name to confirm',
  deleted: 'Deleted',
  back: 'Tenants',
  types: 'Data models',
  yes: 'yes',
  no: 'no',
  badArea: 'The municipal area is not JSON',
};
const s = (k: keyof typeof de) => (currentLang() === 'de' ? de : en)[k];

interface TenantRecord { name: string; ags?: string; displayName?: string; status?: string; template?: string; contact?: string;
  createdAt?: string; quotas?: Record<string, number>;
  settings?: { dataModels?: { type: string; public?: boolean; attributes?: unknown[] }[] } }
interface Template { name: string; description?: string; types?: string[]; publicTypes?: string[]; initialKeys?: string[]; checklist?: number; error?: string }
interface Key { id: string; role: string; name?: string; key?: string }

// What the roll-in answered (the keys' secrets), shown once on the new tenant's page.
let justCreated: { name: string; keys: Key[] } | undefined;
// A deletion's confirmation, shown once on the list.
let justDeleted: string | undefined;

const path = (name: string) => `/admin/v1/tenants/${encodeURIComponent(name)}`;

export async function tenantsView(main: HTMLElement, api: Api, name?: string): Promise<void> {
  if (name) return tenantPage(main, api, name);
  const list = await api.get<TenantRecord[] | { tenants: TenantRecord[] }>('/admin/v1/tenants');
  const records = Array.isArray(list) ? list : list.tenants ?? [];
  const setStatus = (r: TenantRecord, status: string) => async () => {
    await api.call('PATCH', path(r.name), undefined, { status });
    await tenantsView(main, api);
  };
  const done = justDeleted ? h('p', { role: 'status', class: 'ok' }, `${s('deleted')}: ${justDeleted}`) : null;
  justDeleted = undefined;
  clear(main, h('h1', {}, t('tenants')), done,
    table([t('name'), 'AGS', t('tenant'), t('status'), s('template'), ''], records.map((r) => [r.displayName ?? '', r.ags ?? '',
      h('a', { href: `#/tenants/${encodeURIComponent(r.name)}` }, r.name), r.status ?? '', r.template ?? '',
      r.status === 'suspended'
        ? h('button', { type: 'button', class: 'linkbtn', 'aria-label': `${t('activate')} ${r.name}`, onclick: setStatus(r, 'active') }, t('activate'))
        : h('button', { type: 'button', class: 'linkbtn', 'aria-label': `${t('suspend')} ${r.name}`, onclick: setStatus(r, 'suspended') }, t('suspend'))]),
    t('tenants')),
    await rollInForm(api));
}

// The roll-in form; the server's ProblemDetails appear under it, at the field they name.
async function rollInForm(api: Api): Promise<HTMLElement> {
  const templates = await api.get<Template[]>('/admin/v1/templates').catch(() => [] as Template[]);
  const usable = templates.filter((x) => !x.error);
  const field = (id: string, text: string, input: HTMLElement, hint?: HTMLElement) =>
    h('p', { class: 'field' }, h('label', { for: id }, text), input, hint ?? null);
  const ags = h('input', { id: 'nt-ags', type: 'text', inputmode: 'numeric', autocomplete: 'off', required: true, 'aria-describedby': 'nt-error' });
  const name = h('input', { id: 'nt-name', type: 'text', autocomplete: 'off', 'aria-describedby': 'nt-error' });
  const display = h('input', { id: 'nt-display', type: 'text', autocomplete: 'organization' });
  const contact = h('input', { id: 'nt-contact', type: 'email', autocomplete: 'email' });
  const tplHint = h('small', { id: 'nt-template-hint', class: 'muted' });
  const template = h('select', { id: 'nt-template', 'aria-describedby': 'nt-template-hint nt-error' },
    ...usable.map((x) => h('option', { value: x.name }, x.name)), h('option', { value: '' }, s('noTemplate')));
  const describe = () => {
    const x = usable.find((y) => y.name === template.value);
    tplHint.textContent = x ? `${x.description ?? ''} ${s('types')}: ${(x.types ?? []).map(label).join(', ')}.` : '';
  };
  template.addEventListener('change', describe);
  describe();
  const area = h('textarea', { id: 'nt-area', rows: 3, spellcheck: 'false', 'aria-describedby': 'nt-error' });
  const error = h('p', { id: 'nt-error', class: 'error', role: 'alert' });
  const inputs: Record<string, HTMLElement> = { ags, name, area, template, displayName: display, contact };
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'nt-title' },
    h('h2', { id: 'nt-title' }, s('rollIn')), h('p', { class: 'muted' }, s('rollInHint')),
    field('nt-ags', s('ags'), ags), field('nt-name', s('nameField'), name), field('nt-display', s('displayName'), display),
    field('nt-contact', s('contact'), contact), field('nt-template', s('template'), template, tplHint), field('nt-area', s('area'), area),
    error, h('button', { type: 'submit', class: 'btn' }, s('create')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const el of Object.values(inputs)) el.removeAttribute('aria-invalid');
    error.textContent = '';
    const body: Record<string, unknown> = { ags: ags.value.trim() };
    for (const [k, el] of [['name', name], ['displayName', display], ['contact', contact], ['template', template]] as const) {
      if (el.value.trim()) body[k] = el.value.trim();
    }
    if (area.value.trim()) {
      try {
        body.area = JSON.parse(area.value);
      } catch (e) {
        area.setAttribute('aria-invalid', 'true');
        error.textContent = `${s('badArea')}: ${String(e)}`;
        return;
      }
    }
    try {
      const r = await api.call<TenantRecord & { apiKeys?: Key[] }>('POST', '/admin/v1/tenants', undefined, body);
      justCreated = { name: r.data.name, keys: r.data.apiKeys ?? [] };
      location.hash = `#/tenants/${encodeURIComponent(r.data.name)}`;
    } catch (err) {
      error.textContent = problemText(err);
      // The field the problem is about (the server names it in the detail).
      const detail = err instanceof ApiError ? `${err.problem.detail ?? ''}` : '';
      const named = /AGS/.test(detail) ? ags : /template/.test(detail) ? template : /area|polygon|geometry/i.test(detail) ? area
        : /tenant name|name '/.test(detail) || (err instanceof ApiError && err.status === 409) ? name
        : /displayName|contact/.test(detail) ? display : null;
      (named ?? ags).setAttribute('aria-invalid', 'true');
      (named ?? ags).focus();
    }
  });
  return form;
}

// One tenant: its record, catalogue with entity counts, checklist, status and deletion.
async function tenantPage(main: HTMLElement, api: Api, name: string): Promise<void> {
  const r = await api.get<TenantRecord>(path(name));
  const fresh = justCreated?.name === name ? justCreated : undefined;
  justCreated = undefined;
  const tenantHeaders = { 'NGSILD-Tenant': name };
  const models = r.settings?.dataModels ?? [];
  const status = h('p', { role: 'status', class: 'ok' });
  const toggle = h('button', { type: 'button', class: 'btn secondary', onclick: async () => {
    const next = r.status === 'suspended' ? 'active' : 'suspended';
    try {
      await api.call('PATCH', path(name), undefined, { status: next });
      await tenantPage(main, api, name);
    } catch (err) {
      status.textContent = problemText(err);
    }
  } }, `${r.status === 'suspended' ? t('activate') : t('suspend')} ${name}`);
  const quotas = Object.entries(r.quotas ?? {}).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') || '–';
  clear(main, h('p', {}, h('a', { href: '#/tenants' }, '← ' + s('back'))),
    h('h1', {}, `${r.displayName || name} (${name})`),
    fresh ? h('div', { class: 'card', role: 'status' }, h('p', {}, `${s('created')}. ${s('keysOnce')}`),
      ...fresh.keys.map((k) => h('p', {}, `${k.role} (${k.name ?? k.id}): `, h('code', { class: 'secret' }, k.key ?? '')))) : null,
    h('div', { class: 'cards' },
      h('section', { class: 'card' }, h('h2', {}, s('record')), h('dl', { class: 'kv' },
        h('dt', {}, 'AGS'), h('dd', {}, r.ags ?? ''), h('dt', {}, t('status')), h('dd', {}, r.status ?? ''),
        h('dt', {}, s('template')), h('dd', {}, r.template ?? '–'), h('dt', {}, s('contact')), h('dd', {}, r.contact || '–'),
        h('dt', {}, t('created')), h('dd', {}, when(r.createdAt)), h('dt', {}, s('quotas')), h('dd', {}, quotas)),
      h('p', {}, toggle), status),
      card(t('checklist'), () => checklistBlock(api, name, 'tcheck'))),
    card(s('catalogue'), async () => {
      // The catalogue's types, and the types the tenant holds beyond it.
      const held = (await api.call<{ typeList?: string[] }>('GET', `${NGSI}/types`, undefined, undefined, tenantHeaders)).data.typeList ?? [];
      const types = [...models.map((m) => m.type), ...held.filter((x) => !models.some((m) => m.type === x))];
      const rows = await Promise.all(types.map(async (ty) => {
        const c = await api.call('GET', `${NGSI}/entities`, { type: ty, count: true, limit: 0 }, undefined, tenantHeaders);
        const m = models.find((x) => x.type === ty);
        return [`${label(ty)} (${ty})`, m ? (m.public ? s('yes') : s('no')) : '–', c.headers.get('NGSILD-Results-Count') ?? '?'];
      }));
      return table([t('type'), s('publicCol'), s('count')], rows, s('catalogue'));
    }),
    deleteForm(api, name));
}

function deleteForm(api: Api, name: string): HTMLElement {
  const confirm = h('input', { id: 'del-confirm', type: 'text', autocomplete: 'off', 'aria-describedby': 'del-hint del-error' });
  const error = h('p', { id: 'del-error', class: 'error', role: 'alert' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'del-title' }, h('h2', { id: 'del-title' }, s('del')),
    h('p', { id: 'del-hint', class: 'muted' }, s('delHint')),
    h('p', { class: 'field' }, h('label', { for: 'del-confirm' }, s('confirm')), confirm), error,
    h('button', { type: 'submit', class: 'btn danger' }, s('del')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      // The server deletes only when the name is repeated (400 otherwise, shown here).
      await api.call('DELETE', path(name), { confirm: confirm.value.trim() || undefined });
      justDeleted = name;
      location.hash = '#/tenants';
    } catch (err) {
      confirm.setAttribute('aria-invalid', 'true');
      error.textContent = problemText(err);
    }
  });
  return form;
}
