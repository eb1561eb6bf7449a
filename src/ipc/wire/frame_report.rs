//! `moat.frame_report`: what the isolation frame tells the app's log about
//! itself (today: a hook that failed to load, with its file, line and
//! reason), so an app author sees it in the terminal, not only in the page.
//!
//! It is a sealed call like any other, so only a holder of the key can make
//! one: the frame refuses names starting with `moat.` from the page and from
//! a hook's rewrite, and seals this one itself, past the hooks. The core
//! answers it before the allowlist and does nothing but log it, as a
//! warning, through the log's escaping.

use serde::Deserialize;

use crate::ipc::wire::args;
use crate::ipc::wire::error::CallError;

/// The reserved command name (a `.` name, so no app command can take it).
pub(crate) const COMMAND: &str = "moat.frame_report";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    /// What kind of problem (`hook_failed`).
    what: String,
    /// The frame's message: the hook, where, and what to do.
    detail: String,
}

/// Logs the report in `args`; the reply is `null`.
pub(crate) fn log(args: &str) -> Result<Vec<u8>, CallError> {
    let r: Report = args::decode(args).map_err(CallError::BadArgs)?;
    tracing::warn!(what = %r.what, detail = %r.detail, "the isolation frame reports a problem");
    Ok(br#"{"ok":null}"#.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_logged_and_answered_with_null() {
        assert_eq!(
            log(r#"{"what":"hook_failed","detail":"hook x.js failed to load"}"#).unwrap(),
            br#"{"ok":null}"#
        );
        assert_eq!(log(r#"{"what":"x"}"#).unwrap_err().code(), "bad_args");
    }
}
