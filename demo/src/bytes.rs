//! The demo's bytes: a round trip and a hash, which the tests drive.

use moat::{Bytes, Commands};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Data {
    data: Bytes,
}

/// `bytes_echo` answers with the bytes it was given; `bytes_sha256` with
/// their SHA-256, in hex.
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
}
