// A dedicated worker on the app's origin (tests only): what a worker the
// page starts can reach. Workers have no script message handlers; ipc:// is
// reachable only with bytes it cannot seal.
const env = new Uint8Array(80);
crypto.getRandomValues(env);
env[0] = 1;
const handlers = typeof self.webkit;
fetch('ipc://localhost/', { method: 'POST', body: env })
  .then((r) => r.json())
  .then((reply) => postMessage({ handlers, reply }), (e) => postMessage({ handlers, error: String(e && e.message || e) }));
