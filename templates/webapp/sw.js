// AlienMeet's service worker: the site's look and its articles stay readable offline.
// It never touches the signaling socket, staff pages or anything but GETs of public pages.
const CONFIG = {{ config|safe }};

const SHELL_CACHE = `alienmeet-shell-${CONFIG.version}`;
const PAGES_CACHE = `alienmeet-pages-${CONFIG.version}`;
const SHELL = new Set(CONFIG.shell);

function neverCached(url) {
  return CONFIG.neverCached.some((prefix) => url.pathname.startsWith(prefix));
}

// Only a public page, asked for plainly, may be kept: no query string, nothing staff-only.
function cachablePage(url) {
  if (url.search || neverCached(url)) return false;
  return CONFIG.cachedPages.includes(url.pathname)
    || CONFIG.cachedPagePrefixes.some((prefix) => url.pathname.startsWith(prefix));
}

// A response the server marked private or not to be stored is never stored here either.
function storable(response) {
  if (!response || !response.ok || response.type !== 'basic' || response.redirected) return false;
  const control = (response.headers.get('Cache-Control') || '').toLowerCase();
  return !control.includes('no-store') && !control.includes('private');
}

async function keepPage(cache, url) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (storable(response)) await cache.put(url, response);
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL_CACHE);
    await shell.addAll([...CONFIG.shell, CONFIG.offline]);
    const pages = await caches.open(PAGES_CACHE);
    // An article that cannot be fetched now is kept the next time it is read.
    await Promise.all(CONFIG.pages.map((url) => keepPage(pages, url).catch(() => undefined)));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const current = [SHELL_CACHE, PAGES_CACHE];
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith('alienmeet-') && !current.includes(name))
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

// Shell files have content-hashed names: a cached copy is always the right one.
async function fromShell(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE });
  return cached || fetch(request);
}

// Pages: the network first (always the latest), the kept copy when offline, else the offline page.
async function networkFirst(request, url) {
  const pages = await caches.open(PAGES_CACHE);
  try {
    const response = await fetch(request);
    if (cachablePage(url) && storable(response)) await pages.put(url.pathname, response.clone());
    return response;
  } catch (error) {
    const kept = cachablePage(url) ? await pages.match(url.pathname) : undefined;
    if (kept) return kept;
    if (request.mode === 'navigate') {
      const page = await caches.match(CONFIG.offline, { cacheName: SHELL_CACHE });
      if (page) return page;
    }
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || neverCached(url)) return;
  if (SHELL.has(url.pathname)) {
    event.respondWith(fromShell(request));
  } else if (request.mode === 'navigate' || cachablePage(url)) {
    event.respondWith(networkFirst(request, url));
  }
});
