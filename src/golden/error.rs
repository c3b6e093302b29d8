//! Why a golden comparison could not be made at all.
//!
//! A mismatch is not an error: it is a [`super::Difference`] in the [`super::Comparison`]. An error
//! means the harness could not do its job: a message it cannot read, a golden that names a capture
//! nobody made, an option it cannot understand.

use std::fmt;

use super::normalize::Format;

/// Which of the two documents a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The expected message, with placeholders.
    Golden,
    /// The message the vendor's system produced.
    Actual,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Golden => "golden",
            Self::Actual => "actual message",
        })
    }
}

/// Which option of [`super::CompareOptions`] a path pattern came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternOption {
    /// [`super::CompareOptions::ignore`].
    Ignore,
    /// [`super::CompareOptions::unordered`].
    Unordered,
}

impl fmt::Display for PatternOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ignore => "ignore",
            Self::Unordered => "unordered",
        })
    }
}

/// Why [`compare`](super::compare()) or [`super::render_normalized`] could not compare or render.
///
/// Lines and columns count from 1. Columns count bytes for JSON and encoding errors and
/// characters for XML errors, as the underlying parsers do.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    /// The document starts with `{` but is not valid JSON.
    #[error("failed to parse the {side} as JSON at line {line}, column {column}")]
    Json {
        /// Which document.
        side: Side,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
    /// The document starts with `<` but is not well-formed XML.
    #[error("failed to parse the {side} as XML at line {line}, column {column}")]
    Xml {
        /// Which document.
        side: Side,
        /// Line of the error.
        line: u32,
        /// Column of the error.
        column: u32,
        /// What roxmltree reported.
        #[source]
        source: roxmltree::Error,
    },
    /// The document is not text in its encoding: JSON must be UTF-8; XML is decoded by its byte
    /// order mark or declaration (UTF-8 without one, ISO-8859-1 as ISO-8859-1), the way every
    /// XML reader of the harness decodes ([`crate::encoding::decode_xml`]).
    #[error("the {side} cannot be decoded at line {line}, column {column}")]
    Encoding {
        /// Which document.
        side: Side,
        /// Line of the first invalid byte (1 for an unsupported or contradictory encoding).
        line: usize,
        /// Column of the first invalid byte, in characters.
        column: usize,
        /// The decoding error: which encoding, which byte.
        #[source]
        source: crate::encoding::DecodeError,
    },
    /// The first character that is not whitespace is neither `{` (JSON) nor `<` (XML).
    #[error("the {side} is neither JSON nor XML: it does not start with `{{` or `<`")]
    UnknownFormat {
        /// Which document.
        side: Side,
    },
    /// The XML document has a document type declaration. DTDs are refused outright because
    /// entity declarations allow entity-expansion and external-entity attacks, and FHIR XML never
    /// needs them.
    #[error("the {side} has a DOCTYPE at line {line}, column {column}, which is refused")]
    Doctype {
        /// Which document.
        side: Side,
        /// Line of the `<!DOCTYPE`.
        line: usize,
        /// Column of the `<!DOCTYPE`, in characters.
        column: usize,
    },
    /// The XML document nests elements deeper than the comparison walks, which protects the
    /// harness's stack. JSON has the same limit from serde_json (128 levels), reported as
    /// [`GoldenError::Json`].
    #[error("the {side} nests XML elements deeper than {limit} levels")]
    TooDeep {
        /// Which document.
        side: Side,
        /// The deepest nesting accepted.
        limit: usize,
    },
    /// The actual message is in the other format than the golden and cannot be converted to the
    /// golden's through the FHIR R4 model ([`crate::fhir::xml`]): it is not FHIR as R4 writes it
    /// (an unknown element, a wrong namespace, a value of the wrong type).
    #[error(
        "failed to read the {side} as FHIR R4 {format} to compare it with a golden in the other format"
    )]
    NotFhir {
        /// Which document.
        side: Side,
        /// The document's format.
        format: Format,
        /// What the converter reported, with the line and column or the FHIRPath location.
        #[source]
        source: crate::fhir::xml::XmlError,
    },
    /// The golden and the actual message are in different formats, and the XML one is not FHIR
    /// (OIOXML, envelopes), so there is no FHIR model to compare them through.
    #[error("the golden is {golden} but the actual message is {actual}")]
    FormatMismatch {
        /// The golden's format.
        golden: Format,
        /// The actual message's format.
        actual: Format,
    },
    /// A `{{…}}` in the golden names no known placeholder.
    #[error("unknown placeholder `{placeholder}` at `{path}` in the golden")]
    UnknownPlaceholder {
        /// The text from `{{` to `}}`.
        placeholder: String,
        /// Where in the golden.
        path: String,
    },
    /// A `{{capture:NAME}}` in the golden names a value that was not captured.
    #[error(
        "the golden uses capture `{name}` at `{path}`, but nothing was captured under that name"
    )]
    UnknownCapture {
        /// The capture name.
        name: String,
        /// Where in the golden.
        path: String,
        /// The names that were captured, sorted, for a did-you-mean hint.
        known: Vec<String>,
    },
    /// An `ignore` or `unordered` pattern cannot be parsed for the golden's format.
    #[error("bad {option} path `{pattern}`: {reason}")]
    BadPath {
        /// Which option held the pattern.
        option: PatternOption,
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it, as a lowercase sentence fragment.
        reason: String,
    },
}
