//! The demo's bytes: a round trip, a hash and a join, which the tests drive.

use moat::{Bytes, Commands};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Data {
    data: Bytes,
}

#[derive(Deserialize)]
struct Join {
    parts: Vec<Bytes>,
    sep: String,
}

/// `bytes_echo` answers with the bytes it was given; `bytes_sha256` with
/// their SHA-256, in hex; `bytes_join` with its `parts` joined by the UTF-8
/// of `sep` (several byte values in one call).
pub fn commands() -> Commands {
    Commands::new()
        .asynchronous(
            "bytes_echo",
            |a: Data, _| async move { Ok::<_, ()>(a.data) },
        )
        .sync("bytes_sha256", |a: Data, _| {
            let digest = Sha256::digest(&a.data[..]);
            Ok::<_, ()>(
                digest
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            )
        })
        .sync("bytes_join", |a: Join, _| {
            let parts: Vec<Vec<u8>> = a.parts.into_iter().map(Vec::from).collect();
            Ok::<_, ()>(Bytes(parts.join(a.sep.as_bytes())))
        })
}
