//! Moat: a desktop webview runtime with the isolation pattern built in.
//!
//! The page never talks to Rust directly. `window.moat.invoke(cmd, args)`
//! goes to a sandboxed isolation frame on its own origin, which runs the
//! app's JS hooks and seals the whole call with a per-page-load AES-256-GCM
//! key only it holds; the core opens the envelope, refuses forgeries and
//! replays, and dispatches to a dedicated command.
//!
//! The public surface is what an app needs:
//! - [`Builder`] assembles the app and runs it;
//! - [`Config`] is its `moat.json`, only ever made by [`Config::from_json`],
//!   which validates it ([`ConfigError`] says which key is wrong);
//! - [`Commands`] registers the app's commands, each called with a
//!   [`CallContext`] ([`NoArgs`] for a command without arguments);
//! - [`Error`] is why the app could not start;
//! - [`Dir`] and [`include_dir!`] embed the frontend and hooks;
//! - [`audit`] checks a config and frontend on disk (the `audit` command).
//!
//! ```no_run
//! use moat::{Builder, Commands, Config};
//! static FRONTEND: moat::Dir = moat::include_dir!("$CARGO_MANIFEST_DIR/demo-frontend");
//! static HOOKS: moat::Dir = moat::include_dir!("$CARGO_MANIFEST_DIR/demo-frontend/hooks");
//!
//! #[derive(serde::Deserialize)]
//! struct Greet { name: String }
//!
//! fn main() -> Result<(), moat::Error> {
//!     let config = Config::from_json(r#"{"identifier": "dev.example.app", "title": "Example"}"#)?;
//!     let commands = Commands::new()
//!         .sync("greet", |a: Greet, _| Ok::<_, String>(format!("Hello, {}!", a.name)));
//!     Builder::new(config).frontend(&FRONTEND).hooks(&HOOKS).commands(commands).run()
//! }
//! ```
//!
//! Moat builds on Linux only today (WebKitGTK); `docs/platforms.md` says
//! what a port must provide.
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs, unreachable_pub)]
// Path checks by name belong nowhere near a scope (see `clippy.toml`); the
// lint is denied in `scope/` and allowed, with a reason, where a path is
// looked at once at startup.
#![allow(
    clippy::disallowed_methods,
    reason = "denied in `scope/`, where a path is page input; allowed where a path is looked at once at startup"
)]

#[cfg(not(target_os = "linux"))]
compile_error!(
    "Moat builds on Linux (WebKitGTK) only today. docs/platforms.md lists what a port to another platform must provide and which security facts it must re-verify."
);

#[cfg_attr(
    not(all(
        feature = "api-fs",
        feature = "api-shell",
        feature = "api-http",
        feature = "api-asset",
        feature = "api-store"
    )),
    allow(
        dead_code,
        reason = "the built-in modules compile in every build (their scopes are checked at startup and by the audit); their commands only with their api-* feature"
    )
)]
mod api;
mod app;
pub mod audit;
mod cli;
mod config;
mod confine;
mod csp;
mod engine;
mod error;
#[cfg(any(test, feature = "fuzz-targets"))]
#[doc(hidden)]
pub mod fuzz;
#[cfg(feature = "dangerous-test-harness")]
mod harness;
mod ipc;
mod isolation;
mod launch;
mod log;
mod origin;
mod protocol;
#[cfg_attr(
    not(all(
        feature = "api-fs",
        feature = "api-shell",
        feature = "api-http",
        feature = "api-asset",
        feature = "api-store"
    )),
    allow(
        dead_code,
        reason = "every scope compiles in every build (startup and the audit check them); only the built-ins use all of them"
    )
)]
mod scope;
mod source;
mod window;

pub use config::{Config, ConfigError};
pub use error::Error;
pub use include_dir::Dir;

#[doc(hidden)]
pub mod __private {
    pub use include_dir;
}

/// Embeds a directory in the binary, for [`Builder::frontend`] and
/// [`Builder::hooks`]:
///
/// ```ignore
/// static FRONTEND: moat::Dir = moat::include_dir!("$CARGO_MANIFEST_DIR/frontend");
/// ```
///
/// It is `include_dir`'s macro, usable without depending on that crate
/// (its expansion names it, so the name is brought into scope here). The
/// app's build script should name the directory as an input
/// (`cargo:rerun-if-changed`), or a file added to it is embedded only at
/// the next rebuild for another reason.
#[macro_export]
macro_rules! include_dir {
    // Tokens, not a `literal` fragment: a proc macro reads a forwarded
    // fragment as an opaque group, not as the string it holds.
    ($($path:tt)+) => {{
        use $crate::__private::include_dir;
        include_dir::include_dir!($($path)+)
    }};
}
pub use ipc::command::{CallContext, Commands, NoArgs};
pub use ipc::push::{AppHandle, Channel, PushError};
pub use ipc::windows::WindowError;
pub use ipc::wire::bytes::Bytes;
pub use log::{log_layer, LogFields};

use protocol::Mounts;

static EMPTY_DIR: Dir<'static> = Dir::new("", &[]);

/// Assembles an app: its config, embedded frontend, hooks and commands.
pub struct Builder {
    config: Config,
    frontend: &'static Dir<'static>,
    hooks: &'static Dir<'static>,
    commands: Commands,
    about: cli::About,
    setup: Option<app::Setup>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .field("commands", &self.commands)
            .field("about", &self.about)
            .field("setup", &self.setup.is_some())
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// An app with no frontend, hooks or commands yet.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            frontend: &EMPTY_DIR,
            hooks: &EMPTY_DIR,
            commands: Commands::new(),
            about: cli::About {
                name: "moat-app",
                version: "",
                sources: audit::Sources::default(),
            },
            setup: None,
        }
    }

    /// Code to run once at start-up, on the UI thread, before the page loads,
    /// inside Moat's tokio runtime (`tokio::spawn` works there): it gets an
    /// [`AppHandle`] to push events from background work. It must not block.
    pub fn setup(mut self, f: impl FnOnce(AppHandle) + 'static) -> Self {
        self.setup = Some(Box::new(f));
        self
    }

    /// The app's name and version, for `--version` and `--help`:
    /// `.about(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))`.
    pub fn about(mut self, name: &'static str, version: &'static str) -> Self {
        self.about.name = name;
        self.about.version = version;
        self
    }

    /// Where the app's sources are on disk, relative to the directory the
    /// app is run from, for `audit` when it names none: the config file,
    /// the frontend directory and the hooks directory. Defaults:
    /// `moat.json`, `frontend`, `<frontend>/hooks`.
    pub fn sources(mut self, config: &str, frontend: &str, hooks: &str) -> Self {
        self.about.sources = audit::Sources {
            config: config.into(),
            frontend: frontend.into(),
            hooks: Some(hooks.into()),
        };
        self
    }

    /// The embedded frontend served at `app://localhost/`; must contain
    /// `index.html`.
    pub fn frontend(mut self, dir: &'static Dir<'static>) -> Self {
        self.frontend = dir;
        self
    }

    /// The directory the hooks named in `isolation.hooks` are served from,
    /// at `isolation://localhost/hooks/`.
    pub fn hooks(mut self, dir: &'static Dir<'static>) -> Self {
        self.hooks = dir;
        self
    }

    /// Adds commands; may be called several times.
    pub fn commands(mut self, commands: Commands) -> Self {
        self.commands = std::mem::take(&mut self.commands).merge(commands);
        self
    }

    /// Answers the command line every Moat app takes, if it asks for
    /// something: `--help`, `--version`, or `audit` (the app's sources on
    /// disk), `types` (the TypeScript declarations of the app's commands,
    /// with the `typescript` feature). Returns the exit code when it answered; `None` when the app
    /// should run. Anything else on the command line is the app's.
    ///
    /// ```no_run
    /// # fn builder() -> moat::Builder { unimplemented!() }
    /// let app = builder();
    /// if let Some(code) = app.answer_command_line() {
    ///     std::process::exit(code);
    /// }
    /// app.run()?;
    /// # Ok::<(), moat::Error>(())
    /// ```
    pub fn answer_command_line(&self) -> Option<i32> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match cli::handle(&self.about, &args) {
            cli::Action::Run => None,
            cli::Action::Exit(code) => Some(code),
            cli::Action::Types => Some(self.print_types()),
            cli::Action::MimeTypes => {
                println!("{}", self.config.0.launch.desktop_mime_types());
                Some(0)
            }
        }
    }

    #[cfg(feature = "typescript")]
    fn print_types(&self) -> i32 {
        print!("{}", self.commands.typescript());
        0
    }

    #[cfg(not(feature = "typescript"))]
    fn print_types(&self) -> i32 {
        eprintln!(
            "{}: `types` needs Moat's cargo feature `typescript` (and the commands registered with sync_typed / asynchronous_typed)",
            self.about.name
        );
        2
    }

    /// Checks everything, opens the main window and runs until the app
    /// ends (its main window closed), then returns. Installs Moat's log
    /// unless the app installed a `tracing` subscriber first (then add
    /// [`log_layer`] to it). Returns an error only on a startup error: a
    /// bad config, frontend or argument, a missing program, no display, a
    /// protection that cannot start.
    pub fn run(self) -> Result<(), Error> {
        // Before GTK, WebKit or any thread (`engine`).
        let removed = engine::switches::remove_from_environment();
        window::prepare_process();
        log::init();
        engine::switches::log_removed(&removed);
        let parts = app::Parts {
            frontend: Mounts::default().with(("", self.frontend)),
            hooks: Mounts::default().with(("", self.hooks)),
            commands: self.commands,
            opener: None,
            setup: self.setup,
            config: self.config.0,
            landlock_at_most: u8::MAX,
        };
        let (parts, options) = for_run(parts)?;
        let arrivals = match launch::start(&parts.config, own_arguments()) {
            launch::Start::Run(arrivals) => arrivals,
            launch::Start::HandedOver => return Ok(()),
        };
        let dirs = scope::BaseDirs::for_app(&parts.config.identifier);
        let mut app = app::check(parts, dirs)?;
        app.launch = Some(arrivals);
        // Still before any thread: the runtime starts in `window::run`.
        engine::sandbox::prepare(app.sandbox_off, &app.webkit_dir.join("cache"))?;
        let code = window::run(app, options)?;
        ended(code);
        Ok(())
    }
}

/// The app has ended with `code`: an app ends with 0.
#[cfg(not(feature = "dangerous-test-harness"))]
fn ended(_code: i32) {}

/// The test harness ends a run that failed with its code.
#[cfg(feature = "dangerous-test-harness")]
fn ended(code: i32) {
    if code != 0 {
        std::process::exit(code);
    }
}

/// The command line's arguments, the program's name left out.
#[cfg(not(feature = "dangerous-test-harness"))]
fn own_arguments() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// The command line's arguments, the program's name and the harness's
/// flags left out.
#[cfg(feature = "dangerous-test-harness")]
fn own_arguments() -> Vec<String> {
    harness::own_arguments(std::env::args().skip(1))
}

/// The parts as given, and the window's default options.
#[cfg(not(feature = "dangerous-test-harness"))]
fn for_run(parts: app::Parts) -> Result<(app::Parts, window::Options), Error> {
    Ok((parts, window::Options::default()))
}

/// The parts and options the test harness makes of the command line.
#[cfg(feature = "dangerous-test-harness")]
fn for_run(parts: app::Parts) -> Result<(app::Parts, window::Options), Error> {
    harness::apply(parts)
}
