//! The config's own settings: the policy, devtools, the allowlist of
//! commands, hooks, permissions and limits.

use super::findings::{Findings, Severity};
use crate::config::{
    Settings, DEFAULT_CALLS_PER_SECOND, DEFAULT_EXECUTES_PER_MINUTE, DEFAULT_OPENS_PER_MINUTE,
    DEFAULT_PENDING_CALLS,
};
use crate::csp::policy::Policy;
use crate::csp::DEFAULT_APP_POLICY;

/// Above this per call, `limits.maxMessageBytes` is a finding: a page can
/// make the core hold that much memory per call in flight.
const LARGE_MESSAGE_BYTES: usize = 256 << 20;

/// Directives whose sources decide what code or style runs.
const SCRIPT_LIKE: &[&str] = &[
    "default-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
];

/// `'unsafe-*'`, wildcards and unencrypted sources in the policy.
pub(crate) fn csp(f: &mut Findings, config: &Settings) {
    let policy = Policy::parse(config.csp.as_deref().unwrap_or(DEFAULT_APP_POLICY));
    for (directive, sources) in policy.directives() {
        for s in sources {
            csp_source(f, directive, s);
        }
    }
    if config.csp.is_none() {
        f.at_key(
            Severity::Info,
            "csp-default",
            "csp",
            "no policy set: Moat's strict default applies",
        );
    }
    if config.dangerous.disable_csp_modification {
        f.at_key(Severity::Medium, "csp-modification-off", "dangerous.disableCspModification", "HTML and policy are served as given: inline scripts need your own hashes, styles your own nonces, and object-src/base-uri/form-action get no defaults");
        let frames_isolation = policy
            .get("frame-src")
            .or(policy.get("default-src"))
            .is_some_and(|s| s.iter().any(|x| x.starts_with("isolation:")));
        if !frames_isolation {
            f.at_key(Severity::Medium, "csp-blocks-isolation", "csp (frame-src)", "the policy does not allow isolation://localhost in frame-src: every call will fail");
        }
    }
}

fn csp_source(f: &mut Findings, directive: &str, s: &str) {
    let key = format!("csp ({directive})");
    let lower = s.to_ascii_lowercase();
    let script_like = SCRIPT_LIKE.contains(&directive);
    if lower.starts_with("'unsafe-") {
        f.at_key(Severity::High, "csp-unsafe", &key, format!("{s} disables the protection CSP exists for; remove it (Moat hashes inline scripts and nonces styles for you)"));
    } else if lower == "'wasm-unsafe-eval'" {
        f.at_key(
            Severity::Medium,
            "csp-unsafe",
            &key,
            format!(
                "{s} allows compiling WebAssembly at run time; keep it only if the app needs it"
            ),
        );
    } else if lower == "*" {
        f.at_key(
            Severity::High,
            "csp-wildcard",
            &key,
            "`*` allows any origin; list the origins you need",
        );
    } else if lower.starts_with("http:") || lower.starts_with("ws:") {
        f.at_key(
            Severity::High,
            "csp-insecure-scheme",
            &key,
            format!("{s} allows unencrypted content; use https: or wss:, or ship the resource"),
        );
    } else if script_like
        && matches!(
            lower.as_str(),
            "https:" | "wss:" | "data:" | "blob:" | "filesystem:"
        )
    {
        f.at_key(
            Severity::High,
            "csp-wildcard",
            &key,
            format!("{s} allows code from anywhere with that scheme; list exact origins"),
        );
    } else if lower.contains("://*.") || lower.starts_with("*.") {
        f.at_key(
            Severity::Medium,
            "csp-wildcard",
            &key,
            format!("{s} allows every subdomain; list the hosts you need"),
        );
    }
}

/// Devtools, the sandbox, the commands' allowlist, hooks, permissions,
/// message size.
pub(crate) fn settings(f: &mut Findings, config: &Settings) {
    if config.dangerous.disable_web_process_sandbox {
        f.at_key(
            Severity::High,
            "sandbox-off",
            "dangerous.disableWebProcessSandbox",
            "the web content process runs without its sandbox: a page that exploits a WebKit bug gets every right of the user; remove it and allow user namespaces instead",
        );
    }
    confinement(f, config);
    if config.devtools {
        f.at_key(
            Severity::Medium,
            "devtools",
            "devtools",
            "the web inspector is on in debug builds (a release build refuses to start with it)",
        );
    }
    if !config.launch.single_instance {
        f.at_key(
            Severity::Low,
            "single-instance-off",
            "launch.singleInstance",
            crate::launch::SEVERAL_INSTANCES,
        );
    }
    for p in &config.permissions {
        f.at_key(
            Severity::Low,
            "permission-granted",
            "permissions",
            format!("pages may use {p:?}; keep it only if the app needs it"),
        );
    }
}

/// One app window's commands, hooks and message size (its keys placed by
/// the caller, [`Findings::in_window`]).
pub(crate) fn window(f: &mut Findings, policy: &crate::config::Policy<'_>) {
    if policy.is_main() && policy.allowlist.commands.is_none() {
        f.at_key(
            Severity::Low,
            "allowlist-all",
            "allowlist.commands",
            "every registered command is callable; list them to make the grant explicit",
        );
    }
    if policy.isolation.hooks.is_empty() {
        f.at_key(
            Severity::Medium,
            "no-hooks",
            "isolation.hooks",
            "no isolation hook: calls are sealed but nothing on the page side validates them",
        );
    }
    if policy.limits.max_message_bytes > LARGE_MESSAGE_BYTES {
        f.at_key(
            Severity::Low,
            "large-messages",
            "limits.maxMessageBytes",
            "over 256 MiB per call: a page can make the core hold that much memory per call",
        );
    }
}

/// The kernel's confinement of commands: off, a TCP scope it cannot
/// confine, and what this machine's kernel gives against what the app
/// requires.
fn confinement(f: &mut Findings, config: &Settings) {
    if config.dangerous.disable_kernel_confinement {
        f.at_key(
            Severity::High,
            "confinement-off",
            "dangerous.disableKernelConfinement",
            "commands and their programs run without the kernel's confinement: a bug in a scope check or a command reaches everything the user can; remove it and declare what commands need in the scopes",
        );
        return;
    }
    for policy in config.policies() {
        let any_port = policy.scope.http.allow.iter().any(|p| {
            p.split("://")
                .nth(1)
                .is_some_and(|rest| rest.split('/').next().is_some_and(|a| a.ends_with(":*")))
        });
        if any_port {
            f.at_key(
                Severity::Medium,
                "confinement-tcp",
                &format!("{}scope.http.allow", policy.at),
                "a pattern takes any port (`:*`), so the kernel cannot confine TCP connect; name the ports",
            );
        }
    }
    let abi = crate::confine::kernel_abi();
    let written = crate::confine::WRITTEN_FOR as u8;
    let minimum = config.confinement.minimum_landlock_abi;
    if abi < minimum {
        f.at_key(
            Severity::High,
            "confinement-below-minimum",
            "confinement.minimumLandlockAbi",
            format!("this machine's kernel confines at Landlock ABI {abi}, below the {minimum} the app requires: the app will not start here"),
        );
    } else {
        let (severity, how) = match abi {
            0 => (Severity::Medium, "not at all: commands are held back by the scopes alone".to_owned()),
            a if a < written => (Severity::Low, format!("at Landlock ABI {a}, with fewer rights than the {written} Moat's rules are written for")),
            a => (Severity::Info, format!("at Landlock ABI {a}, with every right Moat's rules name")),
        };
        f.at_key(
            severity,
            "confinement-level",
            "confinement",
            format!("on this machine the kernel confines command threads and their programs {how}"),
        );
    }
}

/// Rate limits that are off, or raised above their defaults.
pub(crate) fn limits(f: &mut Findings, policy: &crate::config::Policy<'_>) {
    let a = policy.allowlist;
    let l = policy.limits;
    let rows = [
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
            a.shell.all || a.shell.execute || a.shell.spawn,
            "a compromised page can start programs in a loop",
        ),
        (
            "maxPendingCalls",
            l.max_pending_calls,
            DEFAULT_PENDING_CALLS,
            true,
            "a compromised page can tie up the core's threads with slow calls",
        ),
    ];
    for (key, value, default, applies, what) in rows {
        let key = format!("limits.{key}");
        match value {
            _ if !applies => {}
            None => f.at_key(
                Severity::Medium,
                "no-rate-limit",
                &key,
                format!(
                    "the limit is off: {what}; remove the null to get the default of {default}"
                ),
            ),
            Some(n) if n > default => f.at_key(
                Severity::Low,
                "rate-limit-raised",
                &key,
                format!("raised from the default {default} to {n}: {what} at that pace"),
            ),
            Some(_) => {}
        }
    }
}
