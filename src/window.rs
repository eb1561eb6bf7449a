//! The window and the webview, and the lockdown that belongs to them:
//! navigation only to the app's own schemes, no new windows, no downloads,
//! devtools only in debug builds on request.
//!
//! ## Platform-specific
//! - **Linux:** GTK runs on the main thread; everything that touches the
//!   webview (`evaluate_script`) goes through the tao event loop. The
//!   navigation handler is also called for sub-frames, so it admits the
//!   isolation origin. wry's page-load handler follows WebKit's
//!   `load-changed` signal, which fires for the main frame only.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use crate::protocol::app::AppProtocol;
use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::window::WindowBuilder;
use wry::{NewWindowResponse, PageLoadEvent, PermissionResponse, WebViewBuilder};

use crate::config::{Config, Permission};
use crate::error::Error;
use crate::ipc::command::{AppPaths, CallContext, Commands};
use crate::ipc::reply::ReplySink;
use crate::ipc::{core, fetch, post};
use crate::isolation::session::Session;
use crate::protocol::isolation::{IsolationProtocol, ISOLATION_JS};
use crate::protocol::{APP_URL, IPC_URL};
use crate::scope::{BaseDirs, Scopes};

const WINDOW_LABEL: &str = "main";

/// A configuration that passed every startup check.
pub(crate) struct Checked {
    pub(crate) config: Config,
    pub(crate) app_protocol: AppProtocol,
    pub(crate) hooks: crate::protocol::Mounts,
    pub(crate) commands: Commands,
    /// Built-in functions the allowlist turns on.
    pub(crate) builtins: Vec<&'static str>,
}

/// Work for the GTK thread, sent from other threads.
#[derive(Debug)]
pub(crate) enum UserEvent {
    /// End the process (the test harness's verdict).
    #[cfg_attr(not(feature = "test-harness"), allow(dead_code))]
    Exit(i32),
}

thread_local! {
    /// The webview and the reply queue, on the GTK thread only.
    static UI: RefCell<Option<(Rc<wry::WebView>, Arc<ReplySink>)>> = const { RefCell::new(None) };
}

/// True on the GTK thread once the webview exists.
fn on_ui_thread() -> bool {
    UI.with(|ui| ui.borrow().is_some())
}

/// Evaluates every queued reply in the main frame, as one script. Runs on
/// the GTK thread (the only thread `UI` is set on).
fn flush_replies() {
    UI.with(|ui| {
        if let Some((webview, sink)) = &*ui.borrow() {
            if let Some(js) = sink.drain() {
                if let Err(e) = webview.evaluate_script(&js) {
                    tracing::error!(error = %e, "evaluate_script of replies failed");
                }
            }
        }
    });
}

/// `window.webkit.messageHandlers.moat`: the isolation frame's way in for
/// small calls, answered in the promise its `postMessage` returns (see
/// `ipc::post` for the format, `ipc::webkit_reply` for the binding).
#[cfg(target_os = "linux")]
fn register_reply_handler(
    webview: &wry::WebView,
    core: &Arc<core::Core>,
    rt: &tokio::runtime::Handle,
    sink: &Arc<ReplySink>,
) -> Result<(), Error> {
    use glib::object::ObjectExt;
    use webkit2gtk::WebViewExt;
    use wry::WebViewExtUnix;
    let view = webview.webview();
    let ucm = view
        .user_content_manager()
        .ok_or_else(|| Error::Platform("webview has no user content manager".into()))?;
    let page = view.downgrade();
    let (core, rt, sink) = (Arc::clone(core), rt.clone(), Arc::clone(sink));
    let registered = crate::ipc::webkit_reply::register(&ucm, "moat", move |text| {
        // As for `window.ipc`, the page shown, not the sending frame (which
        // WebKitGTK does not say).
        let url = page
            .upgrade()
            .and_then(|v| v.uri())
            .map(|u| u.to_string())
            .unwrap_or_default();
        let handled = post::handle(&core, &rt, &sink, &url, text);
        let answer = if handled.unrecognised && handled.finished.is_empty() {
            Err(post::NOT_AN_ENVELOPE.to_owned())
        } else if let Some(text) = handled.reply_text() {
            Ok(text)
        } else {
            handled.send_to(&sink);
            Ok("[]".to_owned())
        };
        flush_replies();
        answer
    });
    if registered {
        Ok(())
    } else {
        Err(Error::Platform(
            "cannot register the `moat` script message handler".into(),
        ))
    }
}

/// Main-frame and sub-frame navigation is allowed only to the app's own
/// schemes (and the frame's initial `about:blank`). Compared as parsed
/// scheme and authority, never as a string prefix, so `app://localhost.evil`
/// and `app://localhost@evil` are not the app.
pub(crate) fn navigation_allowed(url: &str) -> bool {
    if url == "about:blank" {
        return true;
    }
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    matches!(
        (uri.scheme_str(), uri.authority().map(|a| a.as_str())),
        (Some("app"), Some("localhost")) | (Some("isolation"), Some("localhost"))
    )
}

fn bridge_script(call_timeout_ms: u64) -> String {
    let settings = serde_json::json!({
        "isolationUrl": "isolation://localhost/",
        "ipcUrl": IPC_URL,
        "callTimeoutMs": call_timeout_ms,
    });
    let bridge = ISOLATION_JS
        .get_file("bridge.js")
        .and_then(|f| f.contents_utf8())
        .unwrap_or("");
    format!("(() => {{ const MOAT_CONFIG = {settings};\n{bridge}\n}})();")
}

/// Every protection the config turns off or loosens is said at startup.
fn warn_about(config: &Config) {
    if config.dangerous.disable_csp_modification {
        tracing::warn!("dangerous.disableCspModification: HTML and the app's CSP are served as given; inline scripts get no hashes, styles no nonces, and object-src/base-uri/form-action no defaults");
    }
    if config.csp.is_some() {
        tracing::info!("the app sets its own Content-Security-Policy; Moat completes it (see `moat-demo audit` for risky sources)");
    }
    for p in &config.permissions {
        tracing::warn!(permission = ?p, "the app grants a web permission to its pages");
    }
    // The audit's built-in-module findings, at startup too: a scope that
    // reaches $HOME or a shell entry that takes anything should not need
    // `moat-demo audit` to be noticed.
    let mut findings = Vec::new();
    crate::audit::audit_modules("moat.json", config, &mut findings);
    crate::audit::audit_limits("moat.json", config, &mut findings);
    for f in findings
        .iter()
        .filter(|f| f.severity >= crate::audit::Severity::Medium)
    {
        tracing::warn!(code = f.code, place = %f.place, "{}", f.message);
    }
}

/// A module the page may call with a scope that allows nothing is almost
/// always a mistake; one that allows something is worth a line in the log.
fn warn_about_scopes(builtins: &[&str], scopes: &Scopes) {
    let uses = |prefix: &str| builtins.iter().any(|b| b.starts_with(prefix));
    // (prefix of the command names, what to call it, its scope key, empty?)
    let checks: [(&str, &str, &str, bool); 5] = [
        ("fs.", "fs.*", "scope.fs", scopes.fs.is_empty()),
        (
            "asset",
            "the asset: protocol",
            "scope.asset",
            scopes.asset.is_empty(),
        ),
        (
            "http.",
            "http.*",
            "scope.http",
            scopes.http.allow.is_empty(),
        ),
        (
            "shell.execute",
            "shell.execute",
            "scope.shell",
            scopes.shell.entries.is_empty(),
        ),
        (
            "shell.open",
            "shell.open",
            "scope.open",
            scopes.open.allow.is_empty(),
        ),
    ];
    for (prefix, label, key, empty) in checks {
        if uses(prefix) && empty {
            tracing::warn!(
                "{label} is allowed but {key} allows nothing: every call will be refused"
            );
        } else if uses(prefix) {
            tracing::info!("built-in {label} is on, limited to {key}");
        }
    }
}

pub(crate) fn run(app: Checked) -> Result<(), Error> {
    #[cfg(feature = "test-harness")]
    let harness = crate::harness::Harness::from_args()?;
    crate::log::init();

    let config = app.config;
    #[allow(unused_mut)]
    let mut call_timeout_ms = config.limits.call_timeout_ms;
    #[cfg(feature = "test-harness")]
    if let Some(ms) = harness.call_timeout_ms() {
        call_timeout_ms = ms;
    }
    warn_about(&config);
    let devtools = crate::devtools_allowed(config.devtools, cfg!(debug_assertions))?;
    if devtools {
        tracing::warn!("devtools are on (debug build, config.devtools = true)");
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("moat-worker")
        .enable_time()
        // Child processes (`shell.execute`) need the I/O driver.
        .enable_io()
        .build()
        .map_err(|e| Error::Platform(format!("tokio runtime: {e}")))?;
    let session = Arc::new(Session::new());
    let data_dir = dirs::data_dir()
        .ok_or_else(|| Error::Platform("no data directory: set $HOME or $XDG_DATA_HOME".into()))?
        .join(&config.identifier);
    // With `fs` or `asset` on, the app's data directory exists from the
    // start (private to the user), so `$APPDATA/…` works on a first run.
    // Created before the variables are resolved: they are canonicalized only
    // if they exist.
    if app
        .builtins
        .iter()
        .any(|b| b.starts_with("fs.") || *b == "asset")
    {
        use std::os::unix::fs::DirBuilderExt;
        if let Err(e) = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&data_dir)
        {
            tracing::warn!(dir = %data_dir.display(), "cannot create $APPDATA: {e}");
        }
    }
    let base_dirs = BaseDirs::for_app(&config.identifier);
    let scopes = Scopes::compile(&config.scope, &base_dirs)?;
    warn_about_scopes(&app.builtins, &scopes);
    // Found once, like the shell scope's programs: a file planted on PATH
    // later is never the opener.
    #[allow(unused_mut)]
    let mut opener = match base_dirs.find_program("xdg-open") {
        Ok(p) => Some(p),
        Err(e) if app.builtins.contains(&"shell.open") => {
            tracing::warn!(
                "shell.open is allowed but {e}; every shell.open will fail with io_failed"
            );
            None
        }
        Err(_) => None,
    };
    #[cfg(feature = "test-harness")]
    if let Some(o) = harness.opener() {
        opener = Some(o);
    }
    let per_minute =
        |n: u32| crate::ipc::rate::RateLimit::new(n, std::time::Duration::from_secs(60));
    let api = Arc::new(crate::api::Api {
        scopes,
        opener,
        max_bytes: config.limits.max_message_bytes,
        timeout: std::time::Duration::from_millis(call_timeout_ms),
        open_rate: config.limits.max_opens_per_minute.map(per_minute),
        execute_rate: config.limits.max_executes_per_minute.map(per_minute),
    });
    // The page may call the app's commands (all, or those listed) and the
    // built-in functions the allowlist turns on; a compiled-in built-in it
    // does not turn on answers `not_allowed`.
    let mut allowed: BTreeSet<String> = match &config.allowlist.commands {
        Some(list) => list.iter().cloned().collect(),
        None => app.commands.handlers.keys().cloned().collect(),
    };
    allowed.extend(app.builtins.iter().map(|b| b.to_string()));
    let core = Arc::new(core::Core {
        session: Arc::clone(&session),
        commands: app.commands.merge(crate::api::commands(&api)),
        allowed: Some(allowed),
        max_envelope_bytes: config.limits.max_message_bytes,
        rate: config
            .limits
            .max_calls_per_second
            .map(|n| crate::ipc::rate::RateLimit::new(n, std::time::Duration::from_secs(1))),
        ctx: CallContext {
            app: Arc::new(AppPaths { data_dir }),
            window: Arc::from(WINDOW_LABEL),
        },
    });
    let app_protocol = app.app_protocol;
    let isolation_protocol = IsolationProtocol::new(
        Arc::clone(&session),
        app.hooks,
        &config.isolation.hooks,
        WINDOW_LABEL,
    );
    let granted: Vec<Permission> = config.permissions.clone();
    #[cfg(feature = "api-shell")]
    let (open_new_windows, new_window_api) =
        (app.builtins.contains(&"shell.open"), Arc::clone(&api));

    let event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    #[cfg(feature = "test-harness")]
    let proxy = event_loop.create_proxy();
    let window = WindowBuilder::new()
        .with_title(&config.title)
        .with_inner_size(tao::dpi::LogicalSize::new(
            config.window.width,
            config.window.height,
        ))
        .build(&event_loop)
        .map_err(|e| Error::Platform(format!("window: {e}")))?;

    // Replies finished on a tokio thread wake the GTK thread directly through
    // GLib, not through tao's event loop, which adds ~30 µs per event here.
    // On the GTK thread itself nothing is woken: `invoke` would run the flush
    // at once, one script per reply, and the only producers there, the
    // script message handlers, flush everything their message produced when
    // they return.
    let sink = Arc::new(ReplySink::new(|| {
        if !on_ui_thread() {
            glib::MainContext::default().invoke(flush_replies);
        }
    }));
    let (fetch_sink, post_sink, ui_sink) = (Arc::clone(&sink), Arc::clone(&sink), sink);
    let post_rt = rt.handle().clone();
    let post_core = Arc::clone(&core);
    #[cfg(feature = "test-harness")]
    let ipc_proxy = proxy.clone();
    let load_session = Arc::clone(&session);
    #[cfg(feature = "test-harness")]
    let harness_ipc = harness.clone();

    let builder = WebViewBuilder::new()
        .with_url(APP_URL)
        .with_custom_protocol("app".into(), move |_, req| app_protocol.respond(&req))
        .with_custom_protocol("isolation".into(), move |_, req| {
            isolation_protocol.respond(&req)
        })
        .with_initialization_script_for_main_only(bridge_script(call_timeout_ms), true);
    #[cfg(feature = "api-asset")]
    let builder = if app.builtins.contains(&"asset") {
        let asset = crate::protocol::asset::AssetProtocol::new(Arc::clone(&api));
        builder.with_custom_protocol("asset".into(), move |_, req| asset.respond(&req))
    } else {
        builder
    };
    #[cfg(feature = "test-harness")]
    let builder = match harness.init_script() {
        Some(js) => builder.with_initialization_script_for_main_only(js, true),
        None => builder,
    };
    let builder = builder
        .with_ipc_handler(move |req| {
            let url = req.uri().to_string();
            let body = req.into_body();
            #[cfg(feature = "test-harness")]
            if harness_ipc.handle_message(&url, &body, &ipc_proxy) {
                return;
            }
            let handled = post::handle(&post_core, &post_rt, &post_sink, &url, &body);
            if handled.unrecognised {
                post_sink.script(post::rejection_script());
            }
            // Calls answered while handling the message are sent at once.
            handled.send_to(&post_sink);
            flush_replies();
        })
        .with_navigation_handler(|url| {
            let ok = navigation_allowed(&url);
            if !ok {
                tracing::warn!(%url, "navigation refused: not the app's origin");
            }
            ok
        })
        .with_new_window_req_handler(move |url, _| {
            // No new webview ever; with `shell.open` allowed, a URL inside
            // `scope.open` goes to the system's opener instead.
            #[cfg(feature = "api-shell")]
            if open_new_windows {
                match crate::api::shell::open(&new_window_api, &url) {
                    Ok(()) => {
                        tracing::info!(%url, "new window handed to the system opener (scope.open)");
                        return NewWindowResponse::Deny;
                    }
                    Err(e) => tracing::warn!(%url, reason = %e.detail(), "new window not opened"),
                }
            }
            tracing::warn!(%url, "new window refused");
            NewWindowResponse::Deny
        })
        .with_permission_handler(move |kind| {
            if granted.iter().any(|p| p.matches(kind)) {
                PermissionResponse::Allow
            } else {
                tracing::warn!(
                    ?kind,
                    "permission request denied (not granted in config.permissions)"
                );
                PermissionResponse::Deny
            }
        })
        .with_download_started_handler(|url, _| {
            tracing::warn!(%url, "download refused");
            false
        })
        .with_on_page_load_handler(move |event, url| {
            // A new main-frame page: new key, new replay window (see
            // isolation::session for why).
            if matches!(event, PageLoadEvent::Started) && post::page_is_app(&url) {
                load_session.rotate();
                tracing::debug!(%url, "page load: isolation key rotated");
            }
        })
        .with_devtools(devtools);

    #[cfg(target_os = "linux")]
    let webview = {
        use tao::platform::unix::WindowExtUnix;
        use wry::WebViewBuilderExtUnix;
        let vbox = window
            .default_vbox()
            .ok_or_else(|| Error::Platform("tao window has no GTK box".into()))?;
        builder.build_gtk(vbox)
    };
    #[cfg(not(target_os = "linux"))]
    let webview = builder.build(&window);
    let webview = Rc::new(webview.map_err(|e| Error::Platform(format!("webview: {e}")))?);
    #[cfg(feature = "test-harness")]
    if harness.console() {
        use webkit2gtk::{SettingsExt, WebViewExt};
        use wry::WebViewExtUnix;
        if let Some(settings) = WebViewExt::settings(&webview.webview()) {
            settings.set_enable_write_console_messages_to_stdout(true);
        }
    }
    #[cfg(target_os = "linux")]
    register_reply_handler(&webview, &core, rt.handle(), &ui_sink)?;
    #[cfg(target_os = "linux")]
    {
        use webkit2gtk::WebViewExt;
        use wry::WebViewExtUnix;
        // Before the main loop first runs, so before any page script.
        let context = webview
            .webview()
            .context()
            .ok_or_else(|| Error::Platform("webview has no web context".into()))?;
        fetch::register(&context, Arc::clone(&core), rt.handle().clone(), fetch_sink)?;
    }
    UI.with(|ui| *ui.borrow_mut() = Some((Rc::clone(&webview), ui_sink)));
    tracing::info!(identifier = %config.identifier, "moat started");

    #[cfg(feature = "test-harness")]
    harness.start_timeout(proxy.clone());

    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        // Keep the runtime alive as long as the loop.
        let _ = &rt;
        match event {
            Event::UserEvent(UserEvent::Exit(code)) => std::process::exit(code),
            Event::WindowEvent {
                event: WindowEvent::CloseRequested,
                ..
            } => *control_flow = ControlFlow::Exit,
            _ => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::navigation_allowed;

    #[test]
    fn navigation_to_the_app_and_the_frame_is_allowed() {
        for url in [
            "app://localhost/",
            "app://localhost/page.html?x=1#y",
            "isolation://localhost/",
            "about:blank",
        ] {
            assert!(navigation_allowed(url), "{url}");
        }
    }

    #[test]
    fn navigation_elsewhere_is_refused() {
        for url in [
            "http://localhost/",
            "https://example.com/",
            "ws://localhost/",
            "file:///etc/passwd",
            "app://localhost.evil.com/",
            "app://localhost@evil.com/",
            "app://evil/",
            "ipc://localhost/",
            "javascript:alert(1)",
            "data:text/html,hi",
            "about:srcdoc",
        ] {
            assert!(!navigation_allowed(url), "{url}");
        }
    }
}
