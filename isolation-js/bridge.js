// Moat bridge: injected by the core into the main frame only, before any
// page script. Wrapped by the core as
//   (() => { const MOAT_CONFIG = {...}; <this file> })();
// so nothing here is global except `window.moat`.
//
// The main frame is untrusted (it may run an attacker's script); this file
// is a convenience for the page, not a security boundary. The boundaries are
// the isolation frame (hooks + key) and the core (decrypt, replay, scopes).
// It still captures the built-ins its transport uses (fetch, JSON.parse,
// timers, postMessage listeners), so a page that replaces them after load
// does not silently reroute calls.
'use strict';

const config = MOAT_CONFIG;
const fetch_ = window.fetch.bind(window);
const addEventListener_ = window.addEventListener.bind(window);
const Map_ = Map;
const JSON_parse = JSON.parse;
const setTimeout_ = window.setTimeout.bind(window);
const queueMicrotask = window.queueMicrotask.bind(window);
const clearTimeout_ = window.clearTimeout.bind(window);
const now = performance.now.bind(performance);
const hasOwn = Object.prototype.hasOwnProperty.call.bind(Object.prototype.hasOwnProperty);

/** An error from a Moat call: `code` is stable, `message` is for people. */
class MoatError extends Error {
  constructor(code, message, cmd, data) {
    super(message);
    this.name = 'MoatError';
    this.code = code;
    this.cmd = cmd;
    if (data !== undefined) this.data = data;
  }
}

const pending = new Map_();   // id -> { resolve, reject, cmd, deadline, ms, … }
const queue = [];             // calls made before the frame is ready
let nextId = 1;
let frame = null;             // the isolation <iframe>
let frameWindow = null;       // its window, the only source we accept
let state = 'pending';         // 'pending' | 'ready' | 'failed'
let failure = null;           // the frame's { code, message } once 'failed'
let readyResolve, readyReject;
const ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
ready.catch(() => {});

// Calls made in the same task go to the frame as one message (one clone,
// one message event); the frame still hooks and seals each on its own.
let outbox = [];
let flushQueued = false;

function post(message) {
  // The frame's origin is opaque, so no target origin can name it; the
  // message goes to the frame's own window, which this bridge created.
  frameWindow.postMessage(message, '*');
}

function flush() {
  flushQueued = false;
  // Taken whole, not spliced: a splice from the front turns an array into
  // JavaScriptCore's slower storage for every later push.
  const calls = outbox;
  outbox = [];
  if (calls.length === 0) return;
  try {
    // A lone call goes as itself ({type: 'call'}): one object to clone.
    post(calls.length === 1 ? calls[0] : { type: 'calls', calls });
  } catch (e) {
    // One of them cannot be cloned: send them one by one to find which.
    for (const call of calls) {
      try {
        post(call);
      } catch (err) {
        fail(call.id, 'bad_args', 'arguments cannot be sent: ' + String(err && err.message || err));
      }
    }
  }
}

function send(call) {
  outbox.push(call);
  if (!flushQueued) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}

/**
 * Settles call `id` with `fn`, once. `expect`: how many of its channels the
 * core opened (the reply says); their messages come first, so the reply
 * waits until that many have ended.
 */
function settle(id, fn, expect) {
  const p = pending.get(id);
  if (!p) return;
  // Only channels this page passed can end here (a marker the page wrote
  // by hand names no Channel).
  if (Math.min(expect, p.channels) > p.ended) {
    p.expect = expect;
    p.deferred = fn;
    return;
  }
  pending.delete(id);
  if (p.channels) dropChannels(id);
  fn(p);
}

// ---- Push: events and channels (src/ipc/push.rs). The core queues them
// with replies and evaluates `__moatPush({k, to, v | t})` in this frame:
// kind `k` "e" an event for listeners of the name `to`, "c" a message for
// channel `to`, "x" the end of channel `to`. The payload is `v`, the value
// itself (a string included), or `t`, JSON text to parse
// (src/ipc/transport/reply.rs says when).

/** Event and command names: 1 to 64 ASCII letters, digits, '_', '-', ':'. */
const NAME = /^[A-Za-z][A-Za-z0-9_:-]{0,63}$/;
const listeners = new Map_();   // name -> Set of handlers
// Launch links (src/launch) come once, maybe before the page listens:
// the first few wait here for the first listener.
const HELD = 'moat:launch';
const HELD_MAX = 32;
const held = [];
const channels = new Map_();    // channel id -> { channel, callId }
let nextChannelId = 1;

function report(e) {
  // A page handler's error is the page's; it must not stop the others.
  queueMicrotask(() => { throw e; });
}

/**
 * Calls `handler(payload)` for every event `name` the app emits, until the
 * returned function is called.
 */
function listen(name, handler) {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new MoatError('bad_call', 'event names are 1 to 64 ASCII letters, digits, "_", "-" or ":", starting with a letter', null);
  }
  if (typeof handler !== 'function') throw new MoatError('bad_call', 'listen needs a handler function', null);
  let set = listeners.get(name);
  if (!set) { set = new Set(); listeners.set(name, set); }
  const entry = (payload) => handler(payload);
  set.add(entry);
  if (name === HELD && held.length) {
    for (const payload of held.splice(0)) queueMicrotask(() => { try { entry(payload); } catch (e) { report(e); } });
  }
  return () => {
    set.delete(entry);
    if (set.size === 0 && listeners.get(name) === set) listeners.delete(name);
  };
}

/**
 * A stream from one command to the page: pass it as an argument value, and
 * `onMessage` gets each message the command sends, in order, before the
 * call's promise settles. It closes when the command finishes.
 */
class Channel {
  constructor(onMessage) {
    if (typeof onMessage !== 'function') throw new MoatError('bad_call', 'a Channel needs a function for its messages', null);
    this.id = nextChannelId++;
    this.onmessage = onMessage;
    this.closed = false;
    Object.freeze(this);
  }
}

function endChannel(id) {
  const c = channels.get(id);
  if (!c) return;
  channels.delete(id);
  const p = pending.get(c.callId);
  if (!p) return;
  p.ended += 1;
  if (p.deferred && p.ended >= Math.min(p.expect, p.channels)) {
    const fn = p.deferred;
    p.deferred = null;
    settle(c.callId, fn, 0);
  }
}

/** Forgets the channels of a settled call (those the core never opened). */
function dropChannels(callId) {
  for (const [id, c] of channels) if (c.callId === callId) channels.delete(id);
}

Object.defineProperty(window, '__moatPush', {
  value: (m) => {
    if (!m || typeof m !== 'object') return;
    let payload = m.v;
    if (hasOwn(m, 't')) {
      try { payload = JSON_parse(String(m.t)); } catch (e) { report(e); return; }
    }
    const kind = m.k;
    const target = m.to;
    if (kind === 'e') {
      const set = listeners.get(target);
      if (!set) {
        // No listener: dropped, but for launch links, which wait.
        if (target === HELD && held.length < HELD_MAX) held.push(payload);
        return;
      }
      for (const h of Array.from(set)) {
        try { h(payload); } catch (e) { report(e); }
      }
    } else if (kind === 'c') {
      const c = channels.get(target);
      if (!c) return;
      try { c.channel.onmessage(payload); } catch (e) { report(e); }
    } else if (kind === 'x') {
      endChannel(target);
    }
  },
});

/**
 * `args` with every Channel in it replaced by its marker
 * `{"__moatChannel": id}` (registered for call `callId`), and how many.
 * Walks only plain objects and arrays; returns `args` itself when there is
 * no Channel.
 */
function withChannels(args, callId) {
  let count = 0;
  const walk = (v, depth) => {
    if (v instanceof Channel) {
      channels.set(v.id, { channel: v, callId });
      count += 1;
      return { __moatChannel: v.id };
    }
    if (v === null || typeof v !== 'object' || depth > 64) return v;
    const proto = Object.getPrototypeOf(v);
    if (Array.isArray(v)) {
      let out = null;
      for (let i = 0; i < v.length; i++) {
        const x = walk(v[i], depth + 1);
        if (x !== v[i] && out === null) out = v.slice(0, i);
        if (out !== null) out.push(x);
      }
      return out === null ? v : out;
    }
    if (proto !== Object.prototype && proto !== null) return v;
    let out = null;
    for (const k of Object.keys(v)) {
      const x = walk(v[k], depth + 1);
      if (x !== v[k] && out === null) out = Object.assign({}, v);
      if (out !== null) out[k] = x;
    }
    return out === null ? v : out;
  };
  const replaced = walk(args, 0);
  return { args: replaced, count };
}

// Call timeouts: one timer for all pending calls, due at the earliest
// deadline. A timer per call (set, then cleared by the reply) cost a few
// microseconds of the web process's main thread on every call.
let sweepTimer = null;
let sweepAt = Infinity;
const MAX_DELAY = 0x7fffffff;

function armSweep(at) {
  if (at >= sweepAt) return;
  if (sweepTimer !== null) clearTimeout_(sweepTimer);
  sweepAt = at;
  // A delay past 2^31-1 ms fires at once in browsers: wait at most that,
  // and the sweep re-arms for what is still ahead.
  sweepTimer = setTimeout_(sweep, Math.min(MAX_DELAY, Math.max(0, at - now())));
}

/** Fails the calls past their deadline; re-arms for the next one. */
function sweep() {
  sweepTimer = null;
  sweepAt = Infinity;
  const t = now();
  let next = Infinity;
  const late = [];
  for (const [id, p] of pending) {
    if (p.deadline <= t) late.push([id, p.ms]);
    else if (p.deadline < next) next = p.deadline;
  }
  for (const [id, ms] of late) fail(id, 'timeout', 'no reply within ' + ms + ' ms');
  if (next !== Infinity) armSweep(next);
}

function fail(id, code, message, data, expect) {
  settle(id, (p) => p.reject(new MoatError(code, message, p.cmd, data)), expect || 0);
}

function settleReply(id, reply) {
  // A reply to no call of this page (one that timed out, or one sealed by
  // someone else through the frame) settles nothing: its bytes stay in the
  // core, which drops them when they expire, rather than being fetched into
  // this process for nobody.
  if (!pending.has(id)) return;
  if (reply && Number.isSafeInteger(reply.blobs) && reply.blobs > 0) {
    // The reply's bytes wait in the core: fetched once, as one binary body,
    // put where their markers are.
    const blobs = reply.blobs;
    reply.blobs = 0;
    fetchBlobs(id, blobs).then(
      (list) => settleReply(id, withBytes(reply, list)),
      (e) => fail(id, 'transport', 'the reply\'s bytes could not be fetched: ' + String(e && e.message || e)),
    );
    return;
  }
  const expect = reply && Number.isSafeInteger(reply.channels) ? reply.channels : 0;
  if (reply && Object.prototype.hasOwnProperty.call(reply, 'ok')) {
    settle(id, (p) => p.resolve(reply.ok), expect);
  } else if (reply && reply.err) {
    fail(id, String(reply.err.code), String(reply.err.message), reply.err.data, expect);
  } else {
    fail(id, 'bad_reply', 'the core sent a reply of unknown shape');
  }
}

/** The reply body, or undefined after failing the call. */
function parseReply(id, text) {
  try {
    return JSON_parse(text);
  } catch (e) {
    fail(id, 'bad_reply', 'the core sent a reply that is not JSON');
    return undefined;
  }
}

// Replies to calls the frame posted straight to the core arrive here when
// they were not in the answer to its post (still running then, or large),
// run by the core in the main frame as `{id, v}`, the reply object itself,
// or `{id, t}`, its JSON text (when it holds "__proto__" or a \u escape; see
// src/ipc/transport/reply.rs). The form is said, never guessed. Not
// writable, not enumerable.
Object.defineProperty(window, '__moatReply', {
  value: (m) => {
    if (!m || typeof m !== 'object' || !Number.isSafeInteger(m.id)) return;
    const id = m.id;
    const reply = hasOwn(m, 't') ? parseReply(id, String(m.t)) : m.v;
    if (reply !== undefined) settleReply(id, reply);
  },
});

/**
 * The `count` blobs of call `id`'s reply. The core answers with the framed
 * reply as the command produced it (src/ipc/bytes.rs): 0x01, the JSON's
 * length, the JSON, then `count:u32 (len:u32 bytes)*`.
 */
async function fetchBlobs(id, count) {
  const res = await fetch_(config.ipcUrl + 'blobs/' + id, { cache: 'no-store' });
  if (!res.ok) throw new Error('status ' + res.status);
  const buf = await res.arrayBuffer();
  const view = new DataView(buf);
  if (view.getUint8(0) !== 1) throw new Error('the reply\'s bytes are not framed');
  let at = 5 + view.getUint32(1);
  const n = view.getUint32(at);
  if (n !== count) throw new Error('expected ' + count + ' blobs, got ' + n);
  const list = [];
  at += 4;
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(at);
    list.push(new Uint8Array(buf, at + 4, len));
    at += 4 + len;
  }
  return list;
}

/** `reply` with each `{"__moatBytes": k}` in its value replaced by blob `k`. */
function withBytes(reply, list) {
  const walk = (v) => {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(walk);
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '__moatBytes' && Number.isSafeInteger(v.__moatBytes) && list[v.__moatBytes]) {
      return list[v.__moatBytes];
    }
    for (const k of keys) {
      const w = walk(v[k]);
      if (w !== v[k]) Object.defineProperty(v, k, { value: w, enumerable: true, writable: true, configurable: true });
    }
    return v;
  };
  if (Object.prototype.hasOwnProperty.call(reply, 'ok')) reply.ok = walk(reply.ok);
  return reply;
}

/** Large envelopes come back from the frame and go to the core as a binary body. */
async function forward(id, envelope) {
  let res, text;
  try {
    res = await fetch_(config.ipcUrl + id, { method: 'POST', body: envelope, cache: 'no-store' });
    text = await res.text();
  } catch (e) {
    fail(id, 'transport', 'the IPC request failed: ' + String(e && e.message || e));
    return;
  }
  const reply = parseReply(id, text);
  // A large reply comes as a script (window.__moatReply), not in the body.
  if (reply === undefined || (reply && reply.via === 'script')) return;
  settleReply(id, reply);
}

function onFrameMessage(ev) {
  if (frameWindow === null || ev.source !== frameWindow) return;
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'ready') {
    if (state !== 'pending') return;
    if (m.ok) {
      state = 'ready';
      readyResolve();
      for (const c of queue.splice(0)) send(c);
    } else {
      state = 'failed';
      failure = { code: String(m.code || 'no_key'), message: String(m.message || 'the isolation frame has no key') };
      const err = new MoatError(failure.code, failure.message, null);
      readyReject(err);
      for (const c of queue.splice(0)) fail(c.id, err.code, err.message);
    }
  } else if (m.type === 'replies') {
    // Replies the core gave in answer to the frame's post: "[[id, reply], …]".
    let all;
    try {
      all = JSON_parse(String(m.text));
    } catch (e) {
      return;
    }
    if (!Array.isArray(all)) return;
    for (const r of all) {
      if (Array.isArray(r) && typeof r[0] === 'number') settleReply(r[0], r[1]);
    }
  } else if (m.type === 'sealed') {
    if (pending.has(m.id)) forward(m.id, m.envelope);
  } else if (m.type === 'error') {
    fail(m.id, String(m.code), String(m.message));
  }
}

// The frame announces itself when its key and hooks are loaded; asking again
// on its load event covers a frame that started before we listened.
function connect() {
  if (state === 'pending') frameWindow.postMessage({ type: 'moat:connect' }, '*');
}

// window.postMessage, not a MessageChannel: in WebKitGTK a MessagePort hop
// goes through the UI process (~125 µs); a same-process window message
// costs ~6 µs (docs/webkitgtk.md).
addEventListener_('message', onFrameMessage);

function createFrame() {
  frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.setAttribute('aria-hidden', 'true');
  frame.setAttribute('tabindex', '-1');
  frame.style.display = 'none';
  frame.src = config.isolationUrl;
  frame.addEventListener('load', connect, { once: true });
  (document.body || document.documentElement).appendChild(frame);
  // The WindowProxy stays the same object across the frame's navigation.
  frameWindow = frame.contentWindow;
}

if (document.documentElement) {
  createFrame();
} else {
  const obs = new MutationObserver(() => {
    if (document.documentElement) { obs.disconnect(); createFrame(); }
  });
  obs.observe(document, { childList: true });
}

/**
 * Calls a Rust command through the isolation frame.
 * @param {string} cmd
 * @param {object} [args]
 * @returns {Promise<any>} the command's result; rejects with a MoatError.
 */
function invoke(cmd, args, options) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    if (typeof cmd !== 'string') {
      reject(new MoatError('bad_call', 'cmd must be a string', cmd));
      return;
    }
    // `timeoutMs: null`: no timeout (a call that lasts as long as its work,
    // such as shell.spawn, which ends with the page anyway).
    const ms = options && Object.prototype.hasOwnProperty.call(options, 'timeoutMs') ? options.timeoutMs : config.callTimeoutMs;
    if (ms !== null && !(typeof ms === 'number' && ms >= 0)) {
      reject(new MoatError('bad_call', 'timeoutMs must be a number of milliseconds (0 or more) or null', cmd));
      return;
    }
    const deadline = ms === null ? Infinity : now() + ms;
    // Channels exist only once the page has made one.
    const sent = nextChannelId > 1 ? withChannels(args, id) : { args, count: 0 };
    pending.set(id, { resolve, reject, cmd, deadline, ms, channels: sent.count, ended: 0, expect: 0, deferred: null });
    armSweep(deadline);
    const call = { type: 'call', id, cmd, args: sent.args === undefined ? {} : sent.args };
    if (state === 'ready') send(call);
    else if (state === 'pending') queue.push(call);
    else fail(id, failure.code, failure.message);
  });
}

// The built-in modules, as thin wrappers: each is one `invoke`, through the
// same hooks and checks as any other call. Calling one the allowlist does
// not turn on rejects with `not_allowed`.
const fs = Object.freeze({
  readTextFile: (path) => invoke('fs.read_text_file', { path }),
  writeTextFile: (path, contents) => invoke('fs.write_text_file', { path, contents }),
  readFile: (path) => invoke('fs.read_file', { path }),
  writeFile: (path, contents) => invoke('fs.write_file', { path, contents }),
  readDir: (path) => invoke('fs.read_dir', { path }),
  removeFile: (path) => invoke('fs.remove_file', { path }),
});
/**
 * Starts the `scope.shell` entry `name`; returns at once with
 * `{ started, done, write, closeStdin, kill }`. `onOutput(stream, text)`
 * gets its output as it comes ("stdout" or "stderr"); `done` resolves to
 * `{ code, killed }` when it ends (and it ends with this page).
 */
function spawn(name, args, options) {
  const opts = options || {};
  const onOutput = typeof opts.onOutput === 'function' ? opts.onOutput : () => {};
  let startedResolve, startedReject;
  const started = new Promise((res, rej) => { startedResolve = res; startedReject = rej; });
  started.catch(() => {});
  const output = new Channel((m) => {
    if (m && typeof m.started === 'number') startedResolve(m.started);
    else if (m && typeof m.stream === 'string') onOutput(m.stream, m.data);
  });
  const done = invoke('shell.spawn', { name, args: args === undefined ? [] : args, stdin: opts.stdin === true, output }, { timeoutMs: null });
  done.then(() => startedReject(new MoatError('io_failed', 'the program ended before it started', 'shell.spawn')), startedReject);
  return Object.freeze({
    started,
    done,
    write: async (data) => invoke('shell.write', { id: await started, data: String(data) }),
    closeStdin: async () => invoke('shell.write', { id: await started, close: true }),
    kill: async () => invoke('shell.kill', { id: await started }),
  });
}

const shell = Object.freeze({
  spawn,
  execute: (name, args) => invoke('shell.execute', { name, args: args === undefined ? [] : args }),
  open: (url) => invoke('shell.open', { url }),
});
// The system's file chooser: resolves to the chosen path (paths with
// `multiple`), or null when cancelled; what is chosen joins scope.fs for
// this page. No timeout: the user takes the time they take.
const dialog = Object.freeze({
  open: (options) => invoke('dialog.open', Object.assign({}, options), { timeoutMs: null }),
  save: (options) => invoke('dialog.save', Object.assign({}, options), { timeoutMs: null }),
});
const http = Object.freeze({
  fetch: (url, init) => invoke('http.fetch', Object.assign({ url }, init)),
});
// The app's settings (JSON values by key) and the user's keyring (named
// secrets, text or bytes). A key or name the window's allowlist does not
// give is refused with `scope_denied`; no keyring is
// `unavailable`. A secret comes back as a string or a Uint8Array, as it
// was set; a missing one as null. Unlocking a keyring may ask the user: no
// timeout for secrets.
const store = Object.freeze({
  get: (key) => invoke('store.get', { key }),
  set: (key, value) => invoke('store.set', { key, value }),
  delete: (key) => invoke('store.delete', { key }),
  keys: () => invoke('store.keys'),
});
const secrets = Object.freeze({
  get: (name) => invoke('secrets.get', { name }, { timeoutMs: null }),
  set: (name, value) => invoke('secrets.set',
    (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) ? { name, bytes: value } : { name, text: String(value) },
    { timeoutMs: null }),
  delete: (name) => invoke('secrets.delete', { name }, { timeoutMs: null }),
});
/** The `asset:` URL of an absolute path (the protocol must be allowed). */
const assetUrl = (path) => 'asset://localhost' + String(path).split('/').map(encodeURIComponent).join('/');

Object.defineProperty(window, 'moat', {
  value: Object.freeze({ invoke, ready, MoatError, listen, Channel, fs, shell, http, dialog, store, secrets, assetUrl }),
  enumerable: true,
});
