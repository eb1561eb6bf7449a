//! The built-in modules: allowlist `all` (and `*` for the store's keys), scopes that reach `/` or `$HOME`,
//! shell entries that take anything or load code from their environment,
//! and `open`/`http` scopes that allow unencrypted, any-host or local
//! URLs. Scopes are compiled against a fixed layout (`$HOME` = `/home`), so
//! findings do not depend on the machine.

use std::path::Path;

use super::findings::{Findings, Severity};
use crate::config::{
    PathScopeConfig, Policy, Settings, ShellArg, ShellArgs, ShellEntryConfig, UrlScopeConfig,
};
use crate::scope::path::PathScope;
use crate::scope::url::address::Reach;
use crate::scope::url::{Kind, UrlPattern, UrlScope};
use crate::scope::BaseDirs;

/// Variables that make a program load code of the variable's choosing.
const LOADER_VARIABLES: &[&str] = &[
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "LD_AUDIT",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PERL5LIB",
    "PERL5OPT",
    "RUBYLIB",
    "RUBYOPT",
    "NODE_OPTIONS",
    "NODE_PATH",
    "BASH_ENV",
    "ENV",
    "PATH",
];

/// Programs that run whatever their arguments say: with an argument that is
/// not fixed, an entry for one is a shell for the page.
const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "dash",
    "zsh",
    "ksh",
    "fish",
    "csh",
    "tcsh",
    "env",
    "xargs",
    "python",
    "python3",
    "perl",
    "ruby",
    "node",
    "php",
    "lua",
    "osascript",
    "pwsh",
    "powershell",
    "cmd",
];

/// Every module finding of one window (its keys placed by the caller,
/// [`Findings::in_window`]).
pub(crate) fn modules(f: &mut Findings, policy: &Policy<'_>) {
    allowlist(f, policy);
    let scope = policy.scope;
    for (key, cfg) in [("scope.fs", &scope.fs), ("scope.asset", &scope.asset)] {
        path_scope(f, key, cfg);
    }
    for (i, entry) in scope.shell.iter().enumerate() {
        shell_entry(f, &format!("scope.shell[{i}]"), entry);
    }
    url_scope(f, "scope.open", Kind::Open, &scope.open.allow);
    url_scope(f, "scope.http", Kind::Http, &scope.http.allow);
    if scope.http.private_network {
        f.at_key(Severity::Medium, "http-private-network", "scope.http.privateNetwork", "host names may resolve to private network addresses: an allowed name whose DNS the page can influence reaches the user's network; name the private addresses in allow patterns instead");
    }
}

fn allowlist(f: &mut Findings, policy: &Policy<'_>) {
    let a = policy.allowlist;
    if a.fs.all {
        f.at_key(Severity::High, "allowlist-module-all", "allowlist.fs.all", "every fs function, including ones added later, is callable; turn on only the functions the app uses");
    }
    if a.shell.all {
        f.at_key(
            Severity::High,
            "allowlist-module-all",
            "allowlist.shell.all",
            "every shell function (execute, spawn, open) is callable; turn on only what the app uses",
        );
    }
    if a.http.all {
        f.at_key(
            Severity::Medium,
            "allowlist-module-all",
            "allowlist.http.all",
            "every http function is callable; turn on only what the app uses",
        );
    }
    for (how, list, severity) in [
        ("read", &a.store.read, Severity::Low),
        ("write", &a.store.write, Severity::Medium),
    ] {
        if let Some(i) = list.iter().position(|p| p == "*") {
            f.at_key(severity, "store-every-key", &format!("allowlist.store.{how}[{i}]"), format!("`*` lets the page {how} every key of the app's store, including keys that other windows or the app's own code rely on; name the keys, or a prefix (`settings.*`)"));
        }
    }
    dialog(f, policy);
}

/// A file chooser grants what the user picks to `fs`: useless without an
/// `fs` function, and it makes a wide `scope.fs` needless.
fn dialog(f: &mut Findings, policy: &Policy<'_>) {
    let a = policy.allowlist;
    if !(a.dialog.all || a.dialog.open || a.dialog.save) {
        return;
    }
    let fs_on = a.fs.all || a.fs.read_file || a.fs.write_file || a.fs.read_dir || a.fs.remove_file;
    if !fs_on {
        f.at_key(Severity::Low, "dialog-without-fs", "allowlist.dialog", "a file chooser is allowed but no fs function is: what the user picks cannot be read or written; allow the fs functions the app needs, or drop the dialog");
    }
    let dirs = BaseDirs::fixed(Path::new("/"));
    for (i, pattern) in policy.scope.fs.allow.iter().enumerate() {
        let one = PathScopeConfig {
            allow: vec![pattern.clone()],
            deny: policy.scope.fs.deny.clone(),
        };
        let Ok(scope) = PathScope::compile("scope.fs", &one, &dirs) else {
            continue;
        };
        // The whole home directory: one folder ($DOCUMENT/**) may be the
        // app's own business.
        if scope.allows(Path::new("/home/notes.txt")) {
            f.at_key(Severity::Medium, "fs-scope-with-dialog", &format!("scope.fs.allow[{i}]"), format!("{pattern:?} reaches the user's files, but the app has a file chooser: what the user picks is granted for the page load; scope fs to the app's own directories ($APPDATA/**)"));
        }
    }
}

/// Each allow pattern on its own (with the deny list), against probe paths.
fn path_scope(f: &mut Findings, key: &'static str, cfg: &PathScopeConfig) {
    let dirs = BaseDirs::fixed(Path::new("/"));
    for (i, pattern) in cfg.allow.iter().enumerate() {
        let one = PathScopeConfig {
            allow: vec![pattern.clone()],
            deny: cfg.deny.clone(),
        };
        let Ok(scope) = PathScope::compile(key, &one, &dirs) else {
            continue;
        };
        let allows = |p: &str| scope.allows(Path::new(p));
        let place = format!("{key}.allow[{i}]");
        let user_folders = [
            "/home/Documents/x.pdf",
            "/home/Downloads/x.zip",
            "/home/Pictures/x.png",
        ];
        if ["/etc/passwd", "/usr/bin/env", "/var/log/syslog"]
            .into_iter()
            .any(allows)
        {
            f.at_key(Severity::High, "scope-reaches-root", &place, format!("{pattern:?} reaches system files outside the home directory; scope it to the app's own directories ($APPDATA/**)"));
        } else if allows("/home/notes.txt")
            || user_folders.into_iter().filter(|p| allows(p)).count() >= 2
        {
            // A file directly in $HOME, or more than one of the user's
            // folders: `$DOCUMENT/**` alone is a legitimate scope.
            f.at_key(Severity::High, "scope-reaches-home", &place, format!("{pattern:?} reaches the user's whole home directory; scope it to the app's own directories ($APPDATA/**) or one folder"));
        }
    }
}

fn shell_entry(f: &mut Findings, place: &str, entry: &ShellEntryConfig) {
    let program = entry.cmd.rsplit('/').next().unwrap_or(&entry.cmd);
    let interpreter = INTERPRETERS.contains(&program)
        || program.starts_with("python")
        || program.starts_with("perl");
    match &entry.args {
        ShellArgs::Any(true) => f.at_key(
            Severity::High,
            "shell-any-args",
            &format!("{place}.args"),
            format!(
                "`{}` takes any arguments from the page; list one rule per argument",
                entry.name
            ),
        ),
        ShellArgs::Any(false) => {}
        ShellArgs::List(list) => {
            for (j, arg) in list.iter().enumerate() {
                if let ShellArg::Validator { validator } = arg {
                    if crate::scope::shell::validator_matches_anything(validator) {
                        f.at_key(Severity::High, "shell-validator-any", &format!("{place}.args[{j}].validator"), format!("/{validator}/ accepts anything, including `; rm -rf ~` and `../../etc/passwd`; match only what the app passes"));
                    }
                }
            }
        }
    }
    let takes_input = match &entry.args {
        ShellArgs::Any(any) => *any,
        ShellArgs::List(list) => list.iter().any(|a| matches!(a, ShellArg::Validator { .. })),
    };
    for name in entry
        .env
        .keys()
        .filter(|k| LOADER_VARIABLES.contains(&k.as_str()))
    {
        f.at_key(Severity::Medium, "shell-env-loader", &format!("{place}.env.{name}"), format!("`{name}` decides what code or which programs `{}` loads; leave it to Moat's minimal environment unless the program needs it", entry.cmd));
    }
    if interpreter && takes_input {
        f.at_key(Severity::High, "shell-interpreter", &format!("{place}.cmd"), format!("`{}` runs whatever its arguments say, and the page chooses an argument; run a dedicated program or make every argument fixed", entry.cmd));
    }
}

/// Each allow pattern of `scope.open` or `scope.http` on its own.
fn url_scope(f: &mut Findings, key: &str, kind: Kind, allow: &[String]) {
    for (i, pattern) in allow.iter().enumerate() {
        let one = UrlScopeConfig {
            allow: vec![pattern.clone()],
            ..UrlScopeConfig::default()
        };
        if let Some(p) = UrlScope::compile(key, &one, kind)
            .ok()
            .and_then(|s| s.allow.into_iter().next())
        {
            url_pattern(f, &format!("{key}.allow[{i}]"), kind, pattern, &p);
        }
    }
}

fn url_pattern(f: &mut Findings, place: &str, kind: Kind, pattern: &str, p: &UrlPattern) {
    let (insecure, any_host) = match kind {
        Kind::Open => ("open-insecure-scheme", "open-any-host"),
        Kind::Http => ("http-insecure-scheme", "http-any-host"),
        Kind::View => ("view-insecure-scheme", "view-any-host"),
    };
    if p.scheme == "http" {
        // Plain http to this machine (a local service) cannot be read on
        // the wire; anywhere else it can.
        let severity = if p.host_reach() == Some(Reach::Loopback) {
            Severity::Medium
        } else {
            Severity::High
        };
        f.at_key(
            severity,
            insecure,
            place,
            format!("{pattern:?} allows unencrypted http://; use https://"),
        );
    }
    if p.host_is_wildcard() {
        f.at_key(
            Severity::High,
            any_host,
            place,
            format!("{pattern:?} allows every host; list the hosts the app needs"),
        );
    }
    if let Some(reach) = p.host_reach().filter(|r| *r != Reach::Public) {
        let (severity, what) = if p.port_is_any() {
            (Severity::Medium, "every port of ")
        } else {
            (Severity::Low, "")
        };
        f.at_key(severity, "url-local-address", place, format!("{pattern:?} lets the page reach {what}{}: name one port and the paths the app needs", reach.describe()));
    }
}

/// Untrusted views whose navigations reach wide: every host, every
/// subdomain of a host, every port. A view is a page the app does not
/// trust; what it may navigate to is where it can take the user.
pub(crate) fn views(f: &mut Findings, config: &Settings) {
    for (label, view) in config.views() {
        for (i, pattern) in view.navigate.iter().enumerate() {
            let place = format!("windows.{label}.navigate[{i}]");
            let one = UrlScopeConfig {
                allow: vec![pattern.clone()],
                ..UrlScopeConfig::default()
            };
            let Some(p) = UrlScope::compile(&place, &one, Kind::View)
                .ok()
                .and_then(|s| s.allow.into_iter().next())
            else {
                continue;
            };
            if p.host_is_wildcard() {
                f.at_key(Severity::High, "view-navigate-wide", &place, format!("{pattern:?} lets the untrusted view go to every host: a page it shows can take the user anywhere under the app's window title; list the hosts it needs"));
            } else if pattern.contains("://*.") {
                f.at_key(Severity::Medium, "view-navigate-wide", &place, format!("{pattern:?} lets the untrusted view go to every subdomain; list the hosts it needs"));
            }
            if p.port_is_any() {
                f.at_key(
                    Severity::Low,
                    "view-navigate-wide",
                    &place,
                    format!("{pattern:?} takes every port; name the one the page uses"),
                );
            }
        }
    }
}

/// A window's commands (if listed), built-ins, and store keys and secret
/// names.
type Grants<'a> = (
    Option<std::collections::BTreeSet<&'a String>>,
    Vec<crate::api::Builtin>,
    [&'a [String]; 4],
);

fn grants<'a>(p: &Policy<'a>) -> Grants<'a> {
    let a = p.allowlist;
    let commands = a.commands.as_ref().map(|c| c.iter().collect());
    let builtins = crate::api::Builtin::ALL
        .into_iter()
        .filter(|b| b.allowed_by(a))
        .collect();
    let names = [
        &a.store.read[..],
        &a.store.write[..],
        &a.secrets.read[..],
        &a.secrets.write[..],
    ];
    (commands, builtins, names)
}

/// An app window whose allowlist is the main window's in full (its
/// commands, built-ins and windows): windows exist to hold less.
pub(crate) fn repeated_allowlists(f: &mut Findings, config: &Settings) {
    let policies = config.policies();
    let Some((main, others)) = policies.split_first() else {
        return;
    };
    let main_grants = grants(main);
    for p in others {
        let theirs = grants(p);
        let same_builtins = theirs.1 == main_grants.1 && theirs.2 == main_grants.2;
        // The main window's absent `commands` is every registered command,
        // which the config does not name: explicit lists compare.
        let same_commands =
            matches!((&main_grants.0, &theirs.0), (Some(a), Some(b)) if a == b && !a.is_empty());
        let repeats = same_builtins && (!main_grants.1.is_empty() || same_commands);
        if repeats {
            f.at_key(Severity::Low, "window-allowlist-repeats-main", &format!("{}allowlist", p.at), format!("window `{}` is allowed everything the main window is: give it only what its page needs", p.label));
        }
    }
}
