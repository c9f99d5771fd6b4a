// The citizen app's offline case many times against one server (one fresh browser context each),
// to find races that show once in many runs under load (docs/web.md, "Offline"):
//   node web/tests/offline_repeat.mjs [runs]     (ALLMENDE_BINARY, ALLMENDE_WEB_DIR as for the tests)
// WAIT=1: wait until the configuration is stored before going offline; CTRL=0: do not wait until
// the reloaded page is controlled by the service worker. Prints one line per run and
// "N passed, N failed"; on a failure, what the page had kept. Not part of ctest.
import { startServer, launchBrowser } from './harness.mjs';
const n = Number(process.argv[2] || 20);
const wait = process.env.WAIT === '1';
const server = await startServer();
const browser = await launchBrowser();
const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'de-DE' };
let fails = 0;
for (let i = 0; i < n; ++i) {
  const ctx = await browser.newContext(phone);
  const page = await ctx.newPage();
  let step = 'goto';
  try {
    await page.goto(server.url + '/');
    await page.waitForSelector('body[data-ready="true"]');
    step = 'activated';
    await page.waitForFunction(async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated');
    step = 'reload1';
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    step = 'controller';
    if (process.env.CTRL !== '0') await page.waitForFunction(() => !!navigator.serviceWorker.controller);
    step = 'offline';
    if (wait) await page.waitForFunction(async () => (await (await caches.open('allmende-data')).keys()).some((r) => r.url.includes('/app-config.json')));
    const beforeOffline = await page.evaluate(async () => ({ controlled: !!navigator.serviceWorker.controller,
      data: (await (await caches.open('allmende-data')).keys()).length }));
    await ctx.setOffline(true);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 60000 });
    const town = await page.locator('#town').textContent();
    const items = await page.locator('.places .list li').count();
    const ok = town === 'Musterhausen' && items > 0;
    if (!ok) {
      fails++;
      const diag = await page.evaluate(async () => ({ controlled: !!navigator.serviceWorker.controller, online: navigator.onLine,
        data: (await (await caches.open('allmende-data')).keys()).map((r) => r.url.replace(location.origin, '')),
        caches: await caches.keys(), nav: performance.getEntriesByType('resource').filter((r) => r.name.includes('app-config')).map((r) => [r.name, r.transferSize, r.responseStatus]) }));
      console.log(JSON.stringify(diag));
      console.log('before offline:', JSON.stringify(beforeOffline));
    }
    console.log(`run ${i + 1}: ${ok ? 'ok' : 'FAIL'} town=${town} items=${items}`);
  } catch (e) {
    fails++;
    console.log(`run ${i + 1}: ERROR at ${step}: ${e.message.split('\n')[0]}`);
    console.log(JSON.stringify(await page.evaluate(async () => { const r = await navigator.serviceWorker.getRegistration();
      return { controlled: !!navigator.serviceWorker.controller, active: r?.active?.state, waiting: r?.waiting?.state, installing: r?.installing?.state,
        caches: await caches.keys() }; }).catch((x) => String(x))));
  }
  await ctx.close();
}
console.log(`${n - fails} passed, ${fails} failed`);
await browser.close();
await server.stop();
