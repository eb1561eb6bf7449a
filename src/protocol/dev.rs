//! The development loop: in a debug build, with `MOAT_FRONTEND_DIR` naming
//! a directory, `app://localhost/` serves the frontend from that directory
//! instead of the embedded copy. Every request reads the file again, and
//! every HTML file is prepared again with the same policy and checks as the
//! embedded copy, so a reload shows an edit without a rebuild. There is
//! still no server: the same scheme, the same paths, nothing listening.
//!
//! Release builds do not contain this module: they serve only what was
//! embedded at build time.
//!
//! Threat: a path from the page naming a file outside the directory, or a
//! hidden one inside it (`.env`, `.git/`). Paths are mapped as for the
//! embedded copy (no `..`, no hidden segments); then the file is opened
//! once, and what the kernel opened is judged: it must lie inside the
//! directory with no hidden segment on its real path (so a symlink to
//! `.env` or into `.git/` is refused like the name itself), be a regular
//! file with one link (a hard link's other names are unknowable, and may
//! be outside), and is read through that same descriptor, so nothing can
//! be swapped in between. Anything else is a 404.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use http::{Response, StatusCode};

use super::{html_response, is_client_route, mime_for, not_found, ok};
use crate::csp::Csp;
use crate::error::Error;

/// The environment variable that turns the loop on (debug builds only).
pub(crate) const ENV: &str = "MOAT_FRONTEND_DIR";

/// A frontend directory on disk.
pub(crate) struct DiskFrontend {
    root: PathBuf,
    csp: Csp,
}

impl DiskFrontend {
    /// Checks `dir` as startup checks the embedded frontend: it has an
    /// `index.html`, and every HTML file in it can be served under the
    /// policy.
    pub(crate) fn open(dir: &Path, csp: Csp) -> Result<Self, Error> {
        let bad = |message: String| Error::DevFrontend {
            dir: dir.display().to_string(),
            message,
        };
        let root = dir
            .canonicalize()
            .map_err(|e| bad(format!("cannot open it: {e}")))?;
        if !root.join("index.html").is_file() {
            return Err(bad("it has no index.html".into()));
        }
        let this = Self { root, csp };
        let mut html = Vec::new();
        html_files(&this.root, &this.root, &mut html);
        for rel in html {
            this.document(&rel).map_err(bad)?;
        }
        Ok(this)
    }

    /// The directory, resolved.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Answers `path` (already mapped by `embedded_path`); `raw` is the
    /// request's path, for the client-side route rule.
    pub(crate) fn respond(&self, path: &str, raw: &str) -> Response<Cow<'static, [u8]>> {
        if is_html(path) {
            return match self.document(path) {
                Ok(Some(res)) => res,
                Ok(None) => not_found(),
                Err(message) => error_page(&message),
            };
        }
        match self.read(path) {
            Some(bytes) => ok(Cow::Owned(bytes), &mime_for(path), None),
            None if is_client_route(raw) => match self.document("index.html") {
                Ok(Some(res)) => res,
                Ok(None) => not_found(),
                Err(message) => error_page(&message),
            },
            None => not_found(),
        }
    }

    /// The HTML file at `rel`, prepared now: `Ok(None)` when there is no
    /// such file, `Err` with the reason when it cannot be served.
    fn document(&self, rel: &str) -> Result<Option<Response<Cow<'static, [u8]>>>, String> {
        let Some(bytes) = self.read(rel) else {
            return Ok(None);
        };
        let doc = self
            .csp
            .prepare(Cow::Owned(bytes))
            .map_err(|e| format!("{rel}: {e}"))?;
        Ok(Some(html_response(&doc)))
    }

    /// The bytes of the file at `rel`, if what it opens is a regular file
    /// with one link whose real path lies inside the directory with no
    /// hidden segment; read through the descriptor that was judged.
    fn read(&self, rel: &str) -> Option<Vec<u8>> {
        use std::io::Read as _;
        use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
        // O_NONBLOCK: a FIFO planted in the directory must not block the
        // GTK thread on open; it is refused as not a regular file below.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(self.root.join(rel))
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.nlink() != 1 {
            return None;
        }
        let real = crate::scope::path_linux::fd_path(&file).ok()?;
        let inside = real.strip_prefix(&self.root).ok()?;
        let hidden = inside
            .components()
            .any(|c| c.as_os_str().as_encoded_bytes().starts_with(b"."));
        if hidden {
            return None;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes).ok()?;
        Some(bytes)
    }
}

fn is_html(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("html"))
}

/// Paths (relative, `/`-separated) of the HTML files under `dir`, skipping
/// hidden entries and `node_modules`.
fn html_files(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" {
            continue;
        }
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => html_files(root, &path, out),
            Ok(t) if t.is_file() && is_html(&name) => {
                if let Ok(rel) = path.strip_prefix(root) {
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
            _ => {}
        }
    }
}

/// An HTML file that cannot be served: the reason, for the developer, as
/// plain text (it is the app's own file, on the developer's machine).
fn error_page(message: &str) -> Response<Cow<'static, [u8]>> {
    tracing::warn!(%message, "frontend file refused ({ENV})");
    let mut res = ok(
        Cow::Owned(
            format!("Moat cannot serve this page under its policy:\n\n{message}\n").into_bytes(),
        ),
        "text/plain; charset=utf-8",
        Some("default-src 'none'"),
    );
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(d: &DiskFrontend, raw: &str) -> Response<Cow<'static, [u8]>> {
        let path = super::super::embedded_path(raw).unwrap_or_default();
        d.respond(&path, raw)
    }

    #[test]
    fn an_edit_shows_on_the_next_request_prepared_like_the_embedded_copy() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<head></head><p>one</p>").unwrap();
        let d = DiskFrontend::open(dir.path(), Csp::new(None, true, false)).unwrap();
        let body = |r: Response<Cow<'static, [u8]>>| {
            String::from_utf8(r.into_body().into_owned()).unwrap()
        };
        assert!(body(get(&d, "/")).contains("<p>one</p>"));
        std::fs::write(
            dir.path().join("index.html"),
            "<head></head><p>two</p><script>go()</script>",
        )
        .unwrap();
        let res = get(&d, "/");
        let policy = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            policy.contains(&crate::csp::html::sha256_source("go()")),
            "{policy}"
        );
        let text = body(res);
        assert!(
            text.contains("<p>two</p>") && text.contains(r#"property="csp-nonce""#),
            "{text}"
        );
        // A client-side route gets index.html; a missing file is a 404.
        assert!(body(get(&d, "/settings/profile")).contains("<p>two</p>"));
        assert_eq!(get(&d, "/missing.js").status(), 404);
    }

    #[test]
    fn a_page_that_cannot_be_served_is_an_error_page_and_a_startup_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>ok</p>").unwrap();
        let d = DiskFrontend::open(dir.path(), Csp::new(None, true, false)).unwrap();
        std::fs::write(
            dir.path().join("index.html"),
            r#"<script src="https://cdn.example/x.js"></script>"#,
        )
        .unwrap();
        let res = get(&d, "/");
        assert_eq!(res.status(), 500);
        assert!(String::from_utf8_lossy(res.body()).contains("without an integrity attribute"));
        let Err(Error::DevFrontend { message, .. }) =
            DiskFrontend::open(dir.path(), Csp::new(None, true, false))
        else {
            panic!("a bad page on disk passed the startup check");
        };
        assert!(message.starts_with("index.html: line 1"), "{message}");
        let empty = tempfile::tempdir().unwrap();
        assert!(DiskFrontend::open(empty.path(), Csp::new(None, true, false)).is_err());
    }

    #[test]
    fn nothing_outside_the_directory_is_served() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<p>ok</p>").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            dir.path().join("link.txt"),
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        let d = DiskFrontend::open(dir.path(), Csp::new(None, true, false)).unwrap();
        for raw in ["/link.txt", "/out/secret.txt", "/../secret.txt", "/.hidden"] {
            assert_eq!(get(&d, raw).status(), 404, "{raw}");
        }
    }

    #[test]
    fn hidden_files_and_hard_links_are_not_served_by_any_name() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("index.html"), "<p>ok</p>").unwrap();
        std::fs::write(root.join(".env"), "TOKEN=secret").unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "secret").unwrap();
        std::fs::create_dir(root.join("assets")).unwrap();
        std::fs::write(root.join("assets/app.js"), "ok()").unwrap();
        // Visible names for hidden files and folders.
        std::os::unix::fs::symlink(root.join(".env"), root.join("env.txt")).unwrap();
        std::os::unix::fs::symlink(".git", root.join("git")).unwrap();
        std::os::unix::fs::symlink("../.env", root.join("assets/env.js")).unwrap();
        // A hard link to a file outside, and one to a hidden file inside.
        std::fs::hard_link(outside.path().join("secret.txt"), root.join("linked.txt"))
            .unwrap_or_else(|e| panic!("hard link across temp dirs: {e}"));
        std::fs::hard_link(root.join(".env"), root.join("env-hard.txt")).unwrap();
        // A FIFO: refused without blocking.
        let fifo =
            std::ffi::CString::new(root.join("pipe.js").as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe_free_mkfifo(&fifo), 0);
        let d = DiskFrontend::open(root, Csp::new(None, true, false)).unwrap();
        for raw in [
            "/env.txt",
            "/assets/env.js",
            "/linked.txt",
            "/env-hard.txt",
            "/pipe.js",
        ] {
            assert_eq!(get(&d, raw).status(), 404, "{raw}");
        }
        // A path with no extension that names no file is a client-side
        // route: it gets index.html, never the file.
        let res = get(&d, "/git/config");
        let body = String::from_utf8_lossy(res.body()).into_owned();
        assert!(
            body.starts_with("<p>ok</p>") && !body.contains("secret"),
            "{body}"
        );
        assert_eq!(get(&d, "/assets/app.js").status(), 200);
    }

    /// `mkfifo(1)`, so the test needs no `unsafe`.
    fn unsafe_free_mkfifo(path: &std::ffi::CStr) -> i32 {
        std::process::Command::new("mkfifo")
            .arg(path.to_str().unwrap())
            .status()
            .map_or(-1, |s| if s.success() { 0 } else { 1 })
    }
}
