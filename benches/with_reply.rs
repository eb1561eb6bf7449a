//! A WebKit script message handler *with reply*, as the `floor` and the
//! `ceiling` subjects of `make bench` register it: the posted value's text
//! in, a string back as the reply's value. Neither uses any of Moat's code
//! (Moat's own is `src/ipc/transport/script_message_linux.rs`).

use glib::prelude::*;
use glib::translate::ToGlibPtr;
use javascriptcore::ValueExt;
use webkit2gtk::WebViewExt;

glib::wrapper! {
    /// The reply side of one script message.
    struct Reply(Shared<webkit2gtk_sys::WebKitScriptMessageReply>);

    match fn {
        ref => |ptr| webkit2gtk_sys::webkit_script_message_reply_ref(ptr),
        unref => |ptr| webkit2gtk_sys::webkit_script_message_reply_unref(ptr),
        type_ => || webkit2gtk_sys::webkit_script_message_reply_get_type(),
    }
}

/// `window.webkit.messageHandlers.<name>`, in the page's own world, each
/// message answered at once with `answer` of its text.
pub fn register(
    webview: &webkit2gtk::WebView,
    name: &str,
    answer: impl Fn(&str) -> String + 'static,
) {
    let Some(ucm) = webview.user_content_manager() else {
        return;
    };
    let c_name = std::ffi::CString::new(name).unwrap_or_default();
    // SAFETY: `ucm` is a live UserContentManager and `c_name` a
    // NUL-terminated string the function copies; a NULL world is the page's
    // own.
    unsafe {
        webkit2gtk_sys::webkit_user_content_manager_register_script_message_handler_with_reply(
            ucm.to_glib_none().0,
            c_name.as_ptr(),
            std::ptr::null(),
        );
    }
    ucm.connect_local(
        &format!("script-message-with-reply-received::{name}"),
        false,
        move |values| {
            let reply = values.get(2)?.get::<Reply>().ok()?;
            let value = values.get(1)?.get::<javascriptcore::Value>().ok()?;
            let ctx = value.context()?;
            let out = javascriptcore::Value::new_string(&ctx, Some(&answer(&value.to_str())));
            // SAFETY: both pointers come from live wrappers held for the call,
            // which takes neither; the reply is answered once, here.
            unsafe {
                webkit2gtk_sys::webkit_script_message_reply_return_value(
                    reply.to_glib_none().0,
                    out.to_glib_none().0,
                );
            }
            Some(true.to_value())
        },
    );
}
