//! Fault profiles: the reference vendor misbehaving in one named way each.
//!
//! The bundled suite must catch every profile; that is how the harness proves it judges and does
//! not just pass. The profiles are a closed set: the command line takes them as a clap
//! [`ValueEnum`](clap::ValueEnum) (`--fault NAME`), by the names [`Fault::name`] gives.

use std::fmt;
use std::str::FromStr;

/// One way to misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Never acknowledges (breaks KR1).
    NoAck,
    /// Acknowledges with a `response.identifier` that names no sent MessageHeader.
    WrongResponseIdentifier,
    /// Acknowledges valid messages with `fatal-error` (breaks KR3).
    FatalForValid,
    /// Non-ok acknowledgements carry no OperationOutcome (breaks medcom-acknowledgement-1).
    NonOkWithoutOperationOutcome,
    /// Acknowledgements lack the copied Provenance (breaks the two-Provenance rule).
    AckMissingProvenance,
    /// A duplicate gets a different acknowledgement than the first copy (breaks MR8).
    DuplicateDifferentAck,
    /// A reply resends the data of earlier attachments.
    ReplyResendsAttachment,
    /// A forward carries the forwarded attachment segments without their base64 content (breaks
    /// `cc-forward-attachment-data`).
    ForwardDropsAttachment,
    /// Answers in an exchange folder are written slowly in place under their final name.
    WritesInPlace,
    /// Acknowledgements in an exchange folder travel in a VANSEnvelope whose `Name` is not the
    /// acknowledgement's statistical code.
    EnvelopeNameMismatch,
    /// OIOXML letters get no receipt.
    NoReceipt,
    /// Receipts quote a wrong OriginalEnvelopeIdentifier.
    ReceiptWrongEnvelopeId,
    /// Receipts quote no OriginalLetterIdentifier.
    ReceiptMissingLetter,
    /// Negative receipts give a RefuseCode that is not on MedCom's list.
    NegativeReceiptBadRefusecode,
    /// Letters the vendor sends declare an OriginalObjectSize that is not the binary's size.
    BinSizeMismatch,
    /// An unacknowledged message is resent once more than the `resend-limit` setting allows.
    ResendsBeyondLimit,
    /// HospitalNotification: a start of leave keeps the Encounter `in-progress`.
    HnWrongEncounterStatus,
    /// HospitalNotification: every message after the admission has a new episode id.
    HnNewEpisodeId,
    /// HospitalNotification: a leave is sent without its leave period.
    HnMissingLeavePeriod,
    /// HospitalNotification: a revision points to the stay's admission, not to the latest
    /// message of its kind.
    HnRevisionWrongTarget,
    /// HospitalNotification: a cancellation leaves the Encounter's status as it was.
    HnCancelWithoutEnteredInError,
    /// HospitalNotification: told to start a leave, it sends the end of the leave first.
    HnOutOfOrder,
    /// A home care or LÆ letter that breaks its schema gets a positive receipt, not a negative
    /// `syntaksfejl` one.
    FormWrongReceipt,
    /// Home care and LÆ answers the vendor sends do not quote their request: an XDIS14 names
    /// another `NotificationIdentifier`, an LÆ answer or XDIS16 another patient.
    FormAnswerUnquoted,
    /// Home care and LÆ letters the vendor sends leave out `Letter/StatisticalCode`, breaking
    /// MedCom's schema.
    FormBreaksSchema,
    /// Home care and LÆ letters the vendor sends carry another type's `VersionCode`.
    FormWrongVersioncode,
}

impl Fault {
    /// Every profile, in documentation order.
    pub const ALL: [Fault; 26] = [
        Fault::NoAck,
        Fault::WrongResponseIdentifier,
        Fault::FatalForValid,
        Fault::NonOkWithoutOperationOutcome,
        Fault::AckMissingProvenance,
        Fault::DuplicateDifferentAck,
        Fault::ReplyResendsAttachment,
        Fault::ForwardDropsAttachment,
        Fault::WritesInPlace,
        Fault::EnvelopeNameMismatch,
        Fault::NoReceipt,
        Fault::ReceiptWrongEnvelopeId,
        Fault::ReceiptMissingLetter,
        Fault::NegativeReceiptBadRefusecode,
        Fault::BinSizeMismatch,
        Fault::ResendsBeyondLimit,
        Fault::HnWrongEncounterStatus,
        Fault::HnNewEpisodeId,
        Fault::HnMissingLeavePeriod,
        Fault::HnRevisionWrongTarget,
        Fault::HnCancelWithoutEnteredInError,
        Fault::HnOutOfOrder,
        Fault::FormWrongReceipt,
        Fault::FormAnswerUnquoted,
        Fault::FormBreaksSchema,
        Fault::FormWrongVersioncode,
    ];

    /// Whether the profile shows only over exchange folders.
    pub fn folder_only(self) -> bool {
        matches!(
            self,
            Fault::WritesInPlace
                | Fault::EnvelopeNameMismatch
                | Fault::NoReceipt
                | Fault::ReceiptWrongEnvelopeId
                | Fault::ReceiptMissingLetter
                | Fault::NegativeReceiptBadRefusecode
                | Fault::BinSizeMismatch
                | Fault::FormWrongReceipt
                | Fault::FormAnswerUnquoted
                | Fault::FormBreaksSchema
                | Fault::FormWrongVersioncode
        )
    }

    /// The profile's name as the command line writes it.
    pub fn name(self) -> &'static str {
        match self {
            Fault::NoAck => "no-ack",
            Fault::WrongResponseIdentifier => "wrong-response-identifier",
            Fault::FatalForValid => "fatal-for-valid",
            Fault::NonOkWithoutOperationOutcome => "non-ok-without-operationoutcome",
            Fault::AckMissingProvenance => "ack-missing-provenance",
            Fault::DuplicateDifferentAck => "duplicate-different-ack",
            Fault::ReplyResendsAttachment => "reply-resends-attachment",
            Fault::ForwardDropsAttachment => "forward-drops-attachment",
            Fault::WritesInPlace => "writes-in-place",
            Fault::EnvelopeNameMismatch => "envelope-name-mismatch",
            Fault::NoReceipt => "no-receipt",
            Fault::ReceiptWrongEnvelopeId => "receipt-wrong-envelope-id",
            Fault::ReceiptMissingLetter => "receipt-missing-letter",
            Fault::NegativeReceiptBadRefusecode => "negative-receipt-bad-refusecode",
            Fault::BinSizeMismatch => "bin-size-mismatch",
            Fault::ResendsBeyondLimit => "resends-beyond-limit",
            Fault::HnWrongEncounterStatus => "hn-wrong-encounter-status",
            Fault::HnNewEpisodeId => "hn-new-episode-id",
            Fault::HnMissingLeavePeriod => "hn-missing-leave-period",
            Fault::HnRevisionWrongTarget => "hn-revision-wrong-target",
            Fault::HnCancelWithoutEnteredInError => "hn-cancel-without-entered-in-error",
            Fault::HnOutOfOrder => "hn-out-of-order",
            Fault::FormWrongReceipt => "form-wrong-receipt",
            Fault::FormAnswerUnquoted => "form-answer-unquoted",
            Fault::FormBreaksSchema => "form-breaks-schema",
            Fault::FormWrongVersioncode => "form-wrong-versioncode",
        }
    }

    /// What the profile does, for `--help` and reports.
    pub fn description(self) -> &'static str {
        match self {
            Fault::NoAck => "never acknowledges (KR1)",
            Fault::WrongResponseIdentifier => {
                "acknowledges with a response.identifier that names no sent message"
            }
            Fault::FatalForValid => "acknowledges valid messages with fatal-error (KR3)",
            Fault::NonOkWithoutOperationOutcome => {
                "sends non-ok acknowledgements without an OperationOutcome (medcom-acknowledgement-1)"
            }
            Fault::AckMissingProvenance => "leaves the copied Provenance out of acknowledgements",
            Fault::DuplicateDifferentAck => {
                "answers a letter resent in a new envelope (a duplicate, MR8) with a different acknowledgement; the same envelope again still gets its first answer"
            }
            Fault::ReplyResendsAttachment => "resends earlier attachment data in replies",
            Fault::ForwardDropsAttachment => {
                "forwards attachment segments without their base64 content"
            }
            Fault::WritesInPlace => {
                "writes answers slowly in place in the exchange folder instead of renaming a finished file"
            }
            Fault::EnvelopeNameMismatch => {
                "names the VANSEnvelope of an acknowledgement `MCM:FDIS91#other` instead of `MCM:FCTL#<code>`"
            }
            Fault::NoReceipt => "sends no receipt for OIOXML letters",
            Fault::ReceiptWrongEnvelopeId => {
                "quotes a wrong OriginalEnvelopeIdentifier in receipts"
            }
            Fault::ReceiptMissingLetter => "quotes no OriginalLetterIdentifier in receipts",
            Fault::NegativeReceiptBadRefusecode => {
                "gives negative receipts a RefuseCode not on MedCom's list"
            }
            Fault::BinSizeMismatch => {
                "declares a wrong OriginalObjectSize for the binaries of letters it sends"
            }
            Fault::ResendsBeyondLimit => {
                "resends an unacknowledged message once more than `resend-limit` allows (KR7)"
            }
            Fault::HnWrongEncounterStatus => {
                "as the hospital, sends a start of leave with the Encounter still `in-progress` (hn-consistency)"
            }
            Fault::HnNewEpisodeId => {
                "as the hospital, gives every message after the admission a new episodeOfCare identifier (hn-episode)"
            }
            Fault::HnMissingLeavePeriod => {
                "as the hospital, sends a leave without its leave period (medcom-hospitalNotification-6)"
            }
            Fault::HnRevisionWrongTarget => {
                "as the hospital, points a revision at the stay's admission instead of the latest message of its kind"
            }
            Fault::HnCancelWithoutEnteredInError => {
                "as the hospital, cancels without setting the Encounter to `entered-in-error`"
            }
            Fault::HnOutOfOrder => {
                "as the hospital, sends the end of a leave when told to start one (hn-order)"
            }
            Fault::FormWrongReceipt => {
                "answers a home care or LÆ letter that breaks its schema with a positive receipt"
            }
            Fault::FormAnswerUnquoted => {
                "sends home care and LÆ answers that do not quote their request (NotificationIdentifier, patient)"
            }
            Fault::FormBreaksSchema => {
                "leaves Letter/StatisticalCode out of the home care and LÆ letters it sends"
            }
            Fault::FormWrongVersioncode => {
                "gives the home care and LÆ letters it sends another type's VersionCode"
            }
        }
    }

    /// The rule ids a suite run against this profile must report broken.
    pub fn violates(self) -> &'static [&'static str] {
        match self {
            Fault::NoAck => &["KR1"],
            Fault::WrongResponseIdentifier => &["ack-response-identifier"],
            Fault::FatalForValid => &["KR3"],
            Fault::NonOkWithoutOperationOutcome => &["medcom-acknowledgement-1"],
            Fault::AckMissingProvenance => &["ack-provenance"],
            Fault::DuplicateDifferentAck => &["MR8"],
            Fault::ReplyResendsAttachment => &["cc-reply-no-resend"],
            Fault::ForwardDropsAttachment => &["cc-forward-attachment-data"],
            Fault::WritesInPlace => &["folder-atomic-write"],
            Fault::EnvelopeNameMismatch => &["vans-name"],
            Fault::NoReceipt => &["oioxml-receipt-received"],
            Fault::ReceiptWrongEnvelopeId | Fault::ReceiptMissingLetter => {
                &["oioxml-receipt-quotes"]
            }
            Fault::NegativeReceiptBadRefusecode => &["oioxml-refusecode"],
            Fault::BinSizeMismatch => &["oioxml-bin-size"],
            Fault::ResendsBeyondLimit => &["resend-limit"],
            Fault::HnWrongEncounterStatus
            | Fault::HnMissingLeavePeriod
            | Fault::HnCancelWithoutEnteredInError => &["hn-consistency"],
            Fault::HnNewEpisodeId => &["hn-episode"],
            Fault::HnRevisionWrongTarget => &["hn-revision-target"],
            Fault::HnOutOfOrder => &["hn-order"],
            Fault::FormWrongReceipt => &["oioxml-receipt-kind"],
            Fault::FormAnswerUnquoted => &["oioxml-answer-quotes", "oioxml-answer-pair"],
            Fault::FormBreaksSchema | Fault::FormWrongVersioncode => &["oioxml-schema"],
        }
    }
}

impl clap::ValueEnum for Fault {
    fn value_variants<'a>() -> &'a [Self] {
        &Fault::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.name()).help(self.description()))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Fault, String> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown fault profile `{s}`; known: {}",
                    Fault::ALL
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn the_command_line_takes_every_profile_by_its_name() {
        for f in Fault::ALL {
            assert_eq!(<Fault as ValueEnum>::from_str(f.name(), false), Ok(f));
            assert_eq!(f.name().parse::<Fault>(), Ok(f));
        }
        assert!(<Fault as ValueEnum>::from_str("no-such-fault", false).is_err());
    }

    #[test]
    fn the_names_are_the_documented_ones() {
        // The names scripts and CI jobs already use (README, `../shared/checks/faults-caught`).
        assert_eq!(Fault::NoAck.name(), "no-ack");
        assert_eq!(
            Fault::NonOkWithoutOperationOutcome.name(),
            "non-ok-without-operationoutcome"
        );
        assert_eq!(Fault::ResendsBeyondLimit.name(), "resends-beyond-limit");
        let names: std::collections::HashSet<_> = Fault::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Fault::ALL.len(), "names are unique");
    }
}
