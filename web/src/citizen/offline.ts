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

// Writes to the cache still under way (see kept()).
const writes = new Set<Promise<unknown>>();

// fetch() with the network first; an answer's copy is stored while the page goes on (the write
// is the browser's I/O, not the page's CPU: awaiting it before each answer put it on the first
// load's critical path -- the configuration's write delayed every layer request); the stored
// one is returned when the network fails.
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
  if (res.ok && store && (init.method ?? 'GET') === 'GET') {
    const copy = res.clone(); // now: the caller reads the body next
    const write = store.open(DATA).then((c) => c.put(keyOf(url, tenant), copy)).catch(() => undefined);
    writes.add(write);
    void write.finally(() => writes.delete(write));
  }
  return res;
}

// Resolves when every answer fetched so far is stored: the app says it is ready only then, so
// a page that has shown its town can show it offline.
export async function kept(): Promise<void> {
  while (writes.size) await Promise.all([...writes]);
}
