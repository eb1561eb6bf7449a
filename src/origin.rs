//! The app's origins, and the one place that decides "is this the app?".
//!
//! A leaf: every module that needs an origin or that check imports it from
//! here, and this module imports nothing of the crate. Threat: an origin
//! check written several times drifts (a look-alike host that one copy splits
//! at the first dot, a prefix match in another). So URLs are parsed and their
//! scheme and authority compared exactly, never as string prefixes:
//! `app://localhost.evil.com`, `app://localhost@evil` and `APP://LOCALHOST`
//! are not the app.
//!
//! ## Platform-specific
//! - **Linux (wry on WebKitGTK):** custom schemes have the origin
//!   `<scheme>://localhost`, and every custom scheme is registered as
//!   secure, so both documents are secure contexts. Another platform must
//!   re-check both facts (`docs/platforms.md`).

/// The origin of the app's pages (the main frame).
pub(crate) const APP_ORIGIN: &str = "app://localhost";
/// The app's first page.
pub(crate) const APP_URL: &str = "app://localhost/";
/// The isolation frame's origin, as its own `location` reads it (the frame
/// is sandboxed, so to others its origin is opaque: `"null"`).
pub(crate) const ISOLATION_ORIGIN: &str = "isolation://localhost";
/// The isolation document.
pub(crate) const ISOLATION_URL: &str = "isolation://localhost/";
/// Files inside `scope.asset`.
pub(crate) const ASSET_ORIGIN: &str = "asset://localhost";
/// The envelope endpoint for large calls.
pub(crate) const IPC_ORIGIN: &str = "ipc://localhost";
/// The same, as the bridge posts to it (`<IPC_URL><call id>`).
pub(crate) const IPC_URL: &str = "ipc://localhost/";

/// The scheme and authority of `url`, parsed; `None` when it has none.
fn scheme_and_host(url: &str) -> Option<(String, String)> {
    let uri = url.parse::<http::Uri>().ok()?;
    Some((
        uri.scheme_str()?.to_owned(),
        uri.authority()?.as_str().to_owned(),
    ))
}

/// Whether `url` is a page of the app: scheme `app`, authority exactly
/// `localhost`. The one "is this the app's page?" check.
pub(crate) fn is_app_page(url: &str) -> bool {
    scheme_and_host(url).is_some_and(|(s, a)| s == "app" && a == "localhost")
}

/// Whether an `Origin` header names the app, byte for byte.
pub(crate) fn is_app_origin(origin: &str) -> bool {
    origin == APP_ORIGIN
}

/// Whether a frame may navigate to `url`: the app's pages, the isolation
/// document (the navigation handler is asked for sub-frames too), and a
/// frame's initial `about:blank`. Everything else, other origins and
/// look-alikes included, is refused.
pub(crate) fn navigation_allowed(url: &str) -> bool {
    if url == "about:blank" {
        return true;
    }
    scheme_and_host(url)
        .is_some_and(|(s, a)| a == "localhost" && matches!(s.as_str(), "app" | "isolation"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_check_compares_scheme_and_host() {
        assert!(is_app_page("app://localhost/index.html"));
        assert!(is_app_page(APP_URL));
        for url in [
            "app://localhost.evil/",
            "app://localhost@evil/",
            "app://evil/?localhost",
            "https://localhost/",
            "isolation://localhost/",
            "APP://LOCALHOST/",
            "",
        ] {
            assert!(!is_app_page(url), "{url}");
        }
    }

    #[test]
    fn only_the_apps_exact_origin_header_is_the_app() {
        assert!(is_app_origin("app://localhost"));
        for bad in [
            "null",
            "isolation://localhost",
            "app://localhost.evil.com",
            "app://localhost:1",
            "APP://LOCALHOST",
            "https://localhost",
            "app://localhost/",
        ] {
            assert!(!is_app_origin(bad), "{bad}");
        }
    }

    #[test]
    fn navigation_to_the_app_and_the_frame_is_allowed() {
        for url in [
            "app://localhost/",
            "app://localhost/page.html?x=1#y",
            ISOLATION_URL,
            "about:blank",
        ] {
            assert!(navigation_allowed(url), "{url}");
        }
    }

    #[test]
    fn navigation_elsewhere_is_refused() {
        for url in [
            "http://localhost/",
            "https://example.com/",
            "ws://localhost/",
            "file:///etc/passwd",
            "app://localhost.evil.com/",
            "app://localhost@evil.com/",
            "app://evil/",
            "ipc://localhost/",
            "asset://localhost/etc/passwd",
            "javascript:alert(1)",
            "data:text/html,hi",
            "about:srcdoc",
        ] {
            assert!(!navigation_allowed(url), "{url}");
        }
    }
}
