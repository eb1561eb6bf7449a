//! Structs only from objects with named keys, at any depth.
//!
//! Threat: serde's derived `Deserialize` for a struct also accepts a
//! sequence, positionally (`["/etc/passwd"]` for `struct PathArg { path }`).
//! An isolation hook that checks `args.path` finds no `path` in an array and
//! may let the call through, while the command still receives one. So a
//! struct must arrive as an object, whatever the command's type says and
//! however deep it is nested: [`Named`] wraps a deserializer and refuses a
//! sequence wherever a struct (or a struct variant) is expected. Everything
//! else passes through unchanged.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};

/// A deserializer whose structs must be maps.
pub(crate) struct Named<D>(pub(crate) D);

/// The same wrapper around the parts a deserializer hands out (visitors,
/// seeds, sequence, map and enum access), so nested values stay wrapped.
struct Wrap<T>(T);

/// A struct's visitor, refusing a sequence.
struct NoSeq<V>(V);

macro_rules! forward_deserialize {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Wrap(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Named<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_seq deserialize_map
        deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Wrap(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Wrap(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Wrap(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Wrap(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_struct(name, fields, NoSeq(Wrap(visitor)))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Wrap(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Forwards every `visit_*` of a visitor wrapper to the visitor it wraps
/// (`$inner` reaches it), wrapping what is handed on; `visit_seq` is given
/// separately by each wrapper.
macro_rules! forward_visits {
    ($inner:tt) => {
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.$inner.expecting(f)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            self.$inner.visit_bool(v)
        }
        fn visit_i8<E: de::Error>(self, v: i8) -> Result<Self::Value, E> {
            self.$inner.visit_i8(v)
        }
        fn visit_i16<E: de::Error>(self, v: i16) -> Result<Self::Value, E> {
            self.$inner.visit_i16(v)
        }
        fn visit_i32<E: de::Error>(self, v: i32) -> Result<Self::Value, E> {
            self.$inner.visit_i32(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.$inner.visit_i64(v)
        }
        fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
            self.$inner.visit_i128(v)
        }
        fn visit_u8<E: de::Error>(self, v: u8) -> Result<Self::Value, E> {
            self.$inner.visit_u8(v)
        }
        fn visit_u16<E: de::Error>(self, v: u16) -> Result<Self::Value, E> {
            self.$inner.visit_u16(v)
        }
        fn visit_u32<E: de::Error>(self, v: u32) -> Result<Self::Value, E> {
            self.$inner.visit_u32(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.$inner.visit_u64(v)
        }
        fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
            self.$inner.visit_u128(v)
        }
        fn visit_f32<E: de::Error>(self, v: f32) -> Result<Self::Value, E> {
            self.$inner.visit_f32(v)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            self.$inner.visit_f64(v)
        }
        fn visit_char<E: de::Error>(self, v: char) -> Result<Self::Value, E> {
            self.$inner.visit_char(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            self.$inner.visit_str(v)
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            self.$inner.visit_borrowed_str(v)
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            self.$inner.visit_string(v)
        }
        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
            self.$inner.visit_bytes(v)
        }
        fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
            self.$inner.visit_borrowed_bytes(v)
        }
        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Self::Value, E> {
            self.$inner.visit_byte_buf(v)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            self.$inner.visit_none()
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            self.$inner.visit_some(Named(d))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            self.$inner.visit_unit()
        }
        fn visit_newtype_struct<D2: Deserializer<'de>>(
            self,
            d: D2,
        ) -> Result<Self::Value, D2::Error> {
            self.$inner.visit_newtype_struct(Named(d))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            self.$inner.visit_map(Wrap(map))
        }
        fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
            self.$inner.visit_enum(Wrap(data))
        }
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    forward_visits!(0);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(Wrap(seq))
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for NoSeq<Wrap<V>> {
    type Value = V::Value;

    forward_visits!(0);

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Self::Value, A::Error> {
        Err(de::Error::invalid_type(Unexpected::Seq, &ObjectExpected))
    }
}

/// What a struct must be given as, for the error message.
struct ObjectExpected;

impl de::Expected for ObjectExpected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with named keys")
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(Named(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Wrap(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Wrap(seed))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(Wrap(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Wrap<A> {
    type Error = A::Error;
    type Variant = Wrap<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        self.0
            .variant_seed(Wrap(seed))
            .map(|(value, variant)| (value, Wrap(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(Wrap(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, NoSeq(Wrap(visitor)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    fn named<T: de::DeserializeOwned>(json: &str) -> Result<T, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        T::deserialize(Named(&mut de)).map_err(|e| e.to_string())
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Path {
        path: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        inner: Path,
        list: Vec<Path>,
        maybe: Option<Path>,
        map: BTreeMap<String, Path>,
        tuple: (u8, String),
        tag: Tag,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Tag {
        Plain,
        Wrapped(Path),
        Fields { a: u8 },
    }

    #[test]
    fn plain_serde_takes_an_array_for_a_struct() {
        // The hole this module closes.
        let p: Path = serde_json::from_str(r#"["/etc/passwd"]"#).unwrap();
        assert_eq!(p.path, "/etc/passwd");
    }

    #[test]
    fn a_struct_given_as_an_array_is_refused_at_every_depth() {
        let ok = r#"{"inner":{"path":"a"},"list":[{"path":"b"}],"maybe":{"path":"c"},
            "map":{"k":{"path":"d"}},"tuple":[1,"x"],"tag":"plain"}"#;
        let outer: Outer = named(ok).unwrap();
        assert_eq!(outer.list[0].path, "b");
        assert_eq!(outer.tuple, (1, "x".into()));
        for (from, to) in [
            (r#"{"path":"a"}"#, r#"["a"]"#),
            (r#"[{"path":"b"}]"#, r#"[["b"]]"#),
            (r#"{"path":"c"}"#, r#"["c"]"#),
            (r#"{"k":{"path":"d"}}"#, r#"{"k":["d"]}"#),
            (r#""plain""#, r#"{"fields":[1]}"#),
            (r#""plain""#, r#"{"wrapped":["e"]}"#),
        ] {
            let bad = ok.replacen(from, to, 1);
            assert_ne!(bad, ok, "{from}");
            let e = named::<Outer>(&bad).unwrap_err();
            assert!(
                e.contains("invalid type: sequence, expected an object with named keys"),
                "{to}: {e}"
            );
        }
        assert!(named::<Path>(r#"["a"]"#).is_err());
        assert!(named::<Outer>(&ok.replacen(r#""plain""#, r#"{"fields":{"a":1}}"#, 1)).is_ok());
        assert!(
            named::<Outer>(&ok.replacen(r#""plain""#, r#"{"wrapped":{"path":"e"}}"#, 1)).is_ok()
        );
    }

    #[test]
    fn everything_else_decodes_as_serde_json_decodes_it() {
        // Checked against serde_json without the wrapper, value by value.
        let json =
            r#"{"a":[1,2.5,-3,"s",null,true,{"b":[]}],"c":"\u00e9\n","d":18446744073709551615}"#;
        let plain: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(named::<serde_json::Value>(json).unwrap(), plain);
        let plain: BTreeMap<String, Option<Vec<u64>>> =
            serde_json::from_str(r#"{"x":[1,2],"y":null}"#).unwrap();
        assert_eq!(
            named::<BTreeMap<String, Option<Vec<u64>>>>(r#"{"x":[1,2],"y":null}"#).unwrap(),
            plain
        );
    }
}
