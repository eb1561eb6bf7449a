//! The IPC endpoint: `POST ipc://localhost/` with an envelope as the body.
//!
//! Order of checks, each refusing with its own code: origin → envelope shape
//! → decryption under this page load's key → replay window
//! → call shape → command registered → allowlist → argument types → handler.
//! There is no path to a handler that skips opening an envelope: an empty
//! body is `not_an_envelope`, never "a call with no arguments" (a Tauri bug).
//!
//! ## Platform-specific
//! - **Linux:** wry's async responder is not `Send`; the reply is handed back
//!   to the GTK thread with `glib::MainContext::invoke` in a `ThreadGuard`.
//!   The body arrives only with wry's `linux-body` feature.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Request, Response};
use tracing::{field::Empty, Instrument};

use super::call::{error_body, Call};
use super::command::{join_error, CallContext, Commands};
use super::error::CallError;
use crate::isolation::envelope::Envelope;
use crate::isolation::session::{OpenError, Session};

/// Everything a call needs, shared by the GTK thread and the tokio workers.
pub(crate) struct Core {
    pub(crate) session: Arc<Session>,
    pub(crate) commands: Commands,
    /// `None`: every registered command may be called.
    pub(crate) allowed: Option<BTreeSet<String>>,
    pub(crate) max_envelope_bytes: usize,
    pub(crate) app_origin: String,
    pub(crate) ctx: CallContext,
}

impl Core {
    /// The `Origin` header must be exactly the app's origin. WebKitGTK sends
    /// it on every cross-scheme `fetch`; a missing one is refused too.
    fn check_origin(&self, req: &Request<Vec<u8>>) -> Result<(), CallError> {
        let origin = req.headers().get(http::header::ORIGIN);
        match origin {
            Some(o) if o.as_bytes() == self.app_origin.as_bytes() => Ok(()),
            _ => Err(CallError::BadOrigin {
                origin: origin.map(|o| String::from_utf8_lossy(o.as_bytes()).into_owned()),
            }),
        }
    }

    async fn process(
        self: Arc<Self>,
        body: Vec<u8>,
        span: tracing::Span,
    ) -> Result<Vec<u8>, CallError> {
        let env =
            Envelope::parse(&body, self.max_envelope_bytes).map_err(CallError::NotAnEnvelope)?;
        let plaintext = self.session.open(&env).map_err(|e| match e {
            OpenError::DecryptFailed => CallError::DecryptFailed,
            OpenError::Replayed(r) => CallError::Replayed(r),
        })?;
        drop(body);
        let call = Call::parse(&plaintext)?;
        span.record("cmd", &*call.cmd);
        span.record("id", call.id);
        let handler = self
            .commands
            .get(&call.cmd)
            .ok_or_else(|| CallError::UnknownCommand {
                cmd: call.cmd.to_string(),
            })?;
        if let Some(allowed) = &self.allowed {
            if !allowed.contains(&*call.cmd) {
                return Err(CallError::NotAllowed {
                    cmd: call.cmd.to_string(),
                });
            }
        }
        let fut = handler.call(call.args_json(), self.ctx.clone());
        drop(plaintext);
        fut.await
    }
}

/// Entry point from wry, on the GTK thread. Never blocks: the body moves to
/// a tokio task at once.
pub(crate) fn handle(
    core: &Arc<Core>,
    rt: &tokio::runtime::Handle,
    req: Request<Vec<u8>>,
    responder: wry::RequestAsyncResponder,
) {
    let span = tracing::info_span!(
        "ipc.call",
        cmd = Empty,
        id = Empty,
        outcome = Empty,
        duration_us = Empty
    );
    let started = Instant::now();
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
    if let Err(e) = core.check_origin(&req) {
        finish(&span, started, Err(e), send);
        return;
    }
    let body = req.into_body();
    let task = rt.spawn(
        Arc::clone(core)
            .process(body, span.clone())
            .instrument(span.clone()),
    );
    rt.spawn(async move {
        let result = match task.await {
            Ok(r) => r,
            Err(e) => Err(CallError::HandlerFailed(join_error(e))),
        };
        finish(&span, started, result, send);
    });
}

fn finish(
    span: &tracing::Span,
    started: Instant,
    result: Result<Vec<u8>, CallError>,
    send: impl FnOnce(Vec<u8>),
) {
    let duration_us = started.elapsed().as_micros() as u64;
    span.record("duration_us", duration_us);
    let body = match result {
        Ok(ok) => {
            span.record("outcome", "ok");
            ok
        }
        Err(e) => {
            span.record("outcome", e.code());
            match e {
                CallError::App(_) => {
                    tracing::info!(parent: span, code = e.code(), "call returned an app error")
                }
                CallError::HandlerFailed(_) => {
                    tracing::error!(parent: span, code = e.code(), reason = %e.detail(), "call failed")
                }
                _ => {
                    tracing::warn!(parent: span, code = e.code(), reason = %e.detail(), "call rejected")
                }
            }
            error_body(&e)
        }
    };
    send(body);
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
        HeaderValue::from_static(crate::protocol::APP_ORIGIN),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::command::AppPaths;

    fn core() -> Core {
        Core {
            session: Arc::new(Session::new()),
            commands: Commands::new(),
            allowed: None,
            max_envelope_bytes: 1 << 20,
            app_origin: crate::protocol::APP_ORIGIN.into(),
            ctx: CallContext {
                app: Arc::new(AppPaths {
                    data_dir: "/nonexistent".into(),
                }),
                window: Arc::from("main"),
            },
        }
    }

    fn req(origin: Option<&str>) -> Request<Vec<u8>> {
        let mut b = Request::builder()
            .method("POST")
            .uri(crate::protocol::IPC_URL);
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        b.body(Vec::new()).unwrap()
    }

    #[test]
    fn only_the_apps_exact_origin_is_accepted() {
        let c = core();
        assert!(c.check_origin(&req(Some("app://localhost"))).is_ok());
        for bad in [
            None,
            Some("null"),
            Some("isolation://localhost"),
            Some("app://localhost.evil.com"),
            Some("app://localhost:1"),
            Some("APP://LOCALHOST"),
            Some("https://localhost"),
        ] {
            let e = c.check_origin(&req(bad)).unwrap_err();
            assert_eq!(e.code(), "bad_origin", "{bad:?}");
        }
    }
}
