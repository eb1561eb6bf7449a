//! Everything that can stop a call, and the one mapping from those reasons to
//! what the page is told.
//!
//! Two audiences (house style, item 5): the page gets a stable `code` and a
//! short message that reveals no internal state — no key bytes, no plaintext,
//! no host paths, nothing that says which part of a forged envelope was
//! wrong. The full reason goes to the `tracing` event.

use serde::Serialize;

use crate::isolation::envelope::EnvelopeError;
use crate::isolation::replay::ReplayError;

/// Why a call was refused or failed, in the core.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The request did not come from the app's own origin.
    BadOrigin {
        origin: Option<String>,
    },
    /// More calls than `limits.maxCallsPerSecond` allows.
    RateLimited {
        per_sec: u32,
    },
    /// More work waiting in the core than a bound allows: calls of this
    /// page load (`limits.maxPendingCalls`), of gone page loads, or reply
    /// bytes not yet fetched.
    Busy {
        max: usize,
        with: Busy,
    },
    /// The body is not an envelope in this format.
    NotAnEnvelope(EnvelopeError),
    /// Not sealed under this page load's key.
    DecryptFailed,
    /// Sealed correctly, but its counter was already used or is too old.
    Replayed(ReplayError),
    /// Authentic, but the plaintext is not a call. Only a broken isolation
    /// script can produce this.
    BadCall(String),
    UnknownCommand {
        cmd: String,
    },
    /// Registered, but the app's allowlist does not let the page call it.
    NotAllowed {
        cmd: String,
    },
    BadArgs(ArgsError),
    /// The handler panicked or its result could not be serialised.
    HandlerFailed(String),
    /// A built-in module refused or failed: outside its scope, not found, …
    Scope(crate::scope::error::ScopeError),
    /// The handler returned its own error value; it reaches the page as
    /// `data`, verbatim, so the app decides what it reveals.
    App(serde_json::Value),
}

/// Which bound a `busy` call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Busy {
    /// `limits.maxPendingCalls` calls of this page load are running.
    ThisPage,
    /// Calls of gone page loads are still running, as many as they may.
    EarlierPages,
    /// Reply bytes waiting for the page to fetch them fill the store.
    ReplyBytes,
}

/// Why the arguments did not fit the command's type. These messages describe
/// only what the page itself sent, so they go to the page as they are.
#[derive(Debug)]
pub(crate) enum ArgsError {
    UnknownField {
        field: String,
        expected: Vec<&'static str>,
    },
    /// An array or a single value where an object with named keys belongs.
    NotAnObject,
    Invalid(String),
}

impl std::fmt::Display for ArgsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArgsError::UnknownField { field, expected } if expected.is_empty() => {
                write!(
                    f,
                    "unknown field `{field}`, this command takes no arguments"
                )
            }
            ArgsError::UnknownField { field, expected } => {
                let list: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
                write!(
                    f,
                    "unknown field `{field}`, expected one of {}",
                    list.join(", ")
                )
            }
            ArgsError::NotAnObject => f.write_str(
                "arguments must be an object with named keys, e.g. {\"name\": …}, not an array or a single value",
            ),
            ArgsError::Invalid(m) => f.write_str(m),
        }
    }
}

impl CallError {
    /// Whether the request was turned away for what it asked (counted in
    /// `refusals`), rather than failed while doing the work.
    pub(crate) fn is_refusal(&self) -> bool {
        match self {
            CallError::App(_) | CallError::HandlerFailed(_) => false,
            CallError::Scope(e) => e.is_refusal(),
            _ => true,
        }
    }

    /// The stable wire code. Adding a code is fine; renaming one breaks apps.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            CallError::BadOrigin { .. } => "bad_origin",
            CallError::RateLimited { .. } => "rate_limited",
            CallError::Busy { .. } => "busy",
            CallError::NotAnEnvelope(_) => "not_an_envelope",
            CallError::DecryptFailed => "decrypt_failed",
            CallError::Replayed(_) => "replayed",
            CallError::BadCall(_) => "bad_call",
            CallError::UnknownCommand { .. } => "unknown_command",
            CallError::NotAllowed { .. } => "not_allowed",
            CallError::BadArgs(_) => "bad_args",
            CallError::HandlerFailed(_) => "handler_failed",
            CallError::Scope(e) => e.code(),
            CallError::App(_) => "app",
        }
    }

    /// What the page may read.
    fn page_message(&self) -> String {
        match self {
            CallError::BadOrigin { .. } => "request did not come from the app's origin".into(),
            CallError::Busy { max, with: Busy::ThisPage } => {
                format!("{max} calls are still running; try again when some have finished")
            }
            CallError::Busy { max, with: Busy::EarlierPages } => format!(
                "{max} calls of earlier page loads are still running; try again when some have finished"
            ),
            CallError::Busy { max, with: Busy::ReplyBytes } => format!(
                "{max} bytes of replies are waiting to be fetched; the reply was dropped, try again later"
            ),
            CallError::RateLimited { per_sec } => {
                format!("more than {per_sec} calls per second; try again later")
            }
            CallError::NotAnEnvelope(_) => "request is not a Moat envelope".into(),
            CallError::DecryptFailed => "envelope did not decrypt under this page's key".into(),
            CallError::Replayed(_) => "envelope was already used".into(),
            CallError::BadCall(_) => "envelope does not contain a call".into(),
            // The page sent this name itself; echoing it back leaks nothing.
            CallError::UnknownCommand { cmd } => format!("no command named `{cmd}`"),
            CallError::NotAllowed { cmd } => format!("command `{cmd}` is not allowed"),
            CallError::BadArgs(e) => e.to_string(),
            CallError::HandlerFailed(_) => "the command failed unexpectedly".into(),
            CallError::Scope(e) => e.page_message(),
            CallError::App(_) => "the command returned an error".into(),
        }
    }

    /// What the log gets: everything but secrets and plaintext.
    pub(crate) fn detail(&self) -> String {
        match self {
            CallError::BadOrigin { origin } => format!("origin {origin:?} is not the app's"),
            CallError::NotAnEnvelope(e) => e.to_string(),
            CallError::DecryptFailed => "AEAD open failed".into(),
            CallError::Replayed(e) => e.to_string(),
            CallError::BadCall(e) => e.clone(),
            CallError::HandlerFailed(e) => e.clone(),
            CallError::Scope(e) => e.detail(),
            other => other.page_message(),
        }
    }

    /// The reply body the page receives.
    pub(crate) fn to_wire(&self) -> WireError {
        WireError {
            code: self.code(),
            message: self.page_message(),
            data: match self {
                CallError::App(v) => Some(v.clone()),
                _ => None,
            },
        }
    }
}

/// `{"code": …, "message": …, "data"?: …}`; the bridge turns it into a
/// `MoatError`.
#[derive(Debug, Serialize)]
pub(crate) struct WireError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_message_for_crypto_failures_reveals_nothing_specific() {
        let a = CallError::DecryptFailed.to_wire();
        let b = CallError::NotAnEnvelope(EnvelopeError::TooShort { len: 3 }).to_wire();
        assert_eq!(a.code, "decrypt_failed");
        assert!(!b.message.contains('3'), "{}", b.message);
    }

    #[test]
    fn refusals_are_what_was_asked_failures_are_the_work() {
        use crate::scope::error::ScopeError;
        let refused = [
            CallError::DecryptFailed,
            CallError::BadCall("x".into()),
            CallError::Busy {
                max: 1,
                with: Busy::ThisPage,
            },
            CallError::UnknownCommand { cmd: "x".into() },
            CallError::Scope(ScopeError::PathDenied {
                module: "fs",
                requested: "/x".into(),
                real: "/x".into(),
            }),
        ];
        for e in refused {
            assert!(e.is_refusal(), "{}", e.code());
        }
        let failed = [
            CallError::App(serde_json::Value::Null),
            CallError::HandlerFailed("boom".into()),
            CallError::Scope(ScopeError::NotFound {
                requested: "/x".into(),
            }),
            CallError::Scope(ScopeError::Io {
                requested: "/x".into(),
                error: std::io::Error::other("disk full"),
            }),
        ];
        for e in failed {
            assert!(!e.is_refusal(), "{}", e.code());
        }
    }

    #[test]
    fn app_error_keeps_its_data() {
        let w = CallError::App(serde_json::json!({"kind": "quota"})).to_wire();
        assert_eq!(w.code, "app");
        assert_eq!(w.data, Some(serde_json::json!({"kind": "quota"})));
    }

    #[test]
    fn unknown_field_lists_expected_ones() {
        let e = ArgsError::UnknownField {
            field: "Name".into(),
            expected: vec!["name"],
        };
        assert_eq!(
            e.to_string(),
            "unknown field `Name`, expected one of `name`"
        );
    }
}
