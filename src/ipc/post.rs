//! Transport for small calls: the isolation frame posts the envelope
//! straight to the core through WebKit's script message handler
//! (`window.webkit.messageHandlers.ipc`, which wry exposes to the main frame
//! as `window.ipc`), as text `moat1:<call id>:<base64 envelope>`. The reply is
//! evaluated in the main frame as `window.__moatReply(<call id>, <body>)`.
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

use std::sync::Arc;

use base64::Engine as _;

use super::core::{dispatch_here_first, refuse, Core};
use super::error::CallError;
use super::reply::ReplySink;
use crate::isolation::envelope::EnvelopeError;

/// The text prefix of envelopes posted over `window.ipc`.
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

/// The page shown must be the app's own.
pub(crate) fn page_is_app(url: &str) -> bool {
    url.parse::<http::Uri>().is_ok_and(|u| {
        u.scheme_str() == Some("app") && u.authority().map(|a| a.as_str()) == Some("localhost")
    })
}

/// Handles one `window.ipc` message on the GTK thread. Returns without
/// blocking; replies go to `sink`.
pub(crate) fn handle(
    core: &Arc<Core>,
    rt: &tokio::runtime::Handle,
    sink: &Arc<ReplySink>,
    url: &str,
    text: &str,
) {
    for posted in parse(text, core.max_envelope_bytes) {
        one(core, rt, sink, url, posted);
    }
}

fn one(
    core: &Arc<Core>,
    rt: &tokio::runtime::Handle,
    sink: &Arc<ReplySink>,
    url: &str,
    posted: Posted,
) {
    match posted {
        Posted::Unrecognised => {
            tracing::warn!(
                code = "not_an_envelope",
                %url,
                reason = "raw window.ipc message, not in the moat1: envelope format",
                "call rejected"
            );
            sink.script(rejection_script());
        }
        Posted::Malformed { id, why } => {
            sink.reply(id, refuse(CallError::NotAnEnvelope(why)));
        }
        Posted::Envelope { id, envelope } => {
            if !page_is_app(url) {
                let body = refuse(CallError::BadOrigin {
                    origin: Some(url.to_owned()),
                });
                sink.reply(id, body);
                return;
            }
            let sink = Arc::clone(sink);
            dispatch_here_first(core, rt, envelope, Some(id), move |body| {
                sink.reply(id, body)
            });
        }
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

    #[test]
    fn page_check_compares_scheme_and_host() {
        assert!(page_is_app("app://localhost/index.html"));
        for url in [
            "app://localhost.evil/",
            "https://localhost/",
            "isolation://localhost/",
            "",
        ] {
            assert!(!page_is_app(url), "{url}");
        }
    }
}
