//! How envelopes and replies cross between the isolation frame and the
//! core, and the sizes both sides agree on.

pub(crate) mod fetch;
#[cfg(target_os = "linux")]
pub(crate) mod fetch_linux;
pub(crate) mod limits;
pub(crate) mod post;
pub(crate) mod reply;
#[cfg(target_os = "linux")]
#[allow(
    unsafe_code,
    reason = "FFI webkit2gtk-rs does not bind; each block has its SAFETY comment"
)]
pub(crate) mod script_message_linux;
