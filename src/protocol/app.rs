//! `app://localhost/`: the app's embedded frontend.
//!
//! HTML files are prepared once at startup (`crate::csp`): inline scripts
//! hashed, nonce placeholders set, external scripts checked for `integrity`.
//! Each HTML response then gets a fresh nonce in its body and its
//! `Content-Security-Policy` header. A path with no file extension that
//! names no file is a client-side route and gets `index.html`.

use std::borrow::Cow;
use std::collections::HashMap;

use http::{Request, Response};
use include_dir::{Dir, DirEntry};

use super::{
    embedded_path, html_response, is_client_route, mime_for, not_found, ok, Mounts, Scheme,
};
use crate::csp::{Csp, Document};
use crate::error::Error;

/// Serves the embedded frontend. Read-only, memory-only: nothing on disk is
/// reachable through this scheme.
pub(crate) struct AppProtocol {
    /// Directories by URL path prefix (`""` is the app's frontend).
    mounts: Mounts,
    documents: HashMap<String, Document>,
    /// Debug builds: the frontend read from disk (`MOAT_FRONTEND_DIR`)
    /// in place of the `""` mount.
    #[cfg(debug_assertions)]
    disk: Option<super::dev::DiskFrontend>,
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
                let doc =
                    csp.prepare(Cow::Borrowed(f.contents()))
                        .map_err(|error| Error::Html {
                            file: path.clone(),
                            message: error.to_string(),
                        })?;
                documents.insert(path, doc);
            }
        }
        Ok(Self {
            mounts,
            documents,
            #[cfg(debug_assertions)]
            disk: None,
        })
    }

    /// Serves the app's own frontend from `disk` instead of the embedded
    /// copy (other mounts stay embedded).
    #[cfg(debug_assertions)]
    pub(crate) fn with_disk(mut self, disk: super::dev::DiskFrontend) -> Self {
        self.disk = Some(disk);
        self
    }

    /// The external scripts' and stylesheets' URLs of every document.
    pub(crate) fn external_urls(&self) -> impl Iterator<Item = &str> {
        self.documents.values().flat_map(|d| d.external_urls())
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
        #[cfg(debug_assertions)]
        if let Some(disk) = &self.disk {
            if !self.mounts.below_root(&path) {
                return disk.respond(&path, req.uri().path());
            }
        }
        if let Some(doc) = self.documents.get(&path) {
            return html_response(doc);
        }
        match self.file(&path) {
            Some(file) => ok(Cow::Borrowed(file.contents()), &mime_for(&path), None),
            None if is_client_route(req.uri().path()) => match self.documents.get("index.html") {
                Some(doc) => html_response(doc),
                None => not_found(),
            },
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

    /// No request path, however spelled, puts a CR, LF or NUL into a
    /// response header or a second policy header.
    #[test]
    fn no_path_injects_a_header() {
        let app = AppProtocol::new(
            Mounts::default().with(("t/", &PAGES)),
            &Csp::new(None, true, false),
        )
        .unwrap();
        for p in [
            "/t/csp.html%0D%0AX-Injected:%201",
            "/t/csp.css%0d%0aContent-Security-Policy:%20script-src%20*",
            "/t/csp.html?%0D%0AX-Injected:%201",
            "/t/x.js%00.html",
            "/settings%0D%0AX-Injected:%201",
        ] {
            let res = app.respond(
                &Request::builder()
                    .uri(format!("app://localhost{p}"))
                    .body(Vec::new())
                    .unwrap(),
            );
            for (name, value) in res.headers() {
                assert!(
                    !value
                        .as_bytes()
                        .iter()
                        .any(|b| matches!(b, b'\r' | b'\n' | 0)),
                    "{p}: {name}: {value:?}"
                );
                assert_ne!(name, "x-injected", "{p}");
            }
            assert!(
                res.headers()
                    .get_all("content-security-policy")
                    .iter()
                    .count()
                    <= 1,
                "{p}"
            );
        }
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

    #[test]
    fn client_routes_get_index_html_and_missing_files_stay_404() {
        static DEMO: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo-frontend");
        let app = AppProtocol::new(
            Mounts::default().with(("", &DEMO)),
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
        for route in ["/settings/profile", "/users/42/", "/about"] {
            let res = get(route);
            assert_eq!(res.status(), 200, "{route}");
            assert!(
                res.headers().contains_key("content-security-policy"),
                "{route}"
            );
            assert!(String::from_utf8_lossy(res.body()).contains("<title>Moat demo</title>"));
        }
        for missing in [
            "/logo.png",
            "/assets/chunk-abc.js",
            "/a/b.css",
            "/..",
            "/.hidden",
        ] {
            assert_eq!(get(missing).status(), 404, "{missing}");
        }
        assert!(!is_client_route("/"));
    }
}
