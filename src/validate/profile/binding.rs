//! Required bindings: ValueSets expanded from the loaded CodeSystems, and membership of a code,
//! Coding or CodeableConcept.
//!
//! Rules (FHIR R4 "Terminology binding", ValueSet.compose):
//! - Only `required` bindings are judged; a value outside the set is `profile-binding`
//!   (extensible, preferred and example bindings are advice, not rules).
//! - A ValueSet is expanded from `compose`: each `include` adds its listed `concept`s, or the codes
//!   its `filter`s select (`concept` `is-a`, `descendent-of`, `=`, over the CodeSystem's concept
//!   hierarchy), or, with neither, every code of its CodeSystem; `include.valueSet` imports
//!   another ValueSet; `exclude` removes codes. A ValueSet without `compose` uses its
//!   `expansion.contains`.
//! - A system whose CodeSystem is not loaded can only contribute listed concepts; codes of such a
//!   system are not judged (the expansion is partial there), and neither is a binding to a
//!   ValueSet that is not loaded (e.g. the FHIR core ValueSets, unless a core package is loaded).
//! - A `code` matches a code of any system of the set; a `Coding` matches on system and code; a
//!   `CodeableConcept` matches when one of its codings does, and one with no coding fails.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// ValueSets and CodeSystems by canonical url, with expansions computed on first use.
#[derive(Default)]
pub(crate) struct Terminology {
    value_sets: HashMap<String, Arc<Value>>,
    code_systems: HashMap<String, Arc<Value>>,
    expansions: std::sync::RwLock<HashMap<String, Arc<ExpansionCell>>>,
}

/// An expansion computed at most once (`None`: the ValueSet is not loaded).
type ExpansionCell = OnceLock<Option<Arc<Expansion>>>;

/// The codes of an expanded ValueSet.
#[derive(Debug, Default)]
pub(crate) struct Expansion {
    /// `(system, code)` pairs.
    codes: HashSet<(String, String)>,
    /// Codes regardless of system, for a bare `code`.
    bare: HashSet<String>,
    /// Systems whose codes could not all be listed (CodeSystem not loaded).
    partial: HashSet<String>,
}

/// The outcome of a binding check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BindingOutcome {
    /// The value is in the set.
    InValueSet,
    /// The value is not; the text says what it is ("has code `x` (system `y`)").
    NotInValueSet(String),
    /// The set or the system is not loaded, or the type carries no code: not judged.
    Unknown,
}

impl Terminology {
    /// Adds a ValueSet or CodeSystem; the highest version of a url wins the unversioned key.
    pub(crate) fn add(&mut self, resource: Value) {
        let map = match resource.get("resourceType").and_then(Value::as_str) {
            Some("ValueSet") => &mut self.value_sets,
            Some("CodeSystem") => &mut self.code_systems,
            _ => return,
        };
        super::ig::insert_versioned(map, Arc::new(resource), |r| {
            (
                r.get("url").and_then(Value::as_str).unwrap_or(""),
                r.get("version").and_then(Value::as_str),
            )
        });
    }

    fn lookup<'m>(map: &'m HashMap<String, Arc<Value>>, canonical: &str) -> Option<&'m Arc<Value>> {
        map.get(canonical)
            .or_else(|| canonical.split_once('|').and_then(|(u, _)| map.get(u)))
    }

    /// The expansion of a loaded ValueSet, computed once.
    pub(crate) fn expansion(&self, canonical: &str) -> Option<Arc<Expansion>> {
        let cell = {
            let read = self.expansions.read().ok()?;
            read.get(canonical).cloned()
        };
        let cell = match cell {
            Some(c) => c,
            None => {
                let mut write = self.expansions.write().ok()?;
                write.entry(canonical.to_string()).or_default().clone()
            }
        };
        cell.get_or_init(|| self.expand(canonical, 0).map(Arc::new))
            .clone()
    }

    fn expand(&self, canonical: &str, depth: usize) -> Option<Expansion> {
        if depth > 8 {
            return None;
        }
        let vs = Self::lookup(&self.value_sets, canonical)?;
        let mut out = Expansion::default();
        match vs.get("compose") {
            Some(compose) => {
                for include in array(compose, "include") {
                    self.include(include, depth, &mut out, true);
                }
                for exclude in array(compose, "exclude") {
                    let mut removed = Expansion::default();
                    self.include(exclude, depth, &mut removed, false);
                    out.codes.retain(|c| !removed.codes.contains(c));
                }
            }
            None => collect_contains(vs.get("expansion"), &mut out),
        }
        out.bare = out.codes.iter().map(|(_, c)| c.clone()).collect();
        Some(out)
    }

    fn include(&self, include: &Value, depth: usize, out: &mut Expansion, mark_partial: bool) {
        for imported in array(include, "valueSet").iter().filter_map(|v| v.as_str()) {
            match self.expand(imported, depth + 1) {
                Some(e) => {
                    out.codes.extend(e.codes);
                    out.partial.extend(e.partial);
                }
                None => {
                    if mark_partial {
                        out.partial.insert(String::new());
                    }
                }
            }
        }
        let Some(system) = include.get("system").and_then(Value::as_str) else {
            return;
        };
        let concepts = array(include, "concept");
        if !concepts.is_empty() {
            for c in concepts {
                if let Some(code) = c.get("code").and_then(Value::as_str) {
                    out.codes.insert((system.to_string(), code.to_string()));
                }
            }
            return;
        }
        let Some(cs) = Self::lookup(&self.code_systems, system) else {
            if mark_partial {
                out.partial.insert(system.to_string());
            }
            return;
        };
        let mut all = Vec::new();
        flatten_concepts(cs.get("concept"), None, &mut all);
        let filters = array(include, "filter");
        for (code, ancestors) in &all {
            let selected = filters.iter().all(|f| {
                let op = f.get("op").and_then(Value::as_str).unwrap_or("");
                let value = f.get("value").and_then(Value::as_str).unwrap_or("");
                if f.get("property").and_then(Value::as_str) != Some("concept") {
                    return false;
                }
                match op {
                    "is-a" => code == value || ancestors.iter().any(|a| a == value),
                    "descendent-of" => ancestors.iter().any(|a| a == value),
                    "=" => code == value,
                    _ => false,
                }
            });
            if selected {
                out.codes.insert((system.to_string(), code.clone()));
            }
        }
        if cs
            .get("content")
            .and_then(Value::as_str)
            .is_some_and(|c| c != "complete")
            && mark_partial
        {
            out.partial.insert(system.to_string());
        }
    }
}

fn array<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn flatten_concepts(
    concepts: Option<&Value>,
    parent: Option<&[String]>,
    out: &mut Vec<(String, Vec<String>)>,
) {
    let Some(list) = concepts.and_then(Value::as_array) else {
        return;
    };
    for c in list {
        let Some(code) = c.get("code").and_then(Value::as_str) else {
            continue;
        };
        let ancestors: Vec<String> = parent.map(<[String]>::to_vec).unwrap_or_default();
        out.push((code.to_string(), ancestors.clone()));
        let mut mine = ancestors;
        mine.push(code.to_string());
        flatten_concepts(c.get("concept"), Some(&mine), out);
    }
}

fn collect_contains(expansion: Option<&Value>, out: &mut Expansion) {
    let Some(e) = expansion else { return };
    for c in array(e, "contains") {
        if let (Some(s), Some(code)) = (
            c.get("system").and_then(Value::as_str),
            c.get("code").and_then(Value::as_str),
        ) {
            out.codes.insert((s.to_string(), code.to_string()));
        }
        collect_contains(Some(c), out);
    }
}

impl Expansion {
    /// Every code regardless of system, sorted; `None` when the expansion is partial.
    pub(crate) fn complete_codes(&self) -> Option<Vec<String>> {
        if !self.partial.is_empty() {
            return None;
        }
        let mut codes: Vec<String> = self.bare.iter().cloned().collect();
        codes.sort_unstable();
        Some(codes)
    }

    /// Membership of one coding; `None` when it cannot be judged (a partial system).
    pub(crate) fn contains(&self, system: Option<&str>, code: &str) -> Option<bool> {
        match system {
            Some(s) => {
                if self.codes.contains(&(s.to_string(), code.to_string())) {
                    Some(true)
                } else if self.partial.contains(s) || self.partial.contains("") {
                    None
                } else {
                    Some(false)
                }
            }
            None => {
                if self.bare.contains(code) {
                    Some(true)
                } else if self.partial.is_empty() {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }
}

/// Checks a value of FHIR type `ty` against the ValueSet `value_set`.
pub(crate) fn check(
    term: &Terminology,
    value_set: &str,
    ty: &str,
    value: &Value,
) -> BindingOutcome {
    let Some(exp) = term.expansion(value_set) else {
        return BindingOutcome::Unknown;
    };
    let codings: Vec<(Option<&str>, &str)> = match ty {
        "Coding" => coding(value).into_iter().collect(),
        "CodeableConcept" => {
            let list: Vec<_> = array(value, "coding").iter().filter_map(coding).collect();
            if list.is_empty() {
                return BindingOutcome::NotInValueSet("has no coding".to_string());
            }
            list
        }
        "Quantity" | "Reference" | "Identifier" | "Attachment" | "Extension" => {
            return BindingOutcome::Unknown;
        }
        _ => match value.as_str() {
            Some(code) => vec![(None, code)],
            None => return BindingOutcome::Unknown,
        },
    };
    let mut unknown = false;
    for (system, code) in &codings {
        match exp.contains(*system, code) {
            Some(true) => return BindingOutcome::InValueSet,
            Some(false) => {}
            None => unknown = true,
        }
    }
    if unknown || codings.is_empty() {
        return BindingOutcome::Unknown;
    }
    let shown: Vec<String> = codings
        .iter()
        .map(|(s, c)| match s {
            Some(s) => format!("`{c}` (system `{s}`)"),
            None => format!("`{c}`"),
        })
        .collect();
    BindingOutcome::NotInValueSet(format!("has code {}", shown.join(", ")))
}

fn coding(v: &Value) -> Option<(Option<&str>, &str)> {
    let code = v.get("code").and_then(Value::as_str)?;
    Some((v.get("system").and_then(Value::as_str), code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn terminology() -> Terminology {
        let mut t = Terminology::default();
        t.add(json!({"resourceType": "CodeSystem", "url": "http://x/cs", "content": "complete",
            "concept": [{"code": "animal", "concept": [{"code": "dog"}, {"code": "cat"}]}, {"code": "rock"}]}));
        t.add(
            json!({"resourceType": "ValueSet", "url": "http://x/all", "version": "1.0",
            "compose": {"include": [{"system": "http://x/cs"}]}}),
        );
        t.add(json!({"resourceType": "ValueSet", "url": "http://x/animals",
            "compose": {"include": [{"system": "http://x/cs", "filter": [{"property": "concept", "op": "is-a", "value": "animal"}]}],
                        "exclude": [{"system": "http://x/cs", "concept": [{"code": "cat"}]}]}}));
        t.add(json!({"resourceType": "ValueSet", "url": "http://x/mime",
            "compose": {"include": [{"system": "urn:ietf:bcp:13", "concept": [{"code": "application/pdf"}]}]}}));
        t
    }

    #[test]
    fn a_code_outside_a_required_value_set_is_not_in_it() {
        let t = terminology();
        assert_eq!(
            check(&t, "http://x/all|1.0", "code", &json!("dog")),
            BindingOutcome::InValueSet
        );
        assert!(matches!(
            check(&t, "http://x/all", "code", &json!("tree")),
            BindingOutcome::NotInValueSet(_)
        ));
        assert_eq!(
            check(&t, "http://x/all|9.9", "code", &json!("rock")),
            BindingOutcome::InValueSet
        );
    }

    #[test]
    fn is_a_filters_and_excludes_apply() {
        let t = terminology();
        let c = |code: &str| json!({"system": "http://x/cs", "code": code});
        assert_eq!(
            check(&t, "http://x/animals", "Coding", &c("dog")),
            BindingOutcome::InValueSet
        );
        assert_eq!(
            check(&t, "http://x/animals", "Coding", &c("animal")),
            BindingOutcome::InValueSet
        );
        assert!(matches!(
            check(&t, "http://x/animals", "Coding", &c("cat")),
            BindingOutcome::NotInValueSet(_)
        ));
        assert!(matches!(
            check(&t, "http://x/animals", "Coding", &c("rock")),
            BindingOutcome::NotInValueSet(_)
        ));
    }

    #[test]
    fn codeable_concepts_need_one_member_coding_and_unloaded_sets_are_not_judged() {
        let t = terminology();
        let cc = json!({"coding": [{"system": "http://y", "code": "q"}, {"system": "http://x/cs", "code": "dog"}]});
        assert_eq!(
            check(&t, "http://x/animals", "CodeableConcept", &cc),
            BindingOutcome::InValueSet
        );
        assert!(matches!(
            check(
                &t,
                "http://x/animals",
                "CodeableConcept",
                &json!({"text": "dog"})
            ),
            BindingOutcome::NotInValueSet(_)
        ));
        assert_eq!(
            check(&t, "http://hl7.org/fhir/ValueSet/x", "code", &json!("a")),
            BindingOutcome::Unknown
        );
        assert_eq!(
            check(&t, "http://x/mime", "code", &json!("application/pdf")),
            BindingOutcome::InValueSet
        );
        assert!(matches!(
            check(&t, "http://x/mime", "code", &json!("text/plain")),
            BindingOutcome::NotInValueSet(_)
        ));
    }
}
