//! Settings in the store and secrets in the keyring (issue 27): values that
//! survive a restart and a SIGKILL, a corrupt file that stops startup, named
//! limits, and secrets in a real gnome-keyring that another app cannot read
//! and that are `unavailable`, never written elsewhere, with no keyring.

use super::*;

/// The main window may read `theme`, `window.*` and `shared.*`, and write
/// the first two.
const STORE_CONFIG: &str = r#"{
  "identifier": "dev.moat.demo", "title": "Moat store test",
  "allowlist": {
    "fs": { "readFile": true },
    "store": { "read": ["theme", "window.*", "shared.*"], "write": ["theme", "window.*"] }
  },
  "scope": { "fs": { "allow": ["$APPDATA/**"] } }
}"#;

fn store_file(xdg: &Path) -> PathBuf {
    xdg.join(APP_ID).join(".store/store.json")
}

fn parsed(file: &Path) -> serde_json::Map<String, serde_json::Value> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => map,
        other => panic!(
            "{} does not parse as an object: {other:?}\n{text}",
            file.display()
        ),
    }
}

#[test]
fn the_store_keeps_settings_across_restarts_and_refuses_with_named_limits() {
    let xdg = tempfile::tempdir().unwrap();
    let first = run_with_config("store.js", xdg.path(), STORE_CONFIG, &[]);
    first.assert_passed(&[
        "store: a key never set is null",
        "store: a JSON value round-trips",
        "store: a change is pushed to the page with its key",
        "store: keys lists what this window may read",
        "store: delete says it was there",
        "store: and a second time that it was not",
        "store: a deleted key is null",
        "store: a key not in the allowlist is refused",
        "store: a read-only key cannot be written",
        "store: a read-only key cannot be deleted",
        "store: a key shaped like a path is refused",
        "store: a key with a newline is refused",
        "store: an over-long key is refused by its limit",
        "store: an over-large value is refused by its limit",
        "store: the refused value was not stored",
        "store: an unknown argument is refused",
        "store: its file is out of reach of fs",
        "store: a refused call changed nothing",
    ]);
    first.assert_logged("limit_exceeded");
    let on_disk = parsed(&store_file(xdg.path()));
    assert_eq!(on_disk["theme"]["mode"], "dark");
    assert_eq!(on_disk["window.width"], 800);
    assert!(!on_disk.contains_key("window.height") && !on_disk.contains_key("window.big"));
    // The copy before the last change is kept, and parses.
    parsed(&xdg.path().join(APP_ID).join(".store/store.prev.json"));

    let second = run_with_config("store.js", xdg.path(), STORE_CONFIG, &[]);
    second.assert_passed(&[
        "store: values survive a restart",
        "store: and so do the other keys, and the deletions",
    ]);
}

/// SIGKILL at several moments of a stream of writes: the store's file and
/// its copy always parse, and the app starts again on them.
#[test]
fn a_sigkill_during_a_stream_of_writes_leaves_a_store_that_parses() {
    let xdg = tempfile::tempdir().unwrap();
    let config = xdg.path().join("moat.json");
    std::fs::write(&config, STORE_CONFIG).unwrap();
    for delay_ms in [150, 420, 777] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
        harness_args(&mut cmd, "store_stream.js", xdg.path(), 60);
        let mut child = cmd
            .arg("--harness-config")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn moat-demo");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut started = false;
        for line in stdout.lines().map_while(Result::ok) {
            if line.contains("store stream: started") {
                started = true;
                break;
            }
        }
        assert!(started, "the stream never started");
        let before = std::fs::metadata(store_file(xdg.path()))
            .unwrap()
            .modified()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let after = std::fs::metadata(store_file(xdg.path()))
            .unwrap()
            .modified()
            .unwrap();
        assert_ne!(before, after, "the page was not writing when it was killed");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let now = parsed(&store_file(xdg.path()));
        assert!(now.contains_key("theme"), "{now:?}");
        parsed(&xdg.path().join(APP_ID).join(".store/store.prev.json"));
    }
    // A kill between a write's new file and its rename leaves that file:
    // one planted here, an hour old, beside one from a write in progress.
    let dir = xdg.path().join(APP_ID).join(".store");
    let (killed, writing) = (dir.join(".store-KiLLeD"), dir.join(".store-NoWwww"));
    for f in [&killed, &writing] {
        std::fs::write(f, b"{\"theme\":").unwrap();
    }
    std::fs::File::options()
        .write(true)
        .open(&killed)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    // And the app starts on what the kill left, and sweeps the old file.
    let again = run_with_config("store.js", xdg.path(), STORE_CONFIG, &[]);
    assert!(
        again.result("store: values survive a restart").is_some(),
        "{}",
        again.stdout
    );
    assert!(!killed.exists(), "{}", again.tail());
    assert!(
        writing.exists(),
        "a write that may be running is left alone"
    );
    assert!(
        again
            .stderr
            .contains("removed the new file of a store write that never finished"),
        "{}",
        again.tail()
    );
}

#[test]
fn a_corrupt_store_stops_startup_with_its_name_and_is_left_as_it_is() {
    let xdg = tempfile::tempdir().unwrap();
    let file = store_file(xdg.path());
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, b"{\"theme\": {\"mode\": \"da").unwrap();
    let out = run_with_config("store.js", xdg.path(), STORE_CONFIG, &[]);
    assert_ne!(out.code, Some(0), "{}", out.tail());
    assert_eq!(out.results().count(), 0, "no page ran: {}", out.stdout);
    assert!(
        out.stderr.contains(&format!(
            "the settings store {} cannot be read",
            file.display()
        )),
        "{}",
        out.tail()
    );
    assert!(out.stderr.contains("store.prev.json"), "{}", out.tail());
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"{\"theme\": {\"mode\": \"da"
    );
}

/// A private session bus with gnome-keyring on it, its login keyring (in
/// `home`) unlocked; the bus (and with it the keyring) ends when dropped.
struct Keyring {
    address: String,
    bus: u32,
}

impl Keyring {
    fn start(home: &Path) -> Self {
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .env("XDG_DATA_HOME", home)
            .env("HOME", home)
            .env_remove("DISPLAY")
            .output()
            .expect("dbus-daemon (make deps installs dbus)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        let address = lines.next().expect("the bus's address").to_owned();
        let bus = lines
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the bus's pid");
        let mut unlock = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_DATA_HOME", home)
            .env("HOME", home)
            .env_remove("DISPLAY")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (make deps installs gnome-keyring)");
        std::io::Write::write_all(&mut unlock.stdin.take().unwrap(), b"moat-test").unwrap();
        assert!(
            unlock.wait().unwrap().success(),
            "gnome-keyring-daemon --unlock failed"
        );
        Self { address, bus }
    }

    /// Locks the login collection (Secret Service `Lock`), as a screen
    /// lock or a timeout would.
    fn lock(&self) {
        let out = Command::new("timeout")
            .args([
                "10",
                "dbus-send",
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
            ])
            .args([
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
            ])
            .arg("array:objpath:/org/freedesktop/secrets/collection/login")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("dbus-send (make deps installs dbus)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("/org/freedesktop/secrets/collection/login"),
            "the collection was not locked: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `secret-tool` on this keyring.
    fn tool(&self, home: &Path, args: &[&str]) -> Outcome {
        Outcome::from(
            Command::new("timeout")
                .arg("20")
                .arg("secret-tool")
                .args(args)
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .env("HOME", home)
                .output()
                .expect("secret-tool (make deps installs libsecret-tools)"),
        )
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.bus.to_string()).status();
    }
}

/// The demo with `script` and `config` (none: its own), its session bus
/// at `bus`.
fn run_on_bus(script: &str, xdg: &Path, config: Option<&str>, bus: &str) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script, xdg, 60);
    if let Some(config) = config {
        let file = xdg.join(format!("{script}.moat.json"));
        std::fs::write(&file, config).unwrap();
        cmd.arg("--harness-config").arg(&file);
    }
    cmd.env("DBUS_SESSION_BUS_ADDRESS", bus);
    Outcome::from(cmd.output().expect("spawn moat-demo"))
}

fn secrets_config(identifier: &str) -> String {
    format!(
        r#"{{ "identifier": "{identifier}", "title": "Moat secrets test",
  "allowlist": {{ "secrets": {{ "read": ["apiToken", "blob", "readOnly"], "write": ["apiToken", "blob"] }} }} }}"#
    )
}

#[test]
fn secrets_live_in_the_keyring_for_their_app_only() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Keyring::start(home.path());
    let xdg = tempfile::tempdir().unwrap();
    let out = run_on_bus(
        "secrets.js",
        xdg.path(),
        Some(&secrets_config(APP_ID)),
        &keyring.address,
    );
    out.assert_passed(&[
        "secrets: a name never set is null",
        "secrets: set text",
        "secrets: and it comes back as that text",
        "secrets: bytes come back as bytes",
        "secrets: delete says it was there",
        "secrets: and then that it was not",
        "secrets: a deleted secret is null",
        "secrets: a name not listed is refused",
        "secrets: a read-only name cannot be written",
        "secrets: a read-only name cannot be deleted",
        "secrets: text and bytes at once are refused",
        "secrets: an unknown argument is refused",
        "secrets: refused calls changed nothing",
    ]);
    let token = format!("tok-{}", "Z9q".repeat(8));
    // In the keyring, under the app's attributes and a readable label.
    let found = keyring.tool(
        home.path(),
        &["lookup", "application", APP_ID, "moat-secret", "apiToken"],
    );
    assert_eq!(found.stdout, token, "{}", found.stderr);
    let listed = keyring.tool(home.path(), &["search", "--all", "application", APP_ID]);
    assert!(
        listed
            .stdout
            .contains("label = Moat secrets test: apiToken"),
        "{}{}",
        listed.stdout,
        listed.stderr
    );
    // Nowhere in the log, nor on the app's disk.
    assert!(!out.stderr.contains(&token), "the secret is in the log");
    for entry in walk(xdg.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the secret is in {}",
            entry.display()
        );
    }
    // Another app on the same keyring sees nothing of it.
    let other = run_on_bus(
        "secrets_other.js",
        xdg.path(),
        Some(&secrets_config("dev.moat.other")),
        &keyring.address,
    );
    other.assert_passed(&[
        "secrets: another app does not see the first one's secret",
        "secrets: nor can it delete it",
    ]);
    let still = keyring.tool(
        home.path(),
        &["lookup", "application", APP_ID, "moat-secret", "apiToken"],
    );
    assert_eq!(still.stdout, token);
}

#[test]
fn with_no_keyring_secrets_are_unavailable_and_nothing_is_written() {
    let xdg = tempfile::tempdir().unwrap();
    let nowhere = format!("unix:path={}", xdg.path().join("no-bus").display());
    let out = run_on_bus(
        "secrets_none.js",
        xdg.path(),
        Some(&secrets_config(APP_ID)),
        &nowhere,
    );
    out.assert_passed(&[
        "secrets: get with no keyring is unavailable",
        "secrets: set with no keyring is unavailable",
    ]);
    out.assert_logged("unavailable");
    assert_no_file_holds(xdg.path(), b"tok-nowhere");
}

/// A locked keyring with no way to prompt (no display for the prompter):
/// `unavailable`, not a hang until the call times out, and nothing
/// written anywhere else.
#[test]
fn a_locked_keyring_is_unavailable_and_nothing_is_written() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Keyring::start(home.path());
    // The app's token, there before the lock (the daemon may still be
    // taking its name on the bus for a moment after it unlocked).
    let stored = (0..50).any(|_| {
        let mut store = Command::new("timeout")
            .args(["20", "secret-tool", "store", "--label=before the lock"])
            .args(["application", APP_ID, "moat-secret", "apiToken"])
            .env("DBUS_SESSION_BUS_ADDRESS", &keyring.address)
            .env("HOME", home.path())
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("secret-tool (make deps installs libsecret-tools)");
        std::io::Write::write_all(&mut store.stdin.take().unwrap(), b"tok-before").unwrap();
        let ok = store.wait().unwrap().success();
        if !ok {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        ok
    });
    assert!(stored, "secret-tool store failed for 5 s");
    keyring.lock();
    let xdg = tempfile::tempdir().unwrap();
    let out = run_on_bus(
        "secrets_locked.js",
        xdg.path(),
        Some(&secrets_config(APP_ID)),
        &keyring.address,
    );
    out.assert_passed(&[
        "secrets: get from a locked keyring is unavailable",
        "secrets: set into a locked keyring is unavailable",
    ]);
    out.assert_logged("unavailable");
    assert_no_file_holds(xdg.path(), b"tok-locked");
}

/// The demo as shipped keeps its theme in the store and its token in the
/// keyring, and both are back after a restart.
#[test]
fn the_demo_keeps_its_theme_in_the_store_and_its_token_in_the_keyring() {
    let home = tempfile::tempdir().unwrap();
    let keyring = Keyring::start(home.path());
    let xdg = tempfile::tempdir().unwrap();
    let first = run_on_bus("demo_settings.js", xdg.path(), None, &keyring.address);
    first.assert_passed(&[
        "demo settings: no token at first",
        "demo settings: the theme is saved",
        "demo settings: the token is saved in the keyring",
        "demo settings: and its field is cleared",
        "demo: the theme applies in the main window when settings saves it",
    ]);
    assert_eq!(parsed(&store_file(xdg.path()))["settings.theme"], "dark");
    let found = keyring.tool(
        home.path(),
        &["lookup", "application", APP_ID, "moat-secret", "apiToken"],
    );
    assert_eq!(found.stdout, "demo-token-0123456789", "{}", found.stderr);
    let again = run_on_bus("demo_settings.js", xdg.path(), None, &keyring.address);
    again.assert_passed(&[
        "demo settings: the theme is read back from the store",
        "demo settings: the token is still in the keyring",
        "demo: the saved theme is back after a restart",
    ]);
}

/// Every file under `dir`, however deep, the harness's scripts excepted.
/// No file under `dir` holds `secret`: it fell back nowhere.
fn assert_no_file_holds(dir: &Path, secret: &[u8]) {
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret),
            "the secret fell back to {}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if !path.to_string_lossy().ends_with(".harness.js") {
                files.push(path);
            }
        }
    }
    files
}
