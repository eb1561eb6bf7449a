//! The decrypted call and the reply body.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::ipc::wire::error::CallError;

/// The plaintext of an envelope, as `isolation.js` writes it. Trusted only
/// as "what the hooks let through": the hook chain may have rewritten it, and
/// the core checks it against the allowlist and the command's types again.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) id: u64,
    pub(crate) cmd: std::borrow::Cow<'a, str>,
    /// Always present: the frame seals an object (`{}` for none). A
    /// missing `args` is a malformed call, not "no arguments", and `null`
    /// is not an object, so the command refuses it.
    pub(crate) args: &'a RawValue,
    /// The bytes the arguments' markers name (a framed plaintext; see
    /// [`crate::ipc::wire::bytes`]).
    pub(crate) blobs: Vec<&'a [u8]>,
}

/// The JSON part of a call.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallJson<'a> {
    id: u64,
    #[serde(borrow)]
    cmd: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    args: &'a RawValue,
}

impl<'a> Call<'a> {
    pub(crate) fn parse(plaintext: &'a [u8]) -> Result<Self, CallError> {
        let (json, blobs) = crate::ipc::wire::bytes::unframe(plaintext)
            .map_err(|e| CallError::BadCall(e.to_string()))?;
        let c: CallJson<'a> =
            serde_json::from_slice(json).map_err(|e| CallError::BadCall(e.to_string()))?;
        Ok(Call {
            id: c.id,
            cmd: c.cmd,
            args: c.args,
            blobs,
        })
    }

    /// The arguments as JSON text.
    pub(crate) fn args_json(&self) -> &str {
        self.args.get()
    }
}

/// `{"err": {"code","message","data"?}}`.
pub(crate) fn error_body(e: &CallError) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Err<'a> {
        err: &'a crate::ipc::wire::error::WireError,
    }
    let wire = e.to_wire();
    serde_json::to_vec(&Err { err: &wire }).unwrap_or_else(|_| {
        br#"{"err":{"code":"handler_failed","message":"unserialisable error"}}"#.to_vec()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_call() {
        let c = Call::parse(br#"{"id":3,"cmd":"greet","args":{"name":"A"}}"#).unwrap();
        assert_eq!(
            (c.id, &*c.cmd, c.args_json()),
            (3, "greet", r#"{"name":"A"}"#)
        );
    }

    #[test]
    fn a_call_without_args_is_malformed() {
        assert!(Call::parse(br#"{"id":1,"cmd":"x"}"#).is_err());
        assert_eq!(
            Call::parse(br#"{"id":1,"cmd":"x","args":null}"#)
                .unwrap()
                .args_json(),
            "null"
        );
    }

    #[test]
    fn a_framed_call_carries_its_blobs() {
        let framed = crate::ipc::wire::bytes::frame(
            br#"{"id":2,"cmd":"save","args":{"data":{"__moatBytes":0}}}"#,
            &[vec![9, 8, 7]],
        );
        let c = Call::parse(&framed).unwrap();
        assert_eq!((c.id, &*c.cmd), (2, "save"));
        assert_eq!(c.blobs, vec![&[9u8, 8, 7][..]]);
        let mut cut = framed.clone();
        cut.truncate(cut.len() - 1);
        assert!(matches!(Call::parse(&cut), Err(CallError::BadCall(_))));
    }

    #[test]
    fn extra_keys_in_the_call_are_refused() {
        assert!(Call::parse(br#"{"id":1,"cmd":"x","callback":5}"#).is_err());
    }

    #[test]
    fn error_body_shape() {
        let b = error_body(&CallError::UnknownCommand { cmd: "nope".into() });
        assert_eq!(
            String::from_utf8(b).unwrap(),
            r#"{"err":{"code":"unknown_command","message":"no command named `nope`"}}"#
        );
    }
}
