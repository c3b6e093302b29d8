//! Rules of FHIR's own representation that a parsed message no longer shows: the character
//! encoding of FHIR XML (`fhir-xml-utf8`) and the narrative `div` of a JSON message
//! (`fhir-narrative`).
//!
//! FHIR R4 requires UTF-8 for FHIR instances (http.html, "UTF-8 encoding SHALL be used for FHIR
//! instances"): the XML reader decodes an ISO-8859-1 message by its declaration so that the
//! rest of it can be judged, and this module says that the encoding itself is a breach. The
//! narrative of an XML message is checked while it is read (a `div` outside the XHTML namespace
//! makes the message unreadable, `well-formed`); a JSON message carries it as a string, which is
//! checked here with the same rules ([`crate::fhir::check_div`]).

use serde_json::Value;

use crate::finding::Finding;
use crate::message::{Format, Message};
use crate::rule;

/// `fhir-xml-utf8`: a breach when `message` is FHIR XML in another encoding than UTF-8 (a UTF-16
/// byte order mark, or an XML declaration naming another encoding); nothing for JSON or UTF-8.
pub fn xml_encoding(message: &Message) -> Option<Finding> {
    if message.format != Format::Xml {
        return None;
    }
    let bytes = &message.bytes;
    let found = if crate::encoding::looks_like_utf16(bytes) {
        Some("UTF-16".to_string())
    } else {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        crate::encoding::declared_encoding(body).filter(|label| {
            !matches!(
                label.to_ascii_lowercase().as_str(),
                "utf-8" | "utf8" | "unicode-1-1-utf-8"
            )
        })
    }?;
    Some(
        rule::FHIR_XML_UTF8
            .breach(format!(
                "the FHIR XML message is encoded in `{found}`; FHIR XML is UTF-8"
            ))
            .at("XML declaration"),
    )
}

/// `fhir-narrative`: every narrative `text.div` of a FHIR JSON message that is not one
/// well-formed XHTML `div` in the XHTML namespace, each with its location
/// (`Bundle.entry[i].resource.text.div`, contained resources and nested narratives included).
pub fn narratives(message: &Message) -> Vec<Finding> {
    if message.format != Format::Json {
        return Vec::new();
    }
    let mut out = Vec::new();
    walk(&message.resource, &Path::Root("Bundle"), &mut out);
    out
}

/// Where [`walk`] is in the resource, as a chain to the root: written out as a FHIRPath-like
/// location (`Bundle.entry[1].resource.text`) only for a breach, so a valid message (what
/// `serve` answers thousands of a second) costs no string per node.
enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Root(name) => f.write_str(name),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn walk(value: &Value, path: &Path<'_>, out: &mut Vec<Finding>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = Path::Key(path, key);
                if key == "text"
                    && let Some(div) = child.get("div")
                {
                    let problem = match div.as_str() {
                        Some(text) => crate::fhir::check_div(text).err(),
                        None => Some("the narrative div is not a JSON string".to_string()),
                    };
                    if let Some(problem) = problem {
                        out.push(
                            rule::FHIR_NARRATIVE
                                .breach(problem)
                                .at(format!("{here}.div")),
                        );
                    }
                }
                walk(child, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &Path::Index(path, i), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Grade;

    /// A minimal message Bundle with one Patient whose narrative is `div` (a JSON value).
    fn json_message(div: Value) -> Message {
        let resource = serde_json::json!({
            "resourceType": "Bundle",
            "id": "b1",
            "type": "message",
            "entry": [
                {"fullUrl": "urn:uuid:9b4c3a4e-6a53-4b3f-9f5e-1c0e7a0c2d11",
                 "resource": {"resourceType": "MessageHeader", "id": "h1",
                              "eventCoding": {"code": "care-communication-message"}}},
                {"fullUrl": "urn:uuid:0d8f6f2a-3c5e-4a8b-8f7e-2b9c1d3e4f50",
                 "resource": {"resourceType": "Patient", "id": "p1",
                              "text": {"status": "generated", "div": div}}}
            ]
        });
        Message::encode(&resource, Format::Json).expect("message")
    }

    #[test]
    fn json_narrative_in_the_xhtml_namespace_passes() {
        // FHIR R4 narrative.html: the div is XHTML in namespace http://www.w3.org/1999/xhtml.
        let m = json_message(Value::String(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Tove</p></div>".into(),
        ));
        assert!(narratives(&m).is_empty());
    }

    #[test]
    fn json_narrative_without_the_xhtml_namespace_is_f2() {
        let m = json_message(Value::String("<div><p>Tove</p></div>".into()));
        let found = narratives(&m);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "fhir-narrative");
        assert_eq!(found[0].grade, Grade::F2);
        assert_eq!(
            found[0].location.as_deref(),
            Some("Bundle.entry[1].resource.text.div")
        );
        assert!(
            found[0].message.contains("http://www.w3.org/1999/xhtml"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn json_narrative_that_is_not_well_formed_is_f2() {
        // FHIR R4 json.html: the XHTML is a string holding a well-formed div element.
        let m = json_message(Value::String(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Tove</div>".into(),
        ));
        let found = narratives(&m);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("well-formed"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn xml_narrative_outside_the_xhtml_namespace_is_not_read_as_fhir() {
        // In XML the div must be an element of namespace http://www.w3.org/1999/xhtml; without
        // it the narrative is FHIR-namespace content, which is not FHIR XML.
        let xml = br#"<Bundle xmlns="http://hl7.org/fhir"><id value="b1"/><type value="message"/><entry><fullUrl value="urn:uuid:9b4c3a4e-6a53-4b3f-9f5e-1c0e7a0c2d11"/><resource><MessageHeader><id value="h1"/><text><status value="generated"/><div><p>x</p></div></text><eventCoding><code value="care-communication-message"/></eventCoding></MessageHeader></resource></entry></Bundle>"#;
        let e = Message::parse(xml.to_vec(), None).expect_err("not FHIR XML");
        assert!(
            e.to_string().contains("http://www.w3.org/1999/xhtml"),
            "{e}"
        );
    }

    /// A FHIR XML message: MedCom's CareCommunication template rendered as XML, with its
    /// declaration replaced by `declaration` and its bytes encoded by `latin1`.
    fn xml_message(declaration: &str, latin1: bool) -> Message {
        let json = json_message(Value::String(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Søren Ærø</p></div>".into(),
        ));
        let text = crate::fhir::json_to_xml(&json.resource).expect("xml");
        let body = text
            .split_once("?>")
            .map_or(text.as_str(), |(_, rest)| rest)
            .to_string();
        let text = format!("{declaration}{body}");
        let bytes: Vec<u8> = if latin1 {
            text.chars()
                .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
                .collect()
        } else {
            text.into_bytes()
        };
        Message::parse(bytes, None).expect("readable")
    }

    #[test]
    fn xml_declared_iso_8859_1_is_f2() {
        // FHIR R4 http.html: "UTF-8 encoding SHALL be used for FHIR instances".
        let m = xml_message("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", true);
        let f = xml_encoding(&m).expect("a finding");
        assert_eq!(f.rule, "fhir-xml-utf8");
        assert_eq!(f.grade, Grade::F2);
        assert!(f.message.contains("ISO-8859-1"), "{}", f.message);
    }

    #[test]
    fn xml_in_utf8_or_without_declaration_passes() {
        let declared = xml_message("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", false);
        assert!(xml_encoding(&declared).is_none());
        let bare = xml_message("", false);
        assert!(xml_encoding(&bare).is_none());
    }
}
