//! Moat: a desktop webview runtime with the isolation pattern built in.
//!
//! The page never talks to Rust directly. `window.moat.invoke(cmd, args)`
//! goes to a sandboxed isolation frame on its own origin, which runs the
//! app's JS hooks and seals the whole call with a per-page-load AES-256-GCM
//! key only it holds; the core opens the envelope, refuses forgeries and
//! replays, and dispatches to a dedicated command.
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
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs, unreachable_pub)]

// The scopes compile in every build (config validation and the audit use
// them); which parts run depends on the `api-*` features.
#[cfg_attr(
    not(all(
        feature = "api-fs",
        feature = "api-shell",
        feature = "api-http",
        feature = "api-asset"
    )),
    allow(dead_code)
)]
mod api;
pub mod audit;
mod config;
mod csp;
mod error;
#[cfg(feature = "test-harness")]
mod harness;
mod ipc;
mod isolation;
mod log;
mod protocol;
#[cfg_attr(
    not(all(
        feature = "api-fs",
        feature = "api-shell",
        feature = "api-http",
        feature = "api-asset"
    )),
    allow(dead_code)
)]
mod scope;
mod window;

pub use config::{
    Allowlist, Config, ConfigError, Dangerous, FsAllow, HttpAllow, IsolationConfig, Limits,
    PathScopeConfig, Permission, ScopeConfig, ShellAllow, ShellArg, ShellArgs, ShellEntryConfig,
    UrlScopeConfig, WindowConfig,
};
pub use error::Error;
pub use include_dir::{include_dir, Dir};
pub use ipc::command::{CallContext, Commands, NoArgs};

static EMPTY_DIR: Dir<'static> = Dir::new("", &[]);

/// Assembles an app: its config, embedded frontend, hooks and commands.
#[derive(Debug)]
pub struct Builder {
    config: Config,
    frontend: &'static Dir<'static>,
    hooks: &'static Dir<'static>,
    commands: Commands,
}

impl Builder {
    /// An app with no frontend, hooks or commands yet.
    pub fn new(config: Config) -> Self {
        Self {
            config,
            frontend: &EMPTY_DIR,
            hooks: &EMPTY_DIR,
            commands: Commands::new(),
        }
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

    /// Checks everything, opens the window and runs until it closes. Returns
    /// only on a startup error.
    #[allow(unused_mut)]
    pub fn run(mut self) -> Result<(), Error> {
        #[cfg(feature = "test-harness")]
        if let Some(config) = harness::config_override()? {
            self.config = config;
        }
        window::run(self.check()?)
    }

    fn check(self) -> Result<window::Checked, Error> {
        if let Some(dup) = self.commands.duplicates.first() {
            return Err(Error::DuplicateCommand(dup.clone()));
        }
        // `module.function` names belong to the built-in modules, so an app
        // command can never shadow one (or be mistaken for one in the log).
        if let Some(name) = self.commands.handlers.keys().find(|n| n.contains('.')) {
            return Err(Error::ReservedCommandName(name.clone()));
        }
        if let Some(allowed) = &self.config.allowlist.commands {
            if let Some(unknown) = allowed.iter().find(|c| self.commands.get(c).is_none()) {
                return Err(Error::AllowlistUnknownCommand(unknown.clone()));
            }
        }
        #[allow(unused_mut)]
        let mut hook_mounts = vec![("", self.hooks)];
        #[cfg(feature = "test-harness")]
        hook_mounts.push(("__test__/", &harness::TEST_HOOKS));
        let hooks = protocol::Mounts::new(hook_mounts);
        if let Some(missing) = self
            .config
            .isolation
            .hooks
            .iter()
            .find(|h| hooks.file(h.as_str()).is_none())
        {
            return Err(Error::MissingHook(missing.clone()));
        }
        if self.frontend.get_file("index.html").is_none() {
            return Err(Error::MissingIndex);
        }
        devtools_allowed(self.config.devtools, cfg!(debug_assertions))?;
        let builtins = api::allowed(&self.config)?;
        let csp = csp::Csp::new(
            self.config.csp.as_deref(),
            !self.config.dangerous.disable_csp_modification,
            builtins.contains(&"asset"),
        );
        #[allow(unused_mut)]
        let mut mounts = vec![("", self.frontend)];
        #[cfg(feature = "test-harness")]
        mounts.push(("__test__/", &harness::TEST_PAGES));
        let app_protocol = protocol::app::AppProtocol::new(protocol::Mounts::new(mounts), &csp)?;
        Ok(window::Checked {
            config: self.config,
            app_protocol,
            hooks,
            commands: self.commands,
            builtins,
        })
    }
}

/// Whether the web inspector is on: only when asked for, and never in a
/// release build, which refuses to start rather than quietly drop the
/// request (so nobody ships believing it is on or off by accident).
pub(crate) fn devtools_allowed(requested: bool, debug_build: bool) -> Result<bool, Error> {
    match (requested, debug_build) {
        (true, false) => Err(Error::DevtoolsInRelease),
        (requested, _) => Ok(requested),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devtools_are_on_only_when_asked_in_a_debug_build() {
        assert!(matches!(
            devtools_allowed(true, false),
            Err(Error::DevtoolsInRelease)
        ));
        assert!(matches!(devtools_allowed(true, true), Ok(true)));
        assert!(matches!(devtools_allowed(false, true), Ok(false)));
        assert!(matches!(devtools_allowed(false, false), Ok(false)));
        assert!(Error::DevtoolsInRelease
            .to_string()
            .contains("never available in a release build"));
    }

    static FRONTEND: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo-frontend");
    static HOOKS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo-frontend/hooks");

    fn config(extra: &str) -> Config {
        Config::from_json(&format!(
            r#"{{"identifier":"dev.moat.t","title":"T"{extra}}}"#
        ))
        .unwrap()
    }

    fn ping() -> Commands {
        Commands::new().sync("ping", |_: NoArgs, _| Ok::<_, ()>("pong"))
    }

    fn err(b: Builder) -> String {
        match b.check() {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_valid_app_passes_the_startup_checks() {
        let b = Builder::new(config(r#","isolation":{"hooks":["validate.js"]}"#))
            .frontend(&FRONTEND)
            .hooks(&HOOKS)
            .commands(ping());
        assert!(b.check().is_ok());
    }

    #[test]
    fn a_command_registered_twice_stops_startup() {
        let b = Builder::new(config(""))
            .frontend(&FRONTEND)
            .commands(ping())
            .commands(ping());
        assert_eq!(err(b), "command `ping` is registered twice; rename one");
    }

    #[test]
    fn app_commands_cannot_take_a_built_in_name() {
        let b = Builder::new(config("")).frontend(&FRONTEND).commands(
            Commands::new().sync("fs.read_text_file", |_: NoArgs, _| {
                Ok::<_, ()>("not the real one")
            }),
        );
        assert_eq!(
            err(b),
            "command `fs.read_text_file`: names with a '.' are reserved for Moat's built-in modules; rename it"
        );
    }

    #[test]
    fn allowlisting_an_unregistered_command_stops_startup() {
        let b = Builder::new(config(r#","allowlist":{"commands":["ping","pnig"]}"#))
            .frontend(&FRONTEND)
            .commands(ping());
        assert!(err(b).contains("`pnig` is not a registered command"));
    }

    #[test]
    fn a_missing_hook_stops_startup() {
        let b = Builder::new(config(r#","isolation":{"hooks":["nope.js"]}"#))
            .frontend(&FRONTEND)
            .hooks(&HOOKS);
        assert!(err(b).contains("`nope.js` is not in the hooks directory"));
    }

    #[test]
    fn allowing_a_module_the_binary_lacks_stops_startup_and_says_which_feature() {
        let b =
            Builder::new(config(r#","allowlist":{"fs":{"readFile":true}}"#)).frontend(&FRONTEND);
        if cfg!(feature = "api-fs") {
            assert!(b.check().is_ok());
        } else {
            assert_eq!(
                err(b),
                "moat config: allowlist: `fs.read_text_file` is allowed, but this binary was built without the cargo feature `api-fs`; enable the feature or remove it from the allowlist"
            );
        }
    }

    #[test]
    fn built_in_functions_the_allowlist_turns_on_are_listed() {
        let c = config(r#","allowlist":{"fs":{"all":true},"http":{"fetch":true}}"#);
        if cfg!(all(feature = "api-fs", feature = "api-http")) {
            let on = api::allowed(&c).unwrap();
            assert_eq!(
                on,
                [
                    "fs.read_text_file",
                    "fs.write_text_file",
                    "fs.read_dir",
                    "fs.remove_file",
                    "http.fetch"
                ]
            );
        }
        assert!(api::allowed(&config("")).unwrap().is_empty());
    }

    #[test]
    fn a_frontend_without_index_stops_startup() {
        assert_eq!(
            err(Builder::new(config(""))),
            "the frontend directory has no index.html"
        );
    }
}
