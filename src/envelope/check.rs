//! Consistency checks between an envelope, its payload and the envelope it answers.
//!
//! A check returns [`Problem`]s, plain data the harness turns into findings; an empty list means
//! every rule checked holds. Rule ids are the harness's own (`vans-…`, `sbdh-…`) because MedCom
//! states these rules in prose; each [`EnvelopeRule`] names its source. Grades follow the
//! harness's catalogue: a message that can be lost or mis-correlated is `F1`, one a receiver
//! must reject or misreads is `F2`, a breach that corrupts routing metadata or statistics but
//! not the message is `F3`.
//!
//! The rules (DOMAIN.md §2, §3, §8):
//! - [`VANS_SIZE_IN_BYTES`]: `SizeInBytes` = the decoded `Data` length in bytes;
//! - [`VANS_FORMAT`], [`VANS_NAME`], [`VANS_MIME`]: a FHIR payload travels with `Format = HL7`,
//!   `Name` = its statistical code, `MCM:MIME` = its media type ([`super::fhir_envelope_fields`]);
//! - [`VANS_NAME`], [`VANS_VERSION`]: an OIOXML payload travels with `Name = MCM:<TypeCode>` and
//!   `Version = <VersionCode>`;
//! - [`VANS_RECEIPT_ORIGINAL`], [`VANS_RECEIPT_MESSAGE`], [`VANS_RECEIPT_ADDRESSING`],
//!   [`VANS_RECEIPT_OF_RECEIPT`]: an envelope receipt quotes the envelope it answers and goes back
//!   to its sender; receipts are never answered;
//! - [`SBDH_PARTICIPANT`], [`SBDH_SCOPES`], [`SBDH_MIME`]: ehmiSBDH addressing, scopes and media
//!   type;
//! - [`SBDH_SIGNAL_ORIGINAL`], [`SBDH_RECEIPT_ADDRESSING`]: an SBDH receipt's ebBP signal names
//!   the message it answers and goes back to its sender.

use super::fhir::{FhirFacts, MIME_SERVICE_TAG, fhir_envelope_fields, fhir_media_type};
use super::sbdh::{
    MESSAGEENVELOPEIDENTIFIER, MESSAGEIDENTIFIER, ORIGINALMESSAGEIDENTIFIER, PROCESSID,
    RECEIPT_ACKNOWLEDGEMENT, RECEIVERID, SENDERID, SbdhEnvelope,
};
use super::signal::Signal;
use super::vans::{Format, VansBody, VansEnvelope};

/// MedCom's grading scale for a breach (test protocols): `F1` kritisk … `F4` mindre betydelig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grade {
    /// Minor (mindre betydelig).
    F4,
    /// Significant (betydelig).
    F3,
    /// Serious (alvorlig).
    F2,
    /// Critical (kritisk).
    F1,
}

/// One rule of this module: id, default grade, statement, source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvelopeRule {
    /// Stable id used in problems and findings.
    pub id: &'static str,
    /// Default grade of a breach.
    pub grade: Grade,
    /// The rule in one sentence.
    pub statement: &'static str,
    /// Where the rule is written down.
    pub source: &'static str,
}

/// A breach of an [`EnvelopeRule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule's id.
    pub rule: &'static str,
    /// How bad it is.
    pub grade: Grade,
    /// What is wrong, in a sentence a vendor can act on.
    pub message: String,
    /// Where, as an element path in the envelope.
    pub location: &'static str,
}

impl Problem {
    fn new(rule: &EnvelopeRule, location: &'static str, message: String) -> Problem {
        Problem {
            rule: rule.id,
            grade: rule.grade,
            message,
            location,
        }
    }
}

/// F2: a receiver treats a size mismatch as damage in transport (`MSG_Damaged_durin_transport`).
pub const VANS_SIZE_IN_BYTES: EnvelopeRule = EnvelopeRule {
    id: "vans-size-in-bytes",
    grade: Grade::F2,
    statement: "`Document/SizeInBytes` equals the length in bytes of the decoded `Data`.",
    source: "VANSEnvelope 1.0.4 (vans-envelope-1.0.4.xsd); DOMAIN.md §8 statistics consistency",
};
/// F3: the VANS statistics count the message under the wrong kind.
pub const VANS_FORMAT: EnvelopeRule = EnvelopeRule {
    id: "vans-format",
    grade: Grade::F3,
    statement: "A FHIR message travels with `Document/Format` = `HL7`.",
    source: "DOMAIN.md §3 (VANSEnvelope for FHIR)",
};
/// F3: the national statistics count the message under the wrong standard.
pub const VANS_NAME: EnvelopeRule = EnvelopeRule {
    id: "vans-name",
    grade: Grade::F3,
    statement: "`Document/Name` is the payload's statistical code: `MCM:FDIS91#<category>`, `MCM:FDIS20#<event>`, `MCM:FCTL#<code>` for FHIR, `MCM:<TypeCode>` for OIOXML.",
    source: "CodeSystem medcom-messaging-statisticalCodes 2.0.0; DOMAIN.md §3, §8",
};
/// F3: the statistics count the wrong version.
pub const VANS_VERSION: EnvelopeRule = EnvelopeRule {
    id: "vans-version",
    grade: Grade::F3,
    statement: "For an OIOXML payload `Document/Version` equals the letter's `VersionCode`.",
    source: "DOMAIN.md §8 statistics consistency",
};
/// F2: the receiver reads the payload with the wrong parser.
pub const VANS_MIME: EnvelopeRule = EnvelopeRule {
    id: "vans-mime",
    grade: Grade::F2,
    statement: "A FHIR message has the service tag `MCM:MIME` = its media type (`application/fhir+xml` or `application/fhir+json`).",
    source: "DOMAIN.md §3 (VANSEnvelope for FHIR)",
};
/// F1: the sender cannot tell which envelope the receipt is about.
pub const VANS_RECEIPT_ORIGINAL: EnvelopeRule = EnvelopeRule {
    id: "vans-receipt-original",
    grade: Grade::F1,
    statement: "An envelope receipt's `OriginalEnvelopeIdentifier` is the `EnvelopeIdentifier` of the envelope it answers.",
    source: "VANSEnvelope 1.0.4 (ReceiptType); DOMAIN.md §3",
};
/// F2: the receipt quotes another message's meta information.
pub const VANS_RECEIPT_MESSAGE: EnvelopeRule = EnvelopeRule {
    id: "vans-receipt-original-message",
    grade: Grade::F2,
    statement: "An envelope receipt's `OriginalMessage/Identifier` is the answered message's `MetaInformation/Identifier`.",
    source: "VANSEnvelope 1.0.4 (PositiveMessageType, NegativeMessageType)",
};
/// F3: the receipt cannot be routed back.
pub const VANS_RECEIPT_ADDRESSING: EnvelopeRule = EnvelopeRule {
    id: "vans-receipt-addressing",
    grade: Grade::F3,
    statement: "An envelope receipt goes from the answered envelope's receiver back to its sender.",
    source: "VANSEnvelope 1.0.4; MedCom governance 052.2",
};
/// F2: answering a receipt starts an endless exchange (as KR2 for acknowledgements).
pub const VANS_RECEIPT_OF_RECEIPT: EnvelopeRule = EnvelopeRule {
    id: "vans-receipt-of-receipt",
    grade: Grade::F2,
    statement: "A receipt is never answered with a receipt.",
    source: "DOMAIN.md §4 (receipts are never acknowledged), KR2 by analogy",
};
/// F1: the access points cannot route the message.
pub const SBDH_PARTICIPANT: EnvelopeRule = EnvelopeRule {
    id: "sbdh-participant",
    grade: Grade::F1,
    statement: "`Sender` and `Receiver` identifiers are `0088:<GLN>` with a valid 13-digit GLN and authority `iso6523-actorid-upis`.",
    source: "ehmiSBDH (ehmiPartner.xsd, samples); DOMAIN.md §3",
};
/// F2: the receiver cannot correlate, deduplicate or acknowledge the message.
pub const SBDH_SCOPES: EnvelopeRule = EnvelopeRule {
    id: "sbdh-scopes",
    grade: Grade::F2,
    statement: "The header has the scopes DOCUMENTID, PROCESSID, SENDERID, RECEIVERID, MESSAGEIDENTIFIER and MESSAGEENVELOPEIDENTIFIER, and a message (not a signal) asks for `EHMI-ReceiptAcknowledgement`.",
    source: "ehmiSBDH (ehmiBusinessScope.xsd, samples); DOMAIN.md §3",
};
/// F2: the receiver reads the payload with the wrong parser.
pub const SBDH_MIME: EnvelopeRule = EnvelopeRule {
    id: "sbdh-mime",
    grade: Grade::F2,
    statement: "`BinaryContent/@mimeType` is the payload's media type.",
    source: "ehmiEDN-Business-Message-Envelope-1.2.xsd (BinaryContentType)",
};
/// F1: the sender cannot tell which message the receipt is about.
pub const SBDH_SIGNAL_ORIGINAL: EnvelopeRule = EnvelopeRule {
    id: "sbdh-signal-original",
    grade: Grade::F1,
    statement: "An SBDH receipt's ebBP `OriginalMessageIdentifier` and its `ORIGINALMESSAGEIDENTIFIER` scope are the answered message's `MESSAGEIDENTIFIER`.",
    source: "ebBP signals 2.0.4 (SignalIdentificationInformation); ehmiSBDH receipt samples",
};
/// F3: the receipt cannot be routed back.
pub const SBDH_RECEIPT_ADDRESSING: EnvelopeRule = EnvelopeRule {
    id: "sbdh-receipt-addressing",
    grade: Grade::F3,
    statement: "An SBDH receipt goes from the answered message's receiver back to its sender.",
    source: "ehmiSBDH receipt samples (\"sender = original receiver, receiver = original sender\")",
};

/// Every rule of this module, for the harness's catalogue.
pub const RULES: &[EnvelopeRule] = &[
    VANS_SIZE_IN_BYTES,
    VANS_FORMAT,
    VANS_NAME,
    VANS_VERSION,
    VANS_MIME,
    VANS_RECEIPT_ORIGINAL,
    VANS_RECEIPT_MESSAGE,
    VANS_RECEIPT_ADDRESSING,
    VANS_RECEIPT_OF_RECEIPT,
    SBDH_PARTICIPANT,
    SBDH_SCOPES,
    SBDH_MIME,
    SBDH_SIGNAL_ORIGINAL,
    SBDH_RECEIPT_ADDRESSING,
];

const SIZE_PATH: &str = "VANSEnvelope/Message/MetaInformation/Document/SizeInBytes";
const FORMAT_PATH: &str = "VANSEnvelope/Message/MetaInformation/Document/Format";
const NAME_PATH: &str = "VANSEnvelope/Message/MetaInformation/Document/Name";
const VERSION_PATH: &str = "VANSEnvelope/Message/MetaInformation/Document/Version";
const MIME_PATH: &str =
    "VANSEnvelope/Message/MetaInformation/Transport/ServiceTag[@name='MCM:MIME']";

/// [`VANS_SIZE_IN_BYTES`] for a message envelope; nothing for a receipt.
pub fn check_vans_size(envelope: &VansEnvelope) -> Vec<Problem> {
    let Some(message) = envelope.message() else {
        return Vec::new();
    };
    let declared = message.meta.document.size_in_bytes;
    let actual = message.payload.len();
    if usize::try_from(declared).ok() == Some(actual) {
        return Vec::new();
    }
    vec![Problem::new(
        &VANS_SIZE_IN_BYTES,
        SIZE_PATH,
        format!("`SizeInBytes` is {declared}, but `Data` decodes to {actual} bytes"),
    )]
}

/// The size rule and the FHIR rules ([`VANS_FORMAT`], [`VANS_NAME`], [`VANS_MIME`]) for an
/// envelope carrying a FHIR message whose facts are `facts`. When no name can be derived from
/// the facts (no statistical code for the event, a missing category), the name is not judged
/// here: that is the payload's own problem.
pub fn check_vans_fhir(envelope: &VansEnvelope, facts: &FhirFacts<'_>) -> Vec<Problem> {
    let mut problems = check_vans_size(envelope);
    let Some(message) = envelope.message() else {
        return problems;
    };
    let document = &message.meta.document;
    if document.format != Format::Hl7 {
        problems.push(Problem::new(
            &VANS_FORMAT,
            FORMAT_PATH,
            format!(
                "`Format` is `{}`; a FHIR message travels as `HL7`",
                document.format.as_str()
            ),
        ));
    }
    if let Ok(expected) = fhir_envelope_fields(facts)
        && document.name.trim() != expected.name
    {
        problems.push(Problem::new(
            &VANS_NAME,
            NAME_PATH,
            format!(
                "`Name` is `{}`, expected `{}`",
                document.name, expected.name
            ),
        ));
    }
    let expected_mime = fhir_media_type(facts.media_type);
    match (message.meta.service_tag(MIME_SERVICE_TAG), expected_mime) {
        (None, _) => problems.push(Problem::new(
            &VANS_MIME,
            MIME_PATH,
            format!(
                "the service tag `{MIME_SERVICE_TAG}` is missing; the payload is `{}`",
                facts.media_type
            ),
        )),
        (Some(tag), Some(expected)) if fhir_media_type(tag) != Some(expected) => {
            problems.push(Problem::new(
                &VANS_MIME,
                MIME_PATH,
                format!("`{MIME_SERVICE_TAG}` is `{tag}`, but the payload is `{expected}`"),
            ));
        }
        _ => {}
    }
    problems
}

/// The size rule and the OIOXML statistics rules ([`VANS_NAME`] = `MCM:<TypeCode>`,
/// [`VANS_VERSION`] = `<VersionCode>`) for an envelope carrying an OIOXML letter with
/// `Letter/TypeCode` = `type_code` and `Letter/VersionCode` = `version_code`.
pub fn check_vans_oioxml(
    envelope: &VansEnvelope,
    type_code: &str,
    version_code: &str,
) -> Vec<Problem> {
    let mut problems = check_vans_size(envelope);
    let Some(message) = envelope.message() else {
        return problems;
    };
    let document = &message.meta.document;
    let expected_name = format!("MCM:{}", type_code.trim());
    if document.name.trim() != expected_name {
        problems.push(Problem::new(
            &VANS_NAME,
            NAME_PATH,
            format!("`Name` is `{}`, expected `{expected_name}`", document.name),
        ));
    }
    if document.version.as_deref().map(str::trim) != Some(version_code.trim()) {
        problems.push(Problem::new(
            &VANS_VERSION,
            VERSION_PATH,
            format!(
                "`Version` is {}, expected `{}`",
                document
                    .version
                    .as_deref()
                    .map_or_else(|| "missing".to_string(), |v| format!("`{v}`")),
                version_code.trim()
            ),
        ));
    }
    problems
}

/// The receipt rules for `receipt`, an envelope that should answer `original`.
pub fn check_vans_receipt(receipt: &VansEnvelope, original: &VansEnvelope) -> Vec<Problem> {
    let mut problems = Vec::new();
    let VansBody::Receipt(answer) = &receipt.body else {
        return problems;
    };
    let Some(message) = original.message() else {
        problems.push(Problem::new(
            &VANS_RECEIPT_OF_RECEIPT,
            "VANSEnvelope/Receipt",
            format!(
                "envelope `{}` answers a receipt (`{}`); receipts are never answered",
                receipt.envelope_identifier, original.envelope_identifier
            ),
        ));
        return problems;
    };
    if answer.original_envelope_identifier.trim() != original.envelope_identifier.trim() {
        problems.push(Problem::new(
            &VANS_RECEIPT_ORIGINAL,
            "VANSEnvelope/Receipt/*/OriginalEnvelopeIdentifier",
            format!(
                "the receipt quotes envelope `{}`, but answers envelope `{}`",
                answer.original_envelope_identifier, original.envelope_identifier
            ),
        ));
    }
    if let Some(quoted) = &answer.original_message
        && quoted.identifier.trim() != message.meta.identifier.trim()
    {
        problems.push(Problem::new(
            &VANS_RECEIPT_MESSAGE,
            "VANSEnvelope/Receipt/*/OriginalMessage/Identifier",
            format!(
                "the receipt quotes message `{}`, but answers message `{}`",
                quoted.identifier, message.meta.identifier
            ),
        ));
    }
    if receipt.sender.id.trim() != original.receiver.id.trim()
        || receipt.receiver.id.trim() != original.sender.id.trim()
    {
        problems.push(Problem::new(
            &VANS_RECEIPT_ADDRESSING,
            "VANSEnvelope/SenderID",
            format!(
                "the receipt goes from `{}` to `{}`; the answered envelope went from `{}` to `{}`",
                receipt.sender.id, receipt.receiver.id, original.sender.id, original.receiver.id
            ),
        ));
    }
    problems
}

/// The ehmiSBDH header rules ([`SBDH_PARTICIPANT`], [`SBDH_SCOPES`]) and, when the payload's
/// media type is known, [`SBDH_MIME`].
pub fn check_sbdh(envelope: &SbdhEnvelope, payload_media_type: Option<&str>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (role, participant, location) in [
        (
            "sender",
            &envelope.sender,
            "StandardBusinessDocumentHeader/Sender/Identifier",
        ),
        (
            "receiver",
            &envelope.receiver,
            "StandardBusinessDocumentHeader/Receiver/Identifier",
        ),
    ] {
        let gln_ok = participant.gln().is_some_and(is_valid_gln);
        let authority_ok = participant
            .authority
            .as_deref()
            .is_none_or(|a| a == super::sbdh::PARTICIPANT_AUTHORITY);
        if !gln_ok || !authority_ok {
            problems.push(Problem::new(
                &SBDH_PARTICIPANT,
                location,
                format!(
                    "the {role} `{}` (authority {}) is not `0088:<GLN>` with a valid GLN and authority `iso6523-actorid-upis`",
                    participant.identifier.trim(),
                    participant.authority.as_deref().map_or_else(|| "missing".to_string(), |a| format!("`{a}`"))
                ),
            ));
        }
    }
    let mut required = vec![
        super::sbdh::DOCUMENTID,
        PROCESSID,
        SENDERID,
        RECEIVERID,
        MESSAGEIDENTIFIER,
        MESSAGEENVELOPEIDENTIFIER,
    ];
    if !envelope.is_signal() {
        required.push(RECEIPT_ACKNOWLEDGEMENT);
    }
    let missing: Vec<&str> = required
        .into_iter()
        .filter(|t| envelope.scope_value(t).is_none_or(str::is_empty))
        .collect();
    if !missing.is_empty() {
        problems.push(Problem::new(
            &SBDH_SCOPES,
            "StandardBusinessDocumentHeader/BusinessScope",
            format!("the scopes {} are missing or empty", quoted_list(&missing)),
        ));
    }
    if let Some(media_type) = payload_media_type {
        let declared = envelope.binary_content.mime_type.trim();
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        if !declared.eq_ignore_ascii_case(essence) {
            problems.push(Problem::new(
                &SBDH_MIME,
                "StandardBusinessDocument/BinaryContent/@mimeType",
                format!("`mimeType` is `{declared}`, but the payload is `{essence}`"),
            ));
        }
    }
    problems
}

/// The SBDH receipt rules for `receipt` (an `ehmisbdh-acknowledgement` SBDH) carrying `signal`,
/// answering `original`.
pub fn check_sbdh_receipt(
    receipt: &SbdhEnvelope,
    signal: &Signal,
    original: &SbdhEnvelope,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let expected = original.scope_value(MESSAGEIDENTIFIER).unwrap_or_default();
    let quoted = signal
        .original_message_identifier
        .as_deref()
        .unwrap_or_default();
    if quoted != expected {
        problems.push(Problem::new(
            &SBDH_SIGNAL_ORIGINAL,
            "ReceiptAcknowledgement/OriginalMessageIdentifier",
            format!("the signal quotes message `{quoted}`, but answers message `{expected}`"),
        ));
    }
    if let Some(scope) = receipt.scope_value(ORIGINALMESSAGEIDENTIFIER)
        && scope != expected
    {
        problems.push(Problem::new(
            &SBDH_SIGNAL_ORIGINAL,
            "StandardBusinessDocumentHeader/BusinessScope/Scope[ORIGINALMESSAGEIDENTIFIER]",
            format!("the scope `{ORIGINALMESSAGEIDENTIFIER}` is `{scope}`, but the receipt answers message `{expected}`"),
        ));
    }
    if receipt.sender.identifier.trim() != original.receiver.identifier.trim()
        || receipt.receiver.identifier.trim() != original.sender.identifier.trim()
    {
        problems.push(Problem::new(
            &SBDH_RECEIPT_ADDRESSING,
            "StandardBusinessDocumentHeader/Sender",
            format!(
                "the receipt goes from `{}` to `{}`; the answered message went from `{}` to `{}`",
                receipt.sender.identifier.trim(),
                receipt.receiver.identifier.trim(),
                original.sender.identifier.trim(),
                original.receiver.identifier.trim()
            ),
        ));
    }
    problems
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

use crate::identifier::is_valid_gln;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gln_check_digit_follows_gs1() {
        assert!(is_valid_gln("5790001659592"));
        assert!(is_valid_gln("5790000121526"));
        assert!(!is_valid_gln("5790000121527"));
        assert!(!is_valid_gln("57900000121526"));
    }
}
