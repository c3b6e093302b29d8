//! What a template sees: the parties, the patient, the letter's content, attachments, captures and
//! — for follow-ups (reply, forward, acknowledgement) — a prepared view of the previous message.
//!
//! Follow-ups reuse the previous message's Organization, Patient and author resources with their
//! ids, because the carried-over Provenances and payload segments refer to them; their `fullUrl`s
//! are rewritten to the new message's base so every reference resolves by the Bundle rules.

use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::message::{Message, entries, resources_of_type};

/// A party as configured: EAN/GLN, SOR id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Organization {
    /// EAN/GLN location number.
    pub ean: String,
    /// SOR id.
    pub sor_id: String,
    /// Organization.name.
    pub name: String,
}

/// An attachment to put into a new message.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttachmentInput {
    /// `contentType`; omitted for a link.
    #[serde(rename = "contentType", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// `title`.
    pub title: String,
    /// base64 `data`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// `url`, for a link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Decoded size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// base64 SHA-1 of the decoded bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// `creation` (dateTime with zone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation: Option<String>,
}

/// A new attachment with the identifier of the payload segment that carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentSegment {
    /// The segment identifier (UUID v4, without `urn:uuid:`).
    pub segment: String,
    /// The FHIR Attachment.
    pub attachment: AttachmentInput,
}

impl From<AttachmentInput> for AttachmentSegment {
    fn from(attachment: AttachmentInput) -> AttachmentSegment {
        AttachmentSegment {
            segment: uuid::Uuid::new_v4().to_string(),
            attachment,
        }
    }
}

/// An OperationOutcome issue for a non-ok acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    /// `severity`: `error` or `fatal`.
    pub severity: String,
    /// FHIR `issue.code` (`structure`, `invalid`, `processing`, `transient`, `duplicate`).
    pub code: String,
    /// `details.coding.system`: HL7's `http://terminology.hl7.org/CodeSystem/operation-outcome`
    /// for R4 `MSG_*` codes, MedCom's `medcom-acknowledgement-error-codes` for its own.
    pub system: String,
    /// `details.coding.code` (`MSG_…`), from ValueSet medcom-acknowledgement-issue-details.
    pub details: String,
    /// `diagnostics`: the sentence for a person.
    pub diagnostics: String,
    /// FHIRPath location (`expression`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

/// Fresh ids for one rendering, so that an id used twice (the MessageHeader.id in its
/// Provenance's target) is the same both times. UUID v4, lower case.
#[derive(Debug, Clone, Serialize)]
pub struct Ids {
    /// Bundle.id (envelope id).
    pub bundle: String,
    /// MessageHeader.id (letter id).
    pub header: String,
    /// Communication.id.
    pub communication: String,
    /// The thread id (without `urn:uuid:`), for a new thread.
    pub thread: String,
    /// The new text segment's identifier (without `urn:uuid:`).
    pub segment: String,
    /// The new Provenance.id.
    pub provenance: String,
    /// Practitioner.id of the author.
    pub practitioner: String,
    /// PractitionerRole.id of the author.
    pub role: String,
    /// OperationOutcome.id, for a non-ok acknowledgement.
    pub outcome: String,
}

impl Ids {
    /// Fresh UUID v4s.
    pub fn fresh() -> Ids {
        let u = || uuid::Uuid::new_v4().to_string();
        Ids {
            bundle: u(),
            header: u(),
            communication: u(),
            thread: u(),
            segment: u(),
            provenance: u(),
            practitioner: u(),
            role: u(),
            outcome: u(),
        }
    }
}

/// The template context.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    /// Base of every `fullUrl` (ends with `/`).
    pub base: String,
    /// Fresh ids for this rendering.
    pub ids: Ids,
    /// The instant of this rendering (FHIR instant, `Z`): Bundle.timestamp, Provenance times.
    pub now: String,
    /// Sender organisation as configured.
    pub sender: Organization,
    /// Primary receiver as configured.
    pub receiver: Organization,
    /// Organization resources to include (sender and receiver among them).
    pub organizations: Vec<Value>,
    /// Reference to the sender Organization (`Organization/<id>`).
    pub sender_ref: String,
    /// Reference to the receiver Organization.
    pub receiver_ref: String,
    /// The Patient resource.
    pub patient: Value,
    /// `Communication.category` code.
    pub category: String,
    /// The new text segment.
    pub text: String,
    /// New attachments.
    pub attachments: Vec<AttachmentSegment>,
    /// Values captured by earlier steps (`first.letter-id`, …).
    pub captures: BTreeMap<String, String>,
    /// The previous message, for follow-ups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Value>,
    /// For acknowledgements: `ok | transient-error | fatal-error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_code: Option<String>,
    /// For non-ok acknowledgements.
    pub issues: Vec<Issue>,
    /// For a HospitalNotification: the event's view of the stay
    /// ([`crate::hospitalnotification::prepare`] fills it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hn: Option<Value>,
}

/// The test patient of the built-in templates: a replacement CPR (x-eCPR,
/// `urn:oid:1.2.208.176.1.6.1.1`), never a real person.
fn test_patient() -> Value {
    json!({
        "resourceType": "Patient",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"profile": ["http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-patient"]},
        "identifier": [{"use": "temp", "system": "urn:oid:1.2.208.176.1.6.1.1", "value": "0101709TE5"}],
        "name": [{"use": "official", "family": "Testpatient", "given": ["Harness"]}]
    })
}

pub(super) fn organization(org: &Organization) -> Value {
    json!({
        "resourceType": "Organization",
        "id": uuid::Uuid::new_v4().to_string(),
        "meta": {"profile": ["http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-organization"]},
        "identifier": [
            {"system": "https://www.gs1.org/gln", "value": org.ean},
            {"system": "urn:oid:1.2.208.176.1.1", "value": org.sor_id}
        ],
        "name": org.name
    })
}

pub(super) fn reference_to(resource: &Value) -> String {
    format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap_or("Resource"),
        resource["id"].as_str().unwrap_or("")
    )
}

impl Context {
    /// A context for a new message from `sender` to `receiver`.
    pub fn new_message(base: &str, sender: Organization, receiver: Organization) -> Context {
        let s = organization(&sender);
        let r = organization(&receiver);
        Context {
            base: base.to_string(),
            ids: Ids::fresh(),
            now: super::now_instant(),
            sender_ref: reference_to(&s),
            receiver_ref: reference_to(&r),
            organizations: vec![s, r],
            sender,
            receiver,
            patient: test_patient(),
            category: "other".to_string(),
            text: String::new(),
            attachments: Vec::new(),
            captures: BTreeMap::new(),
            previous: None,
            response_code: None,
            issues: Vec::new(),
            hn: None,
        }
    }

    /// A context for a follow-up to `previous` (reply, forward or acknowledgement) sent by
    /// `sender`. For a reply or an acknowledgement `to` is `None` and the message goes back to
    /// the previous sender; a forward names its new receiver.
    pub fn follow_up(
        base: &str,
        previous: &Message,
        sender: Organization,
        to: Option<Organization>,
    ) -> Context {
        let bundle = &previous.resource;
        let id = &previous.identity;
        let orgs: Vec<Value> = resources_of_type(bundle, "Organization")
            .map(|(_, r)| r.clone())
            .collect();
        let find_org = |party: Option<&crate::message::Party>| {
            party.and_then(|p| {
                crate::message::resolve(bundle, previous_header_url(bundle), &p.reference).cloned()
            })
        };
        // The previous receiver is the new sender; keep its resource (and id) when present.
        let sender_resource =
            find_org(id.receiver.as_ref()).unwrap_or_else(|| organization(&sender));
        let (receiver, receiver_resource) = match to {
            Some(new_receiver) => {
                let r = organization(&new_receiver);
                (new_receiver, r)
            }
            None => {
                let prev_sender = id.sender.as_ref();
                let org = Organization {
                    ean: prev_sender.and_then(|p| p.ean.clone()).unwrap_or_default(),
                    sor_id: prev_sender
                        .and_then(|p| p.sor_id.clone())
                        .unwrap_or_default(),
                    name: prev_sender.and_then(|p| p.name.clone()).unwrap_or_default(),
                };
                let r = find_org(prev_sender).unwrap_or_else(|| organization(&org));
                (org, r)
            }
        };
        let mut organizations = orgs;
        for extra in [&sender_resource, &receiver_resource] {
            if !organizations.iter().any(|o| o["id"] == extra["id"]) {
                organizations.push(extra.clone());
            }
        }
        let patient = resources_of_type(bundle, "Patient")
            .next()
            .map(|(_, p)| p.clone())
            .unwrap_or_else(test_patient);
        Context {
            base: base.to_string(),
            ids: Ids::fresh(),
            now: super::now_instant(),
            sender_ref: reference_to(&sender_resource),
            receiver_ref: reference_to(&receiver_resource),
            organizations,
            sender,
            receiver,
            patient,
            category: id.category.clone().unwrap_or_else(|| "other".to_string()),
            text: String::new(),
            attachments: Vec::new(),
            captures: BTreeMap::new(),
            previous: Some(previous_view(previous)),
            response_code: None,
            issues: Vec::new(),
            hn: None,
        }
    }

    /// The context as the JSON handlebars renders from.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

pub(super) fn previous_header_url(bundle: &Value) -> &str {
    crate::message::pointer(bundle, "/entry/0/fullUrl")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The view of a previous message that the follow-up templates use.
///
/// - `letter_id`, `thread_id`, `topic`;
/// - `header_full_url`: the previous MessageHeader's `entry[0].fullUrl` (an acknowledgement's
///   Provenance points at it in the same form, as MedCom's Acknowledgement TestScripts compare);
/// - `provenances`: every Provenance resource, in order (a follow-up carries them all);
/// - `latest_provenance`: the one targeting the previous MessageHeader (an acknowledgement copies it);
/// - `payload`: every payload segment as it was (a forward keeps attachment data);
/// - `payload_reference_only`: the same with attachment `data`, `url`, `size` and `hash` removed
///   (a reply keeps contentType and title only);
/// - `authors`: Practitioner, PractitionerRole and CareTeam resources the segments refer to.
fn previous_view(previous: &Message) -> Value {
    let bundle = &previous.resource;
    let provenances: Vec<Value> = resources_of_type(bundle, "Provenance")
        .map(|(_, p)| p.clone())
        .collect();
    let latest = previous
        .identity
        .own_provenance()
        .and_then(|own| {
            provenances
                .iter()
                .find(|p| p["id"].as_str() == own.id.as_deref())
        })
        .cloned()
        .unwrap_or(Value::Null);
    let communication = resources_of_type(bundle, "Communication")
        .next()
        .map(|(_, c)| c);
    let payload: Vec<Value> = communication
        .and_then(|c| c.get("payload"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let reference_only: Vec<Value> = payload
        .iter()
        .map(|seg| {
            let mut seg = seg.clone();
            if let Some(att) = seg
                .get_mut("contentAttachment")
                .and_then(Value::as_object_mut)
            {
                for key in ["data", "url", "size", "hash"] {
                    att.remove(key);
                }
            }
            seg
        })
        .collect();
    let authors: Vec<Value> = entries(bundle)
        .iter()
        .filter_map(|e| e.get("resource"))
        .filter(|r| {
            matches!(
                r["resourceType"].as_str(),
                Some("Practitioner" | "PractitionerRole" | "CareTeam")
            )
        })
        .cloned()
        .collect();
    json!({
        "letter_id": previous.identity.letter_id,
        "header_full_url": Some(previous_header_url(bundle)).filter(|u| !u.is_empty()),
        "envelope_id": previous.identity.envelope_id,
        "thread_id": previous.identity.thread_id,
        "topic": communication.and_then(|c| c.get("topic")).cloned(),
        "provenances": provenances,
        "latest_provenance": latest,
        "payload": payload,
        "payload_reference_only": reference_only,
        "authors": authors,
    })
}

impl Context {
    /// A context for the acknowledgement of `acked`, sent by its receiver (`sender` is used when
    /// the acked message names no receiver Organization). Only the two parties' Organizations and
    /// those the copied Provenance's agents refer to are kept.
    pub fn acknowledgement(
        base: &str,
        acked: &Message,
        sender: Organization,
        code: &str,
        issues: Vec<Issue>,
    ) -> Context {
        let mut ctx = Context::follow_up(base, acked, sender, None);
        let mut keep: Vec<String> = vec![ctx.sender_ref.clone(), ctx.receiver_ref.clone()];
        if let Some(latest) = ctx
            .previous
            .as_ref()
            .and_then(|p| p.get("latest_provenance"))
        {
            for agent in latest
                .get("agent")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
            {
                if let Some(r) = agent.pointer("/who/reference").and_then(Value::as_str) {
                    keep.push(r.to_string());
                }
            }
        }
        ctx.organizations.retain(|o| {
            keep.iter().any(|r| {
                crate::message::reference_names(r, "Organization", o["id"].as_str().unwrap_or(""))
            })
        });
        ctx.response_code = Some(code.to_string());
        ctx.issues = issues;
        ctx
    }
}
