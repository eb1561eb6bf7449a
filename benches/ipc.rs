//! `make bench`: the IPC path a user pays for, in the real webview, per
//! `docs/bench.md`. Runs the Moat demo, the bare-wry baseline, the
//! pattern's floor and the engine's ceiling alternately, 3 runs each, with
//! `benches/workload.js` as page script; prints one JSON line per subject
//! and run, then a table of medians and Moat's ratio to each of the others,
//! then the targets.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

const RUNS: usize = 3;
const FIELDS: [&str; 10] = [
    "startup_ms",
    "seq_16b_us",
    "seq_1k_us",
    "batch_p99_us",
    "concurrent_per_s",
    "mb_per_s_1m",
    "mb_per_s_10m",
    "mb_per_s_10m_bytes",
    "rss_kb",
    "cpu_us_per_call",
];

/// Clock ticks per second of `/proc/<pid>/stat`'s times: `USER_HZ`, 100 in
/// Linux's ABI whatever the kernel's own tick.
const USER_HZ: f64 = 100.0;

/// CPU time (user + system, in ticks) of `root` and every process below it
/// (WebKit's web and network processes, and the sandbox's helpers between).
fn tree_cpu_ticks(root: u32) -> u64 {
    let mut parent = HashMap::new();
    let mut ticks = HashMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the command name, which may hold spaces and parens.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
        parent.insert(pid, num(1) as u32);
        ticks.insert(pid, num(11) + num(12));
    }
    ticks
        .iter()
        .filter(|(pid, _)| {
            let mut p = **pid;
            loop {
                if p == root {
                    return true;
                }
                match parent.get(&p) {
                    Some(&up) if up != 0 && up != p => p = up,
                    _ => return false,
                }
            }
        })
        .map(|(_, t)| t)
        .sum()
}

fn run(
    subject: &str,
    exe: &str,
    script: &str,
    data: &std::path::Path,
    extra: &[String],
) -> Vec<f64> {
    let mut child = Command::new(exe)
        .args(["--harness-script", script, "--harness-timeout", "240"])
        .args(extra)
        .env("XDG_DATA_HOME", data)
        // A runtime directory of its own: a running demo would otherwise
        // take the launch (launch.singleInstance).
        .env("XDG_RUNTIME_DIR", data)
        .env("RUST_LOG", "moat=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{exe}: {e}"));
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    // Each line as the subject prints it (its stdout is line-buffered), so
    // the CPU samples are taken as the page reaches `cpu_start`/`cpu_end`.
    let mut stdout = String::new();
    let mut cpu = (0, 0);
    for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let Ok(line) = line else { break };
        if line.contains(r#""name":"cpu_start""#) {
            cpu.0 = tree_cpu_ticks(child.id());
        } else if line.contains(r#""name":"cpu_end""#) {
            cpu.1 = tree_cpu_ticks(child.id());
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child.wait().unwrap_or_else(|e| panic!("{exe}: {e}"));
    let stderr = stderr_reader.join().unwrap_or_default();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let find = |name: &str| {
        lines
            .iter()
            .find(|v| v["name"] == name)
            .cloned()
            .unwrap_or_else(|| {
                panic!("{subject}: no {name:?} result\nstdout:\n{stdout}\nstderr:\n{stderr}")
            })
    };
    let first = find("first_reply");
    let figures = find("figures");
    let cpu_end = find("cpu_end");
    assert!(
        first["ok"] == true && figures["ok"] == true && cpu_end["ok"] == true && status.success(),
        "{subject}: a reply was wrong or the run failed: {figures} {cpu_end}"
    );
    let calls = cpu_end["detail"]["calls"].as_f64().unwrap_or(f64::NAN);
    let cpu_us_per_call = cpu.1.saturating_sub(cpu.0) as f64 * 1e6 / USER_HZ / calls;
    let d = &figures["detail"];
    let num = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let last_rss = lines
        .iter()
        .filter_map(|v| v["rss_kb"].as_f64())
        .fold(0.0, f64::max);
    vec![
        num(&first["t_ms"]),
        num(&d["seq_16b_us"]),
        num(&d["seq_1k_us"]),
        num(&d["batch_p99_us"]),
        num(&d["concurrent_per_s"]),
        num(&d["mb_per_s_1m"]),
        num(&d["mb_per_s_10m"]),
        num(&d["mb_per_s_10m_bytes"]),
        last_rss,
        cpu_us_per_call,
    ]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../benches/workload.js");
    let data = std::env::temp_dir().join(format!("moat-bench-{}", std::process::id()));
    std::fs::create_dir_all(&data).expect("bench data directory");
    // The demo's own config, with the call rate limit raised past what the
    // workload makes (it is on by default at 1000/s; the workload runs
    // tens of thousands per second). The check itself stays on the path.
    let mut config: serde_json::Value =
        serde_json::from_str(include_str!("../moat.json")).expect("moat.json");
    config["limits"]["maxCallsPerSecond"] = serde_json::json!(10_000_000);
    let config_file = data.join("bench.moat.json");
    std::fs::write(&config_file, config.to_string()).expect("write bench config");
    let moat_args = vec![
        "--harness-config".to_owned(),
        config_file.display().to_string(),
    ];
    let subjects = [
        ("moat", env!("CARGO_BIN_EXE_moat-demo"), moat_args),
        ("baseline", env!("CARGO_BIN_EXE_moat-baseline"), Vec::new()),
        ("floor", env!("CARGO_BIN_EXE_moat-floor"), Vec::new()),
        ("ceiling", env!("CARGO_BIN_EXE_moat-ceiling"), Vec::new()),
    ];
    let mut all: Vec<Vec<Vec<f64>>> = vec![Vec::new(); subjects.len()];
    for r in 1..=RUNS {
        for (i, (subject, exe, extra)) in subjects.iter().enumerate() {
            let figs = run(subject, exe, script, &data, extra);
            let mut line = serde_json::Map::new();
            line.insert("subject".into(), (*subject).into());
            line.insert("run".into(), r.into());
            for (f, v) in FIELDS.iter().zip(&figs) {
                let rounded = if v.is_nan() {
                    serde_json::Value::Null
                } else if *f == "rss_kb" {
                    serde_json::json!(v.round())
                } else {
                    serde_json::json!((v * 10.0).round() / 10.0)
                };
                line.insert((*f).into(), rounded);
            }
            println!("{}", serde_json::Value::Object(line));
            all[i].push(figs);
        }
    }
    let _ = std::fs::remove_dir_all(&data);
    println!();
    println!(
        "| figure | moat | baseline | floor | ceiling | moat / baseline | moat / floor | moat / ceiling |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let cell = |v: f64| {
        if v.is_nan() {
            "—".to_owned()
        } else {
            format!("{v:.1}")
        }
    };
    let ratio = |a: f64, b: f64| {
        if a.is_nan() || b.is_nan() {
            "—".to_owned()
        } else {
            format!("{:.2}", a / b)
        }
    };
    let k = |f: &str| FIELDS.iter().position(|x| *x == f).unwrap_or(0);
    // The median of figure `f` of subject `i` (the order of `subjects`).
    let col = |i: usize, f: &str| median(all[i].iter().map(|r| r[k(f)]).collect());
    for f in FIELDS {
        let m = col(0, f);
        println!(
            "| `{f}` | {} | {} | {} | {} | {} | {} | {} |",
            cell(m),
            cell(col(1, f)),
            cell(col(2, f)),
            cell(col(3, f)),
            ratio(m, col(1, f)),
            ratio(m, col(2, f)),
            ratio(m, col(3, f))
        );
    }
    // The targets (docs/bench.md).
    println!();
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    let (bytes, ceiling_bytes) = (col(0, "mb_per_s_10m_bytes"), col(3, "mb_per_s_10m_bytes"));
    println!(
        "target mb_per_s_10m_bytes (moat) >= 0.8 x ceiling: {bytes:.1} vs {ceiling_bytes:.1}: {}",
        verdict(bytes >= 0.8 * ceiling_bytes)
    );
    let (text, baseline_text) = (col(0, "mb_per_s_10m"), col(1, "mb_per_s_10m"));
    println!(
        "target mb_per_s_10m (moat) >= 0.9 x baseline: {text:.1} vs {baseline_text:.1}: {}",
        verdict(text >= 0.9 * baseline_text)
    );
    let (rss, bound) = (
        col(0, "rss_kb"),
        col(1, "rss_kb").min(1.1 * col(3, "rss_kb")),
    );
    println!(
        "target rss_kb (moat) <= min(baseline, 1.1 x ceiling): {rss:.0} vs {bound:.0}: {}",
        verdict(rss <= bound)
    );
    let per_run: Vec<f64> = (0..RUNS)
        .map(|r| all[0][r][k("cpu_us_per_call")] / all[2][r][k("cpu_us_per_call")])
        .collect();
    println!(
        "target cpu_us_per_call (moat) <= 1.1 x floor in each run: {}: {}",
        per_run
            .iter()
            .map(|x| format!("{x:.3}"))
            .collect::<Vec<_>>()
            .join(", "),
        verdict(per_run.iter().all(|x| *x <= 1.1))
    );
}
