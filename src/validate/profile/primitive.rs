//! The lexical forms of FHIR R4's primitive datatypes (FHIR R4 §2.24 "Data Types", the regex
//! of each primitive), plus what a regex cannot say: a date that exists in the calendar
//! (`2024-02-30` matches the dateTime regex but is no date), and integer ranges.
//!
//! These hold in every profile and version, so a breach is rule `fhir-datatype`, never graded
//! down for a profile version mismatch.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// `([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)`: a year 0001–9999.
const YEAR: &str = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)";
const TIME: &str = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?";
const ZONE: &str = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))";

fn whole(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("a FHIR R4 datatype regex compiles")
}

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    whole(&format!(
        "{YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?"
    ))
});
static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    whole(&format!(
        "{YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T{TIME}{ZONE})?)?)?"
    ))
});
static INSTANT: LazyLock<Regex> = LazyLock::new(|| {
    whole(&format!(
        "{YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T{TIME}{ZONE}"
    ))
});
static TIME_RE: LazyLock<Regex> = LazyLock::new(|| whole(TIME));
static OID: LazyLock<Regex> = LazyLock::new(|| whole(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+"));
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    whole(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
});

/// Why `value` is not a valid lexical form of the R4 primitive `ty`, or `None` when it is (or
/// `ty` has no rule beyond its JSON kind). Only JSON strings and numbers are looked at; the JSON
/// kind itself is checked by the caller. `base64Binary` is left to the attachment rules
/// (`cc-attachment-data`), which decode it.
pub(crate) fn problem(ty: &str, value: &Value) -> Option<String> {
    if let Some(n) = value.as_i64() {
        return match ty {
            "positiveInt" if n < 1 => Some(format!("{n} is not a positiveInt (1 or more)")),
            "unsignedInt" if n < 0 => Some(format!("{n} is not an unsignedInt (0 or more)")),
            "integer" | "positiveInt" | "unsignedInt" if i32::try_from(n).is_err() => {
                Some(format!("{n} is outside the 32-bit range of FHIR's {ty}"))
            }
            _ => None,
        };
    }
    let text = value.as_str()?;
    // The most frequent types are checked by hand: same rules as their regexes, without the cost
    // (a 10,000-entry Bundle has hundreds of thousands of ids, codes and uris).
    let by_hand = match ty {
        "id" => Some((
            crate::validate::is_fhir_id(text),
            "1–64 of A–Z, a–z, 0–9, `-`, `.`",
        )),
        "code" => Some((
            !text.is_empty()
                && !text.starts_with(char::is_whitespace)
                && !text.ends_with(char::is_whitespace)
                && !text.contains("  ")
                && !text.contains(['\t', '\n', '\r']),
            "no leading, trailing or double whitespace",
        )),
        "uri" | "url" | "canonical" => Some((!text.contains(char::is_whitespace), "no whitespace")),
        _ => None,
    };
    if let Some((ok, form)) = by_hand {
        return (!ok).then(|| format!("`{}` is not a valid {ty} ({form})", shorten(text)));
    }
    let (re, form): (&Regex, &str) = match ty {
        "date" => (&DATE, "YYYY, YYYY-MM or YYYY-MM-DD"),
        "dateTime" => (
            &DATE_TIME,
            "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone",
        ),
        "instant" => (&INSTANT, "YYYY-MM-DDThh:mm:ss[.fff] with a time zone"),
        "time" => (&TIME_RE, "hh:mm:ss"),
        "oid" => (&OID, "urn:oid: + a dotted OID"),
        "uuid" => (&UUID, "urn:uuid: + a lower-case UUID"),
        _ => return None,
    };
    if !re.is_match(text) {
        return Some(format!("`{}` is not a valid {ty} ({form})", shorten(text)));
    }
    if matches!(ty, "date" | "dateTime" | "instant") && !calendar_date(text) {
        return Some(format!("`{text}` is not a date in the calendar"));
    }
    None
}

/// Whether the `YYYY-MM-DD` part of `text` (when it has a day) is a real date.
fn calendar_date(text: &str) -> bool {
    let date = text.get(..10).unwrap_or("");
    if date.len() < 10 || date.as_bytes().get(7) != Some(&b'-') {
        return true;
    }
    let num = |r: std::ops::Range<usize>| date.get(r).and_then(|s| s.parse::<i32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let Ok(month) = time::Month::try_from(u8::try_from(m).unwrap_or(0)) else {
        return false;
    };
    time::Date::from_calendar_date(y, month, u8::try_from(d).unwrap_or(0)).is_ok()
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(ty: &str, v: Value) -> bool {
        problem(ty, &v).is_none()
    }

    #[test]
    fn date_times_follow_the_r4_regex_and_the_calendar() {
        // FHIR R4 dateTime: partial dates are allowed; a time needs seconds and a zone.
        for good in [
            "2024",
            "2024-05",
            "2024-05-02",
            "2024-05-02T11:30:00+02:00",
            "2024-05-02T11:30:00.123Z",
            "2024-02-29T00:00:00Z",
        ] {
            assert!(ok("dateTime", json!(good)), "{good}");
        }
        for bad in [
            "yesterday",
            "2024-02-30T11:30:00+02:00",
            "2023-02-29",
            "2024-05-02T11:30+02:00",
            "2024-13-45T99:00:00+02:00",
            "2024-05-02T11:30:00",
            " 2024-05-02",
        ] {
            assert!(!ok("dateTime", json!(bad)), "{bad}");
        }
        assert!(ok("instant", json!("2024-05-02T11:30:00+02:00")));
        assert!(!ok("instant", json!("2024-05-02")));
        assert!(ok("date", json!("2024-05-02")));
        assert!(!ok("date", json!("2024-05-02T11:30:00Z")));
        assert!(ok("time", json!("23:59:60")));
        assert!(!ok("time", json!("24:00:00")));
    }

    #[test]
    fn other_primitives() {
        assert!(ok("id", json!("gfd00bc2-9c26-4174-934e-f6e4360845de")));
        assert!(!ok("id", json!("has space")));
        assert!(ok("code", json!("reply-message")));
        assert!(!ok("code", json!(" reply")));
        assert!(ok("oid", json!("urn:oid:1.2.208.176.1.1")));
        assert!(!ok("oid", json!("1.2.208")));
        assert!(ok("uri", json!("https://sor2.sum.dsdn.dk/#id=123")));
        assert!(!ok("uri", json!("has space")));
        assert!(!ok("positiveInt", json!(0)));
        assert!(ok("unsignedInt", json!(0)));
        assert!(!ok("integer", json!(3_000_000_000_i64)));
        assert!(ok("string", json!("anything at all")));
    }
}
