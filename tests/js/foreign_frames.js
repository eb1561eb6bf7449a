// Child frames of every kind (T.asset: a file inside scope.asset; T.port: a
// server that records requests) try to call, to hear replies and pushes,
// to read the app's schemes, to get permissions the app has (geolocation,
// notifications), to open windows and to register a service worker. The
// app's own policy here lets every such frame load (a mistake an app could
// make); what holds is below the policy.
const PROBE = 'app://localhost/__test__/probe.js';
// Frames whose probe runs: on the app's origin, and sandboxed (an opaque
// origin; its script is allowed by the policy's explicit app://localhost,
// since 'self' matches nothing in a sandboxed document).
const kinds = [
  ['same-origin', (f) => { f.src = '/__test__/probe.html'; }],
  ['sandboxed', (f) => { f.setAttribute('sandbox', 'allow-scripts'); f.src = '/__test__/probe.html'; }],
  ['about:blank', null],
];
// Frames that never run anything: refused as navigations to another
// origin (data:, blob:, srcdoc, a remote page), or with scripts off.
const silent = [
  ['data:', (f) => { f.src = `data:text/html,<script src="${PROBE}"></script>`; }],
  ['blob:', (f) => { f.src = URL.createObjectURL(new Blob([`<script src="${PROBE}"></script>`], { type: 'text/html' })); }],
  ['sandboxed without scripts', (f) => { f.setAttribute('sandbox', ''); f.src = '/__test__/probe.html'; }],
  ['srcdoc', (f) => { f.srcdoc = `<script src="${PROBE}"></script>`; }],
  ['remote', (f) => { f.src = `http://127.0.0.1:${T.port}/pub/frame.html`; }],
];

function frameOf(kind, setup) {
  const f = document.createElement('iframe');
  f.name = T.asset;
  const result = new Promise((resolve) => {
    const hear = (ev) => {
      if (ev.source === f.contentWindow && ev.data && ev.data.probed) {
        window.removeEventListener('message', hear);
        resolve(ev.data.probed);
      }
    };
    window.addEventListener('message', hear);
    setTimeout(() => resolve(null), 8000);
  });
  if (setup) setup(f);
  document.body.append(f);
  if (!setup) {
    const s = f.contentDocument.createElement('script');
    s.src = `${PROBE}`;
    f.contentDocument.head.append(s);
  }
  return { f, result };
}

const frames = kinds.map(([kind, setup]) => ({ kind, ...frameOf(kind, setup) }));
const quiet = silent.map(([kind, setup]) => ({ kind, ...frameOf(kind, setup) }));
// While the frames probe: calls, replies, events and channel messages for
// the page, which no frame may hear.
const { Channel, listen } = window.moat;
const heardHere = [];
const off = listen('frames', (p) => heardHere.push(p));
for (let i = 0; i < 5; i++) {
  await invoke('emit', { name: 'frames', payload: i });
  await invoke('burst', { count: 3, progress: new Channel(() => {}) });
}
off();
check('the page hears its own events', heardHere.length === 5, heardHere);

const results = await Promise.all(frames.map(async (x) => [x.kind, await x.result]));
const sameOrigin = new Set(['same-origin', 'about:blank']);
for (const [kind, r] of results) {
  check(`${kind}: the frame ran its probe`, !!r, r);
  if (!r) continue;
  const mine = sameOrigin.has(kind);
  check(`${kind}: no window.moat and no window.ipc of its own`, r.moat === 'undefined' && r.ipc === 'undefined', r);
  const post = r.post;
  const postRefused = typeof post === 'string' ? post.startsWith('refused') : Array.isArray(post) && post.every((x) => x[1] && x[1].err && x[1].err.code === 'decrypt_failed');
  check(`${kind}: what it posts to the core is refused`, postRefused, post);
  if (!mine) {
    check(`${kind}: cannot reach the page's moat`, r.topMoat === 'no access', r.topMoat);
    for (const what of ['fetchIpc', 'readApp', 'readBlobs', 'readAsset']) {
      check(`${kind}: ${what} is unreadable`, r[what] === 'unreadable', r[what]);
    }
  } else {
    check(`${kind}: a call from it is decrypt_failed (it has no key)`, /decrypt_failed|not_an_envelope/.test(r.fetchIpc), r.fetchIpc);
  }
  check(`${kind}: the isolation document is unreadable`, r.readIsolation === 'unreadable' || /^readable 403/.test(r.readIsolation), r.readIsolation);
  if (!mine) {
    check(`${kind}: geolocation, which the app has, is denied to it`, r.geolocation !== 'granted' && r.permission !== 'granted', { geolocation: r.geolocation, permission: r.permission });
    check(`${kind}: notifications, which the app has, are denied to it`, r.notification !== 'granted', r.notification);
    check(`${kind}: the microphone, which the app has, is denied to it`, r.media !== 'granted', r.media);
  }
  check(`${kind}: opens no window`, r.popup !== 'opened', r.popup);
  check(`${kind}: registers no service worker`, r.serviceWorker !== 'registered', r.serviceWorker);
}
// Nothing the core sent reached any frame.
for (const x of frames) {
  const heard = await new Promise((resolve) => {
    const hear = (ev) => { if (ev.source === x.f.contentWindow && ev.data && 'probeHeard' in ev.data) { window.removeEventListener('message', hear); resolve(ev.data.probeHeard); } };
    window.addEventListener('message', hear);
    x.f.contentWindow.postMessage({ probe: 'heard' }, '*');
    setTimeout(() => resolve(null), 2000);
  });
  check(`${x.kind}: hears no reply, event or channel message`, heard === 0, heard);
}
const quietResults = await Promise.all(quiet.map(async (x) => [x.kind, await x.result]));
for (const [kind, r] of quietResults) check(`${kind}: runs nothing`, r === null, r);
// The page itself: no service worker answers for ipc://.
let sw = 'none';
if ('serviceWorker' in navigator) {
  sw = await navigator.serviceWorker.register('/__test__/sw.js').then(() => 'registered', (e) => 'refused: ' + (e && e.name));
}
check('page: registers no service worker', sw !== 'registered', sw);
check('page: calls still reach the core', (await invoke('echo', { data: 'still the core' })) === 'still the core');
harness.done();
