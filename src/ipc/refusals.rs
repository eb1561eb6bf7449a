//! Refusals, countable: every one is a `tracing` event under the target
//! [`TARGET`] with its code (and, where there is one, the command and call
//! id), and a count per code for the life of the process, which the app
//! can read ([`crate::CallContext::refusal_counts`]) and which is logged as
//! a summary when the app ends. A refusal is a request turned away because
//! of what it asked (forged, replayed, out of scope, too many, from the
//! wrong place); a failure of the work itself (`io_failed`, `app`,
//! `handler_failed`) is not one.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The `tracing` target of every refusal event.
pub(crate) const TARGET: &str = "moat::refusal";

static COUNTS: Mutex<BTreeMap<&'static str, u64>> = Mutex::new(BTreeMap::new());

/// Counts one refusal with `code`. The caller logs the event.
pub(crate) fn count(code: &'static str) {
    *COUNTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(code)
        .or_insert(0) += 1;
}

/// Every code refused so far, with its count.
pub(crate) fn counts() -> BTreeMap<String, u64> {
    COUNTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect()
}

/// Logs the counts, once, as the app ends.
pub(crate) fn log_summary() {
    let counts = counts();
    let total: u64 = counts.values().sum();
    let list: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    tracing::info!(target: TARGET, total, counts = %list.join(" "), "refusals during this run");
}

/// Logs and counts a refusal that is not a call's (a navigation, a new
/// window, a document requested from the wrong place).
pub(crate) fn refuse(code: &'static str, reason: &str) {
    count(code);
    tracing::warn!(target: TARGET, code, %reason, "refused");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accumulate_per_code() {
        let before = counts().get("test_code_a").copied().unwrap_or(0);
        count("test_code_a");
        refuse("test_code_a", "a test");
        assert_eq!(counts()["test_code_a"], before + 2);
    }
}
