//! The shell scope (`scope.shell`): the programs the page may run, by name,
//! and the arguments each takes.
//!
//! The page names an entry, never a program: `{"name": "list", "args":
//! […]}` runs the entry's `cmd` with no shell in between, so shell
//! metacharacters are plain bytes. Arguments are checked one by one against
//! the entry: a fixed string must be equal, a validator regex must match the
//! *whole* argument (it is anchored here; an unanchored `[a-z]+` would
//! otherwise pass `a; rm -rf ~`), and the count must be exact. `args: true`
//! passes anything and is a finding of the audit.
//!
//! The program runs with no more than the entry names. Threats: a name
//! looked up in `PATH` at every run runs whatever was planted on `PATH`
//! since (a writable `~/.local/bin` early in it); an inherited environment
//! hands the program the app's secrets and a `LD_PRELOAD` or `PYTHONPATH`
//! of someone else's choosing; an inherited working directory makes
//! relative paths mean whatever the app was started in. So each `cmd` is
//! resolved to an absolute path once, at startup (missing: the app does
//! not start), and the program runs with [`BASE_ENV`] plus the entry's own
//! `env`, in [`WORKING_DIR`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use regex::Regex;

use super::base::BaseDirs;
use super::error::ScopeError;
use crate::config::{ConfigError, ShellArg, ShellArgs, ShellEntryConfig};

/// The whole environment of a program the page runs, before the entry's
/// own `env`: system directories only on `PATH` (never the user's), and
/// UTF-8 output.
const BASE_ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("LANG", "C.UTF-8"),
];

/// Where every program the page runs starts: the same for every run,
/// whatever directory the app was started in.
const WORKING_DIR: &str = "/";

/// One compiled entry.
#[derive(Debug, Clone)]
pub(crate) struct ShellEntry {
    pub(crate) name: String,
    /// The program found at startup; what runs.
    pub(crate) program: PathBuf,
    pub(crate) args: Args,
    /// The entry's own variables, expanded, added to [`BASE_ENV`].
    pub(crate) env: BTreeMap<String, String>,
    /// Programs the program runs in turn (`runs`), found at startup: with
    /// the entries' programs, what the kernel lets command threads execute.
    pub(crate) runs: Vec<PathBuf>,
}

impl ShellEntry {
    /// The one way a scoped program starts (`shell.execute` and
    /// `shell.spawn`): the program found at startup, never looked up again
    /// on a `PATH`; an environment of [`BASE_ENV`] and the entry's `env`
    /// only, so nothing of the app's own environment (tokens, `LD_PRELOAD`,
    /// the user's `PATH`) reaches it; [`WORKING_DIR`]; stdin closed (the
    /// caller may pipe it), stdout and stderr piped, and no other
    /// descriptor; alone in a new process group, which the caller holds
    /// as a [`super::process_linux::Group`] and which ends as a whole with
    /// it; killed if its handle is dropped. `args` must already have passed [`ShellScope::check`].
    pub(crate) fn command(&self, args: &[String]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(args)
            .env_clear()
            .envs(BASE_ENV.iter().copied())
            .envs(&self.env)
            .current_dir(WORKING_DIR)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        super::process_linux::start_alone(&mut command);
        command
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Args {
    Any,
    List(Vec<Arg>),
}

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Fixed(String),
    Validated { source: String, re: Regex },
}

/// Every entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShellScope {
    pub(crate) entries: Vec<ShellEntry>,
}

/// Probes the audit runs through a validator: one that accepts all of them
/// accepts anything worth refusing.
const PROBES: &[&str] = &[
    "",
    "; rm -rf ~",
    "$(id)",
    "../../etc/passwd",
    "--output=/etc/passwd",
];

impl Arg {
    /// Whether this validator accepts every probe (`.*` and friends).
    pub(crate) fn matches_anything(&self) -> bool {
        match self {
            Arg::Fixed(_) => false,
            Arg::Validated { re, .. } => PROBES.iter().all(|p| re.is_match(p)),
        }
    }
}

/// Whether the validator `source` (anchored as the scope anchors it)
/// accepts every probe: `.*` and friends. `false` for a regex that does not
/// compile (startup refuses it anyway).
pub(crate) fn validator_matches_anything(source: &str) -> bool {
    Regex::new(&format!("^(?:{source})$")).is_ok_and(|re| {
        Arg::Validated {
            source: source.to_owned(),
            re,
        }
        .matches_anything()
    })
}

/// One rule per argument: a fixed string, or an anchored validator.
fn compile_args(at: &str, args: &ShellArgs) -> Result<Args, ConfigError> {
    let list = match args {
        ShellArgs::Any(true) => return Ok(Args::Any),
        ShellArgs::Any(false) => return Ok(Args::List(Vec::new())),
        ShellArgs::List(list) => list,
    };
    list.iter()
        .enumerate()
        .map(|(j, a)| match a {
            ShellArg::Fixed(s) => Ok(Arg::Fixed(s.clone())),
            ShellArg::Validator { validator } => Regex::new(&format!("^(?:{validator})$"))
                .map(|re| Arg::Validated {
                    source: validator.clone(),
                    re,
                })
                .map_err(|x| ConfigError {
                    path: format!("{at}.args[{j}].validator"),
                    message: format!("{validator:?} is not a valid regex: {x}"),
                }),
        })
        .collect::<Result<_, _>>()
        .map(Args::List)
}

/// The entry's own variables; a value that starts with a base-directory
/// variable is expanded (left out, with a warning, where this machine has
/// no such directory).
fn compile_env(
    at: &str,
    env: &BTreeMap<String, String>,
    dirs: &BaseDirs,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for (k, v) in env {
        let err = |message: String| ConfigError {
            path: format!("{at}.env.{k}"),
            message,
        };
        if k.is_empty() || k.contains(['=', '\0']) || v.contains('\0') {
            return Err(err(
                "names and values must be non-empty text without '=' (in names) or NUL".into(),
            ));
        }
        if !v.starts_with('$') {
            out.insert(k.clone(), v.clone());
            continue;
        }
        match dirs.expand_path(v) {
            Ok(Some(p)) => {
                out.insert(k.clone(), p.to_string_lossy().into_owned());
            }
            Ok(None) => tracing::warn!(
                "{at}.env.{k}: {v:?} has no directory on this machine; the variable is left out"
            ),
            Err(x) => return Err(err(format!("{v:?} {x}"))),
        }
    }
    Ok(out)
}

impl ShellScope {
    /// Compiles the entries, finding each program through `dirs` (on a real
    /// machine: it must exist now).
    pub(crate) fn compile(
        key: &str,
        config: &[ShellEntryConfig],
        dirs: &BaseDirs,
    ) -> Result<Self, ConfigError> {
        let mut entries: Vec<ShellEntry> = Vec::new();
        for (i, e) in config.iter().enumerate() {
            let at = format!("{key}[{i}]");
            let err = |field: &str, message: String| ConfigError {
                path: format!("{at}{field}"),
                message,
            };
            if e.name.is_empty() || entries.iter().any(|o| o.name == e.name) {
                return Err(err(
                    ".name",
                    format!("{:?} must be unique and not empty", e.name),
                ));
            }
            let named_ok = |cmd: &str| {
                !cmd.is_empty()
                    && !cmd.contains('\0')
                    && (cmd.starts_with('/') || !cmd.contains('/'))
                    && !cmd.split('/').any(|s| s == "..")
            };
            let must_name = |cmd: &str| {
                format!("{cmd:?} must be an absolute path or a program name looked up in PATH")
            };
            if !named_ok(&e.cmd) {
                return Err(err(".cmd", must_name(&e.cmd)));
            }
            let mut runs = Vec::new();
            for (j, r) in e.runs.iter().enumerate() {
                let field = format!(".runs[{j}]");
                if !named_ok(r) {
                    return Err(err(&field, must_name(r)));
                }
                runs.push(dirs.find_program(r).map_err(|m| err(&field, m))?);
            }
            entries.push(ShellEntry {
                name: e.name.clone(),
                program: dirs.find_program(&e.cmd).map_err(|m| err(".cmd", m))?,
                args: compile_args(&at, &e.args)?,
                env: compile_env(&at, &e.env, dirs)?,
                runs,
            });
        }
        Ok(Self { entries })
    }

    /// The entry `name`, if `args` fit it.
    pub(crate) fn check(&self, name: &str, args: &[String]) -> Result<&ShellEntry, ScopeError> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| ScopeError::ProgramDenied {
                name: name.to_owned(),
            })?;
        let deny = |reason: String| ScopeError::ArgDenied {
            name: name.to_owned(),
            reason,
        };
        if let Some(i) = args.iter().position(|a| a.contains('\0')) {
            return Err(deny(format!("argument {i} contains a NUL byte")));
        }
        match &entry.args {
            Args::Any => {}
            Args::List(rules) => {
                if args.len() != rules.len() {
                    return Err(deny(format!(
                        "expected {} argument(s), got {}",
                        rules.len(),
                        args.len()
                    )));
                }
                for (i, (a, rule)) in args.iter().zip(rules).enumerate() {
                    match rule {
                        Arg::Fixed(f) if f != a => {
                            return Err(deny(format!("argument {i} must be {f:?}")))
                        }
                        Arg::Validated { source, re } if !re.is_match(a) => {
                            return Err(deny(format!(
                                "argument {i} does not match the validator /^(?:{source})$/"
                            )))
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(json: &str) -> Result<ShellScope, ConfigError> {
        let cfg: Vec<ShellEntryConfig> = serde_json::from_str(json).unwrap();
        ShellScope::compile(
            "scope.shell",
            &cfg,
            &BaseDirs::fixed(std::path::Path::new("/r")),
        )
    }

    fn executable(path: &std::path::Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn programs_are_found_once_at_startup_and_must_exist() {
        let t = tempfile::tempdir().unwrap();
        let (first, second) = (t.path().join("first"), t.path().join("second"));
        std::fs::create_dir_all(&first).unwrap();
        std::fs::create_dir_all(&second).unwrap();
        executable(&second.join("tool"));
        std::fs::write(first.join("tool"), "not executable").unwrap();
        let dirs = BaseDirs::fixed(t.path()).with_program_path(&[&first, &second]);
        let cfg: Vec<ShellEntryConfig> = serde_json::from_str(
            r#"[{"name":"t","cmd":"tool","env":{"HOME":"$HOME","MODE":"fast"}}]"#,
        )
        .unwrap();
        let s = ShellScope::compile("scope.shell", &cfg, &dirs).unwrap();
        assert_eq!(s.entries[0].program, second.join("tool"));
        assert_eq!(
            s.entries[0].env["HOME"],
            t.path().join("home").to_string_lossy()
        );
        assert_eq!(s.entries[0].env["MODE"], "fast");
        // Planted later, earlier on PATH: the entry keeps what was found.
        std::fs::remove_file(first.join("tool")).unwrap();
        executable(&first.join("tool"));
        assert_eq!(s.entries[0].program, second.join("tool"));
        for (json, path) in [
            (
                r#"[{"name":"t","cmd":"missing-tool"}]"#,
                "scope.shell[0].cmd",
            ),
            (
                r#"[{"name":"t","cmd":"/nonexistent/tool"}]"#,
                "scope.shell[0].cmd",
            ),
            (
                r#"[{"name":"t","cmd":"tool","env":{"A=B":"x"}}]"#,
                "scope.shell[0].env.A=B",
            ),
            (
                r#"[{"name":"t","cmd":"tool","env":{"X":"$NOPE/x"}}]"#,
                "scope.shell[0].env.X",
            ),
        ] {
            let cfg: Vec<ShellEntryConfig> = serde_json::from_str(json).unwrap();
            let e = ShellScope::compile("scope.shell", &cfg, &dirs).unwrap_err();
            assert_eq!(e.path, path, "{json}");
        }
        let cfg: Vec<ShellEntryConfig> =
            serde_json::from_str(r#"[{"name":"t","cmd":"missing-tool"}]"#).unwrap();
        let e = ShellScope::compile("scope.shell", &cfg, &dirs).unwrap_err();
        assert!(e.message.contains("was not found on PATH"), "{}", e.message);
    }

    #[test]
    fn validators_are_anchored() {
        let s =
            scope(r#"[{"name":"ls","cmd":"ls","args":["-1",{"validator":"[a-z]+"}]}]"#).unwrap();
        assert!(s.check("ls", &["-1".into(), "abc".into()]).is_ok());
        for bad in ["abc; rm -rf ~", "abc\n", "$(id)abc", ""] {
            match s.check("ls", &["-1".into(), bad.into()]) {
                Err(ScopeError::ArgDenied { reason, .. }) => {
                    assert!(reason.contains("does not match the validator"), "{reason}")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn fixed_arguments_and_count_are_exact() {
        let s = scope(r#"[{"name":"ls","cmd":"ls","args":["-1"]},{"name":"d","cmd":"/bin/date"}]"#)
            .unwrap();
        assert!(matches!(
            s.check("ls", &["-la".into()]),
            Err(ScopeError::ArgDenied { .. })
        ));
        assert!(matches!(
            s.check("ls", &["-1".into(), "/".into()]),
            Err(ScopeError::ArgDenied { .. })
        ));
        assert!(s.check("d", &[]).is_ok());
        assert!(matches!(
            s.check("d", &["+%s".into()]),
            Err(ScopeError::ArgDenied { .. })
        ));
        assert!(matches!(
            s.check("sh", &[]),
            Err(ScopeError::ProgramDenied { .. })
        ));
    }

    #[test]
    fn config_errors_name_the_key() {
        let e = scope(r#"[{"name":"x","cmd":"x","args":[{"validator":"("}]}]"#).unwrap_err();
        assert_eq!(e.path, "scope.shell[0].args[0].validator");
        let e = scope(r#"[{"name":"x","cmd":"bin/x"}]"#).unwrap_err();
        assert_eq!(e.path, "scope.shell[0].cmd");
        let e = scope(r#"[{"name":"x","cmd":"a"},{"name":"x","cmd":"b"}]"#).unwrap_err();
        assert_eq!(e.path, "scope.shell[1].name");
    }

    #[test]
    fn catch_all_validators_are_recognised() {
        let s = scope(
            r#"[{"name":"x","cmd":"x","args":[{"validator":".*"},{"validator":"(?s).*"},{"validator":"[a-z]+"}]}]"#,
        )
        .unwrap();
        let Args::List(a) = &s.entries[0].args else {
            panic!()
        };
        assert!(a[0].matches_anything());
        assert!(a[1].matches_anything());
        assert!(!a[2].matches_anything());
    }
}
