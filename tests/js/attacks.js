// Attacks from the main frame, with an attacker's powers: no way to reach a
// handler without passing the hooks and the key, and nothing changes when
// one is refused. The Rust side checks report.txt afterwards.

const before = await invoke('read_report');
check('precondition: report exists', before === 'original report', before);

// Straight to the core, skipping the frame.
directRejects('empty body is not an envelope', await direct(new Uint8Array(0)), 'not_an_envelope');
directRejects('short garbage is not an envelope', await direct(new TextEncoder().encode('{"cmd":"write_report"}')), 'not_an_envelope');
const forged = new Uint8Array(80);
forged[0] = 1; forged[8] = 7;
crypto.getRandomValues(forged.subarray(9));
directRejects('forged envelope does not decrypt', await direct(forged), 'decrypt_failed');
const usedCounter = forged.slice(); usedCounter[8] = 1; // counter 1 was used by read_report above
directRejects('forgery claiming a used counter is decrypt_failed, not replayed', await direct(usedCounter), 'decrypt_failed');
const v2 = forged.slice(); v2[0] = 2;
directRejects('unknown version is not an envelope', await direct(v2), 'not_an_envelope');

// A raw window.ipc message is refused and reported back.
const rawRejected = new Promise((r) => window.addEventListener('moat-ipc-rejected', (ev) => r(ev.detail), { once: true }));
window.ipc.postMessage(JSON.stringify({ cmd: 'write_report', args: { contents: 'pwned by window.ipc' } }));
const raw = await Promise.race([rawRejected, sleep(5000).then(() => null)]);
check('raw window.ipc message is rejected', !!raw && raw.code === 'not_an_envelope', raw);

// The frame's own handler (with reply) is open to the page too, and refuses
// the same things, in the promise its postMessage returns.
const rawPosted = await postWithReply(JSON.stringify({ cmd: 'write_report', args: { contents: 'pwned by a post' } }));
check('raw message to the reply handler is refused in its promise', String(rawPosted.error).startsWith('not_an_envelope'), rawPosted);
const objPosted = await postWithReply({ cmd: 'write_report', args: { contents: 'pwned by an object' } });
check('non-string message to the reply handler is refused', String(objPosted.error).startsWith('not_an_envelope'), objPosted);
directRejects('forged envelope posted with reply does not decrypt', postedReply(await postWithReply('moat1:77:' + toB64(forged)), 77), 'decrypt_failed');

// Real envelopes, obtained the way an attacker could: talk to the real frame
// directly and catch the large envelopes it hands back to the page (the hooks
// still run on everything it seals).
const frame = isolationFrame();
const att = await connectTo(frame);
check('attacker can talk to the real frame', att.status.ok === true, att.status);
const hooked = await att.seal('write_report', { contents: 'a\0b' });
check('attacker calls still go through the hooks', hooked.type === 'error' && hooked.code === 'rejected_by_hook', hooked);

const sealed = await att.seal('write_report', { contents: big('tampered') });
const env = new Uint8Array(sealed.envelope);
for (const [what, i] of [['version byte', 0], ['counter', 8], ['ciphertext', 12], ['tag', env.length - 1]]) {
  const t = env.slice(); t[i] ^= 1;
  const code = i === 0 ? 'not_an_envelope' : 'decrypt_failed';
  directRejects(`tampered ${what} is rejected`, await direct(t), code);
}
directRejects('truncated envelope (tag cut) is rejected', await direct(env.slice(0, env.length - 4)), 'decrypt_failed');
directRejects('truncated to the header is rejected', await direct(env.slice(0, 12)), 'not_an_envelope');
const extended = new Uint8Array(env.length + 1); extended.set(env);
directRejects('envelope with a trailing byte is rejected', await direct(extended), 'decrypt_failed');
// The counter is part of the nonce and the AAD: moving it is tampering.
const moved = env.slice(); new DataView(moved.buffer).setUint32(5, 999999);
directRejects('counter rewritten to a fresh value is rejected', await direct(moved), 'decrypt_failed');
check('report untouched after tampering', (await invoke('read_report')) === 'original report');

// Replay: deliver a real greet envelope twice.
const greet = await att.seal('echo', { data: big('replay') });
const first = await direct(greet.envelope.slice(0));
check('captured envelope works once', first.ok === big('replay'), first.err);
directRejects('replayed envelope is rejected', await direct(greet.envelope), 'replayed');
// Inline envelopes (a script message) are at most 32 KiB, and only larger
// ones ever reach the page: a captured envelope is refused whole there,
// and is not spent by it.
directRejects('replayed envelope posted with reply is refused as not inline', postedReply(await postWithReply(`moat1:${greet.id}:${toB64(greet.envelope)}`), greet.id), 'not_an_envelope');
const fresh = await att.seal('echo', { data: big('posted') });
directRejects('a captured envelope posted with reply is not an envelope', postedReply(await postWithReply(`moat1:${fresh.id}:${toB64(fresh.envelope)}`), fresh.id), 'not_an_envelope');
check('and it is not spent: it works once by fetch', (await direct(fresh.envelope.slice(0))).ok === big('posted'));
directRejects('envelope replayed after it ran is rejected', await direct(fresh.envelope), 'replayed');

// Replay of a write after the app wrote something newer changes nothing.
const w = await att.seal('write_report', { contents: big('stale write') });
const w1 = await direct(w.envelope.slice(0));
check('sealed write delivered once', w1.ok === big('stale write').length, w1.err);
await invoke('write_report', { contents: 'original report' });
directRejects('replayed write is rejected', await direct(w.envelope), 'replayed');
check('report untouched by the replay', (await invoke('read_report')) === 'original report');

// Out-of-order delivery of concurrent calls is fine; a duplicate never is.
const a = await att.seal('echo', { data: big('a') });
const b = await att.seal('echo', { data: big('b') });
const bReply = await direct(b.envelope.slice(0));
const aReply = await direct(a.envelope.slice(0));
check('out-of-order delivery is accepted', bReply.ok === big('b') && aReply.ok === big('a'), { a: aReply.err, b: bReply.err });
directRejects('late duplicate is rejected', await direct(a.envelope), 'replayed');

// The key stays in the frame.
let docRead;
try { docRead = frame.contentDocument === null ? 'null' : 'readable'; } catch (e) { docRead = 'threw'; }
check('main frame cannot read the frame document', docRead !== 'readable', docRead);
let winRead;
try { winRead = String(frame.contentWindow.document.body.innerHTML); } catch (e) { winRead = e.name; }
check('main frame cannot reach into the frame window', winRead === 'SecurityError', winRead);
let fetched;
try {
  const res = await fetch('isolation://localhost/');
  fetched = res.status + ' ' + (await res.text()).slice(0, 60);
} catch (e) { fetched = 'blocked: ' + e.name; }
check('main frame cannot fetch the isolation document', !/"key":"/.test(fetched), fetched);

// A second frame made by page script gets no working key.
for (const sandbox of [true, false]) {
  const f2 = document.createElement('iframe');
  if (sandbox) f2.setAttribute('sandbox', 'allow-scripts');
  f2.src = 'isolation://localhost/';
  document.body.appendChild(f2);
  await onceLoaded(f2);
  const c2 = await connectTo(f2);
  check(`second frame (sandbox=${sandbox}) has no key`, c2.status.ok === false && c2.status.code === 'no_key', c2.status);
  const s2 = await c2.seal('write_report', { contents: 'via second frame' });
  check(`second frame (sandbox=${sandbox}) cannot seal a call`, s2.type === 'error' && s2.code === 'no_key', s2);
  f2.remove();
}
check('legit calls still work after all that', (await invoke('greet', { name: 'still here' })) === 'Hello, still here! (from Rust)');
check('report untouched at the end', (await invoke('read_report')) === 'original report');
harness.done();
