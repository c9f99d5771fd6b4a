// Prints the citizen app's first-load JavaScript, compressed (gzip -9, as the server sends it
// smaller or equal), and fails when it exceeds the budget of issue 10 (200 KB).
// Usage: node scripts/size.mjs <dist dir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = process.argv[2] || 'dist';
const budget = 200 * 1024;
const report = (page) => {
  const html = readFileSync(join(dist, page), 'utf8');
  const scripts = [...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="([^"]+\.js)"/g)].map((m) => m[1]);
  let raw = 0, gz = 0;
  for (const s of new Set(scripts)) {
    const body = readFileSync(join(dist, s.replace(/^\//, '')));
    raw += body.length;
    gz += gzipSync(body, { level: 9 }).length;
  }
  return { page, files: scripts.length, raw, gz };
};
const citizen = report('index.html');
const consoleApp = report('console/index.html');
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`web: citizen app first-load JavaScript ${kb(citizen.gz)} compressed (${kb(citizen.raw)} raw, ${citizen.files} files; budget 200 KB)`);
console.log(`web: operator console first-load JavaScript ${kb(consoleApp.gz)} compressed (${kb(consoleApp.raw)} raw)`);
if (citizen.gz > budget) {
  console.error('web: the citizen app is over its JavaScript budget');
  process.exit(1);
}
