//! Profile validation driven by an implementation guide's StructureDefinitions.
//!
//! The IG is loaded at run time ([`Ig::load`]: a folder of FHIR JSON resources or an IG
//! `package.tgz`, named by `--ig` or the config; the harness ships no copy). [`validate_bundle`]
//! then judges a message Bundle:
//!
//! - the Bundle against its `meta.profile`s, and **every entry** against its own `meta.profile`s,
//!   or, for an entry that declares none, the profile implied for it: a slice of the Bundle
//!   profile's `entry` whose `resource` type names a profile, or the one loaded `targetProfile`
//!   of a reference to it from an already profiled entry (MessageHeader.focus implies the
//!   Communication profile); with neither, only the FHIR R4 core model is checked (unknown
//!   elements, JSON shape);
//! - per profile: cardinality, fixed and pattern values, types, slicing as MedCom uses it, and
//!   unknown elements (`structure.rs`); required bindings against the loaded ValueSets and
//!   CodeSystems (`binding.rs`); every `constraint` (invariant) with FHIRPath by
//!   octofhir-fhirpath `=0.4.57` on the R4 model, rooted at the entry resource with the Bundle
//!   at hand for `resolve()` (`invariant.rs`, which lists the engine workarounds from
//!   `notes/fhirpath.md`).
//!
//! FHIR XML goes through the same path after [`crate::fhir::xml_to_json`].
//!
//! Findings: `rule` is the constraint key for an invariant (`medcom-careCommunication-6`) or one
//! of the `profile-*` rules of [`crate::rule`]; the grade is `F2` for an error and `F4` for a
//! warning (a constraint's `severity`; `profile-not-found` and `profile-invariant-error` are
//! warnings: the harness could not judge); `location` is a FHIRPath into the Bundle
//! (`Bundle.entry[2].resource.payload[0].extension[1]`); the message names the profile and
//! what is wrong. Only breaches are returned, never passes.
//!
//! Sources: FHIR R4 (4.0.1) "Profiling", "ElementDefinition", "Bundle" (resolving references),
//! "JSON representation"; the FHIRPath specification; the MedCom IGs' StructureDefinitions.

mod binding;
mod ig;
mod invariant;
mod primitive;
mod release;
mod structure;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::finding::{Finding, Grade};
use crate::rule;
use octofhir_fhirpath::{EvaluationContext, FhirPathValue};

pub use ig::{Ig, IgError};
pub use release::{Release, of_message as release_of};

use ig::IgInner;
use invariant::{BundleIndex, FhirPath, block_on};
use structure::{Pending, Profile};

/// Every profile breach in `bundle` (a FHIR Bundle in JSON; any other resource is validated
/// alone against its own `meta.profile`s), in entry order, Bundle first. See the module docs.
pub fn validate_bundle(ig: &Ig, bundle: &Value) -> Vec<Finding> {
    let inner = &ig.inner;
    let Some(fp) = ig.engine() else {
        return vec![
            rule::PROFILE_INVARIANT_ERROR
                .breach("the FHIRPath engine is not available; no invariant was evaluated"),
        ];
    };
    let _ = MEMO.try_with(|m| m.borrow_mut().clear());
    let mut findings = block_on(validate_message(inner, fp, bundle));
    let _ = MEMO.try_with(|m| m.borrow_mut().clear());
    let mut seen = HashSet::new();
    findings.retain(|f| seen.insert((f.rule.clone(), f.location.clone(), f.message.clone())));
    findings
}

/// Evaluates a FHIRPath `expression` over `bundle`, rooted at entry `resource_path`'s resource
/// (`%resource`, with `%bundle` and `%entryFullUrl` set and `resolve()` by the Bundle rules) or,
/// with `None`, at the Bundle itself. Returns the result collection as JSON values (primitives
/// as JSON primitives, resources and datatypes as objects).
///
/// Errors: a syntax or evaluation error of the expression, or no resource at that entry.
pub fn evaluate(
    ig: &Ig,
    bundle: &Value,
    resource_path: Option<usize>,
    expression: &str,
) -> Result<Vec<Value>, String> {
    let fp = ig.engine().ok_or("the FHIRPath engine is not available")?;
    block_on(async {
        let reg = fp.index_bundle(bundle).await;
        let index: &BundleIndex = &reg.index;
        let (root, full_url) = match resource_path {
            None => (FhirPath::bundle_value(index), None),
            Some(i) => {
                let entry = bundle
                    .get("entry")
                    .and_then(|e| e.get(i))
                    .ok_or_else(|| format!("the Bundle has no entry {i}"))?;
                let root = fp
                    .entry_value(index, i)
                    .await
                    .ok_or_else(|| format!("entry {i} has no resource"))?;
                (root, entry.get("fullUrl").and_then(Value::as_str))
            }
        };
        let c = fp.eval(root, Some(index), full_url, expression).await?;
        Ok(c.iter().map(|v| v.to_json_value()).collect())
    })
}

/// One invariant evaluated at one node, for cross-checking against another FHIRPath engine.
#[derive(Debug, Clone, Serialize)]
pub struct InvariantTrace {
    /// The entry whose resource was the root, `None` for the Bundle.
    pub entry: Option<usize>,
    /// The profile the invariant comes from.
    pub profile: String,
    /// The constraint key.
    pub key: String,
    /// The node as a FHIRPath from the root (empty for the root).
    pub node: String,
    /// The constraint's expression.
    pub expression: String,
    /// What was evaluated from the root: `expression`, or `<node>.select(<expression>)`.
    pub evaluated: String,
    /// The result collection (`[]` when empty), when evaluation succeeded.
    pub result: Option<Value>,
    /// The evaluation error, when it failed.
    pub error: Option<String>,
}

/// Every invariant of every profile that applies to `bundle` and its entries, each evaluated at
/// every node it sits on (no `ele-1`/`ext-1` shortcut), with its raw result.
pub fn trace_invariants(ig: &Ig, bundle: &Value) -> Vec<InvariantTrace> {
    let Some(fp) = ig.engine() else {
        return Vec::new();
    };
    let inner = &ig.inner;
    block_on(async {
        let reg = fp.index_bundle(bundle).await;
        let index: &BundleIndex = &reg.index;
        let Ok(base) = fp.base().await else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let targets = targets(inner, bundle, index);
        for t in targets {
            let root = match t.entry {
                None => FhirPath::bundle_value(index),
                Some(i) => match fp.entry_value(index, i).await {
                    Some(v) => v,
                    None => continue,
                },
            };
            let ctx = fp.rooted(&base, root, Some(index), t.full_url);
            for p in t.profiles {
                let walked = structure::walk(inner, &p, t.resource, &t.location, t.entry.is_none());
                for pending in dedup(&walked.pending) {
                    let evaluated = if pending.node.is_empty() {
                        pending.constraint.expression.clone()
                    } else {
                        format!("{}.select({})", pending.node, pending.constraint.expression)
                    };
                    let r = fp
                        .invariant(&ctx, &pending.node, &pending.constraint.expression)
                        .await;
                    out.push(InvariantTrace {
                        entry: t.entry,
                        profile: p.url.clone(),
                        key: pending.constraint.key.clone(),
                        node: pending.node.clone(),
                        expression: pending.constraint.expression.clone(),
                        evaluated,
                        result: r.as_ref().ok().map(|(_, c)| invariant::to_json(c)),
                        error: r.err(),
                    });
                }
            }
        }
        out
    })
}

impl Ig {
    fn engine(&self) -> Option<&FhirPath> {
        self.inner.fhirpath.get().and_then(|r| r.as_ref().ok())
    }
}

/// A resource to validate: the Bundle or an entry's resource, with its profiles.
struct Target<'b> {
    entry: Option<usize>,
    resource: &'b Value,
    full_url: Option<&'b str>,
    location: String,
    profiles: Vec<Arc<Profile>>,
}

/// The Bundle and every entry with the profiles that apply (declared ones only; used by the
/// trace, which needs no implied profiles for the corpus, where every resource declares one).
fn targets<'b>(ig: &IgInner, bundle: &'b Value, _index: &BundleIndex) -> Vec<Target<'b>> {
    let mut out = Vec::new();
    let mut ignored = Vec::new();
    out.push(Target {
        entry: None,
        resource: bundle,
        full_url: None,
        location: root_location(bundle),
        profiles: declared(ig, bundle, "", &mut ignored),
    });
    for (i, e) in entries(bundle).iter().enumerate() {
        if let Some(r) = e.get("resource") {
            out.push(Target {
                entry: Some(i),
                resource: r,
                full_url: e.get("fullUrl").and_then(Value::as_str),
                location: format!("Bundle.entry[{i}].resource"),
                profiles: declared(ig, r, "", &mut ignored),
            });
        }
    }
    out
}

fn entries(bundle: &Value) -> &[Value] {
    if bundle.get("resourceType").and_then(Value::as_str) != Some("Bundle") {
        return &[];
    }
    bundle
        .get("entry")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn root_location(resource: &Value) -> String {
    resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("Resource")
        .to_string()
}

/// The loaded profiles among `resource.meta.profile`; each one not loaded is a
/// `profile-not-found` finding.
fn declared(
    ig: &IgInner,
    resource: &Value,
    location: &str,
    out: &mut Vec<Finding>,
) -> Vec<Arc<Profile>> {
    let mut profiles = Vec::new();
    let list = resource
        .pointer("/meta/profile")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (k, p) in list.iter().enumerate() {
        let Some(url) = p.as_str() else { continue };
        match ig.profile(url) {
            Some(found) => {
                if !profiles.iter().any(|q: &Arc<Profile>| Arc::ptr_eq(q, found)) {
                    profiles.push(found.clone());
                }
            }
            None => out.push(
                rule::PROFILE_NOT_FOUND.breach(
                    format!("profile `{url}` is not loaded from the IG, so `{location}` was not checked against it"),
                )
                .at(format!("{location}.meta.profile[{k}]")),
            ),
        }
    }
    profiles
}

/// The invariants to evaluate, each (key, node, expression) once.
fn dedup<'p, 'a>(pending: &'p [Pending<'a>]) -> Vec<&'p Pending<'a>> {
    let mut seen = HashSet::new();
    pending
        .iter()
        .filter(|p| {
            seen.insert((
                p.constraint.key.as_str(),
                p.node.as_str(),
                p.constraint.expression.as_str(),
            ))
        })
        .collect()
}

/// Evaluates the invariants collected for one resource; breaches become findings.
async fn check_invariants(
    fp: &FhirPath,
    base: &EvaluationContext,
    pending: &[Pending<'_>],
    root: FhirPathValue,
    bundle: Option<&BundleIndex>,
    full_url: Option<&str>,
    location: &str,
) -> Vec<Finding> {
    let todo: Vec<&Pending> = dedup(pending)
        .into_iter()
        .filter(|p| !p.evident)
        .filter(|p| {
            p.memo.is_none_or(|hash| {
                MEMO.try_with(|m| {
                    m.borrow()
                        .contains(&(p.constraint.expression.as_str().into(), hash))
                }) != Ok(true)
            })
        })
        .collect();
    if todo.is_empty() {
        return Vec::new();
    }
    let ctx = fp.rooted(base, root, bundle, full_url);
    // An invariant on a repeating element sits on many nodes (`entry[0]` … `entry[9999]`), and
    // navigating to each from the root costs O(n): first ask whether it holds on every node of
    // the element at once (`entry.all(<expression>)`; a superset of the nodes it sits on, so
    // `true` settles all of them), and evaluate node by node only when it does not.
    let mut settled: HashSet<(&str, &str, String)> = HashSet::new();
    let mut groups: HashMap<(&str, &str, String), usize> = HashMap::new();
    for p in &todo {
        if !p.node.is_empty() {
            *groups
                .entry((
                    p.constraint.key.as_str(),
                    p.constraint.expression.as_str(),
                    generalize(&p.node),
                ))
                .or_default() += 1;
        }
    }
    for ((key, expression, general), n) in groups {
        if n < 2 {
            continue;
        }
        let all = format!("{general}.all({expression})");
        if let Ok((true, c)) = fp.invariant(&ctx, "", &all).await
            && c.len() == 1
        {
            settled.insert((key, expression, general));
        }
    }
    let mut out = Vec::new();
    for p in todo {
        if !p.node.is_empty()
            && settled.contains(&(
                p.constraint.key.as_str(),
                p.constraint.expression.as_str(),
                generalize(&p.node),
            ))
        {
            continue;
        }
        let at = if p.node.is_empty() {
            location.to_string()
        } else {
            format!("{location}.{}", p.node)
        };
        let c = p.constraint;
        match fp.invariant(&ctx, &p.node, &c.expression).await {
            Ok((true, _)) => {
                if let Some(hash) = p.memo {
                    let _ = MEMO
                        .try_with(|m| m.borrow_mut().insert((c.expression.as_str().into(), hash)));
                }
            }
            Ok((false, _)) => out.push(Finding {
                rule: crate::finding::RuleId::invariant(&c.key, Some(&c.human)),
                grade: c.severity.grade(),
                message: format!(
                    "`{at}` breaks invariant `{}` ({}) of profile `{}`: {}",
                    c.key,
                    c.severity.as_str(),
                    p.profile,
                    c.human.trim()
                ),
                evidence: Vec::new(),
                location: Some(at),
            }),
            Err(e) => out.push(
                rule::PROFILE_INVARIANT_ERROR
                    .breach(format!(
                        "invariant `{}` of profile `{}` could not be evaluated at `{at}`: {e}",
                        c.key, p.profile
                    ))
                    .at(at),
            ),
        }
    }
    out
}

thread_local! {
    /// Invariants that hold for a given node text (`htmlChecks()` on equal narratives, by the
    /// 64-bit hash of the text), kept for one [`validate_bundle`] call on this thread.
    static MEMO: std::cell::RefCell<HashSet<(Box<str>, u64)>> = std::cell::RefCell::new(HashSet::new());
}

/// A node path without its indexes: `payload[0].extension[1]` -> `payload.extension`.
fn generalize(node: &str) -> String {
    let mut out = String::with_capacity(node.len());
    let mut depth = 0;
    for c in node.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Validates one resource against one profile: structure, bindings, invariants.
pub(crate) async fn validate_resource(
    ig: &IgInner,
    profile: &Profile,
    resource: &Value,
    bundle: Option<&BundleIndex>,
    full_url: Option<&str>,
    location: &str,
) -> Vec<Finding> {
    let Some(Ok(fp)) = ig.fhirpath.get() else {
        return Vec::new();
    };
    let is_bundle = resource.get("resourceType").and_then(Value::as_str) == Some("Bundle");
    let walked = structure::walk(ig, profile, resource, location, is_bundle);
    let mut out = walked.findings;
    let base = match fp.base().await {
        Ok(b) => b,
        Err(e) => {
            out.push(
                rule::PROFILE_INVARIANT_ERROR
                    .breach(format!("no invariant could be evaluated: {e}")),
            );
            return out;
        }
    };
    let root = fp.value_of(resource).await;
    let invariants = Box::pin(check_invariants(
        fp,
        &base,
        &walked.pending,
        root,
        bundle,
        full_url,
        location,
    ));
    out.extend(invariants.await);
    out
}

async fn validate_message(ig: &IgInner, fp: &FhirPath, bundle: &Value) -> Vec<Finding> {
    let mut out = Vec::new();
    let reg = fp.index_bundle_for_invariants(bundle).await;
    let index: &BundleIndex = &reg.index;
    let root_loc = root_location(bundle);
    let is_bundle = root_loc == "Bundle";
    let bundle_profiles = declared(ig, bundle, &root_loc, &mut out);
    if bundle_profiles.is_empty() {
        out.extend(structure::walk_core(ig, bundle, &root_loc, is_bundle));
    }
    let base = match fp.base().await {
        Ok(b) => b,
        Err(e) => {
            out.push(
                rule::PROFILE_INVARIANT_ERROR
                    .breach(format!("no invariant could be evaluated: {e}")),
            );
            return out;
        }
    };
    let walks: Vec<_> = bundle_profiles
        .iter()
        .map(|p| structure::walk(ig, p, bundle, &root_loc, is_bundle))
        .collect();
    for w in &walks {
        out.extend(w.findings.iter().cloned());
    }
    let root = if is_bundle {
        FhirPath::bundle_value(index)
    } else {
        fp.value_of(bundle).await
    };
    let list = entries(bundle);
    if list.len() < 256 {
        for w in &walks {
            out.extend(
                check_invariants(
                    fp,
                    &base,
                    &w.pending,
                    root.clone(),
                    Some(index),
                    None,
                    &root_loc,
                )
                .await,
            );
        }
        out.extend(validate_entries(ig, fp, &reg.index, &bundle_profiles, list).await);
        return out;
    }
    // A large message: the Bundle's own invariants (each a walk over every entry) run on a thread
    // of their own while the entries are validated.
    let shared = reg.index.clone();
    let (bundle_level, entry_level) = std::thread::scope(|scope| {
        let walks = &walks;
        let root_loc = &root_loc;
        let handle = scope.spawn(move || {
            let _current = invariant::enter(shared.clone());
            block_on(async {
                let Ok(base) = fp.base().await else {
                    return Vec::new();
                };
                let mut found = Vec::new();
                for w in walks {
                    found.extend(
                        check_invariants(
                            fp,
                            &base,
                            &w.pending,
                            root.clone(),
                            Some(&shared),
                            None,
                            root_loc,
                        )
                        .await,
                    );
                }
                found
            })
        });
        let entry_level = block_on(validate_entries(ig, fp, &reg.index, &bundle_profiles, list));
        let bundle_level = match handle.join() {
            Ok(f) => f,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (bundle_level, entry_level)
    });
    out.extend(bundle_level);
    out.extend(entry_level);
    out
}

/// Every entry against its profiles (declared, implied, or the core model), in entry order.
async fn validate_entries(
    ig: &IgInner,
    fp: &FhirPath,
    shared: &Arc<BundleIndex>,
    bundle_profiles: &[Arc<Profile>],
    list: &[Value],
) -> Vec<Finding> {
    let index: &BundleIndex = shared;
    let pins = pins(ig, bundle_profiles, list);
    let mut per_entry: Vec<Vec<Finding>> = vec![Vec::new(); list.len()];
    let mut done = vec![false; list.len()];
    let mut implied: HashMap<usize, Arc<Profile>> = entry_slices(ig, bundle_profiles, list);
    let mut last_round = false;
    let job = Job {
        ig,
        fp,
        index: shared.clone(),
        pins: &pins,
        list,
    };
    loop {
        let todo: Vec<(usize, Option<Arc<Profile>>)> = (0..list.len())
            .filter(|&i| !done[i])
            .filter_map(|i| {
                let declares = list[i]
                    .pointer("/resource/meta/profile")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty());
                match (declares, implied.get(&i)) {
                    (true, _) => Some((i, None)),
                    (false, Some(p)) => Some((i, Some(p.clone()))),
                    (false, None) if last_round => Some((i, None)),
                    _ => None,
                }
            })
            .collect();
        let progress = !todo.is_empty();
        let mut references = Vec::new();
        for (i, found, refs) in job.run(&todo) {
            done[i] = true;
            per_entry[i] = found;
            references.extend(refs);
        }
        for (from, reference, targets) in references {
            let Some(j) = index.find(&reference, index.full_url(from)) else {
                continue;
            };
            if done[j] || implied.contains_key(&j) {
                continue;
            }
            let Some(rt) = list[j]
                .pointer("/resource/resourceType")
                .and_then(Value::as_str)
            else {
                continue;
            };
            if let Some(p) = targets
                .iter()
                .filter_map(|t| ig.profile(t))
                .find(|p| p.type_name == rt)
            {
                implied.insert(j, p.clone());
            }
        }
        if done.iter().all(|d| *d) {
            break;
        }
        if !progress {
            last_round = true;
        }
    }
    per_entry.into_iter().flatten().collect()
}

/// The entries of one message to validate, shared by the worker threads.
struct Job<'a> {
    ig: &'a IgInner,
    fp: &'a FhirPath,
    index: Arc<BundleIndex>,
    pins: &'a HashMap<String, Vec<String>>,
    list: &'a [Value],
}

/// References met in an entry, `(entry, reference, target profiles)`, for implied profiles.
type Refs = Vec<(usize, String, Vec<String>)>;

impl Job<'_> {
    /// Validates the given entries (each with its implied profile, if it declares none), on up
    /// to as many threads as there are CPUs when there are many; results in entry order.
    fn run(&self, todo: &[(usize, Option<Arc<Profile>>)]) -> Vec<(usize, Vec<Finding>, Refs)> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        if threads < 2 || todo.len() < 256 {
            return block_on(self.chunk(todo));
        }
        let size = todo.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = todo
                .chunks(size)
                .map(|chunk| scope.spawn(move || block_on(self.chunk(chunk))))
                .collect();
            let mut out = Vec::with_capacity(todo.len());
            for h in handles {
                match h.join() {
                    Ok(part) => out.extend(part),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            out
        })
    }

    async fn chunk(
        &self,
        todo: &[(usize, Option<Arc<Profile>>)],
    ) -> Vec<(usize, Vec<Finding>, Refs)> {
        let _current = invariant::enter(self.index.clone());
        let base = self.fp.base().await;
        let mut out = Vec::with_capacity(todo.len());
        for (i, implied) in todo {
            let (found, refs) = match &base {
                Ok(base) => self.entry(base, *i, implied.as_ref()).await,
                Err(e) => (
                    vec![
                        rule::PROFILE_INVARIANT_ERROR
                            .breach(format!("no invariant could be evaluated: {e}")),
                    ],
                    Vec::new(),
                ),
            };
            out.push((*i, found, refs));
        }
        out
    }

    /// One entry against its declared profiles (or `implied`, or the core model).
    async fn entry(
        &self,
        base: &EvaluationContext,
        i: usize,
        implied: Option<&Arc<Profile>>,
    ) -> (Vec<Finding>, Refs) {
        let (ig, fp, index) = (self.ig, self.fp, &*self.index);
        let mut out = Vec::new();
        let mut refs = Vec::new();
        let entry = &self.list[i];
        let Some(resource) = entry.get("resource") else {
            return (out, refs);
        };
        let loc = format!("Bundle.entry[{i}].resource");
        let profiles = match implied {
            Some(p) => vec![p.clone()],
            None => declared(ig, resource, &loc, &mut out),
        };
        if profiles.is_empty() {
            out.extend(structure::walk_core(ig, resource, &loc, false));
            return (out, refs);
        }
        let full_url = entry.get("fullUrl").and_then(Value::as_str);
        let Some(root) = fp.entry_value(index, i).await else {
            return (out, refs);
        };
        for p in &profiles {
            // A version the entry names itself in `meta.profile` decides; else the pins of the
            // IG profiles that apply to the message.
            let (p, mismatch) = match named_version(resource, &p.url) {
                Some(v) if p.version.as_deref() == Some(v.as_str()) => (p.clone(), None),
                Some(v) => (p.clone(), Some(v)),
                None => pinned(ig, self.pins, p),
            };
            let walked = structure::walk(ig, &p, resource, &loc, false);
            refs.extend(
                walked
                    .references
                    .iter()
                    .filter(|r| !r.target_profiles.is_empty())
                    .map(|r| (i, r.reference.clone(), r.target_profiles.to_vec())),
            );
            let mut found = walked.findings;
            found.extend(
                check_invariants(
                    fp,
                    base,
                    &walked.pending,
                    root.clone(),
                    Some(index),
                    full_url,
                    &loc,
                )
                .await,
            );
            // Only what the profile says depends on its version; a datatype error of FHIR R4
            // itself (`fhir-datatype`) is one in every version and keeps its grade.
            let by_profile = |f: &Finding| f.grade > Grade::F4 && f.rule.starts_with("profile-");
            if let Some(pin) = mismatch.filter(|_| found.iter().any(by_profile)) {
                let loaded = p.version.as_deref().unwrap_or("?");
                for f in &mut found {
                    if by_profile(f) {
                        f.grade = Grade::F4;
                        f.message.push_str(&format!(
                            " (graded F4: this message asks for version {pin} of `{}` (in its meta.profile or through the IG profiles that apply to it), which is not loaded; the loaded version is {loaded})",
                            p.url
                        ));
                    }
                }
                found.insert(
                    0,
                    rule::PROFILE_VERSION.breach(
                        format!(
                            "this message asks for `{}|{pin}` (in its meta.profile or through the IG profiles that apply to it), but only version {loaded} is loaded; `{loc}` was checked against {loaded} and its breaches are graded F4 (load the IG package with version {pin} to judge them)",
                            p.url
                        ),
                    )
                    .at(format!("{loc}.meta")),
                );
            }
            out.extend(found);
        }
        (out, refs)
    }
}

/// The version `resource.meta.profile` names for the profile `url` (`url|version`), if any.
fn named_version(resource: &Value, url: &str) -> Option<String> {
    resource
        .pointer("/meta/profile")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|c| {
            c.split_once('|')
                .filter(|(u, _)| *u == url)
                .map(|(_, v)| v.to_string())
        })
}

/// The versions of profiles that the profiles applying to this message pin (`url|version` in
/// their type and target profiles): `url` -> versions.
fn pins(
    ig: &IgInner,
    bundle_profiles: &[Arc<Profile>],
    list: &[Value],
) -> HashMap<String, Vec<String>> {
    let mut applied: Vec<Arc<Profile>> = bundle_profiles.to_vec();
    let mut ignored = Vec::new();
    for e in list {
        if let Some(r) = e.get("resource") {
            applied.extend(declared(ig, r, "", &mut ignored));
        }
    }
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for p in &applied {
        for (url, version) in p.pins() {
            let versions = out.entry(url).or_default();
            if !versions.contains(&version) {
                versions.push(version);
            }
        }
    }
    out
}

/// The profile to validate against: the version the message pins when it is loaded; else the
/// loaded one, with the pinned version it differs from (`Some`) when the pinned one is missing.
fn pinned(
    ig: &IgInner,
    pins: &HashMap<String, Vec<String>>,
    p: &Arc<Profile>,
) -> (Arc<Profile>, Option<String>) {
    let Some(versions) = pins.get(&p.url) else {
        return (p.clone(), None);
    };
    if versions
        .iter()
        .any(|v| p.version.as_deref() == Some(v.as_str()))
    {
        return (p.clone(), None);
    }
    for v in versions {
        if let Some(exact) = ig.profiles.get(&format!("{}|{v}", p.url)) {
            return (exact.clone(), None);
        }
    }
    (p.clone(), versions.first().cloned())
}

/// Profiles implied by the Bundle profile's `entry` slices: a slice whose `resource` element
/// has one type with a loaded profile takes the entries whose resource has that type.
fn entry_slices(
    ig: &IgInner,
    bundle_profiles: &[Arc<Profile>],
    list: &[Value],
) -> HashMap<usize, Arc<Profile>> {
    let mut out = HashMap::new();
    for bp in bundle_profiles {
        let Some(entry) = bp.root.children.iter().find(|c| c.name == "entry") else {
            continue;
        };
        for slice in &entry.slices {
            let Some(res) = slice.children.iter().find(|c| c.name == "resource") else {
                continue;
            };
            for t in &res.types {
                let Some(p) = t.profiles.iter().find_map(|u| ig.profile(u)) else {
                    continue;
                };
                for (i, e) in list.iter().enumerate() {
                    if e.pointer("/resource/resourceType").and_then(Value::as_str)
                        == Some(t.code.as_str())
                        || e.pointer("/resource/resourceType").and_then(Value::as_str)
                            == Some(p.type_name.as_str())
                    {
                        out.entry(i).or_insert_with(|| p.clone());
                    }
                }
            }
        }
    }
    out
}

/// The worst grade among profile findings (for callers that want a verdict).
pub fn verdict(findings: &[Finding]) -> Grade {
    crate::finding::worst(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_named_in_meta_profile_is_found_for_its_url_only() {
        let r = serde_json::json!({"meta": {"profile": [
            "http://x.example/StructureDefinition/a|4.0.0",
            "http://x.example/StructureDefinition/b"
        ]}});
        assert_eq!(
            named_version(&r, "http://x.example/StructureDefinition/a").as_deref(),
            Some("4.0.0")
        );
        assert_eq!(
            named_version(&r, "http://x.example/StructureDefinition/b"),
            None
        );
        assert_eq!(
            named_version(&r, "http://x.example/StructureDefinition/c"),
            None
        );
    }
    use serde_json::json;

    const PROFILE: &str = "http://test/StructureDefinition/comm";

    fn e(id: &str, min: u32, max: &str, ty: &str) -> Value {
        json!({"id": id, "path": id, "min": min, "max": max, "type": [{"code": ty}]})
    }

    /// A tiny Communication profile exercising every kind of check.
    fn ig() -> Ig {
        let mut payload = e("Communication.payload", 1, "*", "BackboneElement");
        payload["slicing"] =
            json!({"discriminator": [{"type": "type", "path": "$this.content"}], "rules": "open"});
        let mut ext = e("Communication.extension", 0, "*", "Extension");
        ext["slicing"] =
            json!({"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"});
        let mut ext_a = json!({"id": "Communication.extension:a", "path": "Communication.extension", "sliceName": "a",
            "min": 0, "max": "1", "type": [{"code": "Extension", "profile": ["http://test/StructureDefinition/ext-a|1.0"]}]});
        ext_a["max"] = json!("1");
        let mut status = e("Communication.status", 1, "1", "code");
        status["fixedCode"] = json!("completed");
        let mut category = e("Communication.category", 0, "1", "CodeableConcept");
        category["patternCodeableConcept"] =
            json!({"coding": [{"system": "http://x", "code": "a"}]});
        let mut priority = e("Communication.priority", 0, "1", "code");
        priority["binding"] =
            json!({"strength": "required", "valueSet": "http://test/ValueSet/prio|2.0"});
        let mut root = json!({"id": "Communication", "path": "Communication", "min": 0, "max": "*",
        "constraint": [
            {"key": "t-1", "severity": "error", "human": "fewer than three payloads", "expression": "payload.count() < 3"},
            {"key": "t-2", "severity": "warning", "human": "a subject", "expression": "subject.exists()"},
            {"key": "t-3", "severity": "error", "human": "the subject is in the Bundle", "expression": "subject.exists() implies subject.resolve().exists()"}
        ]});
        root["min"] = json!(0);
        let snapshot = vec![
            root,
            e("Communication.id", 0, "1", "id"),
            e("Communication.meta", 0, "1", "Meta"),
            ext,
            ext_a,
            e("Communication.identifier", 1, "*", "Identifier"),
            status,
            category,
            priority,
            e("Communication.subject", 0, "1", "Reference"),
            payload,
            e("Communication.payload.content[x]", 1, "1", "string"),
            json!({"id": "Communication.payload:text", "path": "Communication.payload", "sliceName": "text", "min": 1, "max": "*", "type": [{"code": "BackboneElement"}]}),
            e("Communication.payload:text.content[x]", 1, "1", "string"),
            json!({"id": "Communication.payload:file", "path": "Communication.payload", "sliceName": "file", "min": 0, "max": "1", "type": [{"code": "BackboneElement"}]}),
            e(
                "Communication.payload:file.content[x]",
                1,
                "1",
                "Attachment",
            ),
        ];
        let mut snapshot = snapshot;
        if let Some(c) = snapshot
            .iter_mut()
            .find(|x| x["id"] == "Communication.payload.content[x]")
        {
            c["type"] = json!([{"code": "string"}, {"code": "Attachment"}]);
        }
        let ext_sd = json!({"resourceType": "StructureDefinition", "url": "http://test/StructureDefinition/ext-a", "version": "1.0",
        "name": "ExtA", "type": "Extension", "snapshot": {"element": [
            {"id": "Extension", "path": "Extension", "min": 0, "max": "*"},
            {"id": "Extension.url", "path": "Extension.url", "min": 1, "max": "1", "fixedUri": "http://test/StructureDefinition/ext-a"},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "max": "1", "type": [{"code": "string"}]}
        ]}});
        Ig::from_resources(vec![
            json!({"resourceType": "StructureDefinition", "url": PROFILE, "name": "Comm", "type": "Communication",
                   "snapshot": {"element": snapshot}}),
            ext_sd,
            json!({"resourceType": "CodeSystem", "url": "http://test/CodeSystem/prio", "content": "complete",
                   "concept": [{"code": "routine"}, {"code": "asap"}]}),
            json!({"resourceType": "ValueSet", "url": "http://test/ValueSet/prio", "version": "2.0",
                   "compose": {"include": [{"system": "http://test/CodeSystem/prio"}]}}),
        ])
        .expect("test IG")
    }

    fn good() -> Value {
        json!({"resourceType": "Communication", "id": "c1", "meta": {"profile": [PROFILE]},
               "identifier": [{"value": "x"}], "status": "completed",
               "category": [{"coding": [{"system": "http://x", "code": "a", "display": "A"}]}],
               "priority": "routine", "subject": {"reference": "Patient/p1"},
               "payload": [{"contentString": "hi"}]})
    }

    fn in_bundle(resource: Value) -> Value {
        json!({"resourceType": "Bundle", "id": "b", "type": "message", "entry": [
            {"fullUrl": "https://x.dk/fhir/Communication/c1", "resource": resource},
            {"fullUrl": "https://x.dk/fhir/Patient/p1", "resource": {"resourceType": "Patient", "id": "p1"}}
        ]})
    }

    fn rules(findings: &[Finding]) -> Vec<(String, String)> {
        findings
            .iter()
            .map(|f| (f.rule.to_string(), f.location.clone().unwrap_or_default()))
            .collect()
    }

    fn check(resource: Value) -> Vec<(String, String)> {
        rules(&validate_bundle(&ig(), &in_bundle(resource)))
    }

    const AT: &str = "Bundle.entry[0].resource";

    #[test]
    fn a_primitive_outside_its_r4_form_breaks_fhir_datatype_only() {
        let mut r = good();
        r["sent"] = json!("2024-02-30T10:00:00+01:00");
        assert_eq!(
            check(r),
            vec![("fhir-datatype".to_string(), format!("{AT}.sent"))]
        );
        let mut r = good();
        r["sent"] = json!("2024-02-29T10:00:00+01:00");
        assert_eq!(check(r), vec![]);
        // A code with a leading space is not an R4 code, whatever the profile says of it.
        let mut r = good();
        r["priority"] = json!(" routine");
        assert!(check(r).contains(&("fhir-datatype".to_string(), format!("{AT}.priority"))),);
    }

    #[test]
    fn a_resource_that_meets_its_profile_has_no_findings() {
        assert_eq!(check(good()), vec![]);
    }

    #[test]
    fn a_missing_required_element_breaks_min_cardinality() {
        let mut r = good();
        r.as_object_mut().expect("object").remove("identifier");
        assert_eq!(
            check(r),
            vec![("profile-cardinality".into(), format!("{AT}.identifier"))]
        );
    }

    #[test]
    fn too_many_values_break_max_cardinality() {
        let mut r = good();
        r["category"] = json!([{"coding": [{"system": "http://x", "code": "a"}]}, {"coding": [{"system": "http://x", "code": "a"}]}]);
        assert_eq!(
            check(r),
            vec![("profile-cardinality".into(), format!("{AT}.category"))]
        );
    }

    #[test]
    fn a_value_other_than_the_fixed_one_is_profile_fixed() {
        let mut r = good();
        r["status"] = json!("unknown");
        assert_eq!(
            check(r),
            vec![("profile-fixed".into(), format!("{AT}.status"))]
        );
    }

    #[test]
    fn a_value_without_the_pattern_is_profile_pattern() {
        let mut r = good();
        r["category"] = json!([{"coding": [{"system": "http://x", "code": "b"}]}]);
        assert_eq!(
            check(r),
            vec![("profile-pattern".into(), format!("{AT}.category[0]"))]
        );
    }

    #[test]
    fn a_code_outside_the_required_value_set_is_profile_binding() {
        let mut r = good();
        r["priority"] = json!("stat");
        assert_eq!(
            check(r),
            vec![("profile-binding".into(), format!("{AT}.priority"))]
        );
    }

    #[test]
    fn slices_are_filled_by_type_and_closed_extension_slicing_rejects_other_urls() {
        let mut r = good();
        r["payload"] =
            json!([{"contentAttachment": {"title": "a"}}, {"contentAttachment": {"title": "b"}}]);
        r["extension"] =
            json!([{"url": "http://test/StructureDefinition/ext-b", "valueString": "x"}]);
        let mut got = check(r);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("profile-slicing".into(), format!("{AT}.extension[0]")),
                ("profile-slicing".into(), format!("{AT}.payload")),
                ("profile-slicing".into(), format!("{AT}.payload")),
            ]
        );
    }

    #[test]
    fn an_extension_is_checked_against_the_profile_its_url_names() {
        let mut r = good();
        r["extension"] =
            json!([{"url": "http://test/StructureDefinition/ext-a", "valueInteger": 1}]);
        assert_eq!(
            check(r),
            vec![("profile-type".into(), format!("{AT}.extension[0].value"))]
        );
    }

    #[test]
    fn an_unknown_element_is_reported() {
        let mut r = good();
        r["colour"] = json!("blue");
        assert_eq!(
            check(r),
            vec![("profile-unknown-element".into(), format!("{AT}.colour"))]
        );
    }

    #[test]
    fn invariants_are_graded_by_severity_and_resolve_within_the_bundle() {
        let mut r = good();
        r["payload"] =
            json!([{"contentString": "a"}, {"contentString": "b"}, {"contentString": "c"}]);
        r["subject"] = json!({"reference": "Patient/nowhere"});
        let findings = validate_bundle(&ig(), &in_bundle(r));
        let t1 = findings
            .iter()
            .find(|f| f.rule == "t-1")
            .expect("t-1 breached");
        assert_eq!(t1.grade, Grade::F2);
        assert!(
            findings
                .iter()
                .any(|f| f.rule == "t-3" && f.grade == Grade::F2),
            "{findings:?}"
        );
        let mut r = good();
        r.as_object_mut().expect("object").remove("subject");
        let findings = validate_bundle(&ig(), &in_bundle(r));
        assert_eq!(rules(&findings), vec![("t-2".into(), AT.into())]);
        assert_eq!(findings[0].grade, Grade::F4);
    }

    #[test]
    fn evaluate_applies_the_engine_fixes() {
        let ig = ig();
        let b = in_bundle(good());
        let ev = |e: &str| evaluate(&ig, &b, Some(0), e).expect(e);
        assert_eq!(ev("{}.all(false)"), vec![json!(true)]);
        assert_eq!(ev("{}.allTrue()"), vec![json!(true)]);
        assert_eq!(ev("{}.anyTrue()"), vec![json!(false)]);
        assert_eq!(ev("{}.isDistinct()"), vec![json!(true)]);
        assert_eq!(ev("subject.resolve().id"), vec![json!("p1")]);
        assert_eq!(ev("%resource.id"), vec![json!("c1")]);
        assert_eq!(ev("%bundle.entry.count()"), vec![json!(2)]);
        assert_eq!(
            ev("priority.memberOf('http://test/ValueSet/prio')"),
            vec![json!(true)]
        );
        assert_eq!(
            ev("'stat'.memberOf('http://test/ValueSet/prio')"),
            vec![json!(false)]
        );
        assert_eq!(
            ev("conformsTo('http://test/StructureDefinition/comm')"),
            vec![json!(true)]
        );
        assert!(
            evaluate(
                &ig,
                &b,
                Some(0),
                "conformsTo('http://test/StructureDefinition/none')"
            )
            .is_err()
        );
        let mut bad = good();
        bad["status"] = json!("unknown");
        let b = in_bundle(bad);
        assert_eq!(
            evaluate(
                &ig,
                &b,
                Some(0),
                "conformsTo('http://test/StructureDefinition/comm')"
            )
            .expect("conformsTo"),
            vec![json!(false)]
        );
        assert_eq!(
            evaluate(&ig, &b, None, "entry[1].resource.id").expect("root"),
            vec![json!("p1")]
        );
    }

    #[test]
    fn a_declared_profile_that_is_not_loaded_is_reported() {
        let mut r = good();
        r["meta"] = json!({"profile": ["http://test/none"]});
        let got = check(r);
        assert_eq!(
            got,
            vec![("profile-not-found".into(), format!("{AT}.meta.profile[0]"))]
        );
    }
}
