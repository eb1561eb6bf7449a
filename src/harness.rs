//! The end-to-end test harness, compiled only with the `test-harness`
//! feature (never a default feature, never in a shipped build).
//!
//! `--harness-script FILE` runs FILE's JS in the main frame on every page
//! load of the app, once the document is parsed and `window.moat.ready`
//! settles, as ordinary page script (an initialization script in the page's
//! own world): it has exactly an attacker's power plus `harness`, whose
//! `result(name, ok, detail)` and `done()` report over `window.ipc`, a
//! channel that carries nothing else in this build. `harness.load` is the
//! 1-based count of page loads in this tab (kept in `sessionStorage`), for
//! scripts that reload.
//!
//! `--harness-call-timeout-ms MS` shortens the bridge's call timeout, so a
//! test can watch a call time out.
//!
//! Output: one JSON line per result (`name`, `ok`, `detail`, plus `t_ms`
//! since start-up and `rss_kb`, the peak RSS so far, for `make bench`), then
//! `N passed, N failed`. Exit code 0
//! only if every result passed and at least one ran; `--harness-timeout
//! SECS` (default 60) ends a hung run as a failure.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tao::event_loop::EventLoopProxy;

use crate::error::Error;
use crate::window::UserEvent;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// `tests/pages/`, served at `app://localhost/__test__/` in this build only,
/// under the same policy machinery as the app's own pages.
pub(crate) static TEST_PAGES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/tests/pages");

/// `tests/hooks/`, mounted in the hooks directory at `__test__/` in this
/// build only, so a test config can list `__test__/<hook>.js`.
pub(crate) static TEST_HOOKS: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/tests/hooks");

#[derive(Clone)]
pub(crate) struct Harness {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    /// Replaces `limits.callTimeoutMs` so a test can see a call time out.
    call_timeout_ms: Option<u64>,
    /// Taken first thing in `run`, for `t_ms` (the bench's `startup_ms`).
    started: Instant,
    script: String,
    timeout: Duration,
    counts: Mutex<(u32, u32)>,
}

#[derive(Deserialize)]
#[serde(tag = "harness", rename_all = "lowercase")]
enum Message {
    Result {
        name: String,
        ok: bool,
        detail: serde_json::Value,
    },
    Done,
}

/// Defines `window.__harness` (the reporting channel) before any page
/// script, then runs the test script once the document is parsed and the
/// bridge is ready. `{script}` is the test script.
const INIT: &str = r#"(() => {
  const post = window.ipc.postMessage.bind(window.ipc);
  const stringify = JSON.stringify;
  const detailOf = (d) => { try { return d === undefined ? null : JSON.parse(stringify(d)); } catch (e) { return String(d); } };
  const report = Object.freeze({
    result(name, ok, detail) { post(stringify({ harness: 'result', name: String(name), ok: ok === true, detail: detailOf(detail) })); },
    done() { post(stringify({ harness: 'done' })); },
  });
  Object.defineProperty(window, '__harness', { value: report });
  const load = Number(sessionStorage.getItem('moat-harness-load') || 0) + 1;
  sessionStorage.setItem('moat-harness-load', String(load));
  const run = async () => {
    const harness = Object.freeze({ result: report.result, done: report.done, load });
    try { await window.moat.ready; } catch (e) { harness.result('bridge ready', false, String(e && e.message || e)); harness.done(); return; }
    try {
{script}
    } catch (e) { harness.result('harness script threw', false, String(e && e.stack || e)); harness.done(); }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run, { once: true });
  else run();
})();"#;

impl Harness {
    /// Reads `--harness-script FILE` and `--harness-timeout SECS`; with no
    /// `--harness-script` the harness is off.
    pub(crate) fn from_args() -> Result<Self, Error> {
        let started = Instant::now();
        let mut args = std::env::args().skip(1);
        let (mut script, mut timeout, mut call_timeout_ms) = (None, DEFAULT_TIMEOUT, None);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--harness-script" => {
                    let path = args
                        .next()
                        .ok_or_else(|| Error::Args("--harness-script needs a file".into()))?;
                    script = Some(
                        std::fs::read_to_string(&path)
                            .map_err(|e| Error::Args(format!("--harness-script {path}: {e}")))?,
                    );
                }
                "--harness-call-timeout-ms" => {
                    let ms = args
                        .next()
                        .and_then(|s| s.parse::<u64>().ok())
                        .filter(|ms| *ms > 0)
                        .ok_or_else(|| {
                            Error::Args(
                                "--harness-call-timeout-ms needs a number of milliseconds".into(),
                            )
                        })?;
                    call_timeout_ms = Some(ms);
                }
                // Read by `config_override` and `opener` before and after
                // this; only skipped here.
                "--harness-config" | "--harness-opener" => {
                    args.next();
                }
                "--harness-console" => {}
                "--harness-timeout" => {
                    let secs =
                        args.next()
                            .and_then(|s| s.parse::<u64>().ok())
                            .ok_or_else(|| {
                                Error::Args("--harness-timeout needs whole seconds".into())
                            })?;
                    timeout = Duration::from_secs(secs);
                }
                other => return Err(Error::Args(format!("unknown argument {other:?}"))),
            }
        }
        Ok(Self {
            inner: script.map(|script| {
                Arc::new(Inner {
                    call_timeout_ms,
                    started,
                    script,
                    timeout,
                    counts: Mutex::new((0, 0)),
                })
            }),
        })
    }

    /// `--harness-opener PROGRAM`: what `shell.open` runs instead of
    /// `xdg-open`, so a test can see what would have been opened.
    pub(crate) fn opener(&self) -> Option<std::path::PathBuf> {
        arg_value("--harness-opener").map(Into::into)
    }

    /// `--harness-console`: WebKit writes console messages to stderr, so a
    /// test can hear a frame no page can receive messages from.
    pub(crate) fn console(&self) -> bool {
        std::env::args().any(|a| a == "--harness-console")
    }

    /// `--harness-call-timeout-ms`, if given.
    pub(crate) fn call_timeout_ms(&self) -> Option<u64> {
        self.inner.as_ref().and_then(|i| i.call_timeout_ms)
    }

    /// The initialization script: the reporting channel and the test script.
    pub(crate) fn init_script(&self) -> Option<String> {
        self.inner
            .as_ref()
            .map(|inner| INIT.replace("{script}", &inner.script))
    }

    /// Handles a harness message; `false` if `body` is not one.
    pub(crate) fn handle_message(
        &self,
        url: &str,
        body: &str,
        proxy: &EventLoopProxy<UserEvent>,
    ) -> bool {
        let Some(inner) = &self.inner else {
            return false;
        };
        if !crate::window::navigation_allowed(url) || !url.starts_with("app:") {
            return false;
        }
        let Ok(msg) = serde_json::from_str::<Message>(body) else {
            return false;
        };
        let mut counts = inner.counts.lock().unwrap_or_else(|p| p.into_inner());
        match msg {
            Message::Result { name, ok, detail } => {
                if ok {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                }
                let line = serde_json::json!({
                    "name": name,
                    "ok": ok,
                    "detail": detail,
                    "t_ms": inner.started.elapsed().as_secs_f64() * 1e3,
                    "rss_kb": peak_rss_kb(),
                });
                println!("{line}");
                let _ = std::io::stdout().flush();
            }
            Message::Done => {
                let (passed, failed) = *counts;
                println!("{passed} passed, {failed} failed");
                let _ = std::io::stdout().flush();
                let _ = proxy.send_event(UserEvent::Exit(if failed == 0 && passed > 0 {
                    0
                } else {
                    1
                }));
            }
        }
        true
    }

    pub(crate) fn start_timeout(&self, proxy: EventLoopProxy<UserEvent>) {
        let Some(inner) = self.inner.clone() else {
            return;
        };
        std::thread::spawn(move || {
            std::thread::sleep(inner.timeout);
            let (passed, failed) = *inner.counts.lock().unwrap_or_else(|p| p.into_inner());
            let line = serde_json::json!({
                "name": "harness timeout",
                "ok": false,
                "detail": format!("no harness.done() within {} s", inner.timeout.as_secs()),
            });
            println!("{line}");
            println!("{passed} passed, {} failed", failed + 1);
            let _ = std::io::stdout().flush();
            let _ = proxy.send_event(UserEvent::Exit(1));
        });
    }
}

/// Peak resident set size of this (the UI) process, from `VmHWM`.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The value after `flag` on the command line, if any.
fn arg_value(flag: &str) -> Option<String> {
    let mut args = std::env::args().skip_while(|a| a != flag);
    args.next()?;
    args.next()
}

/// `--harness-config FILE`: a moat.json that replaces the compiled-in one,
/// so the tests can give the built-in modules scopes inside a temp dir
/// without building another binary.
pub(crate) fn config_override() -> Result<Option<crate::Config>, Error> {
    let Some(path) = arg_value("--harness-config") else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Args(format!("--harness-config {path}: {e}")))?;
    Ok(Some(crate::Config::from_json(&text)?))
}
