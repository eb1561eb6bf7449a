//! Push: what the core sends the page without being asked. Events go to
//! every listener of a name ([`AppHandle::emit`], [`CallContext::emit`]);
//! channel messages go to the `moat.Channel` a call was given ([`Channel`]).
//!
//! One path, like replies: each push is queued in the [`ReplySink`] under
//! the page load it is for and delivered to the main frame only, as
//! `window.__moatPush({k: kind, to: target, v: payload})`; what was queued for a page
//! load that is gone is dropped. Nothing comes back this way: the page
//! answers only with sealed calls. Page script can call `__moatPush`
//! itself, and so fake deliveries to itself, as it can with replies; it
//! reaches nothing in the core by doing so.
//!
//! A channel is open while the call that received it runs: when the
//! command finishes (or its page load ends) it closes, the page is told
//! (after every message, before it settles the call's promise), and a
//! later `send` is an error in Rust, never a message the page sees.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::Serialize;

use super::transport::reply::{call_script, ReplySink};
use crate::isolation::session::Session;

/// The key of the object a `moat.Channel` becomes in a call's arguments.
pub(crate) const CHANNEL_KEY: &str = "__moatChannel";

/// Why a push was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    /// The event name breaks the naming rule ([`valid_name`]).
    BadName(String),
    /// The channel's call has finished, or its page load has ended.
    Closed,
    /// The page load the call came from has ended: its events go nowhere
    /// (never to the page loaded since).
    PageGone,
    /// The payload could not be serialised to JSON.
    Unserializable(String),
    /// No app window with this label is open.
    NoWindow(String),
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PushError::BadName(n) => write!(
                f,
                "event name {n:?}: 1 to 64 ASCII letters, digits, '_', '-' or ':', starting with a letter"
            ),
            PushError::Closed => {
                f.write_str("the channel is closed: its call has finished or its page is gone")
            }
            PushError::PageGone => f.write_str(
                "the page that made the call is gone; its events are not sent to the page loaded since",
            ),
            PushError::Unserializable(e) => write!(f, "the payload cannot be serialised: {e}"),
            PushError::NoWindow(label) => write!(f, "no app window `{label}` is open"),
        }
    }
}

impl std::error::Error for PushError {}

/// The rule for command and event names: 1 to 64 ASCII letters, digits,
/// `_`, `-` and `:`, starting with a letter. (Built-in commands add a `.`
/// after their module's name, which app names may not use.)
pub(crate) fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b':'))
}

/// Where pushes go: the sink, under the page load they are for.
pub(crate) struct Pusher {
    sink: Arc<ReplySink>,
    session: Arc<Session>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pusher")
    }
}

impl Pusher {
    pub(crate) fn new(sink: Arc<ReplySink>, session: Arc<Session>) -> Self {
        Self { sink, session }
    }

    /// An event for the page load `epoch`, or, with `None`, for whatever
    /// page is loaded now. For a gone page load it is `PageGone` (and
    /// would be dropped by the sink anyway).
    pub(crate) fn emit(
        &self,
        epoch: Option<u64>,
        name: &str,
        payload: &impl Serialize,
    ) -> Result<(), PushError> {
        if !valid_name(name) {
            return Err(PushError::BadName(name.to_owned()));
        }
        let now = self.session.epoch();
        let epoch = epoch.unwrap_or(now);
        if epoch != now {
            return Err(PushError::PageGone);
        }
        let body = json(payload)?;
        let target = serde_json::to_string(name).unwrap_or_default();
        self.sink.script(
            epoch,
            call_script("__moatPush", &format!("\"k\":\"e\",\"to\":{target},"), body),
        );
        Ok(())
    }
}

/// A handle on the running app for code outside any command (a background
/// task started at launch): it pushes events to the app's windows and opens
/// and closes them. Cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct AppHandle {
    pub(crate) windows: Arc<crate::ipc::windows::Windows>,
}

impl std::fmt::Debug for AppHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppHandle")
    }
}

impl AppHandle {
    /// Sends `payload` (any `Serialize` value) to every listener of `name`
    /// in the page each open app window shows now
    /// (`moat.listen(name, handler)`). Untrusted views get nothing. With
    /// no page or no listener, it is dropped.
    pub fn emit<T: Serialize>(&self, name: &str, payload: &T) -> Result<(), PushError> {
        if !valid_name(name) {
            return Err(PushError::BadName(name.to_owned()));
        }
        for pusher in self.windows.open_pushers() {
            pusher.emit(None, name, payload)?;
        }
        Ok(())
    }

    /// [`AppHandle::emit`] to the app window `label` only: never to
    /// another window. `Err(PushError::NoWindow)` when no app window of
    /// that label is open.
    pub fn emit_to<T: Serialize>(
        &self,
        label: &str,
        name: &str,
        payload: &T,
    ) -> Result<(), PushError> {
        match self.windows.pusher(label) {
            Some(pusher) => pusher.emit(None, name, payload),
            None => Err(PushError::NoWindow(label.to_owned())),
        }
    }

    /// Opens the declared window `label` (or brings it forward when it is
    /// open), as the app: no page's allowlist is asked.
    pub fn open_window(&self, label: &str) -> Result<(), crate::WindowError> {
        self.windows.open(label, None)
    }

    /// Closes the window `label` if it is open: its page load ends (its
    /// calls' replies, channels, grants and programs with it). Closing
    /// the main window ends the app.
    pub fn close_window(&self, label: &str) {
        self.windows.close(label);
    }
}

/// One channel's state, shared by its senders and the call that owns it.
pub(crate) struct ChannelState {
    id: u64,
    /// The page load of the call: messages are for it only.
    epoch: u64,
    open: AtomicBool,
    pusher: Arc<Pusher>,
}

/// `payload` as JSON, in a buffer on huge pages when it is large.
fn json(payload: &impl Serialize) -> Result<Vec<u8>, PushError> {
    let mut out = crate::ipc::large::Growing(Vec::new());
    serde_json::to_writer(&mut out, payload)
        .map_err(|e| PushError::Unserializable(e.to_string()))?;
    Ok(out.0)
}

impl ChannelState {
    fn send(&self, payload: &impl Serialize) -> Result<(), PushError> {
        if !self.open.load(Ordering::Acquire) || self.pusher.session.epoch() != self.epoch {
            return Err(PushError::Closed);
        }
        let body = json(payload)?;
        self.pusher.sink.script(
            self.epoch,
            call_script(
                "__moatPush",
                &format!("\"k\":\"c\",\"to\":{},", self.id),
                body,
            ),
        );
        Ok(())
    }

    /// Closes the channel and tells the page, once.
    fn close(&self) {
        if self.open.swap(false, Ordering::AcqRel) {
            self.pusher.sink.script(
                self.epoch,
                format!("window.__moatPush({{\"k\":\"x\",\"to\":{}}});", self.id),
            );
        }
    }
}

/// A stream of messages to the `moat.Channel` the page passed in a call's
/// arguments. Declare it as an argument's type (`progress: Channel<Step>`);
/// [`Channel::send`] delivers in order, before the call's reply. It closes
/// when the command finishes; clones share it.
pub struct Channel<T> {
    state: Arc<ChannelState>,
    _t: PhantomData<fn(&T)>,
}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Channel({})", self.state.id)
    }
}

impl<T: Serialize> Channel<T> {
    /// Sends one message. `Err(PushError::Closed)` once the command has
    /// finished or its page load has ended: stop the work then.
    pub fn send(&self, message: &T) -> Result<(), PushError> {
        self.state.send(message)
    }

    /// Whether a message sent now would be delivered.
    pub fn is_open(&self) -> bool {
        self.state.open.load(Ordering::Acquire)
            && self.state.pusher.session.epoch() == self.state.epoch
    }
}

/// While a call's arguments are decoded: where its channels push, for which
/// page load, and the channels made so far.
type Decoding = Option<(Arc<Pusher>, u64, Vec<Arc<ChannelState>>)>;

thread_local! {
    static DECODING: RefCell<Decoding> = const { RefCell::new(None) };
}

/// The channels of one call: closed when it is dropped, which is when the
/// call's future finishes or is dropped.
pub(crate) struct CallChannels(Vec<Arc<ChannelState>>);

impl CallChannels {
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl Drop for CallChannels {
    fn drop(&mut self) {
        for c in &self.0 {
            c.close();
        }
    }
}

/// Runs `decode` (a handler's argument decoding) so that the [`Channel`]s
/// in the arguments push to `pusher` for the page load `epoch`; returns
/// its result and the channels, to hold until the call finishes.
pub(crate) fn decoding<R>(
    pusher: &Arc<Pusher>,
    epoch: u64,
    decode: impl FnOnce() -> R,
) -> (R, CallChannels) {
    DECODING.with(|d| *d.borrow_mut() = Some((Arc::clone(pusher), epoch, Vec::new())));
    let r = decode();
    let made = DECODING
        .with(|d| d.borrow_mut().take())
        .map(|(_, _, made)| made)
        .unwrap_or_default();
    (r, CallChannels(made))
}

impl<'de, T> Deserialize<'de> for Channel<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Marker;
        impl<'de> Visitor<'de> for Marker {
            type Value = u64;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a moat.Channel")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
                let Some(key) = map.next_key::<String>()? else {
                    return Err(de::Error::custom("a moat.Channel, not an empty object"));
                };
                if key != CHANNEL_KEY {
                    return Err(de::Error::custom(format!(
                        "a moat.Channel, not an object with `{key}`"
                    )));
                }
                let id: u64 = map.next_value()?;
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom("a moat.Channel has one key"));
                }
                Ok(id)
            }
        }
        let id = d.deserialize_map(Marker)?;
        let state = DECODING.with(|dec| {
            dec.borrow_mut().as_mut().map(|(pusher, epoch, made)| {
                let state = Arc::new(ChannelState {
                    id,
                    epoch: *epoch,
                    open: AtomicBool::new(true),
                    pusher: Arc::clone(pusher),
                });
                made.push(Arc::clone(&state));
                state
            })
        });
        state
            .map(|state| Channel {
                state,
                _t: PhantomData,
            })
            .ok_or_else(|| de::Error::custom("a moat.Channel is only valid in a call's arguments"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pusher() -> (Arc<Pusher>, Arc<ReplySink>, Arc<Session>) {
        let sink = Arc::new(ReplySink::new(|| {}));
        let session = Arc::new(Session::new());
        (
            Arc::new(Pusher::new(Arc::clone(&sink), Arc::clone(&session))),
            sink,
            session,
        )
    }

    #[derive(serde::Deserialize)]
    struct Args {
        progress: Channel<u32>,
    }

    #[test]
    fn names_follow_one_rule() {
        for ok in ["clock", "file-changed", "job:42", "A_b"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "9lives", "a b", "a.b", "é", "x\0", &"a".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn messages_go_in_order_then_the_end_and_nothing_after() {
        let (p, sink, session) = pusher();
        let epoch = session.epoch();
        let (args, channels) = decoding(&p, epoch, || {
            crate::ipc::wire::args::decode::<Args>(r#"{"progress":{"__moatChannel":7}}"#)
        });
        let args = args.unwrap();
        args.progress.send(&1).unwrap();
        args.progress.send(&2).unwrap();
        drop(channels); // the call finished
        assert_eq!(args.progress.send(&3), Err(PushError::Closed));
        let js = sink.drain(epoch).unwrap();
        let (one, two, end) = (
            js.find(r#"{"k":"c","to":7,"v":1}"#).unwrap(),
            js.find(r#"{"k":"c","to":7,"v":2}"#).unwrap(),
            js.find(r#"{"k":"x","to":7}"#).unwrap(),
        );
        assert!(one < two && two < end, "{js}");
        assert!(!js.contains(r#""v":3"#), "{js}");
    }

    #[test]
    fn a_channel_of_a_gone_page_load_is_closed() {
        let (p, sink, session) = pusher();
        let (args, _channels) = decoding(&p, session.epoch(), || {
            crate::ipc::wire::args::decode::<Args>(r#"{"progress":{"__moatChannel":1}}"#)
        });
        let args = args.unwrap();
        session.rotate();
        assert!(!args.progress.is_open());
        assert_eq!(args.progress.send(&1), Err(PushError::Closed));
        assert!(sink.drain(session.epoch()).is_none());
    }

    #[test]
    fn only_the_marker_is_a_channel() {
        let (p, _, session) = pusher();
        for bad in [
            r#"{"progress":{}}"#,
            r#"{"progress":{"__moatChannel":1,"x":2}}"#,
            r#"{"progress":{"other":1}}"#,
            r#"{"progress":"__moatChannel"}"#,
            r#"{"progress":{"__moatChannel":-1}}"#,
        ] {
            let (r, _) = decoding(&p, session.epoch(), || {
                crate::ipc::wire::args::decode::<Args>(bad)
            });
            assert!(r.is_err(), "{bad}");
        }
        // Outside a call's decoding there is nowhere to push.
        assert!(serde_json::from_str::<Channel<u32>>(r#"{"__moatChannel":1}"#).is_err());
    }

    #[test]
    fn events_are_named_and_for_the_page_loaded_now() {
        let (p, sink, session) = pusher();
        assert!(matches!(
            p.emit(None, "bad name", &1),
            Err(PushError::BadName(_))
        ));
        p.emit(None, "clock", &"12:00").unwrap();
        let js = sink.drain(session.epoch()).unwrap();
        assert!(
            js.contains(r#"({"k":"e","to":"clock","v":"12:00"})"#),
            "{js}"
        );
    }

    #[test]
    fn a_calls_event_goes_to_its_own_page_load_only() {
        let (p, sink, session) = pusher();
        let call_epoch = session.epoch();
        p.emit(Some(call_epoch), "done", &1).unwrap();
        session.rotate();
        assert_eq!(
            p.emit(Some(call_epoch), "done", &2),
            Err(PushError::PageGone)
        );
        let js = sink.drain(session.epoch());
        assert!(js.is_none(), "the new page load got {js:?}");
    }

    #[test]
    fn events_go_to_the_open_windows_named_and_no_other() {
        use crate::ipc::windows::{Kind, Windows};
        use std::collections::BTreeMap;
        let (main, main_sink, main_session) = pusher();
        let (settings, settings_sink, settings_session) = pusher();
        let windows = Arc::new(Windows::new(
            BTreeMap::from([
                ("main".to_owned(), Kind::App),
                ("settings".to_owned(), Kind::App),
            ]),
            8,
            BTreeMap::from([
                ("main".to_owned(), Arc::clone(&main)),
                ("settings".to_owned(), Arc::clone(&settings)),
            ]),
        ));
        let handle = AppHandle {
            windows: Arc::clone(&windows),
        };
        // Closed: nothing is queued for it.
        handle.emit("all", &1).unwrap();
        assert_eq!(
            handle.emit_to("settings", "one", &1),
            Err(PushError::NoWindow("settings".into()))
        );
        assert!(settings_sink.drain(settings_session.epoch()).is_none());
        windows.open("settings", None).unwrap();
        handle.emit_to("settings", "one", &2).unwrap();
        handle.emit("all", &3).unwrap();
        let to_main = main_sink.drain(main_session.epoch()).unwrap();
        let to_settings = settings_sink.drain(settings_session.epoch()).unwrap();
        assert!(
            to_main.contains(r#"{"k":"e","to":"all","v":1}"#)
                && to_main.contains(r#"{"k":"e","to":"all","v":3}"#)
        );
        assert!(!to_main.contains(r#""one""#), "{to_main}");
        assert!(
            to_settings.contains(r#"{"k":"e","to":"one","v":2}"#),
            "{to_settings}"
        );
        assert!(
            to_settings.contains(r#"{"k":"e","to":"all","v":3}"#),
            "{to_settings}"
        );
    }
}
