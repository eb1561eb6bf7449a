//! URL scopes (`scope.http`, `scope.open`).
//!
//! A pattern is `scheme://host[:port]/path-glob` (or `mailto:glob`,
//! `tel:glob` for `open`). The URL from the page is parsed by the WHATWG
//! parser (`url`) and compared part by part — never as a string, so
//! `https://app.example.com@evil.com/` and `https://app.example.com.evil.com/`
//! are not `app.example.com`. Host: exact, `*.example.com` (subdomains
//! only), or `*`. Port: the scheme's default unless given; `*` for any.
//! Path: a glob where `*` stays within a segment. Query and fragment are not
//! matched. Deny wins over allow.
//!
//! `open` never passes anything but `https`, `http`, `mailto` and `tel`,
//! whatever the scope says: `file:`, `smb:`, `nfs:` and friends hand the
//! system a local or network resource to run.

use glob::{MatchOptions, Pattern};

use super::error::ScopeError;
use crate::config::{ConfigError, UrlScopeConfig};

const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// Which module the scope is for; decides the schemes it can ever pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Http,
    Open,
}

impl Kind {
    fn schemes(self) -> &'static [&'static str] {
        match self {
            Kind::Http => &["https", "http"],
            Kind::Open => &["https", "http", "mailto", "tel"],
        }
    }

    fn module(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Open => "open",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Any,
    /// `*.suffix`: any subdomain of `suffix`, not `suffix` itself.
    SubdomainOf(String),
    Exact(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Port {
    Any,
    Exact(u16),
    SchemeDefault,
}

/// One compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct UrlPattern {
    pub(crate) scheme: String,
    /// `None` for `mailto:`/`tel:`.
    authority: Option<(Host, Port)>,
    path: Pattern,
}

/// A compiled allow/deny list of URL patterns.
#[derive(Debug, Clone)]
pub(crate) struct UrlScope {
    kind: Kind,
    pub(crate) allow: Vec<UrlPattern>,
    deny: Vec<UrlPattern>,
}

impl UrlScope {
    pub(crate) fn compile(
        key: &str,
        config: &UrlScopeConfig,
        kind: Kind,
    ) -> Result<Self, ConfigError> {
        let list = |items: &[String], field: &str| -> Result<Vec<UrlPattern>, ConfigError> {
            items
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    UrlPattern::parse(p, kind).map_err(|m| ConfigError {
                        path: format!("{key}.{field}[{i}]"),
                        message: format!("{p:?} {m}"),
                    })
                })
                .collect()
        };
        Ok(Self {
            kind,
            allow: list(&config.allow, "allow")?,
            deny: list(&config.deny, "deny")?,
        })
    }

    /// Parses `raw` and checks it against the scope.
    pub(crate) fn check(&self, raw: &str) -> Result<url::Url, ScopeError> {
        let invalid = |reason: &str| ScopeError::UrlInvalid {
            url: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(raw).map_err(|e| invalid(&format!("is not a URL: {e}")))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not contain credentials"));
        }
        if !self.allows(&url) {
            return Err(ScopeError::UrlDenied {
                module: self.kind.module(),
                url: raw.to_owned(),
            });
        }
        Ok(url)
    }

    /// Whether a parsed URL is inside the scope.
    pub(crate) fn allows(&self, url: &url::Url) -> bool {
        if !self.kind.schemes().contains(&url.scheme()) {
            return false;
        }
        let hit = |list: &[UrlPattern]| list.iter().any(|p| p.matches(url));
        !hit(&self.deny) && hit(&self.allow)
    }
}

impl UrlPattern {
    fn parse(text: &str, kind: Kind) -> Result<Self, String> {
        let (scheme, rest) = text
            .split_once(':')
            .ok_or("needs a scheme, e.g. https://example.com/**")?;
        let scheme = scheme.to_ascii_lowercase();
        if !kind.schemes().contains(&scheme.as_str()) {
            return Err(format!(
                "uses scheme `{scheme}:`; the {} scope only takes {}",
                kind.module(),
                kind.schemes().join(", ")
            ));
        }
        let glob = |p: &str| Pattern::new(p).map_err(|e| format!("has a bad path glob: {e}"));
        if matches!(scheme.as_str(), "mailto" | "tel") {
            return Ok(Self {
                scheme,
                authority: None,
                path: glob(rest)?,
            });
        }
        let rest = rest
            .strip_prefix("//")
            .ok_or("needs `//` after the scheme")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => return Err("needs a path, e.g. https://example.com/** for every path".into()),
        };
        if authority.contains('@') {
            return Err("must not contain credentials".into());
        }
        // A `:` after any `]` separates the port (`[::1]:80`, `a.com:80`).
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                (&authority[..i], Some(&authority[i + 1..]))
            }
            _ => (authority, None),
        };
        let host = host.to_ascii_lowercase();
        let host_ok = |h: &str| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
        };
        let host = if host == "*" {
            Host::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            if !host_ok(suffix) || !suffix.contains('.') {
                return Err("has a bad host: `*.` needs a domain with a dot after it".into());
            }
            Host::SubdomainOf(suffix.to_owned())
        } else if host_ok(&host) {
            Host::Exact(host)
        } else {
            return Err("has a bad host: use a name, `*.example.com` or `*`".into());
        };
        let port = match port {
            None => Port::SchemeDefault,
            Some("*") => Port::Any,
            Some(p) => Port::Exact(p.parse().map_err(|_| format!("has a bad port `{p}`"))?),
        };
        Ok(Self {
            scheme,
            authority: Some((host, port)),
            path: glob(path)?,
        })
    }

    fn matches(&self, url: &url::Url) -> bool {
        if url.scheme() != self.scheme {
            return false;
        }
        if let Some((host, port)) = &self.authority {
            let Some(h) = url.host_str() else {
                return false;
            };
            let host_ok = match host {
                Host::Any => true,
                Host::Exact(e) => h == e,
                Host::SubdomainOf(s) => h
                    .strip_suffix(s.as_str())
                    .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            };
            let port_ok = match port {
                Port::Any => true,
                Port::Exact(p) => url.port_or_known_default() == Some(*p),
                Port::SchemeDefault => url.port().is_none(),
            };
            if !host_ok || !port_ok {
                return false;
            }
        }
        self.path.matches_with(url.path(), MATCH)
    }

    /// A `*` host: the audit flags it.
    pub(crate) fn host_is_wildcard(&self) -> bool {
        matches!(&self.authority, Some((Host::Any, _)))
    }

    /// `localhost`, `127.0.0.1` or `[::1]`.
    pub(crate) fn host_is_loopback(&self) -> bool {
        matches!(&self.authority, Some((Host::Exact(h), _)) if matches!(h.as_str(), "localhost" | "127.0.0.1" | "[::1]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(kind: Kind, allow: &[&str], deny: &[&str]) -> UrlScope {
        let cfg = UrlScopeConfig {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
        };
        UrlScope::compile("scope.http", &cfg, kind).unwrap()
    }

    fn denied(s: &UrlScope, u: &str) -> bool {
        matches!(s.check(u), Err(ScopeError::UrlDenied { .. }))
    }

    #[test]
    fn host_is_compared_as_a_host_not_as_a_prefix() {
        let s = scope(Kind::Http, &["https://app.example.com/**"], &[]);
        assert!(s.check("https://app.example.com/v1/x?q=1").is_ok());
        assert!(s.check("https://APP.example.com/v1").is_ok());
        for u in [
            "https://app.example.com.evil.com/v1",
            "https://evil.com/app.example.com/",
            "http://app.example.com/v1",
            "https://app.example.com:8443/v1",
            "https://appXexample.com/",
        ] {
            assert!(denied(&s, u), "{u}");
        }
        // The host here is evil.com; "app.example.com" is a user name.
        assert!(matches!(
            s.check("https://app.example.com@evil.com/"),
            Err(ScopeError::UrlInvalid { .. })
        ));
        assert!(matches!(
            s.check("https://u:p@app.example.com/"),
            Err(ScopeError::UrlInvalid { .. })
        ));
    }

    #[test]
    fn subdomain_wildcard_needs_a_label() {
        let s = scope(Kind::Http, &["https://*.example.com/*"], &[]);
        assert!(s.check("https://a.example.com/x").is_ok());
        assert!(denied(&s, "https://example.com/x"));
        assert!(denied(&s, "https://aexample.com/x"));
    }

    #[test]
    fn path_star_stays_in_a_segment_and_dot_dot_is_resolved_first() {
        let s = scope(Kind::Http, &["https://a.com/api/*"], &[]);
        assert!(s.check("https://a.com/api/x").is_ok());
        assert!(denied(&s, "https://a.com/api/x/y"));
        assert!(denied(&s, "https://a.com/api/../admin"));
        assert!(denied(&s, "https://a.com/api/%2e%2e/admin"));
    }

    #[test]
    fn deny_wins() {
        let s = scope(
            Kind::Http,
            &["https://a.com/**"],
            &["https://a.com/admin/**"],
        );
        assert!(s.check("https://a.com/x").is_ok());
        assert!(denied(&s, "https://a.com/admin/x"));
    }

    #[test]
    fn open_never_passes_local_or_network_file_schemes() {
        let s = scope(Kind::Open, &["https://*/**", "mailto:*"], &[]);
        assert!(s.check("mailto:a@b.c").is_ok());
        for u in [
            "file:///etc/passwd",
            "smb://host/share",
            "nfs://host/x",
            "javascript:alert(1)",
        ] {
            assert!(denied(&s, u), "{u}");
        }
        let cfg = UrlScopeConfig {
            allow: vec!["file:///**".into()],
            deny: vec![],
        };
        let e = UrlScope::compile("scope.open", &cfg, Kind::Open).unwrap_err();
        assert_eq!(e.path, "scope.open.allow[0]");
        assert!(e.message.contains("only takes https, http, mailto, tel"));
    }

    #[test]
    fn ports() {
        let s = scope(Kind::Http, &["http://127.0.0.1:*/**"], &[]);
        assert!(s.check("http://127.0.0.1:8080/x").is_ok());
        let s = scope(Kind::Http, &["http://localhost:8080/**"], &[]);
        assert!(s.check("http://localhost:8080/x").is_ok());
        assert!(denied(&s, "http://localhost:8081/x"));
    }
}
