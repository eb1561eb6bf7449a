//! Transport for small calls: the isolation frame posts the envelope
//! straight to the core through a WebKit script message handler, as text
//! `moat1:<call id>:<base64 envelope>`. Two handlers take the same text:
//! - `window.webkit.messageHandlers.moat` (Linux, [`crate::ipc::transport::script_message_linux`]),
//!   whose `postMessage` returns a promise, answered (later, on the GTK
//!   thread) with the replies of the message's calls that have finished
//!   by then, as `[[<id>,<reply body>],…]`; the frame passes them to the
//!   bridge ([`Collector`]);
//! - `window.webkit.messageHandlers.ipc` (wry's, `window.ipc` in the main
//!   frame), with no reply of its own.
//!
//! Every other reply (a call that finished after the answer, or replies
//! over [`INLINE_REPLY_MAX`]) is evaluated in the main frame as
//! `window.__moatReply({"id": <call id>, …})`. The calls themselves run on
//! the `moat-call` thread and the runtime's, which the kernel confines
//! (`confine`, `ipc::hop`), never on the GTK thread.
//!
//! Why: in WebKitGTK a `MessagePort` hop costs ~125 µs and a custom-protocol
//! `fetch` ~400 µs, while this path is the one plain wry apps use (see
//! `docs/webkitgtk.md`). The envelope's key is what makes a call authentic,
//! not the path it took; the call id outside the envelope only routes the
//! reply and must equal the sealed one.
//!
//! Anything else posted here — a raw JSON command, junk — is refused as
//! `not_an_envelope` and the page is told with a `moat-ipc-rejected` event.
//!
//! ## Platform-specific
//! - **Linux:** the handler sees the main frame's URL for messages from any
//!   frame, so the origin check here is "the page shown is the app's", not
//!   "the sender is the app's origin". A foreign page never gets that far:
//!   navigation away from the app's schemes is refused.

use std::sync::{Arc, Mutex};

use base64::Engine as _;

use crate::ipc::core::{dispatch, Core};
use crate::ipc::hop::Hop;
use crate::ipc::transport::limits::{BATCH_MAX, INLINE_ENVELOPE_MAX, INLINE_REPLY_MAX};
use crate::ipc::transport::reply::ReplySink;
use crate::ipc::wire::error::CallError;
use crate::isolation::envelope::EnvelopeError;

/// The message for a posted value that is not in the transport format.
pub(crate) const NOT_AN_ENVELOPE: &str =
    "not_an_envelope: script messages are not a way into the core; call window.moat.invoke";

/// The text prefix of envelopes posted to a script message handler.
const PREFIX: &str = "moat1:";
/// Separates envelopes the frame sends together (not in the base64 alphabet).
const SEPARATOR: char = ';';

/// What `window.ipc` received.
pub(crate) enum Posted {
    /// An envelope with its routing id.
    Envelope { id: u64, envelope: Vec<u8> },
    /// Not in the transport format at all; there is no call to answer.
    Unrecognised,
    /// Longer than [`BATCH_MAX`] inline envelopes can be: refused whole,
    /// before it is split (no call in it is answered).
    Oversized { len: usize, max: usize },
    /// In the format, but refused before decoding; answered to `id`.
    Malformed { id: u64, why: EnvelopeError },
}

/// Base64 longer than this cannot decode to an envelope within `max_envelope`
/// bytes, and is refused before any decoding work.
fn max_base64_len(max_envelope: usize) -> usize {
    max_envelope.div_ceil(3) * 4
}

/// The longest message the frame can send: [`BATCH_MAX`] entries of
/// `<id>:<base64 of an inline envelope>`, separated.
fn max_message_len() -> usize {
    PREFIX.len() + BATCH_MAX * (20 + 1 + max_base64_len(INLINE_ENVELOPE_MAX) + 1)
}

/// Recognises `moat1:<id>:<base64>[;<id>:<base64>…]`: one message may carry
/// several envelopes, each opened and checked on its own. The core holds
/// what the frame promises (`ipc::limits`), whoever sent the message: at
/// most [`BATCH_MAX`] envelopes (those past it are refused) of at most
/// [`INLINE_ENVELOPE_MAX`] bytes each (larger ones come by `fetch`).
pub(crate) fn parse(text: &str, max_envelope: usize) -> Vec<Posted> {
    let Some(rest) = text.strip_prefix(PREFIX) else {
        return vec![Posted::Unrecognised];
    };
    if text.len() > max_message_len() {
        return vec![Posted::Oversized {
            len: text.len(),
            max: max_message_len(),
        }];
    }
    let inline_max = max_envelope.min(INLINE_ENVELOPE_MAX);
    rest.split(SEPARATOR)
        .enumerate()
        .map(|(n, e)| match entry(e, inline_max) {
            Posted::Envelope { id, .. } | Posted::Malformed { id, .. } if n >= BATCH_MAX => {
                Posted::Malformed {
                    id,
                    why: EnvelopeError::PastBatch { max: BATCH_MAX },
                }
            }
            posted => posted,
        })
        .collect()
}

fn entry(rest: &str, max_envelope: usize) -> Posted {
    let Some((id, b64)) = rest.split_once(':') else {
        return Posted::Unrecognised;
    };
    let Ok(id) = id.parse::<u64>() else {
        return Posted::Unrecognised;
    };
    if b64.len() > max_base64_len(max_envelope) {
        let why = EnvelopeError::TooLarge {
            len: b64.len() / 4 * 3,
            max: max_envelope,
        };
        return Posted::Malformed { id, why };
    }
    match base64::engine::general_purpose::STANDARD.decode(b64) {
        Ok(envelope) => Posted::Envelope { id, envelope },
        Err(_) => Posted::Malformed {
            id,
            why: EnvelopeError::BadEncoding,
        },
    }
}

/// The replies to one posted message's calls, for the message's own
/// answer (the promise a script message *with reply* returns).
///
/// Calls run on confined threads ([`Hop`]), never on the GTK thread
/// that received the message (`confine`). While the collector is open, a
/// finished call's reply is kept for the answer: the GTK thread either
/// blocks briefly for it ([`Collector::wait`]) or goes back to its loop,
/// and then the first reply asks it to answer ([`Collector::close`]
/// there); once it is closed, replies go through the sink as scripts.
/// Each call's reply goes exactly one of the two ways.
pub(crate) struct Collector {
    state: Mutex<Collecting>,
    /// Notified at each reply while a thread waits in [`Collector::wait`].
    arrived: std::sync::Condvar,
    sink: Arc<ReplySink>,
    /// The page load the message came from: its replies are for it only.
    pub(crate) epoch: u64,
    /// Called (from any thread) when the first reply arrives while open.
    ready: Box<dyn Fn() + Send + Sync>,
}

struct Collecting {
    open: bool,
    finished: Vec<(u64, Vec<u8>)>,
    /// `ready` has been called (or is not needed: a thread waits).
    told: bool,
    /// A thread waits in [`Collector::wait`].
    waiter: bool,
}

impl Collector {
    fn new(sink: &Arc<ReplySink>, epoch: u64, ready: Box<dyn Fn() + Send + Sync>) -> Self {
        Self {
            state: Mutex::new(Collecting {
                open: true,
                finished: Vec::new(),
                told: false,
                waiter: false,
            }),
            arrived: std::sync::Condvar::new(),
            sink: Arc::clone(sink),
            epoch,
            ready,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Collecting> {
        // Plain field updates: a poisoned lock is consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A call's reply: kept for the answer while open, else to the sink.
    fn deliver(&self, id: u64, body: Vec<u8>) {
        let mut s = self.lock();
        if !s.open {
            drop(s);
            self.sink.reply(self.epoch, id, body);
            return;
        }
        s.finished.push((id, body));
        if s.waiter {
            s.told = true;
            drop(s);
            self.arrived.notify_one();
            return;
        }
        let tell = !std::mem::replace(&mut s.told, true);
        drop(s);
        if tell {
            (self.ready)();
        }
    }

    /// Blocks up to `limit` until `count` replies in all are kept; whether
    /// any is. Replies that come while a thread waits here wake it instead
    /// of calling `ready`.
    pub(crate) fn wait(&self, count: usize, limit: std::time::Duration) -> bool {
        let mut s = self.lock();
        s.waiter = true;
        let (mut s, _) = self
            .arrived
            .wait_timeout_while(s, limit, |s| s.finished.len() < count)
            .unwrap_or_else(|p| p.into_inner());
        s.waiter = false;
        !s.finished.is_empty()
    }

    /// Closes the collector and returns what it kept, as the answer's text
    /// `[[<id>,<body>],…]` (each body is JSON); replies over
    /// [`INLINE_REPLY_MAX`] in all go to the sink instead and the answer is
    /// `[]`. Later replies go to the sink.
    pub(crate) fn close(&self) -> String {
        let finished = {
            let mut s = self.lock();
            s.open = false;
            std::mem::take(&mut s.finished)
        };
        match answer_text(&finished) {
            Some(text) => text,
            None => {
                for (id, body) in finished {
                    self.sink.reply(self.epoch, id, body);
                }
                "[]".to_owned()
            }
        }
    }
}

impl Collector {
    /// Closes the collector for a transport with no answer of its own:
    /// what it kept, and everything later, goes through the sink.
    pub(crate) fn close_to_sink(&self) {
        let finished = {
            let mut s = self.lock();
            s.open = false;
            std::mem::take(&mut s.finished)
        };
        for (id, body) in finished {
            self.sink.reply(self.epoch, id, body);
        }
    }
}

/// `[[<id>,<body>],…]`, or `None` over [`INLINE_REPLY_MAX`].
fn answer_text(finished: &[(u64, Vec<u8>)]) -> Option<String> {
    let len: usize = finished.iter().map(|(_, b)| b.len() + 24).sum();
    if len > INLINE_REPLY_MAX {
        return None;
    }
    let mut out = Vec::with_capacity(len + 2);
    out.push(b'[');
    for (i, (id, body)) in finished.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        out.extend_from_slice(id.to_string().as_bytes());
        out.push(b',');
        out.extend_from_slice(body);
        out.push(b']');
    }
    out.push(b']');
    // Reply bodies are serde_json output, so UTF-8: no second copy.
    Some(
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
    )
}

/// What one posted message came to.
pub(crate) struct Handled {
    /// Where its calls' replies go.
    pub(crate) collector: Arc<Collector>,
    /// Calls started (their replies come later).
    pub(crate) started: usize,
    /// Replies the message gets in all: its calls and its refused entries.
    pub(crate) replies: usize,
    /// Some part was not in the transport format (and was logged).
    pub(crate) unrecognised: bool,
}

/// Handles one posted message on the GTK thread, without blocking: each
/// envelope goes to the runtime (opened, checked and run there), each
/// refused entry is answered at once. `ready` is called, from whichever
/// thread, when the first reply is kept; the caller then answers with
/// [`Collector::close`] on the GTK thread.
pub(crate) fn handle(
    core: &Arc<Core>,
    hop: &Hop,
    sink: &Arc<ReplySink>,
    url: &str,
    text: &str,
    ready: impl Fn() + Send + Sync + 'static,
) -> Handled {
    let mut unrecognised = false;
    let mut started = 0;
    let mut refused = 0;
    // Every entry of one message comes from the same page, the one shown
    // now: its replies are for this page load only.
    let from_app = crate::origin::is_app_page(url);
    let collector = Arc::new(Collector::new(sink, core.session.epoch(), Box::new(ready)));
    for posted in parse(text, core.max_envelope_bytes) {
        let c = Arc::clone(&collector);
        match posted {
            Posted::Unrecognised => {
                crate::ipc::refusals::refuse(
                    &core.ctx.window,
                    "not_an_envelope",
                    &format!("raw script message from {url}, not in the moat1: envelope format"),
                );
                unrecognised = true;
            }
            Posted::Oversized { len, max } => {
                crate::ipc::refusals::refuse(
                    &core.ctx.window,
                    "not_an_envelope",
                    &format!("script message of {len} bytes from {url}, over the {max} the transport carries"),
                );
                unrecognised = true;
            }
            Posted::Malformed { id, why } => {
                refused += 1;
                c.deliver(id, core.refuse(CallError::NotAnEnvelope(why)))
            }
            Posted::Envelope { id, .. } if !from_app => {
                refused += 1;
                let origin = Some(url.to_owned());
                c.deliver(id, core.refuse(CallError::BadOrigin { origin }));
            }
            Posted::Envelope { id, envelope } => {
                started += 1;
                let run = |task| hop.run(task);
                dispatch(core, run, envelope, Some(id), move |body| {
                    c.deliver(id, body)
                });
            }
        }
    }
    Handled {
        collector,
        started,
        replies: started + refused,
        unrecognised,
    }
}

/// Tells the page its raw message was refused.
pub(crate) fn rejection_script() -> String {
    let detail = serde_json::json!({
        "code": "not_an_envelope",
        "message": "window.ipc is not a way into the core; call window.moat.invoke",
    });
    format!("window.dispatchEvent(new CustomEvent('moat-ipc-rejected', {{ detail: {detail} }}));")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::core::tests::core_with_key;
    use crate::isolation::envelope::seal;

    fn posted(env: &[u8], id: u64) -> String {
        format!(
            "{id}:{}",
            base64::engine::general_purpose::STANDARD.encode(env)
        )
    }

    /// Waits (up to 10 s) for `f` to hold.
    fn eventually(f: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !f() {
            assert!(std::time::Instant::now() < deadline, "never happened");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// A one-worker runtime for the calls, and a sink that wakes nothing.
    fn runtime_and_sink() -> (tokio::runtime::Runtime, Arc<ReplySink>) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        (rt, Arc::new(ReplySink::new(|| {})))
    }

    #[test]
    fn replies_kept_before_the_answer_are_in_it_the_rest_go_to_the_sink() {
        let (core, c) = core_with_key();
        let (rt, sink) = runtime_and_sink();
        let ping = seal(&c, 1, br#"{"id":1,"cmd":"ping","args":{}}"#);
        let slow = seal(&c, 2, br#"{"id":2,"cmd":"slow","args":{}}"#);
        let text = format!("moat1:{};{};7:***", posted(&ping, 1), posted(&slow, 2));
        let told = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let t = Arc::clone(&told);
        let handled = handle(
            &core,
            &Hop::start(rt.handle().clone(), || {}).unwrap(),
            &sink,
            "app://localhost/",
            &text,
            move || {
                t.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            },
        );
        assert!(!handled.unrecognised);
        assert_eq!(
            handled.started, 2,
            "ping and slow run; the malformed entry does not"
        );
        // The malformed entry is kept at once, and tells once.
        assert_eq!(told.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Ping finishes on the runtime and is kept too; slow (100 ms) is not.
        eventually(|| handled.collector.lock().finished.len() == 2);
        let answer: serde_json::Value = serde_json::from_str(&handled.collector.close()).unwrap();
        let ids: Vec<u64> = answer
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_u64().unwrap())
            .collect();
        assert_eq!(ids, [7, 1]);
        assert_eq!(answer[0][1]["err"]["code"], "not_an_envelope");
        assert_eq!(answer[1][1]["ok"], "pong");
        assert_eq!(
            told.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "told once"
        );
        // `slow` replies through the sink, once.
        let script = std::cell::RefCell::new(String::new());
        eventually(|| {
            if let Some(js) = sink.drain(core.session.epoch()) {
                script.borrow_mut().push_str(&js);
            }
            !script.borrow().is_empty()
        });
        let script = script.into_inner();
        assert!(
            script.contains(r#"__moatReply({"id":2,"v":{"ok":"late"}})"#),
            "{script}"
        );
        assert!(!script.contains("(1,"), "{script}");
    }

    #[test]
    fn a_post_from_a_foreign_page_or_in_another_format_is_refused() {
        let (core, c) = core_with_key();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let sink = Arc::new(ReplySink::new(|| {}));
        let ping = seal(&c, 1, br#"{"id":1,"cmd":"ping","args":{}}"#);
        let text = format!("moat1:{}", posted(&ping, 1));
        let handled = handle(
            &core,
            &Hop::start(rt.handle().clone(), || {}).unwrap(),
            &sink,
            "isolation://localhost/",
            &text,
            || {},
        );
        assert_eq!(handled.started, 0, "nothing runs for another page");
        let answer: serde_json::Value = serde_json::from_str(&handled.collector.close()).unwrap();
        assert_eq!(answer[0][1]["err"]["code"], "bad_origin");
        let handled = handle(
            &core,
            &Hop::start(rt.handle().clone(), || {}).unwrap(),
            &sink,
            "app://localhost/",
            "{\"cmd\":\"ping\"}",
            || {},
        );
        assert!(handled.unrecognised && handled.started == 0);
        assert_eq!(handled.collector.close(), "[]");
        assert!(sink.drain(0).is_none(), "nothing is sent for junk");
    }

    #[test]
    fn answers_over_the_limit_are_left_for_the_script_path() {
        assert_eq!(
            answer_text(&[(3, br#"{"ok":"x"}"#.to_vec())]).unwrap(),
            r#"[[3,{"ok":"x"}]]"#
        );
        assert_eq!(answer_text(&[]).unwrap(), "[]");
        assert!(answer_text(&[(4, vec![b'1'; INLINE_REPLY_MAX])]).is_none());
        let sink = Arc::new(ReplySink::new(|| {}));
        let c = Collector::new(&sink, 0, Box::new(|| {}));
        c.deliver(4, vec![b'1'; INLINE_REPLY_MAX]);
        assert_eq!(c.close(), "[]");
        assert!(sink
            .drain(0)
            .unwrap()
            .starts_with("window.__moatReply({\"id\":4,"));
        // After the answer, replies go as scripts.
        c.deliver(5, br#"{"ok":1}"#.to_vec());
        assert!(sink.drain(0).unwrap().contains("__moatReply({\"id\":5,"));
    }

    #[test]
    fn a_waiting_thread_is_woken_by_replies_not_told() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::time::Duration;
        let sink = Arc::new(ReplySink::new(|| {}));
        let told = Arc::new(AtomicUsize::new(0));
        let t = Arc::clone(&told);
        let c = Arc::new(Collector::new(
            &sink,
            0,
            Box::new(move || {
                t.fetch_add(1, Ordering::SeqCst);
            }),
        ));
        // Nothing comes: the wait gives up at its limit.
        assert!(!c.wait(1, Duration::from_millis(5)));
        let c2 = Arc::clone(&c);
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            c2.deliver(1, br#"{"ok":1}"#.to_vec());
            c2.deliver(2, br#"{"ok":2}"#.to_vec());
        });
        assert!(c.wait(2, Duration::from_secs(10)));
        assert_eq!(c.close(), r#"[[1,{"ok":1}],[2,{"ok":2}]]"#);
        assert!(late.join().is_ok());
        assert_eq!(
            told.load(Ordering::SeqCst),
            0,
            "a waiter needs no call back"
        );
        // With nobody waiting, the first reply calls back.
        let c = Collector::new(&sink, 0, {
            let t = Arc::clone(&told);
            Box::new(move || {
                t.fetch_add(1, Ordering::SeqCst);
            })
        });
        c.deliver(3, b"1".to_vec());
        c.deliver(4, b"1".to_vec());
        assert_eq!(told.load(Ordering::SeqCst), 1);
    }

    const MAX: usize = 1 << 20;

    #[test]
    fn recognises_the_transport_format() {
        match &parse("moat1:7:AQID", MAX)[..] {
            [Posted::Envelope { id, envelope }] => {
                assert_eq!((*id, envelope.clone()), (7, vec![1, 2, 3]))
            }
            _ => panic!("not recognised"),
        }
    }

    #[test]
    fn several_envelopes_in_one_message_are_each_recognised() {
        let all = parse("moat1:1:AQ==;2:Ag==;x:AQ==", MAX);
        assert!(matches!(all[0], Posted::Envelope { id: 1, .. }));
        assert!(matches!(all[1], Posted::Envelope { id: 2, .. }));
        assert!(matches!(all[2], Posted::Unrecognised));
    }

    /// `n` calls of `ping`, sealed with `c`, counters from 1, in one message.
    fn batch(c: &crate::isolation::key::Cipher, n: u64) -> String {
        let entries: Vec<String> = (1..=n)
            .map(|id| {
                let call = format!(r#"{{"id":{id},"cmd":"ping","args":{{}}}}"#);
                let env = seal(c, id, call.as_bytes());
                posted(&env, id)
            })
            .collect();
        format!("moat1:{}", entries.join(";"))
    }

    #[test]
    fn the_core_holds_no_more_envelopes_per_message_than_the_frame_sends() {
        let (core, c) = core_with_key();
        let (rt, sink) = runtime_and_sink();
        let n = BATCH_MAX as u64 + 3;
        let handled = handle(
            &core,
            &Hop::start(rt.handle().clone(), || {}).unwrap(),
            &sink,
            "app://localhost/",
            &batch(&c, n),
            || {},
        );
        assert_eq!(handled.started, BATCH_MAX, "only the first {BATCH_MAX} run");
        assert_eq!(handled.replies, BATCH_MAX + 3);
        eventually(|| {
            handled
                .collector
                .wait(BATCH_MAX + 3, std::time::Duration::from_millis(10))
                && {
                    let s = handled.collector.lock();
                    s.finished.len() == BATCH_MAX + 3
                }
        });
        let answer: serde_json::Value = serde_json::from_str(&handled.collector.close()).unwrap();
        let answer = answer.as_array().unwrap();
        for past in BATCH_MAX as u64 + 1..=n {
            let reply = &answer.iter().find(|r| r[0] == past).unwrap()[1];
            assert_eq!(reply["err"]["code"], "not_an_envelope", "{reply}");
        }
        assert_eq!(
            answer.iter().filter(|r| r[1]["ok"] == "pong").count(),
            BATCH_MAX
        );
    }

    #[test]
    fn an_inline_envelope_is_no_larger_than_the_frame_sends_inline() {
        let (core, c) = core_with_key();
        let big = "x".repeat(INLINE_ENVELOPE_MAX);
        let call = format!(r#"{{"id":1,"cmd":"ping","args":{{"pad":"{big}"}}}}"#);
        let text = posted(&seal(&c, 1, call.as_bytes()), 1);
        // The core's own limit is higher; the transport's is this one.
        match &parse(&format!("moat1:{text}"), core.max_envelope_bytes)[..] {
            [Posted::Malformed {
                id: 1,
                why: EnvelopeError::TooLarge { max, .. },
            }] => assert_eq!(*max, INLINE_ENVELOPE_MAX),
            _ => panic!("an oversized inline envelope was accepted"),
        }
    }

    #[test]
    fn a_message_longer_than_a_full_batch_is_refused_before_it_is_split() {
        let text = format!("moat1:1:{}", "A".repeat(max_message_len()));
        assert!(matches!(parse(&text, MAX)[..], [Posted::Oversized { .. }]));
    }

    #[test]
    fn raw_commands_and_junk_are_unrecognised() {
        for text in [
            r#"{"cmd":"write_report","args":{}}"#,
            "moat1:",
            "moat1:x:AQID",
            "moat1:-1:AQID",
            "moat2:1:AQID",
            "",
        ] {
            assert!(
                matches!(parse(text, MAX)[..], [Posted::Unrecognised]),
                "{text}"
            );
        }
        assert!(matches!(
            parse("moat1:3:***", MAX)[..],
            [Posted::Malformed {
                id: 3,
                why: EnvelopeError::BadEncoding
            }]
        ));
    }

    #[test]
    fn oversized_base64_is_refused_before_decoding() {
        let text = format!("moat1:4:{}", "A".repeat(2000));
        assert!(matches!(
            parse(&text, 1024)[..],
            [Posted::Malformed {
                id: 4,
                why: EnvelopeError::TooLarge { .. }
            }]
        ));
        let exact = format!("moat1:5:{}", "A".repeat(max_base64_len(1024)));
        assert!(matches!(
            parse(&exact, 1024)[..],
            [Posted::Envelope { id: 5, .. }]
        ));
    }
}
