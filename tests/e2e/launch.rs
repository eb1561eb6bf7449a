//! Launch by link (issue 30): a second launch hands its link to the running
//! instance and exits 0; links of other schemes, malformed, over-long or
//! with control characters, files the app declared no type for, messages
//! that are not launches and floods are refused and logged; another user
//! cannot reach the instance.

use super::*;

/// The demo once more, as a later launch with `arg`, sharing `xdg`'s
/// runtime directory: how it ended.
/// (One that does not hand over would run a window of its own: it is
/// ended after 20 s, and fails.)
fn launch_again(xdg: &Path, arg: &str) -> Outcome {
    Outcome::from(again(xdg, arg).output().expect("spawn moat-demo"))
}

fn again(xdg: &Path, arg: &str) -> Command {
    let mut cmd = Command::new("timeout");
    cmd.arg("20")
        .arg(env!("CARGO_BIN_EXE_moat-demo"))
        .args((!arg.is_empty()).then_some(arg))
        .env("XDG_RUNTIME_DIR", xdg.join("run"))
        .env("XDG_DATA_HOME", xdg)
        .env("RUST_LOG", "moat=info")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn a_second_launch_hands_its_link_over_and_bad_ones_are_refused() {
    let xdg = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_moat-demo"));
    harness_args(&mut cmd, "launch.js", xdg.path(), 90);
    let mut first = cmd
        .arg("moat-demo://first/start")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn moat-demo");
    let stderr = first.stderr.take().unwrap();
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let mut stdout = String::new();
    for line in lines.by_ref().map_while(Result::ok) {
        stdout.push_str(&line);
        stdout.push('\n');
        if line.contains("launch: listening") {
            break;
        }
    }
    assert!(stdout.contains("launch: listening"), "{stdout}");

    let socket = xdg.path().join("run/moat").join(format!("{APP_ID}.sock"));
    // Every well-formed launch from here on asks for the window; it comes
    // forward at most once a second however many ask (checked below).
    let launches_began = std::time::Instant::now();
    let long = format!("moat-demo://x/{}", "a".repeat(3000));
    for arg in [
        "moat-demo://open/item?id=42&q=a b",
        "evil://open/item",
        "moat-demo://a\nb",
        &long,
        "/etc/passwd",
    ] {
        let out = launch_again(xdg.path(), arg);
        assert_eq!(out.code, Some(0), "a later launch exits 0:\n{}", out.tail());
        assert!(
            out.stderr
                .contains("the running instance has this launch's arguments"),
            "{}",
            out.tail()
        );
    }
    // A process of the user's that is not a launch: refused, no answer.
    {
        use std::io::{Read, Write};
        let mut raw =
            std::os::unix::net::UnixStream::connect(&socket).expect("the instance socket");
        raw.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        raw.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = Vec::new();
        let _ = raw.read_to_end(&mut answer);
        assert!(answer.is_empty(), "{answer:?}");
    }
    // Another user (when these tests run as root). The directory keeps
    // them out; opened up for the test, the socket lets them connect, and
    // the peer's credentials keep them out: a valid launch message from
    // user 65534 gets no answer, and its link never arrives.
    let as_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let mut other_user_refused = false;
    if as_root {
        use std::os::unix::fs::PermissionsExt;
        let set = |p: &Path, mode: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
        };
        let run = xdg.path().join("run");
        for dir in [xdg.path(), run.as_path(), &run.join("moat")] {
            set(dir, 0o711);
        }
        set(&socket, 0o777);
        // The message a launch with that link sends (src/launch/wire.rs).
        let link = b"moat-demo://other-user";
        let mut message = b"MOAT-LAUNCH\x01\x00\x01".to_vec();
        message.extend_from_slice(&(link.len() as u16).to_be_bytes());
        message.extend_from_slice(link);
        let hex: String = message.iter().map(|b| format!("{b:02x}")).collect();
        let mut client = Command::new("python3");
        std::os::unix::process::CommandExt::uid(&mut client, 65534);
        std::os::unix::process::CommandExt::gid(&mut client, 65534);
        let answer = client
            .args(["-c", "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.settimeout(5)\ntry:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    print('blocked')\n    sys.exit(0)\nprint('connected')\ntry:\n    s.sendall(bytes.fromhex(sys.argv[2]))\n    s.shutdown(socket.SHUT_WR)\n    print(repr(s.recv(1)))\nexcept OSError:\n    print('closed')"])
            .arg(&socket)
            .arg(hex)
            .output()
            .expect("python3 (make test uses it)");
        assert!(
            answer.status.success(),
            "{}",
            String::from_utf8_lossy(&answer.stderr)
        );
        let said = String::from_utf8_lossy(&answer.stdout);
        // A directory above the test's own (TMPDIR) may keep them out
        // first: then only the directory's protection is shown.
        if said.trim() != "blocked" {
            assert!(
                said.starts_with("connected\n")
                    && matches!(said.lines().nth(1), Some("b''" | "closed")),
                "no answer, and the connection closed: {said}"
            );
            other_user_refused = true;
        }
        for dir in [xdg.path(), run.as_path(), &run.join("moat")] {
            set(dir, 0o700);
        }
    }
    // A flood: past the rate, refused.
    for n in 0..25 {
        let out = launch_again(xdg.path(), &format!("moat-demo://flood/{n}"));
        assert_eq!(out.code, Some(0), "{}", out.tail());
    }
    // Once the rate's window has passed, links arrive again.
    std::thread::sleep(std::time::Duration::from_millis(10_500));
    assert_eq!(launch_again(xdg.path(), "moat-demo://done").code, Some(0));
    let launching = launches_began.elapsed();
    for line in lines.map_while(Result::ok) {
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = first.wait().unwrap();
    let out = Outcome {
        code: status.code(),
        stdout,
        stderr: stderr.join().unwrap(),
    };
    out.assert_passed(&[
        "launch: the demo shows the link it was opened with",
        "launch: listening",
        "launch: the first launch's own link arrived, before any listener",
        "launch: a second launch's link arrived in its parsed form",
        "launch: nothing refused arrived",
        "launch: a flood of launches is cut at the rate",
    ]);
    for reason in [
        "scheme `evil` is not in launch.schemes",
        "it has a control character",
        "3014 bytes, at most 2048",
        "a file, but launch.mimeTypes declares none",
        "a connection to the instance socket refused: not a launch message",
    ] {
        assert!(
            out.stderr.contains(reason),
            "no refusal {reason:?}:\n{}",
            out.tail()
        );
    }
    if other_user_refused {
        assert!(
            out.stderr.contains("its peer is user 65534, not this one"),
            "{}",
            out.tail()
        );
    }
    out.assert_logged("launch_refused");
    out.assert_logged("rate_limited");
    // 31 launches reached the instance (5 above, the flood's 25, the last
    // one), the flood's within a few seconds: the window was raised at
    // most once per second of all that, and at least once.
    let raised = out
        .stderr
        .matches("a later launch brought the window forward")
        .count();
    let allowed = launching.as_secs() as usize + 1;
    assert!(
        (1..=allowed).contains(&raised),
        "raised {raised} times in {launching:?} of launches (at most {allowed}):\n{}",
        out.tail()
    );
}

/// Running the app again brings its window forward, even one that was
/// hidden: on a display of its own, the test unmaps the window, launches
/// the demo once more with no argument, and finds it shown and focused.
#[test]
fn a_second_launch_brings_the_running_window_forward() {
    let xdg = tempfile::tempdir().unwrap();
    let cmd = on_own_display("1024x768x24", "forward.js", xdg.path());
    let mut seen = Vec::new();
    let out = OwnDisplay::start(cmd).finish(|run, line| {
        if !line.contains("forward: listening") {
            return;
        }
        let first = |args: &[&str]| {
            let out = run.xdotool(args);
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned()
        };
        let visible = |id: &str| {
            let all = run.xdotool(&["search", "--onlyvisible", "--name", "^Moat demo$"]);
            String::from_utf8_lossy(&all.stdout)
                .lines()
                .any(|l| l == id)
        };
        let id = first(&["search", "--sync", "--onlyvisible", "--name", "^Moat demo$"]);
        run.xdotool(&["windowunmap", "--sync", &id]);
        seen.push(("hidden", !visible(&id)));
        let on_display = |arg: &str| {
            let mut cmd = again(xdg.path(), arg);
            cmd.env("DISPLAY", &run.display)
                .env("XAUTHORITY", &run.xauthority);
            cmd.output().expect("spawn moat-demo")
        };
        let later = Outcome::from(on_display(""));
        seen.push(("handed over", later.code == Some(0)));
        let back = (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            visible(&id)
        });
        seen.push(("shown again", back));
        seen.push(("focused", first(&["getwindowfocus"]) == id));
        on_display("moat-demo://done");
    });
    out.assert_passed(&["forward: listening", "forward: the last launch arrived"]);
    assert_eq!(
        seen,
        [
            ("hidden", true),
            ("handed over", true),
            ("shown again", true),
            ("focused", true)
        ],
        "{}",
        out.tail()
    );
    assert!(
        out.stderr
            .contains("a later launch brought the window forward"),
        "{}",
        out.tail()
    );
}

/// `launch.singleInstance: false`: said at startup, and a second launch
/// runs a window of its own beside the first instead of handing over.
#[test]
fn with_single_instance_off_a_second_launch_runs_beside_the_first() {
    let xdg = tempfile::tempdir().unwrap();
    // Written once: the second run starts while the first runs.
    let config = xdg.path().join("moat.json");
    std::fs::write(
        &config,
        r#"{"identifier":"dev.moat.several","title":"several","isolation":{"hooks":["validate.js"]},
            "launch":{"singleInstance":false}}"#,
    )
    .unwrap();
    // Long enough that the two runs overlap.
    let script = xdg.path().join("several.js");
    std::fs::write(
        &script,
        "check('several: this instance runs', (await invoke('echo', { data: 'x' })) === 'x'); await sleep(3000); harness.done();",
    )
    .unwrap();
    let run = || {
        let config = ["--harness-config", config.to_str().unwrap()];
        run_with(script.to_str().unwrap(), xdg.path(), 30, &config)
    };
    let (first, second) = std::thread::scope(|s| {
        let first = s.spawn(run);
        std::thread::sleep(std::time::Duration::from_millis(500));
        let second = run();
        (first.join().unwrap(), second)
    });
    for out in [first, second] {
        out.assert_passed(&["several: this instance runs"]);
        assert!(
            out.stderr
                .contains("launch.singleInstance is off: a second launch runs beside the first"),
            "{}",
            out.tail()
        );
    }
}
