//! Preparing the app's HTML for its policy, once, at startup.
//!
//! Every inline `<script>` is hashed (SHA-256 of its exact text) so the
//! policy can allow it by hash; every `<style>` and `<link rel=stylesheet>`
//! gets a nonce attribute. Scripts never get one: the nonce is readable by
//! page script, and a nonce that authorized scripts would let any page
//! script load one from anywhere (`script-src` has no nonce; see
//! `crate::csp`). The nonce is a placeholder here, replaced by a fresh value
//! in each response, so serving costs one substitution and no parsing.
//! Parsing is lol_html's (an HTML5 tokenizer), so a `<script>` inside a
//! comment, an attribute value containing `>`, or an uppercase tag is read
//! as a browser reads it.
//!
//! The response's nonce is also published where libraries look for it, for
//! the styles they inject: `<meta property="csp-nonce" nonce="…">` first in
//! `<head>` (Vite's `html.cspNonce` convention; at the end of the document
//! when there is no `<head>` tag). Only in a `nonce` attribute, which WebKit
//! hides from CSS selectors and `getAttribute` once the element is in the
//! document (the `.nonce` property keeps it): a `content` attribute would
//! let an injected stylesheet read the nonce out with attribute selectors.
//!
//! External scripts (`http:`, `https:` or protocol-relative `src`) must carry
//! an `integrity` attribute; one without is a startup error naming the file
//! and line. Their URLs, and those of external stylesheets, are collected:
//! the policy names each script by its exact URL, and the webview's content
//! filter lets their hosts through (`crate::csp::network`).

use std::cell::RefCell;
use std::rc::Rc;

use base64::Engine as _;
use lol_html::html_content::ContentType;
use lol_html::{element, end, rewrite_str, text, RewriteStrSettings};
use sha2::{Digest, Sha256};

/// An HTML file ready to serve: split at the nonce placeholder.
#[derive(Debug, Clone)]
pub(crate) struct PreparedHtml {
    parts: Vec<String>,
    /// `'sha256-…'` sources for the inline scripts, in document order.
    pub(crate) script_hashes: Vec<String>,
    /// External scripts (with `integrity`), by their URL as the policy
    /// names them.
    pub(crate) external_scripts: Vec<String>,
    /// External stylesheets, by their URL.
    pub(crate) external_styles: Vec<String>,
}

impl PreparedHtml {
    /// The document with `nonce` in every nonce attribute.
    pub(crate) fn with_nonce(&self, nonce: &str) -> Vec<u8> {
        self.parts.join(nonce).into_bytes()
    }
}

/// Why an HTML file cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HtmlError {
    /// `<script src="https://…">` without `integrity`.
    ExternalScriptWithoutIntegrity {
        line: usize,
        src: String,
    },
    /// An external script or stylesheet whose URL a policy cannot name
    /// (not a URL, or with `;`, `,`, quotes or spaces in it).
    ExternalUrlUnnamable {
        line: usize,
        url: String,
    },
    Parse(String),
}

impl std::fmt::Display for HtmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HtmlError::ExternalScriptWithoutIntegrity { line, src } => write!(
                f,
                "line {line}: <script src=\"{src}\"> loads code from outside the app without an integrity attribute; add integrity=\"sha384-…\" or ship the file in the frontend"
            ),
            HtmlError::ExternalUrlUnnamable { line, url } => write!(
                f,
                "line {line}: \"{url}\" is not a URL a Content-Security-Policy can name (it must be absolute http(s) with no ';', ',', quote or space); ship the file in the frontend"
            ),
            HtmlError::Parse(e) => write!(f, "cannot parse: {e}"),
        }
    }
}

/// `src` points outside the app (needs `integrity`).
pub(crate) fn is_external(src: &str) -> bool {
    let s = src.trim_start().to_ascii_lowercase();
    s.starts_with("http:") || s.starts_with("https:") || s.starts_with("//")
}

/// `'sha256-<base64>'` of `text`.
pub(crate) fn sha256_source(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The absolute URL a policy names for the external `src`/`href` `raw`
/// (protocol-relative ones are `https:`), or why it cannot.
pub(crate) fn policy_url(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let absolute = if raw.starts_with("//") {
        format!("https:{raw}")
    } else {
        raw.to_owned()
    };
    let url = url::Url::parse(&absolute).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    let text = url.as_str().to_owned();
    let nameable = !text
        .bytes()
        .any(|b| matches!(b, b';' | b',' | b'\'' | b'"' | b' ') || b < 0x21);
    nameable.then_some(text)
}

/// What the handlers collect while rewriting.
#[derive(Default)]
struct Found {
    error: Option<HtmlError>,
    scripts: Vec<String>,
    styles: Vec<String>,
}

impl Found {
    fn fail(&mut self, e: HtmlError) {
        self.error.get_or_insert(e);
    }

    /// Records the external URL `raw` at `line` in `into` (scripts or
    /// styles), or fails when a policy cannot name it.
    fn external(&mut self, raw: String, line: usize, script: bool) {
        match policy_url(&raw) {
            Some(url) if script => self.scripts.push(url),
            Some(url) => self.styles.push(url),
            None => self.fail(HtmlError::ExternalUrlUnnamable { line, url: raw }),
        }
    }
}

/// A `<script>`: an external one must carry `integrity` (else the first
/// such error is kept) and is recorded; an inline one starts a new text in
/// `current`, which the text handler hashes.
fn on_script(
    el: &lol_html::html_content::Element<'_, '_>,
    html: &str,
    current: &RefCell<String>,
    found: &RefCell<Found>,
) -> lol_html::HandlerResult {
    match el.get_attribute("src") {
        Some(src) if is_external(&src) => {
            let line = crate::source::line_of(html, el.source_location().bytes().start);
            let mut found = found.borrow_mut();
            if el.has_attribute("integrity") {
                found.external(src, line, true);
            } else {
                found.fail(HtmlError::ExternalScriptWithoutIntegrity { line, src });
            }
        }
        Some(_) => {}
        None => current.borrow_mut().clear(),
    }
    Ok(())
}

/// An inline script's text, in as many chunks as the parser gives: its
/// hash once the text node ends.
fn on_script_text(
    t: &lol_html::html_content::TextChunk<'_>,
    current: &RefCell<String>,
    hashes: &RefCell<Vec<String>>,
) {
    current.borrow_mut().push_str(t.as_str());
    if t.last_in_text_node() {
        let text = std::mem::take(&mut *current.borrow_mut());
        hashes.borrow_mut().push(sha256_source(&text));
    }
}

/// A stylesheet `<link>` gets the nonce; an external one is listed.
fn on_link(
    el: &mut lol_html::html_content::Element<'_, '_>,
    html: &str,
    placeholder: &str,
    found: &RefCell<Found>,
) -> lol_html::HandlerResult {
    if is_stylesheet(el) {
        el.set_attribute("nonce", placeholder)?;
        if let Some(href) = el.get_attribute("href").filter(|h| is_external(h)) {
            let line = crate::source::line_of(html, el.source_location().bytes().start);
            found.borrow_mut().external(href, line, false);
        }
    }
    Ok(())
}

/// A `<link>` whose `rel` includes `stylesheet`.
fn is_stylesheet(el: &lol_html::html_content::Element<'_, '_>) -> bool {
    el.get_attribute("rel").is_some_and(|rel| {
        rel.split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("stylesheet"))
    })
}

/// The element that publishes the response's nonce to page script, in a
/// `nonce` attribute only (hidden from CSS once in the document).
fn nonce_meta(nonce: &str) -> String {
    format!(r#"<meta property="csp-nonce" nonce="{nonce}">"#)
}

/// Rewrites `html`, putting `placeholder` where each response's nonce goes.
/// `placeholder` must not otherwise occur in `html`; the caller makes it
/// random.
pub(crate) fn prepare(html: &str, placeholder: &str) -> Result<PreparedHtml, HtmlError> {
    let hashes = Rc::new(RefCell::new(Vec::new()));
    let current = Rc::new(RefCell::new(String::new()));
    let found: Rc<RefCell<Found>> = Rc::default();
    let (h, c, e) = (Rc::clone(&hashes), Rc::clone(&current), Rc::clone(&found));
    let f2 = Rc::clone(&found);
    let c2 = Rc::clone(&current);
    let meta = nonce_meta(placeholder);
    let published = Rc::new(RefCell::new(false));
    let (in_head, at_end) = (Rc::clone(&published), Rc::clone(&published));

    let out = rewrite_str(
        html,
        RewriteStrSettings::new()
            .append_element_content_handler(element!("head", |el| {
                if !in_head.replace(true) {
                    el.prepend(&meta, ContentType::Html);
                }
                Ok(())
            }))
            .append_document_content_handler(end!(|end| {
                if !at_end.replace(true) {
                    end.append(&meta, ContentType::Html);
                }
                Ok(())
            }))
            .append_element_content_handler(element!("script", move |el| {
                on_script(el, html, &c2, &e)
            }))
            .append_element_content_handler(text!("script", move |t| {
                on_script_text(t, &c, &h);
                Ok(())
            }))
            .append_element_content_handler(element!("style", |el| {
                el.set_attribute("nonce", placeholder)?;
                Ok(())
            }))
            .append_element_content_handler(element!("link[rel]", move |el| {
                on_link(el, html, placeholder, &f2)
            })),
    )
    .map_err(|e| HtmlError::Parse(e.to_string()))?;

    let found = std::mem::take(&mut *found.borrow_mut());
    if let Some(e) = found.error {
        return Err(e);
    }
    let script_hashes = std::mem::take(&mut *hashes.borrow_mut());
    Ok(PreparedHtml {
        parts: out.split(placeholder).map(str::to_owned).collect(),
        script_hashes,
        external_scripts: found.scripts,
        external_styles: found.styles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "PLACEHOLDER";

    /// The prepared document with nonce `N`, without the nonce meta (which
    /// `the_nonce_is_published_where_libraries_look` checks).
    fn prep(html: &str) -> (String, Vec<String>) {
        let p = prepare(html, P).unwrap();
        let out = String::from_utf8(p.with_nonce("N")).unwrap();
        (out.replace(&nonce_meta("N"), ""), p.script_hashes)
    }

    #[test]
    fn the_nonce_is_published_where_libraries_look() {
        let p = prepare(
            "<!doctype html><html><head><title>t</title></head><body></body></html>",
            P,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(p.with_nonce("N")).unwrap(),
            r#"<!doctype html><html><head><meta property="csp-nonce" nonce="N"><title>t</title></head><body></body></html>"#
        );
        // No <head> tag: at the end, once.
        let p = prepare("<p>x</p>", P).unwrap();
        assert_eq!(
            String::from_utf8(p.with_nonce("N")).unwrap(),
            format!("<p>x</p>{}", nonce_meta("N"))
        );
    }

    #[test]
    fn inline_script_is_hashed_exactly() {
        let (out, hashes) = prep("<p>hi</p><script>console.log(1)</script>");
        assert_eq!(hashes, vec![sha256_source("console.log(1)")]);
        assert_eq!(out, r#"<p>hi</p><script>console.log(1)</script>"#);
    }

    #[test]
    fn known_sha256_source() {
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            sha256_source("alert(1)"),
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }

    #[test]
    fn script_inside_a_comment_is_not_a_script() {
        let (out, hashes) = prep("<!-- <script>evil()</script> --><script>ok()</script>");
        assert_eq!(hashes, vec![sha256_source("ok()")]);
        assert!(out.starts_with("<!-- <script>evil()</script> -->"), "{out}");
    }

    #[test]
    fn attribute_with_a_gt_sign_does_not_end_the_tag() {
        let (out, hashes) = prep(r#"<div title="a > b"><script data-x="1>2">go()</script></div>"#);
        assert_eq!(hashes, vec![sha256_source("go()")]);
        assert!(
            out.contains(r#"<script data-x="1>2">go()</script>"#),
            "{out}"
        );
    }

    #[test]
    fn uppercase_tags_are_found() {
        let (out, hashes) = prep("<SCRIPT>up()</SCRIPT><STYLE>p{}</STYLE>");
        assert_eq!(hashes, vec![sha256_source("up()")]);
        assert!(out.contains(r#"<STYLE nonce="N">"#), "{out}");
    }

    #[test]
    fn module_scripts_are_hashed_too() {
        let (_, hashes) = prep(r#"<script type="module">import x from './x.js';</script>"#);
        assert_eq!(hashes, vec![sha256_source("import x from './x.js';")]);
    }

    #[test]
    fn styles_and_stylesheets_get_the_nonce_and_scripts_never() {
        let (out, hashes) = prep(
            r#"<link rel="Stylesheet" href="a.css"><link rel="icon" href="i.png"><style>p{}</style><script src="app.js"></script><script>x()</script>"#,
        );
        assert_eq!(hashes, vec![sha256_source("x()")]);
        assert_eq!(
            out,
            r#"<link rel="Stylesheet" href="a.css" nonce="N"><link rel="icon" href="i.png"><style nonce="N">p{}</style><script src="app.js"></script><script>x()</script>"#
        );
    }

    #[test]
    fn the_nonce_is_never_in_a_content_attribute() {
        let p = prepare("<head></head>", P).unwrap();
        let out = String::from_utf8(p.with_nonce("SECRET")).unwrap();
        assert_eq!(out.matches("SECRET").count(), 1, "{out}");
        assert!(
            out.contains(r#"nonce="SECRET""#) && !out.contains("content="),
            "{out}"
        );
    }

    #[test]
    fn external_scripts_and_stylesheets_are_collected_by_url() {
        let p = prepare(
            r#"<script src="https://cdn.example/x.js" integrity="sha384-a"></script><script src="//cdn2.example/y.js?v=1" integrity="sha384-b"></script><link rel=stylesheet href="https://fonts.example/f.css"><script src="local.js"></script>"#,
            P,
        )
        .unwrap();
        assert_eq!(
            p.external_scripts,
            ["https://cdn.example/x.js", "https://cdn2.example/y.js?v=1"]
        );
        assert_eq!(p.external_styles, ["https://fonts.example/f.css"]);
        // A URL a policy cannot name is refused at startup, with its line.
        for bad in [
            r#"<script src="https://cdn.example/a;b.js" integrity="x"></script>"#,
            r#"<script src="https://cdn.example/a'b.js" integrity="x"></script>"#,
            r#"<link rel=stylesheet href="https://cdn.example/a,b.css">"#,
        ] {
            assert!(
                matches!(
                    prepare(bad, P),
                    Err(HtmlError::ExternalUrlUnnamable { line: 1, .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn script_text_with_a_fake_end_tag_in_a_string_is_hashed_as_the_browser_sees_it() {
        // The browser ends the script at the first `</script`, string or not.
        let (_, hashes) = prep("<script>var s = '</script>';</script>");
        assert_eq!(hashes, vec![sha256_source("var s = '")]);
    }

    #[test]
    fn external_script_without_integrity_is_refused_with_its_line() {
        let e = prepare(
            "<html>\n<head>\n<script src=\"https://cdn.example/x.js\"></script>",
            P,
        )
        .unwrap_err();
        assert_eq!(
            e,
            HtmlError::ExternalScriptWithoutIntegrity {
                line: 3,
                src: "https://cdn.example/x.js".into()
            }
        );
        assert!(prepare(r#"<script src="//cdn.example/x.js"></script>"#, P).is_err());
    }

    #[test]
    fn external_script_with_integrity_is_served() {
        assert!(prepare(r#"<script src="https://cdn.example/x.js" integrity="sha384-abc" crossorigin="anonymous"></script>"#, P).is_ok());
    }

    #[test]
    fn fresh_nonce_per_render() {
        let p = prepare("<style>a{}</style>", P).unwrap();
        assert_ne!(p.with_nonce("one"), p.with_nonce("two"));
    }
}
