//! Walking a resource against a profile's snapshot: cardinality, fixed and pattern values, types,
//! slicing, unknown elements, and the collection of invariants for `invariant.rs`.
//!
//! Rules (FHIR R4 "Profiling", ElementDefinition, JSON format):
//! - The JSON shape comes from the R4 type model ([`crate::fhir::model`]): every property must be
//!   an element of its type (`profile-unknown-element`); an element whose base maximum is not 1 is
//!   a JSON array, any other is not; a primitive is a JSON string, number or boolean as its type
//!   says, and may carry `_name` with its id and extensions (`profile-type`).
//! - The profile adds, per element of its snapshot: `min`/`max` (`profile-cardinality`; a
//!   primitive with only extensions counts as present), the allowed types of a choice element
//!   (`profile-type`), `fixed[x]` (exact equality, `profile-fixed`), `pattern[x]` (the value
//!   contains the pattern: every property of the pattern present and equal, every array item of
//!   the pattern matched by some item, `profile-pattern`), bindings (see `binding.rs`) and
//!   constraints (collected here, evaluated by `invariant.rs`).
//! - Slicing: each item of a sliced element goes to the first slice all of whose discriminators
//!   match. Supported discriminators are the ones MedCom uses: `value`/`pattern` on a path of
//!   element names, `extension('url')` and `$this` (extension `url`, `role`, `system`, the
//!   destinationUse extension's `value.code` or `value`), with the expected value read from the
//!   slice's `fixed[x]`/`pattern[x]` at that path or, for an extension's `url`, from the slice's
//!   type profile; and `type` on `$this` or `$this.<choice>` (Communication payload, choice
//!   slices). Per-slice cardinality and items that fit no slice of a closed slicing are
//!   `profile-slicing`; an item in no slice of an open slicing is checked against the element.
//! - Elements the snapshot does not expand (a datatype without constraints) are checked against
//!   the R4 model only, unless their type names a loaded profile (an extension by its `url`, a
//!   typed profile), whose snapshot then applies.
//! - Entry resources of a Bundle are not walked as part of the Bundle: each entry is validated
//!   against its own profile (see [`super::validate_bundle`]).

use serde_json::{Map, Value};

use crate::fhir::model::{self, Kind, Model};
use crate::finding::{Finding, Grade};
use crate::rule;

use super::binding::{self, BindingOutcome};
use super::ig::IgInner;

/// A profile: a StructureDefinition's snapshot as a tree of element definitions.
#[derive(Debug)]
pub(crate) struct Profile {
    pub(crate) url: String,
    pub(crate) version: Option<String>,
    /// The constrained type (`Bundle`, `MessageHeader`, `Extension`, `Identifier`).
    pub(crate) type_name: String,
    pub(crate) root: ElementNode,
}

/// One ElementDefinition of a snapshot, with its slices and children.
#[derive(Debug, Default)]
pub(crate) struct ElementNode {
    pub(crate) id: String,
    /// The last path segment: `payload`, `value[x]`.
    pub(crate) name: String,
    pub(crate) slice_name: Option<String>,
    pub(crate) min: u32,
    /// `None` for `*`.
    pub(crate) max: Option<u32>,
    pub(crate) types: Vec<TypeRef>,
    pub(crate) fixed: Option<Value>,
    pub(crate) pattern: Option<Value>,
    pub(crate) binding: Option<Binding>,
    pub(crate) constraints: Vec<Constraint>,
    pub(crate) slicing: Option<Slicing>,
    pub(crate) slices: Vec<ElementNode>,
    pub(crate) children: Vec<ElementNode>,
}

#[derive(Debug, Clone)]
pub(crate) struct TypeRef {
    pub(crate) code: String,
    pub(crate) profiles: Vec<String>,
    pub(crate) target_profiles: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) strength: String,
    pub(crate) value_set: String,
}

/// An invariant (`ElementDefinition.constraint`).
#[derive(Debug, Clone)]
pub(crate) struct Constraint {
    pub(crate) key: String,
    pub(crate) severity: Severity,
    pub(crate) human: String,
    pub(crate) expression: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    /// MedCom grade of a breach: an error is `F2`, a warning `F4` (the default).
    pub(crate) fn grade(self) -> Grade {
        match self {
            Severity::Error => Grade::F2,
            Severity::Warning => Grade::F4,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Slicing {
    pub(crate) discriminators: Vec<(String, String)>,
    pub(crate) closed: bool,
}

impl ElementNode {
    /// The child for a model element name (`value` finds `value[x]`).
    fn child(&self, name: &str) -> Option<&ElementNode> {
        self.children
            .iter()
            .find(|c| c.name == name || c.name.strip_suffix("[x]") == Some(name))
    }

    /// Like [`Self::child`], then in the first slice that defines it (an extension slice
    /// expanded in the snapshot).
    fn child_or_in_slice(&self, name: &str) -> Option<&ElementNode> {
        self.child(name)
            .or_else(|| self.slices.iter().find_map(|s| s.child(name)))
    }

    fn allows_type(&self, ty: &str) -> bool {
        self.types.is_empty()
            || self
                .types
                .iter()
                .any(|t| t.code == ty || t.code.starts_with("http://hl7.org/fhirpath/System."))
    }

    /// Calls `f` on this node and every node below it (children and slices), in snapshot order.
    pub(crate) fn each<'a>(&'a self, f: &mut dyn FnMut(&'a ElementNode)) {
        f(self);
        for s in &self.slices {
            s.each(f);
        }
        for c in &self.children {
            c.each(f);
        }
    }

    /// Whether a slice's membership can be decided: for every discriminator the value or type
    /// it expects is known (not so when it lives in a profile that is not loaded, such as the
    /// dk-core identifier profiles that fix `Identifier.system`).
    fn decidable(&self, ig: &IgInner, slicing: &Slicing) -> bool {
        slicing.discriminators.iter().all(|(kind, path)| {
            let Some(steps) = steps(path) else {
                return false;
            };
            match kind.as_str() {
                "value" | "pattern" => expected_value(ig, self, &steps).is_some(),
                "type" => true,
                _ => false,
            }
        })
    }

    fn max_text(&self) -> String {
        self.max.map_or_else(|| "*".to_string(), |m| m.to_string())
    }
}

impl Profile {
    /// Every versioned canonical (`url|version`) this profile names as a type profile or target
    /// profile, as `(url, version)`: the versions of other profiles it was built against.
    pub(crate) fn pins(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        self.root.each(&mut |node| {
            for t in &node.types {
                for c in t.profiles.iter().chain(&t.target_profiles) {
                    if let Some((url, version)) = c.split_once('|') {
                        out.push((url.to_string(), version.to_string()));
                    }
                }
            }
        });
        out
    }

    /// Compiles a StructureDefinition's snapshot. Errors name what is wrong ("it has no
    /// snapshot").
    pub(crate) fn compile(sd: &Value) -> Result<Profile, String> {
        let s = |k: &str| sd.get(k).and_then(Value::as_str).map(str::to_string);
        let url = s("url").ok_or("it has no url")?;
        let type_name = s("type").ok_or("it has no type")?;
        let elements = sd
            .pointer("/snapshot/element")
            .and_then(Value::as_array)
            .ok_or("it has no snapshot")?;
        let mut root: Option<ElementNode> = None;
        for e in elements {
            let node = element_node(e)?;
            let id = node.id.clone();
            let segments = split_id(&id);
            match &mut root {
                None => {
                    if segments.len() != 1 {
                        return Err(format!("its first element `{}` is not the root", node.id));
                    }
                    root = Some(node);
                }
                Some(root) => insert(root, &segments[1..], node)?,
            }
        }
        Ok(Profile {
            url,
            version: s("version"),
            type_name,
            root: root.ok_or("its snapshot is empty")?,
        })
    }
}

/// Splits an element id into segments at dots outside slice names' brackets: `A.b:s.c`.
fn split_id(id: &str) -> Vec<&str> {
    id.split('.').collect()
}

fn insert(parent: &mut ElementNode, rest: &[&str], node: ElementNode) -> Result<(), String> {
    let Some((first, tail)) = rest.split_first() else {
        return Err(format!("element `{}` has an empty path", node.id));
    };
    let (name, slice) = match first.split_once(':') {
        Some((n, s)) => (n, Some(s)),
        None => (*first, None),
    };
    if tail.is_empty() {
        if slice.is_some() {
            let base = parent
                .children
                .iter_mut()
                .rev()
                .find(|c| c.name == name)
                .ok_or_else(|| format!("slice `{}` comes before its element", node.id))?;
            base.slices.push(node);
        } else {
            parent.children.push(node);
        }
        return Ok(());
    }
    let child = parent
        .children
        .iter_mut()
        .rev()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("element `{}` comes before its parent", node.id))?;
    let next = match slice {
        None => child,
        Some(s) => child
            .slices
            .iter_mut()
            .find(|c| c.slice_name.as_deref() == Some(s))
            .ok_or_else(|| format!("element `{}` comes before its slice", node.id))?,
    };
    insert(next, tail, node)
}

fn element_node(e: &Value) -> Result<ElementNode, String> {
    let id = e
        .get("id")
        .or_else(|| e.get("path"))
        .and_then(Value::as_str)
        .ok_or("an element has no id")?
        .to_string();
    let last = id.rsplit('.').next().unwrap_or(&id);
    let name = last.split(':').next().unwrap_or(last).to_string();
    let mut node = ElementNode {
        name,
        slice_name: e
            .get("sliceName")
            .and_then(Value::as_str)
            .map(str::to_string),
        min: e.get("min").and_then(Value::as_u64).unwrap_or(0) as u32,
        max: match e.get("max").and_then(Value::as_str) {
            None | Some("*") => None,
            Some(m) => Some(
                m.parse()
                    .map_err(|_| format!("element `{id}` has max `{m}`"))?,
            ),
        },
        id,
        ..ElementNode::default()
    };
    if let Some(types) = e.get("type").and_then(Value::as_array) {
        for t in types {
            let list = |k: &str| -> Vec<String> {
                t.get(k)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            node.types.push(TypeRef {
                code: t
                    .get("code")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                profiles: list("profile"),
                target_profiles: list("targetProfile"),
            });
        }
    }
    if let Some(obj) = e.as_object() {
        for (k, v) in obj {
            if k.starts_with("fixed") {
                node.fixed = Some(v.clone());
            } else if k.starts_with("pattern") {
                node.pattern = Some(v.clone());
            }
        }
    }
    if let Some(b) = e.get("binding")
        && let (Some(strength), Some(vs)) = (
            b.get("strength").and_then(Value::as_str),
            b.get("valueSet").and_then(Value::as_str),
        )
    {
        node.binding = Some(Binding {
            strength: strength.to_string(),
            value_set: vs.to_string(),
        });
    }
    if let Some(cs) = e.get("constraint").and_then(Value::as_array) {
        for c in cs {
            let (Some(key), Some(expression)) = (
                c.get("key").and_then(Value::as_str),
                c.get("expression").and_then(Value::as_str),
            ) else {
                continue;
            };
            node.constraints.push(Constraint {
                key: key.to_string(),
                severity: match c.get("severity").and_then(Value::as_str) {
                    Some("warning") => Severity::Warning,
                    _ => Severity::Error,
                },
                human: c
                    .get("human")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                expression: expression.to_string(),
            });
        }
    }
    if let Some(s) = e.get("slicing") {
        node.slicing = Some(Slicing {
            discriminators: s
                .get("discriminator")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|d| {
                            let g = |k: &str| {
                                d.get(k).and_then(Value::as_str).unwrap_or("").to_string()
                            };
                            (g("type"), g("path"))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            closed: s.get("rules").and_then(Value::as_str) == Some("closed"),
        });
    }
    Ok(node)
}

/// An invariant to evaluate at one node of a resource.
#[derive(Debug, Clone)]
pub(crate) struct Pending<'a> {
    pub(crate) constraint: &'a Constraint,
    pub(crate) profile: &'a str,
    /// The node as a FHIRPath from the resource root (`payload[0].extension[1]`), empty for the
    /// root itself.
    pub(crate) node: String,
    /// `Some(true)` when the JSON alone shows `ele-1`/`ext-1` hold at this node (see
    /// `invariant.rs`).
    pub(crate) evident: bool,
    /// For an invariant whose result depends on the node's text alone (`htmlChecks()` of
    /// `txt-1`/`txt-2` on the narrative), the hash of that text: equal texts get one evaluation.
    pub(crate) memo: Option<u64>,
}

/// A reference met while walking, with the profiles its element allows as target.
#[derive(Debug, Clone)]
pub(crate) struct Reference<'a> {
    pub(crate) reference: String,
    pub(crate) target_profiles: &'a [String],
}

/// The result of walking one resource against one profile.
#[derive(Debug, Default)]
pub(crate) struct Walked<'a> {
    pub(crate) findings: Vec<Finding>,
    pub(crate) pending: Vec<Pending<'a>>,
    pub(crate) references: Vec<Reference<'a>>,
}

/// Walks `resource` (a FHIR resource in JSON) against `profile`. `location` is where the
/// resource sits (`Bundle.entry[2].resource`, or `Bundle`); `skip_entries` leaves
/// `Bundle.entry.resource` alone (each entry is validated on its own).
pub(crate) fn walk<'a>(
    ig: &'a IgInner,
    profile: &'a Profile,
    resource: &Value,
    location: &str,
    skip_entries: bool,
) -> Walked<'a> {
    let mut w = Walker {
        ig,
        model: model::r4().ok(),
        profile,
        location,
        skip_entries,
        out: Walked::default(),
    };
    let rt = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if rt != profile.type_name {
        let f = rule::PROFILE_TYPE
            .breach(format!(
                "the resource is a `{rt}`, but its profile `{}` constrains `{}`",
                profile.url, profile.type_name
            ))
            .at(location);
        w.out.findings.push(f);
        return w.out;
    }
    w.item(
        Some(resource),
        None,
        rt,
        Some(&profile.root),
        String::new(),
        rt,
    );
    w.out
}

/// Walks a resource against the R4 model only (no profile): unknown elements and JSON shape.
pub(crate) fn walk_core(
    ig: &IgInner,
    resource: &Value,
    location: &str,
    skip_entries: bool,
) -> Vec<Finding> {
    static NONE: std::sync::OnceLock<Profile> = std::sync::OnceLock::new();
    let none = NONE.get_or_init(|| Profile {
        url: String::new(),
        version: None,
        type_name: String::new(),
        root: ElementNode::default(),
    });
    let mut w = Walker {
        ig,
        model: model::r4().ok(),
        profile: none,
        location,
        skip_entries,
        out: Walked::default(),
    };
    let rt = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(obj) = resource.as_object() {
        w.object(obj, rt, None, "");
    }
    w.out.findings
}

struct Walker<'a, 'l> {
    ig: &'a IgInner,
    model: Option<&'static Model>,
    profile: &'a Profile,
    location: &'l str,
    skip_entries: bool,
    out: Walked<'a>,
}

/// One occurrence of an element: its value and its `_name` companion.
struct Item<'v> {
    value: Option<&'v Value>,
    ext: Option<&'v Value>,
    ty: &'static str,
    index: Option<usize>,
}

/// FHIRPath keywords that must be quoted as identifiers.
const KEYWORDS: &[&str] = &[
    "div", "as", "is", "and", "or", "xor", "implies", "contains", "in", "mod", "true", "false",
];

fn fhirpath_name(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("`{name}`")
    } else {
        name.to_string()
    }
}

impl<'a> Walker<'a, '_> {
    fn at(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.location.to_string()
        } else {
            format!("{}.{}", self.location, rel)
        }
    }

    fn push(&mut self, rule: &rule::Rule, message: String, rel: &str) {
        let f = rule.breach(message).at(self.at(rel));
        self.out.findings.push(f);
    }

    fn profile_label(&self) -> &str {
        if self.profile.url.is_empty() {
            "the FHIR R4 core model"
        } else {
            &self.profile.url
        }
    }

    /// Checks one occurrence against its definition and walks into it.
    fn item(
        &mut self,
        value: Option<&Value>,
        ext: Option<&Value>,
        ty: &str,
        def: Option<&'a ElementNode>,
        rel: String,
        parent_type: &str,
    ) {
        let Some(model) = self.model else { return };
        let Some(td) = model.type_def(ty) else { return };
        if let Some(d) = def {
            let profile: &'a Profile = self.profile;
            for c in &d.constraints {
                let evident = evident(c, value, ext, td.kind);
                let memo = (c.expression == "htmlChecks()")
                    .then(|| value.and_then(Value::as_str).map(text_hash))
                    .flatten();
                self.out.pending.push(Pending {
                    constraint: c,
                    profile: &profile.url,
                    node: rel.clone(),
                    evident,
                    memo,
                });
            }
            if let Some(v) = value {
                self.fixed_and_pattern(d, v, &rel);
                self.binding(d, v, ty, &rel);
            }
            if ty == "Reference"
                && let Some(r) = value
                    .and_then(|v| v.get("reference"))
                    .and_then(Value::as_str)
                && let Some(t) = d.types.iter().find(|t| t.code == "Reference")
            {
                self.out.references.push(Reference {
                    reference: r.to_string(),
                    target_profiles: &t.target_profiles,
                });
            }
        }
        match td.kind {
            Kind::Primitive(kind) => {
                if let Some(v) = value {
                    let ok = match kind {
                        model::JsonKind::Boolean => v.is_boolean(),
                        model::JsonKind::Integer => v.is_i64() || v.is_u64(),
                        model::JsonKind::Decimal => v.is_number(),
                        model::JsonKind::String | model::JsonKind::Xhtml => {
                            v.as_str().is_some_and(|s| !s.is_empty())
                        }
                    };
                    if !ok {
                        self.push(
                            &rule::FHIR_DATATYPE,
                            format!(
                                "`{}` is not a valid JSON value for FHIR type `{ty}`: {v}",
                                self.at(&rel)
                            ),
                            &rel,
                        );
                    } else if let Some(problem) = super::primitive::problem(ty, v) {
                        self.push(
                            &rule::FHIR_DATATYPE,
                            format!("`{}`: {problem}", self.at(&rel)),
                            &rel,
                        );
                    }
                }
                if let Some(e) = ext {
                    match e.as_object() {
                        Some(obj) => self.object(obj, "Element", None, &rel),
                        None => self.push(
                            &rule::PROFILE_TYPE,
                            format!(
                                "the `_` companion of `{}` must be a JSON object",
                                self.at(&rel)
                            ),
                            &rel,
                        ),
                    }
                }
            }
            _ if ty == "Resource" => {
                if self.skip_entries && parent_type == "Bundle.entry" {
                    return;
                }
                let Some(obj) = value.and_then(Value::as_object) else {
                    return;
                };
                let rt = obj
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if model.resource(rt).is_none() {
                    self.push(
                        &rule::PROFILE_TYPE,
                        format!(
                            "`{}` holds no known resource type (`resourceType` is `{rt}`)",
                            self.at(&rel)
                        ),
                        &rel,
                    );
                    return;
                }
                self.object(obj, rt, None, &rel);
            }
            _ => {
                let Some(obj) = value.and_then(Value::as_object) else {
                    if value.is_some() {
                        self.push(
                            &rule::PROFILE_TYPE,
                            format!(
                                "`{}` must be a JSON object (FHIR type `{ty}`)",
                                self.at(&rel)
                            ),
                            &rel,
                        );
                    }
                    return;
                };
                let inner = self.children_def(def, ty, obj);
                self.object(obj, ty, inner, &rel);
            }
        }
    }

    /// The definition whose children govern the inside of an item: the element itself when the
    /// snapshot expands it, else the loaded profile its type names (an extension by `url`).
    fn children_def(
        &self,
        def: Option<&'a ElementNode>,
        ty: &str,
        obj: &Map<String, Value>,
    ) -> Option<&'a ElementNode> {
        let ig: &'a IgInner = self.ig;
        if let Some(d) = def {
            if !d.children.is_empty() {
                return Some(d);
            }
            let typed = d
                .types
                .iter()
                .filter(|t| t.code == ty)
                .flat_map(|t| t.profiles.iter())
                .find_map(|p| ig.profile(p));
            if let Some(p) = typed {
                return Some(&p.root);
            }
        }
        if ty == "Extension"
            && let Some(url) = obj.get("url").and_then(Value::as_str)
            && let Some(p) = ig.profile(url)
            && p.type_name == "Extension"
        {
            return Some(&p.root);
        }
        None
    }

    /// Checks the properties of a JSON object of FHIR type `ty` against the model and `def`.
    fn object(
        &mut self,
        obj: &Map<String, Value>,
        ty: &str,
        def: Option<&'a ElementNode>,
        rel: &str,
    ) {
        let Some(model) = self.model else { return };
        let Some(td) = model.type_def(ty) else { return };
        for key in obj.keys() {
            if key == "resourceType" && td.is_resource() {
                continue;
            }
            let (base, companion) = match key.strip_prefix('_') {
                Some(b) => (b, true),
                None => (key.as_str(), false),
            };
            let known = match td.element(base) {
                None => false,
                Some((_, _, t)) => {
                    !companion
                        || model
                            .type_def(t)
                            .is_some_and(|d| matches!(d.kind, Kind::Primitive(_)))
                }
            };
            if !known {
                let at = if rel.is_empty() {
                    key.clone()
                } else {
                    format!("{rel}.{key}")
                };
                self.push(
                    &rule::PROFILE_UNKNOWN_ELEMENT,
                    format!("`{key}` is not an element of FHIR type `{ty}`"),
                    &at,
                );
            }
        }
        for edef in &td.elements {
            let mut items: Vec<Item> = Vec::new();
            for (t, tyname) in edef.types.iter().enumerate() {
                let name = edef.name_for(t);
                let v = obj.get(&name);
                let u = obj.get(&format!("_{name}"));
                if v.is_none() && u.is_none() {
                    continue;
                }
                if edef.repeats {
                    let va = v.map(|v| v.as_array());
                    let ua = u.map(|u| u.as_array());
                    if matches!(va, Some(None)) || matches!(ua, Some(None)) {
                        let at = join(rel, &fhirpath_name(edef.name));
                        self.push(
                            &rule::PROFILE_TYPE,
                            format!(
                                "`{}` repeats, so `{name}` must be a JSON array",
                                self.at(&at)
                            ),
                            &at,
                        );
                        continue;
                    }
                    let va = va.flatten().map(Vec::as_slice).unwrap_or(&[]);
                    let ua = ua.flatten().map(Vec::as_slice).unwrap_or(&[]);
                    for i in 0..va.len().max(ua.len()) {
                        let value = va.get(i).filter(|v| !v.is_null());
                        let ext = ua.get(i).filter(|v| !v.is_null());
                        if value.is_some() || ext.is_some() {
                            items.push(Item {
                                value,
                                ext,
                                ty: tyname,
                                index: Some(i),
                            });
                        }
                    }
                } else {
                    if v.is_some_and(Value::is_array) {
                        let at = join(rel, &fhirpath_name(edef.name));
                        self.push(
                            &rule::PROFILE_TYPE,
                            format!(
                                "`{}` does not repeat, so `{name}` must not be a JSON array",
                                self.at(&at)
                            ),
                            &at,
                        );
                        continue;
                    }
                    items.push(Item {
                        value: v.filter(|v| !v.is_null()),
                        ext: u,
                        ty: tyname,
                        index: None,
                    });
                }
            }
            let child = def.and_then(|d| d.child(edef.name));
            let element_rel = join(rel, &fhirpath_name(edef.name));
            let mut assigned: Vec<Option<&'a ElementNode>> = vec![child; items.len()];
            if let Some(c) = child {
                let n = items.len() as u32;
                if n < c.min || c.max.is_some_and(|m| n > m) {
                    let what = if n == 0 {
                        "is missing".to_string()
                    } else {
                        format!("has {n} value{}", if n == 1 { "" } else { "s" })
                    };
                    let message = format!(
                        "`{}` {what}; profile `{}` requires {}..{} (element `{}`)",
                        self.at(&element_rel),
                        self.profile_label(),
                        c.min,
                        c.max_text(),
                        c.id
                    );
                    self.push(&rule::PROFILE_CARDINALITY, message, &element_rel);
                }
                for item in items.iter().filter(|_| edef.choice) {
                    if !c.allows_type(item.ty) {
                        let at = item_rel(&element_rel, item.index);
                        let allowed: Vec<&str> = c.types.iter().map(|t| t.code.as_str()).collect();
                        self.push(
                            &rule::PROFILE_TYPE,
                            format!(
                                "`{}` is a `{}`; profile `{}` allows {} (element `{}`)",
                                self.at(&at),
                                item.ty,
                                self.profile_label(),
                                allowed.join(", "),
                                c.id
                            ),
                            &at,
                        );
                    }
                }
                if let Some(slicing) = &c.slicing
                    && !c.slices.is_empty()
                {
                    self.slice(c, slicing, &items, &mut assigned, &element_rel, model);
                }
            }
            for (item, def) in items.iter().zip(assigned) {
                let at = item_rel(&element_rel, item.index);
                self.item(item.value, item.ext, item.ty, def, at, ty);
            }
        }
    }

    /// Assigns items to slices, checks slice cardinality and closed slicing.
    fn slice(
        &mut self,
        element: &'a ElementNode,
        slicing: &Slicing,
        items: &[Item],
        assigned: &mut [Option<&'a ElementNode>],
        element_rel: &str,
        model: &Model,
    ) {
        let decidable: Vec<bool> = element
            .slices
            .iter()
            .map(|s| s.decidable(self.ig, slicing))
            .collect();
        let all_decidable = decidable.iter().all(|d| *d);
        let mut counts = vec![0u32; element.slices.len()];
        for (i, item) in items.iter().enumerate() {
            let found = element.slices.iter().position(|s| {
                slicing.discriminators.iter().all(|(kind, path)| {
                    item.value.is_some_and(|v| {
                        discriminator_matches(self.ig, model, v, item.ty, kind, path, s)
                    })
                })
            });
            match found {
                Some(k) => {
                    counts[k] += 1;
                    assigned[i] = Some(&element.slices[k]);
                }
                None if slicing.closed && all_decidable => {
                    let at = item_rel(element_rel, item.index);
                    let names: Vec<&str> = element
                        .slices
                        .iter()
                        .filter_map(|s| s.slice_name.as_deref())
                        .collect();
                    self.push(
                        &rule::PROFILE_SLICING,
                        format!(
                            "`{}` fits none of the slices ({}) of the closed slicing of `{}` in profile `{}`",
                            self.at(&at),
                            names.join(", "),
                            element.id,
                            self.profile_label()
                        ),
                        &at,
                    );
                }
                None => {}
            }
        }
        for ((s, n), decidable) in element.slices.iter().zip(counts).zip(decidable) {
            if decidable && n < s.min || s.max.is_some_and(|m| n > m) {
                self.push(
                    &rule::PROFILE_SLICING,
                    format!(
                        "slice `{}` of `{}` has {n} item{}; profile `{}` requires {}..{}",
                        s.slice_name.as_deref().unwrap_or("?"),
                        self.at(element_rel),
                        if n == 1 { "" } else { "s" },
                        self.profile_label(),
                        s.min,
                        s.max_text()
                    ),
                    element_rel,
                );
            }
        }
    }

    fn fixed_and_pattern(&mut self, d: &ElementNode, v: &Value, rel: &str) {
        if let Some(f) = &d.fixed
            && f != v
        {
            self.push(
                &rule::PROFILE_FIXED,
                format!(
                    "`{}` is {} but profile `{}` fixes it to {} (element `{}`)",
                    self.at(rel),
                    short(v),
                    self.profile_label(),
                    short(f),
                    d.id
                ),
                rel,
            );
        }
        if let Some(p) = &d.pattern
            && !pattern_matches(p, v)
        {
            self.push(
                &rule::PROFILE_PATTERN,
                format!(
                    "`{}` is {} but profile `{}` requires the pattern {} (element `{}`)",
                    self.at(rel),
                    short(v),
                    self.profile_label(),
                    short(p),
                    d.id
                ),
                rel,
            );
        }
    }

    fn binding(&mut self, d: &ElementNode, v: &Value, ty: &str, rel: &str) {
        let Some(b) = &d.binding else { return };
        if b.strength != "required" {
            return;
        }
        if let BindingOutcome::NotInValueSet(what) =
            binding::check(&self.ig.terminology, &b.value_set, ty, v)
        {
            self.push(
                &rule::PROFILE_BINDING,
                format!(
                    "`{}` {what}, which is not in the required ValueSet `{}` of profile `{}` (element `{}`)",
                    self.at(rel),
                    b.value_set,
                    self.profile_label(),
                    d.id
                ),
                rel,
            );
        }
    }
}

fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        name.to_string()
    } else {
        format!("{rel}.{name}")
    }
}

fn item_rel(element_rel: &str, index: Option<usize>) -> String {
    match index {
        Some(i) => format!("{element_rel}[{i}]"),
        None => element_rel.to_string(),
    }
}

/// A JSON value for a message, cut at 80 characters.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

/// The FHIR R4 expressions of `dom-2`, `dom-3`, `dom-4` and `dom-5` (DomainResource): each is
/// `true` when the resource has no `contained`.
const DOM_CONTAINED: &[(&str, &str)] = &[
    ("dom-2", "contained.contained.empty()"),
    (
        "dom-3",
        "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | %resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#').exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()",
    ),
    (
        "dom-4",
        "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
    ),
    ("dom-5", "contained.meta.security.empty()"),
];

/// Whether one of the core invariants that sit on every element or resource visibly holds in
/// the JSON, so evaluating it can be skipped; only the exact R4 expressions qualify:
/// - `ele-1` (`hasValue() or (children().count() > id.count())`): a primitive with a value, or
///   a node with a property other than `id`;
/// - `ext-1` (`extension.exists() != value.exists()`): exactly one of `extension` and
///   `value[x]`;
/// - `dom-2` … `dom-5`: no `contained` at all;
/// - `dom-6` (`text.`div`.exists()`): a narrative `div` is there;
/// - `bdl-2`, `bdl-3`, `bdl-4`, `bdl-5`, `bdl-7`, `bdl-8`, `bdl-12`: what they test, read from
///   the Bundle's JSON (no `search`/`request`/`response` in a message, distinct
///   `fullUrl`+`versionId`, a MessageHeader first).
///
/// Only `true` lets the engine skip an evaluation; the cross-check evaluates them everywhere.
fn evident(c: &Constraint, value: Option<&Value>, ext: Option<&Value>, kind: Kind) -> bool {
    let (key, expression) = (c.key.as_str(), c.expression.as_str());
    match key {
        "ele-1" if expression == "hasValue() or (children().count() > id.count())" => {
            match (kind, value) {
                (Kind::Primitive(_), Some(v)) => !v.is_null(),
                (Kind::Primitive(_), None) => ext
                    .and_then(Value::as_object)
                    .is_some_and(|o| o.keys().any(|k| k != "id")),
                (_, Some(Value::Object(o))) => o.keys().any(|k| k != "id"),
                _ => false,
            }
        }
        "ext-1" if expression == "extension.exists() != value.exists()" => {
            match value.and_then(Value::as_object) {
                Some(o) => {
                    let has_ext = o
                        .get("extension")
                        .and_then(Value::as_array)
                        .is_some_and(|a| !a.is_empty());
                    let has_value = o.keys().any(|k| k.starts_with("value"));
                    has_ext != has_value
                }
                None => false,
            }
        }
        "dom-6" if expression == "text.`div`.exists()" => value
            .and_then(|v| v.pointer("/text/div"))
            .is_some_and(|d| d.as_str().is_some_and(|s| !s.is_empty())),
        _ if DOM_CONTAINED.contains(&(key, expression)) => {
            value.is_some_and(|v| v.get("contained").is_none())
        }
        _ => value.is_some_and(|v| bundle_evident(key, expression, v)),
    }
}

/// The Bundle invariants of FHIR R4 (exact expressions) that the JSON shows holding; each is a
/// walk over every entry when evaluated, which a message of thousands of entries feels.
fn bundle_evident(key: &str, expression: &str, v: &Value) -> bool {
    let entries = || {
        v.get("entry")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
    let none_has = |k: &str| entries().iter().all(|e| e.get(k).is_none());
    match (key, expression) {
        ("bdl-2", "entry.search.empty() or (type = 'searchset')") => none_has("search"),
        (
            "bdl-3",
            "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or %resource.type = 'history'))",
        ) => !matches!(ty, "batch" | "transaction" | "history") && none_has("request"),
        (
            "bdl-4",
            "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = 'transaction-response' or %resource.type = 'history'))",
        ) => {
            !matches!(ty, "batch-response" | "transaction-response" | "history")
                && none_has("response")
        }
        ("bdl-5", "resource.exists() or request.exists() or response.exists()") => {
            v.get("resource").is_some()
        }
        (
            "bdl-7",
            "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()",
        ) => {
            let mut seen = std::collections::HashSet::new();
            entries()
                .iter()
                .all(|e| match e.get("fullUrl").and_then(Value::as_str) {
                    None => true,
                    Some(u) => {
                        let version = e
                            .pointer("/resource/meta/versionId")
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        seen.insert(format!("{u}{version}"))
                    }
                })
        }
        ("bdl-8", "fullUrl.contains('/_history/').not()") => v
            .get("fullUrl")
            .and_then(Value::as_str)
            .is_none_or(|u| !u.contains("/_history/")),
        ("bdl-12", "type = 'message' implies entry.first().resource.is(MessageHeader)") => {
            ty != "message"
                || entries()
                    .first()
                    .and_then(|e| e.pointer("/resource/resourceType"))
                    .and_then(Value::as_str)
                    == Some("MessageHeader")
        }
        _ => false,
    }
}

/// `pattern[x]` semantics: primitives equal; every property of a pattern object present and
/// matching; every item of a pattern array matched by some item of the value.
pub(crate) fn pattern_matches(pattern: &Value, value: &Value) -> bool {
    match (pattern, value) {
        (Value::Object(p), Value::Object(v)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| pattern_matches(pv, vv))),
        (Value::Array(p), Value::Array(v)) => p
            .iter()
            .all(|pi| v.iter().any(|vi| pattern_matches(pi, vi))),
        (Value::Array(p), v) => p.len() == 1 && pattern_matches(&p[0], v),
        (p, v) => p == v,
    }
}

/// One step of a discriminator path.
enum Step<'p> {
    Name(&'p str),
    Extension(&'p str),
}

/// Splits a discriminator path at dots outside parentheses and quotes; `$this` steps vanish.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, false, 0usize);
    for (i, c) in path.char_indices() {
        match c {
            '\'' => quote = !quote,
            '(' if !quote => depth += 1,
            ')' if !quote => depth -= 1,
            '.' if !quote && depth == 0 => {
                parts.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&path[start..]);
    let mut out = Vec::new();
    for p in parts {
        let p = p.trim();
        if p == "$this" || p.is_empty() {
            continue;
        }
        if let Some(arg) = p
            .strip_prefix("extension(")
            .and_then(|r| r.strip_suffix(')'))
        {
            out.push(Step::Extension(arg.trim().trim_matches('\'')));
        } else if p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(Step::Name(p));
        } else {
            return None;
        }
    }
    Some(out)
}

fn strip_version(url: &str) -> &str {
    url.split('|').next().unwrap_or(url)
}

/// Whether `item` (of FHIR type `ty`) matches slice `slice` by one discriminator.
fn discriminator_matches(
    ig: &IgInner,
    model: &Model,
    item: &Value,
    ty: &str,
    kind: &str,
    path: &str,
    slice: &ElementNode,
) -> bool {
    let Some(steps) = steps(path) else {
        return false;
    };
    match kind {
        "value" | "pattern" => {
            let Some(expected) = expected_value(ig, slice, &steps) else {
                return false;
            };
            let mut current = vec![item];
            for step in &steps {
                let mut next = Vec::new();
                for v in current {
                    match step {
                        Step::Name(n) => json_children(v, n, &mut next),
                        Step::Extension(url) => {
                            if let Some(exts) = v.get("extension").and_then(Value::as_array) {
                                next.extend(exts.iter().filter(|e| {
                                    e.get("url").and_then(Value::as_str).map(strip_version)
                                        == Some(strip_version(url))
                                }));
                            }
                        }
                    }
                }
                current = next;
            }
            current.iter().any(|v| match &expected {
                Expected::Fixed(f) => **v == **f,
                Expected::Pattern(p) => pattern_matches(p, v),
                Expected::Url(u) => v.as_str().map(strip_version) == Some(strip_version(u)),
            })
        }
        "type" => {
            let actual = match steps.as_slice() {
                [] => Some(ty.to_string()),
                [Step::Name(n)] => model.type_def(ty).and_then(|td| {
                    item.as_object()?.keys().find_map(|k| {
                        let (_, e, t) = td.element(k)?;
                        (e.name == *n).then(|| t.to_string())
                    })
                }),
                _ => None,
            };
            let mut node = Some(slice);
            for step in &steps {
                node = match step {
                    Step::Name(n) => node.and_then(|s| s.child_or_in_slice(n)),
                    Step::Extension(_) => None,
                };
            }
            match (actual, node) {
                (Some(a), Some(n)) => n.types.iter().any(|t| t.code == a),
                _ => false,
            }
        }
        _ => false,
    }
}

enum Expected<'a> {
    Fixed(&'a Value),
    Pattern(&'a Value),
    Url(String),
}

/// The value a slice expects at a discriminator path: `fixed[x]`/`pattern[x]` of the element the
/// path leads to, or for an extension's `url` the slice's type profile.
fn expected_value<'a>(
    ig: &IgInner,
    slice: &'a ElementNode,
    steps: &[Step],
) -> Option<Expected<'a>> {
    let _ = ig;
    let mut node = slice;
    for (i, step) in steps.iter().enumerate() {
        let next = match step {
            Step::Name(n) => node.child_or_in_slice(n),
            Step::Extension(url) => node.child("extension").and_then(|e| {
                e.slices.iter().find(|s| {
                    s.types
                        .iter()
                        .flat_map(|t| t.profiles.iter())
                        .any(|p| strip_version(p) == strip_version(url))
                        || s.child("url")
                            .and_then(|u| u.fixed.as_ref())
                            .and_then(Value::as_str)
                            == Some(strip_version(url))
                })
            }),
        };
        match next {
            Some(n) => node = n,
            None => {
                let last = i + 1 == steps.len();
                if last && matches!(step, Step::Name("url")) {
                    let p = node.types.iter().flat_map(|t| t.profiles.iter()).next()?;
                    return Some(Expected::Url(p.clone()));
                }
                return None;
            }
        }
    }
    match (&node.fixed, &node.pattern) {
        (Some(f), _) => Some(Expected::Fixed(f)),
        (None, Some(p)) => Some(Expected::Pattern(p)),
        _ => None,
    }
}

/// The values of property `name` of a JSON object, arrays flattened, choice names (`value` finds
/// `valueCoding`) included.
fn json_children<'v>(v: &'v Value, name: &str, out: &mut Vec<&'v Value>) {
    let Some(obj) = v.as_object() else { return };
    let mut push = |x: &'v Value| match x {
        Value::Array(a) => out.extend(a.iter()),
        x => out.push(x),
    };
    if let Some(x) = obj.get(name) {
        push(x);
        return;
    }
    for (k, x) in obj {
        if let Some(rest) = k.strip_prefix(name)
            && rest.starts_with(|c: char| c.is_ascii_uppercase())
        {
            push(x);
        }
    }
}
