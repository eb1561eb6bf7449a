//! `moat-demo audit`: reads an app's `moat.json` and frontend folder from
//! disk and reports every risky setting and every "don't" of the seed, with
//! a severity and the exact place. Human-readable by default, `--json` for
//! tools; exits 1 when any finding is high, 2 when the inputs cannot be read.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use lol_html::{element, rewrite_str, RewriteStrSettings};
use serde::Serialize;

use crate::config::{
    Config, PathScopeConfig, ShellArg, ShellArgs, UrlScopeConfig, DEFAULT_CALLS_PER_SECOND,
    DEFAULT_EXECUTES_PER_MINUTE, DEFAULT_OPENS_PER_MINUTE,
};
use crate::csp::html::is_external;
use crate::csp::policy::Policy;
use crate::csp::DEFAULT_APP_POLICY;
use crate::scope::path::PathScope;
use crate::scope::url::address::Reach;
use crate::scope::url::{Kind, UrlScope};
use crate::scope::{BaseDirs, Scopes};

/// How much a finding matters. `High` fails the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something the reader may want to know.
    Info,
    /// Worth a look.
    Low,
    /// Weakens a protection.
    Medium,
    /// Defeats a protection.
    High,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// Stable identifier, e.g. `csp-unsafe`.
    pub code: &'static str,
    /// Where: `moat.json: csp (script-src)` or `index.html:12`.
    pub place: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Audits `config_text` (the contents of `config_name`) and the HTML files
/// under `frontend`.
pub fn audit(config_name: &str, config_text: &str, frontend: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |severity, code, place: String, message: String| {
        out.push(Finding {
            severity,
            code,
            place,
            message,
        })
    };
    // As at startup: parsed, then every scope compiled (against a fixed
    // layout, so the findings do not depend on this machine).
    let config = Config::from_json(config_text).and_then(|c| {
        Scopes::compile(&c.scope, &BaseDirs::fixed(Path::new("/")))?;
        Ok(c)
    });
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            add(
                Severity::High,
                "config-invalid",
                format!("{config_name}: {}", e.path),
                e.message,
            );
            return out;
        }
    };

    // CSP.
    let policy_text = config.csp.as_deref().unwrap_or(DEFAULT_APP_POLICY);
    let policy = Policy::parse(policy_text);
    let place = |d: &str| format!("{config_name}: csp ({d})");
    for (directive, sources) in policy.directives() {
        for s in sources {
            let lower = s.to_ascii_lowercase();
            let script_like = matches!(
                directive,
                "default-src"
                    | "script-src"
                    | "script-src-elem"
                    | "script-src-attr"
                    | "style-src"
                    | "style-src-elem"
                    | "style-src-attr"
            );
            if lower.starts_with("'unsafe-") {
                add(Severity::High, "csp-unsafe", place(directive), format!("{s} disables the protection CSP exists for; remove it (Moat hashes inline scripts and nonces styles for you)"));
            } else if lower == "'wasm-unsafe-eval'" {
                add(Severity::Medium, "csp-unsafe", place(directive), format!("{s} allows compiling WebAssembly at run time; keep it only if the app needs it"));
            } else if lower == "*" {
                add(
                    Severity::High,
                    "csp-wildcard",
                    place(directive),
                    "`*` allows any origin; list the origins you need".into(),
                );
            } else if lower.starts_with("http:") || lower.starts_with("ws:") {
                add(
                    Severity::High,
                    "csp-insecure-scheme",
                    place(directive),
                    format!(
                        "{s} allows unencrypted content; use https: or wss:, or ship the resource"
                    ),
                );
            } else if script_like
                && matches!(
                    lower.as_str(),
                    "https:" | "wss:" | "data:" | "blob:" | "filesystem:"
                )
            {
                add(
                    Severity::High,
                    "csp-wildcard",
                    place(directive),
                    format!("{s} allows code from anywhere with that scheme; list exact origins"),
                );
            } else if lower.contains("://*.") || lower.starts_with("*.") {
                add(
                    Severity::Medium,
                    "csp-wildcard",
                    place(directive),
                    format!("{s} allows every subdomain; list the hosts you need"),
                );
            }
        }
    }
    if config.csp.is_none() {
        add(
            Severity::Info,
            "csp-default",
            format!("{config_name}: csp"),
            "no policy set: Moat's strict default applies".into(),
        );
    }
    if config.dangerous.disable_csp_modification {
        add(Severity::Medium, "csp-modification-off", format!("{config_name}: dangerous.disableCspModification"), "HTML and policy are served as given: inline scripts need your own hashes, styles your own nonces, and object-src/base-uri/form-action get no defaults".into());
        if !policy
            .get("frame-src")
            .or(policy.get("default-src"))
            .is_some_and(|s| s.iter().any(|x| x.starts_with("isolation:")))
        {
            add(Severity::Medium, "csp-blocks-isolation", place("frame-src"), "the policy does not allow isolation://localhost in frame-src: every call will fail".into());
        }
    }

    // Settings.
    if config.devtools {
        add(
            Severity::Medium,
            "devtools",
            format!("{config_name}: devtools"),
            "the web inspector is on in debug builds (a release build refuses to start with it)"
                .into(),
        );
    }
    if config.allowlist.commands.is_none() {
        add(
            Severity::Low,
            "allowlist-all",
            format!("{config_name}: allowlist.commands"),
            "every registered command is callable; list them to make the grant explicit".into(),
        );
    }
    if config.isolation.hooks.is_empty() {
        add(
            Severity::Medium,
            "no-hooks",
            format!("{config_name}: isolation.hooks"),
            "no isolation hook: calls are sealed but nothing on the page side validates them"
                .into(),
        );
    }
    for p in &config.permissions {
        add(
            Severity::Low,
            "permission-granted",
            format!("{config_name}: permissions"),
            format!("pages may use {p:?}; keep it only if the app needs it"),
        );
    }
    if config.limits.max_message_bytes > 256 << 20 {
        add(
            Severity::Low,
            "large-messages",
            format!("{config_name}: limits.maxMessageBytes"),
            "over 256 MiB per call: a page can make the core hold that much memory per call".into(),
        );
    }
    audit_limits(config_name, &config, &mut out);

    audit_modules(config_name, &config, &mut out);

    // Frontend HTML.
    let mut files = Vec::new();
    collect_html(frontend, &mut files);
    files.sort();
    for file in files {
        let rel = file
            .strip_prefix(frontend)
            .unwrap_or(&file)
            .display()
            .to_string();
        match std::fs::read_to_string(&file) {
            Ok(html) => audit_html(&rel, &html, &mut out),
            Err(e) => out.push(Finding {
                severity: Severity::High,
                code: "unreadable",
                place: rel,
                message: e.to_string(),
            }),
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

/// Rate limits that are off, or raised above their defaults.
pub(crate) fn audit_limits(config_name: &str, config: &Config, out: &mut Vec<Finding>) {
    let a = &config.allowlist;
    let l = &config.limits;
    for (key, value, default, applies, what) in [
        (
            "maxCallsPerSecond",
            l.max_calls_per_second,
            DEFAULT_CALLS_PER_SECOND,
            true,
            "a compromised page can drive commands as fast as the machine allows",
        ),
        (
            "maxOpensPerMinute",
            l.max_opens_per_minute,
            DEFAULT_OPENS_PER_MINUTE,
            a.shell.all || a.shell.open,
            "a compromised page can open the browser or mail client in a loop",
        ),
        (
            "maxExecutesPerMinute",
            l.max_executes_per_minute,
            DEFAULT_EXECUTES_PER_MINUTE,
            a.shell.all || a.shell.execute,
            "a compromised page can start programs in a loop",
        ),
    ] {
        if !applies {
            continue;
        }
        let place = format!("{config_name}: limits.{key}");
        match value {
            None => out.push(Finding {
                severity: Severity::Medium,
                code: "no-rate-limit",
                place,
                message: format!(
                    "the limit is off: {what}; remove the null to get the default of {default}"
                ),
            }),
            Some(n) if n > default => out.push(Finding {
                severity: Severity::Low,
                code: "rate-limit-raised",
                place,
                message: format!("raised from the default {default} to {n}: {what} at that pace"),
            }),
            Some(_) => {}
        }
    }
}

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

/// The built-in modules: allowlist `all`, scopes that reach `/` or `$HOME`,
/// shell entries that take anything, `open` and `http` scopes that allow
/// unencrypted or any-host URLs. Scopes are compiled against a fixed layout
/// (`$HOME` = `/home`), so findings do not depend on the machine.
pub(crate) fn audit_modules(config_name: &str, config: &Config, out: &mut Vec<Finding>) {
    let mut add = |severity, code, place: String, message: String| {
        out.push(Finding {
            severity,
            code,
            place: format!("{config_name}: {place}"),
            message,
        })
    };
    let a = &config.allowlist;
    if a.fs.all {
        add(Severity::High, "allowlist-module-all", "allowlist.fs.all".into(), "every fs function, including ones added later, is callable; turn on only the functions the app uses".into());
    }
    if a.shell.all {
        add(
            Severity::High,
            "allowlist-module-all",
            "allowlist.shell.all".into(),
            "both shell.execute and shell.open are callable; turn on only what the app uses".into(),
        );
    }
    if a.http.all {
        add(
            Severity::Medium,
            "allowlist-module-all",
            "allowlist.http.all".into(),
            "every http function is callable; turn on only what the app uses".into(),
        );
    }

    let dirs = BaseDirs::fixed(Path::new("/"));
    for (key, cfg) in [
        ("scope.fs", &config.scope.fs),
        ("scope.asset", &config.scope.asset),
    ] {
        for (i, pattern) in cfg.allow.iter().enumerate() {
            let one = PathScopeConfig {
                allow: vec![pattern.clone()],
                deny: cfg.deny.clone(),
            };
            let Ok(scope) = PathScope::compile(key, &one, &dirs) else {
                continue;
            };
            let reaches = |paths: &[&str]| paths.iter().any(|p| scope.allows(Path::new(p)));
            let place = format!("{key}.allow[{i}]");
            if reaches(&["/etc/passwd", "/usr/bin/env", "/var/log/syslog"]) {
                add(Severity::High, "scope-reaches-root", place, format!("{pattern:?} reaches system files outside the home directory; scope it to the app's own directories ($APPDATA/**)"));
            } else if reaches(&["/home/notes.txt"])
                || [
                    "/home/Documents/x.pdf",
                    "/home/Downloads/x.zip",
                    "/home/Pictures/x.png",
                ]
                .iter()
                .filter(|p| scope.allows(Path::new(p)))
                .count()
                    >= 2
            {
                // A file directly in $HOME, or more than one of the user's
                // folders: `$DOCUMENT/**` alone is a legitimate scope.
                add(Severity::High, "scope-reaches-home", place, format!("{pattern:?} reaches the user's whole home directory; scope it to the app's own directories ($APPDATA/**) or one folder"));
            }
        }
    }

    for (i, entry) in config.scope.shell.iter().enumerate() {
        let program = entry.cmd.rsplit('/').next().unwrap_or(&entry.cmd);
        let interpreter = INTERPRETERS.contains(&program)
            || program.starts_with("python")
            || program.starts_with("perl");
        let place = format!("scope.shell[{i}]");
        match &entry.args {
            ShellArgs::Any(true) => add(
                Severity::High,
                "shell-any-args",
                format!("{place}.args"),
                format!(
                    "`{}` takes any arguments from the page; list one rule per argument",
                    entry.name
                ),
            ),
            ShellArgs::Any(false) => {}
            ShellArgs::List(list) => {
                for (j, arg) in list.iter().enumerate() {
                    let ShellArg::Validator { validator } = arg else {
                        continue;
                    };
                    let Ok(re) = regex::Regex::new(&format!("^(?:{validator})$")) else {
                        continue;
                    };
                    let compiled = crate::scope::shell::Arg::Validated {
                        source: validator.clone(),
                        re,
                    };
                    if compiled.matches_anything() {
                        add(Severity::High, "shell-validator-any", format!("{place}.args[{j}].validator"), format!("/{validator}/ accepts anything, including `; rm -rf ~` and `../../etc/passwd`; match only what the app passes"));
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
            .filter(|k| LOADER_VARIABLES.contains(&k.as_str()) || k.as_str() == "PATH")
        {
            add(Severity::Medium, "shell-env-loader", format!("{place}.env.{name}"), format!("`{name}` decides what code or which programs `{}` loads; leave it to Moat's minimal environment unless the program needs it", entry.cmd));
        }
        if interpreter && takes_input {
            add(Severity::High, "shell-interpreter", format!("{place}.cmd"), format!("`{}` runs whatever its arguments say, and the page chooses an argument; run a dedicated program or make every argument fixed", entry.cmd));
        }
    }

    for (key, kind, list) in [
        ("scope.open", Kind::Open, &config.scope.open.allow),
        ("scope.http", Kind::Http, &config.scope.http.allow),
    ] {
        let (insecure, any_host) = match kind {
            Kind::Open => ("open-insecure-scheme", "open-any-host"),
            Kind::Http => ("http-insecure-scheme", "http-any-host"),
        };
        for (i, pattern) in list.iter().enumerate() {
            let one = UrlScopeConfig {
                allow: vec![pattern.clone()],
                ..UrlScopeConfig::default()
            };
            let Ok(scope) = UrlScope::compile(key, &one, kind) else {
                continue;
            };
            let Some(p) = scope.allow.first() else {
                continue;
            };
            let place = format!("{key}.allow[{i}]");
            if p.scheme == "http" {
                // Plain http to this machine (a local service) cannot be
                // read on the wire; anywhere else it can.
                let severity = if p.host_reach() == Some(Reach::Loopback) {
                    Severity::Medium
                } else {
                    Severity::High
                };
                add(
                    severity,
                    insecure,
                    place.clone(),
                    format!("{pattern:?} allows unencrypted http://; use https://"),
                );
            }
            if p.host_is_wildcard() {
                add(
                    Severity::High,
                    any_host,
                    place.clone(),
                    format!("{pattern:?} allows every host; list the hosts the app needs"),
                );
            }
            if let Some(reach) = p.host_reach().filter(|r| *r != Reach::Public) {
                let (severity, what) = if p.port_is_any() {
                    (Severity::Medium, "every port of")
                } else {
                    (Severity::Low, "")
                };
                add(
                    severity,
                    "url-local-address",
                    place,
                    format!("{pattern:?} lets the page reach {what} {}: name one port and the paths the app needs", reach.describe()).replace("  ", " "),
                );
            }
        }
    }
    if config.scope.http.private_network {
        add(
            Severity::Medium,
            "http-private-network",
            "scope.http.privateNetwork".into(),
            "host names may resolve to private network addresses: an allowed name whose DNS the page can influence reaches the user's network; name the private addresses in allow patterns instead".into(),
        );
    }
}

fn collect_html(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_html(&p, out);
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("html") || x.eq_ignore_ascii_case("htm"))
        {
            out.push(p);
        }
    }
}

fn audit_html(file: &str, html: &str, out: &mut Vec<Finding>) {
    let found = Rc::new(RefCell::new(Vec::new()));
    let f = Rc::clone(&found);
    let line = |byte: usize| {
        html.as_bytes()[..byte.min(html.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    };
    let result = rewrite_str(
        html,
        RewriteStrSettings::new().append_element_content_handler(element!("*", move |el| {
            let at = format!("{file}:{}", line(el.source_location().bytes().start));
            let tag = el.tag_name().to_ascii_lowercase();
            for attr in el.attributes() {
                let name = attr.name();
                let value = attr.value();
                let v = value.trim().to_ascii_lowercase();
                if name.starts_with("on") {
                    f.borrow_mut().push((Severity::Medium, "inline-handler", at.clone(), format!("<{tag} {name}=…> is an inline event handler: CSP blocks it; use addEventListener in a script file")));
                }
                if (name == "src" || name == "href" || name == "action" || name == "data") && (v.starts_with("http:") || v.starts_with("ws:")) {
                    f.borrow_mut().push((Severity::High, "insecure-content", at.clone(), format!("<{tag} {name}=\"{value}\"> loads unencrypted content")));
                }
            }
            if tag == "script" {
                if let Some(src) = el.get_attribute("src") {
                    if is_external(&src) {
                        if el.has_attribute("integrity") {
                            f.borrow_mut().push((Severity::Info, "external-script", at, format!("<script src=\"{src}\"> is checked against its integrity hash")));
                        } else {
                            f.borrow_mut().push((Severity::High, "external-script-no-integrity", at, format!("<script src=\"{src}\"> has no integrity attribute; Moat refuses to start with it")));
                        }
                    }
                }
            }
            Ok(())
        })),
    );
    if let Err(e) = result {
        out.push(Finding {
            severity: Severity::High,
            code: "unparsable",
            place: file.to_owned(),
            message: e.to_string(),
        });
    }
    for (severity, code, place, message) in found.borrow_mut().drain(..) {
        out.push(Finding {
            severity,
            code,
            place,
            message,
        });
    }
}

/// The `audit` subcommand: `audit [--config FILE] [--frontend DIR] [--json]`.
/// Returns the process exit code.
pub fn run_cli(args: impl IntoIterator<Item = String>) -> i32 {
    let (mut config, mut frontend, mut json) = (
        PathBuf::from("moat.json"),
        PathBuf::from("demo-frontend"),
        false,
    );
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--json" => json = true,
            "--config" => match args.next() {
                Some(v) => config = v.into(),
                None => return usage("--config needs a file"),
            },
            "--frontend" => match args.next() {
                Some(v) => frontend = v.into(),
                None => return usage("--frontend needs a directory"),
            },
            other => return usage(&format!("unknown argument {other:?}")),
        }
    }
    let text = match std::fs::read_to_string(&config) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("moat audit: {}: {e}", config.display());
            return 2;
        }
    };
    if !frontend.is_dir() {
        eprintln!("moat audit: {}: not a directory", frontend.display());
        return 2;
    }
    let name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let findings = audit(&name, &text, &frontend);
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
    } else {
        for f in &findings {
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
    i32::from(high > 0)
}

fn usage(msg: &str) -> i32 {
    eprintln!(
        "moat audit: {msg}\nusage: moat-demo audit [--config moat.json] [--frontend DIR] [--json]"
    );
    2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(html: &str) -> Vec<&'static str> {
        let mut out = Vec::new();
        audit_html("x.html", html, &mut out);
        out.iter().map(|f| f.code).collect()
    }

    #[test]
    fn html_findings() {
        assert_eq!(
            codes(r#"<script src="https://cdn.x/a.js"></script>"#),
            ["external-script-no-integrity"]
        );
        assert_eq!(
            codes(r#"<script src="https://cdn.x/a.js" integrity="sha384-x"></script>"#),
            ["external-script"]
        );
        assert_eq!(codes(r#"<img src="http://x/a.png">"#), ["insecure-content"]);
        assert_eq!(codes(r#"<button onclick="go()">"#), ["inline-handler"]);
        assert!(codes(r#"<script src="app.js"></script><img src="a.png">"#).is_empty());
    }

    #[test]
    fn findings_carry_the_line() {
        let mut out = Vec::new();
        audit_html("p.html", "<p>\n\n<img src=\"http://x\">", &mut out);
        assert_eq!(out[0].place, "p.html:3");
    }
}
