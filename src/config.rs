//! The app's security configuration (`moat.json`), compiled into the binary
//! so it cannot be edited after the build.
//!
//! Parsing is strict: an unknown key, a wrong type or a bad value stops the
//! app at startup with the key's path in the message. Every protection is on
//! unless a key here turns it off.

use serde::Deserialize;

/// An app's security configuration (`moat.json`), checked: the only way
/// to make one is [`Config::from_json`], which refuses what would not be
/// safe to run (there is no `Deserialize`, and no public field).
///
/// ```
/// // An identifier of "/" would make the app's data directory `/`.
/// assert!(moat::Config::from_json(r#"{"identifier":"/","title":"x"}"#).is_err());
/// ```
///
/// ```compile_fail
/// // Not `Deserialize`: serde cannot make one around the checks.
/// let c: moat::Config = serde_json::from_str(r#"{"identifier":"/","title":"x"}"#).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Config(pub(crate) Settings);

impl Config {
    /// Parses and checks `moat.json` text. Unknown keys, wrong types and
    /// values that could not be run safely are refused, with the key's
    /// path.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        Settings::from_json(text).map(Config)
    }
}

impl std::str::FromStr for Config {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Self, ConfigError> {
        Self::from_json(text)
    }
}

/// The settings a [`Config`] holds, as `moat.json` spells them (crate
/// code reads them; only [`Settings::from_json`] makes them, checked).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(
    test,
    schemars(
        title = "moat.json",
        description = "A Moat app's security configuration, compiled into the app. Unknown keys stop the app at startup; every protection is on unless a key here turns it off."
    )
)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Settings {
    /// The JSON schema of this file (`moat.schema.json` in Moat's
    /// repository), for editors. Moat ignores it.
    #[serde(default, rename = "$schema")]
    #[allow(dead_code, reason = "accepted for editors; Moat ignores it")]
    pub(crate) schema: Option<String>,
    /// Reverse-DNS app id, e.g. `dev.moat.demo`. Names the data directory.
    pub(crate) identifier: String,
    /// Window title.
    pub(crate) title: String,
    /// Initial window size.
    #[serde(default)]
    pub(crate) window: WindowConfig,
    /// The isolation frame.
    #[serde(default)]
    pub(crate) isolation: IsolationConfig,
    /// What the page may call.
    #[serde(default)]
    pub(crate) allowlist: Allowlist,
    /// Size and time limits on calls.
    #[serde(default)]
    pub(crate) limits: Limits,
    /// The main document's Content-Security-Policy. Absent or `null`: Moat's strict
    /// default.
    #[serde(default)]
    pub(crate) csp: Option<String>,
    /// Web inspector. Honoured only in debug builds; a release build with
    /// this set refuses to start.
    #[serde(default)]
    pub(crate) devtools: bool,
    /// Web permissions the pages may have. Every other request (camera,
    /// microphone, geolocation, notifications, …) is denied.
    #[serde(default)]
    pub(crate) permissions: Vec<Permission>,
    /// What the built-in modules may touch. Empty: nothing.
    #[serde(default)]
    pub(crate) scope: ScopeConfig,
    /// The kernel's confinement of the threads that run commands
    /// (Landlock).
    #[serde(default)]
    pub(crate) confinement: ConfinementConfig,
    /// Protections turned off. Each one logs a warning at startup and is a
    /// finding of `moat-demo audit`.
    #[serde(default)]
    pub(crate) dangerous: Dangerous,
    /// The app's other windows, by label: each with its own page, key,
    /// hooks, allowlist, scopes and limits (`"kind": "app"`), or a view of
    /// a remote page with no bridge at all (`"kind": "untrusted"`). The
    /// main window, labelled `main`, is the one the top-level keys
    /// (`title`, `window`, `isolation`, `allowlist`, `scope`, `limits`)
    /// declare. What is not declared for a window is refused in it.
    #[serde(default)]
    pub(crate) windows: std::collections::BTreeMap<String, WindowDecl>,
    /// What the app is opened with: links of its URL schemes and files of
    /// its types, delivered to a page as the event `moat:launch`, and one
    /// running instance that receives later launches' links.
    #[serde(default)]
    pub(crate) launch: LaunchConfig,
}

/// The label of the main window, which the top-level keys declare.
pub(crate) const MAIN_WINDOW: &str = "main";

/// A window besides the main one.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum WindowDecl {
    /// A page of the app's own frontend, with the isolation frame and a
    /// key of its own.
    App(Box<AppWindowDecl>),
    /// A remote `https:` page the app does not trust (a sign-in, a
    /// documentation site): no `window.moat`, no isolation frame, none of
    /// Moat's schemes, storage that ends with it.
    Untrusted(UntrustedDecl),
}

/// A window of the app's own pages.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AppWindowDecl {
    /// Window title.
    pub(crate) title: String,
    /// Initial size.
    #[serde(default)]
    pub(crate) window: WindowConfig,
    /// The page it opens, a path in the frontend (`settings.html`).
    pub(crate) page: String,
    /// Its isolation frame's hooks.
    #[serde(default)]
    pub(crate) isolation: IsolationConfig,
    /// What its page may call. Unlike the main window's, an absent
    /// `commands` allows none: list each command it needs.
    #[serde(default)]
    pub(crate) allowlist: Allowlist,
    /// What its built-ins may touch.
    #[serde(default)]
    pub(crate) scope: ScopeConfig,
    /// Its limits on calls (rates and pending calls are its own).
    #[serde(default)]
    pub(crate) limits: Limits,
}

/// A view of a page the app does not trust.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UntrustedDecl {
    /// Window title.
    pub(crate) title: String,
    /// Initial size.
    #[serde(default)]
    pub(crate) window: WindowConfig,
    /// The `https:` page it opens.
    pub(crate) url: String,
    /// URL patterns (`https://host[:port]/path-glob`, as in `scope.http`)
    /// its navigations may reach. Empty: the origin of `url` only.
    #[serde(default)]
    pub(crate) navigate: Vec<String>,
    /// URL patterns that end it: a navigation to one is not made, the view
    /// closes, and the window that opened it gets the event
    /// `moat:view-finished` with `{ label, url }` (a sign-in's redirect).
    #[serde(default)]
    pub(crate) finish_on: Vec<String>,
}

/// One app window's policy, wherever it is declared: its label, where its
/// keys are (`""` for the main window, `windows.<label>.` for the others),
/// and the keys themselves.
#[derive(Debug, Clone)]
pub(crate) struct Policy<'a> {
    pub(crate) label: &'a str,
    pub(crate) at: String,
    pub(crate) page: &'a str,
    pub(crate) title: &'a str,
    pub(crate) window: &'a WindowConfig,
    pub(crate) isolation: &'a IsolationConfig,
    pub(crate) allowlist: &'a Allowlist,
    pub(crate) scope: &'a ScopeConfig,
    pub(crate) limits: &'a Limits,
}

impl Policy<'_> {
    /// Whether this is the main window (whose absent
    /// `allowlist.commands` allows every registered command).
    pub(crate) fn is_main(&self) -> bool {
        self.label == MAIN_WINDOW
    }
}

/// How the kernel confines the threads that run commands (the built-ins
/// and the app's own) and every program they start: Landlock rules derived
/// from the scopes.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ConfinementConfig {
    /// The lowest Landlock ABI the app runs with; on a kernel below it the
    /// app does not start. `0` (default): whatever the kernel offers, with
    /// the level reached logged.
    #[serde(default)]
    pub(crate) minimum_landlock_abi: u8,
    /// TCP ports the app's own commands connect to, beyond those the
    /// `scope.http` patterns name (Landlock ABI 4 and up confines TCP
    /// `connect` to these).
    #[serde(default)]
    pub(crate) tcp_connect_ports: Vec<u16>,
}

/// A web permission an app may grant its pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Permission {
    /// `getUserMedia` audio.
    Microphone,
    /// `getUserMedia` video.
    Camera,
    /// `getDisplayMedia`.
    DisplayCapture,
    /// `navigator.geolocation`.
    Geolocation,
    /// `Notification.requestPermission`.
    Notifications,
    /// `requestPointerLock`.
    PointerLock,
}

/// Escape hatches. Off unless set; each is loud.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Dangerous {
    /// Serve HTML and the app's `csp` exactly as given: no hashes for inline
    /// scripts, no nonces, no `object-src`/`base-uri`/`form-action`
    /// defaults. For apps that manage their own policy.
    #[serde(default)]
    pub(crate) disable_csp_modification: bool,
    /// Run the web content process without WebKitGTK's bubblewrap sandbox:
    /// a page that exploits a WebKit bug then has every right of the user.
    /// For a machine where user namespaces cannot be allowed.
    #[serde(default)]
    pub(crate) disable_web_process_sandbox: bool,
    /// Run commands and their programs without the kernel's confinement
    /// (Landlock): a bug in a scope check or in a command then reaches
    /// everything the user can.
    #[serde(default)]
    pub(crate) disable_kernel_confinement: bool,
}

/// Initial window size in logical pixels.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowConfig {
    /// Width.
    pub(crate) width: u32,
    /// Height.
    pub(crate) height: u32,
}

impl Default for WindowConfig {
    fn default() -> Self {
        Self {
            width: 960,
            height: 720,
        }
    }
}

/// The isolation frame's hooks.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct IsolationConfig {
    /// ES module files, relative to the hooks directory given to the builder,
    /// run in this order on every call. Each default-exports
    /// `function hook({cmd, args}, ctx)`.
    #[serde(default)]
    pub(crate) hooks: Vec<String>,
}

/// Which dedicated commands and built-in module functions the page may call.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct Allowlist {
    /// Absent or `null`: every registered command, since registering one in
    /// Rust is itself an explicit grant. A list: only these; each must be
    /// registered.
    #[serde(default)]
    pub(crate) commands: Option<Vec<String>>,
    /// `fs.*` commands (cargo feature `api-fs`), inside `scope.fs`.
    #[serde(default)]
    pub(crate) fs: FsAllow,
    /// `shell.execute` and `shell.open` (cargo feature `api-shell`), inside
    /// `scope.shell` and `scope.open`.
    #[serde(default)]
    pub(crate) shell: ShellAllow,
    /// `http.fetch` (cargo feature `api-http`), inside `scope.http`.
    #[serde(default)]
    pub(crate) http: HttpAllow,
    /// The `asset://localhost/<path>` protocol (cargo feature `api-asset`),
    /// inside `scope.asset`.
    #[serde(default)]
    pub(crate) asset: bool,
    /// `dialog.open` and `dialog.save` (cargo feature `api-dialog`): the
    /// system's file chooser; what the user picks is added to `scope.fs`
    /// for the page load.
    #[serde(default)]
    pub(crate) dialog: DialogAllow,
    /// The windows this page may open, by label (`window.open`). Any page
    /// may close its own window (`window.close`).
    #[serde(default)]
    pub(crate) windows: Vec<String>,
    /// `store.*` (cargo feature `api-store`): the app's settings store,
    /// by key.
    #[serde(default)]
    pub(crate) store: StoreAllow,
    /// `secrets.*` (cargo feature `api-secrets`): named secrets in the
    /// user's keyring.
    #[serde(default)]
    pub(crate) secrets: SecretsAllow,
}

/// The settings store's keys a page may use. A pattern is a key, or a
/// prefix ending in `*` (`settings.*`); keys are 1 to 64 ASCII letters,
/// digits, `_`, `-`, `:` or `.`, starting with a letter.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct StoreAllow {
    /// Keys `store.get` and `store.keys` reach.
    #[serde(default)]
    pub(crate) read: Vec<String>,
    /// Keys `store.set` and `store.delete` reach.
    #[serde(default)]
    pub(crate) write: Vec<String>,
}

/// The secrets a page may use, by name (named like store keys). Values
/// are never logged.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretsAllow {
    /// Names `secrets.get` reads.
    #[serde(default)]
    pub(crate) read: Vec<String>,
    /// Names `secrets.set` and `secrets.delete` write.
    #[serde(default)]
    pub(crate) write: Vec<String>,
}

/// The longest store key or secret name.
pub(crate) const MAX_KEY_BYTES: usize = 64;

/// A store key or secret name: 1 to 64 ASCII letters, digits, `_`, `-`,
/// `:` or `.`, starting with a letter.
pub(crate) fn key_ok(key: &str) -> bool {
    let b = key.as_bytes();
    (1..=MAX_KEY_BYTES).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b':' | b'.'))
}

/// A store key pattern: a key, or a prefix (itself a key's start) and `*`.
pub(crate) fn key_pattern_ok(pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => prefix.is_empty() || key_ok(prefix),
        None => key_ok(pattern),
    }
}

/// The `dialog` module's functions.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct DialogAllow {
    /// Every function.
    #[serde(default)]
    pub(crate) all: bool,
    /// `dialog.open`: pick files or a directory to read (and write).
    #[serde(default)]
    pub(crate) open: bool,
    /// `dialog.save`: pick a file to write.
    #[serde(default)]
    pub(crate) save: bool,
}

/// The `fs` module's functions. `all` turns on every one, including those a
/// later version adds: the audit flags it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct FsAllow {
    /// Every function.
    #[serde(default)]
    pub(crate) all: bool,
    /// `fs.read_text_file`.
    #[serde(default)]
    pub(crate) read_file: bool,
    /// `fs.write_text_file` (atomic: temp file, then rename).
    #[serde(default)]
    pub(crate) write_file: bool,
    /// `fs.read_dir`.
    #[serde(default)]
    pub(crate) read_dir: bool,
    /// `fs.remove_file`.
    #[serde(default)]
    pub(crate) remove_file: bool,
}

/// The `shell` module's functions.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ShellAllow {
    /// Every function.
    #[serde(default)]
    pub(crate) all: bool,
    /// `shell.execute`: run a `scope.shell` entry.
    #[serde(default)]
    pub(crate) execute: bool,
    /// `shell.open`: hand a `scope.open` URL to the system's opener.
    #[serde(default)]
    pub(crate) open: bool,
    /// `shell.spawn` (with `shell.kill` and `shell.write`): start a
    /// `scope.shell` entry that runs for a while, its output streamed to
    /// the page; it ends with its page load.
    #[serde(default)]
    pub(crate) spawn: bool,
}

/// The `http` module's functions.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpAllow {
    /// Every function.
    #[serde(default)]
    pub(crate) all: bool,
    /// `http.fetch`.
    #[serde(default)]
    pub(crate) fetch: bool,
}

/// Scopes of the built-in modules; see `docs/guide.md` for the pattern syntax.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeConfig {
    /// Paths the `fs` module may use.
    #[serde(default)]
    pub(crate) fs: PathScopeConfig,
    /// Paths the `asset:` protocol may serve.
    #[serde(default)]
    pub(crate) asset: PathScopeConfig,
    /// URLs `http.fetch` may request (redirects included).
    #[serde(default)]
    pub(crate) http: UrlScopeConfig,
    /// URLs `shell.open` may hand to the system.
    #[serde(default)]
    pub(crate) open: UrlScopeConfig,
    /// Programs `shell.execute` may run, by entry name.
    #[serde(default)]
    pub(crate) shell: Vec<ShellEntryConfig>,
}

/// Path globs: absolute, or starting with a base-directory variable
/// (`$APPDATA/**`). Deny wins.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct PathScopeConfig {
    /// Globs that allow.
    #[serde(default)]
    pub(crate) allow: Vec<String>,
    /// Globs that deny, even what `allow` allows.
    #[serde(default)]
    pub(crate) deny: Vec<String>,
}

/// URL patterns, `https://host[:port]/path-glob`. Deny wins.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UrlScopeConfig {
    /// Patterns that allow.
    #[serde(default)]
    pub(crate) allow: Vec<String>,
    /// Patterns that deny, even what `allow` allows.
    #[serde(default)]
    pub(crate) deny: Vec<String>,
    /// `scope.http` only: host names may resolve to private network
    /// addresses (RFC 1918, `fc00::/7`). Off: a name that resolves to one is
    /// refused unless a pattern names the address itself. Never loopback or
    /// link-local. Logged at startup and an audit finding.
    #[serde(default)]
    pub(crate) private_network: bool,
}

/// A program the page may run by `name`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(crate) struct ShellEntryConfig {
    /// What the page calls it.
    pub(crate) name: String,
    /// Absolute path, or a name looked up in `PATH` once, at startup (the
    /// app does not start when it is missing).
    pub(crate) cmd: String,
    /// `false` (default): no arguments; `true`: any (audited); a list: one
    /// rule per argument, exactly as many as given.
    #[serde(default)]
    pub(crate) args: ShellArgs,
    /// Environment variables the program gets on top of Moat's minimal
    /// environment (`PATH=/usr/local/bin:/usr/bin:/bin`, `LANG=C.UTF-8`).
    /// A value that starts with a base-directory variable (`$HOME`,
    /// `$APPDATA/…`) is expanded; any other is taken literally.
    #[serde(default)]
    pub(crate) env: std::collections::BTreeMap<String, String>,
    /// Programs this entry's program runs in turn (a shell script's
    /// `sleep`), as `cmd` names them. The kernel lets the command threads
    /// and their programs execute only the entries' programs and these
    /// (`confinement`); each is found once, at startup.
    #[serde(default)]
    pub(crate) runs: Vec<String>,
}

/// The arguments a shell entry takes.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub(crate) enum ShellArgs {
    /// `true`: any arguments; `false`: none.
    Any(bool),
    /// One rule per argument.
    List(Vec<ShellArg>),
}

impl Default for ShellArgs {
    fn default() -> Self {
        ShellArgs::Any(false)
    }
}

/// One argument's rule.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub(crate) enum ShellArg {
    /// Must be exactly this string.
    Fixed(String),
    /// Must match this regex, whole (it is anchored for you).
    Validator {
        /// The regex.
        validator: String,
    },
}

/// Limits on calls.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Limits {
    /// Largest envelope the core opens, in bytes.
    pub(crate) max_message_bytes: usize,
    /// How long the bridge waits for a reply before rejecting with
    /// `timeout`, in milliseconds; also the deadline of a built-in's work
    /// (a request, a program).
    pub(crate) call_timeout_ms: u64,
    /// Calls the core accepts per second, in bursts of up to this many;
    /// more are refused with `rate_limited` before their envelope is
    /// opened. Default 1000; `null` turns the limit off (a warning at
    /// startup and an audit finding).
    #[serde(default = "default_calls_per_second")]
    pub(crate) max_calls_per_second: Option<u32>,
    /// `shell.open` calls per minute (links from real clicks included), in
    /// bursts of up to this many; more are `rate_limited`. Default 10;
    /// `null` turns it off (warned and audited).
    #[serde(default = "default_opens_per_minute")]
    pub(crate) max_opens_per_minute: Option<u32>,
    /// `shell.execute` and `shell.spawn` runs per minute, in bursts of up
    /// to this many; more
    /// are `rate_limited`. Default 60; `null` turns it off (warned and
    /// audited).
    #[serde(default = "default_executes_per_minute")]
    pub(crate) max_executes_per_minute: Option<u32>,
    /// Calls in the core at once, from before the envelope is opened until
    /// the handler finishes (a handler that outlives the page's timeout
    /// still counts); more are refused with `busy`. Default 256; `null`
    /// turns it off (warned and audited).
    #[serde(default = "default_pending_calls")]
    pub(crate) max_pending_calls: Option<u32>,
    /// The main window's limits only: windows open at once, of every kind,
    /// the main one included; opening another is `busy`. Default 8.
    #[serde(default = "default_open_windows")]
    pub(crate) max_open_windows: u32,
}

/// The default of `limits.maxMessageBytes`: a 10 MiB file with room for
/// its encoding and the reply's, under what a page can make the core hold.
pub(crate) const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 << 20;
/// The smallest `limits.maxMessageBytes`: below it an envelope's header,
/// tag and a call's JSON hardly fit.
pub(crate) const MIN_MESSAGE_BYTES: usize = 1024;
/// The default of `limits.callTimeoutMs`: long enough for a slow disk or a
/// remote request, short enough that a hung call is noticed.
pub(crate) const DEFAULT_CALL_TIMEOUT_MS: u64 = 30_000;

/// The default of `limits.maxCallsPerSecond`: far above what an app driven
/// by a person makes, far below what a page looping on a command can.
pub(crate) const DEFAULT_CALLS_PER_SECOND: u32 = 1000;
/// The default of `limits.maxOpensPerMinute`: a person following links.
pub(crate) const DEFAULT_OPENS_PER_MINUTE: u32 = 10;
/// The default of `limits.maxPendingCalls`: room for a busy page, well
/// under tokio's 512 blocking threads, which sync commands share.
pub(crate) const DEFAULT_PENDING_CALLS: u32 = 256;
/// The default of `limits.maxExecutesPerMinute`.
pub(crate) const DEFAULT_EXECUTES_PER_MINUTE: u32 = 60;
/// The default of `limits.maxOpenWindows`: an app's few windows, not a
/// page opening them in a loop (each is a web process).
pub(crate) const DEFAULT_OPEN_WINDOWS: u32 = 8;

fn default_calls_per_second() -> Option<u32> {
    Some(DEFAULT_CALLS_PER_SECOND)
}

fn default_opens_per_minute() -> Option<u32> {
    Some(DEFAULT_OPENS_PER_MINUTE)
}

fn default_open_windows() -> u32 {
    DEFAULT_OPEN_WINDOWS
}

fn default_pending_calls() -> Option<u32> {
    Some(DEFAULT_PENDING_CALLS)
}

fn default_executes_per_minute() -> Option<u32> {
    Some(DEFAULT_EXECUTES_PER_MINUTE)
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            call_timeout_ms: DEFAULT_CALL_TIMEOUT_MS,
            max_calls_per_second: default_calls_per_second(),
            max_opens_per_minute: default_opens_per_minute(),
            max_executes_per_minute: default_executes_per_minute(),
            max_pending_calls: default_pending_calls(),
            max_open_windows: DEFAULT_OPEN_WINDOWS,
        }
    }
}

/// A configuration that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the offending key, e.g. `isolation.hooks[0]`.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() || self.path == "." {
            write!(f, "moat config: {}", self.message)
        } else {
            write!(f, "moat config: {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

impl Settings {
    /// Parses and validates `moat.json` text.
    pub(crate) fn from_json(text: &str) -> Result<Self, ConfigError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let config: Settings = serde_path_to_error::deserialize(de).map_err(|e| ConfigError {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let err = |path: String, message: String| Err(ConfigError { path, message });
        let id_ok = !self.identifier.is_empty()
            && !self.identifier.starts_with('.')
            && self
                .identifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !id_ok {
            return err(
                "identifier".into(),
                format!(
                    "{:?} must be a reverse-DNS id of letters, digits, '.', '-' and '_' (it names the data directory)",
                    self.identifier
                ),
            );
        }
        for (label, decl) in &self.windows {
            if label == MAIN_WINDOW {
                return err(
                    format!("windows.{label}"),
                    "the main window is declared by the top-level keys (title, window, isolation, allowlist, scope, limits); remove this entry".into(),
                );
            }
            if !label_ok(label) {
                return err(
                    format!("windows.{label}"),
                    format!("{label:?}: a window label is 1 to 32 lowercase ASCII letters, digits, '-' or '_', starting with a letter"),
                );
            }
            if let WindowDecl::Untrusted(view) = decl {
                let https = url::Url::parse(&view.url)
                    .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some());
                if !https {
                    return err(
                        format!("windows.{label}.url"),
                        format!("{:?} must be an https: URL with a host", view.url),
                    );
                }
            }
        }
        for policy in self.policies() {
            policy.validate(self)?;
        }
        self.validate_launch()?;
        if self.limits.max_open_windows == 0 {
            return err(
                "limits.maxOpenWindows".into(),
                "must be at least 1 (the main window)".into(),
            );
        }
        Ok(())
    }
}

impl Settings {
    /// `launch`: its schemes and types, and a window that can receive.
    fn validate_launch(&self) -> Result<(), ConfigError> {
        if let Err((path, message)) = self.launch.check() {
            return Err(ConfigError { path, message });
        }
        let receives = self.launch.window == MAIN_WINDOW
            || matches!(
                self.windows.get(&self.launch.window),
                Some(WindowDecl::App(_))
            );
        if !receives {
            return Err(ConfigError {
                path: "launch.window".into(),
                message: format!("{:?} is not an app window (main, or one declared under windows with \"kind\": \"app\")", self.launch.window),
            });
        }
        Ok(())
    }

    /// Every app window's policy, the main window's first.
    pub(crate) fn policies(&self) -> Vec<Policy<'_>> {
        let main = Policy {
            label: MAIN_WINDOW,
            at: String::new(),
            page: "index.html",
            title: &self.title,
            window: &self.window,
            isolation: &self.isolation,
            allowlist: &self.allowlist,
            scope: &self.scope,
            limits: &self.limits,
        };
        let others = self.windows.iter().filter_map(|(label, decl)| match decl {
            WindowDecl::App(w) => Some(Policy {
                label,
                at: format!("windows.{label}."),
                page: &w.page,
                title: &w.title,
                window: &w.window,
                isolation: &w.isolation,
                allowlist: &w.allowlist,
                scope: &w.scope,
                limits: &w.limits,
            }),
            WindowDecl::Untrusted(_) => None,
        });
        std::iter::once(main).chain(others).collect()
    }

    /// The untrusted views, by label.
    pub(crate) fn views(&self) -> impl Iterator<Item = (&str, &UntrustedDecl)> {
        self.windows.iter().filter_map(|(label, decl)| match decl {
            WindowDecl::Untrusted(v) => Some((label.as_str(), v)),
            WindowDecl::App(_) => None,
        })
    }
}

impl Policy<'_> {
    fn validate(&self, config: &Settings) -> Result<(), ConfigError> {
        let at = &self.at;
        let err = |path: String, message: String| Err(ConfigError { path, message });
        if !self.is_main() && !page_ok(self.page) {
            return err(
                format!("{at}page"),
                format!("{:?} must be a relative .html path in the frontend, without '..' or hidden segments", self.page),
            );
        }
        for (i, hook) in self.isolation.hooks.iter().enumerate() {
            if !hook_path_ok(hook) {
                return err(
                    format!("{at}isolation.hooks[{i}]"),
                    format!("{hook:?} must be a relative .js/.mjs path inside the hooks directory, without '..' or hidden segments"),
                );
            }
        }
        self.validate_names()?;
        for (i, label) in self.allowlist.windows.iter().enumerate() {
            if !config.windows.contains_key(label) {
                return err(
                    format!("{at}allowlist.windows[{i}]"),
                    format!("{label:?} is not a window declared under `windows` (the main window is never opened by a page)"),
                );
            }
        }
        self.validate_limits()
    }

    /// Store key patterns and secret names.
    fn validate_names(&self) -> Result<(), ConfigError> {
        let a = self.allowlist;
        let lists = [
            (
                "store.read",
                &a.store.read,
                key_pattern_ok as fn(&str) -> bool,
            ),
            ("store.write", &a.store.write, key_pattern_ok),
            ("secrets.read", &a.secrets.read, key_ok),
            ("secrets.write", &a.secrets.write, key_ok),
        ];
        for (key, list, ok) in lists {
            if let Some((i, bad)) = list.iter().enumerate().find(|(_, n)| !ok(n)) {
                return Err(ConfigError {
                    path: format!("{}allowlist.{key}[{i}]", self.at),
                    message: format!("{bad:?}: a name is 1 to 64 ASCII letters, digits, '_', '-', ':' or '.', starting with a letter (store patterns may end in '*')"),
                });
            }
        }
        Ok(())
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        let at = &self.at;
        let err = |path: String, message: String| Err(ConfigError { path, message });
        let limits = self.limits;
        if !self.is_main() && limits.max_open_windows != DEFAULT_OPEN_WINDOWS {
            return err(
                format!("{at}limits.maxOpenWindows"),
                "only the main window's (top-level) limits.maxOpenWindows counts; remove it here"
                    .into(),
            );
        }
        // Scope patterns (globs, regexes, URL patterns, variables) are
        // compiled against this machine's directories when the app starts
        // (`Builder::run`), and their errors carry the key's path too.
        if limits.max_message_bytes < MIN_MESSAGE_BYTES {
            return err(
                format!("{at}limits.maxMessageBytes"),
                format!("must be at least {MIN_MESSAGE_BYTES} bytes"),
            );
        }
        for (key, value) in [
            ("maxCallsPerSecond", limits.max_calls_per_second),
            ("maxOpensPerMinute", limits.max_opens_per_minute),
            ("maxExecutesPerMinute", limits.max_executes_per_minute),
            ("maxPendingCalls", limits.max_pending_calls),
        ] {
            if value == Some(0) {
                return err(
                    format!("{at}limits.{key}"),
                    "must be at least 1 (null turns the limit off)".into(),
                );
            }
        }
        if limits.call_timeout_ms == 0 {
            return err(
                format!("{at}limits.callTimeoutMs"),
                "must be more than 0".into(),
            );
        }
        Ok(())
    }
}

/// A window label: 1 to 32 of `a-z0-9-_`, starting with a letter.
pub(crate) fn label_ok(label: &str) -> bool {
    let b = label.as_bytes();
    (1..=32).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_'))
}

/// A window's page: a relative `.html` path, no empty, `.`-led segments.
fn page_ok(page: &str) -> bool {
    page.ends_with(".html")
        && page
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.starts_with('.'))
        && page
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
}

/// A hook file name: relative, `.js` or `.mjs`, letters, digits, `.-_/`,
/// no empty, `.`-led (hidden, `..`) segments.
fn hook_path_ok(hook: &str) -> bool {
    (hook.ends_with(".js") || hook.ends_with(".mjs"))
        && hook
            .split('/')
            .all(|seg| !seg.is_empty() && !seg.starts_with('.'))
        && hook
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
}

/// `launch` in `moat.json`: what the app is opened with.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LaunchConfig {
    /// URL schemes the app handles (`myapp` for `myapp://…` links): the
    /// package's `.desktop` entry declares them, and links of other
    /// schemes are refused.
    #[serde(default)]
    pub(crate) schemes: Vec<String>,
    /// File types (MIME types, `text/markdown`) the app opens: the
    /// `.desktop` entry declares them; an absolute path on the command
    /// line reaches the page as a name, not a grant.
    #[serde(default)]
    pub(crate) mime_types: Vec<String>,
    /// One running instance: a second launch hands its links to it and
    /// exits. `false` starts an instance per launch.
    #[serde(default = "yes")]
    pub(crate) single_instance: bool,
    /// The app window that receives `moat:launch`.
    #[serde(default = "main_window")]
    pub(crate) window: String,
}

fn yes() -> bool {
    true
}

fn main_window() -> String {
    MAIN_WINDOW.to_owned()
}

impl Default for LaunchConfig {
    fn default() -> Self {
        Self {
            schemes: Vec::new(),
            mime_types: Vec::new(),
            single_instance: true,
            window: main_window(),
        }
    }
}

/// Schemes Moat or the web owns: an app cannot claim them.
const RESERVED_SCHEMES: &[&str] = &[
    "http",
    "https",
    "file",
    "ftp",
    "ws",
    "wss",
    "data",
    "blob",
    "javascript",
    "about",
    "app",
    "asset",
    "ipc",
    "isolation",
    "mailto",
    "tel",
    "smb",
    "nfs",
];

impl LaunchConfig {
    /// A config error at `launch.…`, if any.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        for (i, s) in self.schemes.iter().enumerate() {
            let ok = s.len() >= 2
                && s.len() <= 64
                && s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.')
                });
            if !ok {
                return Err((format!("launch.schemes[{i}]"), format!("{s:?} must be a lowercase URL scheme (letters, digits, '+', '-', '.'; 2 to 64)")));
            }
            if RESERVED_SCHEMES.contains(&s.as_str()) {
                return Err((
                    format!("launch.schemes[{i}]"),
                    format!("{s:?} belongs to the web or to Moat; name the app's own scheme"),
                ));
            }
        }
        for (i, m) in self.mime_types.iter().enumerate() {
            let ok = m
                .parse::<mime::Mime>()
                .is_ok_and(|t| t.params().next().is_none())
                && !m.starts_with("x-scheme-handler/");
            if !ok {
                return Err((format!("launch.mimeTypes[{i}]"), format!("{m:?} must be a MIME type (type/subtype), not a scheme handler (those are launch.schemes)")));
            }
        }
        Ok(())
    }

    /// The `.desktop` entry's `MimeType` value: each scheme's handler type,
    /// then the file types, each followed by `;`.
    pub(crate) fn desktop_mime_types(&self) -> String {
        self.schemes
            .iter()
            .map(|s| format!("x-scheme-handler/{s};"))
            .chain(self.mime_types.iter().map(|m| format!("{m};")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    /// `moat.schema.json`, generated from these types: editors complete and
    /// check `moat.json` with it (`"$schema"`), and its descriptions are the
    /// reference of every key.
    fn schema_text() -> String {
        let schema = schemars::schema_for!(Settings);
        serde_json::to_string_pretty(&schema).unwrap() + "\n"
    }

    #[test]
    fn the_committed_schema_matches_the_config_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("moat.schema.json");
        let text = schema_text();
        if std::env::var_os("MOAT_WRITE_SCHEMA").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "moat.schema.json does not match the config types: run `make schema` and commit it"
        );
    }

    #[test]
    fn every_key_in_the_schema_is_documented() {
        fn walk(v: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
            if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
                for (k, p) in props {
                    if p.get("description").is_none() {
                        missing.push(format!("{at}.{k}"));
                    }
                    walk(p, &format!("{at}.{k}"), missing);
                }
            }
            for key in ["$defs", "definitions"] {
                if let Some(defs) = v.get(key).and_then(|d| d.as_object()) {
                    for (k, d) in defs {
                        walk(d, k, missing);
                    }
                }
            }
        }
        let schema: serde_json::Value = serde_json::from_str(&schema_text()).unwrap();
        let mut missing = Vec::new();
        walk(&schema, "", &mut missing);
        assert!(
            missing.is_empty(),
            "keys without a description: {missing:?}"
        );
    }

    #[test]
    fn a_schema_key_is_accepted() {
        let c = Settings::from_json(
            r#"{"$schema":"./moat.schema.json","identifier":"dev.x","title":"x"}"#,
        );
        assert!(c.is_ok(), "{c:?}");
    }

    use super::*;

    const MIN: &str = r#"{"identifier":"dev.moat.t","title":"T"}"#;

    #[test]
    fn minimal_config_gets_secure_defaults() {
        let c = Settings::from_json(MIN).unwrap();
        assert!(!c.devtools);
        assert!(c.csp.is_none());
        assert!(c.allowlist.commands.is_none());
    }

    #[test]
    fn unknown_key_is_refused_with_its_path() {
        let e = Settings::from_json(r#"{"identifier":"a.b","title":"T","isolation":{"hook":[]}}"#)
            .unwrap_err();
        assert_eq!(e.path, "isolation.hook");
        assert!(
            e.message.starts_with("unknown field `hook`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn hook_path_escaping_the_directory_is_refused() {
        let e = Settings::from_json(
            r#"{"identifier":"a.b","title":"T","isolation":{"hooks":["ok.js","../x.js"]}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "isolation.hooks[1]");
        for bad in [
            "/abs.js",
            "a//b.js",
            ".hidden.js",
            "a/.b/c.js",
            "a\\b.js",
            "x.ts",
            "dir/",
        ] {
            assert!(!hook_path_ok(bad), "{bad}");
        }
        for good in ["a.js", "lib/b.mjs", "__test__/shape.js", "v-1_2.js"] {
            assert!(hook_path_ok(good), "{good}");
        }
    }

    #[test]
    fn identifier_that_could_escape_the_data_dir_is_refused() {
        for id in ["", "..", "a/b", ".hidden"] {
            let json = format!(r#"{{"identifier":{id:?},"title":"T"}}"#);
            assert_eq!(
                Settings::from_json(&json).unwrap_err().path,
                "identifier",
                "{id}"
            );
        }
    }

    #[test]
    fn rate_limits_are_on_unless_set_to_null() {
        let c = Settings::from_json(MIN).unwrap();
        assert_eq!(
            c.limits.max_calls_per_second,
            Some(DEFAULT_CALLS_PER_SECOND)
        );
        assert_eq!(
            c.limits.max_opens_per_minute,
            Some(DEFAULT_OPENS_PER_MINUTE)
        );
        assert_eq!(
            c.limits.max_executes_per_minute,
            Some(DEFAULT_EXECUTES_PER_MINUTE)
        );
        let c = Settings::from_json(
            r#"{"identifier":"a.b","title":"T","limits":{"maxMessageBytes":2048,"callTimeoutMs":1}}"#,
        )
        .unwrap();
        assert_eq!(
            c.limits.max_calls_per_second,
            Some(DEFAULT_CALLS_PER_SECOND)
        );
        let c = Settings::from_json(
            r#"{"identifier":"a.b","title":"T","limits":{"maxMessageBytes":2048,"callTimeoutMs":1,"maxCallsPerSecond":null,"maxOpensPerMinute":null}}"#,
        )
        .unwrap();
        assert_eq!(c.limits.max_calls_per_second, None);
        assert_eq!(c.limits.max_opens_per_minute, None);
        let e = Settings::from_json(
            r#"{"identifier":"a.b","title":"T","limits":{"maxMessageBytes":2048,"callTimeoutMs":1,"maxExecutesPerMinute":0}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "limits.maxExecutesPerMinute");
    }

    fn with_windows(windows: &str) -> Result<Settings, ConfigError> {
        Settings::from_json(&format!(
            r#"{{"identifier":"a.b","title":"T","windows":{windows}}}"#
        ))
    }

    #[test]
    fn windows_are_declared_by_label_each_with_its_own_policy() {
        let c = with_windows(
            r#"{"settings":{"kind":"app","title":"Settings","page":"settings.html","allowlist":{"commands":["greet"]}},
                "signin":{"kind":"untrusted","title":"Sign in","url":"https://auth.example.com/login","finishOn":["https://app.example.com/done*"]}}"#,
        )
        .unwrap();
        let policies = c.policies();
        let labels: Vec<&str> = policies.iter().map(|p| p.label).collect();
        assert_eq!(labels, ["main", "settings"], "views have no policy");
        assert!(policies[0].is_main() && policies[0].at.is_empty());
        assert_eq!(policies[1].at, "windows.settings.");
        assert_eq!(policies[1].page, "settings.html");
        assert_eq!(
            policies[1].allowlist.commands.as_deref(),
            Some(&["greet".to_owned()][..])
        );
        let views: Vec<&str> = c.views().map(|(l, _)| l).collect();
        assert_eq!(views, ["signin"]);
    }

    #[test]
    fn bad_window_declarations_name_their_key() {
        for (windows, path, says) in [
            (
                r#"{"main":{"kind":"app","title":"M","page":"m.html"}}"#,
                "windows.main",
                "declared by the top-level keys",
            ),
            (
                r#"{"Bad Label":{"kind":"app","title":"M","page":"m.html"}}"#,
                "windows.Bad Label",
                "a window label is",
            ),
            (
                r#"{"s":{"kind":"app","title":"S","page":"../x.html"}}"#,
                "windows.s.page",
                "relative .html path",
            ),
            (
                r#"{"v":{"kind":"untrusted","title":"V","url":"http://example.com/"}}"#,
                "windows.v.url",
                "https: URL",
            ),
            (
                r#"{"s":{"kind":"app","title":"S","page":"s.html","allowlist":{"windows":["nope"]}}}"#,
                "windows.s.allowlist.windows[0]",
                "not a window declared",
            ),
            (
                r#"{"s":{"kind":"app","title":"S","page":"s.html","limits":{"maxMessageBytes":2048,"callTimeoutMs":1,"maxOpenWindows":2}}}"#,
                "windows.s.limits.maxOpenWindows",
                "only the main window",
            ),
            (
                r#"{"s":{"kind":"app","title":"S","page":"s.html","limits":{"maxMessageBytes":2048,"callTimeoutMs":1,"maxPendingCalls":0}}}"#,
                "windows.s.limits.maxPendingCalls",
                "at least 1",
            ),
        ] {
            let e = with_windows(windows).unwrap_err();
            assert_eq!(e.path, path, "{windows}");
            assert!(e.message.contains(says), "{}", e.message);
        }
        // Unknown keys and kinds are refused with their path too.
        let e = with_windows(r#"{"s":{"kind":"app","title":"S","page":"s.html","csp":"x"}}"#)
            .unwrap_err();
        assert_eq!(e.path, "windows.s");
        assert!(e.message.contains("unknown field `csp`"), "{}", e.message);
        let e = with_windows(r#"{"s":{"kind":"remote","title":"S"}}"#).unwrap_err();
        assert!(
            e.message.contains("unknown variant `remote`"),
            "{}",
            e.message
        );
        let e = Settings::from_json(
            r#"{"identifier":"a.b","title":"T","allowlist":{"windows":["main"]}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "allowlist.windows[0]");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let e = Settings::from_json(r#"{"identifier":"a.b","title":"T","limits":{"maxMessageBytes":"big","callTimeoutMs":1}}"#).unwrap_err();
        assert_eq!(e.path, "limits.maxMessageBytes");
    }
}
