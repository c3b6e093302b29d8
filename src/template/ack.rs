//! An acknowledgement Bundle built directly, without rendering the `acknowledgement/ack` template.
//!
//! The reference vendor acknowledges every message it receives, and `serve` is a load target:
//! rendering the template meant serializing a context that held a view of the whole acknowledged
//! message (its payload, attachment data included, twice), running handlebars and parsing the
//! text again. [`acknowledgement`] writes the same resource from the acknowledged message's
//! Bundle, copying only the Organizations and the Provenance the acknowledgement carries. The
//! built-in template stays as the readable form of the same Bundle (and what a scenario's own
//! template is measured against); a test checks the two agree.
//!
//! The shape is MedCom's Acknowledgement IG (medcom-messaging-acknowledgement,
//! <http://medcomfhir.dk/ig/acknowledgement/>): a MessageHeader with `response.identifier` = the
//! acknowledged MessageHeader.id and `response.code`, the acknowledged message's own Provenance,
//! a new Provenance (activity `acknowledgement`, entity `revision` = the acknowledged
//! MessageHeader), the two parties' Organizations and, for a non-ok code with issues, an
//! OperationOutcome.

use serde_json::{Value, json};

use super::context::{Issue, Organization, organization, previous_header_url, reference_to};
use crate::message::{Message, resolve, resources_of_type};

/// The ids and instant an acknowledgement is written with (UUID v4, lower case; FHIR instant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckIds {
    /// Bundle.id.
    pub bundle: String,
    /// MessageHeader.id.
    pub header: String,
    /// The new Provenance.id.
    pub provenance: String,
    /// OperationOutcome.id (used when there are issues).
    pub outcome: String,
    /// Bundle.timestamp and the Provenance's `occurredDateTime` and `recorded`.
    pub now: String,
}

impl AckIds {
    /// Fresh UUIDs and the current instant.
    pub fn fresh() -> AckIds {
        let u = || uuid::Uuid::new_v4().to_string();
        AckIds {
            bundle: u(),
            header: u(),
            provenance: u(),
            outcome: u(),
            now: crate::message::now_instant(),
        }
    }
}

/// The acknowledgement of `acked` with `code` and `issues`, sent by its receiver: the receiver
/// Organization the acked message names, or a new one for `sender` when it names none. `base`
/// starts every `fullUrl` (ends with `/`).
pub fn acknowledgement(
    base: &str,
    acked: &Message,
    sender: &Organization,
    code: &str,
    issues: &[Issue],
    ids: &AckIds,
) -> Value {
    let bundle = &acked.resource;
    let identity = &acked.identity;
    let header_url = previous_header_url(bundle);
    let find_org = |party: Option<&crate::message::Party>| {
        party.and_then(|p| resolve(bundle, header_url, &p.reference))
    };
    // The acked message's receiver answers; its sender is answered.
    let sender_resource = find_org(identity.receiver.as_ref())
        .cloned()
        .unwrap_or_else(|| organization(sender));
    let party = identity.sender.as_ref();
    let receiver = Organization {
        ean: party.and_then(|p| p.ean.clone()).unwrap_or_default(),
        sor_id: party.and_then(|p| p.sor_id.clone()).unwrap_or_default(),
        name: party.and_then(|p| p.name.clone()).unwrap_or_default(),
    };
    let receiver_resource = find_org(party)
        .cloned()
        .unwrap_or_else(|| organization(&receiver));
    let sender_ref = reference_to(&sender_resource);
    let receiver_ref = reference_to(&receiver_resource);
    // The acked message's own Provenance (the one targeting its MessageHeader), copied as is.
    let latest = identity.own_provenance().and_then(|own| {
        resources_of_type(bundle, "Provenance")
            .map(|(_, p)| p)
            .find(|p| p["id"].as_str() == own.id.as_deref())
    });
    // Only the Organizations the acknowledgement refers to: its two parties and the agents of
    // the copied Provenance.
    let mut keep: Vec<&str> = vec![&sender_ref, &receiver_ref];
    if let Some(agents) = latest
        .and_then(|p| p.get("agent"))
        .and_then(Value::as_array)
    {
        keep.extend(
            agents.iter().filter_map(|a| {
                crate::message::pointer(a, "/who/reference").and_then(Value::as_str)
            }),
        );
    }
    let referenced = |o: &Value| {
        keep.iter().any(|r| {
            crate::message::reference_names(r, "Organization", o["id"].as_str().unwrap_or(""))
        })
    };
    let mut organizations: Vec<Value> = resources_of_type(bundle, "Organization")
        .map(|(_, o)| o)
        .filter(|o| referenced(o))
        .cloned()
        .collect();
    for extra in [sender_resource, receiver_resource] {
        if !organizations.iter().any(|o| o["id"] == extra["id"]) && referenced(&extra) {
            organizations.push(extra);
        }
    }
    let letter_id = identity.letter_id.as_deref().unwrap_or_default();
    let header_full = format!("{base}MessageHeader/{}", ids.header);
    let mut response = json!({"identifier": letter_id, "code": code});
    if !issues.is_empty() {
        response["details"] = json!({"reference": format!("OperationOutcome/{}", ids.outcome)});
    }
    // `json!` serializes every expression it is given into a new Value; what is already a Value
    // (the response, copied resources, the entries) is moved in after, in the same key order.
    let mut entries = Vec::with_capacity(4 + organizations.len());
    let mut header = json!({
        "resourceType": "MessageHeader",
        "id": ids.header,
        "meta": {"profile": ["http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgementHeader"]},
        "eventCoding": {"system": "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes", "code": "acknowledgement-message"},
        "destination": [{
            "extension": [{"url": "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension",
                           "valueCoding": {"system": "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse", "code": "primary"}}],
            "endpoint": format!("https://sor2.sum.dsdn.dk/#id={}", receiver.sor_id),
            "receiver": {"reference": receiver_ref}
        }],
        "sender": {"reference": sender_ref},
        "source": {"endpoint": format!("https://sor2.sum.dsdn.dk/#id={}", sender.sor_id)}
    });
    header["response"] = response;
    entries.push(entry(header_full.clone(), header));
    if let Some(latest) = latest.filter(|p| p.as_object().is_some_and(|o| !o.is_empty())) {
        entries.push(entry(
            format!("{base}Provenance/{}", text_of(&latest["id"])),
            latest.clone(),
        ));
    }
    let revision = if header_url.is_empty() {
        format!("MessageHeader/{letter_id}")
    } else {
        header_url.to_string()
    };
    entries.push(entry(
        format!("{base}Provenance/{}", ids.provenance),
        json!({
            "resourceType": "Provenance",
            "id": ids.provenance,
            "meta": {"profile": ["http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-provenance"]},
            "target": [{"reference": header_full}],
            "occurredDateTime": ids.now,
            "recorded": ids.now,
            "activity": {"coding": [{"system": "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes", "code": "acknowledgement"}]},
            "agent": [{"who": {"reference": sender_ref}}],
            "entity": [{"role": "revision", "what": {"reference": revision}}]
        }),
    ));
    for org in organizations {
        entries.push(entry(
            format!("{base}Organization/{}", text_of(&org["id"])),
            org,
        ));
    }
    if !issues.is_empty() {
        let issue: Vec<Value> = issues
            .iter()
            .map(|i| {
                let mut issue = json!({
                    "severity": i.severity,
                    "code": i.code,
                    "details": {"coding": [{"system": i.system, "code": i.details}]},
                    "diagnostics": i.diagnostics
                });
                if let Some(e) = i.expression.as_deref().filter(|e| !e.is_empty()) {
                    issue["expression"] = json!([e]);
                }
                issue
            })
            .collect();
        let mut outcome = json!({
            "resourceType": "OperationOutcome",
            "id": ids.outcome,
            "meta": {"profile": ["http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-acknowledgement-operationoutcome"]}
        });
        outcome["issue"] = Value::Array(issue);
        entries.push(entry(
            format!("{base}OperationOutcome/{}", ids.outcome),
            outcome,
        ));
    }
    let mut ack = json!({
        "resourceType": "Bundle",
        "id": ids.bundle,
        "meta": {"profile": ["http://medcomfhir.dk/ig/acknowledgement/StructureDefinition/medcom-messaging-acknowledgement"]},
        "type": "message",
        "timestamp": ids.now
    });
    ack["entry"] = Value::Array(entries);
    ack
}

/// A Bundle entry: `fullUrl`, then `resource` (moved in, not serialized again).
fn entry(full_url: String, resource: Value) -> Value {
    let mut entry = serde_json::Map::with_capacity(2);
    entry.insert("fullUrl".to_string(), Value::String(full_url));
    entry.insert("resource".to_string(), resource);
    Value::Object(entry)
}

/// A JSON value as a template writes it into text: a string as is, anything else as JSON.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Context, Templates};

    fn org(ean: &str, sor: &str, name: &str) -> Organization {
        Organization {
            ean: ean.into(),
            sor_id: sor.into(),
            name: name.into(),
        }
    }

    fn letter(templates: &Templates) -> Message {
        let ctx = Context::new_message(
            "https://harness.medcom.example/fhir/",
            org("5790000000012", "953741000016009", "Afsender"),
            org("5790000000029", "1144561000016002", "Modtager"),
        );
        let resource = templates
            .render_resource("carecommunication/new", &ctx)
            .expect("renders");
        Message::encode(&resource, crate::message::Format::Json).expect("encodes")
    }

    /// The template's rendering with the same ids and instant.
    fn rendered(
        templates: &Templates,
        acked: &Message,
        code: &str,
        issues: &[Issue],
    ) -> (Value, AckIds) {
        let mut ctx = Context::acknowledgement(
            "https://vendor.example/fhir/",
            acked,
            org("5790000000036", "999971000016003", "Leverandør"),
            code,
            issues.to_vec(),
        );
        let ids = AckIds {
            bundle: ctx.ids.bundle.clone(),
            header: ctx.ids.header.clone(),
            provenance: ctx.ids.provenance.clone(),
            outcome: ctx.ids.outcome.clone(),
            now: ctx.now.clone(),
        };
        ctx.now = ids.now.clone();
        let resource = templates
            .render_resource("acknowledgement/ack", &ctx)
            .expect("renders");
        (resource, ids)
    }

    #[test]
    fn the_built_acknowledgement_is_the_templates_bundle() {
        let templates = Templates::builtin();
        let acked = letter(&templates);
        let sender = org("5790000000036", "999971000016003", "Leverandør");
        let issue = Issue {
            severity: "error".into(),
            code: "structure".into(),
            system: crate::simulator::HL7_OUTCOME.into(),
            details: "MSG_RESOURCE_REQUIRED".into(),
            diagnostics: "a \"quoted\" & <odd> text".into(),
            expression: Some("Bundle.entry[1]".into()),
        };
        let without_expression = Issue {
            expression: None,
            ..issue.clone()
        };
        for (code, issues) in [
            ("ok", vec![]),
            ("fatal-error", vec![issue, without_expression]),
        ] {
            let (expected, ids) = rendered(&templates, &acked, code, &issues);
            let built = acknowledgement(
                "https://vendor.example/fhir/",
                &acked,
                &sender,
                code,
                &issues,
                &ids,
            );
            assert_eq!(built, expected, "code {code}");
        }
    }

    #[test]
    fn an_acknowledgement_answers_the_letter_and_carries_its_provenance() {
        let templates = Templates::builtin();
        let acked = letter(&templates);
        let ids = AckIds::fresh();
        let ack = acknowledgement(
            "https://vendor.example/fhir/",
            &acked,
            &org("5790000000036", "999971000016003", "Leverandør"),
            "ok",
            &[],
            &ids,
        );
        let message = Message::encode(&ack, crate::message::Format::Json).expect("a message");
        assert!(message.is_acknowledgement());
        let response = message.identity.response.as_ref().expect("response");
        assert_eq!(response.identifier, acked.identity.letter_id);
        assert_eq!(response.code.as_deref(), Some("ok"));
        let own = acked.identity.own_provenance().and_then(|p| p.id.clone());
        assert!(
            message.identity.provenances.iter().any(|p| p.id == own),
            "the letter's own Provenance is carried"
        );
    }
}
