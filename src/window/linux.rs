//! The window's WebKitGTK half: the webview in the window's GTK box, the
//! two transports that need WebKit's own API (script messages with reply,
//! and the `ipc://` scheme with bounded body reads), and the GTK thread's
//! main context. A port to another platform provides these five functions.

use std::rc::Rc;
use std::sync::Arc;

use glib::object::ObjectExt;
use tao::platform::unix::WindowExtUnix;
use tao::window::Window;
use webkit2gtk::{SettingsExt, WebViewExt};
use wry::{WebViewBuilder, WebViewBuilderExtUnix, WebViewExtUnix};

use crate::error::Error;
use crate::ipc::core::Core;
use crate::ipc::reply::ReplySink;
use crate::ipc::{fetch_linux, post, script_message_linux};

/// A write past a file-size limit (`ulimit -f`, `RLIMIT_FSIZE`) fails with
/// `EFBIG` instead of ending the app with `SIGXFSZ`: the write is the
/// built-in's to refuse (`io_failed`), not the process's end. Programs and
/// WebKit's helpers started later inherit the disposition.
#[allow(unsafe_code)]
pub(crate) fn keep_running_past_file_size_limits() {
    // SAFETY: `signal` with `SIG_IGN` installs no handler, so no code of
    // ours runs in signal context; it changes a process-wide disposition,
    // which is what is meant, and takes no pointers.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Runs `f` on the GTK thread. Relies on the GTK thread owning the default
/// main context, which it does because it runs the tao event loop.
pub(super) fn wake_ui(f: fn()) {
    glib::MainContext::default().invoke(f);
}

/// The webview, in the window's GTK box.
pub(super) fn build(builder: WebViewBuilder<'_>, window: &Window) -> Result<wry::WebView, Error> {
    let vbox = window
        .default_vbox()
        .ok_or_else(|| Error::Platform("tao window has no GTK box".into()))?;
    builder
        .build_gtk(vbox)
        .map_err(|e| Error::Platform(format!("webview: {e}")))
}

/// Whether the webview's context runs its web processes in WebKit's
/// sandbox (`engine::sandbox`).
pub(super) fn sandbox_enabled(webview: &wry::WebView) -> bool {
    use webkit2gtk::WebContextExt;
    webview
        .webview()
        .context()
        .is_some_and(|c| c.is_sandbox_enabled())
}

/// Calls `ended` (on the GTK thread) with WebKit's reason whenever the web
/// content process ends.
pub(super) fn on_web_process_ended(webview: &wry::WebView, ended: fn(&str)) {
    webview
        .webview()
        .connect_web_process_terminated(move |_, reason| {
            let reason = match reason {
                webkit2gtk::WebProcessTerminationReason::Crashed => "crashed".to_owned(),
                webkit2gtk::WebProcessTerminationReason::ExceededMemoryLimit => {
                    "exceeded its memory limit".to_owned()
                }
                webkit2gtk::WebProcessTerminationReason::TerminatedByApi => {
                    "terminated by the app".to_owned()
                }
                other => format!("{other:?}"),
            };
            ended(&reason);
        });
}

/// WebKit writes console messages (despite the setting's name) to stderr.
pub(super) fn console_to_stderr(webview: &wry::WebView) {
    if let Some(settings) = WebViewExt::settings(&webview.webview()) {
        settings.set_enable_write_console_messages_to_stdout(true);
    }
}

/// `messageHandlers.moat` (small calls, answered in the promise the post
/// returns) and `ipc://` (large calls). Call before the main loop first
/// runs, so no page can use either before it exists.
pub(super) fn register_transports(
    webview: &Rc<wry::WebView>,
    core: &Arc<Core>,
    rt: &tokio::runtime::Handle,
    sink: &Arc<ReplySink>,
) -> Result<(), Error> {
    let view = webview.webview();
    let context = view
        .context()
        .ok_or_else(|| Error::Platform("webview has no web context".into()))?;
    fetch_linux::register(&context, Arc::clone(core), rt.clone(), Arc::clone(sink))?;
    let ucm = view
        .user_content_manager()
        .ok_or_else(|| Error::Platform("webview has no user content manager".into()))?;
    let page = view.downgrade();
    let (core, rt, sink) = (Arc::clone(core), rt.clone(), Arc::clone(sink));
    let registered = script_message_linux::register(&ucm, "moat", move |text| {
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
        super::flush_replies();
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
