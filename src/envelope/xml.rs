//! Hardened XML reading and plain XML writing shared by the envelope formats.
//!
//! Envelopes come from the system under test, so they are hostile input until read:
//! - at most [`MAX_ENVELOPE_BYTES`] bytes and [`MAX_NODES`] nodes;
//! - no document type declaration at all, which rules out entity expansion ("billion laughs")
//!   and external DTD or entity loading; nothing is ever fetched from the network;
//! - the encoding comes from a byte order mark or the XML declaration (MedCom's OIOXML world
//!   uses ISO-8859-1, read as ISO-8859-1), UTF-8 otherwise, and undecodable bytes are an error,
//!   never replaced ([`crate::encoding`], the harness's one XML decoding path).
//!
//! Element and attribute text is taken as written; callers trim where the schema type collapses
//! whitespace.

use std::borrow::Cow;

use roxmltree::{Document, Node, ParsingOptions};

use super::EnvelopeError;

/// The largest envelope the harness reads, in bytes (256 MiB). MedCom governance keeps a whole
/// enveloped message under 100 MB; base64 makes a payload a third larger, and a harness must be
/// able to read an oversized message to report it. Anything above this limit is refused.
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024 * 1024;

/// The most XML nodes (elements, attributes' parents, text, comments) an envelope may have.
/// A VANSEnvelope has about 40, the largest SBDH sample about 300.
pub const MAX_NODES: u32 = 100_000;

/// Decodes `bytes` to text by BOM or XML declaration ([`crate::encoding::decode_xml`], the
/// harness's one XML decoding path: ISO-8859-1 as ISO-8859-1, not windows-1252), refusing
/// oversized input.
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, EnvelopeError> {
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(EnvelopeError::TooLarge {
            size: bytes.len(),
            limit: MAX_ENVELOPE_BYTES,
        });
    }
    crate::encoding::decode_xml(bytes).map_err(|source| match source {
        crate::encoding::DecodeError::Unsupported { label } => {
            EnvelopeError::UnsupportedEncoding { label }
        }
        source => EnvelopeError::Decoding {
            encoding: match &source {
                crate::encoding::DecodeError::Invalid { encoding, .. } => encoding.clone(),
                _ => crate::encoding::declared_encoding(
                    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
                )
                .unwrap_or_else(|| "utf-8".to_string()),
            },
            source,
        },
    })
}

/// Parses `text` with the hardening above.
pub(crate) fn parse(text: &str) -> Result<Document<'_>, EnvelopeError> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(text, options).map_err(|source| {
        if source == roxmltree::Error::DtdDetected {
            let offset = text.find("<!DOCTYPE").unwrap_or(0);
            return EnvelopeError::Doctype {
                line: line_of_offset(text, offset),
            };
        }
        let position = source.pos();
        let (line, column) = if matches!(
            source,
            roxmltree::Error::UnexpectedEndOfStream | roxmltree::Error::UnclosedRootNode
        ) {
            // The parser places the end of input at 1:1; the place to look is the text's end.
            let last = text.rsplit('\n').next().unwrap_or_default();
            (
                line_of_offset(text, text.len()),
                u32::try_from(last.chars().count() + 1).unwrap_or(u32::MAX),
            )
        } else {
            (position.row, position.col)
        };
        EnvelopeError::Xml {
            line,
            column,
            source,
        }
    })
}

fn line_of_offset(text: &str, offset: usize) -> u32 {
    let before = text.get(..offset).unwrap_or(text);
    u32::try_from(before.matches('\n').count() + 1).unwrap_or(u32::MAX)
}

/// The 1-based line where `node` starts.
pub(crate) fn line(node: Node<'_, '_>) -> u32 {
    node.document().text_pos_at(node.range().start).row
}

/// `{namespace}local`, the way libxml2 and our errors name an element.
pub(crate) fn expanded_name(node: Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_string(),
    }
}

/// Whether `node` is the element `{ns}name`.
pub(crate) fn is(node: Node<'_, '_>, ns: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(ns)
}

/// The first child element `{ns}name` of `parent`.
pub(crate) fn child<'a, 'input>(
    parent: Node<'a, 'input>,
    ns: &str,
    name: &str,
) -> Option<Node<'a, 'input>> {
    parent.children().find(|c| is(*c, ns, name))
}

/// Every child element `{ns}name` of `parent`, in document order.
pub(crate) fn children<'a, 'input>(
    parent: Node<'a, 'input>,
    ns: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    parent.children().filter(move |c| is(*c, ns, name))
}

/// The child element `{ns}name` of `parent`, or [`EnvelopeError::Missing`].
pub(crate) fn required<'a, 'input>(
    parent: Node<'a, 'input>,
    ns: &str,
    name: &str,
) -> Result<Node<'a, 'input>, EnvelopeError> {
    child(parent, ns, name).ok_or_else(|| EnvelopeError::Missing {
        path: name.to_string(),
        parent: parent.tag_name().name().to_string(),
        line: line(parent),
    })
}

/// The text content of `node` as written: every text and CDATA child concatenated (comments
/// between them are skipped, as XML Schema does).
pub(crate) fn text(node: Node<'_, '_>) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect()
}

/// The text of the child element `{ns}name`, or [`EnvelopeError::Missing`].
pub(crate) fn required_text(
    parent: Node<'_, '_>,
    ns: &str,
    name: &str,
) -> Result<String, EnvelopeError> {
    required(parent, ns, name).map(text)
}

/// The text of the optional child element `{ns}name`.
pub(crate) fn optional_text(parent: Node<'_, '_>, ns: &str, name: &str) -> Option<String> {
    child(parent, ns, name).map(text)
}

/// The four XML whitespace characters (XML 1.0 production `S`).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Decodes `xs:base64Binary` text: XML whitespace anywhere is dropped (XML Schema Part 2
/// §3.2.16 allows it), the rest must be canonical padded base64 (RFC 4648 §4).
pub(crate) fn decode_base64(node: Node<'_, '_>) -> Result<Vec<u8>, EnvelopeError> {
    use base64::Engine as _;
    let compact: String = text(node).chars().filter(|c| !is_xml_space(*c)).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|source| EnvelopeError::Base64 {
            path: node.tag_name().name().to_string(),
            line: line(node),
            source,
        })
}

/// Encodes `bytes` as one line of padded base64 (RFC 4648 §4).
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Escapes text content (`&`, `<`, `>`).
pub(crate) fn escape_text(value: &str) -> Cow<'_, str> {
    escape(value, false)
}

/// Escapes an attribute value in double quotes (`&`, `<`, `>`, `"`, and the whitespace
/// characters attribute-value normalization would otherwise turn into spaces).
pub(crate) fn escape_attribute(value: &str) -> Cow<'_, str> {
    escape(value, true)
}

fn escape(value: &str, attribute: bool) -> Cow<'_, str> {
    let needs = |c: char| {
        matches!(c, '&' | '<' | '>') || (attribute && matches!(c, '"' | '\t' | '\n' | '\r'))
    };
    if !value.chars().any(needs) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Appends `<name>escaped text</name>` on its own line with `indent` spaces.
pub(crate) fn push_element(out: &mut String, indent: usize, name: &str, value: &str) {
    push_indent(out, indent);
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape_text(value));
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Appends `indent` spaces.
pub(crate) fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_latin1_is_decoded_by_its_declaration() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe6\xf8\xe5</a>";
        let text = decode(bytes).expect("latin-1 decodes");
        assert!(text.ends_with("<a>\u{e6}\u{f8}\u{e5}</a>"));
    }

    #[test]
    fn declared_iso_8859_1_reads_0x80_to_0x9f_as_c1_controls_not_windows_1252() {
        // ISO/IEC 8859-1: byte = code point, so 0x80 is U+0080 and 0x9F U+009F; windows-1252,
        // which the WHATWG encoding standard substitutes for this label, has U+20AC (euro) and
        // U+0178 there.
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\x80\x9f</a>";
        let text = decode(bytes).expect("every byte is ISO-8859-1");
        assert!(text.ends_with("<a>\u{80}\u{9f}</a>"), "{text:?}");
        assert!(!text.contains('\u{20ac}') && !text.contains('\u{178}'));
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_replacement() {
        assert!(matches!(
            decode(b"<a>\xff</a>"),
            Err(EnvelopeError::Decoding { .. })
        ));
    }

    #[test]
    fn doctype_is_refused_with_its_line() {
        let text = "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"y\">]>\n<a>&x;</a>";
        match parse(text) {
            Err(EnvelopeError::Doctype { line }) => assert_eq!(line, 2),
            other => panic!("expected a refused DTD, got {other:?}"),
        }
    }

    #[test]
    fn attribute_escaping_keeps_whitespace_and_quotes() {
        assert_eq!(escape_attribute("a\"b\nc&"), "a&quot;b&#10;c&amp;");
        assert_eq!(escape_text("a<b>&"), "a&lt;b&gt;&amp;");
    }
}
