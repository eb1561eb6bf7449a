//! One running instance per app and user: a Unix socket at
//! `$XDG_RUNTIME_DIR/moat/<identifier>.sock` (a directory only the user
//! reaches). The first launch listens on it; a later one connects, hands
//! over its arguments ([`super::wire`]) and exits, and the running
//! instance's window comes forward ([`super::Launch::bring_forward`]).
//!
//! Threats: another user (the directory is the user's, mode 0700, and the
//! peer's credentials must be this user's: both are checked), a process of
//! the user that is not the app (it may send anything: the message is
//! bounded, parsed strictly, read within a deadline, and each argument is
//! judged like any other launch's), a stale socket of a crashed instance
//! (removed when nothing answers on it). The listener's thread is started
//! from the main thread, so it is not one of the confined command threads;
//! after `bind` it touches no file.

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{wire, Launch};

/// How long a connection has to send its message, and a second launch to
/// hear that it was received.
const DEADLINE: Duration = Duration::from_secs(3);
/// The byte the running instance answers a message it read with.
const RECEIVED: u8 = b'k';

/// The outcome of claiming the app's instance.
pub(crate) enum Claim {
    /// This process is the app's instance; it listens here.
    First(UnixListener),
    /// The running instance has this launch's arguments: exit.
    HandedOver,
    /// No single instance (its directory cannot be trusted or made): this
    /// process runs on its own, and says why.
    Alone(String),
}

/// The socket's path for `identifier`, under `$XDG_RUNTIME_DIR` (or a
/// directory of the user's own in `/tmp`).
pub(crate) fn socket_path(identifier: &str) -> Result<PathBuf, String> {
    let base = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d).join("moat"),
        _ => PathBuf::from(format!("/tmp/moat-{}", uid())),
    };
    let made = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&base);
    made.map_err(|e| format!("{}: {e}", base.display()))?;
    let meta = std::fs::symlink_metadata(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    if !meta.is_dir() || meta.uid() != uid() || meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} is not a directory of this user's alone (mode 0700)",
            base.display()
        ));
    }
    Ok(base.join(format!("{identifier}.sock")))
}

/// Claims the instance for `identifier`, handing `args` over if another
/// process has it.
pub(crate) fn claim(identifier: &str, args: &[String]) -> Claim {
    let path = match socket_path(identifier) {
        Ok(p) => p,
        Err(why) => return Claim::Alone(why),
    };
    for _ in 0..3 {
        match hand_over(&path, args) {
            Ok(()) => return Claim::HandedOver,
            Err(HandOver::NoOne) => {}
            Err(HandOver::Failed(why)) => return Claim::Alone(why),
        }
        // Nothing answers: a socket left by a crash goes.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.uid() == uid()) {
            let _ = std::fs::remove_file(&path);
        }
        match UnixListener::bind(&path) {
            Ok(listener) => return Claim::First(listener),
            // Another first launch bound it between our two steps: ask it.
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(e) => return Claim::Alone(format!("{}: {e}", path.display())),
        }
    }
    Claim::Alone(format!(
        "{}: another launch keeps claiming it",
        path.display()
    ))
}

enum HandOver {
    NoOne,
    Failed(String),
}

fn hand_over(path: &Path, args: &[String]) -> Result<(), HandOver> {
    let mut stream = match UnixStream::connect(path) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(HandOver::NoOne)
        }
        Err(e) => return Err(HandOver::Failed(format!("{}: {e}", path.display()))),
    };
    let failed = |e: std::io::Error| HandOver::Failed(format!("the running instance: {e}"));
    if peer_uid(&stream).map_err(failed)? != uid() {
        return Err(HandOver::Failed(
            "the socket belongs to another user".into(),
        ));
    }
    let message = wire::encode(args)
        .map_err(|e| HandOver::Failed(format!("this launch's arguments: {e}")))?;
    stream.set_write_timeout(Some(DEADLINE)).map_err(failed)?;
    stream.set_read_timeout(Some(DEADLINE)).map_err(failed)?;
    stream.write_all(&message).map_err(failed)?;
    stream.shutdown(std::net::Shutdown::Write).map_err(failed)?;
    let mut answer = [0u8; 1];
    stream.read_exact(&mut answer).map_err(failed)?;
    if answer[0] == RECEIVED {
        Ok(())
    } else {
        Err(HandOver::Failed(
            "the running instance refused the message".into(),
        ))
    }
}

/// Listens on `listener` for later launches, on a thread of its own, for
/// as long as the process runs.
pub(crate) fn listen(listener: UnixListener, launch: Arc<Launch>) {
    let spawned = std::thread::Builder::new()
        .name("moat-launch".into())
        .spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                serve(stream, &launch);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "the launch listener could not start; later launches start their own instance");
    }
}

/// One connection: the peer must be this user, its message a launch
/// message read within the deadline; then each argument is judged.
fn serve(mut stream: UnixStream, launch: &Launch) {
    let refuse = |why: String| {
        crate::ipc::refusals::refuse(
            launch.window(),
            "launch_refused",
            &format!("a connection to the instance socket refused: {why}"),
        );
    };
    match peer_uid(&stream) {
        Ok(peer) if peer == uid() => {}
        Ok(peer) => return refuse(format!("its peer is user {peer}, not this one")),
        Err(e) => return refuse(format!("its peer is unknown: {e}")),
    }
    let _ = stream.set_read_timeout(Some(DEADLINE));
    let _ = stream.set_write_timeout(Some(DEADLINE));
    let mut message = Vec::new();
    let limit = u64::try_from(wire::MAX_MESSAGE + 1).unwrap_or(u64::MAX);
    if let Err(e) = (&mut stream).take(limit).read_to_end(&mut message) {
        return refuse(format!("reading it: {e}"));
    }
    if message.len() > wire::MAX_MESSAGE {
        return refuse(format!("more than {} bytes", wire::MAX_MESSAGE));
    }
    match wire::parse(&message) {
        Ok(args) => {
            let _ = stream.write_all(&[RECEIVED]);
            launch.receive(&args, "a second launch");
            launch.bring_forward();
        }
        Err(e) => refuse(e.to_string()),
    }
}

#[allow(unsafe_code, reason = "one libc call with no arguments")]
fn uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// The user id of the process at the other end of `stream`
/// (`SO_PEERCRED`: what the kernel recorded at connect, not what the peer
/// says).
#[allow(
    unsafe_code,
    reason = "one getsockopt; its SAFETY comment says why it is sound"
)]
pub(crate) fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: the descriptor is open for the borrow of `stream`; `cred` and
    // `len` are valid for writes and `len` is `cred`'s size, as
    // SO_PEERCRED requires.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            std::ptr::addr_of_mut!(cred).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(cred.uid)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_is_known_by_the_kernel_s_record() {
        let (a, _b) = UnixStream::pair().unwrap();
        assert_eq!(peer_uid(&a).unwrap(), uid());
    }
}
