//! Transport for small calls: the isolation frame posts the envelope
//! straight to the core through a WebKit script message handler, as text
//! `moat1:<call id>:<base64 envelope>`. Two handlers take the same text:
//! - `window.webkit.messageHandlers.moat` (Linux, [`super::script_message_linux`]),
//!   whose `postMessage` returns a promise: calls that finish while the
//!   message is handled are answered in it as `[[<id>,<reply body>],…]`, and
//!   the frame passes them to the bridge;
//! - `window.webkit.messageHandlers.ipc` (wry's, `window.ipc` in the main
//!   frame), with no reply of its own.
//!
//! Every other reply (a call still running, or replies over
//! [`INLINE_REPLY_MAX`]) is evaluated in the main frame as
//! `window.__moatReply(<call id>, <body>)`.
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

use super::core::{dispatch_here_first, refuse, Core};
use super::error::CallError;
use super::limits::INLINE_REPLY_MAX;
use super::reply::ReplySink;
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
    /// In the format, but refused before decoding; answered to `id`.
    Malformed { id: u64, why: EnvelopeError },
}

/// Recognises `moat1:<id>:<base64>[;<id>:<base64>…]`: one message may carry
/// several envelopes, each opened and checked on its own.
/// Base64 longer than this cannot decode to an envelope within `max_envelope`
/// bytes, and is refused before any decoding work.
fn max_base64_len(max_envelope: usize) -> usize {
    max_envelope.div_ceil(3) * 4
}

pub(crate) fn parse(text: &str, max_envelope: usize) -> Vec<Posted> {
    match text.strip_prefix(PREFIX) {
        Some(rest) => rest
            .split(SEPARATOR)
            .map(|e| entry(e, max_envelope))
            .collect(),
        None => vec![Posted::Unrecognised],
    }
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

/// What one posted message came to.
#[derive(Default)]
pub(crate) struct Handled {
    /// The page load the message came from.
    pub(crate) epoch: u64,
    /// Replies to calls that finished while the message was handled, in the
    /// order they finished. Calls still running reply later through the sink.
    pub(crate) finished: Vec<(u64, Vec<u8>)>,
    /// Some part was not in the transport format (and was logged).
    pub(crate) unrecognised: bool,
}

impl Handled {
    /// The finished replies as `[[<id>,<body>],…]` (each body is JSON), or
    /// `None` when they are over [`INLINE_REPLY_MAX`] in all.
    pub(crate) fn reply_text(&self) -> Option<String> {
        let len: usize = self.finished.iter().map(|(_, b)| b.len() + 24).sum();
        if len > INLINE_REPLY_MAX {
            return None;
        }
        let mut out = Vec::with_capacity(len + 2);
        out.push(b'[');
        for (i, (id, body)) in self.finished.iter().enumerate() {
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

    /// Sends every finished reply through `sink` instead.
    pub(crate) fn send_to(self, sink: &ReplySink) {
        for (id, body) in self.finished {
            sink.reply(self.epoch, id, body);
        }
    }
}

/// Handles one posted message on the GTK thread, without blocking. Calls
/// that finish before it returns are in [`Handled::finished`]; the rest reply
/// through `sink` when they finish (exactly one of the two, per call).
pub(crate) fn handle(
    core: &Arc<Core>,
    rt: &tokio::runtime::Handle,
    sink: &Arc<ReplySink>,
    url: &str,
    text: &str,
) -> Handled {
    // `Some` while this function runs; taken at the end, after which a call
    // finishing on a tokio thread goes to the sink.
    let collecting = Arc::new(Mutex::new(Some(Vec::new())));
    let mut unrecognised = false;
    // Every entry of one message comes from the same page, the one shown
    // now: its replies are for this page load only.
    let from_app = crate::origin::is_app_page(url);
    let epoch = core.session.epoch();
    for posted in parse(text, core.max_envelope_bytes) {
        let deliver = {
            let (collecting, sink) = (Arc::clone(&collecting), Arc::clone(sink));
            move |id: u64, body: Vec<u8>| {
                let mut c = collecting.lock().unwrap_or_else(|p| p.into_inner());
                match c.as_mut() {
                    Some(done) => done.push((id, body)),
                    None => {
                        drop(c);
                        sink.reply(epoch, id, body);
                    }
                }
            }
        };
        match posted {
            Posted::Unrecognised => {
                super::refusals::refuse(
                    "not_an_envelope",
                    &format!("raw script message from {url}, not in the moat1: envelope format"),
                );
                unrecognised = true;
            }
            Posted::Malformed { id, why } => deliver(id, refuse(CallError::NotAnEnvelope(why))),
            Posted::Envelope { id, .. } if !from_app => {
                let origin = Some(url.to_owned());
                deliver(id, refuse(CallError::BadOrigin { origin }));
            }
            Posted::Envelope { id, envelope } => {
                dispatch_here_first(core, rt, envelope, Some(id), move |body| deliver(id, body));
            }
        }
    }
    let finished = collecting
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .unwrap_or_default();
    Handled {
        epoch,
        finished,
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

    #[test]
    fn calls_that_finish_at_once_are_in_the_answer_the_rest_go_to_the_sink() {
        let (core, c) = core_with_key();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_time()
            .build()
            .unwrap();
        let sink = Arc::new(ReplySink::new(|| {}));
        let ping = seal(&c, 1, br#"{"id":1,"cmd":"ping","args":{}}"#);
        let slow = seal(&c, 2, br#"{"id":2,"cmd":"slow","args":{}}"#);
        let text = format!("moat1:{};{};7:***", posted(&ping, 1), posted(&slow, 2));
        let handled = handle(&core, rt.handle(), &sink, "app://localhost/", &text);
        assert!(!handled.unrecognised);
        let ids: Vec<u64> = handled.finished.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [1, 7], "ping and the malformed entry, not slow");
        let answer: serde_json::Value =
            serde_json::from_str(&handled.reply_text().unwrap()).unwrap();
        assert_eq!(answer[0][0], 1);
        assert_eq!(answer[0][1]["ok"], "pong");
        assert_eq!(answer[1][1]["err"]["code"], "not_an_envelope");
        // `slow` replies through the sink, once.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let script = loop {
            if let Some(js) = sink.drain(0) {
                break js;
            }
            assert!(std::time::Instant::now() < deadline, "slow never replied");
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(
            script.contains(r#"__moatReply(2,{"ok":"late"})"#),
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
        let handled = handle(&core, rt.handle(), &sink, "isolation://localhost/", &text);
        let body: serde_json::Value = serde_json::from_slice(&handled.finished[0].1).unwrap();
        assert_eq!(body["err"]["code"], "bad_origin");
        let handled = handle(
            &core,
            rt.handle(),
            &sink,
            "app://localhost/",
            "{\"cmd\":\"ping\"}",
        );
        assert!(handled.unrecognised && handled.finished.is_empty());
        assert!(sink.drain(0).is_none(), "nothing is sent for junk");
    }

    #[test]
    fn answers_over_the_limit_are_left_for_the_script_path() {
        let small = Handled {
            epoch: 0,
            finished: vec![(3, br#"{"ok":"x"}"#.to_vec())],
            unrecognised: false,
        };
        assert_eq!(small.reply_text().unwrap(), r#"[[3,{"ok":"x"}]]"#);
        assert_eq!(Handled::default().reply_text().unwrap(), "[]");
        let big = Handled {
            epoch: 0,
            finished: vec![(4, vec![b'1'; INLINE_REPLY_MAX])],
            unrecognised: false,
        };
        assert!(big.reply_text().is_none());
        let sink = ReplySink::new(|| {});
        big.send_to(&sink);
        assert!(sink
            .drain(0)
            .unwrap()
            .starts_with("window.__moatReply&&window.__moatReply(4,"));
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
