//! The frontend's HTML: inline handlers, unencrypted content, external
//! scripts with or without `integrity`, each with its file and line.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use lol_html::{element, rewrite_str, RewriteStrSettings};

use super::findings::{Findings, Severity};
use crate::csp::html::is_external;

/// Every `.html`/`.htm` file under `frontend`, in order.
pub(crate) fn frontend(f: &mut Findings, frontend: &Path) {
    let mut files = Vec::new();
    collect_html(frontend, &mut files);
    files.sort();
    for file in files {
        let rel = file
            .strip_prefix(frontend)
            .unwrap_or(&file)
            .display()
            .to_string();
        match std::fs::read_to_string(&file) {
            Ok(html) => audit_html(f, &rel, &html),
            Err(e) => f.at(Severity::High, "unreadable", rel, e.to_string()),
        }
    }
}

fn collect_html(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_html(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("html") || x.eq_ignore_ascii_case("htm"))
        {
            out.push(p);
        }
    }
}

type Found = Vec<(Severity, &'static str, String, String)>;

fn audit_html(f: &mut Findings, file: &str, html: &str) {
    let found: Rc<RefCell<Found>> = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&found);
    let line = |byte: usize| crate::source::line_of(html, byte);
    let result = rewrite_str(
        html,
        RewriteStrSettings::new().append_element_content_handler(element!("*", move |el| {
            let at = format!("{file}:{}", line(el.source_location().bytes().start));
            element_findings(el, &at, &mut sink.borrow_mut());
            Ok(())
        })),
    );
    if let Err(e) = result {
        f.at(Severity::High, "unparsable", file.to_owned(), e.to_string());
    }
    for (severity, code, place, message) in found.borrow_mut().drain(..) {
        f.at(severity, code, place, message);
    }
}

fn element_findings(el: &lol_html::html_content::Element<'_, '_>, at: &str, out: &mut Found) {
    let tag = el.tag_name().to_ascii_lowercase();
    for attr in el.attributes() {
        let (name, value) = (attr.name(), attr.value());
        let v = value.trim().to_ascii_lowercase();
        if name.starts_with("on") {
            out.push((Severity::Medium, "inline-handler", at.to_owned(), format!("<{tag} {name}=…> is an inline event handler: CSP blocks it; use addEventListener in a script file")));
        }
        if matches!(name.as_str(), "src" | "href" | "action" | "data")
            && (v.starts_with("http:") || v.starts_with("ws:"))
        {
            out.push((
                Severity::High,
                "insecure-content",
                at.to_owned(),
                format!("<{tag} {name}=\"{value}\"> loads unencrypted content"),
            ));
        }
    }
    let Some(src) = el
        .get_attribute("src")
        .filter(|s| tag == "script" && is_external(s))
    else {
        return;
    };
    if el.has_attribute("integrity") {
        out.push((
            Severity::Info,
            "external-script",
            at.to_owned(),
            format!("<script src=\"{src}\"> is checked against its integrity hash"),
        ));
    } else {
        out.push((
            Severity::High,
            "external-script-no-integrity",
            at.to_owned(),
            format!(
                "<script src=\"{src}\"> has no integrity attribute; Moat refuses to start with it"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(html: &str) -> Vec<super::super::Finding> {
        let mut f = Findings::new("moat.json");
        audit_html(&mut f, "x.html", html);
        f.into_sorted()
    }

    fn codes(html: &str) -> Vec<&'static str> {
        findings(html).iter().map(|f| f.code).collect()
    }

    #[test]
    fn html_findings() {
        assert_eq!(
            codes(r#"<script src="https://cdn.x/a.js"></script>"#),
            ["external-script-no-integrity"]
        );
        assert_eq!(
            codes(r#"<script src="https://cdn.x/a.js" integrity="sha384-x"></script>"#),
            ["external-script"]
        );
        assert_eq!(codes(r#"<img src="http://x/a.png">"#), ["insecure-content"]);
        assert_eq!(codes(r#"<button onclick="go()">"#), ["inline-handler"]);
        assert!(codes(r#"<script src="app.js"></script><img src="a.png">"#).is_empty());
    }

    #[test]
    fn findings_carry_the_line() {
        let mut f = Findings::new("moat.json");
        audit_html(&mut f, "p.html", "<p>\n\n<img src=\"http://x\">");
        assert_eq!(f.into_sorted()[0].place, "p.html:3");
    }
}
