//! Turning the page's JSON arguments into a command's typed arguments.
//!
//! Keys pass through verbatim: no snake/camel-case conversion, so what the
//! page writes is what the Rust type names. A key the type does not know is
//! refused even if the type forgot `#[serde(deny_unknown_fields)]`: a typo
//! that silently drops an argument is how a "safe default" gets used by
//! accident.
//!
//! Arguments are an object with named keys, and so is every struct inside
//! them ([`crate::ipc::wire::named`]): the shape the hooks inspected is the shape the
//! command receives.

use serde::de::{self, DeserializeOwned, Visitor};
use serde::forward_to_deserialize_any;

use crate::ipc::wire::error::ArgsError;
use crate::ipc::wire::named::Named;

/// How a JSON object starts.
const OBJECT_START: char = '{';

/// Decodes `json` into `A`, refusing unknown keys at any depth, arguments
/// that are not an object, and structs given as arrays.
pub(crate) fn decode<A: DeserializeOwned>(json: &str) -> Result<A, ArgsError> {
    if !json.trim_start().starts_with(OBJECT_START) {
        return Err(ArgsError::NotAnObject);
    }
    let mut unknown: Option<String> = None;
    let mut de = serde_json::Deserializer::from_str(json);
    let value: A = serde_ignored::deserialize(Named(&mut de), |path| {
        if unknown.is_none() {
            unknown = Some(path.to_string());
        }
    })
    .map_err(|e| ArgsError::Invalid(without_position(e)))?;
    de.end()
        .map_err(|e| ArgsError::Invalid(without_position(e)))?;
    match unknown {
        Some(field) => Err(ArgsError::UnknownField {
            field,
            expected: field_names::<A>(),
        }),
        None => Ok(value),
    }
}

/// serde_json appends "at line 1 column N"; the page's JSON was made by
/// `JSON.stringify` in the frame, so the position means nothing to its author.
fn without_position(e: serde_json::Error) -> String {
    let mut s = e.to_string();
    if let Some(i) = s.rfind(" at line ") {
        s.truncate(i);
    }
    s
}

/// The field names a derived `Deserialize` struct declares, read by asking it
/// to deserialize from a deserializer that records them and stops.
fn field_names<A: DeserializeOwned>() -> Vec<&'static str> {
    let mut fields: &'static [&'static str] = &[];
    let _ = A::deserialize(FieldNames(&mut fields));
    fields.to_vec()
}

struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields recorded"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Greet {
        name: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Nested {
        inner: Greet,
    }

    #[test]
    fn decodes_known_fields() {
        assert_eq!(
            decode::<Greet>(r#"{"name":"Ada"}"#).unwrap(),
            Greet { name: "Ada".into() }
        );
    }

    #[test]
    fn unknown_key_is_refused_with_expected_ones() {
        let e = decode::<Greet>(r#"{"name":"Ada","admin":true}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown field `admin`, expected one of `name`"
        );
    }

    #[test]
    fn camel_case_is_not_silently_converted() {
        #[derive(Debug, Deserialize)]
        struct Snake {
            #[allow(dead_code, reason = "only decoded")]
            file_name: String,
        }
        let e = decode::<Snake>(r#"{"fileName":"x"}"#).unwrap_err();
        assert_eq!(e.to_string(), "missing field `file_name`");
    }

    #[test]
    fn unknown_nested_key_is_refused() {
        let e = decode::<Nested>(r#"{"inner":{"name":"a","x":1}}"#).unwrap_err();
        assert!(
            matches!(e, ArgsError::UnknownField { ref field, .. } if field == "inner.x"),
            "{e}"
        );
    }

    #[test]
    fn missing_field_is_named() {
        assert_eq!(
            decode::<Greet>("{}").unwrap_err().to_string(),
            "missing field `name`"
        );
    }

    #[test]
    fn arguments_must_be_an_object_with_named_keys() {
        for json in [r#"["Ada"]"#, "null", r#""Ada""#, "5", " [ ]"] {
            assert_eq!(
                decode::<Greet>(json).unwrap_err().to_string(),
                "arguments must be an object with named keys, e.g. {\"name\": …}, not an array or a single value",
                "{json}"
            );
        }
        let e = decode::<Nested>(r#"{"inner":["a"]}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("invalid type: sequence, expected an object with named keys"),
            "{e}"
        );
        // A map-typed command still takes an object.
        let m = decode::<std::collections::BTreeMap<String, u8>>(r#"{"a":1}"#).unwrap();
        assert_eq!(m["a"], 1);
    }

    #[test]
    fn wrong_type_is_described() {
        let e = decode::<Greet>(r#"{"name":5}"#).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid type: integer `5`, expected a string"),
            "{e}"
        );
    }
}
