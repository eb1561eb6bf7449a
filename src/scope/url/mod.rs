//! URL scopes (`scope.http`, `scope.open`).
//!
//! A pattern is `scheme://host[:port]/path-glob` (or `mailto:glob`,
//! `tel:glob` for `open`). The page's URL is brought to its canonical form
//! first ([`canonical`]), judged in that form, and that form is what is
//! sent or opened. Parts are compared one by one, never as a string, so
//! `https://app.example.com@evil.com/` and `https://app.example.com.evil.com/`
//! are not `app.example.com`. Host: exact (a name or an IP literal),
//! `*.example.com` (subdomains only), or `*`. Port: the scheme's default
//! unless given; `*` for any. Path: a glob over the decoded path, where `*`
//! stays within a segment; written decoded in the pattern. Query and
//! fragment are not matched. Deny wins over allow, and a deny pattern
//! matches case-insensitively and covers its directory (`/admin/**` also
//! denies `/admin` and `/ADMIN/x`), since many servers do not tell those
//! apart.
//!
//! **Addresses.** Whatever the patterns say, a URL whose host reaches this
//! machine, a private network, a link-local or a reserved address
//! ([`address::Reach`]) is refused unless an allow pattern names that
//! address itself (an IP literal, or `localhost` for the loopback), or,
//! for private addresses only, `scope.http.privateNetwork` is on. A deny
//! pattern naming an IP literal (or `localhost`) denies that address under
//! any name. `http.fetch` applies this to every address a name resolves to,
//! and connects only to those; `open` applies it to IP-literal and
//! `localhost` hosts (the system's browser resolves names itself).
//!
//! `open` never passes anything but `https`, `http`, `mailto` (one address,
//! a subject and a body) and `tel` (a number), whatever the scope says:
//! `file:`, `smb:`, `nfs:` and friends hand the system a local or network
//! resource to run.

pub(crate) mod address;
pub(crate) mod canonical;

use std::net::IpAddr;

use glob::{MatchOptions, Pattern};

use self::address::Reach;
use self::canonical::{canonical, unmap, CanonError, Canonical, Host as CanonHost};
use super::error::ScopeError;
use crate::config::{ConfigError, UrlScopeConfig};

const ALLOW_MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// Deny patterns: a server that is case-insensitive (or maps `/admin` to
/// `/admin/`) must not find a spelling the deny list missed.
const DENY_MATCH: MatchOptions = MatchOptions {
    case_sensitive: false,
    ..ALLOW_MATCH
};

/// Which module the scope is for; decides the schemes it can ever pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Http,
    Open,
    /// Where an untrusted view may navigate, and what ends it: `https:`
    /// only. WebKit connects, not Moat, so addresses are not checked.
    View,
}

impl Kind {
    fn schemes(self) -> &'static [&'static str] {
        match self {
            Kind::Http => &["https", "http"],
            Kind::Open => &["https", "http", "mailto", "tel"],
            Kind::View => &["https"],
        }
    }

    fn module(self) -> &'static str {
        match self {
            Kind::Http => "http",
            Kind::Open => "open",
            Kind::View => "view",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Any,
    /// `*.suffix`: any subdomain of `suffix`, not `suffix` itself.
    SubdomainOf(String),
    Exact(CanonHost),
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
    /// Names may resolve to private addresses (`scope.http.privateNetwork`).
    private_network: bool,
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
        if config.private_network && kind != Kind::Http {
            return Err(ConfigError {
                path: format!("{key}.privateNetwork"),
                message: "only scope.http takes it: the system's browser resolves names for open"
                    .into(),
            });
        }
        Ok(Self {
            kind,
            allow: list(&config.allow, "allow")?,
            deny: list(&config.deny, "deny")?,
            private_network: config.private_network,
        })
    }

    /// The canonical form of `raw`, if the scope allows it by name. For
    /// `open`, the address of an IP-literal or `localhost` host is checked
    /// too; `http.fetch` checks every resolved address with
    /// [`UrlScope::check_addresses`] before it connects.
    pub(crate) fn check(&self, raw: &str) -> Result<Canonical, ScopeError> {
        let module = self.kind.module();
        let c = canonical(raw).map_err(|e| match e {
            CanonError::Invalid(reason) => ScopeError::UrlInvalid {
                url: raw.to_owned(),
                reason,
            },
            CanonError::Denied(reason) => ScopeError::UrlPartDenied {
                module,
                url: raw.to_owned(),
                reason,
            },
        })?;
        if !self.kind.schemes().contains(&c.url.scheme()) || !self.allows(&c) {
            return Err(ScopeError::UrlDenied {
                module,
                url: raw.to_owned(),
            });
        }
        if self.kind == Kind::Open {
            let literal: &[IpAddr] = match &c.host {
                Some(CanonHost::Ip(ip)) => &[*ip],
                Some(CanonHost::Name(n)) if n == "localhost" => &[
                    IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                    IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
                ],
                _ => &[],
            };
            self.check_addresses(&c, literal)?;
        }
        Ok(c)
    }

    /// Whether a canonical URL is inside the scope by its parts.
    pub(crate) fn allows(&self, c: &Canonical) -> bool {
        !self.deny.iter().any(|p| p.matches(c, true))
            && self.allow.iter().any(|p| p.matches(c, false))
    }

    /// Every address `c`'s host reaches must be allowed (see the module
    /// docs): public, or named by an allow pattern that matches `c`, or
    /// private with `privateNetwork` on; and no deny pattern names it.
    pub(crate) fn check_addresses(
        &self,
        c: &Canonical,
        addrs: &[IpAddr],
    ) -> Result<(), ScopeError> {
        for &addr in addrs {
            let ip = unmap(addr);
            let reach = Reach::of(ip);
            let denied = self.deny.iter().any(|p| {
                p.names(ip, reach) && p.scheme_and_port(c) && p.path_matches(&c.path, true)
            });
            let allowed = !denied
                && (reach == Reach::Public
                    || (reach == Reach::Private && self.private_network)
                    || self
                        .allow
                        .iter()
                        .any(|p| p.names(ip, reach) && p.matches(c, false)));
            if !allowed {
                return Err(ScopeError::AddressDenied {
                    module: self.kind.module(),
                    url: c.url.to_string(),
                    addr: ip,
                    reach: reach.describe(),
                    denied,
                });
            }
        }
        Ok(())
    }
}

/// `host[:port]` of a pattern: a name, an IP literal, `*.suffix` or `*`;
/// the scheme's default port, a number, or `*`.
fn parse_authority(authority: &str) -> Result<(Host, Port), String> {
    if authority.contains('@') {
        return Err("must not contain credentials".into());
    }
    // A `:` after any `]` separates the port (`[::1]:80`, `a.com:80`).
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => (&authority[..i], Some(&authority[i + 1..])),
        _ => (authority, None),
    };
    let host = if host == "*" {
        Host::Any
    } else if let Some(suffix) = host.strip_prefix("*.") {
        match CanonHost::parse(suffix) {
            Ok(CanonHost::Name(s)) if s.contains('.') => Host::SubdomainOf(s),
            _ => return Err("has a bad host: `*.` needs a domain with a dot after it".into()),
        }
    } else {
        Host::Exact(
            CanonHost::parse(host)
                .map_err(|e| format!("{e}: use a name, an IP address, `*.example.com` or `*`"))?,
        )
    };
    let port = match port {
        None => Port::SchemeDefault,
        Some("*") => Port::Any,
        Some(p) => Port::Exact(p.parse().map_err(|_| format!("has a bad port `{p}`"))?),
    };
    Ok((host, port))
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
        let glob = |p: &str| {
            if p.contains('%') {
                return Err(
                    "has a `%` in its path: write the path decoded (a space as a space, é as é)"
                        .to_owned(),
                );
            }
            Pattern::new(p).map_err(|e| format!("has a bad path glob: {e}"))
        };
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
        Ok(Self {
            scheme,
            authority: Some(parse_authority(authority)?),
            path: glob(path)?,
        })
    }

    fn matches(&self, c: &Canonical, deny: bool) -> bool {
        let host_ok = match (&self.authority, &c.host) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some((host, _)), Some(h)) => match (host, h) {
                (Host::Any, _) => true,
                (Host::Exact(e), h) => e == h,
                (Host::SubdomainOf(s), CanonHost::Name(n)) => n
                    .strip_suffix(s.as_str())
                    .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
                (Host::SubdomainOf(_), CanonHost::Ip(_)) => false,
            },
        };
        host_ok && self.scheme_and_port(c) && self.path_matches(&c.path, deny)
    }

    /// The TCP port a connection this pattern allows goes to: `Some(port)`,
    /// or `None` when the pattern takes any port.
    pub(crate) fn tcp_port(&self) -> Option<u16> {
        let default = if self.scheme == "https" { 443 } else { 80 };
        match &self.authority {
            None => Some(default),
            Some((_, Port::Any)) => None,
            Some((_, Port::Exact(p))) => Some(*p),
            Some((_, Port::SchemeDefault)) => Some(default),
        }
    }

    fn scheme_and_port(&self, c: &Canonical) -> bool {
        if c.url.scheme() != self.scheme {
            return false;
        }
        match &self.authority {
            None | Some((_, Port::Any)) => true,
            Some((_, Port::Exact(p))) => c.url.port_or_known_default() == Some(*p),
            Some((_, Port::SchemeDefault)) => c.url.port().is_none(),
        }
    }

    fn path_matches(&self, path: &str, deny: bool) -> bool {
        if !deny {
            return self.path.matches_with(path, ALLOW_MATCH);
        }
        self.path.matches_with(path, DENY_MATCH)
            || (!path.ends_with('/') && self.path.matches_with(&format!("{path}/"), DENY_MATCH))
    }

    /// Whether this pattern's host names `ip` itself: the same IP literal,
    /// or `localhost` for a loopback address.
    fn names(&self, ip: IpAddr, reach: Reach) -> bool {
        match &self.authority {
            Some((Host::Exact(CanonHost::Ip(e)), _)) => *e == ip,
            Some((Host::Exact(CanonHost::Name(n)), _)) => {
                n == "localhost" && reach == Reach::Loopback
            }
            _ => false,
        }
    }

    /// A `*` host: the audit flags it.
    pub(crate) fn host_is_wildcard(&self) -> bool {
        matches!(&self.authority, Some((Host::Any, _)))
    }

    /// A `*` port: the audit flags it next to a local address.
    pub(crate) fn port_is_any(&self) -> bool {
        matches!(&self.authority, Some((_, Port::Any)))
    }

    /// What an IP-literal (or `localhost`) host reaches; `None` for names.
    pub(crate) fn host_reach(&self) -> Option<Reach> {
        match &self.authority {
            Some((Host::Exact(CanonHost::Ip(ip)), _)) => Some(Reach::of(*ip)),
            Some((Host::Exact(CanonHost::Name(n)), _)) if n == "localhost" => Some(Reach::Loopback),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(kind: Kind, allow: &[&str], deny: &[&str]) -> UrlScope {
        let cfg = UrlScopeConfig {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
            private_network: false,
        };
        UrlScope::compile("scope.http", &cfg, kind).unwrap()
    }

    fn denied(s: &UrlScope, u: &str) -> bool {
        matches!(
            s.check(u),
            Err(ScopeError::UrlDenied { .. }) | Err(ScopeError::AddressDenied { .. })
        )
    }

    fn addrs(s: &UrlScope, u: &str, ips: &[&str]) -> Result<(), ScopeError> {
        let c = s.check(u).unwrap_or_else(|e| panic!("{u}: {e:?}"));
        let ips: Vec<IpAddr> = ips.iter().map(|i| i.parse().unwrap()).collect();
        s.check_addresses(&c, &ips)
    }

    #[test]
    fn host_is_compared_as_a_host_not_as_a_prefix() {
        let s = scope(Kind::Http, &["https://app.example.com/**"], &[]);
        assert!(s.check("https://app.example.com/v1/x?q=1").is_ok());
        assert!(s.check("https://APP.example.com/v1").is_ok());
        assert!(s.check("https://app.example.com./v1").is_ok());
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
    fn deny_wins_in_every_spelling_of_the_path() {
        let s = scope(
            Kind::Http,
            &["https://a.com/pub/**"],
            &["https://a.com/pub/admin/**"],
        );
        assert!(s.check("https://a.com/pub/x").is_ok());
        for u in [
            "https://a.com/pub/admin/x",
            "https://a.com/pub/admin",
            "https://a.com/pub/admin/",
            "https://a.com/pub/%61dmin/x",
            "https://a.com/pub/ADMIN/x",
            "https://a.com/pub/Admin",
            "https://a.com/pub/x/../admin/x",
            "https://a.com/pub/x/%2E%2E/admin/x",
            "https://a.com/pub\\admin\\x",
        ] {
            assert!(denied(&s, u), "{u}");
        }
        for u in [
            "https://a.com/pub//admin/x",
            "https://a.com/pub/admin%2Fx",
            "https://a.com/pub/x/%252e%252e/admin",
            "https://a.com/pub/..;/pub/admin/x",
        ] {
            assert!(
                matches!(s.check(u), Err(ScopeError::UrlInvalid { .. })),
                "{u}"
            );
        }
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
            assert!(
                matches!(s.check(u), Err(ScopeError::UrlPartDenied { .. })),
                "{u}"
            );
        }
        let cfg = UrlScopeConfig {
            allow: vec!["file:///**".into()],
            ..Default::default()
        };
        let e = UrlScope::compile("scope.open", &cfg, Kind::Open).unwrap_err();
        assert_eq!(e.path, "scope.open.allow[0]");
        assert!(e.message.contains("only takes https, http, mailto, tel"));
    }

    #[test]
    fn mailto_globs_match_the_one_address() {
        let s = scope(Kind::Open, &["mailto:*@example.com"], &[]);
        assert!(s.check("mailto:a@example.com?subject=x").is_ok());
        for u in [
            "mailto:evil@attacker.net,a@example.com",
            "mailto:a@example.com?bcc=evil@attacker.net",
            "mailto:a@example.com?attach=/etc/passwd",
        ] {
            assert!(
                matches!(s.check(u), Err(ScopeError::UrlPartDenied { .. })),
                "{u}"
            );
        }
    }

    #[test]
    fn ports() {
        let s = scope(Kind::Http, &["http://127.0.0.1:*/**"], &[]);
        assert!(s.check("http://127.0.0.1:8080/x").is_ok());
        let s = scope(Kind::Http, &["http://localhost:8080/**"], &[]);
        assert!(s.check("http://localhost:8080/x").is_ok());
        assert!(denied(&s, "http://localhost:8081/x"));
    }

    #[test]
    fn an_any_host_scope_reaches_only_public_addresses() {
        let s = scope(Kind::Http, &["http://*:*/**"], &[]);
        assert!(addrs(&s, "http://example.com/", &["93.184.215.14"]).is_ok());
        for (u, ip) in [
            ("http://127.0.0.1:9/", "127.0.0.1"),
            ("http://127.0.0.2:9/", "127.0.0.2"),
            ("http://0.0.0.0:9/", "0.0.0.0"),
            ("http://[::1]:9/", "::1"),
            ("http://[::ffff:127.0.0.1]:9/", "127.0.0.1"),
            ("http://localhost:9/", "127.0.0.1"),
            ("http://localhost.:9/", "::1"),
            ("http://rebind.example:9/", "10.0.0.1"),
            ("http://metadata.example/", "169.254.169.254"),
            ("http://either.example/", "::ffff:192.168.1.1"),
        ] {
            match addrs(&s, u, &[ip]) {
                Err(ScopeError::AddressDenied { .. }) => {}
                other => panic!("{u} via {ip}: {other:?}"),
            }
        }
        // A name with one public and one loopback address is refused whole.
        assert!(addrs(&s, "http://two.example/", &["93.184.215.14", "127.0.0.1"]).is_err());
    }

    #[test]
    fn a_local_address_needs_a_pattern_that_names_it() {
        let s = scope(
            Kind::Http,
            &[
                "http://127.0.0.1:*/ok/**",
                "http://localhost:*/ok/**",
                "https://*.example.com/**",
            ],
            &[],
        );
        assert!(addrs(&s, "http://127.0.0.1:8080/ok/x", &["127.0.0.1"]).is_ok());
        assert!(addrs(&s, "http://localhost:8080/ok/x", &["127.0.0.1", "::1"]).is_ok());
        // The names in an allowed domain do not get to point home.
        assert!(addrs(&s, "https://a.example.com/", &["127.0.0.1"]).is_err());
        assert!(addrs(&s, "https://a.example.com/", &["192.168.0.1"]).is_err());
        let cfg = UrlScopeConfig {
            allow: vec!["https://*.example.com/**".into()],
            deny: vec![],
            private_network: true,
        };
        let s = UrlScope::compile("scope.http", &cfg, Kind::Http).unwrap();
        assert!(addrs(&s, "https://a.example.com/", &["192.168.0.1"]).is_ok());
        assert!(addrs(&s, "https://a.example.com/", &["127.0.0.1"]).is_err());
        assert!(addrs(&s, "https://a.example.com/", &["169.254.169.254"]).is_err());
    }

    #[test]
    fn a_denied_address_is_denied_under_any_name() {
        let s = scope(
            Kind::Http,
            &["http://*:*/**", "http://10.1.1.1:*/**"],
            &["http://10.1.1.1:*/**"],
        );
        assert!(denied(&s, "http://10.1.1.1:80/x"));
        match addrs(&s, "http://intranet.example/x", &["10.1.1.1"]) {
            Err(ScopeError::AddressDenied { denied: true, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn open_checks_literal_hosts() {
        let s = scope(Kind::Open, &["http://*/**", "http://127.0.0.1:631/**"], &[]);
        assert!(s.check("http://example.com/").is_ok());
        assert!(s.check("http://127.0.0.1:631/admin").is_ok());
        for u in [
            "http://127.0.0.1/",
            "http://localhost/",
            "http://[::ffff:7f00:1]/",
            "http://192.168.0.1/",
            "http://169.254.169.254/",
        ] {
            assert!(
                matches!(s.check(u), Err(ScopeError::AddressDenied { .. })),
                "{u}"
            );
        }
        let cfg = UrlScopeConfig {
            private_network: true,
            ..Default::default()
        };
        let e = UrlScope::compile("scope.open", &cfg, Kind::Open).unwrap_err();
        assert_eq!(e.path, "scope.open.privateNetwork");
    }

    #[test]
    fn patterns_are_written_decoded() {
        let cfg = UrlScopeConfig {
            allow: vec!["https://a.com/my%20files/**".into()],
            ..Default::default()
        };
        let e = UrlScope::compile("scope.http", &cfg, Kind::Http).unwrap_err();
        assert!(
            e.message.contains("write the path decoded"),
            "{}",
            e.message
        );
        let s = scope(Kind::Http, &["https://a.com/my files/**"], &[]);
        assert!(s.check("https://a.com/my%20files/x").is_ok());
    }
}
