//! The runner: scenarios in, outcomes out.
//!
//! [`run`] starts the harness's listener (and the embedded reference vendor when no target is
//! given), runs scenarios in parallel up to `jobs` (the steps of one scenario in order), and
//! returns a [`RunOutcome`]. It never prints: progress goes out as [`Event`]s, and the reporters
//! read the outcome. A vendor that never answers is a finding after the step's `within`, never a
//! hang; a step the harness cannot perform (a missing template, an unreadable attachment) is an
//! error of that scenario only, and the run goes on.

mod exchange;
mod outcome;

pub use outcome::{
    Direction, Evidence, GoldenDiff, RunOutcome, ScenarioOutcome, ScenarioStatus, StepOutcome,
    StepStatus, Summary,
};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::Config;
use crate::finding::Grade;
use crate::scenario::Scenario;
use crate::simulator::{Fault, Simulator, VendorConfig};
use crate::template::Templates;
use crate::transport::{FolderLayout, HttpTransport, Inbox, Listener, TransportError};

/// What to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The embedded reference vendor, optionally with a fault profile.
    Embedded(Option<Fault>),
    /// A vendor's HTTP endpoint.
    Http(String),
    /// A vendor's exchange folder: the harness writes into `<root>/in` and reads `<root>/out`.
    Folder(PathBuf),
}

/// Who performs `instruct` steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    /// A reference vendor's control endpoint (`…/_harness/instruct`).
    ReferenceVendor(String),
    /// A person at this terminal: the instruction is shown and Enter continues.
    Terminal,
    /// Nobody: scenarios with `instruct` steps are skipped, with the instruction as the reason.
    None,
}

/// How golden files are updated on a mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateGolden {
    /// Never: a mismatch is a finding.
    #[default]
    Never,
    /// Write `<golden>.new` beside the golden for review.
    New,
    /// Replace the golden.
    Always,
}

/// Settings of one run, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The configuration.
    pub config: Config,
    /// The target.
    pub target: Target,
    /// Scenarios run at once (at least 1).
    pub jobs: usize,
    /// Golden updates.
    pub update_golden: UpdateGolden,
    /// Whether a person can answer `instruct` prompts here (stdin is a terminal).
    pub interactive: bool,
}

/// Progress, for the console.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run is set up.
    Started {
        /// Scenarios to run.
        scenarios: usize,
        /// What is tested.
        target: String,
        /// Where the vendor delivers to.
        listen: String,
    },
    /// An operator must act (terminal operator only).
    Instruction {
        /// The scenario.
        scenario: String,
        /// The text.
        text: String,
    },
    /// A scenario finished.
    ScenarioFinished(Box<ScenarioOutcome>),
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A transport could not be set up.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The embedded reference vendor could not start.
    #[error("failed to start the embedded reference vendor")]
    Simulator(#[source] std::io::Error),
    /// The vendor's endpoint does not accept connections: nothing to test.
    #[error("cannot connect to the vendor endpoint `{url}`: {reason}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// Why.
        reason: String,
    },
    /// An implementation guide named in the config could not be loaded.
    #[error("failed to load the implementation guides")]
    Ig(#[source] crate::validate::profile::IgError),
    /// The exchange folder could not be set up or watched.
    #[error(transparent)]
    Folder(#[from] crate::transport::FolderError),
}

/// Shared by every scenario of a run.
pub(crate) struct Env {
    pub config: Config,
    pub http: HttpTransport,
    pub folder: Option<FolderLayout>,
    /// Whether FHIR messages go through the folder too (a folder target), or only OIOXML letters
    /// (the embedded vendor serves a folder beside its HTTP endpoint for them).
    pub fhir_over_folder: bool,
    pub inbox: Inbox,
    pub listen_url: String,
    pub operator: Operator,
    pub templates: Mutex<Templates>,
    pub update_golden: UpdateGolden,
    pub events: Box<dyn Fn(Event) + Send + Sync>,
    pub interrupt: tokio::sync::watch::Receiver<bool>,
    /// The loaded implementation guides, when the config names any.
    pub ig: Option<Arc<crate::validate::profile::Ig>>,
    /// The allowed attachment MIME types, resolved once from `[rules]` and the IG.
    pub mime: crate::validate::MimeSet,
}

/// Runs `scenarios` against the settings' target.
///
/// # Errors
/// [`RunError`] when the listener, client or embedded vendor cannot start; everything after that
/// is recorded in the outcome.
pub async fn run(
    scenarios: Vec<Scenario>,
    settings: Settings,
    events: impl Fn(Event) + Send + Sync + 'static,
) -> Result<RunOutcome, RunError> {
    let (_keep, interrupt) = tokio::sync::watch::channel(false);
    run_until(scenarios, settings, events, interrupt).await
}

/// As [`run`], stopping early when `interrupt` turns `true` (Ctrl-C): the step under way ends as
/// an error "interrupted", later steps and scenarios are not run, and the outcome keeps every
/// message already exchanged, so the reports still hold the evidence.
///
/// # Errors
/// As [`run`].
pub async fn run_until(
    scenarios: Vec<Scenario>,
    settings: Settings,
    events: impl Fn(Event) + Send + Sync + 'static,
    interrupt: tokio::sync::watch::Receiver<bool>,
) -> Result<RunOutcome, RunError> {
    let started_at = Instant::now();
    let started = crate::template::now_instant();
    let ig = if settings.config.ig.is_empty() {
        None
    } else {
        let paths: Vec<&std::path::Path> =
            settings.config.ig.iter().map(PathBuf::as_path).collect();
        Some(Arc::new(
            crate::validate::profile::Ig::load_all(&paths).map_err(RunError::Ig)?,
        ))
    };
    let inbox = Inbox::new();
    let listener = Listener::start(settings.config.listen, inbox.clone()).await?;
    // MedCom's envelope XSDs, for envelopes arriving in an exchange folder: from the config's
    // `schemas`, else `$MEDCOM_CORPUS`.
    let schemas = settings
        .config
        .schemas
        .clone()
        .or_else(|| std::env::var_os("MEDCOM_CORPUS").map(std::path::PathBuf::from))
        .map(|dir| crate::envelope::SchemaFiles::in_corpus(&dir));
    let mut folder = None;
    let mut watcher = None;
    let mut mailbox: Option<tempfile::TempDir> = None;
    // A fault that shows only in an exchange folder (how files are written, envelopes) is tested
    // with every message going through the embedded vendor's folder, as `--target DIR` would.
    let over_folder = matches!(settings.target, Target::Embedded(Some(f)) if f.folder_only());
    // Watches a vendor's outbox: arrivals go into the inbox, envelopes judged by `[rules]`.
    let watch = |layout: &FolderLayout| {
        crate::transport::watch_outbox(
            layout,
            inbox.clone(),
            schemas.clone(),
            settings.config.rules.clone(),
        )
        .map_err(RunError::Folder)
    };
    let (simulator, target_url, target_label) = match &settings.target {
        Target::Embedded(fault) => {
            let mut vc = VendorConfig::new(settings.config.vendor.clone());
            vc.fault = *fault;
            vc.ig = ig.clone();
            vc.rules = settings.config.rules.clone();
            // Classic OIOXML letters travel through a mailbox: the embedded vendor serves one in
            // a temporary folder when a scenario needs it.
            if over_folder
                || scenarios
                    .iter()
                    .any(|s| s.transport == Some(crate::scenario::TransportKind::Folder))
            {
                let dir = tempfile::tempdir().map_err(RunError::Simulator)?;
                let layout = FolderLayout::new(dir.path());
                layout.create().map_err(RunError::Folder)?;
                vc.folder = Some(dir.path().to_path_buf());
                watcher = Some(watch(&layout)?);
                folder = Some(layout);
                mailbox = Some(dir);
            }
            let sim = Simulator::start(([127, 0, 0, 1], 0).into(), vc)
                .await
                .map_err(RunError::Simulator)?;
            let url = sim.url();
            let label = match fault {
                Some(f) if over_folder => {
                    format!("embedded reference vendor over an exchange folder (fault `{f}`)")
                }
                Some(f) => format!("embedded reference vendor (fault `{f}`)"),
                None => "embedded reference vendor".to_string(),
            };
            (Some(sim), url, label)
        }
        Target::Http(url) => {
            reachable(url).await?;
            (None, url.clone(), url.clone())
        }
        Target::Folder(root) => {
            let layout = FolderLayout::new(root);
            layout.create().map_err(RunError::Folder)?;
            watcher = Some(watch(&layout)?);
            // A reference vendor serving this folder says where its control endpoint is.
            let control = crate::simulator::control_url_of_folder(root).unwrap_or_default();
            folder = Some(layout);
            (
                None,
                control,
                format!("exchange folder `{}`", root.display()),
            )
        }
    };
    let http = HttpTransport::new(&target_url, settings.config.request_timeout)?;
    let operator = detect_operator(&http, &target_url, settings.interactive).await;
    if let Operator::ReferenceVendor(instruct) = &operator {
        // Tell a reference vendor where to deliver acknowledgements it sends later.
        let session = instruct.replace("/_harness/instruct", "/_harness/session");
        let _ = http
            .post_json(&session, &serde_json::json!({"deliver-to": listener.url()}))
            .await;
    }
    let env = Arc::new(Env {
        config: settings.config.clone(),
        http,
        fhir_over_folder: over_folder || matches!(settings.target, Target::Folder(_)),
        folder,
        inbox: inbox.clone(),
        listen_url: listener.url(),
        operator,
        templates: Mutex::new(Templates::builtin()),
        update_golden: settings.update_golden,
        events: Box::new(events),
        interrupt: interrupt.clone(),
        mime: settings.config.rules.mime_types.resolve(ig.as_deref()),
        ig,
    });
    (env.events)(Event::Started {
        scenarios: scenarios.len(),
        target: target_label.clone(),
        listen: env.listen_url.clone(),
    });
    let permits = Arc::new(tokio::sync::Semaphore::new(settings.jobs.max(1)));
    let mut tasks = Vec::new();
    for scenario in scenarios {
        let env = env.clone();
        let permits = permits.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = exchange::run_scenario(&env, &scenario).await;
            (env.events)(Event::ScenarioFinished(Box::new(outcome.clone())));
            outcome
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        match task.await {
            Ok(o) => outcomes.push(o),
            Err(e) => outcomes.push(panicked(&e.to_string())),
        }
    }
    outcomes.sort_by(|a, b| a.path.cmp(&b.path));
    let unclaimed = inbox
        .unclaimed()
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let label = match &r.message {
                Ok(m) => m.label(),
                Err(e) => format!("unreadable body ({e})"),
            };
            let evidence = Evidence::new(
                format!("u{}", i + 1),
                Direction::Received,
                label,
                r.media_type.clone(),
                r.bytes.clone(),
            );
            let finding = crate::rule::EXPECTED_MESSAGE
                .finding(
                    Grade::F4,
                    "the vendor sent this, and no scenario expected it",
                )
                .with_evidence([evidence.id.clone()]);
            (evidence, finding)
        })
        .collect();
    drop(simulator);
    drop(listener);
    drop(watcher);
    drop(mailbox);
    Ok(RunOutcome {
        interrupted: *interrupt.borrow(),
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        target: target_label,
        threshold: settings.config.threshold,
        started,
        scenarios: outcomes,
        unclaimed,
        duration: started_at.elapsed(),
    })
}

fn panicked(text: &str) -> ScenarioOutcome {
    ScenarioOutcome {
        id: "(unknown)".into(),
        title: "a scenario task panicked".into(),
        path: String::new(),
        standard: String::new(),
        protocol_step: None,
        tags: Vec::new(),
        status: ScenarioStatus::Error,
        verdict: Grade::Ok,
        reason: Some(format!("internal error, please report it: {text}")),
        steps: Vec::new(),
        evidence: Vec::new(),
        duration: std::time::Duration::ZERO,
    }
}

/// Whether the endpoint's host accepts TCP connections (3-second limit), so a vendor system that
/// is not running is an error of the run, not a failed certification.
async fn reachable(url: &str) -> Result<(), RunError> {
    let unreachable = |reason: String| RunError::Unreachable {
        url: url.to_string(),
        reason,
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| unreachable(e.to_string()))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| unreachable("no host".into()))?
        .to_string();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| unreachable("no port".into()))?;
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(std::time::Duration::from_secs(3), connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no answer to the connection within 3 s".into())),
    }
}

/// Finds out who can perform `instruct` steps: a reference vendor answers `GET /_harness`.
async fn detect_operator(http: &HttpTransport, target: &str, interactive: bool) -> Operator {
    if let Some(origin) = origin_of(target) {
        let hello = format!("{origin}/_harness");
        if let Some(body) = http.get(&hello).await
            && body.contains(crate::simulator::PRODUCT)
        {
            return Operator::ReferenceVendor(format!("{origin}/_harness/instruct"));
        }
    }
    if interactive {
        Operator::Terminal
    } else {
        Operator::None
    }
}

/// `scheme://host:port` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    Some(format!("{scheme}://{host}"))
}

/// The golden root of a scenario: `golden/` mirrors `scenarios/`, so the scenario
/// `suite/scenarios/carecommunication/x.toml` finds its goldens in `suite/golden/carecommunication/`.
/// A scenario outside any `scenarios` folder finds them beside itself.
pub fn golden_dir(scenario_path: &std::path::Path) -> PathBuf {
    let dir = scenario_path.parent().unwrap_or(std::path::Path::new("."));
    let mut parts: Vec<_> = dir.components().collect();
    if let Some(pos) = parts.iter().rposition(|c| c.as_os_str() == "scenarios") {
        let golden = std::ffi::OsStr::new("golden");
        parts[pos] = std::path::Component::Normal(golden);
        return parts.iter().collect();
    }
    dir.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn golden_folder_mirrors_scenarios_folder() {
        assert_eq!(
            golden_dir(Path::new("suite/scenarios/carecommunication/new.toml")),
            PathBuf::from("suite/golden/carecommunication")
        );
        assert_eq!(
            golden_dir(Path::new("/tmp/x/y.toml")),
            PathBuf::from("/tmp/x")
        );
    }

    #[test]
    fn origin_drops_the_path() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/fhir/$process-message").as_deref(),
            Some("http://127.0.0.1:8080")
        );
    }
}
