//! A [`Plan`] as a Landlock ruleset, restricting each thread that asks.
//!
//! Landlock restricts the calling thread and whatever it starts afterwards
//! (threads, programs), and an already restricted thread can only be
//! restricted further. The ruleset is built once (its path descriptors
//! opened at startup); each command thread restricts itself with a copy as
//! it starts. Rights the running kernel does not know are dropped (the
//! crate's best effort), and the level reached is what the startup probe
//! reports.

use std::sync::Mutex;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, NetPort, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

use super::plan::{Grant, Plan};

/// The Landlock ABI Moat's rules are written for: the rights it handles
/// are those of this ABI (on an older kernel, fewer; a newer one's new
/// rights are left unhandled until Moat names them).
pub(crate) const WRITTEN_FOR: ABI = ABI::V7;

/// The rights a grant gives beneath its path, for `abi`.
fn rights(grant: Grant, abi: ABI) -> BitFlags<AccessFs> {
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let write = AccessFs::WriteFile
        | AccessFs::MakeReg
        | AccessFs::RemoveFile
        | AccessFs::Refer
        | AccessFs::Truncate;
    let all = AccessFs::from_all(abi);
    let granted = match grant {
        Grant::Read => read,
        Grant::ReadWrite => read | write,
        Grant::Own => read | write | AccessFs::MakeDir | AccessFs::RemoveDir,
        Grant::Execute => AccessFs::ReadFile | AccessFs::Execute,
        Grant::Device => AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate,
    };
    granted & all
}

/// The Landlock ABI this kernel offers (0: none), learned by confining a
/// throwaway thread with a ruleset that denies nothing it does.
pub(crate) fn kernel_abi() -> u8 {
    let probe = std::thread::spawn(|| {
        let status = Ruleset::default()
            .handle_access(AccessFs::Execute)
            .and_then(|r| r.create())
            .and_then(|r| r.restrict_self());
        match status.map(|s| s.landlock) {
            Ok(landlock::LandlockStatus::Available { effective_abi, .. }) => effective_abi as u8,
            _ => 0,
        }
    });
    probe.join().unwrap_or(0)
}

/// What confining a thread came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Level {
    /// The Landlock ABI the rules were enforced at (0: not at all).
    pub(crate) abi: u8,
    /// Every right Moat asks for is enforced (not a subset).
    pub(crate) full: bool,
}

/// Confines threads to a plan.
pub(crate) struct Confiner {
    ruleset: Mutex<RulesetCreated>,
    /// The ABI the ruleset targets (lower than [`WRITTEN_FOR`] only in the
    /// test harness, which plays older kernels).
    target: ABI,
}

impl std::fmt::Debug for Confiner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Confiner({:?})", self.target)
    }
}

/// Why a ruleset could not be built or applied.
#[derive(Debug)]
pub(crate) struct Failed(pub(crate) String);

impl Confiner {
    /// Builds the ruleset for `plan`, at most at ABI `target` (paths that
    /// do not exist are left out: there is nothing to open).
    pub(crate) fn new(plan: &Plan, target: u8) -> Result<Self, Failed> {
        let abi = ABI::from(i32::from(target.min(WRITTEN_FOR as u8)));
        let fail = |e: &dyn std::fmt::Display| Failed(e.to_string());
        let mut ruleset = Ruleset::default()
            .handle_access(AccessFs::from_all(abi))
            .map_err(|e| fail(&e))?;
        if !plan.tcp_any {
            ruleset = ruleset
                .handle_access(AccessNet::BindTcp | AccessNet::ConnectTcp)
                .map_err(|e| fail(&e))?;
        }
        // Abstract Unix sockets of processes outside (the X server's, the
        // session's) are out of reach. Signals are not scoped: each thread
        // restricts itself into a domain of its own, and a program one
        // thread started is ended by whichever thread sees its call end.
        // Programs scope their own signals, in a domain nested below the
        // thread's (`scope::process_linux`).
        let mut created = ruleset
            .scope(Scope::AbstractUnixSocket)
            .map_err(|e| fail(&e))?
            .create()
            .map_err(|e| fail(&e))?;
        for (path, grant) in &plan.paths {
            let (Ok(fd), Ok(meta)) = (PathFd::new(path), std::fs::metadata(path)) else {
                tracing::debug!(path = %path.display(), "confinement: not on this machine; left out");
                continue;
            };
            // A file takes only the rights a file can have (Landlock refuses
            // directory rights on one).
            let mut access = rights(*grant, abi);
            if !meta.is_dir() {
                access &= AccessFs::from_file(abi);
            }
            created = created
                .add_rule(PathBeneath::new(fd, access))
                .map_err(|e| fail(&e))?;
        }
        if !plan.tcp_any {
            for port in &plan.tcp_connect {
                created = created
                    .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
                    .map_err(|e| fail(&e))?;
            }
        }
        Ok(Self {
            ruleset: Mutex::new(created),
            target: abi,
        })
    }

    /// Restricts the calling thread (and what it starts from now on) to
    /// the plan. Once per thread.
    pub(crate) fn restrict_current_thread(&self) -> Result<Level, Failed> {
        let copy = self
            .ruleset
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .try_clone()
            .map_err(|e| Failed(format!("copying the ruleset: {e}")))?;
        let status = copy.restrict_self().map_err(|e| Failed(e.to_string()))?;
        let abi = match status.landlock {
            landlock::LandlockStatus::Available { effective_abi, .. } => {
                (effective_abi as u8).min(self.target as u8)
            }
            _ => 0,
        };
        Ok(match status.ruleset {
            RulesetStatus::NotEnforced => Level {
                abi: 0,
                full: false,
            },
            RulesetStatus::PartiallyEnforced => Level { abi, full: false },
            // Full only at the ABI the rules are written for: an older one
            // enforces fewer rights (no TCP rules before 4, no scoping
            // before 6) even when it enforces all it knows.
            RulesetStatus::FullyEnforced => Level {
                abi,
                full: abi >= WRITTEN_FOR as u8,
            },
        })
    }
}
