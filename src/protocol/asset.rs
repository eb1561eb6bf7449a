//! `asset://localhost/<absolute path, percent-encoded>`: files from disk
//! inside `scope.asset`, for `<img>`, `<video>` and `fetch`.
//!
//! Same rules as `fs` (the name checked before anything is opened, so a
//! path outside the scope is 403 whether it exists or not; then the real
//! path of what was opened checked again; symlinks followed and re-checked;
//! only regular files with one link). What is served can never
//! act as app code: every response carries `Content-Security-Policy:
//! sandbox; default-src 'none'` and `nosniff`, so an `.html` or `.svg` file
//! that reaches a frame runs no script on any origin. One byte range per
//! request is honoured (`206`), at most `limits.maxMessageBytes` of it, so
//! media larger than that streams instead of failing.

use std::borrow::Cow;
use std::io::{Read, Seek, SeekFrom};

use http::{HeaderValue, Request, Response, StatusCode};

use super::range::parse_range;
use super::{mime_for, ok, Scheme};
use crate::scope::error::ScopeError;
use crate::scope::path::PathScope;

/// The CSP of everything served from `asset:`.
const ASSET_CSP: &str = "sandbox; default-src 'none'";

pub(crate) struct AssetProtocol {
    scope: PathScope,
    /// `limits.maxMessageBytes`: the most one response carries.
    max_bytes: usize,
    /// The window it serves, for its refusals.
    window: String,
}

impl AssetProtocol {
    pub(crate) fn new(scope: PathScope, max_bytes: usize, window: &str) -> Self {
        Self {
            scope,
            max_bytes,
            window: window.to_owned(),
        }
    }
}

impl Scheme for AssetProtocol {
    fn touches_scoped_files(&self) -> bool {
        true
    }

    fn respond(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
        let mut res = self.response(req);
        // `fetch` from the app is cross-origin; only the app may read.
        res.headers_mut().insert(
            "access-control-allow-origin",
            HeaderValue::from_static(crate::origin::APP_ORIGIN),
        );
        res.headers_mut().insert(
            "access-control-expose-headers",
            HeaderValue::from_static(
                "content-security-policy, x-content-type-options, content-range, accept-ranges",
            ),
        );
        res
    }
}

impl AssetProtocol {
    fn response(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
        let raw = req.uri().path();
        // Not lossy: a replacement character would name another file than
        // the one asked for.
        let Ok(requested) = percent_encoding::percent_decode_str(raw).decode_utf8() else {
            crate::ipc::refusals::refuse(
                &self.window,
                "path_invalid",
                &format!("asset request refused: {raw} is not UTF-8 once decoded"),
            );
            return error_response(
                StatusCode::BAD_REQUEST,
                "path_invalid: the path is not UTF-8 once percent-decoded",
            );
        };
        let range = req
            .headers()
            .get(http::header::RANGE)
            .and_then(|v| v.to_str().ok());
        match self.read(&requested, range) {
            Ok(Served::Whole(body)) => {
                let mut res = ok(Cow::Owned(body), &mime_for(&requested), Some(ASSET_CSP));
                res.headers_mut().insert(
                    http::header::ACCEPT_RANGES,
                    HeaderValue::from_static("bytes"),
                );
                res
            }
            Ok(Served::Part { body, start, len }) => {
                let end = start + body.len() as u64 - 1;
                let mut res = ok(Cow::Owned(body), &mime_for(&requested), Some(ASSET_CSP));
                *res.status_mut() = StatusCode::PARTIAL_CONTENT;
                let h = res.headers_mut();
                h.insert(
                    http::header::ACCEPT_RANGES,
                    HeaderValue::from_static("bytes"),
                );
                if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                    h.insert(http::header::CONTENT_RANGE, v);
                }
                res
            }
            Ok(Served::Unsatisfiable { len }) => {
                let mut res =
                    error_response(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                    res.headers_mut().insert(http::header::CONTENT_RANGE, v);
                }
                res
            }
            Err(e) => refused(&self.window, &e),
        }
    }

    /// Reads the whole file, or with a `Range` header the part asked for,
    /// never more than `limits.maxMessageBytes` at once: an open-ended range
    /// (`bytes=0-`, what media elements send) gets at most that much, and
    /// the player asks for the rest, so a large video streams.
    fn read(&self, requested: &str, range: Option<&str>) -> Result<Served, ScopeError> {
        let (mut file, _real) = self.scope.open_file(requested)?;
        let io = |e| ScopeError::io(requested, e);
        let len = file.metadata().map_err(io)?.len();
        let max = self.max_bytes as u64;
        let Some(range) = range else {
            if len > max {
                return Err(ScopeError::PathInvalid {
                    requested: requested.to_owned(),
                    reason: "is larger than limits.maxMessageBytes; request it in ranges".into(),
                });
            }
            let mut buf = Vec::with_capacity(len as usize);
            file.take(max + 1).read_to_end(&mut buf).map_err(io)?;
            return Ok(Served::Whole(buf));
        };
        let Some((start, end)) = parse_range(range, len) else {
            return Ok(Served::Unsatisfiable { len });
        };
        let count = (end - start + 1).min(max);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut buf = Vec::with_capacity(count as usize);
        file.take(count).read_to_end(&mut buf).map_err(io)?;
        if buf.is_empty() {
            return Ok(Served::Unsatisfiable { len });
        }
        Ok(Served::Part {
            body: buf,
            start,
            len,
        })
    }
}

enum Served {
    Whole(Vec<u8>),
    Part { body: Vec<u8>, start: u64, len: u64 },
    Unsatisfiable { len: u64 },
}

/// The answer to a request the scope refused (counted) or that failed.
fn refused(window: &str, e: &ScopeError) -> Response<Cow<'static, [u8]>> {
    if e.is_refusal() {
        crate::ipc::refusals::refuse(
            window,
            e.code(),
            &format!("asset request refused: {}", e.detail()),
        );
    } else {
        tracing::warn!(code = e.code(), reason = %e.detail(), "asset request failed");
    }
    let status = match e {
        ScopeError::NotFound { .. } => StatusCode::NOT_FOUND,
        ScopeError::PathDenied { .. } | ScopeError::HardLinked { .. } => StatusCode::FORBIDDEN,
        ScopeError::PathInvalid { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error_response(status, &format!("{}: {}", e.code(), e.page_message()))
}

fn error_response(status: StatusCode, text: &str) -> Response<Cow<'static, [u8]>> {
    let mut res = ok(
        Cow::Owned(text.as_bytes().to_vec()),
        "text/plain; charset=utf-8",
        Some(ASSET_CSP),
    );
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    res
}

#[cfg(test)]
// The test sets up the file system as the attacker would.
#[allow(
    clippy::disallowed_methods,
    reason = "the test sets up the file system as the attacker would"
)]
mod tests {
    use super::*;
    use crate::config::PathScopeConfig;
    use crate::scope::BaseDirs;

    fn get(p: &AssetProtocol, path: &str, range: Option<&str>) -> Response<Cow<'static, [u8]>> {
        let mut b = Request::builder().uri(format!("asset://localhost{path}"));
        if let Some(r) = range {
            b = b.header(http::header::RANGE, r);
        }
        p.respond(&b.body(Vec::new()).unwrap())
    }

    /// No served name, `Range` value or type can put a CR, LF or NUL into a
    /// response header, or change the policy header.
    #[test]
    fn no_name_range_or_type_injects_a_header() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let names = [
            "plain.txt",
            "a\r\nX-Injected: 1.txt",
            "b.txt\r\nContent-Security-Policy: script-src *",
            "c\nd.html",
        ];
        for n in names {
            std::fs::write(root.join(n), "0123456789").unwrap();
        }
        let scope = crate::scope::path::PathScope::compile(
            "scope.asset",
            &PathScopeConfig {
                allow: vec![format!("{}/*", root.display())],
                deny: vec![],
            },
            &BaseDirs::fixed(&root),
        )
        .unwrap();
        let p = AssetProtocol::new(scope, 1 << 20, "main");
        for n in names {
            let path = format!(
                "{}/{}",
                root.display(),
                percent_encoding::utf8_percent_encode(n, percent_encoding::NON_ALPHANUMERIC)
            );
            for range in [
                None,
                Some("bytes=0-3"),
                Some("bytes=2-"),
                Some("bytes=0-1, 4-5"),
                Some("bytes=99999999999999999999-"),
                Some("bytes=-3"),
                Some("pages=1-2"),
            ] {
                let res = get(&p, &path, range);
                assert!(
                    res.status().as_u16() < 500,
                    "{n:?} {range:?}: {}",
                    res.status()
                );
                headers_are_clean(&res, &format!("{n:?} {range:?}"));
            }
        }
    }

    /// No header holds a CR, LF or NUL or was injected, and the policy
    /// header is the one Moat sets.
    fn headers_are_clean(res: &Response<Cow<'static, [u8]>>, what: &str) {
        for (name, value) in res.headers() {
            let bad = value
                .as_bytes()
                .iter()
                .any(|b| matches!(b, b'\r' | b'\n' | 0));
            assert!(!bad, "{what}: {name}: {value:?}");
            assert_ne!(name, "x-injected");
        }
        let policies: Vec<_> = res
            .headers()
            .get_all(http::header::CONTENT_SECURITY_POLICY)
            .iter()
            .collect();
        assert_eq!(policies, [ASSET_CSP], "{what}");
    }
}
