//! The window and the webview, and the lockdown that belongs to them:
//! navigation only to the app's own schemes, no new windows, no downloads,
//! permissions only as granted, devtools only in debug builds on request.
//!
//! This module only wires: every value it uses was built and checked by
//! `app::check`, so what can fail here is the platform (no display, WebKit
//! refused). Behaviour that tests change comes in as [`Options`]; this
//! module does not know who fills them in.
//!
//! ## Platform-specific
//! - **Linux:** GTK runs on the main thread; everything that touches the
//!   webview (`evaluate_script`) goes through the GTK main context, which
//!   this thread owns (it runs the tao event loop). The navigation handler
//!   is also called for sub-frames, so it admits the isolation origin.
//!   wry's page-load handler follows WebKit's `load-changed` signal, which
//!   fires for the main frame only. The webview itself and the two
//!   transports that need WebKit's own API are in `linux.rs`.

#[cfg(feature = "api-dialog")]
mod chooser_linux;
#[cfg(target_os = "linux")]
mod content_filter_linux;
#[cfg(target_os = "linux")]
mod linux;
mod recovery;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy, EventLoopWindowTarget};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::{Window, WindowBuilder, WindowId};
use wry::{NewWindowResponse, PageLoadEvent, PermissionResponse, WebViewBuilder};

use crate::app::{App, AppWindow, OpenExternally, View};
use crate::config::{Permission, MAIN_WINDOW};
use crate::error::Error;
use crate::ipc::hop::Hop;
use crate::ipc::refusals;
use crate::ipc::transport::post;
use crate::ipc::transport::reply::ReplySink;
use crate::ipc::windows::Request;

/// What the tokio runtime gets: two workers (the machine Moat is measured
/// on has two cores; the GTK thread is the third busy thread).
const WORKER_THREADS: usize = 2;

/// Behaviour tests change; an app runs with [`Options::default`].
#[derive(Default)]
pub(crate) struct Options {
    /// More main-frame initialization scripts for every app window, after
    /// the bridge, each made for the window's label.
    pub(crate) init_scripts: Vec<InitScript>,
    /// WebKit writes the pages' console messages to stderr.
    pub(crate) console: bool,
    /// Sees every `window.ipc` message first (page URL, text); `true`
    /// consumes it.
    pub(crate) intercept: Option<Interceptor>,
    /// Called once the main window exists, with a way to end the app.
    pub(crate) on_start: Option<Box<dyn FnOnce(Exit)>>,
    /// Answers file choosers instead of showing GTK's (the test harness).
    #[cfg(feature = "api-dialog")]
    pub(crate) chooser: Option<crate::api::dialog::Chooser>,
    /// Certificates untrusted views accept, by host (the test harness's
    /// local https server): `(host, PEM)`.
    pub(crate) view_certificates: Vec<(String, String)>,
}

/// See [`Options::init_scripts`].
pub(crate) type InitScript = Box<dyn Fn(&str) -> String>;

/// See [`Options::intercept`].
pub(crate) type Interceptor = Rc<dyn Fn(&str, &str, &Exit) -> bool>;

/// Ends the app with an exit code, from any thread.
#[derive(Clone)]
pub(crate) struct Exit(Arc<std::sync::Mutex<EventLoopProxy<UserEvent>>>);

impl Exit {
    pub(crate) fn exit(&self, code: i32) {
        self.send(UserEvent::Exit(code));
    }

    fn send(&self, e: UserEvent) {
        let proxy = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let _ = proxy.send_event(e);
    }
}

/// Work for the GTK thread, sent from other threads.
#[derive(Debug)]
enum UserEvent {
    Exit(i32),
    Window(Request),
}

/// What the GTK thread needs to open a window at any time.
struct Host {
    app: App,
    rt: tokio::runtime::Handle,
    /// Where posted calls start (`ipc::hop`), confined like the runtime.
    hop: Hop,
    /// The network filters (`csp::network`).
    filters: Filters,
    options: Options,
    exit: Exit,
}

/// An open window.
struct Open {
    window: Window,
    webview: Rc<wry::WebView>,
    /// Its web context: its own web process, storage and schemes.
    _context: Option<wry::WebContext>,
    kind: OpenKind,
}

enum OpenKind {
    /// An app window: the crashes seen lately.
    App { crashes: recovery::CrashGuard },
    /// An untrusted view: which window opened it, and whether it has
    /// finished (its opener told).
    View {
        opener: Option<String>,
        finished: Rc<std::cell::Cell<bool>>,
    },
}

/// What the GTK thread keeps: how to open windows, and the open ones.
struct Ui {
    host: Rc<Host>,
    open: BTreeMap<String, Open>,
    ids: HashMap<WindowId, String>,
}

thread_local! {
    /// On the GTK thread only, once the main window exists.
    static UI: RefCell<Option<Ui>> = const { RefCell::new(None) };
}

/// True on the GTK thread once the main window exists.
fn on_ui_thread() -> bool {
    UI.with(|ui| ui.borrow().is_some())
}

/// Evaluates every queued reply and push in the main frame of each open
/// app window, as one script per window. Runs on the GTK thread (the only
/// thread `UI` is set on).
fn flush_replies() {
    UI.with(|ui| {
        if let Some(ui) = &*ui.borrow() {
            for (label, open) in &ui.open {
                let Some(w) = ui.host.app.app_windows.get(label) else {
                    continue;
                };
                if let Some(js) = w.sink.drain(w.core.session.epoch()) {
                    if let Err(e) = open.webview.evaluate_script(&js) {
                        tracing::error!(window = %label, error = %e, "evaluate_script of replies failed");
                    }
                }
            }
        }
    });
}

/// A window's web content process ended (`reason` as WebKit says). For an
/// app window: its page load's key and replay window are wiped at once,
/// then its page is loaded again, or after a crash loop the built-in error
/// page is shown (see `recovery`). The other windows go on. An untrusted
/// view is closed.
fn web_process_ended(label: &str, reason: &str) {
    // Decide while holding the borrow, act after: loading a page may call
    // back into handlers that read `UI`.
    let decided = UI.with(|ui| {
        let mut ui = ui.borrow_mut();
        let ui = ui.as_mut()?;
        let host = Rc::clone(&ui.host);
        let open = ui.open.get_mut(label)?;
        let after = match &mut open.kind {
            OpenKind::App { crashes } => Some(crashes.crashed(std::time::Instant::now())),
            OpenKind::View { .. } => None,
        };
        Some((after, Rc::clone(&open.webview), host))
    });
    let Some((after, webview, host)) = decided else {
        return;
    };
    let Some(after) = after else {
        tracing::error!(window = %label, %reason, "the untrusted view's web content process ended; closing it");
        host.app.windows.close(label);
        return;
    };
    let Some(w) = host.app.app_windows.get(label) else {
        return;
    };
    let loaded = match after {
        recovery::After::Reload => {
            tracing::error!(window = %label, %reason, "the web content process ended; loading the window's page again with a new key");
            w.core.new_page_load();
            webview.load_url(&w.url)
        }
        recovery::After::GiveUp => {
            tracing::error!(window = %label, %reason, crashes = recovery::CRASH_LOOP, within_s = recovery::CRASH_LOOP_WINDOW.as_secs(), "the web content process keeps ending; showing the error page instead of reloading");
            w.core.close_page();
            webview.load_html(recovery::ERROR_PAGE)
        }
    };
    if let Err(e) = loaded {
        tracing::error!(window = %label, error = %e, "loading a page after the crash failed");
    }
}

/// Process-wide settings a desktop app needs before anything else runs.
pub(crate) fn prepare_process() {
    linux::keep_running_past_file_size_limits();
    linux::return_large_buffers_to_the_system();
}

/// Wakes the GTK thread for replies and pushes. Replies finished on a tokio
/// thread wake the GTK thread directly (`linux::wake_ui`), not through
/// tao's event loop, which adds ~30 µs per event here. On the GTK thread
/// itself nothing is woken: the only producers there, the script message
/// handlers, flush everything their message produced when they return.
fn wire_reply_sink(sink: &ReplySink) {
    sink.wire(|| {
        if !on_ui_thread() {
            linux::wake_ui(flush_replies);
        }
    });
}

/// The runtime async commands and the transports' work run on, and the
/// thread posted calls start on (`ipc::hop`). Each of their threads
/// (workers, blocking pool and `moat-call` alike) confines itself as it
/// starts (`confine`).
fn runtime(
    confiner: Option<Arc<crate::confine::Confiner>>,
) -> Result<(tokio::runtime::Runtime, Hop), Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("moat-worker")
        .on_thread_start(crate::confine::on_thread_start(confiner.clone()))
        .enable_time()
        // Child processes (`shell.execute`) need the I/O driver.
        .enable_io()
        .build()
        .map_err(|e| Error::Platform(format!("tokio runtime: {e}")))?;
    let hop = Hop::start(
        rt.handle().clone(),
        crate::confine::on_thread_start(confiner),
    )
    .map_err(|e| Error::Platform(format!("the moat-call thread: {e}")))?;
    Ok((rt, hop))
}

/// Opens the main window and runs the app until it ends; returns its exit
/// code (0, or the test harness's).
pub(crate) fn run(mut app: App, mut options: Options) -> Result<i32, Error> {
    if app.devtools {
        tracing::warn!("devtools are on (debug build, config.devtools = true)");
    }
    // Before the runtime: its threads are the confined ones.
    let confiner = app.confinement.start()?;
    let (rt, hop) = runtime(confiner)?;
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let exit = Exit(Arc::new(std::sync::Mutex::new(event_loop.create_proxy())));
    wire(&app, &options, &exit);
    if let Some(arrivals) = app.launch.as_mut() {
        if let Some(listener) = arrivals.listener.take() {
            crate::launch::instance::listen(listener, Arc::clone(&arrivals.launch));
        }
    }
    // Compiled before any webview exists; a page is loaded only once its
    // filter is in place (see `content_filter_linux`).
    let filters = Filters::compile(&app)?;
    let setup = app.setup.take();
    let on_start = options.on_start.take();
    let host = Rc::new(Host {
        app,
        rt: rt.handle().clone(),
        hop,
        filters,
        options,
        exit: exit.clone(),
    });
    UI.with(|ui| {
        *ui.borrow_mut() = Some(Ui {
            host: Rc::clone(&host),
            open: BTreeMap::new(),
            ids: HashMap::new(),
        })
    });
    open_window(&host, MAIN_WINDOW, None, &event_loop)?;
    if let Some((setup, handle)) = setup {
        // In the runtime, so the app's code can `tokio::spawn` its work.
        let _in_runtime = rt.enter();
        setup(handle);
    }
    tracing::info!(identifier = %host.app.identifier, "moat started");
    if let Some(on_start) = on_start {
        on_start(exit.clone());
    }
    drop(host);
    let code = event_loop.run_return(|event, target, control_flow| {
        *control_flow = ControlFlow::Wait;
        on_event(event, target, control_flow, &exit);
    });
    // The windows go first (their webviews, contexts and cores), then the
    // runtime's threads, without waiting for a handler still running.
    let closed = UI.with(|ui| ui.borrow_mut().take());
    drop(closed);
    rt.shutdown_background();
    Ok(code)
}

/// How each app window reaches the GTK thread: requests to open and close
/// windows through the event loop, replies through the main context, file
/// choosers modal to the window whose page asked.
fn wire(app: &App, _options: &Options, exit: &Exit) {
    let to_ui = exit.clone();
    app.windows
        .wire(move |request| to_ui.send(UserEvent::Window(request)));
    for w in app.app_windows.values() {
        wire_reply_sink(&w.sink);
        #[cfg(feature = "api-dialog")]
        w.api.dialogs.wire(
            _options
                .chooser
                .clone()
                .unwrap_or_else(|| chooser_linux::chooser(&w.label)),
        );
    }
}

/// The compiled network filters: the app windows' and, with any declared,
/// the untrusted views'; and the directory WebKit keeps them in.
struct Filters {
    app: content_filter_linux::ContentFilter,
    views: Option<content_filter_linux::ContentFilter>,
    _store: tempfile::TempDir,
}

impl Filters {
    fn compile(app: &App) -> Result<Self, Error> {
        let store = tempfile::Builder::new()
            .prefix("moat-filter-")
            .tempdir()
            .map_err(|e| {
                Error::ContentFilter(format!("no directory for its compiled form: {e}"))
            })?;
        let rules = app.network.rules();
        let app_filter = content_filter_linux::compile(&rules, store.path(), "moat-network")?;
        let views = if app.views.is_empty() {
            None
        } else {
            let rules = crate::csp::network::view_rules();
            Some(content_filter_linux::compile(
                &rules,
                store.path(),
                "moat-views",
            )?)
        };
        Ok(Self {
            app: app_filter,
            views,
            _store: store,
        })
    }
}

/// One event of the loop, on the GTK thread.
fn on_event(
    event: Event<'_, UserEvent>,
    target: &EventLoopWindowTarget<UserEvent>,
    control_flow: &mut ControlFlow,
    exit: &Exit,
) {
    match event {
        Event::UserEvent(UserEvent::Exit(code)) => *control_flow = ControlFlow::ExitWithCode(code),
        Event::UserEvent(UserEvent::Window(Request::Open { label, opener })) => {
            let host = UI.with(|ui| ui.borrow().as_ref().map(|ui| Rc::clone(&ui.host)));
            if let Some(host) = host {
                if let Err(e) = open_window(&host, &label, opener, target) {
                    tracing::error!(window = %label, error = %e, "the window could not be opened");
                    host.app.windows.closed(&label);
                }
            }
        }
        Event::UserEvent(UserEvent::Window(Request::Present { label })) => {
            UI.with(|ui| {
                if let Some(open) = ui.borrow().as_ref().and_then(|ui| ui.open.get(&label)) {
                    linux::bring_forward(&open.window);
                }
            });
        }
        Event::UserEvent(UserEvent::Window(Request::Close { label })) => {
            if label == MAIN_WINDOW {
                exit.exit(0);
            } else {
                close_window(&label, false);
            }
        }
        Event::LoopDestroyed => {
            crate::api::on_exit();
            refusals::log_summary();
        }
        Event::WindowEvent {
            event: WindowEvent::CloseRequested,
            window_id,
            ..
        } => {
            let label = UI.with(|ui| {
                ui.borrow()
                    .as_ref()
                    .and_then(|ui| ui.ids.get(&window_id).cloned())
            });
            match label.as_deref() {
                Some(MAIN_WINDOW) | None => exit.exit(0),
                Some(label) => close_window(label, true),
            }
        }
        _ => {}
    }
}

/// Opens window `label` (already open: brings it forward). `opener`: the
/// window whose page asked.
fn open_window(
    host: &Rc<Host>,
    label: &str,
    opener: Option<String>,
    target: &EventLoopWindowTarget<UserEvent>,
) -> Result<(), Error> {
    let focused = UI.with(|ui| {
        ui.borrow()
            .as_ref()
            .and_then(|ui| ui.open.get(label))
            .map(|o| linux::bring_forward(&o.window))
            .is_some()
    });
    if focused {
        return Ok(());
    }
    let open = if let Some(w) = host.app.app_windows.get(label) {
        open_app_window(host, w, target)?
    } else if let Some(v) = host.app.views.get(label) {
        open_view(host, v, opener, target)?
    } else {
        return Err(Error::Platform(format!("no window `{label}` is declared")));
    };
    tracing::info!(window = %label, "window opened");
    UI.with(|ui| {
        if let Some(ui) = ui.borrow_mut().as_mut() {
            ui.ids.insert(open.window.id(), label.to_owned());
            ui.open.insert(label.to_owned(), open);
        }
    });
    Ok(())
}

/// Closes window `label`: its page load ends (nothing sealed in it opens
/// again; its replies, events and channels go nowhere; its programs and
/// grants end with it). `by_user`: closed from its title bar.
fn close_window(label: &str, by_user: bool) {
    let removed = UI.with(|ui| {
        let mut ui = ui.borrow_mut();
        let ui = ui.as_mut()?;
        let open = ui.open.remove(label)?;
        ui.ids.remove(&open.window.id());
        Some((open, Rc::clone(&ui.host)))
    });
    let Some((open, host)) = removed else {
        return;
    };
    host.app.windows.closed(label);
    match &open.kind {
        OpenKind::App { .. } => {
            if let Some(w) = host.app.app_windows.get(label) {
                w.core.close_page();
                // What was queued for it is for a page load that is gone.
                let _ = w.sink.drain(w.core.session.epoch());
            }
            #[cfg(feature = "api-dialog")]
            chooser_linux::forget_parent(label);
        }
        OpenKind::View { opener, finished } => {
            if by_user && !finished.get() {
                tell_opener(&host, opener.as_deref(), "moat:view-closed", label, None);
            }
        }
    }
    tracing::info!(window = %label, "window closed");
    // Every open app window hears of it (a label, nothing of its page).
    for pusher in host.app.windows.open_pushers() {
        let _ = pusher.emit(
            None,
            "moat:window-closed",
            &serde_json::json!({ "label": label }),
        );
    }
    flush_replies();
    // The webview, its context and the window go here, outside `UI`.
    drop(open);
}

/// Sends the event `name` with `{ label, url }` to the window that opened
/// view `label` (the main window when Rust opened it).
fn tell_opener(host: &Host, opener: Option<&str>, name: &str, label: &str, url: Option<&str>) {
    let to = opener.unwrap_or(MAIN_WINDOW);
    let payload = serde_json::json!({ "label": label, "url": url });
    let sent = host
        .app
        .windows
        .pusher(to)
        .map(|p| p.emit(None, name, &payload));
    match sent {
        Some(Ok(())) => tracing::info!(window = %label, to, event = name, "the view's opener told"),
        Some(Err(e)) => {
            tracing::warn!(window = %label, to, error = %e, "the view's opener could not be told")
        }
        None => tracing::warn!(window = %label, to, "the view's opener is closed; not told"),
    }
    flush_replies();
}

/// An app window: its own web context (web process, storage, schemes),
/// bridge, transports and lockdown, its page loaded once they are in place.
fn open_app_window(
    host: &Rc<Host>,
    w: &AppWindow,
    target: &EventLoopWindowTarget<UserEvent>,
) -> Result<Open, Error> {
    let window = tao_window(&w.title, w.size, target)?;
    #[cfg(feature = "api-dialog")]
    chooser_linux::remember_parent(&w.label, &window);
    let storage = if w.label == MAIN_WINDOW {
        host.app.webkit_dir.clone()
    } else {
        host.app.webkit_dir.join("windows").join(&w.label)
    };
    let mut context = wry::WebContext::new(Some(storage));
    let ipc = IpcHandler {
        core: Arc::clone(&w.core),
        hop: host.hop.clone(),
        sink: Arc::clone(&w.sink),
        intercept: host.options.intercept.clone(),
        exit: host.exit.clone(),
    };
    let builder = app_webview_builder(host, w, &mut context, ipc);
    let webview = Rc::new(linux::build(builder, &window)?);
    crate::engine::sandbox::check_enabled(linux::sandbox_enabled(&webview), host.app.sandbox_off)?;
    content_filter_linux::apply(&webview, &host.filters.app)?;
    if host.options.console {
        linux::console_to_stderr(&webview);
    }
    // Before the page loads, so before any page script.
    linux::register_transports(&webview, &w.core, &host.rt, &host.hop, &w.sink)?;
    webview
        .load_url(&w.url)
        .map_err(|e| Error::Platform(format!("loading {}: {e}", w.url)))?;
    let label = w.label.clone();
    linux::on_web_process_ended(&webview, move |reason| web_process_ended(&label, reason));
    Ok(Open {
        window,
        webview,
        _context: Some(context),
        kind: OpenKind::App {
            crashes: recovery::CrashGuard::default(),
        },
    })
}

fn tao_window(
    title: &str,
    size: (u32, u32),
    target: &EventLoopWindowTarget<UserEvent>,
) -> Result<Window, Error> {
    WindowBuilder::new()
        .with_title(title)
        .with_inner_size(tao::dpi::LogicalSize::new(size.0, size.1))
        .build(target)
        .map_err(|e| Error::Platform(format!("window: {e}")))
}

/// An app window's webview: the app's schemes, the bridge and more
/// initialization scripts, `window.ipc`, and the lockdown handlers.
fn app_webview_builder<'a>(
    host: &Host,
    w: &AppWindow,
    context: &'a mut wry::WebContext,
    ipc: IpcHandler,
) -> WebViewBuilder<'a> {
    // No URL: the window loads its page once the network filter and the
    // transports are in place.
    let mut builder = WebViewBuilder::new_with_web_context(context)
        .with_initialization_script_for_main_only(w.bridge_script.clone(), true)
        .with_devtools(host.app.devtools);
    for script in &host.options.init_scripts {
        builder = builder.with_initialization_script_for_main_only(script(&w.label), true);
    }
    let schemes = std::iter::once(("app", Arc::clone(&host.app.frontend)))
        .chain(w.schemes.iter().map(|(n, s)| (*n, Arc::clone(s))));
    for (name, scheme) in schemes {
        builder = with_scheme(builder, name, scheme, &host.rt);
    }
    let lockdown = Lockdown {
        window: w.label.clone(),
        permissions: host.app.permissions.clone(),
    };
    let core = Arc::clone(&w.core);
    let launch = launch_for(host, &w.label);
    lockdown
        .apply(ipc.attach(builder))
        .with_navigation_handler({
            let window = w.label.clone();
            move |url| {
                let ok = crate::origin::navigation_allowed(&url);
                if !ok {
                    refusals::refuse(&window, "navigation_refused", &format!("navigation refused: not the app's origin url={url}"));
                }
                ok
            }
        })
        .with_new_window_req_handler(new_windows(
            w.label.clone(),
            w.open_externally.clone(),
        ))
        .with_on_page_load_handler(move |event, url| {
            // A new main-frame page: new key, new replay window (see
            // isolation::session for why).
            if matches!(event, PageLoadEvent::Started) && crate::origin::is_app_page(&url) {
                core.new_page_load();
                tracing::debug!(window = %core.ctx.window, %url, "page load: isolation key rotated");
            }
            // Pushes for this page load made while it loaded.
            if matches!(event, PageLoadEvent::Finished) {
                flush_replies();
                if let Some((launch, handle)) = &launch {
                    if crate::origin::is_app_page(&url) {
                        launch.page_loaded(handle);
                    }
                }
            }
        })
}

/// For the window that receives launch links: what hears them once its
/// page (and its listeners) loaded.
fn launch_for(host: &Host, label: &str) -> Option<(Arc<crate::launch::Launch>, crate::AppHandle)> {
    let arrivals = host.app.launch.as_ref()?;
    (arrivals.launch.window() == label).then(|| {
        (
            Arc::clone(&arrivals.launch),
            crate::AppHandle {
                windows: Arc::clone(&host.app.windows),
            },
        )
    })
}

/// `name` served by `scheme`: from memory on the GTK thread, or, when it
/// reads scoped files, on the runtime's blocking pool (which the kernel
/// confines), answered back on the GTK thread.
fn with_scheme<'a>(
    builder: WebViewBuilder<'a>,
    name: &'static str,
    scheme: Arc<dyn crate::protocol::Scheme>,
    rt: &tokio::runtime::Handle,
) -> WebViewBuilder<'a> {
    if !scheme.touches_scoped_files() {
        return builder.with_custom_protocol(name.into(), move |_, req| scheme.respond(&req));
    }
    let rt = rt.clone();
    builder.with_asynchronous_custom_protocol(name.into(), move |_, req, responder| {
        let scheme = Arc::clone(&scheme);
        rt.spawn_blocking(move || {
            let res = scheme.respond(&req);
            glib::MainContext::default().invoke(move || responder.respond(res));
        });
    })
}

/// An untrusted view: a web context of its own with nothing stored, no
/// bridge, no init script, none of Moat's schemes or transports; its
/// navigations held to its `navigate` list, and one on its `finishOn`
/// list ends it and goes to the window that opened it.
fn open_view(
    host: &Rc<Host>,
    v: &View,
    opener: Option<String>,
    target: &EventLoopWindowTarget<UserEvent>,
) -> Result<Open, Error> {
    let window = tao_window(&v.title, v.size, target)?;
    let finished = Rc::new(std::cell::Cell::new(false));
    let lockdown = Lockdown {
        window: v.label.clone(),
        permissions: Vec::new(),
    };
    let builder = lockdown
        .apply(
            WebViewBuilder::new()
                .with_incognito(true)
                .with_devtools(false),
        )
        .with_navigation_handler(view_navigation(host, v, opener.clone(), &finished))
        .with_new_window_req_handler(new_windows(v.label.clone(), None));
    let webview = Rc::new(linux::build(builder, &window)?);
    crate::engine::sandbox::check_enabled(linux::sandbox_enabled(&webview), host.app.sandbox_off)?;
    if let Some(filter) = &host.filters.views {
        content_filter_linux::apply(&webview, filter)?;
    }
    for (h, pem) in &host.options.view_certificates {
        linux::trust_certificate(&webview, h, pem)?;
    }
    if host.options.console {
        linux::console_to_stderr(&webview);
    }
    webview
        .load_url(&v.url)
        .map_err(|e| Error::Platform(format!("loading {}: {e}", v.url)))?;
    let label = v.label.clone();
    linux::on_web_process_ended(&webview, move |reason| web_process_ended(&label, reason));
    Ok(Open {
        window,
        webview,
        _context: None,
        kind: OpenKind::View { opener, finished },
    })
}

/// Where view `v` may navigate: inside its `navigate` patterns (and
/// `about:blank`); a URL on its `finishOn` list is not loaded but ends
/// the view, told once to `opener`.
fn view_navigation(
    host: &Rc<Host>,
    v: &View,
    opener: Option<String>,
    finished: &Rc<std::cell::Cell<bool>>,
) -> impl Fn(String) -> bool + 'static {
    let (navigate, finish_on, label) = (v.navigate.clone(), v.finish_on.clone(), v.label.clone());
    let (done, host) = (Rc::clone(finished), Rc::downgrade(host));
    move |url| {
        if finish_on.check(&url).is_ok() {
            if !done.replace(true) {
                tracing::info!(window = %label, %url, "the view reached a finishOn URL; it ends");
                if let Some(host) = host.upgrade() {
                    tell_opener(
                        &host,
                        opener.as_deref(),
                        "moat:view-finished",
                        &label,
                        Some(&url),
                    );
                    host.app.windows.close(&label);
                }
            }
            return false;
        }
        let ok = url == "about:blank" || navigate.check(&url).is_ok();
        if !ok {
            refusals::refuse(
                &label,
                "navigation_refused",
                &format!("navigation refused: not in the view's navigate list url={url}"),
            );
        }
        ok
    }
}

/// `window.ipc` (wry's script message handler): small envelopes in the
/// transport format, after the interceptor (a test build's harness) has
/// had its look.
struct IpcHandler {
    core: Arc<crate::ipc::core::Core>,
    hop: Hop,
    sink: Arc<ReplySink>,
    intercept: Option<Interceptor>,
    exit: Exit,
}

impl IpcHandler {
    fn attach(self, builder: WebViewBuilder<'_>) -> WebViewBuilder<'_> {
        builder.with_ipc_handler(move |req| {
            let url = req.uri().to_string();
            let body = req.into_body();
            if self
                .intercept
                .as_ref()
                .is_some_and(|i| i(&url, &body, &self.exit))
            {
                return;
            }
            // No answer of its own: every reply goes as a script.
            let handled = post::handle(&self.core, &self.hop, &self.sink, &url, &body, || {});
            let collector = &handled.collector;
            if handled.unrecognised {
                self.sink.script(collector.epoch, post::rejection_script());
            }
            collector.close_to_sink();
            flush_replies();
        })
    }
}

/// No new webview ever from a page (windows open by label, through the
/// core); with `shell.open` allowed, a URL inside the window's
/// `scope.open` goes to the system's opener instead.
fn new_windows(
    window: String,
    open: Option<OpenExternally>,
) -> impl Fn(String, wry::NewWindowFeatures) -> NewWindowResponse + 'static {
    move |url, _| {
        match open.as_ref().map(|open| open(&url)) {
            Some(Ok(())) => {
                tracing::info!(%window, %url, "new window handed to the system opener (scope.open)");
                return NewWindowResponse::Deny;
            }
            Some(Err(reason)) => tracing::warn!(%window, %url, %reason, "new window not opened"),
            None => {}
        }
        refusals::refuse(
            &window,
            "new_window_refused",
            &format!("new window refused url={url}"),
        );
        NewWindowResponse::Deny
    }
}

/// Permissions and downloads, the same in every window.
struct Lockdown {
    window: String,
    permissions: Vec<Permission>,
}

impl Lockdown {
    fn apply(self, builder: WebViewBuilder<'_>) -> WebViewBuilder<'_> {
        let Lockdown {
            window,
            permissions,
        } = self;
        let w = window.clone();
        builder
            .with_permission_handler(move |kind| {
                if permissions.iter().any(|p| permits(*p, kind)) {
                    PermissionResponse::Allow
                } else {
                    refusals::refuse(
                        &w,
                        "permission_denied",
                        &format!("permission request denied (not granted in config.permissions) kind={kind:?}"),
                    );
                    PermissionResponse::Deny
                }
            })
            .with_download_started_handler(move |url, _| {
                refusals::refuse(&window, "download_refused", &format!("download refused url={url}"));
                false
            })
    }
}

/// Whether the granted permission `p` covers the request `kind`.
fn permits(p: Permission, kind: wry::PermissionKind) -> bool {
    use wry::PermissionKind as K;
    matches!(
        (p, kind),
        (Permission::Microphone, K::Microphone)
            | (Permission::Camera, K::Camera)
            | (Permission::DisplayCapture, K::DisplayCapture)
            | (Permission::Geolocation, K::Geolocation)
            | (Permission::Notifications, K::Notifications)
            | (Permission::PointerLock, K::PointerLock)
    )
}
