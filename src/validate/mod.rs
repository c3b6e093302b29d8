//! Message validation: MedCom rules a receiver applies before it acknowledges (KR6).
//!
//! This module holds the structural rules that need no profile: at least one Provenance
//! (`medcom-messaging-2`), exactly one Patient in a CareCommunication
//! (`medcom-careCommunication-2`), the thread id form (`medcom-uuidv4`), the category code list,
//! references that resolve inside the Bundle, and the attachment rules. Profile validation
//! driven by the IG's StructureDefinitions builds on it.

mod form;
mod medcom;
pub mod profile;
mod settings;

pub use crate::identifier::{is_fhir_id, is_uuid};
pub use medcom::ACTIVITY_CODES;
pub use settings::{
    AckCodes, LetterIdentifier, MIME_VALUE_SET, MimeSet, MimeTypes, Settings, V2Code,
    VALUE_SET_MIME_TYPES,
};

use serde_json::Value;

use crate::arrival::{Arrival, Payload, Unreadable};
use crate::check;
use crate::finding::{Finding, Grade};
use crate::message::{Message, Resolution, entries, resolve_how, resources_of_type};
use crate::rule;

/// The codes of CodeSystem `medcom-careCommunication-categoryCodes` (CareCommunication 5.0).
pub const CATEGORY_CODES: [&str; 18] = [
    "alcohol-and-drug-treatment",
    "assistive-devices",
    "carecoordination",
    "decease",
    "discharge",
    "examination-results",
    "healthcare",
    "home-care-assessment",
    "medicine",
    "nursing",
    "outpatient",
    "psychiatry-social-disability",
    "regarding-referral",
    "telemedicine",
    "training",
    "acute-ambulant",
    "extended-care-responsibility",
    "other",
];

/// The MedCom rules and, when an IG is loaded, profile validation of every entry against its
/// declared or implied profile ([`profile::validate_bundle`]).
pub fn with_profiles(
    message: &Message,
    settings: &Settings,
    ig: Option<&profile::Ig>,
) -> Vec<Finding> {
    let mut out = rules(message, settings, ig);
    if let Some(ig) = ig {
        match ig.release(&message.resource) {
            Ok(profile::Release::Loaded) => {
                out.extend(profile::validate_bundle(ig, &message.resource));
            }
            Ok(profile::Release::Earlier(earlier)) => {
                out.extend(profile::validate_bundle(&earlier, &message.resource));
            }
            Ok(profile::Release::NotLoaded(finding)) => out.push(finding),
            Err(e) => out.push(rule::IG_RELEASE.breach(format!(
                "the IG of the message's release could not be loaded again: {e}"
            ))),
        }
    }
    out
}

/// Every breach (and note) of the MedCom rules in `message`, with the default settings.
pub fn message(message: &Message) -> Vec<Finding> {
    message_with(message, &Settings::default())
}

/// Every breach (and note) of the MedCom rules in `message`, without an IG: the MIME types of
/// [`MimeTypes::ValueSet`] are the built-in copy.
pub fn message_with(message: &Message, settings: &Settings) -> Vec<Finding> {
    rules(message, settings, None)
}

fn rules(message: &Message, settings: &Settings, ig: Option<&profile::Ig>) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(medcom::ids(message));
    out.extend(medcom::time_zones(message));
    out.extend(medcom::provenance(message, settings.letter_identifier));
    out.extend(medcom::parties(message));
    if let Some(registry) = &settings.registry {
        out.extend(crate::registry::judge(
            registry,
            &registry_parties(message),
            message
                .identity
                .event
                .as_deref()
                .map(crate::registry::MessageType::of_event)
                .as_ref(),
        ));
    }
    out.extend(medcom::size(message, settings));
    out.extend(medcom::hospital_notification(message));
    out.extend(form::xml_encoding(message));
    out.extend(form::narratives(message));
    let bundle = &message.resource;
    if resources_of_type(bundle, "Provenance").next().is_none() {
        out.push(
            rule::MESSAGING_2
                .breach("the message has no Provenance")
                .at("Bundle.entry"),
        );
    }
    if message.identity.event.as_deref() == Some("care-communication-message") {
        let patients = resources_of_type(bundle, "Patient").count();
        if patients != 1 {
            out.push(rule::CC_ONE_PATIENT.breach(format!("the CareCommunication has {patients} Patient resources; exactly one is required")).at("Bundle.entry"));
        }
        match message.identity.thread_id.as_deref() {
            Some(t) if is_urn_uuid_v4(t) => {}
            other => out.push(
                rule::UUIDV4.breach(
                    match other {
                        None => "the thread id (Communication.identifier) is missing; it is `urn:uuid:` + a lower-case UUID v4".to_string(),
                        Some(t) => format!("the thread id `{t}` is not `urn:uuid:` + a lower-case UUID v4"),
                    },
                )
                .at("Communication.identifier.value"),
            ),
        }
        match message.identity.category.as_deref() {
            Some(c) if CATEGORY_CODES.contains(&c) => {}
            other => out.push(rule::CC_CATEGORY.breach(match other {
                None => "Communication.category is missing; it is a code of medcom-careCommunication-categoryCodes".to_string(),
                Some(c) => format!("Communication.category `{c}` is not a code of medcom-careCommunication-categoryCodes"),
            }).at("Communication.category")),
        }
        out.extend(
            check::attachments(message, &settings.mime_types.resolve(ig))
                .into_iter()
                .filter(|f| f.grade != Grade::Ok),
        );
    }
    out.extend(references(bundle));
    out
}

/// Validates the bytes of one file: an envelope (VANSEnvelope, ehmiSBDH) against its XML Schema
/// and its payload, or a MedCom message by [`message_bytes`]. What the file is, is decided once
/// ([`Arrival::read`]).
///
/// `schemas` names MedCom's envelope XSDs; without them an envelope's schema is not checked and a
/// finding says so.
pub fn bytes(
    bytes: Vec<u8>,
    settings: &Settings,
    schemas: Option<&crate::envelope::SchemaFiles>,
    ig: Option<&profile::Ig>,
) -> Vec<Finding> {
    let arrival = Arrival::read(&bytes);
    let Some(kind) = arrival.envelope_kind() else {
        return payload(
            &arrival.payload,
            &arrival.bytes,
            settings,
            Some(schemas),
            ig,
        );
    };
    let mut out = envelope_schema(&bytes, settings, schemas);
    if let Some(registry) = &settings.registry
        && let Some((parties, message_type)) = crate::registry::parties_in_xml(&bytes)
    {
        out.extend(crate::registry::judge(
            registry,
            &parties,
            message_type.as_ref(),
        ));
    }
    match &arrival.payload {
        Payload::Unreadable(reason @ (Unreadable::Envelope { .. } | Unreadable::Receipt)) => {
            out.push(rule::ENVELOPE.breach(reason.to_string()));
        }
        carried => {
            out.extend(arrival.envelope_problems());
            // The payload is a message of its own: its findings join only when asked for, so an
            // envelope's verdict is the envelope's.
            let label = match carried {
                Payload::Oioxml(letter) => Some(format!("an OIOXML {}", letter.type_code())),
                Payload::Fhir(m) => Some(format!("{} in FHIR {}", m.label(), m.format)),
                Payload::Unreadable(_) => None,
            };
            if settings.payload {
                let found = payload(carried, &arrival.bytes, settings, Some(schemas), ig);
                out.extend(found.into_iter().map(|mut f| {
                    f.location = Some(format!("payload: {}", f.location.unwrap_or_default()));
                    f
                }));
            } else if let Some(label) = label {
                out.push(rule::ENVELOPE.finding(
                    Grade::Ok,
                    format!("note: the payload is {label}; `--payload` validates it too"),
                ));
            }
        }
    }
    // A finding about the envelope as a whole is located at its document element.
    let root = match kind {
        crate::envelope::EnvelopeKind::Vans => "VANSEnvelope",
        crate::envelope::EnvelopeKind::Sbdh => "StandardBusinessDocument",
    };
    for f in &mut out {
        if f.location.is_none() {
            f.location = Some(root.to_string());
        }
    }
    out
}

/// The XML Schema verdict on an envelope (VANSEnvelope, ehmiSBDH): each schema error an
/// `envelope` breach with its line, the `BinaryContent` setting's remarks as notes; without
/// `schemas` an F4 finding saying the envelope was not schema-validated.
pub fn envelope_schema(
    bytes: &[u8],
    settings: &Settings,
    schemas: Option<&crate::envelope::SchemaFiles>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    match schemas.map(crate::envelope::Validator::shared) {
        Some(Ok(validator)) => match validator.validate(bytes, settings.binary_content) {
            Ok((kind, report)) => {
                if report.errors.is_empty() {
                    out.push(rule::ENVELOPE.pass(format!(
                        "the {} is valid against MedCom's XML Schema",
                        match kind {
                            Some(crate::envelope::EnvelopeKind::Sbdh) => "ehmiSBDH",
                            _ => "VANSEnvelope",
                        }
                    )));
                }
                for e in &report.errors {
                    out.push(
                        rule::ENVELOPE
                            .breach(format!("XML Schema: {}", e.message))
                            .at(e
                                .line
                                .map_or_else(|| "envelope".to_string(), |l| format!("line {l}"))),
                    );
                }
                for n in report.notes.iter().chain(report.overruled.iter()) {
                    out.push(rule::ENVELOPE.finding(Grade::Ok, format!("note: {n}")));
                }
            }
            Err(e) => out.push(
                rule::ENVELOPE.breach(format!("the envelope could not be schema-validated: {e}")),
            ),
        },
        Some(Err(e)) => out.push(rule::ENVELOPE.finding(
            Grade::F4,
            format!("the envelope schemas could not be loaded: {e}"),
        )),
        None => out.push(rule::ENVELOPE.finding(
            Grade::F4,
            "the envelope was not schema-validated: no XSDs (set MEDCOM_CORPUS or --schemas)",
        )),
    }
    out
}

/// Validates the bytes of one file as a MedCom message: well-formedness, the MedCom rules and,
/// for an acknowledgement, its own consistency ([`check::acknowledgement_alone`]). The bytes are
/// read as a payload ([`Payload::read`]): an envelope is not unwrapped here.
pub fn message_bytes(
    bytes: Vec<u8>,
    settings: &Settings,
    ig: Option<&profile::Ig>,
) -> Vec<Finding> {
    payload(&Payload::read(&bytes), &bytes, settings, None, ig)
}

/// The findings on one payload (`bytes`, as it arrived): for a classic letter or receipt MedCom's
/// OIOXML schema of its release and the structure rules a schema cannot say
/// ([`crate::oioxml::schema::judge`]; `schemas` is `None` where no schema validation is asked
/// for at all, as in [`message_bytes`], and `Some(None)` where it was asked for but no schemas
/// are known, which a note says); a letter of a release the harness does not read is an
/// `oioxml-release` finding naming it (with the schema's verdict when the release is in the
/// schema folder); the MedCom rules (and profiles, with `ig`) for a FHIR message;
/// `well-formed` for what cannot be read.
fn payload(
    payload: &Payload,
    bytes: &[u8],
    settings: &Settings,
    schemas: Option<Option<&crate::envelope::SchemaFiles>>,
    ig: Option<&profile::Ig>,
) -> Vec<Finding> {
    match payload {
        Payload::Oioxml(letter) => match schemas {
            Some(schemas) => crate::oioxml::schema::judge(schemas, bytes, letter),
            None => crate::oioxml::structure::check(letter),
        }
        .into_iter()
        .filter(|f| f.grade != Grade::Ok)
        .chain(oioxml_registry(bytes, settings))
        .collect(),
        Payload::Unreadable(Unreadable::Oioxml(error)) => {
            oioxml_unread(error, bytes, schemas.flatten())
        }
        Payload::Unreadable(reason) => {
            vec![rule::WELL_FORMED.breach(reason.to_string())]
        }
        Payload::Fhir(m) => {
            let mut out = with_profiles(m, settings, ig);
            if m.is_acknowledgement() {
                out.extend(
                    check::acknowledgement_alone(m)
                        .into_iter()
                        .filter(|f| f.grade != Grade::Ok),
                );
            }
            out
        }
    }
}

/// The registry's findings on the parties of a classic letter (none without a registry).
fn oioxml_registry(bytes: &[u8], settings: &Settings) -> Vec<Finding> {
    match (&settings.registry, crate::registry::parties_in_xml(bytes)) {
        (Some(registry), Some((parties, message_type))) => {
            crate::registry::judge(registry, &parties, message_type.as_ref())
        }
        _ => Vec::new(),
    }
}

/// The sender and primary receiver of a FHIR message as the registry checks them.
fn registry_parties(message: &Message) -> Vec<crate::registry::Party> {
    [
        (
            crate::registry::Role::Sender,
            &message.identity.sender,
            "MessageHeader.sender",
        ),
        (
            crate::registry::Role::Receiver,
            &message.identity.receiver,
            "MessageHeader.destination.receiver",
        ),
    ]
    .into_iter()
    .filter_map(|(role, party, at)| {
        let p = party.as_ref()?;
        Some(crate::registry::Party {
            role,
            gln: p.ean.clone(),
            sor_id: p.sor_id.clone(),
            location: at.to_string(),
        })
    })
    .collect()
}

/// The findings on an `Emessage` the harness could not read into its model. A letter of a
/// release it does not read is `oioxml-release`, naming the namespace and the letter, with
/// MedCom's schema's verdict when the release is in the schema folder. Structure the model cannot
/// hold is said in the schema's words when the schema ran and found errors, else as
/// `oioxml-structure`. What is not XML at all stays `well-formed`.
fn oioxml_unread(
    error: &crate::oioxml::OioxmlError,
    bytes: &[u8],
    schemas: Option<&crate::envelope::SchemaFiles>,
) -> Vec<Finding> {
    use crate::oioxml::OioxmlError;
    let schema = || {
        crate::oioxml::schema::unread(schemas, bytes)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f.grade != Grade::Ok)
            .collect::<Vec<_>>()
    };
    match error {
        OioxmlError::UnknownRelease {
            namespace, letter, ..
        } => {
            let letter = if letter.is_empty() {
                "no letter".to_string()
            } else {
                format!("the letter `{letter}`")
            };
            let mut out = vec![
                rule::OIOXML_RELEASE.breach(format!(
                        "`Emessage` in namespace `{namespace}` with {letter} is of a release the harness does not read (it reads XDIS91, XBIN01, XCTL01/02/03, the home care letters XDIS14/16/17/18/19/20 and the LÆ forms XLA121-XLA215 in the namespaces of MedCom's schemas for them); the letter was not judged"
                    ),
                )
                .at(format!("line {}", error.line())),
            ];
            out.extend(schema());
            out
        }
        OioxmlError::Structure { .. } | OioxmlError::Namespace { .. } => {
            let found = schema();
            if found.iter().any(|f| f.rule == rule::OIOXML_SCHEMA.id) {
                found
            } else {
                vec![
                    rule::OIOXML_STRUCTURE
                        .breach(error.to_string())
                        .at(error.path().unwrap_or("Emessage")),
                ]
            }
        }
        _ => vec![rule::WELL_FORMED.breach(Unreadable::Oioxml(error.clone()).to_string())],
    }
}

/// `urn:uuid:` + a lower-case UUID, as the expression of invariant `medcom-uuidv4` reads
/// (`urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`). The invariant's name
/// promises version 4 but its expression does not test the version nibble, and published examples
/// use version-1 UUIDs, so neither does this.
pub fn is_urn_uuid_v4(text: &str) -> bool {
    let Some(u) = text.strip_prefix("urn:uuid:") else {
        return false;
    };
    u.len() == 36
        && u.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

fn references(bundle: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, e) in entries(bundle).iter().enumerate() {
        let from = e.get("fullUrl").and_then(Value::as_str).unwrap_or("");
        let Some(resource) = e.get("resource") else {
            continue;
        };
        let mut refs = Vec::new();
        if resource.get("resourceType").and_then(Value::as_str) == Some("Provenance") {
            // A Provenance's target and entity name earlier messages, which a follow-up carries
            // the history of but not the MessageHeaders themselves; only its agents must resolve.
            if let Some(agents) = resource.get("agent") {
                collect_references(agents, &mut refs);
            }
        } else {
            collect_references(resource, &mut refs);
        }
        for r in refs {
            if r.starts_with('#') {
                continue;
            }
            match resolve_how(bundle, from, r) {
                Some((_, Resolution::Rules)) => continue,
                Some((_, Resolution::TypeAndId)) => {
                    out.push(
                        rule::REFERENCES_RESOLVE
                            .finding(Grade::F3, format!(
                                "reference `{r}` from the entry with fullUrl `{from}` finds its entry only by resource type and id, not by FHIR's Bundle rules (a relative reference resolves against the referencing entry's fullUrl base; a `urn:uuid:` fullUrl is referenced only by that `urn:uuid:`)"
                            ))
                            .at(format!("Bundle.entry[{i}].resource")),
                    );
                    continue;
                }
                None => {}
            }
            out.push(
                rule::REFERENCES_RESOLVE
                    .breach(format!(
                        "reference `{r}` resolves to no entry of the Bundle"
                    ))
                    .at(format!("Bundle.entry[{i}].resource")),
            );
        }
    }
    out
}

fn collect_references<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "reference" {
                    if let Some(s) = child.as_str() {
                        out.push(s);
                    }
                } else {
                    collect_references(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|c| collect_references(c, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urn_uuid_v4_form() {
        assert!(is_urn_uuid_v4(
            "urn:uuid:cefe0dee-13b5-4bec-a843-09b4d58e4fe6"
        ));
        assert!(!is_urn_uuid_v4("cefe0dee-13b5-4bec-a843-09b4d58e4fe6"));
        assert!(!is_urn_uuid_v4(
            "urn:uuid:cefe0dee-13b5-4bec-a843-09b4d58e4fe"
        ));
        assert!(!is_urn_uuid_v4(
            "urn:uuid:CEFE0DEE-13B5-4BEC-A843-09B4D58E4FE6"
        ));
    }
}

#[cfg(test)]
mod rule_tests {
    //! Each rule on a small message of our own that breaks only that rule: a fresh
    //! CareCommunication from the built-in template, changed in one place.

    use super::*;
    use crate::message::Format;
    use crate::template::{Context, Organization, Templates};
    use serde_json::json;

    fn org(ean: &str, sor: &str) -> Organization {
        Organization {
            ean: ean.into(),
            sor_id: sor.into(),
            name: "Test".into(),
        }
    }

    fn fresh() -> Value {
        let mut ctx = Context::new_message(
            "https://test.example/fhir/",
            org("5790000000012", "999991000016001"),
            org("5790000000029", "999981000016002"),
        );
        ctx.text = "Hej".into();
        Templates::builtin()
            .render_resource("carecommunication/new", &ctx)
            .expect("template renders")
    }

    fn rules_broken(v: &Value) -> Vec<String> {
        let m = Message::encode(v, Format::Json).expect("encodes");
        message(&m)
            .into_iter()
            .filter(|f| f.grade != Grade::Ok)
            .map(|f| f.rule.to_string())
            .collect()
    }

    fn entry_of<'a>(v: &'a mut Value, rtype: &str) -> &'a mut Value {
        let entries = v["entry"].as_array_mut().expect("entries");
        let e = entries
            .iter_mut()
            .find(|e| e["resource"]["resourceType"] == rtype)
            .expect("entry");
        &mut e["resource"]
    }

    #[test]
    fn the_template_message_breaks_no_rule() {
        assert_eq!(rules_broken(&fresh()), Vec::<String>::new());
    }

    #[test]
    fn invalid_bundle_id_breaks_fhir_id() {
        let mut v = fresh();
        v["id"] = json!("not valid!");
        assert_eq!(rules_broken(&v), vec!["fhir-id"]);
    }

    #[test]
    fn non_uuid_id_is_only_a_note() {
        let mut v = fresh();
        v["id"] = json!("gfd00bc2-9c26-4174-934e-f6e4360845de");
        let m = Message::encode(&v, Format::Json).expect("encodes");
        let notes: Vec<_> = message(&m)
            .into_iter()
            .filter(|f| f.rule == "fhir-id")
            .collect();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].grade, Grade::Ok);
    }

    #[test]
    fn a_time_without_zone_breaks_time_zone() {
        let mut v = fresh();
        v["timestamp"] = json!("2024-06-01T13:55:00");
        assert_eq!(rules_broken(&v), vec!["time-zone"]);
        // A zone in the basic form (`+0100`) is named as a malformed zone, not a missing one.
        v["timestamp"] = json!("2024-06-01T13:55:00+0100");
        let m = Message::encode(&v, Format::Json).expect("encodes");
        let f: Vec<_> = message(&m)
            .into_iter()
            .filter(|f| f.rule == "time-zone")
            .collect();
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("not `Z` or `±hh:mm`"), "{f:?}");
    }

    #[test]
    fn a_provenance_for_another_header_breaks_provenance_own() {
        let mut v = fresh();
        entry_of(&mut v, "Provenance")["target"] =
            json!([{"reference": "MessageHeader/0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10"}]);
        assert_eq!(rules_broken(&v), vec!["provenance-own"]);
    }

    /// MedCom's receive examples R-Tek-M and R-Tek-N (`dublicate-inv`, expected `fatal-error`)
    /// have a new-message Provenance whose only payload entity names no segment of the message.
    #[test]
    fn a_provenance_naming_no_segment_breaks_provenance_payload() {
        let mut v = fresh();
        entry_of(&mut v, "Provenance")["entity"] = json!([
            {"role": "source", "what": {"identifier": {"value": "urn:uuid:69badd84-ec6d-475f-bedf-d6671b11865d"}}}
        ]);
        assert_eq!(rules_broken(&v), vec!["provenance-payload"]);
    }

    /// MedCom's IG example gfd00bc2 names two ids beside the segment it adds; the profile's
    /// words ask only that the added segments are named, so a further id is a note (F4).
    #[test]
    fn a_further_unknown_payload_entity_is_a_note() {
        let mut v = fresh();
        entry_of(&mut v, "Provenance")["entity"]
            .as_array_mut()
            .expect("entities")
            .push(json!({"role": "source", "what": {"identifier": {"value": "urn:uuid:f9cf2547-7a1c-4639-9fd3-9f717556ad36"}}}));
        let m = Message::encode(&v, Format::Json).expect("encodes");
        let f: Vec<_> = message(&m)
            .into_iter()
            .filter(|f| f.grade != Grade::Ok)
            .collect();
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].rule.as_str(), f[0].grade),
            ("provenance-payload", Grade::F4)
        );
    }

    #[test]
    fn retract_message_breaks_activity_allowed_for_carecommunication_5() {
        let mut v = fresh();
        entry_of(&mut v, "Provenance")["activity"]["coding"][0]["code"] = json!("retract-message");
        assert_eq!(rules_broken(&v), vec!["activity-allowed"]);
    }

    #[test]
    fn a_bad_ean_check_digit_breaks_party_identifiers() {
        let mut v = fresh();
        let sender = v["entry"][0]["resource"]["sender"]["reference"]
            .as_str()
            .expect("ref")
            .rsplit('/')
            .next()
            .expect("id")
            .to_string();
        let entries = v["entry"].as_array_mut().expect("entries");
        let org = entries
            .iter_mut()
            .find(|e| e["resource"]["id"] == sender.as_str())
            .expect("sender org");
        org["resource"]["identifier"][0]["value"] = json!("5790000000013");
        assert_eq!(rules_broken(&v), vec!["party-identifiers"]);
    }

    #[test]
    fn a_second_patient_breaks_one_patient() {
        let mut v = fresh();
        let patient = v["entry"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["resource"]["resourceType"] == "Patient")
            .cloned()
            .expect("patient");
        let mut other = patient;
        other["resource"]["id"] = json!("other-patient");
        other["fullUrl"] = json!("https://test.example/fhir/Patient/other-patient");
        v["entry"].as_array_mut().expect("entries").push(other);
        assert_eq!(rules_broken(&v), vec!["medcom-careCommunication-2"]);
    }

    #[test]
    fn a_thread_id_without_urn_uuid_breaks_uuidv4() {
        let mut v = fresh();
        entry_of(&mut v, "Communication")["identifier"][0]["value"] = json!("thread-42");
        assert_eq!(rules_broken(&v), vec!["medcom-uuidv4"]);
    }

    #[test]
    fn an_unknown_category_breaks_cc_category() {
        let mut v = fresh();
        entry_of(&mut v, "Communication")["category"][0]["coding"][0]["code"] = json!("gossip");
        let broken = rules_broken(&v);
        assert_eq!(broken, vec!["cc-category"]);
    }

    #[test]
    fn no_provenance_breaks_messaging_2() {
        let mut v = fresh();
        v["entry"]
            .as_array_mut()
            .expect("entries")
            .retain(|e| e["resource"]["resourceType"] != "Provenance");
        assert_eq!(rules_broken(&v), vec!["medcom-messaging-2"]);
    }

    #[test]
    fn a_dangling_reference_breaks_references_resolve() {
        let mut v = fresh();
        entry_of(&mut v, "Communication")["subject"]["reference"] = json!("Patient/nobody");
        assert_eq!(rules_broken(&v), vec!["references-resolve"]);
    }

    /// FHIR R4 bundle.html#references: "a urn:uuid: fullUrl can only be referenced by the same
    /// urn:uuid:" and a relative reference resolves against the referencing entry's base. A
    /// Patient under a `urn:uuid:` fullUrl named `Patient/<id>` matches only by type and id: an
    /// F3 finding, not a dangling reference.
    #[test]
    fn a_reference_resolving_only_by_type_and_id_is_an_f3_references_finding() {
        let mut v = fresh();
        let id = entry_of(&mut v, "Patient")["id"]
            .as_str()
            .expect("patient id")
            .to_string();
        for e in v["entry"].as_array_mut().expect("entries") {
            if e["resource"]["resourceType"] == "Patient" {
                e["fullUrl"] = json!(format!("urn:uuid:{id}"));
            }
        }
        let m = Message::encode(&v, Format::Json).expect("encodes");
        let found: Vec<_> = message(&m)
            .into_iter()
            .filter(|f| f.rule == "references-resolve" && f.grade != Grade::Ok)
            .collect();
        assert!(!found.is_empty(), "{found:?}");
        assert!(found.iter().all(|f| f.grade == Grade::F3), "{found:?}");
        assert!(
            found[0].message.contains("type and id"),
            "{}",
            found[0].message
        );
        // Referenced as the same urn:uuid:, it resolves by the rules.
        for e in v["entry"].as_array_mut().expect("entries") {
            if e["resource"]["resourceType"] == "Communication" {
                e["resource"]["subject"]["reference"] = json!(format!("urn:uuid:{id}"));
            }
        }
        let m = Message::encode(&v, Format::Json).expect("encodes");
        let subject_found = message(&m).into_iter().any(|f| {
            f.rule == "references-resolve"
                && f.grade != Grade::Ok
                && f.location.as_deref().is_some_and(|l| {
                    v["entry"]
                        .as_array()
                        .expect("entries")
                        .iter()
                        .enumerate()
                        .any(|(i, e)| {
                            e["resource"]["resourceType"] == "Communication"
                                && l == format!("Bundle.entry[{i}].resource")
                        })
                })
                && f.message.contains(&format!("`Patient/{id}`"))
        });
        assert!(
            !subject_found,
            "the urn:uuid: subject resolves by FHIR's rules"
        );
    }

    /// MedCom's CareCommunication 4.0.0 package example (`MessageHeader.definition …|4.0.0`)
    /// validated with only the 5.0 IG loaded: one `ig-release` finding, no 5.0 invariant.
    #[test]
    fn a_4_0_message_with_only_5_0_loaded_gets_one_finding_that_its_release_is_not_loaded() {
        let corpus = crate::test_corpus();
        let file = std::fs::File::open(
            corpus.join("medcomfhir-website/ig-packages/carecommunication-4.0.0.package.tgz"),
        )
        .expect("the 4.0.0 package");
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut bytes = Vec::new();
        for entry in archive.entries().expect("tar") {
            let mut entry = entry.expect("entry");
            let name = entry.path().expect("path").to_string_lossy().into_owned();
            if name == "package/example/Bundle-0d5b3c18-fab6-4d93-9d88-c9c8abf1f18c.json" {
                std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read");
            }
        }
        let m = Message::parse(bytes, None).expect("a 4.0 message");
        let ig = profile::Ig::load(&corpus.join("medcomfhir-website/ig")).expect("5.0 IG");
        let found: Vec<_> = with_profiles(&m, &Settings::default(), Some(&ig))
            .into_iter()
            .filter(|f| f.grade != Grade::Ok)
            .collect();
        assert_eq!(
            found.iter().map(|f| f.rule.to_string()).collect::<Vec<_>>(),
            vec!["ig-release"],
            "{found:#?}"
        );
    }

    #[test]
    fn an_exe_attachment_breaks_the_mime_rule() {
        let mut v = fresh();
        entry_of(&mut v, "Communication")["payload"].as_array_mut().expect("payload").push(json!({
            "contentAttachment": {"contentType": "application/x-msdownload", "data": "TVqQAAMAAAAEAAAA", "title": "virus"}
        }));
        assert_eq!(rules_broken(&v), vec!["cc-attachment-mime"]);
    }

    /// A small HospitalNotification of our own: admit-inpatient, Encounter `status`/`class` given.
    fn hospital_notification(status: &str, class: &str) -> Message {
        let v = json!({
            "resourceType": "Bundle", "id": "6b1f2c3e-8a4d-4f10-9a2b-1c2d3e4f5a6b", "type": "message",
            "timestamp": "2026-11-29T10:00:00+01:00",
            "entry": [
                {"fullUrl": "https://t.example/MessageHeader/7c1f2c3e-8a4d-4f10-9a2b-1c2d3e4f5a6b", "resource": {
                    "resourceType": "MessageHeader", "id": "7c1f2c3e-8a4d-4f10-9a2b-1c2d3e4f5a6b",
                    "eventCoding": {"code": "hospital-notification-message"},
                    "focus": [{"reference": "Encounter/e1"}]}},
                {"fullUrl": "https://t.example/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"}},
                {"fullUrl": "https://t.example/Encounter/e1", "resource": {
                    "resourceType": "Encounter", "id": "e1", "status": status, "class": {"code": class}}},
                {"fullUrl": "https://t.example/Provenance/v1", "resource": {
                    "resourceType": "Provenance", "id": "v1",
                    "target": [{"reference": "MessageHeader/7c1f2c3e-8a4d-4f10-9a2b-1c2d3e4f5a6b"}],
                    "activity": {"coding": [{"code": "admit-inpatient"}]}}}
            ]
        });
        Message::encode(&v, Format::Json).expect("encodes")
    }

    #[test]
    fn an_admission_with_a_finished_encounter_breaks_hn_consistency() {
        assert!(
            medcom::hospital_notification(&hospital_notification("in-progress", "IMP")).is_empty()
        );
        let broken: Vec<_> =
            medcom::hospital_notification(&hospital_notification("finished", "IMP"))
                .into_iter()
                .map(|f| f.rule)
                .collect();
        assert_eq!(broken, vec!["hn-consistency"]);
        let wrong_class: Vec<_> =
            medcom::hospital_notification(&hospital_notification("in-progress", "EMER"))
                .into_iter()
                .map(|f| f.rule)
                .collect();
        assert_eq!(wrong_class, vec!["hn-consistency"]);
    }

    #[test]
    fn a_message_over_the_limit_breaks_the_size_rule() {
        let m = Message::encode(&fresh(), Format::Json).expect("encodes");
        let settings = Settings {
            size_limit: 100,
            size_warning: 50,
            ..Settings::default()
        };
        let broken: Vec<_> = message_with(&m, &settings)
            .into_iter()
            .filter(|f| f.grade != Grade::Ok)
            .map(|f| f.rule.to_string())
            .collect();
        assert_eq!(broken, vec!["cc-attachment-size"]);
        // The same message under the default limits breaks nothing.
        assert!(
            message_with(&m, &Settings::default())
                .iter()
                .all(|f| f.grade == Grade::Ok)
        );
    }

    fn broken_with(v: &Value, settings: &Settings) -> Vec<String> {
        let m = Message::encode(v, Format::Json).expect("encodes");
        message_with(&m, settings)
            .into_iter()
            .filter(|f| f.grade != Grade::Ok)
            .map(|f| f.rule.to_string())
            .collect()
    }

    /// The template message with a preceding OIOXML letter named by `value` in its Provenance.
    fn following_a_letter(value: &str) -> Value {
        let mut v = fresh();
        let p = entry_of(&mut v, "Provenance");
        p["entity"]
            .as_array_mut()
            .expect("the template's Provenance has entities")
            .push(json!({"role": "revision", "what": {"identifier": {"value": value}}}));
        v
    }

    #[test]
    fn a_classic_oioxml_letter_is_judged_by_the_oioxml_structure_rules() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/oioxml/xdis91.xml");
        let good = std::fs::read(&path).expect("our XDIS91 fixture");
        assert_eq!(
            message_bytes(good.clone(), &Settings::default(), None),
            vec![]
        );
        // XDIS91 requires Letter/VersionCode (OIOXML XD9134L).
        let text = String::from_utf8_lossy(&good);
        let start = text.find("<VersionCode>").expect("has a VersionCode");
        let end = text.find("</VersionCode>").expect("closes") + "</VersionCode>".len();
        let broken = format!("{}{}", &text[..start], &text[end..]);
        let findings = message_bytes(broken.into_bytes(), &Settings::default(), None);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].rule, "oioxml-structure");
        assert_eq!(
            findings[0].location.as_deref(),
            Some("Emessage.ClinicalEmail.Letter.VersionCode")
        );
    }

    fn graded_with(v: &Value, settings: &Settings) -> Vec<(String, Grade)> {
        let m = Message::encode(v, Format::Json).expect("encodes");
        message_with(&m, settings)
            .into_iter()
            .filter(|f| f.grade != Grade::Ok)
            .map(|f| (f.rule.to_string(), f.grade))
            .collect()
    }

    #[test]
    fn a_letter_identifier_follows_the_configured_order() {
        let default = Settings::default();
        let rule = || "provenance-letter-identifier".to_string();
        // `[lokationsnummer]#[brevid]` as the Provenance profile says.
        assert_eq!(
            graded_with(&following_a_letter("5790000000029#B000042"), &default),
            vec![]
        );
        // The other order, as MedCom's example k7bfbc0c has it: the letter is still found, F4.
        assert_eq!(
            graded_with(&following_a_letter("B000042#5790000000029"), &default),
            vec![(rule(), Grade::F4)]
        );
        // No `#`, or no valid EAN/GLN in either place (a wrong GS1 check digit): F3.
        assert_eq!(
            graded_with(&following_a_letter("B000042"), &default),
            vec![(rule(), Grade::F3)]
        );
        assert_eq!(
            graded_with(&following_a_letter("5790000000028#B000042"), &default),
            vec![(rule(), Grade::F3)]
        );
        let swapped = Settings {
            letter_identifier: LetterIdentifier::LetterThenLocation,
            ..Settings::default()
        };
        assert_eq!(
            graded_with(&following_a_letter("B000042#5790000000029"), &swapped),
            vec![]
        );
        assert_eq!(
            graded_with(&following_a_letter("5790000000029#B000042"), &swapped),
            vec![(rule(), Grade::F4)]
        );
    }

    #[test]
    fn the_allowed_mime_types_are_a_setting() {
        let mut v = fresh();
        let c = entry_of(&mut v, "Communication");
        c["payload"].as_array_mut().expect("payload").push(json!({
            "contentAttachment": {"contentType": "text/plain", "data": "SGVq", "title": "note"}
        }));
        assert_eq!(
            broken_with(&v, &Settings::default()),
            vec!["cc-attachment-mime"]
        );
        let own = Settings {
            mime_types: MimeTypes::List(vec!["application/pdf".into(), "text/plain".into()]),
            ..Settings::default()
        };
        assert_eq!(broken_with(&v, &own), Vec::<String>::new());
    }
}
