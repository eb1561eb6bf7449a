//! The isolation pattern's core side: the per-load key, the envelope format,
//! the anti-replay window, the isolation document that carries the key
//! into the sandboxed frame, and the check of the app's hooks.

pub(crate) mod document;
pub(crate) mod envelope;
pub(crate) mod hooks;
pub(crate) mod key;
pub(crate) mod replay;
pub(crate) mod session;
