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
use crate::ipc::hop::Hop;
use crate::ipc::transport::reply::ReplySink;
use crate::ipc::transport::{fetch_linux, post, script_message_linux};

/// Shows `window` again if it was hidden or minimised, raises it and
/// gives it the keyboard focus, as far as the window manager allows
/// (`gtk_window_present`). tao's own `set_focus` does nothing for a
/// minimised window or one another client unmapped.
pub(crate) fn bring_forward(window: &Window) {
    use gtk::prelude::GtkWindowExt;
    window.gtk_window().present();
}

/// A write past a file-size limit (`ulimit -f`, `RLIMIT_FSIZE`) fails with
/// `EFBIG` instead of ending the app with `SIGXFSZ`: the write is the
/// built-in's to refuse (`io_failed`), not the process's end. Programs and
/// WebKit's helpers started later inherit the disposition.
#[allow(
    unsafe_code,
    reason = "one libc call; its SAFETY comment says why it is sound"
)]
pub(crate) fn keep_running_past_file_size_limits() {
    // SAFETY: `signal` with `SIG_IGN` installs no handler, so no code of
    // ours runs in signal context; it changes a process-wide disposition,
    // which is what is meant, and takes no pointers.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Buffers of [`LARGE_BUFFER`] and more (a large call's body, its
/// arguments, its reply) are mapped for themselves and returned to the
/// system when freed. glibc otherwise raises its mmap threshold to the size
/// of each large block freed (up to 32 MiB), after which 10 MiB calls are
/// carved from the heap, whose freed space it keeps: the UI process's peak
/// RSS measured ~45 MB higher after five 10 MiB echoes (`docs/bench.md`).
/// Setting the threshold turns that adjustment off.
#[cfg(target_env = "gnu")]
#[allow(
    unsafe_code,
    reason = "one libc call; its SAFETY comment says why it is sound"
)]
pub(crate) fn return_large_buffers_to_the_system() {
    // SAFETY: `mallopt` takes two integers and changes the allocator's
    // settings under its own lock; allocations already made are unaffected.
    let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BUFFER) };
    if set != 1 {
        tracing::debug!("the allocator kept its own mmap threshold");
    }
}

#[cfg(not(target_env = "gnu"))]
pub(crate) fn return_large_buffers_to_the_system() {}

/// See [`return_large_buffers_to_the_system`]: 256 KiB and more.
#[cfg(target_env = "gnu")]
const LARGE_BUFFER: libc::c_int = 256 << 10;

/// Runs `f` on the GTK thread. Relies on the GTK thread owning the default
/// main context, which it does because it runs the tao event loop.
pub(super) fn wake_ui(f: fn()) {
    glib::MainContext::default().invoke(f);
}

/// Lets the untrusted view's web context accept `pem` (a certificate) for
/// `host`: the test harness's local https server.
pub(super) fn trust_certificate(
    webview: &wry::WebView,
    host: &str,
    pem: &str,
) -> Result<(), Error> {
    use webkit2gtk::WebContextExt;
    let cert = webkit2gtk::gio::TlsCertificate::from_pem(pem)
        .map_err(|e| Error::Platform(format!("certificate for {host}: {e}")))?;
    let context = webview
        .webview()
        .context()
        .ok_or_else(|| Error::Platform("webview has no web context".into()))?;
    context.allow_tls_certificate_for_host(&cert, host);
    Ok(())
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
pub(super) fn on_web_process_ended(webview: &wry::WebView, ended: impl Fn(&str) + 'static) {
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

/// How long the GTK thread blocks for a message's calls before it goes
/// back to its loop. A call that finishes within it is answered with one
/// wake-up of this thread instead of a turn of the main loop (the hop to
/// the confined threads costs that much per call). After a message whose
/// calls took longer, the next [`BLOCK_SKIP`] do not block: slow calls
/// cost the UI at most one block in that many messages.
const BLOCK: std::time::Duration = std::time::Duration::from_micros(300);
const BLOCK_SKIP: u32 = 16;

static NEXT_ANSWER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// Messages whose answer waits for their calls, on the GTK thread.
    static WAITING: RefCell<HashMap<u64, Waiting>> = RefCell::new(HashMap::new());
    /// Messages left before the GTK thread blocks for calls again.
    static SKIP: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Whether `collector` got a reply within [`BLOCK`] (not tried while
/// [`SKIP`] counts down after a miss).
fn blocked_for(collector: &post::Collector, replies: usize) -> bool {
    let skip = SKIP.with(|s| s.get());
    if skip > 0 {
        SKIP.with(|s| s.set(skip - 1));
        return false;
    }
    let got = collector.wait(replies, BLOCK);
    if !got {
        SKIP.with(|s| s.set(BLOCK_SKIP));
    }
    got
}

/// A message waiting for its first reply, and its [`ANSWER_WAIT`] timer.
struct Waiting {
    pending: script_message_linux::Pending,
    collector: Arc<post::Collector>,
    timer: glib::SourceId,
}

/// Answers message `token` with the replies its collector kept, once (a
/// second call, from the other of the reply and the timer, finds nothing).
/// Answered by its reply, the timer is removed: a main loop with a timer
/// per message in flight pays for each of them at every turn.
fn answer(token: u64, by_timer: bool) {
    let Some(waiting) = WAITING.with(|w| w.borrow_mut().remove(&token)) else {
        return;
    };
    if !by_timer {
        // Still attached: its own firing would have removed `token` first.
        waiting.timer.remove();
    }
    waiting.pending.resolve(&waiting.collector.close());
    super::flush_replies();
}

/// `messageHandlers.moat` (small calls, answered in the promise the post
/// returns) and `ipc://` (large calls). Call before the main loop first
/// runs, so no page can use either before it exists.
pub(super) fn register_transports(
    webview: &Rc<wry::WebView>,
    core: &Arc<Core>,
    rt: &tokio::runtime::Handle,
    hop: &Hop,
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
    let (core, hop, sink) = (Arc::clone(core), hop.clone(), Arc::clone(sink));
    let registered = script_message_linux::register(&ucm, "moat", move |text, pending| {
        // As for `window.ipc`, the page shown, not the sending frame (which
        // WebKitGTK does not say).
        let url = page
            .upgrade()
            .and_then(|v| v.uri())
            .map(|u| u.to_string())
            .unwrap_or_default();
        let token = NEXT_ANSWER.fetch_add(1, Ordering::Relaxed);
        let handled = post::handle(&core, &hop, &sink, &url, text, move || {
            glib::MainContext::default().invoke(move || answer(token, false));
        });
        if handled.started == 0 {
            // Refused whole, or every entry answered already.
            let text = handled.collector.close();
            if handled.unrecognised && text == "[]" {
                pending.reject(post::NOT_AN_ENVELOPE);
            } else {
                pending.resolve(&text);
            }
        } else if blocked_for(&handled.collector, handled.replies) {
            pending.resolve(&handled.collector.close());
        } else {
            let timer = glib::timeout_add_local_once(ANSWER_WAIT, move || answer(token, true));
            let waiting = Waiting {
                pending,
                collector: handled.collector,
                timer,
            };
            WAITING.with(|w| w.borrow_mut().insert(token, waiting));
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
