//! Calls from the page, in four areas:
//! - `transport/`: how envelopes and replies cross between the isolation
//!   frame and the core (the script message with reply, `ipc://`, the reply
//!   scripts) and the sizes both sides agree on; `*_linux.rs` are the
//!   WebKitGTK halves;
//! - `wire/`: the call's wire format (the call, its arguments, bytes, the
//!   frame's reports) and the one map from failures to wire codes;
//!   `large` the large buffers of a call, on huge pages;
//! - admission and dispatch: `core` (the one path every call takes),
//!   `command` (registration), `hop` (the confined thread posted calls
//!   start on), `pending` and `rate` (limits), `refusals`;
//! - push and windows: `push` (events and channels), `windows` (the
//!   declared and open windows).

pub(crate) mod command;
pub(crate) mod core;
pub(crate) mod hop;
pub(crate) mod large;
pub(crate) mod pending;
pub(crate) mod push;
pub(crate) mod rate;
pub(crate) mod refusals;
pub(crate) mod transport;
#[cfg(feature = "typescript")]
pub(crate) mod typescript;
pub(crate) mod windows;
pub(crate) mod wire;
