//! The `floor` subject of `make bench`: the isolation pattern's own shape,
//! with none of Moat's code. The same page (the demo's) and page script as
//! the other subjects; `window.moat.invoke` posts each call to a sandboxed
//! frame on another origin, which seals it with AES-256-GCM (WebCrypto,
//! a per-launch key, a counter nonce) and posts it as text to a WebKit
//! script message handler *with reply*, as Moat's frame does; the core
//! opens it, runs `echo`, and answers in the reply, which the frame passes
//! to the page. No hooks, no replay window, no scopes, no checks, no batching:
//! what is left is the pattern's floor, so `moat / floor` is the cost of
//! Moat's own work.
//!
//! One transport for every size (Moat sends large envelopes over `fetch`),
//! so only the small-call figures compare like with like.

use std::borrow::Cow;
use std::time::Instant;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;

#[path = "bare.rs"]
mod bare;
#[path = "with_reply.rs"]
mod with_reply;

/// The page side: `window.moat.invoke` through the frame, and the harness.
const INIT: &str = r#"(() => {
  const post = window.ipc.postMessage.bind(window.ipc);
  const pending = new Map();
  let next = 1;
  let frame = null;
  const queue = [];
  let ready = false;
  window.addEventListener('message', (ev) => {
    if (!frame || ev.source !== frame.contentWindow) return;
    const m = ev.data;
    if (m === 'ready') { ready = true; for (const c of queue.splice(0)) frame.contentWindow.postMessage(c, '*'); return; }
    const p = pending.get(m.id); pending.delete(m.id);
    const reply = JSON.parse(m.text);
    if ('ok' in reply) p.resolve(reply.ok); else p.reject(new Error(reply.err));
  });
  const start = () => {
    frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts');
    frame.style.display = 'none';
    frame.src = 'floor://localhost/';
    document.documentElement.appendChild(frame);
  };
  if (document.documentElement) start(); else new MutationObserver((_, o) => { if (document.documentElement) { o.disconnect(); start(); } }).observe(document, { childList: true });
  window.moat = { ready: Promise.resolve(), invoke(cmd, args) {
    return new Promise((resolve, reject) => {
      const id = next++; pending.set(id, { resolve, reject });
      const call = { id, cmd, args };
      if (ready) frame.contentWindow.postMessage(call, '*'); else queue.push(call);
    });
  } };
{harness}
})();"#;

/// The frame's document: the key, and the script that seals.
const FRAME: &str = r#"<!doctype html><meta charset="utf-8"><script type="module">
const raw = Uint8Array.from(atob('{key}'), (c) => c.charCodeAt(0));
const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
const post = window.webkit.messageHandlers.floor.postMessage.bind(window.webkit.messageHandlers.floor);
const encoder = new TextEncoder();
let counter = 0;
window.addEventListener('message', async (ev) => {
  if (ev.source !== parent) return;
  const { id, cmd, args } = ev.data;
  counter += 1;
  const header = new Uint8Array(9);
  header[0] = 1;
  new DataView(header.buffer).setUint32(5, counter);
  const iv = new Uint8Array(12);
  iv.set(header.subarray(1), 4);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, key,
    encoder.encode(JSON.stringify({ id, cmd, args }))));
  const env = new Uint8Array(9 + sealed.length);
  env.set(header);
  env.set(sealed, 9);
  let s = '';
  for (let i = 0; i < env.length; i += 0x8000) s += String.fromCharCode.apply(null, env.subarray(i, i + 0x8000));
  const text = await post(id + ':' + btoa(s));
  parent.postMessage({ id, text }, '*');
});
parent.postMessage('ready', '*');
</script>"#;

/// Opens `"<id>:<base64 envelope>"` and answers `echo` as JSON text.
fn answer(cipher: &Aes256Gcm, text: &str) -> String {
    let opened = text.split_once(':').and_then(|(_, b64)| {
        let env = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        let (header, sealed) = env.split_at_checked(9)?;
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&header[1..9]);
        cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: sealed,
                    aad: header,
                },
            )
            .ok()
    });
    let call: serde_json::Value = opened
        .and_then(|p| serde_json::from_slice(&p).ok())
        .unwrap_or_default();
    match call["cmd"].as_str() {
        Some("echo") => serde_json::json!({ "ok": call["args"]["data"] }).to_string(),
        _ => serde_json::json!({ "err": "unknown command" }).to_string(),
    }
}

fn main() {
    let started = Instant::now();
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let cipher = Aes256Gcm::new_from_slice(&key).expect("a 32-byte key");
    let frame_doc = FRAME.replace(
        "{key}",
        &base64::engine::general_purpose::STANDARD.encode(key),
    );
    bare::run(
        started,
        "floor",
        INIT,
        move |builder| {
            builder.with_custom_protocol("floor".into(), move |_, _| {
                http::Response::builder()
                    .header("content-type", "text/html")
                    .body(Cow::Owned(frame_doc.clone().into_bytes()))
                    .expect("frame response")
            })
        },
        move |webview| with_reply::register(webview, "floor", move |text| answer(&cipher, text)),
        |_| None,
    )
}
