// The citizen app on a phone (390 x 844) against the real server with the demo municipality:
// map with layers and warnings, the entity page with history, languages, shareable links,
// accessibility (axe-core), no third-party requests, the offline shell, the heavy-rain hazard map. Screenshots of each
// screen are kept in build/web-artifacts.
import { test, before, after } from 'node:test';
import { createServer } from 'node:http';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, watch, screenshot, seriousViolations, api, demoRun } from './harness.mjs';

let server, browser, context;
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'de-DE' };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  context = await browser.newContext(phone);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function openMap(page) {
  await page.goto(server.url + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('.leaflet-marker-icon');
}

// The demo's entities of the app's default layers, counted through the API; the gauges the flood
// simulation writes (`...:twin-<scenario>-<gauge>`) belong to the hazard map, not to the layers.
async function demoCount(types) {
  let n = 0;
  for (const t of types) n += (await api(server, 'GET', `/ngsi-ld/v1/entities?type=${t}&limit=1000`)).json.filter((e) => !e.id.includes(':twin-')).length;
  return n;
}

test('the map shows the public layers, their places and the active warnings', async () => {
  const page = await context.newPage();
  const seen = watch(page, server.url);
  await openMap(page);
  const layers = ['FloodMonitoring', 'ParkingSpot', 'OffStreetParking', 'AirQualityObserved', 'WeatherObserved', 'EVChargingStation'];
  assert.equal(await page.locator('.places .list li').count(), await demoCount(layers));
  assert.equal(await page.locator('.layers input[type=checkbox]').count(), layers.length);
  // Warnings: exactly the gauges whose level is at or above their alert level.
  const gauges = (await api(server, 'GET', '/ngsi-ld/v1/entities?type=FloodMonitoring&options=keyValues')).json;
  const high = gauges.filter((g) => g.currentLevel >= g.alertLevel || ['alert', 'danger'].includes(g.floodLevelStatus));
  assert.ok(high.length > 0, 'the demo has gauges above their alert level');
  assert.equal(await page.locator('.warnings li.warning').filter({ hasText: 'Pegel' }).count(), high.length);
  assert.equal(await page.locator('h2#warn-h').textContent(), 'Aktuelle Warnungen');
  // Markers (some clustered) stand for every place.
  const markers = page.locator('.leaflet-marker-icon');
  let represented = 0;
  for (const m of await markers.all()) {
    const cls = await m.getAttribute('class');
    represented += cls.includes('cluster') ? Number(await m.textContent()) : 1;
  }
  assert.equal(represented, await page.locator('.places .list li').count());
  await screenshot(page, 'citizen-map');
  assert.deepEqual(seen.foreign, [], 'no third-party requests');
  assert.deepEqual(seen.problems, [], 'no CSP violations or page errors');
  await page.close();
});

test('a layer can be switched off and the choice is kept', async () => {
  const page = await context.newPage();
  await openMap(page);
  const before = await page.locator('.places .list li').count();
  const parking = (await api(server, 'GET', '/ngsi-ld/v1/entities?type=ParkingSpot&limit=1000')).json.length;
  await page.locator('#layer-ParkingSpot').uncheck();
  assert.equal(await page.locator('.places .list li').count(), before - parking);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.locator('#layer-ParkingSpot').isChecked(), false);
  await page.locator('#layer-ParkingSpot').check();
  assert.equal(await page.locator('.places .list li').count(), before);
  await page.close();
});

test('near me: the list is sorted by distance from the browser\'s position', async () => {
  const ctx = await browser.newContext({ ...phone, geolocation: { longitude: 11.2528, latitude: 48.9031 }, permissions: ['geolocation'] });
  const page = await ctx.newPage();
  await openMap(page);
  await page.getByRole('button', { name: 'In meiner Nähe' }).click();
  await page.waitForSelector('.leaflet-container .me');
  const metas = await page.locator('.places .list .meta').allTextContents();
  const metres = metas.map((m) => { const x = m.match(/([\d,]+) (k?m)$/); return Number(x[1].replace(',', '.')) * (x[2] === 'km' ? 1000 : 1); });
  assert.ok(metres.length > 5);
  for (let i = 1; i < metres.length; ++i) assert.ok(metres[i - 1] <= metres[i] + 1, `sorted by distance: ${metres.join(' ')}`);
  assert.ok(metres[0] < 150, 'the nearest place is close by');
  await screenshot(page, 'citizen-near-me');
  await ctx.close();
});

test('a cluster zooms in when activated', async () => {
  const page = await context.newPage();
  await openMap(page);
  const clusters = page.locator('.leaflet-marker-icon.cluster');
  if ((await clusters.count()) > 0) {
    const zoom = () => page.evaluate(() => document.querySelector('.leaflet-proxy') ? getComputedStyle(document.querySelector('.leaflet-proxy')).transform : '');
    const z0 = await zoom();
    await clusters.first().click();
    await page.waitForFunction((z) => getComputedStyle(document.querySelector('.leaflet-proxy')).transform !== z, z0);
  }
  await page.close();
});

test('the entity page shows current values, freshness and history charts', async () => {
  const page = await context.newPage();
  const seen = watch(page, server.url);
  await openMap(page);
  await page.locator('.places .list a', { hasText: 'Pegel Mühlbach 6' }).click();
  await page.waitForSelector('svg.chart');
  assert.match(page.url(), /#\/e\/FloodMonitoring\/urn%3Angsi-ld%3AFloodMonitoring%3A09999001%3A6$/);
  assert.equal(await page.locator('h1').textContent(), 'Pegel Mühlbach 6');
  const gauge = (await api(server, 'GET', '/ngsi-ld/v1/entities/urn:ngsi-ld:FloodMonitoring:09999001:6?options=keyValues')).json;
  const level = page.locator('.value', { hasText: 'Wasserstand' });
  assert.match(await level.textContent(), new RegExp(String(gauge.currentLevel).replace('.', ',') + ' m'));
  assert.match(await page.locator('.fresh').textContent(), /Letzte Aktualisierung/);
  // The chart: the average line over 24 hourly periods, thresholds drawn.
  assert.equal(await page.locator('.figure').first().locator('table tbody tr').count() >= 20, true);
  assert.equal(await page.locator('svg.chart line.threshold').count(), 2);
  await screenshot(page, 'citizen-entity');
  // 7 days: 6-hour periods.
  await page.getByRole('button', { name: '7 Tage' }).click();
  await page.waitForFunction(() => document.querySelector('.segbtn[aria-pressed="true"]')?.textContent === '7 Tage' && document.querySelector('svg.chart'));
  await page.waitForSelector('svg.chart');
  const rows = await page.locator('.figure').first().locator('table tbody tr').count();
  assert.ok(rows >= 10 && rows <= 29, `7 days in 6-hour periods (${rows})`);
  await screenshot(page, 'citizen-entity-7d');
  assert.deepEqual(seen.foreign, []);
  assert.deepEqual(seen.problems, []);
  await page.close();
});

test('an entity link can be shared: it opens the page directly', async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}/#/e/AirQualityObserved/${encodeURIComponent('urn:ngsi-ld:AirQualityObserved:09999001:2')}`);
  await page.waitForSelector('svg.chart');
  assert.match(await page.locator('main').textContent(), /Stickstoffdioxid/);
  await page.goto(`${server.url}/#/e/AirQualityObserved/${encodeURIComponent('urn:ngsi-ld:AirQualityObserved:09999001:99')}`);
  await page.waitForSelector('.error');
  assert.match(await page.locator('.error').textContent(), /gibt es nicht/);
  await page.close();
});

test('English, and the choice of language is kept', async () => {
  const page = await context.newPage();
  await openMap(page);
  await page.getByRole('button', { name: 'Switch to English' }).click();
  await page.waitForSelector('h2#warn-h:text("Active warnings")');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.locator('h2#warn-h').textContent(), 'Active warnings');
  await screenshot(page, 'citizen-map-en');
  await page.getByRole('button', { name: 'Auf Deutsch umschalten' }).click();
  await page.waitForSelector('h2#warn-h:text("Aktuelle Warnungen")');
  await page.close();
});

test('accessibility: no serious or critical axe violations; keyboard and 200 % zoom', async () => {
  const page = await context.newPage();
  await openMap(page);
  assert.deepEqual(await seriousViolations(page, 'citizen-map'), []);
  // Keyboard: the first Tab reaches the skip link, markers are focusable and open their page.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  const marker = page.locator('.leaflet-marker-icon:not(.cluster)').first();
  assert.equal(await marker.getAttribute('tabindex'), '0');
  await marker.focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('section[aria-labelledby="cv"]');
  await page.waitForSelector('.history svg.chart, .history .muted');
  assert.deepEqual(await seriousViolations(page, 'citizen-entity'), []);
  // 200 % zoom of a 390 px screen is a 195 px wide layout: nothing may scroll sideways.
  await page.setViewportSize({ width: 195, height: 422 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1));
  await page.close();
});

test('installable PWA: the shell works offline', async () => {
  const ctx = await browser.newContext(phone);
  const page = await ctx.newPage();
  await openMap(page);
  // Installed (all of the shell cached) and activated.
  await page.waitForFunction(async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  // The page keeps its data answers itself before it says it is ready (src/citizen/offline.ts): no
  // waiting for the worker, which under load may be bypassed while it restarts.
  const kept = await page.evaluate(async () => (await (await caches.open('allmende-data')).keys()).map((r) => new URL(r.url).pathname));
  assert.ok(kept.includes('/app-config.json') && kept.includes('/ngsi-ld/v1/entities'), kept.join(' '));
  await ctx.setOffline(true);
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.locator('#town').textContent(), 'Musterhausen');
  assert.ok((await page.locator('.places .list li').count()) > 0, 'the last data is shown offline');
  assert.match(await page.locator('#foot').textContent(), /Keine Verbindung/);
  await screenshot(page, 'citizen-offline');
  await ctx.close();
});

test('a configured base map: tiles come from the tile server, which the policy allows', async () => {
  // A tile server on another origin (another port): one grey 1x1 PNG for every tile.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg==', 'base64');
  const tiles = [];
  const tileServer = createServer((req, res) => { tiles.push(req.url); res.writeHead(200, { 'Content-Type': 'image/png' }); res.end(png); });
  await new Promise((r) => tileServer.listen(0, '127.0.0.1', r));
  const tileOrigin = `http://127.0.0.1:${tileServer.address().port}`;
  const withTiles = await startServer(['--web-tiles', `${tileOrigin}/{z}/{x}/{y}.png`, '--web-tiles-attribution', 'Geobasisdaten Test']);
  try {
    const page = await context.newPage();
    const seen = watch(page, withTiles.url);
    await page.goto(withTiles.url + '/');
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('.leaflet-tile-loaded');
    assert.ok(tiles.length > 0 && tiles.every((u) => /^\/\d+\/\d+\/\d+\.png$/.test(u)), tiles.join(' '));
    assert.match(await page.locator('.leaflet-control-attribution').textContent(), /Geobasisdaten Test/);
    assert.deepEqual(seen.foreign.filter((u) => !u.startsWith(tileOrigin)), [], 'only the tile server besides the app');
    assert.deepEqual(seen.problems, []);
    await screenshot(page, 'citizen-map-tiles');
    await page.close();
  } finally {
    await withTiles.stop();
    tileServer.close();
  }
});

test('the heavy-rain hazard map: the published simulation as a layer, a warning on top and its page', async () => {
  const run = await demoRun(server);
  const results = (await api(server, 'GET', `/twin/v1/runs/${run.id}/results`)).json;
  const buildings = (await api(server, 'GET', results.overlay.buildings)).json.features;
  const affected = buildings.filter((f) => f.properties.depthClass > 0);
  assert.ok(affected.length > 0, 'the demo floods some houses');
  const page = await context.newPage();
  const seen = watch(page, server.url);
  await openMap(page);
  const img = page.locator('img.hazard-img');
  await img.waitFor();
  assert.equal(await img.getAttribute('src'), `/app-hazard/${run.id}/hazard_depth.png`);
  await page.waitForFunction(() => { const i = document.querySelector('img.hazard-img'); return i.complete && i.naturalWidth > 0; });
  await page.waitForSelector('path.hz-b');
  assert.equal(await page.locator('path.hz-b').count(), affected.length);
  assert.match(await page.locator('.hz-legend').textContent(), /Wassertiefe.*> 1 m/);
  const warning = page.locator('.warnings li.warning.sim');
  assert.match(await warning.textContent(), new RegExp(`^Starkregen-Simulation: Starkregen T=100 a.* – ${affected.length} betroffene Gebäude`));
  await screenshot(page, 'citizen-hazard-map');
  // A layer like the others: off and on.
  await page.locator('#layer-hazard').uncheck();
  assert.equal(await page.locator('img.hazard-img').count(), 0);
  await page.locator('#layer-hazard').check();
  await img.waitFor();
  // The warning leads to the page: the figures and the affected buildings as text.
  await warning.locator('a').click();
  await page.waitForSelector('.hz-table tbody tr');
  assert.match(page.url(), /#\/hazard$/);
  assert.equal(await page.locator('h1').textContent(), 'Starkregen-Gefahrenkarte');
  assert.equal(await page.locator('.hz-table tbody tr').count(), affected.length);
  // Its map shows just the simulated area.
  await page.waitForSelector('.hz-map img.hazard-img');
  await page.waitForFunction((n) => document.querySelectorAll('.hz-map path.hz-b').length === n, affected.length);
  const deepest = affected.reduce((a, b) => (b.properties.maxDepth > a.properties.maxDepth ? b : a));
  assert.match(await page.locator('.hz-table tbody tr').first().textContent(), new RegExp(deepest.properties.name));
  assert.deepEqual(await seriousViolations(page, 'citizen-hazard'), []);
  await screenshot(page, 'citizen-hazard-page');
  assert.deepEqual(seen.foreign, []);
  assert.deepEqual(seen.problems, []);
  await page.close();
});

test('a text attribute\'s history is shown as its states over the period', async () => {
  const id = 'urn:ngsi-ld:ParkingSpot:09999001:1';
  // Two observed states within the last 24 hours (NGSI-LD 5.6.3: each update with observedAt is
  // an instance of the history).
  for (const [value, hoursAgo] of [['occupied', 3], ['free', 1]]) {
    const r = await api(server, 'PATCH', `/ngsi-ld/v1/entities/${encodeURIComponent(id)}/attrs`, {
      body: { status: { type: 'Property', value, observedAt: new Date(Date.now() - hoursAgo * 3600e3).toISOString() } } });
    assert.equal(r.status, 204, JSON.stringify(r.json));
  }
  const page = await context.newPage();
  await page.goto(`${server.url}/#/e/ParkingSpot/${encodeURIComponent(id)}`);
  await page.waitForSelector('.history svg.states');
  assert.ok(await page.locator('.history svg.states rect.state').count() >= 2);
  const legend = await page.locator('.states-legend').textContent();
  assert.match(legend, /belegt \d+ %/);
  assert.match(legend, /frei \d+ %/);
  await screenshot(page, 'citizen-entity-states');
  await page.close();
});
