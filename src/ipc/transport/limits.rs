//! Sizes the transports and the page-side scripts agree on, defined once.

/// Envelopes up to this size leave the isolation frame straight for the core
/// as base64 text in one script message; larger ones go back to the bridge
/// (a transferred `ArrayBuffer`) and reach the core as a binary `fetch`
/// body. Below it, base64 in one message costs less than a second request;
/// above it, the text encoding costs more (`docs/webkitgtk.md`). The frame
/// is told this value at boot (`isolation.js`, `boot.inlineMax`).
pub(crate) const INLINE_ENVELOPE_MAX: usize = 32 * 1024;

/// Envelopes the frame sends to the core in one script message, at most
/// (it batches the calls sealed while others are in flight). Bounds what
/// the core holds for one message (its envelopes and their answers)
/// however many calls a page makes at once: at most this many inline
/// envelopes. The frame is told it at boot (`boot.batchMax`).
pub(crate) const BATCH_MAX: usize = 64;

/// Replies up to this size in all ride in the transport's own answer (the
/// promise of a script message with reply, or the `ipc://` response body);
/// larger ones are evaluated as a script in the main frame, which WebKitGTK
/// delivers faster for large strings than a response body it feeds the
/// page in small chunks (`docs/webkitgtk.md`).
pub(crate) const INLINE_REPLY_MAX: usize = 64 * 1024;
