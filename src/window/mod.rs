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
use std::rc::Rc;
use std::sync::Arc;

use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoop, EventLoopBuilder, EventLoopProxy};
use tao::window::{Window, WindowBuilder};
use wry::{NewWindowResponse, PageLoadEvent, PermissionResponse, WebViewBuilder};

use crate::app::{App, OpenExternally};
use crate::config::Permission;
use crate::error::Error;
use crate::ipc::core::Core;
use crate::ipc::post;
use crate::ipc::refusals;
use crate::ipc::reply::ReplySink;
use crate::origin::APP_URL;

/// What the tokio runtime gets: two workers (the machine Moat is measured
/// on has two cores; the GTK thread is the third busy thread).
const WORKER_THREADS: usize = 2;

/// Behaviour tests change; an app runs with [`Options::default`].
#[derive(Default)]
pub(crate) struct Options {
    /// More main-frame initialization scripts, after the bridge.
    pub(crate) init_scripts: Vec<String>,
    /// WebKit writes the pages' console messages to stderr.
    pub(crate) console: bool,
    /// Sees every `window.ipc` message first (page URL, text); `true`
    /// consumes it.
    pub(crate) intercept: Option<Interceptor>,
    /// Called once the webview exists, with a way to end the app.
    pub(crate) on_start: Option<Box<dyn FnOnce(Exit)>>,
    /// Answers file choosers instead of showing GTK's (the test harness).
    #[cfg(feature = "api-dialog")]
    pub(crate) chooser: Option<crate::api::dialog::Chooser>,
}

/// See [`Options::intercept`].
pub(crate) type Interceptor = Box<dyn Fn(&str, &str, &Exit) -> bool>;

/// Ends the app with an exit code, from any thread.
#[derive(Clone)]
pub(crate) struct Exit(EventLoopProxy<UserEvent>);

impl Exit {
    pub(crate) fn exit(&self, code: i32) {
        let _ = self.0.send_event(UserEvent::Exit(code));
    }
}

/// Work for the GTK thread, sent from other threads.
#[derive(Debug)]
enum UserEvent {
    Exit(i32),
}

/// What the GTK thread keeps: the webview, the reply queue, the page
/// load's session (whose epoch says which replies are still for the page
/// shown), and the crashes seen lately.
struct Ui {
    webview: Rc<wry::WebView>,
    sink: Arc<ReplySink>,
    core: Arc<Core>,
    crashes: recovery::CrashGuard,
}

thread_local! {
    /// On the GTK thread only, once the webview exists.
    static UI: RefCell<Option<Ui>> = const { RefCell::new(None) };
}

/// True on the GTK thread once the webview exists.
fn on_ui_thread() -> bool {
    UI.with(|ui| ui.borrow().is_some())
}

/// Evaluates every queued reply in the main frame, as one script. Runs on
/// the GTK thread (the only thread `UI` is set on).
fn flush_replies() {
    UI.with(|ui| {
        if let Some(ui) = &*ui.borrow() {
            if let Some(js) = ui.sink.drain(ui.core.session.epoch()) {
                if let Err(e) = ui.webview.evaluate_script(&js) {
                    tracing::error!(error = %e, "evaluate_script of replies failed");
                }
            }
        }
    });
}

/// The web content process ended (`reason` as WebKit says). Wipes the page
/// load's key and replay window at once, then reloads the app page, or
/// after a crash loop shows the built-in error page (see `recovery`).
fn web_process_ended(reason: &str) {
    // Decide while holding the borrow, act after: loading a page may call
    // back into handlers that read `UI`.
    let decided = UI.with(|ui| {
        let mut ui = ui.borrow_mut();
        let ui = ui.as_mut()?;
        let after = ui.crashes.crashed(std::time::Instant::now());
        Some((after, Rc::clone(&ui.webview), Arc::clone(&ui.core)))
    });
    let Some((after, webview, core)) = decided else {
        return;
    };
    let loaded = match after {
        recovery::After::Reload => {
            tracing::error!(%reason, "the web content process ended; loading the app page again with a new key");
            core.new_page_load();
            webview.load_url(APP_URL)
        }
        recovery::After::GiveUp => {
            tracing::error!(%reason, crashes = recovery::CRASH_LOOP, within_s = recovery::CRASH_LOOP_WINDOW.as_secs(), "the web content process keeps ending; showing the error page instead of reloading");
            core.close_page();
            webview.load_html(recovery::ERROR_PAGE)
        }
    };
    if let Err(e) = loaded {
        tracing::error!(error = %e, "loading a page after the crash failed");
    }
}

/// Process-wide settings a desktop app needs before anything else runs.
pub(crate) fn prepare_process() {
    linux::keep_running_past_file_size_limits();
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

/// The runtime async commands and the transports' work run on. Each of
/// its threads (workers and blocking pool alike) confines itself as it
/// starts (`confine`).
fn runtime(
    confiner: Option<Arc<crate::confine::Confiner>>,
) -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .thread_name("moat-worker")
        .on_thread_start(crate::confine::on_thread_start(confiner))
        .enable_time()
        // Child processes (`shell.execute`) need the I/O driver.
        .enable_io()
        .build()
        .map_err(|e| Error::Platform(format!("tokio runtime: {e}")))
}

/// Opens the window and runs the app until it closes.
pub(crate) fn run(mut app: App, mut options: Options) -> Result<(), Error> {
    if app.devtools {
        tracing::warn!("devtools are on (debug build, config.devtools = true)");
    }
    // Before the runtime: its threads are the confined ones.
    let confiner = app.confinement.start()?;
    let rt = runtime(confiner)?;
    let event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let exit = Exit(event_loop.create_proxy());
    let window = open_window(&app, &event_loop)?;
    #[cfg(feature = "api-dialog")]
    {
        chooser_linux::remember_parent(&window);
        let chooser = options
            .chooser
            .take()
            .unwrap_or_else(chooser_linux::chooser);
        app.api.dialogs.wire(chooser);
    }
    let sink = Arc::clone(&app.sink);
    wire_reply_sink(&sink);
    let ipc = IpcHandler {
        core: Arc::clone(&app.core),
        rt: rt.handle().clone(),
        sink: Arc::clone(&sink),
        intercept: options.intercept.take(),
        exit: exit.clone(),
    };
    // Compiled before the webview exists; the app page is loaded only once
    // it is in place (see `content_filter_linux`).
    let filter_store = tempfile::Builder::new()
        .prefix("moat-filter-")
        .tempdir()
        .map_err(|e| Error::ContentFilter(format!("no directory for its compiled form: {e}")))?;
    let filter = content_filter_linux::compile(&app.network.rules(), filter_store.path())?;
    // The page's storage in the app's own directory (`App::webkit_dir`).
    let mut web_context = wry::WebContext::new(Some(app.webkit_dir.clone()));
    let builder = webview_builder(
        &mut app,
        &mut web_context,
        std::mem::take(&mut options.init_scripts),
        ipc,
        rt.handle(),
    );
    let webview = Rc::new(linux::build(builder, &window)?);
    crate::engine::sandbox::check_enabled(linux::sandbox_enabled(&webview), app.sandbox_off)?;
    content_filter_linux::apply(&webview, &filter)?;
    if options.console {
        linux::console_to_stderr(&webview);
    }
    // Before the main loop first runs, so before any page script.
    linux::register_transports(&webview, &app.core, rt.handle(), &sink)?;
    webview
        .load_url(APP_URL)
        .map_err(|e| Error::Platform(format!("loading the app page: {e}")))?;
    linux::on_web_process_ended(&webview, web_process_ended);
    UI.with(|ui| {
        *ui.borrow_mut() = Some(Ui {
            webview: Rc::clone(&webview),
            sink,
            core: Arc::clone(&app.core),
            crashes: recovery::CrashGuard::default(),
        })
    });
    if let Some((setup, handle)) = app.setup.take() {
        // In the runtime, so the app's code can `tokio::spawn` its work.
        let _in_runtime = rt.enter();
        setup(handle);
    }
    tracing::info!(identifier = %app.identifier, "moat started");
    if let Some(on_start) = options.on_start {
        on_start(exit.clone());
    }
    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        // The runtime and the filter's compiled form live as long as the
        // loop.
        let _ = (&rt, &filter_store, &web_context);
        match event {
            Event::UserEvent(UserEvent::Exit(code)) => {
                *control_flow = ControlFlow::ExitWithCode(code)
            }
            Event::LoopDestroyed => {
                crate::api::on_exit();
                refusals::log_summary();
            }
            Event::WindowEvent {
                event: WindowEvent::CloseRequested,
                ..
            } => exit.exit(0),
            _ => {}
        }
    })
}

/// The webview with the app's schemes, the bridge and more initialization
/// scripts, `window.ipc`, and the lockdown handlers.
fn webview_builder<'a>(
    app: &mut App,
    web_context: &'a mut wry::WebContext,
    init_scripts: Vec<String>,
    ipc: IpcHandler,
    rt: &tokio::runtime::Handle,
) -> WebViewBuilder<'a> {
    // No URL: the window loads the app page once the network filter and
    // the transports are in place.
    let mut builder = WebViewBuilder::new_with_web_context(web_context)
        .with_initialization_script_for_main_only(std::mem::take(&mut app.bridge_script), true)
        .with_devtools(app.devtools);
    for script in init_scripts {
        builder = builder.with_initialization_script_for_main_only(script, true);
    }
    for (name, scheme) in std::mem::take(&mut app.schemes) {
        builder = if scheme.touches_scoped_files() {
            // Read on the runtime's blocking pool, which the kernel
            // confines; answered back on the GTK thread.
            let (scheme, rt) = (Arc::<dyn crate::protocol::Scheme>::from(scheme), rt.clone());
            builder.with_asynchronous_custom_protocol(name.into(), move |_, req, responder| {
                let scheme = Arc::clone(&scheme);
                rt.spawn_blocking(move || {
                    let res = scheme.respond(&req);
                    glib::MainContext::default().invoke(move || responder.respond(res));
                });
            })
        } else {
            builder.with_custom_protocol(name.into(), move |_, req| scheme.respond(&req))
        };
    }
    with_new_windows(
        with_lockdown(ipc.attach(builder), app),
        app.open_externally.take(),
    )
}

fn open_window(app: &App, event_loop: &EventLoop<UserEvent>) -> Result<Window, Error> {
    WindowBuilder::new()
        .with_title(&app.title)
        .with_inner_size(tao::dpi::LogicalSize::new(app.size.0, app.size.1))
        .build(event_loop)
        .map_err(|e| Error::Platform(format!("window: {e}")))
}

/// `window.ipc` (wry's script message handler): small envelopes in the
/// transport format, after the interceptor (a test build's harness) has
/// had its look.
struct IpcHandler {
    core: Arc<crate::ipc::core::Core>,
    rt: tokio::runtime::Handle,
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
            let handled = post::handle(&self.core, &self.rt, &self.sink, &url, &body, || {});
            let collector = &handled.collector;
            if handled.unrecognised {
                self.sink.script(collector.epoch, post::rejection_script());
            }
            collector.close_to_sink();
            flush_replies();
        })
    }
}

/// No new webview ever; with `shell.open` allowed, a URL inside
/// `scope.open` goes to the system's opener instead.
fn with_new_windows(
    builder: WebViewBuilder<'_>,
    open: Option<OpenExternally>,
) -> WebViewBuilder<'_> {
    builder.with_new_window_req_handler(move |url, _| {
        match open.as_ref().map(|open| open(&url)) {
            Some(Ok(())) => {
                tracing::info!(%url, "new window handed to the system opener (scope.open)");
                return NewWindowResponse::Deny;
            }
            Some(Err(reason)) => tracing::warn!(%url, %reason, "new window not opened"),
            None => {}
        }
        refusals::refuse(
            "new_window_refused",
            &format!("new window refused url={url}"),
        );
        NewWindowResponse::Deny
    })
}

/// Navigation, permissions, downloads and page loads.
fn with_lockdown<'a>(builder: WebViewBuilder<'a>, app: &App) -> WebViewBuilder<'a> {
    let granted: Vec<Permission> = app.permissions.clone();
    let core = Arc::clone(&app.core);
    builder
        .with_navigation_handler(|url| {
            let ok = crate::origin::navigation_allowed(&url);
            if !ok {
                refusals::refuse("navigation_refused", &format!("navigation refused: not the app's origin url={url}"));
            }
            ok
        })
        .with_permission_handler(move |kind| {
            if granted.iter().any(|p| permits(*p, kind)) {
                PermissionResponse::Allow
            } else {
                refusals::refuse(
                    "permission_denied",
                    &format!("permission request denied (not granted in config.permissions) kind={kind:?}"),
                );
                PermissionResponse::Deny
            }
        })
        .with_download_started_handler(|url, _| {
            refusals::refuse("download_refused", &format!("download refused url={url}"));
            false
        })
        .with_on_page_load_handler(move |event, url| {
            // A new main-frame page: new key, new replay window (see
            // isolation::session for why).
            if matches!(event, PageLoadEvent::Started) && crate::origin::is_app_page(&url) {
                core.new_page_load();
                tracing::debug!(%url, "page load: isolation key rotated");
            }
            // Pushes for this page load made while it loaded.
            if matches!(event, PageLoadEvent::Finished) {
                flush_replies();
            }
        })
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
