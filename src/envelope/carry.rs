//! Carrying FHIR messages and OIOXML letters in VANSEnvelopes over exchange folders. Reading what
//! arrives (envelope or not, FHIR or OIOXML) is the `arrival` module's; envelope problems become
//! findings here ([`finding`]).
//!
//! A FHIR message travels in a VANSEnvelope with `Format = HL7`, `Name` = its statistical code
//! (`MCM:FDIS91#<category>`, `MCM:FDIS20#…`, `MCM:FCTL#<code>`) and the `MCM:MIME` service tag
//! (DOMAIN.md §3). `EnvelopeIdentifier` follows the Bundle.id (new on every send, kept when the
//! same envelope is sent again) and `MetaInformation/Identifier` the MessageHeader.id, so the
//! duplicate matrix means the same on both levels.

use super::{
    DocumentInfo, EndPoint, FhirFacts, Format, MIME_SERVICE_TAG, MetaInformation, ServiceTag,
    Transport, TransportType, VansBody, VansEnvelope, VansMessage, fhir_envelope_fields, wrap_vans,
};
use crate::message::Message;

/// The envelope facts of a FHIR message.
pub fn facts_of(message: &Message) -> FhirFacts<'_> {
    let id = &message.identity;
    FhirFacts {
        event_code: id.event.as_deref().unwrap_or(""),
        category: id.category.as_deref(),
        activity: id.activity(),
        ack_code: id.response.as_ref().and_then(|r| r.code.as_deref()),
        media_type: message.format.media_type(),
    }
}

/// Wraps `message` in a VANSEnvelope from its sender's to its receiver's EAN. `name` overrides
/// the derived `Document/Name` (a fault profile sends a wrong one on purpose).
///
/// # Errors
/// When no envelope name is defined for the message (e.g. an `empty-message`).
pub fn wrap_fhir(message: &Message, name: Option<&str>) -> Result<Vec<u8>, String> {
    let fields = fhir_envelope_fields(&facts_of(message)).map_err(|e| e.to_string())?;
    let ean = |p: &Option<crate::message::Party>| {
        p.as_ref().and_then(|p| p.ean.clone()).unwrap_or_default()
    };
    let envelope_identifier = message
        .identity
        .envelope_id
        .clone()
        .filter(|id| crate::identifier::is_uuid(id))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let meta = MetaInformation {
        // MetaInformation/Identifier is a UUID in the schema: the letter id when it is one.
        identifier: message
            .identity
            .letter_id
            .clone()
            .filter(|id| crate::identifier::is_uuid(id))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        processing: None,
        document: DocumentInfo {
            format: Format::Hl7,
            name: name.map_or(fields.name, str::to_string),
            version: None,
            size_in_bytes: 0,
        },
        transport: Some(Transport {
            transport_type: Some(TransportType::Reliable),
            transform_message: false,
            service_tags: vec![ServiceTag {
                name: MIME_SERVICE_TAG.to_string(),
                value: fields.mime,
            }],
        }),
    };
    let envelope = VansEnvelope {
        sender: EndPoint::ean(ean(&message.identity.sender)),
        receiver: EndPoint::ean(ean(&message.identity.receiver)),
        envelope_identifier,
        sent_date_time: crate::template::now_instant(),
        body: VansBody::Message(VansMessage::new(meta, message.bytes.clone())),
    };
    Ok(wrap_vans(&envelope).into_bytes())
}

/// What a VANSEnvelope around a classic OIOXML letter is made from, read from the letter
/// (`Emessage::envelope_facts`), so that the envelope layer does not depend on the OIOXML model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OioxmlFacts<'a> {
    /// `Letter/TypeCode`, e.g. `XDIS91`.
    pub type_code: &'a str,
    /// `Letter/VersionCode`, e.g. `XD9134L`.
    pub version_code: &'a str,
    /// The sender's EAN.
    pub sender_ean: &'a str,
    /// The receiver's EAN.
    pub receiver_ean: &'a str,
}

/// Wraps an OIOXML message (its bytes as written) in a VANSEnvelope: `Format = XML`,
/// `Name = MCM:<TypeCode>`, `Version = <VersionCode>` (DOMAIN.md §8), from its sender's to its
/// receiver's EAN.
pub fn wrap_oioxml(bytes: &[u8], message: &OioxmlFacts<'_>) -> Vec<u8> {
    let meta = MetaInformation {
        // MetaInformation/Identifier is a UUID in the schema; the letter's own identifier is
        // not, and its dedup key lives in the letter itself.
        identifier: uuid::Uuid::new_v4().to_string(),
        processing: None,
        document: DocumentInfo {
            format: Format::Xml,
            name: format!("MCM:{}", message.type_code),
            version: Some(message.version_code.to_string()),
            size_in_bytes: 0,
        },
        transport: Some(Transport {
            transport_type: Some(TransportType::Reliable),
            transform_message: false,
            service_tags: Vec::new(),
        }),
    };
    let envelope = VansEnvelope {
        sender: EndPoint::ean(message.sender_ean),
        receiver: EndPoint::ean(message.receiver_ean),
        envelope_identifier: uuid::Uuid::new_v4().to_string(),
        sent_date_time: crate::template::now_instant(),
        body: VansBody::Message(VansMessage::new(meta, bytes.to_vec())),
    };
    wrap_vans(&envelope).into_bytes()
}
