//! `app://localhost/`: the app's embedded frontend.

use std::borrow::Cow;

use http::{Request, Response};
use include_dir::Dir;

use super::{embedded_path, mime_for, not_found, ok};

/// Serves the embedded frontend. Read-only, memory-only: nothing on disk is
/// reachable through this scheme.
pub(crate) struct AppProtocol {
    pub(crate) frontend: &'static Dir<'static>,
    pub(crate) csp: String,
}

impl AppProtocol {
    pub(crate) fn respond(&self, req: &Request<Vec<u8>>) -> Response<Cow<'static, [u8]>> {
        let Some(path) = embedded_path(req.uri().path()) else {
            return not_found();
        };
        match self.frontend.get_file(&path) {
            Some(file) => {
                let mime = mime_for(&path);
                let csp = mime.starts_with("text/html").then_some(self.csp.as_str());
                ok(Cow::Borrowed(file.contents()), &mime, csp)
            }
            None => not_found(),
        }
    }
}
