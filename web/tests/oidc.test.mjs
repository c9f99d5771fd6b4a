// The console's sign-in through the identity provider's login page (OIDC authorization code flow
// with PKCE, in the browser) against a real OpenID provider on loopback (idp.mjs, npm
// `oidc-provider`) and the real server in production mode, which trusts the provider's key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, watch, screenshot, seriousViolations, api } from './harness.mjs';
import { startIdp } from './idp.mjs';

const adminKey = 'alm_oidctestadminkey0123456789abcdefghijklmn';
const desktop = { viewport: { width: 1280, height: 800 }, locale: 'de-DE' };
let idp, server, browser;

before(async () => {
  idp = await startIdp();
  idp.addUser('mara.mueller', 'Rathaus-2026', { name: 'Mara Müller', tenant: 'nordheim', roles: ['tenant-admin'] });
  const dir = mkdtempSync(join(tmpdir(), 'allmende-oidc-'));
  writeFileSync(join(dir, 'admin.key'), adminKey + '\n', { mode: 0o600 });
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(idp.jwks));
  server = await startServer(['--production', '--admin-key-file', join(dir, 'admin.key'),
    '--jwks-file', join(dir, 'jwks.json'), '--jwt-issuer', idp.issuer, '--jwt-audience', 'allmende',
    '--oidc-issuer', idp.issuer, '--oidc-client-id', 'allmende-console', '--oidc-scopes', 'openid profile allmende'], { demo: false });
  idp.configure({ consoleUrl: server.url });
  const created = await api(server, 'POST', '/admin/v1/tenants', {
    headers: { 'X-API-Key': adminKey },
    body: { name: 'nordheim', ags: '09999002', displayName: 'Nordheim', template: 'small-town', contact: 'it@nordheim.example' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await idp?.stop();
});

const session = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('allmende.console')));

test('the console serves its identity provider, and its policy lets the page reach it', async () => {
  const config = await api(server, 'GET', '/console-config.json');
  assert.equal(config.status, 200);
  assert.deepEqual(config.json.oidc, { issuer: idp.issuer, clientId: 'allmende-console', scopes: 'openid profile allmende', tenantClaim: 'tenant' });
  const consolePage = await fetch(server.url + '/console/');
  assert.match(consolePage.headers.get('content-security-policy'), new RegExp(`connect-src 'self' ${idp.issuer};`));
  // The citizen app talks to no identity provider.
  const citizen = await fetch(server.url + '/');
  assert.match(citizen.headers.get('content-security-policy'), /connect-src 'self';/);
});

test('sign-in at the provider\'s page, the code exchanged in the browser, token renewal, sign-out', async () => {
  const ctx = await browser.newContext(desktop);
  // Nothing leaves the machine, whatever a page asks for (the assertion below names it).
  await ctx.route((u) => u.hostname !== '127.0.0.1', (r) => r.abort());
  const page = await ctx.newPage();
  const seen = watch(page, server.url);
  await page.goto(server.url + '/console/');
  await page.getByRole('button', { name: 'Anmeldung über den Identitätsanbieter' }).waitFor();
  await screenshot(page, 'console-signin-oidc');
  assert.deepEqual(await seriousViolations(page, 'console-signin-oidc'), []);
  const authorizations = [];
  page.on('request', (r) => { if (r.url().startsWith(`${idp.issuer}/auth?`)) authorizations.push(new URL(r.url())); });
  await page.getByRole('button', { name: 'Anmeldung über den Identitätsanbieter' }).click();

  // The provider's own login page: a wrong password is refused there.
  await page.waitForURL((u) => u.origin === idp.issuer);
  const authorize = authorizations[0];
  await page.getByLabel('Benutzername').fill('mara.mueller');
  await page.getByLabel('Passwort').fill('falsch');
  await page.getByRole('button', { name: 'Einloggen' }).click();
  await page.waitForSelector('#login-error');
  await page.getByLabel('Benutzername').fill('mara.mueller');
  await page.getByLabel('Passwort').fill('Rathaus-2026');
  await page.getByRole('button', { name: 'Einloggen' }).click();

  // Back in the console, signed in to the tenant of the token's claim, the code gone from the URL.
  await page.waitForSelector('h1:text("Übersicht")');
  assert.equal(new URL(page.url()).search, '');
  assert.equal(await page.locator('#who').textContent(), 'nordheim');
  await page.locator('section.card', { hasText: 'Entitäten' }).locator('p:not(.loading), table').first().waitFor();
  assert.deepEqual(idp.log, ['authorization_code']);
  const first = await session(page);
  assert.equal(first.tenant, 'nordheim');
  assert.ok(first.oidc.refreshToken && first.oidc.idToken && first.oidc.expiresAt > Date.now());
  // The request carried PKCE (S256), a state and a nonce; the access token is the provider's JWT
  // for this server, with the user's tenant and roles.
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(authorize.searchParams.get('code_challenge') && authorize.searchParams.get('state') && authorize.searchParams.get('nonce'));
  const claims = JSON.parse(Buffer.from(first.key.split('.')[1], 'base64url').toString());
  assert.equal(claims.iss, idp.issuer);
  assert.equal(claims.aud, 'allmende');
  assert.equal(claims.tenant, 'nordheim');
  assert.deepEqual(claims.roles, ['tenant-admin']);
  await screenshot(page, 'console-overview-oidc');

  // The server knows the user by the token: the audit log names the token's subject.
  await page.getByRole('link', { name: 'Schlüssel' }).click();
  await page.getByLabel('Rolle').selectOption('reader');
  await page.getByLabel('Name').fill('Anzeige Bürgerbüro');
  await page.getByRole('button', { name: 'Anlegen' }).click();
  await page.waitForSelector('code.secret');
  const audit = await api(server, 'GET', '/admin/v1/tenants/nordheim/audit?subject=mara.mueller', { headers: { 'X-API-Key': adminKey } });
  assert.equal(audit.status, 200, JSON.stringify(audit.json));
  assert.ok(JSON.stringify(audit.json).includes('/admin/v1/tenants/nordheim/keys'), JSON.stringify(audit.json));

  // Shortly before the token expires the console renews it with the refresh token.
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('allmende.console'));
    s.oidc.expiresAt = Date.now() + 10e3; // within the 30 s margin
    sessionStorage.setItem('allmende.console', JSON.stringify(s));
  });
  await page.reload();
  await page.waitForSelector('h1:text("Schlüssel")');
  await page.waitForSelector('table tbody tr');
  assert.deepEqual(idp.log, ['authorization_code', 'refresh_token']);
  const second = await session(page);
  assert.notEqual(second.key, first.key);
  assert.notEqual(second.oidc.refreshToken, first.oidc.refreshToken, 'the provider rotates refresh tokens of public clients');

  // A token the server refuses (here: its signature broken) is renewed once and the call repeated.
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('allmende.console'));
    s.key = s.key.slice(0, -6) + (s.key.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA');
    sessionStorage.setItem('allmende.console', JSON.stringify(s));
  });
  await page.getByRole('link', { name: 'Übersicht' }).click();
  await page.reload();
  await page.waitForSelector('h1:text("Übersicht")');
  await page.locator('section.card', { hasText: 'Entitäten' }).locator('p:not(.loading), table').first().waitFor();
  assert.deepEqual(idp.log, ['authorization_code', 'refresh_token', 'refresh_token']);

  // No refresh token left (refused by the provider): the console signs in again; the provider's
  // session is still there, so the browser comes straight back without a login page.
  await page.evaluate(() => {
    const s = JSON.parse(sessionStorage.getItem('allmende.console'));
    s.oidc.refreshToken = 'not-a-refresh-token';
    s.oidc.expiresAt = Date.now() - 1000;
    sessionStorage.setItem('allmende.console', JSON.stringify(s));
  });
  await page.reload();
  await page.waitForSelector('h1:text("Übersicht")');
  await page.locator('section.card', { hasText: 'Entitäten' }).locator('p:not(.loading), table').first().waitFor();
  assert.deepEqual(idp.log, ['authorization_code', 'refresh_token', 'refresh_token', 'authorization_code']);
  assert.equal(await page.locator('#who').textContent(), 'nordheim');

  // Sign-out ends the provider's session too: it asks, then sends the browser back to the
  // console's sign-in form; the next sign-in needs the password again.
  await page.getByRole('button', { name: 'Abmelden' }).click();
  await page.waitForURL((u) => u.origin === idp.issuer);
  await page.getByRole('button', { name: 'Ja, abmelden' }).click();
  await page.waitForURL((u) => u.origin === server.url && u.pathname === '/console/');
  await page.getByRole('button', { name: 'Anmeldung über den Identitätsanbieter' }).waitFor();
  assert.equal(await session(page), null);
  await page.getByRole('button', { name: 'Anmeldung über den Identitätsanbieter' }).click();
  await page.getByLabel('Passwort').waitFor();
  assert.deepEqual(seen.problems, []);
  assert.deepEqual(seen.foreign.filter((u) => !u.startsWith(idp.issuer)), [], 'only the identity provider besides the server');
  await ctx.close();
});

test('a return from the provider that this tab did not start is refused', async () => {
  const ctx = await browser.newContext(desktop);
  const page = await ctx.newPage();
  const exchanges = idp.log.length;
  await page.goto(`${server.url}/console/?code=stolen&state=forged`);
  await page.waitForSelector('#signin-error:not(:empty)');
  assert.match(await page.locator('#signin-error').textContent(), /state/);
  assert.equal(new URL(page.url()).search, '');
  assert.equal(await session(page), null);
  assert.equal(idp.log.length, exchanges, 'no code was sent to the provider');
  await ctx.close();
});
