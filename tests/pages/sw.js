// A service worker the page tries to register (tests only): it would answer
// every request, ipc:// included, with a forged reply.
self.addEventListener('fetch', (ev) => {
  ev.respondWith(new Response(JSON.stringify({ ok: 'forged by a service worker' }), { headers: { 'content-type': 'application/json' } }));
});
