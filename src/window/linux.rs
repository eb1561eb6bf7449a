//! The window's WebKitGTK half: the webview in the window's GTK box, the
//! two transports that need WebKit's own API (script messages with reply,
//! and the `ipc://` scheme with bounded body reads), and the GTK thread's
//! main context. A port to another platform provides these five functions.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// How long a message's answer waits for its first reply: then it goes
/// out with what has finished (maybe nothing), and later replies come as
/// scripts. The frame keeps a few messages in flight, so a message whose
/// calls are slow must not hold its place.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

static NEXT_ANSWER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Messages whose answer waits for their calls, on the GTK thread.
    static WAITING: RefCell<HashMap<u64, (script_message_linux::Pending, Arc<post::Collector>)>> =
        RefCell::new(HashMap::new());
}

/// Answers message `token` with the replies its collector kept, once (a
/// second call, from the other of the reply and the timer, finds nothing).
fn answer(token: u64) {
    let Some((pending, collector)) = WAITING.with(|w| w.borrow_mut().remove(&token)) else {
        return;
    };
    pending.resolve(&collector.close());
    super::flush_replies();
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
    let registered = script_message_linux::register(&ucm, "moat", move |text, pending| {
        // As for `window.ipc`, the page shown, not the sending frame (which
        // WebKitGTK does not say).
        let url = page
            .upgrade()
            .and_then(|v| v.uri())
            .map(|u| u.to_string())
            .unwrap_or_default();
        let token = NEXT_ANSWER.fetch_add(1, Ordering::Relaxed);
        let handled = post::handle(&core, &rt, &sink, &url, text, move || {
            glib::MainContext::default().invoke(move || answer(token));
        });
        if handled.started == 0 {
            // Refused whole, or every entry answered already.
            let text = handled.collector.close();
            if handled.unrecognised && text == "[]" {
                pending.reject(post::NOT_AN_ENVELOPE);
            } else {
                pending.resolve(&text);
            }
        } else {
            WAITING.with(|w| w.borrow_mut().insert(token, (pending, handled.collector)));
            glib::timeout_add_local_once(ANSWER_WAIT, move || answer(token));
        }
        super::flush_replies();
    });
    if registered {
        Ok(())
    } else {
        Err(Error::Platform(
            "cannot register the `moat` script message handler".into(),
        ))
    }
}
