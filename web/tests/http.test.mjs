// How the binary serves the built app: content types, cache headers, gzip, entity tags,
// Content-Security-Policy, /app-config.json, and 404 where there is no file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { startServer } from './harness.mjs';

let server;
before(async () => {
  server = await startServer(['--web-tiles', 'https://{s}.tiles.example.de/{z}/{x}/{y}.png', '--web-tiles-attribution', '© Example']);
});
after(async () => server?.stop());

// A raw GET (fetch would decompress gzip and hide Content-Encoding).
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(server.url + path, { headers }, (res) => {
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
