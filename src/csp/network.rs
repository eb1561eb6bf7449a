//! What the webview may load over the network, enforced below CSP.
//!
//! Threat: the policy is one layer, and it can be mistaken or walked around:
//! an app's `csp` with `img-src *` or `connect-src https:`, a nonce that
//! page script read and put on a stylesheet from elsewhere, a directive
//! WebKit does not know. So the webview also gets a WebKit content filter
//! (a content-blocker rule list, compiled at startup) that blocks every
//! `http:`, `https:`, `ws:` and `wss:` load, in every frame and worker,
//! except to the origins the app declared:
//! - hosts named explicitly in its configured policy (`https://cdn.example`,
//!   `*.example.com`, with their port), in any directive; a scheme or `*`
//!   alone (`https:`, `*`) declares no host, and startup says so;
//! - the exact hosts of the external scripts and stylesheets in its HTML
//!   (scripts carry `integrity`; `crate::csp::html`).
//!
//! The app's own schemes (`app:`, `isolation:`, `ipc:`, `asset:`), `data:`
//! and `blob:` are not network and are not touched. `http.fetch` is Rust's,
//! judged by `scope.http`, and is not the webview's.

use super::policy::Policy;

/// One origin the webview may load from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Declared {
    /// `http`, `https`, `ws` or `wss`; `None`: `https` and `wss` (a
    /// policy source without a scheme).
    scheme: Option<String>,
    /// Lowercase; letters, digits, `.` and `-` only.
    host: String,
    /// `*.host`: any subdomain of `host` (not `host` itself).
    subdomains: bool,
    /// `None`: the scheme's default; `Some(None)`: any port.
    port: Option<Option<u16>>,
}

/// The origins the webview may load from, and the policy sources that
/// would allow more (which the filter does not).
#[derive(Debug, Default)]
pub(crate) struct Network {
    declared: Vec<Declared>,
    /// `(directive, source)` of sources that name no host: `*`, `https:`, …
    pub(crate) too_wide: Vec<(String, String)>,
}

const NETWORK_SCHEMES: [&str; 4] = ["http", "https", "ws", "wss"];

fn host_ok(h: &str) -> bool {
    !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

impl Network {
    /// Reads the hosts `policy` names. Keywords, hashes, nonces and the
    /// app's own schemes declare nothing; a source that would allow any
    /// host is recorded in [`Network::too_wide`].
    pub(crate) fn declare_policy(&mut self, policy: &Policy) {
        for (directive, sources) in policy.directives() {
            for source in sources {
                self.declare_source(directive, &source.to_ascii_lowercase());
            }
        }
        self.declared.sort();
        self.declared.dedup();
    }

    fn declare_source(&mut self, directive: &str, s: &str) {
        if s.starts_with('\'') {
            return;
        }
        let wide = || (directive.to_owned(), s.to_owned());
        if s == "*" {
            self.too_wide.push(wide());
            return;
        }
        let (scheme, rest) = match s.split_once("://") {
            Some((scheme, rest)) => (Some(scheme), rest),
            None if s.ends_with(':') => {
                // A scheme alone: `https:` is any host; `data:` is no network.
                if NETWORK_SCHEMES.contains(&s.trim_end_matches(':')) {
                    self.too_wide.push(wide());
                }
                return;
            }
            None => (None, s),
        };
        if scheme.is_some_and(|sc| !NETWORK_SCHEMES.contains(&sc)) {
            return; // the app's own schemes (app:, ipc:, …)
        }
        let authority = rest.split('/').next().unwrap_or("");
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, "*")) => (h, Some(None)),
            Some((h, p)) => match p.parse::<u16>() {
                Ok(p) => (h, Some(Some(p))),
                Err(_) => return,
            },
            None => (authority, None),
        };
        if host == "*" {
            self.too_wide.push(wide());
            return;
        }
        let (host, subdomains) = match host.strip_prefix("*.") {
            Some(h) => (h, true),
            None => (host, false),
        };
        if !host_ok(host) {
            return; // an IPv6 literal or a malformed host: nothing declared
        }
        self.declared.push(Declared {
            scheme: scheme.map(str::to_owned),
            host: host.to_owned(),
            subdomains,
            port,
        });
    }

    /// Declares the origin of `url`, an external script's or stylesheet's
    /// (already an absolute http(s) URL, `html::policy_url`).
    pub(crate) fn declare_url(&mut self, url: &str) {
        let Ok(u) = url::Url::parse(url) else { return };
        let Some(host) = u.host_str().filter(|h| host_ok(h)) else {
            return;
        };
        let d = Declared {
            scheme: Some(u.scheme().to_owned()),
            host: host.to_owned(),
            subdomains: false,
            port: u.port().map(Some),
        };
        if !self.declared.contains(&d) {
            self.declared.push(d);
        }
    }

    /// The content-blocker rule list (WebKit's JSON format): block every
    /// network load, then let each declared origin through. WebKit's URL
    /// filters are a small regex subset (no `|`): one rule per scheme.
    pub(crate) fn rules(&self) -> String {
        let mut rules = vec![rule(r"^https?://", "block"), rule(r"^wss?://", "block")];
        for d in &self.declared {
            let schemes: &[&str] = match d.scheme.as_deref() {
                Some(s) => &[s][..],
                None => &["https", "wss"],
            };
            let host = d.host.replace('.', r"\.");
            let host = if d.subdomains {
                format!(r"[a-z0-9.-]*\.{host}")
            } else {
                host
            };
            let port = match d.port {
                None => "/".to_owned(),
                Some(None) => "[:/]".to_owned(),
                Some(Some(p)) => format!(":{p}/"),
            };
            for scheme in schemes {
                rules.push(rule(
                    &format!("^{scheme}://{host}{port}"),
                    "ignore-previous-rules",
                ));
            }
        }
        format!("[{}]", rules.join(","))
    }

    /// The declared origins, as text for the log.
    pub(crate) fn describe(&self) -> Vec<String> {
        self.declared
            .iter()
            .map(|d| {
                format!(
                    "{}://{}{}{}",
                    d.scheme.as_deref().unwrap_or("https"),
                    if d.subdomains { "*." } else { "" },
                    d.host,
                    match d.port {
                        None => String::new(),
                        Some(None) => ":*".into(),
                        Some(Some(p)) => format!(":{p}"),
                    }
                )
            })
            .collect()
    }
}

/// The rule list of an untrusted view: no plain `http:` or `ws:` load, and
/// none of Moat's schemes (which its web context does not register
/// either). Its `https:` loads are the remote page's own business; where
/// it may navigate is the view's `navigate` list.
pub(crate) fn view_rules() -> String {
    let rules: Vec<String> = [
        r"^http:",
        r"^ws:",
        r"^app:",
        r"^asset:",
        r"^isolation:",
        r"^ipc:",
        r"^file:",
    ]
    .iter()
    .map(|f| rule(f, "block"))
    .collect();
    format!("[{}]", rules.join(","))
}

fn rule(url_filter: &str, action: &str) -> String {
    serde_json::json!({
        "trigger": { "url-filter": url_filter },
        "action": { "type": action },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(policy: &str) -> Network {
        let mut n = Network::default();
        n.declare_policy(&Policy::parse(policy));
        n
    }

    /// The rule list as (url-filter, action) pairs.
    fn rules(n: &Network) -> Vec<(String, String)> {
        let v: serde_json::Value = serde_json::from_str(&n.rules()).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["trigger"]["url-filter"].as_str().unwrap().to_owned(),
                    r["action"]["type"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// What the rules decide for `url`, as WebKit applies them: the last
    /// matching rule wins, `ignore-previous-rules` cancels the blocks
    /// before it.
    fn allowed(n: &Network, url: &str) -> bool {
        let mut blocked = false;
        for (filter, action) in rules(n) {
            let re = regex::Regex::new(&filter).unwrap();
            if re.is_match(url) {
                blocked = action == "block";
            }
        }
        !blocked
    }

    #[test]
    fn the_default_policy_declares_no_host_and_everything_networked_is_blocked() {
        let n = network(super::super::DEFAULT_APP_POLICY);
        assert!(n.declared.is_empty() && n.too_wide.is_empty());
        for url in [
            "https://evil.example/x.js",
            "http://127.0.0.1:8080/",
            "ws://localhost/",
            "wss://evil.example/socket",
            "HTTPS://EVIL.EXAMPLE/",
        ] {
            assert!(!allowed(&n, &url.to_ascii_lowercase()), "{url}");
        }
        for url in [
            "app://localhost/index.html",
            "ipc://localhost/1",
            "isolation://localhost/",
            "asset://localhost/a.png",
            "data:text/plain,x",
            "blob:app://localhost/1",
        ] {
            assert!(allowed(&n, url), "{url}");
        }
    }

    #[test]
    fn named_hosts_are_let_through_exactly() {
        let n = network(
            "default-src 'self'; img-src https://img.example *.cdn.example:443; connect-src wss://rt.example:8443 'self'; font-src fonts.example",
        );
        assert!(allowed(&n, "https://img.example/a.png"));
        assert!(!allowed(&n, "http://img.example/a.png"), "another scheme");
        assert!(
            !allowed(&n, "https://img.example:8443/a.png"),
            "another port"
        );
        assert!(!allowed(&n, "https://img.example.evil.example/a.png"));
        assert!(!allowed(&n, "https://evil.example/img.example/a.png"));
        assert!(allowed(&n, "https://a.cdn.example:443/x"));
        assert!(
            !allowed(&n, "https://cdn.example:443/x"),
            "*. is subdomains"
        );
        assert!(!allowed(&n, "https://evil.example/.cdn.example:443/x"));
        assert!(allowed(&n, "wss://rt.example:8443/socket"));
        assert!(!allowed(&n, "wss://rt.example/socket"));
        assert!(
            allowed(&n, "https://fonts.example/f.woff2"),
            "no scheme: https"
        );
        assert!(!allowed(&n, "http://fonts.example/f.woff2"));
    }

    #[test]
    fn sources_that_name_no_host_are_reported_and_declare_nothing() {
        let n = network("default-src *; img-src https: data:; connect-src http://*:* ws:");
        assert!(n.declared.is_empty(), "{:?}", n.declared);
        let wide: Vec<&str> = n.too_wide.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(wide, ["*", "https:", "http://*:*", "ws:"]);
        assert!(!allowed(&n, "https://anything.example/"));
    }

    #[test]
    fn external_files_of_the_html_declare_their_origin() {
        let mut n = Network::default();
        n.declare_url("https://cdn.example/lib.js");
        n.declare_url("http://127.0.0.1:8080/s.css");
        assert!(allowed(&n, "https://cdn.example/other.js"));
        assert!(allowed(&n, "http://127.0.0.1:8080/s.css"));
        assert!(!allowed(&n, "http://127.0.0.1:8081/s.css"));
        assert_eq!(
            n.describe(),
            ["https://cdn.example", "http://127.0.0.1:8080"]
        );
    }
}
