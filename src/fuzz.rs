//! Fuzz targets: the parsers of untrusted bytes, each a `fn(&[u8])` that
//! must never panic, and that checks the properties its parser promises
//! (a canonical URL is a fixed point; envelope sequences agree with the
//! obvious model). Compiled for the crate's tests and, with the
//! `fuzz-targets` feature, for `fuzz/` (AFL++ through cargo-afl, `make
//! fuzz`). `make test` replays the corpus in `fuzz/corpus/<target>/` and
//! runs a short seeded mutation pass over it ([`mutate`]).
//!
//! Not part of the runtime's API: hidden, and absent from a normal build.

#![allow(
    missing_docs,
    reason = "fuzz targets are named by what they parse; the module docs say what each takes"
)]

use std::sync::OnceLock;

use crate::isolation::envelope::Envelope;
use crate::isolation::key::KeyBytes;
use crate::isolation::session::Session;

/// The most an input may make a target allocate for an envelope.
const MAX: usize = 1 << 16;

/// A fuzz target: takes any bytes, and panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("script_message", script_message),
    ("envelope", envelope),
    ("call", call),
    ("config", config),
    ("html", html),
    ("range", range),
    ("url", url),
    ("envelope_sequence", envelope_sequence),
    ("launch_message", launch_message),
];

/// One fixed key for the targets that open envelopes, so inputs sealed with
/// [`FIXED_KEY`] reach past decryption.
pub const FIXED_KEY: [u8; 32] = [7; 32];

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// A script message to `messageHandlers.moat`: the transport format, each
/// envelope opened under a fixed key, the call and its arguments parsed.
pub fn script_message(data: &[u8]) {
    for posted in crate::ipc::transport::post::parse(&text(data), MAX) {
        if let crate::ipc::transport::post::Posted::Envelope { envelope: e, .. } = posted {
            envelope(&e);
        }
    }
}

/// An envelope (version, counter, sealed call): parsed, opened under
/// [`FIXED_KEY`], and what opens parsed as a call.
pub fn envelope(data: &[u8]) {
    let mut buf = data.to_vec();
    let Ok(env) = Envelope::parse(&mut buf, MAX) else {
        return;
    };
    let cipher = KeyBytes::from_bytes(FIXED_KEY).cipher();
    if let Ok(plain) = env.open(&cipher) {
        call(plain);
    }
}

/// A decrypted call: `{id, cmd, args}`, and its arguments decoded as the
/// built-ins' argument types and as a nested struct.
pub fn call(data: &[u8]) {
    #[derive(serde::Deserialize)]
    #[allow(dead_code, reason = "only decoded: the fuzzer exercises the decoder")]
    struct Inner {
        path: String,
        n: Option<u32>,
    }
    #[derive(serde::Deserialize)]
    #[allow(dead_code, reason = "only decoded: the fuzzer exercises the decoder")]
    struct Outer {
        inner: Inner,
        list: Vec<Inner>,
        map: std::collections::BTreeMap<String, String>,
    }
    let Ok(c) = crate::ipc::wire::call::Call::parse(data) else {
        return;
    };
    #[derive(serde::Deserialize)]
    #[allow(dead_code, reason = "only decoded: the fuzzer exercises the decoder")]
    struct WithBytes {
        data: crate::Bytes,
        more: Option<Vec<crate::Bytes>>,
    }
    let json = c.args_json();
    let _ = crate::ipc::wire::args::decode::<Outer>(json);
    let _ = crate::ipc::wire::args::decode::<Inner>(json);
    let _ = crate::ipc::wire::args::decode::<serde_json::Value>(json);
    let _ = crate::ipc::wire::args::decode::<crate::ipc::command::NoArgs>(json);
    let blobs = c.blobs.iter().map(|b| b.to_vec()).collect();
    let _ = crate::ipc::wire::bytes::decoding(blobs, || {
        crate::ipc::wire::args::decode::<WithBytes>(json)
    });
}

/// `moat.json`: parsed, its scopes compiled against the fixed layout, and
/// audited as startup does.
pub fn config(data: &[u8]) {
    let Ok(c) = crate::config::Settings::from_json(&text(data)) else {
        return;
    };
    let dirs = crate::scope::BaseDirs::fixed(std::path::Path::new("/"));
    for policy in c.policies() {
        if crate::scope::Scopes::compile(policy.scope, &dirs).is_ok() {
            let mut f = crate::audit::Findings::new("moat.json");
            crate::audit::modules(&mut f, &policy);
            crate::audit::limits(&mut f, &policy);
        }
    }
    let mut f = crate::audit::Findings::new("moat.json");
    crate::audit::views(&mut f, &c);
}

/// An HTML document prepared as the app protocol prepares its pages: the
/// nonce placeholder lands only where it was put.
pub fn html(data: &[u8]) {
    const PLACEHOLDER: &str = "moatnoncefuzzplaceholder";
    let t = text(data);
    if t.contains(PLACEHOLDER) {
        return;
    }
    if let Ok(prepared) = crate::csp::html::prepare(&t, PLACEHOLDER) {
        let out = prepared.with_nonce("N0NCE");
        assert!(!String::from_utf8_lossy(&out).contains(PLACEHOLDER));
    }
}

/// A `Range` header against a file length (the first 8 bytes): any range
/// served lies inside the file.
pub fn range(data: &[u8]) {
    let (len, header) = match data.split_first_chunk::<8>() {
        Some((len, rest)) => (u64::from_le_bytes(*len) % (1 << 40), text(rest)),
        None => return,
    };
    if let Some((start, end)) = crate::protocol::range::parse_range(&header, len) {
        assert!(
            start <= end && end < len,
            "{header:?} on {len}: {start}-{end}"
        );
    }
}

/// A URL judged by `scope.http` and `scope.open`: whatever passes is in
/// canonical form already (judging the URL that would be sent gives the
/// same form), so what is sent is what was judged.
pub fn url(data: &[u8]) {
    use crate::scope::url::{canonical::canonical, Kind, UrlScope};
    static SCOPES: OnceLock<(UrlScope, UrlScope)> = OnceLock::new();
    let (http, open) = SCOPES.get_or_init(|| {
        let cfg = |allow: &[&str], deny: &[&str]| crate::config::UrlScopeConfig {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
            private_network: false,
        };
        let http = cfg(
            &["https://*.example.com/**", "http://127.0.0.1:*/pub/**"],
            &["http://127.0.0.1:*/pub/admin/**"],
        );
        let open = cfg(
            &["https://*/**", "mailto:*@example.com", "tel:+1*"],
            &["https://*/private/**"],
        );
        (
            UrlScope::compile("scope.http", &http, Kind::Http).expect("fuzz scope"),
            UrlScope::compile("scope.open", &open, Kind::Open).expect("fuzz scope"),
        )
    });
    let raw = text(data);
    if let Ok(once) = canonical(&raw) {
        let twice = canonical(once.url.as_str()).expect("a canonical URL is canonical");
        assert_eq!(once.url.as_str(), twice.url.as_str(), "{raw:?}");
        assert_eq!(once.path, twice.path, "{raw:?}");
    }
    for scope in [http, open] {
        if let Ok(c) = scope.check(&raw) {
            assert!(scope.allows(&c), "{raw:?} passed but is not allowed");
        }
    }
}

/// A sequence of operations on one session, each byte one step: seal the
/// next counter, deliver a pending envelope (reordering), deliver a
/// delivered one again, truncate or tamper one, forge one, rotate. Each
/// delivery is checked against the model: it opens iff it is untouched,
/// sealed under the current key, not yet accepted, and not a full window
/// behind the newest.
pub fn envelope_sequence(data: &[u8]) {
    let Some(mut m) = Model::new() else { return };
    for (i, &op) in data.iter().enumerate() {
        let pick = |len: usize| data.get(i + 1).map_or(0, |b| *b as usize) % len.max(1);
        match op % 8 {
            // Counters may jump ahead (a frame that sealed and never sent).
            0 | 1 => m.seal(u64::from(op / 8 % 4)),
            2 | 3 if !m.sealed.is_empty() => m.deliver(pick(m.sealed.len())),
            4 if !m.delivered.is_empty() => m.replay(pick(m.delivered.len())),
            5 if !m.sealed.is_empty() => {
                let which = pick(m.sealed.len());
                let at = pick(m.sealed[which].1.len());
                m.tamper(which, at, 1 << (op % 8));
            }
            6 => m.forge(),
            7 if !m.rotate() => return,
            _ => {}
        }
    }
}

/// The session under test, and the model it is checked against.
struct Model {
    s: Session,
    key: crate::isolation::key::Cipher,
    /// Sealed under the current key, not yet delivered: (counter, bytes).
    sealed: Vec<(u64, Vec<u8>)>,
    delivered: Vec<Vec<u8>>,
    next: u64,
    top: u64,
    accepted: std::collections::HashSet<u64>,
}

type Opened = Option<Result<(), crate::isolation::session::OpenError>>;

impl Model {
    fn new() -> Option<Self> {
        let s = Session::new();
        let key = s.take_key()?.cipher();
        Some(Self {
            s,
            key,
            sealed: Vec::new(),
            delivered: Vec::new(),
            next: 1,
            top: 0,
            accepted: std::collections::HashSet::new(),
        })
    }

    /// `None` when the bytes do not even parse as an envelope.
    fn open(&self, env: &[u8]) -> Opened {
        let mut buf = env.to_vec();
        Envelope::parse(&mut buf, MAX)
            .ok()
            .map(|e| self.s.open(e).map(|_| ()))
    }

    fn seal(&mut self, skip: u64) {
        self.next += skip;
        let env = crate::isolation::envelope::seal(&self.key, self.next, b"{}");
        self.sealed.push((self.next, env));
        self.next += 1;
    }

    /// Opens iff not yet accepted and not a full window behind the newest.
    fn deliver(&mut self, which: usize) {
        let (c, env) = self.sealed.swap_remove(which);
        let expect =
            self.top < c + crate::isolation::replay::REPLAY_WINDOW && !self.accepted.contains(&c);
        let got = self.open(&env).expect("a sealed envelope parses");
        assert_eq!(
            got.is_ok(),
            expect,
            "counter {c}, top {}: {got:?}",
            self.top
        );
        if expect {
            self.accepted.insert(c);
            self.top = self.top.max(c);
        }
        self.delivered.push(env);
    }

    fn replay(&self, which: usize) {
        let env = &self.delivered[which];
        assert!(
            self.open(env).is_some_and(|r| r.is_err()),
            "a replay opened"
        );
    }

    fn tamper(&self, which: usize, at: usize, bit: u8) {
        let mut bad = self.sealed[which].1.clone();
        bad[at] ^= bit;
        assert!(
            self.open(&bad).is_none_or(|r| r.is_err()),
            "a tampered envelope opened"
        );
        bad.truncate(at);
        assert!(
            self.open(&bad).is_none_or(|r| r.is_err()),
            "a truncated envelope opened"
        );
    }

    fn forge(&self) {
        let forged =
            crate::isolation::envelope::seal(&KeyBytes::generate().cipher(), self.next, b"{}");
        assert_eq!(
            self.open(&forged),
            Some(Err(crate::isolation::session::OpenError::DecryptFailed))
        );
    }

    /// A new page load: everything sealed before is dead. `false` if the
    /// session gave no new key.
    fn rotate(&mut self) -> bool {
        self.s.rotate();
        let Some(k) = self.s.take_key() else {
            return false;
        };
        self.key = k.cipher();
        for (_, env) in std::mem::take(&mut self.sealed) {
            assert!(
                self.open(&env).is_some_and(|r| r.is_err()),
                "an old key's envelope opened"
            );
        }
        self.delivered.clear();
        (self.next, self.top) = (1, 0);
        self.accepted.clear();
        true
    }
}

/// A second launch's message to the running instance: parsed within its
/// bounds, and each argument it carries judged as a launch argument.
pub fn launch_message(data: &[u8]) {
    let Ok(args) = crate::launch::wire::parse(data) else {
        return;
    };
    assert!(args.len() <= crate::launch::wire::MAX_ARGS);
    let launch = crate::launch::Launch::new(crate::launch::LaunchConfig {
        schemes: vec!["moat-demo".into()],
        mime_types: vec!["text/plain".into()],
        ..crate::launch::LaunchConfig::default()
    });
    for arg in &args {
        assert!(arg.len() <= crate::launch::wire::MAX_ARG_BYTES);
        if let Ok(Some(crate::launch::Arrival::Url(u))) = launch.judge(arg) {
            assert!(
                u.starts_with("moat-demo:") && u.len() <= 3 * crate::launch::MAX_LINK_BYTES,
                "{u}"
            );
        }
    }
    // What parses is what was sent.
    if let Ok(again) = crate::launch::wire::encode(&args) {
        assert_eq!(again, data);
    }
}

/// Tokens worth splicing into inputs, per target.
pub fn dictionary(target: &str) -> &'static [&'static [u8]] {
    match target {
        "script_message" => &[b"moat1:", b";", b":", b"1:", b"AAAA", b"=="],
        "launch_message" => &[
            b"MOAT-LAUNCH\x01",
            b"\x00\x01",
            b"\x00\x10",
            b"moat-demo://",
            b"file:///",
            b"/tmp/a",
        ],
        "call" => &[
            b"{\"id\":1,\"cmd\":\"x\",\"args\":",
            b"[",
            b"]",
            b"{}",
            b"\"__proto__\"",
            b"\"path\":",
            b"null",
            b"\\ud800",
        ],
        "config" => &[
            b"\"scope\":",
            b"\"fs\":{\"allow\":[",
            b"\"$APPDATA/**\"",
            b"\"http\":{\"allow\":[\"https://*/**\"]}",
            b"\"shell\":[{\"name\":\"a\",\"cmd\":\"/bin/true\",\"args\":[{\"validator\":\"",
            b"\"limits\":",
            b"null",
        ],
        "html" => &[
            b"<script>",
            b"</script>",
            b"<style>",
            b"<script src=\"https://x/a.js\">",
            b"<!--",
            b"-->",
            b"nonce=",
            b"<template>",
        ],
        "range" => &[b"bytes=", b"-", b",", b"0", b"18446744073709551615"],
        "url" => &[
            b"https://",
            b"http://127.0.0.1:",
            b"/pub/",
            b"admin",
            b"%2e",
            b"%2f",
            b"%25",
            b"..",
            b"//",
            b";",
            b"@",
            b"[::ffff:127.0.0.1]",
            b"mailto:",
            b"?attach=",
            b"tel:+1",
            b"#",
        ],
        _ => &[],
    }
}

/// A deterministic, dependency-free mutation of `input` (xorshift over
/// `state`): flips, insertions, deletions, splices of `other`, dictionary
/// tokens. Not coverage-guided: `make fuzz` uses AFL++ for that; this keeps
/// a seeded pass in `make test` and a fallback where AFL++ is not built.
pub fn mutate(input: &[u8], other: &[u8], dict: &[&[u8]], state: &mut u64) -> Vec<u8> {
    let mut next = || {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    };
    let mut out = input.to_vec();
    for _ in 0..1 + next() % 4 {
        let at = if out.is_empty() {
            0
        } else {
            (next() as usize) % (out.len() + 1)
        };
        match next() % 6 {
            0 if at < out.len() => out[at] ^= 1 << (next() % 8),
            1 => out.insert(at, next() as u8),
            2 if at < out.len() => {
                let n = (next() as usize % 8).min(out.len() - at);
                out.drain(at..at + n);
            }
            3 if !other.is_empty() => {
                let from = next() as usize % other.len();
                let n = (next() as usize % 32).min(other.len() - from);
                out.splice(at..at, other[from..from + n].iter().copied());
            }
            4 if !dict.is_empty() => {
                let token = dict[next() as usize % dict.len()];
                out.splice(at..at, token.iter().copied());
            }
            _ => out.truncate(at),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fuzz/corpus/<target>/`, every file.
    fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn the_corpus_replays_clean_and_a_seeded_pass_finds_nothing() {
        for (name, target) in TARGETS {
            let files = corpus(name);
            assert!(!files.is_empty(), "no corpus for {name}");
            for (file, data) in &files {
                let r = std::panic::catch_unwind(|| target(data));
                assert!(r.is_ok(), "{name}: corpus file {file} panics");
            }
            let mut state = 0x5eed_f022_u64 ^ name.len() as u64;
            for i in 0..1500 {
                let (_, a) = &files[i % files.len()];
                let (_, b) = &files[(i * 7 + 3) % files.len()];
                let input = mutate(a, b, dictionary(name), &mut state);
                let r = std::panic::catch_unwind(|| target(&input));
                assert!(
                    r.is_ok(),
                    "{name}: a mutation panics: {:?}",
                    String::from_utf8_lossy(&input)
                );
            }
        }
    }

    /// Writes the seed corpus (`cargo test … write_seed_corpus --
    /// --ignored`); its files are committed, and fuzzing adds to them.
    #[test]
    #[ignore = "writes fuzz/corpus; run by hand"]
    fn write_seed_corpus() {
        use base64::Engine as _;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let cipher = KeyBytes::from_bytes(FIXED_KEY).cipher();
        let seal = |counter: u64, plain: &str| {
            crate::isolation::envelope::seal(&cipher, counter, plain.as_bytes())
        };
        let calls = [
            r#"{"id":1,"cmd":"echo","args":{"data":"x"}}"#,
            r#"{"id":2,"cmd":"fs.read_text_file","args":{"path":"$APPDATA/a.txt"}}"#,
            r#"{"id":3,"cmd":"x","args":{"inner":{"path":"/a","n":1},"list":[{"path":"b"}],"map":{"k":"v"}}}"#,
            r#"{"id":4,"cmd":"x","args":["a"]}"#,
            r#"{"id":5,"cmd":"x","args":{"__proto__":{"path":"p"}}}"#,
        ];
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let mut seeds: Vec<(&str, String, Vec<u8>)> = Vec::new();
        for (i, c) in calls.iter().enumerate() {
            seeds.push(("call", format!("call-{i}"), c.as_bytes().to_vec()));
            seeds.push(("envelope", format!("sealed-{i}"), seal(i as u64 + 1, c)));
            seeds.push((
                "script_message",
                format!("one-{i}"),
                format!("moat1:{}:{}", i + 1, b64(&seal(i as u64 + 1, c))).into_bytes(),
            ));
        }
        seeds.push((
            "script_message",
            "two".into(),
            format!(
                "moat1:1:{};2:{}",
                b64(&seal(1, calls[0])),
                b64(&seal(2, calls[1]))
            )
            .into_bytes(),
        ));
        seeds.push((
            "script_message",
            "junk".into(),
            b"moat1:7:***;x:AQ==".to_vec(),
        ));
        seeds.push(("envelope", "short".into(), vec![1, 0, 0, 0, 0, 0, 0, 0, 1]));
        for (i, c) in [
            r#"{"identifier":"dev.a.b","title":"T"}"#,
            r#"{"identifier":"dev.a.b","title":"T","allowlist":{"fs":{"readFile":true},"shell":{"execute":true,"open":true},"http":{"fetch":true}},"scope":{"fs":{"allow":["$APPDATA/**"],"deny":["$APPDATA/secret/**"]},"shell":[{"name":"u","cmd":"/bin/true","args":["-a",{"validator":"[a-z]+"}],"env":{"A":"$HOME"}}],"open":{"allow":["https://*/**","mailto:*"]},"http":{"allow":["https://*.example.com/**"],"privateNetwork":true}},"limits":{"maxMessageBytes":2048,"callTimeoutMs":5,"maxCallsPerSecond":null}}"#,
            r#"{"identifier":"dev.a.b","title":"T","csp":"default-src * 'unsafe-inline'","isolation":{"hooks":["a.js","../b.js"]}}"#,
        ]
        .iter()
        .enumerate()
        {
            seeds.push(("config", format!("config-{i}"), c.as_bytes().to_vec()));
        }
        for (i, h) in [
            "<!doctype html><html><head><script>let a = 1;</script><style>b{}</style><link rel=stylesheet href=a.css></head><body><script src=app.js></script></body></html>",
            "<script src=\"https://cdn.x/a.js\"></script>",
            "<script>/*<!--*/</script><template><script>x</script></template><!-- <script> -->",
        ]
        .iter()
        .enumerate()
        {
            seeds.push(("html", format!("html-{i}"), h.as_bytes().to_vec()));
        }
        for (i, (len, h)) in [
            (100u64, "bytes=0-9"),
            (100, "bytes=-5"),
            (0, "bytes=0-"),
            (10, "bytes=5-,6-7"),
        ]
        .iter()
        .enumerate()
        {
            let mut v = len.to_le_bytes().to_vec();
            v.extend_from_slice(h.as_bytes());
            seeds.push(("range", format!("range-{i}"), v));
        }
        for (i, u) in [
            "https://a.example.com/v1/x?q=1#f",
            "http://127.0.0.1:8080/pub/%61dmin/x",
            "http://[::ffff:127.0.0.1]:1/pub/a%20b;c",
            "https://b\u{fc}cher.example/~u/..%2f",
            "mailto:a@example.com?subject=Hi&body=x%0Ay",
            "tel:+1 (555) 010-9999",
            "file:///etc/passwd",
        ]
        .iter()
        .enumerate()
        {
            seeds.push(("url", format!("url-{i}"), u.as_bytes().to_vec()));
        }
        for (i, ops) in [
            &[0u8, 0, 0, 2, 0, 3, 1, 4, 0][..],
            &[0, 0, 0, 0, 3, 2, 2, 5, 1, 7, 0, 2, 6, 4],
            &[8, 16, 24, 2, 3, 2, 3, 5, 9],
        ]
        .iter()
        .enumerate()
        {
            seeds.push(("envelope_sequence", format!("ops-{i}"), ops.to_vec()));
        }
        for (target, name, data) in seeds {
            let dir = root.join(target);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(name), data).unwrap();
        }
    }

    #[test]
    fn the_mutator_changes_inputs_and_is_deterministic() {
        let (mut a, mut b) = (1u64, 1u64);
        let x = mutate(b"hello world", b"other", &[b"TOKEN"], &mut a);
        let y = mutate(b"hello world", b"other", &[b"TOKEN"], &mut b);
        assert_eq!(x, y);
        let differ = (0..50)
            .filter(|_| mutate(b"hello world", b"", &[], &mut a) != b"hello world")
            .count();
        assert!(differ > 40, "{differ}");
    }
}
