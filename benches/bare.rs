//! What the bare subjects of `make bench` (`baseline`, `floor`, `ceiling`)
//! share: their window and event loop, the demo's page served as Moat
//! serves it, the `--harness-script` option, and the harness output lines
//! `benches/ipc.rs` reads. No subject here uses any of Moat's code, so this
//! is theirs alone.

use std::borrow::Cow;
use std::cell::Cell;
use std::io::Write;
use std::time::Instant;

use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::window::WindowBuilder;
use wry::WebViewBuilder;

/// The demo's page, served as Moat serves it (path `/` is `index.html`).
static DEMO: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../demo-frontend");

/// What the webview's handlers ask of the event loop.
enum UserEvent {
    Eval(String),
    Exit(i32),
}

/// Opens the subject's window (titled `title`, at the demo's size) on the
/// demo's page with `init` as its initialization script, and runs it until
/// the harness is done; then exits with its code. `configure` adds the
/// subject's own schemes to the builder, `attach` registers its handlers
/// on the built webview, and `other` answers a message on `window.ipc` that
/// is not the harness's with a script to evaluate, or nothing.
pub fn run(
    started: Instant,
    title: &str,
    init: &str,
    configure: impl for<'b> FnOnce(WebViewBuilder<'b>) -> WebViewBuilder<'b>,
    attach: impl FnOnce(&webkit2gtk::WebView),
    other: impl Fn(&serde_json::Value) -> Option<String> + 'static,
) -> ! {
    let event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let window = WindowBuilder::new()
        .with_title(title)
        .with_inner_size(window_size())
        .build(&event_loop)
        .expect("window");
    let proxy = event_loop.create_proxy();
    let tally = Tally::new(started);
    let builder = WebViewBuilder::new()
        .with_url("app://localhost/")
        .with_custom_protocol("app".into(), |_, req| serve_demo(req))
        .with_initialization_script(init_script(init, &harness_script()))
        .with_ipc_handler(move |req| {
            let v: serde_json::Value = serde_json::from_str(req.body()).unwrap_or_default();
            let event = match tally.post(&v) {
                Posted::Result => None,
                Posted::Done(code) => Some(UserEvent::Exit(code)),
                Posted::Other => other(&v).map(UserEvent::Eval),
            };
            if let Some(event) = event {
                let _ = proxy.send_event(event);
            }
        });
    let webview = {
        use tao::platform::unix::WindowExtUnix;
        use wry::WebViewBuilderExtUnix;
        configure(builder)
            .build_gtk(window.default_vbox().expect("vbox"))
            .expect("webview")
    };
    {
        use wry::WebViewExtUnix;
        attach(&webview.webview());
    }
    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::UserEvent(UserEvent::Eval(js)) => {
                let _ = webview.evaluate_script(&js);
            }
            Event::UserEvent(UserEvent::Exit(code)) => std::process::exit(code),
            Event::WindowEvent {
                event: WindowEvent::CloseRequested,
                ..
            } => *control_flow = ControlFlow::Exit,
            _ => {}
        }
    })
}

/// The demo window's size from its `moat.json`: the page lays out and
/// renders at the same size in every subject (WebKit's rendering work after
/// each reply grows with the window's area).
fn window_size() -> tao::dpi::LogicalSize<f64> {
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
fn init_script(init: &str, script: &str) -> String {
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
fn harness_script() -> String {
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
fn serve_demo(req: http::Request<Vec<u8>>) -> http::Response<Cow<'static, [u8]>> {
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
struct Tally {
    started: Instant,
    passed: Cell<u32>,
    failed: Cell<u32>,
}

/// What a message posted by the page was.
enum Posted {
    /// Not the harness's: the subject's own.
    Other,
    /// A result line, printed.
    Result,
    /// `harness.done()`: exit with this code.
    Done(i32),
}

impl Tally {
    fn new(started: Instant) -> Self {
        Tally {
            started,
            passed: Cell::new(0),
            failed: Cell::new(0),
        }
    }

    /// Prints a `harness.result` line or the closing count.
    fn post(&self, v: &serde_json::Value) -> Posted {
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
