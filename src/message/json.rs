//! Reading FHIR JSON strictly: RFC 8259 says the names in an object SHOULD be unique, and FHIR's
//! JSON format has no meaning for a repeated property, so a repeated name is an error at its
//! line and column (serde_json alone keeps the last one silently). Also [`pointer`], a JSON
//! Pointer lookup that allocates nothing.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `body` as JSON into a [`Value`], rejecting an object with a repeated property name.
///
/// # Errors
/// serde_json's error, with line and column, for bad JSON or a repeated name.
pub fn from_slice_strict(body: &[u8]) -> Result<Value, serde_json::Error> {
    // UTF-8 checked once for the whole body (word at a time over ASCII) instead of string by
    // string: serde_json's `str` reader is its slice reader without the per-string check. A
    // body that is not UTF-8 is read by the slice reader, which reports where it breaks.
    if let Ok(text) = std::str::from_utf8(body) {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = Strict.deserialize(&mut de)?;
        de.end()?;
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// A [`Value`] builder that refuses repeated names.
#[derive(Clone, Copy)]
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // One lookup per name: the vacant slot is filled once its value is read.
            match out.entry(key) {
                serde_json::map::Entry::Occupied(seen) => {
                    return Err(de::Error::custom(format!(
                        "the property `{}` appears twice in one object; FHIR JSON names each property once",
                        seen.key()
                    )));
                }
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(map.next_value_seed(Strict)?);
                }
            }
        }
        Ok(Value::Object(out))
    }
}

/// `value.pointer(path)`: the value at JSON Pointer `path` (RFC 6901), without the two new
/// strings per segment serde_json's lookup writes to unescape it. A path with an escape (`~`)
/// goes to serde_json.
pub(crate) fn pointer<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let Some(rest) = path.strip_prefix('/') else {
        return value.pointer(path);
    };
    if rest.contains('~') {
        return value.pointer(path);
    }
    rest.split('/').try_fold(value, |here, segment| match here {
        Value::Object(map) => map.get(segment),
        // RFC 6901 §4: an array index is `0` or digits without a leading zero.
        Value::Array(items) => {
            if segment.starts_with('+') || (segment.starts_with('0') && segment.len() != 1) {
                return None;
            }
            items.get(segment.parse::<usize>().ok()?)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_property_is_an_error_with_its_position() {
        let e = from_slice_strict(b"{\n  \"type\": \"document\",\n  \"type\": \"message\"\n}")
            .expect_err("repeated");
        assert_eq!(e.line(), 3, "{e}");
        assert!(e.to_string().contains("`type` appears twice"), "{e}");
        // The same name in two objects is fine, and the value is what serde_json would build.
        let text = br#"{"a": {"id": 1}, "b": {"id": 2.5, "x": [true, null, "s"]}}"#;
        assert_eq!(
            from_slice_strict(text).expect("valid"),
            serde_json::from_slice::<Value>(text).expect("valid")
        );
        assert!(from_slice_strict(b"{} x").is_err(), "trailing characters");
    }

    /// Whichever reader reads a body, the value and the error (text, line, column) are
    /// serde_json's own slice reader's.
    #[test]
    fn values_and_errors_are_serde_jsons_for_utf8_and_other_bodies() {
        let bodies: [&[u8]; 8] = [
            b"{\"a\": \"\xC3\xA6\xC3\xB8\xC3\xA5\", \"b\": [1, 2.5e-3, -0, \"\\u00e6\"]}",
            b"{\"a\": \"\xE6\"}",
            b"{\"a\":\n \"x\xFF\"}",
            b"{\"a\": \"\\uD800\"}",
            b"{\"a\": tru}",
            b"{\"a\": 1,\n\n  }",
            b"[1, 2",
            b"{\"a\": \"ok\"} \xC3",
        ];
        for body in bodies {
            let ours = from_slice_strict(body);
            let theirs = serde_json::from_slice::<Value>(body);
            match (ours, theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string());
                    assert_eq!((a.line(), a.column()), (b.line(), b.column()));
                }
                (a, b) => panic!("{:?} vs {:?} for {body:?}", a.is_ok(), b.is_ok()),
            }
        }
    }

    /// RFC 6901 §5's examples: the lookup finds what serde_json's `pointer` finds.
    #[test]
    fn pointer_finds_what_serde_json_finds() {
        let doc = serde_json::json!({
            "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
            "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8,
            "entry": [{"resource": {"id": "x"}}]
        });
        for path in [
            "",
            "/foo",
            "/foo/0",
            "/foo/1",
            "/foo/2",
            "/foo/01",
            "/foo/+1",
            "/foo/-1",
            "/",
            "/a~1b",
            "/c%d",
            "/e^f",
            "/g|h",
            "/i\\j",
            "/k\"l",
            "/ ",
            "/m~0n",
            "/entry/0/resource/id",
            "/entry/0/resource/id/x",
            "/missing",
            "no-slash",
        ] {
            assert_eq!(pointer(&doc, path), doc.pointer(path), "{path}");
        }
    }
}
