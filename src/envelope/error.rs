//! The one error type of the envelope module: the harness could not do its job.
//!
//! A broken envelope a vendor sent is still judged where it can be (schema verdicts and
//! consistency problems are data); [`EnvelopeError`] is for what cannot be read at all, and for
//! the harness's own failures (schemas missing, validator thread gone).

use std::path::PathBuf;

use super::xsd::XsdIssue;

/// Why an envelope could not be read, written or validated.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The document is over [`super::MAX_ENVELOPE_BYTES`].
    #[error("the envelope is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the document, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The document has a document type declaration; envelopes never need one, and refusing it
    /// rules out entity expansion and external DTD loading.
    #[error("document type declaration (DTD) at line {line} refused: envelopes never carry one")]
    Doctype {
        /// 1-based line of `<!DOCTYPE`.
        line: u32,
    },
    /// The XML declaration names an encoding we cannot decode.
    #[error("unsupported encoding `{label}` in the XML declaration")]
    UnsupportedEncoding {
        /// The `encoding` label as written.
        label: String,
    },
    /// The bytes are not text in the declared (or default UTF-8) encoding.
    #[error("the document is not valid `{encoding}` text")]
    Decoding {
        /// The encoding the bytes were read as.
        encoding: String,
        /// Where and why decoding failed.
        #[source]
        source: crate::encoding::DecodeError,
    },
    /// The document is not well-formed XML.
    #[error("the document is not well-formed XML at line {line}, column {column}: {source}")]
    Xml {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// What the XML parser said.
        #[source]
        source: roxmltree::Error,
    },
    /// The root element is not the one the envelope format requires.
    #[error("the root element is `{found}`, expected `{expected}`")]
    Root {
        /// `{namespace}local` of the root found.
        found: String,
        /// `{namespace}local` of the root expected.
        expected: String,
    },
    /// A required element is missing.
    #[error("missing element `{path}` in `{parent}` at line {line}")]
    Missing {
        /// Name of the missing element.
        path: String,
        /// Name of the element that should hold it.
        parent: String,
        /// 1-based line of the parent.
        line: u32,
    },
    /// An element or attribute holds a value the format does not allow, so the envelope cannot
    /// be read into its model (for example `SizeInBytes` that is not a number).
    #[error("`{path}` at line {line}: {problem}")]
    Value {
        /// Element or attribute name.
        path: String,
        /// 1-based line.
        line: u32,
        /// What is wrong, a lowercase fragment.
        problem: String,
    },
    /// A base64 payload (`Data`, `BinaryContent`) does not decode.
    #[error("`{path}` at line {line} is not valid base64")]
    Base64 {
        /// Element name.
        path: String,
        /// 1-based line.
        line: u32,
        /// What the decoder said.
        #[source]
        source: base64::DecodeError,
    },
    /// A schema file named in [`super::SchemaFiles`] cannot be read.
    #[error("failed to read XML schema `{path}`")]
    SchemaFile {
        /// The schema's path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// libxml2 could not compile a schema.
    #[error("failed to compile XML schema `{path}`: {}", first_issue(.issues))]
    SchemaCompile {
        /// The schema's path.
        path: PathBuf,
        /// Every diagnostic libxml2 gave.
        issues: Vec<XsdIssue>,
    },
    /// The validator thread could not be started.
    #[error("failed to start the XML schema validator thread")]
    ValidatorStart(#[source] std::io::Error),
    /// The validator thread is gone (it could not compile its schemas, or the process is
    /// shutting down).
    #[error("the XML schema validator thread has stopped")]
    ValidatorStopped,
    /// The libxml2 wrapper panicked on this document; the validator goes on serving others.
    #[error("the XML schema validator failed on this document (a panic in the libxml2 wrapper)")]
    ValidatorPanicked,
}

fn first_issue(issues: &[XsdIssue]) -> String {
    issues
        .first()
        .map_or_else(|| "no diagnostic".to_string(), ToString::to_string)
}
