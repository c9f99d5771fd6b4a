// The operator console on a desktop (1280 x 800) against the real server in production mode
// (API keys, audit log) with the demo municipality in the default tenant and a second
// municipality rolled in from the small-town template.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { startServer, launchBrowser, watch, screenshot, seriousViolations, api, demoRun } from './harness.mjs';

const adminKey = 'alm_consoletestadminkey0123456789abcdefghijkl';
let server, browser, context, tenantKey;
const desktop = { viewport: { width: 1280, height: 800 }, locale: 'de-DE' };

before(async () => {
  const keyFile = join(process.env.TMPDIR || '/tmp', `allmende-console-admin-${process.pid}.key`);
  writeFileSync(keyFile, adminKey + '\n', { mode: 0o600 });
  // Notifications to the test's receiver on loopback (production denies private addresses).
  server = await startServer(['--production', '--admin-key-file', keyFile, '--egress-allow', '127.0.0.1']);
  const created = await api(server, 'POST', '/admin/v1/tenants', {
    headers: { 'X-API-Key': adminKey },
    body: { name: 'nordheim', ags: '09999002', displayName: 'Nordheim', template: 'small-town', contact: 'it@nordheim.example',
      area: { type: 'Polygon', coordinates: [[[11.28, 48.94], [11.32, 48.94], [11.32, 48.96], [11.28, 48.96], [11.28, 48.94]]] } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  tenantKey = created.json.apiKeys.find((k) => k.role === 'tenant-admin').key;
  // The demo's flood simulation writes gauges and buildings into the default tenant when it ends:
  // the tests start after it, so the counts they compare stay put.
  await demoRun(server, { 'X-API-Key': adminKey });
  browser = await launchBrowser();
  context = await browser.newContext(desktop);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(page, key, tenant = '') {
  await page.goto(server.url + '/console/');
  await page.getByLabel('API-Schlüssel').fill(key);
  await page.getByLabel('Gemeinde (Mandant)').fill(tenant);
  await page.getByRole('button', { name: 'Anmelden' }).click();
}

test('a wrong key is refused with the reason shown at the form', async () => {
  const page = await context.newPage();
  await signIn(page, 'alm_wrong');
  await page.waitForSelector('#signin-error:not(:empty)');
  assert.match(await page.locator('#signin-error').textContent(), /401/);
  assert.equal(await page.getByLabel('API-Schlüssel').getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'console-signin');
  assert.deepEqual(await seriousViolations(page, 'console-signin'), []);
  await page.close();
});

test('the platform admin sees the overview of the demo municipality', async () => {
  const ctx = await browser.newContext(desktop);
  const page = await ctx.newPage();
  const seen = watch(page, server.url);
  // The citizen app's service worker is installed first: it must not keep what the console reads.
  await page.goto(server.url + '/');
  await page.waitForFunction(async () => !!(await navigator.serviceWorker.getRegistration())?.active); // installed (all of the shell cached)
  await signIn(page, adminKey);
  await page.waitForSelector('h1:text("Übersicht")');
  const entitiesCard = page.locator('section.card', { hasText: 'Entitäten' });
  await entitiesCard.locator('table').waitFor();
  const row = entitiesCard.locator('tr', { hasText: 'FloodMonitoring' });
  // 6 gauges of the demo and 3 virtual ones of its flood simulation.
  const gauges = await api(server, 'GET', '/ngsi-ld/v1/entities?type=FloodMonitoring&count=true&limit=0', { headers: { 'X-API-Key': adminKey } });
  assert.equal(gauges.headers.get('ngsild-results-count'), '9');
  assert.equal(await row.locator('td').nth(1).textContent(), '9');
  await page.locator('section.card', { hasText: 'Abonnements' }).locator('p:not(.loading)').first().waitFor();
  await screenshot(page, 'console-overview');
  assert.deepEqual(await seriousViolations(page, 'console-overview'), []);
  assert.deepEqual(seen.foreign, []);
  assert.deepEqual(seen.problems, []);
  const stored = await page.evaluate(async () => (await (await caches.open('allmende-data')).keys()).map((r) => r.url));
  assert.deepEqual(stored.filter((u) => u.includes('/ngsi-ld/v1/types') || u.includes('count=true')), []);
  await ctx.close();
});

test('entity browser and editor: filter, edit, validation errors inline', async () => {
  const page = await context.newPage();
  await signIn(page, adminKey);
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Entitäten', exact: true }).click();
  await page.getByLabel('Typ').selectOption('FloodMonitoring');
  await page.getByLabel('Abfrage (q)').fill('currentLevel>2.5');
  await page.getByRole('button', { name: 'Filtern' }).click();
  await page.waitForSelector('table tbody tr');
  const expected = (await api(server, 'GET', '/ngsi-ld/v1/entities?type=FloodMonitoring&q=currentLevel>2.5&limit=100',
    { headers: { 'X-API-Key': adminKey } })).json;
  assert.equal(await page.locator('table tbody tr').count(), expected.length);
  await screenshot(page, 'console-entities');
  // The map area as a filter: the visible box becomes a geoQ `within`.
  await page.goto(`${server.url}/console/#/entities/ParkingSpot?q=&bbox=11.2505,48.899,11.2555,48.9015`);
  await page.waitForSelector('.areamap.leaflet-container');
  await page.waitForSelector('table tbody tr');
  const box = [[[11.2505, 48.899], [11.2555, 48.899], [11.2555, 48.9015], [11.2505, 48.9015], [11.2505, 48.899]]];
  const inBox = (await api(server, 'GET', `/ngsi-ld/v1/entities?type=ParkingSpot&georel=within&geometry=Polygon&coordinates=${encodeURIComponent(JSON.stringify(box))}&limit=100`,
    { headers: { 'X-API-Key': adminKey } })).json;
  assert.ok(inBox.length > 0 && inBox.length < 12);
  assert.equal(await page.locator('table tbody tr').count(), inBox.length);
  assert.equal(await page.locator('#f-area').isChecked(), true);
  // Submitting keeps an area filter (the box the map now shows).
  await page.getByRole('button', { name: 'Filtern' }).click();
  await page.waitForFunction(() => /bbox=/.test(location.hash));
  await page.waitForSelector('table tbody tr');
  await screenshot(page, 'console-entities-area');
  // A bad q is answered with the server's ProblemDetails next to the field.
  await page.getByLabel('Abfrage (q)').fill('currentLevel>>');
  await page.getByRole('button', { name: 'Filtern' }).click();
  await page.waitForSelector('#f-error:not(:empty)');
  assert.match(await page.locator('#f-error').textContent(), /400/);
  // Edit gauge 1.
  const id = 'urn:ngsi-ld:FloodMonitoring:09999001:1';
  await page.goto(`${server.url}/console/#/entity/${encodeURIComponent(id)}`);
  const area = page.getByLabel('JSON (NGSI-LD, normalisiert)');
  await area.waitFor();
  const doc = JSON.parse(await area.inputValue());
  doc.name.value = 'Pegel Mühlbach Nord';
  await area.fill(JSON.stringify(doc, null, 2));
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForSelector('[role=status]:text("Gespeichert")');
  const stored = await api(server, 'GET', `/ngsi-ld/v1/entities/${encodeURIComponent(id)}?options=keyValues`, { headers: { 'X-API-Key': adminKey } });
  assert.equal(stored.json.name, 'Pegel Mühlbach Nord');
  // Invalid: a Property without a value; the entity stays as it was.
  doc.name = { type: 'Property' };
  await area.fill(JSON.stringify(doc, null, 2));
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForSelector('#entity-json-error:not(:empty)');
  assert.match(await page.locator('#entity-json-error').textContent(), /400/);
  assert.equal(await area.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'console-entity-error');
  // Not JSON at all.
  await area.fill('{"id": ');
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForFunction(() => /JSON/.test(document.querySelector('#entity-json-error').textContent));
  const again = await api(server, 'GET', `/ngsi-ld/v1/entities/${encodeURIComponent(id)}?options=keyValues`, { headers: { 'X-API-Key': adminKey } });
  assert.equal(again.json.name, 'Pegel Mühlbach Nord');
  await page.close();
});

test('subscriptions: create one and see it listed', async () => {
  const page = await context.newPage();
  await signIn(page, adminKey);
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Abonnements' }).click();
  await page.waitForSelector('h1:text("Abonnements")');
  const before = (await api(server, 'GET', '/ngsi-ld/v1/subscriptions', { headers: { 'X-API-Key': adminKey } })).json.length;
  await page.getByRole('button', { name: 'Anlegen' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('table tbody tr').length === n + 1, before);
  const after = (await api(server, 'GET', '/ngsi-ld/v1/subscriptions', { headers: { 'X-API-Key': adminKey } })).json;
  assert.equal(after.length, before + 1);
  assert.match(await page.locator('table').textContent(), new RegExp(after[after.length - 1].id));
  await screenshot(page, 'console-subscriptions');
  await page.close();
});

test('devices with their health', async () => {
  const r = await api(server, 'POST', '/admin/v1/devices', {
    headers: { 'X-API-Key': adminKey },
    body: { id: 'pegel-7', entity: { id: 'urn:ngsi-ld:FloodMonitoring:09999001:7', type: 'FloodMonitoring' },
      mapping: { format: 'flat', fields: [{ source: 'lvl', attribute: 'currentLevel', unitCode: 'MTR' }] } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  const page = await context.newPage();
  await signIn(page, adminKey);
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Geräte' }).click();
  await page.waitForSelector('table tbody tr');
  assert.match(await page.locator('table tbody tr', { hasText: 'pegel-7' }).textContent(), /in Ordnung/);
  await screenshot(page, 'console-devices');
  // Edit its registration: a new interval is stored, a bad mapping is refused at the field.
  await page.getByRole('link', { name: 'pegel-7' }).click();
  const area = page.getByLabel('JSON (NGSI-LD, normalisiert)');
  await area.waitFor();
  const doc = JSON.parse(await area.inputValue());
  doc.expectedInterval = 900;
  await area.fill(JSON.stringify(doc));
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForSelector('[role=status]:text("Gespeichert")');
  const stored = await api(server, 'GET', '/admin/v1/devices/pegel-7', { headers: { 'X-API-Key': adminKey } });
  assert.equal(stored.json.expectedInterval, 900);
  doc.mapping.format = 'nonsense';
  await area.fill(JSON.stringify(doc));
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForSelector('#device-json-error:not(:empty)');
  assert.match(await page.locator('#device-json-error').textContent(), /^400/);
  await page.close();
});

test('a tenant admin manages keys and reads the audit log', async () => {
  const page = await context.newPage();
  await signIn(page, tenantKey, 'nordheim');
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Schlüssel' }).click();
  await page.waitForSelector('h1:text("Schlüssel")');
  const rows = await page.locator('table tbody tr').count();
  await page.getByLabel('Rolle').selectOption('reader');
  await page.getByLabel('Name').fill('Dashboard Rathaus');
  await page.getByRole('button', { name: 'Anlegen' }).click();
  await page.waitForSelector('code.secret');
  const secret = await page.locator('code.secret').textContent();
  assert.match(secret, /^alm_/);
  assert.equal(await page.locator('table tbody tr').count(), rows + 1);
  // The new key works for reads of its tenant.
  const read = await api(server, 'GET', '/ngsi-ld/v1/types', { headers: { 'X-API-Key': secret, 'NGSILD-Tenant': 'nordheim' } });
  assert.equal(read.status, 200);
  await screenshot(page, 'console-keys');
  await page.getByRole('link', { name: 'Prüfprotokoll' }).click();
  await page.waitForSelector('h1:text("Prüfprotokoll")');
  await page.waitForSelector('table tbody tr');
  assert.match(await page.locator('table').textContent(), /\/admin\/v1\/tenants\/nordheim\/keys/);
  await screenshot(page, 'console-audit');
  assert.deepEqual(await seriousViolations(page, 'console-audit'), []);
  await page.close();
});

test('the citizen app of a registered municipality reads its public data anonymously', async () => {
  const headers = { 'X-API-Key': tenantKey, 'NGSILD-Tenant': 'nordheim' };
  const now = Date.now();
  const gauge = (level, at) => ({ id: 'urn:ngsi-ld:FloodMonitoring:09999002:1', type: 'FloodMonitoring',
    name: { type: 'Property', value: 'Pegel Nordbach' },
    currentLevel: { type: 'Property', value: level, unitCode: 'MTR', observedAt: new Date(at).toISOString() },
    alertLevel: { type: 'Property', value: 1.5, unitCode: 'MTR' },
    operatorNote: { type: 'Property', value: 'Schlüssel beim Bauhof' },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [11.3, 48.95] } } });
  for (const [i, level] of [1.1, 1.3, 1.7].entries()) {
    const r = await api(server, 'POST', '/ngsi-ld/v1/entityOperations/upsert', { headers, body: [gauge(level, now - (3 - i) * 3600e3)] });
    assert.ok(r.status === 201 || r.status === 204, JSON.stringify(r.json));
  }
  const bin = await api(server, 'POST', '/ngsi-ld/v1/entities', { headers, body: { id: 'urn:ngsi-ld:WasteContainer:09999002:1',
    type: 'WasteContainer', fillingLevel: { type: 'Property', value: 0.5 },
    location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [11.3, 48.95] } } } });
  assert.equal(bin.status, 201);

  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'de-DE' });
  const page = await ctx.newPage();
  const seen = watch(page, server.url);
  await page.goto(server.url + '/?t=nordheim');
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.locator('#town').textContent(), 'Nordheim');
  // No base map configured: the municipality's outline (its registered area) and the data.
  assert.equal(await page.locator('.leaflet-overlay-pane path.outline').count(), 1);
  assert.equal(await page.locator('.leaflet-tile').count(), 0);
  // The layers are the catalogue's public types; the private waste container is nowhere.
  assert.equal(await page.locator('#layer-FloodMonitoring').count(), 1);
  assert.equal(await page.locator('#layer-WasteContainer').count(), 0);
  assert.equal(await page.locator('.places .list li').count(), 1);
  assert.match(await page.locator('.warnings').textContent(), /Pegel Nordbach/);
  await page.locator('.places .list a').first().click();
  await page.waitForSelector('svg.chart');
  const text = await page.locator('main').textContent();
  assert.match(text, /1,7 m/);
  assert.doesNotMatch(text, /Bauhof/, 'a private attribute is not shown');
  await screenshot(page, 'citizen-public-tenant');
  assert.deepEqual(seen.foreign, []);
  assert.deepEqual(seen.problems, []);
  await ctx.close();
});

test('overview: the ingestion and notification rates follow readings and notifications', async () => {
  const headers = { 'X-API-Key': tenantKey, 'NGSILD-Tenant': 'nordheim' };
  const entity = 'urn:ngsi-ld:FloodMonitoring:09999002:rate';
  const notified = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { notified.push(body); res.writeHead(204); res.end(); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    const device = await api(server, 'POST', '/admin/v1/devices', { headers, body: { id: 'pegel-rate', entity: { id: entity, type: 'FloodMonitoring' },
      mapping: { format: 'flat', fields: [{ source: 'lvl', attribute: 'currentLevel', unitCode: 'MTR', type: 'number' }] } } });
    assert.equal(device.status, 201, JSON.stringify(device.json));
    const sub = await api(server, 'POST', '/ngsi-ld/v1/subscriptions', { headers, body: { type: 'Subscription', entities: [{ id: entity, type: 'FloodMonitoring' }],
      notification: { endpoint: { uri: `http://127.0.0.1:${receiver.address().port}/notify`, accept: 'application/json' } } } });
    assert.equal(sub.status, 201, JSON.stringify(sub.json));
    // The server's totals, as the console reads them.
    const totals = async () => {
      const devices = (await api(server, 'GET', '/admin/v1/devices', { headers })).json;
      const subs = (await api(server, 'GET', '/ngsi-ld/v1/subscriptions?limit=1000', { headers })).json;
      return { ingested: devices.reduce((n, d) => n + (d.accepted ?? 0) + (d.rejected ?? 0), 0),
        sent: subs.reduce((n, s) => n + (s.notification?.timesSent ?? 0), 0) };
    };
    // The console samples every 15 s: the page's clock is driven by the test (its own context).
    const ctx = await browser.newContext(desktop);
    await ctx.clock.install();
    const page = await ctx.newPage();
    await signIn(page, tenantKey, 'nordheim');
    await page.waitForSelector('h1:text("Übersicht")');
    const rates = page.locator('dl.rates dd');
    await rates.first().waitFor();
    const before = await totals();
    assert.equal(await rates.nth(0).textContent(), `… (Σ ${before.ingested})`);
    assert.equal(await rates.nth(1).textContent(), `… (Σ ${before.sent})`);
    // Three readings through the ingest endpoint (one a rejected one), each accepted one notified.
    for (const body of [{ lvl: 1.1 }, { lvl: 'high' }, { lvl: 1.3 }]) {
      const r = await api(server, 'POST', '/ingest/v1/nordheim/pegel-rate', { headers, body });
      assert.ok([204, 400].includes(r.status), JSON.stringify(r.json));
    }
    for (;;) {
      const now = await totals();
      if (now.ingested === before.ingested + 3 && now.sent === before.sent + 2) break;
      assert.ok(now.sent <= before.sent + 2, 'one notification per stored reading');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(notified.length, 2);
    await ctx.clock.fastForward(15000);
    await page.waitForFunction((n) => document.querySelector('dl.rates dd').textContent.endsWith(`(Σ ${n})`), before.ingested + 3);
    await page.waitForFunction((n) => document.querySelectorAll('dl.rates dd')[1].textContent.endsWith(`(Σ ${n})`), before.sent + 2);
    // Per minute over the window: at most 3 and 2 per 15 s (the window is at least 15 s long).
    const perMinute = async (i) => Number((await rates.nth(i).textContent()).split(' ')[0]);
    const ingestRate = await perMinute(0);
    const notifyRate = await perMinute(1);
    assert.ok(ingestRate > 0 && ingestRate <= 12, `ingestion ${ingestRate}/min`);
    assert.ok(notifyRate > 0 && notifyRate <= 8, `notification ${notifyRate}/min`);
    await screenshot(page, 'console-overview-rates');
    // A quiet window: both rates fall to 0, the totals stay.
    await ctx.clock.fastForward(15000);
    await page.waitForFunction(() => document.querySelector('dl.rates dd').textContent.startsWith('0 '));
    assert.equal(await rates.nth(0).textContent(), `0 (Σ ${before.ingested + 3})`);
    assert.equal(await rates.nth(1).textContent(), `0 (Σ ${before.sent + 2})`);
    await ctx.close();
  } finally {
    receiver.close();
  }
});

test('the platform admin lists the tenants; a tenant admin works through the roll-in checklist', async () => {
  const page = await context.newPage();
  await signIn(page, adminKey);
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Mandanten' }).click();
  await page.waitForSelector('table tbody tr');
  assert.match(await page.locator('table tbody').textContent(), /nordheim.*active/);
  await screenshot(page, 'console-tenants');
  // Suspend and activate again: the registry follows.
  await page.getByRole('button', { name: 'Sperren nordheim' }).click();
  await page.getByRole('button', { name: 'Aktivieren nordheim' }).waitFor();
  assert.equal((await api(server, 'GET', '/admin/v1/tenants/nordheim', { headers: { 'X-API-Key': adminKey } })).json.status, 'suspended');
  await page.getByRole('button', { name: 'Aktivieren nordheim' }).click();
  await page.getByRole('button', { name: 'Sperren nordheim' }).waitFor();
  assert.equal((await api(server, 'GET', '/admin/v1/tenants/nordheim', { headers: { 'X-API-Key': adminKey } })).json.status, 'active');
  await page.getByRole('button', { name: 'Abmelden' }).click();
  await signIn(page, tenantKey, 'nordheim');
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Checkliste' }).click();
  await page.waitForSelector('ul.checklist li');
  const before = (await api(server, 'GET', '/admin/v1/tenants/nordheim/checklist', { headers: { 'X-API-Key': tenantKey } })).json;
  const manual = before.items.find((i) => !i.check && !i.done);
  assert.ok(manual, 'small-town has a manual item');
  await page.locator(`#check-${manual.id}`).check();
  await page.waitForFunction(async (id) => {
    const r = await fetch('/admin/v1/tenants/nordheim/checklist', { headers: { 'X-API-Key': JSON.parse(sessionStorage.getItem('allmende.console')).key } });
    return (await r.json()).items.find((i) => i.id === id).done === true;
  }, manual.id);
  await screenshot(page, 'console-checklist');
  assert.deepEqual(await seriousViolations(page, 'console-checklist'), []);
  await page.close();
});

test('the platform admin rolls in a municipality from a template, sees its entities and checklist, and deletes it', async () => {
  const headers = { 'X-API-Key': adminKey };
  const page = await context.newPage();
  const seen = watch(page, server.url);
  await signIn(page, adminKey);
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Mandanten' }).click();
  await page.waitForSelector('form[aria-labelledby="nt-title"]');
  // The templates the server knows are offered, small-town first (the only one), with what it gives.
  assert.equal(await page.locator('#nt-template').inputValue(), 'small-town');
  assert.match(await page.locator('#nt-template-hint').textContent(), /Pegel/);
  // A wrong AGS: the server's ProblemDetails at the field, nothing created.
  await page.getByLabel('Amtlicher Gemeindeschlüssel (AGS, 8 Ziffern)').fill('123');
  await page.getByLabel(/^Mandant \(Name/).fill('suedheim');
  await page.getByLabel('Anzeigename').fill('Südheim');
  await page.getByRole('button', { name: 'Aufnehmen' }).click();
  await page.waitForSelector('#nt-error:not(:empty)');
  assert.match(await page.locator('#nt-error').textContent(), /^400 .*AGS/);
  assert.equal(await page.locator('#nt-ags').getAttribute('aria-invalid'), 'true');
  assert.equal((await api(server, 'GET', '/admin/v1/tenants/suedheim', { headers })).status, 404);
  await screenshot(page, 'console-tenants-rollin-error');
  assert.deepEqual(await seriousViolations(page, 'console-tenants-rollin'), []);
  // An AGS that is taken (nordheim's): 409 shown, nothing created.
  await page.getByLabel('Amtlicher Gemeindeschlüssel (AGS, 8 Ziffern)').fill('09999002');
  await page.getByRole('button', { name: 'Aufnehmen' }).click();
  await page.waitForFunction(() => /^409/.test(document.querySelector('#nt-error').textContent));
  // Right: the tenant's page with its keys (once), catalogue and checklist.
  await page.getByLabel('Amtlicher Gemeindeschlüssel (AGS, 8 Ziffern)').fill('09999003');
  await page.getByRole('button', { name: 'Aufnehmen' }).click();
  await page.waitForFunction(() => location.hash === '#/tenants/suedheim');
  await page.waitForSelector('h1:text("Südheim (suedheim)")');
  const stored = (await api(server, 'GET', '/admin/v1/tenants/suedheim', { headers })).json;
  assert.equal(stored.template, 'small-town');
  assert.equal(stored.ags, '09999003');
  const key = (await page.locator('code.secret').first().textContent()).trim();
  assert.match(key, /^alm_/);
  await page.waitForSelector('ul.checklist li');
  const checklist = (await api(server, 'GET', '/admin/v1/tenants/suedheim/checklist', { headers })).json;
  assert.equal(await page.locator('ul.checklist li').count(), checklist.items.length);
  assert.equal(await page.locator('#tcheck-first-data').isChecked(), false);
  await page.waitForSelector('table:has(caption:text("Datenmodelle und Entitäten")) tbody tr');
  const catalogue = await page.locator('table:has(caption:text("Datenmodelle und Entitäten")) tbody').textContent();
  for (const type of stored.settings.dataModels.map((m) => m.type)) assert.ok(catalogue.includes(`(${type})`), type);
  // The municipality writes its first gauge with the key it was given: the page shows it.
  const created = await api(server, 'POST', '/ngsi-ld/v1/entities', {
    headers: { 'X-API-Key': key, 'NGSILD-Tenant': 'suedheim' },
    body: { id: 'urn:ngsi-ld:FloodMonitoring:09999003:1', type: 'FloodMonitoring', currentLevel: { type: 'Property', value: 0.4 } },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  await page.reload();
  await page.waitForSelector('#tcheck-first-data');
  assert.equal(await page.locator('#tcheck-first-data').isChecked(), true);
  assert.equal(await page.locator('code.secret').count(), 0, 'the keys are shown only once');
  const gaugeRow = page.locator('table:has(caption:text("Datenmodelle und Entitäten")) tr:has-text("(FloodMonitoring)")');
  await gaugeRow.waitFor();
  assert.match(await gaugeRow.textContent(), /ja\s*1$/);
  // A manual item ticked off by the platform admin.
  const manual = checklist.items.find((i) => !i.check);
  await page.locator(`#tcheck-${manual.id}`).check();
  await page.waitForFunction(async (id) => {
    const r = await fetch('/admin/v1/tenants/suedheim/checklist', { headers: { 'X-API-Key': JSON.parse(sessionStorage.getItem('allmende.console')).key } });
    return (await r.json()).items.find((i) => i.id === id).done === true;
  }, manual.id);
  await screenshot(page, 'console-tenant');
  assert.deepEqual(await seriousViolations(page, 'console-tenant'), []);
  // Suspend from the tenant's page.
  await page.getByRole('button', { name: 'Sperren suedheim' }).click();
  await page.getByRole('button', { name: 'Aktivieren suedheim' }).waitFor();
  assert.equal((await api(server, 'GET', '/admin/v1/tenants/suedheim', { headers })).json.status, 'suspended');
  // Deletion needs the name: a wrong one is refused by the server and shown; the right one deletes.
  await page.getByLabel('Name zur Bestätigung').fill('nordheim');
  await page.getByRole('button', { name: 'Mandant löschen' }).click();
  await page.waitForSelector('#del-error:not(:empty)');
  assert.match(await page.locator('#del-error').textContent(), /^400 .*confirm=suedheim/);
  assert.equal((await api(server, 'GET', '/admin/v1/tenants/suedheim', { headers })).status, 200);
  await page.getByLabel('Name zur Bestätigung').fill('suedheim');
  await page.getByRole('button', { name: 'Mandant löschen' }).click();
  await page.waitForFunction(() => location.hash === '#/tenants');
  await page.waitForSelector('p[role="status"]:text("Gelöscht: suedheim")');
  assert.doesNotMatch(await page.locator('table tbody').textContent(), /suedheim/);
  assert.equal((await api(server, 'GET', '/admin/v1/tenants/suedheim', { headers })).status, 404);
  assert.equal((await api(server, 'GET', '/admin/v1/tenants/nordheim', { headers })).status, 200);
  assert.deepEqual(seen.foreign, []);
  assert.deepEqual(seen.problems, []);
  await page.close();
});

test('open data: a tenant admin publishes a dataset', async () => {
  const page = await context.newPage();
  await signIn(page, tenantKey, 'nordheim');
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Open Data' }).click();
  await page.getByRole('link', { name: 'Neuer Datensatz' }).click();
  const area = page.getByLabel('JSON (DCAT-AP.de)');
  await area.waitFor();
  const doc = JSON.parse(await area.inputValue());
  doc.license = 'no-such-licence';
  await area.fill(JSON.stringify(doc));
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForSelector('#dataset-json-error:not(:empty)');
  assert.match(await page.locator('#dataset-json-error').textContent(), /^400/);
  doc.license = 'dl-by-de/2.0';
  await area.fill(JSON.stringify(doc));
  await page.getByRole('button', { name: 'Speichern' }).click();
  await page.waitForSelector('[role=status]:text("Gespeichert")');
  const catalog = await fetch(`${server.url}/open/v1/nordheim/catalog`, { headers: { Accept: 'text/turtle' } });
  assert.equal(catalog.status, 200);
  assert.match(await catalog.text(), /Parkplatzbelegung/);
  await page.getByRole('link', { name: '← Open Data' }).click();
  await page.waitForSelector('table tbody tr');
  assert.match(await page.locator('table tbody').textContent(), /parking/);
  await screenshot(page, 'console-opendata');
  await page.close();
});

test('the citizen app says so when a municipality has no public data', async () => {
  // Production: the default tenant has no catalogue, so nothing may be read anonymously.
  const page = await context.newPage();
  await page.goto(server.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  assert.match(await page.locator('main [role=alert]').textContent(), /keine öffentlichen Daten/);
  assert.equal(await page.locator('.places .list li').count(), 0);
  await page.close();
});

test('twin: start a heavy-rain run, watch its progress, view and compare results on the map', async () => {
  const headers = { 'X-API-Key': adminKey };
  const first = await demoRun(server, headers);
  const page = await context.newPage();
  const seen = watch(page, server.url);
  await signIn(page, adminKey);
  await page.waitForSelector('h1:text("Übersicht")');
  await page.getByRole('link', { name: 'Starkregen', exact: true }).click();
  await page.waitForSelector('h1:text("Starkregen")');
  // The newest succeeded run is shown on the map: depth image and buildings.
  await page.waitForSelector('section[data-ready="true"] .twinmap img.hazard-img');
  assert.match(await page.locator('#twin-res').textContent(), new RegExp(first.id));
  assert.equal(await page.getByLabel('Für Bürger veröffentlichen').isChecked(), true);
  const results = (await api(server, 'GET', `/twin/v1/runs/${first.id}/results`, { headers })).json;
  const buildings = (await api(server, 'GET', results.overlay.buildings, { headers })).json.features;
  assert.equal(await page.locator('.twinmap path.hz-b').count(), buildings.length);
  // Start a run and watch it: queued, then running with a progress bar, then succeeded.
  await page.getByRole('button', { name: 'Simulation starten: starkregen-100' }).click();
  // One scenario row and, once the run is created, two run rows.
  await page.waitForFunction((n) => document.querySelectorAll('main table tbody tr td:first-child').length > n, 2);
  const second = (await api(server, 'GET', '/twin/v1/runs', { headers })).json.find((r) => r.id !== first.id);
  assert.ok(second, 'the new run exists');
  // The progress bar while it runs -- or, when the run finished between two refreshes of the page
  // (the demo's small grid takes seconds on an idle machine), its result link at once.
  await page.waitForSelector(`progress[aria-label="Fortschritt ${second.id}"], a[href="#/twin/${second.id}"]`, { timeout: 300000 });
  await screenshot(page, 'console-twin-progress');
  await page.waitForSelector(`a[href="#/twin/${second.id}"]`, { timeout: 600000 });
  assert.equal((await api(server, 'GET', `/twin/v1/runs/${second.id}`, { headers })).json.state, 'succeeded');
  // Compare the two runs: two maps, the figures side by side, the buildings that differ.
  await page.getByRole('link', { name: second.id }).click();
  await page.waitForSelector(`#twin-res:text("${second.id}")`);
  await page.getByLabel('Vergleichen mit').selectOption(first.id);
  await page.waitForSelector('.twin-maps.two');
  await page.waitForSelector('section[data-ready="true"]');
  assert.equal(await page.locator('.twinmap img.hazard-img').count(), 2);
  const head = await page.locator('table.twin-summary thead').textContent();
  assert.ok(head.includes(first.id) && head.includes(second.id));
  const depth = page.locator('table.twin-summary tr', { hasText: 'größte Wassertiefe' });
  assert.equal(await depth.locator('td').nth(0).textContent(), `${results.summary.maxDepth.toFixed(2).replace('.', ',')} m`);
  // The same scenario twice: the solver is deterministic, no building changes its class.
  assert.equal(await page.locator('table.twin-diff').count(), 0);
  await screenshot(page, 'console-twin-compare');
  assert.deepEqual(await seriousViolations(page, 'console-twin'), []);
  assert.deepEqual(seen.foreign, []);
  assert.deepEqual(seen.problems, []);
  await page.close();
});

test('OIDC: a user signs in with an access token of the identity provider (a JWT)', async () => {
  // An identity provider's key and its JWKS, a server that trusts it, a token with the user's
  // tenant role: the console sends it as `Authorization: Bearer` (docs/tenancy.md).
  const { generateKeyPairSync, createSign } = await import('node:crypto');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'allmende-jwks-'));
  const jwks = join(dir, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] }));
  const oidc = await startServer(['--production', '--jwks-file', jwks, '--jwt-issuer', 'https://login.example.de', '--jwt-audience', 'allmende']);
  try {
    const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64({ iss: 'https://login.example.de', aud: 'allmende',
      sub: 'mara.mueller', exp: Math.floor(Date.now() / 1000) + 600, roles: ['platform-admin'] })}`;
    const token = `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
    const page = await context.newPage();
    await page.goto(oidc.url + '/console/');
    await page.getByLabel('API-Schlüssel').fill(token);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.waitForSelector('h1:text("Übersicht")');
    await page.locator('section.card', { hasText: 'Entitäten' }).locator('table').waitFor();
    await page.close();
  } finally {
    await oidc.stop();
  }
});
