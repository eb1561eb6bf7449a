//! Calls from the page: their wire types, the IPC endpoint, command
//! registration and dispatch, and the one map from failures to wire codes.

pub(crate) mod args;
pub(crate) mod call;
pub(crate) mod command;
pub(crate) mod error;
pub(crate) mod raw;
pub(crate) mod transport;
