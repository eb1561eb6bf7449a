//! Scopes: which files, URLs and programs the built-in modules may touch.
//!
//! A scope is compiled once at startup from `moat.json` (`scope.*`), after
//! the base-directory variables (`$APPDATA`, `$HOME`, …) are resolved. Deny
//! patterns always win over allow patterns; an empty allow list allows
//! nothing. Untrusted input (a path, URL or argument from the page) is only
//! ever *matched*, never compiled into a pattern, so glob or regex
//! characters in it cannot widen a scope.

// No file-system checks by path in here: see clippy.toml.
#![deny(clippy::disallowed_methods)]

pub(crate) mod base;
pub(crate) mod error;
pub(crate) mod path;
#[cfg(target_os = "linux")]
pub(crate) mod path_linux;
#[cfg(target_os = "linux")]
pub(crate) mod process_linux;
pub(crate) mod shell;
pub(crate) mod url;

use crate::config::{ConfigError, ScopeConfig};

pub(crate) use base::BaseDirs;

/// Every compiled scope of the app.
#[derive(Debug)]
pub(crate) struct Scopes {
    pub(crate) fs: path::PathScope,
    pub(crate) asset: path::PathScope,
    pub(crate) http: url::UrlScope,
    pub(crate) open: url::UrlScope,
    pub(crate) shell: shell::ShellScope,
}

impl Scopes {
    /// Compiles `config` against `dirs`. A bad glob, regex, URL pattern or
    /// unknown variable fails with the key's path.
    pub(crate) fn compile(config: &ScopeConfig, dirs: &BaseDirs) -> Result<Self, ConfigError> {
        Ok(Self {
            fs: path::PathScope::compile("scope.fs", &config.fs, dirs)?,
            asset: path::PathScope::compile("scope.asset", &config.asset, dirs)?,
            http: url::UrlScope::compile("scope.http", &config.http, url::Kind::Http)?,
            open: url::UrlScope::compile("scope.open", &config.open, url::Kind::Open)?,
            shell: shell::ShellScope::compile("scope.shell", &config.shell, dirs)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn bad_scopes_are_refused_at_startup_with_their_key() {
        for (scope, path) in [
            (
                r#"{"fs":{"allow":["$APPDATA/**","$NOPE/*"]}}"#,
                "scope.fs.allow[1]",
            ),
            (
                r#"{"asset":{"deny":["relative/**"]}}"#,
                "scope.asset.deny[0]",
            ),
            (
                r#"{"http":{"allow":["ftp://x/**"]}}"#,
                "scope.http.allow[0]",
            ),
            (
                r#"{"open":{"allow":["file:///**"]}}"#,
                "scope.open.allow[0]",
            ),
            (
                r#"{"shell":[{"name":"x","cmd":"x","args":[{"validator":"["}]}]}"#,
                "scope.shell[0].args[0].validator",
            ),
        ] {
            let json = format!(r#"{{"identifier":"a.b","title":"T","scope":{scope}}}"#);
            let config = Settings::from_json(&json).unwrap();
            let e = Scopes::compile(&config.scope, &BaseDirs::fixed(std::path::Path::new("/")))
                .unwrap_err();
            assert_eq!(e.path, path, "{scope}");
        }
        // An unknown key is the parser's, before any compiling.
        let json = r#"{"identifier":"a.b","title":"T","scope":{"fs":{"allow":[],"rules":[]}}}"#;
        assert_eq!(
            Settings::from_json(json).unwrap_err().path,
            "scope.fs.rules"
        );
    }
}
