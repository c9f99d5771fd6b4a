// The operator console: sign in with an API key (and the municipality) or through the identity
// provider (oidc.ts), then the overview, entities, subscriptions, devices, keys and the audit log.
// Routes live in the fragment: #/overview, #/entities, #/entity/<id>, #/subscriptions, #/devices,
// #/keys, #/audit, #/twin, #/tenants, #/tenants/<name> (tenants.ts).
import './style.css';
import { Api, ApiError, NGSI, type Session } from '../shared/api';
import { $, clear, focusMain, h } from '../shared/dom';
import { bindLangButton, t, type Key } from '../shared/i18n';
import { beginLogin, completeLogin, endSession, loadOidcConfig, refresh, type OidcConfig } from './oidc';
import { views } from './views';

const STORE = 'allmende.console';
let api: Api | undefined;
let oidc: OidcConfig | null = null; // this deployment's identity provider (/console-config.json)
let signInProblem = ''; // a failed return from the identity provider, shown at the form

function saveSession(s: Session): void {
  sessionStorage.setItem(STORE, JSON.stringify(s));
}

// The Api of a session; one signed in through the identity provider renews its token.
function openSession(s: Session): Api {
  const a = new Api(s);
  if (s.oidc && oidc) {
    const config = oidc;
    let pending: Promise<boolean> | undefined;
    // One renewal at a time: a refresh token is used once (the provider rotates it).
    a.renew = () => (pending ??= (async () => {
      const next = s.oidc ? await refresh(config, s.oidc) : null;
      if (next) {
        s.key = next.accessToken;
        s.oidc = next.tokens;
        saveSession(s);
        scheduleRenewal(a);
        return true;
      }
      // No refresh token, or the provider refused it: sign in again (with the provider's session
      // still alive, it sends the browser straight back).
      await beginLogin(config, s.tenant);
      return new Promise<boolean>(() => undefined); // the page is leaving
    })().finally(() => { pending = undefined; }));
    scheduleRenewal(a);
  }
  return a;
}

let renewal: ReturnType<typeof setTimeout> | undefined;
function scheduleRenewal(a: Api): void {
  clearTimeout(renewal);
  const at = a.session.oidc?.expiresAt;
  if (at === undefined || !a.renew) return;
  // 30 s before it expires (Api.call renews from then on too).
  renewal = setTimeout(() => { if (api === a) void a.renew?.(); }, Math.max(0, at - Date.now() - 30e3));
}

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
  if (oidc) {
    // The identity provider first: staff sign in with their account; keys are for machines.
    const config = oidc;
    const idp = h('button', { type: 'button', class: 'btn', id: 'signin-idp', 'aria-describedby': 'idp-hint' }, t('signInIdp'));
    idp.addEventListener('click', () => {
      beginLogin(config, tenant.value.trim()).catch((err) => {
        error.textContent = `${t('signInFailed')}: ${err instanceof Error ? err.message : String(err)}`;
      });
    });
    form.insertBefore(h('div', { class: 'field' }, idp, h('small', { id: 'idp-hint', class: 'muted' }, t('signInIdpHint')),
      h('p', { class: 'muted' }, t('orKey'))), key.parentElement);
    // The tenant field serves both ways of signing in: it goes before them.
    form.insertBefore(tenant.parentElement as HTMLElement, idp.parentElement);
  }
  error.textContent = signInProblem ? `${t('signInFailed')}: ${signInProblem}` : '';
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
    saveSession(session);
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
      const tokens = api?.session.oidc;
      sessionStorage.removeItem(STORE);
      api = undefined;
      clearTimeout(renewal);
      location.hash = '#/';
      // Signed in through the identity provider: its session ends too (it sends the browser back).
      if (tokens && oidc) void endSession(oidc, tokens).finally(() => void route());
      else void route();
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

async function start(): Promise<void> {
  oidc = await loadOidcConfig();
  if (oidc) {
    try {
      const back = await completeLogin(oidc);
      if (back) {
        saveSession({ tenant: back.tenant, key: back.accessToken, oidc: back.tokens });
        history.replaceState(null, '', `/console/${back.back}`); // no hashchange: start routes below
      }
    } catch (err) {
      signInProblem = err instanceof Error ? err.message : String(err);
    }
  }
  const session = loadSession();
  if (session) api = openSession(session);
  bindLangButton($('lang'), () => void route(false));
  window.addEventListener('hashchange', () => void route());
  void route(false);
}

void start();
