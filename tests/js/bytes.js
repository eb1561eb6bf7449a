// Bytes both ways: ArrayBuffers and typed arrays in, Uint8Arrays out, of
// every size, hashed on both sides; fs and http with bytes; and markers
// the page cannot forge.
const hex = async (bytes) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
const sized = (n) => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 255; return b; };
const every = Uint8Array.from({ length: 256 }, (_, i) => i);

for (const [what, data] of [['0 B', new Uint8Array(0)], ['1 byte', Uint8Array.of(200)], ['every byte value', every], ['1 MiB', sized(1 << 20)], ['64 MiB', sized(64 << 20)]]) {
  const mine = await hex(data);
  const theirs = await invoke('bytes_sha256', { data });
  const back = await invoke('bytes_echo', { data });
  const backHash = await hex(back);
  check(`bytes: ${what} reach Rust whole`, theirs === mine, { mine, theirs });
  check(`bytes: ${what} come back whole, as a Uint8Array`, back instanceof Uint8Array && back.length === data.length && backHash === mine, { len: back && back.length, backHash });
}

// Other views of bytes.
const buf = every.buffer.slice(0);
check('bytes: an ArrayBuffer is bytes', (await invoke('bytes_sha256', { data: buf })) === await hex(every));
const view = new DataView(every.buffer, 10, 20);
check('bytes: a DataView is the bytes it views', (await invoke('bytes_sha256', { data: view })) === await hex(every.slice(10, 30)));
const f32 = new Float32Array([1.5, -2]);
check('bytes: a Float32Array is its bytes', (await invoke('bytes_sha256', { data: f32 })) === await hex(new Uint8Array(f32.buffer)));
const sub = every.subarray(100, 103);
check('bytes: a subarray is only its bytes', (await invoke('bytes_echo', { data: sub })).join() === '100,101,102');

// Several byte values in one call: the core keeps the largest in the
// buffer the call arrived in when it outweighs the text, and copies them
// all out when the text is larger; either way each is whole, in its place.
const joined = (parts, sep) => {
  const s = new TextEncoder().encode(sep);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + s.length * (parts.length - 1));
  let at = 0;
  parts.forEach((p, i) => { if (i > 0) { out.set(s, at); at += s.length; } out.set(p, at); at += p.length; });
  return out;
};
for (const [what, parts, sep] of [
  ['the largest outweighing the rest', [Uint8Array.of(1, 2, 3), sized(3 << 20), new Uint8Array(0), every], '|'],
  ['outweighed by text', [every, Uint8Array.of(9)], 'x'.repeat(1 << 20)],
]) {
  const back = await invoke('bytes_join', { parts, sep });
  const want = await hex(joined(parts, sep));
  check(`bytes: several in one call, ${what}, each arrive whole and in place`, back instanceof Uint8Array && await hex(back) === want, { len: back && back.length });
}

// Not numbers, not base64, not a hand-written marker.
await rejects('bytes: an array of numbers is not bytes', invoke('bytes_sha256', { data: [1, 2, 3] }), 'bad_args', 'ArrayBuffer or typed array');
await rejects('bytes: a base64 string is not bytes', invoke('bytes_sha256', { data: 'AQID' }), 'bad_args');
await rejects('bytes: a hand-written marker is refused by the frame', invoke('bytes_sha256', { data: { __moatBytes: 0 } }), 'bad_args', '__moatBytes');
await rejects('bytes: so is a marker key anywhere', invoke('echo_json', { value: { deep: [{ __moatBytes: 1 }] } }), 'bad_args', '__moatBytes');

// The reply's bytes wait in the core for one fetch, by this page's call.
const stolen = await fetch('ipc://localhost/blobs/1', { cache: 'no-store' });
check('bytes: reply bytes nobody is owed are not found', stolen.status === 404, stolen.status);
const noOrigin = await new Promise((resolve) => { const img = new Image(); img.onload = () => resolve('loaded'); img.onerror = () => resolve('refused'); img.src = 'ipc://localhost/blobs/1'; });
check('bytes: nor reachable without the app\'s Origin', noOrigin === 'refused', noOrigin);

// fs with bytes, under the same allowlist keys and scope as text.
await window.moat.fs.writeFile('$APPDATA/every.bin', every);
const read = await window.moat.fs.readFile('$APPDATA/every.bin');
check('bytes: fs.writeFile then fs.readFile round-trips every byte value', read instanceof Uint8Array && await hex(read) === await hex(every), read && read.length);
await rejects('bytes: fs.readTextFile refuses a file that is not UTF-8', window.moat.fs.readTextFile('$APPDATA/every.bin'), 'path_invalid', 'not UTF-8');
await rejects('bytes: fs.writeFile is scoped like writeTextFile', window.moat.fs.writeFile('$HOME/.bashrc', every), 'scope_denied');
harness.done();
