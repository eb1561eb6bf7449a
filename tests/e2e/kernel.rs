//! A scope bug cannot reach the disk (issue 24): command threads and their
//! programs are confined by the kernel (Landlock) to what `moat.json`
//! declares; a command with no scope check at all is refused by the kernel;
//! grants reach only through the broker; and a kernel without Landlock is
//! said, and refused when the app requires it.

use super::*;

#[test]
fn the_kernel_refuses_what_a_command_without_scope_checks_tries() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let (home, data) = (root.join("home"), root.join("data"));
    for d in [
        home.join(".ssh"),
        home.join("docs"),
        root.join("picked"),
        data.clone(),
    ] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(home.join(".ssh/id_rsa"), "secret key").unwrap();
    std::fs::write(home.join("docs/doc.txt"), "doc").unwrap();
    std::fs::write(root.join("picked/granted.txt"), "granted").unwrap();
    std::fs::write(root.join("picked/sibling.txt"), "sibling").unwrap();
    let true_path = std::fs::canonicalize("/usr/bin/true").unwrap();
    let config = serde_json::json!({
        "identifier": "dev.moat.kernel",
        "title": "kernel",
        "isolation": {"hooks": ["validate.js"]},
        // Read functions only: scope.fs is read-only to the kernel too.
        "allowlist": {"fs": {"readFile": true, "readDir": true}, "shell": {"spawn": true, "execute": true}, "dialog": {"open": true}},
        "scope": {
            "fs": {"allow": ["$HOME/docs/**"]},
            "shell": [
                {"name": "true", "cmd": "true"},
                {"name": "cat", "cmd": "cat", "args": [{"validator": "/[A-Za-z0-9/._-]+"}]}
            ]
        },
    });
    let answers = root.join("answers");
    std::fs::write(
        &answers,
        format!("{}\n", root.join("picked/granted.txt").display()),
    )
    .unwrap();
    let appdata = data.join("dev.moat.kernel");
    let (config_file, script) = scripted(
        &root,
        "kernel.js",
        &config,
        &serde_json::json!({
            "home": home,
            "key": home.join(".ssh/id_rsa"),
            "doc": home.join("docs/doc.txt"),
            "docsNew": home.join("docs/new.txt"),
            "own": appdata.join("own.txt"),
            "truePath": true_path,
            "granted": root.join("picked/granted.txt"),
            "sibling": root.join("picked/sibling.txt"),
        }),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, script.to_str().unwrap(), &data, 60);
    cmd.env("HOME", &home).args([
        "--harness-config",
        config_file.to_str().unwrap(),
        "--harness-unscoped",
        "--harness-dialog",
        answers.to_str().unwrap(),
    ]);
    let out = Outcome::from(cmd.output().expect("spawn moat-demo"));
    out.assert_passed(&[
        "kernel: a key under $HOME outside every scope is not read",
        "kernel: nor $HOME listed",
        "kernel: a file inside scope.fs is read",
        "kernel: no write beside a read-only scope",
        "kernel: the app's own data directory is written",
        "kernel: a program not in scope.shell is not run",
        "kernel: a program in scope.shell is run",
        "kernel: an async command runs on the moat-call thread",
        "kernel: which cannot read outside every scope either",
        "kernel: nor write beside a read-only scope",
        "kernel: nor run a program outside scope.shell",
        "kernel: a spawned program cannot read outside either",
        "kernel: a picked file is readable through fs",
        "kernel: its sibling is not, through fs",
        "kernel: nor by a command that skips the scope check",
        "kernel: nor is the grant itself a right of command threads",
    ]);
    assert!(
        out.stderr
            .contains("kernel confinement: every command thread and program confined"),
        "{}",
        out.tail()
    );
    assert!(!out.stdout.contains("secret key") && !home.join("docs/new.txt").exists());
    assert_eq!(
        std::fs::read_to_string(appdata.join("own.txt")).unwrap(),
        "own"
    );
}

/// A kernel without Landlock (played by the harness): said at startup, the
/// app runs on its scopes alone; unless the app requires a level, when it
/// does not start.
#[test]
fn a_kernel_without_landlock_is_said_and_refused_when_required() {
    let xdg = tempfile::tempdir().unwrap();
    let out = run_with(
        "one_call.js",
        xdg.path(),
        30,
        &["--harness-landlock-abi", "0"],
    );
    assert!(
        out.stderr.contains("kernel confinement: none"),
        "{}",
        out.tail()
    );
    assert!(
        out.results().count() > 0,
        "the app did not run: {}",
        out.tail()
    );
    let required = |abi: &str, minimum: u8| {
        let config = format!(
            r#"{{"identifier":"dev.moat.required","title":"required","isolation":{{"hooks":["validate.js"]}},
                "confinement":{{"minimumLandlockAbi":{minimum}}}}}"#
        );
        run_with_config(
            "one_call.js",
            xdg.path(),
            &config,
            &["--harness-landlock-abi", abi],
        )
    };
    let out = required("0", 1);
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("the kernel's confinement of commands cannot start as the app requires (confinement.minimumLandlockAbi = 1): this kernel confines at Landlock ABI 0"),
        "{}",
        out.tail()
    );
    assert_eq!(out.results().count(), 0, "a page ran: {}", out.stdout);
    let out = required("2", 3);
    assert!(
        out.stderr.contains("confines at Landlock ABI 2"),
        "{}",
        out.tail()
    );
    assert_eq!(out.results().count(), 0);
    let out = required("3", 3);
    assert!(
        out.stderr
            .contains("kernel confinement: partial (an older Landlock ABI)"),
        "{}",
        out.tail()
    );
    assert!(out.results().count() > 0, "{}", out.tail());
}
