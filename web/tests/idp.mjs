// A real OpenID provider on loopback for the console's sign-in tests: the npm package
// `oidc-provider` (a certified implementation) with one public client (the console, code flow
// with PKCE, refresh tokens), one user with a password, and its own login page. Access tokens are
// JWTs (RS256) for the resource "allmende" carrying the user's tenant and roles -- what the
// Allmende server verifies with the provider's public keys (--jwks-file / --jwks-url).
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const RESOURCE = 'urn:allmende:api';
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// Listens on 127.0.0.1 (port 0) first, so the issuer URL is known before the Allmende server
// starts; `configure` then creates the provider once the console's address is known.
export async function startIdp() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'idp-key-1';
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] };
  const users = new Map();
  const log = []; // the token endpoint's grants, in order: what the console asked for
  let handler = (_req, res) => { res.writeHead(503); res.end(); };
  const http = createServer((req, res) => handler(req, res));
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${http.address().port}`;
  let provider;

  function page(res, status, title, body) {
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`<!doctype html><html lang="de"><head><meta charset="utf-8"><title>${title}</title></head>` +
      `<body><main><h1>${title}</h1>${body}</main></body></html>`);
  }
  function loginForm(res, uid, client, error = '') {
    page(res, error ? 401 : 200, 'Anmeldung Landesportal', `<p>Anmeldung für ${escapeHtml(client)}</p>` +
      (error ? `<p role="alert" id="login-error">${escapeHtml(error)}</p>` : '') +
      `<form method="post" action="/interaction/${uid}/login">` +
      '<p><label for="username">Benutzername</label> <input id="username" name="username" autocomplete="username"></p>' +
      '<p><label for="password">Passwort</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>' +
      '<p><button type="submit">Einloggen</button></p></form>');
  }
  async function formBody(req) {
    let text = '';
    for await (const chunk of req) text += chunk;
    return new URLSearchParams(text);
  }

  // The provider's login and consent steps (its "interactions"): a password check against the
  // user list; the console is a first-party client, so consent is granted without asking.
  async function interaction(req, res) {
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params, session } = details;
    if (prompt.name === 'login') {
      if (req.method === 'GET') return loginForm(res, uid, params.client_id);
      const form = await formBody(req);
      const user = users.get(form.get('username'));
      if (!user || user.password !== form.get('password')) return loginForm(res, uid, params.client_id, 'Benutzername oder Passwort falsch');
      return provider.interactionFinished(req, res, { login: { accountId: form.get('username') } }, { mergeWithLastSubmission: false });
    }
    if (prompt.name === 'consent') {
      const grant = details.grantId ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    return page(res, 400, 'Unbekannter Schritt', escapeHtml(prompt.name));
  }

  return {
    issuer,
    jwks,
    log,
    // A user of the provider: `claims` become claims of the access token (tenant, roles).
    addUser(name, password, claims) {
      users.set(name, { password, claims });
    },
    // The provider itself, for the console at `consoleUrl`; `accessTokenTTL` in seconds.
    configure({ consoleUrl, clientId = 'allmende-console', audience = 'allmende', accessTokenTTL = 600 }) {
      const redirect = `${consoleUrl}/console/`;
      provider = new Provider(issuer, {
        clients: [{ client_id: clientId, token_endpoint_auth_method: 'none', application_type: 'web',
          redirect_uris: [redirect], post_logout_redirect_uris: [redirect],
          grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
        jwks: { keys: [signingKey] },
        cookies: { keys: ['allmende-test-idp-cookie-key'] },
        claims: { openid: ['sub'], profile: ['name'] },
        findAccount: (_ctx, id) => (users.has(id) ? { accountId: id, claims: () => ({ sub: id, name: users.get(id).claims.name }) } : undefined),
        interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
        renderError: (ctx, out) => {
          ctx.type = 'html';
          ctx.body = `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Fehler</title></head><body><h1>Fehler</h1>` +
            `<p id="idp-error">${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p></body></html>`;
        },
        ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: accessTokenTTL, RefreshToken: 3600, IdToken: 600 },
        pkce: { required: () => true },
        // A refresh token for the console even without offline_access: its sessions outlive
        // one access token.
        issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
        clientBasedCORS: (_ctx, origin) => origin === new URL(consoleUrl).origin,
        features: {
          devInteractions: { enabled: false },
          // Its own pages, without the library's default ones (they load a web font from a
          // third party).
          rpInitiatedLogout: {
            enabled: true,
            logoutSource: (ctx, form) => {
              ctx.type = 'html';
              ctx.body = `<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Abmelden</title></head><body><main>` +
                `<h1>Beim Landesportal abmelden?</h1>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Ja, abmelden</button>` +
                '<button type="submit" form="op.logoutForm">Nein, angemeldet bleiben</button></main></body></html>';
            },
            postLogoutSuccessSource: (ctx) => {
              ctx.type = 'html';
              ctx.body = '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Abgemeldet</title></head><body><h1>Abgemeldet</h1></body></html>';
            },
          },
          resourceIndicators: {
            enabled: true,
            defaultResource: () => RESOURCE,
            useGrantedResource: () => true,
            getResourceServerInfo: (_ctx, indicator) => {
              if (indicator !== RESOURCE) throw new errors.InvalidTarget();
              return { scope: 'allmende', audience, accessTokenTTL, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
            },
          },
        },
        // The user's tenant and roles in the access token (docs/security.md: --jwt-tenant-claim,
        // --jwt-roles-claim).
        extraTokenClaims: (_ctx, token) => {
          const user = token.accountId && users.get(token.accountId);
          if (!user) return undefined;
          const { name, ...rest } = user.claims;
          return rest;
        },
      });
      provider.on('grant.success', (ctx) => log.push(ctx.oidc.params.grant_type));
      provider.on('server_error', (_ctx, err) => console.error('idp server_error', err));
      const callback = provider.callback();
      handler = (req, res) => {
        if (req.url.startsWith('/interaction/')) {
          interaction(req, res).catch((err) => { page(res, 500, 'Fehler', escapeHtml(err.message)); });
          return;
        }
        callback(req, res);
      };
    },
    async stop() {
      await new Promise((r) => { http.closeAllConnections?.(); http.close(r); });
    },
  };
}
