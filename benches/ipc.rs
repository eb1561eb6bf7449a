//! `make bench`: the IPC path a user pays for, in the real webview, per
//! `docs/bench.md`. Runs the Moat demo, the bare-wry baseline and the
//! pattern's floor alternately, 3 runs each, with `benches/workload.js` as
//! page script; prints one JSON line per subject and run, then a table of
//! medians and the ratios moat / baseline and moat / floor.

use std::process::Command;

const RUNS: usize = 3;
const FIELDS: [&str; 9] = [
    "startup_ms",
    "seq_16b_us",
    "seq_1k_us",
    "batch_p99_us",
    "concurrent_per_s",
    "mb_per_s_1m",
    "mb_per_s_10m",
    "mb_per_s_10m_bytes",
    "rss_kb",
];

fn run(
    subject: &str,
    exe: &str,
    script: &str,
    data: &std::path::Path,
    extra: &[String],
) -> Vec<f64> {
    let out = Command::new(exe)
        .args(["--harness-script", script, "--harness-timeout", "240"])
        .args(extra)
        .env("XDG_DATA_HOME", data)
        // A runtime directory of its own: a running demo would otherwise
        // take the launch (launch.singleInstance).
        .env("XDG_RUNTIME_DIR", data)
        .env("RUST_LOG", "moat=warn")
        .output()
        .unwrap_or_else(|e| panic!("{exe}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
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
                panic!(
                    "{subject}: no {name:?} result\nstdout:\n{stdout}\nstderr:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
    };
    let first = find("first_reply");
    let figures = find("figures");
    assert!(
        first["ok"] == true && figures["ok"] == true && out.status.success(),
        "{subject}: a reply was wrong or the run failed: {figures}"
    );
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
    ];
    let mut all: Vec<Vec<Vec<f64>>> = vec![Vec::new(), Vec::new(), Vec::new()];
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
    println!("| figure | moat | baseline | floor | moat / baseline | moat / floor |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
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
    for (k, f) in FIELDS.iter().enumerate() {
        let m = median(all[0].iter().map(|r| r[k]).collect());
        let b = median(all[1].iter().map(|r| r[k]).collect());
        let fl = median(all[2].iter().map(|r| r[k]).collect());
        println!(
            "| `{f}` | {} | {} | {} | {} | {} |",
            cell(m),
            cell(b),
            cell(fl),
            ratio(m, b),
            ratio(m, fl)
        );
    }
    // The targets (docs/bench.md): isolated bytes no slower than unisolated
    // text, and Moat's own work within a tenth of the pattern's floor.
    let col = |i: usize, f: &str| {
        let k = FIELDS.iter().position(|x| *x == f).unwrap_or(0);
        median(all[i].iter().map(|r| r[k]).collect())
    };
    println!();
    println!(
        "target mb_per_s_10m_bytes (moat) >= mb_per_s_10m (baseline): {:.1} vs {:.1}: {}",
        col(0, "mb_per_s_10m_bytes"),
        col(1, "mb_per_s_10m"),
        if col(0, "mb_per_s_10m_bytes") >= col(1, "mb_per_s_10m") {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "target seq_16b_us (moat) <= 1.1 x floor: {:.1} vs {:.1}: {}",
        col(0, "seq_16b_us"),
        col(2, "seq_16b_us"),
        if col(0, "seq_16b_us") <= 1.1 * col(2, "seq_16b_us") {
            "met"
        } else {
            "NOT met"
        }
    );
}
