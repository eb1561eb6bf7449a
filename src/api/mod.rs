//! Built-in API modules: `fs`, `shell` (`execute`, `open`) and `http`, each
//! a set of dedicated commands named `module.function`.
//!
//! Least authority, in three layers: a module is compiled in only with its
//! cargo feature (`api-fs`, `api-shell`, `api-http`); a function is callable
//! only when `allowlist.<module>` turns it on (otherwise `not_allowed`);
//! every path, URL, program and argument is checked against `scope.<module>`
//! (otherwise `scope_denied`). A config that allows a module the binary was
//! built without stops at startup rather than failing at call time.

#[cfg(feature = "api-fs")]
mod fs;
#[cfg(feature = "api-http")]
mod http;
#[cfg(feature = "api-shell")]
pub(crate) mod shell;

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::error::Error;
use crate::ipc::command::Commands;
use crate::ipc::rate::RateLimit;
use crate::scope::Scopes;

/// What the built-in commands share.
#[derive(Debug)]
pub(crate) struct Api {
    pub(crate) scopes: Scopes,
    /// The program `shell.open` hands URLs to, found at startup; `None`
    /// when there is none (every `shell.open` is then `io_failed`).
    pub(crate) opener: Option<PathBuf>,
    /// Cap on a file read, a program's output and a response body: the
    /// reply must fit the same limit as a call.
    pub(crate) max_bytes: usize,
    /// How long a program or request may take.
    pub(crate) timeout: std::time::Duration,
    /// `limits.maxOpensPerMinute`, if on.
    pub(crate) open_rate: Option<RateLimit>,
    /// `limits.maxExecutesPerMinute`, if on.
    pub(crate) execute_rate: Option<RateLimit>,
}

impl Api {
    /// Takes one of `function`'s tokens, or refuses with `rate_limited`.
    #[cfg_attr(not(feature = "api-shell"), allow(dead_code))]
    pub(crate) fn take(
        rate: &Option<RateLimit>,
        function: &'static str,
    ) -> Result<(), crate::scope::error::ScopeError> {
        match rate {
            Some(r) if !r.take() => Err(crate::scope::error::ScopeError::RateLimited {
                function,
                per_minute: r.limit(),
            }),
            _ => Ok(()),
        }
    }
}

/// Every function of every module: (command name, cargo feature, compiled
/// in?, allowed?).
fn functions(config: &Config) -> [(&'static str, &'static str, bool, bool); 8] {
    let a = &config.allowlist;
    let fs = |f: bool| a.fs.all || f;
    let sh = |f: bool| a.shell.all || f;
    let (fs_on, shell_on, http_on, asset_on) = (
        cfg!(feature = "api-fs"),
        cfg!(feature = "api-shell"),
        cfg!(feature = "api-http"),
        cfg!(feature = "api-asset"),
    );
    [
        ("fs.read_text_file", "api-fs", fs_on, fs(a.fs.read_file)),
        ("fs.write_text_file", "api-fs", fs_on, fs(a.fs.write_file)),
        ("fs.read_dir", "api-fs", fs_on, fs(a.fs.read_dir)),
        ("fs.remove_file", "api-fs", fs_on, fs(a.fs.remove_file)),
        ("shell.execute", "api-shell", shell_on, sh(a.shell.execute)),
        ("shell.open", "api-shell", shell_on, sh(a.shell.open)),
        (
            "http.fetch",
            "api-http",
            http_on,
            a.http.all || a.http.fetch,
        ),
        ("asset", "api-asset", asset_on, a.asset),
    ]
}

/// The names of the built-in functions the config allows. Fails when one
/// needs a cargo feature this binary was built without.
pub(crate) fn allowed(config: &Config) -> Result<Vec<&'static str>, Error> {
    let mut out = Vec::new();
    for (name, feature, built, on) in functions(config) {
        if !on {
            continue;
        }
        if !built {
            return Err(Error::ModuleNotBuilt {
                function: name,
                feature,
            });
        }
        out.push(name);
    }
    Ok(out)
}

/// The compiled-in built-in commands, allowed or not: a call to one the
/// allowlist does not turn on is `not_allowed`, not `unknown_command`.
#[allow(unused_variables, unused_mut)]
pub(crate) fn commands(api: &Arc<Api>) -> Commands {
    let mut c = Commands::new();
    #[cfg(feature = "api-fs")]
    {
        c = c.merge(fs::commands(api));
    }
    #[cfg(feature = "api-shell")]
    {
        c = c.merge(shell::commands(api));
    }
    #[cfg(feature = "api-http")]
    {
        c = c.merge(http::commands(api));
    }
    c
}
