//! Message types and versions as EER endpoints declare them: the MessageDefinition URIs of
//! MedCom's catalogue (CodeSystem `ehmi-message-definition-uri`, ValueSet
//! `EhmiMessageDefinitionUriVS`, https://medcomehmi.dk/ig/terminology/). Their patterns:
//!
//! - FHIR: `urn:dk:healthcare:medcom:messaging:fhir:structuredefinition::<name>-message##urn:dk:medcom:fhir:<name>-message::<version>`
//!   (`carecommunication-message` 5.0, `hospitalnotification-message` 3.0,
//!   `acknowledgement-message` 2.0, `homecareobservation-message` 1.1/1.2); the catalogue also
//!   has the older short form `…:structuredefinition:hospitalnotification:3.0`.
//! - OIOXML: `urn:dk:healthcare:medcom:messaging:oioxml:schema:xsd:<group>:<type>:<version>`,
//!   lower case (`meddis:xdis91:xd9134l`).
//! - EDIFACT: `urn:dk:healthcare:medcom:messaging:edifact:<group>:<type>:<version>` (`dis91:d9134l`).

use serde::Serialize;

/// The root of FHIR MessageDefinition URIs.
pub const FHIR_ROOT: &str = "urn:dk:healthcare:medcom:messaging:fhir:structuredefinition";
/// The root of OIOXML MessageDefinition URIs.
pub const OIOXML_ROOT: &str = "urn:dk:healthcare:medcom:messaging:oioxml:schema:xsd";

/// A message type and version, as a message says it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "family", rename_all = "kebab-case")]
pub enum MessageType {
    /// A FHIR message: its catalogue name (`carecommunication-message`) and version (`5.0`).
    Fhir {
        /// Catalogue name: the event code without hyphens before `-message`.
        name: String,
        /// Major.minor version.
        version: String,
    },
    /// A classic OIOXML letter: `TypeCode` (`XDIS91`) and `VersionCode` (`XD9134L`).
    Oioxml {
        /// `Letter/TypeCode`, or the VANS `Document/Name` without `MCM:`.
        type_code: String,
        /// `Letter/VersionCode`, or the VANS `Document/Version`.
        version_code: String,
    },
}

/// The versions of MedCom's FHIR standards the harness speaks, by MessageHeader event code:
/// (event code, catalogue name, version).
pub const FHIR_VERSIONS: [(&str, &str, &str); 3] = [
    (
        "care-communication-message",
        "carecommunication-message",
        "5.0",
    ),
    (
        "hospital-notification-message",
        "hospitalnotification-message",
        "3.0",
    ),
    ("acknowledgement-message", "acknowledgement-message", "2.0"),
];

impl MessageType {
    /// The FHIR message type of a MessageHeader event code, at the version the harness speaks
    /// (`care-communication-message` -> CareCommunication 5.0); another event code keeps its
    /// name without hyphens and version `?`.
    pub fn of_event(event: &str) -> MessageType {
        match FHIR_VERSIONS.iter().find(|(e, _, _)| *e == event) {
            Some((_, name, version)) => MessageType::Fhir {
                name: (*name).to_string(),
                version: (*version).to_string(),
            },
            None => MessageType::Fhir {
                name: match event.strip_suffix("-message") {
                    Some(stem) => format!("{}-message", stem.replace('-', "")),
                    None => event.replace('-', ""),
                },
                version: "?".into(),
            },
        }
    }

    /// The MessageDefinition URI of MedCom's catalogue (OIOXML without its group, which the
    /// letter does not say: `…:xsd:*:xdis91:xd9134l`).
    pub fn uri(&self) -> String {
        match self {
            MessageType::Fhir { name, version } => {
                format!("{FHIR_ROOT}::{name}##urn:dk:medcom:fhir:{name}::{version}")
            }
            MessageType::Oioxml {
                type_code,
                version_code,
            } => format!(
                "{OIOXML_ROOT}:*:{}:{}",
                type_code.to_ascii_lowercase(),
                version_code.to_ascii_lowercase()
            ),
        }
    }

    /// Whether the `payloadType` code `declared` is this type and version.
    pub fn is_declared_by(&self, declared: &str) -> bool {
        match self {
            MessageType::Fhir { name, version } => {
                let short = name.strip_suffix("-message").unwrap_or(name);
                declared == self.uri() || declared == format!("{FHIR_ROOT}:{short}:{version}")
            }
            MessageType::Oioxml {
                type_code,
                version_code,
            } => {
                declared.starts_with(OIOXML_ROOT)
                    && declared.ends_with(&format!(
                        ":{}:{}",
                        type_code.to_ascii_lowercase(),
                        version_code.to_ascii_lowercase()
                    ))
            }
        }
    }

    /// For people: `CareCommunication 5.0`-like (`carecommunication-message 5.0`), `XDIS91 XD9134L`.
    pub fn label(&self) -> String {
        match self {
            MessageType::Fhir { name, version } => format!("{name} {version}"),
            MessageType::Oioxml {
                type_code,
                version_code,
            } => format!("{type_code} {version_code}"),
        }
    }
}

/// A `payloadType` URI for people: the FHIR name and version (`carecommunication-message 5.0`),
/// the OIOXML or EDIFACT type and version (`xdis91 xd9134l`), or the URI itself.
pub fn label_of_uri(uri: &str) -> String {
    if let Some((_, rest)) = uri.split_once("##urn:dk:") {
        let tail = rest.rsplit(':').next().unwrap_or_default();
        let name = rest
            .split("::")
            .next()
            .and_then(|n| n.rsplit(':').next())
            .unwrap_or(rest);
        return format!("{name} {tail}");
    }
    let parts: Vec<&str> = uri.split(':').collect();
    match parts.as_slice() {
        [.., t, v] if uri.contains(":oioxml:") || uri.contains(":edifact:") => format!("{t} {v}"),
        _ => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalogue's CareCommunication 5.0 URI, as `EhmiMessageDefinitionUri` lists it.
    const CC_50: &str = "urn:dk:healthcare:medcom:messaging:fhir:structuredefinition::carecommunication-message##urn:dk:medcom:fhir:carecommunication-message::5.0";

    #[test]
    fn care_communication_is_the_catalogues_uri() {
        let t = MessageType::of_event("care-communication-message");
        assert_eq!(t.uri(), CC_50);
        assert!(t.is_declared_by(CC_50));
        assert!(!t.is_declared_by(&CC_50.replace("::5.0", "::4.0")));
    }

    #[test]
    fn an_oioxml_letter_matches_its_catalogue_entry_in_any_group() {
        let t = MessageType::Oioxml {
            type_code: "XDIS91".into(),
            version_code: "XD9134L".into(),
        };
        assert!(t.is_declared_by(
            "urn:dk:healthcare:medcom:messaging:oioxml:schema:xsd:meddis:xdis91:xd9134l"
        ));
        assert!(
            !t.is_declared_by("urn:dk:healthcare:medcom:messaging:edifact:meddis:dis91:d9134l")
        );
    }

    #[test]
    fn the_short_hospital_notification_form_counts() {
        let t = MessageType::of_event("hospital-notification-message");
        assert!(t.is_declared_by(
            "urn:dk:healthcare:medcom:messaging:fhir:structuredefinition:hospitalnotification:3.0"
        ));
    }

    #[test]
    fn uris_read_for_people() {
        assert_eq!(label_of_uri(CC_50), "carecommunication-message 5.0");
        assert_eq!(
            label_of_uri("urn:dk:healthcare:medcom:messaging:edifact:meddis:dis91:d9134l"),
            "dis91 d9134l"
        );
    }
}
