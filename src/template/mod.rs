//! Message templates: handlebars files that produce fresh MedCom messages per send.
//!
//! A template is FHIR JSON (`*.json.hbs`) or FHIR XML (`*.xml.hbs`) with handlebars expressions.
//! Values are escaped for the template's format (JSON string escaping or XML escaping), so a
//! patient name with a quote or an ampersand can never break the message. Raw JSON fragments
//! (carried-over Provenances and Organizations) are written with the triple-stash `{{{json x}}}`.
//!
//! Helpers:
//! - `{{uuid}}` a fresh UUID v4 on every call; `{{now}}` the current instant (UTC, seconds, `Z`);
//! - `{{capture "first.letter-id"}}` a value captured from an earlier step (an unknown capture
//!   is an error naming the capture);
//! - `{{json value}}` the JSON serialization of a context value.
//!
//! The built-in templates (`carecommunication/new`, `…/reply`, `…/forward`,
//! `acknowledgement/ack`, `hospitalnotification/<EVENT>` for STIN, STAA, STOR, SLOR, SLHJ, MORS
//! and their `RE_`/`AN_` revisions and cancellations) are embedded in the binary; a scenario may also name a file of its own.

mod ack;
mod context;

pub use ack::{AckIds, acknowledgement};
pub use context::{AttachmentInput, AttachmentSegment, Context, Ids, Issue, Organization};

use handlebars::{
    Context as HbContext, Handlebars, Helper, HelperResult, JsonRender, Output, RenderContext,
    RenderError, RenderErrorReason,
};
use std::collections::BTreeMap;
use std::path::Path;

use crate::message::Format;

/// The built-in templates: name and source.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "carecommunication/new",
        include_str!("../../templates/carecommunication/new.json.hbs"),
    ),
    (
        "carecommunication/reply",
        include_str!("../../templates/carecommunication/reply.json.hbs"),
    ),
    (
        "carecommunication/forward",
        include_str!("../../templates/carecommunication/forward.json.hbs"),
    ),
    (
        "acknowledgement/ack",
        include_str!("../../templates/acknowledgement/ack.json.hbs"),
    ),
    // HospitalNotification: one template, registered under each event name of a stay
    // (`crate::hospitalnotification::Event`); the event's view is the context's `hn`.
    ("hospitalnotification/STIN", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/STAA", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/STOR", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/SLOR", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/SLHJ", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/MORS", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/RE_STIN", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/RE_STAA", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/RE_STOR", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/RE_SLOR", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/RE_SLHJ", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/RE_MORS", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/AN_STIN", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/AN_STAA", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/AN_STOR", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/AN_SLOR", HOSPITAL_NOTIFICATION),
    ("hospitalnotification/AN_SLHJ", HOSPITAL_NOTIFICATION),
];

/// The HospitalNotification template (every event of a stay).
const HOSPITAL_NOTIFICATION: &str =
    include_str!("../../templates/hospitalnotification/event.json.hbs");

/// Why a template could not produce a message.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The named template is neither built in nor a readable file.
    #[error("unknown template `{name}`; built-in templates are {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The built-in names.
        known: String,
    },
    /// The template file could not be read.
    #[error("failed to read template `{path}`")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Handlebars syntax error.
    #[error("template `{name}` does not parse: {message}")]
    Syntax {
        /// The template.
        name: String,
        /// What handlebars said (with line and column).
        message: String,
    },
    /// Rendering failed (unknown capture, missing helper argument).
    #[error("template `{name}` failed to render: {message}")]
    Render {
        /// The template.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// The rendered text is not a FHIR message.
    #[error("template `{name}` rendered text that is not a FHIR message: {source}")]
    Output {
        /// The template.
        name: String,
        /// The cause.
        #[source]
        source: crate::message::MessageError,
    },
}

/// A set of templates, built-in ones registered up front.
pub struct Templates {
    json: Handlebars<'static>,
    xml: Handlebars<'static>,
    formats: BTreeMap<String, Format>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("names", &self.formats.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Templates {
    /// The built-in templates.
    ///
    /// # Panics
    /// Never in a released build: the built-in templates are parsed by a unit test.
    pub fn builtin() -> Templates {
        let mut t = Templates {
            json: engine(Format::Json),
            xml: engine(Format::Xml),
            formats: BTreeMap::new(),
        };
        // The HospitalNotification template is compiled once and registered under each event
        // name (compiling it is most of the start-up of a run); only its name differs.
        let mut hospital_notification: Option<handlebars::Template> = None;
        for (name, source) in BUILTIN {
            match &hospital_notification {
                Some(compiled) if *source == HOSPITAL_NOTIFICATION => {
                    let mut named = compiled.clone();
                    named.name = Some((*name).to_string());
                    t.json.register_template(name, named);
                    t.formats.insert((*name).to_string(), Format::Json);
                }
                _ => {
                    t.register(name, source, Format::Json)
                        .expect("built-in templates parse (checked by a unit test)");
                    if *source == HOSPITAL_NOTIFICATION {
                        hospital_notification = t.json.get_template(name).cloned();
                    }
                }
            }
        }
        t
    }

    /// Registers a template source under `name`.
    ///
    /// # Errors
    /// [`TemplateError::Syntax`].
    pub fn register(
        &mut self,
        name: &str,
        source: &str,
        format: Format,
    ) -> Result<(), TemplateError> {
        let engine = match format {
            Format::Json => &mut self.json,
            Format::Xml => &mut self.xml,
        };
        engine
            .register_template_string(name, source)
            .map_err(|e| TemplateError::Syntax {
                name: name.to_string(),
                message: e.to_string(),
            })?;
        self.formats.insert(name.to_string(), format);
        Ok(())
    }

    /// Resolves a scenario's `message` value: a built-in name, or a file (`.json`, `.xml`,
    /// optionally with `.hbs`) relative to `base_dir`, registered on first use.
    ///
    /// # Errors
    /// [`TemplateError::Unknown`], [`TemplateError::Read`], [`TemplateError::Syntax`].
    pub fn resolve(&mut self, name: &str, base_dir: &Path) -> Result<String, TemplateError> {
        if self.formats.contains_key(name) {
            return Ok(name.to_string());
        }
        let path = base_dir.join(name);
        let stem = name.strip_suffix(".hbs").unwrap_or(name);
        let format = if stem.ends_with(".json") {
            Format::Json
        } else if stem.ends_with(".xml") {
            Format::Xml
        } else {
            return Err(TemplateError::Unknown {
                name: name.to_string(),
                known: BUILTIN
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let key = path.display().to_string();
        if !self.formats.contains_key(&key) {
            let source = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                path: key.clone(),
                source,
            })?;
            self.register(&key, &source, format)?;
        }
        Ok(key)
    }

    /// Renders template `name` (as returned by [`Templates::resolve`] or a built-in name) and
    /// returns the text and the template's own format.
    ///
    /// # Errors
    /// [`TemplateError::Render`].
    pub fn render(&self, name: &str, context: &Context) -> Result<(String, Format), TemplateError> {
        let format = *self
            .formats
            .get(name)
            .ok_or_else(|| TemplateError::Unknown {
                name: name.to_string(),
                known: BUILTIN
                    .iter()
                    .map(|(n, _)| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let engine = match format {
            Format::Json => &self.json,
            Format::Xml => &self.xml,
        };
        // The context's JSON is handed over as handlebars' own context: `render` would
        // serialize it into a second copy of itself first.
        let text = engine
            .render_with_context(name, &HbContext::from(context.to_json()))
            .map_err(|e| TemplateError::Render {
                name: name.to_string(),
                message: render_error_text(&e),
            })?;
        Ok((text, format))
    }

    /// Renders template `name` and returns the resource as FHIR JSON.
    ///
    /// # Errors
    /// [`TemplateError::Render`], [`TemplateError::Output`].
    pub fn render_resource(
        &self,
        name: &str,
        context: &Context,
    ) -> Result<serde_json::Value, TemplateError> {
        let (text, format) = self.render(name, context)?;
        // Only the resource: the sent message's identity is read from its encoded bytes.
        crate::message::Message::parse_resource(text.as_bytes(), Some(format)).map_err(|source| {
            TemplateError::Output {
                name: name.to_string(),
                source,
            }
        })
    }
}

fn render_error_text(e: &RenderError) -> String {
    let mut text = e.to_string();
    if let Some(source) = std::error::Error::source(e) {
        text.push_str(&format!(": {source}"));
    }
    text
}

fn engine(format: Format) -> Handlebars<'static> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.set_prevent_indent(true);
    match format {
        Format::Json => h.register_escape_fn(escape_json),
        Format::Xml => h.register_escape_fn(handlebars::html_escape),
    }
    h.register_helper("uuid", Box::new(uuid_helper));
    h.register_helper("now", Box::new(now_helper));
    h.register_helper("capture", Box::new(capture_helper));
    h.register_helper("json", Box::new(json_helper));
    h
}

/// Escapes text for the inside of a JSON string literal.
pub fn escape_json(text: &str) -> String {
    // Most values (ids, instants, references) have nothing to escape: RFC 8259 §7 escapes only
    // `"`, `\\` and the control characters U+0000-U+001F.
    if !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        return text.to_string();
    }
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

fn uuid_helper(
    _: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &HbContext,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&uuid::Uuid::new_v4().to_string())?;
    Ok(())
}

pub use crate::message::now_instant;

fn now_helper(
    _: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &HbContext,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&now_instant())?;
    Ok(())
}

fn capture_helper(
    h: &Helper<'_>,
    hb: &Handlebars<'_>,
    ctx: &HbContext,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let name = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("capture", 0))?;
    let value = ctx
        .data()
        .get("captures")
        .and_then(|c| c.get(name))
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| {
            RenderErrorReason::Other(format!(
                "no capture named `{name}` (captured so far: {})",
                ctx.data()
                    .get("captures")
                    .and_then(|c| c.as_object())
                    .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            ))
        })?;
    out.write(&hb.get_escape_fn()(value))?;
    Ok(())
}

fn json_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &HbContext,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let value = h
        .param(0)
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("json", 0))?;
    let text = serde_json::to_string(value.value()).unwrap_or_else(|_| value.value().render());
    out.write(&text)?;
    Ok(())
}

/// A new CareCommunication from the built-in template, from `5790000000029` to `5790000000012`
/// (valid GS1 check digits), for unit tests that need any well-formed message.
#[cfg(test)]
pub(crate) fn sample_message() -> crate::message::Message {
    let org = |ean: &str, sor: &str| Organization {
        ean: ean.into(),
        sor_id: sor.into(),
        name: "Test".into(),
    };
    let ctx = Context::new_message(
        "https://test.example/fhir/",
        org("5790000000029", "999981000016002"),
        org("5790000000012", "999991000016001"),
    );
    let v = Templates::builtin()
        .render_resource("carecommunication/new", &ctx)
        .expect("renders");
    crate::message::Message::encode(&v, crate::message::Format::Json).expect("encodes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping_keeps_quotes_and_newlines_inside_the_string() {
        assert_eq!(escape_json("a\"b\nc\\"), "a\\\"b\\nc\\\\");
    }

    /// RFC 8259 §7: inside a string `"`, `\\` and U+0000-U+001F must be escaped and nothing
    /// else needs to be; what is written reads back (by serde_json's parser) as the text itself.
    #[test]
    fn json_escaping_reads_back_as_the_same_text_for_every_ascii_character_and_beyond() {
        let mut texts: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
        texts.extend(
            [
                "æøå €",
                "plain id 1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                "\u{7f}\u{2028}",
            ]
            .map(String::from),
        );
        for text in texts {
            let escaped = escape_json(&text);
            let read: String =
                serde_json::from_str(&format!("\"{escaped}\"")).expect("a JSON string literal");
            assert_eq!(read, text, "{escaped}");
            let must = text
                .chars()
                .any(|c| c == '"' || c == '\\' || u32::from(c) < 0x20);
            assert_eq!(escaped != text, must, "{text:?} -> {escaped}");
        }
    }

    /// The HospitalNotification template, compiled once and registered under every event
    /// name, is what handlebars compiles from the source under that name.
    #[test]
    fn each_hospital_notification_name_holds_the_template_compiled_under_that_name() {
        let t = Templates::builtin();
        let mut fresh = engine(Format::Json);
        for (name, source) in BUILTIN {
            fresh
                .register_template_string(name, source)
                .expect("built-in templates parse");
            assert_eq!(
                t.json.get_template(name),
                fresh.get_template(name),
                "{name}"
            );
        }
    }

    /// Rendering from the context's JSON as handlebars' own context writes the bytes that
    /// handlebars' plain `render` of the same data writes.
    #[test]
    fn a_rendered_message_is_what_plain_handlebars_renders_from_the_same_context() {
        let org = |ean: &str| Organization {
            ean: ean.into(),
            sor_id: "999981000016002".into(),
            name: "Æble & \"Pære\"".into(),
        };
        let mut ctx = Context::new_message(
            "https://test.example/fhir/",
            org("5790000000029"),
            org("5790000000012"),
        );
        ctx.text = "Linje 1\nLinje 2 \"citat\" \\ <b>".into();
        let t = Templates::builtin();
        let name = "carecommunication/new";
        let (ours, _) = t.render(name, &ctx).expect("renders");
        let plain = t.json.render(name, &ctx.to_json()).expect("renders");
        assert_eq!(ours, plain);
    }

    #[test]
    fn builtin_templates_parse() {
        let t = Templates::builtin();
        assert_eq!(t.formats.len(), BUILTIN.len());
    }
}
