//! The command line every Moat app answers before it opens a window:
//! `--help`, `--version`, and `audit` (the app's sources on disk, checked
//! as `moat::audit` checks them). Anything else is refused with a pointer
//! to `--help`; in test-harness builds the harness reads the rest.

use crate::audit::Sources;
use crate::error::Error;

/// What `--help` and `--version` say about the app.
#[derive(Debug, Clone)]
pub(crate) struct About {
    pub(crate) name: &'static str,
    pub(crate) version: &'static str,
    pub(crate) sources: Sources,
}

/// What to do after the command line is read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Open the app.
    Run,
    /// Exit with this code (help, version or audit done, or bad arguments).
    Exit(i32),
}

/// Reads `args` (without the program name), prints what they ask for, and
/// says what to do next.
pub(crate) fn handle(about: &About, args: &[String]) -> Result<Action, Error> {
    match args.first().map(String::as_str) {
        None => Ok(Action::Run),
        Some("--help" | "-h") => {
            print!("{}", help(about));
            Ok(Action::Exit(0))
        }
        Some("--version" | "-V") => {
            println!("{}", version(about));
            Ok(Action::Exit(0))
        }
        Some("audit") => Ok(Action::Exit(crate::audit::run_cli(
            args[1..].iter().cloned(),
            about.sources.clone(),
        ))),
        // The test harness reads its own options (`--harness-*`).
        Some(_) if cfg!(feature = "dangerous-test-harness") => Ok(Action::Run),
        Some(other) => Err(Error::Args(format!(
            "unknown argument `{other}`; `{} --help` lists what it takes",
            about.name
        ))),
    }
}

fn version(about: &About) -> String {
    format!(
        "{} {} (Moat {})",
        about.name,
        about.version,
        env!("CARGO_PKG_VERSION")
    )
}

fn help(about: &About) -> String {
    let s = &about.sources;
    let hooks = s.hooks.clone().unwrap_or_else(|| s.frontend.join("hooks"));
    format!(
        "{version}, a desktop app on Moat.

Usage:
  {name}
      Open the app.
  {name} audit [--config FILE] [--frontend DIR] [--hooks DIR] [--json]
      List the risky settings of the app's config, frontend and hooks on
      disk (default: {config}, {frontend}, {hooks}; another --frontend
      brings its own hooks/). Exits 1 when any finding is high.
  {name} --version
      Print the version.
  {name} --help
      Print this.

Logging: RUST_LOG (default moat=info); refusals are under moat::refusal.
",
        version = version(about),
        name = about.name,
        config = s.config.display(),
        frontend = s.frontend.display(),
        hooks = hooks.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn about() -> About {
        About {
            name: "my-app",
            version: "1.2.3",
            sources: Sources::default(),
        }
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn help_and_version_answer_and_exit_zero() {
        assert_eq!(
            handle(&about(), &args(&["--help"])).unwrap(),
            Action::Exit(0)
        );
        assert_eq!(
            handle(&about(), &args(&["--version"])).unwrap(),
            Action::Exit(0)
        );
        assert!(version(&about()).starts_with("my-app 1.2.3 (Moat "));
        let h = help(&about());
        assert!(
            h.contains("my-app audit") && h.contains("moat.json, frontend, frontend/hooks"),
            "{h}"
        );
    }

    #[test]
    fn no_argument_runs_the_app() {
        assert_eq!(handle(&about(), &[]).unwrap(), Action::Run);
    }

    #[cfg(not(feature = "dangerous-test-harness"))]
    #[test]
    fn an_unknown_argument_points_at_help() {
        let e = handle(&about(), &args(&["--frobnicate"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "arguments: unknown argument `--frobnicate`; `my-app --help` lists what it takes"
        );
    }
}
