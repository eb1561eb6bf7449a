//! Built-in API modules: `fs`, `shell` (`execute`, `open`) and `http`, each
//! a set of dedicated commands named `module.function` ([`Builtin`]), and
//! the state they share ([`Api`]).
//!
//! Least authority, in three layers: a module is compiled in only with its
//! cargo feature (`api-fs`, `api-shell`, `api-http`); a function is callable
//! only when `allowlist.<module>` turns it on (otherwise `not_allowed`);
//! every path, URL, program and argument is checked against `scope.<module>`
//! (otherwise `scope_denied`). A config that allows a module the binary was
//! built without stops at startup rather than failing at call time.

#[cfg(feature = "api-dialog")]
pub(crate) mod dialog;
#[cfg(feature = "api-fs")]
mod fs;
#[cfg(feature = "api-http")]
mod http;
#[cfg(feature = "api-secrets")]
pub(crate) mod secrets;
#[cfg(feature = "api-shell")]
pub(crate) mod shell;
#[cfg(feature = "api-shell")]
mod spawn;
pub(crate) mod store;

pub(crate) mod builtin;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use self::builtin::Builtin;
use crate::config::Limits;
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
    pub(crate) timeout: Duration,
    /// `limits.maxOpensPerMinute`, if on.
    pub(crate) open_rate: Option<RateLimit>,
    /// `limits.maxExecutesPerMinute`, if on.
    pub(crate) execute_rate: Option<RateLimit>,
    /// The file chooser and what it granted.
    #[cfg(feature = "api-dialog")]
    pub(crate) dialogs: dialog::Dialogs,
    /// The unconfined thread for the grants and the opener
    /// (`confine::broker`).
    pub(crate) broker: crate::confine::broker::Broker,
    /// What this window reaches of the app's settings store, if anything.
    pub(crate) store: Option<Arc<store::Access>>,
    /// What this window reaches of the user's keyring, if anything.
    #[cfg(feature = "api-secrets")]
    pub(crate) secrets: Option<Arc<secrets::Access>>,
}

impl Api {
    /// The built-ins' shared state: `scopes` compiled at startup, the
    /// system opener found at startup (if any), and the limits.
    pub(crate) fn new(scopes: Scopes, limits: &Limits, opener: Option<PathBuf>) -> Self {
        let per_minute = |n: u32| RateLimit::new(n, Duration::from_secs(60));
        Self {
            scopes,
            opener,
            max_bytes: limits.max_message_bytes,
            timeout: Duration::from_millis(limits.call_timeout_ms),
            open_rate: limits.max_opens_per_minute.map(per_minute),
            execute_rate: limits.max_executes_per_minute.map(per_minute),
            #[cfg(feature = "api-dialog")]
            dialogs: dialog::Dialogs::default(),
            broker: crate::confine::broker::Broker::start(),
            store: None,
            #[cfg(feature = "api-secrets")]
            secrets: None,
        }
    }

    /// Runs the fs operation `op` where the request belongs: under
    /// `scope.fs` on this (confined) thread; when that refuses the path and
    /// the page load `epoch` holds grants (what the user picked in a file
    /// chooser), under the grants alone (and `scope.fs`'s deny patterns) on
    /// the broker, which the kernel does not confine (`confine::broker`).
    #[cfg_attr(
        not(feature = "api-fs"),
        allow(dead_code, reason = "only the fs commands run under a scope")
    )]
    pub(crate) fn in_fs_scope<R, F>(
        self: &Arc<Self>,
        _epoch: u64,
        op: F,
    ) -> Result<R, crate::scope::error::ScopeError>
    where
        R: Send + 'static,
        F: Fn(&Api, &crate::scope::path::PathScope) -> Result<R, crate::scope::error::ScopeError>
            + Send
            + 'static,
    {
        let configured = op(self, &self.scopes.fs);
        #[cfg(feature = "api-dialog")]
        if let Err(crate::scope::error::ScopeError::PathDenied { .. }) = &configured {
            if let Some(granted) = self.dialogs.granted(&self.scopes.fs, _epoch) {
                let api = Arc::clone(self);
                return self
                    .broker
                    .run(move || op(&api, &granted))
                    .unwrap_or(configured);
            }
        }
        configured
    }

    /// Takes one of `function`'s tokens, or refuses with `rate_limited`.
    #[cfg_attr(
        not(feature = "api-shell"),
        allow(
            dead_code,
            reason = "only the shell commands are rate limited per minute"
        )
    )]
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

/// The compiled-in built-in commands, allowed or not: a call to one the
/// allowlist does not turn on is `not_allowed`, not `unknown_command`.
pub(crate) fn commands(_api: &Arc<Api>) -> Commands {
    [
        #[cfg(feature = "api-fs")]
        fs::commands(_api),
        #[cfg(feature = "api-shell")]
        shell::commands(_api),
        #[cfg(feature = "api-shell")]
        spawn::commands(_api),
        #[cfg(feature = "api-http")]
        http::commands(_api),
        #[cfg(feature = "api-dialog")]
        dialog::commands(_api),
        #[cfg(feature = "api-store")]
        store::commands(_api.store.clone()),
        #[cfg(feature = "api-secrets")]
        secrets::commands(_api.secrets.clone()),
    ]
    .into_iter()
    .fold(Commands::new(), Commands::merge)
}

/// Whether the scope of `b` allows nothing (every call would be refused).
pub(crate) fn scope_is_empty(b: Builtin, scopes: &Scopes) -> bool {
    match b {
        Builtin::ReadTextFile
        | Builtin::WriteTextFile
        | Builtin::ReadFile
        | Builtin::WriteFile
        | Builtin::ReadDir
        | Builtin::RemoveFile => scopes.fs.is_empty(),
        Builtin::Execute | Builtin::Spawn | Builtin::Kill | Builtin::Write => {
            scopes.shell.entries.is_empty()
        }
        Builtin::Open => scopes.open.allow.is_empty(),
        Builtin::Fetch => scopes.http.allow.is_empty(),
        // The user's pick is the scope.
        Builtin::DialogOpen | Builtin::DialogSave => false,
        // Their allowlist entries are the scope (non-empty when allowed).
        Builtin::StoreGet
        | Builtin::StoreSet
        | Builtin::StoreDelete
        | Builtin::StoreKeys
        | Builtin::SecretGet
        | Builtin::SecretSet
        | Builtin::SecretDelete => false,
        Builtin::Asset => scopes.asset.is_empty(),
    }
}

/// The app is exiting: every program the page started ends with it, with
/// everything it forked.
pub(crate) fn on_exit() {
    #[cfg(feature = "api-shell")]
    {
        crate::scope::process_linux::end_all();
        spawn::end_all(Duration::from_secs(1));
    }
}
