//! WebKitGTK script messages *with reply* (WebKitGTK ≥ 2.40): on a handler
//! registered this way, `window.webkit.messageHandlers.<name>.postMessage(x)`
//! returns a promise that the UI process settles directly. Moat answers a
//! small call through it instead of evaluating a script in the main frame
//! afterwards: a reply that way skips a script evaluation and its result
//! message, and the next post is cheaper (`docs/webkitgtk.md`).
//!
//! FFI, because webkit2gtk-rs 2.0.2 binds neither
//! the signal's `WebKitScriptMessageReply` nor registration in the page's
//! own script world (its safe wrapper takes a world *name*, where WebKit
//! wants NULL for the default world; any name would make an isolated world
//! the frame's scripts cannot see).
//!
//! Invariant: every message the handler accepts is answered exactly once:
//! at once for a message refused whole, or later, on the GTK thread, when
//! its calls (which run on other threads) have replies or a short wait has
//! passed ([`Pending`]). A `Pending` dropped unanswered is answered with an
//! error by its `Drop`, so a page's promise never hangs on Moat.

use std::ffi::CString;

use glib::prelude::*;
use glib::translate::ToGlibPtr;
use javascriptcore::ValueExt;

glib::wrapper! {
    /// The reply side of one message (a boxed, reference-counted WebKit type).
    struct ScriptMessageReply(Shared<webkit2gtk_sys::WebKitScriptMessageReply>);

    match fn {
        ref => |ptr| webkit2gtk_sys::webkit_script_message_reply_ref(ptr),
        unref => |ptr| webkit2gtk_sys::webkit_script_message_reply_unref(ptr),
        type_ => || webkit2gtk_sys::webkit_script_message_reply_get_type(),
    }
}

impl ScriptMessageReply {
    /// Resolves the page's promise with the string `text`.
    fn resolve(&self, ctx: &javascriptcore::Context, text: &str) {
        let value = javascriptcore::Value::new_string(ctx, Some(text));
        // SAFETY: both pointers come from live GObject wrappers held for the
        // duration of the call (`self` holds a reference on the reply,
        // `value` on the JSCValue); the function takes neither (transfer
        // none). The reply has not been answered yet: each is answered once,
        // by `register`'s handler.
        unsafe {
            webkit2gtk_sys::webkit_script_message_reply_return_value(
                self.to_glib_none().0,
                value.to_glib_none().0,
            );
        }
    }

    /// Rejects the page's promise with an `Error` whose message is `message`.
    fn reject(&self, message: &str) {
        let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
        // SAFETY: as in `resolve`; `message` is a NUL-terminated string that
        // outlives the call, which copies it.
        unsafe {
            webkit2gtk_sys::webkit_script_message_reply_return_error_message(
                self.to_glib_none().0,
                message.as_ptr(),
            );
        }
    }
}

/// A message's promise, to settle later on the GTK thread (WebKit lets a
/// reply object be kept and answered after the signal handler returned).
/// Not `Send`: it stays on the GTK thread.
pub(crate) struct Pending {
    reply: Option<ScriptMessageReply>,
    ctx: Option<javascriptcore::Context>,
}

impl Pending {
    /// Resolves the page's promise with the string `text`.
    pub(crate) fn resolve(mut self, text: &str) {
        if let Some(reply) = self.reply.take() {
            match &self.ctx {
                Some(ctx) => reply.resolve(ctx, text),
                None => reply.reject("moat: no script context for the reply"),
            }
        }
    }

    /// Rejects the page's promise with an `Error` whose message is `message`.
    pub(crate) fn reject(mut self, message: &str) {
        if let Some(reply) = self.reply.take() {
            reply.reject(message);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(reply) = self.reply.take() {
            reply.reject("moat: the message was dropped unanswered");
        }
    }
}

/// Registers `window.webkit.messageHandlers.<name>` with reply, in the page's
/// own script world (every frame, like wry's `ipc`), and hands each string
/// posted to it to `handler` with its [`Pending`] answer. A posted value
/// that is not a string is rejected without calling `handler`. Returns
/// false when WebKit refused the name (already registered).
pub(crate) fn register(
    ucm: &webkit2gtk::UserContentManager,
    name: &str,
    handler: impl Fn(&str, Pending) + 'static,
) -> bool {
    let Ok(c_name) = CString::new(name) else {
        return false;
    };
    // SAFETY: `ucm` is a live UserContentManager (borrowed for the call) and
    // `c_name` a NUL-terminated string the function copies. The world name is
    // documented as nullable: NULL is the page's own world.
    let registered = unsafe {
        webkit2gtk_sys::webkit_user_content_manager_register_script_message_handler_with_reply(
            ucm.to_glib_none().0,
            c_name.as_ptr(),
            std::ptr::null(),
        )
    } != 0;
    if !registered {
        return false;
    }
    let signal = format!("script-message-with-reply-received::{name}");
    ucm.connect_local(&signal, false, move |values| {
        // (manager, JSCValue *value, WebKitScriptMessageReply *reply) -> gboolean
        let Some(reply) = values
            .get(2)
            .and_then(|v| v.get::<ScriptMessageReply>().ok())
        else {
            // Not answered here: WebKit rejects the page's promise itself.
            return Some(false.to_value());
        };
        let value = values
            .get(1)
            .and_then(|v| v.get::<javascriptcore::Value>().ok());
        match value.filter(|v| v.is_string()) {
            Some(value) => {
                let pending = Pending {
                    reply: Some(reply),
                    ctx: value.context(),
                };
                handler(&value.to_str(), pending);
            }
            None => reply.reject("not_an_envelope: post a string in the moat1: format"),
        }
        Some(true.to_value())
    });
    true
}
