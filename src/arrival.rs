//! Arrivals: bytes from anywhere (an exchange-folder file, an HTTP body, a file given to
//! `validate`) read once into what they are, an optional envelope and a payload.
//!
//! "What is this file or body" is decided here and nowhere else, in this order:
//!
//! 1. **An envelope** by its root element ([`envelope::detect`]): a VANSEnvelope or an ehmiSBDH is
//!    unwrapped ([`envelope::unwrap`]) and its payload read. A VANS receipt carries no payload
//!    ([`Unreadable::Receipt`]); an envelope that cannot be read is [`Unreadable::Envelope`].
//!    Bytes that are not an envelope (not XML, or another root) are the payload themselves.
//! 2. **The payload**: an XML document whose root element is `Emessage` (any prefix) is a classic
//!    OIOXML letter or receipt ([`oioxml::parse`]); anything else is read as a FHIR message
//!    ([`Message::parse`], JSON or XML). Every XML document is decoded by the harness's one XML
//!    decoding path ([`crate::encoding`]).
//! 3. **What cannot be read is data**, [`Payload::Unreadable`] with the reason, never an error: what
//!    a vendor sends is judged, not refused.
//!
//! Nothing here judges. [`Arrival::envelope_problems`] says what the envelope's own fields say
//! about the payload it carries (DOMAIN.md §3), for the callers that turn problems into findings.

use crate::envelope::{
    self, Envelope, EnvelopeError, EnvelopeKind, check_sbdh, check_vans_fhir, check_vans_oioxml,
    check_vans_size,
};
use crate::message::{Format, Message, MessageError};
use crate::oioxml::{self, Emessage, OioxmlError};

/// Bytes read into what they are: the envelope they came in (if any) and its payload.
#[derive(Debug)]
pub struct Arrival {
    /// The envelope, when the bytes were a readable VANSEnvelope or ehmiSBDH.
    pub envelope: Option<Envelope>,
    /// What the envelope carried, or what the bytes are when they are not an envelope.
    pub payload: Payload,
    /// The payload's bytes exactly as they arrived: the envelope's decoded content, or the input
    /// itself. Empty for an unreadable envelope and a VANS receipt.
    pub bytes: Vec<u8>,
}

/// What an arrival carries.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one payload per received file, moved once into the inbox; boxing would only burden every match"
)]
pub enum Payload {
    /// A FHIR message (Bundle of type `message`), JSON or XML.
    Fhir(Message),
    /// A classic OIOXML letter or receipt (root `Emessage`).
    Oioxml(Emessage),
    /// Nothing the harness can read, and why.
    Unreadable(Unreadable),
}

/// Why an arrival's payload cannot be read. The texts are the reasons the transports, the
/// reference vendor and `validate` give.
#[derive(Debug, thiserror::Error)]
pub enum Unreadable {
    /// The bytes are an envelope (by their root element) that cannot be read.
    #[error("unreadable {}: {error}", envelope_name(*.kind))]
    Envelope {
        /// Which envelope the root element says it is.
        kind: EnvelopeKind,
        /// Why it cannot be read.
        error: EnvelopeError,
    },
    /// A VANSEnvelope receipt: an answer about an envelope, with no payload.
    #[error("a VANSEnvelope receipt, not a message")]
    Receipt,
    /// Not an OIOXML message, and not a FHIR message either.
    #[error("{0}")]
    Fhir(MessageError),
    /// An `Emessage` document that is not a readable OIOXML letter or receipt.
    #[error("unreadable OIOXML message: {0}")]
    Oioxml(OioxmlError),
}

/// The name of an envelope format in the harness's texts.
fn envelope_name(kind: EnvelopeKind) -> &'static str {
    match kind {
        EnvelopeKind::Vans => "VANSEnvelope",
        EnvelopeKind::Sbdh => "ehmiSBDH",
    }
}

impl Arrival {
    /// Reads `bytes`: unwraps an envelope, then reads the payload (see the module docs).
    pub fn read(bytes: &[u8]) -> Arrival {
        let Ok(kind) = envelope::detect(bytes) else {
            return Arrival {
                envelope: None,
                payload: Payload::read(bytes),
                bytes: bytes.to_vec(),
            };
        };
        let unwrapped = match kind {
            EnvelopeKind::Vans => envelope::unwrap_vans(bytes).map(Envelope::Vans),
            EnvelopeKind::Sbdh => envelope::unwrap_sbdh(bytes).map(Envelope::Sbdh),
        };
        let envelope = match unwrapped {
            Ok(envelope) => envelope,
            Err(error) => {
                return Arrival {
                    envelope: None,
                    payload: Payload::Unreadable(Unreadable::Envelope { kind, error }),
                    bytes: Vec::new(),
                };
            }
        };
        let Some(carried) = envelope.payload().map(<[u8]>::to_vec) else {
            return Arrival {
                envelope: Some(envelope),
                payload: Payload::Unreadable(Unreadable::Receipt),
                bytes: Vec::new(),
            };
        };
        Arrival {
            payload: Payload::read(&carried),
            envelope: Some(envelope),
            bytes: carried,
        }
    }

    /// Which envelope the bytes were, readable or not; `None` when they were not one.
    pub fn envelope_kind(&self) -> Option<EnvelopeKind> {
        match (&self.envelope, &self.payload) {
            (Some(envelope), _) => Some(envelope.kind()),
            (None, Payload::Unreadable(Unreadable::Envelope { kind, .. })) => Some(*kind),
            (None, _) => None,
        }
    }

    /// What the envelope's fields say about its payload: a VANSEnvelope's `SizeInBytes`, and its
    /// `Format`, `Name`, `Version` and `MCM:MIME` for a FHIR message or an OIOXML letter
    /// ([`check_vans_fhir`], [`check_vans_oioxml`], only the size for an unreadable payload); an
    /// ehmiSBDH's participants and scopes ([`check_sbdh`]). Empty without an envelope and for a
    /// VANS receipt.
    pub fn envelope_problems(&self) -> Vec<crate::finding::Finding> {
        match &self.envelope {
            Some(Envelope::Vans(vans)) if vans.message().is_some() => match &self.payload {
                Payload::Fhir(message) => {
                    check_vans_fhir(vans, &envelope::carry::facts_of(message))
                }
                Payload::Oioxml(letter) => {
                    check_vans_oioxml(vans, letter.type_code(), letter.version_code())
                }
                Payload::Unreadable(_) => check_vans_size(vans),
            },
            Some(Envelope::Sbdh(sbdh)) => {
                check_sbdh(sbdh, Some(sbdh.binary_content.mime_type.as_str()))
            }
            _ => Vec::new(),
        }
    }
}

impl Payload {
    /// Reads bytes that are not in an envelope: OIOXML by its root element `Emessage`, a FHIR
    /// message otherwise.
    pub fn read(bytes: &[u8]) -> Payload {
        if is_emessage(bytes) {
            return match oioxml::parse(bytes) {
                Ok(letter) => Payload::Oioxml(letter),
                Err(e) => Payload::Unreadable(Unreadable::Oioxml(e)),
            };
        }
        match Message::parse(bytes.to_vec(), None) {
            Ok(message) => Payload::Fhir(message),
            Err(e) => Payload::Unreadable(Unreadable::Fhir(e)),
        }
    }

    /// The media type of the payload: the FHIR message's, `application/xml` for OIOXML, and for
    /// unreadable bytes what they look like (`application/octet-stream` when neither JSON nor
    /// XML).
    pub fn media_type(&self, bytes: &[u8]) -> &'static str {
        match self {
            Payload::Fhir(message) => message.format.media_type(),
            Payload::Oioxml(_) => "application/xml",
            Payload::Unreadable(_) => {
                Format::sniff(bytes).map_or("application/octet-stream", Format::media_type)
            }
        }
    }
}

/// Whether the document element of `bytes` (XML) is `Emessage`, in any prefix: OIOXML. The root's
/// name is ASCII in every encoding OIOXML uses, so the first 4 KiB are read leniently.
fn is_emessage(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    // The first start tag that is not a declaration, comment or processing instruction.
    let mut rest = text.as_ref();
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return name.rsplit(':').next() == Some("Emessage");
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const XCTL03: &[u8] = include_bytes!("../tests/fixtures/oioxml/xctl03.xml");

    #[test]
    fn an_oioxml_receipt_in_a_vans_envelope_is_an_oioxml_payload_with_its_envelope() {
        let letter = oioxml::parse(XCTL03).expect("the fixture is a receipt");
        let wrapped = envelope::carry::wrap_oioxml(XCTL03, &letter.envelope_facts());
        let arrival = Arrival::read(&wrapped);
        assert_eq!(arrival.envelope_kind(), Some(EnvelopeKind::Vans));
        assert!(matches!(arrival.payload, Payload::Oioxml(_)), "{arrival:?}");
        assert_eq!(arrival.bytes, XCTL03);
        assert!(
            arrival.envelope_problems().is_empty(),
            "{:?}",
            arrival.envelope_problems()
        );
    }

    #[test]
    fn bytes_without_an_envelope_are_their_own_payload() {
        let arrival = Arrival::read(XCTL03);
        assert!(arrival.envelope.is_none());
        assert!(matches!(arrival.payload, Payload::Oioxml(_)));
        let arrival = Arrival::read(b"hello");
        assert_eq!(arrival.envelope_kind(), None);
        assert!(matches!(
            arrival.payload,
            Payload::Unreadable(Unreadable::Fhir(_))
        ));
        assert_eq!(
            arrival.payload.media_type(&arrival.bytes),
            "application/octet-stream"
        );
    }

    #[test]
    fn a_broken_emessage_is_an_unreadable_oioxml_message_not_a_fhir_one() {
        let broken = String::from_utf8_lossy(XCTL03).replace("</Emessage>", "");
        let arrival = Arrival::read(broken.as_bytes());
        let Payload::Unreadable(reason) = &arrival.payload else {
            panic!("{arrival:?}");
        };
        assert!(
            reason.to_string().starts_with("unreadable OIOXML message"),
            "{reason}"
        );
    }

    #[test]
    fn an_unreadable_vans_envelope_is_named_and_carries_nothing() {
        let bytes = b"<VANSEnvelope xmlns=\"urn:oio:medcom:vans-envelope:1.0.4\"/>";
        let arrival = Arrival::read(bytes);
        assert_eq!(arrival.envelope_kind(), Some(EnvelopeKind::Vans));
        assert!(arrival.envelope.is_none());
        let Payload::Unreadable(reason) = &arrival.payload else {
            panic!("{arrival:?}");
        };
        assert!(
            reason.to_string().starts_with("unreadable VANSEnvelope: "),
            "{reason}"
        );
    }
}
