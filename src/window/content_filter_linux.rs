//! The webview's network content filter on WebKitGTK: the rule list of
//! `crate::csp::network`, compiled by WebKit's content-blocker compiler
//! into a `WebKitUserContentFilter` and added to the webview's user content
//! manager before the app page is loaded.
//!
//! webkit2gtk-rs 2.0.2 binds neither the filter store nor
//! `webkit_user_content_manager_add_filter`, so this file calls them
//! itself (one of the places with `unsafe`; each call has its argument).
//!
//! Compiling is asynchronous in WebKit: it runs before the webview exists,
//! with the GTK thread turning the main loop until the compiler answers, so
//! no page can load before the filter is in place. A filter that does not
//! compile stops the app.

use std::cell::RefCell;
use std::ffi::CString;
use std::time::{Duration, Instant};

use glib::translate::{from_glib_full, ToGlibPtr};
use webkit2gtk::gio;

use crate::error::Error;

glib::wrapper! {
    /// A compiled filter (a boxed, reference-counted WebKit type).
    pub(super) struct ContentFilter(Shared<webkit2gtk_sys::WebKitUserContentFilter>);

    match fn {
        ref => |ptr| webkit2gtk_sys::webkit_user_content_filter_ref(ptr),
        unref => |ptr| webkit2gtk_sys::webkit_user_content_filter_unref(ptr),
        type_ => || webkit2gtk_sys::webkit_user_content_filter_get_type(),
    }
}

glib::wrapper! {
    /// Where WebKit keeps compiled filters.
    struct FilterStore(Object<webkit2gtk_sys::WebKitUserContentFilterStore, webkit2gtk_sys::WebKitUserContentFilterStoreClass>);

    match fn {
        type_ => || webkit2gtk_sys::webkit_user_content_filter_store_get_type(),
    }
}

/// How long the compiler may take before startup gives up.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(30);

thread_local! {
    /// The compiler's answer, set by [`saved`] on the GTK thread.
    static SAVED: RefCell<Option<Result<ContentFilter, String>>> = const { RefCell::new(None) };
}

/// Called by WebKit on the GTK thread when compiling has finished.
#[allow(
    unsafe_code,
    reason = "FFI webkit2gtk-rs does not bind; each call has its SAFETY comment"
)]
unsafe extern "C" fn saved(
    source: *mut glib::gobject_ffi::GObject,
    result: *mut gio::ffi::GAsyncResult,
    _data: glib::ffi::gpointer,
) {
    let mut error: *mut glib::ffi::GError = std::ptr::null_mut();
    // SAFETY: WebKit calls this once, with the store it was called on as
    // `source` and the result of that call; `error` is ours to fill.
    let filter = unsafe {
        webkit2gtk_sys::webkit_user_content_filter_store_save_finish(
            source.cast(),
            result,
            &mut error,
        )
    };
    let answer = if filter.is_null() {
        let message = if error.is_null() {
            "the content filter compiler gave no reason".to_owned()
        } else {
            // SAFETY: a non-null `error` is a GError WebKit gave us to own.
            let e: glib::Error = unsafe { from_glib_full(error) };
            e.to_string()
        };
        Err(message)
    } else {
        // SAFETY: `save_finish` returns a new reference (transfer full).
        Ok(unsafe { from_glib_full(filter) })
    };
    SAVED.with(|s| *s.borrow_mut() = Some(answer));
}

/// Compiles `rules` (WebKit's content-blocker JSON) into a filter, keeping
/// its compiled form under `store_dir` as `identifier`. On the GTK thread,
/// before any webview exists.
#[allow(
    unsafe_code,
    reason = "FFI webkit2gtk-rs does not bind; each call has its SAFETY comment"
)]
pub(super) fn compile(
    rules: &str,
    store_dir: &std::path::Path,
    identifier: &str,
) -> Result<ContentFilter, Error> {
    let fail = |why: String| Error::ContentFilter(why);
    let path = CString::new(store_dir.as_os_str().as_encoded_bytes())
        .map_err(|_| fail("the filter store's path holds a NUL byte".into()))?;
    let id = CString::new(identifier).map_err(|e| fail(e.to_string()))?;
    // SAFETY: `path` is a NUL-terminated string the function copies; it
    // returns a new store object (transfer full).
    let store: FilterStore = unsafe {
        from_glib_full(webkit2gtk_sys::webkit_user_content_filter_store_new(
            path.as_ptr(),
        ))
    };
    let source = glib::Bytes::from(rules.as_bytes());
    SAVED.with(|s| *s.borrow_mut() = None);
    // SAFETY: every pointer comes from a live wrapper or CString held until
    // the call returns; the function takes its own references (transfer
    // none). `saved` matches GAsyncReadyCallback and needs no user data.
    unsafe {
        webkit2gtk_sys::webkit_user_content_filter_store_save(
            store.to_glib_none().0,
            id.as_ptr(),
            ToGlibPtr::<*const glib::ffi::GBytes>::to_glib_none(&source).0 as *mut _,
            std::ptr::null_mut(),
            Some(saved),
            std::ptr::null_mut(),
        );
    }
    let context = glib::MainContext::default();
    let deadline = Instant::now() + COMPILE_TIMEOUT;
    loop {
        if let Some(answer) = SAVED.with(|s| s.borrow_mut().take()) {
            return answer.map_err(|e| fail(format!("WebKit refused the rule list: {e}")));
        }
        if Instant::now() > deadline {
            return Err(fail(format!(
                "WebKit did not compile the rule list within {} s",
                COMPILE_TIMEOUT.as_secs()
            )));
        }
        if !context.iteration(false) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Adds `filter` to `webview`'s user content manager: from now on, every
/// load of the page and its frames and workers goes through it.
#[allow(
    unsafe_code,
    reason = "FFI webkit2gtk-rs does not bind; each call has its SAFETY comment"
)]
pub(super) fn apply(webview: &wry::WebView, filter: &ContentFilter) -> Result<(), Error> {
    use webkit2gtk::WebViewExt;
    use wry::WebViewExtUnix;
    let ucm = webview
        .webview()
        .user_content_manager()
        .ok_or_else(|| Error::ContentFilter("the webview has no user content manager".into()))?;
    // SAFETY: both pointers come from live wrappers held for the call; the
    // manager takes its own reference on the filter (transfer none).
    unsafe {
        webkit2gtk_sys::webkit_user_content_manager_add_filter(
            ucm.to_glib_none().0,
            filter.to_glib_none().0,
        );
    }
    Ok(())
}
