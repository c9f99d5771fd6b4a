// How the binary serves the built app: content types, cache headers, gzip, entity tags,
// Content-Security-Policy, /app-config.json, HEAD, the hazard map's files, and 404 where there
// is no file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { startServer, demoRun, api } from './harness.mjs';

let server;
before(async () => {
  server = await startServer(['--web-tiles', 'https://{s}.tiles.example.de/{z}/{x}/{y}.png', '--web-tiles-attribution', '© Example']);
});
after(async () => server?.stop());

// A raw GET (fetch would decompress gzip and hide Content-Encoding).
function get(path, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = request(server.url + path, { headers, method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the citizen app at / with a strict policy and revalidation', async () => {
  const r = await get('/');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/html/);
  assert.equal(r.headers['cache-control'], 'no-cache');
  const csp = r.headers['content-security-policy'];
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self';/);
  assert.match(csp, /img-src 'self' data: https:\/\/\*\.tiles\.example\.de;/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.match(r.body.toString(), /<script type="module" crossorigin src="\/assets\/citizen-[\w-]+\.js">/);
});

test('hashed assets are immutable, gzipped when accepted, and answer 304 to their tag', async () => {
  const html = (await get('/')).body.toString();
  const js = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];
  const plain = await get(js);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(plain.headers['content-type'], /^text\/javascript/);
  assert.equal(plain.headers['content-encoding'], undefined);
  const zipped = await get(js, { 'Accept-Encoding': 'gzip, deflate' });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(zipped.headers.vary, 'Accept-Encoding');
  assert.ok(zipped.body.length < plain.body.length / 2);
  assert.deepEqual(gunzipSync(zipped.body), plain.body);
  const again = await get(js, { 'If-None-Match': plain.headers.etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
});

test('the console, the manifest and the service worker', async () => {
  const c = await get('/console/');
  assert.equal(c.status, 200);
  assert.match(c.body.toString(), /\/assets\/console-/);
  const m = await get('/manifest.webmanifest');
  assert.equal(m.headers['content-type'], 'application/manifest+json');
  assert.equal(JSON.parse(m.body).start_url, '/');
  const sw = await get('/sw.js');
  assert.equal(sw.headers['cache-control'], 'no-cache');
  // Every file of the offline shell exists (one missing file fails the worker's installation).
  const shell = JSON.parse(sw.body.toString().match(/const SHELL = (\[.*\]);/)[1]);
  assert.ok(shell.length > 4);
  for (const f of shell) assert.equal((await get(f)).status, 200, f);
});

test('app-config.json names the municipality, the base map and the layers', async () => {
  const r = await get('/app-config.json');
  assert.equal(r.status, 200);
  const c = JSON.parse(r.body);
  assert.equal(c.tenant, '');
  assert.equal(c.name, 'Musterhausen');
  assert.deepEqual(c.tiles, { url: 'https://{s}.tiles.example.de/{z}/{x}/{y}.png', attribution: '© Example', maxZoom: 19 });
  assert.equal(c.layers, null); // no catalogue: open mode, the app's own layers
  const bad = await get('/app-config.json?tenant=../x');
  assert.equal(bad.status, 400);
});

test('missing files are 404 ProblemDetails; the API is untouched', async () => {
  const r = await get('/nothing.js');
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).type, 'https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound');
  assert.equal((await get('/assets/nothing.js')).status, 404);
  assert.equal((await get('/health')).status, 200);
  const types = await get('/ngsi-ld/v1/types');
  assert.equal(types.status, 200);
  assert.match(types.body.toString(), /FloodMonitoring/);
});

test('HEAD answers as GET without the content; other methods get 405 with Allow', async () => {
  const html = (await get('/')).body.toString();
  const js = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];
  for (const path of ['/', '/console/', '/app-config.json', '/sw.js', '/manifest.webmanifest', js, '/health']) {
    for (const headers of [{}, { 'Accept-Encoding': 'gzip' }]) {
      const g = await get(path, headers);
      const hd = await get(path, headers, 'HEAD');
      assert.equal(hd.status, 200, path);
      assert.equal(hd.body.length, 0, path);
      assert.equal(hd.headers['content-length'], String(g.body.length), path);
      for (const h of ['content-type', 'content-encoding', 'etag', 'cache-control', 'content-security-policy']) {
        assert.equal(hd.headers[h], g.headers[h], `${path}: ${h}`);
      }
    }
  }
  const etag = (await get(js)).headers.etag;
  assert.equal((await get(js, { 'If-None-Match': etag }, 'HEAD')).status, 304);
  assert.equal((await get('/nothing.js', {}, 'HEAD')).status, 404);
  for (const path of ['/', '/console/', js]) {
    const post = await get(path, {}, 'POST');
    assert.equal(post.status, 405, path);
    assert.equal(post.headers.allow, 'GET, HEAD', path);
  }
  // The NGSI-LD API keeps its own methods: HEAD is not one of them (405, Allow without HEAD).
  const head = await get('/ngsi-ld/v1/types', {}, 'HEAD');
  assert.equal(head.status, 405);
  assert.equal(head.headers.allow, 'GET');
});

test('the hazard map of the demo: in app-config.json once its run succeeded, files only while published', async () => {
  const run = await demoRun(server);
  const c = JSON.parse((await get('/app-config.json')).body);
  assert.equal(c.hazard.run, run.id);
  assert.equal(c.hazard.scenario, 'starkregen-100');
  assert.equal(c.hazard.image, `/app-hazard/${run.id}/hazard_depth.png`);
  const results = (await api(server, 'GET', `/twin/v1/runs/${run.id}/results`)).json;
  assert.deepEqual(c.hazard.bounds, results.overlay.bounds);
  assert.equal(c.hazard.summary.affectedBuildings, results.summary.affectedBuildings);
  const png = await get(c.hazard.image);
  assert.equal(png.status, 200);
  assert.equal(png.headers['content-type'], 'image/png');
  assert.deepEqual(png.body, Buffer.from(await (await fetch(server.url + results.overlay.image)).arrayBuffer()));
  const b = await get(c.hazard.buildings, { 'Accept-Encoding': 'gzip' });
  assert.equal(b.headers['content-type'], 'application/geo+json');
  assert.deepEqual(JSON.parse(gunzipSync(b.body)), (await api(server, 'GET', results.overlay.buildings)).json);
  // Only the three overlay files, only of a succeeded run of a published scenario.
  assert.equal((await get(`/app-hazard/${run.id}/max_depth.tif`)).status, 404);
  assert.equal((await get('/app-hazard/r-nothing/hazard_depth.png')).status, 404);
  const scenario = (await api(server, 'GET', '/twin/v1/scenarios/starkregen-100')).json;
  assert.equal(scenario.definition.public, true);
  const unpublish = await api(server, 'PUT', '/twin/v1/scenarios/starkregen-100', { body: { ...scenario.definition, public: false } });
  assert.equal(unpublish.status, 200, JSON.stringify(unpublish.json));
  assert.equal(JSON.parse((await get('/app-config.json')).body).hazard, null);
  assert.equal((await get(c.hazard.image)).status, 404);
  await api(server, 'PUT', '/twin/v1/scenarios/starkregen-100', { body: scenario.definition });
  assert.equal(JSON.parse((await get('/app-config.json')).body).hazard.run, run.id);
  // Newer runs that did not succeed (created and cancelled before they started) are not shown:
  // the configuration picks the newest succeeded run, however many others the tenant has.
  for (let i = 0; i < 3; ++i) {
    const newer = await api(server, 'POST', '/twin/v1/runs', { body: { scenario: 'starkregen-100', start: false } });
    assert.equal(newer.status, 201, JSON.stringify(newer.json));
    const cancelled = await api(server, 'POST', `/twin/v1/runs/${newer.json.id}/cancel`);
    assert.equal(cancelled.status, 202, JSON.stringify(cancelled.json));
    assert.equal(cancelled.json.state, 'cancelled');
  }
  assert.equal((await api(server, 'GET', '/twin/v1/runs?scenario=starkregen-100')).json.length, 4);
  assert.equal(JSON.parse((await get('/app-config.json')).body).hazard.run, run.id);
});
