//! Resends of a message the vendor sent (KR7; governance 052.2 identity, 020/043 reliable
//! messaging): a resend goes in a new envelope and keeps the letter.

use serde_json::Value;

use super::Finding;
use crate::message::Message;
use crate::rule;

/// Judges `again` as a resend of `first`: the same MessageHeader.id, a Bundle.id that none of
/// `used` (the Bundle.ids of the first send and earlier resends) has, and the letter otherwise
/// unchanged: the Bundle without `id`, `timestamp` and `meta` is the same JSON.
///
/// Rule: `resend-identity`.
pub fn resend(first: &Message, again: &Message, used: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    let (a, b) = (&first.identity, &again.identity);
    if a.letter_id != b.letter_id {
        out.push(
            rule::RESEND_IDENTITY.breach(
                format!(
                    "the resend has MessageHeader.id `{}` but the first send `{}`; a resend keeps the letter id",
                    b.letter_id.as_deref().unwrap_or("?"),
                    a.letter_id.as_deref().unwrap_or("?")
                ),
            )
            .at("MessageHeader.id"),
        );
    }
    match b.envelope_id.as_deref() {
        Some(id) if used.iter().any(|u| u == id) => out.push(
            rule::RESEND_IDENTITY
                .breach(format!(
                    "the resend reuses Bundle.id `{id}`; every send gets a new one"
                ))
                .at("Bundle.id"),
        ),
        None => out.push(
            rule::RESEND_IDENTITY
                .breach("the resend has no Bundle.id")
                .at("Bundle.id"),
        ),
        Some(_) => {}
    }
    let strip = |m: &Message| {
        let mut r = m.resource.clone();
        if let Some(o) = r.as_object_mut() {
            o.remove("id");
            o.remove("timestamp");
            o.remove("meta");
        }
        r
    };
    if let Some(path) = first_difference(&strip(first), &strip(again), String::new()) {
        out.push(
            rule::RESEND_IDENTITY.breach(
                format!(
                    "the resend changes the letter at `{}`; only Bundle.id and Bundle.timestamp may change",
                    if path.is_empty() { "/" } else { &path }
                ),
            )
            .at(path),
        );
    }
    if out.is_empty() {
        out.push(rule::RESEND_IDENTITY.pass(format!(
            "a new Bundle.id `{}`, the same letter `{}`",
            b.envelope_id.as_deref().unwrap_or("?"),
            b.letter_id.as_deref().unwrap_or("?")
        )));
    }
    out
}

/// The JSON pointer of the first place where `a` and `b` differ.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, format!("{at}/{k}")),
                _ => Some(format!("{at}/{k}")),
            })
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(at);
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_difference(p, q, format!("{at}/{i}")))
        }
        _ if a == b => None,
        _ => Some(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Format;
    use serde_json::json;

    fn message(bundle_id: &str, letter: &str, text: &str) -> Message {
        let bundle = json!({
            "resourceType": "Bundle", "id": bundle_id, "type": "message",
            "timestamp": "2026-11-29T10:00:00+01:00",
            "entry": [
                {"fullUrl": format!("https://x.example/MessageHeader/{letter}"),
                 "resource": {"resourceType": "MessageHeader", "id": letter,
                    "eventCoding": {"code": "care-communication-message"}}},
                {"fullUrl": "https://x.example/Communication/c1",
                 "resource": {"resourceType": "Communication", "id": "c1",
                    "payload": [{"contentString": text}]}}
            ]
        });
        Message::encode(&bundle, Format::Json).expect("encodes")
    }

    fn breaches(f: &[Finding]) -> Vec<String> {
        f.iter()
            .filter(|f| f.grade != crate::finding::Grade::Ok)
            .map(|f| f.message.clone())
            .collect()
    }

    #[test]
    fn a_new_envelope_with_the_same_letter_is_a_resend() {
        let first = message("b1", "m1", "Hej");
        let mut again = message("b2", "m1", "Hej");
        again.resource["timestamp"] = json!("2026-11-29T10:30:00+01:00");
        let f = resend(&first, &again, &["b1".into()]);
        assert!(breaches(&f).is_empty(), "{f:?}");
        assert_eq!(f[0].rule, "resend-identity");
    }

    #[test]
    fn a_reused_envelope_id_breaks_resend_identity() {
        let first = message("b1", "m1", "Hej");
        let again = message("b2", "m1", "Hej");
        let f = resend(&first, &again, &["b1".into(), "b2".into()]);
        let b = breaches(&f);
        assert_eq!(b.len(), 1, "{b:?}");
        assert!(b[0].contains("reuses Bundle.id `b2`"), "{b:?}");
    }

    #[test]
    fn a_changed_letter_breaks_resend_identity_and_names_where() {
        let first = message("b1", "m1", "Hej");
        let again = message("b2", "m1", "Farvel");
        let f = resend(&first, &again, &["b1".into()]);
        let b = breaches(&f);
        assert_eq!(b.len(), 1, "{b:?}");
        assert!(
            b[0].contains("/entry/1/resource/payload/0/contentString"),
            "{b:?}"
        );
    }

    #[test]
    fn message_resend_is_a_resend_and_repeat_is_the_same_envelope() {
        let first = message("b1", "m1", "Hej");
        let again = first.resend().expect("resends");
        assert_ne!(again.identity.envelope_id.as_deref(), Some("b1"));
        assert_eq!(again.identity.letter_id.as_deref(), Some("m1"));
        let f = resend(&first, &again, &["b1".into()]);
        assert!(breaches(&f).is_empty(), "{f:?}");
        let same = first.repeat().expect("repeats");
        assert_eq!(same.identity.envelope_id.as_deref(), Some("b1"));
        assert_eq!(same.identity.letter_id.as_deref(), Some("m1"));
    }
}
