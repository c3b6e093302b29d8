//! Why an OIOXML message could not be read into the model.
//!
//! Every variant carries the 1-based line and column (columns count characters of the decoded
//! text, which for ISO-8859-1 are the bytes) and, once the root element is known, the element path
//! in the form the harness's findings use (`Emessage.ClinicalEmail.Reference[0].BIN`).

/// Why [`super::parse`] could not read an OIOXML message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OioxmlError {
    /// The encoding in the XML declaration is unknown or unsupported, or the bytes are not valid
    /// in it.
    #[error("line {line}, column {column}: {message}")]
    Encoding {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is wrong, e.g. "the document is not valid `utf-8`".
        message: String,
    },
    /// A DOCTYPE: OIOXML has no DTD, and entities are never declared or expanded.
    #[error("line {line}, column {column}: a DOCTYPE is not allowed in an OIOXML message")]
    Doctype {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
    },
    /// The text is not well-formed XML (including references to undeclared entities).
    #[error("line {line}, column {column}: the XML is not well-formed")]
    Xml {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What the XML parser reported.
        #[source]
        source: roxmltree::Error,
    },
    /// An element is in the wrong namespace (or in none).
    #[error(
        "line {line}, column {column}: `{path}` is in namespace `{found}`, expected `{expected}`"
    )]
    Namespace {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// The element's path.
        path: String,
        /// The namespace found; empty for no namespace.
        found: String,
        /// The namespace(s) expected.
        expected: String,
    },
    /// Well-formed XML the model cannot hold: an unknown root or letter, an unknown element or
    /// attribute, elements out of order, a second copy of a single element, text where only
    /// elements belong, more than one letter in the envelope.
    #[error("line {line}, column {column}: {message} in `{path}`")]
    Structure {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// The path of the element where it happens.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// An `Emessage` of a release (namespace) or letter the harness does not read: not an
    /// unreadable document, a letter of another standard or version (MedCom's XDIS22 VANS
    /// example is one). The namespace and the letter element name it.
    #[error(
        "line {line}, column {column}: a letter `{letter}` in namespace `{namespace}` is of a release the harness does not read (it reads XDIS91, XBIN01, XCTL01/02/03, the home care letters XDIS14/16/17/18/19/20 and the LÆ forms XLA121-XLA215 in the namespaces of MedCom's schemas for them)"
    )]
    UnknownRelease {
        /// 1-based line of the letter element (of the root when there is none).
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// The root's namespace; empty for none.
        namespace: String,
        /// The letter element's local name (the first element after `Envelope`); empty when
        /// there is none.
        letter: String,
    },
    /// `Object_Base64Encoded` is not base64.
    #[error("line {line}, column {column}: `{path}` is not valid base64: {message}")]
    Base64 {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// The element's path.
        path: String,
        /// What the decoder reported.
        message: String,
    },
}

impl OioxmlError {
    /// The 1-based line of the error.
    pub fn line(&self) -> usize {
        match self {
            OioxmlError::Encoding { line, .. }
            | OioxmlError::Doctype { line, .. }
            | OioxmlError::Xml { line, .. }
            | OioxmlError::Namespace { line, .. }
            | OioxmlError::Structure { line, .. }
            | OioxmlError::Base64 { line, .. }
            | OioxmlError::UnknownRelease { line, .. } => *line,
        }
    }

    /// The 1-based column (characters) of the error.
    pub fn column(&self) -> usize {
        match self {
            OioxmlError::Encoding { column, .. }
            | OioxmlError::Doctype { column, .. }
            | OioxmlError::Xml { column, .. }
            | OioxmlError::Namespace { column, .. }
            | OioxmlError::Structure { column, .. }
            | OioxmlError::Base64 { column, .. }
            | OioxmlError::UnknownRelease { column, .. } => *column,
        }
    }

    /// The element path, when the error is about one element.
    pub fn path(&self) -> Option<&str> {
        match self {
            OioxmlError::Namespace { path, .. }
            | OioxmlError::Structure { path, .. }
            | OioxmlError::Base64 { path, .. } => Some(path),
            _ => None,
        }
    }
}
