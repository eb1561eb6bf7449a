//! Content-Security-Policy for the documents Moat serves.
//!
//! The main document's default is strict: scripts and styles only from the
//! app's own origin (plus the hashes of its inline scripts, and for styles a
//! per-response nonce), no `'unsafe-inline'`, no `eval`, no plugins, no
//! `<base>`, no form posts, nothing framed but the isolation document,
//! nothing fetched but the IPC endpoint. An app's own policy (config `csp`)
//! is completed the same way: Moat adds what the isolation pattern needs,
//! the hashes, the exact URLs of the HTML's external scripts and the style
//! nonce, and sets `object-src`, `base-uri` and `form-action` to `'none'`
//! where the app left them out. Inline `style=` attributes and `on…=`
//! handlers stay blocked.
//!
//! No value page script can read authorizes a script. The nonce must be
//! readable (CSS-in-JS libraries put it on the `<style>` elements they
//! make), so it is a source of `style-src` only: with it in `script-src`,
//! any page script could load a nonced `<script src>`, `<link
//! rel=preload as=script>` or `import()` from any host. Scripts are the
//! app's own files (`'self'`), its inline scripts by hash, and its
//! external scripts by exact URL (with `integrity`). Below the policy, the
//! webview's content filter loads nothing from a host the config does not
//! name ([`network`]), so a nonced stylesheet from elsewhere, or an app's
//! own policy mistake, still reaches no network.
//!
//! WebKit enforces a CSP sent as a response header by a custom-protocol
//! handler (`docs/webkitgtk.md`).

pub(crate) mod html;
pub(crate) mod network;
pub(crate) mod policy;

use base64::Engine as _;
use rand::RngCore;

use html::{HtmlError, PreparedHtml};
use policy::Policy;

/// The main document's policy when the app sets none. `data:` fonts are
/// allowed: bundlers inline small fonts as `data:` URLs in the app's own
/// CSS, a font runs no script, and page script can load a font from bytes
/// with the `FontFace` API whatever `font-src` says, so refusing them
/// protects nothing.
pub(crate) const DEFAULT_APP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self' data:; connect-src ipc://localhost; frame-src isolation://localhost; \
object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A fresh CSP nonce: 128 bits from the OS RNG, base64. New for every
/// response, so a nonce read from one page load is worthless in the next.
pub(crate) fn fresh_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Builds the served form of each HTML file, once, at startup.
#[derive(Clone)]
pub(crate) struct Csp {
    base: Policy,
    /// `false` when the app turned automatic modification off
    /// (`dangerous.disableCspModification`): HTML and policy go out as given.
    modify: bool,
    placeholder: String,
}

/// One HTML file, ready to serve.
pub(crate) enum Document {
    Prepared {
        body: PreparedHtml,
        header: Vec<String>,
    },
    AsIs {
        body: std::borrow::Cow<'static, [u8]>,
        header: String,
    },
}

impl Document {
    /// The URLs of the external scripts and stylesheets it loads.
    pub(crate) fn external_urls(&self) -> impl Iterator<Item = &str> {
        let (scripts, styles): (&[String], &[String]) = match self {
            Document::Prepared { body, .. } => (&body.external_scripts, &body.external_styles),
            Document::AsIs { .. } => (&[], &[]),
        };
        scripts.iter().chain(styles).map(String::as_str)
    }

    /// Body and `Content-Security-Policy` value for one response.
    pub(crate) fn render(&self) -> (std::borrow::Cow<'static, [u8]>, String) {
        match self {
            Document::Prepared { body, header } => {
                let nonce = fresh_nonce();
                (body.with_nonce(&nonce).into(), header.join(&nonce))
            }
            Document::AsIs { body, header } => (body.clone(), header.clone()),
        }
    }
}

impl Csp {
    /// The app's policy before any document's hashes and nonce: what the
    /// content filter reads the declared hosts from.
    pub(crate) fn base(&self) -> &Policy {
        &self.base
    }

    /// `asset`: the `asset:` protocol is on, so images, media and `fetch`
    /// may load from it.
    pub(crate) fn new(app_policy: Option<&str>, modify: bool, asset: bool) -> Self {
        let mut base = Policy::parse(app_policy.unwrap_or(DEFAULT_APP_POLICY));
        if modify && asset {
            base.add_source("img-src", crate::origin::ASSET_ORIGIN);
            base.add_source("media-src", crate::origin::ASSET_ORIGIN);
            base.add_source("connect-src", crate::origin::ASSET_ORIGIN);
        }
        if modify {
            base.add_source("frame-src", crate::origin::ISOLATION_ORIGIN);
            base.add_source("connect-src", crate::origin::IPC_ORIGIN);
            base.default_directive("object-src", &["'none'"]);
            base.default_directive("base-uri", &["'none'"]);
            base.default_directive("form-action", &["'none'"]);
        }
        let mut raw = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let placeholder = format!(
            "moatnonce{}",
            raw.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        Self {
            base,
            modify,
            placeholder,
        }
    }

    pub(crate) fn prepare(
        &self,
        html: std::borrow::Cow<'static, [u8]>,
    ) -> Result<Document, HtmlError> {
        if !self.modify {
            return Ok(Document::AsIs {
                body: html,
                header: self.base.render(),
            });
        }
        let text = std::str::from_utf8(&html).map_err(|e| HtmlError::Parse(e.to_string()))?;
        let body = html::prepare(text, &self.placeholder)?;
        let mut policy = self.base.clone();
        for source in body.script_hashes.iter().chain(&body.external_scripts) {
            policy.add_source("script-src", source);
        }
        // Styles only: page script reads the nonce (see the module docs).
        let nonce_source = format!("'nonce-{}'", self.placeholder);
        policy.add_source("style-src", &nonce_source);
        let header = policy
            .render()
            .split(self.placeholder.as_str())
            .map(str::to_owned)
            .collect();
        Ok(Document::Prepared { body, header })
    }
}

/// The isolation document's policy: its one inline script by hash, the
/// app's hooks by path, framed only by the app.
pub(crate) fn isolation_policy(script_hash: &str) -> String {
    format!(
        "default-src 'none'; script-src {script_hash} {origin}/hooks/; connect-src 'none'; \
object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors {app}",
        origin = crate::origin::ISOLATION_ORIGIN,
        app = crate::origin::APP_ORIGIN,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served(csp: &Csp, html: &'static str) -> (String, String) {
        let (body, header) = csp.prepare(html.as_bytes().into()).unwrap().render();
        (String::from_utf8(body.into_owned()).unwrap(), header)
    }

    #[test]
    fn default_policy_gets_hashes_and_a_style_nonce() {
        let csp = Csp::new(None, true, false);
        let (body, header) = served(&csp, "<script>go()</script><style>p{}</style>");
        let nonce = body
            .split("nonce=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        let policy = Policy::parse(&header);
        let nonce_source = format!("'nonce-{nonce}'");
        assert!(
            policy.get("style-src").unwrap().contains(&nonce_source),
            "{header}"
        );
        assert!(policy
            .get("script-src")
            .unwrap()
            .contains(&html::sha256_source("go()")));
        assert!(!header.contains("unsafe"), "{header}");
        assert!(header.contains("object-src 'none'") && header.contains("base-uri 'none'"));
    }

    #[test]
    fn no_readable_value_authorizes_a_script() {
        // The default policy and an app's own one that lists script-src.
        for app in [None, Some("default-src 'self'; script-src 'self'")] {
            let csp = Csp::new(app, true, false);
            let (_, header) = served(
                &csp,
                r#"<head></head><script>go()</script><script src="https://cdn.example/x.js" integrity="sha384-a"></script>"#,
            );
            let policy = Policy::parse(&header);
            let scripts = policy.get("script-src").unwrap();
            assert!(
                scripts.iter().all(|s| !s.starts_with("'nonce-")),
                "{header}"
            );
            // The external script by its exact URL, nothing wider.
            assert!(
                scripts.contains(&"https://cdn.example/x.js".to_owned()),
                "{header}"
            );
            assert!(
                !scripts.iter().any(|s| s == "https:" || s == "*"),
                "{header}"
            );
        }
    }

    #[test]
    fn each_response_has_a_new_nonce() {
        let csp = Csp::new(None, true, false);
        let doc = csp
            .prepare(b"<style>p{}</style>".as_slice().into())
            .unwrap();
        assert_ne!(doc.render().1, doc.render().1);
    }

    #[test]
    fn app_policy_is_completed_not_replaced() {
        let csp = Csp::new(
            Some("default-src 'self'; img-src https://img.example"),
            true,
            false,
        );
        let r = csp.base.render();
        assert!(
            r.starts_with("default-src 'self'; img-src https://img.example"),
            "{r}"
        );
        assert!(r.contains("frame-src 'self' isolation://localhost"), "{r}");
        assert!(r.contains("connect-src 'self' ipc://localhost"), "{r}");
        assert!(r.contains("form-action 'none'"), "{r}");
    }

    #[test]
    fn modification_off_serves_policy_and_html_as_given() {
        let csp = Csp::new(Some("default-src 'self'"), false, false);
        let (body, header) = served(&csp, "<script>go()</script>");
        assert_eq!(body, "<script>go()</script>");
        assert_eq!(header, "default-src 'self'");
    }

    #[test]
    fn isolation_policy_allows_only_its_script_and_the_app_as_ancestor() {
        let p = isolation_policy("'sha256-x'");
        assert!(p.contains("script-src 'sha256-x' isolation://localhost/hooks/;"));
        assert!(p.ends_with("frame-ancestors app://localhost"));
    }
}
