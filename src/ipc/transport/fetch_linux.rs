//! The `ipc://` scheme on WebKitGTK ([`crate::ipc::transport::fetch`] has the rules):
//! registered with WebKit itself, so the request body is read here, in
//! bounded chunks, and never past `limits.maxMessageBytes`.
//!
//! ## Platform-specific
//! - **Linux:** WebKit calls the scheme handler on the GTK thread, and the
//!   request must be finished there: a reply made on a tokio worker is
//!   handed back with `glib::MainContext::invoke` in a `ThreadGuard`, which
//!   works because the GTK thread owns the default main context (it runs
//!   the tao event loop). WebKit holds the whole body in this process
//!   before the handler runs, so reading it copies memory and does not
//!   wait. The POST carries no custom
//!   header and no `Content-Type`, so WebKit sends no preflight.
//! - **WebKitGTK 2.50:** WebKit itself holds two copies of any request body
//!   a page sends to a custom scheme, in the UI process, before the handler
//!   runs (and sends no `Content-Length`); Moat cannot refuse before that.
//!   What it bounds is its own copy (`docs/webkitgtk.md`).

use std::sync::Arc;

use glib::thread_guard::ThreadGuard;
use webkit2gtk::gio;
use webkit2gtk::{
    SecurityManagerExt, URISchemeRequest, URISchemeRequestExt, URISchemeResponse,
    URISchemeResponseExt, WebContextExt,
};

use crate::error::Error;
use crate::ipc::core::{dispatch, Core};
use crate::ipc::transport::fetch::{
    blob_request, blob_response, check_origin, response_body, routing_id, too_large,
};
use crate::ipc::transport::reply::ReplySink;
use crate::ipc::wire::error::CallError;
use crate::isolation::envelope::EnvelopeError;
use crate::origin::APP_ORIGIN;

/// The most a single read of a request body asks for: large enough that a
/// 10 MiB envelope takes a few reads, small enough that the buffer costs
/// little next to the limit.
const READ_CHUNK: usize = 256 << 10;

/// The scheme, as the bridge's `ipcUrl` names it.
const SCHEME: &str = "ipc";

/// Registers `ipc://` on the webview's context. Call it before the main
/// loop first runs, so no page can request the scheme before it exists.
pub(crate) fn register(
    context: &webkit2gtk::WebContext,
    core: Arc<Core>,
    rt: tokio::runtime::Handle,
    sink: Arc<ReplySink>,
) -> Result<(), Error> {
    // As wry does for its schemes: a secure context may fetch from it.
    context
        .security_manager()
        .ok_or_else(|| Error::Platform("webview context has no security manager".into()))?
        .register_uri_scheme_as_secure(SCHEME);
    context.register_uri_scheme(SCHEME, move |request| {
        handle(&core, &rt, &sink, request);
    });
    Ok(())
}

/// A request's one reply, sendable from any thread.
struct Responder(ThreadGuard<URISchemeRequest>);

impl Responder {
    fn send(self, body: Vec<u8>) {
        let guard = self.0;
        glib::MainContext::default().invoke(move || finish(&guard.into_inner(), body));
    }
}

/// Entry point from WebKit, on the GTK thread.
fn handle(
    core: &Arc<Core>,
    rt: &tokio::runtime::Handle,
    sink: &Arc<ReplySink>,
    request: &URISchemeRequest,
) {
    let respond = Responder(ThreadGuard::new(request.clone()));
    let headers = request.http_headers();
    let method = request
        .http_method()
        .map(|m| m.to_string())
        .unwrap_or_default();
    if method == "OPTIONS" {
        // Not used by the bridge (its POST is a CORS "simple request"), but
        // answered plainly rather than left hanging.
        respond.send(Vec::new());
        return;
    }
    let origin = headers.as_ref().and_then(|h| h.one("Origin"));
    if let Err(e) = check_origin(origin.as_deref()) {
        respond.send(core.refuse(e));
        return;
    }
    let path = request
        .uri()
        .and_then(|u| u.parse::<http::Uri>().ok())
        .map(|u| u.path().to_owned())
        .unwrap_or_default();
    if let Some(id) = blob_request(&method, &path) {
        match blob_response(core, id) {
            Ok(bytes) => finish_as(request, bytes, 200, "application/octet-stream"),
            Err((status, json)) => finish_as(request, json, status, "application/json"),
        }
        return;
    }
    let max = core.max_envelope_bytes;
    let declared = headers.as_ref().map_or(0, |h| h.content_length());
    if usize::try_from(declared).is_ok_and(|len| len > max) {
        respond.send(core.refuse(too_large(declared as usize, max)));
        return;
    }
    let id = routing_id(&path);
    let epoch = core.session.epoch();
    let body = match request.http_body() {
        // No body: an empty envelope, which the core refuses as such.
        None => Ok(Vec::new()),
        Some(stream) => read_body(&stream, max, usize::try_from(declared).unwrap_or(0)),
    };
    match body {
        Err(e) => respond.send(core.refuse(e)),
        Ok(body) => {
            let sink = Arc::clone(sink);
            let deliver = move |reply| respond.send(response_body(epoch, id, reply, &sink));
            dispatch(core, |task| drop(rt.spawn(task)), body, id, deliver);
        }
    }
}

/// Reads `stream` to its end, straight into the body's buffer, and refuses
/// it the moment it passes `max` bytes (reading one byte past the limit, no
/// more). `declared` (the `Content-Length`, already checked against `max`)
/// sizes the buffer at once when it is known; WebKitGTK 2.50 sends none for
/// a page's `fetch` to a custom scheme, so the buffer starts at
/// [`READ_CHUNK`] and doubles, up to the limit: growing a large buffer moves
/// its pages, not its bytes ([`crate::ipc::large::reserve_exact`]), and the
/// bytes are read into it as they are, never zeroed first (a 10 MiB body
/// zeroed 256 KiB at a time cost the GTK thread ~5 ms here, most of it page
/// faults on ordinary pages).
///
/// Synchronous, on the GTK thread: WebKit hands over a body it already
/// holds in this process (`WebKitFormDataInputStream` over the request's
/// form data), so a read copies memory and does not wait. glib's
/// asynchronous read of such a stream runs each chunk on a worker thread
/// and back, which cost ~0.8 ms per 1 MiB call here.
fn read_body(stream: &gio::InputStream, max: usize, declared: usize) -> Result<Vec<u8>, CallError> {
    let limit = max.saturating_add(1);
    let first = if declared > 0 {
        declared.min(max).saturating_add(1)
    } else {
        READ_CHUNK.min(limit)
    };
    let mut body = crate::ipc::large::with_capacity(first);
    loop {
        if body.len() == body.capacity() {
            let grow = body.len().max(READ_CHUNK).min(limit - body.len());
            crate::ipc::large::reserve_exact(&mut body, grow);
        }
        let n = read_into_spare(stream, &mut body, limit)
            .map_err(|e| CallError::NotAnEnvelope(EnvelopeError::Unreadable(e.to_string())))?;
        if n == 0 {
            // Back to what was read (a large buffer shrinks by `mremap`): the
            // body is wiped whole when dropped, and touching the doubling's
            // unused pages would fault them in for nothing.
            body.shrink_to_fit();
            return Ok(body);
        }
        if body.len() > max {
            let _ = gio::prelude::InputStreamExt::close(stream, None::<&gio::Cancellable>);
            return Err(too_large(body.len(), max));
        }
    }
}

/// One read from `stream` into `body`'s spare capacity, never past `limit`
/// bytes in all: how many bytes it appended (0 at the end of the stream).
#[allow(
    unsafe_code,
    reason = "a read into a Vec's spare capacity, which gio's safe read cannot take; its SAFETY comments say why it is sound"
)]
fn read_into_spare(
    stream: &gio::InputStream,
    body: &mut Vec<u8>,
    limit: usize,
) -> Result<usize, glib::Error> {
    use glib::translate::{from_glib_full, ToGlibPtr};
    let want = (body.capacity() - body.len()).min(limit.saturating_sub(body.len()));
    let spare = body.spare_capacity_mut();
    let mut error: *mut glib::ffi::GError = std::ptr::null_mut();
    // SAFETY: `spare` is `want` (or more) writable bytes that `body` owns
    // and nothing else refers to; `g_input_stream_read` writes at most
    // `want` bytes there and only writes (it never reads the buffer). The
    // stream is a live wrapper held for the call; no cancellable; `error` is
    // set only when it returns -1.
    let n = unsafe {
        gio::ffi::g_input_stream_read(
            stream.to_glib_none().0,
            spare.as_mut_ptr().cast::<u8>(),
            want,
            std::ptr::null_mut(),
            &mut error,
        )
    };
    if n < 0 {
        // SAFETY: on failure the function returns -1 and sets `error` to a
        // new GError the caller owns (transfer full).
        return Err(unsafe { from_glib_full(error) });
    }
    let n = usize::try_from(n).unwrap_or(0).min(want);
    // SAFETY: the read initialised the first `n` bytes of the spare
    // capacity (it returns how many it wrote, at most `want`).
    unsafe { body.set_len(body.len() + n) };
    Ok(n)
}

/// Finishes `request` with a JSON `body` and the headers every reply has.
fn finish(request: &URISchemeRequest, body: Vec<u8>) {
    finish_as(request, body, 200, "application/json");
}

/// Finishes `request` with `body`, `status` and `content_type`.
fn finish_as(request: &URISchemeRequest, body: Vec<u8>, status: u32, content_type: &str) {
    let len = body.len() as i64;
    let stream = gio::MemoryInputStream::from_bytes(&glib::Bytes::from_owned(body));
    let response = URISchemeResponse::new(&stream, len);
    response.set_status(status, None);
    response.set_content_type(content_type);
    let headers = soup::MessageHeaders::new(soup::MessageHeadersType::Response);
    headers.append("Cache-Control", "no-store");
    headers.append("X-Content-Type-Options", "nosniff");
    headers.append("Access-Control-Allow-Origin", APP_ORIGIN);
    response.set_http_headers(headers);
    request.finish_with_response(&response);
}

#[cfg(test)]
mod tests {
    use super::*;
    use gio::prelude::Cast;

    /// Runs `read_body` on `body`; returns the outcome and how far into the
    /// stream it read.
    fn read(body: Vec<u8>, max: usize) -> (Result<usize, String>, i64) {
        read_declared(body, max, 0)
    }

    /// `read` with a declared length.
    fn read_declared(body: Vec<u8>, max: usize, declared: usize) -> (Result<usize, String>, i64) {
        use gio::prelude::SeekableExt;
        let stream = gio::MemoryInputStream::from_bytes(&glib::Bytes::from_owned(body));
        let result = read_body(stream.upcast_ref(), max, declared)
            .map(|b| b.len())
            .map_err(|e| e.detail());
        (result, stream.tell())
    }

    #[test]
    fn a_body_is_read_whole_up_to_the_limit() {
        assert_eq!(
            read(vec![7; 3 * READ_CHUNK + 5], 4 * READ_CHUNK).0,
            Ok(3 * READ_CHUNK + 5)
        );
        assert_eq!(read(vec![7; 1000], 1000).0, Ok(1000));
        assert_eq!(read(Vec::new(), 1000).0, Ok(0));
        // Declared right, short or long: the body as sent, whatever was said.
        for declared in [0, 999, 1000, 5000] {
            assert_eq!(read_declared(vec![7; 1000], 2000, declared).0, Ok(1000));
        }
        assert_eq!(
            read_declared(vec![7; 3 * READ_CHUNK], 4 * READ_CHUNK, 10).0,
            Ok(3 * READ_CHUNK)
        );
    }

    /// Read into memory that was never zeroed, the body is the bytes sent,
    /// each in its place, however the buffer grew.
    #[test]
    fn a_body_is_read_byte_for_byte() {
        for (n, declared) in [(3 * READ_CHUNK + 5, 0), (READ_CHUNK, 10), (1000, 1000)] {
            let sent: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let stream = gio::MemoryInputStream::from_bytes(&glib::Bytes::from(&sent[..]));
            let got = read_body(stream.upcast_ref(), 4 * READ_CHUNK, declared).unwrap();
            assert!(got == sent, "{n} bytes, declared {declared}");
            assert_eq!(got.capacity(), n, "no room left over");
        }
    }

    #[test]
    fn a_body_longer_than_declared_is_still_refused_past_the_limit() {
        let (result, consumed) = read_declared(vec![7; 64 * READ_CHUNK], 1000, 10);
        assert_eq!(
            result,
            Err("1001 bytes is over the limit of 1000 bytes".into())
        );
        assert_eq!(consumed, 1001, "read one byte past the limit, no more");
    }

    #[test]
    fn an_oversized_body_is_refused_without_reading_it_all() {
        let (result, consumed) = read(vec![7; 64 * READ_CHUNK], 1000);
        assert_eq!(
            result,
            Err("1001 bytes is over the limit of 1000 bytes".into())
        );
        assert_eq!(consumed, 1001, "read one byte past the limit, no more");
        let (result, consumed) = read(vec![7; 64 * READ_CHUNK], 2 * READ_CHUNK);
        assert!(result.is_err());
        assert!(consumed <= 2 * READ_CHUNK as i64 + 1, "{consumed}");
    }
}
