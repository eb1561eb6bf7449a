//! Several windows, each with only what it needs, and untrusted views with
//! nothing (issue 25): allowlists and scopes per window, keys per window,
//! closing and reopening, a view with no bridge whose end comes back to its
//! opener, named targets, and a crash that stays in its window.

use super::*;

/// A self-signed certificate for 127.0.0.1 (made with the `openssl` tool),
/// as (certificate PEM path, key PEM path).
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl (make deps installs it)");
    assert!(made.success(), "openssl could not make a certificate");
    (cert, key)
}

/// The page the untrusted view shows: it probes what it can reach and
/// ends at `/done?r=<results>` (its `finishOn`), which is how its results
/// leave it: the view itself has no way to the app.
const VIEW_PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>view</title><body><script>
(async () => {
  const r = {};
  const put = (name, ok, detail) => { r[name] = { ok, detail: String(detail) }; };
  put('no window.moat', typeof window.moat === 'undefined', typeof window.moat);
  const handlers = window.webkit && window.webkit.messageHandlers;
  put('no Moat message handler', !(handlers && handlers.moat), handlers ? Object.keys(handlers) : 'none');
  for (const url of ['app://localhost/', 'isolation://localhost/', 'asset://localhost/etc/hostname', 'ipc://localhost/']) {
    try {
      const res = await fetch(url, url.startsWith('ipc') ? { method: 'POST', body: 'x' } : {});
      put(`cannot read ${url}`, false, `status ${res.status}: ${(await res.text()).slice(0, 80)}`);
    } catch (e) {
      put(`cannot read ${url}`, true, e);
    }
  }
  put('window.open opens nothing', window.open('ORIGIN/popup', 'popup') === null, '');
  const frame = document.createElement('iframe');
  frame.src = 'ELSEWHERE/elsewhere';
  document.body.append(frame);
  await new Promise((ok) => setTimeout(ok, 1500));
  let at;
  try { at = frame.contentWindow.location.href; } catch (e) { at = `another origin: ${e}`; }
  put('a frame outside its navigate list does not load', at === 'about:blank', at);
  location.href = 'ORIGIN/done?r=' + encodeURIComponent(JSON.stringify(r));
})();
</script></body>"#;

/// An https server on 127.0.0.1 for the untrusted view, with `cert`/`key`.
/// Returns its port and the paths asked for.
fn view_server(cert: &Path, key: &Path) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::Write;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    let page = VIEW_PAGE
        .replace("ORIGIN", &format!("https://127.0.0.1:{port}"))
        .replace("ELSEWHERE", &format!("https://localhost:{port}"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (config, log, page) = (
                std::sync::Arc::clone(&config),
                std::sync::Arc::clone(&log),
                page.clone(),
            );
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let request = read_request(&mut tls);
                let head = String::from_utf8_lossy(&request).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                if path.is_empty() {
                    return;
                }
                log.lock().unwrap().push(path.clone());
                let body = if path == "/view.html" {
                    page.as_str()
                } else {
                    "not for the view"
                };
                let _ = write!(
                    tls,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    (port, seen)
}

/// The two-window config of these tests, with a view of `view_url`.
fn config(view_port: u16) -> serde_json::Value {
    serde_json::json!({
        "identifier": "dev.moat.windows",
        "title": "windows",
        "isolation": {"hooks": ["validate.js"]},
        "allowlist": {
            "commands": ["echo", "greet", "refusal_counts"],
            "fs": {"readFile": true, "writeFile": true},
            "windows": ["settings", "view"]
        },
        "scope": {"fs": {"allow": ["$APPDATA/**"]}},
        "windows": {
            "settings": {
                "kind": "app",
                "title": "settings",
                "page": "settings.html",
                "isolation": {"hooks": ["validate.js"]},
                "allowlist": {
                    "commands": ["greet", "emit_later", "emit_later_result"],
                    "fs": {"readFile": true, "writeFile": true},
                    "shell": {"spawn": true}
                },
                "scope": {
                    "fs": {"allow": ["$APPDATA/shared/**"]},
                    "shell": [{
                        "name": "late",
                        "cmd": "sh",
                        "args": ["-c", "sleep 2; touch \"$1\"", "late", {"validator": "/[A-Za-z0-9/._-]+"}],
                        "runs": ["sleep", "touch"]
                    }]
                }
            },
            "view": {
                "kind": "untrusted",
                "title": "view",
                "url": format!("https://127.0.0.1:{view_port}/view.html"),
                "finishOn": [format!("https://127.0.0.1:{view_port}/done*")]
            }
        }
    })
}

#[test]
fn each_window_has_only_what_it_declares_and_a_view_has_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let (cert, key) = certificate(&root);
    let (port, seen) = view_server(&cert, &key);
    let shared = root.join("dev.moat.windows/shared");
    std::fs::create_dir_all(&shared).unwrap();
    let (config_file, script) = scripted(
        &root,
        "windows.js",
        &config(port),
        &serde_json::json!({
            "mark": shared.join("late-mark"),
            "markScoped": "$APPDATA/shared/late-mark",
            "viewOrigin": format!("https://127.0.0.1:{port}"),
        }),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), &root, 90);
    let out = Outcome::from(
        cmd.arg("--harness-config")
            .arg(&config_file)
            .arg("--harness-view-cert")
            .arg(format!("127.0.0.1={}", cert.display()))
            .output()
            .unwrap(),
    );
    out.assert_passed(&[
        "main: opens a window its allowlist names",
        "main: a window nobody declared is refused",
        "main: the main window cannot be opened again",
        "settings: a command its allowlist names works",
        "settings: a command only the main window may call is not allowed here",
        "settings: a file in the main window's scope is outside this one's",
        "settings: a window its allowlist does not name cannot be opened",
        "settings: an envelope sealed in the main window does not open here",
        "settings: window.open with the target \"main\" opens nothing",
        "main: its refusal counts are its own (the settings window's replay is not in them)",
        "main: opens the settings window again after it closed",
        "settings: reopened, an envelope of its first page load does not open",
        "settings: reopened, calls work under its new key",
        "settings: the event a call of the closed page sent went nowhere",
        "settings: the program the closed page started ended with it",
        "view: ends at its finishOn URL and the opener is told",
        "view: no window.moat",
        "view: no Moat message handler",
        "view: cannot read app://localhost/",
        "view: cannot read isolation://localhost/",
        "view: cannot read asset://localhost/etc/hostname",
        "view: cannot read ipc://localhost/",
        "view: window.open opens nothing",
        "view: a frame outside its navigate list does not load",
        "main: its page is untouched by a window.open aimed at \"main\" from another window",
    ]);
    assert!(
        !shared.join("late-mark").exists(),
        "the program outlived its window"
    );
    // The view's storage is its own and ends with it: nothing on disk.
    let webkit = root.join("dev.moat.windows/.webkit");
    assert!(!webkit.join("windows/view").exists());
    let asked = seen.lock().unwrap().clone();
    assert!(asked.contains(&"/view.html".to_owned()), "{asked:?}");
    for never in ["/elsewhere", "/popup"] {
        assert!(
            !asked.iter().any(|p| p == never),
            "{never} was loaded: {asked:?}"
        );
    }
    assert!(
        !asked.iter().any(|p| p.starts_with("/done")),
        "the finishOn navigation was made: {asked:?}"
    );
    // (`window.open` without a user gesture is refused by WebKit itself,
    // before Moat's handler: the page sees `null` either way.)
    for (window, code) in [
        ("settings", "decrypt_failed"),
        ("view", "navigation_refused"),
    ] {
        let (w, c) = (format!("window=\"{window}\""), format!("code=\"{code}\""));
        assert!(
            out.stderr.lines().any(|l| l.contains(&w) && l.contains(&c)),
            "no {code} refusal logged for window {window}:\n{}",
            out.tail()
        );
    }
    assert!(
        out.stderr.contains("window closed window=settings"),
        "{}",
        out.tail()
    );
}

/// One window's web process crashing leaves the other serving calls; the
/// crashed one comes back with a new key.
#[test]
fn a_crash_in_one_window_leaves_the_others_working() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir_all(root.join("dev.moat.windows/shared")).unwrap();
    let mut config = config(1);
    config["windows"].as_object_mut().unwrap().remove("view");
    config["allowlist"]["windows"] = serde_json::json!(["settings"]);
    let (config_file, script) =
        scripted(&root, "windows_crash.js", &config, &serde_json::json!({}));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), &root, 60);
    cmd.arg("--harness-config").arg(&config_file);
    let mut killed = None;
    let out = run_watching(cmd, |name, app| {
        if name == "settings: ready for crash" && killed.is_none() {
            // The settings window opened last: its web process is the
            // newest.
            let newest = web_processes_of(app)
                .into_iter()
                .max()
                .expect("web processes");
            assert_eq!(web_processes_of(app).len(), 2, "one web process per window");
            let status = Command::new("kill")
                .args(["-9", &newest.to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            killed = Some(newest);
        }
    });
    assert!(killed.is_some(), "{}", out.stdout);
    out.assert_passed(&[
        "settings: ready for crash",
        "main: serves calls while the settings window's web process is replaced",
        "settings: after its crash a call works under a new key",
        "settings: an envelope sealed before its crash does not open",
    ]);
    assert!(
        out.stderr.contains("the web content process ended; loading the window's page again with a new key window=settings reason=crashed"),
        "{}",
        out.tail()
    );
    assert!(
        !out.stderr.contains("window=main reason=crashed"),
        "the main window crashed too: {}",
        out.tail()
    );
}

/// The demo as shipped: its settings window refuses a call the main
/// window may make, and answers the one its allowlist names.
#[test]
fn the_demo_settings_window_has_less_than_the_main_one() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run("demo_windows.js", xdg.path(), 60);
    out.assert_passed(&[
        "demo settings: greet is answered",
        "demo settings: fs.readTextFile is refused here with not_allowed",
        "demo: the settings window opened from the main page, ran and closed",
        "demo: fs.readTextFile is allowed in the main window",
    ]);
}
