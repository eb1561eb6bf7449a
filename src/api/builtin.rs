//! Every built-in function, as a type: its wire name, its module, the cargo
//! feature that compiles it in, what in the allowlist turns it on, and the
//! scope that bounds it. Matches over [`Builtin`] are exhaustive, so a new
//! function cannot be half added (callable, but missing from the startup
//! checks, the warnings or the data-directory rule).

use crate::config::Allowlist;
use crate::error::Error;

/// A built-in function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Builtin {
    ReadTextFile,
    WriteTextFile,
    ReadFile,
    WriteFile,
    ReadDir,
    RemoveFile,
    Execute,
    Spawn,
    Kill,
    Write,
    Open,
    Fetch,
    DialogOpen,
    DialogSave,
    StoreGet,
    StoreSet,
    StoreDelete,
    StoreKeys,
    SecretGet,
    SecretSet,
    SecretDelete,
    /// The `asset://localhost/` protocol (not a command).
    Asset,
}

/// The module a built-in belongs to: one cargo feature each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Module {
    Fs,
    Shell,
    Http,
    Asset,
    Dialog,
    Store,
    Secrets,
}

impl Module {
    /// The cargo feature that compiles the module in.
    pub(crate) fn feature(self) -> &'static str {
        match self {
            Module::Fs => "api-fs",
            Module::Shell => "api-shell",
            Module::Http => "api-http",
            Module::Asset => "api-asset",
            Module::Dialog => "api-dialog",
            Module::Store => "api-store",
            Module::Secrets => "api-secrets",
        }
    }

    /// Whether this binary was built with the module.
    pub(crate) fn compiled_in(self) -> bool {
        match self {
            Module::Fs => cfg!(feature = "api-fs"),
            Module::Shell => cfg!(feature = "api-shell"),
            Module::Http => cfg!(feature = "api-http"),
            Module::Asset => cfg!(feature = "api-asset"),
            Module::Dialog => cfg!(feature = "api-dialog"),
            Module::Store => cfg!(feature = "api-store"),
            Module::Secrets => cfg!(feature = "api-secrets"),
        }
    }
}

impl Builtin {
    pub(crate) const ALL: [Builtin; 22] = [
        Builtin::ReadTextFile,
        Builtin::WriteTextFile,
        Builtin::ReadFile,
        Builtin::WriteFile,
        Builtin::ReadDir,
        Builtin::RemoveFile,
        Builtin::Execute,
        Builtin::Spawn,
        Builtin::Kill,
        Builtin::Write,
        Builtin::Open,
        Builtin::Fetch,
        Builtin::DialogOpen,
        Builtin::DialogSave,
        Builtin::StoreGet,
        Builtin::StoreSet,
        Builtin::StoreDelete,
        Builtin::StoreKeys,
        Builtin::SecretGet,
        Builtin::SecretSet,
        Builtin::SecretDelete,
        Builtin::Asset,
    ];

    /// The command name the page calls (`asset` for the protocol).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Builtin::ReadTextFile => "fs.read_text_file",
            Builtin::WriteTextFile => "fs.write_text_file",
            Builtin::ReadFile => "fs.read_file",
            Builtin::WriteFile => "fs.write_file",
            Builtin::ReadDir => "fs.read_dir",
            Builtin::RemoveFile => "fs.remove_file",
            Builtin::Execute => "shell.execute",
            Builtin::Spawn => "shell.spawn",
            Builtin::Kill => "shell.kill",
            Builtin::Write => "shell.write",
            Builtin::Open => "shell.open",
            Builtin::Fetch => "http.fetch",
            Builtin::DialogOpen => "dialog.open",
            Builtin::DialogSave => "dialog.save",
            Builtin::StoreGet => "store.get",
            Builtin::StoreSet => "store.set",
            Builtin::StoreDelete => "store.delete",
            Builtin::StoreKeys => "store.keys",
            Builtin::SecretGet => "secrets.get",
            Builtin::SecretSet => "secrets.set",
            Builtin::SecretDelete => "secrets.delete",
            Builtin::Asset => "asset",
        }
    }

    pub(crate) fn module(self) -> Module {
        match self {
            Builtin::ReadTextFile
            | Builtin::WriteTextFile
            | Builtin::ReadFile
            | Builtin::WriteFile
            | Builtin::ReadDir
            | Builtin::RemoveFile => Module::Fs,
            Builtin::Execute | Builtin::Spawn | Builtin::Kill | Builtin::Write | Builtin::Open => {
                Module::Shell
            }
            Builtin::Fetch => Module::Http,
            Builtin::DialogOpen | Builtin::DialogSave => Module::Dialog,
            Builtin::StoreGet | Builtin::StoreSet | Builtin::StoreDelete | Builtin::StoreKeys => {
                Module::Store
            }
            Builtin::SecretGet | Builtin::SecretSet | Builtin::SecretDelete => Module::Secrets,
            Builtin::Asset => Module::Asset,
        }
    }

    /// The `moat.json` key of the scope that bounds it.
    pub(crate) fn scope_key(self) -> &'static str {
        match self {
            Builtin::ReadTextFile
            | Builtin::WriteTextFile
            | Builtin::ReadFile
            | Builtin::WriteFile
            | Builtin::ReadDir
            | Builtin::RemoveFile => "scope.fs",
            Builtin::Execute | Builtin::Spawn | Builtin::Kill | Builtin::Write => "scope.shell",
            Builtin::Open => "scope.open",
            Builtin::Fetch => "scope.http",
            // What the user picks joins scope.fs.
            Builtin::DialogOpen | Builtin::DialogSave => "scope.fs",
            // Their allowlist entries name what they reach.
            Builtin::StoreGet | Builtin::StoreKeys => "allowlist.store.read",
            Builtin::StoreSet | Builtin::StoreDelete => "allowlist.store.write",
            Builtin::SecretGet => "allowlist.secrets.read",
            Builtin::SecretSet | Builtin::SecretDelete => "allowlist.secrets.write",
            Builtin::Asset => "scope.asset",
        }
    }

    /// Whether the allowlist turns it on (`all` included).
    pub(crate) fn allowed_by(self, a: &Allowlist) -> bool {
        match self {
            // Text and bytes under the same keys.
            Builtin::ReadTextFile | Builtin::ReadFile => a.fs.all || a.fs.read_file,
            Builtin::WriteTextFile | Builtin::WriteFile => a.fs.all || a.fs.write_file,
            Builtin::ReadDir => a.fs.all || a.fs.read_dir,
            Builtin::RemoveFile => a.fs.all || a.fs.remove_file,
            Builtin::Execute => a.shell.all || a.shell.execute,
            // A spawned program's controls come with it.
            Builtin::Spawn | Builtin::Kill | Builtin::Write => a.shell.all || a.shell.spawn,
            Builtin::Open => a.shell.all || a.shell.open,
            Builtin::Fetch => a.http.all || a.http.fetch,
            Builtin::DialogOpen => a.dialog.all || a.dialog.open,
            Builtin::DialogSave => a.dialog.all || a.dialog.save,
            Builtin::StoreGet | Builtin::StoreKeys => !a.store.read.is_empty(),
            Builtin::StoreSet | Builtin::StoreDelete => !a.store.write.is_empty(),
            Builtin::SecretGet => !a.secrets.read.is_empty(),
            Builtin::SecretSet | Builtin::SecretDelete => !a.secrets.write.is_empty(),
            Builtin::Asset => a.asset,
        }
    }

    /// Whether it works inside `$APPDATA`, which then exists from the start.
    pub(crate) fn uses_app_data(self) -> bool {
        matches!(self.module(), Module::Fs | Module::Asset | Module::Store)
    }
}

/// What the built-ins `on` (one window's) need of the kernel.
pub(crate) fn needs(
    on: &[Builtin],
    confinement: &crate::config::ConfinementConfig,
) -> crate::confine::Needs {
    use crate::confine::Grant;
    let writes = on.iter().any(|b| {
        matches!(
            b,
            Builtin::WriteTextFile | Builtin::WriteFile | Builtin::RemoveFile
        )
    });
    let fs = on.iter().any(|b| b.scope_key() == "scope.fs");
    crate::confine::Needs {
        fs: fs.then_some(if writes {
            Grant::ReadWrite
        } else {
            Grant::Read
        }),
        asset: on.contains(&Builtin::Asset),
        programs: on
            .iter()
            .any(|b| matches!(b, Builtin::Execute | Builtin::Spawn)),
        http: on.contains(&Builtin::Fetch),
        tcp_connect_ports: confinement.tcp_connect_ports.clone(),
    }
}

/// The built-ins the allowlist turns on. Fails when one needs a cargo
/// feature this binary was built without.
pub(crate) fn allowed(allowlist: &Allowlist) -> Result<Vec<Builtin>, Error> {
    let mut out = Vec::new();
    for b in Builtin::ALL.into_iter().filter(|b| b.allowed_by(allowlist)) {
        if !b.module().compiled_in() {
            return Err(Error::ModuleNotBuilt {
                function: b.name(),
                feature: b.module().feature(),
            });
        }
        out.push(b);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_commands_are_module_dot_function() {
        let mut names: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Builtin::ALL.len());
        for b in Builtin::ALL {
            if b != Builtin::Asset {
                let (module, function) = b.name().split_once('.').unwrap();
                assert!(b.module().feature().starts_with("api-"), "{b:?}");
                assert!(module.starts_with(&b.module().feature()[4..]), "{b:?}");
                assert!(!function.is_empty());
            }
        }
    }

    use crate::config::Settings;
    use crate::confine::plan::Plan;
    use crate::confine::Grant;
    use crate::scope::{BaseDirs, Scopes};
    use std::path::{Path, PathBuf};

    /// The kernel's plan for a config's main window.
    fn plan_of(json: &str) -> Plan {
        let config = Settings::from_json(json).unwrap();
        let dirs = BaseDirs::fixed(Path::new("/r"));
        let scopes = Scopes::compile(&config.scope, &dirs).unwrap();
        // What the allowlist turns on, whether or not this build has the
        // modules (the plan is the config's, in every build).
        let on: Vec<Builtin> = Builtin::ALL
            .into_iter()
            .filter(|b| b.allowed_by(&config.allowlist))
            .collect();
        crate::confine::plan(&needs(&on, &config.confinement), &dirs, &scopes)
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
