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

use crate::api::Builtin;
use crate::config::Settings;
use crate::error::Error;
use crate::scope::{BaseDirs, Scopes};

pub(crate) use landlock_linux::{kernel_abi, Confiner, Level, WRITTEN_FOR};
use plan::{Grant, Plan, DEVICES, SYSTEM_READ};

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

/// The plan for `config`: see [`plan`]'s docs for what each part allows.
pub(crate) fn plan(
    config: &Settings,
    dirs: &BaseDirs,
    scopes: &Scopes,
    builtins: &[Builtin],
) -> Plan {
    let mut p = Plan::default();
    for var in ["APPDATA", "APPCACHE", "APPCONFIG", "APPLOG"] {
        if let Some(d) = dirs.get(var) {
            p.allow(d, Grant::Own);
        }
    }
    let writes = builtins.iter().any(|b| {
        matches!(
            b,
            Builtin::WriteTextFile | Builtin::WriteFile | Builtin::RemoveFile
        )
    });
    let fs_grant = if writes {
        Grant::ReadWrite
    } else {
        Grant::Read
    };
    if builtins.iter().any(|b| b.scope_key() == "scope.fs") {
        for root in scopes.fs.roots() {
            p.allow(root, fs_grant);
        }
    }
    if builtins.contains(&Builtin::Asset) {
        for root in scopes.asset.roots() {
            p.allow(root, Grant::Read);
        }
    }
    let runs_programs = builtins
        .iter()
        .any(|b| matches!(b, Builtin::Execute | Builtin::Spawn));
    if runs_programs {
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
    if builtins.contains(&Builtin::Fetch) {
        p.allow_http(scopes.http.allow.iter().map(|u| u.tcp_port()));
    }
    p.tcp_connect
        .extend(config.confinement.tcp_connect_ports.iter().copied());
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn plan_of(json: &str) -> Plan {
        let config = Settings::from_json(json).unwrap();
        let dirs = BaseDirs::fixed(Path::new("/r"));
        let scopes = Scopes::compile(&config.scope, &dirs).unwrap();
        let builtins = crate::api::builtin::allowed(&config.allowlist).unwrap();
        plan(&config, &dirs, &scopes, &builtins)
    }

    fn grant(p: &Plan, path: &str) -> Option<Grant> {
        p.paths
            .iter()
            .find(|(q, _)| q == Path::new(path))
            .map(|(_, g)| *g)
    }

    #[test]
    fn the_plan_follows_the_allowlist_and_the_scopes() {
        let read_only = plan_of(
            r#"{"identifier":"dev.a.b","title":"t",
                "allowlist":{"fs":{"readFile":true}},
                "scope":{"fs":{"allow":["$HOME/docs/**"]},"http":{"allow":["https://api.example/**"]}}}"#,
        );
        assert_eq!(grant(&read_only, "/r/home/docs"), Some(Grant::Read));
        assert_eq!(
            grant(&read_only, "/r/home"),
            None,
            "$HOME itself is not listed"
        );
        assert!(
            read_only.tcp_connect.is_empty(),
            "http.fetch is not allowed: no port"
        );
        let read_write = plan_of(
            r#"{"identifier":"dev.a.b","title":"t",
                "allowlist":{"fs":{"readFile":true,"writeFile":true},"http":{"fetch":true}},
                "scope":{"fs":{"allow":["$HOME/docs/**"]},"http":{"allow":["https://api.example/**","http://local.example:8080/**"]}},
                "confinement":{"tcpConnectPorts":[5432]}}"#,
        );
        assert_eq!(grant(&read_write, "/r/home/docs"), Some(Grant::ReadWrite));
        assert_eq!(
            read_write.tcp_connect,
            std::collections::BTreeSet::from([53, 443, 5432, 8080])
        );
        // The app's own directories, always; never executable.
        let own: Vec<&PathBuf> = read_write
            .paths
            .iter()
            .filter(|(_, g)| *g == Grant::Own)
            .map(|(p, _)| p)
            .collect();
        assert_eq!(own.len(), 4, "{own:?}");
        assert!(
            read_write.paths.iter().all(|(_, g)| *g != Grant::Execute),
            "no program allowed: nothing executable"
        );
    }

    #[test]
    fn programs_are_executable_only_with_shell_allowed() {
        let json = |allow: &str| {
            format!(
                r#"{{"identifier":"dev.a.b","title":"t","allowlist":{{"shell":{allow}}},
                    "scope":{{"shell":[{{"name":"t","cmd":"/usr/bin/true","runs":["/usr/bin/sleep"]}}]}}}}"#
            )
        };
        let with = plan_of(&json(r#"{"execute":true}"#));
        assert_eq!(grant(&with, "/usr/bin/true"), Some(Grant::Execute));
        assert_eq!(
            grant(&with, "/usr/bin/sleep"),
            Some(Grant::Execute),
            "what it runs"
        );
        let without = plan_of(&json(r#"{"open":true}"#));
        assert_eq!(grant(&without, "/usr/bin/true"), None);
    }
}
