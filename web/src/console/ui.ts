// Pieces the console's screens share: errors as text, times, tables and cards.
import { Api, ApiError } from '../shared/api';
import { clear, h } from '../shared/dom';
import { dateTime } from '../shared/format';
import { t } from '../shared/i18n';

export function problemText(err: unknown): string {
  if (err instanceof ApiError) return `${err.status} ${err.problem.title ?? ''}: ${err.problem.detail ?? ''}`;
  return err instanceof Error ? err.message : String(err);
}

export function when(iso?: string | number): string {
  if (iso === undefined || iso === null || iso === '' || iso === 0) return '–';
  return dateTime(typeof iso === 'number' ? new Date(iso / 1000).toISOString() : iso);
}

export function table(headers: string[], rows: (Node | string)[][], caption: string): HTMLElement {
  if (!rows.length) return h('p', { class: 'muted' }, t('nothing'));
  return h('table', {}, h('caption', { class: 'vh' }, caption),
    h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}

// A card that loads on its own; a failure (e.g. 403 for a role) shows in the card only.
export function card(title: string, load: () => Promise<Node>): HTMLElement {
  const body = h('div', {}, h('p', { class: 'loading' }, t('loading')));
  const el = h('section', { class: 'card' }, h('h2', {}, title), body);
  load().then((n) => clear(body, n), (err) => clear(body, h('p', { class: 'muted' }, problemText(err))));
  return el;
}


interface ChecklistItem { id: string; title?: string; owner?: string; check?: string; done?: boolean }

// A tenant's roll-in checklist (docs/tenancy.md): automatic items are evaluated by the server;
// manual ones are ticked off here. Used by the tenant's own checklist and the platform admin's
// page of a tenant (ids carry the prefix, so two lists could share a page).
export async function checklistBlock(api: Api, tenant: string, prefix = 'check'): Promise<HTMLElement> {
  const base = `/admin/v1/tenants/${encodeURIComponent(tenant)}/checklist`;
  const c = await api.get<{ done?: number; open?: number; items?: ChecklistItem[] }>(base);
  const error = h('p', { class: 'error', role: 'alert' });
  const count = h('p', { class: 'checkcount' }, `${c.done ?? 0} / ${(c.done ?? 0) + (c.open ?? 0)}`);
  const items = (c.items ?? []).map((it) => {
    const id = `${prefix}-${it.id}`;
    const box = h('input', { type: 'checkbox', id, checked: !!it.done, disabled: !!it.check, onchange: async () => {
      try {
        const r = await api.call<{ done?: number; open?: number }>('PATCH', `${base}/${encodeURIComponent(it.id)}`, undefined, { done: box.checked });
        error.textContent = '';
        count.textContent = `${r.data.done ?? 0} / ${(r.data.done ?? 0) + (r.data.open ?? 0)}`;
      } catch (err) {
        error.textContent = problemText(err);
        box.checked = !box.checked;
      }
    } });
    return h('li', {}, box, ' ', h('label', { for: id }, it.title ?? it.id), it.owner ? h('small', { class: 'muted' }, ` (${it.owner})`) : null);
  });
  return h('div', {}, count, h('ul', { class: 'checklist' }, ...items), error);
}
