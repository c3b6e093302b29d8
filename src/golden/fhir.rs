//! FHIR's own equality rules, applied before and during the structural comparison.
//!
//! The structural walk in [`super::compare`] knows JSON and XML; this module knows FHIR R4
//! (4.0.1) and tells it where FHIR says two different-looking messages are the same:
//!
//! - **Message Bundle entries** after `entry[0]` are unordered (FHIR R4 Bundle, `bdl-12`;
//!   DOMAIN.md §2, §7): [`EntryKeys`] names what identifies an entry (its `fullUrl`, its
//!   resource's type and id, its resource's identifiers), so the walk can pair entries by key
//!   through a map instead of by position.
//! - **base64Binary** compares by decoded bytes: the lexical form may hold whitespace and line
//!   breaks (FHIR R4 datatypes, base64Binary; DOMAIN.md §7). [`canonical_base64_json`] and
//!   [`canonical_base64_xml`] rewrite every base64Binary value that decodes into its form without
//!   whitespace, typed by the R4 model ([`crate::fhir::model`]), so that `Attachment.data` is
//!   rewritten and `SampledData.data` (a string, where spaces matter) is not.
//! - **XML and JSON** are two forms of one FHIR model: [`actual_as`] converts the actual message
//!   into the golden's form with the harness's converter ([`crate::fhir::xml`]).

use base64::Engine as _;
use serde_json::{Map, Value};

use super::error::{GoldenError, Side};
use super::normalize::{self, Attribute, Document, Element, Format, Node};
use crate::fhir::model::{self, Kind, Model};
use crate::fhir::xml::{FHIR_NS, json_to_xml, xml_to_json};

/// Whether the golden is a FHIR message: a `Bundle` of `type` `message` (a placeholder type
/// counts when the actual message says `message`).
pub(super) fn is_message_json(golden: &Value, actual: &Value) -> bool {
    let is_bundle = golden.get("resourceType").and_then(Value::as_str) == Some("Bundle");
    let kind = golden.get("type").and_then(Value::as_str);
    is_bundle
        && (kind == Some("message")
            || (kind.is_some_and(|k| k.contains("{{"))
                && actual.get("type").and_then(Value::as_str) == Some("message")))
}

/// Whether the golden is a FHIR message in XML, as [`is_message_json`] says for JSON.
pub(super) fn is_message_xml(golden: &Element, actual: &Element) -> bool {
    let kind = |bundle: &Element| {
        child(bundle, "type")
            .and_then(|t| attribute(t, "value"))
            .map(str::to_owned)
    };
    let is_bundle = golden.namespace == FHIR_NS && golden.name == "Bundle";
    let golden_kind = kind(golden);
    is_bundle
        && (golden_kind.as_deref() == Some("message")
            || (golden_kind.is_some_and(|k| k.contains("{{"))
                && kind(actual).as_deref() == Some("message")))
}

/// What identifies a Bundle entry, as written; each part absent where the entry lacks it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct EntryKeys {
    /// `entry.fullUrl`.
    pub(super) full_url: Option<String>,
    /// The resource's type (`resource.resourceType` in JSON, the element name in XML).
    pub(super) resource_type: Option<String>,
    /// `resource.id`.
    pub(super) id: Option<String>,
    /// Each `resource.identifier` (one or many) as `(system, value)`, system empty when absent.
    pub(super) identifiers: Vec<(String, String)>,
}

impl EntryKeys {
    /// The keys of a JSON entry (`{"fullUrl": …, "resource": {…}}`).
    pub(super) fn of_json(entry: &Value) -> Self {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
        let resource = entry.get("resource");
        let identifiers = match resource.and_then(|r| r.get("identifier")) {
            Some(Value::Array(items)) => items.iter().filter_map(identifier_json).collect(),
            Some(single @ Value::Object(_)) => identifier_json(single).into_iter().collect(),
            _ => Vec::new(),
        };
        Self {
            full_url: text(entry.get("fullUrl")),
            resource_type: text(resource.and_then(|r| r.get("resourceType"))),
            id: text(resource.and_then(|r| r.get("id"))),
            identifiers,
        }
    }

    /// The keys of an XML `entry` element.
    pub(super) fn of_xml(entry: &Element) -> Self {
        let value = |element: Option<&Element>| {
            element
                .and_then(|e| attribute(e, "value"))
                .map(str::to_owned)
        };
        let resource = child(entry, "resource").and_then(|r| {
            r.children.iter().find_map(|node| match node {
                Node::Element(element) => Some(element),
                Node::Text(_) => None,
            })
        });
        let identifiers = resource
            .map(|r| {
                children(r, "identifier")
                    .filter_map(|identifier| {
                        let system = value(child(identifier, "system")).unwrap_or_default();
                        value(child(identifier, "value")).map(|v| (system, v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            full_url: value(child(entry, "fullUrl")),
            resource_type: resource.map(|r| r.name.clone()),
            id: value(resource.and_then(|r| child(r, "id"))),
            identifiers,
        }
    }
}

fn identifier_json(identifier: &Value) -> Option<(String, String)> {
    let value = identifier.get("value")?.as_str()?;
    let system = identifier
        .get("system")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Some((system.to_owned(), value.to_owned()))
}

fn child<'e>(element: &'e Element, name: &'e str) -> Option<&'e Element> {
    children(element, name).next()
}

fn children<'e>(element: &'e Element, name: &'e str) -> impl Iterator<Item = &'e Element> {
    element.children.iter().filter_map(move |node| match node {
        Node::Element(e) if e.name == name && e.namespace == FHIR_NS => Some(e),
        _ => None,
    })
}

fn attribute<'e>(element: &'e Element, name: &str) -> Option<&'e str> {
    element
        .attributes
        .iter()
        .find(|a| a.name == name && a.namespace.is_empty())
        .map(|a| a.value.as_str())
}

/// The actual message in the golden's format, when the two differ and both are FHIR.
///
/// A FHIR XML actual message is read into FHIR JSON for a JSON golden; a FHIR JSON actual
/// message is written as FHIR XML for an XML golden (so the golden, its placeholders and its
/// paths stay as the user wrote them). XML that is not in the FHIR namespace (OIOXML, envelopes)
/// is never converted: its format must agree with the golden's.
///
/// # Errors
///
/// [`GoldenError::FormatMismatch`] when the XML side is not FHIR; [`GoldenError::NotFhir`] when
/// the actual message cannot be read or written as FHIR by the converter.
pub(super) fn actual_as(
    golden: &Document,
    actual: Document,
    actual_bytes: &[u8],
) -> Result<Document, GoldenError> {
    let mismatch = || GoldenError::FormatMismatch {
        golden: golden.format(),
        actual: actual.format(),
    };
    match (golden, &actual) {
        (Document::Json(_), Document::Xml(root)) => {
            if root.namespace != FHIR_NS {
                return Err(mismatch());
            }
            let value = xml_to_json(actual_bytes).map_err(|source| GoldenError::NotFhir {
                side: Side::Actual,
                format: Format::Xml,
                source,
            })?;
            Ok(Document::Json(value))
        }
        (Document::Xml(root), Document::Json(value)) => {
            if root.namespace != FHIR_NS {
                return Err(mismatch());
            }
            let xml = json_to_xml(value).map_err(|source| GoldenError::NotFhir {
                side: Side::Actual,
                format: Format::Json,
                source,
            })?;
            normalize::parse(xml.as_bytes(), Side::Actual)
        }
        _ => Ok(actual),
    }
}

/// The value without whitespace when it is base64 that decodes that way; `None` when it is
/// already in that form, holds a placeholder, or is not base64 at all (then it is compared as
/// written, and the difference shows what the sender wrote).
fn canonical_base64(text: &str) -> Option<String> {
    if text.contains("{{") || !text.contains(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let compact: String = text.split_ascii_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .ok()
        .map(|_| compact)
}

/// Rewrites every base64Binary value of a FHIR JSON resource into its form without whitespace.
/// A document that is not a FHIR resource, or a member the R4 model does not know, is left as
/// it is.
pub(super) fn canonical_base64_json(value: &mut Value) {
    // Most messages hold no base64 with whitespace at all; telling so by the strings alone is
    // much cheaper than the typed walk, which looks every member up in the R4 model.
    if !has_spaced_base64(value) {
        return;
    }
    let Ok(model) = model::r4() else { return };
    if let Some(kind) = value
        .get("resourceType")
        .and_then(Value::as_str)
        .map(str::to_owned)
        && let Value::Object(members) = value
    {
        json_members(model, &kind, members, 0);
    }
}

/// Whether any string in `value` is one that [`canonical_base64`] would rewrite, whatever its
/// type: when none is, the typed walk of [`canonical_base64_json`] would change nothing. Deeper
/// than [`MAX_DEPTH`] it answers `true`, leaving the decision to the typed walk.
pub(super) fn has_spaced_base64(value: &Value) -> bool {
    spaced_base64_below(value, 0)
}

fn spaced_base64_below(value: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    match value {
        Value::String(text) => could_be_spaced_base64(text) && canonical_base64(text).is_some(),
        Value::Array(items) => items
            .iter()
            .any(|item| spaced_base64_below(item, depth + 1)),
        Value::Object(members) => members
            .values()
            .any(|member| spaced_base64_below(member, depth + 1)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A quick test that `text` may be base64 with whitespace in it, without allocating: it holds
/// whitespace, and its other characters are of the base64 alphabet and a multiple of 4 in
/// number, as canonical padded base64 must be (RFC 4648, section 4). A `false` is certain.
fn could_be_spaced_base64(text: &str) -> bool {
    let mut spaced = false;
    let mut count = 0usize;
    for byte in text.bytes() {
        if byte.is_ascii_whitespace() {
            spaced = true;
        } else if byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=') {
            count += 1;
        } else {
            return false;
        }
    }
    spaced && count.is_multiple_of(4)
}

/// How deep the typed walks go; deeper input is left as it is, which protects the stack.
const MAX_DEPTH: usize = 128;

fn json_members(model: &Model, type_name: &str, members: &mut Map<String, Value>, depth: usize) {
    let Some(def) = model.type_def(type_name) else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    for (name, member) in members.iter_mut() {
        let Some((_, _, element_type)) = def.element(name) else {
            continue;
        };
        let items: Vec<&mut Value> = match member {
            Value::Array(items) => items.iter_mut().collect(),
            single => vec![single],
        };
        for item in items {
            json_item(model, element_type, item, depth + 1);
        }
    }
}

fn json_item(model: &Model, element_type: &str, item: &mut Value, depth: usize) {
    match item {
        Value::String(text) if element_type == "base64Binary" => {
            if let Some(compact) = canonical_base64(text) {
                *text = compact;
            }
        }
        Value::Object(members) if element_type == "Resource" => {
            if let Some(kind) = members
                .get("resourceType")
                .and_then(Value::as_str)
                .map(str::to_owned)
            {
                json_members(model, &kind, members, depth);
            }
        }
        Value::Object(members) if is_structured(model, element_type) => {
            json_members(model, element_type, members, depth);
        }
        _ => {}
    }
}

fn is_structured(model: &Model, type_name: &str) -> bool {
    model
        .type_def(type_name)
        .is_some_and(|t| !matches!(t.kind, Kind::Primitive(_)))
}

/// Rewrites every base64Binary `value` attribute of a FHIR XML resource, as
/// [`canonical_base64_json`] does for JSON. XML outside the FHIR namespace is left as it is.
pub(super) fn canonical_base64_xml(root: &mut Element) {
    let Ok(model) = model::r4() else { return };
    if root.namespace == FHIR_NS {
        let kind = root.name.clone();
        xml_children(model, &kind, root, 0);
    }
}

fn xml_children(model: &Model, type_name: &str, element: &mut Element, depth: usize) {
    let Some(def) = model.type_def(type_name) else {
        return;
    };
    if depth > MAX_DEPTH {
        return;
    }
    for node in &mut element.children {
        let Node::Element(child) = node else { continue };
        if child.namespace != FHIR_NS {
            continue;
        }
        let Some((_, _, element_type)) = def.element(&child.name) else {
            continue;
        };
        if element_type == "base64Binary" {
            for Attribute {
                namespace,
                name,
                value,
            } in &mut child.attributes
            {
                if namespace.is_empty()
                    && name == "value"
                    && let Some(compact) = canonical_base64(value)
                {
                    *value = compact;
                }
            }
        } else if element_type == "Resource" {
            for inner in &mut child.children {
                if let Node::Element(resource) = inner {
                    let kind = resource.name.clone();
                    xml_children(model, &kind, resource, depth + 1);
                }
            }
        } else if is_structured(model, element_type) {
            xml_children(model, element_type, child, depth + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{CompareOptions, Comparison, Difference, DifferenceKind, compare};
    use super::GoldenError;

    /// `Hello, MedCom! This line is long enough to wrap at 76 characters in MIME base64.` in
    /// base64, one line, as Python's `base64.b64encode` writes it.
    const DATA: &str = "SGVsbG8sIE1lZENvbSEgVGhpcyBsaW5lIGlzIGxvbmcgZW5vdWdoIHRvIHdyYXAgYXQgNzYgY2hhcmFjdGVycyBpbiBNSU1FIGJhc2U2NC4=";
    /// The same bytes as Python's `base64.encodebytes` writes them: MIME lines of 76 characters,
    /// each ending in a line break (JSON escapes).
    const DATA_WRAPPED_JSON: &str = "SGVsbG8sIE1lZENvbSEgVGhpcyBsaW5lIGlzIGxvbmcgZW5vdWdoIHRvIHdyYXAgYXQgNzYgY2hh\\ncmFjdGVycyBpbiBNSU1FIGJhc2U2NC4=\\n";

    const EVENTS: &str =
        "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes";
    const LETTER_ID: &str = "5a1b2c3d-0000-4000-8000-00000000abcd";

    fn run(golden: &str, actual: &str) -> Comparison {
        compare(
            golden.as_bytes(),
            actual.as_bytes(),
            &CompareOptions::default(),
        )
        .expect("a comparison")
    }

    fn header(code: &str) -> String {
        format!(
            r#"{{"fullUrl":"https://example.org/fhir/MessageHeader/h1","resource":{{"resourceType":"MessageHeader","id":"h1","eventCoding":{{"system":"{EVENTS}","code":"acknowledgement-message"}},"source":{{"endpoint":"https://sor2.sum.dsdn.dk/#id=123456789012345"}},"response":{{"identifier":"{LETTER_ID}","code":"{code}"}}}}}}"#
        )
    }

    const ORGANIZATION: &str = r#"{"fullUrl":"https://example.org/fhir/Organization/o1","resource":{"resourceType":"Organization","id":"o1","identifier":[{"system":"urn:oid:1.2.208.176.1.1","value":"123456789012345"}],"name":"Sender"}}"#;
    const PROVENANCE: &str = r#"{"fullUrl":"https://example.org/fhir/Provenance/p1","resource":{"resourceType":"Provenance","id":"p1","target":[{"reference":"MessageHeader/h1"}],"recorded":"2024-05-01T12:30:00+02:00","agent":[{"who":{"reference":"Organization/o1"}}]}}"#;

    fn binary(data: &str) -> String {
        format!(
            r#"{{"fullUrl":"https://example.org/fhir/Binary/x1","resource":{{"resourceType":"Binary","id":"x1","contentType":"application/pdf","data":"{data}"}}}}"#
        )
    }

    /// A small acknowledgement-like message (FHIR R4 Bundle of type `message`) with the given
    /// entries, in the given order.
    fn message(entries: &[&str]) -> String {
        format!(
            r#"{{"resourceType":"Bundle","id":"b1","type":"message","timestamp":"2024-05-01T12:30:00+02:00","entry":[{}]}}"#,
            entries.join(",")
        )
    }

    /// [`message`] with the header, the Organization, the Provenance and the Binary, written by
    /// hand as FHIR R4 XML: elements in the order of the R4 definitions (Bundle: id, type,
    /// timestamp, entry; entry: fullUrl, resource; MessageHeader: id, eventCoding, source,
    /// response; Provenance: target, recorded, agent; Binary: id, contentType, data), the
    /// resource type as the element inside `resource`, every primitive in a `value` attribute.
    fn message_xml(data: &str) -> String {
        format!(
            r##"<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://hl7.org/fhir">
  <id value="b1"/>
  <type value="message"/>
  <timestamp value="2024-05-01T12:30:00+02:00"/>
  <entry>
    <fullUrl value="https://example.org/fhir/MessageHeader/h1"/>
    <resource>
      <MessageHeader>
        <id value="h1"/>
        <eventCoding>
          <system value="{EVENTS}"/>
          <code value="acknowledgement-message"/>
        </eventCoding>
        <source>
          <endpoint value="https://sor2.sum.dsdn.dk/#id=123456789012345"/>
        </source>
        <response>
          <identifier value="{LETTER_ID}"/>
          <code value="ok"/>
        </response>
      </MessageHeader>
    </resource>
  </entry>
  <entry>
    <fullUrl value="https://example.org/fhir/Organization/o1"/>
    <resource>
      <Organization>
        <id value="o1"/>
        <identifier>
          <system value="urn:oid:1.2.208.176.1.1"/>
          <value value="123456789012345"/>
        </identifier>
        <name value="Sender"/>
      </Organization>
    </resource>
  </entry>
  <entry>
    <fullUrl value="https://example.org/fhir/Provenance/p1"/>
    <resource>
      <Provenance>
        <id value="p1"/>
        <target>
          <reference value="MessageHeader/h1"/>
        </target>
        <recorded value="2024-05-01T12:30:00+02:00"/>
        <agent>
          <who>
            <reference value="Organization/o1"/>
          </who>
        </agent>
      </Provenance>
    </resource>
  </entry>
  <entry>
    <fullUrl value="https://example.org/fhir/Binary/x1"/>
    <resource>
      <Binary>
        <id value="x1"/>
        <contentType value="application/pdf"/>
        <data value="{data}"/>
      </Binary>
    </resource>
  </entry>
</Bundle>
"##
        )
    }

    fn found(comparison: &Comparison) -> Vec<(&str, &DifferenceKind)> {
        comparison
            .differences
            .iter()
            .map(|d| (d.path.as_str(), &d.kind))
            .collect()
    }

    #[test]
    fn message_entries_after_the_header_match_in_any_order() {
        // FHIR R4 Bundle: in a message only entry[0] has a fixed place (bdl-12).
        let golden = message(&[&header("ok"), ORGANIZATION, PROVENANCE, &binary(DATA)]);
        let permuted = message(&[&header("ok"), &binary(DATA), PROVENANCE, ORGANIZATION]);
        let comparison = run(&golden, &permuted);
        assert!(comparison.is_match(), "{:#?}", comparison.differences);
        assert_eq!(comparison.diff, "");
    }

    #[test]
    fn the_header_keeps_its_place_as_entry_0() {
        let golden = message(&[&header("ok"), ORGANIZATION, PROVENANCE]);
        let swapped = message(&[ORGANIZATION, &header("ok"), PROVENANCE]);
        assert!(!run(&golden, &swapped).is_match());
    }

    #[test]
    fn entries_of_other_bundles_keep_their_order() {
        let golden = message(&[ORGANIZATION, PROVENANCE]).replace("\"message\"", "\"collection\"");
        let permuted =
            message(&[PROVENANCE, ORGANIZATION]).replace("\"message\"", "\"collection\"");
        assert!(!run(&golden, &permuted).is_match());
    }

    #[test]
    fn a_changed_entry_is_reported_at_its_golden_path_whatever_its_place() {
        let golden = message(&[&header("ok"), ORGANIZATION, PROVENANCE]);
        let actual = message(&[
            &header("ok"),
            PROVENANCE,
            &ORGANIZATION.replace("\"Sender\"", "\"Other\""),
        ]);
        let comparison = run(&golden, &actual);
        assert_eq!(
            comparison.differences,
            vec![Difference {
                path: "entry[1].resource.name".to_owned(),
                kind: DifferenceKind::ValueMismatch,
                expected: Some("\"Sender\"".to_owned()),
                actual: Some("\"Other\"".to_owned()),
            }]
        );
    }

    #[test]
    fn a_missing_entry_and_an_extra_entry_are_found() {
        let golden = message(&[&header("ok"), ORGANIZATION, PROVENANCE]);
        let actual = message(&[&header("ok"), &binary(DATA), PROVENANCE]);
        let comparison = run(&golden, &actual);
        assert_eq!(
            found(&comparison),
            vec![
                ("entry[1]", &DifferenceKind::Missing),
                ("entry[1]", &DifferenceKind::Unexpected),
            ]
        );
        let text: Vec<String> = comparison
            .differences
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(
            text[0].starts_with("`entry[1]`: missing, expected `{"),
            "{text:?}"
        );
        assert!(
            text[1].starts_with("`entry[1]`: not in the golden, found `{"),
            "{text:?}"
        );
        assert!(text[1].contains("\"Binary\""), "{text:?}");
    }

    #[test]
    fn a_changed_response_code_is_found_and_told_in_words() {
        let golden = message(&[&header("ok"), ORGANIZATION, PROVENANCE]);
        let actual = message(&[&header("fatal-error"), PROVENANCE, ORGANIZATION]);
        let comparison = run(&golden, &actual);
        assert_eq!(
            comparison.differences.len(),
            1,
            "{:#?}",
            comparison.differences
        );
        assert_eq!(
            comparison.differences[0].to_string(),
            "`entry[0].resource.response.code`: expected `\"ok\"`, found `\"fatal-error\"`"
        );
    }

    #[test]
    fn entries_with_placeholder_keys_pair_by_type_and_content() {
        // The bundled goldens write `urn:uuid:{{uuid}}` fullUrls and `{{id}}` ids: no key, so
        // entries pair by resource type and then by content.
        let open = |entry: &str, kind: &str, id: &str| {
            entry
                .replace(
                    &format!("https://example.org/fhir/{kind}/{id}"),
                    "urn:uuid:{{uuid}}",
                )
                .replace(&format!("\"id\":\"{id}\""), "\"id\":\"{{id}}\"")
        };
        let second = PROVENANCE
            .replace("Provenance/p1", "Provenance/p2")
            .replace("\"p1\"", "\"p2\"")
            .replace("12:30:00", "12:31:00");
        let golden = message(&[
            &header("ok"),
            &open(PROVENANCE, "Provenance", "p1"),
            &open(&second, "Provenance", "p2"),
            &open(ORGANIZATION, "Organization", "o1"),
        ]);
        let uuid = |entry: &str, kind: &str, id: &str, uuid: &str| {
            entry.replace(
                &format!("https://example.org/fhir/{kind}/{id}"),
                &format!("urn:uuid:{uuid}"),
            )
        };
        let actual = message(&[
            &header("ok"),
            &uuid(
                ORGANIZATION,
                "Organization",
                "o1",
                "0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d",
            ),
            &uuid(
                &second,
                "Provenance",
                "p2",
                "11111111-2222-4333-8444-555555555555",
            ),
            &uuid(
                PROVENANCE,
                "Provenance",
                "p1",
                "7d9e0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
            ),
        ]);
        let comparison = run(&golden, &actual);
        assert!(comparison.is_match(), "{:#?}", comparison.differences);

        // A changed Provenance still pairs with the most similar one and shows its change.
        let changed = actual.replace("12:31:00", "12:32:00");
        let comparison = run(&golden, &changed);
        assert_eq!(
            found(&comparison),
            vec![("entry[2].resource.recorded", &DifferenceKind::ValueMismatch)]
        );
    }

    #[test]
    fn entries_pair_by_a_unique_identifier() {
        let golden = message(&[
            &header("ok"),
            &ORGANIZATION
                .replace("https://example.org/fhir/Organization/o1", "{{any}}")
                .replace("\"id\":\"o1\"", "\"id\":\"{{id}}\""),
            PROVENANCE,
        ]);
        // o2 is closer by content (only its identifier differs), o1 holds the golden's
        // identifier (with a new name and an alias): the identifier decides.
        let o2 = ORGANIZATION
            .replace("Organization/o1", "Organization/o2")
            .replace("\"o1\"", "\"o2\"")
            .replace("123456789012345", "999999999999999");
        let o1 = ORGANIZATION.replace(
            "\"name\":\"Sender\"",
            "\"name\":\"Sender A/S\",\"alias\":[\"S\"]",
        );
        let actual = message(&[&header("ok"), &o2, PROVENANCE, &o1]);
        let comparison = run(&golden, &actual);
        assert_eq!(
            found(&comparison),
            vec![
                ("entry[1].resource.alias", &DifferenceKind::Unexpected),
                ("entry[1].resource.name", &DifferenceKind::ValueMismatch),
                ("entry[1]", &DifferenceKind::Unexpected),
            ]
        );
    }

    #[test]
    fn xml_and_json_forms_of_one_message_are_equal() {
        let json = message(&[&header("ok"), ORGANIZATION, PROVENANCE, &binary(DATA)]);
        let xml = message_xml(DATA);
        let comparison = run(&json, &xml);
        assert!(comparison.is_match(), "{:#?}", comparison.differences);
        let comparison = run(&xml, &json);
        assert!(comparison.is_match(), "{:#?}", comparison.differences);
        assert_eq!(comparison.diff, "");

        // A real difference is still found, at the golden's path in the golden's syntax.
        let changed = json.replace("\"Sender\"", "\"Other\"");
        let comparison = run(&xml, &changed);
        assert_eq!(
            found(&comparison),
            vec![(
                "/Bundle/entry[1]/resource/Organization/name/@value",
                &DifferenceKind::ValueMismatch
            )]
        );
        let comparison = run(&changed, &xml);
        assert_eq!(
            found(&comparison),
            vec![("entry[1].resource.name", &DifferenceKind::ValueMismatch)]
        );
    }

    #[test]
    fn xml_message_entries_match_in_any_order() {
        let xml = message_xml(DATA);
        let blocks: Vec<&str> = xml.split("  <entry>").collect();
        let permuted = format!(
            "{}  <entry>{}  <entry>{}  <entry>{}  <entry>{}",
            blocks[0],
            blocks[1],
            blocks[3],
            blocks[4].replace("</Bundle>\n", ""),
            blocks[2],
        ) + "</Bundle>\n";
        assert_ne!(permuted, xml);
        let comparison = run(&xml, &permuted);
        assert!(comparison.is_match(), "{:#?}", comparison.differences);
        assert_eq!(comparison.diff, "");
    }

    #[test]
    fn wrapped_and_unwrapped_base64_are_equal() {
        // FHIR R4 base64Binary: the value is the decoded bytes; whitespace and line breaks may
        // appear in the lexical form.
        let golden = message(&[&header("ok"), &binary(DATA)]);
        let wrapped = message(&[&header("ok"), &binary(DATA_WRAPPED_JSON)]);
        let comparison = run(&golden, &wrapped);
        assert!(comparison.is_match(), "{:#?}", comparison.differences);
        let comparison = run(&wrapped, &golden);
        assert!(comparison.is_match(), "{:#?}", comparison.differences);

        // In XML, a line break in an attribute is written `&#10;` (a literal one reads as a space).
        let wrapped_xml = message_xml(&DATA_WRAPPED_JSON.replace("\\n", "&#10;"));
        let spaced_xml = message_xml(&DATA_WRAPPED_JSON.replace("\\n", "\n"));
        for xml in [&wrapped_xml, &spaced_xml] {
            let comparison = run(&message_xml(DATA), xml);
            assert!(comparison.is_match(), "{:#?}", comparison.differences);
        }

        // Other bytes still differ.
        let other = DATA.replacen('S', "T", 1);
        let comparison = run(&golden, &message(&[&header("ok"), &binary(&other)]));
        assert_eq!(
            found(&comparison),
            vec![("entry[1].resource.data", &DifferenceKind::ValueMismatch)]
        );
    }

    #[test]
    fn attachment_data_is_base64_but_sampled_data_is_a_string() {
        // Attachment.data is base64Binary; SampledData.data is a string whose spaces separate
        // values (FHIR R4 datatypes), so its whitespace counts.
        let communication = |data: &str| {
            format!(
                r#"{{"resourceType":"Communication","id":"c1","status":"completed","payload":[{{"contentAttachment":{{"contentType":"application/pdf","data":"{data}","title":"a.pdf"}}}}]}}"#
            )
        };
        assert!(run(&communication(DATA), &communication(DATA_WRAPPED_JSON)).is_match());
        let observation = |data: &str| {
            format!(
                r#"{{"resourceType":"Observation","id":"o1","status":"final","code":{{"text":"x"}},"valueSampledData":{{"origin":{{"value":0}},"period":1,"dimensions":1,"data":"{data}"}}}}"#
            )
        };
        assert!(!run(&observation("1 2 3"), &observation("1  2\\n3")).is_match());
    }

    #[test]
    fn a_captured_full_url_is_a_key() {
        let opts = CompareOptions {
            captures: BTreeMap::from([("o".to_owned(), "o1".to_owned())]),
            ..CompareOptions::default()
        };
        let golden = message(&[
            &header("ok"),
            &ORGANIZATION.replace("Organization/o1", "Organization/{{capture:o}}"),
            &ORGANIZATION
                .replace("Organization/o1", "Organization/o2")
                .replace("\"o1\"", "\"o2\""),
        ]);
        let actual = message(&[
            &header("ok"),
            &ORGANIZATION
                .replace("Organization/o1", "Organization/o2")
                .replace("\"o1\"", "\"o2\""),
            ORGANIZATION,
        ]);
        let comparison =
            compare(golden.as_bytes(), actual.as_bytes(), &opts).expect("a comparison");
        assert!(comparison.is_match(), "{:#?}", comparison.differences);
    }

    #[test]
    fn json_that_is_not_fhir_cannot_be_compared_with_an_xml_golden() {
        let error = compare(
            message_xml(DATA).as_bytes(),
            br#"{"resourceType":"Bundle","colour":"blue"}"#,
            &CompareOptions::default(),
        )
        .expect_err("not FHIR");
        assert!(matches!(error, GoldenError::NotFhir { .. }), "{error:?}");
    }
}
