//! A scope bug cannot reach the disk: the kernel confines what the code
//! that acts on page requests can touch.
//!
//! Threat: a slip in a scope check (every red-team round found one), or a
//! bug in an app's own command, reaching everything the user can. The
//! scopes are checked in user space; below them, every thread that runs a
//! command (the tokio workers and the blocking pool: the built-ins and the
//! app's commands) restricts itself with Landlock as it starts, to what
//! `moat.json` declares ([`plan`]), and every program such a thread starts
//! inherits the restriction. A thread cannot lift it.
//!
//! What is not confined: the GTK main thread (GTK and WebKit need the
//! desktop session; it serves `app:`, `isolation:` and `ipc:` from memory,
//! opens envelopes and shows the file chooser), the app's `setup` code, and
//! the [`broker`] thread, which does the two things a confined thread may
//! not: touch what the user picked in a file chooser (after the user-space
//! check of the page load's grants), and hand a URL to the system opener.
//! `docs/threats.md` lists them.
//!
//! Fail safe: on a kernel without Landlock, or with an older ABI, Moat
//! applies what it can and logs the level reached; `confinement.
//! minimumLandlockAbi` makes a lower level a startup error. A thread that
//! fails to restrict itself ends the app.

pub(crate) mod broker;
mod landlock_linux;
pub(crate) mod plan;

use std::sync::Arc;

use crate::error::Error;
use crate::scope::{BaseDirs, Scopes};

pub(crate) use landlock_linux::{kernel_abi, Confiner, Level, WRITTEN_FOR};
pub(crate) use plan::Grant;
use plan::{Plan, DEVICES, SYSTEM_READ};

/// What `app::check` decided about confinement, applied by the window
/// before the runtime starts ([`Setup::start`]).
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) plan: Plan,
    /// `confinement.minimumLandlockAbi`.
    pub(crate) minimum: u8,
    /// `dangerous.disableKernelConfinement`.
    pub(crate) disabled: bool,
    /// The highest ABI to use: the kernel's, or less in the test harness
    /// (which plays an older or absent Landlock).
    pub(crate) at_most: u8,
}

/// What one window's built-ins need of the kernel (`api::builtin::needs`
/// makes it from the built-ins a window's allowlist turns on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Needs {
    /// `scope.fs`'s roots, read or read-write; `None`: no `fs` function.
    pub(crate) fs: Option<Grant>,
    /// `scope.asset`'s roots, read.
    pub(crate) asset: bool,
    /// The `scope.shell` programs (and what they run), executable.
    pub(crate) programs: bool,
    /// The `scope.http` patterns' ports.
    pub(crate) http: bool,
    /// `confinement.tcpConnectPorts`.
    pub(crate) tcp_connect_ports: Vec<u16>,
}

/// The plan for one window: see [`plan`]'s docs for what each part allows.
pub(crate) fn plan(needs: &Needs, dirs: &BaseDirs, scopes: &Scopes) -> Plan {
    let mut p = Plan::default();
    for var in ["APPDATA", "APPCACHE", "APPCONFIG", "APPLOG"] {
        if let Some(d) = dirs.get(var) {
            p.allow(d, Grant::Own);
        }
    }
    if let Some(grant) = needs.fs {
        for root in scopes.fs.roots() {
            p.allow(root, grant);
        }
    }
    if needs.asset {
        for root in scopes.asset.roots() {
            p.allow(root, Grant::Read);
        }
    }
    if needs.programs {
        let programs: Vec<&std::path::Path> = scopes
            .shell
            .entries
            .iter()
            .flat_map(|e| {
                std::iter::once(e.program.as_path()).chain(e.runs.iter().map(|r| r.as_path()))
            })
            .collect();
        p.allow_programs(programs);
    }
    for path in SYSTEM_READ {
        p.allow(*path, Grant::Read);
    }
    for (path, grant) in DEVICES {
        p.allow(*path, *grant);
    }
    if needs.http {
        p.allow_http(scopes.http.allow.iter().map(|u| u.tcp_port()));
    }
    p.tcp_connect
        .extend(needs.tcp_connect_ports.iter().copied());
    p
}

impl Setup {
    /// Builds the ruleset and confines a probe thread with it, to learn
    /// and log the level this kernel gives; below `minimum`, a startup
    /// error. `None` when confinement is off (`disabled`, or a kernel
    /// without Landlock and no minimum).
    pub(crate) fn start(&self) -> Result<Option<Arc<Confiner>>, Error> {
        if self.disabled {
            tracing::warn!("dangerous.disableKernelConfinement: commands and the programs they start run WITHOUT the kernel's confinement; a scope bug reaches everything the user can");
            return Ok(None);
        }
        let fail = |cause: String| Error::Confinement {
            cause,
            minimum: self.minimum,
        };
        let (confiner, level) = if self.at_most == 0 {
            // Played by the test harness: a kernel with no Landlock.
            (
                None,
                Level {
                    abi: 0,
                    full: false,
                },
            )
        } else {
            let confiner =
                Arc::new(Confiner::new(&self.plan, self.at_most).map_err(|e| fail(e.0))?);
            let probe = Arc::clone(&confiner);
            let level = std::thread::Builder::new()
                .name("moat-confine-probe".into())
                .spawn(move || probe.restrict_current_thread())
                .map_err(|e| fail(format!("probe thread: {e}")))?
                .join()
                .map_err(|_| fail("probe thread panicked".into()))?
                .map_err(|e| fail(e.0))?;
            (Some(confiner), level)
        };
        self.log(level);
        if level.abi < self.minimum {
            return Err(fail(format!(
                "this kernel confines at Landlock ABI {} (0: not at all)",
                level.abi
            )));
        }
        Ok(confiner.filter(|_| level.abi > 0))
    }

    fn log(&self, level: Level) {
        let paths = self.plan.paths.len();
        if level.abi == 0 {
            tracing::warn!("kernel confinement: none (this kernel has no Landlock, or it is off); commands run with every right of the user, held back only by the scopes");
        } else if level.full {
            tracing::info!(landlock_abi = level.abi, paths, "kernel confinement: every command thread and program confined to the declared paths");
        } else {
            tracing::warn!(landlock_abi = level.abi, paths, "kernel confinement: partial (an older Landlock ABI); commands confined with the rights this kernel knows");
        }
        if self.plan.tcp_any {
            tracing::warn!("kernel confinement: a scope.http pattern takes any port, so TCP connect is not confined");
        }
    }
}

/// The runtime's thread-start hook: confines the starting thread, or ends
/// the app (a command thread must never run unconfined when confinement
/// started).
pub(crate) fn on_thread_start(
    confiner: Option<Arc<Confiner>>,
) -> impl Fn() + Send + Sync + 'static {
    move || {
        let Some(c) = &confiner else { return };
        if let Err(e) = c.restrict_current_thread() {
            tracing::error!(reason = %e.0, "a command thread could not confine itself; ending the app");
            std::process::abort();
        }
    }
}
