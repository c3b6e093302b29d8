//! Shaping a rendered CareCommunication the way a TestScript asks: the options of an
//! [`Instruction`] (or a fixture recipe) applied to the JSON our templates render. Shared by the
//! harness's fixture builder and the reference vendor, so both write the same shapes.
//!
//! Shapes follow the CareCommunication 5.0 IG (<https://medcomfhir.dk/ig/carecommunication/>):
//! `topic.text`, `priority` (only with `regarding-referral`), the `medcom-core-sender-extension`
//! and `recipient` on the Communication, the patient's replacement CPR (x-eCPR,
//! `urn:oid:1.2.208.176.1.6.1.1`), an `Encounter` with `episodeOfCare.identifier` (`urn:uuid:`),
//! and attachments with `creation` and an author (`medcom-core-practitioner-extension` on the
//! segment).

use serde_json::{Value, json};

use super::table::{AttachmentWish, Instruction};
use crate::message::attachment;
use crate::template::AttachmentInput;

/// The CPR system.
pub const CPR: &str = "urn:oid:1.2.208.176.1.2";
/// The replacement-CPR (x-eCPR) system, CareCommunication IG / MedCom core Patient.
pub const XECPR: &str = "urn:oid:1.2.208.176.1.6.1.1";
/// The Danish National Patient Registry's episode-of-care system: the `lpr3identifier` slice of
/// MedCom core Encounter's `episodeOfCare` (value `urn:uuid:` + a version-5 UUID, invariant
/// `uuidv5`).
pub const LPR3: &str = "https://www.esundhed.dk/Registre/Landspatientregisteret";

/// A test episode-of-care id in LPR3's form: a UUID with version 5 and the RFC 4122 variant.
/// (Random bits, not a name hash: it names no real episode.)
fn lpr3_id() -> String {
    let mut bytes = *uuid::Uuid::new_v4().as_bytes();
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).to_string()
}

/// The MedCom core practitioner extension (the author of a payload segment).
pub const PRACTITIONER_EXTENSION: &str =
    "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitioner-extension";
/// The MedCom core sender extension on the Communication.
pub const SENDER_EXTENSION: &str =
    "http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-sender-extension";

/// The bytes the harness attaches for a MIME type: the bundled suite's own test files.
fn sample(content_type: &str) -> Option<(&'static [u8], &'static str)> {
    Some(match content_type {
        "application/pdf" => (
            include_bytes!("../../scenarios/carecommunication/attachments/udskrivningsbrev.pdf"),
            "Udskrivningsbrev",
        ),
        "image/png" => (
            include_bytes!("../../scenarios/carecommunication/attachments/bilag.png"),
            "Billede (PNG)",
        ),
        "image/gif" => (
            include_bytes!("../../scenarios/carecommunication/attachments/bilag.gif"),
            "Billede (GIF)",
        ),
        "image/jpeg" => (
            include_bytes!("../../scenarios/carecommunication/attachments/bilag.jpg"),
            "Billede (JPEG)",
        ),
        "image/bmp" => (
            include_bytes!("../../scenarios/carecommunication/attachments/bilag.bmp"),
            "Billede (BMP)",
        ),
        "image/tiff" => (
            include_bytes!("../../scenarios/carecommunication/attachments/bilag.tif"),
            "Billede (TIFF)",
        ),
        _ => return None,
    })
}

/// The attachment for `wish`, or why there is none.
///
/// # Errors
/// A MIME type the harness has no sample for.
pub fn attachment_for(wish: &AttachmentWish, now: &str) -> Result<AttachmentInput, String> {
    if let Some(url) = &wish.url {
        return Ok(AttachmentInput {
            title: "Link til MedCom".into(),
            url: Some(url.clone()),
            creation: wish.creation.then(|| now.to_string()),
            ..AttachmentInput::default()
        });
    }
    let ct = wish.content_type.as_deref().unwrap_or("application/pdf");
    let (bytes, title) =
        sample(ct).ok_or_else(|| format!("no sample attachment of type `{ct}`"))?;
    let fp = attachment::fingerprint(bytes);
    Ok(AttachmentInput {
        content_type: Some(ct.to_string()),
        title: title.to_string(),
        data: Some(attachment::encode_base64(bytes)),
        size: Some(fp.size),
        hash: Some(fp.sha1_base64),
        creation: wish.creation.then(|| now.to_string()),
        url: None,
    })
}

/// The entries of `bundle` whose resource has `resource_type`, mutable.
fn resources_mut<'a>(
    bundle: &'a mut Value,
    resource_type: &'a str,
) -> impl Iterator<Item = &'a mut Value> + 'a {
    bundle
        .get_mut("entry")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get_mut("resource"))
        .filter(move |r| r.get("resourceType").and_then(Value::as_str) == Some(resource_type))
}

fn first_of<'a>(bundle: &'a Value, resource_type: &str) -> Option<&'a Value> {
    bundle
        .get("entry")?
        .as_array()?
        .iter()
        .filter_map(|e| e.get("resource"))
        .find(|r| r.get("resourceType").and_then(Value::as_str) == Some(resource_type))
}

/// Inserts `resource` as an entry before the first Provenance, with its fullUrl on `base`.
fn insert_entry(bundle: &mut Value, base: &str, resource: Value) {
    let full_url = format!(
        "{base}{}/{}",
        resource["resourceType"].as_str().unwrap_or("Resource"),
        resource["id"].as_str().unwrap_or("")
    );
    if let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) {
        let at = entries
            .iter()
            .position(|e| e.pointer("/resource/resourceType") == Some(&json!("Provenance")))
            .unwrap_or(entries.len());
        entries.insert(at, json!({"fullUrl": full_url, "resource": resource}));
    }
}

/// Applies the instruction's options to a rendered CareCommunication `bundle` (fullUrl base
/// `base`). `original` is the message followed up: its Encounter is
/// carried over, as a reply or forward keeps the episode of care.
pub fn apply(bundle: &mut Value, what: &Instruction, base: &str, original: Option<&Value>) {
    let patient_id = first_of(bundle, "Patient")
        .and_then(|p| p["id"].as_str())
        .unwrap_or_default()
        .to_string();
    let role_id = first_of(bundle, "PractitionerRole")
        .and_then(|p| p["id"].as_str())
        .map(str::to_string);
    let practitioner_id = first_of(bundle, "Practitioner")
        .and_then(|p| p["id"].as_str())
        .map(str::to_string);
    let carried = original.and_then(|o| first_of(o, "Encounter")).cloned();
    let encounter = match (carried, what.episode_of_care) {
        (Some(e), _) => Some(e),
        (None, true) => Some(json!({
            "resourceType": "Encounter",
            "id": uuid::Uuid::new_v4().to_string(),
            "meta": {"profile": ["http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-encounter"]},
            "status": "in-progress",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
            "subject": {"reference": format!("Patient/{patient_id}")},
            "episodeOfCare": [{"identifier": {"system": LPR3, "value": format!("urn:uuid:{}", lpr3_id())}}]
        })),
        (None, false) => None,
    };
    let mut recipient_role = None;
    for c in resources_mut(bundle, "Communication") {
        if let Some(topic) = &what.topic {
            c["topic"] = json!({"text": topic});
        }
        if let Some(p) = &what.priority {
            c["priority"] = json!(p);
        }
        if let Some(code) = &what.category {
            c["category"] = json!([{"coding": [{
                "system": "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-careCommunication-categoryCodes",
                "code": code
            }]}]);
            if code == "other" && c.get("topic").is_none() {
                c["topic"] = json!({"text": "Besked fra referenceleverandøren"});
            }
        }
        if what.sender_recipient
            && let Some(role) = &role_id
        {
            let ext = c
                .as_object_mut()
                .map(|o| o.entry("extension").or_insert_with(|| json!([])));
            if let Some(Value::Array(list)) = ext {
                list.push(json!({"url": SENDER_EXTENSION, "valueReference": {"reference": format!("PractitionerRole/{role}")}}));
            }
            let id = uuid::Uuid::new_v4().to_string();
            c["recipient"] = json!([{"reference": format!("PractitionerRole/{id}")}]);
            recipient_role = Some(id);
        }
        if let Some(e) = &encounter {
            c["encounter"] =
                json!({"reference": format!("Encounter/{}", e["id"].as_str().unwrap_or(""))});
        }
        if what.payload.as_deref() == Some("text-only")
            && let Some(Value::Array(segments)) = c.get_mut("payload")
        {
            segments.retain(|s| s.get("contentAttachment").is_none());
        }
        if what.attachments.iter().any(|a| a.author)
            && let (Some(Value::Array(segments)), Some(role)) = (c.get_mut("payload"), &role_id)
        {
            for s in segments
                .iter_mut()
                .filter(|s| s.get("contentAttachment").is_some())
            {
                let ext = s
                    .as_object_mut()
                    .map(|o| o.entry("extension").or_insert_with(|| json!([])));
                if let Some(Value::Array(list)) = ext
                    && !list
                        .iter()
                        .any(|x| x["url"] == json!(PRACTITIONER_EXTENSION))
                {
                    list.push(json!({"url": PRACTITIONER_EXTENSION, "valueReference": {"reference": format!("PractitionerRole/{role}")}}));
                }
            }
        }
    }
    let identifier = match what.patient.as_deref() {
        Some("replacement-cpr") => Some(json!([{"system": XECPR, "value": "0101011AB2"}])),
        // The test CPR number MedCom's own examples use.
        Some("cpr") => Some(json!([{"system": CPR, "value": "2509479989"}])),
        _ => None,
    };
    if let Some(identifier) = identifier {
        for p in resources_mut(bundle, "Patient") {
            p["identifier"] = identifier.clone();
        }
    }
    if let (Some(id), Some(practitioner)) = (recipient_role, practitioner_id) {
        let role = json!({
            "resourceType": "PractitionerRole",
            "id": id,
            "meta": {"profile": ["http://medcomfhir.dk/ig/core/StructureDefinition/medcom-core-practitionerrole"]},
            "practitioner": {"reference": format!("Practitioner/{practitioner}")},
            "code": [{"coding": [{"system": "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-core-PractitionerRolesSKSadministrativ", "code": "sygeplejerske"}]}]
        });
        insert_entry(bundle, base, role);
    }
    if let Some(e) = encounter {
        insert_entry(bundle, base, e);
    }
}
