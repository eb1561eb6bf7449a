//! End-to-end tests in the real webview (WebKitGTK, under Xvfb via
//! `make test`). Each test spawns the one `moat-demo` binary, built with the
//! `dangerous-test-harness` feature, with a script from `tests/js/` that runs as
//! ordinary page script; `tests/js/lib.js` is prepended to each.
//!
//! The JS reports named results; these tests check that every expected
//! result ran and passed, and then check the real filesystem and the log.

// The file-system checks by path that clippy.toml denies in the runtime's
// scopes are what a test does to set up and inspect a machine.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// One binary for every end-to-end test; each file is one area.
#[path = "e2e/advisories.rs"]
mod advisories;
#[path = "e2e/engine.rs"]
mod engine;
#[path = "e2e/frames.rs"]
mod frames;
#[path = "e2e/kernel.rs"]
mod kernel;
#[path = "e2e/launch.rs"]
mod launch;
#[path = "e2e/network.rs"]
mod network;
#[path = "e2e/page_loads.rs"]
mod page_loads;
#[path = "e2e/programs.rs"]
mod programs;
#[path = "e2e/settings.rs"]
mod settings;
#[path = "e2e/windows.rs"]
mod windows;

const APP_ID: &str = "dev.moat.demo";

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<std::process::Output> for Outcome {
    fn from(out: std::process::Output) -> Self {
        Outcome {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Outcome {
    fn results(&self) -> impl Iterator<Item = serde_json::Value> + '_ {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    }

    fn result(&self, name: &str) -> Option<serde_json::Value> {
        self.results().find(|v| v["name"] == name)
    }

    /// Every named result is present and passed, nothing failed, exit 0.
    fn assert_passed(&self, names: &[&str]) {
        let failed: Vec<String> = self
            .results()
            .filter(|v| v["ok"] != true)
            .map(|v| v.to_string())
            .collect();
        assert!(
            failed.is_empty(),
            "failed results:\n{}\n\nstderr:\n{}",
            failed.join("\n"),
            self.tail()
        );
        for name in names {
            match self.result(name) {
                Some(v) => assert_eq!(v["ok"], true, "{name}: {v}"),
                None => panic!(
                    "result {name:?} never reported\nstdout:\n{}\nstderr:\n{}",
                    self.stdout,
                    self.tail()
                ),
            }
        }
        let closing = format!("{} passed, 0 failed", self.results().count());
        assert!(
            self.stdout.lines().any(|l| l == closing),
            "no closing line {closing:?}:\n{}",
            self.stdout
        );
        assert_eq!(self.code, Some(0), "exit code; stderr:\n{}", self.tail());
    }

    /// A tracing event recorded this rejection code.
    fn assert_logged(&self, code: &str) {
        let needle = format!("code=\"{code}\"");
        assert!(
            self.stderr.lines().any(|l| l.contains(&needle)),
            "no log line with {needle}; stderr:\n{}",
            self.tail()
        );
    }

    fn tail(&self) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

/// The repository's top level (the demo crate lives in `demo/`).
fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn js(name: &str) -> PathBuf {
    root().join("tests/js").join(name)
}

/// Runs `script` (with lib.js prepended) in the demo, with its data
/// directory under `xdg` (a fresh temporary directory).
fn run(script: &str, xdg: &Path, timeout_secs: u32) -> Outcome {
    run_with(script, xdg, timeout_secs, &[])
}

fn run_with(script: &str, xdg: &Path, timeout_secs: u32, extra: &[&str]) -> Outcome {
    assert!(
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
        "no display: run the end-to-end tests with `make test` (it uses xvfb-run)"
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script, xdg, timeout_secs);
    Outcome::from(cmd.args(extra).output().expect("spawn moat-demo"))
}

/// [`run_with`] with `config` (JSON text) as the app's `moat.json`, written
/// under `xdg`, and 60 s to run.
fn run_with_config(script: &str, xdg: &Path, config: &str, extra: &[&str]) -> Outcome {
    let file = xdg.join("moat.json");
    std::fs::write(&file, config).expect("write moat.json");
    let mut args = vec![
        "--harness-config",
        file.to_str().expect("a UTF-8 temp path"),
    ];
    args.extend_from_slice(extra);
    run_with(script, xdg, 60, &args)
}

/// Writes `script` (with lib.js prepended) under `xdg` and adds the harness
/// arguments and environment to `cmd`, which runs the demo binary.
fn harness_args(cmd: &mut Command, script: &str, xdg: &Path, timeout_secs: u32) {
    let lib = std::fs::read_to_string(js("lib.js")).expect("tests/js/lib.js");
    let body = std::fs::read_to_string(js(script)).expect("test script");
    let file = xdg.join(format!("{script}.harness.js"));
    std::fs::write(&file, format!("{lib}\n{body}")).expect("write harness script");
    // Each run its own instance: the app's socket (`launch`) lives in the
    // runtime directory, which tests running side by side must not share.
    let run_dir = xdg.join("run");
    std::fs::create_dir_all(&run_dir).expect("a runtime directory");
    std::fs::set_permissions(
        &run_dir,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("mode 0700");
    cmd.arg("--harness-script")
        .arg(&file)
        .arg("--harness-timeout")
        .arg(timeout_secs.to_string())
        .env("XDG_RUNTIME_DIR", &run_dir)
        .env("XDG_DATA_HOME", xdg)
        .env("RUST_LOG", "moat=info")
        .env("NO_COLOR", "1");
}

/// `moat-demo` with the harness script `script` under an `xvfb-run` display
/// of its own, `screen` (e.g. "800x600x24"): a real click or key must reach
/// this window, and the windows of tests running in parallel on a shared
/// display pile up at the same origin. Takes more arguments before
/// [`OwnDisplay::start`].
fn on_own_display(screen: &str, script: &str, xdg: &Path) -> Command {
    let mut cmd = Command::new("xvfb-run");
    cmd.args(["-a", "-s", &format!("-screen 0 {screen}"), "sh", "-c"])
        // xvfb-run tells which display it chose, on stderr.
        .arg(r#"echo "MOAT_X=$DISPLAY $XAUTHORITY" >&2; exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script, xdg, 60);
    cmd
}

/// A run started from [`on_own_display`]: its display, to drive it with
/// xdotool, and its output.
struct OwnDisplay {
    child: std::process::Child,
    display: String,
    xauthority: String,
    stderr: std::thread::JoinHandle<String>,
}

impl OwnDisplay {
    fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn xvfb-run moat-demo");
        let stderr = child.stderr.take().unwrap();
        let (display_tx, display_rx) = std::sync::mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(x) = line.strip_prefix("MOAT_X=") {
                    let _ = display_tx.send(x.to_owned());
                }
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        let x = display_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("xvfb-run reported no display");
        let (display, xauthority) = x.split_once(' ').unwrap_or((x.as_str(), ""));
        Self {
            child,
            display: display.to_owned(),
            xauthority: xauthority.to_owned(),
            stderr,
        }
    }

    /// Runs xdotool on this display, for at most 20 s.
    fn xdotool(&self, args: &[&str]) -> std::process::Output {
        Command::new("timeout")
            .arg("20")
            .arg("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .env("XAUTHORITY", &self.xauthority)
            .output()
            .expect("xdotool (make test installs it)")
    }

    /// Reads the run's results as they come, handing each line to
    /// `on_line` (which may drive the window), until the run ends.
    fn finish(mut self, mut on_line: impl FnMut(&Self, &str)) -> Outcome {
        let mut stdout = String::new();
        for line in BufReader::new(self.child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            on_line(&self, &line);
            stdout.push_str(&line);
            stdout.push('\n');
        }
        let status = self.child.wait().unwrap();
        Outcome {
            code: status.code(),
            stdout,
            stderr: self.stderr.join().unwrap(),
        }
    }
}

/// A stand-in for `xdg-open` (`--harness-opener`) that appends each
/// argument to a log. Returns the script and the log.
fn recording_opener(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("opened.txt");
    let script = dir.join("opener.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n", log.display()),
    )
    .unwrap();
    let mut perm = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&script, perm).unwrap();
    (script, log)
}

/// The lines of `file` once it has `n` (the opener runs detached), or
/// whatever it has after 5 s.
fn wait_for_lines(file: &Path, n: usize) -> Vec<String> {
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(file).unwrap_or_default();
        if text.lines().count() >= n {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    text.lines().map(str::to_owned).collect()
}

fn report_path(xdg: &Path) -> PathBuf {
    xdg.join(APP_ID).join("report.txt")
}

#[test]
fn demo_commands_round_trip_through_the_isolation_frame() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run("roundtrip.js", xdg.path(), 90);
    out.assert_passed(&[
        "greet: hook trims, Rust greets",
        "write_report returns byte count",
        "read_report returns what was written",
        "unicode args round-trip intact",
        "1 MiB round-trips intact",
        "large non-ASCII text round-trips intact",
        "hook rejects oversized report",
        "hook rejects NUL in report",
        "hook returning false rejects",
        "rejected report did not change the file",
        "unknown command",
        "keys are not case-converted",
        "extra key names the field and expected ones",
        "no-arg command refuses arguments",
        "wrong type",
        "app error: code app with data",
        "panicking handler gives handler_failed",
        "panicking async handler gives handler_failed",
        "app keeps running after a panic",
        "non-cloneable args are refused",
        "slow command does not block other calls",
        "200 concurrent calls resolve correctly",
        "reply objects keep JSON semantics (\"__proto__\" is an ordinary key)",
        "large reply objects keep JSON semantics too",
    ]);
    assert_eq!(
        std::fs::read_to_string(report_path(xdg.path())).unwrap(),
        "final report"
    );
    // Atomic writes leave no temp files behind (`.webkit` is WebKit's).
    let leftovers: Vec<_> = std::fs::read_dir(xdg.path().join(APP_ID))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "report.txt" && n != ".webkit")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    out.assert_logged("unknown_command");
    out.assert_logged("bad_args");
    out.assert_logged("handler_failed");
    // The log never carries arguments or plaintext.
    assert!(!out.stderr.contains("Quarterly") && !out.stderr.contains("final report"));
}

#[test]
fn attacks_from_the_main_frame_are_rejected_and_change_nothing() {
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(xdg.path().join(APP_ID)).unwrap();
    std::fs::write(report_path(xdg.path()), "original report").unwrap();
    let out = run("attacks.js", xdg.path(), 90);
    out.assert_passed(&[
        "precondition: report exists",
        "empty body is not an envelope",
        "short garbage is not an envelope",
        "forged envelope does not decrypt",
        "forgery claiming a used counter is decrypt_failed, not replayed",
        "unknown version is not an envelope",
        "raw window.ipc message is rejected",
        "raw message to the reply handler is refused in its promise",
        "non-string message to the reply handler is refused",
        "forged envelope posted with reply does not decrypt",
        "attacker can talk to the real frame",
        "attacker calls still go through the hooks",
        "tampered version byte is rejected",
        "tampered counter is rejected",
        "tampered ciphertext is rejected",
        "tampered tag is rejected",
        "truncated envelope (tag cut) is rejected",
        "truncated to the header is rejected",
        "envelope with a trailing byte is rejected",
        "counter rewritten to a fresh value is rejected",
        "report untouched after tampering",
        "captured envelope works once",
        "replayed envelope is rejected",
        "replayed envelope posted with reply is refused as not inline",
        "a captured envelope posted with reply is not an envelope",
        "and it is not spent: it works once by fetch",
        "envelope replayed after it ran is rejected",
        "sealed write delivered once",
        "replayed write is rejected",
        "report untouched by the replay",
        "out-of-order delivery is accepted",
        "late duplicate is rejected",
        "main frame cannot read the frame document",
        "main frame cannot reach into the frame window",
        "main frame cannot fetch the isolation document",
        "second frame (sandbox=true) has no key",
        "second frame (sandbox=true) cannot seal a call",
        "second frame (sandbox=false) has no key",
        "second frame (sandbox=false) cannot seal a call",
        "legit calls still work after all that",
        "report untouched at the end",
    ]);
    assert_eq!(
        std::fs::read_to_string(report_path(xdg.path())).unwrap(),
        "original report"
    );
    for code in ["not_an_envelope", "decrypt_failed", "replayed"] {
        out.assert_logged(code);
    }
}

/// The seams between page, frame and core, attacked: command-name
/// spellings, non-string names, lone surrogates, reply hijack, windows that
/// are not the partner, nested contexts and subresources, a second and a
/// re-navigated isolation frame (`tests/js/boundaries.js`). Each gets its
/// exact code, and nothing is written.
#[test]
fn boundaries_hold_against_every_spelling_window_and_context() {
    let xdg = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(xdg.path().join(APP_ID)).unwrap();
    std::fs::write(report_path(xdg.path()), "original report").unwrap();
    let out = run("boundaries.js", xdg.path(), 90);
    out.assert_passed(&[
        "command name \"WRITE_REPORT\" is unknown_command",
        "command name \"Write_report\" is unknown_command",
        "command name \"write_report \" is unknown_command",
        "command name \" write_report\" is unknown_command",
        "command name \"write_report\\u0000\" is unknown_command",
        "command name \"write_report\\n\" is unknown_command",
        "command name \"write_report\u{200b}\" is unknown_command",
        "command name \"write\u{2010}report\" is unknown_command",
        "command name \"\u{ff57}\u{ff52}\u{ff49}\u{ff54}\u{ff45}\u{ff3f}\u{ff52}\u{ff45}\u{ff50}\u{ff4f}\u{ff52}\u{ff54}\" is unknown_command",
        "command name \"write_report\u{301}\" is unknown_command",
        "command name \"write_re\u{301}port\" is unknown_command",
        "a command name that is a number is bad_call",
        "a command name that is null is bad_call",
        "a command name that is undefined is bad_call",
        "a command name that is an array is bad_call",
        "a command name that is a String object is bad_call",
        "a command name that is an object with toString is bad_call",
        "frame: a command name that is a number is bad_call",
        "frame: a command name that is null is bad_call",
        "frame: a command name that is an array is bad_call",
        "frame: a command name that is a String object is bad_call",
        "frame: a command name that is an object is bad_call",
        "a lone surrogate in a command name is bad_call",
        "frame: a lone surrogate in a command name is bad_call",
        "a lone surrogate in an argument is bad_args",
        "a lone surrogate in a key is bad_args",
        "a lone surrogate in a path is bad_args",
        "a surrogate pair is a character like any other",
        "reply hijack: an envelope posted under another call's id is bad_call",
        "reply hijack: the other call gets its own reply",
        "reply hijack: the hijacking envelope is spent",
        "reply hijack over the script message: not_an_envelope",
        "relay: a child window of the page runs its own script",
        "the frame ignores calls from a window that is not its parent",
        "forged replies from other windows do not settle a call",
        "the bridge is still ready and calls still work",
        "a child window has no window.ipc",
        "a child window posting to the frame's handler: decrypt_failed",
        "a child window fetching ipc://: decrypt_failed",
        "a worker has no script message handlers",
        "a worker fetching ipc:// gets decrypt_failed or nothing",
        "a blob: worker is refused",
        "a data: worker is refused",
        "sendBeacon to ipc:// throws",
        "the policy blocks frame-src to data",
        "the policy blocks frame-src to blob",
        "the policy blocks img-src to ipc://localhost/1",
        "the policy blocks style-src-elem to ipc://localhost/2",
        "the policy blocks form-action to ipc://localhost/3",
        "a srcdoc frame never loads its document",
        "srcdoc frames are refused as navigations",
        "the child and the worker were refused by the core",
        "the page is still the app",
        "a re-navigated isolation frame has no key",
    ]);
    assert_eq!(
        std::fs::read_to_string(report_path(xdg.path())).unwrap(),
        "original report"
    );
    let files: Vec<_> = std::fs::read_dir(xdg.path().join(APP_ID))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != ".webkit")
        .collect();
    assert_eq!(files, ["report.txt"]);
    let summary = out
        .stderr
        .lines()
        .find(|l| l.contains("refusals during this run"))
        .unwrap_or_else(|| panic!("no refusal summary:\n{}", out.tail()));
    // One no_key for the second frame, one for the re-navigated one.
    for count in [
        "no_key=2",
        "navigation_refused=2",
        "unknown_command=11",
        "bad_call=1",
    ] {
        assert!(summary.contains(count), "{count} not in {summary}");
    }
}

/// Hooks as apps write them, in a chain (an async one first, then the
/// demo's, then one that merges page data naively), the frame's realm
/// frozen under them, the key as the frame holds it, and subresources the
/// app's policy lets aim at `ipc://` (`tests/js/hooks.js`).
#[test]
fn hooks_chain_async_cannot_be_polluted_and_the_key_stays_put() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with_config(
        "hooks.js",
        xdg.path(),
        r#"{"identifier":"dev.moat.hooks","title":"hooks",
            "isolation":{"hooks":["__test__/chain.js","validate.js","__test__/merge.js"]},
            "allowlist":{"commands":["echo","echo_json","write_report","read_report","refusal_counts"],"fs":{"writeFile":true}},
            "scope":{"fs":{"allow":["$APPDATA/**"]}},
            "csp":"default-src 'self'; script-src 'self'; style-src 'self' ipc://localhost; img-src 'self' ipc://localhost; connect-src ipc://localhost; frame-src isolation://localhost; form-action ipc://localhost"}"#,
        &[],
    );
    out.assert_passed(&[
        "async hook: a throw after an await is rejected_by_hook",
        "async hook: false after an await is rejected_by_hook",
        "chain: the hooks after an async rewrite get what it returned",
        "chain: a rewrite into another command is judged by the next hook",
        "chain: nothing was written by the rewritten call",
        "merge: a \"__proto__\" key cannot reach Object.prototype",
        "merge: nor a \"constructor.prototype\" path",
        "merge: file writes are still off",
        "merge: plain preferences still merge",
        "realm: built-in prototypes are frozen before the hooks load",
        "realm: nothing was polluted",
        "realm: an Error subclass still names itself, an object still gets its own toString",
        "arguments named like Object.prototype members arrive as data",
        "rules: a hook cannot eval or compile code",
        "rules: a hook has no storage",
        "rules: a hook cannot reach the page, and window.moat does not exist",
        "rules: replies and pushes never reach the frame",
        "rules: a hook has no network, not even its own folder",
        "key: AES-GCM, 256 bits, for encryption only",
        "key: imported non-extractable",
        "key: exporting it fails with InvalidAccessError",
        "key: its boot element and text are gone from the frame",
        "an <img> and a <link> to ipc:// are bad_origin in the core",
        "a form posted to ipc:// is a refused navigation",
        "the page is still the app",
    ]);
    let dir = xdg.path().join("dev.moat.hooks");
    assert!(!dir.join("polluted.txt").exists());
    assert!(!dir.join("report.txt").exists());
}

/// A hook that cannot load stops the frame: `ready` and every call reject
/// with `hook_failed`, and nothing reaches the core. A hook missing from
/// the hooks directory stops the app at startup instead.
#[test]
fn a_hook_that_fails_to_load_stops_every_call() {
    let xdg = tempfile::tempdir().unwrap();
    let config = xdg.path().join("moat.json");
    let write = |hook: &str| {
        std::fs::write(
            &config,
            format!(
                r#"{{"identifier":"dev.moat.hookfail","title":"hook_failed",
                    "isolation":{{"hooks":["validate.js","__test__/{hook}"]}},
                    "allowlist":{{"commands":["echo","write_report"]}}}}"#
            ),
        )
        .unwrap();
    };
    for (hook, reason) in [
        (
            "broken.js",
            "hook __test__/broken.js failed to load: broken.js: this hook fails at load (__test__/broken.js:2:",
        ),
        (
            "imports_broken.js",
            "hook __test__/imports_broken.js failed to load: broken.js: this hook fails at load (__test__/broken.js:2:",
        ),
        (
            "nodefault.js",
            "hook __test__/nodefault.js has no default-exported function; write `export default function",
        ),
        (
            "patcher.js",
            "(__test__/patcher.js:4:17); the frame's built-ins are frozen before hooks load, and a hook may not change them",
        ),
    ] {
        write(hook);
        let out = run_with(
            "hook_failed.js",
            xdg.path(),
            60,
            &[
                "--harness-config",
                config.to_str().unwrap(),
                "--harness-isolation-may-fail",
            ],
        );
        out.assert_passed(&[
            "ready rejects with hook_failed",
            "a call is refused with hook_failed",
            "so is one made later",
        ]);
        let ready = out.result("ready rejects with hook_failed").unwrap();
        assert!(
            ready["detail"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(reason)),
            "{hook}: {ready}"
        );
        // The app's log hears it from the frame (a sealed report), and no
        // call of the page's reached the core.
        let report = out
            .stderr
            .lines()
            .find(|l| l.contains("the isolation frame reports a problem"))
            .unwrap_or_else(|| panic!("{hook}: no report in the log:\n{}", out.tail()));
        assert!(
            report.contains("what=hook_failed") && report.contains(reason),
            "{hook}: {report}"
        );
        let calls = out
            .stderr
            .lines()
            .filter(|l| l.contains("ipc.call{") && !l.contains("moat.frame_report"))
            .count();
        assert_eq!(calls, 0, "{hook}: a call reached the core:\n{}", out.tail());
    }
    // Mistakes the startup check catches: the app does not start, and says
    // where and what to do.
    for (hook, message) in [
        (
            "syntax_error.js",
            "hooks/__test__/syntax_error.js:3: not a valid ES module",
        ),
        (
            "bare_import.js",
            "hooks/__test__/bare_import.js:3: imports `zod`, a package name",
        ),
    ] {
        write(hook);
        let out = run_with(
            "hook_failed.js",
            xdg.path(),
            60,
            &["--harness-config", config.to_str().unwrap()],
        );
        assert_eq!(out.code, Some(2), "{}", out.tail());
        assert!(out.stderr.contains(message), "{hook}:\n{}", out.tail());
    }
    write("missing.js");
    let out = run_with(
        "hook_failed.js",
        xdg.path(),
        60,
        &["--harness-config", config.to_str().unwrap()],
    );
    assert_eq!(out.code, Some(2), "{}", out.tail());
    assert!(
        out.stderr
            .contains("`__test__/missing.js` is not in the hooks directory"),
        "{}",
        out.tail()
    );
}

/// A hook that validates with a library copied into the hooks folder (the
/// README's recipe), a hook that returns what a hook may not, and a hook
/// that imports a missing file at call time (`tests/js/library_hook.js`).
#[test]
fn a_hook_can_use_a_library_and_mistakes_name_the_hook() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with_config(
        "library_hook.js",
        xdg.path(),
        r#"{"identifier":"dev.moat.libhook","title":"library hook",
            "isolation":{"hooks":["__test__/schema.js","__test__/wrong_return.js","__test__/dynamic_missing.js"]},
            "allowlist":{"commands":["greet","echo","write_report"]}}"#,
        &[],
    );
    out.assert_passed(&[
        "library hook: a valid call passes",
        "library hook: an empty name is refused with the schema's message",
        "library hook: an extra key is refused",
        "library hook: a command without a schema is refused",
        "a wrong return value names the hook, the value and what is allowed",
        "a hook cannot rewrite a call into a reserved name",
        "a reserved command name from the page is bad_call",
        "an import of a missing file at call time is refused",
    ]);
    assert!(
        !out.stderr.contains("forged"),
        "a forged frame report reached the log:\n{}",
        out.tail()
    );
    assert!(
        out.stderr.contains(
            "isolation request for a file not in the hooks folder path=/hooks/__test__/not-there.js"
        ),
        "{}",
        out.tail()
    );
}

/// Default Vite builds of a React, a Vue and a Svelte app, served unchanged
/// (`tests/frontends/`, `tests/js/framework.js`): each renders, loads its
/// CSS, lazy chunk, image and `data:` font, calls Rust, takes the nonce
/// from `<meta property="csp-nonce">`, and keeps a client-side route over
/// a reload; nothing but the test's own unnonced `<style>` is refused.
#[test]
fn react_vue_and_svelte_builds_run_unchanged() {
    for (name, title) in [("react", "React"), ("vue", "Vue"), ("svelte", "Svelte")] {
        let xdg = tempfile::tempdir().unwrap();
        let out = run_with(
            "framework.js",
            xdg.path(),
            60,
            &["--harness-frontend", name, "--harness-console"],
        );
        let mut expected: Vec<String> = [
            "renders and calls Rust",
            "its stylesheet applies",
            "a lazy chunk loads, with its own stylesheet",
            "an image loads",
            "a font inlined as data: loads",
            "the response's nonce is in <meta property=\"csp-nonce\">",
            "and only where CSS cannot read it",
            "a <style> added with the meta's nonce applies",
            "one without it does not",
            "the router moved to /settings/profile",
            "a reload on a client-side route serves the app",
        ]
        .iter()
        .map(|c| format!("{title}: {c}"))
        .collect();
        if name == "react" {
            expected.push("React: styled-components styles apply (nonce from the meta)".into());
        }
        let names: Vec<&str> = expected.iter().map(String::as_str).collect();
        out.assert_passed(&names);
        let refused: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.contains("CONSOLE SECURITY ERROR"))
            .collect();
        assert_eq!(refused.len(), 1, "{name}: {refused:#?}");
    }
}

/// The development loop: with `MOAT_FRONTEND_DIR` (debug builds) the
/// frontend is read from disk at every request, prepared like the embedded
/// copy, so an edit shows on reload (`tests/js/devloop.js`).
#[test]
fn a_debug_build_serves_the_frontend_from_disk_when_asked() {
    let xdg = tempfile::tempdir().unwrap();
    let dir = xdg.path().join(APP_ID).join("frontend");
    std::fs::create_dir_all(&dir).unwrap();
    let root = root().join("demo-frontend");
    for name in ["index.html", "app.js", "style.css"] {
        std::fs::copy(root.join(name), dir.join(name)).unwrap();
    }
    // Hidden files, and harmless-looking names for them and for a file
    // outside the folder (each sets a global if it is ever run).
    std::fs::write(dir.join(".env"), "window.leakedEnv = 1;").unwrap();
    std::fs::create_dir(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/hook.js"), "window.leakedGit = 1;").unwrap();
    let outside = xdg.path().join("outside.js");
    std::fs::write(&outside, "window.leakedOutside = 1;").unwrap();
    std::os::unix::fs::symlink(".env", dir.join("env.js")).unwrap();
    std::os::unix::fs::symlink(".git", dir.join("git")).unwrap();
    std::fs::hard_link(&outside, dir.join("linked.js")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, "devloop.js", xdg.path(), 60);
    let out = Outcome::from(
        cmd.env("MOAT_FRONTEND_DIR", &dir)
            .output()
            .expect("spawn moat-demo"),
    );
    out.assert_passed(&[
        "devloop: the frontend is the copy on disk",
        "devloop: the edit is written",
        "devloop: a reload shows the edit",
        "devloop: the edited page is prepared again (its inline script runs by hash)",
        "devloop: and gets the nonce meta",
        "devloop: calls still work",
        "devloop: a symlink to a dotfile is not served",
        "devloop: a symlink to a hidden folder is not served",
        "devloop: a hard link to a file outside is not served",
    ]);
    assert!(
        out.stderr.contains("serving the frontend from disk"),
        "{}",
        out.tail()
    );
    // The embedded copy was not touched.
    assert!(!std::fs::read_to_string(root.join("index.html"))
        .unwrap()
        .contains("edited"));
}

/// Push from Rust (`tests/js/push.js`): channels deliver in order and
/// before their call's reply on every transport, and nothing after the
/// command finished; events reach their listeners only.
#[test]
fn rust_pushes_events_and_channel_messages_to_the_page() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run("push.js", xdg.path(), 60);
    out.assert_passed(&[
        "channel: every message arrives, in order, before the reply",
        "channel: a reply in the post's answer still comes after its 1 message(s)",
        "channel: a reply in the post's answer still comes after its 50 message(s)",
        "channel: a reply in a fetch response still comes after its 1 message(s)",
        "channel: a reply in a fetch response still comes after its 50 message(s)",
        "channel: a fast reply still comes after its messages",
        "channel: a send after the command finished is not delivered",
        "channel: and is an error in Rust",
        "channel: concurrent calls each get their own messages",
        "channel: a hand-written marker reaches nothing and the call settles",
        "channel: a command refused before it ran settles at once",
        "event: a listener gets the payload",
        "event: every listener of the name gets it",
        "event: after unlisten, nothing more",
        "event: an event with no listener is dropped quietly",
        "event: listen checks the name",
        "event: emit checks the name in Rust",
        "event: the background clock ticks",
    ]);
}

/// `shell.spawn` (`tests/js/spawn.js`): output streamed complete and in
/// order, stdin, kill, the scope's refusals, and programs that end with
/// their page load and with the app.
#[test]
fn spawned_programs_stream_obey_the_scope_and_end_with_their_page() {
    let xdg = tempfile::tempdir().unwrap();
    let file = xdg.path().join("moat.json");
    std::fs::write(&file, r##"{"identifier": "dev.moat.spawn", "title": "spawn", "isolation": {"hooks": ["validate.js"]}, "allowlist": {"commands": [], "shell": {"spawn": true}}, "scope": {"shell": [{"name": "seq", "cmd": "seq", "args": [{"validator": "[0-9]+"}]}, {"name": "both", "cmd": "sh", "args": ["-c", "echo to stdout; echo to stderr >&2; exit 3"]}, {"name": "cat", "cmd": "cat", "args": false}, {"name": "sleep", "cmd": "sleep", "args": [{"validator": "[0-9]+"}]}]}, "limits": {"maxMessageBytes": 1048576, "callTimeoutMs": 10000}}"##).unwrap();
    let running = |pattern: &str| {
        Command::new("pgrep")
            .args(["-f", pattern])
            .output()
            .expect("pgrep")
            .status
            .success()
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, "spawn.js", xdg.path(), 60);
    cmd.args(["--harness-config", file.to_str().unwrap()]);
    let (mut before_reload, mut after_reload) = (None, None);
    let out = run_watching(cmd, |name, _| match name {
        "spawn: a program is running when the page reloads" => {
            before_reload = Some(running("sleep 3017$"))
        }
        "spawn: the next page load started" => {
            // Ended with its page load (checked every 50 ms, up to 3 s).
            let gone = (0..60).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                !running("sleep 3017$")
            });
            after_reload = Some(gone);
        }
        _ => {}
    });
    out.assert_passed(&[
        "spawn: stdout arrives complete and in order",
        "spawn: in several messages, as it comes",
        "spawn: stdout and stderr are told apart",
        "spawn: writes reach stdin",
        "spawn: closing stdin ends cat",
        "spawn: a program that was spawned without stdin cannot be written to",
        "spawn: kill ends it, and says so",
        "spawn: a finished program cannot be killed",
        "spawn: nor an id that was never given",
        "spawn: a program outside the scope is scope_denied",
        "spawn: a program outside the scope never starts",
        "spawn: an argument its validator refuses is scope_denied",
        "spawn: an argument its validator refuses never starts",
        "spawn: more arguments than the entry takes is scope_denied",
        "spawn: more arguments than the entry takes never starts",
        "spawn: arguments to an entry that takes none is scope_denied",
        "spawn: arguments to an entry that takes none never starts",
        "spawn: a program is running when the page reloads",
        "spawn: the next page load started",
        "spawn: a program is running when the app exits",
    ]);
    assert_eq!(
        before_reload,
        Some(true),
        "sleep 3017 was not running before the reload"
    );
    assert_eq!(
        after_reload,
        Some(true),
        "sleep 3017 outlived its page load"
    );
    // The program started by the last page load ended with the app.
    let left = Command::new("pgrep")
        .args(["-f", "sleep 3018$"])
        .output()
        .expect("pgrep");
    assert_eq!(
        left.status.code(),
        Some(1),
        "still running: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

/// Bytes both ways (`tests/js/bytes.js`): 0 B to 64 MiB hashed on both
/// sides, every kind of view, fs with bytes, and markers and reply bytes
/// the page cannot forge or take.
#[test]
fn bytes_cross_whole_both_ways() {
    let xdg = tempfile::tempdir().unwrap();
    let config = xdg.path().join("moat.json");
    std::fs::write(&config, r##"{"identifier": "dev.moat.bytes", "title": "bytes", "isolation": {"hooks": ["validate.js"]}, "allowlist": {"commands": ["bytes_echo", "bytes_sha256", "bytes_join", "echo_json"], "fs": {"readFile": true, "writeFile": true}}, "scope": {"fs": {"allow": ["$APPDATA/**"]}}, "limits": {"maxMessageBytes": 83886080, "callTimeoutMs": 30000}}"##).unwrap();
    let out = run_with(
        "bytes.js",
        xdg.path(),
        120,
        &["--harness-config", config.to_str().unwrap()],
    );
    out.assert_passed(&[
        "bytes: 0 B reach Rust whole",
        "bytes: 0 B come back whole, as a Uint8Array",
        "bytes: 1 byte reach Rust whole",
        "bytes: 1 byte come back whole, as a Uint8Array",
        "bytes: every byte value reach Rust whole",
        "bytes: every byte value come back whole, as a Uint8Array",
        "bytes: 1 MiB reach Rust whole",
        "bytes: 1 MiB come back whole, as a Uint8Array",
        "bytes: 64 MiB reach Rust whole",
        "bytes: 64 MiB come back whole, as a Uint8Array",
        "bytes: an ArrayBuffer is bytes",
        "bytes: a DataView is the bytes it views",
        "bytes: a Float32Array is its bytes",
        "bytes: a subarray is only its bytes",
        "bytes: several in one call, the largest outweighing the rest, each arrive whole and in place",
        "bytes: several in one call, outweighed by text, each arrive whole and in place",
        "bytes: an array of numbers is not bytes",
        "bytes: a base64 string is not bytes",
        "bytes: a hand-written marker is refused by the frame",
        "bytes: so is a marker key anywhere",
        "bytes: reply bytes nobody is owed are not found",
        "bytes: nor reachable without the app's Origin",
        "bytes: fs.writeFile then fs.readFile round-trips every byte value",
        "bytes: fs.readTextFile refuses a file that is not UTF-8",
        "bytes: fs.writeFile is scoped like writeTextFile",
    ]);
}

/// File choosers and their grants (`tests/js/dialog.js`), answered by the
/// harness: a pick is readable and writable for its page load only, as
/// itself (glob characters literal) or as a tree (no dotfiles, no symlink
/// out, not the parent).
#[test]
fn files_the_user_picks_are_granted_for_the_page_load_only() {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let (picked, tree, outside) = (root.join("picked"), root.join("tree"), root.join("outside"));
    for d in [&picked, &tree, &outside] {
        std::fs::create_dir_all(d).unwrap();
    }
    let file = |p: &Path, text: &str| std::fs::write(p, text).unwrap();
    file(&picked.join("notes.txt"), "notes");
    file(&picked.join("a*.txt"), "star");
    file(&picked.join("ab.txt"), "ab");
    file(&tree.join("inside.txt"), "inside");
    file(&tree.join(".hidden"), "hidden");
    file(&root.join("parent.txt"), "parent");
    file(&outside.join("secret.txt"), "secret");
    std::os::unix::fs::symlink(outside.join("secret.txt"), tree.join("link")).unwrap();
    let p = |path: PathBuf| path.to_string_lossy().into_owned();
    let t = serde_json::json!({
        "notes": p(picked.join("notes.txt")),
        "star": p(picked.join("a*.txt")),
        "ab": p(picked.join("ab.txt")),
        "tree": p(tree.clone()),
        "parentFile": p(root.join("parent.txt")),
        "saved": p(root.join("saved.txt")),
    });
    let answers = [
        p(picked.join("notes.txt")),
        "cancel".into(),
        p(picked.join("a*.txt")),
        p(tree.clone()),
        p(root.join("saved.txt")),
        format!(
            "{}\t{}",
            p(picked.join("ab.txt")),
            p(root.join("parent.txt"))
        ),
    ];
    let answers_file = root.join("answers.txt");
    std::fs::write(&answers_file, answers.join("\n")).unwrap();
    let config = root.join("moat.json");
    std::fs::write(
        &config,
        r#"{"identifier":"dev.moat.dialog","title":"dialog","isolation":{"hooks":["validate.js"]},
            "allowlist":{"commands":[],"fs":{"readFile":true,"writeFile":true,"readDir":true},"dialog":{"open":true,"save":true}},
            "scope":{"fs":{"allow":["$APPDATA/**"]}}}"#,
    )
    .unwrap();
    let script = root.join("dialog.prelude.js");
    std::fs::write(
        &script,
        format!(
            "const T = {t};\n{}",
            std::fs::read_to_string(js("dialog.js")).unwrap()
        ),
    )
    .unwrap();
    let out = run_with(
        script.to_str().unwrap(),
        xdg.path(),
        60,
        &[
            "--harness-config",
            config.to_str().unwrap(),
            "--harness-dialog",
            answers_file.to_str().unwrap(),
        ],
    );
    out.assert_passed(&[
        "dialog: a page that never opened a dialog cannot read the path",
        "dialog: open resolves to the chosen path",
        "dialog: and grants it for reading",
        "dialog: and writing",
        "dialog: a cancelled dialog resolves to null",
        "dialog: a name with glob characters is granted",
        "dialog: and only itself (a*.txt does not grant ab.txt)",
        "dialog: a directory grants its tree",
        "dialog: its listing hides what the grant does not cover",
        "dialog: not its dotfiles",
        "dialog: not a symlink out of it",
        "dialog: not its parent",
        "dialog: save resolves to the chosen path",
        "dialog: and grants writing it",
        "dialog: but not its neighbour",
        "dialog: multiple resolves to every chosen path",
        "dialog: each is granted",
        "dialog: a filter is extensions, not patterns",
        "dialog: a reload ends every grant",
    ]);
    assert_eq!(
        std::fs::read_to_string(root.join("saved.txt")).unwrap(),
        "saved"
    );
    assert!(
        out.stderr.contains("fs grant: chosen in a dialog"),
        "{}",
        out.tail()
    );
}

/// The real GTK file chooser, driven with xdotool on a display of its own:
/// a path typed into it comes back to the page and is granted
/// (`tests/js/chooser.js`).
#[test]
fn the_real_gtk_chooser_answers_with_what_the_user_typed() {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let file = root.join("chosen.txt");
    std::fs::write(&file, "chosen for real").unwrap();
    let config = root.join("moat.json");
    std::fs::write(
        &config,
        r#"{"identifier":"dev.moat.chooser","title":"chooser","isolation":{"hooks":["validate.js"]},
            "allowlist":{"commands":[],"fs":{"readFile":true},"dialog":{"open":true}}}"#,
    )
    .unwrap();
    let script = root.join("chooser.prelude.js");
    let t = serde_json::json!({ "file": file.to_string_lossy() });
    std::fs::write(
        &script,
        format!(
            "const T = {t};\n{}",
            std::fs::read_to_string(js("chooser.js")).unwrap()
        ),
    )
    .unwrap();
    let mut cmd = on_own_display("1024x768x24", script.to_str().unwrap(), xdg.path());
    cmd.arg("--harness-config").arg(&config).env("HOME", &root);
    let out = OwnDisplay::start(cmd).finish(|run, line| {
        if line.contains("chooser: about to open") {
            let found = run.xdotool(&["search", "--sync", "--onlyvisible", "--name", "^Open$"]);
            let id = String::from_utf8_lossy(&found.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            assert!(!id.is_empty(), "no chooser window appeared");
            run.xdotool(&["windowfocus", "--sync", &id]);
            // Ctrl+L opens the chooser's location entry; typing into it
            // only once it is there (a leading "/" opens it too, but the
            // keys typed while it appears can be lost); Return accepts.
            run.xdotool(&["key", "ctrl+l"]);
            std::thread::sleep(std::time::Duration::from_millis(500));
            run.xdotool(&["type", "--delay", "30", &file.to_string_lossy()]);
            std::thread::sleep(std::time::Duration::from_millis(300));
            run.xdotool(&["key", "Return"]);
        }
    });
    out.assert_passed(&[
        "chooser: about to open",
        "chooser: the path typed into GTK's chooser comes back",
        "chooser: and is granted",
    ]);
}

#[test]
fn envelopes_do_not_survive_a_page_reload() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run("reload.js", xdg.path(), 60);
    out.assert_passed(&[
        "first load: call works",
        "envelope from the previous page load is rejected",
        "after reload: calls work under the new key",
    ]);
}

/// The harness itself must be able to fail: a failing result and a hung
/// script both end in a non-zero exit and an honest closing line.
#[test]
fn harness_reports_failures_and_timeouts() {
    let xdg = tempfile::tempdir().unwrap();
    let failing = run("selftest_fail.js", xdg.path(), 30);
    assert_eq!(failing.code, Some(1), "{}", failing.stdout);
    assert!(
        failing.stdout.lines().any(|l| l == "1 passed, 1 failed"),
        "{}",
        failing.stdout
    );

    let hung = run("selftest_hang.js", xdg.path(), 3);
    assert_eq!(hung.code, Some(1), "{}", hung.stdout);
    assert!(hung.result("harness timeout").is_some(), "{}", hung.stdout);
}

#[test]
fn content_is_locked_down() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run("lockdown.js", xdg.path(), 90);
    out.assert_passed(&[
        "the bridge runs in strict mode",
        "served inline script runs (its hash is in the policy)",
        "inline script added at run time does not run",
        "served <style> applies (nonce)",
        "served stylesheet applies (nonce)",
        "inline style= attribute is blocked",
        "style added at run time without nonce does not apply",
        "control: the same style with this load's nonce applies",
        "<base href> is blocked",
        "<object> is blocked",
        "form posting elsewhere is blocked",
        "script from another origin is blocked",
        "navigation to http: is refused and the page stays",
        "navigation to https: is refused and the page stays",
        "navigation to file: is refused and the page stays",
        "navigation to ws: is refused and the page stays",
        "window.open is denied",
        "window.open of the app itself is denied too",
        "notification permission is denied",
        "geolocation is denied by the permission handler",
        "nonce changes on reload",
        "a nonce from the previous load does not work after reload",
    ]);
    assert!(out.stderr.contains("navigation refused"), "{}", out.tail());
    assert!(
        out.stderr.contains(
            "permission request denied (not granted in config.permissions) kind=Geolocation"
        ),
        "{}",
        out.tail()
    );
    // window.open without a user gesture and Notification.requestPermission
    // are refused by WebKit before Moat's handlers are asked (see
    // docs/webkitgtk.md); the handlers deny what does reach them.
}

#[test]
fn calls_time_out_and_early_calls_are_queued() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with(
        "timeout.js",
        xdg.path(),
        60,
        &["--harness-call-timeout-ms", "500"],
    );
    out.assert_passed(&[
        "a call that never returns in time rejects with timeout",
        "calls work after a late reply",
        "each call times out at its own deadline, the earliest first",
        "a timeoutMs that is not a number of milliseconds is refused",
        "a timeout longer than a timer can wait does not fire early",
        "a call made before the frame was ready is queued and answered",
    ]);
}

/// A `target=_blank` link and a `download` link, clicked for real (xdotool,
/// so WebKit sees a user gesture and asks Moat's handlers): both refused.
#[test]
fn new_windows_and_downloads_from_real_clicks_are_refused() {
    let xdg = tempfile::tempdir().unwrap();
    let mut cmd = on_own_display("800x600x24", "gesture.js", xdg.path());
    let (opener, open_log) = recording_opener(xdg.path());
    cmd.arg("--harness-opener")
        .arg(&opener)
        // Where a download would land (XDG download dir falls back to
        // $HOME/Downloads): checked empty afterwards.
        .env("HOME", xdg.path());
    let out = OwnDisplay::start(cmd).finish(|run, line| {
        if line.contains("click targets placed") {
            // No window manager: the window sits at the screen's origin, so
            // page coordinates are screen coordinates.
            for (x, y) in [(100, 60), (100, 260), (100, 460)] {
                let (x, y) = (x.to_string(), y.to_string());
                let ok = run
                    .xdotool(&["mousemove", &x, &y, "click", "1"])
                    .status
                    .success();
                assert!(ok, "xdotool failed");
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
        }
    });
    out.assert_passed(&[
        "click targets placed",
        "all three links were clicked by a real user gesture",
        "the page stays after a target=_blank click and a download click",
    ]);
    // Only the link inside the demo's scope.open reached the system opener.
    assert_eq!(
        wait_for_lines(&open_log, 1),
        ["https://github.com/moat-demo"]
    );
    assert!(
        out.stderr
            .contains("new window refused url=https://example.com/"),
        "{}",
        out.tail()
    );
    // WebKit asks the navigation policy before it starts a download; the blob:
    // URL is not the app's, so the download never begins.
    assert!(
        out.stderr.contains("download refused")
            || out
                .stderr
                .contains("navigation refused: not the app's origin url=blob:"),
        "{}",
        out.tail()
    );
    let downloads = xdg.path().join("Downloads");
    let written: Vec<_> = std::fs::read_dir(&downloads)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(written.is_empty(), "downloaded: {written:?}");
}

/// `frame-ancestors` on the isolation document says "only the app", but
/// WebKitGTK matches ancestors by URL, so a sandboxed (opaque-origin) app page
/// passes it; the frame's own check (a direct child of the app's top-level
/// page, by `location.ancestorOrigins`) refuses both nested cases.
#[test]
fn isolation_document_runs_only_as_a_direct_child_of_the_app() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with_config(
        "frame_ancestors.js",
        xdg.path(),
        r#"{"identifier":"dev.moat.frames","title":"frames","isolation":{"hooks":["validate.js"]},
            "csp":"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; connect-src ipc://localhost; frame-ancestors 'none'"}"#,
        &["--harness-console"],
    );
    out.assert_passed(&[
        "isolation document nested below an app page refuses to run",
        "calls through the real frame still work",
    ]);
    for ancestors in [
        r#"framed by ["null","app://localhost"]"#,
        r#"framed by ["app://localhost","app://localhost"]"#,
    ] {
        // WebKit writes console messages to stderr, whatever the setting's
        // name ("…to_stdout") says.
        assert!(
            out.stderr
                .lines()
                .any(|l| l.contains("moat isolation: refusing to run") && l.contains(ancestors)),
            "no refusal for {ancestors}:\n{}",
            out.tail()
        );
    }
}

#[test]
fn calls_past_the_rate_limit_are_refused_before_opening() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with_config(
        "rate.js",
        xdg.path(),
        r#"{"identifier":"dev.moat.rate","title":"rate","isolation":{"hooks":["validate.js"]},
            "limits":{"maxMessageBytes":1048576,"callTimeoutMs":30000,"maxCallsPerSecond":20}}"#,
        &[],
    );
    out.assert_passed(&[
        "a burst past the limit is partly refused with rate_limited",
        "the refusal says the limit",
        "calls pass again after the bucket refills",
    ]);
    out.assert_logged("rate_limited");
}

/// The demo's scoped-module buttons and its scope attack lab, with the
/// demo's own moat.json.
#[test]
fn demo_scope_lab_refuses_every_attack() {
    let xdg = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
    std::fs::write(home.path().join(".ssh/id_rsa"), "PRIVATE KEY").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, "demo_lab.js", xdg.path(), 60);
    let hello = home.path().join("hello.txt");
    std::fs::write(&hello, "hello").unwrap();
    let answers = xdg.path().join("answers.txt");
    std::fs::write(&answers, hello.to_string_lossy().as_bytes()).unwrap();
    let out = cmd
        .arg("--harness-dialog")
        .arg(&answers)
        .env("HOME", home.path())
        .output()
        .expect("spawn moat-demo");
    let out = Outcome::from(out);
    out.assert_passed(&[
        "demo: notes are written to $APPDATA",
        "demo: notes read back",
        "demo: $APPDATA lists notes.txt",
        "demo: uname -s runs",
        "demo attack lab: ssh is refused with scope_denied",
        "demo attack lab: dotdot is refused with path_invalid",
        "demo attack lab: sh is refused with scope_denied",
        "demo attack lab: inject is refused with scope_denied",
        "demo attack lab: open-file is refused with scope_denied",
        "demo attack lab: forge is refused with decrypt_failed",
        "demo attack lab: empty is refused with not_an_envelope",
        "demo attack lab: raw is refused with not_an_envelope",
        "demo attack lab: post is refused with not_an_envelope",
        "demo attack lab: forge moves the decrypt_failed count",
        "demo attack lab: empty moves the not_an_envelope count",
        "demo attack lab: raw moves the not_an_envelope count",
        "demo attack lab: post moves the not_an_envelope count",
        "demo attack lab: key moves the no_key count",
        "demo attack lab: ssh moves the scope_denied count",
        "demo attack lab: dotdot moves the path_invalid count",
        "demo attack lab: sh moves the scope_denied count",
        "demo attack lab: inject moves the scope_denied count",
        "demo attack lab: open-file moves the scope_denied count",
        "demo attack lab: a second isolation frame has no key",
        "demo: the log keeps the newest entries that fit, and never overflows",
        "demo: a picked file is read as bytes and hashed in Rust",
        "demo: shell.spawn streams the ticker",
        "demo: kill ends it",
    ]);
    assert!(xdg.path().join(APP_ID).join("notes.txt").exists());
    assert!(!out.stdout.contains("PRIVATE KEY"));
    // Each refusal is an event under one target, and the app ends with a
    // summary of the counts.
    let refusals = out
        .stderr
        .lines()
        .filter(|l| l.contains("moat::refusal"))
        .count();
    assert!(refusals >= 20, "{refusals} refusal events:\n{}", out.tail());
    let summary = out
        .stderr
        .lines()
        .find(|l| l.contains("refusals during this run"))
        .unwrap_or_else(|| panic!("no refusal summary at exit:\n{}", out.tail()));
    for code in [
        "decrypt_failed=2",
        "not_an_envelope=",
        "no_key=1",
        "path_invalid=2",
        "scope_denied=",
    ] {
        assert!(summary.contains(code), "{code} not in {summary}");
    }
}

/// One HTTP/1.1 request as the test servers read it: the head, then as much
/// body as it declares (a client may send them in separate writes), at most
/// 8 KiB.
fn read_request(s: &mut impl std::io::Read) -> Vec<u8> {
    let mut buf = vec![0u8; 8192];
    let mut n = 0;
    loop {
        let got = s.read(&mut buf[n..]).unwrap_or(0);
        n += got;
        let text = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
        let complete = text.find("\r\n\r\n").is_some_and(|end| {
            let declared = text
                .split("\r\n")
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            n >= end + 4 + declared
        });
        if got == 0 || complete || n == buf.len() {
            break;
        }
    }
    buf.truncate(n);
    buf
}

/// A tiny HTTP/1.1 server for `http.fetch`: `/ok/hello`, redirects inside
/// and outside the scope, and `/forbidden/…`, which must never be asked for.
/// Returns the port and the list of paths requested.
fn http_server() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let request = read_request(&mut s);
            let head = String::from_utf8_lossy(&request).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
            log.lock().unwrap().push(path.clone());
            let big = "x".repeat(200_000);
            let every: Vec<u8> = (0..=255u8).collect();
            let sent = head
                .find("\r\n\r\n")
                .map_or(&[][..], |i| &request[i + 4..])
                .to_vec();
            let binary = match path.as_str() {
                "/ok/bytes" => Some(every),
                "/ok/echo" => Some(sent),
                _ => None,
            };
            if let Some(body) = binary {
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(&body);
                continue;
            }
            let (status, extra, body) = match path.as_str() {
                "/ok/hello" => ("200 OK", String::new(), "hello"),
                "/ok/big" => ("200 OK", String::new(), big.as_str()),
                "/ok/auth" => (
                    "200 OK",
                    String::new(),
                    if head.to_ascii_lowercase().contains("\r\nauthorization:") {
                        "with-auth"
                    } else {
                        "no-auth"
                    },
                ),
                "/ok/redirect-other-origin" => (
                    "302 Found",
                    format!("Location: http://localhost:{port}/ok/auth\r\n"),
                    "",
                ),
                "/ok/redirect-same-origin" => ("302 Found", "Location: /ok/auth\r\n".into(), ""),
                "/ok/redirect-in" => ("302 Found", "Location: /ok/hello\r\n".into(), ""),
                // GHSA-p2jh-44qj-pf2v: a redirect to a local or network file.
                "/ok/redirect-file" => ("302 Found", "Location: file:///etc/passwd\r\n".into(), ""),
                "/ok/redirect-smb" => (
                    "302 Found",
                    "Location: smb://127.0.0.1/share/secret\r\n".into(),
                    "",
                ),
                "/ok/redirect-out" => (
                    "302 Found",
                    format!("Location: http://127.0.0.1:{port}/forbidden/data\r\n"),
                    "",
                ),
                _ => ("200 OK", String::new(), "LEAKED"),
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen)
}

/// The built-in modules (`fs`, `asset`, `shell`, `open`, `http`) with
/// scopes inside a temp dir, attacked from the page.
#[test]
fn built_in_modules_stay_inside_their_scopes() {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let appdata = root.join("dev.moat.scopes");
    let outside = root.join("outside");
    for d in [&appdata.join("secret"), &appdata.join("public"), &outside] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(appdata.join("secret/key.txt"), "key").unwrap();
    std::fs::write(appdata.join(".hidden"), "dot").unwrap();
    std::fs::write(appdata.join("public/hello.txt"), "public").unwrap();
    std::fs::write(outside.join("secret.txt"), "outside secret").unwrap();
    // 1×1 PNG.
    const DOT: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\xff\xff?\0\x05\xfe\x02\xfe\xa75\x81\x84\0\0\0\0IEND\xaeB`\x82";
    std::fs::write(appdata.join("public/dot.png"), DOT).unwrap();
    std::fs::write(appdata.join("public/big.bin"), vec![7u8; 100_000]).unwrap();
    std::os::unix::fs::symlink(&outside, appdata.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), appdata.join("public/out.txt")).unwrap();
    std::fs::hard_link(
        outside.join("secret.txt"),
        appdata.join("public/linked.txt"),
    )
    .unwrap();

    let (opener, open_log) = recording_opener(&root);

    let (port, seen) = http_server();
    let config = serde_json::json!({
        "identifier": "dev.moat.scopes",
        "title": "scopes",
        "isolation": { "hooks": ["validate.js"] },
        "limits": { "maxMessageBytes": 65536, "callTimeoutMs": 30000 },
        "allowlist": {
            "fs": { "readFile": true, "writeFile": true, "readDir": true },
            "shell": { "execute": true, "open": true },
            "http": { "fetch": true },
            "asset": true
        },
        "scope": {
            "fs": { "allow": ["$APPDATA/**"], "deny": ["$APPDATA/secret/**"] },
            "asset": { "allow": ["$APPDATA/public/*"] },
            "shell": [
                { "name": "echo", "cmd": "echo", "args": ["-n", { "validator": "[a-z ]+" }] },
                { "name": "printf", "cmd": "printf", "args": ["%s", { "validator": "[^\\n]*" }] }
            ],
            "open": { "allow": ["https://example.com/**", "mailto:*"] },
            "http": { "allow": ["http://127.0.0.1:*/ok/**", "http://localhost:*/ok/auth"], "deny": ["http://127.0.0.1:*/ok/secret"] }
        }
    });
    let config_file = root.join("moat.json");
    std::fs::write(&config_file, config.to_string()).unwrap();
    let prelude = serde_json::json!({
        "appdata": appdata, "outside": outside, "port": port,
    });
    let script = root.join("scopes.prelude.js");
    std::fs::write(
        &script,
        format!(
            "const T = {prelude};\n{}",
            std::fs::read_to_string(js("scopes.js")).unwrap()
        ),
    )
    .unwrap();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), xdg.path(), 90);
    let out = cmd
        .arg("--harness-config")
        .arg(&config_file)
        .arg("--harness-opener")
        .arg(&opener)
        .current_dir(&root)
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .expect("spawn moat-demo");
    let out = Outcome::from(out);
    out.assert_passed(&[
        "http: a response as bytes has every byte value",
        "http: as text, what is not UTF-8 is replaced",
        "http: a body of bytes is sent as is",
        "http: responseType is text or bytes",
        "fs: write inside the scope",
        "fs: read it back by variable",
        "fs: listing shows what the scope covers and hides the rest",
        "fs: deny pattern wins over allow",
        "fs: a symlinked directory pointing out is followed and refused",
        "fs: `**` does not reach dotfiles",
        "fs: `..` is refused before anything is opened",
        "fs: glob characters in a path are literal",
        "fs: every probe outside the scope gets one answer, existing or not",
        "fs: a hard link to a file outside is not read",
        "asset: a missing file outside scope.asset is 403 too",
        "asset: a missing file inside scope.asset is 404",
        "asset: a hard link to a file outside is 403",
        "fs: writing through a symlink out is refused",
        "fs: a function the allowlist leaves off is not_allowed",
        "asset: a file inside the scope is served",
        "asset: responses are sandboxed and nosniff",
        "asset: a file outside scope.asset is 403",
        "asset: a byte range is served as 206 with its Content-Range",
        "asset: a range past the end is 416",
        "asset: a file over the message limit is not served whole",
        "asset: an open range of a large file gets one limit-sized part",
        "asset: a symlink out of the scope is 403",
        "asset: <img> loads from asset: (the policy allows it)",
        "shell: an entry runs with valid arguments",
        "shell: validators are anchored",
        "shell: a program with no entry is refused",
        "shell: metacharacters reach the program as plain bytes",
        "open: an allowed URL is handed to the opener",
        "open: file is refused",
        "open: smb is refused",
        "open: nfs is refused",
        "open: https outside the scope is refused",
        "http: a URL inside the scope is fetched",
        "http: a redirect inside the scope is followed",
        "http: a redirect out of the scope is refused",
        "http: a redirect to file: is refused",
        "http: a redirect to smb: is refused",
        "http: credentials in the URL are refused",
        "http: a Host header cannot pick another virtual host",
        "http: a header value cannot smuggle another header",
        "http: a response over the message limit is refused",
        "http: Authorization follows a same-origin redirect",
        "http: Authorization is dropped on a redirect to another origin",
    ]);
    // Nothing was written or touched where the page was refused.
    assert_eq!(
        std::fs::read_to_string(appdata.join("notes.txt")).unwrap(),
        "hi"
    );
    assert_eq!(
        std::fs::read_to_string(appdata.join("secret/key.txt")).unwrap(),
        "key"
    );
    assert!(!outside.join("evil.txt").exists());
    assert!(!out.stdout.contains("outside secret"), "{}", out.stdout);
    // Nothing was created by a refused write.
    let created: Vec<_> = std::fs::read_dir(&outside)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(created, ["secret.txt"], "{created:?}");
    for f in ["PWNED", "PWNED2", "PWNED3"] {
        assert!(!root.join(f).exists(), "{f} was created: a shell ran");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&appdata)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".moat-write-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    // The opener got exactly the two allowed URLs.
    let mut lines = wait_for_lines(&open_log, 2);
    lines.sort();
    assert_eq!(
        lines,
        ["https://example.com/docs?q=1", "mailto:someone@example.com"]
    );
    // The redirect out of the scope was never followed.
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().all(|p| !p.starts_with("/forbidden")),
        "{seen:?}"
    );
    assert!(seen.contains(&"/ok/redirect-out".to_owned()), "{seen:?}");
    out.assert_logged("scope_denied");
    out.assert_logged("path_invalid");
    // Risky settings are warned about at startup, not only by the audit:
    // this config's http scope allows plain http:// (to 127.0.0.1).
    out.assert_logged("http-insecure-scheme");
    assert!(
        out.stderr.contains("asset request refused"),
        "{}",
        out.tail()
    );
}

/// Arguments reach the hooks in the one form that is sealed (canonical
/// JSON, an object with named keys), whatever the page passed.
#[test]
fn hooks_see_exactly_what_is_sealed() {
    let xdg = tempfile::tempdir().unwrap();
    let appdata = xdg.path().join("dev.moat.shapes");
    std::fs::create_dir_all(&appdata).unwrap();
    std::fs::write(appdata.join("secret.txt"), "TOPSECRET").unwrap();
    std::fs::write(appdata.join("public.txt"), "public").unwrap();
    let out = run_with_config(
        "shapes.js",
        xdg.path(),
        r#"{"identifier":"dev.moat.shapes","title":"shapes",
            "isolation":{"hooks":["validate.js","__test__/shape.js"]},
            "allowlist":{"commands":["greet","read_report","echo_json"],"fs":{"readFile":true}},
            "scope":{"fs":{"allow":["$APPDATA/**"]}}}"#,
        &[],
    );
    out.assert_passed(&[
        "array args for a built-in are bad_args",
        "array args for an app command are bad_args",
        "args as a String object are bad_args",
        "a String object is a string to the hook",
        "the hook sees typeof \"string\" for a String object",
        "a hook rewriting the args to an array is refused",
        "the payload a hook receives is frozen",
        "attacker: array args are refused by the frame",
        "attacker: a String object is checked by the hooks as a string",
        "an object with named keys works",
    ]);
    assert!(!out.stdout.contains("TOPSECRET"), "{}", out.stdout);
}

/// Nothing the page sends can forge a log line, reach the terminal as an
/// escape sequence, or make a line longer than a few fields' worth.
#[test]
fn page_text_in_the_log_is_escaped_and_bounded() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run("logs.js", xdg.path(), 60);
    out.assert_passed(&[
        "a command name with control characters is unknown_command",
        "a 1 MiB command name is unknown_command",
        "a path with control characters is not_found",
    ]);
    out.assert_logged("unknown_command");
    let forged = assert_page_text_escaped(&out);
    for line in &forged {
        assert!(line.contains(r"\u{1b}[2J\u{202e}"), "unescaped: {line}");
    }
    let longest = out.stderr.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 8 * 1024, "a log line of {longest} bytes");
}

/// The log lines of `logs.js`'s forged names: at least three, each with
/// the page's newline escaped, and no raw escape, carriage return or bidi
/// control anywhere in the log. Returns those lines.
fn assert_page_text_escaped(out: &Outcome) -> Vec<&str> {
    let forged: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("FORGED"))
        .collect();
    assert!(forged.len() >= 3, "{}", out.tail());
    for line in &forged {
        assert!(line.contains(r"x\u{a}FORGED"), "unescaped: {line}");
    }
    for bad in ['\x1b', '\r', '\u{202e}'] {
        assert!(!out.stderr.contains(bad), "{bad:?} reached the log");
    }
    forged
}

/// An app that installs its own `tracing` subscriber, with Moat's layer
/// in it (the demo does with `MOAT_DEMO_OWN_LOG`): page text is escaped
/// and bounded there too, and Moat installs nothing over it.
#[test]
fn page_text_is_escaped_in_an_apps_own_subscriber_too() {
    let xdg = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, "logs.js", xdg.path(), 60);
    let out = Outcome::from(cmd.env("MOAT_DEMO_OWN_LOG", "1").output().unwrap());
    out.assert_passed(&["a command name with control characters is unknown_command"]);
    assert_page_text_escaped(&out);
    assert!(
        !out.stderr
            .contains("does not format with moat::log_layer()"),
        "{}",
        out.tail()
    );
}

/// What a recording server saw: the request line's path and the peer.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    peer: std::net::SocketAddr,
}

/// An HTTP/1.1 server on every local address (`[::]`, dual-stack), so that
/// any spelling of this machine reaches it. `/pub/…` answers
/// `public:<path as received>`; `/drip` sends headers and then a byte every
/// 100 ms until the client goes away, and records (in `closed`) how long
/// the connection lived; anything else answers `LEAKED`.
fn recording_server() -> (
    u16,
    std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    std::sync::mpsc::Receiver<std::time::Duration>,
) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("[::]:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    let (closed_tx, closed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let accepted = std::time::Instant::now();
            let peer = s.peer_addr().unwrap();
            let request = read_request(&mut s);
            let head = String::from_utf8_lossy(&request).to_string();
            let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
            log.lock().unwrap().push(Seen {
                path: path.clone(),
                peer,
            });
            if path == "/pub/drip" {
                let tx = closed_tx.clone();
                std::thread::spawn(move || {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
                    while s.write_all(b"x").and_then(|()| s.flush()).is_ok() {
                        std::thread::sleep(std::time::Duration::from_millis(100));
                        if accepted.elapsed() > std::time::Duration::from_secs(30) {
                            break;
                        }
                    }
                    let _ = tx.send(accepted.elapsed());
                });
                continue;
            }
            let body = if path.starts_with("/pub/") {
                format!("public:{path}")
            } else {
                "LEAKED".to_owned()
            };
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, seen, closed)
}

/// Writes `config` and the script `name` with `const T = prelude;` in front.
fn scripted(
    root: &Path,
    name: &str,
    config: &serde_json::Value,
    prelude: &serde_json::Value,
) -> (PathBuf, PathBuf) {
    let config_file = root.join(format!("{name}.moat.json"));
    std::fs::write(&config_file, config.to_string()).unwrap();
    let script = root.join(format!("{name}.prelude.js"));
    std::fs::write(
        &script,
        format!(
            "const T = {prelude};\n{}",
            std::fs::read_to_string(js(name)).unwrap()
        ),
    )
    .unwrap();
    (config_file, script)
}

/// `http.fetch` and `shell.open` judge the canonical form of a URL and act
/// on exactly that form: no spelling of a denied path or of this machine
/// reaches the server, and the opener gets only what the scope allows.
#[test]
fn url_scopes_judge_the_form_that_is_sent() {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let (opener, open_log) = recording_opener(&root);
    let (port, seen, _) = recording_server();
    let config = serde_json::json!({
        "identifier": "dev.moat.urls",
        "title": "urls",
        "isolation": { "hooks": ["validate.js"] },
        "allowlist": { "http": { "fetch": true }, "shell": { "open": true } },
        "scope": {
            "http": {
                "allow": ["http://127.0.0.1:*/pub/**", "http://*:*/any/**"],
                "deny": ["http://127.0.0.1:*/pub/admin/**"]
            },
            "open": {
                "allow": ["https://example.com/**", "http://*/**", "mailto:*@example.com", "tel:+1555*"],
                "deny": ["https://example.com/private/**"]
            }
        }
    });
    let (config_file, script) = scripted(
        &root,
        "urls.js",
        &config,
        &serde_json::json!({ "port": port }),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), xdg.path(), 90);
    let out = Outcome::from(
        cmd.arg("--harness-config")
            .arg(&config_file)
            .arg("--harness-opener")
            .arg(&opener)
            .output()
            .expect("spawn moat-demo"),
    );
    out.assert_passed(&[
        "http: the allowed path is fetched",
        "http: unreserved escapes are sent decoded",
        "http: a space and a ; are sent encoded, as judged",
        "http: /pub/%61dmin/secret is denied",
        "http: /pub/ADMIN/secret is denied",
        "http: /pub/admin is denied",
        "http: /pub//admin/secret is ambiguous",
        "http: /pub/admin%2Fsecret is ambiguous",
        "http: /pub/x/%252e%252e/admin/secret is ambiguous",
        "http: /pub/%2e%2e/secret is outside the scope",
        "http: [::ffff:127.0.0.1]:PORT is refused as this machine"
            .replace("PORT", &port.to_string())
            .as_str(),
        "http: localhost.:PORT is refused as this machine"
            .replace("PORT", &port.to_string())
            .as_str(),
        "http: 0.0.0.0:PORT is refused as this machine"
            .replace("PORT", &port.to_string())
            .as_str(),
        "http: 127.0.0.2:PORT is refused as this machine"
            .replace("PORT", &port.to_string())
            .as_str(),
        "http: link-local (metadata) is refused",
        "http: the IPv4-mapped spelling of the named address is that address",
        "open: mailto:someone@example.com?attach=/root/.ssh/id_rsa is refused",
        "open: mailto:evil@attacker.net,someone@example.com is refused",
        "open: http://[::ffff:7f00:1]/ is refused",
        "open: https://example.com/%70rivate/x is denied",
    ]);
    // The server saw only the allowed paths, each in its canonical form.
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/pub/hello",
            "/pub/hello",
            "/pub/my%20file%3Bv=1",
            "/pub/mapped"
        ],
        "{seen:?}"
    );
    assert!(seen
        .iter()
        .all(|s| s.peer.ip().to_canonical().is_loopback()));
    // The opener got the canonical forms of the three allowed URLs, nothing else.
    let mut opened = wait_for_lines(&open_log, 3);
    opened.sort();
    assert_eq!(
        opened,
        [
            "http://example.org/a/b",
            "mailto:Someone@example.com?subject=Hi%20there",
            "tel:+15550100199",
        ]
    );
    out.assert_logged("scope_denied");
    out.assert_logged("url_invalid");
}

/// A response that drips is cut when its call ends: the connection closes
/// at the call timeout, not when the body is complete.
#[test]
fn a_slow_response_is_cut_when_its_call_ends() {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let (port, _seen, closed) = recording_server();
    let config = serde_json::json!({
        "identifier": "dev.moat.drip",
        "title": "drip",
        "isolation": { "hooks": ["validate.js"] },
        "allowlist": { "http": { "fetch": true } },
        "scope": { "http": { "allow": ["http://127.0.0.1:*/pub/**"] } }
    });
    let (config_file, script) = scripted(
        &root,
        "drip.js",
        &config,
        &serde_json::json!({ "port": port }),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), xdg.path(), 60);
    let out = Outcome::from(
        cmd.arg("--harness-config")
            .arg(&config_file)
            .arg("--harness-call-timeout-ms")
            .arg("1000")
            .output()
            .expect("spawn moat-demo"),
    );
    out.assert_passed(&["http: a dripping response ends with the call"]);
    // The page waited 4 s after its call ended before the app exited; the
    // connection must have closed long before that.
    let lived = closed
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the server never saw the connection close");
    assert!(
        lived < std::time::Duration::from_millis(2500),
        "the response was read for {lived:?} after a 1 s call timeout"
    );
}

/// A program is the one found at startup, with the minimal environment and
/// the fixed working directory; a file planted on PATH afterwards never runs.
#[test]
fn programs_run_with_no_more_than_their_entry_names() {
    use std::os::unix::fs::PermissionsExt;
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let (early, late) = (root.join("bin-early"), root.join("bin-late"));
    std::fs::create_dir_all(&early).unwrap();
    std::fs::create_dir_all(&late).unwrap();
    let marker = root.join("PLANTED-RAN");
    // The real tool plants an impostor earlier on PATH when it first runs.
    let tool = late.join("tool");
    std::fs::write(
        &tool,
        format!(
            "#!/bin/sh\necho real\nprintf '#!/bin/sh\\necho planted\\ntouch {}\\n' > '{}/tool'\nchmod 755 '{}/tool'\n",
            marker.display(),
            early.display(),
            early.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = serde_json::json!({
        "identifier": "dev.moat.programs",
        "title": "programs",
        "isolation": { "hooks": ["validate.js"] },
        // The user-space layer alone: with the kernel's confinement on, the
        // tool could not plant its impostor in the first place.
        "dangerous": { "disableKernelConfinement": true },
        "allowlist": { "shell": { "execute": true, "spawn": true } },
        "scope": { "shell": [
            { "name": "tool", "cmd": "tool" },
            { "name": "env", "cmd": "env", "env": { "EXTRA": "yes" } },
            { "name": "pwd", "cmd": "pwd" }
        ] }
    });
    let (config_file, script) = scripted(&root, "programs.js", &config, &serde_json::json!({}));
    let path = format!("{}:{}:/usr/bin:/bin", early.display(), late.display());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), xdg.path(), 60);
    let out = Outcome::from(
        cmd.arg("--harness-config")
            .arg(&config_file)
            .env("PATH", &path)
            .env("MOAT_TEST_SECRET", "hunter2")
            .current_dir(&root)
            .output()
            .expect("spawn moat-demo"),
    );
    out.assert_passed(&[
        "shell: the program found at startup runs",
        "shell: a program planted on PATH later does not run instead",
        "shell: the environment is the minimal one plus the entry's own",
        "shell: the app's secrets are not inherited",
        "shell: the working directory is fixed",
        "spawn: the environment is the minimal one plus the entry's own",
        "spawn: the working directory is fixed",
        "spawn: the program found at startup runs, not one planted on PATH",
    ]);
    assert!(early.join("tool").exists(), "the impostor was planted");
    assert!(!marker.exists(), "the planted program ran");

    // A program that is missing at startup stops the app, naming the key.
    let missing = serde_json::json!({
        "identifier": "dev.moat.programs",
        "title": "programs",
        "allowlist": { "shell": { "execute": true } },
        "scope": { "shell": [{ "name": "x", "cmd": "no-such-tool-anywhere" }] }
    });
    std::fs::write(&config_file, missing.to_string()).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), xdg.path(), 30);
    let out = Outcome::from(
        cmd.arg("--harness-config")
            .arg(&config_file)
            .output()
            .expect("spawn moat-demo"),
    );
    assert_eq!(out.code, Some(2), "{}", out.tail());
    assert!(
        out.stderr
            .contains("scope.shell[0].cmd: \"no-such-tool-anywhere\" was not found on PATH"),
        "{}",
        out.tail()
    );
}

/// With the demo's own config, the built-ins that act outside the app and
/// calls in general are rate limited.
#[test]
fn side_effects_are_rate_limited_by_default() {
    let xdg = tempfile::tempdir().unwrap();
    let (opener, open_log) = recording_opener(xdg.path());
    let out = run_with(
        "side_effects.js",
        xdg.path(),
        60,
        &["--harness-opener", opener.to_str().unwrap()],
    );
    out.assert_passed(&[
        "open: a burst of 200 opens launches the opener 10 times",
        "open: the refusal says the limit",
        "calls: a burst past 1000 per second is partly refused",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(wait_for_lines(&open_log, 10).len(), 10);
    out.assert_logged("rate_limited");
}

/// A body far over `limits.maxMessageBytes` sent to `ipc://` is refused
/// without Moat holding it: beyond what WebKit itself keeps for any request
/// body (measured with `app://`, which reads none, in a second process), the
/// peak RSS grows by no more than the limit. (The test's policy lets the
/// page POST to `app://`, which the default policy does not.)
#[test]
fn an_oversized_ipc_body_is_refused_before_it_is_buffered() {
    let xdg = tempfile::tempdir().unwrap();
    let config = xdg.path().join("moat.json");
    std::fs::write(
        &config,
        r#"{"identifier":"dev.moat.big","title":"big","isolation":{"hooks":["validate.js"]},
            "csp":"default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self' ipc://localhost; frame-src isolation://localhost",
            "limits":{"maxMessageBytes":1048576,"callTimeoutMs":30000}}"#,
    )
    .unwrap();
    let run = |script: &str| {
        run_with(
            script,
            xdg.path(),
            90,
            &["--harness-config", config.to_str().unwrap()],
        )
    };
    let floor = run("oversized_floor.js");
    floor.assert_passed(&["rss: before", "rss: after a body nobody reads"]);
    let out = run("oversized.js");
    out.assert_passed(&[
        "an oversized body to ipc:// is not_an_envelope",
        "the app still answers",
    ]);
    let rss = |o: &Outcome, name: &str| o.result(name).unwrap()["rss_kb"].as_f64().unwrap();
    let webkit = rss(&floor, "rss: after a body nobody reads") - rss(&floor, "rss: before");
    let moat =
        rss(&out, "an oversized body to ipc:// is not_an_envelope") - rss(&out, "rss: before");
    let body_kb = 128.0 * 1024.0;
    // WebKit keeps two copies of a request body before any handler runs
    // (WebKitGTK 2.50). With wry reading bodies too (its `linux-body`), the
    // same POST cost three.
    assert!(
        webkit < 2.5 * body_kb,
        "a body nobody reads raised the peak RSS by {webkit} kB"
    );
    // Reading the whole body into memory would add it once more.
    assert!(
        moat - webkit < 32.0 * 1024.0,
        "peak RSS grew {webkit} kB for a body nobody reads, {moat} kB for the refused one"
    );
    assert!(
        out.stderr.contains("is over the limit of 1048576 bytes"),
        "{}",
        out.tail()
    );
}

/// Every process below `pid` (children, their children, …), each with its
/// `comm`.
fn descendants(pid: u32) -> Vec<(u32, String)> {
    let all: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| {
                    let p: u32 = e.file_name().to_str()?.parse().ok()?;
                    let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                    // "pid (comm) state ppid …"; comm may hold spaces.
                    let (head, rest) = stat.split_once(") ")?;
                    let comm = head.split_once(" (")?.1.to_owned();
                    let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
                    Some((p, ppid, comm))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut parents = vec![pid];
    while let Some(parent) = parents.pop() {
        for (p, ppid, comm) in &all {
            if *ppid == parent {
                found.push((*p, comm.clone()));
                parents.push(*p);
            }
        }
    }
    found
}

/// The WebKit web content processes `app` started (directly, or inside
/// the sandbox's bubblewrap).
fn web_processes_of(app: u32) -> Vec<u32> {
    descendants(app)
        .into_iter()
        .filter(|(_, comm)| comm == "WebKitWebProces")
        .map(|(p, _)| p)
        .collect()
}

/// The (first) web content process of `app`.
fn web_process_of(app: u32) -> Option<u32> {
    web_processes_of(app).first().copied()
}

/// Kills `app`'s web content process (`SIGKILL`), as a WebKit crash would.
fn kill_web_process(app: u32) {
    let victim = web_process_of(app).expect("no web content process");
    let killed = Command::new("kill")
        .args(["-9", &victim.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// Runs `cmd` (the demo with its harness arguments) and calls `on_result`
/// with each result's name and the app's pid as the page reports it, while
/// the app runs (to look at or act on its processes).
fn run_watching(mut cmd: Command, mut on_result: impl FnMut(&str, u32)) -> Outcome {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn moat-demo");
    let stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut stdout = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            if let Some(name) = v["name"].as_str() {
                on_result(name, child.id());
            }
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child.wait().unwrap();
    Outcome {
        code: status.code(),
        stdout,
        stderr: err.join().unwrap(),
    }
}

/// Runs `script` in the demo and kills its web content process each time
/// the page reports a result named `signal`. Returns the outcome and how
/// many times it killed.
fn run_killing_web_process(
    script: &str,
    xdg: &Path,
    timeout_secs: u32,
    signal: &str,
) -> (Outcome, usize) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script, xdg, timeout_secs);
    let mut kills = 0;
    let out = run_watching(cmd, |name, app| {
        if name == signal {
            kill_web_process(app);
            kills += 1;
        }
    });
    (out, kills)
}

/// The web content process dies: the app page loads again with a new key,
/// calls work, nothing sealed before opens, and no reply of the old page
/// load reaches the new one.
#[test]
fn a_crashed_web_process_is_replaced_and_the_old_page_load_is_gone() {
    let xdg = tempfile::tempdir().unwrap();
    let (out, kills) = run_killing_web_process("crash.js", xdg.path(), 60, "ready for crash");
    assert_eq!(kills, 1, "{}", out.stdout);
    out.assert_passed(&[
        "before the crash: a call works",
        "after the crash: a call works under the new key",
        "an envelope sealed before the crash does not open after it",
        "no reply of the old page load settles a call of the new one",
    ]);
    assert!(
        out.stderr.contains("the web content process ended; loading the window's page again with a new key window=main reason=crashed"),
        "{}",
        out.tail()
    );
    out.assert_logged("decrypt_failed");
}

/// Three crashes within ten seconds: no fourth reload, the built-in error
/// page instead, and the app still running.
#[test]
fn a_crash_loop_stops_reloading_and_shows_the_error_page() {
    let xdg = tempfile::tempdir().unwrap();
    let (out, kills) = run_killing_web_process("crash_loop.js", xdg.path(), 8, "ready for crash");
    assert_eq!(kills, 3, "{}", out.stdout);
    // The app was still there to end the run itself (the error page runs
    // no harness script).
    assert!(out.result("harness timeout").is_some(), "{}", out.stdout);
    let reloads = out
        .stderr
        .matches("loading the window's page again with a new key")
        .count();
    assert_eq!(reloads, 2, "{}", out.tail());
    assert!(
        out.stderr.contains(
            "the web content process keeps ending; showing the error page instead of reloading"
        ),
        "{}",
        out.tail()
    );
}

/// `limits.maxPendingCalls`: calls past it are `busy`, and a hung handler
/// counts until it finishes.
#[test]
fn calls_past_the_pending_limit_are_busy_until_handlers_finish() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with_config(
        "pending.js",
        xdg.path(),
        r#"{"identifier":"dev.moat.pending","title":"pending","isolation":{"hooks":["validate.js"]},
            "limits":{"maxMessageBytes":1048576,"callTimeoutMs":30000,"maxPendingCalls":3}}"#,
        &["--harness-call-timeout-ms", "600"],
    );
    out.assert_passed(&[
        "a burst past the limit: 3 run, 7 are busy",
        "the refusal says why",
        "the page stops waiting for a slow handler",
        "handlers that outlived their callers still hold their slots",
        "once they finish, calls pass again",
    ]);
    out.assert_logged("busy");
}

/// A flood of calls from one page, with the demo's own limits.
fn flood(calls: u32) {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let script = root.join("flood.prelude.js");
    std::fs::write(
        &script,
        format!(
            "const T = {{ calls: {calls} }};\n{}",
            std::fs::read_to_string(js("flood.js")).unwrap()
        ),
    )
    .unwrap();
    let out = run(script.to_str().unwrap(), xdg.path(), 600);
    out.assert_passed(&[
        "rss: after the first 1,000",
        "every promise settled exactly once",
        "rss: after the flood",
        "the app still answers",
    ]);
    let rss = |name: &str| out.result(name).unwrap()["rss_kb"].as_f64().unwrap();
    let (before, after) = (
        rss("rss: after the first 1,000"),
        rss("rss: after the flood"),
    );
    eprintln!("flood: peak RSS {before} kB after the first 1,000, {after} kB after the flood");
    // Bounded, the peak grew 2-9% here and 10% once on a loaded CI
    // machine; with the frame's limit on posts in flight removed, the core
    // held the flood and the peak grew 50%.
    assert!(
        after <= before * 1.20,
        "peak RSS grew from {before} kB to {after} kB under the flood"
    );
}

/// 100,000 calls at once: every promise settles once, memory stays put.
#[test]
fn a_flood_of_calls_settles_every_promise_in_bounded_memory() {
    flood(100_000);
}

/// The same with 1,000,000 calls (`make soak`).
#[test]
#[ignore = "long: run by make soak"]
fn soak_a_million_calls() {
    flood(1_000_000);
}

/// Runs the demo with `disk.js` under `sh -c "<setup>; <demo>; <after>"`,
/// wrapped by `wrap` (e.g. `unshare … sh -c …`). Returns the outcome.
fn run_disk(xdg: &Path, wrap: &[&str], setup: &str, after: &str) -> Outcome {
    // The demo's command line, built as for any run, then handed to sh.
    let mut demo = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut demo, "disk.js", xdg, 60);
    let mut line = vec![env!("CARGO_BIN_EXE_moat-demo").to_owned()];
    line.extend(
        demo.get_args()
            .map(|a| format!("'{}'", a.to_string_lossy())),
    );
    let shell = format!(
        "{setup}\n{}\nstatus=$?\n{after}\nexit $status",
        line.join(" ")
    );
    let mut cmd = Command::new(wrap[0]);
    cmd.args(&wrap[1..]).arg("sh").arg("-c").arg(shell);
    for (k, v) in demo.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    Outcome::from(cmd.output().expect("spawn the disk-fault run"))
}

/// Disk faults lose nothing: a full and a read-only file system (small
/// tmpfs mounts in a user and mount namespace of the test's own). A
/// file-size limit on the process is tested without the webview
/// (`api::fs::tests`): WebKit moves large IPC messages through
/// shared-memory files, which the same limit caps, so no page can send a
/// write larger than the limit.
#[test]
fn disk_faults_fail_with_io_failed_and_lose_nothing() {
    let xdg = tempfile::tempdir().unwrap();
    let appdata = xdg.path().join(APP_ID);
    std::fs::create_dir_all(appdata.join("full")).unwrap();
    std::fs::create_dir_all(appdata.join("ro")).unwrap();
    let (full, ro) = (appdata.join("full"), appdata.join("ro"));
    let setup = format!(
        "set -e; mount -t tmpfs -o size=128k tmpfs '{f}'; printf 'old notes' > '{f}/notes.txt'; \
         dd if=/dev/zero of='{f}/filler' bs=1k count=100 2>/dev/null; \
         mount -t tmpfs -o size=64k tmpfs '{r}'; printf 'old notes' > '{r}/notes.txt'; mount -o remount,ro '{r}'; set +e",
        f = full.display(),
        r = ro.display()
    );
    let after = format!(
        "ls -A '{f}' > '{x}/full.after'; ls -A '{r}' > '{x}/ro.after'",
        f = full.display(),
        r = ro.display(),
        x = xdg.path().display()
    );
    let unshare = ["unshare", "--user", "--map-root-user", "--mount"];
    let out = run_disk(xdg.path(), &unshare, &setup, &after);
    out.assert_passed(&[
        "a write into a full file system is io_failed",
        "the full file system keeps the old file",
        "a write into a read-only file system is io_failed",
        "the read-only file system keeps the old file",
        "the app keeps answering",
    ]);
    let listed = |f: &str| std::fs::read_to_string(xdg.path().join(f)).unwrap();
    assert_eq!(
        listed("full.after"),
        "filler\nnotes.txt\n",
        "a temp file was left"
    );
    assert_eq!(listed("ro.after"), "notes.txt\n");
}
