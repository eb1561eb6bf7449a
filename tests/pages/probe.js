// Loaded (tests only) into a child frame of the app's page, of any kind
// (same-origin, sandboxed, data:, blob:): it tries, from that frame, what a
// foreign frame must not be able to do, and tells its parent what happened.
const received = [];
// Pushes and replies are evaluated in the main frame only; these would
// hear any that reached this frame.
try {
  window.__moatReply = (...a) => received.push(['reply', a]);
  window.__moatPush = (...a) => received.push(['push', a]);
} catch (e) { /* a frozen global */ }

const settle = (p, ms = 2000) => Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), ms))]);
const forged = () => { const b = new Uint8Array(80); crypto.getRandomValues(b); b[0] = 1; return b; };
const b64 = (bytes) => btoa(String.fromCharCode(...bytes));

async function read(url, init) {
  try {
    const res = await fetch(url, init);
    if (res.type === 'opaque' || res.type === 'opaqueredirect') return 'unreadable';
    return `readable ${res.status}: ${(await res.text()).slice(0, 60)}`;
  } catch (e) {
    return 'unreadable';
  }
}

async function probe() {
  const out = { origin: String(self.origin), moat: typeof window.moat, ipc: typeof window.ipc };
  try { out.topMoat = typeof window.top.moat; } catch (e) { out.topMoat = 'no access'; }
  try {
    out.post = JSON.parse(await settle(window.webkit.messageHandlers.moat.postMessage('moat1:7:' + b64(forged()))));
  } catch (e) {
    out.post = 'refused: ' + String(e && e.message || e);
  }
  out.fetchIpc = await read('ipc://localhost/', { method: 'POST', body: forged() });
  out.readApp = await read('app://localhost/index.html');
  out.readIsolation = await read('isolation://localhost/');
  out.readBlobs = await read('ipc://localhost/blobs/1');
  out.readAsset = await read('asset://localhost/' + encodeURIComponent(PROBE_ASSET));
  try {
    out.permission = (await settle(navigator.permissions.query({ name: 'geolocation' }))).state;
  } catch (e) { out.permission = 'refused: ' + (e && e.name); }
  out.geolocation = await settle(new Promise((resolve) => {
    try {
      navigator.geolocation.getCurrentPosition(() => resolve('granted'), (e) => resolve('denied ' + e.code));
    } catch (e) { resolve('refused: ' + (e && e.name)); }
  }), 3000);
  try {
    out.notification = typeof Notification === 'undefined' ? 'none' : await settle(Notification.requestPermission());
  } catch (e) { out.notification = 'refused: ' + (e && e.name); }
  out.media = await settle(
    navigator.mediaDevices && navigator.mediaDevices.getUserMedia
      ? navigator.mediaDevices.getUserMedia({ audio: true }).then(() => 'granted', (e) => 'denied: ' + (e && e.name))
      : Promise.resolve('none'),
    3000,
  );
  try {
    out.popup = window.open('app://localhost/', '_blank') === null ? 'null' : 'opened';
  } catch (e) { out.popup = 'refused: ' + (e && e.name); }
  try {
    out.serviceWorker = !('serviceWorker' in navigator) ? 'none'
      : await settle(navigator.serviceWorker.register('/__test__/sw.js').then(() => 'registered', (e) => 'refused: ' + (e && e.name)));
  } catch (e) { out.serviceWorker = 'refused: ' + (e && e.name); }
  return out;
}

// The frame's name is the asset to try (its parent sets it).
const PROBE_ASSET = window.name;
window.addEventListener('message', (ev) => {
  if (ev.source !== parent || !ev.data) return;
  if (ev.data.probe === 'heard') parent.postMessage({ probeHeard: received.length }, '*');
});
probe().then((result) => parent.postMessage({ probed: result }, '*'));
