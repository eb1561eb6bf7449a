//! Errors that stop the app from starting. Call-time errors live in
//! `ipc::error` and never stop the app.

use crate::config::ConfigError;

/// Why Moat could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid.
    Config(ConfigError),
    /// The same command name was registered more than once.
    DuplicateCommand(String),
    /// An app command's name has a `.`, which only built-in modules use.
    ReservedCommandName(String),
    /// An app command's name breaks the naming rule.
    BadCommandName(String),
    /// `allowlist.commands` names a command that is not registered.
    AllowlistUnknownCommand(String),
    /// A hook named in `isolation.hooks` is not in the hooks directory.
    MissingHook(String),
    /// A hook, or a file a hook imports, would fail to load in the
    /// isolation frame (a syntax error, a package name, a missing file).
    Hook {
        /// `hooks/<file>:<line>`.
        place: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The frontend directory has no `index.html`.
    MissingIndex,
    /// The settings store's file cannot be read (it is left as it is).
    Store {
        /// The file.
        file: String,
        /// Why, and where its last good copy is.
        reason: String,
    },
    /// A window's `page` is not in the frontend directory.
    MissingPage(String),
    /// A window other than the main one cannot start as declared under
    /// `windows.<label>`.
    Window {
        /// The window's label.
        label: String,
        /// What is wrong with it.
        error: Box<Error>,
    },
    /// `MOAT_FRONTEND_DIR` (debug builds) names a directory that cannot be
    /// served.
    DevFrontend {
        /// The directory as given.
        dir: String,
        /// Why.
        message: String,
    },
    /// An HTML file cannot be served under the policy (for example an
    /// external script without `integrity`).
    Html {
        /// Path inside the frontend directory.
        file: String,
        /// What is wrong, with the line where it can be found.
        message: String,
    },
    /// The allowlist turns on a built-in function whose module this binary
    /// was built without.
    ModuleNotBuilt {
        /// The function, e.g. `fs.read_text_file`.
        function: &'static str,
        /// The cargo feature that compiles it in.
        feature: &'static str,
    },
    /// `devtools: true` in a release build.
    DevtoolsInRelease,
    /// `devtools: true` in a debug build without the `devtools` feature.
    DevtoolsNotBuilt,
    /// The webview's network content filter could not be built: the app
    /// does not start without it (`csp::network`).
    ContentFilter(String),
    /// The web content process sandbox cannot start: the app does not run
    /// a page without it (`dangerous.disableWebProcessSandbox` turns it
    /// off).
    Sandbox {
        /// What is missing or refused.
        cause: String,
        /// How to fix it.
        fix: String,
    },
    /// The kernel's confinement of command threads cannot be applied, or
    /// reaches less than `confinement.minimumLandlockAbi`.
    Confinement {
        /// What happened.
        cause: String,
        /// The minimum the app asks for.
        minimum: u8,
    },
    /// Command-line arguments were not understood.
    Args(String),
    /// The window, webview or runtime could not be created.
    Platform(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::DuplicateCommand(n) => write!(f, "command `{n}` is registered twice; rename one"),
            Error::ReservedCommandName(n) => write!(
                f,
                "command `{n}`: names with a '.' are reserved for Moat's built-in modules; rename it"
            ),
            Error::BadCommandName(n) => write!(
                f,
                "command {n:?}: a name is 1 to 64 ASCII letters, digits, '_', '-' or ':', starting with a letter; rename it"
            ),
            Error::AllowlistUnknownCommand(n) => write!(
                f,
                "moat config: allowlist.commands: `{n}` is not a registered command; register it or remove it"
            ),
            Error::MissingHook(h) => write!(
                f,
                "moat config: isolation.hooks: `{h}` is not in the hooks directory given to Builder::hooks"
            ),
            Error::Hook { message, .. } => f.write_str(message),
            Error::MissingIndex => f.write_str("the frontend directory has no index.html"),
            Error::Store { file, reason } => write!(
                f,
                "the settings store {file} cannot be read: {reason}"
            ),
            Error::MissingPage(page) => write!(
                f,
                "the frontend directory has no {page}; add it or change the window's page"
            ),
            Error::Window { label, error } => write!(f, "window `{label}` (windows.{label}): {error}"),
            Error::DevFrontend { dir, message } => write!(f, "MOAT_FRONTEND_DIR={dir}: {message}"),
            Error::Html { file, message } => write!(f, "frontend/{file}: {message}"),
            Error::ModuleNotBuilt { function, feature } => write!(
                f,
                "moat config: allowlist: `{function}` is allowed, but this binary was built without the cargo feature `{feature}`; enable the feature or remove it from the allowlist"
            ),
            Error::DevtoolsNotBuilt => f.write_str(
                "moat config: devtools: this binary was built without the cargo feature `devtools` (make run turns it on); build with it or set \"devtools\": false",
            ),
            Error::DevtoolsInRelease => f.write_str(
                "moat config: devtools: the web inspector is never available in a release build; set \"devtools\": false",
            ),
            Error::ContentFilter(m) => write!(
                f,
                "the webview's network filter cannot start ({m}); Moat does not run a page without it. Check that WebKitGTK is 2.24 or newer and that the temporary directory is writable"
            ),
            Error::Sandbox { cause, fix } => write!(
                f,
                "the web content process sandbox cannot start: {cause}. Fix: {fix}. Moat does not run a page without it (dangerous.disableWebProcessSandbox turns it off, and is audited)"
            ),
            Error::Confinement { cause, minimum } => write!(
                f,
                "the kernel's confinement of commands cannot start as the app requires (confinement.minimumLandlockAbi = {minimum}): {cause}. Fix: run on Linux 5.13 or newer with Landlock enabled (lsm= on the kernel command line includes landlock), or lower the minimum"
            ),
            Error::Args(m) => write!(f, "arguments: {m}"),
            Error::Platform(m) => write!(f, "platform: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}
