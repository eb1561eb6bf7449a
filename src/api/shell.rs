//! `shell.execute` (run a `scope.shell` entry) and `shell.open` (hand a
//! `scope.open` URL to the system's opener).
//!
//! No shell is ever involved: the program is started directly with the
//! checked arguments as separate argv entries, stdin closed. A program that
//! outlives `limits.callTimeoutMs` is killed, and so is one whose output
//! passes `limits.maxMessageBytes` (read no further than that); when the
//! call ends, however it ends, so does everything the program forked.

use std::process::Stdio;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::{Api, Builtin};
use crate::ipc::command::Commands;
use crate::scope::error::ScopeError;
use crate::scope::process_linux::Group;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecuteArgs {
    name: String,
    #[serde(default)]
    args: Vec<String>,
}

#[derive(Debug, Serialize)]
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
        .builtin_async(Builtin::Execute.name(), move |x: ExecuteArgs, _| {
            let api = Arc::clone(&a);
            async move { execute(&api, x).await }
        })
        .builtin(Builtin::Open.name(), move |x: OpenArgs, _| open(&b, &x.url))
}

async fn execute(api: &Api, x: ExecuteArgs) -> Result<Output, ScopeError> {
    let entry = api.scopes.shell.check(&x.name, &x.args)?;
    Api::take(&api.execute_rate, Builtin::Execute.name())?;
    let spawn_err = |error| ScopeError::Spawn {
        name: x.name.clone(),
        error,
    };
    let child = entry.command(&x.args).spawn().map_err(spawn_err)?;
    // Ends the program and whatever it forked, however this call ends
    // (finished, timed out, over the size limit, dropped).
    let group = Group::of(&child);
    tracing::info!(name = %x.name, program = %entry.program.display(), args = ?x.args, "shell.execute");
    let (status, (stdout, stderr)) = match tokio::time::timeout(
        api.timeout,
        collect(child, group.as_ref(), api.max_bytes),
    )
    .await
    {
        Ok(r) => r.map_err(spawn_err)?,
        Err(_) => {
            return Err(spawn_err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "killed after limits.callTimeoutMs",
            )))
        }
    };
    Ok(Output {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// The program's exit status and both outputs, read up to `max_bytes` in
/// all and no further, so a program that writes gigabytes costs the app at
/// most that much. Dropping the future (the timeout) kills the program.
/// When the program exits while something it forked still holds its
/// output open, `group` ends that too, and what is left is read.
async fn collect(
    mut child: tokio::process::Child,
    group: Option<&Group>,
    max_bytes: usize,
) -> std::io::Result<(std::process::ExitStatus, (Vec<u8>, Vec<u8>))> {
    let cap = max_bytes as u64 + 1;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(std::io::Error::other("no output pipes"));
    };
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            "output larger than limits.maxMessageBytes",
        )
    };
    // try_join: the first stream over the cap ends the call (and, on drop,
    // the program) without waiting for the other one.
    let reads = async {
        tokio::try_join!(
            read_capped(stdout, cap, too_large),
            read_capped(stderr, cap, too_large)
        )
    };
    tokio::pin!(reads);
    let (status, out) = tokio::select! {
        out = &mut reads => {
            let out = out?;
            (child.wait().await?, out)
        }
        status = child.wait() => {
            let status = status?;
            if let Some(g) = group {
                g.end();
            }
            (status, reads.await?)
        }
    };
    if out.0.len() + out.1.len() > max_bytes {
        return Err(too_large());
    }
    Ok((status, out))
}

/// Reads `r` to its end, failing once it passes `cap - 1` bytes.
async fn read_capped(
    r: impl tokio::io::AsyncRead + Unpin,
    cap: u64,
    too_large: impl Fn() -> std::io::Error,
) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(cap).read_to_end(&mut buf).await?;
    if buf.len() as u64 >= cap {
        return Err(too_large());
    }
    Ok(buf)
}

/// Hands `raw` to the system's opener if it is inside `scope.open`. Also
/// what a `target=_blank` link or `window.open` (from a real click) does
/// when `shell.open` is allowed.
pub(crate) fn open(api: &Api, raw: &str) -> Result<(), ScopeError> {
    // The canonical form is what was judged and what the opener gets.
    let url = api.scopes.open.check(raw)?.url;
    Api::take(&api.open_rate, Builtin::Open.name())?;
    let Some(opener) = &api.opener else {
        return Err(ScopeError::Spawn {
            name: "xdg-open".into(),
            error: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no system opener (xdg-open) was found on PATH at startup",
            ),
        });
    };
    let name = opener.display().to_string();
    let (opener, arg) = (opener.clone(), url.as_str().to_owned());
    // Started by the broker: the opener runs the user's browser or mail
    // client, which must not inherit the confinement of command threads
    // (`confine::broker`).
    let started = api
        .broker
        .run(move || start_opener(&opener, &arg))
        .unwrap_or_else(|_| Err(std::io::Error::other("the broker thread is gone")));
    started.map_err(|error| ScopeError::Spawn { name, error })?;
    tracing::info!(url = %url, "shell.open");
    Ok(())
}

/// Starts `opener` with the canonical URL `url` as one argv entry (it
/// starts with its scheme, so the opener cannot take it for an option),
/// and reaps it without holding the call. The opener keeps the app's
/// environment, as the user's session gave it (what Moat set for WebKit
/// undone): it needs the session's display and bus.
fn start_opener(opener: &std::path::Path, url: &str) -> std::io::Result<()> {
    let mut command = std::process::Command::new(opener);
    command
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in crate::engine::sandbox::session_env() {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    let mut child = command.spawn()?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ScopeConfig, ShellEntryConfig};
    use crate::scope::{BaseDirs, Scopes};

    fn api(entries: &str, timeout_ms: u64) -> Api {
        let shell: Vec<ShellEntryConfig> = serde_json::from_str(entries).unwrap();
        let config = ScopeConfig {
            shell,
            ..ScopeConfig::default()
        };
        let dirs = BaseDirs::fixed(std::path::Path::new("/")).with_program_path(&[
            std::path::Path::new("/usr/bin"),
            std::path::Path::new("/bin"),
        ]);
        Api {
            scopes: Scopes::compile(&config, &dirs).unwrap(),
            opener: Some("/bin/true".into()),
            max_bytes: 1024,
            timeout: std::time::Duration::from_millis(timeout_ms),
            open_rate: None,
            execute_rate: Some(crate::ipc::rate::RateLimit::new(
                3,
                std::time::Duration::from_secs(60),
            )),
            #[cfg(feature = "api-dialog")]
            dialogs: crate::api::dialog::Dialogs::default(),
            broker: crate::confine::broker::Broker::start(),
            store: None,
            #[cfg(feature = "api-secrets")]
            secrets: None,
        }
    }

    fn run(api: &Api, name: &str, args: &[&str]) -> Result<Output, ScopeError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(execute(
            api,
            ExecuteArgs {
                name: name.into(),
                args: args.iter().map(|s| s.to_string()).collect(),
            },
        ))
    }

    #[test]
    fn exit_code_and_both_streams_come_back() {
        let api = api(
            r#"[{"name":"ls","cmd":"ls","args":[{"validator":"/[a-z]+"}]}]"#,
            10_000,
        );
        let out = run(&api, "ls", &["/nonexistent"]).unwrap();
        assert_eq!(out.code, Some(2));
        assert!(out.stdout.is_empty());
        assert!(out.stderr.contains("nonexistent"), "{}", out.stderr);
    }

    #[test]
    fn a_program_past_the_call_timeout_is_killed() {
        let api = api(
            r#"[{"name":"sleep","cmd":"sleep","args":[{"validator":"[0-9]+"}]}]"#,
            200,
        );
        match run(&api, "sleep", &["30"]) {
            Err(ScopeError::Spawn { error, .. }) => {
                assert_eq!(error.kind(), std::io::ErrorKind::TimedOut)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn output_over_the_message_limit_is_refused() {
        let api = api(
            r#"[{"name":"seq","cmd":"seq","args":[{"validator":"[0-9]+"}]}]"#,
            10_000,
        );
        match run(&api, "seq", &["5000"]) {
            Err(ScopeError::Spawn { error, .. }) => {
                assert_eq!(error.kind(), std::io::ErrorKind::FileTooLarge)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn endless_output_is_cut_at_the_limit() {
        // `yes` never ends and never closes stderr: the call must end on
        // stdout alone, well before the 30 s timeout.
        let api = api(r#"[{"name":"yes","cmd":"yes"}]"#, 30_000);
        match run(&api, "yes", &[]) {
            Err(ScopeError::Spawn { error, .. }) => {
                assert_eq!(error.kind(), std::io::ErrorKind::FileTooLarge)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_program_removed_after_startup_is_io_failed() {
        let t = tempfile::tempdir().unwrap();
        let prog = t.path().join("prog");
        std::fs::copy("/bin/true", &prog).unwrap();
        let api = api(
            &format!(r#"[{{"name":"x","cmd":"{}"}}]"#, prog.display()),
            10_000,
        );
        std::fs::remove_file(&prog).unwrap();
        let e = run(&api, "x", &[]).unwrap_err();
        assert_eq!(e.code(), "io_failed");
    }

    #[test]
    fn programs_run_with_the_minimal_environment_in_the_fixed_directory() {
        let api = api(
            r#"[{"name":"env","cmd":"env","env":{"EXTRA":"1"}},{"name":"pwd","cmd":"pwd"}]"#,
            10_000,
        );
        // The test process's own environment (HOME, PATH, CARGO_*, …) is
        // not passed on.
        let out = run(&api, "env", &[]).unwrap();
        let mut lines: Vec<&str> = out.stdout.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                "EXTRA=1",
                "LANG=C.UTF-8",
                "PATH=/usr/local/bin:/usr/bin:/bin"
            ]
        );
        assert_eq!(run(&api, "pwd", &[]).unwrap().stdout, "/\n");
    }

    #[test]
    fn runs_past_the_limit_are_rate_limited() {
        let api = api(r#"[{"name":"t","cmd":"true"}]"#, 10_000);
        for _ in 0..3 {
            assert!(run(&api, "t", &[]).is_ok());
        }
        let e = run(&api, "t", &[]).unwrap_err();
        assert_eq!(e.code(), "rate_limited");
        assert!(e
            .page_message()
            .contains("more than 3 shell.execute calls per minute"));
    }
}
