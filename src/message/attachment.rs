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
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // Written into one string: a `format!` per byte was 32 strings per evidence file.
        let mut hex = String::with_capacity(64);
        for b in sha2::Sha256::digest(bytes) {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        hex
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
        let (data, data_error) = match raw.map(fingerprint_base64) {
            Some(Ok(data)) => (Some(data), None),
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

/// How many base64 characters [`fingerprint_base64`] decodes at a time (a multiple of 4).
const DECODE_CHUNK: usize = 64 * 1024;
/// How many leading bytes of an attachment its type is sniffed from: [`infer`]'s matchers look
/// at the first few kilobytes at most.
const SNIFF_BYTES: usize = 64 * 1024;

/// Size, hashes and sniffed type of FHIR base64Binary `text` (white space ignored), decoded in
/// chunks of [`DECODE_CHUNK`] characters: a 100 MB attachment costs kilobytes, not a
/// whitespace-free copy of the text plus the decoded bytes (which [`decode_base64`] then
/// [`fingerprint`] would hold).
///
/// # Errors
/// The sentence of [`decode_base64`] when it is not base64.
pub fn fingerprint_base64(text: &str) -> Result<AttachmentData, String> {
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut sha256 = sha2::Sha256::new();
    let mut sha1 = sha1::Sha1::new();
    let mut head: Vec<u8> = Vec::new();
    let mut size: u64 = 0;
    let mut chunk: Vec<u8> = Vec::with_capacity(DECODE_CHUNK);
    let mut decoded = vec![0u8; DECODE_CHUNK / 4 * 3];
    let mut symbols = text.bytes().filter(|b| !b.is_ascii_whitespace()).peekable();
    loop {
        chunk.clear();
        chunk.extend(symbols.by_ref().take(DECODE_CHUNK));
        let last = symbols.peek().is_none();
        // Padding is only allowed at the very end; decoding the whole text says why not.
        let n = if !last && chunk.contains(&b'=') {
            None
        } else {
            engine.decode_slice(&chunk, &mut decoded).ok()
        };
        let Some(n) = n else {
            // The error sentence (with its offset) is the one of decoding the whole text.
            return Err(decode_base64(text)
                .err()
                .unwrap_or_else(|| "not valid base64".to_string()));
        };
        let bytes = &decoded[..n];
        sha256.update(bytes);
        sha1.update(bytes);
        if head.len() < SNIFF_BYTES {
            head.extend_from_slice(&bytes[..bytes.len().min(SNIFF_BYTES - head.len())]);
        }
        size += n as u64;
        if last {
            break;
        }
    }
    if size == 0 && text.bytes().all(|b| b.is_ascii_whitespace()) {
        return Err("empty base64 data".to_string());
    }
    Ok(AttachmentData {
        size,
        sha256: hex(&sha256.finalize()),
        sha1_base64: encode_base64(&sha1.finalize()),
        sniffed_type: infer::get(&head).map(|t| t.mime_type().to_string()),
    })
}

/// A file as FHIR base64Binary with its fingerprint, read and encoded in chunks: the memory is
/// the base64 text alone, never the file's bytes as well.
///
/// # Errors
/// When the file cannot be read.
pub fn encode_file(path: &std::path::Path) -> std::io::Result<(String, AttachmentData)> {
    use std::io::Read as _;
    const CHUNK: usize = 3 * 64 * 1024;
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut text = String::with_capacity(usize::try_from(len.div_ceil(3) * 4).unwrap_or(0));
    let mut sha256 = sha2::Sha256::new();
    let mut sha1 = sha1::Sha1::new();
    let mut head: Vec<u8> = Vec::new();
    let mut size: u64 = 0;
    let mut buf = vec![0u8; CHUNK];
    loop {
        // Fill the buffer completely (a multiple of 3 bytes), so no padding falls mid-text.
        let mut filled = 0;
        while filled < CHUNK {
            match file.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        let bytes = &buf[..filled];
        sha256.update(bytes);
        sha1.update(bytes);
        if head.len() < SNIFF_BYTES {
            head.extend_from_slice(&bytes[..bytes.len().min(SNIFF_BYTES - head.len())]);
        }
        size += filled as u64;
        base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut text);
        if filled < CHUNK {
            break;
        }
    }
    Ok((
        text,
        AttachmentData {
            size,
            sha256: hex(&sha256.finalize()),
            sha1_base64: encode_base64(&sha1.finalize()),
            sniffed_type: infer::get(&head).map(|t| t.mime_type().to_string()),
        },
    ))
}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

    /// FIPS 180-2 appendix B.1 and the empty-message digest: lower-case hex, 64 characters.
    #[test]
    fn the_sha256_hex_is_the_standards_digest() {
        assert_eq!(
            AttachmentData::of(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            AttachmentData::of(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

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
    fn streamed_fingerprint_of_base64_agrees_with_decoding_it_whole() {
        // Bytes that cross several decode chunks, with line breaks every 76 characters (MIME).
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 3) as u8).collect();
        let text = encode_base64(&bytes)
            .as_bytes()
            .chunks(76)
            .map(|l| std::str::from_utf8(l).expect("ascii"))
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(fingerprint_base64(&text), Ok(fingerprint(&bytes)));
        assert_eq!(
            fingerprint_base64("SGVs\nbG8=\r\n"),
            Ok(fingerprint(b"Hello"))
        );
    }

    #[test]
    fn streamed_fingerprint_rejects_what_decoding_rejects() {
        let long_padded = format!("AA=={}", "A".repeat(DECODE_CHUNK));
        for bad in ["", "  \n", "SGVsbG8", "SGV$bG8=", long_padded.as_str()] {
            assert_eq!(
                fingerprint_base64(bad).err(),
                decode_base64(bad).err(),
                "{bad:.20}"
            );
        }
    }

    #[test]
    fn a_file_encoded_in_chunks_is_its_base64_and_fingerprint() {
        let bytes: Vec<u8> = (0..500_000u32).map(|i| (i ^ (i >> 5)) as u8).collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bilag.bin");
        std::fs::write(&path, &bytes).expect("write");
        let (text, data) = encode_file(&path).expect("reads");
        assert_eq!(text, encode_base64(&bytes));
        assert_eq!(data, fingerprint(&bytes));
    }

    #[test]
    fn pdf_magic_is_sniffed() {
        assert_eq!(
            fingerprint(b"%PDF-1.4\n%...").sniffed_type.as_deref(),
            Some("application/pdf")
        );
    }
}
