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

fn main() {
    bare::run(
        Instant::now(),
        "baseline",
        INIT,
        |builder| builder,
        |_| {},
        // The echo command: the reply is a JS string literal.
        |v| {
            Some(match v["cmd"].as_str() {
                Some("echo") => {
                    format!("window.__reply({}, true, {})", v["id"], v["args"]["data"])
                }
                _ => format!("window.__reply({}, false, 'unknown command')", v["id"]),
            })
        },
    )
}
