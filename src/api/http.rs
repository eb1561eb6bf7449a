//! `http.fetch`: an HTTP request to a URL inside `scope.http`.
//!
//! The client is libsoup, which WebKitGTK already links, used synchronously
//! on the blocking pool with a session per call (no cookies, no cache, no
//! credentials shared with the webview). Redirects are followed here, not by
//! libsoup, so each hop is checked against the scope: an allowed URL that
//! redirects outside it is `scope_denied`, not a way out, and a redirect to
//! another origin drops the `Authorization` header.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use soup::gio::prelude::*;
use soup::prelude::*;

use super::Api;
use crate::ipc::command::Commands;
use crate::scope::error::ScopeError;

const MAX_REDIRECTS: usize = 5;
/// Headers the page may not set, after the Fetch standard's forbidden
/// request headers: they would let it pick another virtual host on an
/// allowed address (`Host`), smuggle a second request (`Content-Length`,
/// `Transfer-Encoding`), or claim an origin or identity it does not have.
const FORBIDDEN_HEADERS: &[&str] = &[
    "accept-charset",
    "accept-encoding",
    "connection",
    "content-length",
    "cookie",
    "cookie2",
    "date",
    "dnt",
    "expect",
    "host",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
];

/// Refuses forbidden and malformed headers (a CR or LF in a value would
/// start a header of the page's choosing).
fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), ScopeError> {
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        let forbidden = FORBIDDEN_HEADERS.contains(&lower.as_str())
            || lower.starts_with("proxy-")
            || lower.starts_with("sec-")
            || lower.starts_with("access-control-request-");
        let reason = if forbidden {
            "is a forbidden request header"
        } else if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            "is not a valid header name"
        } else if http::HeaderValue::from_str(value).is_err() {
            "has a value with control characters"
        } else {
            continue;
        };
        return Err(ScopeError::HeaderDenied {
            name: name.clone(),
            reason,
        });
    }
    Ok(())
}
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchArgs {
    url: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Serialize)]
struct Response {
    status: u32,
    /// The URL that answered, after redirects.
    url: String,
    headers: BTreeMap<String, String>,
    body: String,
}

pub(super) fn commands(api: &Arc<Api>) -> Commands {
    let a = Arc::clone(api);
    Commands::new().builtin("http.fetch", move |x: FetchArgs, _| fetch(&a, x))
}

fn fetch(api: &Api, x: FetchArgs) -> Result<Response, ScopeError> {
    let mut url = api.scopes.http.check(&x.url)?;
    check_headers(&x.headers)?;
    let fail = |url: &url::Url, reason: String| ScopeError::Http {
        url: url.to_string(),
        reason,
    };
    let mut method = x.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(ScopeError::UrlInvalid {
            url: x.url.clone(),
            reason: format!("cannot be fetched with method {method:?}"),
        });
    }
    let mut body = x.body;
    let mut headers = x.headers;
    let session = soup::Session::builder()
        .timeout(u32::try_from(api.timeout.as_secs().max(1)).unwrap_or(u32::MAX))
        .build();
    for _ in 0..=MAX_REDIRECTS {
        let msg = soup::Message::new(&method, url.as_str())
            .map_err(|e| fail(&url, format!("not accepted by the client: {e}")))?;
        msg.add_flags(soup::MessageFlags::NO_REDIRECT);
        if let Some(h) = msg.request_headers() {
            for (k, v) in &headers {
                h.append(k, v);
            }
        }
        if let Some(b) = &body {
            let bytes = glib::Bytes::from(b.as_bytes());
            msg.set_request_body_from_bytes(None, Some(&bytes));
        }
        // Headers first; the body is read only for the final response, and
        // no further than the limit.
        let stream = session
            .send(&msg, None::<&soup::gio::Cancellable>)
            .map_err(|e| fail(&url, e.to_string()))?;
        let status = msg.status_code();
        let location = msg.response_headers().and_then(|h| h.one("Location"));
        if (300..400).contains(&status) && status != 304 {
            if let Some(loc) = location {
                let next = url
                    .join(loc.as_str())
                    .map_err(|e| fail(&url, format!("bad redirect: {e}")))?;
                tracing::debug!(from = %url, to = %next, "http.fetch redirect");
                let next = api.scopes.http.check(next.as_str())?;
                // As browsers do: credentials meant for one origin are not
                // handed to another because its server said so.
                if next.origin() != url.origin() {
                    headers.retain(|k, _| !k.eq_ignore_ascii_case("authorization"));
                }
                url = next;
                // 303 (and, as browsers do, 301/302 after POST) turn into GET.
                if status == 303 || ((status == 301 || status == 302) && method == "POST") {
                    method = "GET".into();
                    body = None;
                }
                continue;
            }
        }
        let mut bytes = Vec::new();
        loop {
            let chunk = stream
                .read_bytes(64 << 10, None::<&soup::gio::Cancellable>)
                .map_err(|e| fail(&url, e.to_string()))?;
            if chunk.is_empty() {
                break;
            }
            bytes.extend_from_slice(&chunk);
            if bytes.len() > api.max_bytes {
                return Err(fail(
                    &url,
                    "response larger than limits.maxMessageBytes".into(),
                ));
            }
        }
        let mut headers = BTreeMap::new();
        if let Some(h) = msg.response_headers() {
            h.foreach(|k, v| {
                headers.insert(k.to_ascii_lowercase(), v.to_owned());
            });
        }
        tracing::info!(url = %url, status, "http.fetch");
        return Ok(Response {
            status,
            url: url.to_string(),
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    Err(fail(&url, format!("more than {MAX_REDIRECTS} redirects")))
}
