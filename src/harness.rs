//! The end-to-end test harness, compiled only with the
//! `dangerous-test-harness` feature: never a default feature, never in a
//! shipped build. It is dangerous because it replaces the compiled-in
//! security config from the command line; a build that has it says so at
//! startup, loudly.
//!
//! It fills in the app's parts and the window's [`Options`] from the
//! command line; nothing else in the crate knows it exists.
//!
//! `--harness-script FILE` runs FILE's JS in the main frame on every page
//! load of every app window, once the document is parsed and
//! `window.moat.ready` settles, as ordinary page script (an initialization
//! script in the page's own world): it has exactly an attacker's power plus
//! `harness`, whose `result(name, ok, detail)` and `done()` report over
//! `window.ipc`, a channel that carries nothing else in this build.
//! `harness.load` is the 1-based count of page loads in this tab (kept in
//! `sessionStorage`), for scripts that reload; `harness.window` is the
//! window's label, for scripts that run in several windows.
//! `--harness-view-cert HOST=FILE` has untrusted views accept the PEM
//! certificate in FILE for HOST (a test's local https server).
//!
//! `--harness-call-timeout-ms MS` replaces `limits.callTimeoutMs`, so a
//! test can watch a call time out. `--harness-config FILE` replaces the
//! compiled-in `moat.json`, so scope tests need no second binary.
//! `--harness-opener PROGRAM` is what `shell.open` runs instead of
//! `xdg-open`. `--harness-console` has WebKit write the pages' console to
//! stderr. `--harness-frontend react|vue|svelte` serves a default Vite
//! build of that framework's app (`tests/frontends/`) as the app's frontend
//! (one window: the config's other windows are dropped).
//! `--harness-dialog FILE` answers file choosers (`dialog.*`) instead of
//! showing GTK's: each line answers the next one, `cancel` or paths
//! separated by tabs.
//! `--harness-isolation-may-fail` runs the script even when
//! `window.moat.ready` rejects (a hook that fails to load), with the error
//! as `harness.readyError`; without it, that is a failed result. `tests/pages/` is served at `app://localhost/__test__/` and
//! `tests/hooks/` at `isolation://localhost/hooks/__test__/`.
//!
//! Output: one JSON line per result (`name`, `ok`, `detail`, plus `t_ms`
//! since start-up, `rss_kb`, the peak RSS so far, for `make bench`, and
//! `rss_now_kb`, the RSS now, for the memory tests), then
//! `N passed, N failed`. Exit code 0 only if every result passed and at
//! least one ran; `--harness-timeout SECS` (default 60) ends a hung run as
//! a failure.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::app::Parts;
use crate::error::Error;
use crate::window::{Exit, Options};

/// How long a script may run before the harness fails it.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a timed-out run waits for the event loop to end it before the
/// process exits on its own.
const EXIT_GRACE: Duration = Duration::from_secs(3);

/// `tests/pages/`, served at `app://localhost/__test__/` in this build only,
/// under the same policy machinery as the app's own pages.
static TEST_PAGES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/tests/pages");

/// `tests/hooks/`, mounted in the hooks directory at `__test__/` in this
/// build only, so a test config can list `__test__/<hook>.js`.
static TEST_HOOKS: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/tests/hooks");

/// Default Vite builds of a React, a Vue and a Svelte app
/// (`tests/frontends/`), for `--harness-frontend`.
static FRAMEWORKS: [(&str, include_dir::Dir<'static>); 3] = [
    (
        "react",
        include_dir::include_dir!("$CARGO_MANIFEST_DIR/tests/frontends/react/dist"),
    ),
    (
        "vue",
        include_dir::include_dir!("$CARGO_MANIFEST_DIR/tests/frontends/vue/dist"),
    ),
    (
        "svelte",
        include_dir::include_dir!("$CARGO_MANIFEST_DIR/tests/frontends/svelte/dist"),
    ),
];

/// What the command line asked for.
#[derive(Default)]
struct Args {
    script: Option<String>,
    timeout: Option<Duration>,
    call_timeout_ms: Option<u64>,
    config: Option<crate::config::Settings>,
    opener: Option<PathBuf>,
    console: bool,
    isolation_may_fail: bool,
    frontend: Option<&'static include_dir::Dir<'static>>,
    /// Answers to file choosers, one line each.
    dialog_answers: Option<Vec<String>>,
    /// Register `harness_unscoped`, a command that ignores every scope.
    unscoped: bool,
    /// The highest Landlock ABI to confine at (0: none), to play an older
    /// kernel.
    landlock_abi: Option<u8>,
    /// Certificates untrusted views accept: `(host, PEM)`.
    view_certificates: Vec<(String, String)>,
}

/// Applies the command line to the app's parts and returns the window's
/// options. Without `--harness-script`, only the config, opener and mounts
/// change.
pub(crate) fn apply(parts: Parts) -> Result<(Parts, Options), Error> {
    let started = Instant::now();
    tracing::warn!("DANGEROUS TEST HARNESS BUILD: the command line can replace this app's security config (--harness-config); never ship this binary");
    let mut args = parse_args(std::env::args().skip(1))?;
    let parts = apply_to_parts(parts, &mut args);
    let mut options = Options {
        console: args.console,
        view_certificates: std::mem::take(&mut args.view_certificates),
        ..Options::default()
    };
    #[cfg(feature = "api-dialog")]
    if let Some(lines) = args.dialog_answers.take() {
        options.chooser = Some(answering_chooser(lines));
    }
    if let Some(script) = args.script.take() {
        script_options(&mut options, &args, &script, started);
    }
    Ok((parts, options))
}

/// The config, opener, commands, Landlock level and mounts the command
/// line replaces.
fn apply_to_parts(mut parts: Parts, args: &mut Args) -> Parts {
    if let Some(config) = args.config.take() {
        parts.config = config;
    }
    if let Some(ms) = args.call_timeout_ms {
        parts.config.limits.call_timeout_ms = ms;
    }
    parts.opener = args.opener.take().or(parts.opener);
    if args.unscoped {
        tracing::warn!("--harness-unscoped: the command harness_unscoped ignores every scope (only the kernel's confinement stands)");
        parts.commands = std::mem::take(&mut parts.commands).merge(unscoped());
    }
    if let Some(abi) = args.landlock_abi {
        parts.landlock_at_most = abi;
    }
    if let Some(dir) = args.frontend {
        parts.frontend = crate::protocol::Mounts::default().with(("", dir));
        // A framework's app is one page: the config's other windows name
        // pages it does not have.
        parts.config.windows.clear();
        parts.config.allowlist.windows.clear();
    }
    parts.frontend = parts.frontend.with(("__test__/", &TEST_PAGES));
    parts.hooks = parts.hooks.with(("__test__/", &TEST_HOOKS));
    parts
}

/// `script` in every app window, its reports read off `window.ipc`, and
/// the run's timeout.
fn script_options(options: &mut Options, args: &Args, script: &str, started: Instant) {
    let report = Arc::new(Report {
        started,
        counts: Mutex::new((0, 0)),
    });
    let may_fail = if args.isolation_may_fail {
        "true"
    } else {
        "false"
    };
    let init = INIT
        .replace("{may_fail}", may_fail)
        .replace("{script}", script);
    options.init_scripts.push(Box::new(move |window: &str| {
        let label = serde_json::to_string(window).unwrap_or_default();
        init.replace("{window}", &label)
    }));
    let on_message = Arc::clone(&report);
    options.intercept = Some(std::rc::Rc::new(
        move |url: &str, body: &str, exit: &Exit| on_message.handle(url, body, exit),
    ));
    let timeout = args.timeout.unwrap_or(DEFAULT_TIMEOUT);
    options.on_start = Some(Box::new(move |exit: Exit| {
        report.start_timeout(timeout, exit)
    }));
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, Error> {
    let mut out = Args::default();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--harness-console" => out.console = true,
            "--harness-unscoped" => out.unscoped = true,
            "--harness-isolation-may-fail" => out.isolation_may_fail = true,
            // The app's own arguments (launch links among them).
            own if !own.starts_with("--") => {}
            flag => {
                let Some(what) = value_of(flag) else {
                    return Err(Error::Args(format!("unknown argument {flag:?}")));
                };
                let v = args
                    .next()
                    .ok_or_else(|| Error::Args(format!("{flag} needs {what}")))?;
                set(&mut out, flag, &v)?;
            }
        }
    }
    Ok(out)
}

/// The command line's arguments that are the app's, not the harness's.
pub(crate) fn own_arguments(mut args: impl Iterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(a) = args.next() {
        if a.starts_with("--harness-") {
            if value_of(&a).is_some() {
                args.next();
            }
            continue;
        }
        out.push(a);
    }
    out
}

/// What a flag that takes a value takes, for its error message.
fn value_of(flag: &str) -> Option<&'static str> {
    Some(match flag {
        "--harness-script" | "--harness-config" | "--harness-dialog" => "a file",
        "--harness-opener" => "a program",
        "--harness-view-cert" => "HOST=FILE (a PEM certificate)",
        "--harness-landlock-abi" => "a Landlock ABI number",
        "--harness-frontend" => "react, vue or svelte",
        "--harness-call-timeout-ms" => "a number of milliseconds",
        "--harness-timeout" => "whole seconds",
        _ => return None,
    })
}

/// Sets what flag `a` (one [`value_of`] knows) says, with its value `v`.
fn set(out: &mut Args, a: &str, v: &str) -> Result<(), Error> {
    let bad = |what: &str| Error::Args(format!("{a} needs {what}, not {v:?}"));
    match a {
        "--harness-script" => out.script = Some(read(a, v)?),
        "--harness-config" => out.config = Some(crate::config::Settings::from_json(&read(a, v)?)?),
        "--harness-opener" => out.opener = Some(v.into()),
        "--harness-dialog" => {
            out.dialog_answers = Some(read(a, v)?.lines().map(str::to_owned).collect())
        }
        "--harness-view-cert" => {
            let (host, file) = v.split_once('=').ok_or_else(|| bad("HOST=FILE"))?;
            out.view_certificates
                .push((host.to_owned(), read(a, file)?));
        }
        "--harness-landlock-abi" => {
            out.landlock_abi = Some(
                v.parse()
                    .map_err(|_| bad("a Landlock ABI number (0 to 255)"))?,
            )
        }
        "--harness-frontend" => {
            let found = FRAMEWORKS.iter().find(|(n, _)| *n == v).map(|(_, d)| d);
            out.frontend =
                Some(found.ok_or_else(|| {
                    Error::Args(format!("{a}: {v:?} is not react, vue or svelte"))
                })?);
        }
        "--harness-call-timeout-ms" => {
            let ms = v.parse().ok().filter(|ms| *ms > 0);
            out.call_timeout_ms = Some(ms.ok_or_else(|| bad("a number of milliseconds"))?);
        }
        "--harness-timeout" => {
            let secs: u64 = v.parse().map_err(|_| bad("whole seconds"))?;
            out.timeout = Some(Duration::from_secs(secs));
        }
        other => return Err(Error::Args(format!("unknown argument {other:?}"))),
    }
    Ok(())
}

/// `harness_unscoped`'s arguments: `op` is `read`, `write`, `list` or
/// `exec`; `data` is what `write` writes.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Unscoped {
    op: String,
    path: String,
    #[serde(default)]
    data: String,
}

/// What `harness_unscoped` did.
#[derive(serde::Serialize)]
struct UnscopedDone {
    ok: bool,
    /// The file's text (`read`), the names (`list`), the program's output
    /// (`exec`).
    data: Option<String>,
    /// The thread it ran on.
    thread: Option<String>,
}

/// Commands with no scope at all: commands with a bug, as the tests play
/// them. Only the kernel's confinement of command threads stands between
/// them and the disk. `harness_unscoped` is sync (the blocking pool);
/// `harness_unscoped_inline` is async and does its I/O in its first poll,
/// where a posted call runs (`ipc::hop`). Registered only with
/// `--harness-unscoped`, in this build.
fn unscoped() -> crate::Commands {
    crate::Commands::new()
        .builtin("harness_unscoped", |a: Unscoped, _| unscoped_op(&a))
        .builtin_async("harness_unscoped_inline", |a: Unscoped, _| {
            std::future::ready(unscoped_op(&a))
        })
}

fn unscoped_op(a: &Unscoped) -> Result<UnscopedDone, crate::scope::error::ScopeError> {
    let io = |error: std::io::Error| crate::scope::error::ScopeError::Io {
        requested: a.path.clone(),
        error,
    };
    let data = match a.op.as_str() {
        "read" => Some(std::fs::read_to_string(&a.path).map_err(io)?),
        "write" => {
            std::fs::write(&a.path, a.data.as_bytes()).map_err(io)?;
            None
        }
        "list" => {
            let mut names: Vec<String> = std::fs::read_dir(&a.path)
                .map_err(io)?
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect();
            names.sort();
            Some(names.join("\n"))
        }
        "exec" => {
            let out = std::process::Command::new(&a.path)
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(io)?;
            Some(String::from_utf8_lossy(&out.stdout).into_owned())
        }
        other => {
            return Err(crate::scope::error::ScopeError::PathInvalid {
                requested: other.to_owned(),
                reason: "is not read, write, list or exec".into(),
            })
        }
    };
    Ok(UnscopedDone {
        ok: true,
        data,
        thread: std::thread::current().name().map(str::to_owned),
    })
}

/// A file chooser that answers each request with the next line of
/// `--harness-dialog`: `cancel`, or paths separated by tabs. Past the last
/// line, every request is cancelled.
#[cfg(feature = "api-dialog")]
fn answering_chooser(lines: Vec<String>) -> crate::api::dialog::Chooser {
    let lines = Mutex::new(std::collections::VecDeque::from(lines));
    Arc::new(move |request, answer| {
        let line = lines.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
        tracing::info!(?request, answer = ?line, "harness: file chooser answered");
        answer(match line.as_deref() {
            None | Some("cancel") => None,
            Some(paths) => Some(paths.split('\t').map(PathBuf::from).collect()),
        });
    })
}

fn read(flag: &str, path: &str) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error::Args(format!("{flag} {path}: {e}")))
}

/// Counts results and prints them.
struct Report {
    /// Taken when the harness starts, for `t_ms` (the bench's `startup_ms`).
    started: Instant,
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
  // Lone surrogates become U+FFFD: the core's JSON parser refuses them, and
  // a result must never be lost for what its detail holds.
  const text = (v) => typeof v === 'string' ? v.toWellFormed() : v;
  const detailOf = (d) => { try { return d === undefined ? null : JSON.parse(stringify(d, (k, v) => text(v))); } catch (e) { return text(String(d)); } };
  const report = Object.freeze({
    result(name, ok, detail) { post(stringify({ harness: 'result', name: text(String(name)), ok: ok === true, detail: detailOf(detail) })); },
    done() { post(stringify({ harness: 'done' })); },
  });
  Object.defineProperty(window, '__harness', { value: report });
  const load = Number(sessionStorage.getItem('moat-harness-load') || 0) + 1;
  sessionStorage.setItem('moat-harness-load', String(load));
  const run = async () => {
    let readyError = null;
    try { await window.moat.ready; } catch (e) {
      readyError = e;
      if (!{may_fail}) { report.result('bridge ready', false, String(e && e.message || e)); report.done(); return; }
    }
    const harness = Object.freeze({ result: report.result, done: report.done, load, readyError, window: {window} });
    try {
{script}
    } catch (e) { harness.result('harness script threw', false, String(e && e.stack || e)); harness.done(); }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run, { once: true });
  else run();
})();"#;

impl Report {
    /// Handles a harness message from the app's page; `false` if `body`
    /// is not one (the message then goes on to the core).
    fn handle(&self, url: &str, body: &str, exit: &Exit) -> bool {
        if !crate::origin::is_app_page(url) {
            return false;
        }
        let Ok(msg) = serde_json::from_str::<Message>(body) else {
            return false;
        };
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
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
                    "t_ms": self.started.elapsed().as_secs_f64() * 1e3,
                    "rss_kb": status_kb("VmHWM:"),
                    "rss_now_kb": status_kb("VmRSS:"),
                });
                println!("{line}");
                let _ = std::io::stdout().flush();
            }
            Message::Done => {
                let (passed, failed) = *counts;
                println!("{passed} passed, {failed} failed");
                let _ = std::io::stdout().flush();
                exit.exit(if failed == 0 && passed > 0 { 0 } else { 1 });
            }
        }
        true
    }

    /// Ends a run that has not said `done` within `timeout`, as a failure.
    fn start_timeout(self: Arc<Self>, timeout: Duration, exit: Exit) {
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            let (passed, failed) = *self.counts.lock().unwrap_or_else(|p| p.into_inner());
            let line = serde_json::json!({
                "name": "harness timeout",
                "ok": false,
                "detail": format!("no harness.done() within {} s", timeout.as_secs()),
            });
            println!("{line}");
            println!("{passed} passed, {} failed", failed + 1);
            let _ = std::io::stdout().flush();
            exit.exit(1);
            // The GTK thread can be stuck where the event loop never runs
            // again (GTK's file chooser shows its error dialogs in a nested
            // main loop of its own): a hung run ends regardless.
            std::thread::sleep(EXIT_GRACE);
            std::process::exit(1);
        });
    }
}

/// A size in kB from this (the UI) process's `/proc/self/status`: peak
/// resident set size (`VmHWM:`) or the current one (`VmRSS:`).
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Args, Error> {
        parse_args(a.iter().map(|s| s.to_string()))
    }

    #[test]
    fn arguments_are_read_or_refused_with_the_flag() {
        let a = args(&[
            "--harness-console",
            "--harness-timeout",
            "7",
            "--harness-opener",
            "/bin/true",
        ])
        .unwrap();
        assert!(a.console && a.script.is_none());
        assert_eq!(a.timeout, Some(Duration::from_secs(7)));
        assert_eq!(a.opener, Some(PathBuf::from("/bin/true")));
        for (bad, says) in [
            (&["--nope"][..], "unknown argument \"--nope\""),
            (
                &["--harness-timeout"][..],
                "--harness-timeout needs whole seconds",
            ),
            (
                &["--harness-timeout", "x"][..],
                "needs whole seconds, not \"x\"",
            ),
            (
                &["--harness-call-timeout-ms", "0"][..],
                "needs a number of milliseconds",
            ),
            (
                &["--harness-script", "/nonexistent/x.js"][..],
                "--harness-script /nonexistent/x.js",
            ),
        ] {
            let e = args(bad).err().unwrap().to_string();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }
}
