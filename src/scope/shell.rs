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

use regex::Regex;

use super::error::ScopeError;
use crate::config::{ConfigError, ShellArg, ShellArgs, ShellEntryConfig};

/// One compiled entry.
#[derive(Debug, Clone)]
pub(crate) struct ShellEntry {
    pub(crate) name: String,
    pub(crate) cmd: String,
    pub(crate) args: Args,
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

impl ShellScope {
    pub(crate) fn compile(key: &str, config: &[ShellEntryConfig]) -> Result<Self, ConfigError> {
        let mut entries: Vec<ShellEntry> = Vec::new();
        for (i, e) in config.iter().enumerate() {
            let err = |field: &str, message: String| ConfigError {
                path: format!("{key}[{i}]{field}"),
                message,
            };
            if e.name.is_empty() || entries.iter().any(|o| o.name == e.name) {
                return Err(err(
                    ".name",
                    format!("{:?} must be unique and not empty", e.name),
                ));
            }
            let cmd_ok = !e.cmd.is_empty()
                && !e.cmd.contains('\0')
                && (e.cmd.starts_with('/') || !e.cmd.contains('/'))
                && !e.cmd.split('/').any(|s| s == "..");
            if !cmd_ok {
                return Err(err(
                    ".cmd",
                    format!(
                        "{:?} must be an absolute path or a program name looked up in PATH",
                        e.cmd
                    ),
                ));
            }
            let args = match &e.args {
                ShellArgs::Any(true) => Args::Any,
                ShellArgs::Any(false) => Args::List(Vec::new()),
                ShellArgs::List(list) => Args::List(
                    list.iter()
                        .enumerate()
                        .map(|(j, a)| match a {
                            ShellArg::Fixed(s) => Ok(Arg::Fixed(s.clone())),
                            ShellArg::Validator { validator } => {
                                Regex::new(&format!("^(?:{validator})$"))
                                    .map(|re| Arg::Validated {
                                        source: validator.clone(),
                                        re,
                                    })
                                    .map_err(|x| {
                                        err(
                                            &format!(".args[{j}].validator"),
                                            format!("{validator:?} is not a valid regex: {x}"),
                                        )
                                    })
                            }
                        })
                        .collect::<Result<_, _>>()?,
                ),
            };
            entries.push(ShellEntry {
                name: e.name.clone(),
                cmd: e.cmd.clone(),
                args,
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
        ShellScope::compile("scope.shell", &cfg)
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
