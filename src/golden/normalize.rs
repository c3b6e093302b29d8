//! Reading a message into the form that is compared, and writing that form back as text.
//!
//! Normalizing drops what the comparison ignores, so that the pretty text of two matching
//! documents is identical and a line diff of two texts shows only real differences:
//!
//! - JSON: object members are written `resourceType` first (as FHIR JSON does), then the others
//!   sorted by name; two spaces indent each level. Key order in the input never matters.
//! - XML: comments, processing instructions, the XML declaration and whitespace-only text are
//!   dropped, adjacent text is joined, and attributes are sorted. Namespace prefixes are not kept:
//!   each element is written unprefixed with an `xmlns="…"` where its namespace differs from its
//!   parent's, and a namespaced attribute gets a prefix `ns0`, `ns1`, … declared on its own
//!   element (`xml:` stays `xml:`). An element whose content holds text is written on one line
//!   without added whitespace, because whitespace inside text is significant.

use std::fmt;
use std::fmt::Write as _;

use serde_json::Value;

use super::error::{GoldenError, Side};

/// The syntax of a message, told from its first character that is not whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// FHIR JSON: starts with `{`.
    Json,
    /// FHIR XML: starts with `<`.
    Xml,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Json => "JSON",
            Self::Xml => "XML",
        })
    }
}

/// A parsed message in either format.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Document {
    Json(Value),
    Xml(Element),
}

impl Document {
    pub(super) fn format(&self) -> Format {
        match self {
            Self::Json(_) => Format::Json,
            Self::Xml(_) => Format::Xml,
        }
    }
}

/// An XML element, reduced to what the comparison looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Element {
    /// The namespace URI, empty for no namespace.
    pub(super) namespace: String,
    pub(super) name: String,
    /// Sorted by namespace, then name, so that attribute order never matters.
    pub(super) attributes: Vec<Attribute>,
    pub(super) children: Vec<Node>,
}

impl Element {
    /// An element with the same name and attributes and the given children.
    pub(super) fn with_children(&self, attributes: Vec<Attribute>, children: Vec<Node>) -> Self {
        Self {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            attributes,
            children,
        }
    }
}

/// An XML attribute; namespace declarations are not attributes here.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Attribute {
    pub(super) namespace: String,
    pub(super) name: String,
    pub(super) value: String,
}

/// A child of an XML element that the comparison looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Node {
    Element(Element),
    /// Text that is not whitespace only, with character and entity references resolved.
    Text(String),
}

/// The deepest element nesting accepted in XML. FHIR messages with narrative stay far below it,
/// and the comparison recurses once per level: at this depth a debug build needs about 1.3 MiB of
/// stack, which fits the 2 MiB of a Rust or tokio worker thread.
pub(super) const MAX_XML_DEPTH: usize = 128;

/// The namespace the `xml:` prefix is bound to.
const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// Tells the format of `bytes` and parses them.
pub(super) fn parse(bytes: &[u8], side: Side) -> Result<Document, GoldenError> {
    // FHIR allows a byte order mark before JSON and XML; neither parser wants it.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .copied();
    match first {
        Some(b'{') => parse_json(bytes, side).map(Document::Json),
        Some(b'<') => parse_xml(bytes, side).map(Document::Xml),
        // UTF-16 text starts with its byte order mark; only XML may be UTF-16 here.
        _ if crate::encoding::looks_like_utf16(bytes) => parse_xml(bytes, side).map(Document::Xml),
        _ => Err(GoldenError::UnknownFormat { side }),
    }
}

fn parse_json(bytes: &[u8], side: Side) -> Result<Value, GoldenError> {
    serde_json::from_slice(bytes).map_err(|source| GoldenError::Json {
        side,
        line: source.line(),
        column: source.column(),
        source,
    })
}

fn parse_xml(bytes: &[u8], side: Side) -> Result<Element, GoldenError> {
    // The one XML decoding path of the harness: an ISO-8859-1 OIOXML receipt compares with its
    // UTF-8 golden by the characters both hold.
    let text = crate::encoding::decode_xml(bytes).map_err(|source| GoldenError::Encoding {
        side,
        line: source.line(),
        column: source.column(),
        source,
    })?;
    let text = text.as_ref();
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let document = roxmltree::Document::parse_with_options(text, options).map_err(|source| {
        if source == roxmltree::Error::DtdDetected {
            // roxmltree reports a DTD at 1:1; the person fixing the file wants the real place.
            let offset = text.find("<!DOCTYPE").unwrap_or(0);
            let (line, _) = line_and_column(text.as_bytes(), offset);
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let column = text[line_start..offset].chars().count() + 1;
            return GoldenError::Doctype { side, line, column };
        }
        let position = source.pos();
        GoldenError::Xml {
            side,
            line: position.row,
            column: position.col,
            source,
        }
    })?;
    convert(document.root_element(), 1, side)
}

/// The 1-based line and byte column of `offset` in `bytes`.
fn line_and_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, before.len() - line_start + 1)
}

/// Copies a roxmltree element into an [`Element`], dropping what the comparison ignores.
fn convert(
    node: roxmltree::Node<'_, '_>,
    depth: usize,
    side: Side,
) -> Result<Element, GoldenError> {
    if depth > MAX_XML_DEPTH {
        return Err(GoldenError::TooDeep {
            side,
            limit: MAX_XML_DEPTH,
        });
    }
    let tag = node.tag_name();
    let mut attributes: Vec<Attribute> = node
        .attributes()
        .map(|attribute| Attribute {
            namespace: attribute.namespace().unwrap_or_default().to_owned(),
            name: attribute.name().to_owned(),
            value: attribute.value().to_owned(),
        })
        .collect();
    attributes.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let mut children = Vec::new();
    for child in node.children() {
        if child.is_element() {
            children.push(Node::Element(convert(child, depth + 1, side)?));
        } else if child.is_text() {
            let text = child.text().unwrap_or_default();
            // Text split by a dropped comment is joined again, so comments never matter.
            if let Some(Node::Text(previous)) = children.last_mut() {
                previous.push_str(text);
            } else {
                children.push(Node::Text(text.to_owned()));
            }
        }
    }
    children.retain(|child| match child {
        Node::Text(text) => !is_xml_whitespace(text),
        Node::Element(_) => true,
    });
    Ok(Element {
        namespace: tag.namespace().unwrap_or_default().to_owned(),
        name: tag.name().to_owned(),
        attributes,
        children,
    })
}

/// Whether `text` holds only XML whitespace (space, tab, line feed, carriage return).
pub(super) fn is_xml_whitespace(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Writes `bytes` as a normalized, pretty-printed golden text.
///
/// Used by `--update-golden` to write the actual message as the new golden. The text is what
/// [`compare`](super::compare()) shows in its diff: JSON with `resourceType` first and the other members
/// sorted, XML without comments, prefixes or insignificant whitespace (see the module docs). It ends
/// with a line break. Placeholders are not put back: values the vendor's system chose (ids, times)
/// are written as they are, to be replaced by placeholders by hand.
///
/// # Errors
///
/// The same parse errors as [`compare`](super::compare()), reported for [`Side::Actual`].
pub fn render_normalized(bytes: &[u8]) -> Result<String, GoldenError> {
    parse(bytes, Side::Actual).map(|document| render(&document))
}

/// The pretty normalized text of a document, ending with a line break.
pub(super) fn render(document: &Document) -> String {
    let mut out = String::new();
    match document {
        Document::Json(value) => {
            write_json(&mut out, value, Some(0));
        }
        Document::Xml(element) => {
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
            write_element(&mut out, element, "", Some(0));
        }
    }
    out.push('\n');
    out
}

/// A JSON value on one line, members in normalized order.
pub(super) fn json_text(value: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value, None);
    out
}

/// An XML element on one line, normalized, as it would appear at the top of a document.
pub(super) fn element_text(element: &Element) -> String {
    let mut out = String::new();
    write_element(&mut out, element, "", None);
    out
}

/// Orders JSON member names: `resourceType` first, then by name.
pub(super) fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a != "resourceType", a).cmp(&(b != "resourceType", b))
}

/// Writes `value`; `level` is the indentation level when pretty, `None` for one line.
fn write_json(out: &mut String, value: &Value, level: Option<usize>) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => {
            let _ = write!(out, "{number}");
        }
        Value::String(text) => write_json_string(out, text),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                newline(out, level.map(|l| l + 1));
                write_json(out, item, level.map(|l| l + 1));
            }
            newline(out, level);
            out.push(']');
        }
        Value::Object(members) => {
            if members.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut keys: Vec<&String> = members.keys().collect();
            keys.sort_by(|a, b| key_order(a, b));
            out.push('{');
            for (position, key) in keys.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                newline(out, level.map(|l| l + 1));
                write_json_string(out, key);
                out.push_str(if level.is_some() { ": " } else { ":" });
                if let Some(member) = members.get(key) {
                    write_json(out, member, level.map(|l| l + 1));
                }
            }
            newline(out, level);
            out.push('}');
        }
    }
}

/// Starts a new line indented to `level` when pretty; nothing on one line.
fn newline(out: &mut String, level: Option<usize>) {
    if let Some(level) = level {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    }
}

/// Writes a JSON string literal with the escapes RFC 8259 requires.
fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes `element`; `parent_namespace` is the default namespace in scope, `level` the
/// indentation level when pretty, `None` for one line.
fn write_element(
    out: &mut String,
    element: &Element,
    parent_namespace: &str,
    level: Option<usize>,
) {
    if let Some(level) = level {
        for _ in 0..level {
            out.push_str("  ");
        }
    }
    out.push('<');
    out.push_str(&element.name);
    if element.namespace != parent_namespace {
        out.push_str(" xmlns=\"");
        escape_attribute(out, &element.namespace);
        out.push('"');
    }
    // Attribute namespaces get prefixes declared on their own element, numbered in sorted order,
    // so the text depends only on this element and never on the prefixes of the input.
    let mut prefixed: Vec<&str> = element
        .attributes
        .iter()
        .map(|attribute| attribute.namespace.as_str())
        .filter(|namespace| !namespace.is_empty() && *namespace != XML_NAMESPACE)
        .collect();
    prefixed.dedup();
    for (number, namespace) in prefixed.iter().enumerate() {
        let _ = write!(out, " xmlns:ns{number}=\"");
        escape_attribute(out, namespace);
        out.push('"');
    }
    for attribute in &element.attributes {
        out.push(' ');
        if attribute.namespace == XML_NAMESPACE {
            out.push_str("xml:");
        } else if let Some(number) = prefixed.iter().position(|n| *n == attribute.namespace) {
            let _ = write!(out, "ns{number}:");
        }
        out.push_str(&attribute.name);
        out.push_str("=\"");
        escape_attribute(out, &attribute.value);
        out.push('"');
    }
    if element.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    let holds_text = element
        .children
        .iter()
        .any(|child| matches!(child, Node::Text(_)));
    let child_level = if holds_text {
        None
    } else {
        level.map(|l| l + 1)
    };
    for child in &element.children {
        match child {
            Node::Element(inner) => {
                if child_level.is_some() {
                    out.push('\n');
                }
                write_element(out, inner, &element.namespace, child_level);
            }
            Node::Text(text) => escape_text(out, text),
        }
    }
    if let (Some(level), Some(_)) = (level, child_level) {
        out.push('\n');
        for _ in 0..level {
            out.push_str("  ");
        }
    }
    out.push_str("</");
    out.push_str(&element.name);
    out.push('>');
}

/// Escapes an attribute value so that it reads back unchanged; line breaks and tabs become
/// character references because a parser would turn them into spaces.
fn escape_attribute(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

/// Escapes text content so that it reads back unchanged; a carriage return becomes a character
/// reference because a parser would turn it into a line feed.
fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(text: &str) -> String {
        render_normalized(text.as_bytes()).expect("a readable message")
    }

    #[test]
    fn json_is_written_resource_type_first_then_sorted() {
        let text = rendered(r#"{"type":"message","id":"b1","resourceType":"Bundle","entry":[]}"#);
        assert_eq!(
            text,
            "{\n  \"resourceType\": \"Bundle\",\n  \"entry\": [],\n  \"id\": \"b1\",\n  \"type\": \"message\"\n}\n"
        );
    }

    #[test]
    fn xml_is_written_without_prefixes_comments_or_whitespace() {
        let text = rendered(
            "<?xml version=\"1.0\"?>\n<f:Bundle xmlns:f=\"http://hl7.org/fhir\">\n  <!-- c -->\n  \
             <f:id value=\"b1\"/>\n  <f:type value=\"message\"/>\n</f:Bundle>",
        );
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Bundle xmlns=\"http://hl7.org/fhir\">\n  \
             <id value=\"b1\"/>\n  <type value=\"message\"/>\n</Bundle>\n"
        );
    }

    #[test]
    fn xml_text_content_is_written_inline_and_reads_back_the_same() {
        let source = "<a xmlns=\"urn:a\"><div xmlns=\"http://www.w3.org/1999/xhtml\">Hello <b>you</b> &amp; \
                      me</div><c xmlns=\"\" xml:lang=\"da\" xmlns:x=\"urn:x\" x:k=\"1&#10;2\"/></a>";
        let text = rendered(source);
        assert!(text.contains(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">Hello <b>you</b> &amp; me</div>"
        ));
        assert!(
            text.contains("<c xmlns=\"\" xmlns:ns0=\"urn:x\" xml:lang=\"da\" ns0:k=\"1&#10;2\"/>")
        );
        let again = parse(text.as_bytes(), Side::Actual).expect("readable");
        let original = parse(source.as_bytes(), Side::Actual).expect("readable");
        assert_eq!(again, original);
    }

    #[test]
    fn byte_order_mark_and_leading_whitespace_are_accepted() {
        assert!(parse(b"\xEF\xBB\xBF  \n{}", Side::Actual).is_ok());
        assert!(parse(b"\n<a/>", Side::Actual).is_ok());
    }

    #[test]
    fn unknown_formats_and_bad_encodings_are_errors() {
        assert!(matches!(
            parse(b"hello", Side::Golden),
            Err(GoldenError::UnknownFormat { side: Side::Golden })
        ));
        assert!(matches!(
            parse(b"", Side::Golden),
            Err(GoldenError::UnknownFormat { .. })
        ));
        assert!(matches!(
            parse(b"<a>\n\xFF</a>", Side::Actual),
            Err(GoldenError::Encoding {
                line: 2,
                column: 1,
                ..
            })
        ));
    }

    #[test]
    fn deep_xml_is_refused_not_overflowing_the_stack() {
        let depth = MAX_XML_DEPTH + 1;
        let text = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        assert!(matches!(
            parse(text.as_bytes(), Side::Actual),
            Err(GoldenError::TooDeep { .. })
        ));
        let fits = format!(
            "{}{}",
            "<a>".repeat(MAX_XML_DEPTH),
            "</a>".repeat(MAX_XML_DEPTH)
        );
        assert!(parse(fits.as_bytes(), Side::Actual).is_ok());
    }
}
