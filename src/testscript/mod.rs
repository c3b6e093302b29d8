//! MedCom's FHIR `TestScript`s as scenarios: the model, the data table, and the pure parts of
//! the engine (variables, `${name}` substitution, FHIRPath asserts as Touchstone evaluates them).
//!
//! A `.json` file whose `resourceType` is `TestScript` is a scenario ([`crate::scenario::load`]
//! reads it), and the runner plays it step by step: its `origin` (profile `FHIR-Client`) is the
//! vendor's system, its `destination` (profile `FHIR-Server`) is the harness. What the scripts
//! leave unsaid — how to build Touchstone's unpublished fixtures, what the vendor must be told to
//! do — is data ([`table`], `data/testscript-instructions.toml`), never code.
//!
//! Rules of evaluation (FHIR R4 TestScript, <https://hl7.org/fhir/R4/testscript.html>, and
//! Touchstone's behaviour as MedCom's scripts rely on it):
//!
//! - FHIRPath through the project's engine (octofhir-fhirpath, [`crate::validate::profile::evaluate`]),
//!   rooted at the Bundle (`%resource` is the Bundle).
//! - An `expression` without `operator` passes when its result is `true`, or, as in Touchstone's
//!   Java engine, a non-empty result that holds no `false`.
//! - **Touchstone quirk, integer vs string**: Touchstone's Java FHIRPath converts a quoted number
//!   in `count() = '2'`; strict FHIRPath never finds an integer equal to a string. The engine
//!   rewrites `count() = 'N'` (and `!=`) to compare with the integer `N` and says so in the
//!   assert's message ([`QUIRK_COUNT_STRING`]).
//! - With `operator` and `value`, the result is compared as strings. A multi-valued result equals
//!   `value` when every item does (MedCom's acknowledgement scripts compare the roles of two
//!   Provenances with `equals 'revision'`); `in`/`notIn` split `value` at commas.
//! - `${name}` is replaced by the variable's value as its raw JSON text (an instant keeps its
//!   `Z`); an undefined variable, an unknown fixture or an expression that does not parse is an
//!   error of the script naming the element ([`ScriptDefect`]), never a verdict on the vendor.

pub mod model;
pub mod shape;
pub mod table;

pub use model::{Action, Assert, Operation, TestScript};
pub use table::{AttachmentWish, Defect, FixtureRecipe, Instruction, Table};

use serde_json::Value;
use std::path::Path;

/// The note on an assert or variable whose `ofType('Type')` names its type as a string.
pub const QUIRK_OFTYPE_STRING: &str = "evaluated as Touchstone's Java FHIRPath does: `ofType('Encounter')` names the type as a string, which strict FHIRPath refuses (a type specifier is an identifier)";

/// The note an assert carries when the integer-vs-string quirk was applied.
pub const QUIRK_COUNT_STRING: &str = "evaluated as Touchstone's Java FHIRPath does: `count() = 'N'` compares the integer with the quoted number (strict FHIRPath would never find them equal)";

/// The note on an assert that puts a numeric `${name}` into its expression without quotes.
pub const QUIRK_UNQUOTED_NUMBER: &str = "the script puts a variable into the expression unquoted, so FHIRPath (Touchstone's Java engine as well as the project's) reads its digits as an integer and compares a string with an integer, which are never equal: `!=` holds and `=` fails whatever the values are";

/// A defect of the script itself: its element (`test[2].action[5].assert.expression`) and what
/// is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{element}: {message}")]
pub struct ScriptDefect {
    /// The element, as a path into the script.
    pub element: String,
    /// What is wrong.
    pub message: String,
}

/// Why a file could not be read as a TestScript.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Unreadable.
    #[error("failed to read TestScript `{}`", .path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not a TestScript in JSON.
    #[error("`{}` is not a FHIR TestScript in JSON: {}", .path.display(), .error)]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, and where.
        error: ParseError,
    },
}

/// What is wrong with the text of a `.json` scenario, with its 1-based position when the JSON
/// itself is broken (otherwise line 1, column 1: the whole resource).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    fn whole(message: impl Into<String>) -> Self {
        ParseError {
            line: 1,
            column: 1,
            message: message.into(),
        }
    }
}

/// What a `.json` file holds, as the scenario loader sorts a folder: a TestScript, another FHIR
/// resource (MedCom's script folders hold example Bundles and the IG's own resources, which are
/// not scenarios), or something that cannot be told apart from a broken TestScript (not JSON,
/// or JSON without a `resourceType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonKind {
    /// `"resourceType": "TestScript"`.
    TestScript,
    /// A FHIR resource of this other type.
    OtherResource(String),
    /// Not JSON, or JSON without a string `resourceType`.
    Unknown,
}

/// Sorts the bytes of a `.json` file ([`JsonKind`]).
pub fn json_kind(bytes: &[u8]) -> JsonKind {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return JsonKind::Unknown;
    };
    match value.get("resourceType").and_then(Value::as_str) {
        Some("TestScript") => JsonKind::TestScript,
        Some(other) => JsonKind::OtherResource(other.to_string()),
        None => JsonKind::Unknown,
    }
}

/// Whether `bytes` (a `.json` file) is a FHIR resource of type `TestScript`.
pub fn is_testscript(bytes: &[u8]) -> bool {
    json_kind(bytes) == JsonKind::TestScript
}

/// Reads the TestScript in `path` ([`parse`]).
///
/// # Errors
/// [`LoadError`].
pub fn load(path: &Path) -> Result<TestScript, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&bytes).map_err(|error| LoadError::Invalid {
        path: path.to_path_buf(),
        error,
    })
}

/// Parses a TestScript from the bytes of a `.json` file, refusing what cannot run as one: text
/// that is not JSON (with the line and column of the syntax error), JSON without a
/// `resourceType`, a resource of another type, a TestScript without `id`, and one with nothing
/// to run — no `test` and no setup action (R4 TestScript: `test.action` is 1..*; a script
/// that checks nothing must never pass).
///
/// # Errors
/// [`ParseError`] saying what is wrong.
pub fn parse(bytes: &[u8]) -> Result<TestScript, ParseError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        // serde_json ends its message with the position, which the error carries on its own.
        let message = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(m, _)| m)
            .to_string();
        ParseError {
            line: e.line().max(1),
            column: e.column().max(1),
            message: format!("not valid JSON: {message}"),
        }
    })?;
    match value.get("resourceType").and_then(Value::as_str) {
        Some("TestScript") => {}
        Some(other) => {
            return Err(ParseError::whole(format!(
                "a FHIR `{other}` resource, not a TestScript"
            )));
        }
        None => {
            return Err(ParseError::whole(
                "JSON without a `resourceType`, so not a FHIR TestScript",
            ));
        }
    }
    let script: TestScript =
        serde_json::from_value(value).map_err(|e| ParseError::whole(e.to_string()))?;
    if script.id.is_empty() {
        return Err(ParseError::whole("the TestScript has no `id`"));
    }
    let setup_actions = script.setup.as_ref().map_or(0, |s| s.action.len());
    if script.test.is_empty() && setup_actions == 0 {
        return Err(ParseError::whole(format!(
            "TestScript `{}` has no test: no `test` and no `setup` action, so nothing to run and nothing that could pass",
            script.id
        )));
    }
    if let Some(i) = script.test.iter().position(|t| t.action.is_empty()) {
        return Err(ParseError::whole(format!(
            "TestScript `{}`: `test[{i}]` has no `action` (FHIR R4 TestScript.test.action is 1..*)",
            script.id
        )));
    }
    Ok(script)
}

/// The standard a MedCom script tests, from its id or URL (`CareCommunication 5.0`).
pub fn standard_of(script: &TestScript) -> String {
    let key = format!("{} {}", script.id, script.url.as_deref().unwrap_or("")).to_lowercase();
    let version = script.version.clone().unwrap_or_default();
    let family = if key.contains("carecommunication") {
        "CareCommunication"
    } else if key.contains("acknowledgement") {
        "Acknowledgement"
    } else if key.contains("hospitalnotification") {
        "HospitalNotification"
    } else {
        "FHIR TestScript"
    };
    if version.is_empty() {
        family.to_string()
    } else {
        format!("{family} {version}")
    }
}

/// Replaces every `${name}` in `text` by `lookup(name)`; the first name `lookup` does not know
/// is returned as the error.
pub fn substitute(
    text: &str,
    mut lookup: impl FnMut(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        match lookup(name) {
            Some(v) => out.push_str(&v),
            None => return Err(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The names `${…}` in `text` that stand outside a quoted string literal (`!= ${sor}`, not
/// `= '${sor}'`), in order.
pub fn unquoted_placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut quoted = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if quoted => {
                chars.next();
            }
            '\'' => quoted = !quoted,
            '$' if !quoted && text[i..].starts_with("${") => {
                if let Some(end) = text[i + 2..].find('}') {
                    names.push(text[i + 2..i + 2 + end].to_string());
                }
            }
            _ => {}
        }
    }
    names
}

/// The names `${…}` in `text`, in order.
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let _ = substitute(text, |n| {
        names.push(n.to_string());
        Some(String::new())
    });
    names
}

/// Applies Touchstone's readings to `expression`: `count() = '2'` becomes `count() = 2`
/// ([`QUIRK_COUNT_STRING`]) and `ofType('Encounter')` becomes `ofType(Encounter)`
/// ([`QUIRK_OFTYPE_STRING`]). Returns the expression to evaluate and whether it changed.
pub fn touchstone_quirks(expression: &str) -> (String, bool) {
    static COUNT: std::sync::OnceLock<Option<(regex::Regex, regex::Regex)>> =
        std::sync::OnceLock::new();
    let Some((count, of_type)) = COUNT
        .get_or_init(|| {
            Some((
                regex::Regex::new(r"count\(\)\s*(=|!=)\s*'(\d+)'").ok()?,
                regex::Regex::new(r"ofType\(\s*'([A-Za-z][A-Za-z0-9]*)'\s*\)").ok()?,
            ))
        })
        .as_ref()
    else {
        return (expression.to_string(), false);
    };
    let rewritten = count.replace_all(expression, "count() $1 $2");
    let rewritten = of_type.replace_all(&rewritten, "ofType($1)").into_owned();
    let changed = rewritten != expression;
    (rewritten, changed)
}

/// The text of a FHIRPath result item, as Touchstone compares it and `${name}` substitutes it:
/// strings as they are, other primitives as JSON text, objects as compact JSON.
pub fn item_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether an operator-less expression result passes: `true`, or (Java-style) non-empty with no
/// `false` in it.
pub fn truthy(result: &[Value]) -> bool {
    !result.is_empty() && !result.iter().any(|v| v == &Value::Bool(false))
}

/// Compares `actual` (result items as text) with `expected` by the TestScript `operator`
/// (R4 `assert-operator-codes`). `Err` for an operator the engine does not know.
pub fn compare(operator: &str, actual: &[String], expected: &str) -> Result<bool, String> {
    let list: Vec<&str> = expected.split(',').map(str::trim).collect();
    let num = |s: &str| s.trim().parse::<f64>().ok();
    Ok(match operator {
        "equals" => !actual.is_empty() && actual.iter().all(|a| a == expected),
        "notEquals" => actual.iter().all(|a| a != expected),
        "in" => !actual.is_empty() && actual.iter().all(|a| list.contains(&a.as_str())),
        "notIn" => actual.iter().all(|a| !list.contains(&a.as_str())),
        "greaterThan" => actual
            .first()
            .and_then(|a| Some(num(a)? > num(expected)?))
            .unwrap_or(false),
        "lessThan" => actual
            .first()
            .and_then(|a| Some(num(a)? < num(expected)?))
            .unwrap_or(false),
        "empty" => actual.is_empty(),
        "notEmpty" => !actual.is_empty(),
        "contains" => actual.iter().any(|a| a.contains(expected)),
        "notContains" => actual.iter().all(|a| !a.contains(expected)),
        other => return Err(format!("operator `{other}` is not one FHIR R4 defines")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quoted_count_is_read_as_touchstone_reads_it() {
        let (e, changed) =
            touchstone_quirks("Bundle.entry.resource.ofType(Communication).payload.count() = '2'");
        assert!(changed);
        assert_eq!(
            e,
            "Bundle.entry.resource.ofType(Communication).payload.count() = 2"
        );
        assert!(!touchstone_quirks("Bundle.entry.count() = 3").1);
        // HospitalNotification PF-send-imp-06 names the type as a string.
        assert_eq!(
            touchstone_quirks("Bundle.entry.resource.ofType('Encounter').period.start").0,
            "Bundle.entry.resource.ofType(Encounter).period.start"
        );
    }

    #[test]
    fn an_undefined_variable_is_named() {
        let known = |n: &str| (n == "a").then(|| "1".to_string());
        assert_eq!(substitute("x ${a} y", known).as_deref(), Ok("x 1 y"));
        assert_eq!(substitute("${a} ${b}", known), Err("b".to_string()));
        assert_eq!(placeholders("'${a}' != '${b}'"), vec!["a", "b"]);
        // HospitalNotification PF-send-imp-05 compares with an unquoted SOR code.
        assert_eq!(
            unquoted_placeholders("x.value != ${sor} and y = '${gln}'"),
            vec!["sor"]
        );
        // Touchstone's `$name` without braces is not a placeholder of the `${}` form.
        assert_eq!(substitute("?uri=$a", known).as_deref(), Ok("?uri=$a"));
    }

    /// R4 `assert-operator-codes`; `equals` over two Provenance roles is the acknowledgement
    /// scripts' `entity.role equals 'revision'`.
    #[test]
    fn operators_compare_as_strings() {
        let two = vec!["revision".to_string(), "revision".to_string()];
        assert_eq!(compare("equals", &two, "revision"), Ok(true));
        assert_eq!(compare("in", &["201".to_string()], "200,201"), Ok(true));
        assert_eq!(compare("in", &["202".to_string()], "200,201"), Ok(false));
        assert_eq!(compare("notEquals", &["a".to_string()], "b"), Ok(true));
        assert_eq!(compare("greaterThan", &["3".to_string()], "1"), Ok(true));
        assert!(compare("like", &[], "x").is_err());
    }

    #[test]
    fn a_java_style_result_is_truthy_when_not_empty_and_not_false() {
        assert!(truthy(&[Value::Bool(true)]));
        assert!(truthy(&[Value::String("x".into())]));
        assert!(!truthy(&[]));
        assert!(!truthy(&[Value::Bool(false)]));
    }
}
