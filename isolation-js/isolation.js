// Moat isolation frame. Inlined by the core into the isolation document
// (allowed by its hash), which runs in <iframe sandbox="allow-scripts"> at
// isolation://localhost/, an opaque origin the main frame cannot script. As a
// module script its top-level names (the key, the counter) are invisible to
// the hooks, which are separate modules.
//
// This file and the app's hooks are the page-side trusted computing base:
// every call, the app's and an attacker's alike, passes through the hooks in
// order, and only what they let through is sealed with the key. The key is
// imported non-extractable and its bytes are overwritten; it never leaves
// this realm.
//
// Transport: small envelopes go straight to the core over a script message
// handler as `moat1:<id>:<base64>` (src/ipc/post.rs): `messageHandlers.moat`
// where the platform has it, whose promise carries the replies of the calls
// that finished at once (passed on to the bridge), else `messageHandlers.ipc`.
// Large envelopes go back to the bridge, which POSTs them to ipc://localhost/
// (src/ipc/fetch.rs). Any other reply reaches the main frame as a script.
//
// Envelope (must match src/isolation/envelope.rs):
//   [0]     version = 1
//   [1..9]  counter, u64 big-endian, starts at 1, never repeats under a key
//   [9..]   AES-256-GCM(key, nonce = 00000000 || counter, aad = bytes 0..9)
//           of UTF-8 JSON {"id","cmd","args"}
'use strict';

const subtle = crypto.subtle;
const encrypt = subtle.encrypt.bind(subtle);
const importKey = subtle.importKey.bind(subtle);
const encoder = new TextEncoder();
const encodeInto = encoder.encodeInto.bind(encoder);
const stringify = JSON.stringify;
const parent = window.parent;
const VERSION = 1;
const HEADER_LEN = 9;
const handlers = window.webkit && window.webkit.messageHandlers;
const withReply = handlers && handlers.moat ? handlers.moat.postMessage.bind(handlers.moat) : null;
const plain = handlers && handlers.ipc ? handlers.ipc.postMessage.bind(handlers.ipc) : null;
const postToCore = withReply || plain;
const btoa_ = window.btoa.bind(window);
const atob_ = window.atob.bind(window);
const postToSelf = window.postMessage.bind(window);
const toBase64 = Uint8Array.prototype.toBase64
  ? (bytes) => bytes.toBase64()
  : (bytes) => {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa_(s);
  };

const bootEl = document.getElementById('moat-boot');
const boot = JSON.parse(bootEl.textContent);
bootEl.remove();
const ctx = Object.freeze({ window: String(boot.window), origin: String(boot.appOrigin) });
// Envelopes up to this size go straight to the core as base64 text over the
// script message handler; larger ones go back to the bridge as a transferred
// ArrayBuffer and reach the core as a binary fetch body. The core sets it
// (src/ipc/limits.rs, INLINE_ENVELOPE_MAX).
const INLINE_MAX = Number(boot.inlineMax);

let counter = 0;
let key = null;
let hooks = [];
let status = null;           // null while starting, then { ok, code?, message? }

function base64ToBytes(b64) {
  const bin = atob_(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * The document's `frame-ancestors` says "only the app", but WebKitGTK matches
 * it against the ancestors' URLs, not their origins: a sandboxed (opaque
 * origin) app:// page passes (docs/webkitgtk.md). So the frame also checks for
 * itself that it is a direct child of the app's top-level page, and refuses to
 * run (dropping any key) otherwise.
 */
function framedByTheApp() {
  const ancestors = location.ancestorOrigins ? Array.from(location.ancestorOrigins) : null;
  const ok = parent === window.top && !!ancestors && ancestors.length === 1 && ancestors[0] === String(boot.appOrigin);
  if (!ok) console.error('moat isolation: refusing to run: framed by ' + stringify(ancestors) + ', not directly by ' + boot.appOrigin);
  return ok;
}

/**
 * Freezes this realm's built-ins before any hook loads: ECMAScript's
 * constructors and everything reachable from them (prototypes, methods,
 * hidden intrinsics such as the iterator prototypes), and the Web
 * prototypes the frame uses at call time. A hook that merges page data into
 * an object (`target[k] = v` for every key, "__proto__" included) then
 * cannot change `Object.prototype` or any other built-in under the frame or
 * the next hook: the write throws (hooks are modules, so strict).
 *
 * Assigning a property an object inherits from a frozen prototype would
 * throw too (`this.name = …` in an Error subclass, `obj.toString = …`), so
 * for those few names the prototype keeps the value behind an accessor
 * whose setter gives the object its own property instead.
 */
function hardenRealm() {
  const g = globalThis;
  const getDescriptor = Object.getOwnPropertyDescriptor;
  const ownKeys = Reflect.ownKeys;
  const names = [
    'Object', 'Function', 'Array', 'Number', 'Boolean', 'String', 'Symbol', 'BigInt', 'Date', 'RegExp',
    'Promise', 'Proxy', 'Reflect', 'JSON', 'Math', 'Atomics', 'Intl', 'Iterator',
    'Error', 'AggregateError', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError',
    'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry',
    'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array',
    'Uint16Array', 'Int32Array', 'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array',
    'BigUint64Array', 'parseInt', 'parseFloat', 'isNaN', 'isFinite', 'encodeURI', 'encodeURIComponent',
    'decodeURI', 'decodeURIComponent', 'escape', 'unescape',
    'Crypto', 'SubtleCrypto', 'CryptoKey', 'TextEncoder', 'TextDecoder',
  ];
  const todo = names.map((n) => g[n]);
  todo.push(
    getPrototypeOf(Int8Array),
    getPrototypeOf([][Symbol.iterator]()),
    getPrototypeOf(new Map()[Symbol.iterator]()),
    getPrototypeOf(new Set()[Symbol.iterator]()),
    getPrototypeOf(''[Symbol.iterator]()),
    getPrototypeOf(''.matchAll(/x/g)),
    getPrototypeOf(function* () {}),
    getPrototypeOf(async function () {}),
    getPrototypeOf(async function* () {}),
  );
  const seen = new Set();
  while (todo.length > 0) {
    const o = todo.pop();
    if (o === null || (typeof o !== 'object' && typeof o !== 'function') || seen.has(o)) continue;
    seen.add(o);
    todo.push(getPrototypeOf(o));
    for (const k of ownKeys(o)) {
      const d = getDescriptor(o, k);
      if ('value' in d) todo.push(d.value);
      else todo.push(d.get, d.set);
    }
  }
  const overridable = (proto, keys) => {
    for (const k of keys) {
      const d = getDescriptor(proto, k);
      if (!d || !('value' in d) || !d.configurable) continue;
      const value = d.value;
      defineProperty(proto, k, {
        get() { return value; },
        set(v) {
          if (this === proto) throw new TypeError('cannot assign ' + String(k) + ': the built-ins of the isolation frame are frozen');
          defineProperty(this, k, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: d.enumerable,
        configurable: false,
      });
    }
  };
  overridable(ObjectPrototype, ownKeys(ObjectPrototype).filter((k) => k !== '__proto__'));
  overridable(Function.prototype, ['toString']);
  for (const E of [Error, g.AggregateError, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]) {
    if (E === undefined) continue;
    overridable(E.prototype, ['constructor', 'name', 'message', 'toString']);
  }
  for (const o of seen) freeze(o);
}

async function start() {
  if (!framedByTheApp()) {
    boot.key = null;
    return { ok: false, code: 'isolation_failed', message: 'the isolation document may only be framed directly by the app' };
  }
  if (typeof boot.key !== 'string') {
    return { ok: false, code: 'no_key', message: 'this isolation frame was not given a key (only the first frame of a page load is)' };
  }
  const raw = base64ToBytes(boot.key);
  boot.key = null;
  // Import the key and load the hooks at the same time.
  const imported = importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt']);
  const loaded = Promise.all(boot.hooks.map((url) => import(url).then((mod) => {
    if (typeof mod.default !== 'function') {
      throw new Error('hook ' + hookName(url) + ' has no default-exported function; write `export default function (call, ctx) { … }`');
    }
    return freeze({ name: hookName(url), run: mod.default });
  }, (e) => {
    throw new Error(loadFailure(url, e));
  })));
  // The hooks are being fetched, and none can run before this task ends:
  // the realm is frozen first, while the fetches are under way.
  hardenRealm();
  try {
    key = await imported;
  } finally {
    raw.fill(0);
  }
  try {
    hooks = Object.freeze(await loaded);
  } catch (e) {
    const message = reason(e);
    // The app's log hears it too, sealed (so the page cannot forge one),
    // before the key is dropped for good.
    await reportToCore('hook_failed', message);
    key = null;
    return { ok: false, code: 'hook_failed', message };
  }
  return { ok: true };
}

/** Where the hooks are served; a hook's name is its path below. */
const HOOKS_BASE = location.protocol + '//' + location.host + '/hooks/';

function hookName(url) {
  const u = String(url);
  return u.startsWith(HOOKS_BASE) ? u.slice(HOOKS_BASE.length) : u;
}

/**
 * What to tell a hook's author when it fails to load: the hook, the error
 * with its file and line (WebKit gives both for a throw at load), and the
 * fix for the usual causes.
 */
function loadFailure(url, e) {
  const message = String(e && e.message || e);
  const where = e && typeof e.sourceURL === 'string' && e.line
    ? ' (' + hookName(e.sourceURL) + ':' + e.line + (e.column ? ':' + e.column : '') + ')'
    : '';
  let fix = '';
  if (message.includes('does not resolve to a valid URL')) {
    fix = '; a hook imports other files by a relative path inside the hooks folder: bundle the library into the hook, or copy its ESM build into the hooks folder and import it as \'./vendor/<name>.js\'';
  } else if (e instanceof TypeError && /readonly|read-only|not extensible/i.test(message)) {
    fix = '; the frame\'s built-ins are frozen before hooks load, and a hook may not change them';
  } else if (/Cross-origin|Importing a module script failed/.test(message)) {
    fix = '; a file it imports is not in the hooks folder (the app\'s log names the path)';
  }
  return 'hook ' + hookName(url) + ' failed to load: ' + message + where + fix;
}

/**
 * Tells the app's log about a problem of the frame's own, as a sealed call
 * to the reserved `moat.frame_report` (src/ipc/frame_report.rs). It skips
 * the hooks and the bridge; its answer is not passed on.
 */
async function reportToCore(what, detail) {
  if (!key || !postToCore) return;
  const args = stringify({ what, detail: String(detail).slice(0, 2000) });
  const envelope = await seal(plaintextOf(['{"id":0,"cmd":', stringify(FRAME_REPORT), ',"args":', args, '}'], []));
  try {
    await postToCore('moat1:0:' + toBase64(new Uint8Array(envelope)));
  } catch (e) {
    // Nothing more to do: the page still gets the failure.
  }
}

const FRAME_REPORT = 'moat.frame_report';
/** Command names the core keeps for the frame itself. */
const reserved = (cmd) => cmd.startsWith('moat.');

async function seal(plaintext) {
  counter += 1;
  const header = new Uint8Array(HEADER_LEN);
  const view = new DataView(header.buffer);
  header[0] = VERSION;
  view.setUint32(1, Math.floor(counter / 0x100000000));
  view.setUint32(5, counter >>> 0);
  const iv = new Uint8Array(12);
  iv.set(header.subarray(1), 4);
  const sealed = new Uint8Array(await encrypt({ name: 'AES-GCM', iv, additionalData: header, tagLength: 128 }, key, plaintext));
  const envelope = new Uint8Array(HEADER_LEN + sealed.length);
  envelope.set(header);
  envelope.set(sealed, HEADER_LEN);
  return envelope.buffer;
}

function reason(e) {
  if (e && typeof e.message === 'string') return e.message;
  if (typeof e === 'string') return e;
  return 'rejected by an isolation hook';
}

/** A call refused before it is sealed, with the code the caller gets. */
class Refusal extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const isArray = Array.isArray;
const freeze = Object.freeze;
const keys = Object.keys;
const defineProperty = Object.defineProperty;
const getPrototypeOf = Object.getPrototypeOf;
const ObjectPrototype = Object.prototype;
const apply = Reflect.apply;
const isFinite_ = Number.isFinite;
const objectTag = Object.prototype.toString;
const unwrap = new Map([
  [String.prototype, String.prototype.valueOf],
  [Number.prototype, Number.prototype.valueOf],
  [Boolean.prototype, Boolean.prototype.valueOf],
]);
const wellFormed = String.prototype.isWellFormed
  ? ((f) => (s) => apply(f, s, []))(String.prototype.isWellFormed)
  : ((re) => (s) => !re.test(s))(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
const DatePrototype = Date.prototype;
const isView = ArrayBuffer.isView;
const ArrayBufferPrototype = ArrayBuffer.prototype;
const U8 = Uint8Array;
const sliceU8 = Uint8Array.prototype.slice;
// The key that marks bytes in a sealed call (src/ipc/bytes.rs): Moat's
// own, so the page cannot write a marker.
const BYTES_KEY = '__moatBytes';
// Byte values the current toJson run met, and the objects and arrays it
// made, to be frozen once their text is taken (canonical resets both).
let bytesSeen = 0;
let made = [];
const dateTime = Date.prototype.getTime;
const dateIso = Date.prototype.toISOString;
// Deeper than this, the core's JSON parser (serde_json) refuses the call
// anyway; a value that refers to itself ends here too.
const MAX_DEPTH = 128;

/**
 * `v` as plain JSON data: what `JSON.stringify` would write, as a
 * value. Strings, booleans, finite numbers and null stay; `NaN` and
 * infinities become null; `new String('x')` and friends become their
 * primitive; a `Date` its ISO text; `undefined`, functions and symbols are
 * left out of objects and null in arrays. Plain objects and arrays are
 * copied; anything else (a `Map`, a typed array, a `BigInt`) is not JSON
 * data and is refused, where `JSON.stringify` would quietly write `{}`.
 */
function toJson(v, depth) {
  switch (typeof v) {
    case 'string':
      if (!wellFormed(v)) throw new Error('a string holds a lone surrogate (not well-formed Unicode), which the core could not decode');
      return v;
    case 'boolean': return v;
    case 'number': return isFinite_(v) ? v + 0 : null;
    case 'bigint': throw new Error('a BigInt is not JSON data');
    case 'object': break;
    default: return undefined;
  }
  if (v === null) return null;
  if (depth >= MAX_DEPTH) throw new Error('arguments nest deeper than ' + MAX_DEPTH + ' levels (or contain themselves)');
  const proto = getPrototypeOf(v);
  if (unwrap.has(proto)) return toJson(apply(unwrap.get(proto), v, []), depth);
  if (proto === DatePrototype) return isFinite_(apply(dateTime, v, [])) ? apply(dateIso, v, []) : null;
  // Bytes (an ArrayBuffer, a typed array, a DataView): a Uint8Array,
  // sealed after the JSON, never as numbers or base64. Its memory is the
  // frame's own already (the call came as a structured clone, and only
  // the frame and its hooks hold it), so it is viewed, not copied; the seal
  // copies it into the plaintext. Memory another realm may share (a
  // SharedArrayBuffer) is copied.
  if (proto === ArrayBufferPrototype) {
    bytesSeen += 1;
    return new U8(v);
  }
  if (isView(v)) {
    bytesSeen += 1;
    const view = new U8(v.buffer, v.byteOffset, v.byteLength);
    return getPrototypeOf(v.buffer) === ArrayBufferPrototype ? view : apply(sliceU8, view, []);
  }
  if (isArray(v)) {
    const out = [];
    for (let i = 0; i < v.length; i++) {
      const x = toJson(v[i], depth + 1);
      out.push(x === undefined ? null : x);
    }
    made.push(out);
    return out;
  }
  if (proto !== ObjectPrototype && proto !== null) {
    throw new Error('a ' + apply(objectTag, v, []).slice(8, -1) + ' is not JSON data; pass plain objects, arrays, strings, numbers, booleans or null');
  }
  const out = {};
  for (const k of keys(v)) {
    if (!wellFormed(k)) throw new Error('a key holds a lone surrogate (not well-formed Unicode), which the core could not decode');
    if (k === BYTES_KEY) throw new Error('the key "' + BYTES_KEY + '" is Moat\'s own (it marks bytes); rename it');
    const x = toJson(v[k], depth + 1);
    if (x === undefined) continue;
    // A key that Object.prototype also has stays an own key: assigning
    // "__proto__" would set the prototype, and "toString" & co. are
    // read-only once the realm is hardened.
    if (k in ObjectPrototype) defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  made.push(out);
  return out;
}

/**
 * The one form of a call's arguments that the hooks see and the core gets:
 * plain JSON data ([toJson]), frozen, and the text sealed is exactly that
 * value stringified. So a hook's `typeof` checks and the sealed bytes agree
 * (a `new String('x')` is the string "x" for both), and the arguments are an
 * object with named keys (an array would slip past a hook that checks
 * `args.path`, and serde would still fill a struct from it). Returns
 * `{ args, text, blobs }`, `args` frozen.
 *
 * The text is taken before the value is frozen, in the same task (nothing
 * else runs in between): JavaScriptCore stringifies a frozen object on a
 * slower path (16 vs 9 ms for 10 MiB of text here).
 */
function canonical(args) {
  let value;
  bytesSeen = 0;
  made = [];
  try {
    value = toJson(args === undefined ? {} : args, 0);
  } catch (e) {
    made = [];
    throw new Refusal('bad_args', 'arguments are not JSON data: ' + reason(e));
  }
  if (value === null || typeof value !== 'object' || isArray(value)) {
    made = [];
    throw new Refusal('bad_args', 'arguments must be an object with named keys, e.g. {"name": …}, not an array or a single value');
  }
  let text;
  const blobs = [];
  if (bytesSeen === 0) {
    text = stringify(value);
  } else {
    // Each Uint8Array becomes a marker naming its place in `blobs`.
    text = stringify(value, (k, x) => {
      if (x instanceof U8) {
        blobs.push(x);
        return { [BYTES_KEY]: blobs.length - 1 };
      }
      return x;
    });
  }
  for (const o of made) freeze(o);
  made = [];
  return { args: value, text, blobs };
}

// Text up to this many UTF-16 units is encoded whole (see utf8).
const SHORT_TEXT = 4096;

/**
 * The UTF-8 of the strings `parts`, one after the other, at `before` in a
 * new buffer with at least `after` bytes free behind them: `{ out, end }`,
 * the text ending at `end`. Encoded straight into the buffer (no joined
 * string to flatten, no intermediate copy): one pass when the text is
 * ASCII, as a call's JSON mostly is; otherwise the buffer grows for the
 * worst case of what is left (3 bytes per UTF-16 unit) and encoding goes on
 * where it stopped (`encodeInto` never splits a surrogate pair, and the
 * text is well-formed). Short text is joined and encoded at once, which
 * costs less per call than several `encodeInto` (1.7 against 2.8 µs for a
 * small call's JSON).
 */
function utf8(parts, before, after) {
  let left = 0;
  for (const s of parts) left += s.length;
  if (left <= SHORT_TEXT) {
    const text = encoder.encode(parts.join(''));
    if (before === 0 && after === 0) return { out: text, end: text.length };
    const out = new U8(before + text.length + after);
    out.set(text, before);
    return { out, end: before + text.length };
  }
  let out = new U8(before + left + after);
  let at = before;
  for (const s of parts) {
    left -= s.length;
    let rest = s;
    for (;;) {
      const r = encodeInto(rest, out.subarray(at, out.length - after));
      at += r.written;
      if (r.read === rest.length) break;
      rest = rest.slice(r.read);
      const bigger = new U8(at + 3 * (rest.length + left) + after);
      bigger.set(out.subarray(0, at));
      out = bigger;
    }
  }
  return { out, end: at };
}

/**
 * The plaintext of a call whose JSON is the strings `parts` joined: the
 * JSON, or, with bytes, framed (src/ipc/bytes.rs): 0x01, the JSON's
 * length, the JSON, the number of blobs, each blob's length and bytes.
 */
function plaintextOf(parts, blobs) {
  if (blobs.length === 0) {
    const { out, end } = utf8(parts, 0, 0);
    return out.subarray(0, end);
  }
  let after = 4;
  for (const b of blobs) after += 4 + b.length;
  const { out, end } = utf8(parts, 5, after);
  const view = new DataView(out.buffer);
  out[0] = 1;
  view.setUint32(1, end - 5);
  let at = end;
  view.setUint32(at, blobs.length);
  at += 4;
  for (const b of blobs) {
    view.setUint32(at, b.length);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out.subarray(0, at);
}

/**
 * Runs the hook chain on the canonical payload; returns what to seal (`text`
 * is the arguments' JSON), or throws. A hook's rewrite is made canonical
 * again before the next hook, or the seal, sees it.
 */
async function runHooks(cmd, args) {
  let p = { cmd, ...canonical(args) };
  for (const hook of hooks) {
    let r;
    try {
      r = await hook.run(freeze({ cmd: p.cmd, args: p.args }), ctx);
    } catch (e) {
      throw new Refusal('rejected_by_hook', reason(e));
    }
    if (r === false) throw new Refusal('rejected_by_hook', 'rejected by an isolation hook');
    if (r === undefined || r === true) continue;
    if (r && typeof r === 'object' && typeof r.cmd === 'string' && wellFormed(r.cmd) && !reserved(r.cmd)) {
      p = { cmd: r.cmd, ...canonical(r.args) };
      continue;
    }
    throw new Refusal('rejected_by_hook', 'hook ' + hook.name + ' returned ' + describe(r) +
      '; a hook returns nothing or true (let the call through), false or a throw (refuse it), or {cmd, args} (rewrite it)');
  }
  return p;
}

/** A hook's wrong return value, for its author. */
function describe(r) {
  if (r === null) return 'null';
  if (isArray(r)) return 'an array';
  if (typeof r === 'object') {
    if (typeof r.cmd !== 'string') return 'an object without a string `cmd`';
    if (!wellFormed(r.cmd)) return 'a command name that is not well-formed Unicode';
    return 'the reserved command name ' + stringify(r.cmd);
  }
  if (typeof r === 'string') return 'the string ' + stringify(r.length > 40 ? r.slice(0, 40) + '…' : r);
  return 'a ' + typeof r + ' (' + String(r) + ')';
}

// Envelopes for the core wait in `outbox` while other calls are still being
// sealed, and leave together as one message ("moat1:<id>:<b64>;<id>:<b64>…"),
// each still opened and checked on its own by the core. With nothing else in
// flight an envelope leaves at once, so a lone call waits for nothing.
let inFlight = 0;
let outbox = [];
let outboxIds = [];
let flushQueued = false;

// Envelopes that leave together, at most: a message the core handles in
// one go, and whose answers it holds at once, stays small however many
// calls the page makes (the core sets it, src/ipc/limits.rs).
const BATCH_MAX = Number(boot.batchMax);

// Messages to the core awaiting their answer, at most: the rest wait here,
// in the page's process, so a page that makes a flood of calls cannot pile
// them up in the app's process faster than the core answers.
const POSTS_IN_FLIGHT = 4;
let posting = 0;

function flush() {
  flushQueued = false;
  while (outbox.length > 0 && (!withReply || posting < POSTS_IN_FLIGHT)) {
    if (outbox.length <= BATCH_MAX) {
      // Taken whole, not spliced: a splice from the front turns an array
      // into JavaScriptCore's slower storage for every later push.
      const batch = outbox;
      const ids = outboxIds;
      outbox = [];
      outboxIds = [];
      send(batch, ids);
    } else {
      const batch = outbox.splice(0, BATCH_MAX);
      send(batch, outboxIds.splice(0, batch.length));
    }
  }
}

function send(batch, ids) {
  const text = 'moat1:' + batch.join(';');
  if (!withReply) {
    plain(text);
    return;
  }
  posting += 1;
  withReply(text).then((replies) => {
    // "[[id, reply], …]" for the calls that finished at once; the bridge
    // parses it (the frame only passes it on).
    if (replies !== '[]') toParent({ type: 'replies', text: replies });
  }, (e) => {
    for (const id of ids) toParent({ type: 'error', id, code: 'transport', message: 'the core refused the message: ' + reason(e) });
  }).then(() => {
    posting -= 1;
    flush();
  });
}

function sendToCore(id, envelope) {
  outboxIds.push(id);
  outbox.push(id + ':' + toBase64(new Uint8Array(envelope)));
  if (inFlight === 0) {
    flush();
  } else if (!flushQueued) {
    // A message to ourselves runs after the seals already completed (and
    // queued as tasks), so they join this batch.
    flushQueued = true;
    postToSelf({ type: 'moat:flush' }, '*');
  }
}

/** Messages to the main frame go to the parent window, on the app's origin only. */
function toParent(m, transfer) {
  parent.postMessage(m, ctx.origin, transfer || []);
}

async function onCall(m) {
  const id = m.id;
  if (!Number.isSafeInteger(id) || id < 1 || typeof m.cmd !== 'string') {
    if (Number.isSafeInteger(id)) toParent({ type: 'error', id, code: 'bad_call', message: 'malformed call' });
    return;
  }
  if (!wellFormed(m.cmd)) {
    toParent({ type: 'error', id, code: 'bad_call', message: 'the command name holds a lone surrogate (not well-formed Unicode)' });
    return;
  }
  if (reserved(m.cmd)) {
    toParent({ type: 'error', id, code: 'bad_call', message: 'command names starting with "moat." are reserved for Moat itself' });
    return;
  }
  if (!key) {
    // The frame's own failure (a hook that failed to load), if it had one.
    const failed = status && !status.ok ? status : { code: 'no_key', message: 'this isolation frame has no key' };
    toParent({ type: 'error', id, code: failed.code, message: failed.message });
    return;
  }
  inFlight += 1;
  try {
    await sealAndSend(id, m);
  } finally {
    inFlight -= 1;
  }
}

async function sealAndSend(id, m) {
  let p;
  try {
    p = await runHooks(m.cmd, m.args);
  } catch (e) {
    toParent({ type: 'error', id, code: e instanceof Refusal ? e.code : 'rejected_by_hook', message: reason(e) });
    return;
  }
  // The arguments' text is the one the hooks' value was parsed from.
  const plaintext = plaintextOf(['{"id":' + id + ',"cmd":' + stringify(p.cmd) + ',"args":', p.text, '}'], p.blobs);
  const envelope = await seal(plaintext);
  if (postToCore && envelope.byteLength <= INLINE_MAX) {
    inFlight -= 1; // this call is sealed; only the others hold the batch open
    try {
      sendToCore(id, envelope);
    } finally {
      inFlight += 1;
    }
  } else {
    toParent({ type: 'sealed', id, envelope }, [envelope]);
  }
}

// Installed synchronously, before start-up finishes, so an early connect is
// not lost. Only the parent window, on the app's origin, is heard. Calls that
// arrive before start-up finishes are refused by the bridge's own queueing:
// it sends none until it has seen `ready`.
window.addEventListener('message', (ev) => {
  if (ev.source === window && ev.data && ev.data.type === 'moat:flush') {
    flush();
    return;
  }
  if (ev.source !== parent || ev.origin !== ctx.origin) return;
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'call' || m.type === 'calls') {
    const calls = m.type === 'call' ? [m] : (Array.isArray(m.calls) ? m.calls : []);
    for (const c of calls) {
      if (!c || typeof c !== 'object') continue;
      if (status) onCall(c);
      else if (Number.isSafeInteger(c.id)) toParent({ type: 'error', id: c.id, code: 'no_key', message: 'the isolation frame is still starting' });
    }
  } else if (m.type === 'moat:connect') {
    // Before start-up finishes there is nothing to say; `ready` follows.
    if (status) toParent({ type: 'ready', ...status });
  } else if (m.type === 'moat:probe' && boot.probe === true && status) {
    // Test-harness builds only (the core sets `probe`): what the key's
    // object says about itself, never its bytes.
    probeKey().then((r) => toParent({ type: 'probe', ...r }));
  }
});

async function probeKey() {
  const found = { bootElement: document.getElementById('moat-boot') !== null, bootKey: boot.key, key: key !== null };
  if (!key) return found;
  let exportRaw = 'exported';
  try {
    await subtle.exportKey('raw', key);
  } catch (e) {
    exportRaw = e.name;
  }
  return { ...found, extractable: key.extractable, usages: [...key.usages], algorithm: key.algorithm.name, length: key.algorithm.length, exportRaw };
}

// Announce readiness unprompted: the bridge need not wait for this frame's
// load event (tens of milliseconds at start-up).
start().then(
  (s) => { status = s; },
  (e) => { key = null; status = { ok: false, code: 'isolation_failed', message: reason(e) }; },
).then(() => {
  toParent({ type: 'ready', ...status });
});
