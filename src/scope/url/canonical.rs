//! The one form of a URL that a scope judges and that Moat then acts on.
//!
//! Threat: a scope that compares one spelling of a URL while the HTTP
//! client, the server or the system's opener acts on another. `/pub/%61dmin`
//! is `/pub/admin` to a server; `/pub//admin` is too, to many; `%2e%2e` is
//! `..` to one that decodes before it resolves; `[::ffff:127.0.0.1]` and
//! `localhost.` are the loopback; `mailto:a@x?bcc=…&attach=…` is more than
//! an address. So the page's URL is parsed (WHATWG), turned into one
//! canonical form, judged in that form, and the URL rebuilt from it is the
//! one that is sent or opened:
//!
//! - **http, https** — host: lower case, IDNA, one trailing dot dropped, an
//!   IPv4-mapped IPv6 literal written as IPv4. Path: every segment
//!   percent-decoded once; refused when that is ambiguous (an encoded `/`,
//!   `\` or `%`, a control character, text that is not UTF-8, an empty
//!   segment, a `.` or `..` segment in any spelling, `..;`); sent re-encoded
//!   from the decoded text, with `;` as data. No credentials, no fragment
//!   sent to a server.
//! - **mailto** — exactly one address, and at most `subject` and `body`.
//! - **tel** — a number: an optional `+` and digits (visual separators
//!   dropped), nothing else.

use std::net::IpAddr;

use percent_encoding::{
    percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC,
};

/// What is encoded in a path segment that Moat sends: everything the URL
/// grammar gives a meaning to, and `;` (path parameters to some servers).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b';')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// What is encoded in a mail address (`@` stays).
const ADDRESS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'@')
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'+');

/// What is encoded in a mailto header value: all but the unreserved.
const VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

/// A host in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    /// Lower case, ASCII (IDNA), no trailing dot.
    Name(String),
    /// IPv4-mapped IPv6 addresses are IPv4.
    Ip(IpAddr),
}

impl Host {
    /// `text` as a pattern or URL host: a name or an IP literal.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        match url::Host::parse(text) {
            Ok(url::Host::Domain(d)) => {
                let d = d.strip_suffix('.').unwrap_or(&d);
                if d.is_empty() || d.ends_with('.') || d.split('.').any(str::is_empty) {
                    return Err("has an empty label in its host".into());
                }
                Ok(Host::Name(d.to_owned()))
            }
            Ok(url::Host::Ipv4(a)) => Ok(Host::Ip(IpAddr::V4(a))),
            Ok(url::Host::Ipv6(a)) => Ok(Host::Ip(unmap(IpAddr::V6(a)))),
            Err(e) => Err(format!("has a bad host: {e}")),
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it
/// reaches; any other address as it is.
pub(crate) fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A URL in canonical form.
#[derive(Debug, Clone)]
pub(crate) struct Canonical {
    /// What is sent or opened: rebuilt from the parts below.
    pub(crate) url: url::Url,
    /// `None` for `mailto:` and `tel:`.
    pub(crate) host: Option<Host>,
    /// What path globs match: the decoded path (`/a/b c`) for http(s), the
    /// address for `mailto:`, the number for `tel:`.
    pub(crate) path: String,
}

/// Why a URL has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CanonError {
    /// Not a URL, or ambiguous (`url_invalid`).
    Invalid(String),
    /// A URL, carrying a part Moat never passes (`scope_denied`).
    Denied(String),
}

/// The canonical form of `raw`, for any scheme Moat passes.
pub(crate) fn canonical(raw: &str) -> Result<Canonical, CanonError> {
    let invalid = |r: &str| CanonError::Invalid(r.to_owned());
    let url =
        url::Url::parse(raw).map_err(|e| CanonError::Invalid(format!("is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    match url.scheme() {
        "http" | "https" => web(url),
        "mailto" => mailto(&url),
        "tel" => tel(&url),
        other => Err(CanonError::Denied(format!(
            "scheme `{other}:` is never passed"
        ))),
    }
}

fn web(mut url: url::Url) -> Result<Canonical, CanonError> {
    let invalid = |r: String| CanonError::Invalid(r);
    let host = Host::parse(url.host_str().unwrap_or_default()).map_err(invalid)?;
    match &host {
        Host::Name(n) => url.set_host(Some(n)),
        Host::Ip(ip) => url
            .set_ip_host(*ip)
            .map_err(|()| url::ParseError::SetHostOnCannotBeABaseUrl),
    }
    .map_err(|e| invalid(format!("has a host that cannot be rewritten: {e}")))?;
    let segments = decode_path(url.path()).map_err(invalid)?;
    let encoded: Vec<String> = segments
        .iter()
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    url.set_path(&format!("/{}", encoded.join("/")));
    Ok(Canonical {
        path: format!("/{}", segments.join("/")),
        url,
        host: Some(host),
    })
}

/// The decoded segments of a WHATWG-serialised path (which has already
/// resolved literal and `%2e` dot segments, and turned `\` into `/`).
fn decode_path(path: &str) -> Result<Vec<String>, String> {
    let raw: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let last = raw.len() - 1;
    let mut out = Vec::with_capacity(raw.len());
    for (i, seg) in raw.iter().enumerate() {
        if seg.is_empty() && i != last {
            return Err("has an empty path segment (`//`)".into());
        }
        let bytes: Vec<u8> = percent_decode_str(seg).collect();
        let text = String::from_utf8(bytes)
            .map_err(|_| "has a path that is not UTF-8 once percent-decoded".to_owned())?;
        if let Some(c) = text
            .chars()
            .find(|c| matches!(c, '/' | '\\' | '%') || c.is_control())
        {
            return Err(format!(
                "has an encoded {c:?} in its path, which servers read differently"
            ));
        }
        let before_params = text.split(';').next().unwrap_or_default();
        if matches!(before_params, "." | "..") {
            return Err("has a `.` or `..` path segment".into());
        }
        out.push(text);
    }
    Ok(out)
}

fn mailto(url: &url::Url) -> Result<Canonical, CanonError> {
    let address = decode(url.path()).map_err(CanonError::Invalid)?;
    let (local, domain) = address
        .split_once('@')
        .ok_or_else(|| CanonError::Invalid("mailto: needs one address, name@domain".into()))?;
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$&'*+/=^_`{|}~.-".contains(c));
    let domain_ok = !domain.is_empty()
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if !local_ok || !domain_ok {
        return Err(CanonError::Denied(
            "mailto: only one plain address (name@domain) is passed, no lists or display names"
                .into(),
        ));
    }
    let (subject, body) = mailto_fields(url.query().unwrap_or_default())?;
    let mut text = format!("mailto:{}", utf8_percent_encode(&address, ADDRESS));
    let mut sep = '?';
    for (k, v) in [("subject", &subject), ("body", &body)] {
        if let Some(v) = v {
            text.push_str(&format!("{sep}{k}={}", utf8_percent_encode(v, VALUE)));
            sep = '&';
        }
    }
    let url = url::Url::parse(&text).map_err(|e| CanonError::Invalid(e.to_string()))?;
    Ok(Canonical {
        url,
        host: None,
        path: address,
    })
}

/// `subject` and `body`, each at most once; any other field is refused.
fn mailto_fields(query: &str) -> Result<(Option<String>, Option<String>), CanonError> {
    let (mut subject, mut body) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k).map_err(CanonError::Invalid)?.to_ascii_lowercase();
        let value = decode(v).map_err(CanonError::Invalid)?;
        let slot = match key.as_str() {
            "subject" => &mut subject,
            "body" => &mut body,
            _ => {
                return Err(CanonError::Denied(format!(
                    "mailto: only `subject` and `body` may be set; `{key}` is refused"
                )))
            }
        };
        if slot.replace(value).is_some() {
            return Err(CanonError::Denied(format!("mailto: `{key}` is set twice")));
        }
    }
    if subject
        .as_deref()
        .is_some_and(|s| s.chars().any(char::is_control))
    {
        return Err(CanonError::Denied(
            "mailto: the subject has a control character".into(),
        ));
    }
    Ok((subject, body))
}

fn tel(url: &url::Url) -> Result<Canonical, CanonError> {
    let text = decode(url.path()).map_err(CanonError::Invalid)?;
    let number: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = number.strip_prefix('+').unwrap_or(&number);
    if url.query().is_some()
        || digits.is_empty()
        || digits.len() > 32
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(CanonError::Denied(
            "tel: only a number is passed (`+` and digits; spaces, dots, dashes and brackets are dropped)".into(),
        ));
    }
    let url = url::Url::parse(&format!("tel:{number}"))
        .map_err(|e| CanonError::Invalid(e.to_string()))?;
    Ok(Canonical {
        url,
        host: None,
        path: number,
    })
}

/// Percent-decodes `text` once, as UTF-8.
fn decode(text: &str) -> Result<String, String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "is not UTF-8 once percent-decoded".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web_of(raw: &str) -> (String, String) {
        let c = canonical(raw).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
        (c.url.to_string(), c.path)
    }

    fn invalid(raw: &str) -> String {
        match canonical(raw) {
            Err(CanonError::Invalid(r)) => r,
            other => panic!("{raw}: {other:?}"),
        }
    }

    fn denied(raw: &str) -> String {
        match canonical(raw) {
            Err(CanonError::Denied(r)) => r,
            other => panic!("{raw}: {other:?}"),
        }
    }

    #[test]
    fn every_spelling_of_a_path_has_one_form_and_that_form_is_sent() {
        let want = (
            "https://a.com/pub/admin/x".to_owned(),
            "/pub/admin/x".to_owned(),
        );
        for raw in [
            "https://a.com/pub/admin/x",
            "https://a.com/pub/%61dmin/x",
            "https://a.com/pub/%61%64%6D%69%6E/x",
            "https://A.COM/pub/admin/x",
            "https://a.com./pub/admin/x",
            "https://a.com:443/pub/admin/x",
            "https://a.com/pub/./admin/x",
            "https://a.com/pub/z/../admin/x",
            "https://a.com/pub/z/%2e%2e/admin/x",
            "https://a.com/pub/z/.%2E/admin/x",
            "https://a.com/pub\\admin\\x",
            "https://a.com/pub/admin/x#frag",
        ] {
            let (url, path) = web_of(raw);
            assert_eq!(
                (url.trim_end_matches("#frag").to_owned(), path),
                want,
                "{raw}"
            );
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for (raw, why) in [
            ("https://a.com/pub/admin%2Fx", "encoded '/'"),
            ("https://a.com/pub/admin%2fx", "encoded '/'"),
            ("https://a.com/pub/admin%5Cx", "encoded '\\\\'"),
            ("https://a.com/pub/%252e%252e/x", "encoded '%'"),
            ("https://a.com/pub/a%00b", "encoded '\\0'"),
            ("https://a.com/pub/a%0Ab", "encoded '\\n'"),
            ("https://a.com/pub//admin/x", "empty path segment"),
            ("https://a.com//pub", "empty path segment"),
            ("https://a.com/pub/%ff", "not UTF-8"),
            ("https://a.com/pub/..;/admin", "`.` or `..`"),
            ("https://a.com/pub/.;x/admin", "`.` or `..`"),
        ] {
            let r = invalid(raw);
            assert!(r.contains(why), "{raw}: {r}");
        }
    }

    #[test]
    fn what_is_sent_is_re_encoded_from_what_was_judged() {
        let (url, path) = web_of("https://a.com/files/my%20doc%3B1/%C3%A9t%C3%A9?q=%2F#f");
        assert_eq!(path, "/files/my doc;1/été");
        assert_eq!(
            url,
            "https://a.com/files/my%20doc%3B1/%C3%A9t%C3%A9?q=%2F#f"
        );
        let (url, path) = web_of("https://a.com/a;b/");
        assert_eq!(
            (url.as_str(), path.as_str()),
            ("https://a.com/a%3Bb/", "/a;b/")
        );
        // Canonical forms are fixed points: judging the sent URL again gives
        // the same URL and path.
        for raw in [
            "https://a.com/files/my%20doc%3B1/%C3%A9t%C3%A9?q=1",
            "http://[::ffff:127.0.0.1]:8080/a/",
            "https://xn--bcher-kva.example/%7Euser/a+b,c=d",
            "https://bücher.example/~user",
            "mailto:a.b+c@example.com?subject=Hi%20there&body=line%0Aline",
            "tel:+1 (555) 010-9999",
        ] {
            let once = canonical(raw).unwrap();
            let twice = canonical(once.url.as_str()).unwrap();
            assert_eq!(
                (once.url.as_str(), &once.path),
                (twice.url.as_str(), &twice.path),
                "{raw}"
            );
        }
    }

    #[test]
    fn hosts_have_one_form() {
        for (raw, host) in [
            ("http://LOCALHOST./", Host::Name("localhost".into())),
            (
                "http://[::ffff:127.0.0.1]/",
                Host::Ip("127.0.0.1".parse().unwrap()),
            ),
            (
                "http://[::ffff:7f00:1]/",
                Host::Ip("127.0.0.1".parse().unwrap()),
            ),
            ("http://0x7f.1/", Host::Ip("127.0.0.1".parse().unwrap())),
            ("http://2130706433/", Host::Ip("127.0.0.1".parse().unwrap())),
            (
                "http://017700000001/",
                Host::Ip("127.0.0.1".parse().unwrap()),
            ),
            (
                "http://[0:0:0:0:0:0:0:1]/",
                Host::Ip("::1".parse().unwrap()),
            ),
            (
                "http://bücher.example/",
                Host::Name("xn--bcher-kva.example".into()),
            ),
        ] {
            let c = canonical(raw).unwrap();
            assert_eq!(c.host, Some(host), "{raw}");
        }
        let c = canonical("http://[::ffff:127.0.0.1]:8080/x").unwrap();
        assert_eq!(c.url.as_str(), "http://127.0.0.1:8080/x");
        assert!(invalid("http://a..b/").contains("empty label"));
        assert!(invalid("https://u:p@a.com/").contains("credentials"));
    }

    #[test]
    fn mailto_carries_one_address_a_subject_and_a_body() {
        let c = canonical("mailto:Someone@Example.com?SUBJECT=Hi&body=x%20y").unwrap();
        assert_eq!(c.path, "Someone@Example.com");
        assert_eq!(
            c.url.as_str(),
            "mailto:Someone@Example.com?subject=Hi&body=x%20y"
        );
        for raw in [
            "mailto:a@b.c?attach=/home/u/.ssh/id_rsa",
            "mailto:a@b.c?bcc=evil@x.y",
            "mailto:a@b.c?cc=evil@x.y",
            "mailto:a@b.c?to=evil@x.y",
            "mailto:a@b.c?Attach=%2Fetc%2Fpasswd",
            "mailto:a@b.c?attachment=x",
            "mailto:a@b.c?subject=a&subject=b",
            "mailto:evil@x.y,a@b.c",
            "mailto:evil@x.y%2Ca@b.c",
            "mailto:a@b.c;evil@x.y",
            "mailto:A%20B%20<a@b.c>",
            "mailto:?to=a@b.c",
            "mailto:a@b.c?subject=x%0D%0ABcc:%20evil@x.y",
        ] {
            match canonical(raw) {
                Err(CanonError::Denied(_)) | Err(CanonError::Invalid(_)) => {}
                other => panic!("{raw}: {other:?}"),
            }
        }
        assert!(denied("mailto:a@b.c?attach=x").contains("`attach` is refused"));
    }

    #[test]
    fn tel_carries_a_number() {
        let c = canonical("tel:+1 (555) 010-9999").unwrap();
        assert_eq!(
            (c.url.as_str(), c.path.as_str()),
            ("tel:+15550109999", "+15550109999")
        );
        for raw in [
            "tel:+1555;ext=1",
            "tel:*21*123#",
            "tel:+1555?x=y",
            "tel:",
            "tel:abc",
        ] {
            assert!(denied(raw).starts_with("tel:"), "{raw}");
        }
    }

    #[test]
    fn other_schemes_are_never_passed() {
        for raw in [
            "file:///etc/passwd",
            "smb://h/s",
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://a/",
        ] {
            assert!(denied(raw).contains("never passed"), "{raw}");
        }
    }
}
