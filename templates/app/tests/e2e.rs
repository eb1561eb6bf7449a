//! The app in the real webview: tests/e2e.js runs as page script through
//! Moat's test harness (the `dangerous-test-harness` feature, which
//! `make test` turns on; never ship a build with it).

use std::process::Command;

#[test]
fn the_page_greets_through_the_isolation_frame() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let out = Command::new(env!("CARGO_BIN_EXE_{{NAME}}"))
        .args(["--harness-script", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e.js")])
        .args(["--harness-timeout", "60"])
        .env("XDG_DATA_HOME", data.path())
        // A runtime directory of its own: a running instance of the app
        // would otherwise take this launch (launch.singleInstance).
        .env("XDG_RUNTIME_DIR", data.path())
        .output()
        .expect("run the app");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.lines().any(|l| l == "4 passed, 0 failed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
