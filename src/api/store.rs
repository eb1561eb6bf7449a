//! `store.*`: the app's settings, a key–value store of JSON values in
//! `$APPDATA/.store/store.json` (hidden, so no `scope.fs` pattern reaches
//! it), one for the app and shared by its windows; each window reaches the
//! keys its `allowlist.store` names.
//!
//! Durable and never torn: every change writes a new file, `fsync`s it,
//! renames it over the old one and `fsync`s the directory; the file it
//! replaces stays as `store.prev.json` (a second name for it, put in place
//! by a rename). The new file of a write killed before its rename is
//! removed at the next start, once it is a minute old. A file that does not parse
//! at startup stops the app with its name (and the last good copy's): it
//! is never reset to empty. Bounded: keys ([`crate::config::key_ok`]), a
//! value's size, the number of keys and the whole file, each a named limit.
//! A change is pushed to every open window that may read its key, as the
//! event `moat:store-changed` with `{ key }`.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::scope::error::ScopeError;

/// The most bytes one value takes as JSON.
pub(crate) const MAX_VALUE_BYTES: usize = 64 * 1024;
/// The most keys the store holds.
pub(crate) const MAX_KEYS: usize = 1000;
/// The most bytes the whole store takes as JSON.
pub(crate) const MAX_TOTAL_BYTES: usize = 1024 * 1024;

/// Keys a window may read or write: each pattern a key, or a prefix and
/// `*` (checked by the config).
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyPatterns(Vec<String>);

impl KeyPatterns {
    pub(crate) fn new(patterns: &[String]) -> Self {
        Self(patterns.to_vec())
    }

    pub(crate) fn allows(&self, key: &str) -> bool {
        self.0.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => p == key,
        })
    }
}

/// The app's store: its file, and the values it holds.
#[derive(Debug)]
pub(crate) struct Store {
    file: PathBuf,
    prev: PathBuf,
    values: Mutex<BTreeMap<String, serde_json::Value>>,
    /// Each window's readable keys, for the change event.
    readers: BTreeMap<String, KeyPatterns>,
}

impl Store {
    /// Opens the store in `dir` (made at the first write). A file that does not
    /// parse stops startup with its name: never an empty store in its
    /// place.
    pub(crate) fn open(dir: &Path, readers: BTreeMap<String, KeyPatterns>) -> Result<Self, Error> {
        let file = dir.join("store.json");
        let prev = dir.join("store.prev.json");
        let fail = |reason: String| Error::Store {
            file: file.display().to_string(),
            reason,
        };
        let values = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                fail(format!(
                    "{e}; it is left as it is. The copy before its last change is {}",
                    prev.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(fail(e.to_string())),
        };
        sweep_stale_writes(dir);
        Ok(Self {
            file,
            prev,
            values: Mutex::new(values),
            readers,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, serde_json::Value>> {
        // Changed only after the file is written: a poisoned lock holds
        // what the file holds.
        self.values.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn get(&self, key: &str) -> Option<serde_json::Value> {
        self.lock().get(key).cloned()
    }

    pub(crate) fn keys(&self, readable: &KeyPatterns) -> Vec<String> {
        self.lock()
            .keys()
            .filter(|k| readable.allows(k))
            .cloned()
            .collect()
    }

    /// Sets `key` to `value`, durably, within the limits.
    pub(crate) fn set(&self, key: &str, value: serde_json::Value) -> Result<(), ScopeError> {
        let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
        if size > MAX_VALUE_BYTES {
            return Err(limit("store.maxValueBytes", MAX_VALUE_BYTES, size));
        }
        let mut values = self.lock();
        let mut next = values.clone();
        next.insert(key.to_owned(), value);
        if next.len() > MAX_KEYS {
            return Err(limit("store.maxKeys", MAX_KEYS, next.len()));
        }
        self.write(&next)?;
        *values = next;
        Ok(())
    }

    /// Removes `key`, durably; whether it was there.
    pub(crate) fn delete(&self, key: &str) -> Result<bool, ScopeError> {
        let mut values = self.lock();
        if !values.contains_key(key) {
            return Ok(false);
        }
        let mut next = values.clone();
        next.remove(key);
        self.write(&next)?;
        *values = next;
        Ok(true)
    }

    /// Writes `next` as the store, keeping the file it replaces as the
    /// copy before it.
    fn write(&self, next: &BTreeMap<String, serde_json::Value>) -> Result<(), ScopeError> {
        let text = serde_json::to_vec_pretty(next).map_err(|e| self.io(e.into()))?;
        if text.len() > MAX_TOTAL_BYTES {
            return Err(limit("store.maxTotalBytes", MAX_TOTAL_BYTES, text.len()));
        }
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        keep_copy(&self.file, &self.prev).map_err(|e| self.io(e))?;
        durably(&self.file, &text).map_err(|e| self.io(e))
    }

    fn io(&self, error: std::io::Error) -> ScopeError {
        ScopeError::Io {
            requested: "the settings store".into(),
            error,
        }
    }

    /// Tells every open window that may read `key` that it changed.
    pub(crate) fn changed(&self, key: &str, handle: &crate::AppHandle) {
        for (label, readable) in &self.readers {
            if readable.allows(key) {
                // Closed windows hear nothing.
                let _ = handle.emit_to(label, "moat:store-changed", &Changed { key });
            }
        }
    }
}

#[derive(Serialize)]
struct Changed<'a> {
    key: &'a str,
}

fn limit(name: &'static str, max: usize, got: usize) -> ScopeError {
    ScopeError::Limit { name, max, got }
}

/// `file`, if there is one, as `copy` too: a second name for the same
/// (already synced) bytes, put in place by a rename, so `copy` is always a
/// whole file; the directory is synced with the write that follows.
fn keep_copy(file: &Path, copy: &Path) -> std::io::Result<()> {
    let link = copy.with_extension("json.new");
    let _ = std::fs::remove_file(&link);
    match std::fs::hard_link(file, &link) {
        Ok(()) => std::fs::rename(&link, copy),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The prefix of a write's new file before it is renamed into place.
const TEMP_PREFIX: &str = ".store-";

/// A new file older than this was left by a write that never finished (the
/// process was killed between creating and renaming it); a write takes
/// milliseconds, so one this old belongs to no instance still writing.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes the new files of writes that never finished from `dir`. Each
/// holds a whole or partial copy of the store: left alone they pile up, one
/// per kill, beside the real file. Failures are logged, not fatal: the
/// store itself is intact either way.
fn sweep_stale_writes(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMP_PREFIX))
            && entry
                .metadata()
                .ok()
                .filter(std::fs::Metadata::is_file)
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= STALE_AFTER);
        if !stale {
            continue;
        }
        let path = entry.path();
        match std::fs::remove_file(&path) {
            Ok(()) => {
                tracing::info!(file = %path.display(), "removed the new file of a store write that never finished")
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "could not remove the new file of a store write that never finished")
            }
        }
    }
}

/// `bytes` as `path`: a new file beside it, synced, renamed over it, and
/// the directory synced, so a crash leaves the old file or the new one.
fn durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// What a window reaches of the store.
#[derive(Debug)]
pub(crate) struct Access {
    pub(crate) store: Arc<Store>,
    pub(crate) read: KeyPatterns,
    pub(crate) write: KeyPatterns,
}

impl Access {
    fn readable(&self, key: &str) -> Result<(), ScopeError> {
        check(key, &self.read, "read")
    }

    fn writable(&self, key: &str) -> Result<(), ScopeError> {
        check(key, &self.write, "write")
    }
}

fn check(key: &str, allowed: &KeyPatterns, how: &'static str) -> Result<(), ScopeError> {
    use crate::config::MAX_KEY_BYTES;
    if key.len() > MAX_KEY_BYTES {
        return Err(limit("store.maxKeyBytes", MAX_KEY_BYTES, key.len()));
    }
    if crate::config::key_ok(key) && allowed.allows(key) {
        Ok(())
    } else {
        Err(ScopeError::KeyDenied {
            key: key.to_owned(),
            what: "store",
            how,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyArg {
    key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetArgs {
    key: String,
    value: serde_json::Value,
}

/// The store's commands for a window with `access`.
#[cfg(feature = "api-store")]
pub(super) fn commands(access: Option<Arc<Access>>) -> crate::ipc::command::Commands {
    use super::Builtin;
    use crate::ipc::command::Commands;
    let Some(access) = access else {
        return Commands::new();
    };
    let (a, b, c, d) = (
        Arc::clone(&access),
        Arc::clone(&access),
        Arc::clone(&access),
        access,
    );
    Commands::new()
        .builtin(Builtin::StoreGet.name(), move |x: KeyArg, _| {
            a.readable(&x.key)?;
            Ok(a.store.get(&x.key))
        })
        .builtin(Builtin::StoreKeys.name(), move |_: crate::NoArgs, _| {
            Ok(b.store.keys(&b.read))
        })
        .builtin(Builtin::StoreSet.name(), move |x: SetArgs, ctx| {
            c.writable(&x.key)?;
            c.store.set(&x.key, x.value)?;
            tracing::info!(key = %x.key, window = %ctx.window(), "store.set");
            c.store.changed(&x.key, &ctx.app_handle());
            Ok(())
        })
        .builtin(Builtin::StoreDelete.name(), move |x: KeyArg, ctx| {
            d.writable(&x.key)?;
            let was = d.store.delete(&x.key)?;
            if was {
                tracing::info!(key = %x.key, window = %ctx.window(), "store.delete");
                d.store.changed(&x.key, &ctx.app_handle());
            }
            Ok(was)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> Store {
        Store::open(dir, BTreeMap::new()).unwrap()
    }

    #[test]
    fn values_survive_a_reopen_and_the_copy_before_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        s.set("theme", serde_json::json!("dark")).unwrap();
        s.set("size", serde_json::json!({"w": 3})).unwrap();
        assert!(s.delete("theme").unwrap());
        assert!(!s.delete("theme").unwrap());
        let again = store(dir.path());
        assert_eq!(again.get("size"), Some(serde_json::json!({"w": 3})));
        assert_eq!(again.get("theme"), None);
        let prev: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&std::fs::read(dir.path().join("store.prev.json")).unwrap())
                .unwrap();
        assert_eq!(prev.len(), 2, "the copy before the last change: {prev:?}");
    }

    #[test]
    fn writes_that_never_finished_are_swept_at_open_and_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("store.json"), br#"{"theme":"dark"}"#).unwrap();
        let old = dir.path().join(".store-killed");
        let fresh = dir.path().join(".store-writing");
        let other = dir.path().join("notes.txt");
        for f in [&old, &fresh, &other] {
            std::fs::write(f, b"{\"theme\":").unwrap();
        }
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for f in [&old, &other] {
            std::fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(hour_ago)
                .unwrap();
        }
        let s = store(dir.path());
        assert_eq!(s.get("theme"), Some(serde_json::json!("dark")));
        assert!(!old.exists(), "a write killed an hour ago is swept");
        assert!(fresh.exists(), "a write that may still be running is kept");
        assert!(other.exists(), "only the store's own new files are touched");
    }

    #[test]
    fn a_corrupt_file_stops_startup_with_its_name_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("store.json");
        std::fs::write(&file, b"{\"theme\": \"da").unwrap();
        let e = Store::open(dir.path(), BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains(&file.display().to_string()), "{e}");
        assert!(e.contains("store.prev.json"), "{e}");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            b"{\"theme\": \"da",
            "untouched"
        );
    }

    #[test]
    fn each_limit_refuses_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let big = serde_json::json!("x".repeat(MAX_VALUE_BYTES));
        let e = s.set("big", big).unwrap_err();
        assert_eq!(e.code(), "limit_exceeded");
        assert!(
            e.page_message().contains("store.maxValueBytes"),
            "{}",
            e.page_message()
        );
        for i in 0..MAX_KEYS {
            s.set(&format!("k{i}"), serde_json::json!(i)).unwrap();
        }
        let e = s.set("one-more", serde_json::json!(1)).unwrap_err();
        assert!(
            e.page_message().contains("store.maxKeys"),
            "{}",
            e.page_message()
        );
        assert_eq!(s.get("one-more"), None, "nothing half done");
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let chunk = serde_json::json!("y".repeat(MAX_VALUE_BYTES - 100));
        let mut hit = None;
        for i in 0..40 {
            if let Err(e) = s.set(&format!("c{i}"), chunk.clone()) {
                hit = Some(e);
                break;
            }
        }
        let e = hit.expect("the total limit");
        assert!(
            e.page_message().contains("store.maxTotalBytes"),
            "{}",
            e.page_message()
        );
    }

    #[test]
    fn patterns_are_keys_or_prefixes() {
        let p = KeyPatterns::new(&["theme".into(), "window.*".into()]);
        assert!(p.allows("theme") && p.allows("window.size") && p.allows("window."));
        assert!(!p.allows("themes") && !p.allows("token") && !p.allows("windo"));
        let a = Access {
            store: Arc::new(store(tempfile::tempdir().unwrap().path())),
            read: p.clone(),
            write: KeyPatterns::default(),
        };
        assert!(a.readable("theme").is_ok());
        assert_eq!(a.writable("theme").unwrap_err().code(), "scope_denied");
        assert_eq!(a.readable("bad key\n").unwrap_err().code(), "scope_denied");
        let long = format!("theme{}", "x".repeat(60));
        let e = a.readable(&long).unwrap_err();
        assert_eq!(e.code(), "limit_exceeded");
        assert!(
            e.page_message().contains("store.maxKeyBytes"),
            "{}",
            e.page_message()
        );
    }
}
