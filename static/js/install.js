// Registers the service worker that keeps the site's look and its articles for offline reading.
// A classic script (not a module), so it can read its own data attribute.
(() => {
  const script = document.currentScript;
  if (!('serviceWorker' in navigator) || !script) return;
  const url = script.dataset.worker;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register(url, { scope: '/' }).catch((error) => {
      console.warn('Offline reading is unavailable:', error);
    });
  });
})();
