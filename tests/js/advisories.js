// Published advisories of peer runtimes, replayed from page script against
// the demo as shipped (docs/advisories.md names each result).
const { fs, shell } = window.moat;
const isKey = (v) => Object.prototype.toString.call(v) === '[object CryptoKey]';

// GHSA-h7rp-cf8h-j98x: the page poisons the built-ins that a bridge uses
// (bind, call, then, JSON.stringify, postMessage) to catch privileged
// objects or to change what is sent. The frame is another realm: nothing
// it holds passes through the page's built-ins, and its hooks still judge.
{
  const seen = [];
  const saved = {
    bind: Function.prototype.bind, call: Function.prototype.call, then: Promise.prototype.then,
    stringify: JSON.stringify, post: Window.prototype.postMessage,
  };
  const record = (what, v) => { seen.push([what, v]); };
  Function.prototype.bind = function (...a) { record('bind', this); a.forEach((x) => record('bind', x)); return Reflect.apply(saved.bind, this, a); };
  Function.prototype.call = function (...a) { a.forEach((x) => record('call', x)); return Reflect.apply(this, a[0], a.slice(1)); };
  Promise.prototype.then = function (f, r) {
    return Reflect.apply(saved.then, this, [typeof f === 'function' ? (v) => { record('then', v); return f(v); } : f, r]);
  };
  JSON.stringify = function (...a) { record('stringify', a[0]); return Reflect.apply(saved.stringify, JSON, a); };
  Window.prototype.postMessage = function (...a) { record('post', a[0]); return Reflect.apply(saved.post, this, a); };
  let greeted, nul;
  try {
    greeted = await invoke('greet', { name: '  poisoned  ' });
    try { await invoke('write_report', { contents: 'a\u0000b' }); nul = 'resolved'; } catch (e) { nul = e.code; }
  } finally {
    Object.assign(Function.prototype, { bind: saved.bind, call: saved.call });
    Promise.prototype.then = saved.then;
    JSON.stringify = saved.stringify;
    Window.prototype.postMessage = saved.post;
  }
  const deep = (v, depth = 0) => isKey(v) || (depth < 4 && v && typeof v === 'object' && !ArrayBuffer.isView(v) &&
    Object.values(v).some((x) => deep(x, depth + 1)));
  check('GHSA-h7rp-cf8h-j98x: poisoned built-ins catch no key', seen.length > 0 && !seen.some(([, v]) => deep(v)), seen.length);
  check('GHSA-h7rp-cf8h-j98x: calls still pass the hooks', String(greeted).startsWith('Hello, poisoned!') && nul === 'rejected_by_hook', { greeted, nul });
}

// GHSA-ff2p-hmqr-hxm4: arguments with accessors that answer differently
// each time they are read. What the hook judged is what is sealed and run.
{
  let reads = 0;
  const tricky = { get contents() { reads += 1; return reads === 1 ? 'judged report' : 'bad\u0000report'; } };
  let wrote;
  try { wrote = await invoke('write_report', tricky); } catch (e) { wrote = e.code; }
  const now = await invoke('read_report');
  check('GHSA-ff2p-hmqr-hxm4: an accessor is read once, and what the hook saw is what runs',
    (now === 'judged report' && typeof wrote === 'number') || (wrote === 'rejected_by_hook' && now !== 'bad\u0000report'), { wrote, now, reads });
  const proto = JSON.parse('{"contents": "plain report", "__proto__": {"contents": "bad\\u0000report"}}');
  let second;
  try { second = await invoke('write_report', proto); } catch (e) { second = e.code; }
  check('GHSA-ff2p-hmqr-hxm4: an own "__proto__" key is data, not a prototype', second === 'bad_args', second);
}

// GHSA-f9mq-jph6-9mhm: window.open with features that a runtime read as
// its own options.
for (const [url, features] of [['file:///etc/passwd', 'nodeIntegration=yes,show=no'], ['app://localhost/', 'width=10,height=10,webPreferences=x']]) {
  let w;
  try { w = window.open(url, '', features); } catch (e) { w = null; }
  check(`GHSA-f9mq-jph6-9mhm: window.open(${url}, features) opens nothing`, w === null, String(w));
}

// GHSA-5c9j-mhmv-5xgx: a NUL byte after an allowed prefix.
await rejects('GHSA-5c9j-mhmv-5xgx: fs path with a NUL after an allowed prefix', fs.readTextFile('$APPDATA/report.txt\u0000/../../../../etc/passwd'), 'path_invalid');
await rejects('GHSA-5c9j-mhmv-5xgx: open URL with a NUL after an allowed prefix', shell.open('https://github.com/\u0000file:///etc/passwd'), 'url_invalid');
await rejects('GHSA-5c9j-mhmv-5xgx: shell argument with a NUL after an allowed value', shell.execute('uname', ['-s\u0000-a']), 'scope_denied');

// GHSA-4p4r-m79c-wq3v: header injection through a custom scheme's path or
// a request header.
for (const path of ['/index%0D%0ASet-Cookie:%20x=1', '/style.css%0D%0AX-Injected:%201', '/a%00.css']) {
  // Either no response at all (the load fails) or a 404 with no header
  // the path spelled.
  let res = null;
  try { res = await fetch('app://localhost' + path); } catch (e) { res = null; }
  const names = res ? [...res.headers.keys()] : [];
  check(`GHSA-4p4r-m79c-wq3v: app:${path} injects no header`, (res === null || res.status === 404) && !names.includes('set-cookie') && !names.includes('x-injected') &&
    (res === null || [...res.headers.values()].every((v) => !/[\r\n\0]/.test(v))), { status: res && res.status, names });
}
let ranged;
try { ranged = (await fetch('app://localhost/style.css', { headers: { Range: 'bytes=0-1\r\nX-Injected: 1' } })).status; } catch (e) { ranged = e.name; }
check('GHSA-4p4r-m79c-wq3v: a request header with CR LF never leaves the page', ranged === 'TypeError', ranged);

// CVE-2023-23623: eval and new Function are refused in the app's page (the
// frame's hooks and the crash page are tested where they live).
let evaluated, compiled;
try { evaluated = eval('1 + 1'); } catch (e) { evaluated = e.name; }
try { compiled = new Function('return 1')(); } catch (e) { compiled = e.name; }
check('CVE-2023-23623: eval and new Function are refused in the page', evaluated === 'EvalError' && compiled === 'EvalError', { evaluated, compiled });
// GHSA-3p22-ghq8-v749: device APIs reached without the user's say. The
// engine offers none of them to the page.
const devices = ['bluetooth', 'usb', 'hid', 'serial'].filter((k) => k in navigator);
check('GHSA-3p22-ghq8-v749: no device API (Bluetooth, USB, HID, serial) is offered to the page', devices.length === 0, devices);
harness.done();
