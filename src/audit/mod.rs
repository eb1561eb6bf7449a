//! `audit`: reads an app's `moat.json` and frontend folder from disk and
//! reports every risky setting and every "don't" of the seed, with a
//! severity and the exact place. Human-readable by default, `--json` for
//! tools; exits 1 when any finding is high, 2 when the inputs cannot be read.

mod findings;
mod hooks;
mod html;
mod modules;
mod settings;

use std::path::{Path, PathBuf};

pub(crate) use self::findings::Findings;
pub use self::findings::{Finding, Severity};
pub(crate) use self::modules::{modules, views};
pub(crate) use self::settings::limits;
use crate::config::Settings;
use crate::scope::{BaseDirs, Scopes};

/// Audits `config_text` (the contents of `config_name`), the HTML files
/// under `frontend` and the hooks under `hooks`.
pub fn audit(config_name: &str, config_text: &str, frontend: &Path, hooks: &Path) -> Vec<Finding> {
    let mut f = Findings::new(config_name);
    // As at startup: parsed, then every scope compiled (against a fixed
    // layout, so the findings do not depend on this machine).
    let config = Settings::from_json(config_text).and_then(|c| {
        for policy in c.policies() {
            Scopes::compile(policy.scope, &BaseDirs::fixed(Path::new("/"))).map_err(|mut e| {
                e.path = format!("{}{}", policy.at, e.path);
                e
            })?;
        }
        Ok(c)
    });
    match config {
        Ok(config) => {
            settings::csp(&mut f, &config);
            settings::settings(&mut f, &config);
            for policy in config.policies() {
                f.in_window(&policy.at, |f| {
                    settings::window(f, &policy);
                    settings::limits(f, &policy);
                    modules::modules(f, &policy);
                    hooks::hooks(f, &policy, hooks);
                });
            }
            modules::views(&mut f, &config);
            modules::repeated_allowlists(&mut f, &config);
            html::frontend(&mut f, frontend);
        }
        Err(e) => f.at_key(Severity::High, "config-invalid", &e.path, e.message),
    }
    f.into_sorted()
}

/// Where an app's sources are on disk, relative to the working directory:
/// what `audit` reads when the command line names nothing else.
#[derive(Debug, Clone)]
pub(crate) struct Sources {
    pub(crate) config: PathBuf,
    pub(crate) frontend: PathBuf,
    /// `None`: `<frontend>/hooks`.
    pub(crate) hooks: Option<PathBuf>,
}

impl Default for Sources {
    fn default() -> Self {
        Self {
            config: PathBuf::from("moat.json"),
            frontend: PathBuf::from("frontend"),
            hooks: None,
        }
    }
}

/// What the command line asked for.
struct Cli {
    config: PathBuf,
    frontend: PathBuf,
    hooks: Option<PathBuf>,
    json: bool,
}

fn parse_cli(args: impl IntoIterator<Item = String>, sources: Sources) -> Result<Cli, String> {
    let mut cli = Cli {
        config: sources.config,
        frontend: sources.frontend,
        hooks: sources.hooks,
        json: false,
    };
    let mut hooks_given = false;
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => cli.json = true,
            "--config" => cli.config = args.next().ok_or("--config needs a file")?.into(),
            "--frontend" => {
                cli.frontend = args.next().ok_or("--frontend needs a directory")?.into();
                // Another frontend: its own hooks/, unless --hooks says.
                if !hooks_given {
                    cli.hooks = None;
                }
            }
            "--hooks" => {
                cli.hooks = Some(args.next().ok_or("--hooks needs a directory")?.into());
                hooks_given = true;
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(cli)
}

/// The `audit` subcommand: `audit [--config FILE] [--frontend DIR]
/// [--hooks DIR] [--json]`, with `sources` where nothing is named.
/// Returns the process exit code.
pub(crate) fn run_cli(args: impl IntoIterator<Item = String>, sources: Sources) -> i32 {
    let cli = match parse_cli(args, sources) {
        Ok(cli) => cli,
        Err(msg) => {
            eprintln!("moat audit: {msg}\nusage: audit [--config FILE] [--frontend DIR] [--hooks DIR (default: FRONTEND/hooks)] [--json]");
            return 2;
        }
    };
    let text = match std::fs::read_to_string(&cli.config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("moat audit: {}: {e}", cli.config.display());
            return 2;
        }
    };
    if !cli.frontend.is_dir() {
        eprintln!("moat audit: {}: not a directory", cli.frontend.display());
        return 2;
    }
    let name = cli
        .config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hooks = cli.hooks.unwrap_or_else(|| cli.frontend.join("hooks"));
    let findings = audit(&name, &text, &cli.frontend, &hooks);
    print_report(&findings, cli.json);
    i32::from(findings.iter().any(|f| f.severity == Severity::High))
}

fn print_report(findings: &[Finding], json: bool) {
    let count = |s| findings.iter().filter(|f| f.severity == s).count();
    let (high, medium, low, info) = (
        count(Severity::High),
        count(Severity::Medium),
        count(Severity::Low),
        count(Severity::Info),
    );
    if json {
        let report = serde_json::json!({ "findings": findings, "high": high, "medium": medium, "low": low, "info": info });
        println!("{report}");
        return;
    }
    for f in findings {
        let sev = match f.severity {
            Severity::High => "HIGH  ",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW   ",
            Severity::Info => "INFO  ",
        };
        println!("{sev} {:<30} {}\n       {}", f.code, f.place, f.message);
    }
    println!("{high} high, {medium} medium, {low} low, {info} info");
}
