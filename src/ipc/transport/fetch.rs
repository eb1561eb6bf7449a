//! Transport for large calls: `fetch('ipc://localhost/<call id>', {method:
//! 'POST', body: envelope})` from the main frame, with the envelope as a
//! binary body (no base64, no number arrays). The call id in the path only
//! routes the reply and must equal the sealed one. Small replies come back as
//! the HTTP response; large ones (over `limits::INLINE_REPLY_MAX`) come back through
//! [`ReplySink`] and the response says `{"via":"script"}`, because WebKitGTK
//! feeds a custom-protocol response body to the page in small chunks, each a
//! trip through the GTK main loop (`docs/webkitgtk.md`). A request with no
//! call id in the path always gets its reply in the response.
//!
//! The request's `Origin` header must be exactly `app://localhost`; anything
//! else (a missing header, `null` from a sandboxed frame, a look-alike host)
//! is `bad_origin` before any byte of the body is read.
//!
//! Threat: a page that posts a body of hundreds of megabytes to make the
//! core hold it. So the body is never read past `limits.maxMessageBytes`: a
//! declared `Content-Length` over the limit is refused before the body is
//! read, and otherwise the body is read in bounded chunks and refused the
//! moment it passes the limit. wry's own custom-protocol handler reads a whole body
//! into memory before the app sees it, so Moat registers this scheme with
//! WebKit itself ([`register`]) and wry reads no bodies at all (its
//! `linux-body` feature is off).
//!
//! This file holds the transport's rules; `fetch_linux.rs` the WebKitGTK
//! scheme handler that applies them.

use crate::ipc::transport::limits::INLINE_REPLY_MAX;
use crate::ipc::transport::reply::ReplySink;
use crate::ipc::wire::error::CallError;
use crate::isolation::envelope::EnvelopeError;

/// `Origin` must be the app's, byte for byte.
pub(crate) fn check_origin(origin: Option<&str>) -> Result<(), CallError> {
    match origin {
        Some(o) if crate::origin::is_app_origin(o) => Ok(()),
        _ => Err(CallError::BadOrigin {
            origin: origin.map(str::to_owned),
        }),
    }
}

/// The call id of a request for a reply's bytes: `GET /blobs/<id>`.
pub(crate) fn blob_request(method: &str, path: &str) -> Option<u64> {
    if method != "GET" {
        return None;
    }
    path.strip_prefix("/blobs/").and_then(|id| id.parse().ok())
}

/// The answer to a request for a reply's bytes: the framed reply as the
/// command produced it (the bridge reads the blobs after its JSON), or an
/// error body with its HTTP status: `rate_limited` (429) past
/// `limits.maxCallsPerSecond`, which every such request counts against,
/// or `not_found` (404: not this page load's, already taken, expired, or
/// none), a refusal logged in bursts like the others.
pub(crate) fn blob_response(
    core: &crate::ipc::core::Core,
    id: u64,
) -> Result<Vec<u8>, (u32, Vec<u8>)> {
    if let Some(rate) = &core.rate {
        if !rate.take() {
            let e = CallError::RateLimited {
                per_sec: rate.limit(),
            };
            return Err((429, core.refuse(e)));
        }
    }
    match core.blobs.take(core.session.epoch(), id) {
        Some(framed) => Ok(framed),
        None => {
            crate::ipc::refusals::refuse(
                &core.ctx.window,
                "not_found",
                &format!("reply bytes asked for that are not waiting (another page load's, taken, expired or none) id={id}"),
            );
            Err((
                404,
                br#"{"err":{"code":"not_found","message":"no reply bytes waiting for this call"}}"#
                    .to_vec(),
            ))
        }
    }
}

/// The routing call id from the path `/<id>`, if there is one.
pub(crate) fn routing_id(path: &str) -> Option<u64> {
    path.strip_prefix('/').and_then(|p| p.parse().ok())
}

/// The HTTP response body for a call's `reply`: the reply itself, or, when
/// it is large and the call id is known, a pointer to the script that
/// carries it (queued on `sink` here).
pub(crate) fn response_body(
    epoch: u64,
    id: Option<u64>,
    reply: Vec<u8>,
    sink: &ReplySink,
) -> Vec<u8> {
    match id {
        Some(id) if reply.len() > INLINE_REPLY_MAX => {
            sink.reply(epoch, id, reply);
            br#"{"via":"script"}"#.to_vec()
        }
        _ => reply,
    }
}

/// A body over the message limit (`len` may be a lower bound).
pub(crate) fn too_large(len: usize, max: usize) -> CallError {
    CallError::NotAnEnvelope(EnvelopeError::TooLarge { len, max })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_get_of_a_numbered_path_asks_for_bytes() {
        assert_eq!(blob_request("GET", "/blobs/12"), Some(12));
        for (m, p) in [
            ("POST", "/blobs/12"),
            ("GET", "/blobs/"),
            ("GET", "/blobs/x"),
            ("GET", "/12"),
            ("GET", "/blobs/-1"),
        ] {
            assert_eq!(blob_request(m, p), None, "{m} {p}");
        }
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
        assert!(check_origin(Some("app://localhost")).is_ok());
        for bad in [
            None,
            Some("null"),
            Some("isolation://localhost"),
            Some("app://localhost.evil.com"),
            Some("app://localhost:1"),
            Some("APP://LOCALHOST"),
            Some("https://localhost"),
        ] {
            let e = check_origin(bad).unwrap_err();
            assert_eq!(e.code(), "bad_origin", "{bad:?}");
        }
    }

    #[test]
    fn large_replies_with_an_id_go_through_the_sink() {
        let sink = ReplySink::new(|| {});
        assert_eq!(response_body(0, Some(1), b"{}".to_vec(), &sink), b"{}");
        assert!(sink.drain(0).is_none());
        let big = vec![b'1'; INLINE_REPLY_MAX + 1];
        assert_eq!(response_body(0, None, big.clone(), &sink), big);
        assert_eq!(
            response_body(0, Some(2), big, &sink),
            br#"{"via":"script"}"#
        );
        assert!(sink.drain(0).unwrap().contains("__moatReply({\"id\":2,"));
    }
}
