//! Foreign frames and other origins get nothing (issue 23, part 3): child
//! frames of every kind cannot call, hear, read the app's schemes, get the
//! app's permissions, open windows or register a service worker, even
//! under an app policy that lets them all load.

use super::*;

#[test]
fn foreign_frames_get_nothing() {
    let xdg = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(xdg.path()).unwrap();
    let (port, seen, _) = recording_server();
    let assets = root.join("assets");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(assets.join("secret.txt"), "asset secret").unwrap();
    let config = serde_json::json!({
        "identifier": "dev.moat.frames",
        "title": "frames",
        "isolation": {"hooks": ["validate.js"]},
        "allowlist": {"commands": ["emit", "burst", "echo"], "asset": true},
        "scope": {"asset": {"allow": [format!("{}/**", assets.display())]}},
        "permissions": ["geolocation", "notifications", "microphone"],
        "csp": "default-src 'self'; script-src 'self' app://localhost; style-src 'self'; img-src 'self' data:; \
                frame-src 'self' data: blob: http: isolation://localhost; connect-src ipc://localhost",
    });
    let (config_file, script) = scripted(
        &root,
        "foreign_frames.js",
        &config,
        &serde_json::json!({"port": port, "asset": assets.join("secret.txt")}),
    );
    let out = run_with(
        script.to_str().unwrap(),
        &root,
        90,
        &["--harness-config", config_file.to_str().unwrap()],
    );
    for r in out.results().filter(|r| {
        r["name"]
            .as_str()
            .is_some_and(|n| n.ends_with("the frame ran its probe"))
    }) {
        eprintln!("{}: {}", r["name"], r["detail"]);
    }
    let failed: Vec<String> = out
        .results()
        .filter(|v| v["ok"] != true)
        .map(|v| v.to_string())
        .collect();
    assert!(failed.is_empty(), "{failed:#?}\n{}", out.tail());
    let mut names = vec![
        "the page hears its own events".to_owned(),
        "page: registers no service worker".into(),
        "page: calls still reach the core".into(),
    ];
    for kind in ["same-origin", "sandboxed", "about:blank"] {
        for what in [
            "the frame ran its probe",
            "no window.moat and no window.ipc of its own",
            "what it posts to the core is refused",
            "the isolation document is unreadable",
            "opens no window",
            "registers no service worker",
            "hears no reply, event or channel message",
        ] {
            names.push(format!("{kind}: {what}"));
        }
    }
    for kind in ["sandboxed"] {
        for what in [
            "cannot reach the page's moat",
            "fetchIpc is unreadable",
            "readApp is unreadable",
            "readBlobs is unreadable",
            "readAsset is unreadable",
            "geolocation, which the app has, is denied to it",
            "notifications, which the app has, are denied to it",
            "the microphone, which the app has, is denied to it",
        ] {
            names.push(format!("{kind}: {what}"));
        }
    }
    for kind in [
        "data:",
        "blob:",
        "sandboxed without scripts",
        "srcdoc",
        "remote",
    ] {
        names.push(format!("{kind}: runs nothing"));
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    out.assert_passed(&names);
    assert!(
        seen.lock().unwrap().is_empty(),
        "a frame reached the network: {:?}",
        seen.lock().unwrap()
    );
}

/// Code running in the isolation frame (a hook) cannot open a window, in
/// any of the ways a page can, navigate the top window or start a download:
/// the frame is sandboxed without `allow-popups`, `allow-top-navigation`
/// or `allow-downloads`, and Moat's own handlers are there behind it.
#[test]
fn the_isolation_frame_opens_no_window_and_moves_nothing() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with_config(
        "escape.js",
        xdg.path(),
        r#"{"identifier":"dev.moat.escape","title":"escape","isolation":{"hooks":["__test__/escape.js","validate.js"]},
            "allowlist":{"commands":["echo"]}}"#,
        &["--harness-console"],
    );
    out.assert_passed(&[
        "escape: the hook tried every way out",
        "escape: window.open (open) gives no window",
        "escape: window.open (openNamed) gives no window",
        "escape: the page is still the app and was not navigated",
        "escape: calls still work",
    ]);
    for sign in ["new window", "download", "?top", "?form", "?link"] {
        assert!(
            !out.stderr
                .lines()
                .any(|l| l.contains("moat::") && l.contains(sign) && !l.contains("refused")),
            "{sign}: {}",
            out.tail()
        );
    }
    // WebKit's sandbox refused them before any of Moat's handlers was
    // asked (window.open and links silently; these two say so).
    for blocked in [
        "'allow-top-navigation' flag is not set",
        "'allow-forms' permission is not set",
    ] {
        assert!(
            out.stderr.contains(blocked),
            "no console refusal naming {blocked}: {}",
            out.tail()
        );
    }
}
