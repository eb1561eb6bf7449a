//! The decrypted call and the reply body.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::CallError;

/// The plaintext of an envelope, as `isolation.js` writes it. Trusted only
/// as "what the hooks let through": the hook chain may have rewritten it, and
/// the core checks it against the allowlist and the command's types again.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Call<'a> {
    pub(crate) id: u64,
    #[serde(borrow)]
    pub(crate) cmd: std::borrow::Cow<'a, str>,
    /// Always present: the frame seals an object (`{}` for none). A
    /// missing `args` is a malformed call, not "no arguments", and `null`
    /// is not an object, so the command refuses it.
    #[serde(borrow)]
    pub(crate) args: &'a RawValue,
}

impl<'a> Call<'a> {
    pub(crate) fn parse(plaintext: &'a [u8]) -> Result<Self, CallError> {
        serde_json::from_slice(plaintext).map_err(|e| CallError::BadCall(e.to_string()))
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
        err: &'a super::error::WireError,
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
