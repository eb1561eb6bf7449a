//! `window.ipc`: not a Moat transport.
//!
//! wry exposes `window.ipc.postMessage` whenever an IPC handler is set (the
//! test-harness build uses it as its reporting channel). With the isolation
//! pattern there is exactly one way into the core, an envelope over
//! `ipc://`; anything posted here is refused as `not_an_envelope`, logged,
//! and answered with a `moat-ipc-rejected` DOM event so page authors see why.

/// The script that tells the page its raw message was refused.
pub(crate) fn rejection_script() -> String {
    let detail = serde_json::json!({
        "code": "not_an_envelope",
        "message": "window.ipc is not a Moat transport; call window.moat.invoke",
    });
    format!("window.dispatchEvent(new CustomEvent('moat-ipc-rejected', {{ detail: {detail} }}));")
}

/// Logs the refusal. The message content is not logged: it is page data.
pub(crate) fn reject(url: &str, len: usize) {
    tracing::warn!(
        code = "not_an_envelope",
        url,
        len,
        reason = "raw window.ipc message; only envelopes over ipc:// reach the core",
        "call rejected"
    );
}
