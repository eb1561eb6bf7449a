//! The path every call takes, whichever transport carried it.
//!
//! Order of checks, each refusing with its own code: as the call arrives,
//! on the thread that received it ([`dispatch`]), the call rate
//! (`rate_limited`); then, as [`Core::process`] runs them on a confined
//! thread, a pending-call slot (`busy`) → envelope shape (`not_an_envelope`) → decryption under this
//! page load's key (`decrypt_failed`) → replay window (`replayed`) → call
//! shape, and for a script message the routing id matches the sealed call
//! id (`bad_call`) → the reserved `moat.frame_report` (logged, no handler)
//! → command registered (`unknown_command`) → allowlist (`not_allowed`) →
//! argument types, channels and bytes (`bad_args`) → handler. There is no
//! path to a handler that skips opening an envelope: an empty body is
//! `not_an_envelope`, never "a call with no arguments" (a Tauri bug). The
//! transports ([`super::transport::fetch`], [`super::transport::post`]) check where a request came
//! from before they get here.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tracing::{field::Empty, Instrument};

use super::command::{CallContext, Commands};
use super::pending::Full;
use super::wire::call::{error_body, Call};
use super::wire::error::{Busy, CallError};
use crate::isolation::envelope::Envelope;
use crate::isolation::session::{OpenError, Opened, Session};

/// Everything a call needs, shared by the GTK thread and the tokio workers.
pub(crate) struct Core {
    pub(crate) session: Arc<Session>,
    /// Where the channels in a call's arguments push.
    pub(crate) pusher: Arc<super::push::Pusher>,
    /// Reply bytes waiting for the page to fetch them.
    pub(crate) blobs: Arc<super::wire::bytes::BlobStore>,
    pub(crate) commands: Commands,
    /// `None`: every registered command may be called.
    pub(crate) allowed: Option<BTreeSet<String>>,
    pub(crate) max_envelope_bytes: usize,
    /// `limits.maxCallsPerSecond`, if set; shared with every request the
    /// page can make of the core's schemes (reply bytes, hook files), so no
    /// probe is free.
    pub(crate) rate: Option<Arc<super::rate::RateLimit>>,
    /// `limits.maxPendingCalls`, if set.
    pub(crate) pending: Option<super::pending::PendingLimit>,
    pub(crate) ctx: CallContext,
}

impl Core {
    /// A new main-frame page load: a new key and replay window (see
    /// `isolation::session`), and what the gone page load left waiting
    /// (reply bytes) is dropped.
    pub(crate) fn new_page_load(&self) {
        self.session.rotate();
        self.blobs.forget_gone(self.session.epoch());
    }

    /// No page of the app is shown any more (crashed for good): nothing
    /// sealed before opens, and nothing waits for it.
    pub(crate) fn close_page(&self) {
        self.session.close();
        self.blobs.forget_gone(self.session.epoch());
    }

    /// One call, from its bytes to its handler's answer: `Err` when it is
    /// refused before a handler runs (see the module docs for the order).
    async fn process(
        self: Arc<Self>,
        body: Vec<u8>,
        routing_id: Option<u64>,
        span: tracing::Span,
    ) -> Result<Ran, CallError> {
        // Held until the handler has finished, whatever the page does.
        let _slot = self.slot()?;
        // The call is opened in its own body, wiped when it is dropped, as
        // is the JSON copied out of it when its bytes keep the body.
        let mut body = super::large::Wiped(body);
        let mut json = None;
        let (id, epoch, started) = {
            let (call, blobs, epoch) = self.open_call(&mut body, &mut json)?;
            span.record("cmd", &*call.cmd);
            span.record("id", call.id);
            if routing_id.is_some_and(|r| r != call.id) {
                // The unauthenticated routing id decides whose promise
                // settles; it must name the call that was sealed.
                return Err(CallError::BadCall(format!(
                    "routing id {routing_id:?} is not the sealed call id {}",
                    call.id
                )));
            }
            if call.cmd == super::wire::frame_report::COMMAND {
                let answer = super::wire::frame_report::log(call.args_json());
                return Ok(Ran::without_channels(call.id, epoch, answer));
            }
            // Held until the call ends: dropping it closes the call's
            // channels in the page (before its reply, which says how many
            // there were).
            (call.id, epoch, self.start_handler(&call, blobs, epoch)?)
        };
        // The handler took what it needs from the plaintext.
        drop((body, json));
        let (fut, channels) = started;
        let answer = CatchPanic::new(fut).await.unwrap_or_else(|message| {
            Err(CallError::HandlerFailed(format!(
                "handler panicked: {message}"
            )))
        });
        Ok(Ran {
            id,
            epoch,
            channels: channels.len(),
            answer,
        })
    }

    /// Opens the envelope in `body` (in place) and parses its call: the
    /// call, its blobs owned, and its page load (the one whose key opened
    /// it, read once, here: a reload from now on does not hand its
    /// channels, grants, programs or events to the next page). The call
    /// borrows `body`, or `json` when its largest blob took the body's
    /// buffer (`wire::bytes::split_largest`).
    fn open_call<'a>(
        &self,
        body: &'a mut super::large::Wiped,
        json: &'a mut Option<super::large::Wiped>,
    ) -> Result<(Call<'a>, Vec<Vec<u8>>, u64), CallError> {
        let base = body.as_ptr() as usize;
        let env =
            Envelope::parse(body, self.max_envelope_bytes).map_err(CallError::NotAnEnvelope)?;
        let Opened { plaintext, epoch } = self.session.open(env).map_err(|e| match e {
            OpenError::DecryptFailed => CallError::DecryptFailed,
            OpenError::Replayed(r) => CallError::Replayed(r),
        })?;
        let at = plaintext.as_ptr() as usize - base;
        let plaintext = at..at + plaintext.len();
        let split = super::wire::bytes::split_largest(body, plaintext.clone())
            .map_err(|e| CallError::BadCall(e.to_string()))?;
        match split {
            Some(split) => Ok((Call::parse(json.insert(split.json))?, split.blobs, epoch)),
            None => {
                let body: &'a super::large::Wiped = body;
                let call = Call::parse(body.get(plaintext).unwrap_or_default())?;
                let blobs = call.blobs.iter().map(|b| super::large::copy(b)).collect();
                Ok((call, blobs, epoch))
            }
        }
    }

    /// The call rate, taken as the call arrives, on the thread that
    /// received it, before a task exists: it measures how fast the page
    /// sends, not how fast the core gets round to a call (a core slower
    /// than the page would otherwise let every burst through), and a
    /// flood past it holds no task and no envelope.
    fn admit(&self) -> Result<(), CallError> {
        match &self.rate {
            Some(rate) if !rate.take() => Err(CallError::RateLimited {
                per_sec: rate.limit(),
            }),
            _ => Ok(()),
        }
    }

    /// A pending-call slot, counted for the page load shown when the call
    /// started; taken as its task starts, so calls queued behind others in
    /// one burst (at most the frame's batches in flight) are not `busy`.
    fn slot(&self) -> Result<Option<super::pending::Slot>, CallError> {
        let Some(p) = &self.pending else {
            return Ok(None);
        };
        p.take(self.session.epoch())
            .map(Some)
            .map_err(|full| match full {
                Full::ThisPage => CallError::Busy {
                    max: p.max(),
                    with: Busy::ThisPage,
                },
                Full::EarlierPages => CallError::Busy {
                    max: p.max() * super::pending::EARLIER_LOADS_FACTOR,
                    with: Busy::EarlierPages,
                },
            })
    }

    /// The command's handler, allowed, with its arguments decoded (its
    /// channels pushing to page load `epoch`, its bytes taken from the
    /// call): its future, and the channels to close when it ends.
    fn start_handler(
        &self,
        call: &Call<'_>,
        blobs: Vec<Vec<u8>>,
        epoch: u64,
    ) -> Result<(super::command::CallFuture, super::push::CallChannels), CallError> {
        let handler = self
            .commands
            .get(&call.cmd)
            .ok_or_else(|| CallError::UnknownCommand {
                cmd: call.cmd.to_string(),
            })?;
        if self
            .allowed
            .as_ref()
            .is_some_and(|a| !a.contains(&*call.cmd))
        {
            return Err(CallError::NotAllowed {
                cmd: call.cmd.to_string(),
            });
        }
        let mut ctx = self.ctx.clone();
        ctx.epoch = epoch;
        let ((fut, unused), channels) = super::push::decoding(&self.pusher, epoch, || {
            super::wire::bytes::decoding(blobs, || handler.call(call.args_json(), ctx))
        });
        if unused > 0 {
            // The hooks saw bytes the command would read as something else.
            return Err(CallError::BadArgs(super::wire::error::ArgsError::Invalid(format!(
                "the arguments hold bytes ({unused} ArrayBuffer or typed array) where the command takes none"
            ))));
        }
        Ok((fut, channels))
    }

    /// The reply body of a call that was opened: its answer, its bytes
    /// kept for the page to fetch, and the head that says how many
    /// channels and blobs the page waits for.
    fn reply(&self, ran: Ran, answer: Vec<u8>) -> Vec<u8> {
        let (answer, blobs) = if answer.first() == Some(&super::wire::bytes::FRAMED) {
            match self.keep_blobs(ran.epoch, ran.id, answer) {
                Ok(kept) => kept,
                Err(e) => (self.refuse(e), 0),
            }
        } else {
            (answer, 0)
        };
        Head {
            channels: ran.channels,
            blobs,
        }
        .before(answer)
    }

    /// Keeps a framed answer (its JSON, then its blobs) in the blob store
    /// for page load `epoch`'s call `id`; returns its JSON and how many
    /// blobs the page will fetch.
    fn keep_blobs(
        &self,
        epoch: u64,
        id: u64,
        framed: Vec<u8>,
    ) -> Result<(Vec<u8>, usize), CallError> {
        let (json, blobs) = match super::wire::bytes::unframe(&framed) {
            Ok((json, blobs)) => (json.to_vec(), blobs.len()),
            Err(e) => return Err(CallError::HandlerFailed(e.to_string())),
        };
        self.blobs
            .put(epoch, self.session.epoch(), id, framed)
            .map_err(
                |super::wire::bytes::StoreFull::Full { max_bytes }| CallError::Busy {
                    max: max_bytes,
                    with: Busy::ReplyBytes,
                },
            )?;
        Ok((json, blobs))
    }
}

/// A call whose envelope opened: its sealed id, its page load, the
/// channels its arguments opened (closed by now), and its handler's
/// answer (`{"ok": …}`, maybe framed with bytes, or an error).
pub(crate) struct Ran {
    id: u64,
    epoch: u64,
    channels: usize,
    answer: Result<Vec<u8>, CallError>,
}

impl Ran {
    fn without_channels(id: u64, epoch: u64, answer: Result<Vec<u8>, CallError>) -> Self {
        Self {
            id,
            epoch,
            channels: 0,
            answer,
        }
    }
}

/// What the page must wait for besides the answer: the ends of the
/// call's channels (queued before the reply) and the blobs it fetches.
struct Head {
    channels: usize,
    blobs: usize,
}

impl Head {
    /// The reply: `{"channels":c,"blobs":b,` (the counts that are not 0)
    /// then the answer object's members. Answers are JSON objects written
    /// by serde_json (`command`, `call::error_body`), so they start with
    /// `{`; the members are not copied through a parser.
    fn before(&self, answer: Vec<u8>) -> Vec<u8> {
        let counts: Vec<String> = [("channels", self.channels), ("blobs", self.blobs)]
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("\"{k}\":{n}"))
            .collect();
        if counts.is_empty() || answer.first() != Some(&b'{') {
            return answer;
        }
        let members = &answer[1..];
        let mut out = Vec::with_capacity(answer.len() + 32);
        out.push(b'{');
        out.extend_from_slice(counts.join(",").as_bytes());
        if members != b"}" {
            out.push(b',');
        }
        out.extend_from_slice(members);
        out
    }
}

/// Makes one call a task and hands it to `run` (the `moat-call` thread,
/// [`super::hop`], or the runtime); the task hands the finished reply body
/// to `deliver` on the thread that runs it, never the GTK thread. A call
/// past the call rate is refused here instead, and `deliver`ed at once on
/// the caller's thread. Never blocks the caller (the GTK thread).
pub(crate) fn dispatch(
    core: &Arc<Core>,
    run: impl FnOnce(super::hop::Task),
    body: Vec<u8>,
    routing_id: Option<u64>,
    deliver: impl FnOnce(Vec<u8>) + Send + 'static,
) {
    let span = new_span(&core.ctx.window);
    let started = Instant::now();
    if let Err(refused) = core.admit() {
        drop(body);
        deliver(finish(&core.ctx.window, &span, started, Err(refused)));
        return;
    }
    let core = Arc::clone(core);
    let call = Arc::clone(&core)
        .process(body, routing_id, span.clone())
        .instrument(span.clone());
    // One task: a panic anywhere in the call is caught where it is polled.
    run(Box::pin(async move {
        let outcome = CatchPanic::new(call).await.unwrap_or_else(|message| {
            Err(CallError::HandlerFailed(format!(
                "call panicked: {message}"
            )))
        });
        let window = &core.ctx.window;
        let body = match outcome {
            Err(refused) => finish(window, &span, started, Err(refused)),
            Ok(mut ran) => {
                let answer = std::mem::replace(&mut ran.answer, Ok(Vec::new()));
                let answer = finish(window, &span, started, answer);
                core.reply(ran, answer)
            }
        };
        deliver(body);
    }));
}

/// A future that turns a panic while it is polled into `Err(message)`.
struct CatchPanic<F> {
    fut: std::pin::Pin<Box<F>>,
}

impl<F: Future> CatchPanic<F> {
    fn new(fut: F) -> Self {
        Self { fut: Box::pin(fut) }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let fut = self.fut.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(payload) => std::task::Poll::Ready(Err(super::command::panic_message(&*payload))),
        }
    }
}

impl Core {
    /// A call refused before it reached [`dispatch`] (by a transport's
    /// origin check): logged like any other call, and its error body
    /// returned.
    pub(crate) fn refuse(&self, e: CallError) -> Vec<u8> {
        let window = &*self.ctx.window;
        finish(window, &new_span(window), Instant::now(), Err(e))
    }
}

fn new_span(window: &str) -> tracing::Span {
    tracing::info_span!(
        "ipc.call",
        window,
        cmd = Empty,
        id = Empty,
        outcome = Empty,
        duration_us = Empty
    )
}

/// Records the outcome on the call's span, logs a refusal with its reason,
/// and returns the reply body.
fn finish(
    window: &str,
    span: &tracing::Span,
    started: Instant,
    result: Result<Vec<u8>, CallError>,
) -> Vec<u8> {
    let duration_us = started.elapsed().as_micros() as u64;
    span.record("duration_us", duration_us);
    match result {
        Ok(ok) => {
            span.record("outcome", "ok");
            ok
        }
        Err(e) => {
            span.record("outcome", e.code());
            match e {
                CallError::App(_) => {
                    tracing::info!(parent: span, code = e.code(), "call returned an app error")
                }
                _ if e.is_refusal() => {
                    // The span carries the command and the call id.
                    if super::refusals::count(window, e.code()) {
                        tracing::warn!(target: super::refusals::TARGET, parent: span, code = e.code(), reason = %e.detail(), "call rejected")
                    }
                }
                _ => {
                    tracing::error!(parent: span, code = e.code(), reason = %e.detail(), "call failed")
                }
            }
            error_body(&e)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ipc::command::{AppPaths, NoArgs};
    use crate::isolation::envelope::seal;

    #[derive(serde::Deserialize)]
    struct Say {
        text: String,
    }

    #[derive(serde::Deserialize)]
    struct Stream {
        progress: crate::Channel<u32>,
    }

    #[derive(serde::Deserialize)]
    struct Parts {
        a: crate::Bytes,
        b: crate::Bytes,
        note: String,
    }

    /// A core with `ping` (answers at once), `say` (returns its `text`),
    /// `slow` (answers after 50 ms) and `boom` (panics), and the cipher that
    /// seals for it.
    pub(crate) fn core_with_key() -> (Arc<Core>, crate::isolation::key::Cipher) {
        let session = Arc::new(Session::new());
        let cipher = session
            .take_key()
            .expect("fresh session has a key")
            .cipher();
        let commands = Commands::new()
            .asynchronous("ping", |_: NoArgs, _| async { Ok::<_, ()>("pong") })
            .sync("say", |a: Say, _| Ok::<_, ()>(a.text))
            .sync("parts", |p: Parts, _| {
                Ok::<_, ()>(format!("{:?}|{:?}|{}", &p.a[..], &p.b[..], p.note.len()))
            })
            .sync("stream", |a: Stream, _| {
                a.progress.send(&1).map_err(|e| e.to_string())?;
                a.progress.send(&2).map_err(|e| e.to_string())?;
                Ok::<_, String>("streamed")
            })
            .asynchronous("slow", |_: NoArgs, _| async {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Ok::<_, ()>("late")
            })
            .asynchronous("boom", |_: NoArgs, _| async {
                if true {
                    panic!("boom");
                }
                Ok::<(), ()>(())
            });
        let pusher = Arc::new(crate::ipc::push::Pusher::new(
            Arc::new(crate::ipc::transport::reply::ReplySink::new(|| {})),
            Arc::clone(&session),
        ));
        let core = Core {
            session,
            pusher: Arc::clone(&pusher),
            blobs: Arc::new(crate::ipc::wire::bytes::BlobStore::new(
                std::time::Duration::from_secs(60),
                1 << 30,
            )),
            commands,
            allowed: None,
            max_envelope_bytes: 1 << 20,
            rate: None,
            pending: None,
            ctx: CallContext {
                app: Arc::new(AppPaths {
                    data_dir: "/nonexistent".into(),
                }),
                window: Arc::from("main"),
                handle: crate::ipc::push::AppHandle {
                    windows: Arc::new(crate::ipc::windows::Windows::new(
                        Default::default(),
                        8,
                        Default::default(),
                    )),
                },
                pusher,
                epoch: 0,
            },
        };
        (Arc::new(core), cipher)
    }

    fn run(core: &Arc<Core>, body: Vec<u8>, routing: Option<u64>) -> serde_json::Value {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let run = |t| drop(rt.spawn(t));
        dispatch(core, run, body, routing, move |b| {
            tx.send(b).unwrap();
        });
        let body = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    #[test]
    fn a_sealed_call_is_answered() {
        let (core, c) = core_with_key();
        let env = seal(&c, 1, br#"{"id":5,"cmd":"ping","args":{}}"#);
        assert_eq!(run(&core, env, Some(5))["ok"], "pong");
    }

    #[test]
    fn routing_id_that_is_not_the_sealed_id_is_refused() {
        let (core, c) = core_with_key();
        let env = seal(&c, 1, br#"{"id":5,"cmd":"ping","args":{}}"#);
        assert_eq!(run(&core, env, Some(6))["err"]["code"], "bad_call");
    }

    /// A call of `parts` with blobs `a` and `b` and a `note` of `note_len`
    /// characters, framed as the isolation frame frames it.
    fn parts_call(a: &[u8], b: &[u8], note_len: usize, markers: (u32, u32)) -> Vec<u8> {
        let json = format!(
            r#"{{"id":7,"cmd":"parts","args":{{"a":{{"__moatBytes":{}}},"b":{{"__moatBytes":{}}},"note":"{}"}}}}"#,
            markers.0,
            markers.1,
            "n".repeat(note_len)
        );
        crate::ipc::wire::bytes::frame(json.as_bytes(), &[a.to_vec(), b.to_vec()])
    }

    /// Whether the largest blob takes the opened body's buffer (larger than
    /// the JSON) or is copied out (the JSON is larger), each blob reaches
    /// the command whole and in its place, and the checks on markers hold.
    #[test]
    fn a_calls_bytes_arrive_whole_whichever_part_is_larger() {
        let (core, c) = core_with_key();
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let expect = |a: &[u8], b: &[u8], n: usize| format!("{a:?}|{b:?}|{n}");
        for (counter, note_len) in [(1, 3), (2, 300_000)] {
            let env = seal(&c, counter, &parts_call(&[1, 2, 3], &big, note_len, (0, 1)));
            assert_eq!(
                run(&core, env, Some(7))["ok"],
                expect(&[1, 2, 3], &big, note_len)
            );
        }
        // Swapped markers: each blob still goes where its marker names it.
        let env = seal(&c, 3, &parts_call(&big, &[9], 0, (1, 0)));
        assert_eq!(run(&core, env, Some(7))["ok"], expect(&[9], &big, 0));
        // A blob named twice (so the other is left over), the larger one
        // moved or not.
        for (counter, note_len) in [(4, 0), (5, 300_000)] {
            let env = seal(&c, counter, &parts_call(&[1], &big, note_len, (1, 1)));
            let r = run(&core, env, Some(7));
            assert_eq!(r["err"]["code"], "bad_args", "{r}");
        }
        // A blob list that lies about its lengths.
        let mut cut = parts_call(&[1], &big, 0, (0, 1));
        cut.pop();
        let r = run(&core, seal(&c, 6, &cut), Some(7));
        assert_eq!(r["err"]["code"], "bad_call", "{r}");
        assert_eq!(r["err"]["message"], "envelope does not contain a call");
    }

    /// Dispatches sealed pings `ids` to a runtime that runs nothing yet;
    /// returns the codes delivered before it ran (calls refused as they
    /// arrived), then those after.
    fn arrive(
        core: &Arc<Core>,
        c: &crate::isolation::key::Cipher,
        ids: std::ops::RangeInclusive<u64>,
    ) -> (Vec<String>, Vec<String>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        for id in ids {
            let env = seal(
                c,
                id,
                format!(r#"{{"id":{id},"cmd":"ping","args":{{}}}}"#).as_bytes(),
            );
            let tx = tx.clone();
            dispatch(
                core,
                |t| drop(rt.spawn(t)),
                env,
                Some(id),
                move |b| {
                    tx.send(b).unwrap();
                },
            );
        }
        let code = |b: Vec<u8>| {
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            v["err"]["code"].as_str().unwrap_or("ok").to_owned()
        };
        let before: Vec<String> = rx.try_iter().map(code).collect();
        rt.block_on(async {
            for _ in 0..100 {
                tokio::task::yield_now().await;
            }
        });
        drop(tx);
        let after = rx.try_iter().map(code).collect();
        (before, after)
    }

    fn with_rate(core: Arc<Core>, per_hour: u32) -> Arc<Core> {
        let mut core = Arc::try_unwrap(core).ok().unwrap();
        core.rate = Some(Arc::new(crate::ipc::rate::RateLimit::new(
            per_hour,
            std::time::Duration::from_secs(3600),
        )));
        Arc::new(core)
    }

    #[test]
    fn calls_past_the_rate_are_refused_as_they_arrive_not_when_they_run() {
        // A core slower than the page (here: one that has run nothing yet)
        // must not let a burst through by taking tokens late.
        let (core, c) = core_with_key();
        let core = with_rate(core, 3);
        let (before, after) = arrive(&core, &c, 1..=5);
        assert_eq!(before, ["rate_limited", "rate_limited"]);
        assert_eq!(after, ["ok", "ok", "ok"]);
    }

    #[test]
    fn sealed_names_are_matched_exactly_and_lone_surrogates_refused() {
        // Only a hook could seal these (the frame refuses lone surrogates
        // from the page): the core matches names byte for byte and cannot
        // decode a lone surrogate, whichever field holds it.
        let (core, c) = core_with_key();
        let cases = [
            (r#""PING""#, "{}", "unknown_command"),
            (r#""ping ""#, "{}", "unknown_command"),
            (r#""ping\u0000""#, "{}", "unknown_command"),
            (r#""\uff50\uff49\uff4e\uff47""#, "{}", "unknown_command"),
            (r#""ping\ud800""#, "{}", "bad_call"),
            (r#""say""#, r#"{"text":"\udc00"}"#, "bad_args"),
            (r#""say""#, r#"{"text\ud800":"x"}"#, "bad_args"),
        ];
        for (n, (cmd, args, code)) in cases.iter().enumerate() {
            let id = n as u64 + 1;
            let plain = format!(r#"{{"id":{id},"cmd":{cmd},"args":{args}}}"#);
            let env = seal(&c, id, plain.as_bytes());
            assert_eq!(run(&core, env, None)["err"]["code"], *code, "{plain}");
        }
        let plain = r#"{"id":99,"cmd":"say","args":{"text":"\ud83d\ude00"}}"#;
        let env = seal(&c, 99, plain.as_bytes());
        assert_eq!(run(&core, env, None)["ok"], "\u{1f600}", "a pair is fine");
    }

    #[test]
    fn a_reply_says_how_many_channels_the_call_opened() {
        let (core, c) = core_with_key();
        let env = seal(
            &c,
            1,
            br#"{"id":1,"cmd":"stream","args":{"progress":{"__moatChannel":3}}}"#,
        );
        let reply = run(&core, env, None);
        assert_eq!(reply["ok"], "streamed");
        assert_eq!(reply["channels"], 1);
        // Refused before its arguments were read: no channel, no count.
        let env = seal(
            &c,
            2,
            br#"{"id":2,"cmd":"nope","args":{"progress":{"__moatChannel":4}}}"#,
        );
        let reply = run(&core, env, None);
        assert_eq!(reply["err"]["code"], "unknown_command");
        assert!(reply.get("channels").is_none(), "{reply}");
        let head = |channels, blobs| Head { channels, blobs };
        assert_eq!(
            head(2, 0).before(br#"{"ok":1}"#.to_vec()),
            br#"{"channels":2,"ok":1}"#
        );
        assert_eq!(
            head(1, 3).before(br#"{"ok":1}"#.to_vec()),
            br#"{"channels":1,"blobs":3,"ok":1}"#
        );
        assert_eq!(head(0, 2).before(b"{}".to_vec()), br#"{"blobs":2}"#);
        assert_eq!(head(0, 0).before(b"{}".to_vec()), b"{}");
    }

    #[test]
    fn panic_in_the_first_poll_is_handler_failed() {
        let (core, c) = core_with_key();
        let env = seal(&c, 1, br#"{"id":1,"cmd":"boom","args":{}}"#);
        assert_eq!(run(&core, env, None)["err"]["code"], "handler_failed");
        let env = seal(&c, 2, br#"{"id":2,"cmd":"ping","args":{}}"#);
        assert_eq!(run(&core, env, None)["ok"], "pong", "still answering");
    }

    #[test]
    fn sealed_arguments_that_are_not_an_object_are_bad_args() {
        // Only a hook can seal these (the frame refuses them from the page):
        // the core refuses them all the same.
        let (core, c) = core_with_key();
        for (n, args) in ["[]", "null", "\"x\"", "[{}]"].iter().enumerate() {
            let id = n as u64 + 1;
            let plain = format!(r#"{{"id":{id},"cmd":"ping","args":{args}}}"#);
            let env = seal(&c, id, plain.as_bytes());
            assert_eq!(run(&core, env, None)["err"]["code"], "bad_args", "{args}");
        }
    }

    #[test]
    fn empty_body_never_reaches_a_handler() {
        let (core, _) = core_with_key();
        assert_eq!(
            run(&core, Vec::new(), None)["err"]["code"],
            "not_an_envelope"
        );
    }
}
