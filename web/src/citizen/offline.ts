// The citizen app's last data answers, kept for offline use. The page keeps them itself (in
// Cache Storage, `allmende-data`) instead of leaving it to the service worker: under load,
// Chromium lets requests bypass a worker that is (re)starting, and what bypassed it was never
// stored -- a page that had shown its town then opened offline without its configuration.
// The service worker keeps the app shell and the hazard map's images (docs/web.md).
const DATA = 'allmende-data';

// The tenant travels in a header: part of the key, so two municipalities' answers to the same
// URL are kept apart.
function keyOf(url: string, tenant: string): string {
  const u = new URL(url, location.origin);
  u.searchParams.set('_tenant', tenant);
  return u.href;
}

// fetch() with the network first; an answer is stored before it is returned (a page that has
// shown something can show it offline), the stored one is returned when the network fails.
export async function fetchKept(url: string, init: RequestInit = {}, tenant = ''): Promise<Response> {
  const store = typeof caches !== 'undefined' ? caches : undefined;
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    const hit = await store?.match(keyOf(url, tenant), { cacheName: DATA }).catch(() => undefined);
    if (hit) return hit;
    throw err;
  }
  if (res.ok && store && (init.method ?? 'GET') === 'GET') await store.open(DATA).then((c) => c.put(keyOf(url, tenant), res.clone())).catch(() => undefined);
  return res;
}
