//! When the engine breaks: every web content process in WebKit's sandbox
//! on every page load, a sandbox that cannot start stopping the app, and
//! the opt-out key (issue 23, part 1).

use super::*;

/// What a process's kernel view says about it.
#[derive(Debug)]
struct Confinement {
    /// Mount, PID and network namespaces other than the app's.
    own_namespaces: bool,
    /// `Seccomp: 2` (a filter).
    seccomp_filter: bool,
    /// Paths from the app's side (files of the user's) it can see.
    sees: Vec<PathBuf>,
}

fn confinement(app: u32, web: u32, private: &[PathBuf]) -> Confinement {
    let ns = |pid: u32, kind: &str| std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok();
    let own_namespaces = ["mnt", "pid", "net"]
        .iter()
        .all(|k| ns(web, k).is_some() && ns(web, k) != ns(app, k));
    let status = std::fs::read_to_string(format!("/proc/{web}/status")).unwrap_or_default();
    let seccomp_filter = status
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["Seccomp:", "2"]);
    // The process's own view of the file system, through its root.
    let sees = private
        .iter()
        .filter(|p| {
            let inside = format!("/proc/{web}/root{}", p.display());
            std::fs::symlink_metadata(inside).is_ok()
        })
        .cloned()
        .collect();
    Confinement {
        own_namespaces,
        seccomp_filter,
        sees,
    }
}

/// A home directory and an app data directory with secrets in them, and
/// the demo run with them.
struct Private {
    _dir: tempfile::TempDir,
    home: PathBuf,
    xdg: PathBuf,
    /// Files that must not be visible in the sandbox.
    files: Vec<PathBuf>,
}

fn private_dirs() -> Private {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let home = root.join("home");
    let xdg = root.join("data");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::create_dir_all(xdg.join(APP_ID)).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "secret key").unwrap();
    std::fs::write(home.join("notes.txt"), "private").unwrap();
    std::fs::write(xdg.join(APP_ID).join("report.txt"), "app data").unwrap();
    let mut files = vec![
        home.join(".ssh/id_rsa"),
        home.join("notes.txt"),
        xdg.join(APP_ID).join("report.txt"),
    ];
    // The real /root's own files, where there are some.
    for f in ["/root/.bashrc", "/root/.profile", "/root/.cargo"] {
        if std::fs::symlink_metadata(f).is_ok() {
            files.push(PathBuf::from(f));
        }
    }
    Private {
        _dir: dir,
        home,
        xdg,
        files,
    }
}

#[test]
fn every_web_process_runs_in_the_sandbox_on_every_page_load() {
    let p = private_dirs();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, "sandboxed.js", &p.xdg, 60);
    cmd.env("HOME", &p.home);
    let mut looked = Vec::new();
    let out = run_watching(cmd, |name, app| match name {
        "sandbox: look" => {
            let webs = web_processes_of(app);
            assert!(!webs.is_empty(), "no web process");
            for web in webs {
                looked.push(confinement(app, web, &p.files));
            }
        }
        "ready for crash" => kill_web_process(app),
        _ => {}
    });
    out.assert_passed(&["sandbox: a call works", "sandbox: look"]);
    let loads = out
        .results()
        .filter(|r| r["name"] == "sandbox: look")
        .count();
    assert_eq!(
        loads, 3,
        "first load, reload, after the crash:\n{}",
        out.stdout
    );
    assert!(looked.len() >= 3, "{looked:?}");
    for c in &looked {
        assert!(c.own_namespaces, "shares the app's namespaces: {c:?}");
        assert!(c.seccomp_filter, "no seccomp filter: {c:?}");
        assert!(c.sees.is_empty(), "the web process sees {:?}", c.sees);
    }
    assert!(
        out.stderr
            .contains("loading the window's page again with a new key window=main reason=crashed"),
        "{}",
        out.tail()
    );
}

#[test]
fn a_sandbox_that_cannot_start_stops_the_app_with_its_cause() {
    let xdg = tempfile::tempdir().unwrap();
    // bubblewrap made unusable in a user and mount namespace of the test's
    // own: the host is not touched.
    let mut demo = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut demo, "sandboxed.js", xdg.path(), 30);
    let mut line = vec![format!("'{}'", env!("CARGO_BIN_EXE_moat-demo"))];
    line.extend(
        demo.get_args()
            .map(|a| format!("'{}'", a.to_string_lossy())),
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg(format!(
            "mount --bind /dev/null /usr/bin/bwrap && exec {}",
            line.join(" ")
        ));
    for (k, v) in demo.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let out = Outcome::from(cmd.output().expect("unshare"));
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("the web content process sandbox cannot start: /usr/bin/bwrap is missing or not executable. Fix: install the `bubblewrap` package"),
        "{}",
        out.tail()
    );
    assert_eq!(out.results().count(), 0, "a page ran: {}", out.stdout);
}

#[test]
fn the_sandbox_opt_out_is_explicit_and_loud() {
    let xdg = tempfile::tempdir().unwrap();
    let file = xdg.path().join("moat.json");
    std::fs::write(
        &file,
        r#"{"identifier":"dev.moat.nosandbox","title":"no sandbox","isolation":{"hooks":["validate.js"]},
            "dangerous":{"disableWebProcessSandbox":true}}"#,
    )
    .unwrap();
    let script = xdg.path().join("one.js");
    std::fs::write(
        &script,
        "check('sandbox: look', true, null); await sleep(500); harness.done();",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), xdg.path(), 30);
    cmd.args(["--harness-config", file.to_str().unwrap()]);
    let mut looked = Vec::new();
    let out = run_watching(cmd, |name, app| {
        if name == "sandbox: look" {
            for web in web_processes_of(app) {
                looked.push(confinement(app, web, &[]));
            }
        }
    });
    out.assert_passed(&["sandbox: look"]);
    assert!(!looked.is_empty());
    assert!(
        looked
            .iter()
            .all(|c| !c.own_namespaces && !c.seccomp_filter),
        "{looked:?}"
    );
    assert!(
        out.stderr.contains(
            "dangerous.disableWebProcessSandbox: the web content process runs WITHOUT its sandbox"
        ),
        "{}",
        out.tail()
    );
}
