//! The web content process in WebKitGTK's sandbox.
//!
//! Threat: a page that exploits a WebKit memory bug runs native code in the
//! web content process. Unsandboxed, that process has every right of the
//! user: their files, their network, their other processes. In the
//! sandbox it runs under bubblewrap in its own mount, PID and network
//! namespaces with a seccomp filter, sees a minimal file system (no
//! `$HOME`, no app data directory, no `/root`) and talks to the session bus
//! only through `xdg-dbus-proxy`. Moat exposes nothing to it beyond
//! WebKit's defaults (`webkit_web_context_add_path_to_sandbox` is never
//! called): the app's files reach the page only through the custom schemes,
//! which the UI process answers.
//!
//! WebKitGTK 4.1 leaves the sandbox off unless it is asked before its first
//! web process starts, and wry creates the web context and its first web
//! process inside one call. So Moat asks through WebKit's own switch for
//! it, `WEBKIT_FORCE_SANDBOX=1` in the environment before the context
//! exists (and removes `WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS`), then
//! checks on the built context that the sandbox is on
//! ([`check_enabled`]); off is a startup error.
//!
//! A sandbox that cannot start would show a blank window or run through
//! crash recovery; so before anything, [`prepare`] checks that WebKit's
//! helpers are there and that the kernel lets bubblewrap make its
//! namespaces, and stops the app with the cause and the fix otherwise.
//! The only way off is `dangerous.disableWebProcessSandbox` in `moat.json`,
//! which `audit` rates high and every start warns about.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::Error;

/// Where Debian's (and most distributions') WebKitGTK runs bubblewrap and
/// the D-Bus proxy from: the paths are compiled into WebKit, not looked up
/// on `PATH`.
pub(crate) const BWRAP: &str = "/usr/bin/bwrap";
/// See [`BWRAP`].
pub(crate) const DBUS_PROXY: &str = "/usr/bin/xdg-dbus-proxy";

/// WebKit's switch that turns the sandbox on for every context.
const FORCE: &str = "WEBKIT_FORCE_SANDBOX";
/// WebKit's switch that turns it off.
const DISABLE: &str = "WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS";

/// Why the sandbox cannot start, with what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unavailable {
    pub(crate) cause: String,
    pub(crate) fix: String,
}

/// Makes every web process WebKit starts from now on sandboxed, after
/// checking that the sandbox can start. With `disabled` (the app's
/// `dangerous.disableWebProcessSandbox`), only warns.
///
/// `cache_dir` becomes GLib's user cache directory (`XDG_CACHE_HOME`) for
/// this process and WebKit's: WebKit gives the web process the user cache
/// directory read-write, which is otherwise `~/.cache`, every app's
/// caches. Moat's own base directories (`$APPCACHE`, …) were resolved
/// before.
///
/// Call it before any other thread exists (`engine` module docs).
pub(crate) fn prepare(disabled: bool, cache_dir: &Path) -> Result<(), Error> {
    if disabled {
        tracing::warn!(
            "dangerous.disableWebProcessSandbox: the web content process runs WITHOUT its sandbox; a WebKit exploit in a page gets every right of the user"
        );
        return Ok(());
    }
    if let Err(u) = preflight(Path::new(BWRAP), Path::new(DBUS_PROXY)) {
        return Err(Error::Sandbox {
            cause: u.cause,
            fix: u.fix,
        });
    }
    if std::env::var_os(DISABLE).is_some() {
        // Only a debug build still has it here (`switches`).
        tracing::warn!("{DISABLE} is set: removed, the web process stays sandboxed (turn the sandbox off with dangerous.disableWebProcessSandbox)");
        std::env::remove_var(DISABLE);
    }
    std::fs::create_dir_all(cache_dir).map_err(|e| Error::Sandbox {
        cause: format!("{} cannot be created: {e}", cache_dir.display()),
        fix: "make the app's data directory writable".into(),
    })?;
    let _ = SESSION_ENV.set(vec![
        ("XDG_CACHE_HOME", std::env::var_os("XDG_CACHE_HOME")),
        (FORCE, std::env::var_os(FORCE)),
    ]);
    std::env::set_var("XDG_CACHE_HOME", cache_dir);
    std::env::set_var(FORCE, "1");
    Ok(())
}

/// The variables [`prepare`] set for WebKit, with the values the session
/// gave them (`None`: unset).
static SESSION_ENV: std::sync::OnceLock<Vec<(&'static str, Option<std::ffi::OsString>)>> =
    std::sync::OnceLock::new();

#[cfg_attr(
    not(feature = "api-shell"),
    allow(
        dead_code,
        reason = "only the system opener (shell.open) starts a program of the user's"
    )
)]
/// What a program that is the user's, not WebKit's (the system's opener),
/// gets back of the session's environment: each variable [`prepare`]
/// changed, with its value before (`None`: remove it).
pub(crate) fn session_env() -> &'static [(&'static str, Option<std::ffi::OsString>)] {
    SESSION_ENV.get().map_or(&[], Vec::as_slice)
}

/// Whether bubblewrap and the D-Bus proxy are there and bubblewrap can
/// make the namespaces WebKit asks it for (a user namespace, and with it
/// mount, PID and network ones).
pub(crate) fn preflight(bwrap: &Path, dbus_proxy: &Path) -> Result<(), Unavailable> {
    for (program, package) in [(bwrap, "bubblewrap"), (dbus_proxy, "xdg-dbus-proxy")] {
        if !is_executable(program) {
            return Err(Unavailable {
                cause: format!("{} is missing or not executable", program.display()),
                fix: format!("install the `{package}` package (make deps does)"),
            });
        }
    }
    let out = Command::new(bwrap)
        .args([
            "--unshare-user-try",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--die-with-parent",
            "--ro-bind",
            "/",
            "/",
            "--",
            "/bin/true",
        ])
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(Unavailable {
            cause: format!(
                "bubblewrap cannot create the sandbox's namespaces here: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            fix: "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; with AppArmor, kernel.apparmor_restrict_unprivileged_userns=0 or a profile that allows bwrap), or run where they are allowed".into(),
        }),
        Err(e) => Err(Unavailable {
            cause: format!("{} cannot be run: {e}", bwrap.display()),
            fix: "reinstall the `bubblewrap` package (make deps does)".into(),
        }),
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// After the webview is built: the sandbox is on in its context, unless the
/// app turned it off.
pub(crate) fn check_enabled(enabled: bool, disabled_by_config: bool) -> Result<(), Error> {
    if enabled || disabled_by_config {
        return Ok(());
    }
    Err(Error::Sandbox {
        cause: "WebKit did not turn its web process sandbox on".into(),
        fix: "use WebKitGTK 2.38 or newer, built with its bubblewrap sandbox".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_helper_is_named_with_its_package() {
        let e = preflight(Path::new("/nonexistent/bwrap"), Path::new(DBUS_PROXY)).unwrap_err();
        assert!(e.cause.contains("/nonexistent/bwrap is missing"), "{e:?}");
        assert!(e.fix.contains("bubblewrap"), "{e:?}");
        let e = preflight(Path::new(BWRAP), Path::new("/dev/null")).unwrap_err();
        assert!(e.fix.contains("xdg-dbus-proxy"), "{e:?}");
    }

    #[test]
    fn bubblewrap_can_sandbox_here() {
        // make test installs bubblewrap; this machine allows its namespaces.
        assert_eq!(preflight(Path::new(BWRAP), Path::new(DBUS_PROXY)), Ok(()));
    }

    #[test]
    fn a_context_without_the_sandbox_stops_the_app_unless_turned_off() {
        assert!(check_enabled(true, false).is_ok());
        assert!(check_enabled(false, true).is_ok());
        assert!(matches!(
            check_enabled(false, false),
            Err(Error::Sandbox { .. })
        ));
    }
}
