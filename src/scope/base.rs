//! Base-directory variables (`$APPDATA`, `$HOME`, …): where they point on
//! this machine, and how a pattern or a path that starts with one expands.
//!
//! Each directory is canonicalized when it exists (`/tmp` may be a symlink),
//! because scopes are matched against the real path of what was opened.
//! In a *pattern* the directory is glob-escaped: a home directory named
//! `[x]` or `*` must not widen the scope.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every variable, in the order the docs list them.
pub(crate) const VARIABLES: &[&str] = &[
    "APP",
    "APPDATA",
    "APPCONFIG",
    "APPCACHE",
    "APPLOG",
    "AUDIO",
    "CACHE",
    "CONFIG",
    "DATA",
    "LOCALDATA",
    "DESKTOP",
    "DOCUMENT",
    "DOWNLOAD",
    "EXE",
    "FONT",
    "HOME",
    "PICTURE",
    "PUBLIC",
    "RUNTIME",
    "TEMPLATE",
    "VIDEO",
    "RESOURCE",
    "TEMP",
    "CWD",
];

/// Where each variable points; `None` when this machine has no such
/// directory (a pattern using it matches nothing, with a warning). Also
/// where programs named without a path are found.
#[derive(Debug, Clone)]
pub(crate) struct BaseDirs {
    dirs: BTreeMap<&'static str, Option<PathBuf>>,
    programs: Programs,
}

/// Where a program named without a path is found.
#[derive(Debug, Clone)]
enum Programs {
    /// The absolute directories of `PATH` when the app started, in order.
    /// Relative entries (an empty one means the working directory) are
    /// skipped: they would make the program depend on where the app runs.
    Search(Vec<PathBuf>),
    /// No file system: `name` is `/usr/bin/name`, an absolute path is taken
    /// as given (config validation and the audit).
    Fixed,
}

/// A path or pattern that does not start the way it must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExpandError {
    UnknownVariable(String),
    NotAbsolute,
    DotDot,
}

impl std::fmt::Display for ExpandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpandError::UnknownVariable(v) => write!(
                f,
                "unknown base-directory variable `${v}`; use one of {}",
                VARIABLES
                    .iter()
                    .map(|v| format!("${v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ExpandError::NotAbsolute => {
                f.write_str("must be an absolute path or start with a variable such as $APPDATA/")
            }
            ExpandError::DotDot => f.write_str("must not contain `..` or `.` segments"),
        }
    }
}

impl BaseDirs {
    /// This machine's directories for the app `identifier`. `$APPDATA` is
    /// the same directory as `CallContext::data_dir`.
    pub(crate) fn for_app(identifier: &str) -> Self {
        let app = |d: Option<PathBuf>| d.map(|d| d.join(identifier));
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|e| e.parent().map(Path::to_path_buf));
        let pairs: [(&'static str, Option<PathBuf>); 24] = [
            ("APP", app(dirs::config_dir())),
            ("APPDATA", app(dirs::data_dir())),
            ("APPCONFIG", app(dirs::config_dir())),
            ("APPCACHE", app(dirs::cache_dir())),
            (
                "APPLOG",
                app(dirs::data_local_dir()).map(|d| d.join("logs")),
            ),
            ("AUDIO", dirs::audio_dir()),
            ("CACHE", dirs::cache_dir()),
            ("CONFIG", dirs::config_dir()),
            ("DATA", dirs::data_dir()),
            ("LOCALDATA", dirs::data_local_dir()),
            ("DESKTOP", dirs::desktop_dir()),
            ("DOCUMENT", dirs::document_dir()),
            ("DOWNLOAD", dirs::download_dir()),
            ("EXE", dirs::executable_dir()),
            ("FONT", dirs::font_dir()),
            ("HOME", dirs::home_dir()),
            ("PICTURE", dirs::picture_dir()),
            ("PUBLIC", dirs::public_dir()),
            ("RUNTIME", dirs::runtime_dir()),
            ("TEMPLATE", dirs::template_dir()),
            ("VIDEO", dirs::video_dir()),
            ("RESOURCE", exe_dir),
            ("TEMP", Some(std::env::temp_dir())),
            ("CWD", std::env::current_dir().ok()),
        ];
        let path = std::env::var_os("PATH").unwrap_or_default();
        Self {
            dirs: pairs
                .into_iter()
                .map(|(k, v)| (k, v.filter(|p| p.is_absolute()).map(real)))
                .collect(),
            programs: Programs::Search(
                std::env::split_paths(&path)
                    .filter(|d| d.is_absolute())
                    .collect(),
            ),
        }
    }

    /// Every variable under `root` (`$HOME` = `root/home`, `$APPDATA` =
    /// `root/home/.local/share/app`, …), for the audit and tests: results
    /// that do not depend on the machine.
    pub(crate) fn fixed(root: &Path) -> Self {
        let home = root.join("home");
        let data = home.join(".local/share");
        let config = home.join(".config");
        let cache = home.join(".cache");
        let pairs: [(&'static str, PathBuf); 24] = [
            ("APP", config.join("app")),
            ("APPDATA", data.join("app")),
            ("APPCONFIG", config.join("app")),
            ("APPCACHE", cache.join("app")),
            ("APPLOG", data.join("app/logs")),
            ("AUDIO", home.join("Music")),
            ("CACHE", cache.clone()),
            ("CONFIG", config.clone()),
            ("DATA", data.clone()),
            ("LOCALDATA", data.clone()),
            ("DESKTOP", home.join("Desktop")),
            ("DOCUMENT", home.join("Documents")),
            ("DOWNLOAD", home.join("Downloads")),
            ("EXE", home.join(".local/bin")),
            ("FONT", data.join("fonts")),
            ("HOME", home.clone()),
            ("PICTURE", home.join("Pictures")),
            ("PUBLIC", home.join("Public")),
            ("RUNTIME", root.join("run/user/1000")),
            ("TEMPLATE", home.join("Templates")),
            ("VIDEO", home.join("Videos")),
            ("RESOURCE", root.join("opt/app")),
            ("TEMP", root.join("tmp")),
            ("CWD", root.join("cwd")),
        ];
        Self {
            dirs: pairs.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            programs: Programs::Fixed,
        }
    }

    /// The same directories, with programs found in `path` (for tests).
    #[cfg(test)]
    pub(crate) fn with_program_path(mut self, path: &[&Path]) -> Self {
        self.programs = Programs::Search(path.iter().map(|p| p.to_path_buf()).collect());
        self
    }

    /// The absolute path of the program `cmd` (absolute, or a name looked up
    /// in `PATH`), which must be an executable regular file. Looked up once,
    /// at startup: a file planted on `PATH` later does not change it.
    // A check by path, once, at startup, of the config's own program names:
    // no page input is involved, and what runs is this path (if it is later
    // replaced, the replacement is what the app's own PATH entry now holds).
    #[allow(
        clippy::disallowed_methods,
        reason = "a program named in the config, found once at startup; no page input"
    )]
    pub(crate) fn find_program(&self, cmd: &str) -> Result<PathBuf, String> {
        use std::os::unix::fs::PermissionsExt;
        let executable = |p: &Path| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        };
        let dirs = match &self.programs {
            Programs::Fixed if cmd.starts_with('/') => return Ok(PathBuf::from(cmd)),
            Programs::Fixed => return Ok(Path::new("/usr/bin").join(cmd)),
            Programs::Search(dirs) => dirs,
        };
        if cmd.starts_with('/') {
            return if executable(Path::new(cmd)) {
                Ok(PathBuf::from(cmd))
            } else {
                Err(format!(
                    "{cmd:?} does not exist or is not an executable file"
                ))
            };
        }
        dirs.iter()
            .map(|d| d.join(cmd))
            .find(|p| executable(p))
            .ok_or_else(|| {
                format!(
                    "{cmd:?} was not found on PATH ({}); install it or give its absolute path",
                    std::env::join_paths(dirs)
                        .map(|p| p.to_string_lossy().into_owned())
                        .unwrap_or_default()
                )
            })
    }

    /// Creates `$APPDATA` (and its parents) if it does not exist, private
    /// to the user (0700), and from then on names it by its real path.
    pub(crate) fn create_app_data(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        let Some(Some(dir)) = self.dirs.get("APPDATA").cloned() else {
            return Ok(());
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        self.dirs.insert("APPDATA", Some(real(dir)));
        Ok(())
    }

    /// Where `$name` points, if anywhere.
    pub(crate) fn get(&self, name: &str) -> Option<&Path> {
        self.dirs.get(name).and_then(|d| d.as_deref())
    }

    /// Expands a leading variable of a scope pattern, glob-escaping the
    /// directory. `Ok(None)`: the variable has no directory on this machine.
    pub(crate) fn expand_pattern(&self, pattern: &str) -> Result<Option<String>, ExpandError> {
        self.expand(pattern, glob::Pattern::escape)
    }

    /// Expands a leading variable of a path the page sent. The result is
    /// absolute and has no `.`/`..` segments; it is not yet resolved.
    pub(crate) fn expand_path(&self, path: &str) -> Result<Option<PathBuf>, ExpandError> {
        Ok(self.expand(path, str::to_owned)?.map(PathBuf::from))
    }

    fn expand(
        &self,
        text: &str,
        quote: impl Fn(&str) -> String,
    ) -> Result<Option<String>, ExpandError> {
        let expanded = if let Some(rest) = text.strip_prefix('$') {
            let end = rest.find('/').unwrap_or(rest.len());
            let (name, tail) = rest.split_at(end);
            if !VARIABLES.contains(&name) {
                return Err(ExpandError::UnknownVariable(name.to_owned()));
            }
            let Some(dir) = self.get(name) else {
                return Ok(None);
            };
            let Some(dir) = dir.to_str() else {
                return Ok(None);
            };
            format!("{}{tail}", quote(dir))
        } else if text.starts_with('/') {
            text.to_owned()
        } else {
            return Err(ExpandError::NotAbsolute);
        };
        if expanded.split('/').any(|seg| seg == ".." || seg == ".") {
            return Err(ExpandError::DotDot);
        }
        Ok(Some(expanded))
    }
}

/// `p` with symlinks resolved when it exists, else as given. At startup, on
/// the base directories only, so that patterns name the real paths the
/// kernel reports for opened files; page paths are never resolved this way.
#[allow(
    clippy::disallowed_methods,
    reason = "the base directories, resolved once at startup; never page paths"
)]
fn real(p: PathBuf) -> PathBuf {
    std::fs::canonicalize(&p).unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_expand_and_glob_characters_in_them_are_escaped() {
        let dirs = BaseDirs::fixed(Path::new("/r[*]"));
        assert_eq!(
            dirs.expand_pattern("$HOME/**").unwrap().unwrap(),
            "/r[[][*][]]/home/**"
        );
        assert_eq!(
            dirs.expand_path("$HOME/a").unwrap().unwrap(),
            Path::new("/r[*]/home/a")
        );
    }

    #[test]
    fn bad_starts_are_refused() {
        let dirs = BaseDirs::fixed(Path::new("/r"));
        assert_eq!(
            dirs.expand_path("$HOMEDIR/a"),
            Err(ExpandError::UnknownVariable("HOMEDIR".into()))
        );
        assert_eq!(dirs.expand_path("a/b"), Err(ExpandError::NotAbsolute));
        assert_eq!(dirs.expand_path("$HOME/../etc"), Err(ExpandError::DotDot));
        assert_eq!(dirs.expand_path("/a/./b"), Err(ExpandError::DotDot));
        assert_eq!(dirs.expand_pattern("/a/../**"), Err(ExpandError::DotDot));
    }
}
