//! What the kernel says about an open descriptor, on Linux: the path it
//! has for it, and a path that reaches it whatever happens to its name.
//! Both go through `/proc/self/fd`, which a port replaces (`F_GETPATH` on
//! macOS, `GetFinalPathNameByHandle` on Windows; see `docs/platforms.md`).

use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;

/// The path the kernel has for an open descriptor.
pub(crate) fn fd_path(f: &File) -> std::io::Result<PathBuf> {
    std::fs::read_link(via_fd(f))
}

/// A path that reaches the file `f` has open, whatever happens to its name
/// (valid while `f` is open).
pub(crate) fn via_fd(f: &File) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", f.as_raw_fd()))
}
