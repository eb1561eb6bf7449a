//! The app's windows as the core sees them: which are declared (and of
//! which kind), which are open, the bound on how many may be, and the
//! requests to open and close them that go to the GTK thread.
//!
//! A window's rights come from its label, and its label from the webview a
//! message arrived on (each app window has its own webview, web context,
//! transports, key and core): never from anything a page says. A page
//! names a label only to open a window, and only a label its own
//! `allowlist.windows` lists (`window.open`); it can close only its own
//! window (`window.close`). Rust opens and closes any declared window
//! through [`crate::AppHandle`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::config::MAIN_WINDOW;
use crate::ipc::command::{CallContext, Commands, NoArgs};
use crate::ipc::push::Pusher;
use crate::scope::error::ScopeError;

/// What a declared window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The app's own page, with the bridge and a key of its own.
    App,
    /// A remote page with no bridge.
    Untrusted,
}

/// Why a window was not opened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WindowError {
    /// No window with this label is declared under `windows` in
    /// `moat.json`.
    NotDeclared(String),
    /// The main window is open while the app runs; it is never opened.
    Main,
    /// `limits.maxOpenWindows` windows are open already.
    TooMany {
        /// The limit.
        max: usize,
    },
}

impl std::fmt::Display for WindowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WindowError::NotDeclared(label) => write!(
                f,
                "no window `{label}` is declared under `windows` in moat.json"
            ),
            WindowError::Main => f.write_str("the main window is open while the app runs"),
            WindowError::TooMany { max } => write!(
                f,
                "{max} windows are open already (limits.maxOpenWindows); close one first"
            ),
        }
    }
}

impl std::error::Error for WindowError {}

impl WindowError {
    /// The call error a page gets.
    fn for_page(self, label: &str) -> ScopeError {
        match self {
            WindowError::TooMany { max } => ScopeError::Busy {
                what: "windows".into(),
                reason: format!("{max} windows are open, limits.maxOpenWindows"),
            },
            other => ScopeError::WindowDenied {
                label: label.to_owned(),
                reason: other.to_string(),
            },
        }
    }
}

/// Work for the GTK thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    /// Open `label` (its slot is taken already); `opener` is the window
    /// whose page asked, if one did.
    Open {
        label: String,
        opener: Option<String>,
    },
    /// Close `label` (the main window: end the app).
    Close { label: String },
    /// Bring `label` forward if it is open: shown again if it was hidden
    /// or minimised, raised, and focused as far as the window manager
    /// allows.
    Present { label: String },
}

/// The declared windows and the open ones. Shared by the commands (tokio
/// threads), [`crate::AppHandle`] and the GTK thread.
pub(crate) struct Windows {
    declared: BTreeMap<String, Kind>,
    /// `limits.maxOpenWindows`.
    max_open: usize,
    /// Open or being opened, the main window included.
    open: Mutex<BTreeSet<String>>,
    /// Each app window's pusher (events to its page).
    pushers: BTreeMap<String, Arc<Pusher>>,
    /// Sends a request to the GTK thread; set once the event loop exists.
    to_ui: OnceLock<Box<dyn Fn(Request) + Send + Sync>>,
}

impl std::fmt::Debug for Windows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Windows")
            .field("declared", &self.declared)
            .field("open", &self.open_labels())
            .finish_non_exhaustive()
    }
}

impl Windows {
    /// The main window is open from the start.
    pub(crate) fn new(
        declared: BTreeMap<String, Kind>,
        max_open: usize,
        pushers: BTreeMap<String, Arc<Pusher>>,
    ) -> Self {
        Self {
            declared,
            max_open,
            open: Mutex::new(BTreeSet::from([MAIN_WINDOW.to_owned()])),
            pushers,
            to_ui: OnceLock::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets how requests reach the GTK thread; the first call wins.
    pub(crate) fn wire(&self, to_ui: impl Fn(Request) + Send + Sync + 'static) {
        let _ = self.to_ui.set(Box::new(to_ui));
    }

    fn send(&self, r: Request) {
        if let Some(to_ui) = self.to_ui.get() {
            to_ui(r);
        }
    }

    /// The labels open now.
    pub(crate) fn open_labels(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    /// Asks the GTK thread to open `label` (focused if it is open
    /// already). `opener`: the window whose page asked.
    pub(crate) fn open(&self, label: &str, opener: Option<&str>) -> Result<(), WindowError> {
        if label == MAIN_WINDOW {
            return Err(WindowError::Main);
        }
        if !self.declared.contains_key(label) {
            return Err(WindowError::NotDeclared(label.to_owned()));
        }
        {
            let mut open = self.lock();
            if !open.contains(label) {
                if open.len() >= self.max_open {
                    return Err(WindowError::TooMany { max: self.max_open });
                }
                open.insert(label.to_owned());
            }
        }
        self.send(Request::Open {
            label: label.to_owned(),
            opener: opener.map(str::to_owned),
        });
        Ok(())
    }

    /// Asks the GTK thread to bring `label` forward; `false` (and nothing
    /// asked) when it is not open.
    pub(crate) fn present(&self, label: &str) -> bool {
        if !self.lock().contains(label) {
            return false;
        }
        self.send(Request::Present {
            label: label.to_owned(),
        });
        true
    }

    /// Asks the GTK thread to close `label`; nothing when it is not open.
    pub(crate) fn close(&self, label: &str) {
        if self.lock().contains(label) {
            self.send(Request::Close {
                label: label.to_owned(),
            });
        }
    }

    /// The GTK thread has closed `label` (or could not open it).
    pub(crate) fn closed(&self, label: &str) {
        self.lock().remove(label);
    }

    /// The pusher of app window `label`, if it is open.
    pub(crate) fn pusher(&self, label: &str) -> Option<&Arc<Pusher>> {
        if !self.lock().contains(label) {
            return None;
        }
        self.pushers.get(label)
    }

    /// The pushers of every open app window.
    pub(crate) fn open_pushers(&self) -> Vec<Arc<Pusher>> {
        let open = self.lock();
        self.pushers
            .iter()
            .filter(|(label, _)| open.contains(*label))
            .map(|(_, p)| Arc::clone(p))
            .collect()
    }
}

/// `window.open`'s arguments.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenArgs {
    label: String,
}

/// What `window.open` and `window.close` answer.
#[derive(Serialize)]
struct Done {
    ok: bool,
}

/// The window commands of the app window whose page may open `may_open`
/// (its `allowlist.windows`): `window.open` (allowed when the list is not
/// empty) and `window.close` (always: its own window).
pub(crate) fn commands(windows: &Arc<Windows>, may_open: &[String]) -> Commands {
    let w = Arc::clone(windows);
    let may_open: BTreeSet<String> = may_open.iter().cloned().collect();
    let close = Arc::clone(windows);
    Commands::new()
        .builtin("window.open", move |a: OpenArgs, ctx: &CallContext| {
            if !may_open.contains(&a.label) {
                return Err(ScopeError::WindowDenied {
                    label: a.label,
                    reason: format!("not in allowlist.windows of window {}", ctx.window()),
                });
            }
            w.open(&a.label, Some(ctx.window()))
                .map_err(|e| e.for_page(&a.label))?;
            tracing::info!(window = %ctx.window(), label = %a.label, "window.open");
            Ok(Done { ok: true })
        })
        .builtin("window.close", move |_: NoArgs, ctx: &CallContext| {
            tracing::info!(window = %ctx.window(), "window.close");
            close.close(ctx.window());
            Ok(Done { ok: true })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(max: usize) -> (Arc<Windows>, Arc<Mutex<Vec<Request>>>) {
        let declared = BTreeMap::from([
            ("main".to_owned(), Kind::App),
            ("settings".to_owned(), Kind::App),
            ("signin".to_owned(), Kind::Untrusted),
        ]);
        let w = Arc::new(Windows::new(declared, max, BTreeMap::new()));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&sent);
        w.wire(move |r| s.lock().unwrap().push(r));
        (w, sent)
    }

    #[test]
    fn only_declared_windows_open_and_no_more_than_the_bound() {
        let (w, sent) = windows(2);
        assert_eq!(
            w.open("nope", None),
            Err(WindowError::NotDeclared("nope".into()))
        );
        assert_eq!(w.open("main", None), Err(WindowError::Main));
        assert_eq!(WindowError::Main.for_page("main").code(), "scope_denied");
        w.open("settings", Some("main")).unwrap();
        // Open already: asked again (focused), not counted twice.
        w.open("settings", None).unwrap();
        let e = w.open("signin", Some("main")).unwrap_err();
        assert_eq!(e, WindowError::TooMany { max: 2 });
        assert_eq!(e.for_page("signin").code(), "busy");
        w.closed("settings");
        w.open("signin", Some("main")).unwrap();
        assert_eq!(
            sent.lock().unwrap()[0],
            Request::Open {
                label: "settings".into(),
                opener: Some("main".into())
            }
        );
        assert_eq!(w.open_labels(), ["main", "signin"]);
    }

    #[test]
    fn closing_a_window_that_is_not_open_asks_nothing() {
        let (w, sent) = windows(8);
        w.close("settings");
        assert!(sent.lock().unwrap().is_empty());
        w.close("main");
        assert_eq!(
            sent.lock().unwrap()[..],
            [Request::Close {
                label: "main".into()
            }]
        );
    }
}
