//! Calls from the page: their wire types, the two transports, command
//! registration and dispatch, and the one map from failures to wire codes.
//! Files named `*_linux.rs` are the WebKitGTK halves of the transports.

pub(crate) mod args;
pub(crate) mod bytes;
pub(crate) mod call;
pub(crate) mod command;
pub(crate) mod core;
pub(crate) mod error;
pub(crate) mod fetch;
#[cfg(target_os = "linux")]
pub(crate) mod fetch_linux;
pub(crate) mod frame_report;
pub(crate) mod limits;
pub(crate) mod named;
pub(crate) mod pending;
pub(crate) mod post;
pub(crate) mod push;
pub(crate) mod rate;
pub(crate) mod refusals;
pub(crate) mod reply;
#[cfg(target_os = "linux")]
#[allow(
    unsafe_code,
    reason = "FFI webkit2gtk-rs does not bind; each block has its SAFETY comment"
)]
pub(crate) mod script_message_linux;
pub(crate) mod windows;
