//! The call's wire format: the call, its arguments (named, with bytes),
//! the frame's own reports, and the one map from failures to wire codes.

pub(crate) mod args;
pub(crate) mod bytes;
pub(crate) mod call;
pub(crate) mod error;
pub(crate) mod frame_report;
pub(crate) mod named;
