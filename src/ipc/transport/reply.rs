//! Replies evaluated in the main frame, batched.
//!
//! `window.__moatReply({"id": id, …})` is how the core answers calls that came
//! over a script message and were not answered in the message's own reply
//! (still running then, or over its size limit; see [`crate::ipc::transport::post`]), and
//! large replies to `fetch` calls (a custom-protocol
//! response body reaches the page in small chunks, each a trip through the
//! GTK main loop; one `evaluate_script` is a single message). Replies that
//! finish while the GTK thread is busy are joined into one script, so a burst
//! of concurrent calls costs one evaluation, not one each.

use std::sync::Mutex;

/// Where finished replies wait for the GTK thread, each with the page load
/// (session epoch) it is for.
pub(crate) struct ReplySink {
    queue: Mutex<Vec<(u64, String)>>,
    /// Asks the GTK thread to call [`ReplySink::drain`]; called only when the
    /// queue goes from empty to non-empty. Set once the window exists
    /// ([`ReplySink::wire`]); until then what is queued waits.
    wake: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl ReplySink {
    #[cfg(test)]
    pub(crate) fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        let sink = Self::unwired();
        sink.wire(wake);
        sink
    }

    /// A sink with no way yet to wake the GTK thread (the app is checked
    /// before its window exists).
    pub(crate) fn unwired() -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            wake: std::sync::OnceLock::new(),
        }
    }

    /// Sets how to wake the GTK thread; the first call wins. What waits
    /// already is woken for at once.
    pub(crate) fn wire(&self, wake: impl Fn() + Send + Sync + 'static) {
        let _ = self.wake.set(Box::new(wake));
        let waiting = !self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty();
        if waiting {
            if let Some(wake) = self.wake.get() {
                wake();
            }
        }
    }

    /// Queues the reply to call `id` of the page load `epoch`. `body` is
    /// the JSON reply body.
    pub(crate) fn reply(&self, epoch: u64, id: u64, body: Vec<u8>) {
        self.script(epoch, reply_script(id, body));
    }

    /// Queues any script for the main frame of the page load `epoch`.
    pub(crate) fn script(&self, epoch: u64, js: String) {
        let was_empty = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.push((epoch, js));
            q.len() == 1
        };
        if was_empty {
            if let Some(wake) = self.wake.get() {
                wake();
            }
        }
    }

    /// Everything queued for the page load `current`, as one script; what
    /// was queued for an earlier one is dropped (its page is gone, and the
    /// new page's call ids start again at 1). On the GTK thread.
    pub(crate) fn drain(&self, current: u64) -> Option<String> {
        let q = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        let mut scripts = q
            .into_iter()
            .filter(|(epoch, _)| *epoch == current)
            .map(|(_, js)| js);
        let first = scripts.next()?;
        Some(scripts.fold(first, |mut all, js| {
            all.push('\n');
            all.push_str(&js);
            all
        }))
    }
}

/// `window.__moatReply({"id":<id>, …})`; see [`call_script`] for the
/// form of the body.
fn reply_script(id: u64, body: Vec<u8>) -> String {
    call_script("__moatReply", &format!("\"id\":{id},"), body)
}

/// Whether `json` could read differently as a JavaScript literal than as
/// JSON: it holds `__proto__`, or a `\u` escape (an app's raw JSON may
/// spell the key `"\u005f_proto__"`, which a literal also reads as the
/// prototype).
fn needs_text_form(json: &[u8]) -> bool {
    memchr::memmem::find(json, b"__proto__").is_some()
        || memchr::memmem::find(json, b"\\u").is_some()
}

/// `window.<callee>({<head>"v":<body>});`: a call of the bridge's function
/// `callee` with one object, whose members `head` (JSON, each followed by
/// a comma) say what the JSON `body` is for.
///
/// One argument, an object of JSON literals, and nothing else in the
/// statement: that is the shape JavaScriptCore evaluates with its JSON
/// parser instead of compiling a program (its JSONP path), 8 ms against
/// 60 for a 10 MiB reply here; a guard (`f && f(…)`) or a second argument
/// sends it to the full parser, which also interns every string literal
/// (docs/webkitgtk.md). What it means is a script's either way.
///
/// JSON is a JavaScript expression (ES2019 admits U+2028/U+2029 in
/// strings) with one exception: in an object literal the key `"__proto__"`
/// sets the prototype, where JSON makes it an ordinary key. So the body
/// goes in one of two forms, and the form is said, never guessed from the
/// value: as a literal (`"v":body`), or, when [`needs_text_form`], as a
/// string for `JSON.parse` (`"t":"json text"`), which costs an escaping
/// pass and a second parse, so only then. A payload that is itself a
/// string stays a string in the first form; false positives of the search
/// (the word inside a string value) only take the slower, equally correct
/// second form.
pub(crate) fn call_script(callee: &str, head: &str, body: Vec<u8>) -> String {
    let body = String::from_utf8(body)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    let open = format!("window.{callee}({{{head}");
    if !needs_text_form(body.as_bytes()) {
        // In the body's own buffer: a second 10 MiB buffer here would
        // raise the UI process's peak memory by as much.
        let mut js = body;
        js.reserve_exact(open.len() + 7);
        js.insert_str(0, &format!("{open}\"v\":"));
        js.push_str("});");
        return js;
    }
    let mut js = crate::ipc::large::with_capacity(open.len() + body.len() + body.len() / 16 + 64);
    js.extend_from_slice(open.as_bytes());
    js.extend_from_slice(b"\"t\":");
    if serde_json::to_writer(&mut js, &body).is_err() {
        js.extend_from_slice(b"\"null\"");
    }
    js.extend_from_slice(b"});");
    String::from_utf8(js).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn reply_script_embeds_json() {
        // U+2028 as serde_json writes it (unescaped): legal in a literal.
        assert_eq!(
            reply_script(5, "{\"ok\":\"a\u{2028}b\"}".as_bytes().to_vec()),
            "window.__moatReply({\"id\":5,\"v\":{\"ok\":\"a\u{2028}b\"}});"
        );
    }

    #[test]
    fn a_proto_key_goes_as_text_for_json_parse_and_says_so() {
        assert_eq!(
            reply_script(6, br#"{"ok":{"__proto__":1}}"#.to_vec()),
            r#"window.__moatReply({"id":6,"t":"{\"ok\":{\"__proto__\":1}}"});"#
        );
        // A value that is a string stays a string: only "t" makes it text
        // to parse.
        assert_eq!(
            call_script("f", "", br#""{\"a\":1}""#.to_vec()),
            r#"window.f({"v":"{\"a\":1}"});"#
        );
        // The word inside a string value takes the text form too; it parses
        // back to the same value.
        let js = call_script("f", "", br#""__proto__""#.to_vec());
        assert_eq!(js, r#"window.f({"t":"\"__proto__\""});"#);
        // The key spelled with escapes, as an app's raw JSON may hold it.
        let js = call_script("f", "", br#"{"\u005f_proto__":{"x":1}}"#.to_vec());
        assert!(js.starts_with(r#"window.f({"t":""#), "{js}");
    }

    #[test]
    fn replies_queued_together_are_drained_as_one_script_with_one_wake() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = Arc::clone(&wakes);
        let sink = ReplySink::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        sink.reply(0, 1, br#"{"ok":1}"#.to_vec());
        sink.reply(0, 2, br#"{"ok":2}"#.to_vec());
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        let js = sink.drain(0).unwrap();
        assert!(
            js.contains(r#"({"id":1,"v":{"ok":1}})"#) && js.contains(r#"({"id":2,"v":{"ok":2}})"#),
            "{js}"
        );
        assert!(sink.drain(0).is_none());
        sink.reply(0, 3, b"{}".to_vec());
        assert_eq!(wakes.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn replies_for_an_earlier_page_load_never_reach_the_new_page() {
        let sink = ReplySink::new(|| {});
        sink.reply(4, 1, br#"{"ok":"old page"}"#.to_vec());
        sink.reply(5, 1, br#"{"ok":"new page"}"#.to_vec());
        let js = sink.drain(5).unwrap();
        assert!(js.contains("new page") && !js.contains("old page"), "{js}");
        sink.reply(4, 2, b"{}".to_vec());
        assert!(sink.drain(5).is_none());
    }
}
