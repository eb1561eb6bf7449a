//! The custom schemes the webview loads from. There is no localhost server
//! and no `file://` page: everything the app shows comes from memory.
//!
//! - `app://localhost/` — the app's embedded frontend (main frame);
//! - `isolation://localhost/` — the isolation document, `isolation.js` and
//!   the app's hooks (the sandboxed frame only);
//! - `asset://localhost/<path>` — files inside `scope.asset`, when the
//!   allowlist turns the protocol on ([`asset`]);
//! - `ipc://localhost/` — the envelope endpoint ([`crate::ipc::transport::fetch`]).
//!
//! ## Platform-specific
//! - **Linux:** wry registers every custom scheme as secure, so both
//!   documents are secure contexts and `crypto.subtle` exists in the frame.

pub(crate) mod app;
#[cfg(feature = "api-asset")]
pub(crate) mod asset;
#[cfg(debug_assertions)]
pub(crate) mod dev;
pub(crate) mod isolation;
#[cfg(any(feature = "api-asset", feature = "fuzz-targets", test))]
pub(crate) mod range;

use std::borrow::Cow;

use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};

/// A custom scheme's handler: one request in, one response out, on the GTK
/// thread. The window registers each with the webview.
pub(crate) trait Scheme: Send + Sync {
    fn respond(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>>;

    /// Whether answering touches files of a scope, so it must run on a
    /// (confined) runtime thread, not on the GTK thread (`confine`).
    fn touches_scoped_files(&self) -> bool {
        false
    }
}

/// Embedded directories by path prefix (ending in `/`, or `""` for the
/// root): the app's own, and in the test-harness build its test files
/// mounted under `__test__/`.
#[derive(Clone, Default)]
pub(crate) struct Mounts(Vec<(&'static str, &'static include_dir::Dir<'static>)>);

impl Mounts {
    /// These mounts and one more.
    pub(crate) fn with(
        mut self,
        mount: (&'static str, &'static include_dir::Dir<'static>),
    ) -> Self {
        self.0.push(mount);
        self
    }

    pub(crate) fn dirs(
        &self,
    ) -> impl Iterator<Item = &(&'static str, &'static include_dir::Dir<'static>)> {
        self.0.iter()
    }

    /// Whether `path` lies under a mount other than the root one.
    #[cfg(debug_assertions)]
    pub(crate) fn below_root(&self, path: &str) -> bool {
        self.0
            .iter()
            .any(|(prefix, _)| !prefix.is_empty() && path.starts_with(prefix))
    }

    /// The file at `path`; the longest matching prefix wins, so a mount
    /// shadows the directory below it.
    pub(crate) fn file(&self, path: &str) -> Option<&'static include_dir::File<'static>> {
        self.0
            .iter()
            .filter_map(|(prefix, dir)| {
                path.strip_prefix(prefix)
                    .map(|rest| (prefix.len(), dir, rest))
            })
            .max_by_key(|(len, _, _)| *len)
            .and_then(|(_, dir, rest)| dir.get_file(rest))
    }
}

/// Maps a request path onto an embedded file's path: strips the leading `/`,
/// serves `index.html` for `/`, refuses `..`, empty and hidden segments and
/// backslashes (none of which an embedded tree needs).
pub(crate) fn embedded_path(path: &str) -> Option<String> {
    let p = path.trim_start_matches('/');
    let p = if p.is_empty() || p.ends_with('/') {
        format!("{p}index.html")
    } else {
        p.to_owned()
    };
    let ok = p
        .split('/')
        .all(|seg| !seg.is_empty() && !seg.starts_with('.') && !seg.contains('\\'));
    ok.then_some(p)
}

pub(crate) fn mime_for(path: &str) -> String {
    let m = mime_guess::from_path(path).first_or_octet_stream();
    match m.type_() {
        mime_guess::mime::TEXT => format!("{m}; charset=utf-8"),
        _ if m.subtype() == mime_guess::mime::JAVASCRIPT => "text/javascript; charset=utf-8".into(),
        _ => m.to_string(),
    }
}

/// A response with the headers every served document carries.
pub(crate) fn ok(
    body: Cow<'static, [u8]>,
    content_type: &str,
    csp: Option<&str>,
) -> Response<Cow<'static, [u8]>> {
    let mut res = Response::new(body);
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(CONTENT_TYPE, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    if let Some(csp) = csp.and_then(|c| HeaderValue::from_str(c).ok()) {
        h.insert(CONTENT_SECURITY_POLICY, csp);
    }
    res
}

pub(crate) fn not_found() -> Response<Cow<'static, [u8]>> {
    let mut res = ok(
        Cow::Borrowed(b"not found"),
        "text/plain; charset=utf-8",
        None,
    );
    *res.status_mut() = StatusCode::NOT_FOUND;
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// A prepared HTML document (a fresh nonce in it and its policy header),
/// never cached.
pub(crate) fn html_response(doc: &crate::csp::Document) -> Response<Cow<'static, [u8]>> {
    let (body, policy) = doc.render();
    let mut res = ok(body, "text/html; charset=utf-8", Some(&policy));
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

/// A path that names no file and has no file extension in its last
/// segment (`/settings/profile`, `/users/42/`) is a route of a client-side
/// router: it gets the app's `index.html`, so such a route survives a
/// reload. A missing `/logo.png` or `/chunk.js` stays a 404.
pub(crate) fn is_client_route(path: &str) -> bool {
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    !last.is_empty() && !last.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_onto_the_embedded_tree() {
        assert_eq!(embedded_path("/").as_deref(), Some("index.html"));
        assert_eq!(embedded_path("/a/b.js").as_deref(), Some("a/b.js"));
        assert_eq!(embedded_path("/sub/").as_deref(), Some("sub/index.html"));
    }

    #[test]
    fn traversal_and_hidden_paths_are_refused() {
        for p in ["/../secret", "/a/../../b", "/.git/config", "/a//b", "/a\\b"] {
            assert_eq!(embedded_path(p), None, "{p}");
        }
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime_for("index.html"), "text/html; charset=utf-8");
        assert_eq!(mime_for("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(mime_for("x.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(mime_for("s.css"), "text/css; charset=utf-8");
        assert_eq!(mime_for("i.png"), "image/png");
    }
}
