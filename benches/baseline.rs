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

use std::time::Instant;

use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::window::WindowBuilder;
use wry::WebViewBuilder;

#[path = "bare.rs"]
mod bare;

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
{harness}
})();"#;

enum UserEvent {
    Eval(String),
    Exit(i32),
}

fn main() {
    let started = Instant::now();
    let script = bare::harness_script();
    let event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let window = WindowBuilder::new()
        .with_title("baseline")
        .with_inner_size(bare::window_size())
        .build(&event_loop)
        .expect("window");
    let proxy = event_loop.create_proxy();
    let tally = bare::Tally::new(started);
    let builder = WebViewBuilder::new()
        .with_url("app://localhost/")
        .with_custom_protocol("app".into(), |_, req| bare::serve_demo(req))
        .with_initialization_script(bare::init_script(INIT, &script))
        .with_ipc_handler(move |req| {
            let v: serde_json::Value = serde_json::from_str(req.body()).unwrap_or_default();
            match tally.post(&v) {
                bare::Posted::Result => {}
                bare::Posted::Done(code) => {
                    let _ = proxy.send_event(UserEvent::Exit(code));
                }
                bare::Posted::Other => {
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
