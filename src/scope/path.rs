//! File-system scopes (`scope.fs`, `scope.asset`) and opening files inside
//! them without a race between the check and the use.
//!
//! Patterns are globs over absolute paths: `*` and `?` never cross `/` and
//! never match a leading `.` (so `$HOME/**` does not reach `~/.ssh`); `**`
//! matches any number of whole segments. Deny wins over allow.
//!
//! Two checks, in this order:
//! 1. **By name, before anything touches the file system.** The expanded
//!    path must lie inside the scope as written, or the call is
//!    `scope_denied` with the same message whether it exists or not.
//!    Threat: a page that probes the disk (`~/.ssh/id_rsa` exists? which
//!    users are under `/home`?) by telling "denied" from "not found", and
//!    the effect of opening something outside the scope at all (a device
//!    node, an automounter, access times).
//! 2. **On what was opened.** A path that passes by name may still be
//!    swapped after the check (a symlink planted between `canonicalize` and
//!    `open`). So the file (or, to create or remove, its parent directory)
//!    is opened, and the check runs again on the path the kernel reports
//!    for that open descriptor (`/proc/self/fd/N`). Symlinks anywhere in the
//!    path are thereby followed and re-checked. Creating, replacing and
//!    removing go through the directory descriptor, so the directory cannot
//!    be swapped either. Linux-only, like the runtime.
//!
//! A hard link is a second name for the same file, and nothing tells where
//! the other names are: a link inside the scope to `~/.ssh/id_rsa` reads
//! the key whatever the real path says. So a regular file with more than one
//! link is not read (`scope_denied`). Writes replace the name (temp file,
//! rename) and removals unlink it, so neither reaches the other names.

use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use glob::{MatchOptions, Pattern};

use super::base::BaseDirs;
use super::error::ScopeError;
use super::path_linux as fd;
use super::path_linux::fd_path;
use crate::config::{ConfigError, PathScopeConfig};

const MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: true,
};

/// A compiled allow/deny list of path globs.
#[derive(Debug, Clone)]
pub(crate) struct PathScope {
    module: &'static str,
    allow: Vec<Pattern>,
    deny: Vec<Pattern>,
    dirs: BaseDirs,
}

impl PathScope {
    /// Compiles `config` (found at `key` in moat.json). A pattern whose
    /// variable has no directory on this machine is dropped with a warning.
    pub(crate) fn compile(
        key: &'static str,
        config: &PathScopeConfig,
        dirs: &BaseDirs,
    ) -> Result<Self, ConfigError> {
        let compile_list = |list: &[String], field: &str| -> Result<Vec<Pattern>, ConfigError> {
            let mut out = Vec::new();
            for (i, text) in list.iter().enumerate() {
                let at = || format!("{key}.{field}[{i}]");
                let expanded = dirs.expand_pattern(text).map_err(|e| ConfigError {
                    path: at(),
                    message: format!("{text:?} {e}"),
                })?;
                let Some(expanded) = expanded else {
                    tracing::warn!(pattern = %text, "{}: the variable has no directory on this machine; the pattern matches nothing", at());
                    continue;
                };
                out.push(Pattern::new(&expanded).map_err(|e| ConfigError {
                    path: at(),
                    message: format!("{text:?} is not a valid glob: {e}"),
                })?);
            }
            Ok(out)
        };
        Ok(Self {
            module: key.trim_start_matches("scope."),
            allow: compile_list(&config.allow, "allow")?,
            deny: compile_list(&config.deny, "deny")?,
            dirs: dirs.clone(),
        })
    }

    /// Whether the real path `p` may be used. Deny wins; a path that is not
    /// UTF-8 matches no pattern and so is not allowed.
    pub(crate) fn allows(&self, p: &Path) -> bool {
        let hit = |list: &[Pattern]| list.iter().any(|g| g.matches_path_with(p, MATCH));
        !hit(&self.deny) && hit(&self.allow)
    }

    /// Whether the directory `p` may be listed: `p/` is allowed, as it is
    /// by `p/**` or `p/*`.
    pub(crate) fn allows_dir(&self, p: &Path) -> bool {
        let mut s = p.as_os_str().to_owned();
        s.push("/");
        self.allows(Path::new(&s))
    }

    /// This scope's deny patterns with `allow` in place of its allow
    /// patterns (the grants of a file chooser).
    #[cfg_attr(
        not(feature = "api-dialog"),
        allow(dead_code, reason = "only dialog grants make a scope of their own")
    )]
    pub(crate) fn allowing_only(&self, allow: impl IntoIterator<Item = Pattern>) -> PathScope {
        let mut s = self.clone();
        s.allow = allow.into_iter().collect();
        s
    }

    /// Whether the list allows anything at all (for warnings).
    pub(crate) fn is_empty(&self) -> bool {
        self.allow.is_empty()
    }

    /// The directories the allow patterns reach into: each pattern's
    /// literal part, up to the last `/` before its first wildcard
    /// (`/home/u/docs/**` → `/home/u/docs`, `/data/*.txt` → `/data`). What
    /// the kernel's confinement opens for this scope (`confine`); the
    /// patterns themselves stay the user-space check.
    pub(crate) fn roots(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = self.allow.iter().map(|p| literal_dir(p.as_str())).collect();
        roots.sort();
        roots.dedup();
        roots
    }

    /// Expands the page's `requested` path: absolute or `$VAR/…`, no `.`
    /// or `..` segments, no NUL.
    pub(crate) fn expand(&self, requested: &str) -> Result<PathBuf, ScopeError> {
        let invalid = |reason: String| ScopeError::PathInvalid {
            requested: requested.to_owned(),
            reason,
        };
        if requested.contains('\0') {
            return Err(invalid("contains a NUL byte".into()));
        }
        match self.dirs.expand_path(requested) {
            // One spelling per path: `a//b` and `a/b/` are `a/b`, as the
            // kernel reads them, so the name check judges what is opened.
            Ok(Some(p)) => Ok(p.components().collect()),
            Ok(None) => Err(invalid(
                "starts with a variable that has no directory on this machine".into(),
            )),
            Err(e) => Err(invalid(e.to_string())),
        }
    }

    /// Refuses a path that is outside the scope as written, before any
    /// system call names it.
    fn check_name(&self, requested: &str, path: &Path, dir: bool) -> Result<(), ScopeError> {
        let ok = if dir {
            self.allows_dir(path)
        } else {
            self.allows(path)
        };
        if ok {
            Ok(())
        } else {
            Err(self.denied(requested, path.to_owned()))
        }
    }

    /// Opens an existing regular file for reading, then checks where it
    /// really is. FIFOs and devices are opened non-blocking and refused; so
    /// is a file with more than one hard link.
    pub(crate) fn open_file(&self, requested: &str) -> Result<(File, PathBuf), ScopeError> {
        let path = self.expand(requested)?;
        self.check_name(requested, &path, false)?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&path)
            .map_err(|e| self.open_error(requested, &path, e, false))?;
        let real = self.check_fd(requested, &file, false)?;
        let meta = file.metadata().map_err(|e| ScopeError::io(requested, e))?;
        if !meta.is_file() {
            return Err(ScopeError::PathInvalid {
                requested: requested.to_owned(),
                reason: "is not a regular file".into(),
            });
        }
        if meta.nlink() > 1 {
            return Err(ScopeError::HardLinked {
                module: self.module,
                requested: requested.to_owned(),
                real,
                links: meta.nlink(),
            });
        }
        Ok((file, real))
    }

    /// Opens an existing directory, then checks that it may be listed.
    pub(crate) fn open_dir(&self, requested: &str) -> Result<OpenDir, ScopeError> {
        let path = self.expand(requested)?;
        self.check_name(requested, &path, true)?;
        let dir = open_directory(&path).map_err(|e| self.open_error(requested, &path, e, true))?;
        let real = self.check_fd(requested, &dir, true)?;
        Ok(OpenDir { dir, real })
    }

    /// Opens the parent directory of `requested` and checks that the entry
    /// `parent/name` may be created, replaced or removed. The entry itself
    /// is not opened: what it is (even a symlink to elsewhere) does not
    /// matter, because it is replaced or unlinked, never followed.
    pub(crate) fn open_entry(&self, requested: &str) -> Result<OpenEntry, ScopeError> {
        let path = self.expand(requested)?;
        let name = match path.file_name() {
            Some(n) if !requested.ends_with('/') => n.to_owned(),
            _ => {
                return Err(ScopeError::PathInvalid {
                    requested: requested.to_owned(),
                    reason: "names a directory, not a file".into(),
                })
            }
        };
        self.check_name(requested, &path, false)?;
        let parent = path.parent().unwrap_or(Path::new("/"));
        let dir =
            open_directory(parent).map_err(|e| self.open_error(requested, parent, e, true))?;
        let real_parent = fd_path(&dir).map_err(|e| ScopeError::io(requested, e))?;
        let real = real_parent.join(&name);
        if !self.allows(&real) {
            return Err(self.denied(requested, real));
        }
        Ok(OpenEntry {
            dir: OpenDir {
                dir,
                real: real_parent,
            },
            name: name.into(),
            real,
        })
    }

    fn check_fd(&self, requested: &str, f: &File, dir: bool) -> Result<PathBuf, ScopeError> {
        let real = fd_path(f).map_err(|e| ScopeError::io(requested, e))?;
        let ok = if dir {
            self.allows_dir(&real)
        } else {
            self.allows(&real)
        };
        if ok {
            Ok(real)
        } else {
            Err(self.denied(requested, real))
        }
    }

    /// What a failed open of `path` (allowed by name) means. The kernel's
    /// confinement (`confine`) refuses, with `EACCES`, an open that a
    /// symlink took outside the scope before user space could see where it
    /// went: then, as for any other way outside, it is `scope_denied`, with
    /// where the name leads (resolved without opening it, for the log).
    /// Anything else is the failure itself.
    fn open_error(&self, requested: &str, path: &Path, e: std::io::Error, dir: bool) -> ScopeError {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            // Not a check before an open: the open already failed, and this
            // only names the refusal.
            #[allow(
                clippy::disallowed_methods,
                reason = "not a check before an open: it only names the refusal"
            )]
            let resolved = std::fs::canonicalize(path);
            if let Ok(real) = resolved {
                let inside = if dir {
                    self.allows_dir(&real)
                } else {
                    self.allows(&real)
                };
                if !inside {
                    return self.denied(requested, real);
                }
            }
        }
        if dir {
            dir_error(requested, e)
        } else {
            ScopeError::io(requested, e)
        }
    }

    fn denied(&self, requested: &str, real: PathBuf) -> ScopeError {
        ScopeError::PathDenied {
            module: self.module,
            requested: requested.to_owned(),
            real,
        }
    }
}

/// An open directory and where it really is.
#[derive(Debug)]
pub(crate) struct OpenDir {
    dir: File,
    pub(crate) real: PathBuf,
}

impl OpenDir {
    /// A path that reaches *this* directory, whatever happens to its name
    /// (valid while `self` lives).
    pub(crate) fn via_fd(&self) -> PathBuf {
        fd::via_fd(&self.dir)
    }
}

/// An entry that may be written or removed, reached through its parent.
#[derive(Debug)]
pub(crate) struct OpenEntry {
    pub(crate) dir: OpenDir,
    pub(crate) name: PathBuf,
    pub(crate) real: PathBuf,
}

impl OpenEntry {
    /// The entry's path through the parent's descriptor.
    pub(crate) fn via_fd(&self) -> PathBuf {
        self.dir.via_fd().join(&self.name)
    }
}

fn open_directory(p: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(p)
}

fn dir_error(requested: &str, e: std::io::Error) -> ScopeError {
    if e.raw_os_error() == Some(libc::ENOTDIR) {
        ScopeError::PathInvalid {
            requested: requested.to_owned(),
            reason: "is not inside a directory".into(),
        }
    } else {
        ScopeError::io(requested, e)
    }
}

/// The directory part of a glob pattern's literal prefix. Characters the
/// pattern escapes as a one-character class (`[*]`, `[[]`, the way
/// `Pattern::escape` writes them) are literal; anything else special ends
/// the prefix.
fn literal_dir(pattern: &str) -> PathBuf {
    let mut literal = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' | '?' => break,
            '[' => {
                let mut class: Vec<char> = Vec::new();
                while let Some(&n) = chars.peek() {
                    chars.next();
                    if n == ']' && !class.is_empty() {
                        break;
                    }
                    class.push(n);
                }
                if class.len() == 1 {
                    literal.push(class[0]);
                } else {
                    break;
                }
            }
            c => literal.push(c),
        }
    }
    match literal.rfind('/') {
        Some(0) => PathBuf::from("/"),
        Some(i) => PathBuf::from(&literal[..i]),
        None => PathBuf::from("/"),
    }
}

#[cfg(test)]
// The tests set up and inspect the file system as the attacker would.
#[allow(
    clippy::disallowed_methods,
    reason = "the tests set up and inspect the file system as the attacker would"
)]
mod tests {
    use super::*;

    fn scope(root: &Path, allow: &[&str], deny: &[&str]) -> PathScope {
        let cfg = PathScopeConfig {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
        };
        PathScope::compile("scope.fs", &cfg, &BaseDirs::fixed(root)).unwrap()
    }

    #[test]
    fn roots_are_the_literal_directories_of_the_patterns() {
        let s = scope(
            Path::new("/r"),
            &[
                "$HOME/docs/**",
                "/data/*.txt",
                "/data/exact.txt",
                "$HOME/a[*]b/c?",
            ],
            &["$HOME/docs/secret/**"],
        );
        assert_eq!(
            s.roots(),
            [
                PathBuf::from("/data"),
                PathBuf::from("/r/home/a*b"),
                PathBuf::from("/r/home/docs")
            ]
        );
        assert_eq!(literal_dir("/**"), PathBuf::from("/"));
        assert_eq!(literal_dir("/x/[ab]/y"), PathBuf::from("/x"));
    }

    #[test]
    fn star_does_not_cross_slash_or_reach_dotfiles() {
        let s = scope(Path::new("/r"), &["$HOME/*"], &[]);
        assert!(s.allows(Path::new("/r/home/a.txt")));
        assert!(!s.allows(Path::new("/r/home/d/a.txt")));
        assert!(!s.allows(Path::new("/r/home/.bashrc")));
        let s = scope(Path::new("/r"), &["$HOME/**"], &[]);
        assert!(s.allows(Path::new("/r/home/d/e/a.txt")));
        assert!(!s.allows(Path::new("/r/home/.ssh/id_rsa")));
        assert!(!s.allows(Path::new("/r/homely/a")));
    }

    #[test]
    fn deny_wins_over_allow() {
        let s = scope(Path::new("/r"), &["$APPDATA/**"], &["$APPDATA/secret/**"]);
        assert!(s.allows(Path::new("/r/home/.local/share/app/notes")));
        assert!(!s.allows(Path::new("/r/home/.local/share/app/secret/k")));
    }

    #[test]
    fn empty_allow_list_allows_nothing() {
        let s = scope(Path::new("/r"), &[], &[]);
        assert!(!s.allows(Path::new("/r/home/a")));
        assert!(s.is_empty());
    }

    #[test]
    fn glob_characters_in_the_base_directory_do_not_widen_the_scope() {
        let s = scope(Path::new("/r*"), &["$HOME/*"], &[]);
        assert!(s.allows(Path::new("/r*/home/a")));
        assert!(!s.allows(Path::new("/rX/home/a")));
    }

    #[test]
    fn bad_patterns_name_their_key() {
        let cfg = PathScopeConfig {
            allow: vec!["$APPDATA/**".into(), "relative/*".into()],
            deny: vec![],
        };
        let e =
            PathScope::compile("scope.fs", &cfg, &BaseDirs::fixed(Path::new("/r"))).unwrap_err();
        assert_eq!(e.path, "scope.fs.allow[1]");
        let cfg = PathScopeConfig {
            allow: vec![],
            deny: vec!["/a/[".into()],
        };
        let e =
            PathScope::compile("scope.fs", &cfg, &BaseDirs::fixed(Path::new("/r"))).unwrap_err();
        assert_eq!(e.path, "scope.fs.deny[0]");
        assert!(e.message.contains("not a valid glob"), "{}", e.message);
    }

    fn real_tmp() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let r = std::fs::canonicalize(t.path()).unwrap();
        (t, r)
    }

    #[test]
    fn a_symlink_out_of_the_scope_is_followed_and_refused() {
        let (_t, root) = real_tmp();
        std::fs::create_dir_all(root.join("in")).unwrap();
        std::fs::create_dir_all(root.join("out")).unwrap();
        std::fs::write(root.join("out/secret"), "s").unwrap();
        std::os::unix::fs::symlink(root.join("out"), root.join("in/link")).unwrap();
        std::os::unix::fs::symlink(root.join("out/secret"), root.join("in/file")).unwrap();
        let s = scope(&root, &[&format!("{}/in/**", root.display())], &[]);
        for p in ["in/link/secret", "in/file"] {
            let requested = format!("{}/{p}", root.display());
            match s.open_file(&requested) {
                Err(ScopeError::PathDenied { real, .. }) => {
                    assert_eq!(real, root.join("out/secret"))
                }
                other => panic!("{p}: {other:?}"),
            }
        }
        // Listing through the symlinked directory is refused the same way.
        assert!(matches!(
            s.open_dir(&format!("{}/in/link", root.display())),
            Err(ScopeError::PathDenied { .. })
        ));
        // Writing into it too: the parent resolves outside.
        assert!(matches!(
            s.open_entry(&format!("{}/in/link/new", root.display())),
            Err(ScopeError::PathDenied { .. })
        ));
    }

    /// Watches `dir` for opens (inotify), to prove that a refused path was
    /// never opened. Returns a function that lists what was opened since.
    #[allow(
        unsafe_code,
        reason = "a libc call; its SAFETY comment says why it is sound"
    )]
    fn watch_opens(dir: &Path) -> impl Fn() -> Vec<String> {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: no pointers; returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0, "inotify_init1");
        let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
        // SAFETY: `path` is a valid NUL-terminated string for the call.
        let wd = unsafe { libc::inotify_add_watch(fd, path.as_ptr(), libc::IN_OPEN) };
        assert!(wd >= 0, "inotify_add_watch");
        move || {
            let mut buf = vec![0u8; 64 * 1024];
            // SAFETY: `buf` is writable for its whole length.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            let mut names = Vec::new();
            let mut at = 0usize;
            let header = std::mem::size_of::<libc::inotify_event>();
            while n > 0 && at + header <= n as usize {
                // Layout: wd (i32), mask, cookie, len (u32), then `len` name bytes.
                let len = u32::from_ne_bytes(buf[at + 12..at + 16].try_into().unwrap()) as usize;
                let name = &buf[at + header..at + header + len];
                let name = String::from_utf8_lossy(name)
                    .trim_end_matches('\0')
                    .to_owned();
                names.push(if name.is_empty() { ".".into() } else { name });
                at += header + len;
            }
            names
        }
    }

    #[test]
    fn outside_the_scope_is_refused_by_name_before_anything_is_opened() {
        let (_t, root) = real_tmp();
        std::fs::create_dir_all(root.join("in")).unwrap();
        std::fs::create_dir_all(root.join("out/dir")).unwrap();
        std::fs::write(root.join("out/secret"), "s").unwrap();
        let s = scope(&root, &[&format!("{}/in/**", root.display())], &[]);
        let opened = watch_opens(&root.join("out"));
        let mut messages = Vec::new();
        for p in [
            "out/secret",
            "out/missing",
            "out/dir",
            "out/nodir/x",
            "in/../out/secret",
            "out//secret",
        ] {
            let requested = format!("{}/{p}", root.display());
            for result in [
                s.open_file(&requested).map(|_| ()),
                s.open_dir(&requested).map(|_| ()),
                s.open_entry(&requested).map(|_| ()),
            ] {
                match result {
                    Err(e @ ScopeError::PathDenied { .. }) => {
                        messages.push(e.page_message().replace(p, "<p>"))
                    }
                    Err(ScopeError::PathInvalid { .. }) if p.contains("..") => {}
                    other => panic!("{p}: {other:?}"),
                }
            }
        }
        assert_eq!(opened(), Vec::<String>::new(), "a refused path was opened");
        messages.dedup();
        assert_eq!(
            messages,
            [format!(
                "path `{}/<p>` is outside the fs scope",
                root.display()
            )],
            "existing and missing paths must read the same"
        );
        // Control: the watch does see an open.
        let _ = std::fs::File::open(root.join("out/secret")).unwrap();
        assert_eq!(opened(), ["secret"]);
    }

    #[test]
    fn a_hard_link_into_the_scope_is_not_read() {
        let (_t, root) = real_tmp();
        std::fs::create_dir_all(root.join("in")).unwrap();
        std::fs::write(root.join("key"), "PRIVATE").unwrap();
        std::fs::hard_link(root.join("key"), root.join("in/innocent.txt")).unwrap();
        std::fs::write(root.join("in/plain.txt"), "plain").unwrap();
        let s = scope(&root, &[&format!("{}/in/*", root.display())], &[]);
        match s.open_file(&format!("{}/in/innocent.txt", root.display())) {
            Err(e @ ScopeError::HardLinked { links: 2, .. }) => {
                assert_eq!(e.code(), "scope_denied");
                assert!(e.page_message().contains("more than one hard link"));
            }
            other => panic!("{other:?}"),
        }
        assert!(s
            .open_file(&format!("{}/in/plain.txt", root.display()))
            .is_ok());
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let (_t, root) = real_tmp();
        let fifo = root.join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let s = scope(&root, &[&format!("{}/*", root.display())], &[]);
        match s.open_file(&fifo.display().to_string()) {
            Err(ScopeError::PathInvalid { reason, .. }) => {
                assert_eq!(reason, "is not a regular file")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn entry_through_the_parent_descriptor_survives_a_swap_of_the_name() {
        let (_t, root) = real_tmp();
        std::fs::create_dir_all(root.join("in")).unwrap();
        std::fs::create_dir_all(root.join("out")).unwrap();
        let s = scope(&root, &[&format!("{}/in/*", root.display())], &[]);
        let entry = s.open_entry(&format!("{}/in/new", root.display())).unwrap();
        // The attacker swaps `in` for a symlink to `out` after the check.
        std::fs::rename(root.join("in"), root.join("in-old")).unwrap();
        std::os::unix::fs::symlink(root.join("out"), root.join("in")).unwrap();
        std::fs::write(entry.via_fd(), "x").unwrap();
        assert!(root.join("in-old/new").exists());
        assert!(!root.join("out/new").exists());
    }
}
