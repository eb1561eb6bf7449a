//! `asset://localhost/<absolute path, percent-encoded>`: files from disk
//! inside `scope.asset`, for `<img>`, `<video>` and `fetch`.
//!
//! Same rules as `fs` (opened first, then the real path checked; symlinks
//! followed and re-checked; only regular files). What is served can never
//! act as app code: every response carries `Content-Security-Policy:
//! sandbox; default-src 'none'` and `nosniff`, so an `.html` or `.svg` file
//! that reaches a frame runs no script on any origin.

use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

use http::{HeaderValue, Request, Response, StatusCode};

use super::{mime_for, ok};
use crate::api::Api;
use crate::scope::error::ScopeError;

/// The CSP of everything served from `asset:`.
const ASSET_CSP: &str = "sandbox; default-src 'none'";

pub(crate) struct AssetProtocol {
    api: Arc<Api>,
}

impl AssetProtocol {
    pub(crate) fn new(api: Arc<Api>) -> Self {
        Self { api }
    }

    pub(crate) fn respond(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
        let mut res = self.response(req);
        // `fetch` from the app is cross-origin; only the app may read.
        res.headers_mut().insert(
            "access-control-allow-origin",
            HeaderValue::from_static(super::APP_ORIGIN),
        );
        res.headers_mut().insert(
            "access-control-expose-headers",
            HeaderValue::from_static("content-security-policy, x-content-type-options"),
        );
        res
    }

    fn response(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
        let raw = req.uri().path();
        let requested = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        match self.read(&requested) {
            Ok(body) => ok(Cow::Owned(body), &mime_for(&requested), Some(ASSET_CSP)),
            Err(e) => {
                tracing::warn!(code = e.code(), reason = %e.detail(), "asset request refused");
                let status = match &e {
                    ScopeError::NotFound { .. } => StatusCode::NOT_FOUND,
                    ScopeError::PathDenied { .. } => StatusCode::FORBIDDEN,
                    ScopeError::PathInvalid { .. } => StatusCode::BAD_REQUEST,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                let mut res = ok(
                    Cow::Owned(format!("{}: {}", e.code(), e.page_message()).into_bytes()),
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
        }
    }

    fn read(&self, requested: &str) -> Result<Vec<u8>, ScopeError> {
        let (file, _real) = self.api.scopes.asset.open_file(requested)?;
        let mut buf = Vec::new();
        file.take(self.api.max_bytes as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| ScopeError::io(requested, e))?;
        if buf.len() > self.api.max_bytes {
            return Err(ScopeError::PathInvalid {
                requested: requested.to_owned(),
                reason: "is larger than limits.maxMessageBytes".into(),
            });
        }
        Ok(buf)
    }
}
