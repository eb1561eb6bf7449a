//! The command line a Moat app answers when it asks Moat to
//! (`Builder::answer_command_line`): `--help`, `--version`, and `audit` (the
//! app's sources on disk, checked as `moat::audit` checks them). Anything
//! else is the app's (and, in test-harness builds, the harness's).

use crate::audit::Sources;

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
    /// Print the TypeScript declarations of the app's commands.
    Types,
    /// Print the `.desktop` entry's `MimeType` value (`make package`).
    MimeTypes,
}

/// Reads `args` (without the program name), prints what they ask for, and
/// says what to do next.
pub(crate) fn handle(about: &About, args: &[String]) -> Action {
    match args.first().map(String::as_str) {
        Some("--help" | "-h") => {
            print!("{}", help(about));
            Action::Exit(0)
        }
        Some("--version" | "-V") => {
            println!("{}", version(about));
            Action::Exit(0)
        }
        Some("audit") => Action::Exit(crate::audit::run_cli(
            args[1..].iter().cloned(),
            about.sources.clone(),
        )),
        Some("types") => Action::Types,
        Some("mime-types") => Action::MimeTypes,
        // Nothing, or the app's own arguments.
        _ => Action::Run,
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
  {name} types
      Print the TypeScript declarations of the app's commands (a build
      with Moat's `typescript` feature).
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
        assert_eq!(handle(&about(), &args(&["--help"])), Action::Exit(0));
        assert_eq!(handle(&about(), &args(&["--version"])), Action::Exit(0));
        assert!(version(&about()).starts_with("my-app 1.2.3 (Moat "));
        let h = help(&about());
        assert!(
            h.contains("my-app audit") && h.contains("moat.json, frontend, frontend/hooks"),
            "{h}"
        );
    }

    #[test]
    fn no_argument_or_the_apps_own_runs_the_app() {
        assert_eq!(handle(&about(), &[]), Action::Run);
        assert_eq!(handle(&about(), &args(&["--frobnicate"])), Action::Run);
    }
}
