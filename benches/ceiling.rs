//! The `ceiling` subject of `make bench`: the fastest transports bare wry
//! and WebKitGTK offer for each workload, with no isolation, no encryption
//! and no checks, so every other subject's figures can be read as a
//! distance from what the engine allows.
//!
//! - Calls (up to [`BIG`] characters): a WebKit script message handler
//!   *with reply* in the page's own world, the string in and the string
//!   back as the reply's value: one message each way, no `evaluate_script`,
//!   no JSON on either side (faster than the baseline's `window.ipc` and
//!   `evaluate_script`; `docs/bench.md`).
//! - Large text and bytes: a `fetch` POST to a custom scheme, its body read
//!   whole and answered as the response (text as text, bytes as
//!   `application/octet-stream`, read by the page as an `ArrayBuffer`).
//!
//! The same page (the demo's) and page script as the other subjects.

use std::time::Instant;

use webkit2gtk::gio;
use webkit2gtk::{
    SecurityManagerExt, URISchemeRequest, URISchemeRequestExt, URISchemeResponse,
    URISchemeResponseExt, WebContextExt, WebViewExt,
};

#[path = "bare.rs"]
mod bare;
#[path = "with_reply.rs"]
mod with_reply;

/// Strings of at least this many characters go over `fetch` (the faster
/// transport for large text here; below it the script message wins).
const BIG: usize = 1 << 16;

/// The page side: `window.moat.invoke` over the two transports.
const INIT: &str = r#"(() => {
  const post = window.ipc.postMessage.bind(window.ipc);
  const handler = window.webkit.messageHandlers.ceiling;
  const call = handler.postMessage.bind(handler);
  const BIG = {big};
  window.moat = { ready: Promise.resolve(), bytes: true, async invoke(cmd, args) {
    if (cmd === 'bytes_echo') {
      const r = await fetch('ceiling://localhost/bytes', { method: 'POST', body: args.data });
      return new Uint8Array(await r.arrayBuffer());
    }
    if (cmd !== 'echo') throw new Error('unknown command');
    if (args.data.length < BIG) return call(args.data);
    const r = await fetch('ceiling://localhost/text', { method: 'POST', body: args.data });
    return r.text();
  } };
{harness}
})();"#;

/// `ceiling://localhost/{text,bytes}`: the request's body, answered as is.
fn register_fetch(context: &webkit2gtk::WebContext) {
    if let Some(security) = context.security_manager() {
        security.register_uri_scheme_as_secure("ceiling");
    }
    context.register_uri_scheme("ceiling", |request| {
        let body = request
            .http_body()
            .map(|s| read_all(&s))
            .unwrap_or_default();
        let bytes = request.uri().is_some_and(|u| u.ends_with("/bytes"));
        let content_type = if bytes {
            "application/octet-stream"
        } else {
            "text/plain; charset=utf-8"
        };
        finish(request, body, content_type);
    });
}

/// The whole of a request body WebKit already holds in this process.
fn read_all(stream: &gio::InputStream) -> Vec<u8> {
    use gio::prelude::InputStreamExtManual;
    let mut body = Vec::with_capacity(1 << 20);
    loop {
        if body.capacity() - body.len() < 1 << 16 {
            body.reserve(body.capacity());
        }
        let start = body.len();
        body.resize(body.capacity(), 0);
        match stream.read(&mut body[start..], None::<&gio::Cancellable>) {
            Ok(n) if n > 0 => body.truncate(start + n),
            _ => {
                body.truncate(start);
                return body;
            }
        }
    }
}

fn finish(request: &URISchemeRequest, body: Vec<u8>, content_type: &str) {
    let len = body.len() as i64;
    let stream = gio::MemoryInputStream::from_bytes(&glib::Bytes::from_owned(body));
    let response = URISchemeResponse::new(&stream, len);
    response.set_status(200, None);
    response.set_content_type(content_type);
    let headers = soup::MessageHeaders::new(soup::MessageHeadersType::Response);
    headers.append("Access-Control-Allow-Origin", "app://localhost");
    response.set_http_headers(headers);
    request.finish_with_response(&response);
}

fn main() {
    bare::run(
        Instant::now(),
        "ceiling",
        &INIT.replace("{big}", &BIG.to_string()),
        |builder| builder,
        |webview| {
            // The echo command: the string into Rust, and back.
            with_reply::register(webview, "ceiling", str::to_owned);
            if let Some(context) = webview.context() {
                register_fetch(&context);
            }
        },
        |_| None,
    )
}
