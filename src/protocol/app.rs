//! `app://localhost/`: the app's embedded frontend.
//!
//! HTML files are prepared once at startup (`crate::csp`): inline scripts
//! hashed, nonce placeholders set, external scripts checked for `integrity`.
//! Each HTML response then gets a fresh nonce in its body and its
//! `Content-Security-Policy` header.

use std::borrow::Cow;
use std::collections::HashMap;

use http::{Request, Response};
use include_dir::{Dir, DirEntry};

use super::{embedded_path, mime_for, not_found, ok, Mounts, Scheme};
use crate::csp::{Csp, Document};
use crate::error::Error;

/// Serves the embedded frontend. Read-only, memory-only: nothing on disk is
/// reachable through this scheme.
pub(crate) struct AppProtocol {
    /// Directories by URL path prefix (`""` is the app's frontend).
    mounts: Mounts,
    documents: HashMap<String, Document>,
}

fn html_files(dir: &'static Dir<'static>, out: &mut Vec<&'static include_dir::File<'static>>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => html_files(d, out),
            DirEntry::File(f) => {
                if f.path()
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("html"))
                {
                    out.push(f);
                }
            }
        }
    }
}

impl AppProtocol {
    /// Prepares every HTML file, or says which one cannot be served.
    /// `mounts` maps URL path prefixes (ending in `/`, or `""`) to directories.
    pub(crate) fn new(mounts: Mounts, csp: &Csp) -> Result<Self, Error> {
        let mut documents = HashMap::new();
        for (prefix, dir) in mounts.dirs() {
            let mut files = Vec::new();
            html_files(dir, &mut files);
            for f in files {
                let path = format!("{prefix}{}", f.path().to_string_lossy().replace('\\', "/"));
                let doc = csp.prepare(f.contents()).map_err(|error| Error::Html {
                    file: path.clone(),
                    message: error.to_string(),
                })?;
                documents.insert(path, doc);
            }
        }
        Ok(Self { mounts, documents })
    }

    fn file(&self, path: &str) -> Option<&'static include_dir::File<'static>> {
        self.mounts.file(path)
    }
}

impl Scheme for AppProtocol {
    fn respond(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
        let Some(path) = embedded_path(req.uri().path()) else {
            return not_found();
        };
        if let Some(doc) = self.documents.get(&path) {
            let (body, policy) = doc.render();
            let mut res = ok(body, "text/html; charset=utf-8", Some(&policy));
            res.headers_mut().insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            );
            return res;
        }
        match self.file(&path) {
            Some(file) => ok(Cow::Borrowed(file.contents()), &mime_for(&path), None),
            None => not_found(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use include_dir::include_dir;

    static BAD: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/fixtures/bad-app/www");
    static PAGES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/tests/pages");

    #[test]
    fn external_script_without_integrity_stops_startup_with_file_and_line() {
        let Err(Error::Html { file, message }) = AppProtocol::new(
            Mounts::default().with(("", &BAD)),
            &Csp::new(None, true, false),
        ) else {
            panic!("accepted an external script without integrity");
        };
        assert_eq!(file, "index.html");
        assert!(
            message.starts_with("line 4: <script src=\"https://cdn.example/lib.js\">"),
            "{message}"
        );
    }

    #[test]
    fn html_gets_a_policy_and_no_store_other_files_get_nosniff() {
        let app = AppProtocol::new(
            Mounts::default().with(("t/", &PAGES)),
            &Csp::new(None, true, false),
        )
        .unwrap();
        let get = |p: &str| {
            app.respond(
                &Request::builder()
                    .uri(format!("app://localhost{p}"))
                    .body(Vec::new())
                    .unwrap(),
            )
        };
        let html = get("/t/csp.html");
        assert!(html.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("'nonce-"));
        assert_eq!(html.headers()["cache-control"], "no-store");
        let css = get("/t/csp.css");
        assert!(css.headers().get("content-security-policy").is_none());
        assert_eq!(css.headers()["x-content-type-options"], "nosniff");
        assert_eq!(get("/t/missing.html").status(), 404);
        assert_eq!(get("/csp.html").status(), 404);
    }
}
