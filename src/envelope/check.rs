//! Consistency checks between an envelope, its payload and the envelope it answers.
//!
//! A check returns breaches as [`Finding`]s of the one rule catalogue ([`crate::rule`]), each at
//! its envelope element; an empty list means every rule checked holds. Rule ids are the harness's
//! own (`vans-…`, `sbdh-…`) because MedCom states these rules in prose; the catalogue gives each
//! its grade, statement and source.
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
use crate::finding::Finding;

/// The rules this module judges, a part of the one catalogue.
pub use crate::rule::{
    ENVELOPE_RULES as RULES, SBDH_MIME, SBDH_PARTICIPANT, SBDH_RECEIPT_ADDRESSING, SBDH_SCOPES,
    SBDH_SIGNAL_ORIGINAL, VANS_FORMAT, VANS_MIME, VANS_NAME, VANS_RECEIPT_ADDRESSING,
    VANS_RECEIPT_MESSAGE, VANS_RECEIPT_OF_RECEIPT, VANS_RECEIPT_ORIGINAL, VANS_SIZE_IN_BYTES,
    VANS_VERSION,
};

const SIZE_PATH: &str = "VANSEnvelope/Message/MetaInformation/Document/SizeInBytes";
const FORMAT_PATH: &str = "VANSEnvelope/Message/MetaInformation/Document/Format";
const NAME_PATH: &str = "VANSEnvelope/Message/MetaInformation/Document/Name";
const VERSION_PATH: &str = "VANSEnvelope/Message/MetaInformation/Document/Version";
const MIME_PATH: &str =
    "VANSEnvelope/Message/MetaInformation/Transport/ServiceTag[@name='MCM:MIME']";

/// [`VANS_SIZE_IN_BYTES`] for a message envelope; nothing for a receipt.
pub fn check_vans_size(envelope: &VansEnvelope) -> Vec<Finding> {
    let Some(message) = envelope.message() else {
        return Vec::new();
    };
    let declared = message.meta.document.size_in_bytes;
    let actual = message.payload.len();
    if usize::try_from(declared).ok() == Some(actual) {
        return Vec::new();
    }
    vec![
        VANS_SIZE_IN_BYTES
            .breach(format!(
                "`SizeInBytes` is {declared}, but `Data` decodes to {actual} bytes"
            ))
            .at(SIZE_PATH),
    ]
}

/// The size rule and the FHIR rules ([`VANS_FORMAT`], [`VANS_NAME`], [`VANS_MIME`]) for an
/// envelope carrying a FHIR message whose facts are `facts`. When no name can be derived from
/// the facts (no statistical code for the event, a missing category), the name is not judged
/// here: that is the payload's own problem.
pub fn check_vans_fhir(envelope: &VansEnvelope, facts: &FhirFacts<'_>) -> Vec<Finding> {
    let mut problems = check_vans_size(envelope);
    let Some(message) = envelope.message() else {
        return problems;
    };
    let document = &message.meta.document;
    if document.format != Format::Hl7 {
        problems.push(
            VANS_FORMAT
                .breach(format!(
                    "`Format` is `{}`; a FHIR message travels as `HL7`",
                    document.format.as_str()
                ))
                .at(FORMAT_PATH),
        );
    }
    if let Ok(expected) = fhir_envelope_fields(facts)
        && document.name.trim() != expected.name
    {
        problems.push(
            VANS_NAME
                .breach(format!(
                    "`Name` is `{}`, expected `{}`",
                    document.name, expected.name
                ))
                .at(NAME_PATH),
        );
    }
    let expected_mime = fhir_media_type(facts.media_type);
    match (message.meta.service_tag(MIME_SERVICE_TAG), expected_mime) {
        (None, _) => problems.push(
            VANS_MIME
                .breach(format!(
                    "the service tag `{MIME_SERVICE_TAG}` is missing; the payload is `{}`",
                    facts.media_type
                ))
                .at(MIME_PATH),
        ),
        (Some(tag), Some(expected)) if fhir_media_type(tag) != Some(expected) => {
            problems.push(
                VANS_MIME
                    .breach(format!(
                        "`{MIME_SERVICE_TAG}` is `{tag}`, but the payload is `{expected}`"
                    ))
                    .at(MIME_PATH),
            );
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
) -> Vec<Finding> {
    let mut problems = check_vans_size(envelope);
    let Some(message) = envelope.message() else {
        return problems;
    };
    let document = &message.meta.document;
    let expected_name = format!("MCM:{}", type_code.trim());
    if document.name.trim() != expected_name {
        problems.push(
            VANS_NAME
                .breach(format!(
                    "`Name` is `{}`, expected `{expected_name}`",
                    document.name
                ))
                .at(NAME_PATH),
        );
    }
    if document.version.as_deref().map(str::trim) != Some(version_code.trim()) {
        problems.push(
            VANS_VERSION
                .breach(format!(
                    "`Version` is {}, expected `{}`",
                    document
                        .version
                        .as_deref()
                        .map_or_else(|| "missing".to_string(), |v| format!("`{v}`")),
                    version_code.trim()
                ))
                .at(VERSION_PATH),
        );
    }
    problems
}

/// The receipt rules for `receipt`, an envelope that should answer `original`.
pub fn check_vans_receipt(receipt: &VansEnvelope, original: &VansEnvelope) -> Vec<Finding> {
    let mut problems = Vec::new();
    let VansBody::Receipt(answer) = &receipt.body else {
        return problems;
    };
    let Some(message) = original.message() else {
        problems.push(
            VANS_RECEIPT_OF_RECEIPT
                .breach(format!(
                    "envelope `{}` answers a receipt (`{}`); receipts are never answered",
                    receipt.envelope_identifier, original.envelope_identifier
                ))
                .at("VANSEnvelope/Receipt"),
        );
        return problems;
    };
    if answer.original_envelope_identifier.trim() != original.envelope_identifier.trim() {
        problems.push(
            VANS_RECEIPT_ORIGINAL
                .breach(format!(
                    "the receipt quotes envelope `{}`, but answers envelope `{}`",
                    answer.original_envelope_identifier, original.envelope_identifier
                ))
                .at("VANSEnvelope/Receipt/*/OriginalEnvelopeIdentifier"),
        );
    }
    if let Some(quoted) = &answer.original_message
        && quoted.identifier.trim() != message.meta.identifier.trim()
    {
        problems.push(
            VANS_RECEIPT_MESSAGE
                .breach(format!(
                    "the receipt quotes message `{}`, but answers message `{}`",
                    quoted.identifier, message.meta.identifier
                ))
                .at("VANSEnvelope/Receipt/*/OriginalMessage/Identifier"),
        );
    }
    if receipt.sender.id.trim() != original.receiver.id.trim()
        || receipt.receiver.id.trim() != original.sender.id.trim()
    {
        problems.push(VANS_RECEIPT_ADDRESSING.breach(format!(
                "the receipt goes from `{}` to `{}`; the answered envelope went from `{}` to `{}`",
                receipt.sender.id, receipt.receiver.id, original.sender.id, original.receiver.id
            )).at("VANSEnvelope/SenderID"));
    }
    problems
}

/// The ehmiSBDH header rules ([`SBDH_PARTICIPANT`], [`SBDH_SCOPES`]) and, when the payload's
/// media type is known, [`SBDH_MIME`].
pub fn check_sbdh(envelope: &SbdhEnvelope, payload_media_type: Option<&str>) -> Vec<Finding> {
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
            problems.push(SBDH_PARTICIPANT.breach(format!(
                    "the {role} `{}` (authority {}) is not `0088:<GLN>` with a valid GLN and authority `iso6523-actorid-upis`",
                    participant.identifier.trim(),
                    participant.authority.as_deref().map_or_else(|| "missing".to_string(), |a| format!("`{a}`"))
                )).at(location));
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
        problems.push(
            SBDH_SCOPES
                .breach(format!(
                    "the scopes {} are missing or empty",
                    quoted_list(&missing)
                ))
                .at("StandardBusinessDocumentHeader/BusinessScope"),
        );
    }
    if let Some(media_type) = payload_media_type {
        let declared = envelope.binary_content.mime_type.trim();
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        if !declared.eq_ignore_ascii_case(essence) {
            problems.push(
                SBDH_MIME
                    .breach(format!(
                        "`mimeType` is `{declared}`, but the payload is `{essence}`"
                    ))
                    .at("StandardBusinessDocument/BinaryContent/@mimeType"),
            );
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
) -> Vec<Finding> {
    let mut problems = Vec::new();
    let expected = original.scope_value(MESSAGEIDENTIFIER).unwrap_or_default();
    let quoted = signal
        .original_message_identifier
        .as_deref()
        .unwrap_or_default();
    if quoted != expected {
        problems.push(
            SBDH_SIGNAL_ORIGINAL
                .breach(format!(
                    "the signal quotes message `{quoted}`, but answers message `{expected}`"
                ))
                .at("ReceiptAcknowledgement/OriginalMessageIdentifier"),
        );
    }
    if let Some(scope) = receipt.scope_value(ORIGINALMESSAGEIDENTIFIER)
        && scope != expected
    {
        problems.push(SBDH_SIGNAL_ORIGINAL.breach(format!("the scope `{ORIGINALMESSAGEIDENTIFIER}` is `{scope}`, but the receipt answers message `{expected}`")).at("StandardBusinessDocumentHeader/BusinessScope/Scope[ORIGINALMESSAGEIDENTIFIER]"));
    }
    if receipt.sender.identifier.trim() != original.receiver.identifier.trim()
        || receipt.receiver.identifier.trim() != original.sender.identifier.trim()
    {
        problems.push(SBDH_RECEIPT_ADDRESSING.breach(format!(
                "the receipt goes from `{}` to `{}`; the answered message went from `{}` to `{}`",
                receipt.sender.identifier.trim(),
                receipt.receiver.identifier.trim(),
                original.sender.identifier.trim(),
                original.receiver.identifier.trim()
            )).at("StandardBusinessDocumentHeader/Sender"));
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
