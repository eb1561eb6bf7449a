//! The webview's network, from page script: a nonce that page script can
//! read authorizes no script, and under the policy the content filter
//! loads nothing from a host the config does not name, whatever mistake
//! the app's own policy makes (issue 22, points 1 and 8).

use super::*;

/// Runs `network.js` in `mode` under `config` with a recording server, and
/// returns the outcome and the paths the server saw.
fn run_network(mode: &str, csp: Option<String>) -> (Outcome, Vec<String>) {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let (port, seen, _) = recording_server();
    let mut config = serde_json::json!({
        "identifier": "dev.moat.network",
        "title": "network",
        "isolation": {"hooks": ["validate.js"]},
    });
    if let Some(csp) = csp {
        config["csp"] = serde_json::Value::String(csp.replace("PORT", &port.to_string()));
    }
    let (config_file, script) = scripted(
        &root,
        "network.js",
        &config,
        &serde_json::json!({"port": port, "mode": mode}),
    );
    let out = run_with(
        script.to_str().unwrap(),
        &root,
        60,
        &["--harness-config", config_file.to_str().unwrap()],
    );
    let paths = seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.path.clone())
        .collect();
    (out, paths)
}

/// The nonce every page can read (`meta.nonce`) loads no script and no
/// stylesheet from anywhere, and cannot be read by CSS; styles that carry
/// it still apply.
#[test]
fn a_readable_nonce_opens_no_network() {
    let (out, seen) = run_network("nonce", None);
    out.assert_passed(&[
        "nonce: page script can read it (CSS-in-JS needs it)",
        "nonce: a nonced <script src> loads nothing",
        "nonce: a nonced <link rel=stylesheet> loads nothing",
        "nonce: a nonced <link rel=preload as=script> loads nothing",
        "nonce: a nonced <link rel=modulepreload> loads nothing",
        "nonce: a nonced inline script does not run",
        "nonce: a nonced <style> still applies",
        "nonce: no content attribute carries it",
        "nonce: CSS selectors do not see it",
    ]);
    assert!(seen.is_empty(), "the page reached the server: {seen:?}");
}

/// An app policy that allows any host (`*`, `http:`) still reaches only
/// the host it names: the content filter under the policy blocks the rest,
/// for every kind of load.
#[test]
fn a_policy_mistake_does_not_reopen_the_network() {
    let csp = "default-src 'self'; script-src 'self' http: https:; style-src 'self' *; \
               img-src 'self' http://127.0.0.1:PORT *; media-src *; connect-src * ipc://localhost; \
               worker-src blob:; frame-src isolation://localhost";
    let (out, seen) = run_network("mistakes", Some(csp.to_owned()));
    out.assert_passed(&[
        "mistakes: a host the config names is reached",
        "mistakes: an <img> from a host it does not name loads nothing",
        "mistakes: a <script src> allowed by `script-src http:` loads nothing",
        "mistakes: a stylesheet allowed by `style-src *` loads nothing",
        "mistakes: an <audio> allowed by `media-src *` loads nothing",
        "mistakes: fetch allowed by `connect-src *` reaches nothing",
        "mistakes: an XHR reaches nothing",
        "mistakes: a WebSocket reaches nothing",
        "mistakes: an EventSource reaches nothing",
        "mistakes: sendBeacon is tried",
        "mistakes: a worker's fetch reaches nothing",
    ]);
    assert_eq!(
        seen,
        ["/pub/declared.png"],
        "only the named host is reached"
    );
    assert!(
        out.stderr
            .contains("allows any host; the webview's network filter does not"),
        "{}",
        out.tail()
    );
}
