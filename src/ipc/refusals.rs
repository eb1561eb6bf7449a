//! Refusals, countable: every one is a `tracing` event under the target
//! [`TARGET`] with its code (and, where there is one, the command and call
//! id) and the window it came from, and a count per window and code for
//! the life of the process, which the app can read
//! ([`crate::CallContext::refusal_counts`]: the call's window's) and which
//! is logged as a summary when the app ends. A refusal is a request turned away because
//! of what it asked (forged, replayed, out of scope, too many, from the
//! wrong place); a failure of the work itself (`io_failed`, `app`,
//! `handler_failed`) is not one.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The `tracing` target of every refusal event.
pub(crate) const TARGET: &str = "moat::refusal";

/// Refusals of one code logged one by one per [`LOG_WINDOW`]; past that
/// they are counted, and one line says how many were not logged. Threat: a
/// page probing thousands of times a second turning each probe into a log
/// line (the disk, the terminal, whoever reads the log).
pub(crate) const LOG_BURST: u32 = 20;
/// See [`LOG_BURST`].
pub(crate) const LOG_WINDOW: Duration = Duration::from_secs(1);

/// Per window label and code.
static COUNTS: Mutex<BTreeMap<(String, &'static str), u64>> = Mutex::new(BTreeMap::new());

/// Per code: the start of its current log window, how many were logged in
/// it, and how many were not.
static WINDOWS: Mutex<BTreeMap<&'static str, (Instant, u32, u64)>> = Mutex::new(BTreeMap::new());

/// Counts one refusal with `code` in `window`; returns whether to log it
/// one by one (the log's bursts are per code, whichever window). When a
/// new log window starts after refusals were left out, says so in the log
/// first.
pub(crate) fn count(window: &str, code: &'static str) -> bool {
    let mut counts = COUNTS.lock().unwrap_or_else(|p| p.into_inner());
    match counts
        .iter_mut()
        .find(|((w, c), _)| w == window && *c == code)
    {
        Some((_, n)) => *n += 1,
        None => {
            counts.insert((window.to_owned(), code), 1);
        }
    }
    drop(counts);
    let (log, left_out) = {
        let mut w = WINDOWS.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let (start, logged, skipped) = w.entry(code).or_insert((now, 0, 0));
        let mut left_out = 0;
        if now.duration_since(*start) >= LOG_WINDOW {
            left_out = std::mem::take(skipped);
            (*start, *logged) = (now, 0);
        }
        if *logged < LOG_BURST {
            *logged += 1;
            (true, left_out)
        } else {
            *skipped += 1;
            (false, left_out)
        }
    };
    if left_out > 0 {
        tracing::warn!(target: TARGET, code, left_out, "more refusals with this code were not logged one by one");
    }
    log
}

/// Every code refused so far in `window`, with its count.
pub(crate) fn counts(window: &str) -> BTreeMap<String, u64> {
    COUNTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|((w, _), _)| w == window)
        .map(|((_, k), v)| ((*k).to_owned(), *v))
        .collect()
}

/// Logs the counts, once, as the app ends (first, per code, how many of
/// the last window's refusals were not logged one by one).
pub(crate) fn log_summary() {
    let left: Vec<(&'static str, u64)> = WINDOWS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter_mut()
        .filter_map(|(code, (_, _, skipped))| {
            let n = std::mem::take(skipped);
            (n > 0).then_some((*code, n))
        })
        .collect();
    for (code, left_out) in left {
        tracing::warn!(target: TARGET, code, left_out, "more refusals with this code were not logged one by one");
    }
    let counts = COUNTS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let total: u64 = counts.values().sum();
    let list: Vec<String> = counts
        .iter()
        .map(|((w, k), v)| format!("{w}:{k}={v}"))
        .collect();
    tracing::info!(target: TARGET, total, counts = %list.join(" "), "refusals during this run");
}

/// Logs and counts a refusal that is not a call's (a navigation, a new
/// window, a document requested from the wrong place) in `window`.
pub(crate) fn refuse(window: &str, code: &'static str, reason: &str) {
    if count(window, code) {
        tracing::warn!(target: TARGET, window, code, %reason, "refused");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accumulate_per_code() {
        let before = counts("t1").get("test_code_a").copied().unwrap_or(0);
        count("t1", "test_code_a");
        refuse("t1", "test_code_a", "a test");
        assert_eq!(counts("t1")["test_code_a"], before + 2);
        // Another window's are its own.
        refuse("t2", "test_code_a", "a test");
        assert_eq!(counts("t1")["test_code_a"], before + 2);
        assert_eq!(counts("t2")["test_code_a"], 1);
    }

    #[test]
    fn a_flood_is_counted_in_full_and_logged_in_bursts() {
        let logged = (0..1500).filter(|_| count("t3", "test_code_flood")).count();
        assert_eq!(logged, LOG_BURST as usize);
        assert_eq!(counts("t3")["test_code_flood"], 1500);
        // Another code has its own window.
        assert!(count("t3", "test_code_other"));
    }
}
