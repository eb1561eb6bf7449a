//! `moat-demo audit`: the demo's own config passes; a deliberately bad app
//! gets every finding, each at its place.

use std::path::Path;
use std::process::Command;

fn audit(config: &str, frontend: &str) -> (Option<i32>, serde_json::Value) {
    audit_with(config, frontend, &[])
}

fn audit_with(config: &str, frontend: &str, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    // The repository's top level (the demo crate lives in `demo/`).
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let out = Command::new(env!("CARGO_BIN_EXE_moat-demo"))
        .args(["audit", "--json", "--config"])
        .arg(root.join(config))
        .arg("--frontend")
        .arg(root.join(frontend))
        .args(extra.iter().map(|a| {
            if a.starts_with("--") {
                a.into()
            } else {
                root.join(a).into_os_string()
            }
        }))
        .output()
        .expect("spawn moat-demo audit");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code(), report)
}

#[test]
fn the_demo_app_passes_with_no_high_finding() {
    let (code, report) = audit("moat.json", "demo-frontend");
    assert_eq!(report["high"], 0, "{report:#}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_bad_app_gets_each_finding_at_its_place() {
    let (code, report) = audit(
        "tests/fixtures/bad-app/moat.json",
        "tests/fixtures/bad-app/www",
    );
    assert_eq!(code, Some(1), "high findings fail the audit");
    let findings = report["findings"].as_array().unwrap();
    let has = |severity: &str, code: &str, place: &str| {
        assert!(
            findings
                .iter()
                .any(|f| f["severity"] == severity && f["code"] == code && f["place"] == place),
            "missing {severity} {code} at {place}:\n{report:#}"
        );
    };
    has("high", "csp-wildcard", "moat.json: csp (default-src)");
    has("high", "csp-unsafe", "moat.json: csp (default-src)");
    has("high", "csp-unsafe", "moat.json: csp (script-src)");
    has("high", "csp-wildcard", "moat.json: csp (script-src)");
    has("high", "csp-insecure-scheme", "moat.json: csp (script-src)");
    has(
        "high",
        "csp-insecure-scheme",
        "moat.json: csp (connect-src)",
    );
    has("medium", "csp-wildcard", "moat.json: csp (img-src)");
    has(
        "medium",
        "csp-modification-off",
        "moat.json: dangerous.disableCspModification",
    );
    has(
        "high",
        "sandbox-off",
        "moat.json: dangerous.disableWebProcessSandbox",
    );
    has(
        "high",
        "confinement-off",
        "moat.json: dangerous.disableKernelConfinement",
    );
    has("medium", "devtools", "moat.json: devtools");
    has("medium", "no-hooks", "moat.json: isolation.hooks");
    has("low", "allowlist-all", "moat.json: allowlist.commands");
    has("low", "permission-granted", "moat.json: permissions");
    has(
        "low",
        "single-instance-off",
        "moat.json: launch.singleInstance",
    );
    has("low", "large-messages", "moat.json: limits.maxMessageBytes");
    has(
        "medium",
        "no-rate-limit",
        "moat.json: limits.maxCallsPerSecond",
    );
    has(
        "low",
        "rate-limit-raised",
        "moat.json: limits.maxOpensPerMinute",
    );
    has(
        "medium",
        "shell-env-loader",
        "moat.json: scope.shell[1].env.LD_PRELOAD",
    );
    // Built-in modules.
    has(
        "high",
        "allowlist-module-all",
        "moat.json: allowlist.fs.all",
    );
    has(
        "high",
        "allowlist-module-all",
        "moat.json: allowlist.shell.all",
    );
    has(
        "low",
        "store-every-key",
        "moat.json: allowlist.store.read[0]",
    );
    has(
        "medium",
        "store-every-key",
        "moat.json: allowlist.store.write[1]",
    );
    has("high", "scope-reaches-home", "moat.json: scope.fs.allow[1]");
    has("high", "scope-reaches-root", "moat.json: scope.fs.allow[2]");
    has(
        "high",
        "scope-reaches-home",
        "moat.json: scope.asset.allow[0]",
    );
    has("high", "shell-interpreter", "moat.json: scope.shell[0].cmd");
    has("high", "shell-any-args", "moat.json: scope.shell[1].args");
    has(
        "high",
        "shell-validator-any",
        "moat.json: scope.shell[2].args[0].validator",
    );
    has(
        "high",
        "open-insecure-scheme",
        "moat.json: scope.open.allow[1]",
    );
    has("high", "open-any-host", "moat.json: scope.open.allow[1]");
    has(
        "high",
        "http-insecure-scheme",
        "moat.json: scope.http.allow[1]",
    );
    has("high", "http-any-host", "moat.json: scope.http.allow[2]");
    has(
        "medium",
        "http-insecure-scheme",
        "moat.json: scope.http.allow[3]",
    );
    has("low", "url-local-address", "moat.json: scope.http.allow[3]");
    has(
        "medium",
        "url-local-address",
        "moat.json: scope.http.allow[4]",
    );
    has(
        "medium",
        "http-private-network",
        "moat.json: scope.http.privateNetwork",
    );
    // What is scoped well is not a finding.
    for clean in [
        "moat.json: scope.fs.allow[0]",
        "moat.json: scope.fs.allow[3]",
        "moat.json: scope.open.allow[0]",
        "moat.json: scope.http.allow[0]",
    ] {
        assert!(
            !findings.iter().any(|f| f["place"] == clean),
            "finding at {clean}:\n{report:#}"
        );
    }
    has("high", "external-script-no-integrity", "index.html:4");
    has("info", "external-script", "index.html:5");
    has("medium", "inline-handler", "index.html:8");
    has("high", "insecure-content", "index.html:9");
    has("high", "insecure-content", "sub/page.html:2");
    has(
        "medium",
        "fs-scope-with-dialog",
        "moat.json: scope.fs.allow[1]",
    );
    // Each window's keys are audited at their place.
    has(
        "high",
        "allowlist-module-all",
        "moat.json: windows.twin.allowlist.fs.all",
    );
    has(
        "medium",
        "no-rate-limit",
        "moat.json: windows.twin.limits.maxPendingCalls",
    );
    has(
        "medium",
        "no-hooks",
        "moat.json: windows.twin.isolation.hooks",
    );
    has(
        "low",
        "window-allowlist-repeats-main",
        "moat.json: windows.twin.allowlist",
    );
    // An untrusted view that may go anywhere.
    has(
        "high",
        "view-navigate-wide",
        "moat.json: windows.signin.navigate[0]",
    );
    has(
        "medium",
        "view-navigate-wide",
        "moat.json: windows.signin.navigate[1]",
    );
    has(
        "low",
        "view-navigate-wide",
        "moat.json: windows.signin.navigate[2]",
    );
    assert!(
        !findings.iter().any(|f| f["place"]
            .as_str()
            .is_some_and(|p| p.contains("windows.docs"))),
        "a view held to its own origin is not a finding:\n{report:#}"
    );
}

#[test]
fn an_invalid_config_is_a_high_finding_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("moat.json");
    std::fs::write(&cfg, r#"{"identifier":"a.b","title":"t","csp":5}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_moat-demo"))
        .args(["audit", "--json", "--config"])
        .arg(&cfg)
        .arg("--frontend")
        .arg(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"][0]["code"], "config-invalid");
    assert_eq!(report["findings"][0]["place"], "moat.json: csp");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn hooks_that_would_not_load_are_high_findings_at_their_line() {
    let hooks = ["--hooks", "tests/fixtures/bad-hooks/hooks"];
    let (code, report) = audit_with(
        "tests/fixtures/bad-hooks/moat.json",
        "tests/fixtures/bad-hooks/www",
        &hooks,
    );
    assert_eq!(code, Some(1), "{report:#}");
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "hook-invalid")
        .unwrap_or_else(|| panic!("no hook-invalid finding:\n{report:#}"));
    assert_eq!(f["severity"], "high");
    assert_eq!(f["place"], "hooks/lib/schemas.js:3");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "dialog-without-fs" && f["severity"] == "low"),
        "{report:#}"
    );
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("`zod`") && message.contains("./vendor/zod.js"),
        "{message}"
    );

    let (code, report) = audit_with(
        "tests/fixtures/bad-hooks/moat-missing.json",
        "tests/fixtures/bad-hooks/www",
        &hooks,
    );
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "hook-missing"
                && f["place"] == "moat-missing.json: isolation.hooks[1]"),
        "{report:#}"
    );
}

#[test]
fn the_binary_answers_help_and_version() {
    let run = |arg: &str| {
        Command::new(env!("CARGO_BIN_EXE_moat-demo"))
            .arg(arg)
            .output()
            .expect("spawn moat-demo")
    };
    let help = run("--help");
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("moat-demo audit [--config FILE]") && text.contains("--version"),
        "{text}"
    );
    let version = run("--version");
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        concat!("moat-demo ", env!("CARGO_PKG_VERSION"), " (Moat 0.1.0)")
    );
}

/// CVE-2026-95626 (Tauri): `data:` or `blob:` among the script sources
/// lets any script run, nonce or not. Moat's own policy never has them; an
/// app's that does is a high finding, and the audit fails.
#[test]
fn a_script_source_of_data_or_blob_is_a_high_finding() {
    for source in ["data:", "blob:"] {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("moat.json");
        std::fs::write(
            &config,
            format!(
                r#"{{ "identifier": "dev.moat.audited", "title": "t", "csp": "default-src 'self'; script-src 'self' {source}" }}"#
            ),
        )
        .unwrap();
        let (code, report) = audit(config.to_str().unwrap(), "demo-frontend");
        assert_eq!(code, Some(1), "{report:#}");
        let found = report["findings"].as_array().unwrap().iter().any(|f| {
            f["severity"] == "high"
                && f["code"] == "csp-wildcard"
                && f["place"] == "moat.json: csp (script-src)"
        });
        assert!(found, "{source}: {report:#}");
    }
}
