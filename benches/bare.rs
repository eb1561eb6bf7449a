//! What the two bare subjects of `make bench` (`baseline` and `floor`) share:
//! the demo's page served as Moat serves it, the `--harness-script` option,
//! and the harness output lines `benches/ipc.rs` reads. Neither subject uses
//! any of Moat's code, so this is theirs alone.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::Write;
use std::time::Instant;

/// The demo's page, served as Moat serves it (path `/` is `index.html`).
static DEMO: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../demo-frontend");

/// The demo window's size from its `moat.json`: the page lays out and
/// renders at the same size in every subject (WebKit's rendering work after
/// each reply grows with the window's area).
pub fn window_size() -> tao::dpi::LogicalSize<f64> {
    let config: serde_json::Value =
        serde_json::from_str(include_str!("../moat.json")).expect("moat.json");
    let side = |k: &str| {
        config["window"][k]
            .as_f64()
            .expect("window size in moat.json")
    };
    tao::dpi::LogicalSize::new(side("width"), side("height"))
}

/// `init` (a page-side transport that defines `post`, the way to the
/// subject's Rust, and `window.moat`) with the harness in place of its
/// `{harness}`: `harness.result` and `harness.done` posted as Moat's harness
/// hears them, and `script` started as Moat's harness starts it, once the
/// document is parsed.
pub fn init_script(init: &str, script: &str) -> String {
    const HARNESS: &str = r#"  const harness = {
    result(name, ok, detail) { post(JSON.stringify({ harness: 'result', name: String(name), ok: ok === true, detail: detail === undefined ? null : detail })); },
    done() { post(JSON.stringify({ harness: 'done' })); },
    load: 1,
  };
  const run = async () => {
{script}
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run, { once: true });
  else run();"#;
    init.replace("{harness}", &HARNESS.replace("{script}", script))
}

/// The page script named by `--harness-script`, or none.
pub fn harness_script() -> String {
    let mut args = std::env::args().skip(1);
    let mut script = String::new();
    while let Some(a) = args.next() {
        if a == "--harness-script" {
            let path = args.next().unwrap_or_default();
            script = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
    script
}

/// The `app://localhost/` handler: the demo's files, 404 for anything else.
pub fn serve_demo(req: http::Request<Vec<u8>>) -> http::Response<Cow<'static, [u8]>> {
    let path = req.uri().path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match DEMO.get_file(path) {
        Some(f) => http::Response::builder()
            .header(
                "content-type",
                mime_guess::from_path(path).first_or_octet_stream().as_ref(),
            )
            .body(Cow::Borrowed(f.contents())),
        None => http::Response::builder()
            .status(404)
            .body(Cow::Borrowed(&b""[..])),
    }
    .expect("static response")
}

/// The harness's results, printed as Moat's harness prints them.
pub struct Tally {
    started: Instant,
    passed: Cell<u32>,
    failed: Cell<u32>,
}

/// What a message posted by the page was.
pub enum Posted {
    /// Not the harness's: the subject's own.
    Other,
    /// A result line, printed.
    Result,
    /// `harness.done()`: exit with this code.
    Done(i32),
}

impl Tally {
    pub fn new(started: Instant) -> Self {
        Tally {
            started,
            passed: Cell::new(0),
            failed: Cell::new(0),
        }
    }

    /// Prints a `harness.result` line or the closing count.
    pub fn post(&self, v: &serde_json::Value) -> Posted {
        match v["harness"].as_str() {
            Some("result") => {
                let counter = if v["ok"] == true {
                    &self.passed
                } else {
                    &self.failed
                };
                counter.set(counter.get() + 1);
                let line = serde_json::json!({
                    "name": v["name"], "ok": v["ok"], "detail": v["detail"],
                    "t_ms": self.started.elapsed().as_secs_f64() * 1e3, "rss_kb": peak_rss_kb(),
                });
                println!("{line}");
                Posted::Result
            }
            Some(_) => {
                println!("{} passed, {} failed", self.passed.get(), self.failed.get());
                let _ = std::io::stdout().flush();
                Posted::Done(i32::from(self.failed.get() > 0))
            }
            None => Posted::Other,
        }
    }
}

/// Peak resident set size of this process, from `VmHWM`.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
