//! What a scenario captured, by name: the messages and letters its steps sent and received, with
//! what the later steps need of each (its evidence, its send number, whether it reached the
//! vendor), and the `{{name.key}}` values templates and goldens use.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use crate::message::Message;
use crate::oioxml::Emessage;

/// A captured FHIR message or classic OIOXML letter.
#[derive(Debug, Clone)]
#[expect(
    clippy::large_enum_variant,
    reason = "a scenario captures a handful of items; boxing would buy nothing"
)]
pub(super) enum Item {
    /// A FHIR message, shared: the steps that read it later take the same copy (a message
    /// with a big attachment is not copied per step).
    Message(std::sync::Arc<Message>),
    /// A classic OIOXML letter, binary letter or receipt.
    Letter(Emessage),
}

/// One capture.
#[derive(Debug, Clone)]
pub(super) struct Capture {
    /// What was captured.
    pub item: Item,
    /// The evidence id of the captured message as it travelled.
    pub evidence: String,
    /// The harness's send number, for what the harness sent (it pairs an HTTP response with its
    /// request).
    pub send_seq: Option<u64>,
    /// For what the harness sent: the step whose send got no HTTP response at all (nothing
    /// arrived, so nothing is awaited).
    pub undelivered_at: Option<usize>,
    /// Whether an `expect-ack` step received it (an acknowledgement `same-as` may compare with).
    pub acknowledgement: bool,
}

impl Capture {
    /// A capture of `item` kept as `evidence`.
    pub fn new(item: Item, evidence: &str) -> Capture {
        Capture {
            item,
            evidence: evidence.to_string(),
            send_seq: None,
            undelivered_at: None,
            acknowledgement: false,
        }
    }

    /// The `{{name.key}}` values of the capture named `name`.
    fn values(&self, name: &str, out: &mut BTreeMap<String, String>) {
        let mut put = |key: &str, value: Option<&str>| {
            if let Some(v) = value {
                out.insert(format!("{name}.{key}"), v.to_string());
            }
        };
        match &self.item {
            Item::Message(message) => {
                let id = &message.identity;
                put("letter-id", id.letter_id.as_deref());
                put("envelope-id", id.envelope_id.as_deref());
                put(
                    "full-url",
                    message
                        .resource
                        .pointer("/entry/0/fullUrl")
                        .and_then(serde_json::Value::as_str),
                );
                put("thread-id", id.thread_id.as_deref());
                let sender = id.sender.as_ref();
                let receiver = id.receiver.as_ref();
                put("sender-ean", sender.and_then(|p| p.ean.as_deref()));
                put("sender-sor-id", sender.and_then(|p| p.sor_id.as_deref()));
                put("receiver-ean", receiver.and_then(|p| p.ean.as_deref()));
                put(
                    "receiver-sor-id",
                    receiver.and_then(|p| p.sor_id.as_deref()),
                );
                put("code", id.response.as_ref().and_then(|r| r.code.as_deref()));
            }
            Item::Letter(m) => {
                put("envelope-id", Some(&m.envelope.identifier));
                put("letter-id", Some(m.letter_identifier()));
                put("sender-ean", Some(m.sender_ean()));
                put("receiver-ean", Some(m.receiver_ean()));
                if let Some(r) = m.receipt() {
                    put("code", Some(r.kind.standard()));
                }
            }
        }
    }
}

/// Every capture of a scenario, by name. A later capture under a name replaces the earlier one.
#[derive(Debug, Default)]
pub(super) struct Captures {
    by_name: HashMap<String, Capture>,
}

impl Captures {
    /// Keeps `capture` as `name`; returns it as kept.
    pub fn insert(&mut self, name: &str, capture: Capture) -> &mut Capture {
        match self.by_name.entry(name.to_string()) {
            Entry::Occupied(mut e) => {
                e.insert(capture);
                e.into_mut()
            }
            Entry::Vacant(e) => e.insert(capture),
        }
    }

    /// The capture named `name`.
    pub fn get(&self, name: &str) -> Option<&Capture> {
        self.by_name.get(name)
    }

    /// The FHIR message captured as `name`.
    pub fn message(&self, name: &str) -> Option<&Message> {
        match &self.get(name)?.item {
            Item::Message(m) => Some(m),
            Item::Letter(_) => None,
        }
    }

    /// The FHIR message captured as `name`, shared (no copy).
    pub fn message_shared(&self, name: &str) -> Option<std::sync::Arc<Message>> {
        match &self.get(name)?.item {
            Item::Message(m) => Some(m.clone()),
            Item::Letter(_) => None,
        }
    }

    /// The OIOXML letter captured as `name`.
    pub fn letter(&self, name: &str) -> Option<&Emessage> {
        match &self.get(name)?.item {
            Item::Letter(m) => Some(m),
            Item::Message(_) => None,
        }
    }

    /// Every captured OIOXML letter.
    pub fn letters(&self) -> impl Iterator<Item = &Emessage> {
        self.by_name.values().filter_map(|c| match &c.item {
            Item::Letter(m) => Some(m),
            Item::Message(_) => None,
        })
    }

    /// The `{{name.key}}` values of every capture (`first.letter-id`, `first-ack.code`, …).
    pub fn values(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (name, capture) in &self.by_name {
            capture.values(name, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_captured_letter_gives_its_identifiers_to_templates() {
        let (letter, _) = crate::oioxml::build::xdis91(
            crate::oioxml::build::party("5790000000012", "999991000016001", "A"),
            crate::oioxml::build::party("5790000000029", "999981000016002", "B"),
            "Emne",
            "Tekst",
            &[],
        );
        let mut captures = Captures::default();
        captures.insert("first", Capture::new(Item::Letter(letter.clone()), "e1"));
        let values = captures.values();
        assert_eq!(
            values.get("first.letter-id").map(String::as_str),
            Some(letter.letter_identifier())
        );
        assert_eq!(
            values.get("first.sender-ean").map(String::as_str),
            Some("5790000000012")
        );
        assert!(captures.message("first").is_none());
        assert_eq!(captures.letters().count(), 1);
    }
}
