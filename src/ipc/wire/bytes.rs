//! Bytes both ways, never as base64 or arrays of numbers.
//!
//! Page to core: the isolation frame gives hooks every `ArrayBuffer` or
//! typed array in a call's arguments as a `Uint8Array`, and seals them in
//! the same envelope as the call, after its JSON: the plaintext is then
//! *framed* ([`FRAMED`], the JSON's length, the JSON, the blobs), and each
//! byte value in the JSON is a marker `{"__moatBytes": k}` naming blob `k`.
//! A command declares such an argument as [`Bytes`].
//!
//! Core to page: a command that returns [`Bytes`] (anywhere in its result)
//! has its reply framed the same way; the core keeps the framed reply for
//! the page load and call it belongs to ([`BlobStore`]) and sends the JSON
//! with `"blobs": n`; the bridge fetches the framed reply once, as it is, as
//! one binary response from `ipc://localhost/blobs/<call id>`, reads the
//! blobs after its JSON, and puts a `Uint8Array` where each marker was. The
//! blobs are copied once after the command returns them (into the frame),
//! however large; a result that is one [`Bytes`] is framed in its own
//! buffer ([`frame_one`]). Incoming, a call's largest blob keeps the buffer
//! its envelope was opened in when it outweighs the JSON
//! ([`split_largest`]); the others are copied out of it once.
//!
//! Markers are made only by the frame (which refuses the key from the page)
//! and by [`Bytes`]; a marker is honoured only with the blob it names, once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The first byte of a framed plaintext or reply (JSON starts with `{`).
pub(crate) const FRAMED: u8 = 0x01;
/// The key of a byte value's marker.
pub(crate) const BYTES_KEY: &str = "__moatBytes";

/// The JSON of a reply whose result is one [`Bytes`] value: what
/// serialising it writes, for the framed reply made without serde.
pub(crate) const ONE_BLOB_REPLY: &[u8] = br#"{"ok":{"__moatBytes":0}}"#;

/// Bytes in a command's arguments or result: a `Uint8Array` in the page.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.0.len())
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(b: Bytes) -> Self {
        b.0
    }
}

/// Why a framed message could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameError {
    Truncated,
    TrailingBytes,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Truncated => f.write_str("framed bytes end before a length says"),
            FrameError::TrailingBytes => f.write_str("framed bytes go on after the last blob"),
        }
    }
}

fn u32_at(b: &[u8], at: usize) -> Result<usize, FrameError> {
    let four: [u8; 4] = b
        .get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .ok_or(FrameError::Truncated)?;
    Ok(u32::from_be_bytes(four) as usize)
}

/// The blob list `count:u32 (len:u32 bytes)*` at the start of `b`, which
/// must end exactly there.
fn blob_list(b: &[u8]) -> Result<Vec<&[u8]>, FrameError> {
    let count = u32_at(b, 0)?;
    let mut at = 4;
    // Each blob takes at least its length field: a count past that is a lie.
    if count > (b.len() - at) / 4 {
        return Err(FrameError::Truncated);
    }
    let mut blobs = Vec::with_capacity(count);
    for _ in 0..count {
        let len = u32_at(b, at)?;
        at += 4;
        let blob = b.get(at..at + len).ok_or(FrameError::Truncated)?;
        blobs.push(blob);
        at += len;
    }
    if at != b.len() {
        return Err(FrameError::TrailingBytes);
    }
    Ok(blobs)
}

/// Splits `FRAMED json_len:u32 json blobs` into the JSON and the blobs;
/// anything else is all JSON, with no blob.
pub(crate) fn unframe(b: &[u8]) -> Result<(&[u8], Vec<&[u8]>), FrameError> {
    if b.first() != Some(&FRAMED) {
        return Ok((b, Vec::new()));
    }
    let json_len = u32_at(b, 1)?;
    let json = b.get(5..5 + json_len).ok_or(FrameError::Truncated)?;
    Ok((json, blob_list(&b[5 + json_len..])?))
}

/// `FRAMED json_len:u32 json count:u32 (len:u32 bytes)*`, written once into
/// a buffer of its final size.
pub(crate) fn frame(json: &[u8], blobs: &[Vec<u8>]) -> Vec<u8> {
    let total: usize = 5 + json.len() + 4 + blobs.iter().map(|b| 4 + b.len()).sum::<usize>();
    let mut out = crate::ipc::large::with_capacity(total);
    out.push(FRAMED);
    out.extend_from_slice(&(json.len() as u32).to_be_bytes());
    out.extend_from_slice(json);
    out.extend_from_slice(&(blobs.len() as u32).to_be_bytes());
    for b in blobs {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    }
    out
}

/// `frame(json, &[blob])`, made in `blob`'s own buffer
/// ([`crate::ipc::large::prepend`]).
pub(crate) fn frame_one(json: &[u8], blob: Vec<u8>) -> Vec<u8> {
    let mut head = Vec::with_capacity(5 + json.len() + 8);
    head.push(FRAMED);
    head.extend_from_slice(&(json.len() as u32).to_be_bytes());
    head.extend_from_slice(json);
    head.extend_from_slice(&1u32.to_be_bytes());
    head.extend_from_slice(&(blob.len() as u32).to_be_bytes());
    let mut out = blob;
    crate::ipc::large::prepend(&mut out, &head, 0);
    out
}

thread_local! {
    /// While a call's arguments are decoded: its blobs, each taken once.
    static INCOMING: RefCell<Option<Vec<Option<Vec<u8>>>>> = const { RefCell::new(None) };
    /// While a result is serialised: the blobs its `Bytes` values gave.
    static OUTGOING: RefCell<Option<Vec<Vec<u8>>>> = const { RefCell::new(None) };
}

/// Runs `decode` with `blobs` available to the [`Bytes`] in the arguments;
/// returns its result and how many blobs no `Bytes` took (bytes where the
/// command's types take none: the call is refused).
pub(crate) fn decoding<R>(blobs: Vec<Vec<u8>>, decode: impl FnOnce() -> R) -> (R, usize) {
    INCOMING.with(|i| *i.borrow_mut() = Some(blobs.into_iter().map(Some).collect()));
    let r = decode();
    let left = INCOMING
        .with(|i| i.borrow_mut().take())
        .map_or(0, |b| b.iter().filter(|x| x.is_some()).count());
    (r, left)
}

/// A framed plaintext taken apart when its largest blob is larger than its
/// JSON: the JSON copied out (wiped when dropped), and the blobs owned, the
/// largest in the opened body's own buffer.
pub(crate) struct Split {
    pub(crate) json: crate::ipc::large::Wiped,
    pub(crate) blobs: Vec<Vec<u8>>,
}

/// Takes apart the framed plaintext at `plaintext` in `body` (the buffer
/// it was opened in) so that its largest blob needs no new buffer: that
/// blob moves to the start of `body`, the rest of `body` is wiped and cut
/// off, and `body` becomes the blob (left empty here). A 10 MiB blob copied
/// into a new buffer instead costs its page faults as well as the copy.
///
/// `None` (and `body` untouched) when the plaintext is not framed, has no
/// blob, or its JSON is the larger part: then copying the blobs is the
/// smaller copy, and the JSON is read where it is.
pub(crate) fn split_largest(
    body: &mut Vec<u8>,
    plaintext: std::ops::Range<usize>,
) -> Result<Option<Split>, FrameError> {
    let whole = body.get(plaintext).ok_or(FrameError::Truncated)?;
    if whole.first() != Some(&FRAMED) {
        return Ok(None);
    }
    let (json, blobs) = unframe(whole)?;
    let Some((largest, big)) = blobs.iter().enumerate().max_by_key(|(_, b)| b.len()) else {
        return Ok(None);
    };
    if big.len() <= json.len() {
        return Ok(None);
    }
    let at = big.as_ptr() as usize - body.as_ptr() as usize;
    let moved = at..at + big.len();
    let json = crate::ipc::large::Wiped(json.to_vec());
    let mut owned: Vec<Vec<u8>> = blobs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if i == largest {
                Vec::new()
            } else {
                crate::ipc::large::copy(b)
            }
        })
        .collect();
    let mut v = std::mem::take(body);
    v.copy_within(moved.clone(), 0);
    // What is left behind the blob is the rest of the plaintext (its JSON,
    // the frame's lengths, the other blobs) and the envelope's tag.
    zeroize::Zeroize::zeroize(&mut v[moved.len()..]);
    v.truncate(moved.len());
    v.shrink_to_fit();
    owned[largest] = v;
    Ok(Some(Split { json, blobs: owned }))
}

/// Serialises with `write`; returns its output and the blobs of the
/// [`Bytes`] in what it wrote, in marker order.
pub(crate) fn serializing<R>(write: impl FnOnce() -> R) -> (R, Vec<Vec<u8>>) {
    OUTGOING.with(|o| *o.borrow_mut() = Some(Vec::new()));
    let r = write();
    let blobs = OUTGOING.with(|o| o.borrow_mut().take()).unwrap_or_default();
    (r, blobs)
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Marker;
        impl<'de> Visitor<'de> for Marker {
            type Value = usize;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes (an ArrayBuffer or typed array in the page)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
                match map.next_key::<String>()? {
                    Some(k) if k == BYTES_KEY => {}
                    _ => {
                        return Err(de::Error::custom(
                            "bytes: an ArrayBuffer or typed array, not an object",
                        ))
                    }
                }
                let k: usize = map.next_value()?;
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom("bytes: a marker has one key"));
                }
                Ok(k)
            }
        }
        let k = d.deserialize_map(Marker)?;
        let blob = INCOMING.with(|i| {
            i.borrow_mut()
                .as_mut()
                .and_then(|blobs| blobs.get_mut(k))
                .and_then(Option::take)
        });
        blob.map(Bytes)
            .ok_or_else(|| de::Error::custom("bytes: no such blob in the call, or named twice"))
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let k = OUTGOING.with(|o| {
            o.borrow_mut().as_mut().map(|blobs| {
                blobs.push(self.0.clone());
                blobs.len() - 1
            })
        });
        let Some(k) = k else {
            return Err(serde::ser::Error::custom(
                "moat::Bytes is serialised only in a command's result",
            ));
        };
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(BYTES_KEY, &k)?;
        m.end()
    }
}

/// How many times `limits.maxMessageBytes` the reply bytes waiting for the
/// page may hold together (at least [`STORE_MIN_BYTES`]): a few large
/// replies may wait at once, a flood of them may not.
pub(crate) const STORE_FACTOR: usize = 4;
/// The least the store holds, whatever the message limit.
pub(crate) const STORE_MIN_BYTES: usize = 64 << 20;

/// The bound on the reply bytes waiting, for a message limit of
/// `max_message_bytes`.
pub(crate) fn store_bound(max_message_bytes: usize) -> usize {
    max_message_bytes
        .saturating_mul(STORE_FACTOR)
        .max(STORE_MIN_BYTES)
}

/// Framed replies waiting for the page to fetch their blobs, by page load
/// and call, each taken once.
///
/// Threat: a page that asks for large replies and never fetches them (or
/// reloads right after asking), so the core holds them. So: a reply for a
/// page load that is not the one shown is dropped, not stored; a new page
/// load drops what the old one left ([`BlobStore::forget_gone`]); an entry
/// expires `ttl` after it was stored, by a timer of its own, not only when
/// another bytes call comes; and all entries together hold at most
/// `max_bytes` (past it the reply is refused with `busy`).
pub(crate) struct BlobStore {
    entries: Mutex<Entries>,
    ttl: Duration,
    max_bytes: usize,
}

#[derive(Default)]
struct Entries {
    /// By (page load, call id): when stored, and the framed reply.
    map: HashMap<(u64, u64), (Instant, Vec<u8>)>,
    /// The sum of the framed replies' lengths.
    bytes: usize,
}

impl Entries {
    fn retain(&mut self, keep: impl Fn(&(u64, u64), &Instant) -> bool) {
        let mut freed = 0;
        self.map.retain(|k, (at, b)| {
            let kept = keep(k, at);
            if !kept {
                freed += b.len();
            }
            kept
        });
        self.bytes -= freed;
    }
}

/// A framed reply the store would not keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreFull {
    /// Keeping it would pass `max_bytes`.
    Full { max_bytes: usize },
}

impl BlobStore {
    pub(crate) fn new(ttl: Duration, max_bytes: usize) -> Self {
        Self {
            entries: Mutex::new(Entries::default()),
            ttl,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Each update keeps `bytes` equal to the sum before it unlocks.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `framed`, a reply [`unframe`] accepted, for call `id` of the
    /// page load `epoch`, when that is the page load shown now (`current`);
    /// a reply for a gone page load is dropped at once. Starts the entry's
    /// expiry timer when called inside a tokio runtime.
    pub(crate) fn put(
        self: &Arc<Self>,
        epoch: u64,
        current: u64,
        id: u64,
        framed: Vec<u8>,
    ) -> Result<(), StoreFull> {
        if epoch != current {
            return Ok(());
        }
        let ttl = self.ttl;
        {
            let mut e = self.lock();
            e.retain(|(ep, _), at| *ep == current && at.elapsed() < ttl);
            if e.bytes.saturating_add(framed.len()) > self.max_bytes {
                return Err(StoreFull::Full {
                    max_bytes: self.max_bytes,
                });
            }
            e.bytes += framed.len();
            if let Some((_, old)) = e.map.insert((epoch, id), (Instant::now(), framed)) {
                e.bytes -= old.len();
            }
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let store = Arc::downgrade(self);
            rt.spawn(async move {
                tokio::time::sleep(ttl).await;
                if let Some(store) = store.upgrade() {
                    store.expire();
                }
            });
        }
        Ok(())
    }

    /// Drops every entry older than `ttl`.
    pub(crate) fn expire(&self) {
        let ttl = self.ttl;
        self.lock().retain(|_, at| at.elapsed() < ttl);
    }

    /// A new page load is shown (`current`): drops what earlier ones left.
    pub(crate) fn forget_gone(&self, current: u64) {
        self.lock().retain(|(ep, _), _| *ep == current);
    }

    /// The framed reply of call `id` of the page load `epoch`, once.
    pub(crate) fn take(&self, epoch: u64, id: u64) -> Option<Vec<u8>> {
        let ttl = self.ttl;
        let mut e = self.lock();
        e.retain(|_, at| at.elapsed() < ttl);
        let (_, b) = e.map.remove(&(epoch, id))?;
        e.bytes -= b.len();
        Some(b)
    }

    /// Bytes held now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, serde::Serialize)]
    struct Args {
        a: Bytes,
        b: Bytes,
    }

    #[test]
    fn framed_round_trip() {
        let blobs = vec![b"".to_vec(), vec![0, 255, 7]];
        let framed = frame(br#"{"x":1}"#, &blobs);
        let (json, got) = unframe(&framed).unwrap();
        assert_eq!(json, br#"{"x":1}"#);
        assert_eq!(got, vec![&b""[..], &[0u8, 255, 7][..]]);
        // Not framed: all JSON.
        assert_eq!(unframe(b"{}").unwrap(), (&b"{}"[..], Vec::new()));
    }

    #[test]
    fn a_blob_framed_in_its_own_buffer_is_framed_as_any_other() {
        for blob in [vec![], vec![3; 10], (0..5 << 20).map(|i| i as u8).collect()] {
            let json = br#"{"ok":{"__moatBytes":0}}"#;
            assert!(frame_one(json, blob.clone()) == frame(json, &[blob]));
        }
    }

    #[test]
    fn lying_lengths_are_refused() {
        let mut framed = frame(b"{}", &[vec![1, 2, 3]]);
        framed.pop();
        assert_eq!(unframe(&framed), Err(FrameError::Truncated));
        let mut framed = frame(b"{}", &[vec![1, 2, 3]]);
        framed.push(9);
        assert_eq!(unframe(&framed), Err(FrameError::TrailingBytes));
        // A count of 2^32-1 blobs in a few bytes.
        let bad = [FRAMED, 0, 0, 0, 2, b'{', b'}', 0xff, 0xff, 0xff, 0xff];
        assert_eq!(unframe(&bad), Err(FrameError::Truncated));
        let bad = [FRAMED, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(unframe(&bad), Err(FrameError::Truncated));
    }

    /// The largest blob becomes the body's own buffer when it outweighs the
    /// JSON, with the bytes around the plaintext (an envelope's header and
    /// tag) left out; otherwise nothing moves.
    #[test]
    fn the_largest_blob_takes_the_body_only_when_it_outweighs_the_json() {
        let big: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
        let framed = frame(br#"{"x":1}"#, &[vec![7, 8], big.clone(), vec![]]);
        let mut body = [&b"HEADER123"[..], &framed, &[0xee; 16]].concat();
        let range = 9..9 + framed.len();
        let whole = body.as_ptr();
        let split = split_largest(&mut body, range.clone()).unwrap().unwrap();
        assert!(body.is_empty());
        assert_eq!(&split.json[..], br#"{"x":1}"#);
        assert_eq!(split.blobs, vec![vec![7, 8], big.clone(), vec![]]);
        assert_eq!(split.blobs[1].as_ptr(), whole, "the body's own buffer");

        let json = format!(r#"{{"x":"{}"}}"#, "y".repeat(6000));
        let framed = frame(json.as_bytes(), std::slice::from_ref(&big));
        let mut body = framed.clone();
        assert!(split_largest(&mut body, 0..framed.len()).unwrap().is_none());
        assert_eq!(body, framed);
        let mut plain = br#"{"id":1}"#.to_vec();
        assert!(split_largest(&mut plain, 0..8).unwrap().is_none());
        let mut cut = frame(b"{}", &[big]);
        let n = cut.len();
        assert_eq!(
            split_largest(&mut cut, 0..n - 1).err(),
            Some(FrameError::Truncated)
        );
        assert_eq!(
            split_largest(&mut cut, 0..n + 1).err(),
            Some(FrameError::Truncated)
        );
    }

    #[test]
    fn markers_name_blobs_once_and_only_real_ones() {
        let blobs = || vec![b"one".to_vec(), b"two".to_vec()];
        let (args, left) = decoding(blobs(), || {
            serde_json::from_str::<Args>(r#"{"a":{"__moatBytes":1},"b":{"__moatBytes":0}}"#)
        });
        let args = args.unwrap();
        assert_eq!(left, 0);
        assert_eq!((&args.a[..], &args.b[..]), (&b"two"[..], &b"one"[..]));
        for bad in [
            r#"{"a":{"__moatBytes":0},"b":{"__moatBytes":0}}"#,
            r#"{"a":{"__moatBytes":2},"b":{"__moatBytes":0}}"#,
            r#"{"a":[1,2,3],"b":{"__moatBytes":0}}"#,
            r#"{"a":"AQID","b":{"__moatBytes":0}}"#,
            r#"{"a":{"__moatBytes":0,"x":1},"b":{"__moatBytes":1}}"#,
        ] {
            let (r, _) = decoding(blobs(), || serde_json::from_str::<Args>(bad));
            assert!(r.is_err(), "{bad}");
        }
        // Bytes the command's types do not take are counted.
        let (v, left) = decoding(blobs(), || {
            serde_json::from_str::<serde_json::Value>(r#"{"a":{"__moatBytes":0}}"#)
        });
        assert!(v.is_ok());
        assert_eq!(left, 2);
        // Outside a call there are no blobs.
        assert!(serde_json::from_str::<Bytes>(r#"{"__moatBytes":0}"#).is_err());
    }

    #[test]
    fn results_with_bytes_serialise_to_markers_and_blobs() {
        let (json, blobs) = serializing(|| {
            serde_json::to_string(&Args {
                a: Bytes(vec![1]),
                b: Bytes(vec![]),
            })
        });
        assert_eq!(
            json.unwrap(),
            r#"{"a":{"__moatBytes":0},"b":{"__moatBytes":1}}"#
        );
        assert_eq!(blobs, vec![vec![1], vec![]]);
        assert!(
            serde_json::to_string(&Bytes(vec![1])).is_err(),
            "outside a result"
        );
    }

    #[test]
    fn stored_blobs_go_once_to_their_page_load_and_call() {
        let store = Arc::new(BlobStore::new(Duration::from_secs(60), 1 << 20));
        store.put(3, 3, 7, vec![1]).unwrap();
        assert!(store.take(4, 7).is_none(), "another page load");
        assert!(store.take(3, 8).is_none(), "another call");
        assert_eq!(store.take(3, 7), Some(vec![1]));
        assert!(store.take(3, 7).is_none(), "once");
        assert_eq!(store.held(), 0);
        let store = Arc::new(BlobStore::new(Duration::ZERO, 1 << 20));
        store.put(1, 1, 1, vec![1]).unwrap();
        assert!(store.take(1, 1).is_none(), "expired");
    }

    #[test]
    fn replies_of_a_gone_page_load_are_not_kept() {
        let store = Arc::new(BlobStore::new(Duration::from_secs(60), 1 << 20));
        // Finished after the page it was for had gone.
        store.put(1, 2, 7, vec![0; 100]).unwrap();
        assert_eq!(store.held(), 0);
        // Stored, then the page reloads.
        store.put(2, 2, 8, vec![0; 100]).unwrap();
        assert_eq!(store.held(), 100);
        store.forget_gone(3);
        assert_eq!(store.held(), 0);
        assert!(store.take(2, 8).is_none());
    }

    #[test]
    fn the_store_is_bounded_and_says_so() {
        let store = Arc::new(BlobStore::new(Duration::from_secs(60), 250));
        store.put(0, 0, 1, vec![0; 100]).unwrap();
        store.put(0, 0, 2, vec![0; 100]).unwrap();
        assert_eq!(
            store.put(0, 0, 3, vec![0; 100]),
            Err(StoreFull::Full { max_bytes: 250 })
        );
        assert_eq!(store.held(), 200);
        assert!(store.take(0, 1).is_some());
        store.put(0, 0, 3, vec![0; 100]).unwrap();
        assert_eq!(store.held(), 200);
    }

    #[test]
    fn entries_expire_on_their_own() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let store = Arc::new(BlobStore::new(Duration::from_millis(20), 1 << 20));
        rt.block_on(async {
            store.put(0, 0, 1, vec![0; 10]).unwrap();
            assert_eq!(store.held(), 10);
            // No other bytes call comes; the entry's own timer drops it.
            tokio::time::sleep(Duration::from_millis(60)).await;
        });
        assert_eq!(store.held(), 0);
    }
}
