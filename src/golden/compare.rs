//! The structural comparison of a golden with an actual message.
//!
//! The walk takes both documents at once and yields, besides the differences, a *view* of each:
//! the document with ignored paths removed and, for the actual message, with every value that
//! satisfied a placeholder replaced by the golden's text and unordered items put in the order
//! they were paired in. The two views of matching documents are equal, so the line diff of their
//! pretty texts shows only real differences.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use similar::{Algorithm, DiffOp, TextDiff};

use super::error::{GoldenError, PatternOption, Side};
use super::fhir::{self, EntryKeys};
use super::normalize::{self, Attribute, Document, Element, Node};
use super::path::{Path, Pattern, Step};
use super::placeholder::{Template, UnknownCapture, UnknownPlaceholder};

/// How to compare: the values captured by earlier steps and the paths to treat specially.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompareOptions {
    /// Values for `{{capture:NAME}}`, by name (e.g. `first.letter-id`).
    pub captures: BTreeMap<String, String>,
    /// Patterns of paths left out of the comparison on both sides, e.g. `entry[*].resource.meta`.
    pub ignore: Vec<String>,
    /// Patterns of JSON arrays (or XML parents) whose items (children) may come in any order,
    /// e.g. `entry`.
    pub unordered: Vec<String>,
}

/// The outcome of a comparison: what differs, and a diff for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Every difference, in the order of the normalized form that [`Comparison::diff`] shows;
    /// empty when the message matches.
    pub differences: Vec<Difference>,
    /// Unified diff of the normalized forms, for people; empty when the message matches.
    ///
    /// Its header is `--- golden` / `+++ actual`. Values that satisfied a placeholder show as the
    /// placeholder, ignored paths are left out, unordered items appear in the order they were
    /// paired in, so `-` and `+` lines mark real differences only.
    pub diff: String,
    /// The actual message in normalized form with every value that satisfied a placeholder
    /// written as that placeholder, ignored paths left out: what `--update-golden` writes over an
    /// existing golden, so the placeholders survive an update. Empty when the message matches
    /// (there is nothing to update).
    pub updated_golden: String,
}

impl Comparison {
    /// Whether the actual message matches the golden: no differences at all.
    pub fn is_match(&self) -> bool {
        self.differences.is_empty()
    }
}

/// One place where the actual message does not match the golden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// Where: the golden's path, except for [`DifferenceKind::Unexpected`], where it is the actual
    /// message's path. The syntax is in the module docs.
    pub path: String,
    /// What kind of difference.
    pub kind: DifferenceKind,
    /// The golden's value, with captured values filled in; `None` for `Unexpected`. JSON values
    /// are given as compact JSON text (strings quoted), XML values as the attribute value, the
    /// text, or the normalized element on one line.
    pub expected: Option<String>,
    /// The actual message's value, in the same form; `None` for `Missing`.
    pub actual: Option<String>,
}

/// Tells a person what a difference is: where (the path), what was expected, what was found,
/// in words and never in the names of this module's types.
///
/// ``` `entry[0].resource.response.code`: expected `"ok"`, found `"fatal-error"` ```; a missing
/// value says `missing, expected …`, an extra one `not in the golden, found …`, a value against
/// a placeholder `expected a value matching …` (or the expected value itself once captures are
/// filled in), two values of different JSON types name both types.
impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expected = self.expected.as_deref().unwrap_or_default();
        let actual = self.actual.as_deref().unwrap_or_default();
        let path = &self.path;
        match &self.kind {
            DifferenceKind::Missing => write!(f, "`{path}`: missing, expected `{expected}`"),
            DifferenceKind::Unexpected => {
                write!(f, "`{path}`: not in the golden, found `{actual}`")
            }
            DifferenceKind::ValueMismatch => {
                write!(f, "`{path}`: expected `{expected}`, found `{actual}`")
            }
            DifferenceKind::PlaceholderMismatch { placeholder } => {
                // Once captures are filled in and no placeholder is left, the expected value is
                // exact and worth showing.
                if expected.contains("{{") {
                    write!(
                        f,
                        "`{path}`: expected a value matching `{placeholder}`, found `{actual}`"
                    )
                } else {
                    write!(
                        f,
                        "`{path}`: expected `{expected}` (the golden's `{placeholder}`), found `{actual}`"
                    )
                }
            }
            DifferenceKind::TypeMismatch => write!(
                f,
                "`{path}`: expected {} `{expected}`, found {} `{actual}`",
                json_type(expected),
                json_type(actual)
            ),
        }
    }
}

/// The JSON type of a value written as compact JSON text, with its article, for people.
fn json_type(text: &str) -> &'static str {
    match text.chars().next() {
        Some('"') => "a string",
        Some('{') => "an object",
        Some('[') => "an array",
        Some('t' | 'f') => "a boolean",
        Some('n') => "a null",
        _ => "a number",
    }
}

/// The kinds of [`Difference`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DifferenceKind {
    /// The golden has a member, item, element, attribute or text the actual message lacks.
    Missing,
    /// The actual message has a member, item, element, attribute or text the golden lacks.
    Unexpected,
    /// Both have a value of the same type, and the values differ.
    ValueMismatch,
    /// The golden's value holds placeholders and the actual value does not match it.
    PlaceholderMismatch {
        /// The golden's text as written, e.g. `{{uuid}}` or `MessageHeader/{{capture:first.letter-id}}`.
        placeholder: String,
    },
    /// Both have a JSON value and their types differ (e.g. string and number, object and array).
    TypeMismatch,
}

impl fmt::Display for DifferenceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "missing",
            Self::Unexpected => "not in the golden",
            Self::ValueMismatch => "different value",
            Self::PlaceholderMismatch { .. } => "does not match the placeholder",
            Self::TypeMismatch => "different type",
        })
    }
}

/// Compares the `actual` message with the `expected` golden.
///
/// Both are FHIR JSON or FHIR XML, told apart by the first character that is not whitespace
/// (`{` or `<`); a FHIR message in the other form than the golden is converted to the golden's
/// form first. FHIR's own equality rules apply (message entries as a set, base64Binary by its
/// bytes). The rules are in the module docs. To compare many messages with one golden, read it
/// once with [`PreparedGolden::parse`] and call [`PreparedGolden::compare`]: the outcome is the
/// same.
///
/// # Errors
///
/// [`GoldenError`] when either document cannot be read (with which one and where), the formats
/// differ and the XML one is not FHIR, the actual message cannot be converted through the FHIR
/// model, the golden has an unknown placeholder or capture, or a pattern in `opts` cannot be
/// parsed. A mismatch is never an error.
pub fn compare(
    expected: &[u8],
    actual: &[u8],
    opts: &CompareOptions,
) -> Result<Comparison, GoldenError> {
    PreparedGolden::parse(expected)?.compare(actual, opts)
}

/// A golden read once and ready to be compared with any number of actual messages: parsed,
/// its base64Binary values in canonical form, its placeholders read.
///
/// Preparing is what a comparison costs on the golden's side, so a run that holds one prepared
/// golden per file (see [`super::GoldenCache`]) reads each golden once. What depends on the
/// comparison (captures, patterns) is checked by [`PreparedGolden::compare`], in the same order
/// and with the same errors as [`compare()`].
#[derive(Debug)]
pub struct PreparedGolden {
    /// The golden, parsed, with canonical base64Binary values.
    document: Document,
    /// The captures the golden names, in the order a check of the golden meets them; the
    /// walk ends with the first unknown placeholder, if any.
    needs: Vec<Need>,
}

/// What a golden's placeholders need of a comparison, found when it was prepared.
#[derive(Debug)]
enum Need {
    /// A `{{capture:NAME}}` at `path`: `name` must have been captured.
    Capture { name: String, path: String },
    /// A `{{…}}` that is no placeholder, at `path`: the golden is broken.
    UnknownPlaceholder { placeholder: String, path: String },
}

impl PreparedGolden {
    /// Reads a golden (FHIR JSON or XML, told by its first character).
    ///
    /// # Errors
    ///
    /// [`GoldenError`] when the golden cannot be parsed. A broken placeholder is not an error
    /// here: [`PreparedGolden::compare`] reports it, after any error of the actual message, as
    /// [`compare()`] does.
    pub fn parse(expected: &[u8]) -> Result<Self, GoldenError> {
        let mut document = normalize::parse(expected, Side::Golden)?;
        match &mut document {
            Document::Json(golden) => fhir::canonical_base64_json(golden),
            Document::Xml(golden) => fhir::canonical_base64_xml(golden),
        }
        let mut needs = Vec::new();
        let mut note = |text: &str, path: &Path| match Template::parse(text) {
            Ok(None) => ControlFlow::Continue(()),
            Ok(Some(template)) => {
                needs.extend(template.capture_names().map(|name| Need::Capture {
                    name: name.to_owned(),
                    path: path.to_string(),
                }));
                ControlFlow::Continue(())
            }
            Err(UnknownPlaceholder(placeholder)) => {
                needs.push(Need::UnknownPlaceholder {
                    placeholder,
                    path: path.to_string(),
                });
                ControlFlow::Break(())
            }
        };
        let _ = match &document {
            Document::Json(golden) => visit_json(golden, &mut Path::new(), &mut note),
            Document::Xml(golden) => {
                visit_element(golden, &mut Path::new(), root_step(golden), &mut note)
            }
        };
        Ok(Self { document, needs })
    }

    /// Compares the `actual` message with this golden, as [`compare()`] does.
    ///
    /// # Errors
    ///
    /// As [`compare()`].
    pub fn compare(&self, actual: &[u8], opts: &CompareOptions) -> Result<Comparison, GoldenError> {
        let golden = &self.document;
        let parsed = normalize::parse(actual, Side::Actual)?;
        let mut actual = fhir::actual_as(golden, parsed, actual)?;
        let format = golden.format();
        if actual.format() != format {
            return Err(GoldenError::FormatMismatch {
                golden: format,
                actual: actual.format(),
            });
        }
        match &mut actual {
            Document::Json(actual) => {
                fhir::canonical_base64_json(actual);
                self.judge(Actual::Json(actual), opts)
            }
            Document::Xml(actual) => {
                fhir::canonical_base64_xml(actual);
                self.judge(Actual::Xml(actual), opts)
            }
        }
    }

    /// As [`Self::compare`], for an actual message in FHIR JSON that the caller holds parsed
    /// already: `resource` must be what `actual` parses to as JSON (as
    /// [`crate::message::Message::resource`] is for a message in JSON), so that it is not parsed
    /// a second time. With an XML golden the bytes are compared as [`Self::compare`] does.
    ///
    /// # Errors
    ///
    /// As [`compare()`].
    pub fn compare_json(
        &self,
        actual: &[u8],
        resource: &Value,
        opts: &CompareOptions,
    ) -> Result<Comparison, GoldenError> {
        if !matches!(self.document, Document::Json(_)) {
            return self.compare(actual, opts);
        }
        // The message is copied only when a base64Binary value must lose its whitespace.
        let canonical;
        let resource = if fhir::has_spaced_base64(resource) {
            let mut copy = resource.clone();
            fhir::canonical_base64_json(&mut copy);
            canonical = copy;
            &canonical
        } else {
            resource
        };
        self.judge(Actual::Json(resource), opts)
    }

    /// Compares the actual message, in the golden's format with canonical base64Binary values.
    fn judge(&self, actual: Actual<'_>, opts: &CompareOptions) -> Result<Comparison, GoldenError> {
        let golden = &self.document;
        let format = golden.format();
        let message = match (golden, actual) {
            (Document::Json(golden), Actual::Json(actual)) => fhir::is_message_json(golden, actual),
            (Document::Xml(golden), Actual::Xml(actual)) => fhir::is_message_xml(golden, actual),
            _ => false,
        };
        let walker = Walker {
            captures: &opts.captures,
            ignore: parse_patterns(&opts.ignore, format, PatternOption::Ignore)?,
            unordered: parse_patterns(&opts.unordered, format, PatternOption::Unordered)?,
            message,
        };
        // Every placeholder of the golden is checked up front, so that a broken golden is an
        // error whatever the actual message holds, even in ignored or unreached places.
        for need in &self.needs {
            match need {
                Need::Capture { name, path } => {
                    if !opts.captures.contains_key(name) {
                        return Err(GoldenError::UnknownCapture {
                            name: name.clone(),
                            path: path.clone(),
                            known: opts.captures.keys().cloned().collect(),
                        });
                    }
                }
                Need::UnknownPlaceholder { placeholder, path } => {
                    return Err(GoldenError::UnknownPlaceholder {
                        placeholder: placeholder.clone(),
                        path: path.clone(),
                    });
                }
            }
        }
        if let (Document::Json(golden), Actual::Json(actual)) = (golden, actual) {
            // Most comparisons of a run match: tell so without building the views. Anything
            // else, an error included, goes through the full walk below, which decides.
            let same = walker.same_json(golden, actual, &mut Path::new());
            debug_assert!(
                same.as_ref().is_err()
                    || same.as_ref().ok() == Some(&walker.json_matches(golden, actual)),
                "the quick walk and the full walk disagree on whether the documents match"
            );
            if let Ok(true) = same {
                return Ok(Comparison {
                    differences: Vec::new(),
                    diff: String::new(),
                    updated_golden: String::new(),
                });
            }
        }
        let mut differences = Vec::new();
        let (golden_view, actual_view) = match (golden, actual) {
            (Document::Json(golden), Actual::Json(actual)) => {
                let (g, a) = walker.json(golden, actual, &mut Path::new(), &mut differences)?;
                (Document::Json(g), Document::Json(a))
            }
            (Document::Xml(golden), Actual::Xml(actual)) => {
                let (g, a) = walker.xml_root(golden, actual, &mut differences)?;
                (Document::Xml(g), Document::Xml(a))
            }
            _ => {
                return Err(GoldenError::FormatMismatch {
                    golden: format,
                    actual: actual.format(),
                });
            }
        };
        if differences.is_empty() {
            // A match has nothing to show or update: rendering both forms and diffing them was a
            // third of a comparison's time, spent on every passing scenario.
            return Ok(Comparison {
                differences,
                diff: String::new(),
                updated_golden: String::new(),
            });
        }
        let updated_golden = normalize::render(&actual_view);
        let diff = unified_diff(&normalize::render(&golden_view), &updated_golden);
        Ok(Comparison {
            differences,
            diff,
            updated_golden,
        })
    }
}

/// The actual message as [`PreparedGolden::judge`] compares it, borrowed.
#[derive(Debug, Clone, Copy)]
enum Actual<'a> {
    Json(&'a Value),
    Xml(&'a Element),
}

impl Actual<'_> {
    fn format(self) -> normalize::Format {
        match self {
            Self::Json(_) => normalize::Format::Json,
            Self::Xml(_) => normalize::Format::Xml,
        }
    }
}

/// Calls `note` with every string of a JSON golden and its path, in document order, until it
/// breaks.
fn visit_json(
    golden: &Value,
    path: &mut Path,
    note: &mut impl FnMut(&str, &Path) -> ControlFlow<()>,
) -> ControlFlow<()> {
    match golden {
        Value::String(text) => note(text, path),
        Value::Array(items) => items.iter().enumerate().try_for_each(|(index, item)| {
            path.push(Step::Index(index));
            let visited = visit_json(item, path, note);
            path.pop();
            visited
        }),
        Value::Object(members) => members.iter().try_for_each(|(key, member)| {
            path.push(Step::Key(key.clone()));
            let visited = visit_json(member, path, note);
            path.pop();
            visited
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => ControlFlow::Continue(()),
    }
}

/// Calls `note` with every attribute value and text of an XML golden and its path, in document
/// order, until it breaks, like [`visit_json`].
fn visit_element(
    golden: &Element,
    path: &mut Path,
    step: Step,
    note: &mut impl FnMut(&str, &Path) -> ControlFlow<()>,
) -> ControlFlow<()> {
    path.push(step);
    for attribute in &golden.attributes {
        path.push(Step::Attribute(attribute.name.clone()));
        let visited = note(&attribute.value, path);
        path.pop();
        visited?;
    }
    let (children, counts) = index_children(&golden.children);
    for child in children {
        let step = child.step(counts.get(&child.key).is_some_and(|&n| n > 1));
        match child.node {
            Node::Element(element) => visit_element(element, path, step, note)?,
            Node::Text(text) => {
                path.push(step);
                let visited = note(text, path);
                path.pop();
                visited?;
            }
        }
    }
    path.pop();
    ControlFlow::Continue(())
}

/// How long the line diff and the alignment of XML siblings may search for the smallest edit
/// before settling for a larger one; a bound keeps hostile input from stalling a run.
const SEARCH_TIME: Duration = Duration::from_secs(2);

fn unified_diff(golden: &str, actual: &str) -> String {
    if golden == actual {
        return String::new();
    }
    TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(SEARCH_TIME)
        .diff_lines(golden, actual)
        .unified_diff()
        .context_radius(3)
        .header("golden", "actual")
        .to_string()
}

fn parse_patterns(
    texts: &[String],
    format: normalize::Format,
    option: PatternOption,
) -> Result<Vec<Pattern>, GoldenError> {
    texts
        .iter()
        .map(|text| Pattern::parse(text, format, option))
        .collect()
}

fn difference(
    path: &Path,
    kind: DifferenceKind,
    expected: Option<String>,
    actual: Option<String>,
) -> Difference {
    Difference {
        path: path.to_string(),
        kind,
        expected,
        actual,
    }
}

/// The outcome of comparing one golden item with one actual item.
struct Attempt<V> {
    differences: Vec<Difference>,
    golden: V,
    actual: V,
}

/// The result of pairing unordered items: for each golden item the comparison with the actual
/// item paired with it, if any, and which actual items were taken.
struct Pairing<V> {
    pairs: Vec<Option<Attempt<V>>>,
    taken: Vec<bool>,
}

impl<V> Pairing<V> {
    /// Whether every golden item is paired without a difference and every actual item taken:
    /// the paired arrays have no difference at all.
    fn is_perfect(&self) -> bool {
        self.pairs
            .iter()
            .all(|pair| pair.as_ref().is_some_and(|p| p.differences.is_empty()))
            && self.taken.iter().all(|&taken| taken)
    }
}

/// Pairs golden items with actual items regardless of order.
///
/// First each golden item, in order, takes the first free actual item it matches without any
/// difference; then each golden item still alone takes the free `compatible` actual item with the
/// fewest differences, so that a changed item is reported as its changes and not as one missing
/// and one unexpected item. Greedy pairing can miss a perfect pairing when `{{any}}` lets one golden
/// item match several actual items; goldens should make unordered items distinguishable.
fn pair<V>(
    golden_len: usize,
    actual_len: usize,
    compatible: impl Fn(usize, usize) -> bool,
    attempt: impl FnMut(usize, usize) -> Result<Attempt<V>, GoldenError>,
) -> Result<Pairing<V>, GoldenError> {
    pair_keyed(
        golden_len,
        actual_len,
        |_| None::<()>,
        |_| (),
        compatible,
        attempt,
    )
}

/// [`pair`], with the items' contents as keys, so that the first pass costs one look-up per
/// golden item instead of a comparison with every free actual item: `golden_key` is a golden
/// item's content when it holds no placeholder (`None` otherwise), `actual_key` an actual item's
/// content, written the same way. A golden item with a key takes the first free actual item with
/// the same content (identical items match without any difference); one with no identical
/// actual item waits for the second pass, which pairs it with an item it matches without a
/// difference too when there is one (`ignore` can make different items equal). A golden item
/// with placeholders is compared with the free items in turn, as before. So items that are
/// repeated or merely reordered pair in linear time; only the items that differ are compared
/// with each other.
fn pair_keyed<V, K: std::hash::Hash + Eq>(
    golden_len: usize,
    actual_len: usize,
    golden_key: impl Fn(usize) -> Option<K>,
    actual_key: impl Fn(usize) -> K,
    compatible: impl Fn(usize, usize) -> bool,
    mut attempt: impl FnMut(usize, usize) -> Result<Attempt<V>, GoldenError>,
) -> Result<Pairing<V>, GoldenError> {
    let golden_keys: Vec<Option<K>> = (0..golden_len).map(golden_key).collect();
    // Actual items by content, each list in the actual's order.
    let mut twins: HashMap<K, std::collections::VecDeque<usize>> = HashMap::new();
    if golden_keys.iter().any(Option::is_some) {
        for a in 0..actual_len {
            twins.entry(actual_key(a)).or_default().push_back(a);
        }
    }
    let mut pairs: Vec<Option<Attempt<V>>> = (0..golden_len).map(|_| None).collect();
    let mut taken = vec![false; actual_len];
    for (g, slot) in pairs.iter_mut().enumerate() {
        if let Some(key) = &golden_keys[g] {
            let twin = twins.get_mut(key).and_then(|list| {
                while list.front().is_some_and(|&a| taken[a]) {
                    list.pop_front();
                }
                list.iter()
                    .copied()
                    .find(|&a| !taken[a] && compatible(g, a))
            });
            if let Some(a) = twin {
                let outcome = attempt(g, a)?;
                if outcome.differences.is_empty() {
                    taken[a] = true;
                    *slot = Some(outcome);
                    continue;
                }
            } else {
                continue;
            }
        }
        for (a, is_taken) in taken.iter_mut().enumerate() {
            if *is_taken || !compatible(g, a) {
                continue;
            }
            let outcome = attempt(g, a)?;
            if outcome.differences.is_empty() {
                *is_taken = true;
                *slot = Some(outcome);
                break;
            }
        }
    }
    for (g, slot) in pairs.iter_mut().enumerate() {
        if slot.is_some() {
            continue;
        }
        let mut best: Option<(usize, Attempt<V>)> = None;
        for (a, is_taken) in taken.iter().enumerate() {
            if *is_taken || !compatible(g, a) {
                continue;
            }
            let outcome = attempt(g, a)?;
            let better = best
                .as_ref()
                .is_none_or(|(_, b)| outcome.differences.len() < b.differences.len());
            if better {
                best = Some((a, outcome));
            }
        }
        if let Some((a, outcome)) = best {
            if let Some(is_taken) = taken.get_mut(a) {
                *is_taken = true;
            }
            *slot = Some(outcome);
        }
    }
    Ok(Pairing { pairs, taken })
}

/// A JSON item's content as [`pair_keyed`] keys it: its JSON text; for a golden item, `None`
/// when it holds a placeholder (`{{`), which matches more than its own text.
fn json_key(item: &Value, golden: bool) -> Option<String> {
    let text = serde_json::to_string(item).ok()?;
    (!golden || !text.contains("{{")).then_some(text)
}

/// Whether an XML node holds a placeholder (`{{`) in any text or attribute value.
fn has_placeholder(node: &Node) -> bool {
    match node {
        Node::Text(text) => text.contains("{{"),
        Node::Element(element) => {
            element.attributes.iter().any(|a| a.value.contains("{{"))
                || element.children.iter().any(has_placeholder)
        }
    }
}

/// What identifies an XML child for alignment: elements by namespace and local name, text as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ChildKey<'a> {
    Element(&'a str, &'a str),
    Text,
}

/// An XML child with its position among the siblings that share its key.
#[derive(Debug, Clone, Copy)]
struct Child<'a> {
    node: &'a Node,
    key: ChildKey<'a>,
    index: usize,
}

impl Child<'_> {
    fn step(&self, show_index: bool) -> Step {
        match self.node {
            Node::Element(element) => Step::Element {
                name: element.name.clone(),
                index: self.index,
                show_index,
            },
            Node::Text(_) => Step::Text {
                index: self.index,
                show_index,
            },
        }
    }
}

/// Keys and positions of all `children`, and how many share each key.
fn index_children(children: &[Node]) -> (Vec<Child<'_>>, HashMap<ChildKey<'_>, usize>) {
    let mut counts: HashMap<ChildKey<'_>, usize> = HashMap::new();
    let indexed = children
        .iter()
        .map(|node| {
            let key = match node {
                Node::Element(element) => ChildKey::Element(&element.namespace, &element.name),
                Node::Text(_) => ChildKey::Text,
            };
            let count = counts.entry(key).or_insert(0);
            let index = *count;
            *count += 1;
            Child { node, key, index }
        })
        .collect();
    (indexed, counts)
}

fn root_step(element: &Element) -> Step {
    Step::Element {
        name: element.name.clone(),
        index: 0,
        show_index: false,
    }
}

/// The comparison's settings, shared by every step of the walk.
struct Walker<'a> {
    captures: &'a BTreeMap<String, String>,
    ignore: Vec<Pattern>,
    unordered: Vec<Pattern>,
    /// Whether the golden is a FHIR message Bundle, whose entries after `entry[0]` are a set.
    message: bool,
}

impl Walker<'_> {
    fn ignored(&self, path: &Path) -> bool {
        self.ignore.iter().any(|pattern| pattern.matches(path))
    }

    /// Parses a golden string into a template, checking its placeholders and captures.
    fn template(&self, text: &str, path: &Path) -> Result<Option<Template>, GoldenError> {
        let template = Template::parse(text).map_err(|UnknownPlaceholder(placeholder)| {
            GoldenError::UnknownPlaceholder {
                placeholder,
                path: path.to_string(),
            }
        })?;
        if let Some(template) = &template
            && let Some(name) = template
                .capture_names()
                .find(|name| !self.captures.contains_key(*name))
        {
            return Err(self.unknown_capture(name, path));
        }
        Ok(template)
    }

    fn unknown_capture(&self, name: &str, path: &Path) -> GoldenError {
        GoldenError::UnknownCapture {
            name: name.to_owned(),
            path: path.to_string(),
            known: self.captures.keys().cloned().collect(),
        }
    }

    fn matches(&self, template: &Template, value: &str, path: &Path) -> Result<bool, GoldenError> {
        template
            .matches(value, self.captures)
            .map_err(|UnknownCapture(name)| self.unknown_capture(&name, path))
    }

    /// Compares two JSON values at `path`, returning their views.
    fn json(
        &self,
        golden: &Value,
        actual: &Value,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Value, Value), GoldenError> {
        if let Value::String(text) = golden
            && let Some(template) = self.template(text, path)?
        {
            return self.json_template(&template, text, actual, path, out);
        }
        match (golden, actual) {
            (Value::Object(g), Value::Object(a)) => self.json_object(g, a, path, out),
            (Value::Array(g), Value::Array(a)) => match self.array_pairing(path) {
                Some(entries) => {
                    let (golden_items, actual_items, pairing) =
                        self.pair_json_array(entries, g, a, path, Self::view_attempt)?;
                    Ok(self.json_paired(&golden_items, &actual_items, pairing, path, out))
                }
                None => self.json_ordered(g, a, path, out),
            },
            (Value::Null, Value::Null)
            | (Value::Bool(_), Value::Bool(_))
            | (Value::Number(_), Value::Number(_))
            | (Value::String(_), Value::String(_)) => {
                // Numbers compare by their written form, as the diff shows them: `1` and `1.0`
                // differ, which FHIR agrees with for decimals.
                let golden_text = normalize::json_text(golden);
                let actual_text = normalize::json_text(actual);
                if golden_text != actual_text {
                    out.push(difference(
                        path,
                        DifferenceKind::ValueMismatch,
                        Some(golden_text),
                        Some(actual_text),
                    ));
                }
                Ok((golden.clone(), actual.clone()))
            }
            _ => {
                let golden_view = self.json_strip(golden, path);
                let actual_view = self.json_strip(actual, path);
                out.push(difference(
                    path,
                    DifferenceKind::TypeMismatch,
                    Some(normalize::json_text(&golden_view)),
                    Some(normalize::json_text(&actual_view)),
                ));
                Ok((golden_view, actual_view))
            }
        }
    }

    /// Compares a golden string that holds placeholders with any actual value.
    ///
    /// Strings are matched against the template. `{{any}}` alone matches a value of any type,
    /// objects and arrays included. A number or boolean matches a lone `{{capture:NAME}}` whose
    /// captured value is its JSON text, because captures are text but may come from numbers.
    fn json_template(
        &self,
        template: &Template,
        text: &str,
        actual: &Value,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Value, Value), GoldenError> {
        let matched = self.template_matches(template, actual, path)?;
        let golden_view = Value::String(text.to_owned());
        if matched {
            return Ok((golden_view.clone(), golden_view));
        }
        let actual_view = self.json_strip(actual, path);
        out.push(difference(
            path,
            DifferenceKind::PlaceholderMismatch {
                placeholder: text.to_owned(),
            },
            Some(normalize::json_text(&Value::String(
                template.resolved_text(self.captures),
            ))),
            Some(normalize::json_text(&actual_view)),
        ));
        Ok((golden_view, actual_view))
    }

    /// Whether a JSON value matches a golden template, as [`Self::json_template`] decides it.
    fn template_matches(
        &self,
        template: &Template,
        actual: &Value,
        path: &Path,
    ) -> Result<bool, GoldenError> {
        Ok(template.is_any()
            || match actual {
                Value::String(value) => self.matches(template, value, path)?,
                Value::Number(_) | Value::Bool(_) => template
                    .sole_capture()
                    .and_then(|name| self.captures.get(name))
                    .is_some_and(|captured| *captured == normalize::json_text(actual)),
                Value::Null | Value::Array(_) | Value::Object(_) => false,
            })
    }

    /// Whether [`Self::json`] would find no difference between two JSON values at `path`,
    /// answered without building the views or any difference, and stopping at the first
    /// difference. Every decision is [`Self::json`]'s own: the same templates, the same
    /// ignored paths, the same pairing of unordered items and message entries. A match (most
    /// comparisons of a run) so costs a walk of both documents and nothing more; a mismatch is
    /// walked again by [`Self::json`] for its differences and views.
    fn same_json(
        &self,
        golden: &Value,
        actual: &Value,
        path: &mut Path,
    ) -> Result<bool, GoldenError> {
        if let Value::String(text) = golden
            && let Some(template) = self.template(text, path)?
        {
            return self.template_matches(&template, actual, path);
        }
        match (golden, actual) {
            (Value::Object(g), Value::Object(a)) => {
                for (key, golden_member) in g {
                    path.push(Step::Key(key.clone()));
                    let same = if self.ignored(path) {
                        Ok(true)
                    } else {
                        a.get(key).map_or(Ok(false), |member| {
                            self.same_json(golden_member, member, path)
                        })
                    };
                    path.pop();
                    if !same? {
                        return Ok(false);
                    }
                }
                for key in a.keys().filter(|key| !g.contains_key(*key)) {
                    path.push(Step::Key(key.clone()));
                    let ignored = self.ignored(path);
                    path.pop();
                    if !ignored {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            (Value::Array(g), Value::Array(a)) => {
                if let Some(entries) = self.array_pairing(path) {
                    let (_, _, pairing) =
                        self.pair_json_array(entries, g, a, path, Self::same_attempt)?;
                    Ok(pairing.is_perfect())
                } else {
                    for index in 0..g.len().max(a.len()) {
                        path.push(Step::Index(index));
                        let same = if self.ignored(path) {
                            Ok(true)
                        } else {
                            match (g.get(index), a.get(index)) {
                                (Some(g), Some(a)) => self.same_json(g, a, path),
                                _ => Ok(false),
                            }
                        };
                        path.pop();
                        if !same? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                }
            }
            (Value::Null, Value::Null) => Ok(true),
            (Value::Bool(g), Value::Bool(a)) => Ok(g == a),
            // The written form of a string is one-to-one with the string (every character has
            // one escape or none), so equal strings are exactly equal texts.
            (Value::String(g), Value::String(a)) => Ok(g == a),
            // Numbers compare by their written form, as [`Self::json`] compares them: `-0.0`
            // equals `0.0` as a float but not as text.
            (Value::Number(_), Value::Number(_)) => {
                Ok(normalize::json_text(golden) == normalize::json_text(actual))
            }
            _ => Ok(false),
        }
    }

    /// Whether [`Self::json`] finds no difference; for checking [`Self::same_json`] in debug
    /// builds.
    fn json_matches(&self, golden: &Value, actual: &Value) -> bool {
        let mut differences = Vec::new();
        self.json(golden, actual, &mut Path::new(), &mut differences)
            .is_ok_and(|_| differences.is_empty())
    }

    /// One attempt of pairing for [`Self::same_json`]: no view, and one stand-in difference
    /// when the items differ. The pairing functions look only at whether an attempt has
    /// differences and at how many; a stand-in count of one can change which partner a changed
    /// item gets, but only once the arrays already differ, and then [`Self::json`] pairs them again.
    fn same_attempt(
        &self,
        (index, golden): (usize, &Value),
        actual: &Value,
        path: &mut Path,
    ) -> Result<Attempt<()>, GoldenError> {
        path.push(Step::Index(index));
        let same = self.same_json(golden, actual, path);
        path.pop();
        let differences = if same? {
            Vec::new()
        } else {
            vec![Difference {
                path: String::new(),
                kind: DifferenceKind::ValueMismatch,
                expected: None,
                actual: None,
            }]
        };
        Ok(Attempt {
            differences,
            golden: (),
            actual: (),
        })
    }

    fn json_object(
        &self,
        golden: &Map<String, Value>,
        actual: &Map<String, Value>,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Value, Value), GoldenError> {
        // Members are visited in the order they are written in, so the differences come in the
        // order of the diff.
        let mut keys: Vec<&String> = golden
            .keys()
            .chain(actual.keys().filter(|key| !golden.contains_key(*key)))
            .collect();
        keys.sort_by(|a, b| normalize::key_order(a, b));
        let mut golden_view = Map::new();
        let mut actual_view = Map::new();
        for key in keys {
            path.push(Step::Key(key.clone()));
            if !self.ignored(path) {
                match (golden.get(key), actual.get(key)) {
                    (Some(g), Some(a)) => {
                        let (g, a) = self.json(g, a, path, out)?;
                        golden_view.insert(key.clone(), g);
                        actual_view.insert(key.clone(), a);
                    }
                    (Some(g), None) => {
                        golden_view.insert(key.clone(), self.json_missing(g, path, out));
                    }
                    (None, Some(a)) => {
                        actual_view.insert(key.clone(), self.json_unexpected(a, path, out));
                    }
                    (None, None) => {}
                }
            }
            path.pop();
        }
        Ok((Value::Object(golden_view), Value::Object(actual_view)))
    }

    fn json_ordered(
        &self,
        golden: &[Value],
        actual: &[Value],
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Value, Value), GoldenError> {
        let mut golden_view = Vec::new();
        let mut actual_view = Vec::new();
        for index in 0..golden.len().max(actual.len()) {
            path.push(Step::Index(index));
            if !self.ignored(path) {
                match (golden.get(index), actual.get(index)) {
                    (Some(g), Some(a)) => {
                        let (g, a) = self.json(g, a, path, out)?;
                        golden_view.push(g);
                        actual_view.push(a);
                    }
                    (Some(g), None) => golden_view.push(self.json_missing(g, path, out)),
                    (None, Some(a)) => actual_view.push(self.json_unexpected(a, path, out)),
                    (None, None) => {}
                }
            }
            path.pop();
        }
        Ok((Value::Array(golden_view), Value::Array(actual_view)))
    }

    /// How the JSON array at `path` is paired, item with item: `Some(true)` for the entries of a
    /// message Bundle ([`Self::pair_json_entries`]), `Some(false)` for an array the golden's
    /// `unordered` names ([`Self::pair_json_unordered`]), `None` index by index. [`Self::json`]
    /// and [`Self::same_json`] ask here, so that they always pair alike.
    fn array_pairing(&self, path: &Path) -> Option<bool> {
        if self.message && path.is_top_member("entry") {
            Some(true)
        } else if self.unordered.iter().any(|p| p.matches_array(path)) {
            Some(false)
        } else {
            None
        }
    }

    /// The items of `golden` and `actual` not ignored, and their pairing as a message Bundle's
    /// entries (`entries`) or as an unordered array, each attempt made by `attempt`.
    #[allow(clippy::type_complexity)]
    fn pair_json_array<'v, V>(
        &self,
        entries: bool,
        golden: &'v [Value],
        actual: &'v [Value],
        path: &mut Path,
        attempt: impl Fn(&Self, (usize, &Value), &Value, &mut Path) -> Result<Attempt<V>, GoldenError>,
    ) -> Result<(Vec<(usize, &'v Value)>, Vec<(usize, &'v Value)>, Pairing<V>), GoldenError> {
        let golden_items = self.json_items(golden, path);
        let actual_items = self.json_items(actual, path);
        let attempt = |g: usize, a: usize| attempt(self, golden_items[g], actual_items[a].1, path);
        let pairing = if entries {
            self.pair_json_entries(&golden_items, &actual_items, attempt)?
        } else {
            self.pair_json_unordered(&golden_items, &actual_items, attempt)?
        };
        Ok((golden_items, actual_items, pairing))
    }

    /// Pairs the items of an unordered JSON array ([`pair_keyed`]), each attempt made by
    /// `attempt` (golden item, actual item, as positions in the two lists).
    fn pair_json_unordered<V>(
        &self,
        golden_items: &[(usize, &Value)],
        actual_items: &[(usize, &Value)],
        attempt: impl FnMut(usize, usize) -> Result<Attempt<V>, GoldenError>,
    ) -> Result<Pairing<V>, GoldenError> {
        pair_keyed(
            golden_items.len(),
            actual_items.len(),
            |g| json_key(golden_items[g].1, true),
            |a| json_key(actual_items[a].1, false).unwrap_or_default(),
            |g, a| {
                let (golden, actual) = (golden_items[g].1, actual_items[a].1);
                let placeholder = golden.as_str().is_some_and(|text| text.contains("{{"));
                placeholder || std::mem::discriminant(golden) == std::mem::discriminant(actual)
            },
            attempt,
        )
    }

    /// One attempt of pairing for [`Self::json`]: the differences of the two items and their views.
    fn view_attempt(
        &self,
        (index, golden): (usize, &Value),
        actual: &Value,
        path: &mut Path,
    ) -> Result<Attempt<Value>, GoldenError> {
        let mut differences = Vec::new();
        path.push(Step::Index(index));
        let views = self.json(golden, actual, path, &mut differences);
        path.pop();
        let (golden, actual) = views?;
        Ok(Attempt {
            differences,
            golden,
            actual,
        })
    }

    /// The golden and actual views of two arrays whose items were paired: each pair's
    /// differences, a golden item without a partner as missing, an actual item without one as
    /// not in the golden.
    fn json_paired(
        &self,
        golden_items: &[(usize, &Value)],
        actual_items: &[(usize, &Value)],
        pairing: Pairing<Value>,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> (Value, Value) {
        let mut golden_view = Vec::new();
        let mut actual_view = Vec::new();
        for (&(index, item), slot) in golden_items.iter().zip(pairing.pairs) {
            match slot {
                Some(attempt) => {
                    out.extend(attempt.differences);
                    golden_view.push(attempt.golden);
                    actual_view.push(attempt.actual);
                }
                None => {
                    path.push(Step::Index(index));
                    golden_view.push(self.json_missing(item, path, out));
                    path.pop();
                }
            }
        }
        for (&(index, item), taken) in actual_items.iter().zip(pairing.taken) {
            if !taken {
                path.push(Step::Index(index));
                actual_view.push(self.json_unexpected(item, path, out));
                path.pop();
            }
        }
        (Value::Array(golden_view), Value::Array(actual_view))
    }

    /// Pairs the entries of a JSON message Bundle ([`Self::pair_entries`]), each attempt made
    /// by `attempt` (golden entry, actual entry, as positions in the two lists).
    fn pair_json_entries<V>(
        &self,
        golden_items: &[(usize, &Value)],
        actual_items: &[(usize, &Value)],
        attempt: impl FnMut(usize, usize) -> Result<Attempt<V>, GoldenError>,
    ) -> Result<Pairing<V>, GoldenError> {
        let golden_keys: Vec<EntryKeys> = golden_items
            .iter()
            .map(|(_, item)| self.literal_keys(EntryKeys::of_json(item)))
            .collect();
        let actual_keys: Vec<EntryKeys> = actual_items
            .iter()
            .map(|(_, item)| EntryKeys::of_json(item))
            .collect();
        let first = golden_items.first().is_some_and(|(index, _)| *index == 0)
            && actual_items.first().is_some_and(|(index, _)| *index == 0);
        self.pair_entries(&golden_keys, &actual_keys, first, attempt)
    }

    /// The golden's text as the value it stands for when it holds no placeholder other than
    /// captures; `None` when a placeholder leaves it open.
    fn literal(&self, text: &str) -> Option<String> {
        match Template::parse(text) {
            Ok(None) => Some(text.to_owned()),
            Ok(Some(template)) => {
                let resolved = template.resolved_text(self.captures);
                (!resolved.contains("{{")).then_some(resolved)
            }
            Err(_) => None,
        }
    }

    /// A golden entry's keys, keeping only those the golden fixes (no placeholder left open).
    fn literal_keys(&self, keys: EntryKeys) -> EntryKeys {
        let literal = |text: Option<String>| text.and_then(|text| self.literal(&text));
        EntryKeys {
            full_url: literal(keys.full_url),
            resource_type: literal(keys.resource_type),
            id: literal(keys.id),
            identifiers: keys
                .identifiers
                .into_iter()
                .filter_map(|(system, value)| Some((self.literal(&system)?, self.literal(&value)?)))
                .collect(),
        }
    }

    /// Pairs the entries of a message Bundle, whose order after `entry[0]` carries no meaning
    /// (FHIR R4 Bundle, `bdl-12`; DOMAIN.md §2).
    ///
    /// With `first`, golden entry 0 is paired with actual entry 0. Every other golden entry takes
    /// the first free actual entry with the same `fullUrl`; failing that, the same resource type
    /// and id; failing that, the one free actual entry that holds one of its resource's
    /// identifiers (system and value). These look-ups go through maps, so a large message costs
    /// no comparison of every entry with every other. Only keys the golden fixes count: a
    /// `urn:uuid:{{uuid}}` fullUrl or an `{{id}}` id is no key. The golden entries still alone are
    /// then paired by content with the leftover actual entries of the same resource type, as
    /// [`pair`] does: exact matches first, then the fewest differences, in the golden's order.
    fn pair_entries<V>(
        &self,
        golden: &[EntryKeys],
        actual: &[EntryKeys],
        first: bool,
        mut attempt: impl FnMut(usize, usize) -> Result<Attempt<V>, GoldenError>,
    ) -> Result<Pairing<V>, GoldenError> {
        let mut by_url: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_id: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        let mut by_identifier: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
        for (index, keys) in actual.iter().enumerate().skip(usize::from(first)) {
            if let Some(url) = &keys.full_url {
                by_url.entry(url).or_default().push(index);
            }
            if let Some(kind) = &keys.resource_type {
                if let Some(id) = &keys.id {
                    by_id.entry((kind, id)).or_default().push(index);
                }
                for (system, value) in &keys.identifiers {
                    by_identifier
                        .entry((kind, system, value))
                        .or_default()
                        .push(index);
                }
            }
        }
        let mut pairs: Vec<Option<Attempt<V>>> = (0..golden.len()).map(|_| None).collect();
        let mut taken = vec![false; actual.len()];
        if first && !golden.is_empty() && !actual.is_empty() {
            pairs[0] = Some(attempt(0, 0)?);
            taken[0] = true;
        }
        for (g, keys) in golden.iter().enumerate().skip(usize::from(first)) {
            let free = |candidates: Option<&Vec<usize>>, taken: &[bool]| {
                candidates.and_then(|list| list.iter().copied().find(|&a| !taken[a]))
            };
            let mut found = keys
                .full_url
                .as_deref()
                .and_then(|url| free(by_url.get(url), &taken));
            if found.is_none()
                && let (Some(kind), Some(id)) = (&keys.resource_type, &keys.id)
            {
                found = free(by_id.get(&(kind.as_str(), id.as_str())), &taken);
            }
            if found.is_none()
                && let Some(kind) = &keys.resource_type
            {
                found = keys.identifiers.iter().find_map(|(system, value)| {
                    let list =
                        by_identifier.get(&(kind.as_str(), system.as_str(), value.as_str()))?;
                    let mut free = list.iter().copied().filter(|&a| !taken[a]);
                    match (free.next(), free.next()) {
                        (Some(only), None) => Some(only),
                        _ => None,
                    }
                });
            }
            if let Some(a) = found {
                pairs[g] = Some(attempt(g, a)?);
                taken[a] = true;
            }
        }
        let golden_left: Vec<usize> = (0..golden.len()).filter(|&g| pairs[g].is_none()).collect();
        let actual_left: Vec<usize> = (0..actual.len()).filter(|&a| !taken[a]).collect();
        let rest = pair(
            golden_left.len(),
            actual_left.len(),
            |g, a| {
                let kind = &golden[golden_left[g]].resource_type;
                kind.is_none() || *kind == actual[actual_left[a]].resource_type
            },
            |g, a| attempt(golden_left[g], actual_left[a]),
        )?;
        for (&g, slot) in golden_left.iter().zip(rest.pairs) {
            pairs[g] = slot;
        }
        for (&a, was_taken) in actual_left.iter().zip(rest.taken) {
            taken[a] = was_taken;
        }
        Ok(Pairing { pairs, taken })
    }

    /// The items of an array that are not ignored, with their positions.
    fn json_items<'v>(&self, items: &'v [Value], path: &mut Path) -> Vec<(usize, &'v Value)> {
        items
            .iter()
            .enumerate()
            .filter(|(index, _)| {
                path.push(Step::Index(*index));
                let ignored = self.ignored(path);
                path.pop();
                !ignored
            })
            .collect()
    }

    fn json_missing(&self, golden: &Value, path: &mut Path, out: &mut Vec<Difference>) -> Value {
        let view = self.json_strip(golden, path);
        out.push(difference(
            path,
            DifferenceKind::Missing,
            Some(normalize::json_text(&view)),
            None,
        ));
        view
    }

    fn json_unexpected(&self, actual: &Value, path: &mut Path, out: &mut Vec<Difference>) -> Value {
        let view = self.json_strip(actual, path);
        out.push(difference(
            path,
            DifferenceKind::Unexpected,
            None,
            Some(normalize::json_text(&view)),
        ));
        view
    }

    /// A copy of `value` without its ignored members and items.
    fn json_strip(&self, value: &Value, path: &mut Path) -> Value {
        if self.ignore.is_empty() {
            return value.clone();
        }
        match value {
            Value::Object(members) => {
                let mut kept = Map::new();
                for (key, member) in members {
                    path.push(Step::Key(key.clone()));
                    if !self.ignored(path) {
                        kept.insert(key.clone(), self.json_strip(member, path));
                    }
                    path.pop();
                }
                Value::Object(kept)
            }
            Value::Array(items) => {
                let mut kept = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    path.push(Step::Index(index));
                    if !self.ignored(path) {
                        kept.push(self.json_strip(item, path));
                    }
                    path.pop();
                }
                Value::Array(kept)
            }
            other => other.clone(),
        }
    }

    fn xml_root(
        &self,
        golden: &Element,
        actual: &Element,
        out: &mut Vec<Difference>,
    ) -> Result<(Element, Element), GoldenError> {
        let mut path = Path::new();
        if golden.namespace == actual.namespace && golden.name == actual.name {
            path.push(root_step(golden));
            if self.ignored(&path) {
                let empty = golden.with_children(Vec::new(), Vec::new());
                return Ok((empty.clone(), empty));
            }
            return self.element(golden, actual, &mut path, out);
        }
        path.push(root_step(golden));
        let golden_view = self.element_strip(golden, &mut path);
        out.push(difference(
            &path,
            DifferenceKind::Missing,
            Some(normalize::element_text(&golden_view)),
            None,
        ));
        path.pop();
        path.push(root_step(actual));
        let actual_view = self.element_strip(actual, &mut path);
        out.push(difference(
            &path,
            DifferenceKind::Unexpected,
            None,
            Some(normalize::element_text(&actual_view)),
        ));
        Ok((golden_view, actual_view))
    }

    /// Compares two elements with the same namespace and name at `path`, returning their views.
    fn element(
        &self,
        golden: &Element,
        actual: &Element,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Element, Element), GoldenError> {
        let (golden_attributes, actual_attributes) = self.attributes(golden, actual, path, out)?;
        if let [Node::Text(text)] = golden.children.as_slice() {
            path.push(Step::Text {
                index: 0,
                show_index: false,
            });
            let template = self.template(text, path);
            path.pop();
            // `{{any}}` as the whole content stands for any content, elements included, so that
            // a golden can leave out a narrative or a nested resource.
            if template?.is_some_and(|template| template.is_any()) {
                let children = vec![Node::Text(text.clone())];
                return Ok((
                    golden.with_children(golden_attributes, children.clone()),
                    actual.with_children(actual_attributes, children),
                ));
            }
        }
        let (golden_children, golden_counts) = index_children(&golden.children);
        let (actual_children, actual_counts) = index_children(&actual.children);
        let show_index = |key: &ChildKey<'_>| {
            golden_counts.get(key).is_some_and(|&n| n > 1)
                || actual_counts.get(key).is_some_and(|&n| n > 1)
        };
        let golden_children = self.kept_children(golden_children, path);
        let actual_children = self.kept_children(actual_children, path);
        let (golden_nodes, actual_nodes) = if self.message && path.is_root_element() {
            self.bundle_children(&golden_children, &actual_children, &show_index, path, out)?
        } else if self.unordered.iter().any(|p| p.matches(path)) {
            self.children_unordered(&golden_children, &actual_children, &show_index, path, out)?
        } else {
            self.children_ordered(&golden_children, &actual_children, &show_index, path, out)?
        };
        Ok((
            golden.with_children(golden_attributes, golden_nodes),
            actual.with_children(actual_attributes, actual_nodes),
        ))
    }

    /// Compares attributes by namespace and local name, whatever their order.
    fn attributes(
        &self,
        golden: &Element,
        actual: &Element,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Vec<Attribute>, Vec<Attribute>), GoldenError> {
        type Both<'e> = (Option<&'e Attribute>, Option<&'e Attribute>);
        let mut by_name: BTreeMap<(&str, &str), Both<'_>> = BTreeMap::new();
        for attribute in &golden.attributes {
            by_name
                .entry((&attribute.namespace, &attribute.name))
                .or_default()
                .0 = Some(attribute);
        }
        for attribute in &actual.attributes {
            by_name
                .entry((&attribute.namespace, &attribute.name))
                .or_default()
                .1 = Some(attribute);
        }
        let mut golden_view = Vec::new();
        let mut actual_view = Vec::new();
        for ((_, name), both) in by_name {
            path.push(Step::Attribute(name.to_owned()));
            if !self.ignored(path) {
                match both {
                    (Some(g), Some(a)) => {
                        let value = self.xml_value(&g.value, &a.value, path, out)?;
                        golden_view.push(g.clone());
                        actual_view.push(Attribute { value, ..a.clone() });
                    }
                    (Some(g), None) => {
                        out.push(difference(
                            path,
                            DifferenceKind::Missing,
                            Some(g.value.clone()),
                            None,
                        ));
                        golden_view.push(g.clone());
                    }
                    (None, Some(a)) => {
                        out.push(difference(
                            path,
                            DifferenceKind::Unexpected,
                            None,
                            Some(a.value.clone()),
                        ));
                        actual_view.push(a.clone());
                    }
                    (None, None) => {}
                }
            }
            path.pop();
        }
        Ok((golden_view, actual_view))
    }

    /// Compares an attribute value or a text, returning the actual side's view of it.
    fn xml_value(
        &self,
        golden: &str,
        actual: &str,
        path: &Path,
        out: &mut Vec<Difference>,
    ) -> Result<String, GoldenError> {
        if let Some(template) = self.template(golden, path)? {
            if template.is_any() || self.matches(&template, actual, path)? {
                return Ok(golden.to_owned());
            }
            out.push(difference(
                path,
                DifferenceKind::PlaceholderMismatch {
                    placeholder: golden.to_owned(),
                },
                Some(template.resolved_text(self.captures)),
                Some(actual.to_owned()),
            ));
        } else if golden != actual {
            out.push(difference(
                path,
                DifferenceKind::ValueMismatch,
                Some(golden.to_owned()),
                Some(actual.to_owned()),
            ));
        }
        Ok(actual.to_owned())
    }

    /// The children whose paths are not ignored.
    fn kept_children<'e>(&self, children: Vec<Child<'e>>, path: &mut Path) -> Vec<Child<'e>> {
        children
            .into_iter()
            .filter(|child| {
                path.push(child.step(false));
                let ignored = self.ignored(path);
                path.pop();
                !ignored
            })
            .collect()
    }

    /// Compares children in order, aligning them by key so that one missing element is reported
    /// once and does not shift every later sibling into a mismatch.
    fn children_ordered(
        &self,
        golden: &[Child<'_>],
        actual: &[Child<'_>],
        show_index: &dyn Fn(&ChildKey<'_>) -> bool,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Vec<Node>, Vec<Node>), GoldenError> {
        let golden_keys: Vec<ChildKey<'_>> = golden.iter().map(|child| child.key).collect();
        let actual_keys: Vec<ChildKey<'_>> = actual.iter().map(|child| child.key).collect();
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            &golden_keys,
            &actual_keys,
            Some(Instant::now() + SEARCH_TIME),
        );
        let mut golden_view = Vec::new();
        let mut actual_view = Vec::new();
        for op in ops {
            let (golden_range, actual_range) = match op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => {
                    for offset in 0..len {
                        let (Some(g), Some(a)) = (
                            golden.get(old_index + offset),
                            actual.get(new_index + offset),
                        ) else {
                            continue;
                        };
                        let (g, a) = self.child_pair(g, a, show_index, path, out)?;
                        golden_view.push(g);
                        actual_view.push(a);
                    }
                    continue;
                }
                DiffOp::Delete {
                    old_index, old_len, ..
                } => (old_index..old_index + old_len, 0..0),
                DiffOp::Insert {
                    new_index, new_len, ..
                } => (0..0, new_index..new_index + new_len),
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len,
                } => (
                    old_index..old_index + old_len,
                    new_index..new_index + new_len,
                ),
            };
            for child in golden.get(golden_range).unwrap_or_default() {
                golden_view.push(self.child_missing(child, show_index, path, out));
            }
            for child in actual.get(actual_range).unwrap_or_default() {
                actual_view.push(self.child_unexpected(child, show_index, path, out));
            }
        }
        Ok((golden_view, actual_view))
    }

    /// Compares children in any order, pairing those with the same key.
    fn children_unordered(
        &self,
        golden: &[Child<'_>],
        actual: &[Child<'_>],
        show_index: &dyn Fn(&ChildKey<'_>) -> bool,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Vec<Node>, Vec<Node>), GoldenError> {
        let pairing = pair_keyed(
            golden.len(),
            actual.len(),
            |g| (!has_placeholder(golden[g].node)).then_some(golden[g].node),
            |a| actual[a].node,
            |g, a| golden[g].key == actual[a].key,
            |g, a| {
                let mut differences = Vec::new();
                let (golden, actual) =
                    self.child_pair(&golden[g], &actual[a], show_index, path, &mut differences)?;
                Ok(Attempt {
                    differences,
                    golden,
                    actual,
                })
            },
        )?;
        Ok(self.children_paired(golden, actual, pairing, show_index, path, out))
    }

    /// The golden and actual views of two lists of children whose items were paired: each
    /// pair's differences, a golden child without a partner as missing, an actual child without
    /// one as not in the golden.
    fn children_paired(
        &self,
        golden: &[Child<'_>],
        actual: &[Child<'_>],
        pairing: Pairing<Node>,
        show_index: &dyn Fn(&ChildKey<'_>) -> bool,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> (Vec<Node>, Vec<Node>) {
        let mut golden_view = Vec::new();
        let mut actual_view = Vec::new();
        for (child, slot) in golden.iter().zip(pairing.pairs) {
            match slot {
                Some(attempt) => {
                    out.extend(attempt.differences);
                    golden_view.push(attempt.golden);
                    actual_view.push(attempt.actual);
                }
                None => golden_view.push(self.child_missing(child, show_index, path, out)),
            }
        }
        for (child, taken) in actual.iter().zip(pairing.taken) {
            if !taken {
                actual_view.push(self.child_unexpected(child, show_index, path, out));
            }
        }
        (golden_view, actual_view)
    }

    /// Compares the children of a FHIR message `Bundle` in XML: the entries as
    /// [`Self::pair_entries`] pairs them, the other children as any element's (in order, or in
    /// any order where an `unordered` pattern names the Bundle).
    fn bundle_children(
        &self,
        golden: &[Child<'_>],
        actual: &[Child<'_>],
        show_index: &dyn Fn(&ChildKey<'_>) -> bool,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Vec<Node>, Vec<Node>), GoldenError> {
        let entry = ChildKey::Element(crate::fhir::xml::FHIR_NS, "entry");
        let (golden_entries, golden_rest): (Vec<Child<'_>>, Vec<Child<'_>>) =
            golden.iter().partition(|child| child.key == entry);
        let (actual_entries, actual_rest): (Vec<Child<'_>>, Vec<Child<'_>>) =
            actual.iter().partition(|child| child.key == entry);
        let (mut golden_view, mut actual_view) = if self.unordered.iter().any(|p| p.matches(path)) {
            self.children_unordered(&golden_rest, &actual_rest, show_index, path, out)?
        } else {
            self.children_ordered(&golden_rest, &actual_rest, show_index, path, out)?
        };
        let keys = |children: &[Child<'_>]| -> Vec<EntryKeys> {
            children
                .iter()
                .map(|child| match child.node {
                    Node::Element(element) => EntryKeys::of_xml(element),
                    Node::Text(_) => EntryKeys::default(),
                })
                .collect()
        };
        let golden_keys: Vec<EntryKeys> = keys(&golden_entries)
            .into_iter()
            .map(|k| self.literal_keys(k))
            .collect();
        let actual_keys = keys(&actual_entries);
        let first = golden_entries.first().is_some_and(|child| child.index == 0)
            && actual_entries.first().is_some_and(|child| child.index == 0);
        let pairing = self.pair_entries(&golden_keys, &actual_keys, first, |g, a| {
            let mut differences = Vec::new();
            let (golden, actual) = self.child_pair(
                &golden_entries[g],
                &actual_entries[a],
                show_index,
                path,
                &mut differences,
            )?;
            Ok(Attempt {
                differences,
                golden,
                actual,
            })
        })?;
        let (golden_block, actual_block) = self.children_paired(
            &golden_entries,
            &actual_entries,
            pairing,
            show_index,
            path,
            out,
        );
        // The entries go where FHIR XML puts them: before `signature`, the one Bundle element
        // after `entry`.
        let at = |view: &[Node]| {
            view.iter()
                .position(|node| matches!(node, Node::Element(e) if e.name == "signature"))
                .unwrap_or(view.len())
        };
        let position = at(&golden_view);
        golden_view.splice(position..position, golden_block);
        let position = at(&actual_view);
        actual_view.splice(position..position, actual_block);
        Ok((golden_view, actual_view))
    }

    /// Compares two children with the same key, at the golden child's path.
    fn child_pair(
        &self,
        golden: &Child<'_>,
        actual: &Child<'_>,
        show_index: &dyn Fn(&ChildKey<'_>) -> bool,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Result<(Node, Node), GoldenError> {
        path.push(golden.step(show_index(&golden.key)));
        let views = match (golden.node, actual.node) {
            (Node::Element(g), Node::Element(a)) => self
                .element(g, a, path, out)
                .map(|(g, a)| (Node::Element(g), Node::Element(a))),
            (Node::Text(g), Node::Text(a)) => self
                .xml_value(g, a, path, out)
                .map(|a| (Node::Text(g.clone()), Node::Text(a))),
            // Children are only paired when their keys are equal, so an element never meets a
            // text here; should it, both are reported rather than compared.
            (g, a) => {
                let golden_view = self.node_strip(g, path);
                let actual_view = self.node_strip(a, path);
                out.push(difference(
                    path,
                    DifferenceKind::Missing,
                    Some(node_text(&golden_view)),
                    None,
                ));
                out.push(difference(
                    path,
                    DifferenceKind::Unexpected,
                    None,
                    Some(node_text(&actual_view)),
                ));
                Ok((golden_view, actual_view))
            }
        };
        path.pop();
        views
    }

    fn child_missing(
        &self,
        child: &Child<'_>,
        show_index: &dyn Fn(&ChildKey<'_>) -> bool,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Node {
        path.push(child.step(show_index(&child.key)));
        let view = self.node_strip(child.node, path);
        out.push(difference(
            path,
            DifferenceKind::Missing,
            Some(node_text(&view)),
            None,
        ));
        path.pop();
        view
    }

    fn child_unexpected(
        &self,
        child: &Child<'_>,
        show_index: &dyn Fn(&ChildKey<'_>) -> bool,
        path: &mut Path,
        out: &mut Vec<Difference>,
    ) -> Node {
        path.push(child.step(show_index(&child.key)));
        let view = self.node_strip(child.node, path);
        out.push(difference(
            path,
            DifferenceKind::Unexpected,
            None,
            Some(node_text(&view)),
        ));
        path.pop();
        view
    }

    fn node_strip(&self, node: &Node, path: &mut Path) -> Node {
        match node {
            Node::Element(element) => Node::Element(self.element_strip(element, path)),
            Node::Text(text) => Node::Text(text.clone()),
        }
    }

    /// A copy of the element at `path` without its ignored attributes and descendants.
    fn element_strip(&self, element: &Element, path: &mut Path) -> Element {
        if self.ignore.is_empty() {
            return element.clone();
        }
        let attributes = element
            .attributes
            .iter()
            .filter(|attribute| {
                path.push(Step::Attribute(attribute.name.clone()));
                let ignored = self.ignored(path);
                path.pop();
                !ignored
            })
            .cloned()
            .collect();
        let (children, _) = index_children(&element.children);
        let children = self
            .kept_children(children, path)
            .into_iter()
            .map(|child| {
                path.push(child.step(false));
                let view = self.node_strip(child.node, path);
                path.pop();
                view
            })
            .collect();
        element.with_children(attributes, children)
    }
}

/// An XML child as one line of text, for [`Difference::expected`] and [`Difference::actual`].
fn node_text(node: &Node) -> String {
    match node {
        Node::Element(element) => normalize::element_text(element),
        Node::Text(text) => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LETTER_ID: &str = "5a1b2c3d-0000-4000-8000-00000000abcd";

    fn options() -> CompareOptions {
        CompareOptions {
            captures: BTreeMap::from([("first.letter-id".to_owned(), LETTER_ID.to_owned())]),
            ..CompareOptions::default()
        }
    }

    fn run(golden: &str, actual: &str, opts: &CompareOptions) -> Comparison {
        compare(golden.as_bytes(), actual.as_bytes(), opts).expect("a comparison")
    }

    fn failure(golden: &str, actual: &str, opts: &CompareOptions) -> GoldenError {
        match compare(golden.as_bytes(), actual.as_bytes(), opts) {
            Err(error) => error,
            Ok(comparison) => panic!("expected an error, got {comparison:?}"),
        }
    }

    /// The lines of a unified diff that remove or add, without the `---`/`+++` header.
    fn changed_lines(diff: &str) -> Vec<&str> {
        diff.lines()
            .filter(|line| !line.starts_with("--- ") && !line.starts_with("+++ "))
            .filter(|line| line.starts_with('-') || line.starts_with('+'))
            .collect()
    }

    fn ack_json(response_identifier: &str, code: &str) -> String {
        format!(
            r#"{{
  "resourceType": "Bundle",
  "id": "0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d",
  "meta": {{"lastUpdated": "2024-05-01T12:30:00+02:00"}},
  "type": "message",
  "timestamp": "2024-05-01T12:30:00+02:00",
  "entry": [
    {{
      "fullUrl": "urn:uuid:7d9e0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
      "resource": {{
        "resourceType": "MessageHeader",
        "id": "7d9e0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
        "eventCoding": {{"system": "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes", "code": "acknowledgement-message"}},
        "response": {{"identifier": "{response_identifier}", "code": "{code}"}}
      }}
    }},
    {{
      "fullUrl": "urn:uuid:11111111-2222-4333-8444-555555555555",
      "resource": {{"resourceType": "Provenance", "id": "11111111-2222-4333-8444-555555555555", "recorded": "2024-05-01T12:30:00+02:00"}}
    }}
  ]
}}"#
        )
    }

    fn ack_golden() -> String {
        r#"{
  "resourceType": "Bundle",
  "id": "{{uuid}}",
  "meta": {"lastUpdated": "{{datetime}}"},
  "type": "message",
  "timestamp": "{{datetime}}",
  "entry": [
    {
      "fullUrl": "urn:uuid:{{uuid}}",
      "resource": {
        "resourceType": "MessageHeader",
        "id": "{{id}}",
        "eventCoding": {"system": "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes", "code": "acknowledgement-message"},
        "response": {"identifier": "{{capture:first.letter-id}}", "code": "ok"}
      }
    },
    {
      "fullUrl": "urn:uuid:{{uuid}}",
      "resource": {"resourceType": "Provenance", "id": "{{id}}", "recorded": "{{datetime}}"}
    }
  ]
}"#
        .to_owned()
    }

    #[test]
    fn json_with_members_in_another_order_matches() {
        let comparison = run(
            r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Hansen","given":["Ib"]}]}"#,
            r#"{"name":[{"given":["Ib"],"family":"Hansen"}],"id":"p1","resourceType":"Patient"}"#,
            &CompareOptions::default(),
        );
        assert!(comparison.is_match(), "{comparison:?}");
        assert_eq!(comparison.diff, "");
    }

    #[test]
    fn changed_json_value_is_reported_at_its_path() {
        let golden = ack_json(LETTER_ID, "ok");
        let actual = ack_json("5a1b2c3d-0000-4000-8000-00000000ffff", "ok");
        let comparison = run(&golden, &actual, &CompareOptions::default());
        assert_eq!(
            comparison.differences,
            vec![Difference {
                path: "entry[0].resource.response.identifier".to_owned(),
                kind: DifferenceKind::ValueMismatch,
                expected: Some(format!("\"{LETTER_ID}\"")),
                actual: Some("\"5a1b2c3d-0000-4000-8000-00000000ffff\"".to_owned()),
            }]
        );
    }

    #[test]
    fn golden_with_placeholders_matches_a_conforming_ack() {
        let comparison = run(&ack_golden(), &ack_json(LETTER_ID, "ok"), &options());
        assert!(comparison.is_match(), "{:#?}", comparison.differences);
        assert_eq!(comparison.diff, "");
    }

    #[test]
    fn uuid_placeholder_against_other_text_is_a_placeholder_mismatch() {
        let actual = ack_json(LETTER_ID, "ok").replace(
            "\"id\": \"0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d\"",
            "\"id\": \"not-a-uuid\"",
        );
        let comparison = run(&ack_golden(), &actual, &options());
        assert_eq!(
            comparison.differences,
            vec![Difference {
                path: "id".to_owned(),
                kind: DifferenceKind::PlaceholderMismatch {
                    placeholder: "{{uuid}}".to_owned()
                },
                expected: Some("\"{{uuid}}\"".to_owned()),
                actual: Some("\"not-a-uuid\"".to_owned()),
            }]
        );
    }

    #[test]
    fn each_placeholder_matches_and_mismatches() {
        let cases: &[(&str, &str, bool)] = &[
            (r#""{{any}}""#, r#""x""#, true),
            (r#""{{any}}""#, "12.5", true),
            (r#""{{any}}""#, "false", true),
            (r#""{{any}}""#, "null", true),
            (r#""{{any}}""#, r#"{"a":[1,{"b":2}]}"#, true),
            (r#""{{any}}""#, "[]", true),
            (r#""x-{{any}}""#, r#""x-""#, true),
            (r#""x-{{any}}""#, r#""y-1""#, false),
            (
                r#""{{uuid}}""#,
                r#""0C3B8A0E-5F2A-4B7E-9D1C-2E4F6A8B0C1D""#,
                true,
            ),
            (r#""{{uuid}}""#, r#""0c3b8a0e-5f2a""#, false),
            (r#""{{uuid}}""#, "7", false),
            (
                r#""urn:uuid:{{uuid}}""#,
                r#""urn:uuid:0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d""#,
                true,
            ),
            (
                r#""urn:uuid:{{uuid}}""#,
                r#""0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d""#,
                false,
            ),
            (r#""{{id}}""#, r#""Org.1-a""#, true),
            (r#""{{id}}""#, r#""a b""#, false),
            (r#""Patient/{{id}}""#, r#""Patient/p1""#, true),
            (r#""{{datetime}}""#, r#""2024-05-01T12:30:00.5Z""#, true),
            (r#""{{datetime}}""#, r#""2024-05-01T12:30:00+01:00""#, true),
            (r#""{{datetime}}""#, r#""2024-05-01T12:30:00""#, false),
            (r#""{{datetime}}""#, r#""2024-05-01""#, false),
            (
                r#""{{capture:first.letter-id}}""#,
                &format!("\"{LETTER_ID}\""),
                true,
            ),
            (
                r#""{{capture:first.letter-id}}""#,
                r#""something-else""#,
                false,
            ),
        ];
        for (golden, actual, should_match) in cases {
            let comparison = run(
                &format!(r#"{{"v":{golden}}}"#),
                &format!(r#"{{"v":{actual}}}"#),
                &options(),
            );
            assert_eq!(
                comparison.is_match(),
                *should_match,
                "{golden} against {actual}: {:?}",
                comparison.differences
            );
            if !should_match {
                assert_eq!(comparison.differences.len(), 1);
                assert_eq!(comparison.differences[0].path, "v");
                assert!(matches!(
                    comparison.differences[0].kind,
                    DifferenceKind::PlaceholderMismatch { .. }
                ));
            }
        }
    }

    #[test]
    fn capture_is_substituted_inside_text_and_shown_as_expected() {
        let golden = r#"{"focus":{"reference":"MessageHeader/{{capture:first.letter-id}}"}}"#;
        let good = format!(r#"{{"focus":{{"reference":"MessageHeader/{LETTER_ID}"}}}}"#);
        assert!(run(golden, &good, &options()).is_match());
        let comparison = run(
            golden,
            r#"{"focus":{"reference":"MessageHeader/other"}}"#,
            &options(),
        );
        assert_eq!(
            comparison.differences,
            vec![Difference {
                path: "focus.reference".to_owned(),
                kind: DifferenceKind::PlaceholderMismatch {
                    placeholder: "MessageHeader/{{capture:first.letter-id}}".to_owned()
                },
                expected: Some(format!("\"MessageHeader/{LETTER_ID}\"")),
                actual: Some("\"MessageHeader/other\"".to_owned()),
            }]
        );
    }

    #[test]
    fn capture_matches_a_number_with_the_same_text() {
        let opts = CompareOptions {
            captures: BTreeMap::from([("n".to_owned(), "3".to_owned())]),
            ..CompareOptions::default()
        };
        assert!(run(r#"{"v":"{{capture:n}}"}"#, r#"{"v":3}"#, &opts).is_match());
        assert!(!run(r#"{"v":"{{capture:n}}"}"#, r#"{"v":4}"#, &opts).is_match());
    }

    #[test]
    fn unknown_capture_is_an_error_even_where_ignored() {
        let opts = CompareOptions {
            ignore: vec!["a".to_owned()],
            ..options()
        };
        let error = failure(
            r#"{"a":"{{capture:second.letter-id}}"}"#,
            r#"{"a":"x"}"#,
            &opts,
        );
        match error {
            GoldenError::UnknownCapture { name, path, known } => {
                assert_eq!(name, "second.letter-id");
                assert_eq!(path, "a");
                assert_eq!(known, vec!["first.letter-id".to_owned()]);
            }
            other => panic!("expected an unknown capture, got {other:?}"),
        }
    }

    #[test]
    fn unknown_placeholder_is_an_error_with_its_path() {
        let error = failure(r#"{"a":[{"b":"{{uid}}"}]}"#, r#"{"a":[]}"#, &options());
        assert!(
            matches!(&error, GoldenError::UnknownPlaceholder { placeholder, path }
                if placeholder == "{{uid}}" && path == "a[0].b"),
            "{error:?}"
        );
    }

    #[test]
    fn missing_unexpected_and_type_differences_are_told_apart() {
        let comparison = run(
            r#"{"a":1,"b":"1","c":[1,2]}"#,
            r#"{"b":1,"c":[1],"d":true}"#,
            &CompareOptions::default(),
        );
        let found: Vec<(&str, &DifferenceKind)> = comparison
            .differences
            .iter()
            .map(|d| (d.path.as_str(), &d.kind))
            .collect();
        assert_eq!(
            found,
            vec![
                ("a", &DifferenceKind::Missing),
                ("b", &DifferenceKind::TypeMismatch),
                ("c[1]", &DifferenceKind::Missing),
                ("d", &DifferenceKind::Unexpected),
            ]
        );
    }

    #[test]
    fn ignored_paths_are_not_compared_and_not_in_the_diff() {
        let golden = r#"{"entry":[{"resource":{"id":"a","meta":{"v":"1"},"text":{"div":"x"}}},{"resource":{"id":"b"}}]}"#;
        let actual = r#"{"entry":[{"resource":{"id":"a","meta":{"v":"2"}}},{"resource":{"id":"b","text":{"div":"y"},"meta":{}}}]}"#;
        let opts = CompareOptions {
            ignore: vec![
                "entry[*].resource.meta".to_owned(),
                "entry[*].resource.text".to_owned(),
            ],
            ..CompareOptions::default()
        };
        let comparison = run(golden, actual, &opts);
        assert!(comparison.is_match(), "{:?}", comparison.differences);
        assert_eq!(comparison.diff, "");
        assert!(!run(golden, actual, &CompareOptions::default()).is_match());
    }

    /// A match is told by a quick walk before the full one; debug builds check on every
    /// comparison that both agree, so these cases, where a quick answer could go wrong, pin it.
    #[test]
    fn a_match_is_told_as_the_full_comparison_tells_it() {
        let unordered_ignoring = |ignore: &str| CompareOptions {
            ignore: vec![ignore.to_owned()],
            unordered: vec!["a".to_owned()],
            ..CompareOptions::default()
        };
        let cases = [
            // Equal as floats, different as written: FHIR decimals keep their precision.
            (
                r#"{"v":-0.0}"#,
                r#"{"v":0.0}"#,
                CompareOptions::default(),
                false,
            ),
            (
                r#"{"v":1.50}"#,
                r#"{"v":1.5}"#,
                CompareOptions::default(),
                true,
            ),
            // Unordered items that differ only where ignored pair up without a difference.
            (
                r#"{"a":[{"k":1,"m":1},{"k":2,"m":1}]}"#,
                r#"{"a":[{"k":2,"m":2},{"k":1,"m":3}]}"#,
                unordered_ignoring("a[*].m"),
                true,
            ),
            (
                r#"{"a":[{"k":1,"m":1},{"k":2,"m":1}]}"#,
                r#"{"a":[{"k":2,"m":2},{"k":3,"m":3}]}"#,
                unordered_ignoring("a[*].m"),
                false,
            ),
            // A member only the actual message has is a difference unless it is ignored.
            (
                r#"{"a":[],"b":1}"#,
                r#"{"a":[],"b":1,"c":2}"#,
                unordered_ignoring("c"),
                true,
            ),
            (
                r#"{"a":[],"b":1}"#,
                r#"{"a":[],"b":1,"c":2}"#,
                unordered_ignoring("d"),
                false,
            ),
            // An actual item left over in an unordered array is a difference.
            (
                r#"{"a":[1,2]}"#,
                r#"{"a":[2,1,1]}"#,
                unordered_ignoring("d"),
                false,
            ),
            (
                r#"{"a":[1,2]}"#,
                r#"{"a":[2,1]}"#,
                unordered_ignoring("d"),
                true,
            ),
            // `{{any}}` as a whole value matches an object.
            (
                r#"{"a":"{{any}}"}"#,
                r#"{"a":{"b":1}}"#,
                CompareOptions::default(),
                true,
            ),
            (
                r#"{"a":"{{uuid}}"}"#,
                r#"{"a":{"b":1}}"#,
                CompareOptions::default(),
                false,
            ),
        ];
        for (golden, actual, opts, matches) in cases {
            let comparison = run(golden, actual, &opts);
            assert_eq!(comparison.is_match(), matches, "{golden} vs {actual}");
            assert_eq!(comparison.diff.is_empty(), matches, "{}", comparison.diff);
        }
        // Message entries after entry[0] are a set (bdl-12); entry[0] is the MessageHeader.
        let bundle = |entries: &str| {
            format!(r#"{{"resourceType":"Bundle","type":"message","entry":[{entries}]}}"#)
        };
        let header = r#"{"resource":{"resourceType":"MessageHeader","id":"h"}}"#;
        let patient = r#"{"resource":{"resourceType":"Patient","id":"p"}}"#;
        let organization = r#"{"resource":{"resourceType":"Organization","id":"o"}}"#;
        let golden = bundle(&format!("{header},{patient},{organization}"));
        let options = CompareOptions::default();
        assert!(
            run(
                &golden,
                &bundle(&format!("{header},{organization},{patient}")),
                &options
            )
            .is_match()
        );
        assert!(
            !run(
                &golden,
                &bundle(&format!("{patient},{header},{organization}")),
                &options
            )
            .is_match()
        );
        assert!(
            !run(
                &golden,
                &bundle(&format!("{header},{organization}")),
                &options
            )
            .is_match()
        );
    }

    #[test]
    fn a_message_parsed_already_compares_as_its_bytes_do() {
        // "Hello" in base64, once as written and once wrapped: equal as base64Binary.
        let golden_json =
            r#"{"resourceType":"Binary","contentType":"text/plain","data":"SGVsbG8="}"#;
        let golden_xml = r#"<Binary xmlns="http://hl7.org/fhir"><contentType value="text/plain"/><data value="SGVsbG8="/></Binary>"#;
        let actuals = [
            r#"{"resourceType":"Binary","contentType":"text/plain","data":"SGVs\nbG8="}"#,
            r#"{"resourceType":"Binary","contentType":"text/html","data":"SGVsbG8="}"#,
        ];
        for golden in [golden_json, golden_xml] {
            let prepared = PreparedGolden::parse(golden.as_bytes()).expect("a golden");
            for (actual, matches) in actuals.into_iter().zip([true, false]) {
                let resource: Value = serde_json::from_str(actual).expect("JSON");
                let parsed = prepared
                    .compare_json(actual.as_bytes(), &resource, &options())
                    .expect("a comparison");
                let from_bytes = prepared
                    .compare(actual.as_bytes(), &options())
                    .expect("a comparison");
                assert_eq!(parsed, from_bytes);
                assert_eq!(parsed.is_match(), matches, "{golden} vs {actual}");
            }
        }
    }

    /// The pairing before items were keyed by content: each golden item tried against every
    /// free actual item. Kept as the reference [`pair_keyed`] must agree with.
    fn pair_by_trying<V>(
        golden_len: usize,
        actual_len: usize,
        compatible: impl Fn(usize, usize) -> bool,
        mut attempt: impl FnMut(usize, usize) -> Result<Attempt<V>, GoldenError>,
    ) -> Result<Pairing<V>, GoldenError> {
        let mut pairs: Vec<Option<Attempt<V>>> = (0..golden_len).map(|_| None).collect();
        let mut taken = vec![false; actual_len];
        for (g, slot) in pairs.iter_mut().enumerate() {
            for (a, is_taken) in taken.iter_mut().enumerate() {
                if *is_taken || !compatible(g, a) {
                    continue;
                }
                let outcome = attempt(g, a)?;
                if outcome.differences.is_empty() {
                    *is_taken = true;
                    *slot = Some(outcome);
                    break;
                }
            }
        }
        for (g, slot) in pairs.iter_mut().enumerate() {
            if slot.is_some() {
                continue;
            }
            let mut best: Option<(usize, Attempt<V>)> = None;
            for (a, is_taken) in taken.iter().enumerate() {
                if *is_taken || !compatible(g, a) {
                    continue;
                }
                let outcome = attempt(g, a)?;
                if best
                    .as_ref()
                    .is_none_or(|(_, b)| outcome.differences.len() < b.differences.len())
                {
                    best = Some((a, outcome));
                }
            }
            if let Some((a, outcome)) = best {
                taken[a] = true;
                *slot = Some(outcome);
            }
        }
        Ok(Pairing { pairs, taken })
    }

    #[test]
    fn repeated_items_pair_the_same_by_content_key_as_by_trying_every_item() {
        // Golden items with a repeated `A`, one placeholder that matches anything, and two items
        // (`C`, `D`) whose twins are missing; a comparison counts one difference per differing
        // item.
        let golden = ["A", "B", "A", "{{any}}", "C", "D"];
        let actual = ["C", "A", "X", "A", "B", "E"];
        let attempt = |g: usize, a: usize| -> Result<Attempt<usize>, GoldenError> {
            let same = golden[g] == "{{any}}" || golden[g] == actual[a];
            Ok(Attempt {
                differences: if same {
                    Vec::new()
                } else {
                    vec![difference(
                        &Path::default(),
                        DifferenceKind::ValueMismatch,
                        Some(golden[g].to_owned()),
                        Some(actual[a].to_owned()),
                    )]
                },
                golden: g,
                actual: a,
            })
        };
        let pairs = |p: Pairing<usize>| -> Vec<Option<(usize, usize)>> {
            p.pairs
                .into_iter()
                .map(|slot| slot.map(|at| (at.golden, at.actual)))
                .collect()
        };
        let keyed = pair_keyed(
            golden.len(),
            actual.len(),
            |g| (!golden[g].contains("{{")).then_some(golden[g]),
            |a| actual[a],
            |_, _| true,
            attempt,
        )
        .expect("pairs");
        let tried =
            pair_by_trying(golden.len(), actual.len(), |_, _| true, attempt).expect("pairs");
        // By the rule: the first `A` takes the first free `A` (1), `B` its twin (4), the second
        // `A` the next `A` (3), the placeholder the first free item (`C`, 0); `C` and `D` then
        // take the items left, with one difference each, in order (2, 5).
        let expected = vec![
            Some((0, 1)),
            Some((1, 4)),
            Some((2, 3)),
            Some((3, 0)),
            Some((4, 2)),
            Some((5, 5)),
        ];
        assert_eq!(pairs(keyed), expected);
        assert_eq!(pairs(tried), expected);
    }

    #[test]
    fn repeated_unordered_items_in_reverse_report_only_the_changed_one() {
        // A CareCommunication's payload as an unordered array: the same text twice, one text
        // changed; the actual's items come in reverse order.
        let golden = r#"{"payload":[{"contentString":"Ring til os"},{"contentString":"Ring til os"},{"contentString":"Vi har sendt en recept"},{"contentString":"Ring til os"}]}"#;
        let actual = r#"{"payload":[{"contentString":"Ring til os"},{"contentString":"Vi har sendt to recepter"},{"contentString":"Ring til os"},{"contentString":"Ring til os"}]}"#;
        let opts = CompareOptions {
            unordered: vec!["payload".to_owned()],
            ..CompareOptions::default()
        };
        let comparison = run(golden, actual, &opts);
        let found: Vec<(&str, &DifferenceKind)> = comparison
            .differences
            .iter()
            .map(|d| (d.path.as_str(), &d.kind))
            .collect();
        assert_eq!(
            found,
            vec![("payload[2].contentString", &DifferenceKind::ValueMismatch)]
        );
    }

    #[test]
    fn unordered_entries_match_in_any_order() {
        let golden = r#"{"entry":[{"resource":{"resourceType":"MessageHeader","id":"{{id}}"}},{"resource":{"resourceType":"Provenance","id":"p1"}},{"resource":{"resourceType":"Provenance","id":"p2"}}]}"#;
        let actual = r#"{"entry":[{"resource":{"resourceType":"Provenance","id":"p2"}},{"resource":{"id":"h1","resourceType":"MessageHeader"}},{"resource":{"resourceType":"Provenance","id":"p1"}}]}"#;
        let opts = CompareOptions {
            unordered: vec!["entry".to_owned()],
            ..CompareOptions::default()
        };
        let comparison = run(golden, actual, &opts);
        assert!(comparison.is_match(), "{:?}", comparison.differences);
        assert_eq!(comparison.diff, "");
        let ordered = run(golden, actual, &CompareOptions::default());
        assert!(!ordered.is_match());
    }

    #[test]
    fn unordered_entries_report_changed_missing_and_extra_items() {
        let golden = r#"{"entry":[{"resource":{"resourceType":"Organization","id":"o1","name":"A"}},{"resource":{"resourceType":"Patient","id":"p1"}},{"resource":{"resourceType":"Provenance","id":"v1"}}]}"#;
        let actual = r#"{"entry":[{"resource":{"resourceType":"Provenance","id":"v1"}},{"resource":{"resourceType":"Organization","id":"o1","name":"B"}},5]}"#;
        let opts = CompareOptions {
            unordered: vec!["entry[*]".to_owned()],
            ..CompareOptions::default()
        };
        let comparison = run(golden, actual, &opts);
        let found: Vec<(&str, &DifferenceKind)> = comparison
            .differences
            .iter()
            .map(|d| (d.path.as_str(), &d.kind))
            .collect();
        assert_eq!(
            found,
            vec![
                ("entry[0].resource.name", &DifferenceKind::ValueMismatch),
                ("entry[1]", &DifferenceKind::Missing),
                ("entry[2]", &DifferenceKind::Unexpected),
            ]
        );
        let changed = changed_lines(&comparison.diff);
        assert!(
            changed.contains(&"-        \"name\": \"A\""),
            "{}",
            comparison.diff
        );
        assert!(
            changed.contains(&"+        \"name\": \"B\""),
            "{}",
            comparison.diff
        );
        assert!(
            changed.iter().all(|line| !line.contains("Provenance")),
            "{}",
            comparison.diff
        );
    }

    #[test]
    fn diff_marks_only_real_differences() {
        let actual = ack_json(LETTER_ID, "transient-error");
        let comparison = run(&ack_golden(), &actual, &options());
        assert_eq!(comparison.differences.len(), 1);
        assert!(
            comparison.diff.starts_with("--- golden\n+++ actual\n"),
            "{}",
            comparison.diff
        );
        assert_eq!(
            changed_lines(&comparison.diff),
            vec![
                "-          \"code\": \"ok\",",
                "+          \"code\": \"transient-error\",",
            ],
            "{}",
            comparison.diff
        );
        assert!(
            comparison
                .diff
                .contains("\"identifier\": \"{{capture:first.letter-id}}\"")
        );
    }

    #[test]
    fn formats_must_agree() {
        let error = failure("{}", "<Bundle/>", &options());
        assert!(matches!(
            error,
            GoldenError::FormatMismatch {
                golden: normalize::Format::Json,
                actual: normalize::Format::Xml
            }
        ));
    }

    #[test]
    fn unparsable_documents_say_which_and_where() {
        let error = failure("{\n  \"a\": 1,\n}", "{}", &options());
        assert!(
            matches!(
                error,
                GoldenError::Json {
                    side: Side::Golden,
                    line: 3,
                    ..
                }
            ),
            "{error:?}"
        );
        let error = failure("<a>", "<a>\n<b></c></a>", &options());
        assert!(
            matches!(
                error,
                GoldenError::Xml {
                    side: Side::Golden,
                    ..
                }
            ),
            "{error:?}"
        );
        let error = failure("<a/>", "<a>\n<b></c></a>", &options());
        assert!(
            matches!(
                error,
                GoldenError::Xml {
                    side: Side::Actual,
                    line: 2,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "failed to parse the actual message as XML at line 2, column 4"
        );
    }

    #[test]
    fn bad_ignore_path_is_an_error() {
        let opts = CompareOptions {
            ignore: vec!["/Bundle/meta".to_owned()],
            ..CompareOptions::default()
        };
        let error = failure("{}", "{}", &opts);
        assert!(
            matches!(&error, GoldenError::BadPath { option: PatternOption::Ignore, pattern, .. } if pattern == "/Bundle/meta"),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("bad ignore path `/Bundle/meta`: this is an XML path")
        );
    }

    // XML

    const FHIR: &str = "http://hl7.org/fhir";

    fn ack_xml(identifier: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="{FHIR}">
  <id value="0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d"/>
  <type value="message"/>
  <entry>
    <fullUrl value="urn:uuid:7d9e0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"/>
    <resource>
      <MessageHeader>
        <id value="7d9e0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"/>
        <response>
          <identifier value="{identifier}"/>
          <code value="ok"/>
        </response>
      </MessageHeader>
    </resource>
  </entry>
  <entry>
    <fullUrl value="urn:uuid:11111111-2222-4333-8444-555555555555"/>
    <resource>
      <Provenance>
        <id value="11111111-2222-4333-8444-555555555555"/>
        <recorded value="2024-05-01T12:30:00+02:00"/>
      </Provenance>
    </resource>
  </entry>
</Bundle>"#
        )
    }

    #[test]
    fn xml_attribute_order_and_whitespace_do_not_matter() {
        let golden = r#"<Bundle xmlns="http://hl7.org/fhir"><meta><tag system="s" code="c"/></meta><id value="x"/></Bundle>"#;
        let actual = "<?xml version=\"1.0\"?>\n<!-- produced by vendor -->\n<Bundle xmlns=\"http://hl7.org/fhir\">\n\t<meta>\n\t\t<tag code=\"c\"   system=\"s\" />\n\t</meta>\n\t<?pi x?>\n\t<id value='x'></id>\n</Bundle>\n";
        let comparison = run(golden, actual, &CompareOptions::default());
        assert!(comparison.is_match(), "{:?}", comparison.differences);
        assert_eq!(comparison.diff, "");
    }

    #[test]
    fn xml_namespace_prefixes_do_not_matter() {
        let golden = r#"<Bundle xmlns="http://hl7.org/fhir"><id value="x"/><entry><resource><Patient><text><div xmlns="http://www.w3.org/1999/xhtml"><p>Hej</p></div></text></Patient></resource></entry></Bundle>"#;
        let actual = r#"<f:Bundle xmlns:f="http://hl7.org/fhir" xmlns:h="http://www.w3.org/1999/xhtml"><f:id value="x"/><f:entry><f:resource><f:Patient><f:text><h:div><h:p>Hej</h:p></h:div></f:text></f:Patient></f:resource></f:entry></f:Bundle>"#;
        let comparison = run(golden, actual, &CompareOptions::default());
        assert!(comparison.is_match(), "{:?}", comparison.differences);
        assert_eq!(comparison.diff, "");
    }

    #[test]
    fn xml_namespace_itself_matters() {
        let comparison = run(
            r#"<Bundle xmlns="http://hl7.org/fhir"><id value="x"/></Bundle>"#,
            r#"<Bundle xmlns="http://hl7.org/fhir"><id xmlns="urn:other" value="x"/></Bundle>"#,
            &CompareOptions::default(),
        );
        let kinds: Vec<&DifferenceKind> = comparison.differences.iter().map(|d| &d.kind).collect();
        assert_eq!(
            kinds,
            vec![&DifferenceKind::Missing, &DifferenceKind::Unexpected]
        );
        assert_eq!(
            comparison.differences[1].actual.as_deref(),
            Some(r#"<id xmlns="urn:other" value="x"/>"#)
        );
    }

    #[test]
    fn xml_differing_value_is_reported_with_its_path() {
        let comparison = run(
            &ack_xml(LETTER_ID),
            &ack_xml("5a1b2c3d-0000-4000-8000-00000000ffff"),
            &CompareOptions::default(),
        );
        assert_eq!(
            comparison.differences,
            vec![Difference {
                path: "/Bundle/entry[0]/resource/MessageHeader/response/identifier/@value"
                    .to_owned(),
                kind: DifferenceKind::ValueMismatch,
                expected: Some(LETTER_ID.to_owned()),
                actual: Some("5a1b2c3d-0000-4000-8000-00000000ffff".to_owned()),
            }]
        );
        assert_eq!(
            changed_lines(&comparison.diff),
            vec![
                format!("-          <identifier value=\"{LETTER_ID}\"/>").as_str(),
                "+          <identifier value=\"5a1b2c3d-0000-4000-8000-00000000ffff\"/>",
            ]
        );
    }

    #[test]
    fn xml_placeholders_match_attributes_and_text() {
        let golden = ack_xml("{{capture:first.letter-id}}")
            .replace("0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d", "{{uuid}}")
            .replace(
                "urn:uuid:7d9e0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6",
                "urn:uuid:{{uuid}}",
            )
            .replace("2024-05-01T12:30:00+02:00", "{{datetime}}");
        let comparison = run(&golden, &ack_xml(LETTER_ID), &options());
        assert!(comparison.is_match(), "{:?}", comparison.differences);
        assert_eq!(comparison.diff, "");

        let comparison = run(&golden, &ack_xml("other"), &options());
        assert_eq!(comparison.differences.len(), 1);
        assert_eq!(
            comparison.differences[0].path,
            "/Bundle/entry[0]/resource/MessageHeader/response/identifier/@value"
        );
        assert_eq!(
            comparison.differences[0].expected.as_deref(),
            Some(LETTER_ID)
        );

        let text = run(
            "<a><b>{{datetime}}</b></a>",
            "<a><b>2024-05-01</b></a>",
            &options(),
        );
        assert_eq!(text.differences.len(), 1);
        assert_eq!(text.differences[0].path, "/a/b/text()");
    }

    #[test]
    fn xml_any_as_whole_content_matches_any_content() {
        let golden = r#"<text xmlns="http://hl7.org/fhir"><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">{{any}}</div></text>"#;
        let actual = r#"<text xmlns="http://hl7.org/fhir"><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Hej <b>med</b> dig</p></div></text>"#;
        let comparison = run(golden, actual, &options());
        assert!(comparison.is_match(), "{:?}", comparison.differences);
        assert_eq!(comparison.diff, "");
    }

    #[test]
    fn xml_missing_and_extra_elements_are_reported_once() {
        let golden = "<r><a v=\"1\"/><b v=\"2\"/><c v=\"3\"/><d v=\"4\"/></r>";
        let actual = "<r><a v=\"1\"/><c v=\"3\"/><x/><d v=\"4\"/></r>";
        let comparison = run(golden, actual, &options());
        let found: Vec<(&str, &DifferenceKind)> = comparison
            .differences
            .iter()
            .map(|d| (d.path.as_str(), &d.kind))
            .collect();
        assert_eq!(
            found,
            vec![
                ("/r/b", &DifferenceKind::Missing),
                ("/r/x", &DifferenceKind::Unexpected)
            ]
        );
    }

    #[test]
    fn xml_ignore_and_unordered_use_xml_paths() {
        let golden = "<Bundle><meta><v value=\"1\"/></meta><entry><id value=\"a\"/></entry><entry><id value=\"b\"/></entry></Bundle>";
        let actual = "<Bundle><entry><id value=\"b\"/></entry><meta><v value=\"2\"/></meta><entry><id value=\"a\"/></entry></Bundle>";
        let opts = CompareOptions {
            ignore: vec!["/Bundle/meta".to_owned()],
            unordered: vec!["/Bundle".to_owned()],
            ..CompareOptions::default()
        };
        let comparison = run(golden, actual, &opts);
        assert!(comparison.is_match(), "{:?}", comparison.differences);
        assert_eq!(comparison.diff, "");

        let ordered = run(golden, actual, &CompareOptions::default());
        assert!(!ordered.is_match());
        let error = failure(
            golden,
            actual,
            &CompareOptions {
                ignore: vec!["meta".to_owned()],
                ..CompareOptions::default()
            },
        );
        assert!(matches!(error, GoldenError::BadPath { .. }));
    }

    #[test]
    fn xml_ignored_attribute_is_not_compared() {
        let comparison = run(
            r#"<a><b id="1" value="x"/></a>"#,
            r#"<a><b id="2" value="x"/></a>"#,
            &CompareOptions {
                ignore: vec!["/a/b/@id".to_owned()],
                ..CompareOptions::default()
            },
        );
        assert!(comparison.is_match(), "{:?}", comparison.differences);
    }

    #[test]
    fn xml_doctype_is_refused() {
        let hostile = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]>\n<Bundle>&lol2;</Bundle>";
        let error = failure("<Bundle/>", hostile, &options());
        assert!(
            matches!(
                error,
                GoldenError::Doctype {
                    side: Side::Actual,
                    line: 2,
                    column: 1
                }
            ),
            "{error:?}"
        );
        let error = failure(hostile, "<Bundle/>", &options());
        assert!(matches!(
            error,
            GoldenError::Doctype {
                side: Side::Golden,
                ..
            }
        ));
    }

    #[test]
    fn xml_root_with_another_name_is_missing_and_unexpected() {
        let comparison = run("<Bundle/>", "<Parameters/>", &options());
        let found: Vec<(&str, &DifferenceKind)> = comparison
            .differences
            .iter()
            .map(|d| (d.path.as_str(), &d.kind))
            .collect();
        assert_eq!(
            found,
            vec![
                ("/Bundle", &DifferenceKind::Missing),
                ("/Parameters", &DifferenceKind::Unexpected)
            ]
        );
    }

    #[test]
    fn rendered_actual_reads_back_as_a_matching_golden() {
        for message in [ack_json(LETTER_ID, "ok"), ack_xml(LETTER_ID)] {
            let rendered = normalize::render_normalized(message.as_bytes()).expect("renders");
            let comparison = run(&rendered, &message, &CompareOptions::default());
            assert!(comparison.is_match(), "{:?}", comparison.differences);
            assert_eq!(comparison.diff, "");
        }
    }

    #[test]
    fn deepest_accepted_documents_compare_without_overflowing_the_stack() {
        // Test threads have a 2 MiB stack, like the harness's worker threads.
        let depth = normalize::MAX_XML_DEPTH;
        let golden = format!("{}{}", "<a x=\"1\">".repeat(depth), "</a>".repeat(depth));
        let actual = golden.replacen("x=\"1\"", "x=\"2\"", 1);
        let comparison = run(&golden, &actual, &CompareOptions::default());
        assert_eq!(comparison.differences.len(), 1);

        // serde_json refuses nesting 128 deep, so 126 arrays inside the root object fit.
        let nested = format!("{{\"v\":{}1{}}}", "[".repeat(126), "]".repeat(126));
        let other = nested.replace('1', "2");
        let comparison = run(
            &nested,
            &other,
            &CompareOptions {
                unordered: vec!["v".to_owned()],
                ..CompareOptions::default()
            },
        );
        assert_eq!(comparison.differences.len(), 1);
        let too_deep = format!("{{\"v\":{}1{}}}", "[".repeat(127), "]".repeat(127));
        assert!(matches!(
            failure(&too_deep, "{}", &options()),
            GoldenError::Json {
                side: Side::Golden,
                ..
            }
        ));
    }

    #[test]
    fn difference_reads_as_a_sentence() {
        let difference = Difference {
            path: "entry[0].resource.response.code".to_owned(),
            kind: DifferenceKind::ValueMismatch,
            expected: Some("\"ok\"".to_owned()),
            actual: Some("\"fatal-error\"".to_owned()),
        };
        assert_eq!(
            difference.to_string(),
            "`entry[0].resource.response.code`: expected `\"ok\"`, found `\"fatal-error\"`"
        );
        let difference = Difference {
            path: "focus.reference".to_owned(),
            kind: DifferenceKind::PlaceholderMismatch {
                placeholder: "MessageHeader/{{capture:first.letter-id}}".to_owned(),
            },
            expected: Some("\"MessageHeader/abc\"".to_owned()),
            actual: Some("\"MessageHeader/xyz\"".to_owned()),
        };
        assert_eq!(
            difference.to_string(),
            "`focus.reference`: expected `\"MessageHeader/abc\"` (the golden's \
             `MessageHeader/{{capture:first.letter-id}}`), found `\"MessageHeader/xyz\"`"
        );
        let words = |kind: DifferenceKind, expected: Option<&str>, actual: Option<&str>| {
            Difference {
                path: "id".to_owned(),
                kind,
                expected: expected.map(str::to_owned),
                actual: actual.map(str::to_owned),
            }
            .to_string()
        };
        assert_eq!(
            words(
                DifferenceKind::PlaceholderMismatch {
                    placeholder: "{{uuid}}".to_owned()
                },
                Some("\"{{uuid}}\""),
                Some("\"x\"")
            ),
            "`id`: expected a value matching `{{uuid}}`, found `\"x\"`"
        );
        assert_eq!(
            words(DifferenceKind::Missing, Some("\"a\""), None),
            "`id`: missing, expected `\"a\"`"
        );
        assert_eq!(
            words(DifferenceKind::Unexpected, None, Some("\"a\"")),
            "`id`: not in the golden, found `\"a\"`"
        );
        assert_eq!(
            words(DifferenceKind::TypeMismatch, Some("\"1\""), Some("1")),
            "`id`: expected a string `\"1\"`, found a number `1`"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Any JSON value whose strings hold no braces, so no placeholders.
        fn plain_json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>()
                    .prop_filter("JSON numbers are finite", |f| f.is_finite())
                    .prop_map(Value::from),
                "[^{}]{0,12}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 64, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::btree_map("[a-zA-Z_]{1,8}", inner, 0..6)
                        .prop_map(|members| Value::Object(members.into_iter().collect())),
                ]
            })
        }

        /// Any JSON value whose strings may hold placeholders, broken ones included.
        fn golden_json() -> impl Strategy<Value = Value> {
            let text = prop_oneof![
                "[^{}]{0,6}",
                Just("{{any}}".to_owned()),
                Just("urn:uuid:{{uuid}}".to_owned()),
                Just("{{id}}/{{any}}".to_owned()),
                Just("{{datetime}}".to_owned()),
                Just("{{capture:c}}".to_owned()),
                Just("{{capture:nope}}".to_owned()),
                Just("{{bad}}".to_owned()),
                Just("{{".to_owned()),
                Just("}}{{".to_owned()),
            ];
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i32>().prop_map(Value::from),
                text.prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 48, 5, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                    prop::collection::btree_map("[ab]", inner, 0..4)
                        .prop_map(|members| Value::Object(members.into_iter().collect())),
                ]
            })
        }

        fn wrap(value: &Value) -> String {
            format!("{{\"v\":{value}}}")
        }

        /// A small XML tree, written out in two ways that must compare equal.
        #[derive(Debug, Clone)]
        struct Tree {
            namespace: usize,
            name: String,
            attributes: BTreeMap<String, String>,
            children: Vec<Leaf>,
        }

        #[derive(Debug, Clone)]
        enum Leaf {
            Element(Tree),
            Text(String),
        }

        const NAMESPACES: [&str; 3] = ["", "urn:a", "http://hl7.org/fhir"];

        fn tree() -> impl Strategy<Value = Tree> {
            let text = "[a-zA-Z0-9 <>&\"'.:æøå\t\n]{0,10}";
            let leaf = (
                0..NAMESPACES.len(),
                "[a-z]{1,3}",
                prop::collection::btree_map("[a-z]{1,3}", text, 0..3),
            )
                .prop_map(|(namespace, name, attributes)| Tree {
                    namespace,
                    name,
                    attributes,
                    children: Vec::new(),
                });
            leaf.prop_recursive(4, 32, 5, move |inner| {
                (
                    0..NAMESPACES.len(),
                    "[a-z]{1,3}",
                    prop::collection::btree_map("[a-z]{1,3}", text, 0..3),
                    prop::collection::vec(
                        prop_oneof![inner.prop_map(Leaf::Element), text.prop_map(Leaf::Text),],
                        0..5,
                    ),
                )
                    .prop_map(|(namespace, name, attributes, children)| Tree {
                        namespace,
                        name,
                        attributes,
                        children,
                    })
            })
        }

        fn escape(text: &str) -> String {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\t', "&#9;")
                .replace('\n', "&#10;")
        }

        /// Writes the tree with prefixes `p1`, `p2` declared on the root.
        fn with_prefixes(tree: &Tree, root: bool, out: &mut String) {
            let name = match tree.namespace {
                0 => tree.name.clone(),
                n => format!("p{n}:{}", tree.name),
            };
            out.push('<');
            out.push_str(&name);
            if root {
                out.push_str(" xmlns:p1=\"urn:a\" xmlns:p2=\"http://hl7.org/fhir\"");
            }
            for (key, value) in tree.attributes.iter().rev() {
                out.push_str(&format!(" {key}=\"{}\"", escape(value)));
            }
            out.push('>');
            for child in &tree.children {
                match child {
                    Leaf::Element(inner) => with_prefixes(inner, false, out),
                    Leaf::Text(text) => out.push_str(&escape(text)),
                }
            }
            out.push_str(&format!("<!-- end --></{name}>"));
        }

        /// Writes the tree with a default namespace declared on every element.
        fn with_defaults(tree: &Tree, out: &mut String) {
            out.push_str(&format!(
                "<{} xmlns=\"{}\"",
                tree.name, NAMESPACES[tree.namespace]
            ));
            for (key, value) in &tree.attributes {
                out.push_str(&format!(
                    " {key}='{}'",
                    escape(value).replace('\'', "&apos;")
                ));
            }
            out.push('>');
            for child in &tree.children {
                match child {
                    Leaf::Element(inner) => with_defaults(inner, out),
                    Leaf::Text(text) => out.push_str(&escape(text)),
                }
            }
            out.push_str(&format!("</{}>", tree.name));
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn json_always_matches_itself(value in plain_json()) {
                let text = wrap(&value);
                let comparison = run(&text, &text, &CompareOptions::default());
                prop_assert!(comparison.is_match(), "{:?}", comparison.differences);
                prop_assert_eq!(comparison.diff, "");
            }

            #[test]
            fn json_always_matches_itself_unordered(value in plain_json()) {
                let text = wrap(&value);
                let opts = CompareOptions {
                    unordered: vec!["v".to_owned(), "v[*].*".to_owned()],
                    ..CompareOptions::default()
                };
                let comparison = run(&text, &text, &opts);
                prop_assert!(comparison.is_match(), "{:?}", comparison.differences);
                prop_assert_eq!(comparison.diff, "");
            }

            #[test]
            fn rendered_json_matches_its_source(value in plain_json()) {
                let text = wrap(&value);
                let rendered = normalize::render_normalized(text.as_bytes()).expect("renders");
                let comparison = run(&rendered, &text, &CompareOptions::default());
                prop_assert!(comparison.is_match(), "{:?}", comparison.differences);
            }

            #[test]
            fn xml_matches_itself_whatever_the_prefixes(tree in tree()) {
                let mut prefixed = String::new();
                with_prefixes(&tree, true, &mut prefixed);
                let mut defaulted = String::new();
                with_defaults(&tree, &mut defaulted);
                let comparison = run(&prefixed, &defaulted, &CompareOptions::default());
                prop_assert!(comparison.is_match(), "{:?}", comparison.differences);
                prop_assert_eq!(comparison.diff, "");
                let rendered = normalize::render_normalized(prefixed.as_bytes()).expect("renders");
                let comparison = run(&rendered, &defaulted, &CompareOptions::default());
                prop_assert!(comparison.is_match(), "{:?}", comparison.differences);
            }

            #[test]
            fn any_golden_against_any_message_never_panics(
                golden in golden_json(),
                actual in plain_json(),
                ignore in prop::collection::vec("[a-z.\\[\\]*0-9/@]{0,8}", 0..3),
                unordered in prop::collection::vec(prop::sample::select(vec!["v", "v[*]", "v.a", "v.*", "v[*].b"]), 0..3),
            ) {
                let opts = CompareOptions {
                    captures: BTreeMap::from([("c".to_owned(), "1".to_owned())]),
                    ignore,
                    unordered: unordered.into_iter().map(str::to_owned).collect(),
                };
                let _ = compare(wrap(&golden).as_bytes(), wrap(&actual).as_bytes(), &opts);
            }

            #[test]
            fn any_bytes_never_panic(golden in prop::collection::vec(any::<u8>(), 0..64),
                                     actual in prop::collection::vec(any::<u8>(), 0..64)) {
                let _ = compare(&golden, &actual, &CompareOptions::default());
                let _ = normalize::render_normalized(&actual);
            }
        }
    }
}
