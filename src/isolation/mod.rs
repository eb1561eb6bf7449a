//! The isolation pattern's core side: the per-load key, the envelope format,
//! the anti-replay window and the isolation document that carries the key
//! into the sandboxed frame.

pub(crate) mod document;
pub(crate) mod envelope;
pub(crate) mod key;
pub(crate) mod replay;
pub(crate) mod session;
