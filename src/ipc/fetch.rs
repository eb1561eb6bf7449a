//! Transport for large calls: `fetch('ipc://localhost/<call id>', {method:
//! 'POST', body: envelope})` from the main frame, with the envelope as a
//! binary body (no base64, no number arrays). The call id in the path only
//! routes the reply and must equal the sealed one. Small replies come back as
//! the HTTP response; large ones (over [`INLINE_REPLY_MAX`]) come back through
//! [`ReplySink`] and the response says `{"via":"script"}`, because WebKitGTK
//! feeds a custom-protocol response body to the page in small chunks, each a
//! trip through the GTK main loop (`docs/webkitgtk.md`). A request with no
//! call id in the path always gets its reply in the response.
//!
//! The request's `Origin` header must be exactly `app://localhost`; anything
//! else (a missing header, `null` from a sandboxed frame, a look-alike host)
//! is `bad_origin` before any byte of the body is looked at.
//!
//! ## Platform-specific
//! - **Linux:** wry's async responder is not `Send`; the reply is handed back
//!   to the GTK thread with `glib::MainContext::invoke` in a `ThreadGuard`.
//!   The body arrives only with wry's `linux-body` feature. The POST carries
//!   no custom header and no `Content-Type`, so WebKit sends no preflight.

use std::sync::Arc;

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Request, Response};

use super::core::{dispatch, refuse, Core};
use super::error::CallError;
use super::reply::ReplySink;
use crate::protocol::APP_ORIGIN;

/// Replies larger than this go through [`ReplySink`] when the call id is known.
const INLINE_REPLY_MAX: usize = 64 * 1024;

/// `Origin` must be the app's, byte for byte.
fn check_origin(headers: &HeaderMap) -> Result<(), CallError> {
    let origin = headers.get(http::header::ORIGIN);
    match origin {
        Some(o) if o.as_bytes() == APP_ORIGIN.as_bytes() => Ok(()),
        _ => Err(CallError::BadOrigin {
            origin: origin.map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned()),
        }),
    }
}

/// The routing call id from the path `/<id>`, if there is one.
fn routing_id(path: &str) -> Option<u64> {
    path.strip_prefix('/').and_then(|p| p.parse().ok())
}

/// Entry point from wry, on the GTK thread.
pub(crate) fn handle(
    core: &Arc<Core>,
    rt: &tokio::runtime::Handle,
    sink: &Arc<ReplySink>,
    req: Request<Vec<u8>>,
    responder: wry::RequestAsyncResponder,
) {
    let responder = glib::thread_guard::ThreadGuard::new(responder);
    let send = move |body: Vec<u8>| {
        glib::MainContext::default().invoke(move || {
            responder.into_inner().respond(reply(body));
        });
    };
    if req.method() == http::Method::OPTIONS {
        // Not used by the bridge (its POST is a CORS "simple request"), but
        // answered plainly rather than left hanging.
        send(Vec::new());
        return;
    }
    if let Err(e) = check_origin(req.headers()) {
        send(refuse(e));
        return;
    }
    let id = routing_id(req.uri().path());
    let sink = Arc::clone(sink);
    dispatch(core, rt, req.into_body(), id, move |body| match id {
        Some(id) if body.len() > INLINE_REPLY_MAX => {
            sink.reply(id, body);
            send(br#"{"via":"script"}"#.to_vec());
        }
        _ => send(body),
    });
}

fn reply(body: Vec<u8>) -> Response<Vec<u8>> {
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "access-control-allow-origin",
        HeaderValue::from_static(APP_ORIGIN),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(o) = origin {
            h.insert("origin", HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn routing_id_comes_from_the_path() {
        assert_eq!(routing_id("/42"), Some(42));
        assert_eq!(routing_id("/"), None);
        assert_eq!(routing_id("/x"), None);
        assert_eq!(routing_id("/-1"), None);
    }

    #[test]
    fn only_the_apps_exact_origin_is_accepted() {
        assert!(check_origin(&headers(Some("app://localhost"))).is_ok());
        for bad in [
            None,
            Some("null"),
            Some("isolation://localhost"),
            Some("app://localhost.evil.com"),
            Some("app://localhost:1"),
            Some("APP://LOCALHOST"),
            Some("https://localhost"),
        ] {
            let e = check_origin(&headers(bad)).unwrap_err();
            assert_eq!(e.code(), "bad_origin", "{bad:?}");
        }
    }
}
