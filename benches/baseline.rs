//! The benchmark floor: a minimal wry program with no isolation frame and no
//! encryption, echoing over the fastest plain wry transport measured here
//! (`window.ipc.postMessage` in, `evaluate_script` out). It runs the same
//! page script as the Moat subject, with the same `window.moat.invoke` and
//! `harness` names and the same output lines, so `benches/ipc.rs` can compare
//! the two line by line.
//!
//! It serves the demo's own page (`demo-frontend/`: HTML, stylesheet, module
//! script) as Moat does, so `startup_ms` compares the same page over two
//! transports, not the demo page against an empty one (which would charge
//! the page's own load, script and first rendering to isolation). The demo's
//! script runs here too; its start-up `greet` call gets "unknown command",
//! a round trip all the same.

use std::borrow::Cow;
use std::io::Write;
use std::time::Instant;

use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::window::WindowBuilder;
use wry::WebViewBuilder;

const INIT: &str = r#"(() => {
  const post = window.ipc.postMessage.bind(window.ipc);
  const pending = new Map();
  let next = 1;
  window.__reply = (id, ok, value) => {
    const p = pending.get(id); pending.delete(id);
    if (ok) p.resolve(value); else p.reject(new Error(value));
  };
  window.moat = { ready: Promise.resolve(), invoke(cmd, args) {
    return new Promise((resolve, reject) => {
      const id = next++; pending.set(id, { resolve, reject });
      post(JSON.stringify({ id, cmd, args }));
    });
  } };
  const harness = {
    result(name, ok, detail) { post(JSON.stringify({ harness: 'result', name: String(name), ok: ok === true, detail: detail === undefined ? null : detail })); },
    done() { post(JSON.stringify({ harness: 'done' })); },
    load: 1,
  };
  // Started like Moat's harness: once the document is parsed.
  const run = async () => {
{script}
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run, { once: true });
  else run();
})();"#;

/// The demo's page, served as Moat serves it (path `/` is `index.html`).
static DEMO: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../demo-frontend");

enum UserEvent {
    Eval(String),
    Exit(i32),
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    let started = Instant::now();
    let mut args = std::env::args().skip(1);
    let mut script = String::new();
    while let Some(a) = args.next() {
        if a == "--harness-script" {
            let path = args.next().unwrap_or_default();
            script = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
    let event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let window = WindowBuilder::new()
        .with_title("baseline")
        .build(&event_loop)
        .expect("window");
    let proxy = event_loop.create_proxy();
    let (passed, failed) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let builder = WebViewBuilder::new()
        .with_url("app://localhost/")
        .with_custom_protocol("app".into(), |_, req| {
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
        })
        .with_initialization_script(INIT.replace("{script}", &script))
        .with_ipc_handler(move |req| {
            let v: serde_json::Value = serde_json::from_str(req.body()).unwrap_or_default();
            match v["harness"].as_str() {
                Some("result") => {
                    let counter = if v["ok"] == true { &passed } else { &failed };
                    counter.set(counter.get() + 1);
                    let line = serde_json::json!({
                        "name": v["name"], "ok": v["ok"], "detail": v["detail"],
                        "t_ms": started.elapsed().as_secs_f64() * 1e3, "rss_kb": peak_rss_kb(),
                    });
                    println!("{line}");
                }
                Some(_) => {
                    println!("{} passed, {} failed", passed.get(), failed.get());
                    let _ = std::io::stdout().flush();
                    let _ = proxy.send_event(UserEvent::Exit(i32::from(failed.get() > 0)));
                }
                None => {
                    // The echo command: the reply is a JS string literal.
                    let reply = match v["cmd"].as_str() {
                        Some("echo") => {
                            format!("window.__reply({}, true, {})", v["id"], v["args"]["data"])
                        }
                        _ => format!("window.__reply({}, false, 'unknown command')", v["id"]),
                    };
                    let _ = proxy.send_event(UserEvent::Eval(reply));
                }
            }
        });
    let webview = {
        use tao::platform::unix::WindowExtUnix;
        use wry::WebViewBuilderExtUnix;
        builder
            .build_gtk(window.default_vbox().expect("vbox"))
            .expect("webview")
    };
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
    });
}
