//! `http.fetch`: an HTTP request to a URL inside `scope.http`.
//!
//! Every hop (the first request and each redirect, which Moat follows
//! itself) goes through the same steps, in this order:
//! 1. the URL in its canonical form, inside the scope by its parts
//!    ([`crate::scope::url`]); that form is what is sent;
//! 2. the host resolved here, and every address it resolves to checked
//!    (loopback, private, link-local and reserved addresses only where the
//!    scope names them): a name cannot resolve around a deny;
//! 3. a connection only to those checked addresses: the client's resolver
//!    answers with exactly them (so a second lookup cannot rebind the
//!    name), and TLS is verified against the host name;
//! 4. one deadline for the whole call (`limits.callTimeoutMs`): the lookup,
//!    the connection, the headers and the body together. A response that
//!    drips is cut, and its connection closed, when the caller's call would
//!    time out, not read on after the page has given up.
//!
//! An allowed URL that redirects outside the scope is `scope_denied`, not a
//! way out, and a redirect to another origin drops the `Authorization`
//! header. The client (ureq, with rustls and the system's certificates)
//! keeps no cookies or cache, shares nothing with the webview, and never
//! uses a proxy: a proxy would resolve names where Moat cannot check the
//! addresses.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{Api, Builtin};
use crate::ipc::command::Commands;
use crate::ipc::wire::bytes::Bytes;
use crate::scope::error::ScopeError;
use crate::scope::url::canonical::{Canonical, Host};

/// Redirects followed before the call fails: enough for the usual
/// `http → https → /login → /` chains, few enough that a redirect loop
/// ends quickly.
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
    /// Text, or bytes (a `Uint8Array` in the page).
    #[serde(default)]
    body: Option<Body>,
    /// `"bytes"`: the response body as bytes; otherwise text (UTF-8, with
    /// any invalid sequence replaced).
    #[serde(default, rename = "responseType")]
    response_type: Option<String>,
}

#[derive(Deserialize, Serialize)]
#[serde(untagged)]
enum Body {
    Text(String),
    Bytes(Bytes),
}

#[derive(Serialize)]
struct Response {
    status: u16,
    /// The URL that answered, after redirects, in canonical form.
    url: String,
    headers: BTreeMap<String, String>,
    body: Body,
}

pub(super) fn commands(api: &Arc<Api>) -> Commands {
    let a = Arc::clone(api);
    Commands::new().builtin(Builtin::Fetch.name(), move |x: FetchArgs, _| fetch(&a, x))
}

/// One request as it is sent, hop by hop: a redirect changes it.
struct Request {
    url: Canonical,
    method: String,
    headers: BTreeMap<String, String>,
    body: Option<Vec<u8>>,
}

fn fetch(api: &Api, x: FetchArgs) -> Result<Response, ScopeError> {
    let deadline = Instant::now() + api.timeout;
    let url = api.scopes.http.check(&x.url)?;
    check_headers(&x.headers)?;
    let method = x.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    if !METHODS.contains(&method.as_str()) {
        return Err(ScopeError::UrlInvalid {
            url: x.url.clone(),
            reason: format!("cannot be fetched with method {method:?}"),
        });
    }
    let as_bytes = match x.response_type.as_deref() {
        None | Some("text") => false,
        Some("bytes") => true,
        Some(other) => {
            return Err(ScopeError::UrlInvalid {
                url: x.url.clone(),
                reason: format!(
                    "cannot be answered as {other:?} (responseType is \"text\" or \"bytes\")"
                ),
            })
        }
    };
    let mut req = Request {
        url,
        method,
        headers: x.headers,
        body: x.body.map(|b| match b {
            Body::Text(t) => t.into_bytes(),
            Body::Bytes(b) => b.0,
        }),
    };
    for _ in 0..=MAX_REDIRECTS {
        let addrs = resolve(&req.url, deadline)?;
        let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
        api.scopes.http.check_addresses(&req.url, &ips)?;
        let res = send(&req, addrs, deadline)?;
        if !follow_redirect(api, &mut req, &res)? {
            return read_response(api, &req.url, res, as_bytes);
        }
    }
    Err(failed(
        &req.url,
        format!("more than {MAX_REDIRECTS} redirects"),
    ))
}

/// Turns `req` into the next hop when `res` is a redirect (checked against
/// the scope like the first URL); `false` when it is not one.
fn follow_redirect(api: &Api, req: &mut Request, res: &ureq::Response) -> Result<bool, ScopeError> {
    let status = res.status();
    let location = res.header("location");
    let (true, Some(loc)) = ((300..400).contains(&status) && status != 304, location) else {
        return Ok(false);
    };
    let next = req
        .url
        .url
        .join(loc)
        .map_err(|e| failed(&req.url, format!("bad redirect: {e}")))?;
    tracing::debug!(from = %req.url.url, to = %next, "http.fetch redirect");
    let next = api.scopes.http.check(next.as_str())?;
    // As browsers do: credentials meant for one origin are not handed to
    // another because its server said so.
    if next.url.origin() != req.url.url.origin() {
        req.headers
            .retain(|k, _| !k.eq_ignore_ascii_case("authorization"));
    }
    req.url = next;
    // 303 (and, as browsers do, 301/302 after POST) turn into GET.
    if status == 303 || ((status == 301 || status == 302) && req.method == "POST") {
        req.method = "GET".into();
        req.body = None;
    }
    Ok(true)
}

/// The final response, its body read no further than the limit and no
/// later than the deadline (the reader keeps it: a body that drips fails).
fn read_response(
    api: &Api,
    url: &Canonical,
    res: ureq::Response,
    as_bytes: bool,
) -> Result<Response, ScopeError> {
    let status = res.status();
    let mut headers = BTreeMap::new();
    for name in res.headers_names() {
        headers.insert(name.to_ascii_lowercase(), res.all(&name).join(", "));
    }
    let mut bytes = Vec::new();
    res.into_reader()
        .take(api.max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| failed(url, io_reason(&e)))?;
    if bytes.len() > api.max_bytes {
        return Err(failed(
            url,
            "response larger than limits.maxMessageBytes".into(),
        ));
    }
    tracing::info!(url = %url.url, status, "http.fetch");
    Ok(Response {
        status,
        url: url.url.to_string(),
        headers,
        body: if as_bytes {
            Body::Bytes(Bytes(bytes))
        } else {
            Body::Text(String::from_utf8_lossy(&bytes).into_owned())
        },
    })
}

fn failed(url: &Canonical, reason: String) -> ScopeError {
    ScopeError::Http {
        url: url.url.to_string(),
        reason,
    }
}

fn io_reason(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::TimedOut {
        "no complete response within limits.callTimeoutMs".into()
    } else {
        e.to_string()
    }
}

/// The socket addresses of `url`'s host, looked up once, before the
/// deadline. A lookup cannot be cancelled; one that outlives the deadline
/// is left to finish on its own thread and the call fails.
fn resolve(url: &Canonical, deadline: Instant) -> Result<Vec<SocketAddr>, ScopeError> {
    let port = url.url.port_or_known_default().unwrap_or(80);
    let name = match &url.host {
        Some(Host::Ip(ip)) => return Ok(vec![SocketAddr::new(*ip, port)]),
        Some(Host::Name(n)) => n.clone(),
        None => return Err(failed(url, "has no host".into())),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("moat-resolve".into())
        .spawn(move || {
            let _ = tx.send(
                (name.as_str(), port)
                    .to_socket_addrs()
                    .map(Iterator::collect::<Vec<_>>),
            );
        })
        .map_err(|e| failed(url, format!("cannot resolve the host: {e}")))?;
    let remaining = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(remaining) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(failed(url, "the host has no address".into())),
        Ok(Err(e)) => Err(failed(url, format!("cannot resolve the host: {e}"))),
        Err(_) => Err(failed(
            url,
            "no address for the host within limits.callTimeoutMs".into(),
        )),
    }
}

/// One request, connecting only to `addrs`.
fn send(
    req: &Request,
    addrs: Vec<SocketAddr>,
    deadline: Instant,
) -> Result<ureq::Response, ScopeError> {
    let url = &req.url;
    let remaining = deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(failed(
            url,
            "no response within limits.callTimeoutMs".into(),
        ));
    }
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(remaining.max(Duration::from_millis(1)))
        // The checked addresses, whatever the client asks for.
        .resolver(move |_: &str| Ok(addrs.clone()))
        .build();
    let mut request = agent.request(&req.method, url.url.as_str());
    for (k, v) in &req.headers {
        request = request.set(k, v);
    }
    let result = match &req.body {
        Some(b) => request.send_bytes(b),
        None => request.call(),
    };
    match result {
        Ok(res) | Err(ureq::Error::Status(_, res)) => Ok(res),
        Err(ureq::Error::Transport(t)) => {
            let reason = match t.kind() {
                ureq::ErrorKind::Io if t.to_string().to_ascii_lowercase().contains("timed out") => {
                    "no response within limits.callTimeoutMs".to_owned()
                }
                _ => t.to_string(),
            };
            Err(failed(url, reason))
        }
    }
}
