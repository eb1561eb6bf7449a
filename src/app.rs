//! The app, checked: every value that can fail to build, built before a
//! window opens.
//!
//! [`check`] takes what the app author gave the [`crate::Builder`] and this
//! machine's directories, and returns an [`App`] or the first reason it
//! cannot start: commands, allowlist, hooks, documents and their policies,
//! scopes (compiled once, against the real directories), programs (found on
//! `PATH`), the built-in API, the call core with its limits, the bridge
//! script. After it succeeds, starting can fail only for platform reasons
//! (no display, WebKit refused), and `window::run` only wires what it is
//! given.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::api::{self, Api, Builtin};
use crate::config::{Permission, Policy, Settings, MAIN_WINDOW};
use crate::confine::plan::Plan;
use crate::csp::network::Network;
use crate::csp::Csp;
use crate::error::Error;
use crate::ipc::command::{AppPaths, CallContext, Commands};
use crate::ipc::core::Core;
use crate::ipc::pending::PendingLimit;
use crate::ipc::push::{AppHandle, Pusher};
use crate::ipc::rate::RateLimit;
use crate::ipc::transport::reply::ReplySink;
use crate::ipc::windows::{Kind, Windows};
use crate::ipc::wire::bytes::BlobStore;
use crate::isolation::session::Session;
use crate::origin::{APP_URL, IPC_URL, ISOLATION_URL};
use crate::protocol::app::AppProtocol;
use crate::protocol::isolation::{IsolationProtocol, ISOLATION_JS};
use crate::protocol::{Mounts, Scheme};
use crate::scope::url::{Kind as UrlKind, UrlScope};
use crate::scope::{BaseDirs, Scopes};

/// What the app author gave the builder, before any check.
pub(crate) struct Parts {
    pub(crate) config: Settings,
    /// The frontend, and in the test-harness build its test pages.
    pub(crate) frontend: Mounts,
    /// The hooks directory, and in the test-harness build its test hooks.
    pub(crate) hooks: Mounts,
    pub(crate) commands: Commands,
    /// A program to hand `shell.open` URLs to instead of the system's
    /// opener (the test harness's recorder); `None`: `xdg-open`.
    pub(crate) opener: Option<PathBuf>,
    /// `Builder::setup`.
    pub(crate) setup: Option<Setup>,
    /// The highest Landlock ABI to confine at: `u8::MAX` (whatever the
    /// kernel offers), less in the test harness, which plays older kernels.
    pub(crate) landlock_at_most: u8,
}

/// A handler for URLs a real click wants to open in a new window: the
/// system's opener, inside the window's `scope.open`.
pub(crate) type OpenExternally = Arc<dyn Fn(&str) -> Result<(), String>>;

/// Everything `window::run` wires. Nothing in it can fail to build.
pub(crate) struct App {
    pub(crate) identifier: String,
    pub(crate) devtools: bool,
    pub(crate) permissions: Vec<Permission>,
    /// `dangerous.disableWebProcessSandbox`.
    pub(crate) sandbox_off: bool,
    /// The kernel's confinement of command threads, started by the window
    /// before its runtime: the union of every app window's scopes (the
    /// threads are shared; each window's own checks stay its own).
    pub(crate) confinement: crate::confine::Setup,
    /// Where WebKit keeps the main window's storage and caches
    /// (`$APPDATA/.webkit`): the app's own, never another app's (WebKit's
    /// default is named after the executable), and what the web process
    /// sandbox may write. Hidden, so no `$APPDATA/**` scope reaches it.
    /// Other app windows keep theirs beneath it, in `windows/<label>`.
    pub(crate) webkit_dir: PathBuf,
    /// The origins the webview may load from over the network, for its
    /// content filter (`csp::network`).
    pub(crate) network: Network,
    /// `app://`: the frontend, the same for every app window.
    pub(crate) frontend: Arc<dyn Scheme>,
    /// Every app window, by label, the main one included.
    pub(crate) app_windows: BTreeMap<String, AppWindow>,
    /// Every untrusted view, by label.
    pub(crate) views: BTreeMap<String, View>,
    /// Which windows are declared and open.
    pub(crate) windows: Arc<Windows>,
    /// The app's start-up code (`Builder::setup`), with its handle.
    pub(crate) setup: Option<(Setup, AppHandle)>,
    /// Launch links and files for a window, and the instance's listener.
    pub(crate) launch: Option<crate::launch::Arrivals>,
}

/// One app window, checked: its own key (in its core's session), core,
/// built-ins, schemes and bridge.
pub(crate) struct AppWindow {
    pub(crate) label: String,
    pub(crate) title: String,
    pub(crate) size: (u32, u32),
    /// Its page, `app://localhost/<page>`.
    pub(crate) url: String,
    pub(crate) core: Arc<Core>,
    /// Replies and pushes for its main frame.
    pub(crate) sink: Arc<ReplySink>,
    /// Its built-ins' state (the window wires the file chooser).
    #[cfg_attr(
        not(feature = "api-dialog"),
        allow(dead_code, reason = "the window wires its file chooser in")
    )]
    pub(crate) api: Arc<Api>,
    /// `isolation`, and `asset` when allowed.
    pub(crate) schemes: Vec<(&'static str, Arc<dyn Scheme>)>,
    /// `window.moat`, injected into its main frame before page script.
    pub(crate) bridge_script: String,
    /// With `shell.open` allowed: where `target=_blank` links go.
    pub(crate) open_externally: Option<OpenExternally>,
}

/// An untrusted view, checked.
pub(crate) struct View {
    pub(crate) label: String,
    pub(crate) title: String,
    pub(crate) size: (u32, u32),
    pub(crate) url: String,
    /// Where its navigations may go.
    pub(crate) navigate: UrlScope,
    /// What ends it (the URL goes to the window that opened it).
    pub(crate) finish_on: UrlScope,
}

/// An app window's key holder, reply queue and pusher.
type Delivery = (Arc<Session>, Arc<ReplySink>, Arc<Pusher>);

/// The app's code run once at start-up, given a handle for pushing.
pub(crate) type Setup = Box<dyn FnOnce(AppHandle)>;

/// Checks `parts` on the machine `dirs` describes and builds the app.
pub(crate) fn check(parts: Parts, dirs: BaseDirs) -> Result<App, Error> {
    let config = &parts.config;
    let policies = config.policies();
    let builtins = check_windows(&parts, &policies)?;
    let devtools = devtools_allowed(
        config.devtools,
        cfg!(debug_assertions),
        cfg!(feature = "devtools"),
    )?;
    let every: BTreeSet<Builtin> = builtins.values().flatten().copied().collect();
    let every: Vec<Builtin> = every.into_iter().collect();
    let (frontend, network) = frontend(config, &parts.frontend, every.contains(&Builtin::Asset))?;
    let dirs = prepare_app_data(dirs, &every);
    let data_dir = dirs
        .get("APPDATA")
        .map(PathBuf::from)
        .ok_or_else(|| Error::Platform("no data directory: set $HOME or $XDG_DATA_HOME".into()))?;
    let opener = parts
        .opener
        .clone()
        .or_else(|| find_opener(&dirs, every.contains(&Builtin::Open)));
    warn_about_app(config);
    let (deliveries, windows) = registry(config, &policies);
    let shared = Shared {
        parts: &parts,
        dirs: &dirs,
        data_dir: &data_dir,
        opener: &opener,
        handle: AppHandle {
            windows: Arc::clone(&windows),
        },
        store: store(&policies, &every, &data_dir)?,
        #[cfg(feature = "api-secrets")]
        keyring: keyring(config, &every),
    };
    let mut plan = Plan::default();
    let mut app_windows = BTreeMap::new();
    for policy in &policies {
        let on = &builtins[policy.label];
        let (window, needs) = app_window(&shared, policy, on, &deliveries[policy.label])?;
        plan.merge(needs);
        app_windows.insert(policy.label.to_owned(), window);
    }
    let handle = shared.handle.clone();
    Ok(App {
        identifier: config.identifier.clone(),
        devtools,
        permissions: config.permissions.clone(),
        sandbox_off: config.dangerous.disable_web_process_sandbox,
        confinement: confinement(config, plan, parts.landlock_at_most),
        webkit_dir: data_dir.join(".webkit"),
        network,
        frontend,
        app_windows,
        views: views(config)?,
        windows,
        setup: parts.setup.map(|f| (f, handle)),
        launch: None,
    })
}

/// The kernel's confinement: `plan` (every window's needs), as the config
/// asks for it.
fn confinement(config: &Settings, plan: Plan, at_most: u8) -> crate::confine::Setup {
    crate::confine::Setup {
        plan,
        minimum: config.confinement.minimum_landlock_abi,
        disabled: config.dangerous.disable_kernel_confinement,
        at_most,
    }
}

/// Each app window's commands, hooks, page and built-ins, checked; the
/// built-ins by window.
fn check_windows(
    parts: &Parts,
    policies: &[Policy<'_>],
) -> Result<BTreeMap<String, Vec<Builtin>>, Error> {
    let mut builtins = BTreeMap::new();
    for policy in policies {
        in_window(policy, check_commands(policy, &parts.commands))?;
        in_window(policy, check_files(policy, &parts.frontend, &parts.hooks))?;
        let on = in_window(policy, api::builtin::allowed(policy.allowlist))?;
        builtins.insert(policy.label.to_owned(), on);
    }
    Ok(builtins)
}

/// The frontend every app window serves (`app:`), prepared under the
/// app's policy, and the origins its pages may load from.
fn frontend(
    config: &Settings,
    mounts: &Mounts,
    asset: bool,
) -> Result<(Arc<dyn Scheme>, Network), Error> {
    let csp = Csp::new(
        config.csp.as_deref(),
        !config.dangerous.disable_csp_modification,
        asset,
    );
    let app_protocol = AppProtocol::new(mounts.clone(), &csp)?;
    let network = network(&csp, &app_protocol);
    let app_protocol = dev_frontend(app_protocol, &csp)?;
    Ok((Arc::new(app_protocol), network))
}

/// Each app window's session, sink and pusher, and the registry of
/// windows that knows where each window's events go.
fn registry<'a>(
    config: &Settings,
    policies: &[Policy<'a>],
) -> (BTreeMap<&'a str, Delivery>, Arc<Windows>) {
    let deliveries: BTreeMap<&str, Delivery> =
        policies.iter().map(|p| (p.label, delivery())).collect();
    let pushers = deliveries
        .iter()
        .map(|(l, (_, _, p))| ((*l).to_owned(), Arc::clone(p)))
        .collect();
    let windows = Windows::new(
        declared(config),
        config.limits.max_open_windows as usize,
        pushers,
    );
    (deliveries, Arc::new(windows))
}

/// The app's settings store (`$APPDATA/.store`, hidden from `scope.fs`),
/// opened when any window may use it; a file that does not parse stops
/// startup.
fn store(
    policies: &[Policy<'_>],
    every: &[Builtin],
    data_dir: &std::path::Path,
) -> Result<Option<Arc<crate::api::store::Store>>, Error> {
    use crate::api::store::{KeyPatterns, Store};
    if !every
        .iter()
        .any(|b| b.module() == crate::api::builtin::Module::Store)
    {
        return Ok(None);
    }
    let readers = policies
        .iter()
        .map(|p| {
            (
                p.label.to_owned(),
                KeyPatterns::new(&p.allowlist.store.read),
            )
        })
        .collect();
    Ok(Some(Arc::new(Store::open(
        &data_dir.join(".store"),
        readers,
    )?)))
}

/// The keyring's thread, started when any window may use `secrets.*`:
/// here, before any command thread is confined.
#[cfg(feature = "api-secrets")]
fn keyring(
    config: &crate::config::Settings,
    every: &[Builtin],
) -> Option<Arc<crate::api::secrets::Keyring>> {
    every
        .iter()
        .any(|b| b.module() == crate::api::builtin::Module::Secrets)
        .then(|| crate::api::secrets::Keyring::start(&config.identifier, &config.title))
}

/// What `api` reaches of the app's store and keyring: what `policy`'s
/// allowlist names.
fn data_access(shared: &Shared<'_>, policy: &Policy<'_>, api: &mut Api) {
    use crate::api::store::{Access, KeyPatterns};
    api.store = shared.store.as_ref().map(|store| {
        Arc::new(Access {
            store: Arc::clone(store),
            read: KeyPatterns::new(&policy.allowlist.store.read),
            write: KeyPatterns::new(&policy.allowlist.store.write),
        })
    });
    #[cfg(feature = "api-secrets")]
    {
        api.secrets = shared.keyring.as_ref().map(|keyring| {
            Arc::new(crate::api::secrets::Access {
                keyring: Arc::clone(keyring),
                read: policy.allowlist.secrets.read.clone(),
                write: policy.allowlist.secrets.write.clone(),
            })
        });
    }
}

/// A new key holder, reply queue and pusher for an app window.
fn delivery() -> Delivery {
    let session = Arc::new(Session::new());
    let sink = Arc::new(ReplySink::unwired());
    let pusher = Arc::new(Pusher::new(Arc::clone(&sink), Arc::clone(&session)));
    (session, sink, pusher)
}

/// What every app window is built with.
struct Shared<'a> {
    parts: &'a Parts,
    dirs: &'a BaseDirs,
    data_dir: &'a PathBuf,
    opener: &'a Option<PathBuf>,
    handle: AppHandle,
    /// The app's settings store, when a window may use it.
    store: Option<Arc<crate::api::store::Store>>,
    /// The app's way to the user's keyring, when a window may use it.
    #[cfg(feature = "api-secrets")]
    keyring: Option<Arc<crate::api::secrets::Keyring>>,
}

/// One app window: its scopes, built-ins, core and schemes, and what the
/// kernel must let its commands touch.
fn app_window(
    shared: &Shared<'_>,
    policy: &Policy<'_>,
    on: &[Builtin],
    (session, sink, pusher): &Delivery,
) -> Result<(AppWindow, Plan), Error> {
    let label = policy.label;
    let scopes = Scopes::compile(policy.scope, shared.dirs).map_err(|mut e| {
        e.path = format!("{}{}", policy.at, e.path);
        Error::Config(e)
    })?;
    let needs = crate::confine::plan(
        &crate::api::builtin::needs(on, &shared.parts.config.confinement),
        shared.dirs,
        &scopes,
    );
    let mut api = Api::new(scopes, policy.limits, shared.opener.clone());
    data_access(shared, policy, &mut api);
    let api = Arc::new(api);
    warn_about(policy, on, &api);
    let commands = shared
        .parts
        .commands
        .clone()
        .merge(api::commands(&api))
        .merge(crate::ipc::windows::commands(
            &shared.handle.windows,
            &policy.allowlist.windows,
        ));
    let core = Arc::new(core(
        policy,
        Arc::clone(session),
        (commands, allowed_set(policy, &shared.parts.commands, on)),
        shared.data_dir.clone(),
        (Arc::clone(pusher), shared.handle.clone()),
    ));
    let isolation = IsolationProtocol::new(
        Arc::clone(session),
        core.rate.clone(),
        shared.parts.hooks.clone(),
        &policy.isolation.hooks,
        label,
    );
    let mut schemes: Vec<(&'static str, Arc<dyn Scheme>)> =
        vec![("isolation", Arc::new(isolation))];
    schemes.extend(asset_scheme(on.contains(&Builtin::Asset), &api, label).map(|a| ("asset", a)));
    let window = AppWindow {
        label: label.to_owned(),
        title: policy.title.to_owned(),
        size: (policy.window.width, policy.window.height),
        url: page_url(policy.page),
        open_externally: open_externally(on, &api),
        bridge_script: bridge_script(policy.limits.call_timeout_ms),
        core,
        sink: Arc::clone(sink),
        api,
        schemes,
    };
    Ok((window, needs))
}

/// A window's error, named with its window unless it is the main one's.
fn in_window<T>(policy: &Policy<'_>, r: Result<T, Error>) -> Result<T, Error> {
    r.map_err(|error| {
        if policy.is_main() {
            error
        } else {
            Error::Window {
                label: policy.label.to_owned(),
                error: Box::new(error),
            }
        }
    })
}

/// Every declared window's kind, the main one included.
fn declared(config: &Settings) -> BTreeMap<String, Kind> {
    let mut out = BTreeMap::from([(MAIN_WINDOW.to_owned(), Kind::App)]);
    for (label, decl) in &config.windows {
        let kind = match decl {
            crate::config::WindowDecl::App(_) => Kind::App,
            crate::config::WindowDecl::Untrusted(_) => Kind::Untrusted,
        };
        out.insert(label.clone(), kind);
    }
    out
}

/// `app://localhost/<page>` (the main window's page is the root).
fn page_url(page: &str) -> String {
    if page == "index.html" {
        APP_URL.to_owned()
    } else {
        format!("{APP_URL}{page}")
    }
}

/// The untrusted views, their URL patterns compiled.
fn views(config: &Settings) -> Result<BTreeMap<String, View>, Error> {
    let mut out = BTreeMap::new();
    for (label, decl) in config.views() {
        let at = format!("windows.{label}");
        let navigate = if decl.navigate.is_empty() {
            vec![origin_pattern(&decl.url)]
        } else {
            decl.navigate.clone()
        };
        let compile = |key: &str, allow: Vec<String>| {
            let cfg = crate::config::UrlScopeConfig {
                allow,
                ..Default::default()
            };
            UrlScope::compile(&format!("{at}.{key}"), &cfg, UrlKind::View).map_err(Error::Config)
        };
        // `navigate` and `finishOn` name their own list as `allow`: the
        // key in errors is the config's.
        let fix = |e: Error, key: &str| match e {
            Error::Config(mut c) => {
                c.path = c.path.replace(&format!("{key}.allow"), key);
                Error::Config(c)
            }
            other => other,
        };
        let view = View {
            label: label.to_owned(),
            title: decl.title.clone(),
            size: (decl.window.width, decl.window.height),
            url: decl.url.clone(),
            navigate: compile("navigate", navigate).map_err(|e| fix(e, "navigate"))?,
            finish_on: compile("finishOn", decl.finish_on.clone())
                .map_err(|e| fix(e, "finishOn"))?,
        };
        if view.navigate.check(&view.url).is_err() {
            return Err(Error::Config(crate::config::ConfigError {
                path: format!("{at}.navigate"),
                message: format!("does not allow the view's own url {:?}", view.url),
            }));
        }
        out.insert(label.to_owned(), view);
    }
    Ok(out)
}

/// `https://host[:port]/**` for an `https:` URL (checked by the config).
fn origin_pattern(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("https://{h}:{p}/**"),
            (Some(h), None) => format!("https://{h}/**"),
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

/// What the webview may load over the network: the hosts the app's policy
/// names and those of its HTML's external files. A policy source that
/// would allow any host is logged: the filter does not follow it.
fn network(csp: &Csp, app: &AppProtocol) -> Network {
    let mut network = Network::default();
    network.declare_policy(csp.base());
    for url in app.external_urls() {
        network.declare_url(url);
    }
    for (directive, source) in &network.too_wide {
        tracing::warn!(
            "csp: `{source}` in {directive} allows any host; the webview's network filter does not: name each host the page loads from"
        );
    }
    tracing::info!(
        declared = ?network.describe(),
        "the webview loads nothing over the network but from these origins"
    );
    network
}

/// Debug builds, with `MOAT_FRONTEND_DIR` set: the frontend from that
/// directory, read at every request (`protocol::dev`).
#[cfg(debug_assertions)]
fn dev_frontend(app: AppProtocol, csp: &Csp) -> Result<AppProtocol, Error> {
    use crate::protocol::dev::{DiskFrontend, ENV};
    let Some(dir) = std::env::var_os(ENV) else {
        return Ok(app);
    };
    let disk = DiskFrontend::open(std::path::Path::new(&dir), csp.clone())?;
    tracing::warn!(
        dir = %disk.root().display(),
        "serving the frontend from disk ({ENV}, debug build): an edit shows on reload"
    );
    Ok(app.with_disk(disk))
}

/// Release builds serve only the embedded frontend.
#[cfg(not(debug_assertions))]
fn dev_frontend(app: AppProtocol, _: &Csp) -> Result<AppProtocol, Error> {
    if std::env::var_os("MOAT_FRONTEND_DIR").is_some() {
        tracing::warn!(
            "MOAT_FRONTEND_DIR is ignored: a release build serves only its embedded frontend"
        );
    }
    Ok(app)
}

/// The one path every call takes, with one window's commands, allowlist
/// and limits.
fn core(
    policy: &Policy<'_>,
    session: Arc<Session>,
    (commands, allowed): (Commands, BTreeSet<String>),
    data_dir: PathBuf,
    (pusher, handle): (Arc<Pusher>, AppHandle),
) -> Core {
    let limits = policy.limits;
    Core {
        session,
        pusher: Arc::clone(&pusher),
        // Fetched by the page right after the reply; kept no longer than a
        // call may take, and bounded together.
        blobs: Arc::new(BlobStore::new(
            Duration::from_millis(limits.call_timeout_ms),
            crate::ipc::wire::bytes::store_bound(limits.max_message_bytes),
        )),
        commands,
        allowed: Some(allowed),
        max_envelope_bytes: limits.max_message_bytes,
        rate: limits
            .max_calls_per_second
            .map(|n| Arc::new(RateLimit::new(n, Duration::from_secs(1)))),
        pending: limits
            .max_pending_calls
            .map(|n| PendingLimit::new(n as usize)),
        ctx: CallContext {
            app: Arc::new(AppPaths { data_dir }),
            window: Arc::from(policy.label),
            handle,
            pusher,
            epoch: 0,
        },
    }
}

/// Names registered twice, names that look like a built-in's, and an
/// allowlist that names an unregistered command stop startup.
fn check_commands(policy: &Policy<'_>, commands: &Commands) -> Result<(), Error> {
    if let Some(dup) = commands.duplicates.first() {
        return Err(Error::DuplicateCommand(dup.clone()));
    }
    // `module.function` names belong to the built-in modules, so an app
    // command can never shadow one (or be mistaken for one in the log).
    if let Some(name) = commands.handlers.keys().find(|n| n.contains('.')) {
        return Err(Error::ReservedCommandName(name.clone()));
    }
    // The rule event names share: no spaces, quotes or look-alikes.
    if let Some(name) = commands
        .handlers
        .keys()
        .find(|n| !crate::ipc::push::valid_name(n))
    {
        return Err(Error::BadCommandName(name.clone()));
    }
    if let Some(allowed) = &policy.allowlist.commands {
        if let Some(unknown) = allowed.iter().find(|c| commands.get(c).is_none()) {
            return Err(Error::AllowlistUnknownCommand(unknown.clone()));
        }
    }
    Ok(())
}

/// Every hook the window's policy names is embedded and loads
/// (`isolation::hooks`), and so is its page (`index.html` for the main
/// window).
fn check_files(policy: &Policy<'_>, frontend: &Mounts, hooks: &Mounts) -> Result<(), Error> {
    let names = &policy.isolation.hooks;
    if let Some(missing) = names.iter().find(|h| hooks.file(h.as_str()).is_none()) {
        return Err(Error::MissingHook(missing.clone()));
    }
    crate::isolation::hooks::check(names, &|path| {
        hooks.file(path).map(|f| f.contents().to_vec())
    })
    .map_err(|e| Error::Hook {
        place: e.place(),
        message: e.to_string(),
    })?;
    if frontend.file(policy.page).is_none() {
        return Err(if policy.is_main() {
            Error::MissingIndex
        } else {
            Error::MissingPage(policy.page.to_owned())
        });
    }
    Ok(())
}

/// Whether the web inspector is on: only when asked for, in a debug build
/// with the `devtools` feature. A release build, or one without the
/// feature, refuses to start rather than quietly drop the request (so
/// nobody ships believing it is on or off by accident).
pub(crate) fn devtools_allowed(
    requested: bool,
    debug_build: bool,
    built_with: bool,
) -> Result<bool, Error> {
    match (requested, debug_build, built_with) {
        (true, false, _) => Err(Error::DevtoolsInRelease),
        (true, true, false) => Err(Error::DevtoolsNotBuilt),
        (requested, _, _) => Ok(requested),
    }
}

/// With a built-in that works in `$APPDATA` on, the directory exists from
/// the start (private to the user), so `$APPDATA/…` works on a first run.
fn prepare_app_data(mut dirs: BaseDirs, builtins: &[Builtin]) -> BaseDirs {
    if builtins.iter().any(|b| b.uses_app_data()) {
        if let Err(e) = dirs.create_app_data() {
            tracing::warn!("cannot create $APPDATA: {e}");
        }
    }
    dirs
}

/// The system's opener, found once at startup like the shell scope's
/// programs: a file planted on `PATH` later is never the opener.
fn find_opener(dirs: &BaseDirs, open_allowed: bool) -> Option<PathBuf> {
    match dirs.find_program("xdg-open") {
        Ok(p) => Some(p),
        Err(e) => {
            if open_allowed {
                tracing::warn!(
                    "shell.open is allowed but {e}; every shell.open will fail with io_failed"
                );
            }
            None
        }
    }
}

/// The commands a window's page may call: the app's (for the main window
/// all unless listed; for another window only those listed), the built-in
/// functions its allowlist turns on, `window.open` when it may open
/// windows, and `window.close`.
fn allowed_set(policy: &Policy<'_>, commands: &Commands, builtins: &[Builtin]) -> BTreeSet<String> {
    let mut allowed: BTreeSet<String> = match &policy.allowlist.commands {
        Some(list) => list.iter().cloned().collect(),
        None if policy.is_main() => commands.handlers.keys().cloned().collect(),
        None => BTreeSet::new(),
    };
    allowed.extend(builtins.iter().map(|b| b.name().to_owned()));
    if !policy.allowlist.windows.is_empty() {
        allowed.insert("window.open".to_owned());
    }
    allowed.insert("window.close".to_owned());
    allowed
}

#[cfg(feature = "api-asset")]
fn asset_scheme(on: bool, api: &Api, window: &str) -> Option<Arc<dyn Scheme>> {
    on.then(|| {
        Arc::new(crate::protocol::asset::AssetProtocol::new(
            api.scopes.asset.clone(),
            api.max_bytes,
            window,
        )) as Arc<dyn Scheme>
    })
}

/// Without the `api-asset` feature the protocol cannot be allowed (the
/// allowlist check above stops startup first).
#[cfg(not(feature = "api-asset"))]
fn asset_scheme(_on: bool, _api: &Api, _window: &str) -> Option<Arc<dyn Scheme>> {
    None
}

#[cfg(feature = "api-shell")]
fn open_externally(builtins: &[Builtin], api: &Arc<Api>) -> Option<OpenExternally> {
    let api = Arc::clone(api);
    builtins.contains(&Builtin::Open).then(|| {
        Arc::new(move |url: &str| api::shell::open(&api, url).map_err(|e| e.detail()))
            as OpenExternally
    })
}

#[cfg(not(feature = "api-shell"))]
fn open_externally(_builtins: &[Builtin], _api: &Arc<Api>) -> Option<OpenExternally> {
    None
}

/// `bridge.js` as a function of its settings. Wrapping the file in a
/// function (not a block with a `const` before it) keeps its `'use strict'`
/// the first statement of a function body: the bridge runs in strict mode.
fn bridge_script(call_timeout_ms: u64) -> String {
    let settings = serde_json::json!({
        "isolationUrl": ISOLATION_URL,
        "ipcUrl": IPC_URL,
        "callTimeoutMs": call_timeout_ms,
    });
    let bridge = ISOLATION_JS
        .get_file("bridge.js")
        .and_then(|f| f.contents_utf8())
        .unwrap_or("");
    format!("(function (MOAT_CONFIG) {{\n{bridge}\n}})({settings});")
}

/// Every protection the config turns off or loosens is said at startup.
fn warn_about_app(config: &Settings) {
    if config.dangerous.disable_csp_modification {
        tracing::warn!("dangerous.disableCspModification: HTML and the app's CSP are served as given; inline scripts get no hashes, styles no nonces, and object-src/base-uri/form-action no defaults");
    }
    if config.csp.is_some() {
        tracing::info!("the app sets its own Content-Security-Policy; Moat completes it (see `moat-demo audit` for risky sources)");
    }
    for p in &config.permissions {
        tracing::warn!(permission = ?p, "the app grants a web permission to its pages");
    }
    let mut findings = crate::audit::Findings::new("moat.json");
    crate::audit::views(&mut findings, config);
    log_findings(findings);
}

/// A window's built-ins that are on, with their scopes, and the audit's
/// findings on its modules and limits: a scope that reaches $HOME or a
/// limit turned off should not need an audit run to be noticed.
fn warn_about(policy: &Policy<'_>, builtins: &[Builtin], api: &Api) {
    let mut findings = crate::audit::Findings::new("moat.json");
    crate::audit::modules(&mut findings, policy);
    crate::audit::limits(&mut findings, policy);
    log_findings(findings);
    let window = policy.label;
    for b in builtins {
        let (name, key) = (b.name(), b.scope_key());
        if api::scope_is_empty(*b, &api.scopes) {
            tracing::warn!(
                window,
                "{name} is allowed but {key} allows nothing: every call will be refused"
            );
        } else {
            tracing::info!(window, "built-in {name} is on, limited to {key}");
        }
    }
}

fn log_findings(findings: crate::audit::Findings) {
    for f in findings
        .into_sorted()
        .iter()
        .filter(|f| f.severity >= crate::audit::Severity::Medium)
    {
        tracing::warn!(code = f.code, place = %f.place, "{}", f.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::command::NoArgs;
    use include_dir::{include_dir, Dir};

    static FRONTEND: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo-frontend");
    static HOOKS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo-frontend/hooks");
    static EMPTY: Dir<'static> = Dir::new("", &[]);

    fn config(extra: &str) -> Settings {
        Settings::from_json(&format!(
            r#"{{"identifier":"dev.moat.t","title":"T"{extra}}}"#
        ))
        .unwrap()
    }

    fn ping() -> Commands {
        Commands::new().sync("ping", |_: NoArgs, _| Ok::<_, ()>("pong"))
    }

    fn parts(config: Settings, frontend: &'static Dir<'static>, commands: Commands) -> Parts {
        Parts {
            config,
            frontend: Mounts::default().with(("", frontend)),
            hooks: Mounts::default().with(("", &HOOKS)),
            commands,
            opener: None,
            setup: None,
            landlock_at_most: u8::MAX,
        }
    }

    /// Checks `parts` on a machine laid out under a fresh temporary root.
    fn checked(parts: Parts) -> (tempfile::TempDir, Result<App, Error>) {
        let root = tempfile::tempdir().unwrap();
        let dirs = BaseDirs::fixed(root.path());
        let result = check(parts, dirs);
        (root, result)
    }

    fn err(parts: Parts) -> String {
        match checked(parts).1 {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn devtools_are_on_only_when_asked_in_a_debug_build() {
        assert!(matches!(
            devtools_allowed(true, false, true),
            Err(Error::DevtoolsInRelease)
        ));
        assert!(matches!(
            devtools_allowed(true, true, false),
            Err(Error::DevtoolsNotBuilt)
        ));
        assert!(matches!(devtools_allowed(true, true, true), Ok(true)));
        assert!(matches!(devtools_allowed(false, true, false), Ok(false)));
        assert!(matches!(devtools_allowed(false, false, false), Ok(false)));
        assert!(Error::DevtoolsInRelease
            .to_string()
            .contains("never available in a release build"));
    }

    #[test]
    fn a_valid_app_passes_the_startup_checks_and_is_built() {
        let (_root, app) = checked(parts(
            config(r#","isolation":{"hooks":["validate.js"]},"allowlist":{"commands":["ping"]}"#),
            &FRONTEND,
            ping(),
        ));
        let app = app.unwrap();
        let main = &app.app_windows["main"];
        assert_eq!(
            main.core
                .allowed
                .as_ref()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            ["ping", "window.close"]
        );
        let names: Vec<&str> = main.schemes.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["isolation"]);
        assert_eq!(main.url, "app://localhost/");
        assert!(main.open_externally.is_none());
        assert!(
            main.core.rate.is_some(),
            "the call rate limit is on by default"
        );
        assert!(app.views.is_empty());
    }

    #[test]
    fn each_window_gets_its_own_key_allowlist_and_limits() {
        let (_root, app) = checked(parts(
            config(
                r#","windows":{"second":{"kind":"app","title":"2","page":"index.html",
                    "allowlist":{"commands":["ping"]},"limits":{"maxMessageBytes":4096,"callTimeoutMs":5,"maxCallsPerSecond":3}},
                  "view":{"kind":"untrusted","title":"V","url":"https://auth.example.com/login"}},
                  "allowlist":{"windows":["second","view"]}"#,
            ),
            &FRONTEND,
            ping().sync("other", |_: NoArgs, _| Ok::<_, ()>(())),
        ));
        let app = app.unwrap();
        let (main, second) = (&app.app_windows["main"], &app.app_windows["second"]);
        let allowed = |w: &AppWindow| {
            w.core
                .allowed
                .clone()
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            allowed(main),
            ["other", "ping", "window.close", "window.open"]
        );
        assert_eq!(allowed(second), ["ping", "window.close"]);
        assert_eq!(&*second.core.ctx.window, "second");
        assert_eq!(second.core.max_envelope_bytes, 4096);
        assert_eq!(second.core.rate.as_ref().unwrap().limit(), 3);
        assert_eq!(second.url, "app://localhost/");
        // Separate keys: a key handed to one window's frame opens nothing
        // in the other's.
        assert!(!Arc::ptr_eq(&main.core.session, &second.core.session));
        assert_ne!(main.core.session.epoch(), second.core.session.epoch());
        let view = &app.views["view"];
        assert!(view.navigate.check("https://auth.example.com/next").is_ok());
        assert!(view.navigate.check("https://evil.example.com/").is_err());
        assert!(view
            .finish_on
            .check("https://auth.example.com/next")
            .is_err());
    }

    #[test]
    fn a_windows_mistakes_are_named_with_its_key() {
        let p = parts(
            config(
                r#","windows":{"second":{"kind":"app","title":"2","page":"index.html","allowlist":{"commands":["pnig"]}}}"#,
            ),
            &FRONTEND,
            ping(),
        );
        assert_eq!(
            err(p),
            "window `second` (windows.second): moat config: allowlist.commands: `pnig` is not a registered command; register it or remove it"
        );
        let p = parts(
            config(r#","windows":{"second":{"kind":"app","title":"2","page":"nope.html"}}"#),
            &FRONTEND,
            ping(),
        );
        assert!(err(p).contains("has no nope.html"));
        let p = parts(
            config(
                r#","windows":{"second":{"kind":"app","title":"2","page":"index.html","scope":{"fs":{"allow":["$NOPE/*"]}}}}"#,
            ),
            &FRONTEND,
            ping(),
        );
        assert!(err(p).contains("windows.second.scope.fs.allow[0]"));
        let p = parts(
            config(
                r#","windows":{"v":{"kind":"untrusted","title":"V","url":"https://a.example.com/","navigate":["https://b.example.com/**"]}}"#,
            ),
            &FRONTEND,
            ping(),
        );
        assert!(err(p).contains("windows.v.navigate: does not allow the view's own url"));
    }

    #[test]
    fn a_command_registered_twice_stops_startup() {
        let p = parts(config(""), &FRONTEND, ping().merge(ping()));
        assert_eq!(err(p), "command `ping` is registered twice; rename one");
    }

    #[test]
    fn app_commands_cannot_take_a_built_in_name() {
        let p = parts(
            config(""),
            &FRONTEND,
            Commands::new().sync("fs.read_text_file", |_: NoArgs, _| {
                Ok::<_, ()>("not the real one")
            }),
        );
        assert_eq!(
            err(p),
            "command `fs.read_text_file`: names with a '.' are reserved for Moat's built-in modules; rename it"
        );
    }

    #[test]
    fn a_command_name_outside_the_rule_stops_startup() {
        for bad in ["has space", "9lives", "quote\"", "greet\0"] {
            let p = parts(
                config(""),
                &FRONTEND,
                Commands::new().sync(bad, |_: crate::NoArgs, _| Ok::<_, ()>(())),
            );
            assert!(err(p).contains("1 to 64 ASCII letters"), "{bad}");
        }
    }

    #[test]
    fn allowlisting_an_unregistered_command_stops_startup() {
        let p = parts(
            config(r#","allowlist":{"commands":["ping","pnig"]}"#),
            &FRONTEND,
            ping(),
        );
        assert!(err(p).contains("`pnig` is not a registered command"));
    }

    #[test]
    fn a_missing_hook_stops_startup() {
        let p = parts(
            config(r#","isolation":{"hooks":["nope.js"]}"#),
            &FRONTEND,
            Commands::new(),
        );
        assert!(err(p).contains("`nope.js` is not in the hooks directory"));
    }

    #[test]
    fn a_frontend_without_index_stops_startup() {
        assert_eq!(
            err(parts(config(""), &EMPTY, Commands::new())),
            "the frontend directory has no index.html"
        );
    }

    #[test]
    fn a_bad_scope_stops_startup_with_its_key() {
        let p = parts(
            config(r#","scope":{"fs":{"allow":["$APPDATA/**","$NOPE/*"]}}"#),
            &FRONTEND,
            Commands::new(),
        );
        assert!(err(p).contains("scope.fs.allow[1]"));
    }

    #[test]
    fn allowing_a_module_the_binary_lacks_stops_startup_and_says_which_feature() {
        let p = parts(
            config(r#","allowlist":{"fs":{"readFile":true}}"#),
            &FRONTEND,
            Commands::new(),
        );
        if cfg!(feature = "api-fs") {
            let (root, app) = checked(p);
            let app = app.unwrap();
            assert!(app.app_windows["main"]
                .core
                .allowed
                .as_ref()
                .unwrap()
                .contains("fs.read_text_file"));
            // fs works in $APPDATA, which now exists.
            assert!(root.path().join("home/.local/share/app").is_dir());
        } else {
            assert_eq!(
                err(p),
                "moat config: allowlist: `fs.read_text_file` is allowed, but this binary was built without the cargo feature `api-fs`; enable the feature or remove it from the allowlist"
            );
        }
    }

    #[test]
    fn built_in_functions_the_allowlist_turns_on_are_listed() {
        let c = config(r#","allowlist":{"fs":{"all":true},"http":{"fetch":true}}"#);
        if cfg!(all(feature = "api-fs", feature = "api-http")) {
            let on = api::builtin::allowed(&c.allowlist).unwrap();
            assert_eq!(
                on,
                [
                    Builtin::ReadTextFile,
                    Builtin::WriteTextFile,
                    Builtin::ReadFile,
                    Builtin::WriteFile,
                    Builtin::ReadDir,
                    Builtin::RemoveFile,
                    Builtin::Fetch
                ]
            );
        }
        assert!(api::builtin::allowed(&config("").allowlist)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_bridge_is_strict_and_gets_its_settings() {
        let js = bridge_script(1234);
        assert!(
            js.starts_with("(function (MOAT_CONFIG) {\n"),
            "{}",
            &js[..60]
        );
        let body = js.trim_start_matches("(function (MOAT_CONFIG) {\n");
        // The directive prologue: comments, then 'use strict' first.
        let first_code = body
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("//"))
            .unwrap();
        assert_eq!(first_code, "'use strict';");
        assert!(js.ends_with(r#"})({"callTimeoutMs":1234,"ipcUrl":"ipc://localhost/","isolationUrl":"isolation://localhost/"});"#), "{}", &js[js.len() - 120..]);
    }
}
