//! Carrying FHIR messages in VANSEnvelopes over exchange folders, and judging the envelopes that
//! arrive.
//!
//! A FHIR message travels in a VANSEnvelope with `Format = HL7`, `Name` = its statistical code
//! (`MCM:FDIS91#<category>`, `MCM:FDIS20#…`, `MCM:FCTL#<code>`) and the `MCM:MIME` service tag
//! (DOMAIN.md §3). `EnvelopeIdentifier` follows the Bundle.id (new on every send, kept when the
//! same envelope is sent again) and `MetaInformation/Identifier` the MessageHeader.id, so the
//! duplicate matrix means the same on both levels.

use super::{
    DocumentInfo, EndPoint, FhirFacts, Format, MIME_SERVICE_TAG, MetaInformation, ServiceTag,
    Transport, TransportType, VansBody, VansEnvelope, VansMessage, check_vans_fhir,
    fhir_envelope_fields, unwrap_vans, wrap_vans,
};
use crate::finding::Finding;
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
        .filter(|id| crate::validate::is_uuid(id))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let meta = MetaInformation {
        // MetaInformation/Identifier is a UUID in the schema: the letter id when it is one.
        identifier: message
            .identity
            .letter_id
            .clone()
            .filter(|id| crate::validate::is_uuid(id))
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

/// Wraps an OIOXML message (its bytes as written) in a VANSEnvelope: `Format = XML`,
/// `Name = MCM:<TypeCode>`, `Version = <VersionCode>` (DOMAIN.md §8), from its sender's to its
/// receiver's EAN.
pub fn wrap_oioxml(bytes: &[u8], message: &crate::oioxml::Emessage) -> Vec<u8> {
    let meta = MetaInformation {
        // MetaInformation/Identifier is a UUID in the schema; the letter's own identifier is
        // not, and its dedup key lives in the letter itself.
        identifier: uuid::Uuid::new_v4().to_string(),
        processing: None,
        document: DocumentInfo {
            format: Format::Xml,
            name: format!("MCM:{}", message.type_code()),
            version: Some(message.version_code().to_string()),
            size_in_bytes: 0,
        },
        transport: Some(Transport {
            transport_type: Some(TransportType::Reliable),
            transform_message: false,
            service_tags: Vec::new(),
        }),
    };
    let envelope = VansEnvelope {
        sender: EndPoint::ean(message.sender_ean()),
        receiver: EndPoint::ean(message.receiver_ean()),
        envelope_identifier: uuid::Uuid::new_v4().to_string(),
        sent_date_time: crate::template::now_instant(),
        body: VansBody::Message(VansMessage::new(meta, bytes.to_vec())),
    };
    wrap_vans(&envelope).into_bytes()
}

/// What came out of an envelope (or the bytes themselves when they are not one).
#[derive(Debug, Clone)]
pub struct Unwrapped {
    /// The payload: the FHIR message's bytes exactly as the envelope carried them.
    pub payload: Vec<u8>,
    /// The envelope, when there was one.
    pub envelope: Option<VansEnvelope>,
    /// Findings about the envelope (size, format, name, MIME tag).
    pub findings: Vec<Finding>,
}

/// Unwraps a VANSEnvelope carrying a FHIR message and judges the envelope against its payload;
/// bytes that are not a VANSEnvelope come back as they are.
///
/// # Errors
/// A sentence when the bytes are a VANSEnvelope that cannot be read, or a receipt.
pub fn unwrap_fhir(bytes: &[u8]) -> Result<Unwrapped, String> {
    if !matches!(super::detect(bytes), Ok(super::EnvelopeKind::Vans)) {
        return Ok(Unwrapped {
            payload: bytes.to_vec(),
            envelope: None,
            findings: Vec::new(),
        });
    }
    let envelope = unwrap_vans(bytes).map_err(|e| format!("unreadable VANSEnvelope: {e}"))?;
    let payload = envelope
        .message()
        .map(|m| m.payload.clone())
        .ok_or_else(|| "a VANSEnvelope receipt, not a message".to_string())?;
    // The envelope is judged against what it carries: a FHIR message, an OIOXML letter, or at
    // least its size.
    let findings = match Message::parse(payload.clone(), None) {
        Ok(message) => check_vans_fhir(&envelope, &facts_of(&message)),
        Err(_) => match crate::oioxml::parse(&payload) {
            Ok(letter) => {
                super::check_vans_oioxml(&envelope, letter.type_code(), letter.version_code())
            }
            Err(_) => super::check_vans_size(&envelope),
        },
    };
    Ok(Unwrapped {
        payload,
        envelope: Some(envelope),
        findings,
    })
}
