//! `shell.execute` (run a `scope.shell` entry) and `shell.open` (hand a
//! `scope.open` URL to the system's opener).
//!
//! No shell is ever involved: the program is started directly with the
//! checked arguments as separate argv entries, stdin closed. A program that
//! outlives `limits.callTimeoutMs` is killed.

use std::process::Stdio;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Api;
use crate::ipc::command::Commands;
use crate::scope::error::ScopeError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecuteArgs {
    name: String,
    #[serde(default)]
    args: Vec<String>,
}

#[derive(Serialize)]
struct Output {
    /// Exit code; `None` when a signal ended it.
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenArgs {
    url: String,
}

pub(super) fn commands(api: &Arc<Api>) -> Commands {
    let (a, b) = (Arc::clone(api), Arc::clone(api));
    Commands::new()
        .builtin_async("shell.execute", move |x: ExecuteArgs, _| {
            let api = Arc::clone(&a);
            async move { execute(&api, x).await }
        })
        .builtin("shell.open", move |x: OpenArgs, _| open(&b, &x.url))
}

async fn execute(api: &Api, x: ExecuteArgs) -> Result<Output, ScopeError> {
    let entry = api.scopes.shell.check(&x.name, &x.args)?;
    let spawn_err = |error| ScopeError::Spawn {
        name: x.name.clone(),
        error,
    };
    let child = tokio::process::Command::new(&entry.cmd)
        .args(&x.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_err)?;
    tracing::info!(name = %x.name, cmd = %entry.cmd, args = ?x.args, "shell.execute");
    let out = match tokio::time::timeout(api.timeout, child.wait_with_output()).await {
        Ok(r) => r.map_err(spawn_err)?,
        Err(_) => {
            return Err(spawn_err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "killed after limits.callTimeoutMs",
            )))
        }
    };
    if out.stdout.len() + out.stderr.len() > api.max_bytes {
        return Err(spawn_err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "output larger than limits.maxMessageBytes",
        )));
    }
    Ok(Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Hands `raw` to the system's opener if it is inside `scope.open`. Also
/// what a `target=_blank` link or `window.open` (from a real click) does
/// when `shell.open` is allowed.
pub(crate) fn open(api: &Api, raw: &str) -> Result<(), ScopeError> {
    let url = api.scopes.open.check(raw)?;
    let name = api.opener.display().to_string();
    // The URL as the parser re-serialised it, as one argv entry. It starts
    // with its scheme, so the opener cannot take it for an option.
    let mut child = std::process::Command::new(&api.opener)
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| ScopeError::Spawn { name, error })?;
    tracing::info!(url = %url, "shell.open");
    // Reap it without holding the call.
    std::thread::spawn(move || child.wait());
    Ok(())
}
