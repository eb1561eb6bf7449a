//! Replies evaluated in the main frame, batched.
//!
//! `window.__moatReply(id, body)` is how the core answers calls that came
//! over `window.ipc`, and large replies to `fetch` calls (a custom-protocol
//! response body reaches the page in small chunks, each a trip through the
//! GTK main loop; one `evaluate_script` is a single message). Replies that
//! finish while the GTK thread is busy are joined into one script, so a burst
//! of concurrent calls costs one evaluation, not one each.

use std::sync::Mutex;

/// Where finished replies wait for the GTK thread.
pub(crate) struct ReplySink {
    queue: Mutex<Vec<String>>,
    /// Asks the GTK thread to call [`ReplySink::drain`]; called only when the
    /// queue goes from empty to non-empty.
    wake: Box<dyn Fn() + Send + Sync>,
}

impl ReplySink {
    pub(crate) fn new(wake: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            queue: Mutex::new(Vec::new()),
            wake: Box::new(wake),
        }
    }

    /// Queues the reply to call `id`. `body` is the JSON reply body; it goes
    /// to the page as a string for `JSON.parse`, not as an object literal,
    /// because JavaScript reads `{"__proto__": …}` in a literal as setting
    /// the prototype, where JSON reads an ordinary key.
    pub(crate) fn reply(&self, id: u64, body: Vec<u8>) {
        self.script(reply_script(id, body));
    }

    /// Queues any script for the main frame.
    pub(crate) fn script(&self, js: String) {
        let was_empty = {
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.push(js);
            q.len() == 1
        };
        if was_empty {
            (self.wake)();
        }
    }

    /// Everything queued, as one script. On the GTK thread.
    pub(crate) fn drain(&self) -> Option<String> {
        let q = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        match q.len() {
            0 => None,
            1 => q.into_iter().next(),
            _ => Some(q.join("\n")),
        }
    }
}

/// `window.__moatReply(id, "<the JSON body as a string literal>")`. A JSON
/// string literal is also a JavaScript one (ES2019 admits U+2028/U+2029).
fn reply_script(id: u64, body: Vec<u8>) -> String {
    let body = String::from_utf8(body)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    // Written straight after the prefix: one pass, one buffer (replies can be
    // megabytes).
    let mut js = Vec::with_capacity(body.len() + body.len() / 16 + 64);
    js.extend_from_slice(b"window.__moatReply&&window.__moatReply(");
    js.extend_from_slice(id.to_string().as_bytes());
    js.push(b',');
    if serde_json::to_writer(&mut js, &body).is_err() {
        js.extend_from_slice(b"\"{}\"");
    }
    js.extend_from_slice(b");");
    String::from_utf8(js).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn reply_script_passes_the_body_as_a_string() {
        assert_eq!(
            reply_script(5, br#"{"ok":"a\u2028b"}"#.to_vec()),
            r#"window.__moatReply&&window.__moatReply(5,"{\"ok\":\"a\\u2028b\"}");"#
        );
    }

    #[test]
    fn replies_queued_together_are_drained_as_one_script_with_one_wake() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = Arc::clone(&wakes);
        let sink = ReplySink::new(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        sink.reply(1, br#"{"ok":1}"#.to_vec());
        sink.reply(2, br#"{"ok":2}"#.to_vec());
        assert_eq!(wakes.load(Ordering::SeqCst), 1);
        let js = sink.drain().unwrap();
        assert!(
            js.contains(r#"(1,"{\"ok\":1}")"#) && js.contains(r#"(2,"{\"ok\":2}")"#),
            "{js}"
        );
        assert!(sink.drain().is_none());
        sink.reply(3, b"{}".to_vec());
        assert_eq!(wakes.load(Ordering::SeqCst), 2);
    }
}
