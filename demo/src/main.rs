//! The Moat demo: a page, a hook, and a few dedicated commands. Fork it as a
//! template: the frontend lives in `demo-frontend/`, the isolation hook in
//! `demo-frontend/hooks/`, the security config in `moat.json`.

mod bytes;
mod push;

use std::io::Write;
use std::time::Duration;

use moat::{Builder, CallContext, Commands, Config, NoArgs};
use serde::{Deserialize, Serialize};

static FRONTEND: moat::Dir = moat::include_dir!("$CARGO_MANIFEST_DIR/../demo-frontend");
static HOOKS: moat::Dir = moat::include_dir!("$CARGO_MANIFEST_DIR/../demo-frontend/hooks");

const REPORT: &str = "report.txt";

#[derive(Deserialize)]
struct Greet {
    name: String,
}

#[derive(Deserialize)]
struct WriteReport {
    contents: String,
}

#[derive(Deserialize)]
struct Echo {
    data: String,
}

#[derive(Deserialize)]
struct Slow {
    ms: u64,
}

/// The demo's own error type: it reaches the page as `code: "app"`, with
/// this value in `data`.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ReportError {
    NoReport,
    Io { message: String },
}

impl From<std::io::Error> for ReportError {
    fn from(e: std::io::Error) -> Self {
        // The message, not the path: the page need not learn where the data
        // directory is.
        ReportError::Io {
            message: e.kind().to_string(),
        }
    }
}

/// Writes the report atomically: a temp file in the same directory, synced,
/// then renamed over the old one, so a crash leaves the old report or the new
/// one and never half of either.
fn write_report(a: WriteReport, ctx: &CallContext) -> Result<usize, ReportError> {
    let dir = ctx.data_dir();
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(a.contents.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(REPORT))
        .map_err(|e| ReportError::from(e.error))?;
    Ok(a.contents.len())
}

fn read_report(_: NoArgs, ctx: &CallContext) -> Result<String, ReportError> {
    match std::fs::read_to_string(ctx.data_dir().join(REPORT)) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ReportError::NoReport),
        Err(e) => Err(e.into()),
    }
}

/// The demo's commands. A fork adds its own in another module and merges.
fn commands() -> Commands {
    Commands::new()
        .sync("greet", |a: Greet, _| {
            Ok::<_, ()>(format!("Hello, {}! (from Rust)", a.name))
        })
        .sync("write_report", write_report)
        .sync("read_report", read_report)
        .asynchronous("echo", |a: Echo, _| async move { Ok::<_, ()>(a.data) })
        // The attack lab shows what the core has refused so far, per code.
        .sync("refusal_counts", |_: NoArgs, ctx| {
            Ok::<_, ()>(ctx.refusal_counts())
        })
        .merge(push::commands())
        .merge(bytes::commands())
        .merge(diagnostics())
}

#[derive(Deserialize)]
struct EchoJson {
    value: serde_json::Value,
}

/// Commands that show failure handling (and that the tests drive).
fn diagnostics() -> Commands {
    Commands::new()
        .asynchronous(
            "echo_json",
            |a: EchoJson, _| async move { Ok::<_, ()>(a.value) },
        )
        .asynchronous("slow", |a: Slow, _| async move {
            tokio::time::sleep(Duration::from_millis(a.ms.min(10_000))).await;
            Ok::<_, ()>(a.ms)
        })
        .sync("fail", |_: NoArgs, _| Err::<(), _>(ReportError::NoReport))
        .sync("panic", |_: NoArgs, _| -> Result<(), ()> {
            panic!("the demo's panic command was called")
        })
        .asynchronous("panic_async", |_: NoArgs, _| async {
            if true {
                panic!("the demo's panic_async command was called");
            }
            Ok::<(), ()>(())
        })
}

fn main() {
    // An app may bring its own `tracing` subscriber (here, with
    // MOAT_DEMO_OWN_LOG set): Moat's layer keeps what pages send escaped in
    // it. Without one, Moat installs its own.
    if std::env::var_os("MOAT_DEMO_OWN_LOG").is_some() {
        use tracing_subscriber::prelude::*;
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new(
                "moat=info,moat_demo=info",
            ))
            .with(moat::log_layer())
            .init();
    }
    let result = Config::from_json(include_str!("../../moat.json"))
        .map_err(moat::Error::from)
        .and_then(|config| {
            let app = Builder::new(config)
                .about(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
                // `moat-demo audit` from the repository's top level.
                .sources("moat.json", "demo-frontend", "demo-frontend/hooks")
                .frontend(&FRONTEND)
                .hooks(&HOOKS)
                .commands(commands())
                .setup(push::start_clock);
            // `--help`, `--version` and `audit` answer and exit.
            if let Some(code) = app.answer_command_line() {
                std::process::exit(code);
            }
            app.run()
        });
    if let Err(e) = result {
        eprintln!("moat-demo: {e}");
        std::process::exit(2);
    }
}
