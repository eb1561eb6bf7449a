// Helpers prepended to every harness script. Everything here uses only what
// any page script (an attacker's included) has: window.moat, fetch, the DOM.
const { invoke, MoatError } = window.moat;

function check(name, ok, detail) {
  harness.result(name, ok === true, detail);
}

/** Expects `promise` to reject with a MoatError of `code` (and a message containing `text`). */
async function rejects(name, promise, code, text) {
  try {
    const v = await promise;
    check(name, false, { resolved: v });
  } catch (e) {
    const ok = e instanceof MoatError && e instanceof Error && e.code === code &&
      (text === undefined || String(e.message).includes(text));
    check(name, ok, { code: e && e.code, message: e && e.message, cmd: e && e.cmd, data: e && e.data });
  }
}

/** Posts bytes straight to the core, skipping the frame. Returns the reply JSON. */
async function direct(body) {
  const res = await fetch('ipc://localhost/', { method: 'POST', body });
  return res.json();
}

/**
 * Posts `value` to the isolation frame's own way in, the script message
 * handler with reply (`messageHandlers.moat`), as any page script can.
 * Resolves to { replies: [[id, reply], …] } or { error: message }.
 */
async function postWithReply(value) {
  try {
    const text = await window.webkit.messageHandlers.moat.postMessage(value);
    return { replies: JSON.parse(text) };
  } catch (e) {
    return { error: String(e && e.message || e) };
  }
}

/** The reply to call `id` in what `postWithReply` returned, if any. */
function postedReply(posted, id) {
  const r = posted.replies && posted.replies.find((x) => x[0] === id);
  return r ? r[1] : undefined;
}

function directRejects(name, reply, code) {
  check(name, !!reply && !!reply.err && reply.err.code === code && !('ok' in reply), reply);
}

/** The bridge's isolation frame. */
function isolationFrame() {
  return document.querySelector('iframe[sandbox]');
}

/**
 * Talks to an isolation frame directly, as any page script can, and returns
 * { status, seal(cmd, args) → Promise<reply> }. The frame sends small
 * envelopes straight to the core, so `seal` resolves only for what comes back
 * to the page: errors, and envelopes over the frame's inline limit (32 KiB),
 * which is how a page script can capture real envelopes. Use `big()`.
 */
async function connectTo(frame) {
  const win = frame.contentWindow;
  const replies = new Map();
  let statusResolve;
  const status = new Promise((r) => { statusResolve = r; });
  window.addEventListener('message', (ev) => {
    if (ev.source !== win) return;
    const m = ev.data;
    if (m.type === 'ready') statusResolve(m);
    else if (replies.has(m.id)) { replies.get(m.id)(m); replies.delete(m.id); }
  });
  win.postMessage({ type: 'moat:connect' }, '*');
  let nextId = 1000000;
  return {
    status: await status,
    seal(cmd, args) {
      const id = nextId++;
      return new Promise((resolve) => {
        replies.set(id, resolve);
        win.postMessage({ type: 'call', id, cmd, args }, '*');
      });
    },
  };
}

/** A string that makes an envelope too big to be sent inline (over 32 KiB). */
function big(prefix) {
  return prefix + '.'.repeat(40 * 1024);
}

function toB64(buf) {
  let s = '';
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s);
}

function fromB64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function onceLoaded(frame) {
  return new Promise((r) => frame.addEventListener('load', r, { once: true }));
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
