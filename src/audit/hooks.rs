//! The hooks folder on disk: every configured hook is there and would load
//! in the isolation frame (the check startup makes, `isolation::hooks`).

use std::path::Path;

use super::{Findings, Severity};
use crate::config::Policy;

pub(crate) fn hooks(f: &mut Findings, policy: &Policy<'_>, dir: &Path) {
    let read = |path: &str| -> Option<Vec<u8>> {
        // Paths come from the config and from resolved imports, which
        // never climb out of the folder; refuse anything that would.
        if path.split('/').any(|s| s == ".." || s.is_empty()) {
            return None;
        }
        std::fs::read(dir.join(path)).ok()
    };
    let mut all_present = true;
    for (i, hook) in policy.isolation.hooks.iter().enumerate() {
        if read(hook).is_none() {
            all_present = false;
            f.at_key(
                Severity::High,
                "hook-missing",
                &format!("isolation.hooks[{i}]"),
                format!(
                    "`{hook}` is not in the hooks folder ({}); the app will not start",
                    dir.display()
                ),
            );
        }
    }
    if !all_present {
        return;
    }
    if let Err(e) = crate::isolation::hooks::check(&policy.isolation.hooks, &read) {
        f.at(
            Severity::High,
            "hook-invalid",
            e.place(),
            format!("{e}; the app will not start"),
        );
    }
}
