// Test harness of the web app: starts the real allmende binary (port 0, a temporary data
// directory, the demo municipality) and Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const binary = process.env.ALLMENDE_BINARY || join(here, '../../build/allmende');
export const webDir = process.env.ALLMENDE_WEB_DIR || join(here, '../../build/web');
export const artifacts = process.env.ALLMENDE_WEB_ARTIFACTS || join(here, '../../build/web-artifacts');

// Starts `allmende serve --demo` with extra flags; resolves once it listens.
export async function startServer(extra = [], { demo = true } = {}) {
  const data = mkdtempSync(join(tmpdir(), 'allmende-web-'));
  const args = ['serve', '--port', '0', '--address', '127.0.0.1', '--data', data, '--web-dir', webDir, '--threads', '4', ...extra];
  if (demo) args.push('--demo');
  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/allmende listening on [^:]+:(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`allmende exited with ${code}: ${log}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    data,
    log: () => log,
    async stop() {
      const done = new Promise((r) => proc.on('exit', r));
      proc.kill('SIGTERM');
      await done;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

// Records every request and CSP violation of a page, so tests can check that nothing goes to a
// third party and that the policy blocked nothing.
export function watch(page, origin) {
  const foreign = [];
  const problems = [];
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { foreign, problems };
}

export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
}

// axe-core in the page (through the DevTools protocol, so the page's CSP does not apply);
// returns the serious and critical violations.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export async function seriousViolations(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, `${name}.axe.json`), JSON.stringify(result, null, 2));
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

// The demo's flood simulation (queued at start, docs/twin.md): waits until its first run has
// ended and returns it (succeeded, else the test fails with its error).
export async function demoRun(server, headers = {}) {
  for (;;) {
    const runs = (await api(server, 'GET', '/twin/v1/runs?scenario=starkregen-100', { headers })).json;
    const run = runs[runs.length - 1];
    if (run && !['created', 'queued', 'running'].includes(run.state)) {
      if (run.state !== 'succeeded') throw new Error(`the demo run ${run.id} is ${run.state}: ${run.error ?? ''}`);
      return run;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function api(server, method, path, { body, headers = {} } = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: { ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, headers: res.headers, json };
}
