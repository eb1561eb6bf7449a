//! Dedicated commands: the app's Rust functions the page may call by name.
//!
//! Each command has a typed argument struct (deserialized from the page's
//! JSON, unknown keys refused) and a typed result. Sync handlers run on
//! tokio's blocking pool and async ones on its workers, so a slow command
//! blocks neither the UI thread nor other calls.

use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::wire::args;
use super::wire::error::CallError;
use crate::scope::error::ScopeError;

/// The arguments of a command that takes none. Any key sent is refused.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// What a handler may know about the call and the app, beyond its arguments.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub(crate) app: Arc<AppPaths>,
    pub(crate) window: Arc<str>,
    pub(crate) handle: super::push::AppHandle,
    /// The call's window's pusher.
    pub(crate) pusher: Arc<super::push::Pusher>,
    /// The page load the call came from (set per call by the core).
    pub(crate) epoch: u64,
}

#[derive(Debug)]
pub(crate) struct AppPaths {
    pub(crate) data_dir: PathBuf,
}

impl CallContext {
    /// The app's data directory, `$XDG_DATA_HOME/<identifier>/`. It may not
    /// exist yet; create it before writing.
    pub fn data_dir(&self) -> &Path {
        &self.app.data_dir
    }

    /// The label of the window the call came from.
    pub fn window(&self) -> &str {
        &self.window
    }

    /// Sends `payload` to every listener of the event `name` in the page
    /// load this call came from (`moat.listen(name, handler)`). Once that
    /// page is gone (a reload, a crash) it is `Err(PushError::PageGone)`,
    /// never an event in the page loaded since, nor in another window;
    /// [`Self::app_handle`] emits to whatever pages are loaded.
    pub fn emit<T: Serialize>(
        &self,
        name: &str,
        payload: &T,
    ) -> Result<(), super::push::PushError> {
        self.pusher.emit(Some(self.epoch), name, payload)
    }

    /// The page load the call came from.
    #[cfg_attr(
        not(any(feature = "api-shell", feature = "api-fs")),
        allow(
            dead_code,
            reason = "the page load is read by the fs and shell built-ins"
        )
    )]
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A handle for pushing to the app's windows after this call, from any
    /// thread.
    pub fn app_handle(&self) -> super::push::AppHandle {
        self.handle.clone()
    }

    /// How many requests the call's window has refused so far, by code
    /// (`decrypt_failed`, `scope_denied`, `navigation_refused`, …), for the
    /// life of the process. Each refusal is also a `tracing` event under the
    /// target `moat::refusal`, with its window.
    pub fn refusal_counts(&self) -> std::collections::BTreeMap<String, u64> {
        super::refusals::counts(&self.window)
    }
}

/// The JSON reply body, `{"ok": …}`, or a [`CallError`].
pub(crate) type CallResult = Result<Vec<u8>, CallError>;
pub(crate) type CallFuture = Pin<Box<dyn Future<Output = CallResult> + Send>>;

/// A command with its types erased. `call` decodes the arguments before it
/// returns, so a `bad_args` error costs no task.
pub(crate) trait Handler: Send + Sync {
    fn call(&self, args: &str, ctx: CallContext) -> CallFuture;
}

/// A set of commands, built in one place or several and merged.
///
/// ```no_run
/// # use moat::{Commands, NoArgs};
/// #[derive(serde::Deserialize)]
/// struct Greet { name: String }
///
/// let commands = Commands::new()
///     .sync("greet", |a: Greet, _ctx| Ok::<_, String>(format!("Hello, {}!", a.name)))
///     .asynchronous("ping", |_: NoArgs, _ctx| async { Ok::<_, String>("pong") });
/// ```
#[derive(Default, Clone)]
pub struct Commands {
    pub(crate) handlers: BTreeMap<String, Arc<dyn Handler>>,
    /// Names registered twice; the builder refuses to start with any.
    pub(crate) duplicates: Vec<String>,
    /// The types of commands registered with them, as TypeScript.
    #[cfg(feature = "typescript")]
    types: BTreeMap<String, super::typescript::Described>,
}

impl std::fmt::Debug for Commands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commands")
            .field("names", &self.handlers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Commands {
    /// No commands.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a synchronous command. It runs on a blocking-pool thread.
    /// `Err(e)` reaches the page as code `app` with `e` serialised in `data`.
    pub fn sync<A, R, E, F>(self, name: &str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        E: Serialize + 'static,
        F: Fn(A, &CallContext) -> Result<R, E> + Send + Sync + 'static,
    {
        self.insert(name, Arc::new(SyncHandler(Arc::new(f), PhantomData)))
    }

    /// Registers an asynchronous command. Its future is first polled on
    /// the thread small calls start on, then on the tokio runtime's
    /// workers (all confined by the kernel, never the UI thread). Like any
    /// async code it must not block: a blocking first poll holds up every
    /// small call behind it. Put blocking work in [`Commands::sync`] or
    /// `tokio::task::spawn_blocking`.
    pub fn asynchronous<A, R, E, F, Fut>(self, name: &str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        E: Serialize + 'static,
        F: Fn(A, CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
    {
        self.insert(name, Arc::new(AsyncHandler(f, PhantomData)))
    }

    /// Registers a built-in function's command (`name` is its
    /// `api::Builtin`'s). It runs like
    /// [`Commands::sync`], but its errors are Moat's own, with stable codes
    /// (`scope_denied`, `not_found`, …), not the app's `app` code.
    #[cfg_attr(
        not(any(feature = "api-fs", feature = "api-shell", feature = "api-http")),
        allow(dead_code)
    )]
    pub(crate) fn builtin<A, R, F>(self, name: &'static str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        F: Fn(A, &CallContext) -> Result<R, ScopeError> + Send + Sync + 'static,
    {
        self.insert(name, Arc::new(SyncHandler(Arc::new(f), PhantomData)))
    }

    /// Registers a built-in function's async command (see
    /// [`Commands::builtin`] and [`Commands::asynchronous`]).
    #[cfg_attr(
        not(feature = "api-shell"),
        allow(dead_code, reason = "only shell.spawn is an async built-in")
    )]
    pub(crate) fn builtin_async<A, R, F, Fut>(self, name: &'static str, f: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        R: Serialize + 'static,
        F: Fn(A, CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ScopeError>> + Send + 'static,
    {
        self.insert(name, Arc::new(AsyncHandler(f, PhantomData)))
    }

    /// [`Commands::sync`], with the command's types recorded for
    /// [`Commands::typescript`] (derive `ts_rs::TS` on `A`, `R` and `E`).
    #[cfg(feature = "typescript")]
    pub fn sync_typed<A, R, E, F>(mut self, name: &str, f: F) -> Self
    where
        A: DeserializeOwned + ts_rs::TS + Send + 'static,
        R: Serialize + ts_rs::TS + 'static,
        E: Serialize + ts_rs::TS + 'static,
        F: Fn(A, &CallContext) -> Result<R, E> + Send + Sync + 'static,
    {
        self.types
            .insert(name.to_owned(), super::typescript::describe::<A, R, E>());
        self.sync(name, f)
    }

    /// [`Commands::asynchronous`], with the command's types recorded for
    /// [`Commands::typescript`].
    #[cfg(feature = "typescript")]
    pub fn asynchronous_typed<A, R, E, F, Fut>(mut self, name: &str, f: F) -> Self
    where
        A: DeserializeOwned + ts_rs::TS + Send + 'static,
        R: Serialize + ts_rs::TS + 'static,
        E: Serialize + ts_rs::TS + 'static,
        F: Fn(A, CallContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, E>> + Send + 'static,
    {
        self.types
            .insert(name.to_owned(), super::typescript::describe::<A, R, E>());
        self.asynchronous(name, f)
    }

    /// The TypeScript declarations of these commands: each one's
    /// arguments, result and error (`unknown` for one registered without
    /// types), and `Invoke`, `window.moat.invoke` typed by them. Built-in
    /// functions are typed in `isolation-js/moat.d.ts`.
    #[cfg(feature = "typescript")]
    pub fn typescript(&self) -> String {
        let names = self.handlers.keys().filter(|n| !n.contains('.'));
        super::typescript::render(names, &self.types)
    }

    /// Adds every command of `other`, so a fork can keep its commands in its
    /// own module. A name present in both is an error at startup.
    pub fn merge(mut self, other: Commands) -> Self {
        #[cfg(feature = "typescript")]
        self.types.extend(other.types);
        self.duplicates.extend(other.duplicates);
        for (name, h) in other.handlers {
            if self.handlers.insert(name.clone(), h).is_some() {
                self.duplicates.push(name);
            }
        }
        self
    }

    fn insert(mut self, name: &str, h: Arc<dyn Handler>) -> Self {
        if self.handlers.insert(name.to_owned(), h).is_some() {
            self.duplicates.push(name.to_owned());
        }
        self
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<dyn Handler>> {
        self.handlers.get(name)
    }
}

#[derive(Serialize)]
struct Ok<'a, R> {
    ok: &'a R,
}

/// Cap on the capacity guessed from the arguments.
const MAX_SIZE_HINT: usize = 64 << 20;

/// A command's error, as the call error the page gets: the one conversion
/// for app commands and built-ins alike.
pub(crate) trait IntoCallError {
    fn into_call_error(self) -> CallError;
}

/// An app command's own error value reaches the page verbatim as `data`,
/// with code `app`: the app decides what it reveals.
impl<E: Serialize> IntoCallError for E {
    fn into_call_error(self) -> CallError {
        match serde_json::to_value(&self) {
            Result::Ok(v) => CallError::App(v),
            Err(se) => CallError::HandlerFailed(format!("error did not serialise: {se}")),
        }
    }
}

/// A built-in's refusal keeps its own code (`scope_denied`, `not_found`, …).
impl IntoCallError for ScopeError {
    fn into_call_error(self) -> CallError {
        CallError::Scope(self)
    }
}

/// Serialises the handler's outcome. `size_hint` is the size of the call's
/// arguments: a command given megabytes often answers with megabytes (echo,
/// transform, save-and-return), and growing a buffer by doubling would copy
/// and fault in the reply about twice over.
fn finish<R: Serialize + 'static, E: IntoCallError>(
    result: Result<R, E>,
    size_hint: usize,
) -> CallResult {
    let r = result.map_err(IntoCallError::into_call_error)?;
    let mut slot = Some(r);
    // A plain string as the whole result: its reply made in its own buffer.
    if let Some(text) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<String>>() {
        if let Some(s) = text.take() {
            match plain_string_reply(s) {
                Ok(body) => return Result::Ok(body),
                Err(s) => *text = Some(s),
            }
        }
    }
    // Bytes as the whole result: framed in the handler's own buffer, not
    // in a copy that serialising through a reference would make.
    if let Some(bytes) = (&mut slot as &mut dyn std::any::Any)
        .downcast_mut::<Option<super::wire::bytes::Bytes>>()
        .and_then(Option::take)
    {
        return Result::Ok(super::wire::bytes::frame_one(
            super::wire::bytes::ONE_BLOB_REPLY,
            bytes.0,
        ));
    }
    let Some(r) = slot else {
        return Err(CallError::HandlerFailed("result taken twice".into()));
    };
    let mut buf = super::large::Growing(super::large::with_capacity(
        size_hint.min(MAX_SIZE_HINT) + 16,
    ));
    // The `Bytes` in the result leave as blobs, the body framed with them.
    let (written, blobs) =
        super::wire::bytes::serializing(|| serde_json::to_writer(&mut buf, &Ok { ok: &r }));
    written.map_err(|e| CallError::HandlerFailed(format!("result did not serialise: {e}")))?;
    let buf = buf.0;
    if blobs.is_empty() {
        Result::Ok(buf)
    } else {
        Result::Ok(super::wire::bytes::frame(&buf, &blobs))
    }
}

/// `{"ok":"<s>"}` for a string that JSON writes as is (no `"`, `\\` or
/// control character), byte for byte what serde_json writes, made in `s`'s
/// own buffer ([`super::large::prepend`]). `Err(s)` for any other string.
/// serde_json checks a string one byte at a time (~10 ms for a 10 MiB reply
/// here); this check runs over whole chunks, which the compiler vectorises.
fn plain_string_reply(s: String) -> Result<Vec<u8>, String> {
    let needs_escape = s.as_bytes().chunks(64).any(|chunk| {
        chunk.iter().fold(false, |acc, &b| {
            acc | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    });
    if needs_escape {
        return Err(s);
    }
    let mut body = s.into_bytes();
    super::large::prepend(&mut body, br#"{"ok":""#, 2);
    body.extend_from_slice(br#""}"#);
    Ok(body)
}

/// A sync command (the app's or a built-in's): arguments decoded before the
/// task starts, so `bad_args` costs no thread; the handler on the blocking
/// pool.
struct SyncHandler<F, A, E>(Arc<F>, PhantomData<fn() -> (A, E)>);

impl<A, R, E, F> Handler for SyncHandler<F, A, E>
where
    A: DeserializeOwned + Send + 'static,
    R: Serialize + 'static,
    E: IntoCallError + 'static,
    F: Fn(A, &CallContext) -> Result<R, E> + Send + Sync + 'static,
{
    fn call(&self, json: &str, ctx: CallContext) -> CallFuture {
        let decoded = args::decode::<A>(json);
        let hint = json.len();
        let f = Arc::clone(&self.0);
        Box::pin(async move {
            let a = decoded.map_err(CallError::BadArgs)?;
            match tokio::task::spawn_blocking(move || finish(f(a, &ctx), hint)).await {
                Result::Ok(r) => r,
                Err(e) => Err(CallError::HandlerFailed(join_error(e))),
            }
        })
    }
}

/// An async command (the app's or a built-in's): arguments decoded before
/// the future is made.
struct AsyncHandler<F, A, E>(F, PhantomData<fn() -> (A, E)>);

impl<A, R, E, F, Fut> Handler for AsyncHandler<F, A, E>
where
    A: DeserializeOwned + Send + 'static,
    R: Serialize + 'static,
    E: IntoCallError + 'static,
    F: Fn(A, CallContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
{
    fn call(&self, json: &str, ctx: CallContext) -> CallFuture {
        let hint = json.len();
        match args::decode::<A>(json) {
            Result::Ok(a) => {
                let fut = (self.0)(a, ctx);
                Box::pin(async move { finish(fut.await, hint) })
            }
            Err(e) => Box::pin(std::future::ready(Err(CallError::BadArgs(e)))),
        }
    }
}

/// Describes a failed task for the log. A panic's payload is the app's own
/// message; it is logged, never sent to the page.
pub(crate) fn join_error(e: tokio::task::JoinError) -> String {
    if e.is_panic() {
        format!("handler panicked: {}", panic_message(&*e.into_panic()))
    } else {
        "handler task was cancelled".into()
    }
}

/// The message of a panic payload, if it has one.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json writes for `{"ok": s}`.
    fn reference(s: &str) -> Vec<u8> {
        let mut buf = Vec::new();
        serde_json::to_writer(&mut buf, &Ok { ok: &s }).unwrap();
        buf
    }

    #[test]
    fn a_bytes_result_is_framed_as_serialising_it_would_frame_it() {
        let blob: Vec<u8> = (0..=255).cycle().take(3000).collect();
        let fast = finish::<_, ScopeError>(
            Result::Ok(super::super::wire::bytes::Bytes(blob.clone())),
            0,
        )
        .unwrap();
        // The general path, for a result that holds the same bytes.
        let (written, blobs) = super::super::wire::bytes::serializing(|| {
            let mut buf = Vec::new();
            serde_json::to_writer(
                &mut buf,
                &Ok {
                    ok: &super::super::wire::bytes::Bytes(blob.clone()),
                },
            )
            .map(|()| buf)
        });
        let slow = super::super::wire::bytes::frame(&written.unwrap(), &blobs);
        assert_eq!(fast, slow);
        let (json, got) = super::super::wire::bytes::unframe(&fast).unwrap();
        assert_eq!(
            (json, got),
            (
                br#"{"ok":{"__moatBytes":0}}"#.as_slice(),
                vec![blob.as_slice()]
            )
        );
    }

    #[test]
    fn string_replies_are_byte_for_byte_what_serde_json_writes() {
        let mut cases: Vec<String> = [
            "",
            "plain",
            "é ü ✓ 🦀",
            "\u{2028}\u{2029}",
            "\u{7f}",
            "/</script>",
            "\"",
            "\\",
            "\n",
            "\t",
            "\0",
            "\u{1f}",
            "a\"b",
            "tail\\",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // An escape at, around and past the 64-byte chunk edges.
        for at in [0, 1, 62, 63, 64, 65, 127, 128, 1000] {
            for esc in ['"', '\\', '\n', '\u{1}'] {
                let mut s = "x".repeat(1100);
                s.insert(at, esc);
                cases.push(s);
            }
        }
        cases.push("abcdefghijklmnop".repeat(100_000));
        for s in cases {
            let fast = finish::<String, ()>(Result::Ok(s.clone()), 0).unwrap();
            assert_eq!(fast, reference(&s), "{:?}", &s[..s.len().min(80)]);
            let plain = !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\');
            assert_eq!(
                plain_string_reply(s.clone()).is_ok(),
                plain,
                "{:?}",
                &s[..s.len().min(80)]
            );
        }
    }
}
