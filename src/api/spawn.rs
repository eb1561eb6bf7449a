//! `shell.spawn`: a `scope.shell` entry that runs for a while, its output
//! streamed to the page as it comes, with `shell.kill` and `shell.write`
//! (its stdin) while it runs.
//!
//! The same scope as `shell.execute` (the entry's program, found at
//! startup; its argument rules; the minimal environment; the fixed
//! directory; no shell in between) and the same rate limit. The call stays
//! open while the program runs: its `output` channel gets
//! `{"started": id}`, then `{"stream": "stdout"|"stderr", "data": …}` in
//! the order each stream produced them, and the call's reply is the exit
//! status.
//!
//! Nothing runs unseen: a program ends when its page load ends (a reload,
//! crash recovery: its channel stops being deliverable) and when the app
//! exits ([`end_all`]), and whatever it forked ends with it (its process
//! group, `scope::process_linux`). Only the page load that started a
//! program can control it.
//!
//! Writes to stdin wait in a queue of at most [`STDIN_QUEUE_BYTES`]: a
//! write waits for room up to [`STDIN_WAIT`], then is refused with `busy`,
//! so a page writing to a program that reads nothing costs the app that
//! much memory, not what the page sends.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, Notify, OwnedSemaphorePermit, Semaphore};

use super::{Api, Builtin};
use crate::ipc::command::Commands;
use crate::ipc::push::Channel;
use crate::scope::error::ScopeError;
use crate::scope::process_linux::Group;

/// How often a running program checks that its page is still there.
const PAGE_CHECK: Duration = Duration::from_millis(100);
/// The most one output message carries.
const CHUNK: usize = 16 << 10;
/// The most stdin bytes waiting for a program to read them (beyond the
/// pipe's own buffer).
const STDIN_QUEUE_BYTES: usize = 1 << 20;
/// How long a write waits for room in the queue before it is `busy`.
const STDIN_WAIT: Duration = Duration::from_secs(5);
/// How long output still open after the program and its group ended is
/// read (something that left the group may hold it open for ever).
const DRAIN: Duration = Duration::from_millis(500);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpawnArgs {
    name: String,
    #[serde(default)]
    args: Vec<String>,
    /// Whether the page will write to the program's stdin (`shell.write`);
    /// otherwise it is closed.
    #[serde(default)]
    stdin: bool,
    output: Channel<Message>,
}

/// What the page hears while the program runs.
#[derive(Serialize)]
#[serde(untagged)]
enum Message {
    Started { started: u64 },
    Output { stream: &'static str, data: String },
}

/// The reply, when the program has ended.
#[derive(Debug, Serialize)]
struct Exit {
    /// Exit code; `None` when a signal ended it.
    code: Option<i32>,
    /// Whether `shell.kill`, or the end of its page load, ended it.
    killed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KillArgs {
    id: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteArgs {
    id: u64,
    #[serde(default)]
    data: String,
    /// Closes stdin after `data` (the program then sees end of input).
    #[serde(default)]
    close: bool,
}

/// A running program, as its controls reach it.
struct Running {
    /// Its page load (`shell.kill` and `shell.write` from another are
    /// refused).
    epoch: u64,
    kill: Arc<Notify>,
    stdin: Option<Stdin>,
}

/// The way to a program's stdin: a queue bounded in bytes.
#[derive(Clone)]
struct Stdin {
    ops: mpsc::UnboundedSender<StdinOp>,
    /// [`STDIN_QUEUE_BYTES`] permits; a queued write holds as many as it
    /// has bytes (all of them, for a write larger than the queue) until it
    /// has been written to the pipe.
    room: Arc<Semaphore>,
}

enum StdinOp {
    Write(Vec<u8>, OwnedSemaphorePermit),
    Close,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static RUNNING: Mutex<Option<HashMap<u64, Running>>> = Mutex::new(None);

fn running<R>(f: impl FnOnce(&mut HashMap<u64, Running>) -> R) -> R {
    let mut guard = RUNNING.lock().unwrap_or_else(|p| p.into_inner());
    f(guard.get_or_insert_with(HashMap::new))
}

pub(super) fn commands(api: &Arc<Api>) -> Commands {
    let a = Arc::clone(api);
    Commands::new()
        .builtin_async(Builtin::Spawn.name(), move |x: SpawnArgs, ctx| {
            let api = Arc::clone(&a);
            async move { spawn(&api, x, ctx.epoch()).await }
        })
        .builtin(Builtin::Kill.name(), |x: KillArgs, ctx| {
            kill(x.id, ctx.epoch())
        })
        .builtin_async(Builtin::Write.name(), |x: WriteArgs, ctx| {
            write(x, ctx.epoch())
        })
}

fn not_running(id: u64) -> ScopeError {
    ScopeError::NotFound {
        requested: format!("process {id} (not running, or started by another page)"),
    }
}

fn kill(id: u64, epoch: u64) -> Result<(), ScopeError> {
    running(|r| match r.get(&id) {
        Some(p) if p.epoch == epoch => {
            p.kill.notify_one();
            Ok(())
        }
        _ => Err(not_running(id)),
    })
}

/// Queues `x.data` for the program's stdin, waiting up to [`STDIN_WAIT`]
/// for room; resolves once queued.
async fn write(x: WriteArgs, epoch: u64) -> Result<(), ScopeError> {
    let stdin = running(|r| match r.get(&x.id) {
        Some(p) if p.epoch == epoch => Ok(p.stdin.clone()),
        _ => Err(not_running(x.id)),
    })?;
    let closed = |why: &str| ScopeError::Io {
        requested: format!("stdin of process {}", x.id),
        error: std::io::Error::new(std::io::ErrorKind::BrokenPipe, why.to_owned()),
    };
    let Some(stdin) = stdin else {
        return Err(closed("spawned without stdin: true"));
    };
    if !x.data.is_empty() {
        let want = x.data.len().min(STDIN_QUEUE_BYTES);
        // `want` ≤ STDIN_QUEUE_BYTES < u32::MAX.
        let permits = u32::try_from(want).unwrap_or(u32::MAX);
        let permit = match tokio::time::timeout(
            STDIN_WAIT,
            Arc::clone(&stdin.room).acquire_many_owned(permits),
        )
        .await
        {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(closed("closed")),
            Err(_) => {
                return Err(ScopeError::Busy {
                    what: format!("stdin of process {}", x.id),
                    reason: format!(
                        "{STDIN_QUEUE_BYTES} bytes are already waiting for the program to read them; waited {} s",
                        STDIN_WAIT.as_secs()
                    ),
                })
            }
        };
        stdin
            .ops
            .send(StdinOp::Write(x.data.into_bytes(), permit))
            .map_err(|_| closed("closed"))?;
    }
    if x.close {
        stdin
            .ops
            .send(StdinOp::Close)
            .map_err(|_| closed("closed"))?;
    }
    Ok(())
}

/// Ends every running program (the app is exiting) and waits, at most
/// `within`, for them to be gone.
pub(crate) fn end_all(within: Duration) {
    running(|r| r.values().for_each(|p| p.kill.notify_one()));
    let deadline = std::time::Instant::now() + within;
    while running(|r| !r.is_empty()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

async fn spawn(api: &Api, x: SpawnArgs, epoch: u64) -> Result<Exit, ScopeError> {
    let entry = api.scopes.shell.check(&x.name, &x.args)?;
    Api::take(&api.execute_rate, Builtin::Spawn.name())?;
    let spawn_err = |error| ScopeError::Spawn {
        name: x.name.clone(),
        error,
    };
    let mut command = entry.command(&x.args);
    if x.stdin {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().map_err(spawn_err)?;
    // Ends the program and whatever it forked, however this call ends.
    let group = Group::of(&child);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    tracing::info!(id, name = %x.name, program = %entry.program.display(), args = ?x.args, "shell.spawn");
    let kill = Arc::new(Notify::new());
    let stdin = child.stdin.take().map(|pipe| {
        let (ops, rx) = mpsc::unbounded_channel();
        let room = Arc::new(Semaphore::new(STDIN_QUEUE_BYTES));
        tokio::spawn(feed(pipe, rx, Arc::clone(&room)));
        Stdin { ops, room }
    });
    running(|r| {
        r.insert(
            id,
            Running {
                epoch,
                kill: Arc::clone(&kill),
                stdin,
            },
        )
    });
    // Removed from the table however this ends.
    let _entry = Deregister(id);
    let out = &x.output;
    if out.send(&Message::Started { started: id }).is_err() {
        return Err(spawn_err(page_gone()));
    }
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(spawn_err(std::io::Error::other("no output pipes")));
    };
    let (status, killed) = supervise(&mut child, group.as_ref(), stdout, stderr, &kill, out)
        .await
        .map_err(spawn_err)?;
    tracing::info!(id, code = ?status.code(), killed, "shell.spawn ended");
    Ok(Exit {
        code: status.code(),
        killed,
    })
}

/// Streams the program's output to the page until it exits, or until the
/// page asks to kill it or is gone (its channel closed), which ends its
/// whole group at whatever point it has reached. Then what it forked and
/// left in its group ends too, and the output still in the pipes is read
/// (for at most [`DRAIN`]). Returns its exit status and whether it was
/// killed.
async fn supervise(
    child: &mut tokio::process::Child,
    group: Option<&Group>,
    stdout: impl AsyncRead + Unpin,
    stderr: impl AsyncRead + Unpin,
    kill: &Notify,
    out: &Channel<Message>,
) -> std::io::Result<(std::process::ExitStatus, bool)> {
    let end_group = || {
        if let Some(g) = group {
            g.end();
        }
    };
    let streams = async {
        tokio::join!(stream(stdout, "stdout", out), stream(stderr, "stderr", out));
    };
    // Resolves when the page asks to kill it, or its page is gone.
    let ended = async {
        let mut check = tokio::time::interval(PAGE_CHECK);
        loop {
            tokio::select! {
                () = kill.notified() => return,
                _ = check.tick() => {
                    if !out.is_open() {
                        return;
                    }
                }
            }
        }
    };
    tokio::pin!(streams, ended);
    let mut streamed = false;
    let (status, killed) = loop {
        tokio::select! {
            // Both outputs read to their end: the program closed them (it
            // has ended, or runs on without output).
            () = &mut streams, if !streamed => streamed = true,
            status = child.wait() => break (status?, false),
            () = &mut ended => {
                end_group();
                let _ = child.start_kill();
                break (child.wait().await?, true);
            }
        }
    };
    end_group();
    if !streamed {
        let _ = tokio::time::timeout(DRAIN, &mut streams).await;
    }
    Ok((status, killed))
}

fn page_gone() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::BrokenPipe,
        "the page that asked is gone",
    )
}

/// Removes a program from the table when its call ends.
struct Deregister(u64);

impl Drop for Deregister {
    fn drop(&mut self) {
        running(|r| r.remove(&self.0));
    }
}

/// Writes what the page sends to the program's stdin until it is closed;
/// each write's room in the queue is given back once it is in the pipe.
/// When the pipe or the queue ends, the queue closes, so a write waiting
/// for room fails at once rather than after [`STDIN_WAIT`].
async fn feed(
    mut pipe: tokio::process::ChildStdin,
    mut rx: mpsc::UnboundedReceiver<StdinOp>,
    room: Arc<Semaphore>,
) {
    while let Some(op) = rx.recv().await {
        match op {
            StdinOp::Write(bytes, permit) => {
                let written = pipe.write_all(&bytes).await;
                drop(permit);
                if written.is_err() {
                    break;
                }
            }
            StdinOp::Close => break,
        }
    }
    room.close();
}

/// Sends what `r` produces as text messages, in order, splitting only
/// between whole UTF-8 characters (invalid bytes become U+FFFD).
async fn stream(mut r: impl AsyncRead + Unpin, name: &'static str, out: &Channel<Message>) {
    let mut buf = vec![0u8; CHUNK];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        carry.extend_from_slice(&buf[..n]);
        let whole = complete_utf8(&carry);
        if whole > 0 {
            let data = String::from_utf8_lossy(&carry[..whole]).into_owned();
            carry.drain(..whole);
            if out.send(&Message::Output { stream: name, data }).is_err() {
                return;
            }
        }
    }
    if !carry.is_empty() {
        let data = String::from_utf8_lossy(&carry).into_owned();
        let _ = out.send(&Message::Output { stream: name, data });
    }
}

/// How many leading bytes of `b` end on a character boundary: all but an
/// incomplete UTF-8 sequence at the very end (at most 3 bytes).
fn complete_utf8(b: &[u8]) -> usize {
    let tail = b.len().saturating_sub(3);
    for start in (tail..b.len()).rev() {
        let lead = b[start];
        if lead & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: look further back
        }
        let need = match lead {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => 1,
        };
        return if b.len() - start >= need {
            b.len()
        } else {
            start
        };
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_split_only_between_whole_characters() {
        let s = "aé€😀".as_bytes(); // 1 + 2 + 3 + 4 bytes
        assert_eq!(complete_utf8(s), s.len());
        for cut in 1..s.len() {
            let n = complete_utf8(&s[..cut]);
            assert!(std::str::from_utf8(&s[..n]).is_ok(), "cut {cut}: {n}");
            assert!(cut - n <= 3, "cut {cut}: kept {}", cut - n);
        }
        assert_eq!(complete_utf8(b""), 0);
        assert_eq!(
            complete_utf8(&[0xff, 0xfe]),
            2,
            "invalid bytes are not held back"
        );
    }
}
