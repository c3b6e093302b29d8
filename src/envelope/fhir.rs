//! The VANSEnvelope fields of a FHIR message: `Format`, `Name` and the `MCM:MIME` service tag.
//!
//! DOMAIN.md §3 and §8: a FHIR message travels in a VANSEnvelope with `Format = HL7`, the
//! `MCM:MIME` service tag = the payload's media type (`application/fhir+xml` or
//! `application/fhir+json`), and `Name` = the statistical code of CodeSystem
//! `medcom-messaging-statisticalCodes` (version 2.0.0, pinned because early versions swapped the
//! FDIS20/FDIS91 labels):
//! - CareCommunication: `MCM:FDIS91#<Communication.category code>`;
//! - HospitalNotification: `MCM:FDIS20#<postfix>`, where the postfix names the hospital event.
//!   The code system's postfixes are not the activity codes, so this module maps them by their
//!   displays (an inference, see [`hospital_notification_postfix`]);
//! - Acknowledgement: `MCM:FCTL#<MessageHeader.response.code>`.
//!
//! The input is plain strings (facts the caller read from the message), not a parsed Bundle.

/// `MCM:MIME`: the service tag that carries the payload's media type.
pub const MIME_SERVICE_TAG: &str = "MCM:MIME";

/// The event codes (`MessageHeader.eventCoding.code`) this module knows envelope fields for.
pub const CARE_COMMUNICATION_EVENT: &str = "care-communication-message";
/// See [`CARE_COMMUNICATION_EVENT`].
pub const HOSPITAL_NOTIFICATION_EVENT: &str = "hospital-notification-message";
/// See [`CARE_COMMUNICATION_EVENT`].
pub const ACKNOWLEDGEMENT_EVENT: &str = "acknowledgement-message";

/// The codes of CodeSystem `medcom-messaging-statisticalCodes` 2.0.0
/// (`http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-statisticalCodes`, MedCom
/// Terminology IG 2.0.2; corpus `medcomfhir-website/ig/terminology/`).
pub const STATISTICAL_CODES: [&str; 27] = [
    "MCM:FDIS20#AcuteAmbulant",
    "MCM:FDIS20#AdmissionInpatient",
    "MCM:FDIS20#OnLeave",
    "MCM:FDIS20#EndOfLeave",
    "MCM:FDIS20#EndHospitalStay",
    "MCM:FDIS91#outpatient",
    "MCM:FDIS91#decease",
    "MCM:FDIS91#carecoordination",
    "MCM:FDIS91#assistive-devices",
    "MCM:FDIS91#medicine",
    "MCM:FDIS91#psychiatry-social-disability",
    "MCM:FDIS91#healthcare",
    "MCM:FDIS91#nursing",
    "MCM:FDIS91#telemedicine",
    "MCM:FDIS91#training",
    "MCM:FDIS91#discharge",
    "MCM:FDIS91#regarding-referral",
    "MCM:FDIS91#assessment",
    "MCM:FDIS91#home-care-assessment",
    "MCM:FDIS91#examination-results",
    "MCM:FDIS91#alcohol-and-drug-treatment",
    "MCM:FDIS91#acute-ambulant",
    "MCM:FDIS91#extended-care-responsibility",
    "MCM:FDIS91#other",
    "MCM:FCTL#ok",
    "MCM:FCTL#transient-error",
    "MCM:FCTL#fatal-error",
];

/// What the envelope fields are derived from, read from the FHIR message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FhirFacts<'a> {
    /// `MessageHeader.eventCoding.code`, e.g. `care-communication-message`.
    pub event_code: &'a str,
    /// CareCommunication: `Communication.category` code, e.g. `discharge`.
    pub category: Option<&'a str>,
    /// HospitalNotification: the activity code of the newest Provenance
    /// (`medcom-messaging-activityCodes`), e.g. `admit-inpatient`.
    pub activity: Option<&'a str>,
    /// Acknowledgement: `MessageHeader.response.code` (`ok`, `transient-error`, `fatal-error`).
    pub ack_code: Option<&'a str>,
    /// The payload's media type as sent (parameters such as `charset` are ignored).
    pub media_type: &'a str,
}

/// The envelope fields a FHIR message must travel with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirEnvelopeFields {
    /// `Document/Format`: always [`super::Format::Hl7`].
    pub format: super::Format,
    /// `Document/Name`: the statistical code, e.g. `MCM:FDIS91#discharge`.
    pub name: String,
    /// The `MCM:MIME` service tag: `application/fhir+xml` or `application/fhir+json`.
    pub mime: String,
}

/// Why envelope fields cannot be derived from the facts given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FhirFieldsError {
    /// The event has no VANS statistical code (e.g. `empty-message`).
    #[error("no VANSEnvelope name is defined for event `{0}`")]
    UnknownEvent(String),
    /// The fact the name needs is missing (category, activity or ack code).
    #[error("event `{event}` needs `{fact}` to name its envelope")]
    MissingFact {
        /// The event code.
        event: String,
        /// The missing fact's name.
        fact: &'static str,
    },
    /// The derived name is not a code of `medcom-messaging-statisticalCodes` 2.0.0.
    #[error("`{0}` is not a code of medcom-messaging-statisticalCodes 2.0.0")]
    UnknownStatisticalCode(String),
    /// The media type is not a FHIR media type.
    #[error("media type `{0}` is neither `application/fhir+xml` nor `application/fhir+json`")]
    MediaType(String),
}

/// Derives `Format`, `Name` and `MCM:MIME` for a FHIR message (DOMAIN.md §3, §8).
///
/// # Errors
/// [`FhirFieldsError`] when the event has no statistical code, a needed fact is missing, the
/// code is not in [`STATISTICAL_CODES`] or the media type is not a FHIR one.
pub fn fhir_envelope_fields(facts: &FhirFacts<'_>) -> Result<FhirEnvelopeFields, FhirFieldsError> {
    let missing = |fact| FhirFieldsError::MissingFact {
        event: facts.event_code.to_string(),
        fact,
    };
    let name = match facts.event_code {
        CARE_COMMUNICATION_EVENT => {
            format!(
                "MCM:FDIS91#{}",
                facts.category.ok_or_else(|| missing("category"))?
            )
        }
        HOSPITAL_NOTIFICATION_EVENT => {
            let activity = facts.activity.ok_or_else(|| missing("activity"))?;
            let postfix = hospital_notification_postfix(activity).ok_or_else(|| {
                FhirFieldsError::UnknownStatisticalCode(format!("MCM:FDIS20#{activity}"))
            })?;
            format!("MCM:FDIS20#{postfix}")
        }
        ACKNOWLEDGEMENT_EVENT => {
            format!(
                "MCM:FCTL#{}",
                facts.ack_code.ok_or_else(|| missing("ack code"))?
            )
        }
        other => return Err(FhirFieldsError::UnknownEvent(other.to_string())),
    };
    if !STATISTICAL_CODES.contains(&name.as_str()) {
        return Err(FhirFieldsError::UnknownStatisticalCode(name));
    }
    Ok(FhirEnvelopeFields {
        format: super::Format::Hl7,
        name,
        mime: fhir_media_type(facts.media_type)
            .ok_or_else(|| FhirFieldsError::MediaType(facts.media_type.to_string()))?
            .to_string(),
    })
}

/// The FHIR media type without parameters, lower case: `application/fhir+xml` or
/// `application/fhir+json`; `None` for anything else.
pub fn fhir_media_type(media_type: &str) -> Option<&'static str> {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/fhir+xml") {
        Some("application/fhir+xml")
    } else if essence.eq_ignore_ascii_case("application/fhir+json") {
        Some("application/fhir+json")
    } else {
        None
    }
}

/// The `MCM:FDIS20#` postfix for a HospitalNotification activity code, with its `revise-` and
/// `cancel-` variants counted as the event they revise or cancel.
///
/// The statistical code system lists `AcuteAmbulant`, `AdmissionInpatient`, `OnLeave`,
/// `EndOfLeave`, `EndHospitalStay`; the activity codes (`medcom-messaging-activityCodes` 1.8.1)
/// have the same displays: `admit-emergency` "Start hospital stay - acute ambulant",
/// `admit-inpatient` "Start hospital stay - admitted", `start-leave-inpatient` "Start leave",
/// `end-leave-inpatient` "End leave", `discharge-*-home` "End hospital stay - patient completed to
/// home/primary sector". MedCom publishes no ConceptMap between them; this pairing follows the
/// displays.
pub fn hospital_notification_postfix(activity: &str) -> Option<&'static str> {
    let base = activity
        .strip_prefix("revise-")
        .or_else(|| activity.strip_prefix("cancel-"))
        .unwrap_or(activity);
    match base {
        "admit-emergency" => Some("AcuteAmbulant"),
        "admit-inpatient" => Some("AdmissionInpatient"),
        "start-leave-inpatient" => Some("OnLeave"),
        "end-leave-inpatient" => Some("EndOfLeave"),
        "discharge-emergency-home" | "discharge-inpatient-home" => Some("EndHospitalStay"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(event_code: &'static str) -> FhirFacts<'static> {
        FhirFacts {
            event_code,
            media_type: "application/fhir+xml; charset=utf-8",
            ..FhirFacts::default()
        }
    }

    #[test]
    fn care_communication_is_named_by_its_category() {
        let fields = fhir_envelope_fields(&FhirFacts {
            category: Some("discharge"),
            ..facts(CARE_COMMUNICATION_EVENT)
        })
        .expect("a CareCommunication with a category has fields");
        assert_eq!(fields.name, "MCM:FDIS91#discharge");
        assert_eq!(fields.format, super::super::Format::Hl7);
        assert_eq!(fields.mime, "application/fhir+xml");
    }

    #[test]
    fn hospital_notification_is_named_by_its_event_postfix() {
        for (activity, name) in [
            ("admit-inpatient", "MCM:FDIS20#AdmissionInpatient"),
            ("revise-admit-emergency", "MCM:FDIS20#AcuteAmbulant"),
            ("start-leave-inpatient", "MCM:FDIS20#OnLeave"),
            ("cancel-end-leave-inpatient", "MCM:FDIS20#EndOfLeave"),
            ("discharge-emergency-home", "MCM:FDIS20#EndHospitalStay"),
        ] {
            let fields = fhir_envelope_fields(&FhirFacts {
                activity: Some(activity),
                media_type: "application/fhir+json",
                ..facts(HOSPITAL_NOTIFICATION_EVENT)
            })
            .expect("a known activity has fields");
            assert_eq!(fields.name, name, "activity {activity}");
            assert_eq!(fields.mime, "application/fhir+json");
        }
    }

    #[test]
    fn acknowledgement_is_named_by_its_code() {
        let fields = fhir_envelope_fields(&FhirFacts {
            ack_code: Some("fatal-error"),
            ..facts(ACKNOWLEDGEMENT_EVENT)
        })
        .expect("an ack with a code has fields");
        assert_eq!(fields.name, "MCM:FCTL#fatal-error");
    }

    #[test]
    fn unknown_category_missing_fact_and_wrong_media_type_are_errors() {
        let unknown = fhir_envelope_fields(&FhirFacts {
            category: Some("gossip"),
            ..facts(CARE_COMMUNICATION_EVENT)
        });
        assert_eq!(
            unknown,
            Err(FhirFieldsError::UnknownStatisticalCode(
                "MCM:FDIS91#gossip".into()
            ))
        );
        assert!(matches!(
            fhir_envelope_fields(&facts(ACKNOWLEDGEMENT_EVENT)),
            Err(FhirFieldsError::MissingFact {
                fact: "ack code",
                ..
            })
        ));
        let xml = fhir_envelope_fields(&FhirFacts {
            ack_code: Some("ok"),
            media_type: "application/xml",
            ..facts(ACKNOWLEDGEMENT_EVENT)
        });
        assert!(matches!(xml, Err(FhirFieldsError::MediaType(_))));
        assert!(matches!(
            fhir_envelope_fields(&facts("empty-message")),
            Err(FhirFieldsError::UnknownEvent(_))
        ));
    }
}
