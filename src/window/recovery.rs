//! What happens when the web content process dies (killed, out of memory,
//! a WebKit crash): the page load it held is gone, with its key's one
//! frame. Its key and replay window are wiped at once (nothing sealed under
//! them opens again, and no reply for it reaches the next page), and the
//! app page is loaded again, with a new key and a new frame. A crash loop
//! (a page that crashes its process as soon as it loads) stops reloading
//! after [`CRASH_LOOP`] crashes within [`CRASH_LOOP_WINDOW`] and shows a
//! plain built-in page instead of spinning.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Crashes within [`CRASH_LOOP_WINDOW`] that make a loop.
pub(crate) const CRASH_LOOP: usize = 3;
/// How close together the crashes of a loop are.
pub(crate) const CRASH_LOOP_WINDOW: Duration = Duration::from_secs(10);

/// What to do after a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Load the app page again.
    Reload,
    /// Show [`ERROR_PAGE`]: reloading has not helped.
    GiveUp,
}

/// The crashes seen lately.
#[derive(Debug, Default)]
pub(crate) struct CrashGuard {
    recent: VecDeque<Instant>,
}

impl CrashGuard {
    /// Records a crash at `now` and says what to do.
    pub(crate) fn crashed(&mut self, now: Instant) -> After {
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > CRASH_LOOP_WINDOW)
        {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        if self.recent.len() >= CRASH_LOOP {
            After::GiveUp
        } else {
            After::Reload
        }
    }
}

/// The page shown after a crash loop: no script, nothing from the app.
pub(crate) const ERROR_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<title>The app stopped</title><style>body{font:16px sans-serif;margin:3em;color:#222}</style></head>\
<body><h1>The app stopped</h1><p>Its page crashed several times in a row, so it was not loaded again.</p>\
<p>Close this window and start the app again. If it happens again, the app's log says why.</p></body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    /// CVE-2023-23623 (Electron): a document left out of the CSP's eval
    /// ban. The crash page runs no script at all: none in it, and its
    /// policy allows none.
    #[test]
    fn the_crash_page_runs_no_script_and_allows_none() {
        let policy = "content=\"default-src 'none'; style-src 'unsafe-inline'\"";
        assert!(ERROR_PAGE.contains(policy), "{ERROR_PAGE}");
        assert!(!ERROR_PAGE.contains("script-src") && !ERROR_PAGE.contains("<script"));
    }

    #[test]
    fn three_crashes_within_the_window_are_a_loop() {
        let mut g = CrashGuard::default();
        let t = Instant::now();
        assert_eq!(g.crashed(t), After::Reload);
        assert_eq!(g.crashed(t + Duration::from_secs(4)), After::Reload);
        assert_eq!(g.crashed(t + Duration::from_secs(8)), After::GiveUp);
    }

    #[test]
    fn crashes_far_apart_reload_every_time() {
        let mut g = CrashGuard::default();
        let t = Instant::now();
        for i in 0..10 {
            assert_eq!(
                g.crashed(t + Duration::from_secs(6 * i)),
                After::Reload,
                "{i}"
            );
        }
    }
}
