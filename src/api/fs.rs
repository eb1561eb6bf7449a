//! `fs.*`: read, write, list and remove files inside `scope.fs`.
//!
//! Every function opens first and checks the real path of what it opened
//! (see [`crate::scope::path`]). Writes are atomic: a temp file in the same
//! directory, synced, then renamed over the target, so a failure leaves the
//! old file or the new one and never half of either.

use std::io::{Read, Write};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::Api;
use crate::ipc::command::Commands;
use crate::scope::error::ScopeError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathArg {
    path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteArgs {
    path: String,
    contents: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    name: String,
    is_dir: bool,
    is_file: bool,
    is_symlink: bool,
}

pub(super) fn commands(api: &Arc<Api>) -> Commands {
    let (a, b, c, d) = (
        Arc::clone(api),
        Arc::clone(api),
        Arc::clone(api),
        Arc::clone(api),
    );
    Commands::new()
        .builtin("fs.read_text_file", move |x: PathArg, _| {
            read_text_file(&a, &x.path)
        })
        .builtin("fs.write_text_file", move |x: WriteArgs, _| {
            write_text_file(&b, &x.path, &x.contents)
        })
        .builtin("fs.read_dir", move |x: PathArg, _| read_dir(&c, &x.path))
        .builtin("fs.remove_file", move |x: PathArg, _| {
            remove_file(&d, &x.path)
        })
}

fn read_text_file(api: &Api, requested: &str) -> Result<String, ScopeError> {
    let (file, real) = api.scopes.fs.open_file(requested)?;
    let mut buf = Vec::new();
    file.take(api.max_bytes as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ScopeError::io(requested, e))?;
    if buf.len() > api.max_bytes {
        return Err(ScopeError::PathInvalid {
            requested: requested.to_owned(),
            reason: format!(
                "is larger than limits.maxMessageBytes ({} bytes)",
                api.max_bytes
            ),
        });
    }
    tracing::debug!(path = %real.display(), bytes = buf.len(), "fs.read_text_file");
    String::from_utf8(buf).map_err(|_| ScopeError::PathInvalid {
        requested: requested.to_owned(),
        reason: "is not UTF-8 text".into(),
    })
}

fn write_text_file(api: &Api, requested: &str, contents: &str) -> Result<usize, ScopeError> {
    let entry = api.scopes.fs.open_entry(requested)?;
    let io = |e: std::io::Error| ScopeError::io(requested, e);
    let mut tmp = tempfile::Builder::new()
        .prefix(".moat-write-")
        .tempfile_in(entry.dir.via_fd())
        .map_err(io)?;
    tmp.write_all(contents.as_bytes()).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(entry.via_fd()).map_err(|e| io(e.error))?;
    tracing::info!(path = %entry.real.display(), bytes = contents.len(), "fs.write_text_file");
    Ok(contents.len())
}

fn read_dir(api: &Api, requested: &str) -> Result<Vec<Entry>, ScopeError> {
    let dir = api.scopes.fs.open_dir(requested)?;
    let io = |e: std::io::Error| ScopeError::io(requested, e);
    let mut out = Vec::new();
    for item in std::fs::read_dir(dir.via_fd()).map_err(io)? {
        let item = item.map_err(io)?;
        let kind = item.file_type().map_err(io)?;
        let real = dir.real.join(item.file_name());
        // Entries the scope does not cover stay hidden: listing is not a way
        // to learn what a deny pattern protects.
        let visible = if kind.is_dir() {
            api.scopes.fs.allows_dir(&real)
        } else {
            api.scopes.fs.allows(&real)
        };
        let Some(name) = item.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if visible {
            out.push(Entry {
                name,
                is_dir: kind.is_dir(),
                is_file: kind.is_file(),
                is_symlink: kind.is_symlink(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn remove_file(api: &Api, requested: &str) -> Result<(), ScopeError> {
    let entry = api.scopes.fs.open_entry(requested)?;
    std::fs::remove_file(entry.via_fd()).map_err(|e| ScopeError::io(requested, e))?;
    tracing::info!(path = %entry.real.display(), "fs.remove_file");
    Ok(())
}
