//! Text encodings of XML documents: the one path from bytes to text for every XML reader of the
//! harness (FHIR XML, OIOXML, envelopes, golden files).
//!
//! Rules (XML 1.0 §4.3.3 and Appendix F, "Autodetection of Character Encodings"):
//!
//! - **A byte order mark wins.** `EF BB BF` is UTF-8 (a declaration that says otherwise is an
//!   error), `FF FE` UTF-16LE, `FE FF` UTF-16BE. A document that starts `<\0?\0` or `\0<\0?`
//!   without a mark is UTF-16 by its first characters.
//! - **Otherwise the XML declaration decides**, and without one the document is UTF-8.
//! - **ISO-8859-1 is ISO-8859-1.** Its labels (`ISO-8859-1`, `latin1`, `l1`, `cp819`, …) are
//!   decoded byte = code point, so `0x80`–`0x9F` are the C1 controls U+0080–U+009F.
//!   [`encoding_rs`] follows the WHATWG Encoding Standard, which reads these labels as
//!   windows-1252 (`0x80` = `€`); MedCom's OIOXML files say ISO-8859-1 and mean it (DOMAIN.md §4).
//! - US-ASCII is checked byte by byte; every other label `encoding_rs` knows for an
//!   ASCII-compatible encoding (windows-1252, ISO-8859-15, …) is decoded by it. A UTF-16 label
//!   without a byte order mark and an unknown label are errors.
//! - **Bytes invalid in the encoding are an error, never replaced**, at the line and column
//!   (characters of the text decoded so far) of the first invalid byte.

use std::borrow::Cow;

/// The labels of ISO-8859-1 (IANA character-sets registry, `ISO_8859-1:1987` and its aliases),
/// lower case. `encoding_rs` maps each of them to windows-1252.
const LATIN1_LABELS: [&str; 12] = [
    "iso-8859-1",
    "iso8859-1",
    "iso_8859-1",
    "iso88591",
    "iso_8859-1:1987",
    "latin1",
    "latin-1",
    "l1",
    "iso-ir-100",
    "cp819",
    "ibm819",
    "csisolatin1",
];

/// The labels of US-ASCII (IANA), lower case.
const ASCII_LABELS: [&str; 4] = ["us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us"];

/// Why the bytes of an XML document could not be decoded to text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A UTF-8 byte order mark, and a declaration naming another encoding.
    #[error("the byte order mark says utf-8 but the declaration says `{label}`")]
    BomContradictsDeclaration {
        /// The `encoding` label as written.
        label: String,
    },
    /// A UTF-16 label in the declaration, but no UTF-16 byte order mark: the declaration itself
    /// was readable as ASCII, so it cannot be true.
    #[error("encoding `{label}` declared, but the document has no utf-16 byte order mark")]
    Utf16WithoutBom {
        /// The `encoding` label as written.
        label: String,
    },
    /// A label no supported encoding answers to (or one that is not ASCII-compatible).
    #[error("unsupported encoding `{label}`")]
    Unsupported {
        /// The `encoding` label as written.
        label: String,
    },
    /// A byte (sequence) that is not valid in the encoding.
    #[error("the document is not valid {encoding} (byte 0x{byte:02x}){}", utf8_hint(.encoding))]
    Invalid {
        /// The encoding the bytes were read as, lower case (`utf-8`, `us-ascii`, `utf-16le`).
        encoding: String,
        /// The first invalid byte.
        byte: u8,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (characters of the decoded text) of the first invalid byte.
        column: usize,
    },
}

fn utf8_hint(encoding: &str) -> &'static str {
    if encoding == "utf-8" {
        "; is it ISO-8859-1 without saying so?"
    } else {
        ""
    }
}

impl DecodeError {
    /// The 1-based line of the error; 1 for an error about the encoding as a whole.
    pub fn line(&self) -> usize {
        match self {
            DecodeError::Invalid { line, .. } => *line,
            _ => 1,
        }
    }

    /// The 1-based column (characters) of the error; 1 for an error about the encoding as a
    /// whole.
    pub fn column(&self) -> usize {
        match self {
            DecodeError::Invalid { column, .. } => *column,
            _ => 1,
        }
    }
}

/// Whether `bytes` start like UTF-16 text: a UTF-16 byte order mark, or `<?` in UTF-16 without
/// one (XML 1.0 Appendix F).
pub fn looks_like_utf16(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || bytes.starts_with(b"<\0?\0")
        || bytes.starts_with(b"\0<\0?")
}

/// Decodes an XML document to text by its byte order mark or XML declaration (see the module
/// docs). The text keeps the declaration but not the byte order mark. UTF-8 without a byte order
/// mark is borrowed, everything else is copied.
///
/// # Errors
/// [`DecodeError`]: a byte order mark that contradicts the declaration, a UTF-16 label without a
/// byte order mark, an unsupported label, or a byte that is invalid in the encoding.
pub fn decode_xml(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        if let Some(label) = declared_encoding(rest)
            && !matches!(label.to_ascii_lowercase().as_str(), "utf-8" | "utf8")
        {
            return Err(DecodeError::BomContradictsDeclaration { label });
        }
        return utf8(rest);
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"<\0?\0") {
        let rest = bytes.strip_prefix(b"\xFF\xFE").unwrap_or(bytes);
        return with_encoding_rs(encoding_rs::UTF_16LE, rest).map(Cow::Owned);
    }
    if bytes.starts_with(b"\xFE\xFF") || bytes.starts_with(b"\0<\0?") {
        let rest = bytes.strip_prefix(b"\xFE\xFF").unwrap_or(bytes);
        return with_encoding_rs(encoding_rs::UTF_16BE, rest).map(Cow::Owned);
    }
    let Some(label) = declared_encoding(bytes) else {
        return utf8(bytes);
    };
    let lower = label.to_ascii_lowercase();
    match lower.as_str() {
        "utf-8" | "utf8" | "unicode-1-1-utf-8" => utf8(bytes),
        l if LATIN1_LABELS.contains(&l) => Ok(encoding_rs::mem::decode_latin1(bytes)),
        l if ASCII_LABELS.contains(&l) => match bytes.iter().position(|b| !b.is_ascii()) {
            None => utf8(bytes),
            Some(at) => Err(invalid("us-ascii", bytes, at)),
        },
        "utf-16" | "utf-16le" | "utf-16be" => Err(DecodeError::Utf16WithoutBom { label }),
        l => match encoding_rs::Encoding::for_label(l.as_bytes()) {
            Some(encoding) if encoding.is_ascii_compatible() => {
                with_encoding_rs(encoding, bytes).map(Cow::Owned)
            }
            _ => Err(DecodeError::Unsupported { label }),
        },
    }
}

/// The `encoding` pseudo-attribute of an ASCII-compatible XML declaration, as written; `None`
/// without a declaration or without the attribute.
pub fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let rest = bytes.strip_prefix(b"<?xml")?;
    if !rest.first().is_some_and(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let end = rest.windows(2).take(512).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let at = decl.find("encoding")?;
    let after = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    let close = value.find(quote)?;
    Some(value[..close].to_string())
}

/// 1-based line and column (characters) of the byte `offset` in `text`; an offset inside a
/// character counts as that character.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn utf8(bytes: &[u8]) -> Result<Cow<'_, str>, DecodeError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Cow::Borrowed(text)),
        Err(e) => Err(invalid("utf-8", bytes, e.valid_up_to())),
    }
}

/// The error for the invalid byte at `at` in ASCII-compatible `bytes`, positioned in the text
/// before it (which is valid in every ASCII-compatible encoding the callers use).
fn invalid(encoding: &str, bytes: &[u8], at: usize) -> DecodeError {
    let before = String::from_utf8_lossy(&bytes[..at]);
    let (line, column) = line_column(&before, before.len());
    DecodeError::Invalid {
        encoding: encoding.to_string(),
        byte: bytes[at],
        line,
        column,
    }
}

/// Decodes with `encoding` without replacement; the first malformed sequence is an error at its
/// place in the text decoded so far.
fn with_encoding_rs(
    encoding: &'static encoding_rs::Encoding,
    bytes: &[u8],
) -> Result<String, DecodeError> {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(text),
        encoding_rs::DecoderResult::Malformed(bad, after) => {
            let at = read.saturating_sub(usize::from(bad) + usize::from(after));
            let (line, column) = line_column(&text, text.len());
            Err(DecodeError::Invalid {
                encoding: encoding.name().to_ascii_lowercase(),
                byte: bytes.get(at).copied().unwrap_or_default(),
                line,
                column,
            })
        }
        // The buffer was sized for the worst case; running out of it is not an input error.
        encoding_rs::DecoderResult::OutputFull => Err(DecodeError::Invalid {
            encoding: encoding.name().to_ascii_lowercase(),
            byte: bytes.get(read).copied().unwrap_or_default(),
            line: 1,
            column: 1,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_8859_1_decodes_0x80_to_0x9f_as_c1_controls_not_windows_1252() {
        // ISO/IEC 8859-1 maps every byte to the code point of the same value; windows-1252 would
        // give U+20AC (euro sign) for 0x80 and U+0178 for 0x9F.
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\x80\x9f\xe6\xf8\xe5</a>";
        let text = decode_xml(bytes).expect("every byte is ISO-8859-1");
        assert!(
            text.ends_with("<a>\u{80}\u{9f}\u{e6}\u{f8}\u{e5}</a>"),
            "{text:?}"
        );
        assert!(!text.contains('\u{20ac}'));
        for label in ["latin1", "l1", "iso_8859-1:1987", "CP819"] {
            let bytes = format!("<?xml version='1.0' encoding='{label}'?><a>").into_bytes();
            let mut bytes = bytes;
            bytes.extend_from_slice(b"\x80</a>");
            let text = decode_xml(&bytes).expect("an ISO-8859-1 label");
            assert!(text.contains("<a>\u{80}</a>"), "{label}: {text:?}");
        }
    }

    #[test]
    fn windows_1252_stays_windows_1252() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>\x80</a>";
        assert!(
            decode_xml(bytes)
                .expect("windows-1252")
                .contains("<a>\u{20ac}</a>")
        );
    }

    #[test]
    fn utf8_is_the_default_and_invalid_utf8_is_an_error_at_its_place() {
        assert_eq!(
            decode_xml("<a>ø</a>".as_bytes()).expect("utf-8"),
            "<a>ø</a>"
        );
        let error = decode_xml(b"<a>\n  \xe6</a>").expect_err("latin-1 byte without a declaration");
        assert_eq!(
            error,
            DecodeError::Invalid {
                encoding: "utf-8".into(),
                byte: 0xe6,
                line: 2,
                column: 3,
            }
        );
        assert!(error.to_string().contains("ISO-8859-1 without saying so"));
    }

    #[test]
    fn utf16_is_read_by_its_byte_order_mark() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a>ø</a>";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_xml(&le).expect("utf-16le"), text);
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode_xml(&be).expect("utf-16be"), text);
        assert!(looks_like_utf16(&le) && looks_like_utf16(&be));
    }

    #[test]
    fn contradictions_and_unknown_labels_are_errors() {
        assert!(matches!(
            decode_xml(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"),
            Err(DecodeError::BomContradictsDeclaration { .. })
        ));
        assert!(matches!(
            decode_xml(b"<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>"),
            Err(DecodeError::Utf16WithoutBom { .. })
        ));
        assert!(matches!(
            decode_xml(b"<?xml version=\"1.0\" encoding=\"EBCDIC-XYZ\"?><a/>"),
            Err(DecodeError::Unsupported { .. })
        ));
        assert!(matches!(
            decode_xml(b"<?xml version=\"1.0\" encoding=\"US-ASCII\"?><a>\xe6</a>"),
            Err(DecodeError::Invalid { byte: 0xe6, .. })
        ));
    }
}
