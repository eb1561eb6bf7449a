//! What the kernel lets command threads touch, derived from the config:
//! plain data, built once at startup, checked by unit tests without a
//! kernel (`landlock_linux.rs` turns it into a Landlock ruleset).
//!
//! Everything not listed here is refused by the kernel to every thread
//! that runs a command and to every program those threads start:
//! - the app's own directories (`$APPDATA`, `$APPCACHE`, `$APPCONFIG`,
//!   `$APPLOG`): read and write, never execute;
//! - each `scope.fs` root: read when a read function is allowed, write too
//!   when a write function is (read-only otherwise);
//! - each `scope.asset` root: read;
//! - the `scope.shell` programs and the programs their entries `runs`, and
//!   the interpreters that start them (the dynamic loader, a script's
//!   `#!` program): execute;
//! - read-only, what the built-ins and those programs need of the system:
//!   `/usr` and the library directories, the resolver's and TLS files in
//!   `/etc`, `/dev/null` (also written), `/dev/zero`, `/dev/urandom`;
//! - TCP `connect` (Landlock ABI 4 and up) only to the ports `scope.http`
//!   patterns name (their scheme's default when they name none, and DNS)
//!   and `confinement.tcpConnectPorts`; no TCP `bind` (a pattern with
//!   any port, `:*`, leaves `connect` unconfined);
//! - no abstract Unix socket of a process outside the confined threads'
//!   own programs (ABI 6 and up): not the X server's, not the session's.
//!   (Signals are not scoped: each thread is a domain of its own, and a
//!   program one thread started may be ended from another.)
//!
//! `/proc` is not listed: a confined program cannot read another
//! process's environment or command line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a path grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grant {
    /// Read files, list directories.
    Read,
    /// Read, and create, write, truncate and remove files (an atomic write
    /// makes a temp file and renames it over the target).
    ReadWrite,
    /// `ReadWrite`, and make and remove directories: the app's own.
    Own,
    /// Read a file and execute it.
    Execute,
    /// Read and write a device (`/dev/null`), no ioctl.
    Device,
}

/// The confinement the config asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Paths and what each grants beneath it (a file: itself).
    pub(crate) paths: Vec<(PathBuf, Grant)>,
    /// TCP ports command threads may connect to.
    pub(crate) tcp_connect: BTreeSet<u16>,
    /// A `scope.http` pattern takes any port (`:*`): TCP `connect` is then
    /// not confined, and startup says so.
    pub(crate) tcp_any: bool,
}

/// System files read by the built-ins (`http.fetch`'s resolver and TLS
/// roots) and by the programs they start (the dynamic loader's cache,
/// users, locale, time zone). Those missing on a machine are left out.
pub(crate) const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/passwd",
    "/etc/group",
    "/etc/localtime",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
];

/// Devices every program may use.
pub(crate) const DEVICES: &[(&str, Grant)] = &[
    ("/dev/null", Grant::Device),
    ("/dev/zero", Grant::Read),
    ("/dev/urandom", Grant::Read),
    ("/dev/random", Grant::Read),
];

/// The DNS port, for a resolver that falls back to TCP.
const DNS: u16 = 53;

impl Plan {
    /// Adds everything `other` allows (another window's scopes: command
    /// threads are shared, so the kernel holds the union).
    pub(crate) fn merge(&mut self, other: Plan) {
        for (path, grant) in other.paths {
            self.allow(path, grant);
        }
        self.tcp_connect.extend(other.tcp_connect);
        self.tcp_any |= other.tcp_any;
    }

    /// Adds `path` with `grant`; when it is already listed, the wider
    /// grant stays.
    pub(crate) fn allow(&mut self, path: impl Into<PathBuf>, grant: Grant) {
        let path = path.into();
        match self.paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, g)) => *g = (*g).max(grant),
            None => self.paths.push((path, grant)),
        }
    }

    /// Adds each program, and what it needs to start: its `#!`
    /// interpreter (followed) and, for any ELF program, the dynamic
    /// loaders found in the library directories.
    pub(crate) fn allow_programs<'a>(&mut self, programs: impl IntoIterator<Item = &'a Path>) {
        let mut any = false;
        for program in programs {
            any = true;
            let mut next = Some(program.to_path_buf());
            // A script's interpreter may be a script: follow a few.
            for _ in 0..4 {
                let Some(p) = next.take() else { break };
                next = shebang(&p);
                self.allow(p, Grant::Execute);
            }
        }
        if any {
            for loader in dynamic_loaders() {
                self.allow(loader, Grant::Execute);
            }
        }
    }

    /// Ports from `scope.http`'s patterns (`None`: a pattern that takes
    /// any port); with any, DNS too.
    pub(crate) fn allow_http(&mut self, ports: impl IntoIterator<Item = Option<u16>>) {
        let mut any = false;
        for port in ports {
            match port {
                Some(p) => {
                    self.tcp_connect.insert(p);
                }
                None => self.tcp_any = true,
            }
            any = true;
        }
        if any {
            self.tcp_connect.insert(DNS);
        }
    }
}

/// The interpreter a `#!` line names, if `program` starts with one.
fn shebang(program: &Path) -> Option<PathBuf> {
    use std::io::Read as _;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(program).ok()?.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = line.split(|b| *b == b'\n').next()?;
    let text = std::str::from_utf8(line).ok()?.trim();
    let interpreter = text.split_ascii_whitespace().next()?;
    interpreter
        .starts_with('/')
        .then(|| PathBuf::from(interpreter))
}

/// The ELF dynamic loaders (`ld-linux*.so*`, `ld-*.so*`) in the usual
/// library directories: the kernel opens one to start any dynamically
/// linked program, and Landlock counts that as executing it.
fn dynamic_loaders() -> Vec<PathBuf> {
    let multiarch = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
    let mut found = Vec::new();
    for dir in [
        "/lib64",
        "/lib",
        "/usr/lib64",
        "/usr/lib",
        multiarch.as_str(),
    ] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("ld-") && name.contains(".so") {
                found.push(e.path());
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_listed_twice_keeps_the_wider_grant() {
        let mut p = Plan::default();
        p.allow("/data", Grant::Read);
        p.allow("/data", Grant::ReadWrite);
        p.allow("/data", Grant::Read);
        assert_eq!(p.paths, [(PathBuf::from("/data"), Grant::ReadWrite)]);
    }

    #[test]
    fn programs_bring_their_interpreters() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("tool");
        std::fs::write(&script, "#!/bin/sh -e\necho hi\n").unwrap();
        let mut p = Plan::default();
        p.allow_programs([script.as_path(), Path::new("/usr/bin/true")]);
        let executable: Vec<&Path> = p
            .paths
            .iter()
            .filter(|(_, g)| *g == Grant::Execute)
            .map(|(p, _)| p.as_path())
            .collect();
        assert!(executable.contains(&script.as_path()), "{executable:?}");
        assert!(executable.contains(&Path::new("/bin/sh")), "{executable:?}");
        assert!(executable.contains(&Path::new("/usr/bin/true")));
        assert!(
            executable
                .iter()
                .any(|p| p.to_string_lossy().contains("ld-linux")),
            "no dynamic loader: {executable:?}"
        );
        let none = Plan::default();
        assert!(none.paths.is_empty());
    }

    #[test]
    fn http_patterns_open_their_ports_and_dns_only() {
        let mut p = Plan::default();
        p.allow_http([Some(443), Some(8080), Some(80)]);
        assert_eq!(p.tcp_connect, BTreeSet::from([53, 80, 443, 8080]));
        assert!(!p.tcp_any);
        p.allow_http([None]);
        assert!(p.tcp_any);
        let mut none = Plan::default();
        none.allow_http([]);
        assert!(none.tcp_connect.is_empty() && !none.tcp_any);
    }
}
