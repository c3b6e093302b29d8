//! MedCom FHIR messages: bytes, format, parsed resource and the identity the harness correlates on.
//!
//! A message is a FHIR R4 `Bundle` of `type = message` whose first entry is the `MessageHeader`
//! (FHIR `bdl-12`, MedCom `medcom-messaging-1`). It travels as `application/fhir+json` or
//! `application/fhir+xml`; XML is converted to FHIR JSON by [`crate::fhir`] so that every check
//! reads one shape. The original bytes are kept untouched as evidence.

pub mod attachment;
mod bundle;
mod code;
mod identity;
mod json;

pub use attachment::{Attachment, AttachmentData};
pub use bundle::{Resolution, entries, resolve, resolve_how, resources_of_type};
pub use code::{AckCode, AckCodes, Activity, V2Code};
pub use identity::{Entity, Identity, Party, ProvenanceInfo, Response, reference_names};
pub(crate) use json::pointer;

use serde_json::Value;

/// The two FHIR encodings MedCom receivers must accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `application/fhir+json`
    Json,
    /// `application/fhir+xml`
    Xml,
}

impl Format {
    /// The media type to send it with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/fhir+json",
            Format::Xml => "application/fhir+xml",
        }
    }

    /// The file extension for evidence files.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    /// The format named by a `Content-Type` header value (parameters such as `charset` and case
    /// are ignored, as FHIR R4 HTTP says); `None` for other media types.
    pub fn from_content_type(value: &str) -> Option<Format> {
        let essence = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/fhir+json" | "application/json" | "application/json+fhir" => {
                Some(Format::Json)
            }
            "application/fhir+xml" | "application/xml" | "text/xml" | "application/xml+fhir" => {
                Some(Format::Xml)
            }
            _ => None,
        }
    }

    /// Guesses the format from the first byte that is not white space or a byte-order mark.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Some(Format::Json),
            Some(b'<') => Some(Format::Xml),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Xml => "XML",
        })
    }
}

/// Why bytes could not be read as a FHIR message.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Neither JSON nor XML.
    #[error("the body is neither FHIR JSON nor FHIR XML: {start}")]
    UnknownFormat {
        /// What it is instead, with its first bytes for the reader.
        start: String,
    },
    /// JSON syntax error.
    #[error("invalid FHIR JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What serde_json said.
        message: String,
    },
    /// XML that is not FHIR XML.
    #[error("invalid FHIR XML: {0}")]
    Xml(#[from] crate::fhir::XmlError),
    /// Parsed, but not a message Bundle.
    #[error("not a FHIR message: {0}")]
    NotAMessage(String),
}

/// A FHIR message as received or sent: the exact bytes, their format, the parsed resource (FHIR
/// JSON shape, whatever the wire format) and the identity extracted from it.
#[derive(Debug, Clone)]
pub struct Message {
    /// The bytes exactly as they travelled.
    pub bytes: Vec<u8>,
    /// The wire format.
    pub format: Format,
    /// The resource as FHIR JSON.
    pub resource: Value,
    /// What the harness correlates on.
    pub identity: Identity,
}

impl Message {
    /// Parses `bytes`. `hint` (from a `Content-Type`) wins over sniffing when the body agrees.
    ///
    /// # Errors
    /// [`MessageError`] when the body is not FHIR JSON/XML or not a Bundle of type `message` with
    /// a MessageHeader first.
    pub fn parse(bytes: Vec<u8>, hint: Option<Format>) -> Result<Message, MessageError> {
        let (format, resource) = Message::read(&bytes, hint)?;
        Message::from_resource(bytes, format, resource)
    }

    /// The resource of a message in `bytes`, checked as [`Message::parse`] checks it, without
    /// the [`Identity`] (a rendered template's text is re-encoded before it is sent, and the
    /// identity is read from that).
    ///
    /// # Errors
    /// As [`Message::parse`].
    pub fn parse_resource(bytes: &[u8], hint: Option<Format>) -> Result<Value, MessageError> {
        let (_, resource) = Message::read(bytes, hint)?;
        check_message_bundle(&resource)?;
        Ok(resource)
    }

    /// The format of `bytes` and their resource as FHIR JSON.
    fn read(bytes: &[u8], hint: Option<Format>) -> Result<(Format, Value), MessageError> {
        let format = match (Format::sniff(bytes), hint) {
            (Some(sniffed), _) => sniffed,
            (None, _) => {
                let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
                let start = match first {
                    None => "it is empty".to_string(),
                    // A FHIR JSON resource is an object; a JSON array is a common mistake.
                    Some(b'[') => {
                        "it is a JSON array; a FHIR resource is a JSON object `{…}`".to_string()
                    }
                    Some(_) => {
                        // Text is shown (control characters as `·`); binary is not echoed.
                        let head = body[..body.len().min(40)].trim_ascii_end();
                        let text = match std::str::from_utf8(head) {
                            Ok(t) => Some(t),
                            // A character cut off at the 40-byte mark is still text.
                            Err(e) if e.error_len().is_none() => {
                                std::str::from_utf8(&head[..e.valid_up_to()]).ok()
                            }
                            Err(_) => None,
                        };
                        match text {
                            Some(t) if !t.chars().any(|c| c == '\0') => format!(
                                "it starts with `{}`",
                                t.chars()
                                    .map(|c| if c.is_control() { '·' } else { c })
                                    .collect::<String>()
                            ),
                            _ => "it is binary, not text".to_string(),
                        }
                    }
                };
                return Err(MessageError::UnknownFormat { start });
            }
        };
        let resource = match format {
            Format::Json => {
                let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                json::from_slice_strict(body).map_err(|e| {
                    // serde_json ends its text with the position, which the variant states.
                    let text = e.to_string();
                    let message = text
                        .rsplit_once(" at line ")
                        .map_or(text.as_str(), |(m, _)| m)
                        .to_string();
                    MessageError::Json {
                        line: e.line(),
                        column: e.column(),
                        message,
                    }
                })?
            }
            Format::Xml => crate::fhir::xml_to_json(bytes)?,
        };
        Ok((format, resource))
    }

    /// Wraps an already parsed resource with its bytes.
    ///
    /// # Errors
    /// [`MessageError::NotAMessage`] when it is not a message Bundle.
    pub fn from_resource(
        bytes: Vec<u8>,
        format: Format,
        resource: Value,
    ) -> Result<Message, MessageError> {
        check_message_bundle(&resource)?;
        let identity = Identity::extract(&resource);
        Ok(Message {
            bytes,
            format,
            resource,
            identity,
        })
    }

    /// Serializes `resource` in `format` and parses the result, so the bytes and the resource
    /// always agree.
    ///
    /// # Errors
    /// As [`Message::parse`], and when FHIR XML cannot be written for the resource.
    pub fn encode(resource: &Value, format: Format) -> Result<Message, MessageError> {
        let bytes = match format {
            Format::Json => {
                serde_json::to_vec_pretty(resource).map_err(|e| MessageError::Json {
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                })?
            }
            Format::Xml => crate::fhir::json_to_xml(resource)?.into_bytes(),
        };
        Message::from_resource(bytes, format, resource.clone())
    }

    /// As [`Message::encode`], keeping `resource` instead of a copy of it (a message with a big
    /// attachment is not held twice).
    ///
    /// # Errors
    /// As [`Message::encode`].
    pub fn encode_owned(resource: Value, format: Format) -> Result<Message, MessageError> {
        let bytes = match format {
            Format::Json => {
                // Written into a buffer big enough from the start: growing one by doubling
                // copies it, and with a 100 MB attachment the copy was the run's peak memory.
                let mut bytes = Vec::with_capacity(pretty_json_size_bound(&resource, 0));
                serde_json::to_writer_pretty(&mut bytes, &resource).map_err(|e| {
                    MessageError::Json {
                        line: 0,
                        column: 0,
                        message: e.to_string(),
                    }
                })?;
                bytes
            }
            Format::Xml => crate::fhir::json_to_xml(&resource)?.into_bytes(),
        };
        Message::from_resource(bytes, format, resource)
    }

    /// The same letter sent again (KR7, MR8): a new envelope (`Bundle.id`) and `Bundle.timestamp`,
    /// the same `MessageHeader.id` and content. A receiver answers it with the first copy's
    /// acknowledgement.
    ///
    /// # Errors
    /// As [`Message::encode`].
    pub fn resend(&self) -> Result<Message, MessageError> {
        let mut resource = self.resource.clone();
        resource["id"] = Value::String(uuid::Uuid::new_v4().to_string());
        resource["timestamp"] = Value::String(now_instant());
        Message::encode(&resource, self.format)
    }

    /// The very same envelope sent again (a response that was lost): the same `Bundle.id` and
    /// `MessageHeader.id`, a new `Bundle.timestamp`.
    ///
    /// # Errors
    /// As [`Message::encode`].
    pub fn repeat(&self) -> Result<Message, MessageError> {
        let mut resource = self.resource.clone();
        resource["timestamp"] = Value::String(now_instant());
        Message::encode(&resource, self.format)
    }

    /// Whether this is an acknowledgement (event `acknowledgement-message`).
    pub fn is_acknowledgement(&self) -> bool {
        self.identity.event.as_deref() == Some("acknowledgement-message")
    }

    /// The MessageHeader resource.
    pub fn header(&self) -> &Value {
        json::pointer(&self.resource, "/entry/0/resource").unwrap_or(&Value::Null)
    }

    /// A short label for reports: event, activity and letter id.
    pub fn label(&self) -> String {
        let id = &self.identity;
        let what = if let Some(r) = &id.response {
            format!("acknowledgement `{}`", r.code.as_deref().unwrap_or("?"))
        } else {
            format!(
                "{} {}",
                id.event.as_deref().unwrap_or("message"),
                id.activity().unwrap_or("")
            )
            .trim_end()
            .to_string()
        };
        format!(
            "{what} (MessageHeader.id `{}`)",
            id.letter_id.as_deref().unwrap_or("?")
        )
    }
}

/// [`MessageError::NotAMessage`] unless `resource` is a Bundle of type `message` with a
/// MessageHeader first (FHIR `bdl-12`, MedCom `medcom-messaging-1`).
fn check_message_bundle(resource: &Value) -> Result<(), MessageError> {
    if resource.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return Err(MessageError::NotAMessage(format!(
            "resourceType is {}, not `Bundle`",
            resource.get("resourceType").map_or_else(
                || "missing".to_string(),
                |v| format!("`{}`", v.as_str().unwrap_or("?"))
            )
        )));
    }
    if resource.get("type").and_then(Value::as_str) != Some("message") {
        return Err(MessageError::NotAMessage(
            "Bundle.type is not `message`".to_string(),
        ));
    }
    let first = json::pointer(resource, "/entry/0/resource/resourceType").and_then(Value::as_str);
    if first != Some("MessageHeader") {
        return Err(MessageError::NotAMessage(
            "entry[0] is not a MessageHeader (bdl-12, medcom-messaging-1)".to_string(),
        ));
    }
    Ok(())
}

/// The current instant as a FHIR instant: UTC, whole seconds, `Z`.
pub fn now_instant() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    now.format(&format)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// An upper bound of the size of `value` pretty-printed by `serde_json` (two spaces an
/// indentation level) at nesting `depth`; a string with anything to escape is counted as if every
/// byte took six (`\uXXXX`). Unused capacity costs address space, not memory.
fn pretty_json_size_bound(value: &Value, depth: usize) -> usize {
    fn string(s: &str) -> usize {
        // Every byte is looked at (no early exit), which the compiler does 32 at a time.
        let escaped = s.bytes().fold(false, |e, b| {
            e | (b < 0x20) | (b == b'"') | (b == b'\\') | (b >= 0x7f)
        });
        2 + if escaped { s.len() * 6 } else { s.len() }
    }
    let line = 2 * depth + 2;
    match value {
        Value::Null | Value::Bool(_) => 5,
        // serde_json writes an integer in at most 20 characters (`-9223372036854775808`,
        // `18446744073709551615`) and a finite f64 by `ryu` in at most 24 (its buffer's size);
        // a Value holds no other number. Counting, not printing, allocates nothing.
        Value::Number(n) if n.is_f64() => 24,
        Value::Number(_) => 20,
        Value::String(s) => string(s),
        Value::Array(items) => {
            4 + line
                + items
                    .iter()
                    .map(|v| line + 1 + pretty_json_size_bound(v, depth + 1))
                    .sum::<usize>()
        }
        Value::Object(members) => {
            4 + line
                + members
                    .iter()
                    .map(|(k, v)| line + 3 + string(k) + pretty_json_size_bound(v, depth + 1))
                    .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod size_bound_tests {
    use super::*;

    /// The longest numbers serde_json writes: i64/u64 extremes and `ryu`'s longest f64 forms
    /// (17 significant digits with a 3-digit negative exponent and a sign).
    #[test]
    fn the_size_bound_covers_the_longest_numbers() {
        let numbers = serde_json::json!([
            i64::MIN,
            u64::MAX,
            -1.234_567_890_123_456_7e-308,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::MIN,
            -0.000_123_456_789_012_345_67,
            0.1
        ]);
        for n in numbers.as_array().expect("array") {
            let printed = serde_json::to_string(n).expect("prints");
            assert!(
                pretty_json_size_bound(n, 0) >= printed.len(),
                "{printed} is longer than the bound"
            );
        }
    }

    #[test]
    fn the_size_bound_is_never_below_serde_jsons_pretty_output() {
        let deep = serde_json::json!({
            "resourceType": "Bundle",
            "entry": [{"resource": {"a": [[[1, 2.5, -3]], {"b": {"c": [null, true, false]}}]}}],
            "text": "line\nbreak \"quoted\" back\\slash tab\t æøå € \u{1}",
            "empty": {}, "none": [], "k\"ey": "v",
        });
        for value in [
            deep,
            serde_json::json!([]),
            serde_json::json!("x"),
            serde_json::json!(1),
        ] {
            let printed = serde_json::to_vec_pretty(&value).expect("prints");
            assert!(
                pretty_json_size_bound(&value, 0) >= printed.len(),
                "{} < {} for {value}",
                pretty_json_size_bound(&value, 0),
                printed.len()
            );
        }
    }
}
