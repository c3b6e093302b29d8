//! Paths to a place in a message, and the patterns of the `ignore` and `unordered` options.
//!
//! The syntax of both is described in the module docs of [`super`]. A path is built while the
//! comparison walks the two documents; a pattern is parsed once from the options and then tested
//! against paths, step by step, with no allocation.

use std::fmt;

use super::error::{GoldenError, PatternOption};
use super::normalize::Format;

/// One step from a node to one of its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// A JSON object member.
    Key(String),
    /// A JSON array item, counted from 0.
    Index(usize),
    /// An XML element: its local name and its position among the siblings with the same
    /// namespace and local name, counted from 0. The position is written only where either
    /// document has more than one such sibling, so that single elements read as `resource`
    /// and not `resource[0]`.
    Element {
        name: String,
        index: usize,
        show_index: bool,
    },
    /// An XML attribute, by local name.
    Attribute(String),
    /// An XML text node: its position among the text siblings, written like an element's.
    Text { index: usize, show_index: bool },
}

/// The path from the document root to a node, grown and shrunk as the comparison walks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Path {
    steps: Vec<Step>,
}

impl Path {
    pub(super) fn new() -> Self {
        Self::default()
    }

    pub(super) fn push(&mut self, step: Step) {
        self.steps.push(step);
    }

    pub(super) fn pop(&mut self) {
        self.steps.pop();
    }

    /// Whether the path is exactly the JSON member `name` of the root object (`entry`).
    pub(super) fn is_top_member(&self, name: &str) -> bool {
        matches!(self.steps.as_slice(), [Step::Key(key)] if key == name)
    }

    /// Whether the path is the root element of an XML document.
    pub(super) fn is_root_element(&self) -> bool {
        matches!(self.steps.as_slice(), [Step::Element { .. }])
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (position, step) in self.steps.iter().enumerate() {
            match step {
                Step::Key(key) if position == 0 => write!(f, "{key}")?,
                Step::Key(key) => write!(f, ".{key}")?,
                Step::Index(index) => write!(f, "[{index}]")?,
                Step::Element {
                    name,
                    index,
                    show_index,
                } => {
                    write!(f, "/{name}")?;
                    if *show_index {
                        write!(f, "[{index}]")?;
                    }
                }
                Step::Attribute(name) => write!(f, "/@{name}")?,
                Step::Text { index, show_index } => {
                    write!(f, "/text()")?;
                    if *show_index {
                        write!(f, "[{index}]")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// A name in a pattern: literal, or `*` for any one name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NameMatch {
    Any,
    Is(String),
}

impl NameMatch {
    fn new(name: &str) -> Self {
        if name == "*" {
            Self::Any
        } else {
            Self::Is(name.to_owned())
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Is(wanted) => wanted == name,
        }
    }
}

/// An index in a pattern: a number, or `[*]` for any index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IndexMatch {
    Any,
    Is(usize),
}

impl IndexMatch {
    fn matches(self, index: usize) -> bool {
        match self {
            Self::Any => true,
            Self::Is(wanted) => wanted == index,
        }
    }
}

/// One step of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PatternStep {
    Key(NameMatch),
    Index(IndexMatch),
    /// An XML element; no index matches every position, as in XPath.
    Element(NameMatch, Option<IndexMatch>),
    Attribute(NameMatch),
    Text(Option<IndexMatch>),
}

impl PatternStep {
    fn matches(&self, step: &Step) -> bool {
        match (self, step) {
            (Self::Key(wanted), Step::Key(key)) => wanted.matches(key),
            (Self::Index(wanted), Step::Index(index)) => wanted.matches(*index),
            (Self::Element(wanted, wanted_index), Step::Element { name, index, .. }) => {
                wanted.matches(name) && wanted_index.is_none_or(|i| i.matches(*index))
            }
            (Self::Attribute(wanted), Step::Attribute(name)) => wanted.matches(name),
            (Self::Text(wanted_index), Step::Text { index, .. }) => {
                wanted_index.is_none_or(|i| i.matches(*index))
            }
            _ => false,
        }
    }
}

/// A parsed `ignore` or `unordered` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pattern {
    steps: Vec<PatternStep>,
}

impl Pattern {
    /// Parses `text` as a pattern for documents in `format`.
    pub(super) fn parse(
        text: &str,
        format: Format,
        option: PatternOption,
    ) -> Result<Self, GoldenError> {
        let steps = match format {
            Format::Json => parse_json(text),
            Format::Xml => parse_xml(text),
        }
        .map_err(|reason| GoldenError::BadPath {
            option,
            pattern: text.to_owned(),
            reason,
        })?;
        Ok(Self { steps })
    }

    /// Whether the pattern names exactly the node at `path`.
    pub(super) fn matches(&self, path: &Path) -> bool {
        self.steps.len() == path.steps.len()
            && self
                .steps
                .iter()
                .zip(&path.steps)
                .all(|(wanted, step)| wanted.matches(step))
    }

    /// Whether the pattern names the JSON array at `path`, either as the array itself (`entry`)
    /// or as all of its items (`entry[*]`).
    pub(super) fn matches_array(&self, path: &Path) -> bool {
        if self.matches(path) {
            return true;
        }
        match self.steps.split_last() {
            Some((PatternStep::Index(IndexMatch::Any), parent)) => {
                parent.len() == path.steps.len()
                    && parent
                        .iter()
                        .zip(&path.steps)
                        .all(|(wanted, step)| wanted.matches(step))
            }
            _ => false,
        }
    }
}

/// Parses a JSON pattern: `name` segments joined by `.`, each followed by any number of `[N]` or
/// `[*]`; `*` is any one name. A leading `[…]` addresses items of a root array.
fn parse_json(text: &str) -> Result<Vec<PatternStep>, String> {
    check_common(text)?;
    if text.starts_with('/') {
        return Err("this is an XML path (it starts with `/`), but the golden is JSON".to_owned());
    }
    let mut steps = Vec::new();
    for (position, segment) in text.split('.').enumerate() {
        let (name, mut rest) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
        if name.is_empty() && (position > 0 || rest.is_empty()) {
            return Err("a name between two `.` is empty".to_owned());
        }
        if name.contains(']') {
            return Err(format!("`{name}` has a `]` without a `[`"));
        }
        if !name.is_empty() {
            steps.push(PatternStep::Key(NameMatch::new(name)));
        }
        while !rest.is_empty() {
            let (index, after) = parse_index(rest)?;
            steps.push(PatternStep::Index(index));
            rest = after;
        }
    }
    Ok(steps)
}

/// Parses an XML pattern: `/`-separated element names, each optionally followed by one `[N]` or
/// `[*]`; a last step may be `@name` or `text()` (optionally with an index).
fn parse_xml(text: &str) -> Result<Vec<PatternStep>, String> {
    check_common(text)?;
    let Some(body) = text.strip_prefix('/') else {
        return Err(
            "this is a JSON path, but the golden is XML, whose paths start with `/`".to_owned(),
        );
    };
    let segments: Vec<&str> = body.split('/').collect();
    let last = segments.len() - 1;
    let mut steps = Vec::new();
    for (position, segment) in segments.into_iter().enumerate() {
        if segment.is_empty() {
            return Err("a name between two `/` is empty".to_owned());
        }
        let is_last = position == last;
        if let Some(name) = segment.strip_prefix('@') {
            if !is_last {
                return Err(format!("attribute `@{name}` can only be the last step"));
            }
            check_xml_name(name)?;
            steps.push(PatternStep::Attribute(NameMatch::new(name)));
        } else if let Some(rest) = segment.strip_prefix("text()") {
            if !is_last {
                return Err("`text()` can only be the last step".to_owned());
            }
            steps.push(PatternStep::Text(parse_optional_index(rest)?));
        } else {
            let (name, rest) = segment.split_at(segment.find('[').unwrap_or(segment.len()));
            check_xml_name(name)?;
            steps.push(PatternStep::Element(
                NameMatch::new(name),
                parse_optional_index(rest)?,
            ));
        }
    }
    Ok(steps)
}

fn check_common(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("the path is empty".to_owned());
    }
    if text.chars().any(char::is_whitespace) {
        return Err("paths hold no whitespace".to_owned());
    }
    Ok(())
}

fn check_xml_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name is empty".to_owned());
    }
    if name.contains(':') {
        return Err(format!(
            "`{name}` has a namespace prefix; paths use local names only, because prefixes \
             differ between documents"
        ));
    }
    if name.contains(['[', ']', '@']) {
        return Err(format!("`{name}` is not a name"));
    }
    Ok(())
}

/// Parses one `[N]` or `[*]` at the start of `text`, returning it and the text after it.
fn parse_index(text: &str) -> Result<(IndexMatch, &str), String> {
    let inner_and_rest = text
        .strip_prefix('[')
        .ok_or_else(|| format!("expected `[N]` or `[*]`, found `{text}`"))?;
    let close = inner_and_rest
        .find(']')
        .ok_or_else(|| format!("`{text}` has a `[` without a `]`"))?;
    let inner = &inner_and_rest[..close];
    let index = if inner == "*" {
        IndexMatch::Any
    } else if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
        IndexMatch::Is(
            inner
                .parse()
                .map_err(|_| format!("index `{inner}` is too large"))?,
        )
    } else {
        return Err(format!("index `[{inner}]` is neither a number nor `*`"));
    };
    Ok((index, &inner_and_rest[close + 1..]))
}

/// Parses nothing or exactly one `[N]`/`[*]` that ends the text.
fn parse_optional_index(text: &str) -> Result<Option<IndexMatch>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let (index, rest) = parse_index(text)?;
    if !rest.is_empty() {
        return Err(format!("unexpected `{rest}` after an index"));
    }
    Ok(Some(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_path(steps: Vec<Step>) -> Path {
        Path { steps }
    }

    fn element(name: &str, index: usize) -> Step {
        Step::Element {
            name: name.to_owned(),
            index,
            show_index: true,
        }
    }

    fn pattern(text: &str, format: Format) -> Pattern {
        Pattern::parse(text, format, PatternOption::Ignore).expect("a valid pattern")
    }

    fn reason(text: &str, format: Format) -> String {
        match Pattern::parse(text, format, PatternOption::Ignore) {
            Err(GoldenError::BadPath { reason, .. }) => reason,
            other => panic!("expected a bad path, got {other:?}"),
        }
    }

    #[test]
    fn json_paths_read_like_fhirpath() {
        let path = json_path(vec![
            Step::Key("entry".into()),
            Step::Index(0),
            Step::Key("resource".into()),
            Step::Key("response".into()),
            Step::Key("identifier".into()),
        ]);
        assert_eq!(path.to_string(), "entry[0].resource.response.identifier");
    }

    #[test]
    fn xml_paths_show_indices_only_for_repeated_elements() {
        let path = json_path(vec![
            Step::Element {
                name: "Bundle".into(),
                index: 0,
                show_index: false,
            },
            element("entry", 0),
            Step::Element {
                name: "resource".into(),
                index: 0,
                show_index: false,
            },
            Step::Attribute("value".into()),
        ]);
        assert_eq!(path.to_string(), "/Bundle/entry[0]/resource/@value");
    }

    #[test]
    fn json_wildcards_match_any_index_and_any_name() {
        let path = json_path(vec![
            Step::Key("entry".into()),
            Step::Index(3),
            Step::Key("resource".into()),
            Step::Key("meta".into()),
        ]);
        assert!(pattern("entry[*].resource.meta", Format::Json).matches(&path));
        assert!(pattern("entry[3].*.meta", Format::Json).matches(&path));
        assert!(!pattern("entry[2].resource.meta", Format::Json).matches(&path));
        assert!(!pattern("entry[*].resource", Format::Json).matches(&path));
        assert!(!pattern("entry.resource.meta", Format::Json).matches(&path));
    }

    #[test]
    fn json_unordered_names_the_array_or_its_items() {
        let path = json_path(vec![Step::Key("entry".into())]);
        assert!(pattern("entry", Format::Json).matches_array(&path));
        assert!(pattern("entry[*]", Format::Json).matches_array(&path));
        assert!(!pattern("entry[0]", Format::Json).matches_array(&path));
    }

    #[test]
    fn xml_element_without_index_matches_every_position() {
        let path = json_path(vec![
            element("Bundle", 0),
            element("entry", 2),
            element("resource", 0),
        ]);
        assert!(pattern("/Bundle/entry/resource", Format::Xml).matches(&path));
        assert!(pattern("/Bundle/entry[*]/resource", Format::Xml).matches(&path));
        assert!(pattern("/*/entry[2]/*", Format::Xml).matches(&path));
        assert!(!pattern("/Bundle/entry[1]/resource", Format::Xml).matches(&path));
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(reason("/Bundle/id", Format::Json).contains("XML path"));
        assert!(reason("entry.id", Format::Xml).contains("JSON path"));
        assert!(reason("entry..id", Format::Json).contains("empty"));
        assert!(reason("entry[x]", Format::Json).contains("neither a number"));
        assert!(reason("entry[0", Format::Json).contains("without a `]`"));
        assert!(reason("entry ", Format::Json).contains("whitespace"));
        assert!(reason("/Bundle/f:id", Format::Xml).contains("prefix"));
        assert!(reason("/Bundle/@id/x", Format::Xml).contains("last step"));
        assert!(reason("/Bundle/", Format::Xml).contains("empty"));
        assert!(reason("", Format::Xml).contains("empty"));
    }
}
