//! Launch by link: the URL schemes and file types the app declares
//! (`launch` in `moat.json`), the links and files a launch brings, and one
//! running instance that receives them.
//!
//! Threat: a launch's arguments come from whoever made the user click a
//! link (a web page, an email), or from any process of the user through
//! the instance's socket; they never pass the isolation frame. Each is
//! judged here ([`Launch::judge`]): bounded, no control characters, a URL
//! parsed (WHATWG) with a declared scheme and sent on in its parsed form,
//! or an absolute file path with no `.`/`..` segment; at most
//! [`RATE_MAX`] in [`RATE_WINDOW`]. What passes reaches the page only as
//! the event `moat:launch` (`{ url }` or `{ file }`) on the window the
//! config names: never a navigation, and never a grant (a file is a name
//! until the user picks it in a chooser, or the app's own command reads it).

pub(crate) mod instance;
pub(crate) mod wire;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

pub(crate) use crate::config::LaunchConfig;

/// The most launch arguments delivered in [`RATE_WINDOW`]; more are refused.
pub(crate) const RATE_MAX: usize = 20;
/// The window of [`RATE_MAX`].
pub(crate) const RATE_WINDOW: Duration = Duration::from_secs(10);
/// The longest link or path delivered, in bytes.
pub(crate) const MAX_LINK_BYTES: usize = 2048;
/// The least time between two later launches bringing the window
/// forward: any process of the user can connect to the instance, and should
/// not keep taking the focus.
pub(crate) const FORWARD_EVERY: Duration = Duration::from_secs(1);
/// The event a link or file reaches the page as.
pub(crate) const EVENT: &str = "moat:launch";

/// What a launch brings the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Arrival {
    /// A link of a declared scheme, as parsed.
    Url(String),
    /// An absolute path: a name, not a grant.
    File(String),
}

/// Why an argument was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    TooLong(usize),
    Control,
    Malformed(String),
    Undeclared(String),
    NoFileTypes,
    RateLimited,
}

impl Refused {
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Refused::RateLimited => "rate_limited",
            _ => "launch_refused",
        }
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::TooLong(n) => write!(f, "{n} bytes, at most {MAX_LINK_BYTES}"),
            Refused::Control => f.write_str("it has a control character"),
            Refused::Malformed(why) => write!(f, "not a URL: {why}"),
            Refused::Undeclared(s) => write!(f, "scheme `{s}` is not in launch.schemes"),
            Refused::NoFileTypes => f.write_str("a file, but launch.mimeTypes declares none"),
            Refused::RateLimited => write!(
                f,
                "more than {RATE_MAX} launch arguments in {} s",
                RATE_WINDOW.as_secs()
            ),
        }
    }
}

/// The app's launch handling: the judge, the rate, and what waits for the
/// receiving window's page.
pub(crate) struct Launch {
    config: LaunchConfig,
    recent: Mutex<VecDeque<Instant>>,
    /// Judged arrivals waiting for the window's first page load.
    waiting: Mutex<Option<Vec<Arrival>>>,
    handle: OnceLock<crate::AppHandle>,
    /// When a later launch last brought the window forward.
    forward: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Launch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launch")
            .field("config", &self.config)
            .finish()
    }
}

impl Launch {
    pub(crate) fn new(config: LaunchConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            recent: Mutex::new(VecDeque::new()),
            waiting: Mutex::new(Some(Vec::new())),
            handle: OnceLock::new(),
            forward: Mutex::new(None),
        })
    }

    /// The window that receives the event.
    pub(crate) fn window(&self) -> &str {
        &self.config.window
    }

    /// Judges `arg`: what it brings, `None` when it is not a link or a
    /// path (an argument of the app's own), or why it is refused.
    pub(crate) fn judge(&self, arg: &str) -> Result<Option<Arrival>, Refused> {
        if arg.len() > MAX_LINK_BYTES {
            return Err(Refused::TooLong(arg.len()));
        }
        if arg.chars().any(|c| c.is_control() || is_invisible(c)) {
            return Err(Refused::Control);
        }
        if arg.starts_with('/') {
            return self.file(arg).map(Some);
        }
        let Some((scheme, _)) = arg.split_once(':') else {
            return Ok(None);
        };
        let looks_like_url = scheme.len() >= 2
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !looks_like_url {
            return Ok(None);
        }
        let url = url::Url::parse(arg).map_err(|e| Refused::Malformed(e.to_string()))?;
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|()| Refused::Malformed("a file: URL that is not a local path".into()))?;
            let path = path
                .to_str()
                .ok_or_else(|| Refused::Malformed("a path that is not UTF-8".into()))?;
            return self.file(path).map(Some);
        }
        if !self.config.schemes.iter().any(|s| s == url.scheme()) {
            return Err(Refused::Undeclared(url.scheme().to_owned()));
        }
        Ok(Some(Arrival::Url(url.into())))
    }

    fn file(&self, path: &str) -> Result<Arrival, Refused> {
        if self.config.mime_types.is_empty() {
            return Err(Refused::NoFileTypes);
        }
        let canonical = std::path::Path::new(path).components().all(|c| {
            matches!(
                c,
                std::path::Component::RootDir | std::path::Component::Normal(_)
            )
        });
        if !canonical || path.contains("//") {
            return Err(Refused::Malformed(
                "a path with '.', '..' or '//' in it".into(),
            ));
        }
        Ok(Arrival::File(path.to_owned()))
    }

    /// One more argument within the rate, or `RateLimited`.
    fn within_rate(&self) -> Result<(), Refused> {
        let now = Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > RATE_WINDOW)
        {
            recent.pop_front();
        }
        if recent.len() >= RATE_MAX {
            return Err(Refused::RateLimited);
        }
        recent.push_back(now);
        Ok(())
    }

    /// Judges each of a launch's arguments and delivers what passes;
    /// `from` says where they came from, for the log.
    pub(crate) fn receive(&self, args: &[String], from: &str) {
        for arg in args {
            let judged = self.within_rate().and_then(|()| self.judge(arg));
            match judged {
                Ok(Some(arrival)) => {
                    tracing::info!(from, window = %self.config.window, kind = kind(&arrival), "launch argument delivered");
                    self.deliver(arrival);
                }
                Ok(None) => tracing::debug!(
                    from,
                    "launch argument is the app's own (not a link or a path)"
                ),
                Err(why) => crate::ipc::refusals::refuse(
                    &self.config.window,
                    why.code(),
                    &format!("launch argument from {from} refused: {why}; argument={arg:?}"),
                ),
            }
        }
    }

    fn deliver(&self, arrival: Arrival) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        match (waiting.as_mut(), self.handle.get()) {
            (None, Some(handle)) => {
                drop(waiting);
                emit(handle, &self.config.window, &arrival);
            }
            (Some(queue), _) => queue.push(arrival),
            (None, None) => {}
        }
    }

    /// A later launch reached this instance: the receiving window (or the
    /// main window, when that one is closed) is shown again if it was
    /// hidden or minimised, raised and focused, at most once in
    /// [`FORWARD_EVERY`]. Before the window's first page load it is
    /// coming up anyway, and nothing is asked.
    pub(crate) fn bring_forward(&self) {
        let Some(handle) = self.handle.get() else {
            return;
        };
        if !self.forward_due(Instant::now()) {
            tracing::debug!("a later launch: the window came forward less than a second ago");
            return;
        }
        let window = if handle.windows.present(&self.config.window) {
            self.config.window.as_str()
        } else if handle.windows.present(crate::config::MAIN_WINDOW) {
            crate::config::MAIN_WINDOW
        } else {
            return;
        };
        tracing::info!(%window, "a later launch brought the window forward");
    }

    /// Whether a window may come forward at `now`, and if so, that it did.
    fn forward_due(&self, now: Instant) -> bool {
        let mut last = self.forward.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| now.saturating_duration_since(t) < FORWARD_EVERY) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// The receiving window's page has loaded (its listeners are in
    /// place): what waited is delivered, and what comes later at once.
    pub(crate) fn page_loaded(&self, handle: &crate::AppHandle) {
        let _ = self.handle.set(handle.clone());
        let queued = self
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        for arrival in queued.into_iter().flatten() {
            emit(handle, &self.config.window, &arrival);
        }
    }
}

fn kind(a: &Arrival) -> &'static str {
    match a {
        Arrival::Url(_) => "url",
        Arrival::File(_) => "file",
    }
}

fn emit(handle: &crate::AppHandle, window: &str, arrival: &Arrival) {
    if let Err(e) = handle.emit_to(window, EVENT, arrival) {
        tracing::warn!(%window, error = %e, "a launch argument could not be delivered");
    }
}

/// The app's launch handling as it starts: the judge, and the socket it
/// listens on when this process is the app's instance.
pub(crate) struct Arrivals {
    pub(crate) launch: Arc<Launch>,
    pub(crate) listener: Option<std::os::unix::net::UnixListener>,
}

/// What this launch does.
pub(crate) enum Start {
    /// Run the app, receiving links as [`Arrivals`] says.
    Run(Arrivals),
    /// The running instance has this launch's arguments: exit.
    HandedOver,
}

/// What `launch.singleInstance: false` costs, for the log and the audit.
pub(crate) const SEVERAL_INSTANCES: &str = "a second launch runs beside the first on the same data: each keeps its own view of the store (the last write wins, and neither is told of the other's changes), and links and files are not handed to the running window";

/// Claims the app's instance (unless `launch.singleInstance` is off) and
/// judges this launch's own arguments (`args`: the command line's, the
/// program's name and any test-harness flag left out), which wait for the
/// page.
pub(crate) fn start(config: &crate::config::Settings, args: Vec<String>) -> Start {
    let launch = Launch::new(config.launch.clone());
    let mut listener = None;
    if !config.launch.single_instance {
        tracing::warn!("launch.singleInstance is off: {}", SEVERAL_INSTANCES);
    } else {
        match instance::claim(&config.identifier, &args) {
            instance::Claim::HandedOver => {
                tracing::info!(identifier = %config.identifier, "the running instance has this launch's arguments");
                return Start::HandedOver;
            }
            instance::Claim::First(l) => listener = Some(l),
            instance::Claim::Alone(why) => {
                tracing::warn!(%why, "no single instance: this launch runs on its own");
            }
        }
    }
    launch.receive(&args, "the command line");
    Start::Run(Arrivals { launch, listener })
}

/// Characters that change how text reads without showing (bidi controls,
/// zero-width marks): refused like control characters.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(mime: &[&str]) -> Arc<Launch> {
        Launch::new(LaunchConfig {
            schemes: vec!["moat-demo".into()],
            mime_types: mime.iter().map(|m| (*m).to_owned()).collect(),
            ..LaunchConfig::default()
        })
    }

    #[test]
    fn later_launches_bring_the_window_forward_at_most_once_a_second() {
        let l = launch(&[]);
        let t = Instant::now();
        assert!(l.forward_due(t));
        assert!(!l.forward_due(t + Duration::from_millis(999)));
        assert!(l.forward_due(t + FORWARD_EVERY));
        assert!(!l.forward_due(t + FORWARD_EVERY));
    }

    #[test]
    fn a_declared_link_passes_in_its_parsed_form_and_others_are_refused() {
        let l = launch(&[]);
        assert_eq!(
            l.judge("MOAT-DEMO://Open/a b?x=1").unwrap(),
            Some(Arrival::Url("moat-demo://Open/a%20b?x=1".into()))
        );
        assert_eq!(l.judge("evil://x"), Err(Refused::Undeclared("evil".into())));
        assert_eq!(
            l.judge("https://example.com/"),
            Err(Refused::Undeclared("https".into()))
        );
        assert_eq!(l.judge("moat-demo://a\nb"), Err(Refused::Control));
        assert_eq!(l.judge("moat-demo://a\u{202e}b"), Err(Refused::Control));
        let long = format!("moat-demo://{}", "a".repeat(MAX_LINK_BYTES));
        assert_eq!(l.judge(&long), Err(Refused::TooLong(long.len())));
        assert!(matches!(
            l.judge("moat-demo://[::1"),
            Err(Refused::Malformed(_))
        ));
        assert_eq!(l.judge("--verbose").unwrap(), None, "the app's own");
        assert_eq!(l.judge("C:x").unwrap(), None, "not a scheme");
    }

    #[test]
    fn a_file_is_a_canonical_absolute_name_only_when_file_types_are_declared() {
        assert_eq!(launch(&[]).judge("/home/u/a.md"), Err(Refused::NoFileTypes));
        let l = launch(&["text/markdown"]);
        assert_eq!(
            l.judge("/home/u/a.md").unwrap(),
            Some(Arrival::File("/home/u/a.md".into()))
        );
        assert_eq!(
            l.judge("file:///home/u/a%20b.md").unwrap(),
            Some(Arrival::File("/home/u/a b.md".into()))
        );
        assert!(matches!(
            l.judge("/home/u/../../etc/passwd"),
            Err(Refused::Malformed(_))
        ));
        assert!(matches!(l.judge("/home//u"), Err(Refused::Malformed(_))));
        assert!(matches!(
            l.judge("file://host/share/x"),
            Err(Refused::Malformed(_))
        ));
    }

    #[test]
    fn past_the_rate_launch_arguments_are_refused() {
        let l = launch(&[]);
        for _ in 0..RATE_MAX {
            assert_eq!(l.within_rate(), Ok(()));
        }
        assert_eq!(l.within_rate(), Err(Refused::RateLimited));
        assert_eq!(Refused::RateLimited.code(), "rate_limited");
    }

    #[test]
    fn the_config_refuses_schemes_the_web_or_moat_owns() {
        let bad = |schemes: &[&str], mime: &[&str]| {
            LaunchConfig {
                schemes: schemes.iter().map(|s| (*s).to_owned()).collect(),
                mime_types: mime.iter().map(|s| (*s).to_owned()).collect(),
                ..LaunchConfig::default()
            }
            .check()
            .unwrap_err()
            .0
        };
        assert_eq!(bad(&["https"], &[]), "launch.schemes[0]");
        assert_eq!(bad(&["ok", "Bad"], &[]), "launch.schemes[1]");
        assert_eq!(bad(&[], &["x-scheme-handler/foo"]), "launch.mimeTypes[0]");
        assert_eq!(bad(&[], &["markdown"]), "launch.mimeTypes[0]");
        let good = LaunchConfig {
            schemes: vec!["moat-demo".into()],
            mime_types: vec!["text/markdown".into()],
            ..LaunchConfig::default()
        };
        assert!(good.check().is_ok());
        assert_eq!(
            good.desktop_mime_types(),
            "x-scheme-handler/moat-demo;text/markdown;"
        );
    }
}
