//! XML Schema validation of envelopes with libxml2 (the `libxml` crate), and where the
//! standard overrules it.
//!
//! **Threading.** libxml2's compiled schemas and documents are not thread-safe objects, and the
//! `libxml` crate's types are neither `Send` nor `Sync`. A [`Validator`] therefore owns one
//! thread that compiles every schema once, keeps it, and validates the documents sent to it over
//! a channel; the [`Validator`] handle itself is cheap to clone and may be used from any thread.
//! [`Validator::shared`] keeps one validator per set of schema files for the whole process.
//!
//! **Schemas come from the caller.** [`SchemaFiles`] names MedCom's XSDs on disk (the corpus in
//! tests, a configured folder in use); the harness ships no copies. Schemas are trusted input:
//! their `xs:include`/`xs:import` are followed on disk. Instance documents are not: the
//! document's `xsi:schemaLocation` is never followed, the hardening of [`super::xml`] applies
//! first (size, node count, no DTD), and libxml2 parses with `XML_PARSE_NONET`, without DTD
//! loading or entity substitution, and with `XML_PARSE_HUGE` only so that a base64 payload over
//! 10 MB is one legal text node (safe because no DTD, hence no entity, can get through).
//!
//! **Verdicts** ([`XsdReport`]) carry every libxml2 error with its line (libxml2 2.9 caps line
//! numbers at 65535), split into the errors that stand and the ones the standard overrules.
//!
//! **Where the standard overrules libxml2** (DOMAIN.md §6). libxml2 2.9 (Debian 12, behind
//! `xmllint` and the `libxml` crate) rejects surrounding whitespace in values of several
//! built-in types although their `whiteSpace` facet is `collapse` (XML Schema 1.0 Part 2 §4.3.6):
//! measured here for `xs:dateTime`, `xs:date`, `xs:time`, `xs:gYear`, `xs:duration`, `xs:int` and
//! `xs:long` (VANS `SizeInBytes` is an `xs:int`), while `xs:integer`, `xs:decimal` and
//! `xs:boolean` are collapsed correctly. An error "'V' is not a valid value of the atomic type
//! 'xs:T'" is overruled when V has surrounding or inner whitespace that collapsing changes and
//! libxml2 itself accepts the collapsed value as an `xs:T`. So libxml2 still decides the value;
//! only its whitespace handling is replaced by the rule. Derived types named by the schema
//! (`'{ns}MyDate'`) are left to libxml2. The corpus case: `ehmisbdh_fullsample_sbdhack.xml`.
//!
//! **ehmiSBDH `BinaryContent`** (DOMAIN.md §6, setting [`BinaryContentRule`]). MedCom's
//! `ehmiStandardBusinessDocumentHeader.xsd` declares `BinaryContent` as a local element of the
//! SBDH namespace; most samples use the global `BinaryContent` of the PEPPOL envelope namespace
//! `http://peppol.eu/xsd/ticc/envelope/1.0` (declared in `ehmiEDN-Business-Message-Envelope-1.2.xsd`,
//! which the SBDH schema imports). Default ([`BinaryContentRule::AcceptEnvelopeSchema`]): a
//! PEPPOL-namespace `BinaryContent` is accepted — the header is validated against the SBDH schema,
//! `BinaryContent` against the envelope schema, the document structure around them is checked
//! here — and the mismatch is reported as a note. [`BinaryContentRule::AsPublished`] applies the
//! schema as written, as `xmllint --schema` does. A `BinaryContent` in the SBDH namespace is
//! validated as written under both settings.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError, mpsc};

use libxml::error::{StructuredError, XmlErrorLevel};
use libxml::parser::{Parser, ParserOptions, XmlParseFailure};
use libxml::schemas::{SchemaParserContext, SchemaValidationContext};
use libxml::tree::{Document, Node};

use super::sbdh::{PEPPOL_ENVELOPE_NAMESPACE, SBDH_NAMESPACE};
use super::{EnvelopeError, EnvelopeKind, xml};

/// Where MedCom's XSDs are. Paths are read when a [`Validator`] starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SchemaFiles {
    /// `vans-envelope-1.0.4.xsd`.
    pub vans: PathBuf,
    /// `ehmiStandardBusinessDocumentHeader.xsd` (with its includes and the imported
    /// `ehmiEDN-Business-Message-Envelope-1.2.xsd` beside it).
    pub sbdh: PathBuf,
    /// The folder of MedCom's classic OIOXML schemas (`oioxml-xsd/`, one `YYYY/MM/DD/EMessage.xsd`
    /// per release); read by [`crate::oioxml::schema`], compiled on first use per release.
    pub oioxml: PathBuf,
}

impl SchemaFiles {
    /// The schema files in the layout of the harness's MedCom corpus (`MEDCOM_CORPUS`):
    /// `vans-envelope/vans-envelope-1.0.4.xsd` and
    /// `dk-ehmi-sbdh/input/pagecontent/ehmiSBDH/ehmiStandardBusinessDocumentHeader.xsd`, and the
    /// OIOXML schemas in `oioxml-xsd/`.
    pub fn in_corpus(corpus: &Path) -> SchemaFiles {
        SchemaFiles {
            oioxml: corpus.join("oioxml-xsd"),
            vans: corpus.join("vans-envelope/vans-envelope-1.0.4.xsd"),
            sbdh: corpus.join(
                "dk-ehmi-sbdh/input/pagecontent/ehmiSBDH/ehmiStandardBusinessDocumentHeader.xsd",
            ),
        }
    }
}

/// How to validate an ehmiSBDH `BinaryContent` in the PEPPOL namespace (DOMAIN.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BinaryContentRule {
    /// Default: accept the samples' form; header against the SBDH schema, `BinaryContent`
    /// against the PEPPOL envelope schema; the mismatch becomes a note.
    #[default]
    AcceptEnvelopeSchema,
    /// Strict: the SBDH schema as published, for the whole document.
    AsPublished,
}

/// One diagnostic: the 1-based line when known, and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XsdIssue {
    /// 1-based line in the validated document (or schema, for compile errors).
    pub line: Option<u32>,
    /// What the validator said, as libxml2 wrote it without the trailing newline (a value it
    /// quotes may span lines).
    pub message: String,
}

impl fmt::Display for XsdIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl XsdIssue {
    fn new(line: Option<u32>, message: impl Into<String>) -> XsdIssue {
        XsdIssue {
            line,
            message: message.into(),
        }
    }

    fn from_libxml(error: &StructuredError) -> XsdIssue {
        XsdIssue {
            line: error.line.and_then(|l| u32::try_from(l).ok()),
            message: error
                .message
                .as_deref()
                .unwrap_or("libxml2 gave no message")
                .trim_end()
                .to_string(),
        }
    }
}

/// A schema verdict: valid when [`XsdReport::errors`] is empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XsdReport {
    /// The errors that stand: each makes the document invalid.
    pub errors: Vec<XsdIssue>,
    /// libxml2 errors the standard overrules (the whitespace bug in the module docs).
    pub overruled: Vec<XsdIssue>,
    /// Remarks that do not affect the verdict (the `BinaryContent` namespace setting).
    pub notes: Vec<XsdIssue>,
}

impl XsdReport {
    /// Our verdict: valid per the XML Schema rules.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    /// What libxml2 alone said about the same validation: valid when it raised no error at all.
    /// Under [`BinaryContentRule::AsPublished`] (and for VANS) this is `xmllint --schema`'s
    /// verdict.
    pub fn libxml2_is_valid(&self) -> bool {
        self.errors.is_empty() && self.overruled.is_empty()
    }

    fn invalid(issue: XsdIssue) -> XsdReport {
        XsdReport {
            errors: vec![issue],
            ..XsdReport::default()
        }
    }
}

/// What the validator thread validates.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// The whole document against the VANS schema.
    Vans,
    /// The whole document against the SBDH schema as published.
    SbdhWhole,
    /// Header against the SBDH schema, PEPPOL `BinaryContent` against the envelope schema.
    SbdhSplit,
    /// The whole document against one more schema file (an OIOXML release's `EMessage.xsd`),
    /// compiled on first use and kept.
    File,
}

struct Job {
    plan: Plan,
    /// The schema file of [`Plan::File`].
    schema: Option<PathBuf>,
    bytes: Vec<u8>,
    reply: mpsc::Sender<Result<XsdReport, EnvelopeError>>,
}

/// A handle to the validator thread; clone it freely, use it from any thread.
#[derive(Debug, Clone)]
pub struct Validator {
    jobs: mpsc::Sender<Job>,
}

impl Validator {
    /// Starts a validator thread and compiles the schemas in `files` on it.
    ///
    /// # Errors
    /// [`EnvelopeError::SchemaFile`] when a schema cannot be read,
    /// [`EnvelopeError::SchemaCompile`] when libxml2 cannot compile it,
    /// [`EnvelopeError::ValidatorStart`] when the thread cannot be spawned.
    pub fn start(files: &SchemaFiles) -> Result<Validator, EnvelopeError> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<(), EnvelopeError>>(1);
        let files = files.clone();
        std::thread::Builder::new()
            .name("medcom-xsd".to_string())
            .spawn(move || {
                let mut worker = match Worker::compile(&files) {
                    Ok(worker) => {
                        let _ = ready_tx.send(Ok(()));
                        worker
                    }
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                for job in inbox {
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        worker.run(job.plan, job.schema.as_deref(), &job.bytes)
                    }))
                    .unwrap_or(Err(EnvelopeError::ValidatorPanicked));
                    let _ = job.reply.send(result);
                }
            })
            .map_err(EnvelopeError::ValidatorStart)?;
        ready_rx
            .recv()
            .map_err(|_| EnvelopeError::ValidatorStopped)??;
        Ok(Validator { jobs })
    }

    /// The process-wide validator for `files`, started (and its schemas compiled) on first use.
    ///
    /// # Errors
    /// As [`Validator::start`]; a failed start is not remembered, the next call tries again.
    pub fn shared(files: &SchemaFiles) -> Result<Validator, EnvelopeError> {
        static SHARED: OnceLock<Mutex<HashMap<SchemaFiles, Validator>>> = OnceLock::new();
        let mut map = SHARED
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(validator) = map.get(files) {
            return Ok(validator.clone());
        }
        let validator = Validator::start(files)?;
        map.insert(files.clone(), validator.clone());
        Ok(validator)
    }

    /// Validates a VANSEnvelope against `vans-envelope-1.0.4.xsd`.
    ///
    /// # Errors
    /// Only when the validator failed ([`EnvelopeError::ValidatorStopped`],
    /// [`EnvelopeError::ValidatorPanicked`]); an invalid or unreadable document is an invalid
    /// [`XsdReport`].
    pub fn validate_vans(&self, bytes: &[u8]) -> Result<XsdReport, EnvelopeError> {
        if let Err(issue) = gate(bytes) {
            return Ok(XsdReport::invalid(issue));
        }
        self.send(Plan::Vans, bytes)
    }

    /// Validates an ehmiSBDH envelope with the `BinaryContent` setting `rule`.
    ///
    /// # Errors
    /// As [`Validator::validate_vans`].
    pub fn validate_sbdh(
        &self,
        bytes: &[u8],
        rule: BinaryContentRule,
    ) -> Result<XsdReport, EnvelopeError> {
        let layout = match gate(bytes) {
            Ok(layout) => layout,
            Err(issue) => return Ok(XsdReport::invalid(issue)),
        };
        let Some(peppol_line) = layout.peppol_binary_content else {
            return self.send(Plan::SbdhWhole, bytes);
        };
        match rule {
            BinaryContentRule::AsPublished => {
                let mut report = self.send(Plan::SbdhWhole, bytes)?;
                report.notes.push(XsdIssue::new(
                    Some(peppol_line),
                    format!(
                        "`BinaryContent` is in the PEPPOL envelope namespace `{PEPPOL_ENVELOPE_NAMESPACE}`; the published ehmiSBDH schema expects it in `{SBDH_NAMESPACE}` (strict setting: the schema as published applies)"
                    ),
                ));
                Ok(report)
            }
            BinaryContentRule::AcceptEnvelopeSchema => {
                let mut report = self.send(Plan::SbdhSplit, bytes)?;
                let mut structure = layout.structure_errors;
                structure.append(&mut report.errors);
                report.errors = structure;
                report.notes.push(XsdIssue::new(
                    Some(peppol_line),
                    format!(
                        "`BinaryContent` is in the PEPPOL envelope namespace `{PEPPOL_ENVELOPE_NAMESPACE}`, as in MedCom's samples, while the published ehmiSBDH schema expects it in `{SBDH_NAMESPACE}`; accepted (default setting): the header was validated against the SBDH schema and `BinaryContent` against the PEPPOL envelope schema"
                    ),
                ));
                Ok(report)
            }
        }
    }

    /// Detects the envelope kind by its root element and validates it (SBDH with `rule`).
    /// A document that is neither envelope gets an invalid report and `None`.
    ///
    /// # Errors
    /// As [`Validator::validate_vans`].
    pub fn validate(
        &self,
        bytes: &[u8],
        rule: BinaryContentRule,
    ) -> Result<(Option<EnvelopeKind>, XsdReport), EnvelopeError> {
        match super::detect(bytes) {
            Ok(EnvelopeKind::Vans) => Ok((Some(EnvelopeKind::Vans), self.validate_vans(bytes)?)),
            Ok(EnvelopeKind::Sbdh) => {
                Ok((Some(EnvelopeKind::Sbdh), self.validate_sbdh(bytes, rule)?))
            }
            Err(error) => Ok((
                None,
                XsdReport::invalid(XsdIssue::new(None, error.to_string())),
            )),
        }
    }

    /// Validates a whole document against the schema file `schema` on the validator thread
    /// (where every libxml2 schema of the process lives), compiling it on first use. The
    /// document gets the same hardening as an envelope first. Used for the OIOXML releases
    /// ([`crate::oioxml::schema`]).
    ///
    /// # Errors
    /// As [`Validator::validate_vans`], and [`EnvelopeError::SchemaFile`] /
    /// [`EnvelopeError::SchemaCompile`] when `schema` cannot be read or compiled.
    pub fn validate_file(&self, schema: &Path, bytes: &[u8]) -> Result<XsdReport, EnvelopeError> {
        if let Err(issue) = gate(bytes) {
            return Ok(XsdReport::invalid(issue));
        }
        self.send_with(Plan::File, Some(schema.to_path_buf()), bytes)
    }

    fn send(&self, plan: Plan, bytes: &[u8]) -> Result<XsdReport, EnvelopeError> {
        self.send_with(plan, None, bytes)
    }

    fn send_with(
        &self,
        plan: Plan,
        schema: Option<PathBuf>,
        bytes: &[u8],
    ) -> Result<XsdReport, EnvelopeError> {
        let (reply, answer) = mpsc::channel();
        self.jobs
            .send(Job {
                plan,
                schema,
                bytes: bytes.to_vec(),
                reply,
            })
            .map_err(|_| EnvelopeError::ValidatorStopped)?;
        answer.recv().map_err(|_| EnvelopeError::ValidatorStopped)?
    }
}

/// What the hardened reader learnt about the document before libxml2 sees it.
struct Layout {
    /// Line of a `BinaryContent` in the PEPPOL namespace directly under the root, if any.
    peppol_binary_content: Option<u32>,
    /// Content-model errors of `StandardBusinessDocument` with a PEPPOL `BinaryContent`
    /// (checked here because libxml2 validates only the two children in that case).
    structure_errors: Vec<XsdIssue>,
}

/// Applies the hardening of [`super::xml`] and reads the SBDH layout.
fn gate(bytes: &[u8]) -> Result<Layout, XsdIssue> {
    let text = xml::decode(bytes).map_err(|e| XsdIssue::new(None, e.to_string()))?;
    let document = xml::parse(&text).map_err(|e| {
        let line = match &e {
            EnvelopeError::Xml { line, .. } | EnvelopeError::Doctype { line } => Some(*line),
            _ => None,
        };
        XsdIssue::new(line, e.to_string())
    })?;
    let root = document.root_element();
    let peppol = root
        .children()
        .find(|c| xml::is(*c, PEPPOL_ENVELOPE_NAMESPACE, "BinaryContent"));
    let mut structure_errors = Vec::new();
    if let Some(binary) = peppol {
        if !xml::is(root, SBDH_NAMESPACE, "StandardBusinessDocument") {
            structure_errors.push(XsdIssue::new(
                Some(xml::line(root)),
                format!(
                    "Element '{}': No matching global declaration available for the validation root.",
                    xml::expanded_name(root)
                ),
            ));
        }
        for attribute in root.attributes() {
            if attribute.namespace() != Some("http://www.w3.org/2001/XMLSchema-instance") {
                structure_errors.push(XsdIssue::new(
                    Some(xml::line(root)),
                    format!(
                        "Element '{}', attribute '{}': The attribute '{}' is not allowed.",
                        xml::expanded_name(root),
                        attribute.name(),
                        attribute.name()
                    ),
                ));
            }
        }
        let elements: Vec<_> = root
            .children()
            .filter(roxmltree::Node::is_element)
            .collect();
        let expected_header = elements
            .first()
            .is_some_and(|e| xml::is(*e, SBDH_NAMESPACE, "StandardBusinessDocumentHeader"));
        if !expected_header || elements.len() != 2 || elements[1] != binary {
            let found = elements
                .iter()
                .map(|e| xml::expanded_name(*e))
                .collect::<Vec<_>>()
                .join(", ");
            structure_errors.push(XsdIssue::new(
                Some(xml::line(root)),
                format!(
                    "Element '{}': expected ( {{{SBDH_NAMESPACE}}}StandardBusinessDocumentHeader, {{{PEPPOL_ENVELOPE_NAMESPACE}}}BinaryContent ), found ( {found} ).",
                    xml::expanded_name(root)
                ),
            ));
        }
        for text_node in root.children().filter(roxmltree::Node::is_text) {
            if text_node
                .text()
                .is_some_and(|t| !t.chars().all(xml::is_xml_space))
            {
                structure_errors.push(XsdIssue::new(
                    Some(xml::line(text_node)),
                    format!(
                        "Element '{}': Character content other than whitespace is not allowed because the content type is 'element-only'.",
                        xml::expanded_name(root)
                    ),
                ));
            }
        }
    }
    Ok(Layout {
        peppol_binary_content: peppol.map(xml::line),
        structure_errors,
    })
}

/// The XML Schema 1.0 built-in types whose `whiteSpace` is `collapse`, by local name: every
/// built-in but `string` and `normalizedString`.
const COLLAPSED_BUILTINS: &[&str] = &[
    "anyURI",
    "base64Binary",
    "boolean",
    "byte",
    "date",
    "dateTime",
    "decimal",
    "double",
    "duration",
    "ENTITIES",
    "ENTITY",
    "float",
    "gDay",
    "gMonth",
    "gMonthDay",
    "gYear",
    "gYearMonth",
    "hexBinary",
    "ID",
    "IDREF",
    "IDREFS",
    "int",
    "integer",
    "language",
    "long",
    "Name",
    "NCName",
    "negativeInteger",
    "NMTOKEN",
    "NMTOKENS",
    "nonNegativeInteger",
    "nonPositiveInteger",
    "NOTATION",
    "positiveInteger",
    "QName",
    "short",
    "time",
    "token",
    "unsignedByte",
    "unsignedInt",
    "unsignedLong",
    "unsignedShort",
];

/// The schemas, owned by the validator thread.
struct Worker {
    vans: SchemaValidationContext,
    sbdh: SchemaValidationContext,
    /// One tiny schema per built-in type (`<xs:element name="v" type="xs:T"/>`), compiled on
    /// first use, to let libxml2 judge a collapsed value.
    probes: HashMap<&'static str, Option<SchemaValidationContext>>,
    /// The schema files of [`Plan::File`], compiled on first use.
    files: HashMap<PathBuf, SchemaValidationContext>,
}

impl Worker {
    fn compile(files: &SchemaFiles) -> Result<Worker, EnvelopeError> {
        Ok(Worker {
            vans: compile_file(&files.vans)?,
            sbdh: compile_file(&files.sbdh)?,
            probes: HashMap::new(),
            files: HashMap::new(),
        })
    }

    fn run(
        &mut self,
        plan: Plan,
        schema: Option<&Path>,
        bytes: &[u8],
    ) -> Result<XsdReport, EnvelopeError> {
        if let (Plan::File, Some(path)) = (plan, schema)
            && !self.files.contains_key(path)
        {
            let context = compile_file(path)?;
            self.files.insert(path.to_path_buf(), context);
        }
        let document = match parse_instance(bytes) {
            Ok(document) => document,
            Err(issues) => {
                return Ok(XsdReport {
                    errors: issues,
                    ..XsdReport::default()
                });
            }
        };
        let raw = match plan {
            Plan::Vans => validate_document(&mut self.vans, &document),
            Plan::SbdhWhole => validate_document(&mut self.sbdh, &document),
            Plan::File => match schema.and_then(|path| self.files.get_mut(path)) {
                Some(context) => validate_document(context, &document),
                None => return Err(EnvelopeError::ValidatorStopped),
            },
            Plan::SbdhSplit => {
                let mut raw = Vec::new();
                if let Some(root) = document.get_root_element() {
                    for element in root.get_child_elements() {
                        if is_libxml(&element, SBDH_NAMESPACE, "StandardBusinessDocumentHeader")
                            || is_libxml(&element, PEPPOL_ENVELOPE_NAMESPACE, "BinaryContent")
                        {
                            raw.extend(validate_node(&mut self.sbdh, &element));
                        }
                    }
                }
                raw
            }
        };
        let mut report = XsdReport::default();
        for issue in raw {
            if self.overrules(&issue.message) {
                report.overruled.push(issue);
            } else {
                report.errors.push(issue);
            }
        }
        Ok(report)
    }

    /// Whether the standard overrules this libxml2 message (module docs).
    fn overrules(&mut self, message: &str) -> bool {
        let Some((type_name, value)) = whitespace_candidate(message) else {
            return false;
        };
        let collapsed = collapse(value);
        if collapsed == value {
            return false;
        }
        let Some(builtin) = COLLAPSED_BUILTINS.iter().copied().find(|b| *b == type_name) else {
            return false;
        };
        let probe = self.probes.entry(builtin).or_insert_with(|| {
            let schema = format!(
                "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element name=\"v\" type=\"xs:{builtin}\"/></xs:schema>"
            );
            let mut parser = SchemaParserContext::from_buffer(schema.as_bytes());
            SchemaValidationContext::from_parser(&mut parser).ok()
        });
        let Some(context) = probe.as_mut() else {
            return false;
        };
        let instance = format!("<v>{}</v>", xml::escape_text(&collapsed));
        match parse_instance(instance.as_bytes()) {
            Ok(document) => validate_document(context, &document).is_empty(),
            Err(_) => false,
        }
    }
}

/// Splits "… 'VALUE' is not a valid value of the atomic type 'xs:TYPE'." into (TYPE, VALUE).
fn whitespace_candidate(message: &str) -> Option<(&str, &str)> {
    let message = message.trim_end().strip_suffix('.')?;
    let (head, type_part) = message.rsplit_once("' is not a valid value of the atomic type '")?;
    let type_name = type_part.strip_suffix('\'')?.strip_prefix("xs:")?;
    let start = head.find("': '")? + "': '".len();
    Some((type_name, head.get(start..)?))
}

/// XML Schema `collapse`: whitespace runs become one space, leading and trailing removed.
fn collapse(value: &str) -> String {
    value
        .split(xml::is_xml_space)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn compile_file(path: &Path) -> Result<SchemaValidationContext, EnvelopeError> {
    std::fs::metadata(path).map_err(|source| EnvelopeError::SchemaFile {
        path: path.to_path_buf(),
        source,
    })?;
    let text_path = path.to_str().ok_or_else(|| EnvelopeError::SchemaFile {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path is not UTF-8"),
    })?;
    let mut parser = SchemaParserContext::from_file(text_path);
    SchemaValidationContext::from_parser(&mut parser).map_err(|errors| {
        EnvelopeError::SchemaCompile {
            path: path.to_path_buf(),
            issues: errors.iter().map(XsdIssue::from_libxml).collect(),
        }
    })
}

/// Parses a document for validation. `no_def_dtd` stays off: the crate maps it to the value 4,
/// which for XML (not HTML) is `XML_PARSE_DTDLOAD`, loading the external DTD.
fn parse_instance(bytes: &[u8]) -> Result<Document, Vec<XsdIssue>> {
    let options = ParserOptions {
        recover: false,
        no_def_dtd: false,
        no_error: true,
        no_warning: true,
        pedantic: false,
        no_blanks: false,
        no_net: true,
        no_implied: false,
        huge: true,
        compact: false,
        ignore_enc: false,
        encoding: None,
    };
    match Parser::default().parse_string_with_diagnostics(bytes, options) {
        Ok((document, _warnings)) => Ok(document),
        Err(XmlParseFailure::ParseFailed(diagnostics)) => {
            let issues: Vec<XsdIssue> = diagnostics
                .iter()
                .filter(|d| is_error(d))
                .map(XsdIssue::from_libxml)
                .collect();
            if issues.is_empty() {
                Err(vec![XsdIssue::new(
                    None,
                    "libxml2 could not parse the document",
                )])
            } else {
                Err(issues)
            }
        }
        Err(other) => Err(vec![XsdIssue::new(None, other.to_string())]),
    }
}

fn is_error(error: &StructuredError) -> bool {
    matches!(error.level, XmlErrorLevel::Error | XmlErrorLevel::Fatal)
}

fn validate_document(context: &mut SchemaValidationContext, document: &Document) -> Vec<XsdIssue> {
    context.drain_errors();
    match context.validate_document(document) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .iter()
            .filter(|e| is_error(e))
            .map(XsdIssue::from_libxml)
            .collect(),
    }
}

fn validate_node(context: &mut SchemaValidationContext, node: &Node) -> Vec<XsdIssue> {
    context.drain_errors();
    match context.validate_node(node) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .iter()
            .filter(|e| is_error(e))
            .map(XsdIssue::from_libxml)
            .collect(),
    }
}

fn is_libxml(node: &Node, namespace: &str, name: &str) -> bool {
    node.get_name() == name
        && node
            .get_namespace()
            .is_some_and(|ns| ns.get_href() == namespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whitespace_candidate_is_read_from_libxml2_messages() {
        let message = "Element '{urn:x}When': '\n    2021-02-17T09:30:10+01:00\n  ' is not a valid value of the atomic type 'xs:dateTime'.\n";
        assert_eq!(
            whitespace_candidate(message),
            Some(("dateTime", "\n    2021-02-17T09:30:10+01:00\n  "))
        );
        let attribute =
            "Element 'r', attribute 'at': ' 5 ' is not a valid value of the atomic type 'xs:int'.";
        assert_eq!(whitespace_candidate(attribute), Some(("int", " 5 ")));
        let derived = "Element 'der': ' 2020 ' is not a valid value of the atomic type 'D'.";
        assert_eq!(whitespace_candidate(derived), None);
    }

    #[test]
    fn collapse_follows_xml_schema() {
        assert_eq!(collapse("\n  a \t b\r\n"), "a b");
    }
}
