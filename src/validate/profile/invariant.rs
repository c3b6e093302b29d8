//! Invariants (`ElementDefinition.constraint`) evaluated with octofhir-fhirpath `=0.4.57` on the
//! R4 model, and the FHIRPath API the TestScript runner reuses.
//!
//! The four things `notes/fhirpath.md` measured that the engine must be given:
//! 1. **Rooted at the entry resource, `resolve()` by the Bundle rules.** An entry's invariants are
//!    evaluated with the entry resource as root (so `%resource` and `%rootResource` are that
//!    resource, and types below the root are known), the Bundle in `%bundle`, and the entry's
//!    `fullUrl` in `%entryFullUrl`. `resolve()` is replaced: a relative reference is made
//!    absolute with the base of the referencing entry's `fullUrl` (for a reference inside a
//!    resource reached by an earlier `resolve()`, that resource's entry), an absolute one or a
//!    `urn:uuid:` one must equal an entry's `fullUrl`, `#id` finds a contained resource. Where
//!    no base applies (a bare reference string, a `urn:uuid:` or relative `fullUrl`, as in the
//!    stale examples), a relative reference resolves to the one entry whose `fullUrl` equals it
//!    or ends with `/` + it.
//! 2. **Functions on empty input.** `all`, `allTrue`, `anyTrue`, `isDistinct`, `subsetOf`,
//!    `union` and `hasValue` are re-registered with null propagation off, so they give the
//!    spec's answer on an empty collection (`{}.all(x)` is `true`).
//! 3. **Providers.** `conformsTo()` is answered by this module's own profile validation (a
//!    profile that is not loaded is an evaluation error, never a silent `{}`); `memberOf()` is
//!    replaced by one that asks a local terminology provider built from the loaded ValueSets and
//!    CodeSystems (the stock one passes the code where the ValueSet url belongs), and a
//!    CodeableConcept is a member when one of its codings is.
//! 4. **Types below the root** come from navigating from the entry resource: an invariant of an
//!    element is evaluated as `<path to the node>.select(<expression>)` from the resource root,
//!    which keeps `$this` typed.
//!
//! An invariant holds when its result holds no `false` (an empty result holds, as in
//! octofhir-fhirpath's `is_constraint_satisfied` and the FHIRPath convention that empty is
//! unknown). `ele-1` and `ext-1`, which sit on every element, are evaluated only where the JSON
//! does not already show them holding (see `structure::evident`); the cross-check evaluates them
//! everywhere.
//!
//! octofhir-fhirpath is async; its futures need no runtime (no I/O, no timers), so this module
//! drives them with a small thread-parking `block_on` and works inside or outside tokio.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::task::{Context, Poll, Wake, Waker};

use async_trait::async_trait;
use octofhir_fhirpath::core::node::FhirNode;
use octofhir_fhirpath::evaluator::function_registry::{
    ArgumentEvaluationStrategy, EmptyPropagation, FunctionCategory, FunctionEvaluatorWrapper,
    FunctionMetadata, FunctionParameter, FunctionSignature, LazyFunctionEvaluator,
    NullPropagationStrategy, ProviderPureFunctionEvaluator, PureFunctionEvaluator,
};
use octofhir_fhirpath::evaluator::{AsyncNodeEvaluator, EvaluationResult};
use octofhir_fhirpath::{
    Collection, EvaluationContext, ExpressionNode, FhirPathEngine, FhirPathError, FhirPathValue,
};
use serde_json::Value;

use super::ig::IgInner;

/// The FHIRPath engine with the harness's functions and providers.
pub(crate) struct FhirPath {
    pub(crate) engine: FhirPathEngine,
    bundles: Arc<Bundles>,
    types: RwLock<HashMap<String, Arc<octofhir_fhir_model::TypeInfo>>>,
    /// `(type, element)` -> element type, shared by every context this engine's users make.
    element_types: Arc<papaya::HashMap<String, Option<Arc<octofhir_fhir_model::TypeInfo>>>>,
}

/// Drives a future to completion on this thread.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Functions whose stock registration returns `{}` on empty input (notes/fhirpath.md, point 2).
const EMPTY_INPUT_FIXES: &[&str] = &[
    "all",
    "allTrue",
    "anyTrue",
    "isDistinct",
    "subsetOf",
    "union",
    "hasValue",
];

impl FhirPath {
    /// Builds the engine: the R4 model from octofhir-fhirschema, the stock functions with the
    /// fixes above, our `resolve()` and `memberOf()`, the local terminology provider and the
    /// profile-validation provider for `conformsTo()`.
    pub(crate) fn new(ig: Weak<IgInner>) -> Result<FhirPath, String> {
        let bundles = Arc::new(Bundles::default());
        let mut registry = octofhir_fhirpath::create_function_registry();
        for name in EMPTY_INPUT_FIXES {
            let Some(wrapper) = registry.get_function_wrapper(name).cloned() else {
                return Err(format!("the engine has no function `{name}`"));
            };
            let mut meta = wrapper.metadata().clone();
            meta.null_propagation = NullPropagationStrategy::None;
            match wrapper {
                FunctionEvaluatorWrapper::Pure(f) => {
                    registry.register_pure_function(Arc::new(NoPropagation { inner: f, meta }))
                }
                FunctionEvaluatorWrapper::Lazy(f) => {
                    registry.register_lazy_function(Arc::new(NoPropagation { inner: f, meta }))
                }
                FunctionEvaluatorWrapper::ProviderPure(f) => registry
                    .register_provider_pure_function(Arc::new(NoPropagation { inner: f, meta })),
                FunctionEvaluatorWrapper::Standard(_) => {
                    return Err(format!("cannot re-register function `{name}`"));
                }
            }
        }
        registry.register_provider_pure_function(Arc::new(Resolve {
            bundles: bundles.clone(),
            meta: function_meta("resolve", 0, FunctionCategory::Utility),
        }));
        registry.register_provider_pure_function(Arc::new(MemberOf {
            meta: function_meta("memberOf", 1, FunctionCategory::Terminology),
        }));
        let model = Arc::new(octofhir_fhirschema::EmbeddedSchemaProvider::r4());
        let engine = block_on(FhirPathEngine::new(Arc::new(registry), model))
            .map_err(|e| e.to_string())?
            .with_terminology_provider(Arc::new(LocalTerminology { ig: ig.clone() }))
            .with_validation_provider(Arc::new(Conformance {
                ig,
                depth: AtomicUsize::new(0),
            }));
        Ok(FhirPath {
            engine,
            bundles,
            types: RwLock::new(HashMap::new()),
            element_types: Arc::new(papaya::HashMap::new()),
        })
    }

    /// A typed resource value for the engine (`Bundle`, `Communication`); type infos are
    /// looked up once per type.
    async fn typed(&self, node: FhirNode, resource_type: &str) -> FhirPathValue {
        let known = self
            .types
            .read()
            .ok()
            .and_then(|t| t.get(resource_type).cloned());
        let info = match known {
            Some(i) => Some(i),
            None => match self
                .engine
                .get_model_provider()
                .get_type(resource_type)
                .await
            {
                Ok(Some(info)) => {
                    let info = Arc::new(info);
                    if let Ok(mut t) = self.types.write() {
                        t.insert(resource_type.to_string(), info.clone());
                    }
                    Some(info)
                }
                _ => None,
            },
        };
        match info {
            Some(info) => FhirPathValue::Resource(node, info, None),
            None => FhirPathValue::resource_from_node(node),
        }
    }

    /// [`FhirPath::index_bundle`] for the invariants of a profile: the engine's copy of the
    /// Bundle has each attachment's `data` longer than [`LONG_DATA`] cut to its first
    /// [`LONG_DATA`] characters (see [`for_invariants`]), so that a 100 MB attachment is not
    /// copied whole into the engine's tree.
    pub(crate) async fn index_bundle_for_invariants(&self, bundle: &Value) -> Registered<'_> {
        match for_invariants(bundle) {
            Some(shortened) => self.index_bundle(&shortened).await,
            None => self.index_bundle(bundle).await,
        }
    }

    /// Indexes a Bundle for `resolve()` and registers it until the returned guard drops.
    pub(crate) async fn index_bundle(&self, bundle: &Value) -> Registered<'_> {
        let node = FhirNode::from_json(bundle);
        let root = self.typed(node.clone(), "Bundle").await;
        let mut entries = Vec::new();
        let mut by_full_url = HashMap::new();
        let mut owner_of = HashMap::new();
        if let Some(list) = node.get("entry").and_then(FhirNode::as_array) {
            for (i, e) in list.iter().enumerate() {
                let full_url = e
                    .get("fullUrl")
                    .and_then(FhirNode::as_str)
                    .map(str::to_string);
                if let Some(u) = &full_url {
                    by_full_url.entry(u.clone()).or_insert(i);
                }
                let resource = e.get("resource").cloned();
                if let Some(r) = &resource {
                    mark_references(r, i, &mut owner_of);
                }
                entries.push(IndexedEntry { full_url, resource });
            }
        }
        let index = Arc::new(BundleIndex {
            root,
            node,
            entries,
            by_full_url,
            owner_of,
        });
        let key = index.node.identity().unwrap_or(0);
        if let Ok(mut map) = self.bundles.map.write() {
            map.insert(key, index.clone());
        }
        let previous = CURRENT.with(|c| c.replace(Some(index.clone())));
        Registered {
            bundles: &self.bundles,
            key,
            index,
            previous,
        }
    }

    /// What every rooted context of one validation shares. (Kept as a context for the API's
    /// shape; the element-type cache that matters is the engine-wide one in `FhirPath`.)
    pub(crate) async fn base(&self) -> Result<EvaluationContext, String> {
        Ok(EvaluationContext::new_with_server_and_element_type_cache(
            Collection::empty(),
            self.engine.get_model_provider(),
            self.engine.get_terminology_provider(),
            self.engine.get_validation_provider(),
            None,
            None,
            self.element_types.clone(),
        ))
    }

    /// A typed value for a resource in JSON (converted once).
    pub(crate) async fn value_of(&self, resource: &Value) -> FhirPathValue {
        let rt = resource
            .get("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("Resource");
        self.typed(FhirNode::from_json(resource), rt).await
    }

    /// The typed value of entry `i`'s resource, sharing the indexed Bundle's tree (so the
    /// references inside it are known to `resolve()`).
    pub(crate) async fn entry_value(&self, index: &BundleIndex, i: usize) -> Option<FhirPathValue> {
        let node = index.entries.get(i)?.resource.clone()?;
        let rt = node
            .get("resourceType")
            .and_then(FhirNode::as_str)
            .unwrap_or("Resource")
            .to_string();
        Some(self.typed(node, &rt).await)
    }

    /// Evaluates `expression` rooted at `root` with the harness variables; the result
    /// collection.
    pub(crate) async fn eval(
        &self,
        root: FhirPathValue,
        bundle: Option<&BundleIndex>,
        entry_full_url: Option<&str>,
        expression: &str,
    ) -> Result<Collection, String> {
        let base = self.base().await?;
        let ctx = self.rooted(&base, root, bundle, entry_full_url);
        self.engine
            .evaluate(expression, &ctx.nest())
            .await
            .map(|r| r.value)
            .map_err(|e| e.to_string())
    }

    /// A context rooted at `root`: the input, `$this`, `%resource`, `%rootResource` and
    /// `%context` are `root`; `%bundle` and `%entryFullUrl` are set when given. Each rooted
    /// context has its own caches (identity-keyed, so they must not outlive the tree) but shares
    /// the element-type cache of this engine.
    pub(crate) fn rooted(
        &self,
        base: &EvaluationContext,
        root: FhirPathValue,
        bundle: Option<&BundleIndex>,
        entry_full_url: Option<&str>,
    ) -> EvaluationContext {
        let _ = base;
        let ctx = EvaluationContext::new_with_server_and_element_type_cache(
            Collection::single(root.clone()),
            self.engine.get_model_provider(),
            self.engine.get_terminology_provider(),
            self.engine.get_validation_provider(),
            None,
            None,
            self.element_types.clone(),
        );
        ctx.set_variable("rootResource".into(), root);
        if let Some(b) = bundle {
            ctx.set_variable("bundle".into(), b.root.clone());
        }
        if let Some(u) = entry_full_url {
            ctx.set_variable("entryFullUrl".into(), FhirPathValue::string(u));
        }
        ctx
    }

    /// The indexed Bundle's own typed value.
    pub(crate) fn bundle_value(index: &BundleIndex) -> FhirPathValue {
        index.root.clone()
    }

    /// Evaluates one invariant at `node` (a FHIRPath from the root, empty for the root) in
    /// `ctx`. `Ok(true)` when it holds.
    pub(crate) async fn invariant(
        &self,
        ctx: &EvaluationContext,
        node: &str,
        expression: &str,
    ) -> Result<(bool, Collection), String> {
        let full = if node.is_empty() {
            expression.to_string()
        } else {
            format!("{node}.select({expression})")
        };
        let result = self
            .engine
            .evaluate(&full, &ctx.nest())
            .await
            .map_err(|e| e.to_string())?
            .value;
        let holds = !result
            .iter()
            .any(|v| matches!(v, FhirPathValue::Boolean(false, _, _)));
        Ok((holds, result))
    }
}

/// Results as JSON: `[]` for empty, otherwise an array of the items.
pub(crate) fn to_json(c: &Collection) -> Value {
    Value::Array(c.iter().map(FhirPathValue::to_json_value).collect())
}

fn mark_references(node: &FhirNode, entry: usize, out: &mut HashMap<usize, usize>) {
    match node {
        FhirNode::Object(_) => {
            if node.get("reference").is_some()
                && let Some(id) = node.identity()
            {
                out.insert(id, entry);
            }
            for (_, child) in node.entries() {
                mark_references(child, entry, out);
            }
        }
        FhirNode::Array(items) => items.iter().for_each(|c| mark_references(c, entry, out)),
        _ => {}
    }
}

/// Bundles being validated, by the identity of their root node (the `%bundle` value).
#[derive(Default)]
struct Bundles {
    map: RwLock<HashMap<usize, Arc<BundleIndex>>>,
}

impl Bundles {
    fn get(&self, key: usize) -> Option<Arc<BundleIndex>> {
        self.map.read().ok()?.get(&key).cloned()
    }
}

thread_local! {
    /// The Bundle being validated on this thread, for `conformsTo()`, whose provider sees only
    /// the resource (the engine runs on the validating thread: see [`block_on`]).
    static CURRENT: std::cell::RefCell<Option<Arc<BundleIndex>>> = const { std::cell::RefCell::new(None) };
}

/// Makes `index` this thread's current Bundle until the guard drops (worker threads).
pub(crate) fn enter(index: Arc<BundleIndex>) -> Entered {
    Entered(CURRENT.with(|c| c.replace(Some(index))))
}

/// Restores the previous current Bundle on drop.
pub(crate) struct Entered(Option<Arc<BundleIndex>>);

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// The Bundle being validated on this thread, if any.
pub(crate) fn current_bundle() -> Option<Arc<BundleIndex>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// A Bundle registered for `resolve()` (and as this thread's current Bundle); unregistered on
/// drop.
pub(crate) struct Registered<'a> {
    bundles: &'a Bundles,
    key: usize,
    pub(crate) index: Arc<BundleIndex>,
    previous: Option<Arc<BundleIndex>>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        if let Ok(mut map) = self.bundles.map.write() {
            map.remove(&self.key);
        }
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// A Bundle's entries by `fullUrl`, and which entry each Reference object belongs to.
pub(crate) struct BundleIndex {
    root: FhirPathValue,
    node: FhirNode,
    entries: Vec<IndexedEntry>,
    by_full_url: HashMap<String, usize>,
    /// Identity of a Reference object (a node with `reference`) -> its entry.
    owner_of: HashMap<usize, usize>,
}

struct IndexedEntry {
    full_url: Option<String>,
    resource: Option<FhirNode>,
}

impl BundleIndex {
    /// The entry a reference found in entry `from` (by its `fullUrl`) points to, by the Bundle
    /// rules (see the module docs).
    pub(crate) fn find(&self, reference: &str, from: Option<&str>) -> Option<usize> {
        let r = reference.split("/_history/").next().unwrap_or(reference);
        if is_absolute(r) {
            return self.by_full_url.get(r).copied();
        }
        if let Some(f) = from
            && (f.starts_with("http://") || f.starts_with("https://"))
        {
            let base = base_of(f)?;
            return self.by_full_url.get(&format!("{base}{r}")).copied();
        }
        if let Some(&i) = self.by_full_url.get(r) {
            return Some(i);
        }
        let suffix = format!("/{r}");
        let mut found = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.full_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("http") && u.ends_with(&suffix))
            })
            .map(|(i, _)| i);
        match (found.next(), found.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        }
    }

    /// The `fullUrl` of entry `i`.
    pub(crate) fn full_url(&self, i: usize) -> Option<&str> {
        self.entries.get(i)?.full_url.as_deref()
    }
}

fn is_absolute(r: &str) -> bool {
    match (r.find(':'), r.find('/')) {
        (Some(c), Some(s)) => c < s,
        (Some(_), None) => true,
        _ => false,
    }
}

/// `https://x/ig/MessageHeader/1` -> `https://x/ig/`.
fn base_of(full_url: &str) -> Option<&str> {
    let mut parts = full_url.rsplitn(3, '/');
    let _id = parts.next()?;
    let ty = parts.next()?;
    let base = parts.next()?;
    ty.starts_with(|c: char| c.is_ascii_uppercase())
        .then(|| &full_url[..base.len() + 1])
}

fn function_meta(name: &str, params: usize, category: FunctionCategory) -> FunctionMetadata {
    FunctionMetadata {
        name: name.to_string(),
        description: format!("{name} (medcom-harness)"),
        signature: FunctionSignature {
            input_type: "Any".to_string(),
            parameters: (0..params)
                .map(|i| FunctionParameter {
                    name: format!("arg{i}"),
                    parameter_type: vec!["String".to_string()],
                    ..FunctionParameter::default()
                })
                .collect(),
            return_type: "Any".to_string(),
            polymorphic: true,
            min_params: params,
            max_params: Some(params),
        },
        argument_evaluation: ArgumentEvaluationStrategy::Current,
        null_propagation: NullPropagationStrategy::Focus,
        empty_propagation: EmptyPropagation::Propagate,
        deterministic: true,
        category,
        requires_terminology: false,
        requires_model: false,
    }
}

/// A stock function with other metadata (null propagation off).
struct NoPropagation<F: ?Sized> {
    inner: Arc<F>,
    meta: FunctionMetadata,
}

#[async_trait]
impl PureFunctionEvaluator for NoPropagation<dyn PureFunctionEvaluator> {
    fn prepare(&self, args: &[Collection]) -> Option<Arc<dyn PureFunctionEvaluator>> {
        let inner = self.inner.prepare(args)?;
        Some(Arc::new(NoPropagation {
            inner,
            meta: self.meta.clone(),
        }))
    }
    fn supports_sync(&self) -> bool {
        self.inner.supports_sync()
    }
    fn evaluate_sync(
        &self,
        input: Collection,
        args: Vec<Collection>,
    ) -> octofhir_fhirpath::Result<EvaluationResult> {
        self.inner.evaluate_sync(input, args)
    }
    fn evaluate_sync_borrowed(
        &self,
        input: Collection,
        args: &[Collection],
    ) -> octofhir_fhirpath::Result<EvaluationResult> {
        self.inner.evaluate_sync_borrowed(input, args)
    }
    async fn evaluate(
        &self,
        input: Collection,
        args: Vec<Collection>,
    ) -> octofhir_fhirpath::Result<EvaluationResult> {
        self.inner.evaluate(input, args).await
    }
    fn metadata(&self) -> &FunctionMetadata {
        &self.meta
    }
}

#[async_trait]
impl LazyFunctionEvaluator for NoPropagation<dyn LazyFunctionEvaluator> {
    fn prepare_no_args(&self) -> Option<Arc<dyn PureFunctionEvaluator>> {
        let inner = self.inner.prepare_no_args()?;
        Some(Arc::new(NoPropagation {
            inner,
            meta: self.meta.clone(),
        }))
    }
    async fn evaluate_borrowed(
        &self,
        input: Collection,
        context: &EvaluationContext,
        args: &[ExpressionNode],
        evaluator: AsyncNodeEvaluator<'_>,
    ) -> octofhir_fhirpath::Result<EvaluationResult> {
        self.inner
            .evaluate_borrowed(input, context, args, evaluator)
            .await
    }
    async fn evaluate(
        &self,
        input: Collection,
        context: &EvaluationContext,
        args: Vec<ExpressionNode>,
        evaluator: AsyncNodeEvaluator<'_>,
    ) -> octofhir_fhirpath::Result<EvaluationResult> {
        self.inner.evaluate(input, context, args, evaluator).await
    }
    fn metadata(&self) -> &FunctionMetadata {
        &self.meta
    }
}

#[async_trait]
impl ProviderPureFunctionEvaluator for NoPropagation<dyn ProviderPureFunctionEvaluator> {
    async fn evaluate(
        &self,
        input: Collection,
        args: Vec<Collection>,
        context: &EvaluationContext,
    ) -> octofhir_fhirpath::Result<EvaluationResult> {
        self.inner.evaluate(input, args, context).await
    }
    fn metadata(&self) -> &FunctionMetadata {
        &self.meta
    }
}

/// `resolve()` by the Bundle rules (module docs, point 1).
struct Resolve {
    bundles: Arc<Bundles>,
    meta: FunctionMetadata,
}

fn value_str(v: &FhirPathValue) -> Option<String> {
    match v {
        FhirPathValue::String(s, _, _) => Some(s.clone()),
        _ => None,
    }
}

#[async_trait]
impl ProviderPureFunctionEvaluator for Resolve {
    async fn evaluate(
        &self,
        input: Collection,
        _args: Vec<Collection>,
        context: &EvaluationContext,
    ) -> octofhir_fhirpath::Result<EvaluationResult> {
        let index = context
            .get_variable("bundle")
            .and_then(|b| match b {
                FhirPathValue::Resource(node, _, _) => node.identity(),
                _ => None,
            })
            .and_then(|k| self.bundles.get(k));
        let current = context
            .get_variable("entryFullUrl")
            .and_then(|v| value_str(&v));
        let mut out = Vec::new();
        for item in input.iter() {
            let (reference, owner) = match item {
                FhirPathValue::Resource(node, _, _) => (
                    node.get("reference")
                        .and_then(FhirNode::as_str)
                        .map(str::to_string),
                    node.identity(),
                ),
                other => (value_str(other), None),
            };
            let Some(reference) = reference else { continue };
            if let Some(id) = reference.strip_prefix('#') {
                let root = context.get_variable("resource");
                if let Some(FhirPathValue::Resource(node, _, _)) = root
                    && let Some(list) = node.get("contained").and_then(FhirNode::as_array)
                    && let Some(found) = list
                        .iter()
                        .find(|c| c.get("id").and_then(FhirNode::as_str) == Some(id))
                {
                    out.push(typed_in(context, found.clone()).await);
                }
                continue;
            }
            let Some(index) = &index else { continue };
            let from = match owner.and_then(|o| index.owner_of.get(&o)) {
                Some(&e) => index.full_url(e).map(str::to_string),
                None => current.clone(),
            };
            if let Some(i) = index.find(&reference, from.as_deref())
                && let Some(resource) = &index.entries[i].resource
            {
                out.push(typed_in(context, resource.clone()).await);
            }
        }
        Ok(EvaluationResult {
            value: Collection::from(out),
        })
    }

    fn metadata(&self) -> &FunctionMetadata {
        &self.meta
    }
}

async fn typed_in(context: &EvaluationContext, node: FhirNode) -> FhirPathValue {
    let rt = node
        .get("resourceType")
        .and_then(FhirNode::as_str)
        .unwrap_or("Resource")
        .to_string();
    match context.get_or_fetch_type_info(&rt).await {
        Some(info) => FhirPathValue::Resource(node, info, None),
        None => FhirPathValue::resource_from_node(node),
    }
}

/// `memberOf(valueSet)`: true when the code, Coding, or one coding of a CodeableConcept is in
/// the ValueSet, asked of the engine's terminology provider; `{}` unless the input is one item.
struct MemberOf {
    meta: FunctionMetadata,
}

#[async_trait]
impl ProviderPureFunctionEvaluator for MemberOf {
    async fn evaluate(
        &self,
        input: Collection,
        args: Vec<Collection>,
        context: &EvaluationContext,
    ) -> octofhir_fhirpath::Result<EvaluationResult> {
        let err = |m: String| {
            FhirPathError::evaluation_error(octofhir_fhirpath::core::error_code::FP0059, m)
        };
        let empty = Ok(EvaluationResult {
            value: Collection::empty(),
        });
        if input.len() != 1 {
            return empty;
        }
        let Some(vs) = args.first().and_then(|a| a.first()).and_then(value_str) else {
            return Err(err("memberOf() needs a ValueSet url".into()));
        };
        let Some(tx) = context.terminology_provider() else {
            return Err(err("memberOf() needs a terminology provider".into()));
        };
        let codings: Vec<(Option<String>, String)> = match input.first() {
            Some(FhirPathValue::Resource(node, _, _)) => {
                let one = |n: &FhirNode| {
                    n.get("code").and_then(FhirNode::as_str).map(|c| {
                        (
                            n.get("system")
                                .and_then(FhirNode::as_str)
                                .map(str::to_string),
                            c.to_string(),
                        )
                    })
                };
                match node.get("coding").and_then(FhirNode::as_array) {
                    Some(list) => list.iter().filter_map(one).collect(),
                    None => one(node).into_iter().collect(),
                }
            }
            Some(other) => value_str(other).map(|c| (None, c)).into_iter().collect(),
            None => Vec::new(),
        };
        if codings.is_empty() {
            return empty;
        }
        let mut member = false;
        for (system, code) in &codings {
            let r = tx
                .validate_code_vs(&vs, system.as_deref(), code, None)
                .await
                .map_err(|e| err(e.to_string()))?;
            member |= r.result;
        }
        Ok(EvaluationResult {
            value: Collection::single(FhirPathValue::boolean(member)),
        })
    }

    fn metadata(&self) -> &FunctionMetadata {
        &self.meta
    }
}

/// The terminology provider over the loaded ValueSets and CodeSystems. Only ValueSet membership
/// (`validate_code_vs`) and CodeSystem membership (`validate_code`) are answered.
#[derive(Debug)]
struct LocalTerminology {
    ig: Weak<IgInner>,
}

fn unsupported<T>(what: &str) -> octofhir_fhir_model::Result<T> {
    Err(octofhir_fhir_model::ModelError::evaluation_error(format!(
        "{what} is not supported by the local terminology provider"
    )))
}

#[async_trait]
impl octofhir_fhir_model::TerminologyProvider for LocalTerminology {
    async fn validate_code(
        &self,
        code: &str,
        system: &str,
        _version: Option<&str>,
    ) -> octofhir_fhir_model::Result<bool> {
        let _ = (code, system);
        unsupported("$validate-code on a CodeSystem")
    }
    async fn expand_valueset(
        &self,
        _url: &str,
        _p: Option<&octofhir_fhir_model::terminology::ExpansionParameters>,
    ) -> octofhir_fhir_model::Result<octofhir_fhir_model::terminology::ValueSetExpansion> {
        unsupported("$expand")
    }
    async fn translate_code(
        &self,
        _c: &str,
        _t: &str,
        _m: Option<&str>,
    ) -> octofhir_fhir_model::Result<octofhir_fhir_model::terminology::TranslationResult> {
        unsupported("$translate")
    }
    async fn lookup_code(
        &self,
        _s: &str,
        _c: &str,
        _v: Option<&str>,
        _p: Option<Vec<&str>>,
    ) -> octofhir_fhir_model::Result<octofhir_fhir_model::terminology::LookupResult> {
        unsupported("$lookup")
    }
    async fn validate_code_vs(
        &self,
        valueset: &str,
        system: Option<&str>,
        code: &str,
        _display: Option<&str>,
    ) -> octofhir_fhir_model::Result<octofhir_fhir_model::terminology::ValidationResult> {
        let ig = self
            .ig
            .upgrade()
            .ok_or_else(|| octofhir_fhir_model::ModelError::evaluation_error("the IG is gone"))?;
        let exp = ig.terminology.expansion(valueset).ok_or_else(|| {
            octofhir_fhir_model::ModelError::evaluation_error(format!(
                "ValueSet `{valueset}` is not loaded"
            ))
        })?;
        let result = exp.contains(system, code).ok_or_else(|| {
            octofhir_fhir_model::ModelError::evaluation_error(format!(
                "ValueSet `{valueset}` cannot be expanded for system `{}`",
                system.unwrap_or("")
            ))
        })?;
        Ok(octofhir_fhir_model::terminology::ValidationResult {
            result,
            display: None,
            message: None,
        })
    }
    async fn subsumes(
        &self,
        _s: &str,
        _p: &str,
        _c: &str,
    ) -> octofhir_fhir_model::Result<octofhir_fhir_model::terminology::SubsumptionResult> {
        unsupported("$subsumes")
    }
    async fn test_connection(
        &self,
    ) -> octofhir_fhir_model::Result<octofhir_fhir_model::terminology::ConnectionStatus> {
        Ok(octofhir_fhir_model::terminology::ConnectionStatus {
            connected: true,
            response_time_ms: None,
            server_version: None,
            error: None,
        })
    }
}

/// `conformsTo()`: our own profile validation of the resource, with the Bundle being validated
/// on this thread at hand for `resolve()` (the resource's own `fullUrl` is not known here, so
/// relative references resolve by the no-base rule of the module docs).
struct Conformance {
    ig: Weak<IgInner>,
    depth: AtomicUsize,
}

#[async_trait]
impl octofhir_fhir_model::ValidationProvider for Conformance {
    async fn validate(
        &self,
        resource: &Value,
        profile_url: &str,
    ) -> octofhir_fhir_model::Result<bool> {
        let e = |m: String| octofhir_fhir_model::ModelError::evaluation_error(m);
        let ig = self
            .ig
            .upgrade()
            .ok_or_else(|| e("the IG is gone".into()))?;
        let profile = ig
            .profile(profile_url)
            .cloned()
            .ok_or_else(|| e(format!("profile `{profile_url}` is not loaded")))?;
        if self.depth.fetch_add(1, Ordering::SeqCst) > 4 {
            self.depth.fetch_sub(1, Ordering::SeqCst);
            return Err(e("conformsTo() nests too deeply".into()));
        }
        let bundle = current_bundle();
        let findings =
            super::validate_resource(&ig, &profile, resource, bundle.as_deref(), None, "").await;
        self.depth.fetch_sub(1, Ordering::SeqCst);
        Ok(!findings
            .iter()
            .any(|f| f.grade >= crate::finding::Grade::F2))
    }
}

/// The length over which an attachment's `data` is cut for the invariants (characters of
/// base64, a multiple of 4 so that the cut text is still base64).
pub(crate) const LONG_DATA: usize = 64 * 1024;

/// `bundle` with every `data` string longer than [`LONG_DATA`] cut to its first [`LONG_DATA`]
/// characters, or `None` when it has none. An invariant sees the same elements, present or
/// empty as before, with base64 text; FHIR's and MedCom's invariants ask whether `data` exists
/// (`att-1`, `ele-1`), never what it decodes to. The structure walk, MedCom's rules and the
/// attachment checks read the message itself.
pub(crate) fn for_invariants(bundle: &Value) -> Option<Value> {
    fn has_long(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, v)| {
                (k == "data" && v.as_str().is_some_and(|t| t.len() > LONG_DATA)) || has_long(v)
            }),
            Value::Array(a) => a.iter().any(has_long),
            _ => false,
        }
    }
    fn cut(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| match v.as_str() {
                        Some(t) if k == "data" && t.len() > LONG_DATA => {
                            // Base64 is ASCII: any byte index is a character boundary; text
                            // that is not ASCII is cut at the boundary before.
                            let mut end = LONG_DATA;
                            while !t.is_char_boundary(end) {
                                end -= 1;
                            }
                            (k.clone(), Value::String(t[..end].to_string()))
                        }
                        _ => (k.clone(), cut(v)),
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(cut).collect()),
            other => other.clone(),
        }
    }
    has_long(bundle).then(|| cut(bundle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_long_attachment_data_is_cut_for_the_invariants() {
        let short = serde_json::json!({"resourceType": "Bundle", "entry": [{"resource":
            {"payload": [{"contentAttachment": {"contentType": "application/pdf", "data": "JVBERi0="}}]}}]});
        assert_eq!(
            for_invariants(&short),
            None,
            "nothing long: the Bundle itself"
        );
        let long = "QUJD".repeat(LONG_DATA); // 4 x LONG_DATA characters of base64
        let text = "x".repeat(2 * LONG_DATA);
        let bundle = serde_json::json!({"resourceType": "Bundle", "entry": [{"resource":
            {"payload": [{"contentString": text}, {"contentAttachment": {"contentType": "application/pdf", "data": long}}]}}]});
        let cut = for_invariants(&bundle).expect("cut");
        let data = cut["entry"][0]["resource"]["payload"][1]["contentAttachment"]["data"]
            .as_str()
            .expect("data");
        assert_eq!(data.len(), LONG_DATA);
        assert_eq!(LONG_DATA % 4, 0, "whole base64 quads");
        assert!(long.starts_with(data));
        // Other long text and everything else stay as they are.
        assert_eq!(
            cut["entry"][0]["resource"]["payload"][0],
            bundle["entry"][0]["resource"]["payload"][0]
        );
        assert_eq!(
            cut["entry"][0]["resource"]["payload"][1]["contentAttachment"]["contentType"],
            "application/pdf"
        );
    }

    #[test]
    fn bases_and_absolute_references() {
        assert_eq!(
            base_of("https://x/ig/MessageHeader/1"),
            Some("https://x/ig/")
        );
        assert_eq!(base_of("urn:uuid:1234"), None);
        assert!(is_absolute("urn:uuid:1"));
        assert!(is_absolute("https://x/Patient/1"));
        assert!(!is_absolute("Patient/1"));
    }
}
