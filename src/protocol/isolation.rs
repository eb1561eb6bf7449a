//! `isolation://localhost/`: the isolation document (with `isolation.js`
//! inline) and the app's hooks.
//!
//! Only `/` (or `/index.html`) is the document, and only a navigation gets
//! the key: a request carrying an `Origin` header is a `fetch` or a module
//! load from some page, never the frame's own navigation, and is refused
//! without consuming the key. Hooks are public and carry
//! `Access-Control-Allow-Origin: *`, because the sandboxed frame's origin is
//! opaque (`null`) and module scripts are fetched in CORS mode. The document
//! itself carries no such header, so no page can read it.

use std::borrow::Cow;
use std::sync::Arc;

use http::header::CACHE_CONTROL;
use http::{HeaderValue, Request, Response, StatusCode};
use include_dir::{include_dir, Dir};

use super::{embedded_path, mime_for, not_found, ok, Mounts, Scheme};
use crate::csp::{html::sha256_source, isolation_policy};
use crate::ipc::rate::RateLimit;
use crate::ipc::transport::limits::{BATCH_MAX, INLINE_ENVELOPE_MAX};
use crate::isolation::document::FrameLimits;
use crate::isolation::{document, session::Session};
use crate::origin::{APP_ORIGIN, ISOLATION_ORIGIN};

/// `isolation-js/`: the frame script, the bridge, hook examples.
pub(crate) static ISOLATION_JS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/isolation-js");

pub(crate) struct IsolationProtocol {
    session: Arc<Session>,
    /// The call rate limit: every request but the document's takes a
    /// token, so probing for hook files costs what a call costs.
    rate: Option<Arc<RateLimit>>,
    hooks: Mounts,
    /// Absolute URLs of the configured hooks, in order.
    hook_urls: Vec<String>,
    window: String,
    script: &'static str,
    policy: String,
}

/// `isolation.js`, which the document carries inline.
fn isolation_script() -> &'static str {
    ISOLATION_JS
        .get_file("isolation.js")
        .and_then(|f| f.contents_utf8())
        .unwrap_or("")
}

impl IsolationProtocol {
    pub(crate) fn new(
        session: Arc<Session>,
        rate: Option<Arc<RateLimit>>,
        hooks: Mounts,
        hook_names: &[String],
        window: &str,
    ) -> Self {
        let script = isolation_script();
        Self {
            session,
            rate,
            hooks,
            hook_urls: hook_names.iter().map(|h| hook_url(h)).collect(),
            window: window.to_owned(),
            script,
            policy: isolation_policy(&sha256_source(script)),
        }
    }
}

impl Scheme for IsolationProtocol {
    fn respond(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
        let path = req.uri().path();
        if path == "/" || path == "/index.html" {
            return self.document(req);
        }
        let mut res = if self.rate.as_ref().is_some_and(|r| !r.take()) {
            crate::ipc::refusals::refuse(
                &self.window,
                "rate_limited",
                &format!("isolation request past limits.maxCallsPerSecond path={path}"),
            );
            rate_limited()
        } else {
            self.file(path)
        };
        // A 404 is readable too, so a failed import reads as "not found",
        // not as a CORS refusal.
        res.headers_mut()
            .insert("access-control-allow-origin", HeaderValue::from_static("*"));
        res
    }
}

impl IsolationProtocol {
    /// A hook file, or a 404 (counted and logged as a refusal, in bursts).
    fn file(&self, path: &str) -> Response<Cow<'static, [u8]>> {
        let file = embedded_path(path).and_then(|rel| {
            rel.strip_prefix("hooks/")
                .and_then(|hook| self.hooks.file(hook))
                .map(|f| (f, rel))
        });
        match file {
            Some((f, rel)) => ok(Cow::Borrowed(f.contents()), &mime_for(&rel), None),
            None => {
                // Startup checks every import of the configured hooks, so
                // this is a dynamic import, or a request from a page.
                crate::ipc::refusals::refuse(
                    &self.window,
                    "not_found",
                    &format!("isolation request for a file not in the hooks folder path={path}"),
                );
                not_found()
            }
        }
    }
}

/// `429`, for a request past the call rate limit.
fn rate_limited() -> Response<Cow<'static, [u8]>> {
    let mut res = not_found();
    *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    res
}

impl IsolationProtocol {
    fn document(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
        if let Some(origin) = req.headers().get(http::header::ORIGIN) {
            crate::ipc::refusals::refuse(
                &self.window,
                "bad_origin",
                &format!(
                    "isolation document requested by a page ({}), not a frame navigation",
                    String::from_utf8_lossy(origin.as_bytes())
                ),
            );
            let mut res = not_found();
            *res.status_mut() = StatusCode::FORBIDDEN;
            return res;
        }
        let key = self.session.take_key();
        if key.is_none() {
            crate::ipc::refusals::refuse(
                &self.window,
                "no_key",
                "isolation document requested again in this page load; served without a key",
            );
        }
        let html = document::render(
            key.as_ref(),
            self.script,
            &self.hook_urls,
            &self.window,
            APP_ORIGIN,
            FrameLimits {
                inline_max: INLINE_ENVELOPE_MAX,
                batch_max: BATCH_MAX,
            },
        );
        // wry copies the body into a GLib buffer we cannot wipe; our own copy
        // is wiped when `html` drops after this copy.
        let mut res = ok(
            Cow::Owned(html.to_vec()),
            "text/html; charset=utf-8",
            Some(&self.policy),
        );
        res.headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

/// The absolute URL the frame imports a hook from.
pub(crate) fn hook_url(hook: &str) -> String {
    format!("{ISOLATION_ORIGIN}/hooks/{hook}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol() -> IsolationProtocol {
        IsolationProtocol::new(
            Arc::new(Session::new()),
            None,
            Mounts::default().with(("", &ISOLATION_JS)),
            &[],
            "main",
        )
    }

    fn get(
        p: &IsolationProtocol,
        path: &str,
        origin: Option<&str>,
    ) -> Response<Cow<'static, [u8]>> {
        let mut b = Request::builder().uri(format!("isolation://localhost{path}"));
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        p.respond(&b.body(Vec::new()).unwrap())
    }

    fn body(r: &Response<Cow<'static, [u8]>>) -> String {
        String::from_utf8_lossy(r.body()).into_owned()
    }

    #[test]
    fn page_fetch_of_the_document_is_refused_without_spending_the_key() {
        let p = protocol();
        let refused = get(&p, "/", Some("app://localhost"));
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(!body(&refused).contains("\"key\":\""));
        let nav = get(&p, "/", None);
        assert!(
            body(&nav).contains("\"key\":\""),
            "the frame's navigation still gets the key"
        );
    }

    #[test]
    fn second_document_request_gets_no_key() {
        let p = protocol();
        assert!(body(&get(&p, "/", None)).contains("\"key\":\""));
        let again = get(&p, "/index.html", None);
        assert!(body(&again).contains("\"key\":null"));
    }

    #[test]
    fn document_is_not_cacheable_or_cors_readable() {
        let r = get(&protocol(), "/", None);
        assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
        assert!(r.headers().get("access-control-allow-origin").is_none());
        assert!(r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors app://localhost"));
    }

    #[test]
    fn only_the_document_and_hooks_are_served() {
        let p = protocol();
        // In this test the hooks directory is isolation-js/ itself.
        assert_eq!(get(&p, "/hooks/bridge.js", None).status(), StatusCode::OK);
        assert_eq!(
            get(&p, "/isolation.js", None).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(get(&p, "/bridge.js", None).status(), StatusCode::NOT_FOUND);
        assert_eq!(
            get(&p, "/hooks/../bridge.js", None).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn probing_for_hook_files_takes_a_rate_token() {
        let p = IsolationProtocol::new(
            Arc::new(Session::new()),
            Some(Arc::new(RateLimit::new(
                3,
                std::time::Duration::from_secs(60),
            ))),
            Mounts::default().with(("", &ISOLATION_JS)),
            &[],
            "main",
        );
        let statuses: Vec<u16> = (0..5)
            .map(|i| {
                get(&p, &format!("/hooks/missing{i}.js"), None)
                    .status()
                    .as_u16()
            })
            .collect();
        assert_eq!(statuses, [404, 404, 404, 429, 429]);
        // The frame's own document is not counted.
        assert_eq!(get(&p, "/", None).status(), StatusCode::OK);
    }

    #[test]
    fn the_inline_script_is_allowed_by_its_hash_and_cannot_end_early() {
        let script = isolation_script();
        assert!(!script.is_empty());
        assert!(!script.to_ascii_lowercase().contains("</script"));
        let r = get(&protocol(), "/", None);
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains(&sha256_source(script)), "{csp}");
        assert!(body(&r).contains(script));
    }
}
