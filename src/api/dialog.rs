//! `dialog.open` and `dialog.save`: the system's file chooser, and what the
//! user picks added to `scope.fs` for the page load (a *grant*).
//!
//! A chosen file is granted as a literal path (glob characters in its name
//! match only themselves); a chosen directory grants its tree with the
//! rules of a configured `dir/**` (no dotfiles; every open checked again on
//! the path the kernel reports, so a symlink out of it is refused). Deny
//! patterns still win. Grants end with their page load (a reload, crash
//! recovery), and each is logged.
//!
//! The chooser is modal to the window whose page asked, one at a time per
//! window: a page cannot stack dialogs. The window (GTK) or the test harness supplies it
//! ([`Chooser`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use glob::Pattern;
use serde::Deserialize;

use super::{Api, Builtin};
use crate::ipc::command::Commands;
use crate::scope::error::ScopeError;
use crate::scope::path::PathScope;

/// What the page asked the chooser for.
#[derive(Debug, Clone)]
pub(crate) struct DialogRequest {
    pub(crate) kind: DialogKind,
    pub(crate) multiple: bool,
    pub(crate) filters: Vec<Filter>,
    /// For `open`, the folder to start in; for `save`, the suggested file.
    pub(crate) default_path: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DialogKind {
    OpenFile,
    OpenDirectory,
    Save,
}

/// A named set of file extensions the chooser offers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filter {
    pub(crate) name: String,
    pub(crate) extensions: Vec<String>,
}

/// Shows the chooser for a request (on the UI thread) and calls `answer`
/// once: the chosen paths, or `None` when the user cancelled.
pub(crate) type Answer = Box<dyn FnOnce(Option<Vec<PathBuf>>) + Send>;
pub(crate) type Chooser = Arc<dyn Fn(DialogRequest, Answer) + Send + Sync>;

/// The chooser and the grants it made.
#[derive(Default)]
pub(crate) struct Dialogs {
    chooser: OnceLock<Chooser>,
    /// Whether a chooser is showing.
    open: Mutex<bool>,
    /// (page load, pattern, what was chosen).
    grants: Mutex<Vec<(u64, Pattern, PathBuf)>>,
}

impl std::fmt::Debug for Dialogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dialogs")
    }
}

impl Dialogs {
    /// Sets the chooser; the first call wins.
    pub(crate) fn wire(&self, chooser: Chooser) {
        let _ = self.chooser.set(chooser);
    }

    /// The grants of the page load `epoch` as a scope of their own, with
    /// `scope`'s deny patterns (deny still wins); `None` without grants.
    /// Those of other page loads are forgotten.
    pub(crate) fn granted(&self, scope: &PathScope, epoch: u64) -> Option<PathScope> {
        let mut grants = self.grants.lock().unwrap_or_else(|p| p.into_inner());
        grants.retain(|(e, _, _)| *e == epoch);
        if grants.is_empty() {
            return None;
        }
        Some(scope.allowing_only(grants.iter().map(|(_, p, _)| p.clone())))
    }

    fn grant(&self, epoch: u64, path: PathBuf, tree: bool) {
        let literal = Pattern::escape(&path.to_string_lossy());
        let text = if tree {
            format!("{literal}/**")
        } else {
            literal
        };
        if let Ok(pattern) = Pattern::new(&text) {
            tracing::info!(path = %path.display(), tree, "fs grant: chosen in a dialog, for this page load");
            self.grants
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((epoch, pattern, path));
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenArgs {
    #[serde(default)]
    multiple: bool,
    #[serde(default)]
    directory: bool,
    #[serde(default)]
    filters: Vec<Filter>,
    #[serde(default, rename = "defaultPath")]
    default_path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveArgs {
    #[serde(default)]
    filters: Vec<Filter>,
    #[serde(default, rename = "defaultPath")]
    default_path: Option<String>,
}

pub(super) fn commands(api: &Arc<Api>) -> Commands {
    let (a, b) = (Arc::clone(api), Arc::clone(api));
    Commands::new()
        .builtin_async(Builtin::DialogOpen.name(), move |x: OpenArgs, ctx| {
            let api = Arc::clone(&a);
            async move {
                let request = DialogRequest {
                    kind: if x.directory {
                        DialogKind::OpenDirectory
                    } else {
                        DialogKind::OpenFile
                    },
                    multiple: x.multiple,
                    filters: checked_filters(x.filters)?,
                    default_path: default_path(&api, x.default_path.as_deref())?,
                };
                let picked = choose(&api, request).await?;
                Ok::<_, ScopeError>(picked.map(|paths| {
                    let paths = paths.into_iter().map(|p| real(&p)).collect::<Vec<_>>();
                    for p in &paths {
                        api.dialogs.grant(ctx.epoch(), p.clone(), x.directory);
                    }
                    let names: Vec<String> = paths
                        .iter()
                        .map(|p| p.to_string_lossy().into_owned())
                        .collect();
                    if x.multiple {
                        serde_json::json!(names)
                    } else {
                        serde_json::json!(names.into_iter().next())
                    }
                }))
            }
        })
        .builtin_async(Builtin::DialogSave.name(), move |x: SaveArgs, ctx| {
            let api = Arc::clone(&b);
            async move {
                let request = DialogRequest {
                    kind: DialogKind::Save,
                    multiple: false,
                    filters: checked_filters(x.filters)?,
                    default_path: default_path(&api, x.default_path.as_deref())?,
                };
                let picked = choose(&api, request).await?;
                Ok::<_, ScopeError>(picked.and_then(|paths| paths.into_iter().next()).map(|p| {
                    let p = real(&p);
                    api.dialogs.grant(ctx.epoch(), p.clone(), false);
                    p.to_string_lossy().into_owned()
                }))
            }
        })
}

/// Shows the chooser; `None` when cancelled.
async fn choose(api: &Api, request: DialogRequest) -> Result<Option<Vec<PathBuf>>, ScopeError> {
    let busy = |reason: &str| ScopeError::Spawn {
        name: "the file chooser".into(),
        error: std::io::Error::new(std::io::ErrorKind::WouldBlock, reason.to_owned()),
    };
    let Some(chooser) = api.dialogs.chooser.get() else {
        return Err(busy("there is no window to show it in"));
    };
    {
        let mut open = api.dialogs.open.lock().unwrap_or_else(|p| p.into_inner());
        if *open {
            return Err(busy("a file chooser is already open"));
        }
        *open = true;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    chooser(
        request,
        Box::new(move |picked| {
            let _ = tx.send(picked);
        }),
    );
    let picked = rx.await.unwrap_or(None);
    *api.dialogs.open.lock().unwrap_or_else(|p| p.into_inner()) = false;
    Ok(picked.filter(|p| !p.is_empty()))
}

/// Where a chosen path really is: symlinks resolved (for a file that does
/// not exist yet, its directory's), so the grant is for what is opened.
fn real(p: &Path) -> PathBuf {
    if let Ok(r) = p.canonicalize() {
        return r;
    }
    match (
        p.parent().and_then(|d| d.canonicalize().ok()),
        p.file_name(),
    ) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => p.to_owned(),
    }
}

/// Filter extensions are letters and digits only (they become `*.ext`).
fn checked_filters(filters: Vec<Filter>) -> Result<Vec<Filter>, ScopeError> {
    for f in &filters {
        if let Some(bad) = f
            .extensions
            .iter()
            .find(|e| e.is_empty() || e.len() > 16 || !e.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(ScopeError::PathInvalid {
                requested: bad.clone(),
                reason: "is not a file extension (letters and digits, at most 16)".into(),
            });
        }
    }
    Ok(filters)
}

fn default_path(api: &Api, raw: Option<&str>) -> Result<Option<PathBuf>, ScopeError> {
    raw.map(|r| api.scopes.fs.expand(r)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PathScopeConfig;
    use crate::scope::BaseDirs;

    fn scope(allow: &[&str], deny: &[&str]) -> PathScope {
        PathScope::compile(
            "scope.fs",
            &PathScopeConfig {
                allow: allow.iter().map(|s| (*s).to_owned()).collect(),
                deny: deny.iter().map(|s| (*s).to_owned()).collect(),
            },
            &BaseDirs::fixed(Path::new("/")),
        )
        .unwrap()
    }

    #[test]
    fn a_grant_is_literal_for_its_page_load_only_and_deny_wins() {
        let d = Dialogs::default();
        d.grant(1, "/home/u/a*.txt".into(), false);
        d.grant(1, "/home/u/docs".into(), true);
        d.grant(1, "/home/u/private/x.txt".into(), false);
        let base = scope(&["/home/u/configured/**"], &["/home/u/private/**"]);
        let s = d.granted(&base, 1).unwrap();
        assert!(
            !s.allows(Path::new("/home/u/configured/a.txt")),
            "the grants alone, not the configured scope"
        );
        assert!(s.allows(Path::new("/home/u/a*.txt")));
        assert!(!s.allows(Path::new("/home/u/ab.txt")), "the * is literal");
        assert!(s.allows(Path::new("/home/u/docs/report.txt")));
        assert!(
            !s.allows(Path::new("/home/u/docs/.hidden")),
            "no dotfiles in a tree"
        );
        assert!(!s.allows(Path::new("/home/u/secret.txt")), "not the parent");
        assert!(!s.allows(Path::new("/home/u/private/x.txt")), "deny wins");
        // The next page load has none, and the earlier one's are forgotten.
        assert!(d.granted(&base, 2).is_none());
        assert!(d.granted(&base, 1).is_none(), "forgotten");
    }

    #[test]
    fn filters_are_extensions_only() {
        let ok = vec![Filter {
            name: "Images".into(),
            extensions: vec!["png".into(), "jpg".into()],
        }];
        assert!(checked_filters(ok).is_ok());
        for bad in ["", "*", "png;rm", "a/b", "ü"] {
            let f = vec![Filter {
                name: "x".into(),
                extensions: vec![bad.into()],
            }];
            assert!(checked_filters(f).is_err(), "{bad:?}");
        }
    }
}
