// Defences at the seams between page, frame and core, each attacked with an
// attacker's powers and the exact code expected. The Rust side checks
// afterwards that report.txt still holds "original report" and that no
// file was written.

const counts = () => invoke('refusal_counts');
const moved = (before, after, code) => (after[code] || 0) - (before[code] || 0);
const frame = isolationFrame();
const frameWin = frame.contentWindow;

/** Messages from `win` for `ms` milliseconds. */
function heardFrom(win, ms) {
  const heard = [];
  const hear = (ev) => { if (ev.source === win) heard.push(ev.data); };
  window.addEventListener('message', hear);
  return sleep(ms).then(() => { window.removeEventListener('message', hear); return heard; });
}

// --- Command names: the core matches the exact string the hooks saw, so no
// other spelling of a command reaches it.
for (const name of [
  'WRITE_REPORT', 'Write_report', 'write_report ', ' write_report', 'write_report\0', 'write_report\n',
  'write_report\u200b', 'write\u2010report', '\uff57\uff52\uff49\uff54\uff45\uff3f\uff52\uff45\uff50\uff4f\uff52\uff54',
  'write_repor\u0074\u0301', 'write_r\u0065\u0301port',
]) {
  await rejects(`command name ${JSON.stringify(name)} is unknown_command`, invoke(name, { contents: 'pwned by a name' }), 'unknown_command', 'no command named');
}
for (const [what, name] of [
  ['a number', 1], ['null', null], ['undefined', undefined], ['an array', ['write_report']],
  ['a String object', new String('write_report')], ['an object with toString', { toString: () => 'write_report' }],
]) {
  await rejects(`a command name that is ${what} is bad_call`, invoke(name, { contents: 'pwned' }), 'bad_call', 'cmd must be a string');
}
// Past the bridge, straight to the frame: the frame checks for itself.
const att = await connectTo(frame);
for (const [what, name] of [['a number', 1], ['null', null], ['an array', ['write_report']], ['a String object', new String('write_report')], ['an object', { name: 'write_report' }]]) {
  const r = await att.seal(name, { contents: big('pwned') });
  check(`frame: a command name that is ${what} is bad_call`, r.type === 'error' && r.code === 'bad_call', r);
}

// --- Lone surrogates: refused in the frame, before any hook, with the place
// named (the core could not decode them either).
await rejects('a lone surrogate in a command name is bad_call', invoke('write_report\ud800', { contents: 'x' }), 'bad_call', 'lone surrogate');
const viaFrame = await att.seal('write_report\udc00', { contents: 'x' });
check('frame: a lone surrogate in a command name is bad_call', viaFrame.type === 'error' && viaFrame.code === 'bad_call', viaFrame);
await rejects('a lone surrogate in an argument is bad_args', invoke('write_report', { contents: 'pwned\udc00' }), 'bad_args', 'lone surrogate');
await rejects('a lone surrogate in a key is bad_args', invoke('echo_json', { value: { ['k\ud800']: 1 } }), 'bad_args', 'lone surrogate');
await rejects('a lone surrogate in a path is bad_args', window.moat.fs.writeTextFile('$APPDATA/a\ud800.txt', 'x'), 'bad_args', 'lone surrogate');
check('a surrogate pair is a character like any other', (await invoke('echo', { data: 'smile \ud83d\ude00' })) === 'smile \ud83d\ude00');

// --- Reply hijack: the id outside an envelope picks whose promise settles,
// so it must be the id sealed inside. The attacker has an envelope sealed
// under an id the bridge does not know (the bridge ignores it) and learns a
// pending call's id from the envelope the frame hands the bridge.
const hijack = await att.seal('write_report', { contents: big('hijacked') });
const victimId = new Promise((resolve) => {
  const hear = (ev) => {
    if (ev.source === frameWin && ev.data && ev.data.type === 'sealed' && ev.data.id < 1000000) {
      window.removeEventListener('message', hear);
      resolve(ev.data.id);
    }
  };
  window.addEventListener('message', hear);
});
const victim = invoke('echo', { data: big('victim') });
const id = await victimId;
const hijacked = await (await fetch(`ipc://localhost/${id}`, { method: 'POST', body: hijack.envelope })).json();
directRejects('reply hijack: an envelope posted under another call\'s id is bad_call', hijacked, 'bad_call');
check('reply hijack: the other call gets its own reply', (await victim) === big('victim'));
directRejects('reply hijack: the hijacking envelope is spent', await direct(hijack.envelope), 'replayed');
const hijack2 = await att.seal('write_report', { contents: big('hijacked again') });
const posted = await postWithReply(`moat1:3:${toB64(hijack2.envelope)}`);
// Inline envelopes are at most 32 KiB, and only larger ones ever reach the
// page: a captured one is refused whole over the script message.
directRejects('reply hijack over the script message: not_an_envelope', postedReply(posted, 3), 'not_an_envelope');

// --- Windows that are not the partner: a child of the page on the app's
// origin (its own realm, loaded from tests/pages/relay.js), the page
// itself, and a second isolation frame, all posting what the real frame or
// the bridge would act on.
const child = document.createElement('iframe');
document.body.append(child);
const relayReady = new Promise((resolve) => {
  const hear = (ev) => {
    if (ev.source === child.contentWindow && ev.data && ev.data.relayed === 'ready') {
      window.removeEventListener('message', hear);
      resolve(true);
    }
  };
  window.addEventListener('message', hear);
  setTimeout(() => resolve(false), 5000);
});
const script = child.contentDocument.createElement('script');
script.src = 'app://localhost/__test__/relay.js';
child.contentDocument.head.append(script);
check('relay: a child window of the page runs its own script', await relayReady);
function relay(to, messages) {
  const done = new Promise((resolve) => {
    const hear = (ev) => {
      if (ev.source === child.contentWindow && ev.data && ev.data.relayed === to) {
        window.removeEventListener('message', hear);
        resolve(ev.data);
      }
    };
    window.addEventListener('message', hear);
  });
  child.contentWindow.postMessage({ relay: to, messages }, '*');
  return done;
}
// To the frame, from the child: a call and a connect, which the frame
// would answer to its parent if it heard them.
const frameHeard = heardFrom(frameWin, 600);
await relay('frame', [
  { type: 'call', id: 4242, cmd: 'write_report', args: { contents: big('from a child window') } },
  { type: 'calls', calls: [{ id: 4243, cmd: 'write_report', args: { contents: 'from a child window' } }] },
  { type: 'moat:connect' },
]);
const answered = (await frameHeard).filter((m) => m && (m.id === 4242 || m.id === 4243 || m.type === 'ready'));
check('the frame ignores calls from a window that is not its parent', answered.length === 0, answered);

// To the bridge: forged replies, errors and readiness for every id a pending
// call could have, from the child, the page itself and a second frame.
const slow = invoke('slow', { ms: 800 });
const forgedIds = Array.from({ length: 400 }, (_, i) => i + 1);
const forgeries = [
  { type: 'replies', text: JSON.stringify(forgedIds.map((i) => [i, { ok: 'forged' }])) },
  ...forgedIds.map((i) => ({ type: 'error', id: i, code: 'forged', message: 'forged' })),
  { type: 'ready', ok: false, code: 'forged', message: 'forged' },
];
await relay('parent', forgeries);
for (const m of forgeries) window.postMessage(m, '*');
const second = document.createElement('iframe');
second.setAttribute('sandbox', 'allow-scripts');
second.src = 'isolation://localhost/';
const secondLoaded = onceLoaded(second);
document.body.append(second);
await secondLoaded;
// The second frame has no key: it answers every call to its parent with
// `no_key`, under the id it was given.
for (const i of forgedIds) second.contentWindow.postMessage({ type: 'call', id: i, cmd: 'echo', args: {} }, '*');
check('forged replies from other windows do not settle a call', (await slow) === 800);
let readyStill = false;
await window.moat.ready.then(() => { readyStill = true; }, () => {});
check('the bridge is still ready and calls still work', readyStill && (await invoke('echo', { data: 'still' })) === 'still');
second.remove();

// --- Nested contexts the page creates.
const c0 = await counts();
const fromChild = (await relay('transports', [])).result;
check('a child window has no window.ipc', fromChild.ipc === 'undefined', fromChild);
directRejects('a child window posting to the frame\'s handler: decrypt_failed', fromChild.moat && fromChild.moat[0] && fromChild.moat[0][1], 'decrypt_failed');
directRejects('a child window fetching ipc://: decrypt_failed', fromChild.fetch, 'decrypt_failed');
const worker = new Worker('/__test__/worker.js');
const fromWorker = await Promise.race([new Promise((r) => { worker.onmessage = (ev) => r(ev.data); }), sleep(3000).then(() => null)]);
worker.terminate();
check('a worker has no script message handlers', !!fromWorker && fromWorker.handlers === 'undefined', fromWorker);
check('a worker fetching ipc:// gets decrypt_failed or nothing', !!fromWorker && (fromWorker.reply ? fromWorker.reply.err && fromWorker.reply.err.code === 'decrypt_failed' : typeof fromWorker.error === 'string'), fromWorker);
const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));
for (const [what, make] of [['blob:', () => URL.createObjectURL(new Blob(['postMessage(1)'], { type: 'text/javascript' }))], ['data:', () => 'data:text/javascript,postMessage(1)']]) {
  let err = null;
  try { new Worker(make()); } catch (e) { err = e; }
  check(`a ${what} worker is refused`, !!err && err.name === 'SecurityError', String(err));
}
for (const [what, src] of [['data:', 'data:text/html,<script>parent.postMessage("data frame ran","*")</script>'], ['blob:', URL.createObjectURL(new Blob(['<script>parent.postMessage("blob frame ran","*")</script>'], { type: 'text/html' }))]]) {
  const f = document.createElement('iframe');
  f.src = src;
  document.body.append(f);
}
const sd = document.createElement('iframe');
sd.srcdoc = '<p id="in-srcdoc">srcdoc</p>';
const sdSandboxed = document.createElement('iframe');
sdSandboxed.setAttribute('sandbox', 'allow-scripts');
sdSandboxed.srcdoc = '<script src="app://localhost/__test__/relay.js"></script>';
document.body.append(sd, sdSandboxed);
// Subresources aimed at the IPC scheme.
const img = document.createElement('img');
img.src = 'ipc://localhost/1';
const link = document.createElement('link');
link.rel = 'stylesheet';
link.href = 'ipc://localhost/2';
document.body.append(img);
document.head.append(link);
const form = document.createElement('form');
form.method = 'POST';
form.action = 'ipc://localhost/3';
document.body.append(form);
form.submit();
let beacon = null;
try { navigator.sendBeacon('ipc://localhost/4', new Uint8Array(80)); } catch (e) { beacon = e; }
check('sendBeacon to ipc:// throws', !!beacon && beacon.name === 'TypeError', String(beacon));
const blocked = ['frame-src data', 'frame-src blob', 'img-src ipc://localhost/1', 'style-src-elem ipc://localhost/2', 'form-action ipc://localhost/3'];
for (let i = 0; i < 300 && !blocked.every((v) => violations.includes(v)); i++) await sleep(10);
for (const v of blocked) {
  check(`the policy blocks ${v.split(' ')[0]} to ${v.split(' ')[1]}`, violations.includes(v), violations);
}
check('a srcdoc frame never loads its document', sd.contentDocument !== null && sd.contentDocument.getElementById('in-srcdoc') === null, sd.contentDocument && sd.contentDocument.URL);
let c1 = await counts();
for (let i = 0; i < 150 && moved(c0, c1, 'navigation_refused') < 2; i++) {
  await sleep(20);
  c1 = await counts();
}
check('srcdoc frames are refused as navigations', moved(c0, c1, 'navigation_refused') === 2, { before: c0, after: c1 });
check('the child and the worker were refused by the core', moved(c0, c1, 'decrypt_failed') >= 2 && moved(c0, c1, 'not_an_envelope') === 1, { before: c0, after: c1 });
check('the page is still the app', location.href === 'app://localhost/' || location.href === 'app://localhost/index.html', location.href);

// --- The isolation frame navigated again by the page: the new document has
// no key, and calls through it are refused with no_key.
const reloaded = onceLoaded(frame);
frame.src = 'isolation://localhost/?again';
await reloaded;
await rejects('a re-navigated isolation frame has no key', invoke('write_report', { contents: 'through a re-navigated frame' }), 'no_key');
// (No call reaches the core from this page load any more; the Rust side
// reads the count of no_key from the summary at exit.)
harness.done();
