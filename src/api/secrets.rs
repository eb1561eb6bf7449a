//! `secrets.*`: named secrets in the user's keyring, through the
//! freedesktop Secret Service over D-Bus (gnome-keyring, KWallet), with
//! the session encrypted (`dh-ietf1024-sha256-aes128-cbc-pkcs7`).
//!
//! Each item carries the app's identifier (`application`) and the secret's
//! name (`moat-secret`) and kind (`moat-kind`: text or bytes) as
//! attributes, and `<title>: <name>` as its label;
//! lookups match both attributes, so an app never reaches another app's
//! items. A window reaches the names its `allowlist.secrets` lists. Values
//! are never logged (nor in refusals or the audit), and the core's copies
//! are zeroized once used. No Secret Service, or a locked collection the
//! user does not unlock, is `unavailable`: never a fallback to a file.
//!
//! The keyring is reached from one thread of its own, started before the
//! command threads are confined (the session bus may be an abstract
//! socket, which Landlock's scoping refuses): like `confine::broker`, it
//! acts only for a call that passed the window's checks.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use secret_service::{EncryptionType, SecretService};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use super::Builtin;
use crate::ipc::command::Commands;
use crate::ipc::wire::bytes::Bytes;
use crate::scope::error::ScopeError;

/// The content type a text secret is stored with.
const TEXT: &str = "text/plain; charset=utf8";
/// The content type a byte secret is stored with.
const BYTES: &str = "application/octet-stream";
/// The attribute that says whether an item holds `text` or `bytes`.
const KIND: &str = "moat-kind";

/// A secret's value, zeroized when dropped.
struct Value {
    bytes: Zeroizing<Vec<u8>>,
    text: bool,
}

enum Job {
    Get(String, oneshot::Sender<Result<Option<Value>, ScopeError>>),
    Set(String, Value, oneshot::Sender<Result<(), ScopeError>>),
    Delete(String, oneshot::Sender<Result<bool, ScopeError>>),
}

/// The app's way to its keyring: one thread of its own.
pub(crate) struct Keyring {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring")
    }
}

impl Keyring {
    /// Starts the keyring's thread for the app `identifier` (`title` names
    /// its items). Call before the command threads exist: it must not be
    /// one of them.
    pub(crate) fn start(identifier: &str, title: &str) -> Arc<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let (app, title) = (identifier.to_owned(), title.to_owned());
        let spawned = std::thread::Builder::new()
            .name("moat-keyring".into())
            .spawn(move || serve(&app, &title, &rx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "the keyring's thread could not start; secrets.* will be unavailable");
        }
        Arc::new(Self {
            jobs: Mutex::new(tx),
        })
    }

    async fn ask<T>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, ScopeError>>) -> Job,
    ) -> Result<T, ScopeError> {
        let (tx, rx) = oneshot::channel();
        let sent = self
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job(tx));
        if sent.is_err() {
            return Err(unavailable("the keyring's thread is not running".into()));
        }
        rx.await
            .unwrap_or_else(|_| Err(unavailable("the keyring's thread ended".into())))
    }
}

fn unavailable(reason: String) -> ScopeError {
    ScopeError::Unavailable {
        what: "the keyring",
        reason,
    }
}

/// The keyring's thread: each job on a fresh connection.
fn serve(app: &str, title: &str, jobs: &mpsc::Receiver<Job>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "the keyring's thread has no runtime");
            return;
        }
    };
    while let Ok(job) = jobs.recv() {
        rt.block_on(run(app, title, job));
    }
}

async fn run(app: &str, title: &str, job: Job) {
    match job {
        Job::Get(name, reply) => {
            let _ = reply.send(within(get(app, &name)).await);
        }
        Job::Set(name, value, reply) => {
            let _ = reply.send(within(set(app, title, &name, &value)).await);
        }
        Job::Delete(name, reply) => {
            let _ = reply.send(within(delete(app, &name)).await);
        }
    }
}

/// How long the keyring may take to answer, an unlock prompt included;
/// after it, the call is `unavailable` and the thread serves the next.
const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);

async fn within<T>(
    job: impl std::future::Future<Output = Result<T, ScopeError>>,
) -> Result<T, ScopeError> {
    tokio::time::timeout(ANSWER_WITHIN, job)
        .await
        .unwrap_or_else(|_| {
            Err(unavailable(format!(
                "no answer within {} s (an unlock prompt left unanswered?)",
                ANSWER_WITHIN.as_secs()
            )))
        })
}

/// The error of the Secret Service, as the page gets it: its absence, a
/// locked keyring or a dismissed prompt is `unavailable`; the rest fails.
fn service_error(e: secret_service::Error) -> ScopeError {
    use secret_service::Error as E;
    match e {
        E::Unavailable | E::Locked | E::Prompt | E::PromptDisconnected | E::Zbus(_) => {
            unavailable(e.to_string())
        }
        other => ScopeError::Io {
            requested: "the keyring".into(),
            error: std::io::Error::other(other.to_string()),
        },
    }
}

fn attributes<'a>(app: &'a str, name: &'a str) -> HashMap<&'a str, &'a str> {
    HashMap::from([("application", app), ("moat-secret", name)])
}

async fn connect() -> Result<SecretService<'static>, ScopeError> {
    SecretService::connect(EncryptionType::Dh)
        .await
        .map_err(service_error)
}

/// The items of `app` named `name`, unlocked ones first.
async fn items<'a>(
    ss: &'a SecretService<'_>,
    app: &str,
    name: &str,
) -> Result<Vec<secret_service::Item<'a>>, ScopeError> {
    let found = ss
        .search_items(attributes(app, name))
        .await
        .map_err(service_error)?;
    Ok(found.unlocked.into_iter().chain(found.locked).collect())
}

async fn get(app: &str, name: &str) -> Result<Option<Value>, ScopeError> {
    let ss = connect().await?;
    let found = items(&ss, app, name).await?;
    let Some(item) = found.first() else {
        return Ok(None);
    };
    item.ensure_unlocked().await.map_err(service_error)?;
    let bytes = Zeroizing::new(item.get_secret().await.map_err(service_error)?);
    // The Secret Service keeps no content type (gnome-keyring answers
    // text/plain for all): the kind is an attribute of the item.
    let text = item
        .get_attributes()
        .await
        .map_err(service_error)?
        .get(KIND)
        .is_none_or(|k| k == "text");
    Ok(Some(Value { bytes, text }))
}

async fn set(app: &str, title: &str, name: &str, value: &Value) -> Result<(), ScopeError> {
    let ss = connect().await?;
    let collection = ss.get_default_collection().await.map_err(service_error)?;
    collection.ensure_unlocked().await.map_err(service_error)?;
    let label = format!("{title}: {name}");
    let (kind, content) = if value.text {
        ("text", TEXT)
    } else {
        ("bytes", BYTES)
    };
    let mut attrs = attributes(app, name);
    attrs.insert(KIND, kind);
    // Replaces the item of the same kind; one of the other kind goes after
    // the new one is in, so the name never has no value.
    collection
        .create_item(&label, attrs, &value.bytes, true, content)
        .await
        .map_err(service_error)?;
    for item in items(&ss, app, name).await? {
        let other = item
            .get_attributes()
            .await
            .map_err(service_error)?
            .get(KIND)
            .is_some_and(|k| k != kind);
        if other {
            item.delete().await.map_err(service_error)?;
        }
    }
    Ok(())
}

async fn delete(app: &str, name: &str) -> Result<bool, ScopeError> {
    let ss = connect().await?;
    let found = items(&ss, app, name).await?;
    for item in &found {
        item.ensure_unlocked().await.map_err(service_error)?;
        item.delete().await.map_err(service_error)?;
    }
    Ok(!found.is_empty())
}

/// What a window reaches of the keyring.
#[derive(Debug)]
pub(crate) struct Access {
    pub(crate) keyring: Arc<Keyring>,
    pub(crate) read: Vec<String>,
    pub(crate) write: Vec<String>,
}

impl Access {
    fn may(&self, name: &str, list: &[String], how: &'static str) -> Result<(), ScopeError> {
        if list.iter().any(|n| n == name) {
            Ok(())
        } else {
            Err(ScopeError::KeyDenied {
                key: name.to_owned(),
                what: "secret",
                how,
            })
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NameArg {
    name: String,
}

/// `{ name, text }` or `{ name, bytes }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetArgs {
    name: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    bytes: Option<Bytes>,
}

/// A secret as the page gets it: text, or bytes.
#[derive(Serialize)]
#[serde(untagged)]
enum Out {
    Text(Wiped),
    Bytes(Bytes),
}

/// Text that is wiped from memory when dropped; serialises as a string.
struct Wiped(Zeroizing<String>);

impl Serialize for Wiped {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// The keyring's commands for a window with `access`.
pub(super) fn commands(access: Option<Arc<Access>>) -> Commands {
    let Some(access) = access else {
        return Commands::new();
    };
    let (a, b, c) = (Arc::clone(&access), Arc::clone(&access), access);
    Commands::new()
        .builtin_async(Builtin::SecretGet.name(), move |x: NameArg, ctx| {
            let a = Arc::clone(&a);
            async move {
                a.may(&x.name, &a.read, "read")?;
                let found = a.keyring.ask(|r| Job::Get(x.name.clone(), r)).await?;
                tracing::info!(name = %x.name, window = %ctx.window(), found = found.is_some(), "secrets.get");
                Ok(found.map(|v| {
                    if v.text {
                        Out::Text(Wiped(Zeroizing::new(String::from_utf8_lossy(&v.bytes).into_owned())))
                    } else {
                        Out::Bytes(Bytes(v.bytes.to_vec()))
                    }
                }))
            }
        })
        .builtin_async(Builtin::SecretSet.name(), move |x: SetArgs, ctx| {
            let b = Arc::clone(&b);
            async move {
                b.may(&x.name, &b.write, "write")?;
                let value = match (x.text, x.bytes) {
                    (Some(t), None) => Value {
                        bytes: Zeroizing::new(Zeroizing::new(t).as_bytes().to_vec()),
                        text: true,
                    },
                    (None, Some(Bytes(v))) => Value {
                        bytes: Zeroizing::new(v),
                        text: false,
                    },
                    _ => {
                        return Err(ScopeError::ArgDenied {
                            name: Builtin::SecretSet.name().into(),
                            reason: "give `text` or `bytes`, one of them".into(),
                        })
                    }
                };
                b.keyring.ask(|r| Job::Set(x.name.clone(), value, r)).await?;
                tracing::info!(name = %x.name, window = %ctx.window(), "secrets.set");
                Ok(())
            }
        })
        .builtin_async(Builtin::SecretDelete.name(), move |x: NameArg, ctx| {
            let c = Arc::clone(&c);
            async move {
                c.may(&x.name, &c.write, "write")?;
                let was = c.keyring.ask(|r| Job::Delete(x.name.clone(), r)).await?;
                tracing::info!(name = %x.name, window = %ctx.window(), was, "secrets.delete");
                Ok(was)
            }
        })
}
