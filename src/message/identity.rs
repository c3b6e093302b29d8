//! The identity of a message: what the harness correlates and judges on.
//!
//! Governance 052.2: `Bundle.id` is the envelope id (new on every send, resends too) and
//! `MessageHeader.id` is the letter id (new for every new message, kept on a resend). An
//! acknowledgement names the letter it acknowledges in `MessageHeader.response.identifier`
//! (FHIR R4; never correlate on Bundle.id). The thread id of a CareCommunication is
//! `Communication.identifier.value` (`urn:uuid:` + UUID v4).

use super::attachment::Attachment;
use super::bundle::{resolve, resources_of_type};
use serde::Serialize;
use serde_json::Value;

/// SOR ids: `urn:oid:1.2.208.176.1.1`.
pub const SOR_SYSTEM: &str = "urn:oid:1.2.208.176.1.1";
/// EAN/GLN location numbers, current system.
pub const GLN_SYSTEM: &str = "https://www.gs1.org/gln";
/// EAN/GLN location numbers, older alias.
pub const GLN_SYSTEM_OID: &str = "urn:oid:1.3.88";

/// A sender or receiver organisation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Party {
    /// The reference as written in the MessageHeader.
    pub reference: String,
    /// EAN/GLN location number (13 digits).
    pub ean: Option<String>,
    /// SOR id.
    pub sor_id: Option<String>,
    /// Organization.name.
    pub name: Option<String>,
}

/// One `Provenance.entity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Entity {
    /// `revision`, `removal`, `source`, …
    pub role: Option<String>,
    /// `what.reference`, e.g. `MessageHeader/<id>`.
    pub what_reference: Option<String>,
    /// `what.identifier.value`, e.g. `<lokationsnummer>#<brevid>` for an OIOXML letter.
    pub what_identifier: Option<String>,
}

/// One Provenance of the message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProvenanceInfo {
    /// Provenance.id.
    pub id: Option<String>,
    /// `activity.coding.code` (`new-message`, `reply-message`, `acknowledgement`, …).
    pub activity: Option<String>,
    /// `target.reference`s.
    pub targets: Vec<String>,
    /// The entities.
    pub entities: Vec<Entity>,
    /// `recorded`, as written.
    pub recorded: Option<String>,
}

impl ProvenanceInfo {
    /// `activity` as a code of `medcom-messaging-activityCodes`; `None` when missing or outside
    /// the CodeSystem.
    pub fn activity_code(&self) -> Option<super::Activity> {
        self.activity.as_deref().and_then(super::Activity::parse)
    }

    /// Whether this Provenance targets `MessageHeader/<letter_id>` (also as an absolute URL).
    pub fn targets_letter(&self, letter_id: &str) -> bool {
        self.targets
            .iter()
            .any(|t| reference_names(t, "MessageHeader", letter_id))
    }
}

/// `MessageHeader.response` of an acknowledgement.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Response {
    /// The acknowledged letter id.
    pub identifier: Option<String>,
    /// `ok | transient-error | fatal-error`.
    pub code: Option<String>,
    /// `details.reference` (the OperationOutcome).
    pub details: Option<String>,
}

impl Response {
    /// `code` as an acknowledgement code; `None` when missing or not a FHIR `response-code`.
    pub fn ack_code(&self) -> Option<super::AckCode> {
        self.code.as_deref().and_then(super::AckCode::parse)
    }
}

/// Everything the harness correlates and judges on, extracted once per message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Identity {
    /// Bundle.id: the envelope id.
    pub envelope_id: Option<String>,
    /// Bundle.timestamp.
    pub timestamp: Option<String>,
    /// MessageHeader.id: the letter id.
    pub letter_id: Option<String>,
    /// MessageHeader.eventCoding.code.
    pub event: Option<String>,
    /// MessageHeader.sender, resolved.
    pub sender: Option<Party>,
    /// The primary receiver (destination with use `primary`, else the first), resolved.
    pub receiver: Option<Party>,
    /// Every Provenance, in bundle order.
    pub provenances: Vec<ProvenanceInfo>,
    /// Communication.identifier.value of a CareCommunication.
    pub thread_id: Option<String>,
    /// Communication.category code of a CareCommunication.
    pub category: Option<String>,
    /// Attachments in Communication.payload, in order.
    pub attachments: Vec<Attachment>,
    /// For acknowledgements.
    pub response: Option<Response>,
}

impl Identity {
    /// Extracts the identity of a message Bundle (FHIR JSON shape). Missing parts stay `None`:
    /// judging what is missing is the checks' job.
    pub fn extract(bundle: &Value) -> Identity {
        let header_entry = super::pointer(bundle, "/entry/0");
        let header_url = header_entry
            .and_then(|e| e.get("fullUrl"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let header = header_entry
            .and_then(|e| e.get("resource"))
            .unwrap_or(&Value::Null);
        let party = |reference: Option<&str>| {
            let reference = reference?;
            let org = resolve(bundle, header_url, reference);
            let ident = |systems: &[&str]| {
                org?.get("identifier")?
                    .as_array()?
                    .iter()
                    .find(|i| {
                        i.get("system")
                            .and_then(Value::as_str)
                            .is_some_and(|s| systems.contains(&s))
                    })
                    .and_then(|i| i.get("value"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            Some(Party {
                reference: reference.to_string(),
                ean: ident(&[GLN_SYSTEM, GLN_SYSTEM_OID]),
                sor_id: ident(&[SOR_SYSTEM]),
                name: org
                    .and_then(|o| o.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        };
        let destinations = header
            .get("destination")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let primary = destinations
            .iter()
            .find(|d| {
                d.get("extension")
                    .and_then(Value::as_array)
                    .is_some_and(|exts| {
                        exts.iter().any(|x| {
                            super::pointer(x, "/valueCoding/code").and_then(Value::as_str)
                                == Some("primary")
                        })
                    })
            })
            .or_else(|| destinations.first());
        let provenances = resources_of_type(bundle, "Provenance")
            .map(|(_, p)| provenance(p))
            .collect();
        let communication = resources_of_type(bundle, "Communication")
            .next()
            .map(|(_, c)| c);
        let thread_id = communication
            .and_then(|c| c.get("identifier"))
            .and_then(|ids| match ids {
                Value::Array(a) => a.first(),
                other => Some(other),
            })
            .and_then(|i| i.get("value"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let category = communication
            .and_then(|c| super::pointer(c, "/category/0/coding/0/code"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let attachments = communication
            .and_then(|c| c.get("payload"))
            .and_then(Value::as_array)
            .map(|payload| {
                payload
                    .iter()
                    .enumerate()
                    .filter_map(|(i, seg)| {
                        Attachment::from_segment(
                            seg,
                            format!("Communication.payload[{i}].contentAttachment"),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let response = header.get("response").map(|r| Response {
            identifier: str_at(r, "/identifier"),
            code: str_at(r, "/code"),
            details: str_at(r, "/details/reference"),
        });
        Identity {
            envelope_id: str_at(bundle, "/id"),
            timestamp: str_at(bundle, "/timestamp"),
            letter_id: str_at(header, "/id"),
            event: str_at(header, "/eventCoding/code"),
            sender: party(super::pointer(header, "/sender/reference").and_then(Value::as_str)),
            receiver: party(
                primary
                    .and_then(|d| super::pointer(d, "/receiver/reference"))
                    .and_then(Value::as_str),
            ),
            provenances,
            thread_id,
            category,
            attachments,
            response,
        }
    }

    /// The activity of the Provenance that targets this message's own MessageHeader (the newest
    /// step of its history), or of the last Provenance when none targets it.
    pub fn activity(&self) -> Option<&str> {
        self.own_provenance().and_then(|p| p.activity.as_deref())
    }

    /// [`Identity::activity`] as a code of `medcom-messaging-activityCodes`.
    pub fn activity_code(&self) -> Option<super::Activity> {
        self.own_provenance()
            .and_then(ProvenanceInfo::activity_code)
    }

    /// The Provenance that targets this message's MessageHeader.
    pub fn own_provenance(&self) -> Option<&ProvenanceInfo> {
        let own = self
            .letter_id
            .as_deref()
            .and_then(|id| self.provenances.iter().rev().find(|p| p.targets_letter(id)));
        own.or_else(|| self.provenances.last())
    }

    /// Whether any Provenance entity of this message points to the letter `letter_id`: by
    /// `what.reference` to `MessageHeader/<letter_id>`, or by `what.identifier` naming the letter
    /// itself or, for an EDIFACT or OIOXML letter, as one part of `[lokationsnummer]#[brevid]`.
    /// Either order is found here (MedCom's sources disagree on it); whether the order is right
    /// is rule `provenance-letter-identifier`'s question.
    pub fn refers_to_letter(&self, letter_id: &str) -> bool {
        self.provenances.iter().any(|p| {
            p.entities.iter().any(|e| {
                e.what_reference
                    .as_deref()
                    .is_some_and(|r| reference_names(r, "MessageHeader", letter_id))
                    || e.what_identifier.as_deref().is_some_and(|i| {
                        i == letter_id || i.split('#').any(|part| part == letter_id)
                    })
            })
        })
    }
}

/// Whether `reference` (relative `Type/id`, absolute `…/Type/id`, possibly with `/_history/n`)
/// names the resource `rtype` with id `id`.
pub fn reference_names(reference: &str, rtype: &str, id: &str) -> bool {
    let without_history = reference.split("/_history/").next().unwrap_or(reference);
    let mut parts = without_history.rsplit('/');
    parts.next() == Some(id) && parts.next() == Some(rtype)
}

fn provenance(p: &Value) -> ProvenanceInfo {
    let list = |key: &str| {
        p.get(key)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    ProvenanceInfo {
        id: str_at(p, "/id"),
        activity: str_at(p, "/activity/coding/0/code"),
        targets: list("target")
            .iter()
            .filter_map(|t| {
                t.get("reference")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect(),
        entities: list("entity")
            .iter()
            .map(|e| Entity {
                role: str_at(e, "/role"),
                what_reference: str_at(e, "/what/reference"),
                what_identifier: str_at(e, "/what/identifier/value"),
            })
            .collect(),
        recorded: str_at(p, "/recorded"),
    }
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    super::pointer(v, pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_names_relative_absolute_and_versioned_references() {
        assert!(reference_names("MessageHeader/abc", "MessageHeader", "abc"));
        assert!(reference_names(
            "https://x.dk/fhir/MessageHeader/abc",
            "MessageHeader",
            "abc"
        ));
        assert!(reference_names(
            "MessageHeader/abc/_history/2",
            "MessageHeader",
            "abc"
        ));
        assert!(!reference_names("Organization/abc", "MessageHeader", "abc"));
        assert!(!reference_names(
            "MessageHeader/abcd",
            "MessageHeader",
            "abc"
        ));
    }
}
