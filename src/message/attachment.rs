//! Attachments (bilag) in `Communication.payload.contentAttachment`.
//!
//! FHIR R4 Attachment: `data` is base64 (white space and line breaks allowed), `size` counts the
//! decoded bytes, `hash` is the base64 of the SHA-1 of the decoded bytes, and data needs a
//! contentType (`att-1`). CareCommunication 5.0 carries either `data` or `url` and always a
//! `title`.

use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;
use sha2::Digest as _;

/// The decoded form of `Attachment.data`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachmentData {
    /// Decoded size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the decoded bytes (the harness's own fingerprint).
    pub sha256: String,
    /// Base64 SHA-1 of the decoded bytes, as FHIR's `Attachment.hash` would carry it.
    pub sha1_base64: String,
    /// The media type the bytes' magic numbers say, when recognised.
    pub sniffed_type: Option<String>,
}

impl AttachmentData {
    /// Lower-case hex SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> String {
        sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// One attachment as the message declares it, plus what its data decodes to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attachment {
    /// FHIRPath-like location in the message, for findings.
    pub location: String,
    /// `contentType`.
    pub content_type: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `url`, for a link attachment.
    pub url: Option<String>,
    /// `size` as declared (decoded bytes).
    pub declared_size: Option<u64>,
    /// `hash` as declared.
    pub declared_hash: Option<String>,
    /// Whether `data` is present at all.
    pub has_data: bool,
    /// The decoded data, or `None` when absent or not valid base64.
    pub data: Option<AttachmentData>,
    /// Why `data` did not decode.
    pub data_error: Option<String>,
    /// The identifier of the payload segment that carries the attachment
    /// (`Communication.payload.extension:identifier.valueIdentifier.value`,
    /// medcom-core-identifier-extension): how a reply names an earlier attachment without its
    /// data (CareCommunication IG 5.0, Communication profile description). `None` when absent.
    pub identifier: Option<String>,
}

impl Attachment {
    /// Reads a FHIR `Attachment` JSON object found at `location`.
    pub fn from_fhir(a: &Value, location: String) -> Attachment {
        let s = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_string);
        let raw = a.get("data").and_then(Value::as_str);
        let (data, data_error) = match raw.map(decode_base64) {
            Some(Ok(bytes)) => (Some(fingerprint(&bytes)), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        Attachment {
            location,
            content_type: s("contentType"),
            title: s("title"),
            url: s("url"),
            declared_size: a.get("size").and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|t| t.parse().ok()))
            }),
            declared_hash: s("hash"),
            has_data: raw.is_some(),
            data,
            data_error,
            identifier: None,
        }
    }

    /// Reads the attachment of a `Communication.payload` segment (`seg`) at `location`, with the
    /// segment's medcom-core-identifier-extension; `None` when the segment has no
    /// `contentAttachment`.
    pub fn from_segment(seg: &Value, location: String) -> Option<Attachment> {
        let mut attachment = Attachment::from_fhir(seg.get("contentAttachment")?, location);
        attachment.identifier = segment_identifier(seg);
        Some(attachment)
    }
}

/// The value of a payload segment's medcom-core-identifier-extension.
pub fn segment_identifier(seg: &Value) -> Option<String> {
    seg.get("extension")?
        .as_array()?
        .iter()
        .find(|e| {
            e.get("url").and_then(Value::as_str).is_some_and(|u| {
                u.ends_with("/StructureDefinition/medcom-core-identifier-extension")
            })
        })?
        .pointer("/valueIdentifier/value")?
        .as_str()
        .map(str::to_string)
}

/// Decodes FHIR base64Binary: standard alphabet with padding, white space ignored.
///
/// # Errors
/// A sentence saying why it is not base64.
pub fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err("empty base64 data".to_string());
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("not valid base64: {e}"))
}

/// Encodes bytes as FHIR base64Binary.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Size, hashes and sniffed type of decoded bytes.
pub fn fingerprint(bytes: &[u8]) -> AttachmentData {
    let sha256 = AttachmentData::of(bytes);
    let sha1 = sha1::Sha1::digest(bytes);
    AttachmentData {
        size: bytes.len() as u64,
        sha256,
        sha1_base64: encode_base64(&sha1),
        sniffed_type: infer::get(bytes).map(|t| t.mime_type().to_string()),
    }
}

/// The allowed MIME types as resolved for a run: the codes and where they come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MimeSet {
    /// The allowed types, in their source's order.
    pub codes: Vec<String>,
    /// Where they come from, for messages (`medcom-core-attachmentMimeTypes`, or the config).
    pub source: String,
}

impl MimeSet {
    /// Whether `content_type` (a MIME type without parameters) is allowed. MIME types compare
    /// case-insensitively (RFC 2045 §5.1).
    pub fn allows(&self, content_type: &str) -> bool {
        self.codes
            .iter()
            .any(|c| c.eq_ignore_ascii_case(content_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_with_line_breaks_decodes() {
        assert_eq!(
            decode_base64("SGVs\nbG8=\r\n").as_deref(),
            Ok(&b"Hello"[..])
        );
    }

    #[test]
    fn fhir_hash_is_base64_sha1_of_decoded_bytes() {
        // SHA-1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d (FIPS 180-1 test vector).
        assert_eq!(
            fingerprint(b"abc").sha1_base64,
            "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="
        );
    }

    #[test]
    fn pdf_magic_is_sniffed() {
        assert_eq!(
            fingerprint(b"%PDF-1.4\n%...").sniffed_type.as_deref(),
            Some("application/pdf")
        );
    }
}
