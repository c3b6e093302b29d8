//! FHIR R4 (4.0.1) XML <-> JSON conversion, driven by the R4 type model in
//! [`super::model`].
//!
//! [`xml_to_json`] reads FHIR XML into the FHIR JSON form (`serde_json::Value`);
//! [`json_to_xml`] writes FHIR JSON as FHIR XML. The rules, from the FHIR R4 XML and
//! JSON format pages:
//!
//! - **Namespaces.** Reading is namespace-aware (quick-xml `NsReader`). Every FHIR
//!   element must be in `http://hl7.org/fhir`, whatever prefix is used
//!   (`<f:Bundle xmlns:f="http://hl7.org/fhir">` is fine); a missing or different
//!   namespace is an error. `xmlns` declarations and `xsi:schemaLocation` /
//!   `xsi:noNamespaceSchemaLocation` are accepted on resource elements. Output uses
//!   the default namespace on the root only.
//! - **Encoding.** The input's encoding comes from its BOM or XML declaration: UTF-8
//!   (any case, with or without BOM), UTF-16 (BOM), ISO-8859-1/Latin-1 (decoded
//!   exactly, byte = code point), US-ASCII, and any other ASCII-compatible label
//!   `encoding_rs` knows (e.g. windows-1252), decoded by [`crate::encoding`], the
//!   harness's one XML decoding path. Bytes invalid in the declared encoding
//!   are an error. Output is always UTF-8 with an XML declaration.
//! - **Primitives.** `<x value="..."/>` becomes `"x": value` typed by the model:
//!   `boolean` -> JSON boolean, `integer`/`positiveInt`/`unsignedInt` -> JSON integer,
//!   `decimal` -> JSON number (parsed from its text exactly as a JSON parser would
//!   parse the same digits), everything else a string. Attribute values are
//!   normalized as XML requires (a literal line break or tab becomes a space;
//!   `&#10;` is a line break). The `id` attribute and `extension` children of a
//!   primitive go to `_x` (`{"id": .., "extension": [..]}`); for a repeating
//!   primitive `x` and `_x` are arrays of equal length with `null` fillers, and an
//!   array that would hold only `null`s is left out.
//! - **Arrays by cardinality.** An element whose maximum cardinality is not 1 is
//!   always a JSON array, even with one item; any other element never is.
//! - **Choice elements** (`value[x]`) carry their type in the name (`valueString`,
//!   `valueCodeableConcept`), both in XML and JSON.
//! - **Resources.** The XML element name is the resource type; in JSON it is
//!   `resourceType`. Elements of type `Resource` (`Bundle.entry.resource`,
//!   `DomainResource.contained`, `Parameters.parameter.resource`,
//!   `Bundle.entry.response.outcome`) wrap exactly one resource in XML.
//!   `Resource.id` is an element (`<id value=".."/>`); the `id` of any other element
//!   and `Extension.url` are XML attributes.
//! - **Narrative.** `div` must be an XHTML `div` (namespace
//!   `http://www.w3.org/1999/xhtml`); its JSON value is the XHTML text of that
//!   subtree exactly as it appears in the XML, including its `xmlns` declaration
//!   and its line ends (a CRLF stays CRLF, so JSON narratives holding `\r\n`
//!   survive JSON -> XML -> JSON). A `div` written with a prefix
//!   or relying on an inherited namespace declaration is re-serialized with local
//!   names and its own `xmlns`. On output the string is validated (well-formed,
//!   XHTML `div` root) and written as it is.
//! - **Order.** FHIR XML is ordered: elements must appear in the model's element
//!   order, and repeats of one element must be adjacent. On output the model's order
//!   is used. JSON key order is irrelevant.
//! - **Closed world.** Unknown elements, unknown attributes, unknown JSON properties,
//!   non-whitespace text (outside `div`), a non-repeating element appearing twice,
//!   and two types of one choice element are errors. Extensions are the only open
//!   part of FHIR (`extension` / `modifierExtension`).
//! - **Hostile XML.** A DOCTYPE (and so any entity declaration) is rejected, no
//!   entity is ever expanded (only the five XML entities and character references
//!   are understood), nesting is limited to 256 levels, and XML that is not
//!   well-formed or is truncated is an error, never a shorter resource.
//!
//! Errors ([`XmlError`]) carry a 1-based line and column (counted in characters) of
//! the XML input where one is known, and a lowercase message, e.g.
//! `line 12, column 5: unknown element `foo` in `MessageHeader``. Errors about JSON
//! input carry a FHIRPath-like location instead (`Bundle.entry[0].resource`).
//!
//! Known limitation: `serde_json::Value` (without its `arbitrary_precision`
//! feature) stores a decimal as `f64`, so trailing zeros (`1.50`) and digits beyond
//! double precision are not kept; `1.0` and `1` do stay distinct.

use std::borrow::Cow;
use std::fmt::Write as _;

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::escape::EscapeError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, PrefixDeclaration, ResolveResult};
use serde_json::{Map, Number, Value};

use super::model::{self, ElementDef, JsonKind, Kind, Model, TypeDef};

/// The FHIR namespace, required on every FHIR element.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The XHTML namespace, required on the narrative `div`.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";
/// The XML Schema instance namespace (`xsi:schemaLocation`).
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Deepest element nesting accepted (hostile-input guard).
const MAX_DEPTH: usize = 256;

/// Why a conversion failed.
///
/// `line` and `column` are 1-based positions in the XML input (columns count
/// characters); messages are lowercase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlError {
    /// The XML is not well-formed: syntax errors, mismatched or missing end tags,
    /// truncated input, bad character references, duplicate attributes.
    #[error("line {line}, column {column}: {message}")]
    Malformed {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Constructs refused on principle: a DOCTYPE / entity declaration, or a
    /// reference to an entity other than the five predefined XML entities.
    #[error("line {line}, column {column}: {message}")]
    Forbidden {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is refused.
        message: String,
    },
    /// The declared encoding is unknown or unsupported, or the bytes are not
    /// valid in it.
    #[error("line {line}, column {column}: {message}")]
    Encoding {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Well-formed XML that is not FHIR R4 XML: wrong or missing namespace,
    /// unknown element or attribute, text content, repeats, order, a primitive
    /// value of the wrong form.
    #[error("line {line}, column {column}: {message}")]
    Fhir {
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// JSON given to [`json_to_xml`] that does not follow the FHIR JSON rules.
    #[error("{path}: {message}")]
    Json {
        /// Where, e.g. `Bundle.entry[0].resource.MessageHeader.eventCoding`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The embedded R4 model could not be loaded (a build defect, not an input
    /// problem).
    #[error("fhir r4 model: {0}")]
    Model(String),
}

impl XmlError {
    /// The 1-based line in the XML input, if the error has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Malformed { line, .. }
            | Self::Forbidden { line, .. }
            | Self::Encoding { line, .. }
            | Self::Fhir { line, .. } => Some(*line),
            Self::Json { .. } | Self::Model(_) => None,
        }
    }

    /// The 1-based column (in characters) in the XML input, if the error has one.
    pub fn column(&self) -> Option<usize> {
        match self {
            Self::Malformed { column, .. }
            | Self::Forbidden { column, .. }
            | Self::Encoding { column, .. }
            | Self::Fhir { column, .. } => Some(*column),
            Self::Json { .. } | Self::Model(_) => None,
        }
    }
}

fn r4() -> Result<&'static Model, XmlError> {
    model::r4().map_err(XmlError::Model)
}

// ---------------------------------------------------------------------------
// XML -> JSON
// ---------------------------------------------------------------------------

/// Parse a FHIR XML resource (any resource, typically a Bundle) into FHIR JSON,
/// following the FHIR R4 XML and JSON rules (see the module documentation).
///
/// The encoding is taken from the BOM or the XML declaration. Any departure from
/// FHIR XML (not well-formed, truncated, DOCTYPE, wrong namespace, unknown element,
/// text content, wrong order or repeats) is an [`XmlError`] with its position.
pub fn xml_to_json(bytes: &[u8]) -> Result<Value, XmlError> {
    let model = r4()?;
    let text = decode(bytes)?;
    let mut parser = Parser::new(&text, model);
    parser.document()
}

/// Where a quick-xml error points, and what kind of [`XmlError`] it becomes.
enum Class {
    Malformed,
    Forbidden,
    Encoding,
    Fhir,
}

struct Parser<'a> {
    src: &'a str,
    reader: NsReader<&'a [u8]>,
    model: &'static Model,
    depth: usize,
}

/// Result of reading the attributes of one element.
#[derive(Default)]
struct Attrs {
    id: Option<String>,
    value: Option<String>,
    url: Option<String>,
}

/// Which plain attributes an element may carry.
#[derive(Clone, Copy)]
struct Allowed {
    id: bool,
    value: bool,
    url: bool,
    xsi: bool,
}

const RESOURCE_ATTRS: Allowed = Allowed {
    id: false,
    value: false,
    url: false,
    xsi: true,
};
const NO_ATTRS: Allowed = Allowed {
    id: false,
    value: false,
    url: false,
    xsi: false,
};

impl<'a> Parser<'a> {
    fn new(src: &'a str, model: &'static Model) -> Self {
        let mut reader = NsReader::from_str(src);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.allow_unmatched_ends = false;
        config.allow_dangling_amp = false;
        config.expand_empty_elements = false;
        config.trim_text(false);
        Parser {
            src,
            reader,
            model,
            depth: 0,
        }
    }

    // -- errors and positions ------------------------------------------------

    fn err(&self, class: Class, offset: usize, message: impl Into<String>) -> XmlError {
        let (line, column) = crate::encoding::line_column(self.src, offset);
        let message = message.into();
        match class {
            Class::Malformed => XmlError::Malformed {
                line,
                column,
                message,
            },
            Class::Forbidden => XmlError::Forbidden {
                line,
                column,
                message,
            },
            Class::Encoding => XmlError::Encoding {
                line,
                column,
                message,
            },
            Class::Fhir => XmlError::Fhir {
                line,
                column,
                message,
            },
        }
    }

    fn fhir(&self, offset: usize, message: impl Into<String>) -> XmlError {
        self.err(Class::Fhir, offset, message)
    }

    fn quick_err(&self, offset: usize, e: &quick_xml::Error) -> XmlError {
        match e {
            quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => self.err(
                Class::Forbidden,
                offset,
                format!("entity reference `&{name};` is not allowed: only the five xml entities and character references are understood"),
            ),
            quick_xml::Error::Encoding(_) => self.err(Class::Encoding, offset, lower_first(&e.to_string())),
            _ => self.err(Class::Malformed, offset, lower_first(&e.to_string())),
        }
    }

    fn truncated(&self, offset: usize, open: &str) -> XmlError {
        self.err(
            Class::Malformed,
            offset,
            format!("unexpected end of document: element `{open}` is not closed (truncated xml?)"),
        )
    }

    /// Reads the next event and the byte offset where it starts.
    fn next(&mut self) -> Result<(usize, Event<'a>), XmlError> {
        let pos = offset(self.reader.buffer_position());
        match self.reader.read_event() {
            Ok(ev) => Ok((pos, ev)),
            Err(e) => Err(self.quick_err(offset(self.reader.error_position()), &e)),
        }
    }

    fn enter(&mut self, pos: usize) -> Result<(), XmlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(
                Class::Forbidden,
                pos,
                format!("elements nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Resolves an element's namespace and requires the FHIR namespace.
    fn fhir_name<'s>(&self, pos: usize, start: &'s BytesStart<'_>) -> Result<&'s str, XmlError> {
        let qname = start.name();
        let (ns, _) = self.reader.resolver().resolve_element(qname);
        let local_str = local_of(start);
        match ns {
            ResolveResult::Bound(Namespace(n)) if n == FHIR_NS => Ok(local_str),
            ResolveResult::Bound(Namespace(n)) => Err(self.fhir(
                pos,
                format!("element `{local_str}` is in namespace `{n}`, not the fhir namespace `{FHIR_NS}`"),
            )),
            ResolveResult::Unbound => Err(self.fhir(
                pos,
                format!("element `{local_str}` has no namespace: fhir xml requires xmlns=\"{FHIR_NS}\""),
            )),
            ResolveResult::Unknown(p) => {
                Err(self.err(Class::Malformed, pos, format!("undeclared namespace prefix `{p}` on `{}`", qname.0)))
            }
        }
    }

    /// Reads the attributes of an element: namespace declarations are skipped,
    /// `xsi:*schemaLocation` is accepted where allowed, everything else must be in
    /// the allowed set.
    fn attrs(
        &self,
        pos: usize,
        start: &BytesStart<'a>,
        allowed: Allowed,
    ) -> Result<Attrs, XmlError> {
        let mut out = Attrs::default();
        let elem = local_of(start);
        for attr in start.attributes() {
            let attr =
                attr.map_err(|e| self.err(Class::Malformed, pos, lower_first(&e.to_string())))?;
            if attr.key.as_namespace_binding().is_some() {
                continue;
            }
            let (ns, local) = self.reader.resolver().resolve_attribute(attr.key);
            let name = attr.key.0;
            let slot = match ns {
                ResolveResult::Unbound => match local.into_inner() {
                    "id" if allowed.id => &mut out.id,
                    "value" if allowed.value => &mut out.value,
                    "url" if allowed.url => &mut out.url,
                    _ => {
                        return Err(self.fhir(
                            pos,
                            format!("attribute `{name}` is not allowed on `{elem}`"),
                        ));
                    }
                },
                ResolveResult::Bound(Namespace(XSI_NS))
                    if allowed.xsi
                        && matches!(
                            local.into_inner(),
                            "schemaLocation" | "noNamespaceSchemaLocation"
                        ) =>
                {
                    continue;
                }
                ResolveResult::Unknown(p) => {
                    return Err(self.err(
                        Class::Malformed,
                        pos,
                        format!("undeclared namespace prefix `{p}` on attribute `{name}`"),
                    ));
                }
                ResolveResult::Bound(_) => {
                    return Err(self.fhir(
                        pos,
                        format!("attribute `{name}` is not allowed on `{elem}`"),
                    ));
                }
            };
            let v = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| self.quick_err(pos, &e))?;
            *slot = Some(v.into_owned());
        }
        Ok(out)
    }

    // -- document ------------------------------------------------------------

    fn document(&mut self) -> Result<Value, XmlError> {
        let mut root: Option<Value> = None;
        loop {
            let (pos, ev) = self.next()?;
            match ev {
                Event::Decl(_) if pos != 0 => {
                    return Err(self.err(
                        Class::Malformed,
                        pos,
                        "the xml declaration must be at the very start of the document",
                    ));
                }
                Event::Decl(d) => {
                    let version = d.version().map_err(|e| self.quick_err(pos, &e))?;
                    if version.as_ref() != "1.0" {
                        return Err(self.err(
                            Class::Malformed,
                            pos,
                            format!("xml version `{version}` is not supported (only 1.0)"),
                        ));
                    }
                }
                Event::DocType(_) => {
                    return Err(self.err(
                        Class::Forbidden,
                        pos,
                        "a doctype declaration is not allowed in fhir xml (no dtd, no entity declarations)",
                    ));
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if is_xml_space(&t) => {}
                Event::Start(_) | Event::Empty(_) if root.is_some() => {
                    return Err(self.err(Class::Malformed, pos, "a second root element"));
                }
                Event::Start(s) => root = Some(self.resource(pos, &s, false)?),
                Event::Empty(s) => root = Some(self.resource(pos, &s, true)?),
                Event::Eof => break,
                Event::End(_) => {
                    return Err(self.err(Class::Malformed, pos, "end tag without start tag"));
                }
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(self.err(Class::Malformed, pos, "text outside the root element"));
                }
            }
        }
        root.ok_or_else(|| self.err(Class::Malformed, self.src.len(), "no root element"))
    }

    /// A resource element (`<Patient>`): its name is the resource type.
    fn resource(
        &mut self,
        pos: usize,
        start: &BytesStart<'a>,
        empty: bool,
    ) -> Result<Value, XmlError> {
        let name = self.fhir_name(pos, start)?;
        let td = self
            .model
            .resource(name)
            .ok_or_else(|| self.fhir(pos, format!("`{name}` is not a fhir r4 resource type")))?;
        self.attrs(pos, start, RESOURCE_ATTRS)?;
        let mut map = Map::new();
        map.insert("resourceType".to_string(), Value::String(name.to_string()));
        if !empty {
            self.enter(pos)?;
            self.children(td, &mut map)?;
            self.leave();
        }
        Ok(Value::Object(map))
    }

    /// The children of a complex element or resource, up to its end tag.
    fn children(
        &mut self,
        td: &'static TypeDef,
        map: &mut Map<String, Value>,
    ) -> Result<(), XmlError> {
        let mut last: Option<usize> = None;
        let mut has_repeating_primitive = false;
        loop {
            let (pos, ev) = self.next()?;
            let (start, empty) = match ev {
                Event::End(_) => break,
                Event::Start(s) => (s, false),
                Event::Empty(s) => (s, true),
                Event::Text(t) if is_xml_space(&t) => continue,
                Event::Comment(_) | Event::PI(_) => continue,
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(
                        self.fhir(pos, format!("text content is not allowed in `{}`", td.name))
                    );
                }
                Event::DocType(_) => {
                    return Err(self.err(
                        Class::Forbidden,
                        pos,
                        "a doctype declaration is not allowed",
                    ));
                }
                Event::Decl(_) => {
                    return Err(self.err(
                        Class::Malformed,
                        pos,
                        "xml declaration inside the document",
                    ));
                }
                Event::Eof => return Err(self.truncated(pos, td.name)),
            };
            // The narrative `div` is the one element outside the FHIR namespace.
            let is_div = local_of(&start) == "div"
                && td.element("div").is_some_and(|(_, _, t)| t == "xhtml")
                && !matches!(
                    self.reader.resolver().resolve_element(start.name()).0,
                    ResolveResult::Bound(Namespace(FHIR_NS))
                );
            let name = if is_div {
                "div"
            } else {
                self.fhir_name(pos, &start)?
            };
            let (index, ed, ty) = match td.element(name) {
                Some((i, e, t)) if !e.xml_attr => (i, e, t),
                _ => {
                    return Err(
                        self.fhir(pos, format!("unknown element `{name}` in `{}`", td.name))
                    );
                }
            };
            if let Some(prev) = last {
                if index < prev {
                    let after = td.elements.get(prev).map_or("", |e| e.name);
                    return Err(self.fhir(
                        pos,
                        format!("element `{name}` is out of order in `{}`: it must come before `{after}`", td.name),
                    ));
                }
                if index == prev && !ed.repeats {
                    return Err(self.fhir(
                        pos,
                        format!(
                            "element `{name}` appears more than once in `{}` (it does not repeat)",
                            td.name
                        ),
                    ));
                }
            }
            last = Some(index);
            let etd = self.model.type_def(ty).ok_or_else(|| {
                self.err(
                    Class::Fhir,
                    pos,
                    format!("type `{ty}` missing from the model"),
                )
            })?;
            match etd.kind {
                Kind::Primitive(JsonKind::Xhtml) => {
                    let div = self.div(pos, &start, empty)?;
                    insert(map, name, ed, Value::String(div));
                }
                Kind::Primitive(kind) => {
                    let (value, ext) = self.primitive(pos, &start, empty, kind, name)?;
                    if ed.repeats {
                        has_repeating_primitive = true;
                        push(map, name.to_string(), value.unwrap_or(Value::Null));
                        push(map, format!("_{name}"), ext.unwrap_or(Value::Null));
                    } else {
                        if let Some(v) = value {
                            map.insert(name.to_string(), v);
                        }
                        if let Some(x) = ext {
                            map.insert(format!("_{name}"), x);
                        }
                    }
                }
                Kind::Abstract if matches!(ty, "Resource" | "DomainResource") => {
                    let v = self.container(pos, &start, empty, name)?;
                    insert(map, name, ed, v);
                }
                _ => {
                    let v = self.complex(pos, &start, empty, etd)?;
                    insert(map, name, ed, v);
                }
            }
        }
        if has_repeating_primitive {
            // Drop `x` / `_x` arrays that only hold fillers.
            map.retain(|_, v| !matches!(v, Value::Array(a) if a.iter().all(Value::is_null)));
        }
        Ok(())
    }

    /// A complex datatype or backbone element.
    fn complex(
        &mut self,
        pos: usize,
        start: &BytesStart<'a>,
        empty: bool,
        td: &'static TypeDef,
    ) -> Result<Value, XmlError> {
        let allowed = Allowed {
            id: td.elements.iter().any(|e| e.xml_attr && e.name == "id"),
            value: false,
            url: td.elements.iter().any(|e| e.xml_attr && e.name == "url"),
            xsi: false,
        };
        let a = self.attrs(pos, start, allowed)?;
        let mut map = Map::new();
        if let Some(id) = a.id {
            map.insert("id".to_string(), Value::String(id));
        }
        if let Some(url) = a.url {
            map.insert("url".to_string(), Value::String(url));
        }
        if !empty {
            self.enter(pos)?;
            self.children(td, &mut map)?;
            self.leave();
        }
        Ok(Value::Object(map))
    }

    /// A primitive element: returns its JSON value and its `_x` object.
    fn primitive(
        &mut self,
        pos: usize,
        start: &BytesStart<'a>,
        empty: bool,
        kind: JsonKind,
        name: &str,
    ) -> Result<(Option<Value>, Option<Value>), XmlError> {
        let a = self.attrs(
            pos,
            start,
            Allowed {
                id: true,
                value: true,
                url: false,
                xsi: false,
            },
        )?;
        let mut extensions = Vec::new();
        if !empty {
            self.enter(pos)?;
            let ext_td = self
                .model
                .type_def("Extension")
                .ok_or_else(|| self.fhir(pos, "no Extension type in the model"))?;
            loop {
                let (p, ev) = self.next()?;
                let (s, e) = match ev {
                    Event::End(_) => break,
                    Event::Start(s) => (s, false),
                    Event::Empty(s) => (s, true),
                    Event::Text(t) if is_xml_space(&t) => continue,
                    Event::Comment(_) | Event::PI(_) => continue,
                    Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                        return Err(self.fhir(
                            p,
                            format!(
                                "text content is not allowed in `{name}` (use the value attribute)"
                            ),
                        ));
                    }
                    Event::DocType(_) => {
                        return Err(self.err(
                            Class::Forbidden,
                            p,
                            "a doctype declaration is not allowed",
                        ));
                    }
                    Event::Decl(_) => {
                        return Err(self.err(
                            Class::Malformed,
                            p,
                            "xml declaration inside the document",
                        ));
                    }
                    Event::Eof => return Err(self.truncated(p, name)),
                };
                let child = self.fhir_name(p, &s)?;
                if child != "extension" {
                    return Err(self.fhir(p, format!("unknown element `{child}` in `{name}` (a primitive holds only extensions)")));
                }
                extensions.push(self.complex(p, &s, e, ext_td)?);
            }
            self.leave();
        }
        let value = match a.value {
            Some(v) => Some(self.primitive_value(pos, kind, v, name)?),
            None => None,
        };
        let ext = if a.id.is_some() || !extensions.is_empty() {
            let mut m = Map::new();
            if let Some(id) = a.id {
                m.insert("id".to_string(), Value::String(id));
            }
            if !extensions.is_empty() {
                m.insert("extension".to_string(), Value::Array(extensions));
            }
            Some(Value::Object(m))
        } else {
            None
        };
        if value.is_none() && ext.is_none() {
            return Err(self.fhir(
                pos,
                format!("element `{name}` has neither a value attribute nor extensions"),
            ));
        }
        Ok((value, ext))
    }

    fn primitive_value(
        &self,
        pos: usize,
        kind: JsonKind,
        text: String,
        name: &str,
    ) -> Result<Value, XmlError> {
        match kind {
            JsonKind::Boolean => match text.as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(self.fhir(
                    pos,
                    format!("`{name}` value `{text}` is not a boolean (true or false)"),
                )),
            },
            JsonKind::Integer => {
                let digits = text.strip_prefix('+').unwrap_or(&text);
                match digits.parse::<i64>() {
                    Ok(n) if is_integer_lexical(&text) => Ok(Value::Number(Number::from(n))),
                    _ => Err(self.fhir(pos, format!("`{name}` value `{text}` is not an integer"))),
                }
            }
            JsonKind::Decimal => {
                if !is_decimal_lexical(&text) {
                    return Err(self.fhir(pos, format!("`{name}` value `{text}` is not a decimal")));
                }
                serde_json::from_str::<Number>(&text)
                    .map(Value::Number)
                    .map_err(|_| {
                        self.fhir(
                            pos,
                            format!("`{name}` value `{text}` is out of range for a json number"),
                        )
                    })
            }
            JsonKind::String | JsonKind::Xhtml => Ok(Value::String(text)),
        }
    }

    /// An element of type `Resource`: exactly one resource inside.
    fn container(
        &mut self,
        pos: usize,
        start: &BytesStart<'a>,
        empty: bool,
        name: &str,
    ) -> Result<Value, XmlError> {
        self.attrs(pos, start, NO_ATTRS)?;
        if empty {
            return Err(self.fhir(pos, format!("`{name}` must contain a resource")));
        }
        self.enter(pos)?;
        let mut found: Option<Value> = None;
        loop {
            let (p, ev) = self.next()?;
            match ev {
                Event::End(_) => break,
                Event::Start(_) | Event::Empty(_) if found.is_some() => {
                    return Err(self.fhir(p, format!("`{name}` holds more than one resource")));
                }
                Event::Start(s) => found = Some(self.resource(p, &s, false)?),
                Event::Empty(s) => found = Some(self.resource(p, &s, true)?),
                Event::Text(t) if is_xml_space(&t) => {}
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    return Err(self.fhir(p, format!("text content is not allowed in `{name}`")));
                }
                Event::DocType(_) => {
                    return Err(self.err(
                        Class::Forbidden,
                        p,
                        "a doctype declaration is not allowed",
                    ));
                }
                Event::Decl(_) => {
                    return Err(self.err(
                        Class::Malformed,
                        p,
                        "xml declaration inside the document",
                    ));
                }
                Event::Eof => return Err(self.truncated(p, name)),
            }
        }
        self.leave();
        found.ok_or_else(|| self.fhir(pos, format!("`{name}` must contain a resource")))
    }

    /// The narrative `div`: the XHTML subtree as text.
    fn div(&mut self, pos: usize, start: &BytesStart<'a>, empty: bool) -> Result<String, XmlError> {
        let qname = start.name();
        let (ns, _) = self.reader.resolver().resolve_element(qname);
        let local = local_of(start);
        let in_xhtml = matches!(ns, ResolveResult::Bound(Namespace(n)) if n == XHTML_NS);
        if !in_xhtml || local != "div" {
            return Err(self.fhir(
                pos,
                format!("narrative `div` must be an xhtml `div` element in namespace `{XHTML_NS}`"),
            ));
        }
        // Raw copy is exact when the div is unprefixed and declares the XHTML
        // namespace itself; otherwise the subtree is re-serialized.
        let declares_own = start.attributes().flatten().any(|a| {
            a.key.as_namespace_binding() == Some(PrefixDeclaration::Default)
                && a.value.as_ref() == XHTML_NS
        });
        let raw_ok = qname.prefix().is_none() && declares_own;
        let mut rebuilt = String::new();
        if !raw_ok {
            self.rebuild_start(&mut rebuilt, start, true, empty);
        }
        let mut depth = usize::from(!empty);
        let mut end = offset(self.reader.buffer_position());
        while depth > 0 {
            let (p, ev) = self.next()?;
            match &ev {
                Event::Start(s) | Event::Empty(s) => {
                    let (ns, _) = self.reader.resolver().resolve_element(s.name());
                    if !matches!(ns, ResolveResult::Bound(Namespace(n)) if n == XHTML_NS) {
                        return Err(self.fhir(
                            p,
                            format!(
                                "element `{}` inside the narrative is not in the xhtml namespace",
                                s.name().0
                            ),
                        ));
                    }
                    self.check_attr_values(p, s)?;
                    if matches!(ev, Event::Start(_)) {
                        depth += 1;
                        if depth > MAX_DEPTH {
                            return Err(self.err(
                                Class::Forbidden,
                                p,
                                format!("elements nested deeper than {MAX_DEPTH} levels"),
                            ));
                        }
                    }
                    if !raw_ok {
                        self.rebuild_start(&mut rebuilt, s, false, matches!(ev, Event::Empty(_)));
                    }
                }
                Event::End(e) => {
                    depth -= 1;
                    if !raw_ok {
                        let name = e.name();
                        rebuilt.push_str("</");
                        rebuilt.push_str(name.local_name().into_inner());
                        rebuilt.push('>');
                    }
                }
                Event::GeneralRef(r) => {
                    let name = r.as_ref();
                    let ok =
                        r.is_char_ref() || matches!(name, "lt" | "gt" | "amp" | "apos" | "quot");
                    if !ok {
                        return Err(self.err(
                            Class::Forbidden,
                            p,
                            format!("entity reference `&{name};` is not allowed: only the five xml entities and character references are understood"),
                        ));
                    }
                    if r.is_char_ref() {
                        r.resolve_char_ref().map_err(|e| self.quick_err(p, &e))?;
                    }
                    if !raw_ok {
                        let _ = write!(rebuilt, "&{name};");
                    }
                }
                Event::Text(_) | Event::CData(_) | Event::Comment(_) | Event::PI(_) => {
                    if !raw_ok {
                        let here = offset(self.reader.buffer_position());
                        rebuilt.push_str(self.src.get(p..here).unwrap_or(""));
                    }
                }
                Event::DocType(_) => {
                    return Err(self.err(
                        Class::Forbidden,
                        p,
                        "a doctype declaration is not allowed",
                    ));
                }
                Event::Decl(_) => {
                    return Err(self.err(
                        Class::Malformed,
                        p,
                        "xml declaration inside the document",
                    ));
                }
                Event::Eof => return Err(self.truncated(p, "div")),
            }
            end = offset(self.reader.buffer_position());
        }
        Ok(if raw_ok {
            self.src.get(pos..end).unwrap_or("").to_string()
        } else {
            rebuilt
        })
    }

    /// Checks the attribute values of an XHTML element (entities, char refs).
    fn check_attr_values(&self, pos: usize, start: &BytesStart<'a>) -> Result<(), XmlError> {
        for attr in start.attributes() {
            let attr =
                attr.map_err(|e| self.err(Class::Malformed, pos, lower_first(&e.to_string())))?;
            attr.normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| self.quick_err(pos, &e))?;
        }
        Ok(())
    }

    /// Re-serializes an XHTML start tag with its local name; drops namespace
    /// declarations of the XHTML namespace and, on the root, declares it.
    fn rebuild_start(&self, out: &mut String, start: &BytesStart<'a>, root: bool, empty: bool) {
        out.push('<');
        out.push_str(local_of(start));
        if root {
            let _ = write!(out, " xmlns=\"{XHTML_NS}\"");
        }
        for attr in start.attributes().flatten() {
            if attr.key.as_namespace_binding().is_some() && attr.value.as_ref() == XHTML_NS {
                continue;
            }
            let quote = if attr.value.contains('"') { '\'' } else { '"' };
            let _ = write!(out, " {}={quote}{}{quote}", attr.key.0, attr.value);
        }
        out.push_str(if empty { "/>" } else { ">" });
    }
}

/// Appends to the JSON array `key`.
fn push(map: &mut Map<String, Value>, key: String, v: Value) {
    match map.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(a) => a.push(v),
        other => *other = Value::Array(vec![v]),
    }
}

/// Inserts a complex value: appended to an array for repeating elements.
fn insert(map: &mut Map<String, Value>, name: &str, ed: &ElementDef, v: Value) {
    if ed.repeats {
        push(map, name.to_string(), v);
    } else {
        map.insert(name.to_string(), v);
    }
}

/// The local part of an element's name (`f:Bundle` -> `Bundle`).
fn local_of<'s>(start: &'s BytesStart<'_>) -> &'s str {
    start.name().local_name().into_inner()
}

fn is_xml_space(t: &quick_xml::events::BytesText<'_>) -> bool {
    t.as_ref()
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

fn offset(p: u64) -> usize {
    usize::try_from(p).unwrap_or(usize::MAX)
}

/// FHIR integer: `[0]|[-+]?[1-9][0-9]*`.
fn is_integer_lexical(s: &str) -> bool {
    let d = s.strip_prefix(['-', '+']).unwrap_or(s);
    !d.is_empty()
        && d.bytes().all(|b| b.is_ascii_digit())
        && (d == "0" || !d.starts_with('0'))
        && !(s != d && d == "0")
}

/// FHIR decimal: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_decimal_lexical(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    let st = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[st] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// Decodes the input to text by its BOM or XML declaration ([`crate::encoding::decode_xml`],
/// the harness's one XML decoding path).
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, XmlError> {
    crate::encoding::decode_xml(bytes).map_err(|e| XmlError::Encoding {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}

// ---------------------------------------------------------------------------
// JSON -> XML
// ---------------------------------------------------------------------------

/// Write FHIR JSON as FHIR XML: UTF-8 with an XML declaration, two-space
/// indentation, elements in the R4 model's order (see the module documentation).
///
/// The JSON must follow the FHIR JSON rules: known properties only, arrays exactly
/// where the element repeats, JSON types matching the primitive types, `_x`
/// objects and arrays aligned with `x`. Any departure is an [`XmlError::Json`]
/// naming where it is.
pub fn json_to_xml(value: &Value) -> Result<String, XmlError> {
    let model = r4()?;
    let mut w = XmlWriter {
        out: String::with_capacity(4096),
        model,
    };
    w.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    w.resource(value, 0, true, "")?;
    w.out.push('\n');
    Ok(w.out)
}

struct XmlWriter {
    out: String,
    model: &'static Model,
}

fn jerr(path: &str, message: impl Into<String>) -> XmlError {
    XmlError::Json {
        path: if path.is_empty() {
            "$".to_string()
        } else {
            path.to_string()
        },
        message: message.into(),
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

impl XmlWriter {
    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str("  ");
        }
    }

    fn resource(
        &mut self,
        v: &Value,
        level: usize,
        root: bool,
        path: &str,
    ) -> Result<(), XmlError> {
        if level > MAX_DEPTH * 2 {
            return Err(jerr(path, "nested too deeply"));
        }
        let obj = v
            .as_object()
            .ok_or_else(|| jerr(path, "a resource must be a json object"))?;
        let rt = match obj.get("resourceType") {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(jerr(path, "`resourceType` must be a string")),
            None => return Err(jerr(path, "a resource needs `resourceType`")),
        };
        let td = self
            .model
            .resource(rt)
            .ok_or_else(|| jerr(path, format!("`{rt}` is not a fhir r4 resource type")))?;
        let path = join(path, rt);
        self.indent(level);
        self.out.push('<');
        self.out.push_str(rt);
        if root {
            let _ = write!(self.out, " xmlns=\"{FHIR_NS}\"");
        }
        self.body(td, obj, level, &path, rt, &["resourceType"])
    }

    /// Writes `>` + children + end tag, or `/>` when there are no children.
    fn body(
        &mut self,
        td: &'static TypeDef,
        obj: &Map<String, Value>,
        level: usize,
        path: &str,
        tag: &str,
        consumed: &[&str],
    ) -> Result<(), XmlError> {
        let open_end = self.out.len();
        self.out.push_str(">\n");
        let after_open = self.out.len();
        let used = self.children(td, obj, level + 1, path)?;
        let attr_used = consumed.iter().filter(|k| obj.contains_key(**k)).count();
        if used + attr_used != obj.len() {
            let unknown = obj
                .keys()
                .find(|k| !consumed.contains(&k.as_str()) && !self.known_key(td, k))
                .map_or_else(|| "?".to_string(), Clone::clone);
            return Err(jerr(
                path,
                format!("unknown property `{unknown}` in `{}`", td.name),
            ));
        }
        if self.out.len() == after_open {
            self.out.truncate(open_end);
            self.out.push_str("/>\n");
        } else {
            self.indent(level);
            let _ = writeln!(self.out, "</{tag}>");
        }
        Ok(())
    }

    fn known_key(&self, td: &TypeDef, key: &str) -> bool {
        let k = key.strip_prefix('_').unwrap_or(key);
        td.element(k).is_some_and(|(_, e, _)| !e.xml_attr)
    }

    /// Writes the child elements of `td` found in `obj`; returns how many JSON
    /// properties were used.
    fn children(
        &mut self,
        td: &'static TypeDef,
        obj: &Map<String, Value>,
        level: usize,
        path: &str,
    ) -> Result<usize, XmlError> {
        let mut used = 0;
        for ed in &td.elements {
            if ed.xml_attr {
                continue;
            }
            let mut seen: Option<String> = None;
            for (ti, ty) in ed.types.iter().enumerate() {
                let name = ed.name_for(ti);
                let v = obj.get(&name);
                let u = obj.get(&format!("_{name}"));
                if v.is_none() && u.is_none() {
                    continue;
                }
                if let Some(prev) = &seen {
                    return Err(jerr(
                        path,
                        format!(
                            "`{prev}` and `{name}` are two types of the one choice element `{}[x]`",
                            ed.name
                        ),
                    ));
                }
                used += usize::from(v.is_some()) + usize::from(u.is_some());
                let epath = join(path, &name);
                let etd = self
                    .model
                    .type_def(ty)
                    .ok_or_else(|| jerr(&epath, format!("type `{ty}` missing from the model")))?;
                match etd.kind {
                    Kind::Primitive(kind) => {
                        self.primitive(&name, kind, ed.repeats, v, u, level, &epath)?
                    }
                    _ => {
                        if u.is_some() {
                            return Err(jerr(
                                &epath,
                                format!("`_{name}` is only allowed for primitive elements"),
                            ));
                        }
                        let Some(v) = v else { continue };
                        let items = items(v, ed.repeats, &epath)?;
                        let resource = matches!(ty, &"Resource" | &"DomainResource");
                        for (i, item) in items.iter().enumerate() {
                            let ipath = if ed.repeats {
                                format!("{epath}[{i}]")
                            } else {
                                epath.clone()
                            };
                            if resource {
                                self.indent(level);
                                let _ = writeln!(self.out, "<{name}>");
                                self.resource(item, level + 1, false, &ipath)?;
                                self.indent(level);
                                let _ = writeln!(self.out, "</{name}>");
                            } else {
                                self.complex(&name, etd, item, level, &ipath)?;
                            }
                        }
                    }
                }
                seen = Some(name);
            }
        }
        Ok(used)
    }

    fn complex(
        &mut self,
        name: &str,
        td: &'static TypeDef,
        v: &Value,
        level: usize,
        path: &str,
    ) -> Result<(), XmlError> {
        if level > MAX_DEPTH * 2 {
            return Err(jerr(path, "nested too deeply"));
        }
        let obj = v
            .as_object()
            .ok_or_else(|| jerr(path, format!("`{name}` must be a json object")))?;
        self.indent(level);
        self.out.push('<');
        self.out.push_str(name);
        let mut consumed: Vec<&str> = Vec::new();
        for attr in td.elements.iter().filter(|e| e.xml_attr) {
            if let Some(a) = obj.get(attr.name) {
                let s = a
                    .as_str()
                    .ok_or_else(|| jerr(&join(path, attr.name), "must be a string"))?;
                let _ = write!(self.out, " {}=\"", attr.name);
                escape_attr(&mut self.out, s).map_err(|m| jerr(&join(path, attr.name), m))?;
                self.out.push('"');
                consumed.push(attr.name);
            }
        }
        self.body(td, obj, level, path, name, &consumed)
    }

    #[allow(clippy::too_many_arguments)]
    fn primitive(
        &mut self,
        name: &str,
        kind: JsonKind,
        repeats: bool,
        v: Option<&Value>,
        u: Option<&Value>,
        level: usize,
        path: &str,
    ) -> Result<(), XmlError> {
        if kind == JsonKind::Xhtml {
            if u.is_some() {
                return Err(jerr(
                    path,
                    format!("`_{name}` is not allowed on the narrative div"),
                ));
            }
            let s = v
                .and_then(Value::as_str)
                .ok_or_else(|| jerr(path, "the narrative div must be a string"))?;
            check_div(s).map_err(|m| jerr(path, m))?;
            self.indent(level);
            self.out.push_str(s);
            self.out.push('\n');
            return Ok(());
        }
        if !repeats {
            if matches!(v, Some(Value::Array(_))) || matches!(u, Some(Value::Array(_))) {
                return Err(jerr(
                    path,
                    format!("`{name}` does not repeat, so it must not be a json array"),
                ));
            }
            return self.primitive_item(
                name,
                kind,
                v.filter(|x| !x.is_null()),
                u.filter(|x| !x.is_null()),
                level,
                path,
            );
        }
        let vs = match v {
            None => None,
            Some(Value::Array(a)) if !a.is_empty() => Some(a),
            Some(Value::Array(_)) => {
                return Err(jerr(path, "empty arrays are not allowed in fhir json"));
            }
            Some(_) => {
                return Err(jerr(
                    path,
                    format!("`{name}` repeats, so it must be a json array"),
                ));
            }
        };
        let us = match u {
            None => None,
            Some(Value::Array(a)) if !a.is_empty() => Some(a),
            Some(Value::Array(_)) => {
                return Err(jerr(path, "empty arrays are not allowed in fhir json"));
            }
            Some(_) => {
                return Err(jerr(
                    path,
                    format!("`_{name}` repeats, so it must be a json array"),
                ));
            }
        };
        let n = match (vs, us) {
            (Some(a), Some(b)) if a.len() != b.len() => {
                return Err(jerr(
                    path,
                    format!("`{name}` and `_{name}` must have the same length"),
                ));
            }
            (Some(a), _) => a.len(),
            (None, Some(b)) => b.len(),
            (None, None) => 0,
        };
        for i in 0..n {
            let vi = vs.and_then(|a| a.get(i)).filter(|x| !x.is_null());
            let ui = us.and_then(|a| a.get(i)).filter(|x| !x.is_null());
            self.primitive_item(name, kind, vi, ui, level, &format!("{path}[{i}]"))?;
        }
        Ok(())
    }

    fn primitive_item(
        &mut self,
        name: &str,
        kind: JsonKind,
        v: Option<&Value>,
        u: Option<&Value>,
        level: usize,
        path: &str,
    ) -> Result<(), XmlError> {
        if v.is_none() && u.is_none() {
            return Err(jerr(
                path,
                format!("`{name}` has neither a value nor `_{name}`"),
            ));
        }
        let text: Option<Cow<'_, str>> = match v {
            None => None,
            Some(v) => Some(match (kind, v) {
                (JsonKind::Boolean, Value::Bool(b)) => {
                    Cow::Borrowed(if *b { "true" } else { "false" })
                }
                (JsonKind::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => {
                    Cow::Owned(n.to_string())
                }
                (JsonKind::Decimal, Value::Number(n)) => Cow::Owned(n.to_string()),
                (JsonKind::String, Value::String(s)) => Cow::Borrowed(s.as_str()),
                (k, other) => {
                    return Err(jerr(
                        path,
                        format!("expected {} but found {}", kind_name(k), json_type(other)),
                    ));
                }
            }),
        };
        let (id, exts) = match u {
            None => (None, None),
            Some(Value::Object(m)) => {
                if let Some(k) = m.keys().find(|k| *k != "id" && *k != "extension") {
                    return Err(jerr(
                        &format!("{path}._{name}"),
                        format!("unknown property `{k}` (only `id` and `extension`)"),
                    ));
                }
                let id = match m.get("id") {
                    None => None,
                    Some(Value::String(s)) => Some(s.as_str()),
                    Some(_) => return Err(jerr(&format!("{path}._{name}.id"), "must be a string")),
                };
                let exts = match m.get("extension") {
                    None => None,
                    Some(Value::Array(a)) if !a.is_empty() => Some(a),
                    Some(_) => {
                        return Err(jerr(
                            &format!("{path}._{name}.extension"),
                            "must be a non-empty json array",
                        ));
                    }
                };
                (id, exts)
            }
            Some(_) => return Err(jerr(&format!("{path}._{name}"), "must be a json object")),
        };
        self.indent(level);
        self.out.push('<');
        self.out.push_str(name);
        if let Some(id) = id {
            self.out.push_str(" id=\"");
            escape_attr(&mut self.out, id).map_err(|m| jerr(path, m))?;
            self.out.push('"');
        }
        if let Some(t) = text {
            self.out.push_str(" value=\"");
            escape_attr(&mut self.out, &t).map_err(|m| jerr(path, m))?;
            self.out.push('"');
        }
        match exts {
            None => self.out.push_str("/>\n"),
            Some(exts) => {
                self.out.push_str(">\n");
                let ext_td = self
                    .model
                    .type_def("Extension")
                    .ok_or_else(|| jerr(path, "no Extension type in the model"))?;
                for (i, e) in exts.iter().enumerate() {
                    self.complex(
                        "extension",
                        ext_td,
                        e,
                        level + 1,
                        &format!("{path}._{name}.extension[{i}]"),
                    )?;
                }
                self.indent(level);
                let _ = writeln!(self.out, "</{name}>");
            }
        }
        Ok(())
    }
}

/// The items of a complex element: an array iff the element repeats.
fn items<'v>(v: &'v Value, repeats: bool, path: &str) -> Result<Vec<&'v Value>, XmlError> {
    match (v, repeats) {
        (Value::Array(a), true) if a.is_empty() => {
            Err(jerr(path, "empty arrays are not allowed in fhir json"))
        }
        (Value::Array(a), true) => Ok(a.iter().collect()),
        (_, true) => Err(jerr(
            path,
            "this element repeats, so it must be a json array",
        )),
        (Value::Array(_), false) => Err(jerr(
            path,
            "this element does not repeat, so it must not be a json array",
        )),
        (v, false) => Ok(vec![v]),
    }
}

fn kind_name(k: JsonKind) -> &'static str {
    match k {
        JsonKind::Boolean => "a json boolean",
        JsonKind::Integer => "a json integer",
        JsonKind::Decimal => "a json number",
        JsonKind::String | JsonKind::Xhtml => "a json string",
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Escapes an attribute value; line breaks and tabs become character references
/// so that they survive attribute-value normalization.
fn escape_attr(out: &mut String, s: &str) -> Result<(), String> {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if is_xml_char(c) => out.push(c),
            c => {
                return Err(format!(
                    "character u+{:04x} cannot be written in xml 1.0",
                    u32::from(c)
                ));
            }
        }
    }
    Ok(())
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Checks a narrative string (the JSON form of `Narrative.div`) before it is written into XML,
/// and when a JSON message is validated: well-formed, one XHTML `div` root, no DOCTYPE, no
/// entities beyond the predefined five (FHIR R4 JSON representation: the xhtml is a string
/// holding the XHTML `div`).
///
/// # Errors
/// A sentence saying what is wrong.
pub fn check_div(s: &str) -> Result<(), String> {
    let mut r = NsReader::from_str(s);
    r.config_mut().check_comments = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        let ev = r.read_event().map_err(|e| {
            format!(
                "the narrative div is not well-formed xml: {}",
                lower_first(&e.to_string())
            )
        })?;
        match &ev {
            Event::Start(st) | Event::Empty(st) => {
                if depth == 0 {
                    roots += 1;
                    let (ns, local) = r.resolver().resolve_element(st.name());
                    let xhtml = matches!(ns, ResolveResult::Bound(Namespace(n)) if n == XHTML_NS);
                    if roots > 1 || !xhtml || local.into_inner() != "div" {
                        return Err(format!(
                            "the narrative must be one `div` element declaring xmlns=\"{XHTML_NS}\""
                        ));
                    }
                }
                if matches!(ev, Event::Start(_)) {
                    depth += 1;
                }
                for a in st.attributes() {
                    let a = a.map_err(|e| {
                        format!(
                            "the narrative div is not well-formed xml: {}",
                            lower_first(&e.to_string())
                        )
                    })?;
                    a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| {
                        format!("the narrative div: {}", lower_first(&e.to_string()))
                    })?;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::GeneralRef(g) => {
                let name = g.as_ref();
                if !(g.is_char_ref() || matches!(name, "lt" | "gt" | "amp" | "apos" | "quot")) {
                    return Err(format!(
                        "the narrative div uses the undefined entity `&{name};`"
                    ));
                }
            }
            Event::Text(t) if depth == 0 && !is_xml_space(t) => {
                return Err("text outside the narrative div".to_string());
            }
            Event::CData(_) if depth == 0 => {
                return Err("text outside the narrative div".to_string());
            }
            Event::DocType(_) => {
                return Err("a doctype is not allowed in the narrative div".to_string());
            }
            Event::Decl(_) => {
                return Err("an xml declaration is not allowed in the narrative div".to_string());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if depth != 0 || roots != 1 {
        return Err("the narrative div is not a complete element".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    /// The MedCom corpus, through the crate's one helper.
    fn corpus() -> PathBuf {
        crate::test_corpus()
    }

    fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read corpus dir")
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                files(&p, ext, out);
            } else if p.extension().is_some_and(|e| e == ext) {
                out.push(p);
            }
        }
    }

    fn ig_files(ext: &str) -> Vec<PathBuf> {
        let mut out = Vec::new();
        files(&corpus().join("medcomfhir-website/ig"), ext, &mut out);
        out
    }

    /// Every FHIR JSON resource in the corpus (files with a `resourceType`).
    fn corpus_fhir_json() -> Vec<(PathBuf, Value)> {
        let mut paths = Vec::new();
        files(&corpus(), "json", &mut paths);
        paths
            .into_iter()
            .filter_map(|p| {
                let bytes = std::fs::read(&p).expect("read json");
                let v: Value = serde_json::from_slice(&bytes).ok()?;
                v.get("resourceType").and_then(Value::as_str)?;
                Some((p, v))
            })
            .collect()
    }

    fn rel(p: &Path) -> String {
        p.strip_prefix(corpus()).unwrap_or(p).display().to_string()
    }

    /// First difference between two JSON values, for readable failures.
    fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys()) {
                    match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => {
                            if let Some(d) = first_diff(p, q, &format!("{path}.{k}")) {
                                return Some(d);
                            }
                        }
                        (p, q) => return Some(format!("{path}.{k}: {p:?} vs {q:?}")),
                    }
                }
                None
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_diff(p, q, &format!("{path}[{i}]"))),
            _ if a == b => None,
            (Value::String(x), Value::String(y)) => {
                let at = x
                    .char_indices()
                    .zip(y.chars())
                    .find(|((_, c), d)| c != d)
                    .map_or(x.len().min(y.len()), |((i, _), _)| i);
                let from = x.floor_char_boundary(at.saturating_sub(60));
                let ctx = |s: &str| {
                    s.get(from..s.ceil_char_boundary((at + 60).min(s.len())))
                        .unwrap_or("")
                        .to_string()
                };
                Some(format!(
                    "{path}: strings differ at byte {at}: {:?} vs {:?}",
                    ctx(x),
                    ctx(y)
                ))
            }
            _ => Some(format!("{path}: {} vs {}", short(a), short(b))),
        }
    }

    fn short(v: &Value) -> String {
        let s = v.to_string();
        if s.len() > 300 {
            format!(
                "{}…",
                &s[..s.char_indices().nth(300).map_or(s.len(), |(i, _)| i)]
            )
        } else {
            s
        }
    }

    /// Corpus XML/JSON twins that legitimately differ: (file stem, reason).
    /// Empty: every IG twin converts exactly.
    const KNOWN_TWIN_DIFFERENCES: &[(&str, &str)] = &[];

    #[test]
    fn ig_xml_twins_convert_to_their_json() {
        let xmls = ig_files("xml");
        assert!(!xmls.is_empty(), "no XML files in the IG corpus");
        let mut compared = 0;
        let mut failures = Vec::new();
        for x in &xmls {
            let twin = x.with_extension("json");
            if !twin.exists() {
                continue;
            }
            let expected: Value =
                serde_json::from_slice(&std::fs::read(&twin).expect("read")).expect("twin json");
            let got = match xml_to_json(&std::fs::read(x).expect("read")) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{}: {e}", rel(x)));
                    continue;
                }
            };
            compared += 1;
            let stem = x.file_stem().and_then(|s| s.to_str()).unwrap_or("");
            let known = KNOWN_TWIN_DIFFERENCES.iter().find(|(s, _)| *s == stem);
            match (first_diff(&got, &expected, "$"), known) {
                (None, None) => {}
                (None, Some((_, why))) => failures.push(format!(
                    "{}: listed as differing ({why}) but now equal",
                    rel(x)
                )),
                (Some(_), Some(_)) => {}
                (Some(d), None) => failures.push(format!("{}: {d}", rel(x))),
            }
        }
        assert!(
            compared >= 9,
            "expected the 9 IG XML/JSON twins, compared {compared}"
        );
        assert!(
            failures.is_empty(),
            "{} twin(s) differ:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn corpus_json_round_trips_through_xml() {
        let all = corpus_fhir_json();
        let ig = all
            .iter()
            .filter(|(p, _)| p.starts_with(corpus().join("medcomfhir-website/ig")))
            .count();
        assert!(ig >= 182, "expected the 182 IG JSON files, found {ig}");
        let mut failures = Vec::new();
        for (p, v) in &all {
            let back = json_to_xml(v).and_then(|x| xml_to_json(x.as_bytes()));
            match back {
                Ok(b) => {
                    if let Some(d) = first_diff(&b, v, "$") {
                        failures.push(format!("{}: {d}", rel(p)));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", rel(p))),
            }
        }
        eprintln!(
            "json -> xml -> json: {} files, {} failures",
            all.len(),
            failures.len()
        );
        assert!(
            failures.is_empty(),
            "{} file(s) do not round-trip:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn corpus_xml_round_trips_through_json() {
        let mut xmls = Vec::new();
        files(&corpus(), "xml", &mut xmls);
        let mut done = 0;
        let mut failures = Vec::new();
        for x in &xmls {
            let bytes = std::fs::read(x).expect("read");
            // Only FHIR XML: a root element in the FHIR namespace.
            if !String::from_utf8_lossy(&bytes).contains("xmlns=\"http://hl7.org/fhir\"") {
                continue;
            }
            let r = xml_to_json(&bytes).and_then(|j| {
                let x2 = json_to_xml(&j)?;
                let j2 = xml_to_json(x2.as_bytes())?;
                Ok((j, x2, j2))
            });
            match r {
                Ok((j, x2, j2)) => {
                    done += 1;
                    if let Some(d) = first_diff(&j2, &j, "$") {
                        failures.push(format!("{}: {d}", rel(x)));
                    }
                    // Our own output is a fixed point.
                    if json_to_xml(&j2).ok().as_deref() != Some(x2.as_str()) {
                        failures.push(format!("{}: xml output is not stable", rel(x)));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", rel(x))),
            }
        }
        eprintln!(
            "xml -> json -> xml -> json: {done} files, {} failures",
            failures.len()
        );
        assert!(done >= 9);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn truncated_corpus_xml_is_an_error() {
        for x in ig_files("xml") {
            let bytes = std::fs::read(&x).expect("read");
            let end = bytes.trim_ascii_end().len();
            for cut in [end / 2, end - 20, end - 1] {
                let mut c = cut;
                while c > 0 && (bytes[c] & 0xC0) == 0x80 {
                    c -= 1; // keep UTF-8 intact: truncation, not an encoding error
                }
                let err = xml_to_json(&bytes[..c])
                    .expect_err(&format!("{} cut at {c} must fail", rel(&x)));
                assert!(
                    matches!(err, XmlError::Malformed { .. }),
                    "{}: {err}",
                    rel(&x)
                );
            }
        }
        let err = xml_to_json(b"<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"message\"/>")
            .expect_err("truncated");
        assert!(err.to_string().contains("not closed"), "{err}");
        assert_eq!(err.line(), Some(1));
    }

    #[test]
    fn doctype_and_entities_are_refused() {
        let evil = br#"<?xml version="1.0"?>
<!DOCTYPE Bundle [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> <!ENTITY lol "lol"> ]>
<Bundle xmlns="http://hl7.org/fhir"><type value="&xxe;"/></Bundle>"#;
        let err = xml_to_json(evil).expect_err("doctype");
        assert!(
            matches!(
                err,
                XmlError::Forbidden {
                    line: 2,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        // An undeclared entity (no DTD) is refused, never expanded.
        let err =
            xml_to_json(br#"<Bundle xmlns="http://hl7.org/fhir"><type value="&lol;"/></Bundle>"#)
                .expect_err("entity");
        assert!(matches!(err, XmlError::Forbidden { .. }), "{err:?}");
        let err = xml_to_json(
            br#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">&nbsp;</div></text></Patient>"#,
        )
        .expect_err("entity in div");
        assert!(matches!(err, XmlError::Forbidden { .. }), "{err:?}");
    }

    #[test]
    fn iso_8859_1_with_danish_letters() {
        let text = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"Ærø Søndergård\"/></name></Patient>";
        let latin1: Vec<u8> = text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).expect("latin-1"))
            .collect();
        assert!(
            std::str::from_utf8(&latin1).is_err(),
            "test input must really be latin-1"
        );
        let v = xml_to_json(&latin1).expect("latin-1 parses");
        assert_eq!(v["name"][0]["family"], "Ærø Søndergård");
        // lowercase utf-8 declaration, BOM, prefixed FHIR namespace, xsi:schemaLocation
        let utf8 = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><f:Patient xmlns:f=\"http://hl7.org/fhir\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://hl7.org/fhir ../fhir-all.xsd\"><f:name><f:family value=\"Ærø\"/></f:name></f:Patient>";
        let v = xml_to_json(utf8.as_bytes()).expect("utf-8 with prefix");
        assert_eq!(
            v,
            serde_json::json!({"resourceType": "Patient", "name": [{"family": "Ærø"}]})
        );
        // a latin-1 byte in a document declared utf-8 is an encoding error with position
        let mut bad = b"<Patient xmlns=\"http://hl7.org/fhir\">\n<name><family value=\"".to_vec();
        bad.push(0xE6);
        bad.extend_from_slice(b"\"/></name></Patient>");
        let err = xml_to_json(&bad).expect_err("invalid utf-8");
        assert!(
            matches!(
                err,
                XmlError::Encoding {
                    line: 2,
                    column: 22,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn utf16_comments_and_cdata() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!-- c --><Patient xmlns=\"http://hl7.org/fhir\"><!-- c --><active value=\"true\"/></Patient>";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let v = xml_to_json(&utf16).expect("utf-16 with BOM");
        assert_eq!(
            v,
            serde_json::json!({"resourceType": "Patient", "active": true})
        );
        let e = xml_to_json(b"<Patient xmlns=\"http://hl7.org/fhir\"><![CDATA[x]]></Patient>")
            .expect_err("cdata");
        assert!(e.to_string().contains("text content"), "{e}");
        let e = xml_to_json(b"<?xml version=\"1.0\" encoding=\"EBCDIC-XYZ\"?><Patient xmlns=\"http://hl7.org/fhir\"/>").expect_err("enc");
        assert!(matches!(e, XmlError::Encoding { .. }), "{e:?}");
    }

    #[test]
    fn namespace_is_required() {
        let err =
            xml_to_json(b"<Patient><active value=\"true\"/></Patient>").expect_err("no namespace");
        assert!(
            matches!(
                err,
                XmlError::Fhir {
                    line: 1,
                    column: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("no namespace"), "{err}");
        let err = xml_to_json(
            b"<Patient xmlns=\"http://hl7.org/fhir/\"><active value=\"true\"/></Patient>",
        )
        .expect_err("wrong ns");
        assert!(err.to_string().contains("not the fhir namespace"), "{err}");
        // a child that drops out of the FHIR namespace
        let err = xml_to_json(
            b"<f:Patient xmlns:f=\"http://hl7.org/fhir\"><active value=\"true\"/></f:Patient>",
        )
        .expect_err("child");
        assert!(
            matches!(
                err,
                XmlError::Fhir {
                    line: 1,
                    column: 42,
                    ..
                }
            ),
            "{err:?}"
        );
        // div outside the XHTML namespace
        let err = xml_to_json(
            b"<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div>x</div></text></Patient>",
        )
        .expect_err("div ns");
        assert!(err.to_string().contains("xhtml"), "{err}");
    }

    #[test]
    fn unknown_element_names_line_and_column() {
        let xml = "<Bundle xmlns=\"http://hl7.org/fhir\">\n  <type value=\"message\"/>\n  <entry>\n    <resource>\n      <MessageHeader>\n        <foo value=\"x\"/>\n      </MessageHeader>\n    </resource>\n  </entry>\n</Bundle>";
        let err = xml_to_json(xml.as_bytes()).expect_err("unknown element");
        assert_eq!(
            err.to_string(),
            "line 6, column 9: unknown element `foo` in `MessageHeader`"
        );
        assert_eq!((err.line(), err.column()), (Some(6), Some(9)));
    }

    #[test]
    fn structural_errors() {
        let p = |body: &str| {
            xml_to_json(
                format!("<Patient xmlns=\"http://hl7.org/fhir\">{body}</Patient>").as_bytes(),
            )
        };
        let e = p("<active value=\"true\"/><active value=\"false\"/>").expect_err("twice");
        assert!(e.to_string().contains("appears more than once"), "{e}");
        let e = p("<gender value=\"male\"/><active value=\"true\"/>").expect_err("order");
        assert!(e.to_string().contains("out of order"), "{e}");
        let e = p("hello").expect_err("text");
        assert!(
            e.to_string()
                .contains("text content is not allowed in `Patient`"),
            "{e}"
        );
        let e = p("<active value=\"yes\"/>").expect_err("boolean");
        assert!(e.to_string().contains("not a boolean"), "{e}");
        let e = p("<active/>").expect_err("empty primitive");
        assert!(e.to_string().contains("neither a value"), "{e}");
        let e = p("<deceasedBoolean value=\"true\"/><deceasedDateTime value=\"2020\"/>")
            .expect_err("choice twice");
        assert!(e.to_string().contains("appears more than once"), "{e}");
        let e = p("<active value=\"true\" foo=\"1\"/>").expect_err("attribute");
        assert!(e.to_string().contains("attribute `foo`"), "{e}");
        let e = xml_to_json(
            b"<Patient xmlns=\"http://hl7.org/fhir\"><active value=\"true\"></Patient>",
        )
        .expect_err("mismatch");
        assert!(matches!(e, XmlError::Malformed { .. }), "{e:?}");
        let e = xml_to_json(b"<Foo xmlns=\"http://hl7.org/fhir\"/>").expect_err("not a resource");
        assert!(e.to_string().contains("not a fhir r4 resource type"), "{e}");
        let e = xml_to_json(
            b"<Patient xmlns=\"http://hl7.org/fhir\"/><Patient xmlns=\"http://hl7.org/fhir\"/>",
        )
        .expect_err("two roots");
        assert!(matches!(e, XmlError::Malformed { .. }), "{e:?}");
        let deep = format!(
            "<Patient xmlns=\"http://hl7.org/fhir\"><extension url=\"a\">{}{}</extension></Patient>",
            "<extension url=\"a\">".repeat(400),
            "</extension>".repeat(400)
        );
        let e = xml_to_json(deep.as_bytes()).expect_err("too deep");
        assert!(matches!(e, XmlError::Forbidden { .. }), "{e:?}");
    }

    #[test]
    fn primitives_extensions_and_arrays() {
        let xml = r#"<Patient xmlns="http://hl7.org/fhir">
  <id value="p1"/>
  <active value="true"/>
  <name>
    <given value="A"/>
    <given id="g2"><extension url="http://x"><valueString value="ext"/></extension></given>
    <given value="C"/>
  </name>
  <birthDate id="bd" value="1970-01-01"/>
  <multipleBirthInteger value="2"/>
</Patient>"#;
        let v = xml_to_json(xml.as_bytes()).expect("parse");
        let expected = serde_json::json!({
            "resourceType": "Patient", "id": "p1", "active": true,
            "name": [{"given": ["A", null, "C"], "_given": [null, {"id": "g2", "extension": [{"url": "http://x", "valueString": "ext"}]}, null]}],
            "birthDate": "1970-01-01", "_birthDate": {"id": "bd"},
            "multipleBirthInteger": 2
        });
        assert_eq!(v, expected);
        let back = xml_to_json(json_to_xml(&v).expect("write").as_bytes()).expect("reparse");
        assert_eq!(back, expected);
        // decimals keep the distinction 1.0 / 1, and values round-trip
        let obs = r#"<Observation xmlns="http://hl7.org/fhir"><status value="final"/><code><text value="x"/></code><valueQuantity><value value="1.0"/></valueQuantity></Observation>"#;
        let v = xml_to_json(obs.as_bytes()).expect("obs");
        assert_eq!(
            v["valueQuantity"]["value"],
            serde_json::from_str::<Value>("1.0").expect("n")
        );
        assert_ne!(v["valueQuantity"]["value"], serde_json::json!(1));
        assert!(
            json_to_xml(&v)
                .expect("w")
                .contains("<value value=\"1.0\"/>")
        );
    }

    #[test]
    fn line_breaks_in_values_survive() {
        let v = serde_json::json!({"resourceType": "Communication", "status": "completed",
            "payload": [{"contentString": "line 1\nline 2\r\n\ttabbed & <b>\"q\"</b>"}]});
        let xml = json_to_xml(&v).expect("write");
        assert!(
            xml.contains(
                "line 1&#10;line 2&#13;&#10;&#9;tabbed &amp; &lt;b&gt;&quot;q&quot;&lt;/b&gt;"
            ),
            "{xml}"
        );
        assert_eq!(xml_to_json(xml.as_bytes()).expect("read"), v);
        // a raw line break in an attribute is a space for every XML reader
        let raw = "<Communication xmlns=\"http://hl7.org/fhir\"><status value=\"completed\"/><payload><contentString value=\"a\nb\"/></payload></Communication>";
        assert_eq!(
            xml_to_json(raw.as_bytes()).expect("raw")["payload"][0]["contentString"],
            "a b"
        );
    }

    #[test]
    fn narrative_is_kept_exactly() {
        let div = "<div xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"da\">\n  <p class=\"x\" title=\"a&#10;b\">Hej &amp; <b>farvel</b> &lt;æøå&gt;</p><br/>\n</div>";
        let xml = format!(
            "<Patient xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/>{div}</text></Patient>"
        );
        let v = xml_to_json(xml.as_bytes()).expect("parse");
        assert_eq!(v["text"]["div"], div);
        let out = json_to_xml(&v).expect("write");
        assert!(out.contains(div), "{out}");
        assert_eq!(xml_to_json(out.as_bytes()).expect("reparse"), v);
        // prefixed XHTML is re-serialized with its own default namespace
        let xml = "<Patient xmlns=\"http://hl7.org/fhir\" xmlns:h=\"http://www.w3.org/1999/xhtml\"><text><status value=\"generated\"/><h:div><h:p>x</h:p></h:div></text></Patient>";
        let v = xml_to_json(xml.as_bytes()).expect("prefixed div");
        assert_eq!(
            v["text"]["div"],
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</p></div>"
        );
        // JSON -> XML refuses a div that is not XHTML
        let bad = serde_json::json!({"resourceType": "Patient", "text": {"status": "generated", "div": "<div>x</div>"}});
        let e = json_to_xml(&bad).expect_err("div without namespace");
        assert!(matches!(e, XmlError::Json { .. }), "{e:?}");
        assert!(e.to_string().starts_with("Patient.text.div:"), "{e}");
    }

    #[test]
    fn json_input_is_checked() {
        let e = json_to_xml(&serde_json::json!({"resourceType": "Patient", "foo": 1}))
            .expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "Patient: unknown property `foo` in `Patient`"
        );
        let e =
            json_to_xml(&serde_json::json!({"resourceType": "Patient", "name": {"family": "x"}}))
                .expect_err("array");
        assert!(e.to_string().contains("must be a json array"), "{e}");
        let e = json_to_xml(&serde_json::json!({"resourceType": "Patient", "active": "true"}))
            .expect_err("type");
        assert!(e.to_string().contains("expected a json boolean"), "{e}");
        let e = json_to_xml(&serde_json::json!({"resourceType": "Patient", "name": []}))
            .expect_err("empty");
        assert!(e.to_string().contains("empty arrays"), "{e}");
        let e = json_to_xml(&serde_json::json!({"resourceType": "Patient", "deceasedBoolean": true, "deceasedDateTime": "2020"}))
            .expect_err("two choices");
        assert!(e.to_string().contains("two types"), "{e}");
        let e = json_to_xml(&serde_json::json!({"resourceType": "Nope"})).expect_err("type");
        assert!(e.to_string().contains("not a fhir r4 resource type"), "{e}");
        // element order follows the model, not the JSON
        let x = json_to_xml(&serde_json::json!({"gender": "male", "resourceType": "Patient", "active": true, "id": "1"})).expect("ok");
        let (i, a, g) = (
            x.find("<id ").unwrap_or(0),
            x.find("<active").unwrap_or(0),
            x.find("<gender").unwrap_or(0),
        );
        assert!(i < a && a < g, "{x}");
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Patient xmlns=\"http://hl7.org/fhir\">"), "{x}");
    }

    #[test]
    fn bundle_resources_and_contained() {
        let v = serde_json::json!({
            "resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Parameters", "parameter": [
                {"name": "p", "resource": {"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o"}],
                 "managingOrganization": {"reference": "#o"}}}]}}]});
        let x = json_to_xml(&v).expect("write");
        assert_eq!(xml_to_json(x.as_bytes()).expect("read"), v);
        assert!(x.contains("<contained>\n"), "{x}");
    }

    /// Time to convert the largest FHIR XML in the corpus and the largest IG XML
    /// (run with `--release` for a meaningful number):
    /// `cargo test --release largest -- --nocapture`.
    #[test]
    fn largest_corpus_xml_timing() {
        let fhir_xml = |paths: Vec<PathBuf>| {
            paths
                .into_iter()
                .map(|p| {
                    let b = std::fs::read(&p).expect("read");
                    (p, b)
                })
                .filter(|(_, b)| {
                    String::from_utf8_lossy(b).contains("xmlns=\"http://hl7.org/fhir\"")
                })
                .max_by_key(|(_, b)| b.len())
                .expect("a FHIR XML file")
        };
        let mut all = Vec::new();
        files(&corpus(), "xml", &mut all);
        for (path, bytes) in [fhir_xml(all), fhir_xml(ig_files("xml"))] {
            let v = xml_to_json(&bytes).expect("largest converts");
            let runs = 50u32;
            let t = Instant::now();
            for _ in 0..runs {
                std::hint::black_box(xml_to_json(std::hint::black_box(&bytes)).expect("convert"));
            }
            let per = t.elapsed() / runs;
            let t = Instant::now();
            for _ in 0..runs {
                std::hint::black_box(json_to_xml(std::hint::black_box(&v)).expect("write"));
            }
            let back = t.elapsed() / runs;
            let profile = if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            };
            eprintln!(
                "{} ({} bytes): xml->json {:.3} ms, json->xml {:.3} ms ({profile} build, mean of {runs})",
                rel(&path),
                bytes.len(),
                per.as_secs_f64() * 1e3,
                back.as_secs_f64() * 1e3
            );
        }
    }
}
