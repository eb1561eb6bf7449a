//! Content-Security-Policy for the documents Moat serves.
//!
//! The main document's default is strict: scripts and styles only from the
//! app's own origin, no inline code, no `eval`, no plugins, no `<base>`, no
//! form posts, nothing framed but the isolation document, nothing fetched but
//! the IPC endpoint. WebKit enforces a CSP sent as a response header by a
//! custom-protocol handler.

/// The main document's policy when the app sets none.
pub(crate) const DEFAULT_APP_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src ipc://localhost; frame-src isolation://localhost; \
object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The isolation document: only its own script and the app's hooks, framed
/// only by the app. It fetches nothing (the main frame carries envelopes).
pub(crate) const ISOLATION_POLICY: &str = "default-src 'none'; \
script-src isolation://localhost/isolation.js isolation://localhost/hooks/; connect-src 'none'; \
object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors app://localhost";
