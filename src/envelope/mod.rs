//! Envelopes: VANSEnvelope 1.0.4 and ehmiSBDH — unwrap, wrap, validate, check, deduplicate.
//!
//! A MedCom message travels inside an envelope that addresses it, names it for the network's
//! statistics and carries the payload in base64 (DOMAIN.md §3):
//! - **VANSEnvelope 1.0.4** ([`VansEnvelope`], `vans.rs`) on the VANS network: `SenderID`/`ReceiverID` with
//!   `EndPointType`, `EnvelopeIdentifier`, `SentDateTime`, then a `Message`
//!   (`MetaInformation` + `Data`) or an envelope-level `Receipt` (positive, negative,
//!   VANS-negative). FHIR messages travel with `Format = HL7`, `Name` = their statistical code and
//!   the `MCM:MIME` service tag ([`fhir_envelope_fields`], `fhir.rs`).
//! - **ehmiSBDH** ([`SbdhEnvelope`], `sbdh.rs`) on the EHMI / eDelivery network: an SBDH 1.2 header with
//!   participants `0088:<GLN>` and MedCom's scopes, and the payload in `BinaryContent`. Its
//!   receipts are ebBP signals ([`Signal`], `signal.rs`) inside an SBDH.
//!
//! What this module promises:
//! - **Byte-exact payloads.** [`unwrap_vans`]/[`unwrap_sbdh`] return the decoded base64 exactly;
//!   [`wrap_vans`]/[`wrap_sbdh`] encode it exactly, so `wrap(unwrap(x))` keeps the payload.
//! - **Hostile input is contained** (`xml.rs`, [`MAX_ENVELOPE_BYTES`]): size and node limits, no DTD, no entity
//!   expansion, no network.
//! - **Schema verdicts** ([`Validator`]) come from libxml2 with MedCom's own XSDs loaded at run
//!   time ([`SchemaFiles`]), with two documented departures (DOMAIN.md §6): the ehmiSBDH
//!   `BinaryContent` namespace setting ([`BinaryContentRule`]) and libxml2 2.9's whitespace bug,
//!   where the XML Schema rule decides. See `xsd.rs`.
//! - **Consistency checks** ([`RULES`], `check.rs`) return findings of the one rule catalogue
//!   ([`crate::rule`]):
//!   `SizeInBytes`, FHIR `Format`/`Name`/`MCM:MIME`, OIOXML `Name`/`Version`, receipts quoting
//!   the envelope they answer, SBDH participants and scopes.
//! - **The duplicate matrix** ([`DuplicateMatrix`], MR8) on (envelope id, message id), the same for
//!   VANS and ehmiSBDH.
//!
//! A verdict is data: an invalid envelope gives an invalid [`XsdReport`] or breach
//! findings.
//! [`EnvelopeError`] means the envelope could not be read at all, or the harness failed.

pub mod carry;
mod check;
mod duplicate;
mod error;
mod fhir;
mod sbdh;
mod signal;
mod vans;
mod xml;
mod xsd;

pub use check::{
    RULES, SBDH_MIME, SBDH_PARTICIPANT, SBDH_RECEIPT_ADDRESSING, SBDH_SCOPES, SBDH_SIGNAL_ORIGINAL,
    VANS_FORMAT, VANS_MIME, VANS_NAME, VANS_RECEIPT_ADDRESSING, VANS_RECEIPT_MESSAGE,
    VANS_RECEIPT_OF_RECEIPT, VANS_RECEIPT_ORIGINAL, VANS_SIZE_IN_BYTES, VANS_VERSION, check_sbdh,
    check_sbdh_receipt, check_vans_fhir, check_vans_oioxml, check_vans_receipt, check_vans_size,
};
pub use duplicate::{DuplicateKey, DuplicateMatrix, DuplicateVerdict, classify};
pub use error::EnvelopeError;
pub use fhir::{
    ACKNOWLEDGEMENT_EVENT, CARE_COMMUNICATION_EVENT, FhirEnvelopeFields, FhirFacts,
    FhirFieldsError, HOSPITAL_NOTIFICATION_EVENT, MIME_SERVICE_TAG, STATISTICAL_CODES,
    fhir_envelope_fields, fhir_media_type, hospital_notification_postfix,
};
pub use sbdh::{
    BinaryContent, BinaryContentNamespace, BusinessService, CorrelationInformation, DOCUMENTID,
    DocumentIdentification, GLN_SCHEME, MESSAGEENVELOPEIDENTIFIER, MESSAGEIDENTIFIER,
    ORIGINALMESSAGEIDENTIFIER, PARTICIPANT_AUTHORITY, PATIENTID, PEPPOL_ENVELOPE_NAMESPACE,
    PROCESSID, Participant, RECEIPT_ACKNOWLEDGEMENT, RECEIVERID, SBDH_ACKNOWLEDGEMENT_STANDARD,
    SBDH_NAMESPACE, SENDERID, SbdhEnvelope, Scope, unwrap_sbdh, wrap_sbdh,
};
pub use signal::{EBBP_NAMESPACE, PartyInfo, Signal, SignalKind, read_signal, write_signal};
pub use vans::{
    DocumentInfo, EndPoint, EndPointType, Format, MetaInformation, Processing, ReceiptError,
    ReceiptKind, ServiceTag, Transport, TransportType, VANS_NAMESPACE, VansBody, VansEnvelope,
    VansMessage, VansReceipt, unwrap_vans, wrap_vans,
};
pub use xml::{MAX_ENVELOPE_BYTES, MAX_NODES};
pub use xsd::{BinaryContentRule, SchemaFiles, Validator, XsdIssue, XsdReport};

/// Which envelope format a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvelopeKind {
    /// VANSEnvelope 1.0.4.
    Vans,
    /// ehmiSBDH.
    Sbdh,
}

/// An unwrapped envelope of either format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    /// A VANSEnvelope 1.0.4.
    Vans(VansEnvelope),
    /// An ehmiSBDH envelope.
    Sbdh(SbdhEnvelope),
}

impl Envelope {
    /// Which format this is.
    pub fn kind(&self) -> EnvelopeKind {
        match self {
            Envelope::Vans(_) => EnvelopeKind::Vans,
            Envelope::Sbdh(_) => EnvelopeKind::Sbdh,
        }
    }

    /// The decoded payload; `None` for a VANS receipt, which has none.
    pub fn payload(&self) -> Option<&[u8]> {
        match self {
            Envelope::Vans(v) => v.message().map(|m| m.payload.as_slice()),
            Envelope::Sbdh(s) => Some(&s.binary_content.payload),
        }
    }

    /// The (envelope id, message id) pair of the duplicate matrix: VANS `EnvelopeIdentifier` and
    /// `MetaInformation/Identifier`; ehmiSBDH scopes `MESSAGEENVELOPEIDENTIFIER` and
    /// `MESSAGEIDENTIFIER`. `None` for a VANS receipt or an SBDH without those scopes.
    pub fn duplicate_key(&self) -> Option<DuplicateKey> {
        match self {
            Envelope::Vans(v) => v
                .message()
                .map(|m| DuplicateKey::new(&v.envelope_identifier, &m.meta.identifier)),
            Envelope::Sbdh(s) => Some(DuplicateKey::new(
                s.scope_value(MESSAGEENVELOPEIDENTIFIER)?,
                s.scope_value(MESSAGEIDENTIFIER)?,
            )),
        }
    }

    /// Writes the envelope ([`wrap_vans`] or [`wrap_sbdh`]).
    pub fn wrap(&self) -> String {
        match self {
            Envelope::Vans(v) => wrap_vans(v),
            Envelope::Sbdh(s) => wrap_sbdh(s),
        }
    }
}

/// Which envelope `bytes` is, by its root element (`{urn:oio:medcom:vans-envelope:1.0.4}VANSEnvelope`
/// or `{…StandardBusinessDocumentHeader}StandardBusinessDocument`).
///
/// # Errors
/// [`EnvelopeError`] when the document cannot be read safely, or
/// [`EnvelopeError::Root`] when its root is neither envelope.
pub fn detect(bytes: &[u8]) -> Result<EnvelopeKind, EnvelopeError> {
    let source = xml::decode(bytes)?;
    let document = match xml::parse(&source) {
        Ok(document) => document,
        // A damaged envelope (truncated, or with a DOCTYPE the parser refuses) is still an
        // envelope: known by its root element, its own unwrap then says what is wrong with it.
        Err(error) => return sniff_root(&source).ok_or(error),
    };
    let root = document.root_element();
    if xml::is(root, VANS_NAMESPACE, "VANSEnvelope") {
        Ok(EnvelopeKind::Vans)
    } else if xml::is(root, SBDH_NAMESPACE, "StandardBusinessDocument") {
        Ok(EnvelopeKind::Sbdh)
    } else {
        Err(EnvelopeError::Root {
            found: xml::expanded_name(root),
            expected: format!(
                "{{{VANS_NAMESPACE}}}VANSEnvelope` or `{{{SBDH_NAMESPACE}}}StandardBusinessDocument"
            ),
        })
    }
}

/// The envelope kind named by the first element of `source`, read as a stream so a truncated
/// document or one with a DOCTYPE still shows its root: `{urn:oio:medcom:vans-envelope:1.0.4}
/// VANSEnvelope` or the SBDH's `StandardBusinessDocument`. `None` for anything else, or when no
/// element starts before the text ends.
fn sniff_root(source: &str) -> Option<EnvelopeKind> {
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    let mut reader = quick_xml::NsReader::from_str(source);
    loop {
        match reader.read_resolved_event() {
            Ok((ResolveResult::Bound(ns), Event::Start(e) | Event::Empty(e))) => {
                let (ns, local) = (ns.as_ref(), e.local_name());
                return match local.as_ref() {
                    "VANSEnvelope" if ns == VANS_NAMESPACE => Some(EnvelopeKind::Vans),
                    "StandardBusinessDocument" if ns == SBDH_NAMESPACE => Some(EnvelopeKind::Sbdh),
                    _ => None,
                };
            }
            Ok((_, Event::Start(_) | Event::Empty(_) | Event::Eof)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Reads either envelope ([`detect`], then [`unwrap_vans`] or [`unwrap_sbdh`]).
///
/// # Errors
/// As [`detect`] and the format's unwrap.
pub fn unwrap(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    match detect(bytes)? {
        EnvelopeKind::Vans => unwrap_vans(bytes).map(Envelope::Vans),
        EnvelopeKind::Sbdh => unwrap_sbdh(bytes).map(Envelope::Sbdh),
    }
}

#[cfg(test)]
mod tests;
