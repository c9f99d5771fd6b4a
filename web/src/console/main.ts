// The operator console: sign in with an API key (and the municipality), then the overview,
// entities, subscriptions, devices, keys and the audit log. Routes live in the fragment:
// #/overview, #/entities, #/entity/<id>, #/subscriptions, #/devices, #/keys, #/audit, #/twin.
import './style.css';
import { Api, ApiError, NGSI, type Session } from '../shared/api';
import { $, clear, focusMain, h } from '../shared/dom';
import { bindLangButton, t, type Key } from '../shared/i18n';
import { views } from './views';

const STORE = 'allmende.console';
let api: Api | undefined;

function loadSession(): Session | undefined {
  try {
    const s = JSON.parse(sessionStorage.getItem(STORE) || 'null');
    return s && typeof s.tenant === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

function signInView(main: HTMLElement): void {
  const error = h('p', { id: 'signin-error', class: 'error', role: 'alert' });
  const key = h('input', { id: 'key', type: 'password', autocomplete: 'current-password', 'aria-describedby': 'key-hint signin-error' });
  const tenant = h('input', { id: 'tenant', type: 'text', autocomplete: 'organization', 'aria-describedby': 'tenant-hint' });
  const form = h('form', { class: 'card signin', novalidate: true },
    h('h1', {}, t('signIn')),
    h('p', { class: 'field' }, h('label', { for: 'key' }, t('apiKey')), key, h('small', { id: 'key-hint', class: 'muted' }, t('keyHint'))),
    h('p', { class: 'field' }, h('label', { for: 'tenant' }, t('tenant')), tenant,
      h('small', { id: 'tenant-hint', class: 'muted' }, t('tenantHint'))),
    error,
    h('button', { type: 'submit', class: 'btn' }, t('signIn')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const session: Session = { tenant: tenant.value.trim(), key: key.value.trim() || undefined };
    const candidate = new Api(session);
    try {
      // Any read of the tenant proves the key (401/403 otherwise).
      await candidate.get(`${NGSI}/types`);
    } catch (err) {
      error.textContent = `${t('signInFailed')}: ${err instanceof ApiError ? `${err.status} ${err.message}` : String(err)}`;
      key.setAttribute('aria-invalid', 'true');
      return;
    }
    sessionStorage.setItem(STORE, JSON.stringify(session));
    api = candidate;
    location.hash = '#/overview';
    void route();
  });
  clear(main, form);
}

const nav: [string, Key][] = [['overview', 'overview'], ['entities', 'entities'], ['subscriptions', 'subscriptions'],
  ['devices', 'devices'], ['keys', 'keys'], ['audit', 'audit'], ['checklist', 'checklist'], ['opendata', 'opendata'], ['twin', 'twin'], ['tenants', 'tenants']];

function renderNav(current: string): void {
  const el = $('nav');
  if (!api) {
    clear(el);
    $('who').textContent = '';
    return;
  }
  $('who').textContent = api.session.tenant || 'default';
  clear(el, h('ul', {}, ...nav.map(([r, k]) => h('li', {}, h('a', { href: `#/${r}`, 'aria-current': current === r ? 'page' : undefined }, t(k)))),
    h('li', {}, h('button', { type: 'button', class: 'linkbtn', onclick: () => {
      sessionStorage.removeItem(STORE);
      api = undefined;
      location.hash = '#/';
      void route();
    } }, t('signOut')))));
}

// `moveFocus`: after a change of view (not at the first load, where the page starts at the top).
async function route(moveFocus = true): Promise<void> {
  const main = $('main');
  if (!api) {
    renderNav('');
    signInView(main);
    return;
  }
  // The fragment's own query (`?q=...`) is read by the view; it is not part of the argument.
  const [, name = 'overview', arg] = location.hash.split('?')[0].match(/^#\/([a-z]+)(?:\/(.+))?$/) || [];
  const view = views[name] ?? views.overview;
  renderNav(name === 'entity' ? 'entities' : name);
  clear(main, h('p', { class: 'loading' }, t('loading')));
  try {
    await view(main, api, arg ? decodeURIComponent(arg) : undefined);
  } catch (err) {
    clear(main, h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  }
  if (moveFocus) focusMain();
  document.body.dataset.ready = 'true';
}

const session = loadSession();
if (session) api = new Api(session);
bindLangButton($('lang'), () => void route(false));
window.addEventListener('hashchange', () => void route());
void route(false);
