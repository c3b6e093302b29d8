//! The settings where MedCom's sources disagree (DOMAIN.md §6), each named, with its default and
//! the documents on either side. They are the `[rules]` table of the configuration
//! (`src/config/harness.toml` documents every key) and reach every check that depends on them:
//!
//! | key | field | default | used by |
//! |---|---|---|---|
//! | `transient-error` | [`Settings::ack_codes`] | `"AR"` (governance 040) | `expect-ack`/`ack` codes `AA`/`AE`/`AR`, acknowledgement findings |
//! | `resend-limit` | [`Settings::resend_limit`] | `2` (governance 020) | `expect-resends` (`resend-limit`), the reference vendor's KR7 resends |
//! | `size-limit`, `size-warning` | [`Settings::size_limit`], [`Settings::size_warning`] | 100 MB, 50 MB | `cc-attachment-size` |
//! | `attachment-mime-types` | [`Settings::mime_types`] | `"value-set"` | `cc-attachment-mime` |
//! | `letter-identifier` | [`Settings::letter_identifier`] | `"lokationsnummer#brevid"` | `provenance-letter-identifier`, matching follow-ups to letters |
//! | `sbdh-binary-content` | [`Settings::binary_content`] | `"envelope-schema"` | ehmiSBDH XML Schema validation |

use crate::envelope::BinaryContentRule;
pub use crate::message::attachment::MimeSet;
pub use crate::message::{AckCodes, V2Code};
use crate::validate::profile::Ig;

/// Canonical url of the ValueSet of allowed attachment MIME types.
pub const MIME_VALUE_SET: &str =
    "http://medcomfhir.dk/ig/terminology/ValueSet/medcom-core-attachmentMimeTypes";

/// The codes of ValueSet `medcom-core-attachmentMimeTypes` 1.8 (CareCommunication 5.0), used when
/// no IG is loaded.
pub const VALUE_SET_MIME_TYPES: [&str; 6] = [
    "application/pdf",
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/bmp",
];

/// The settings of the MedCom rules; [`Default`] gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Largest message in bytes, as received (with its envelope): governance says the enveloped
    /// message stays under 100 MB. Over it: `cc-attachment-size` at F2.
    pub size_limit: u64,
    /// Size in bytes over which a warning (F4) is given: the clinical guideline says 50 MB.
    pub size_warning: u64,
    /// Whether validating an envelope validates the message it carries too (`validate --payload`).
    pub payload: bool,
    /// The attachment MIME types allowed with `data`.
    pub mime_types: MimeTypes,
    /// Which HL7 v2 acknowledgement code each `response.code` stands for.
    pub ack_codes: AckCodes,
    /// How many times a sender may resend an unacknowledged message (governance 020: 2; another
    /// MedCom document says 3).
    pub resend_limit: u32,
    /// The form of `Provenance.entity.what.identifier` for a preceding EDIFACT or OIOXML letter.
    pub letter_identifier: LetterIdentifier,
    /// How an ehmiSBDH `BinaryContent` in the PEPPOL namespace is validated.
    pub binary_content: BinaryContentRule,
    /// The SOR/EER registry the parties are checked against (`--registry`, config `registry`):
    /// `registry-gln`, `registry-sor-id`, `registry-accepts`. `None`: only the form checks of
    /// `party-identifiers`.
    pub registry: Option<crate::registry::Shared>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            size_limit: 100_000_000,
            size_warning: 50_000_000,
            payload: false,
            mime_types: MimeTypes::ValueSet,
            ack_codes: AckCodes::default(),
            resend_limit: 2,
            letter_identifier: LetterIdentifier::LocationThenLetter,
            binary_content: BinaryContentRule::AcceptEnvelopeSchema,
            registry: None,
        }
    }
}

/// The allowed attachment MIME types.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MimeTypes {
    /// Default: the codes of ValueSet `medcom-core-attachmentMimeTypes`, from the loaded IG when
    /// it has the ValueSet, else [`VALUE_SET_MIME_TYPES`].
    #[default]
    ValueSet,
    /// A list of the configuration's own.
    List(Vec<String>),
}

impl Default for MimeSet {
    fn default() -> MimeSet {
        MimeTypes::ValueSet.resolve(None)
    }
}

impl MimeTypes {
    /// The allowed set: the configured list, or the ValueSet (from `ig` when it has it).
    pub fn resolve(&self, ig: Option<&Ig>) -> MimeSet {
        match self {
            MimeTypes::List(codes) => MimeSet {
                codes: codes.clone(),
                source: "the configured `attachment-mime-types`".into(),
            },
            MimeTypes::ValueSet => {
                let loaded = ig.and_then(|ig| ig.value_set_codes(MIME_VALUE_SET));
                match loaded {
                    Some(codes) if !codes.is_empty() => MimeSet {
                        codes,
                        source: "ValueSet medcom-core-attachmentMimeTypes (loaded IG)".into(),
                    },
                    _ => MimeSet {
                        codes: VALUE_SET_MIME_TYPES.iter().map(|s| (*s).into()).collect(),
                        source: "ValueSet medcom-core-attachmentMimeTypes".into(),
                    },
                }
            }
        }
    }
}

/// The order of the two parts of a preceding letter's identifier in
/// `Provenance.entity.what.identifier.value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LetterIdentifier {
    /// `[lokationsnummer]#[brevid]`: the Provenance profiles' text (default).
    #[default]
    LocationThenLetter,
    /// `[brevid]#[lokationsnummer]`.
    LetterThenLocation,
}

impl LetterIdentifier {
    /// The setting's value in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            LetterIdentifier::LocationThenLetter => "lokationsnummer#brevid",
            LetterIdentifier::LetterThenLocation => "brevid#lokationsnummer",
        }
    }

    /// The other order.
    pub fn other(self) -> LetterIdentifier {
        match self {
            LetterIdentifier::LocationThenLetter => LetterIdentifier::LetterThenLocation,
            LetterIdentifier::LetterThenLocation => LetterIdentifier::LocationThenLetter,
        }
    }

    /// Parses a configuration value.
    pub fn parse(text: &str) -> Option<LetterIdentifier> {
        match text {
            "lokationsnummer#brevid" => Some(LetterIdentifier::LocationThenLetter),
            "brevid#lokationsnummer" => Some(LetterIdentifier::LetterThenLocation),
            _ => None,
        }
    }

    /// Splits `value` into `(lokationsnummer, brevid)` in this order; `None` without exactly one
    /// `#` or with an empty part.
    pub fn split(self, value: &str) -> Option<(&str, &str)> {
        let (a, b) = value.split_once('#')?;
        if a.is_empty() || b.is_empty() || b.contains('#') {
            return None;
        }
        Some(match self {
            LetterIdentifier::LocationThenLetter => (a, b),
            LetterIdentifier::LetterThenLocation => (b, a),
        })
    }

    /// The identifier of letter `brevid` sent from `lokationsnummer`, in this order.
    pub fn join(self, lokationsnummer: &str, brevid: &str) -> String {
        match self {
            LetterIdentifier::LocationThenLetter => format!("{lokationsnummer}#{brevid}"),
            LetterIdentifier::LetterThenLocation => format!("{brevid}#{lokationsnummer}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::AckCode;

    #[test]
    fn governance_040_maps_transient_error_to_ar_and_fatal_error_to_ae() {
        let codes = AckCodes::default();
        assert_eq!(codes.v2(AckCode::Ok), V2Code::AA);
        assert_eq!(codes.v2(AckCode::TransientError), V2Code::AR);
        assert_eq!(codes.v2(AckCode::FatalError), V2Code::AE);
        assert_eq!(codes.fhir("AR"), Some(AckCode::TransientError));
        assert_eq!(codes.fhir("AE"), Some(AckCode::FatalError));
        assert_eq!(codes.fhir("AA"), Some(AckCode::Ok));
        assert_eq!(codes.label(AckCode::FatalError), "fatal-error (AE)");
    }

    #[test]
    fn the_older_document_swaps_ae_and_ar() {
        let codes = AckCodes {
            transient_error: V2Code::AE,
        };
        assert_eq!(codes.v2(AckCode::TransientError), V2Code::AE);
        assert_eq!(codes.v2(AckCode::FatalError), V2Code::AR);
        assert_eq!(codes.fhir("AE"), Some(AckCode::TransientError));
        assert_eq!(codes.fhir("AR"), Some(AckCode::FatalError));
        assert_eq!(codes.fhir("ae"), None);
        assert_eq!(codes.fhir("positive"), None);
    }

    #[test]
    fn letter_identifier_follows_the_provenance_profile_by_default() {
        let order = LetterIdentifier::default();
        assert_eq!(order.as_str(), "lokationsnummer#brevid");
        assert_eq!(
            order.split("5790000000029#B42"),
            Some(("5790000000029", "B42"))
        );
        assert_eq!(order.join("5790000000029", "B42"), "5790000000029#B42");
        let swapped = LetterIdentifier::LetterThenLocation;
        assert_eq!(
            swapped.split("B42#5790000000029"),
            Some(("5790000000029", "B42"))
        );
        assert_eq!(order.split("B42"), None);
        assert_eq!(order.split("a#b#c"), None);
        assert_eq!(order.split("#B42"), None);
    }

    #[test]
    fn mime_types_compare_without_case_and_come_from_the_value_set_by_default() {
        let set = MimeSet::default();
        assert_eq!(set.codes.len(), 6);
        assert!(set.allows("application/pdf"));
        assert!(set.allows("Image/PNG"));
        assert!(!set.allows("application/zip"));
        let own = MimeTypes::List(vec!["application/zip".into()]).resolve(None);
        assert!(own.allows("application/zip"));
        assert!(!own.allows("application/pdf"));
    }
}
