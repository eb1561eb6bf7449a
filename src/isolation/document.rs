//! The isolation document: the only page that ever holds the key.
//!
//! It is served at `isolation://localhost/` into `<iframe sandbox="allow-scripts">`,
//! so it runs on an opaque origin the main frame cannot script. The key rides
//! in a non-executable `application/json` block that `isolation.js` reads,
//! imports as a non-extractable `CryptoKey`, and removes from the DOM.
//! `isolation.js` itself is inline, allowed by its hash and nothing else.

use base64::Engine as _;
use serde::Serialize;
use zeroize::Zeroizing;

use super::key::KeyBytes;

/// What `isolation.js` is told at boot. Everything but the key is public.
#[derive(Serialize)]
struct Boot<'a> {
    key: Option<&'a str>,
    hooks: &'a [String],
    window: &'a str,
    #[serde(rename = "appOrigin")]
    app_origin: &'a str,
    #[serde(flatten)]
    limits: FrameLimits,
    /// Test-harness builds only: the frame answers `moat:probe` with what
    /// the key's object says about itself (extractable, usages), never its
    /// bytes, so a test can check the key as the frame really holds it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    probe: bool,
}

/// Sizes the frame's script must keep to (set by the core's transports).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FrameLimits {
    /// The largest envelope the frame posts straight to the core.
    pub(crate) inline_max: usize,
    /// The most envelopes it posts in one message.
    pub(crate) batch_max: usize,
}

/// Renders the document. With `key == None` (the key was already taken for
/// this page load) the frame still loads, and refuses every call with
/// `no_key`.
pub(crate) fn render(
    key: Option<&KeyBytes>,
    script: &str,
    hook_urls: &[String],
    window: &str,
    app_origin: &str,
    limits: FrameLimits,
) -> Zeroizing<Vec<u8>> {
    let key_b64 =
        key.map(|k| Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(k.as_bytes())));
    let boot = Boot {
        key: key_b64.as_deref().map(String::as_str),
        hooks: hook_urls,
        window,
        app_origin,
        limits,
        probe: cfg!(feature = "dangerous-test-harness"),
    };
    // serde_json escapes `<`? It does not; the values here are base64, URLs
    // checked at startup and fixed labels, none of which contain `<`.
    let boot_json = Zeroizing::new(serde_json::to_string(&boot).unwrap_or_else(|_| "{}".into()));
    let mut html = Zeroizing::new(Vec::with_capacity(256 + boot_json.len() + script.len()));
    html.extend_from_slice(
        b"<!doctype html><html><head><meta charset=\"utf-8\"><title>moat isolation</title>\
<script type=\"application/json\" id=\"moat-boot\">",
    );
    html.extend_from_slice(boot_json.as_bytes());
    html.extend_from_slice(b"</script><script type=\"module\">");
    html.extend_from_slice(script.as_bytes());
    html.extend_from_slice(b"</script></head><body></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: FrameLimits = FrameLimits {
        inline_max: 32768,
        batch_max: 64,
    };

    #[test]
    fn document_without_key_says_null() {
        let html = render(
            None,
            "/*js*/",
            &["isolation://localhost/hooks/a.js".into()],
            "main",
            "app://localhost",
            LIMITS,
        );
        let s = String::from_utf8(html.to_vec()).unwrap();
        assert!(s.contains(r#""key":null"#), "{s}");
        assert!(s.contains("hooks/a.js"));
    }

    #[test]
    fn document_carries_key_as_base64() {
        let key = KeyBytes::from_bytes([7; 32]);
        let html = render(Some(&key), "/*js*/", &[], "main", "app://localhost", LIMITS);
        let s = String::from_utf8(html.to_vec()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        assert!(s.contains(&b64));
    }
}
