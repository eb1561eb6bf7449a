//! Why a built-in module refused or failed a call.
//!
//! The page is told what it asked for and which rule said no, never what
//! the path resolved to (a symlink's target is host information the page
//! did not have); the log gets both.

use std::path::PathBuf;

/// A refusal or failure of a scoped operation.
#[derive(Debug)]
pub(crate) enum ScopeError {
    /// The path or pattern is malformed: relative, `..`, NUL, unknown
    /// variable, not a regular file where one is needed.
    PathInvalid {
        requested: String,
        reason: String,
    },
    /// Resolved, and outside the module's scope (or inside a deny pattern).
    PathDenied {
        module: &'static str,
        requested: String,
        real: PathBuf,
    },
    /// A regular file with more than one hard link: its other names may
    /// be anywhere on the file system.
    HardLinked {
        module: &'static str,
        requested: String,
        real: PathBuf,
        links: u64,
    },
    NotFound {
        requested: String,
    },
    Io {
        requested: String,
        error: std::io::Error,
    },
    UrlInvalid {
        url: String,
        reason: String,
    },
    UrlDenied {
        module: &'static str,
        url: String,
    },
    /// A part of the URL Moat never passes (a `mailto:` list or `attach`,
    /// a `file:` scheme, …).
    UrlPartDenied {
        module: &'static str,
        url: String,
        reason: String,
    },
    /// The host reaches an address the scope does not allow (loopback,
    /// private, link-local, reserved), or one a deny pattern names.
    AddressDenied {
        module: &'static str,
        url: String,
        addr: std::net::IpAddr,
        reach: &'static str,
        /// A deny pattern names the address (rather than no allow pattern).
        denied: bool,
    },
    /// No `scope.shell` entry has this name.
    ProgramDenied {
        name: String,
    },
    /// An argument does not fit the entry's rules.
    ArgDenied {
        name: String,
        reason: String,
    },
    /// The program could not be started.
    Spawn {
        name: String,
        error: std::io::Error,
    },
    /// A request header the page may not set.
    HeaderDenied {
        name: String,
        reason: &'static str,
    },
    /// More calls of a built-in that acts outside the app than its limit
    /// allows (`limits.maxOpensPerMinute`, `limits.maxExecutesPerMinute`).
    RateLimited {
        function: &'static str,
        per_minute: u32,
    },
    /// The request was sent and failed (connection, TLS, redirects).
    Http {
        url: String,
        reason: String,
    },
    /// A named limit of a built-in (`store.maxValueBytes`, …).
    Limit {
        name: &'static str,
        max: usize,
        got: usize,
    },
    /// A store key or secret name the window's allowlist does not give
    /// it (`how`: read or write), or not a valid name.
    KeyDenied {
        key: String,
        what: &'static str,
        how: &'static str,
    },
    /// The service a built-in needs is not there (no Secret Service, a
    /// locked keyring not unlocked).
    Unavailable {
        what: &'static str,
        reason: String,
    },
    /// A window the page may not open (not declared, not in its
    /// `allowlist.windows`, the main window).
    WindowDenied {
        label: String,
        reason: String,
    },
    /// A bounded queue in front of `what` stayed full for as long as a call
    /// may wait for room.
    Busy {
        what: String,
        reason: String,
    },
}

impl ScopeError {
    /// The stable wire code.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            ScopeError::PathInvalid { .. } => "path_invalid",
            ScopeError::PathDenied { .. }
            | ScopeError::HardLinked { .. }
            | ScopeError::UrlDenied { .. }
            | ScopeError::UrlPartDenied { .. }
            | ScopeError::AddressDenied { .. }
            | ScopeError::ProgramDenied { .. }
            | ScopeError::ArgDenied { .. }
            | ScopeError::HeaderDenied { .. }
            | ScopeError::WindowDenied { .. }
            | ScopeError::KeyDenied { .. } => "scope_denied",
            ScopeError::Limit { .. } => "limit_exceeded",
            ScopeError::Unavailable { .. } => "unavailable",
            ScopeError::NotFound { .. } => "not_found",
            ScopeError::Io { .. } | ScopeError::Spawn { .. } => "io_failed",
            ScopeError::UrlInvalid { .. } => "url_invalid",
            ScopeError::RateLimited { .. } => "rate_limited",
            ScopeError::Http { .. } => "http_failed",
            ScopeError::Busy { .. } => "busy",
        }
    }

    /// Whether the request was outside a rule (a refusal), rather than
    /// failing while doing the work (`not_found`, `io_failed`,
    /// `http_failed`).
    pub(crate) fn is_refusal(&self) -> bool {
        !matches!(
            self,
            ScopeError::NotFound { .. }
                | ScopeError::Io { .. }
                | ScopeError::Spawn { .. }
                | ScopeError::Http { .. }
                | ScopeError::Unavailable { .. }
        )
    }

    /// What the page may read: only what it sent, and the rule.
    pub(crate) fn page_message(&self) -> String {
        match self {
            ScopeError::PathInvalid { requested, reason } => {
                format!("path `{requested}` {reason}")
            }
            ScopeError::PathDenied {
                module, requested, ..
            } => format!("path `{requested}` is outside the {module} scope"),
            ScopeError::HardLinked {
                module, requested, ..
            } => format!(
                "path `{requested}` has more than one hard link; its other names may be outside the {module} scope, so it is not read"
            ),
            ScopeError::NotFound { requested } => format!("`{requested}` does not exist"),
            ScopeError::Io { requested, error } => {
                format!("`{requested}`: {}", error.kind())
            }
            ScopeError::UrlInvalid { url, reason } => format!("URL `{url}` {reason}"),
            ScopeError::UrlDenied { module, url } => {
                format!("URL `{url}` is outside the {module} scope")
            }
            ScopeError::UrlPartDenied {
                module,
                url,
                reason,
            } => format!("URL `{url}` is refused by the {module} scope: {reason}"),
            ScopeError::AddressDenied {
                module,
                url,
                reach,
                ..
            } => format!("URL `{url}` reaches {reach}, which the {module} scope does not allow"),
            ScopeError::ProgramDenied { name } => {
                format!("no program named `{name}` in the shell scope")
            }
            ScopeError::ArgDenied { name, reason } => {
                format!("arguments for `{name}` refused: {reason}")
            }
            ScopeError::Spawn { name, error } => {
                format!("`{name}` could not be started: {}", error.kind())
            }
            ScopeError::HeaderDenied { name, reason } => format!("header `{name}` {reason}"),
            ScopeError::RateLimited {
                function,
                per_minute,
            } => format!("more than {per_minute} {function} calls per minute; try again later"),
            ScopeError::Http { url, reason } => format!("request to `{url}` failed: {reason}"),
            ScopeError::Limit { name, max, got } => {
                format!("{name} is {max}: this would be {got}")
            }
            ScopeError::KeyDenied { key, what, how } => {
                format!("{what} `{key}` is not one this window may {how}")
            }
            ScopeError::Unavailable { what, reason } => format!("{what} is unavailable: {reason}"),
            ScopeError::WindowDenied { label, reason } => {
                format!("window `{label}` may not be opened: {reason}")
            }
            ScopeError::Busy { what, reason } => format!("{what} is busy: {reason}"),
        }
    }

    /// What the log gets.
    pub(crate) fn detail(&self) -> String {
        match self {
            ScopeError::PathDenied {
                module,
                requested,
                real,
            } => format!("{requested:?} resolves to {real:?}, outside the {module} scope"),
            ScopeError::HardLinked {
                module,
                requested,
                real,
                links,
            } => format!("{requested:?} ({real:?}) has {links} hard links; not read through the {module} scope"),
            ScopeError::Io { requested, error } => format!("{requested:?}: {error}"),
            ScopeError::AddressDenied {
                module,
                url,
                addr,
                reach,
                denied,
            } => format!(
                "{url:?} connects to {addr} ({reach}); {}",
                if *denied {
                    format!("a {module} deny pattern names it")
                } else {
                    format!("no {module} allow pattern names it")
                }
            ),
            ScopeError::Spawn { name, error } => format!("{name:?}: {error}"),
            other => other.page_message(),
        }
    }
}

impl ScopeError {
    /// Maps an I/O error on `requested` to `not_found` or `io_failed`.
    pub(crate) fn io(requested: &str, error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::NotFound {
            ScopeError::NotFound {
                requested: requested.to_owned(),
            }
        } else {
            ScopeError::Io {
                requested: requested.to_owned(),
                error,
            }
        }
    }
}
