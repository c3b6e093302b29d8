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
pub mod partition;
pub mod prompt;

pub use outcome::{
    Direction, Evidence, GoldenDiff, NotApplicable, PREVIEW_BYTES, RunOutcome, RunStatus,
    RunVerdict, ScenarioOutcome, ScenarioStatus, Selection, StepError, StepOutcome, StepStatus,
    Summary,
};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::FutureExt as _;

use crate::config::Config;
use crate::finding::{Finding, Grade};
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

/// An evidence write handed back by [`Recorder::evidence_deferred`]: run it once, anywhere; on
/// failure it gives back the bytes it did not write.
pub type DeferredWrite = Box<dyn FnOnce() -> Result<(), (std::io::Error, Vec<u8>)> + Send>;

/// Keeps a run on disk while it happens, so `kill -9` loses at most the scenarios under way:
/// evidence as it is captured, each scenario's outcome the moment it finishes. The reports'
/// journal (`report::Journal`) is one; the runner calls it from its tasks, so every method
/// returns only when what it was given is written (in the operating system's hands: a killed
/// harness loses none of it; the journal syncs to the disk itself in groups), but
/// [`Recorder::evidence_deferred`], whose writes the runner finishes before the scenario does.
pub trait Recorder: Send + Sync + std::fmt::Debug {
    /// A scenario (by id) is about to run: whatever an earlier, unfinished attempt left of it
    /// is dropped.
    ///
    /// # Errors
    /// The I/O error; the run stops (the harness cannot keep what it would judge).
    fn scenario_started(&self, scenario: &str) -> std::io::Result<()>;
    /// Writes the bytes of `evidence`, captured by scenario `scenario` (its id), sets its `file`
    /// and keeps only the first [`PREVIEW_BYTES`] of them in memory.
    ///
    /// # Errors
    /// The I/O error; the scenario becomes an error of the harness, its bytes stay in memory.
    fn evidence(&self, scenario: &str, evidence: &mut Evidence) -> std::io::Result<()>;
    /// As [`Recorder::evidence`], for evidence made by [`Evidence::preview_of`]: writes `bytes`,
    /// the whole item (its `bytes` hold only the preview), without a copy of them.
    ///
    /// # Errors
    /// As [`Recorder::evidence`]; the evidence then holds a copy of all of `bytes`.
    fn evidence_of(
        &self,
        scenario: &str,
        evidence: &mut Evidence,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        evidence.bytes = bytes.to_vec();
        self.evidence(scenario, evidence)
    }
    /// As [`Recorder::evidence_of`] for a copy of the bytes the caller hands over: names the
    /// item's file (sets `file`) now and returns the write itself, for the caller to run off the
    /// exchange's path (on a blocking thread, while the vendor answers); `None` when the recorder
    /// wrote the bytes already. A failed write gives back its bytes with the error: the caller
    /// then keeps them in memory and clears `file`.
    ///
    /// # Errors
    /// As [`Recorder::evidence`], when the recorder wrote the bytes already.
    fn evidence_deferred(
        &self,
        scenario: &str,
        evidence: &mut Evidence,
        bytes: Vec<u8>,
    ) -> std::io::Result<Option<DeferredWrite>> {
        self.evidence_of(scenario, evidence, &bytes).map(|()| None)
    }
    /// A scenario finished: its outcome is written when this returns (and synced to the disk
    /// within the recorder's group-commit interval).
    ///
    /// # Errors
    /// The I/O error; the run stops.
    fn scenario_finished(&self, outcome: &ScenarioOutcome) -> std::io::Result<()>;
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
    /// Whether skipped scenarios may pass the run (`--allow-skipped`).
    pub allow_skipped: bool,
    /// The implementation guides, loaded once by the caller (see
    /// [`crate::config::Resources`]); `None`: MedCom's rules without profile validation.
    pub ig: Option<Arc<crate::validate::profile::Ig>>,
    /// MedCom's envelope XSDs, found once by the caller; `None`: envelopes are not
    /// schema-validated (a note says so).
    pub schemas: Option<crate::envelope::SchemaFiles>,
    /// Where evidence and finished scenarios go as they happen; `None`: in memory only.
    pub recorder: Option<Arc<dyn Recorder>>,
}

impl Settings {
    /// Settings for `target` with `config`: one job, no golden updates, nobody at a terminal,
    /// skips not allowed, no IG, no schemas, no recorder.
    pub fn new(config: Config, target: Target) -> Settings {
        Settings {
            config,
            target,
            jobs: 1,
            update_golden: UpdateGolden::Never,
            interactive: false,
            allow_skipped: false,
            ig: None,
            schemas: None,
            recorder: None,
        }
    }
}

/// Progress, for the console.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// The run is set up.
    Started {
        /// Scenarios to run.
        scenarios: usize,
        /// Scenarios the target cannot take, left out.
        not_applicable: Vec<NotApplicable>,
        /// What is tested.
        target: String,
        /// Where the vendor delivers to: the harness's listener URL, or the exchange folder's `out/`.
        listen: String,
    },
    /// An operator must act (terminal operator only).
    Instruction {
        /// The scenario.
        scenario: String,
        /// The text.
        text: String,
    },
    /// A scenario finished (lent: the run keeps its outcome).
    ScenarioFinished(&'a ScenarioOutcome),
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
    /// The harness may not write into the vendor's inbox folder: its own failure, not the
    /// vendor's.
    #[error("cannot write into the vendor's inbox `{}`", .path.display())]
    Inbox {
        /// The inbox folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
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
    pub templates: SharedTemplates,
    pub update_golden: UpdateGolden,
    pub events: Box<dyn Fn(Event<'_>) + Send + Sync>,
    pub interrupt: tokio::sync::watch::Receiver<bool>,
    /// The loaded implementation guides, when the config names any.
    pub ig: Option<Arc<crate::validate::profile::Ig>>,
    /// The allowed attachment MIME types, resolved once from `[rules]` and the IG.
    pub mime: crate::validate::MimeSet,
    /// MedCom's XML Schemas (envelopes and OIOXML letters), when the run has them.
    pub schemas: Option<crate::envelope::SchemaFiles>,
    /// Where evidence goes as it is captured.
    pub recorder: Option<Arc<dyn Recorder>>,
    /// The goldens read so far, each parsed once for every scenario that compares with it.
    pub goldens: crate::golden::GoldenCache,
}

/// Runs `scenarios` against the settings' target.
///
/// # Errors
/// [`RunError`] when the listener, client or embedded vendor cannot start; everything after that
/// is recorded in the outcome.
pub async fn run(
    scenarios: Vec<Scenario>,
    settings: Settings,
    events: impl Fn(Event<'_>) + Send + Sync + 'static,
) -> Result<RunOutcome, RunError> {
    let (_keep, interrupt) = tokio::sync::watch::channel(false);
    run_until(scenarios, settings, events, interrupt).await
}

/// Why a step did not run or end when the run stopped early: a step's `reason` ends with it.
/// The cause is the run's own note (the harness could not keep its evidence) or Ctrl-C/SIGTERM.
pub(crate) const STOPPED: &str =
    "the run stopped early (Ctrl-C, SIGTERM, or the harness's own error in the run's note)";

/// The `reason` of a step that the run's stop kept from running.
pub(crate) fn not_run_stopped() -> String {
    format!("not run: {STOPPED}")
}

/// Whether a step of `outcome` was cut short or not run because the run stopped.
fn cut_short(outcome: &ScenarioOutcome) -> bool {
    outcome
        .steps
        .iter()
        .any(|s| s.reason.as_deref().is_some_and(|r| r.ends_with(STOPPED)))
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
    events: impl Fn(Event<'_>) + Send + Sync + 'static,
    interrupt: tokio::sync::watch::Receiver<bool>,
) -> Result<RunOutcome, RunError> {
    let started_at = Instant::now();
    let started = crate::template::now_instant();
    // Classic letters need an exchange folder: against a vendor's HTTP endpoint such scenarios
    // cannot run at all, so they are left out (and listed) rather than run and skipped.
    let (scenarios, left_out): (Vec<Scenario>, Vec<Scenario>) =
        scenarios.into_iter().partition(|s| {
            !(matches!(settings.target, Target::Http(_))
                && s.transport == Some(crate::scenario::TransportKind::Folder))
        });
    let not_applicable: Vec<NotApplicable> = left_out
        .into_iter()
        .map(|s| NotApplicable {
            id: s.id,
            title: s.title,
            path: s.path.display().to_string(),
            reason: "classic OIOXML letters travel only through exchange folders; this target is an HTTP endpoint: run with `--target DIR` to test them".into(),
        })
        .collect();
    let ig = settings.ig.clone();
    let inbox = Inbox::new();
    let listener = Listener::start(settings.config.listen, inbox.clone()).await?;
    // MedCom's envelope XSDs, for envelopes arriving in an exchange folder.
    let schemas = settings.schemas.clone();
    // The run stops on Ctrl-C (the caller's `interrupt`) or when the recorder cannot keep a
    // finished scenario: going on would judge what could not be kept.
    let (stop, halt) = tokio::sync::watch::channel(false);
    let forward = {
        let stop = stop.clone();
        let mut interrupt = interrupt.clone();
        tokio::spawn(async move {
            if interrupt.wait_for(|s| *s).await.is_ok() {
                let _ = stop.send(true);
            }
        })
    };
    let halted: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
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
            vc.schemas = schemas.clone();
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
            (None, url.clone(), crate::transport::redact_url(url))
        }
        Target::Folder(root) => {
            let layout = FolderLayout::new(root);
            layout.create().map_err(RunError::Folder)?;
            writable(&layout.inbox)?;
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
    let http = HttpTransport::with_settings(
        &target_url,
        settings.config.request_timeout,
        &settings.config.http,
    )?;
    let operator = detect_operator(&http, http.target(), settings.interactive).await;
    if let Operator::ReferenceVendor(instruct) = &operator {
        // Tell a reference vendor where to deliver acknowledgements it sends later.
        let session = instruct.replace("/_harness/instruct", "/_harness/session");
        let _ = http
            .post_json(
                &session,
                &serde_json::json!(crate::simulator::Session {
                    deliver_to: listener.url()
                }),
            )
            .await;
    }
    // Where the vendor's acknowledgements and messages arrive: its exchange folder's `out/` for a
    // folder target, else the harness's HTTP listener.
    let delivered_to = match &folder {
        Some(layout) => format!("the exchange folder `{}`", layout.outbox.display()),
        None => listener.url(),
    };
    let env = Arc::new(Env {
        config: settings.config.clone(),
        http,
        fhir_over_folder: over_folder || matches!(settings.target, Target::Folder(_)),
        folder,
        inbox: inbox.clone(),
        listen_url: listener.url(),
        operator,
        templates: SharedTemplates::new(Templates::builtin()),
        update_golden: settings.update_golden,
        events: Box::new(events),
        interrupt: halt.clone(),
        mime: settings.config.rules.mime_types.resolve(ig.as_deref()),
        schemas: schemas.clone(),
        ig,
        recorder: settings.recorder.clone(),
        goldens: crate::golden::GoldenCache::new(),
    });
    (env.events)(Event::Started {
        scenarios: scenarios.len(),
        not_applicable: not_applicable.clone(),
        target: target_label.clone(),
        listen: delivered_to,
    });
    // `--jobs` workers take the scenarios in turn (one task each, not one task per scenario
    // waiting on a semaphore: a finished scenario then woke the next one's task, often on the
    // other core). Each outcome goes to the scenario's slot, so none is lost to a worker.
    let scenarios: Arc<[Scenario]> = scenarios.into();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let slots: Arc<Mutex<Vec<Option<ScenarioOutcome>>>> =
        Arc::new(Mutex::new(vec![None; scenarios.len()]));
    let workers = settings.jobs.clamp(1, scenarios.len().max(1));
    let mut tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (env, scenarios, next, slots) =
            (env.clone(), scenarios.clone(), next.clone(), slots.clone());
        let (stop, halted, interrupt) = (stop.clone(), halted.clone(), interrupt.clone());
        tasks.push(tokio::spawn(async move {
            // A stop (Ctrl-C, or the recorder failing) starts no further scenario.
            while !*env.interrupt.borrow() && !*interrupt.borrow() {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(scenario) = scenarios.get(i) else {
                    break;
                };
                let outcome =
                    std::panic::AssertUnwindSafe(finish_scenario(&env, scenario, &stop, &halted))
                        .catch_unwind()
                        .await
                        .unwrap_or_else(|panic| panicked(scenario, &panic_text(panic.as_ref())));
                if let Ok(mut slots) = slots.lock() {
                    slots[i] = Some(outcome);
                }
            }
        }));
    }
    for task in tasks {
        // A worker never panics (each scenario's panic is caught above); a failed join leaves
        // its scenario's slot empty, reported below.
        let _ = task.await;
    }
    let slots = std::mem::take(
        &mut *slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let stopped = *env.interrupt.borrow() || *interrupt.borrow();
    let mut outcomes: Vec<ScenarioOutcome> = slots
        .into_iter()
        .zip(scenarios.iter())
        .map(|(slot, scenario)| match slot {
            Some(outcome) => outcome,
            None if stopped => not_started(scenario),
            None => panicked(scenario, "its task ended before the scenario did"),
        })
        .collect();
    outcomes.sort_by(|a, b| a.path.cmp(&b.path));
    // Files still in the vendor's outbox (arrived near the end, or there before a short run)
    // are waited for, so each becomes an arrival with evidence; what is still there after the
    // wait is a finding of its own.
    let left_behind = match &env.folder {
        Some(layout) if watcher.is_some() && !*interrupt.borrow() => {
            drain_outbox(&layout.outbox).await
        }
        _ => Vec::new(),
    };
    let mut unclaimed: Vec<(Evidence, Finding)> = inbox
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
            let finding = r
                .refused
                .clone()
                .unwrap_or_else(|| {
                    let from = match &r.origin {
                        crate::transport::Origin::File { name } => {
                            format!(" (`{name}` in the exchange folder)")
                        }
                        _ => String::new(),
                    };
                    crate::rule::EXPECTED_MESSAGE.finding(
                        Grade::F4,
                        format!("the vendor sent this{from}, and no scenario expected it"),
                    )
                })
                .with_evidence([evidence.id.clone()]);
            (evidence, finding)
        })
        .collect();
    for (name, grade, why) in left_behind {
        let evidence = Evidence::new(
            format!("u{}", unclaimed.len() + 1),
            Direction::Received,
            format!("`{name}`, left unread in the vendor's outbox"),
            "application/octet-stream".into(),
            Vec::new(),
        );
        let rule = if grade == Grade::F2 {
            &crate::rule::FOLDER_LINK
        } else {
            &crate::rule::FOLDER_ATOMIC
        };
        let finding = rule
            .finding(
                grade,
                format!(
                    "`{name}` was still in the vendor's outbox {} s after the last scenario ended and was not read: {why}",
                    DRAIN_FOR.as_secs()
                ),
            )
            .with_evidence([evidence.id.clone()]);
        unclaimed.push((evidence, finding));
    }
    drop(simulator);
    drop(listener);
    drop(watcher);
    drop(mailbox);
    forward.abort();
    let note = halted.lock().ok().and_then(|mut h| h.take());
    let interrupted = *interrupt.borrow();
    Ok(RunOutcome {
        interrupted,
        status: if interrupted || note.is_some() {
            RunStatus::Interrupted
        } else {
            RunStatus::Finished
        },
        note,
        allow_skipped: settings.allow_skipped,
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        target: target_label,
        threshold: settings.config.threshold,
        started,
        scenarios: outcomes,
        unclaimed,
        not_applicable,
        selection: Selection::default(),
        duration: started_at.elapsed(),
        certification: None,
    })
}

/// How long the end of a run waits for files still in the vendor's outbox: the watcher's
/// [`crate::transport::ReadPolicy::settle_for`] (a file written in place is read whole only
/// after it), plus two rescans.
const DRAIN_FOR: std::time::Duration = std::time::Duration::from_secs(12);

/// Waits until the watcher has handled every file in `outbox` (moved to `processed/` or
/// `rejected/`), polling every 100 ms for at most [`DRAIN_FOR`]; returns as soon as the folder
/// holds none. Returns what is still there at the bound, with its grade and why: F2 for
/// something that is not a regular file (a symbolic link, a FIFO, a device), F3 for a file.
async fn drain_outbox(outbox: &std::path::Path) -> Vec<(String, Grade, String)> {
    let deadline = Instant::now() + DRAIN_FOR;
    loop {
        let left = waiting_in(outbox);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The entries of `outbox` the watcher would take (not folders, not temporary names).
fn waiting_in(outbox: &std::path::Path) -> Vec<(String, Grade, String)> {
    let policy = crate::transport::ReadPolicy::default();
    let Ok(entries) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let mut left: Vec<(String, Grade, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let kind = std::fs::symlink_metadata(e.path()).ok()?.file_type();
            if kind.is_dir() || policy.ignores(&name) {
                return None;
            }
            Some(if kind.is_file() {
                (
                    name,
                    Grade::F3,
                    "it never settled into a complete file".to_string(),
                )
            } else {
                let what = if kind.is_symlink() {
                    "a symbolic link"
                } else {
                    "not a regular file (a FIFO, socket or device)"
                };
                (
                    name,
                    Grade::F2,
                    format!("it is {what}, which an exchange folder must never hold"),
                )
            })
        })
        .collect();
    left.sort();
    left
}

fn panicked(scenario: &Scenario, text: &str) -> ScenarioOutcome {
    ScenarioOutcome {
        status: ScenarioStatus::Error,
        reason: Some(format!("internal error, please report it: {text}")),
        ..outcome_of(scenario)
    }
}

/// A scenario the run stopped before it started: skipped, each step "not run" (so `--resume`
/// runs it, and the report says the run was stopped rather than blaming the scenario).
fn not_started(scenario: &Scenario) -> ScenarioOutcome {
    let why = not_run_stopped();
    ScenarioOutcome {
        status: ScenarioStatus::Skipped,
        reason: Some(format!(
            "not started: the run stopped before it began ({STOPPED})"
        )),
        steps: (1..=scenario.steps.len())
            .map(|index| StepOutcome {
                index,
                kind: scenario.steps[index - 1].get_ref().kind().to_string(),
                summary: String::new(),
                status: StepStatus::Skipped,
                reason: Some(why.clone()),
                error: None,
                findings: Vec::new(),
                evidence: Vec::new(),
                diffs: Vec::new(),
                duration: std::time::Duration::ZERO,
            })
            .collect(),
        ..outcome_of(scenario)
    }
}

/// An outcome naming `scenario`, with no steps, evidence or findings (status: error).
pub(super) fn outcome_of(scenario: &Scenario) -> ScenarioOutcome {
    ScenarioOutcome {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        path: scenario.path.display().to_string(),
        standard: scenario.standard.clone(),
        protocol_step: scenario.protocol_step.clone(),
        tags: scenario.tags.clone(),
        status: ScenarioStatus::Error,
        verdict: Grade::Ok,
        reason: None,
        steps: Vec::new(),
        evidence: Vec::new(),
        duration: std::time::Duration::ZERO,
    }
}

/// The message of a caught panic.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Runs `scenario`, records its outcome and tells the console; a recorder that cannot keep it
/// stops the run (`stop`), with why in `halted`.
async fn finish_scenario(
    env: &Env,
    scenario: &Scenario,
    stop: &tokio::sync::watch::Sender<bool>,
    halted: &Mutex<Option<String>>,
) -> ScenarioOutcome {
    let halt = |what: &str, e: std::io::Error| {
        if let Ok(mut h) = halted.lock() {
            h.get_or_insert_with(|| format!("{what}: {e}"));
        }
        let _ = stop.send(true);
    };
    if let Some(r) = &env.recorder
        && let Err(e) = r.scenario_started(&scenario.id)
    {
        halt(
            &format!("failed to prepare the evidence folder of `{}`", scenario.id),
            e,
        );
    }
    let mut outcome = exchange::run_scenario(env, scenario).await;
    // A stop that came before its first step ran: the scenario never began.
    if outcome.evidence.is_empty()
        && outcome
            .steps
            .first()
            .is_some_and(|s| s.reason.as_deref() == Some(not_run_stopped().as_str()))
    {
        outcome = not_started(scenario);
    }
    // A scenario cut short by a stop is not finished: `--resume` runs it again. One that ran to
    // its end before the stop is kept, as the report counts it.
    let stopped = *env.interrupt.borrow() && cut_short(&outcome);
    if let Some(r) = env.recorder.as_ref().filter(|_| !stopped)
        && let Err(e) = r.scenario_finished(&outcome)
    {
        halt("failed to write the run's journal", e);
    }
    (env.events)(Event::ScenarioFinished(&outcome));
    outcome
}

/// Whether the harness may create files in the vendor's inbox `dir`: a hidden file (the folder
/// reader ignores names starting with `.`) is created and removed again.
fn writable(dir: &std::path::Path) -> Result<(), RunError> {
    tempfile::Builder::new()
        .prefix(".medcom-harness-probe")
        .tempfile_in(dir)
        .map(drop)
        .map_err(|source| RunError::Inbox {
            path: dir.to_path_buf(),
            source,
        })
}

/// Whether the endpoint's host accepts TCP connections (3-second limit), so a vendor system that
/// is not running is an error of the run, not a failed certification.
async fn reachable(url: &str) -> Result<(), RunError> {
    let unreachable = |reason: String| RunError::Unreachable {
        url: crate::transport::redact_url(url),
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

/// The outcomes of `earlier` and `later` with every scenario id once: a scenario in both keeps
/// its `later` outcome, in `later`'s place. Used when `--resume` joins the journal's outcomes
/// (earlier) to the ones it ran (later).
pub fn merge_by_id(
    earlier: Vec<ScenarioOutcome>,
    later: Vec<ScenarioOutcome>,
) -> Vec<ScenarioOutcome> {
    let mut merged: Vec<Option<ScenarioOutcome>> = Vec::with_capacity(earlier.len() + later.len());
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for s in earlier.into_iter().chain(later) {
        if let Some(i) = at.insert(s.id.clone(), merged.len()) {
            merged[i] = None;
        }
        merged.push(Some(s));
    }
    merged.into_iter().flatten().collect()
}

/// The run's templates, shared by the scenarios that run at once: rendering takes a shared lock
/// ([`SharedTemplates::lock`]), so concurrent scenarios render in parallel; only registering a
/// scenario's own template file ([`SharedTemplates::write`]) is exclusive, and briefly.
pub struct SharedTemplates(std::sync::RwLock<Templates>);

impl SharedTemplates {
    /// The templates, to share.
    pub fn new(templates: Templates) -> SharedTemplates {
        SharedTemplates(std::sync::RwLock::new(templates))
    }

    /// A shared lock: render with it.
    ///
    /// # Errors
    /// When a thread panicked while registering a template.
    pub fn lock(&self) -> std::sync::LockResult<std::sync::RwLockReadGuard<'_, Templates>> {
        self.0.read()
    }

    /// The exclusive lock: register (resolve) a template file with it.
    ///
    /// # Errors
    /// When a thread panicked while registering a template.
    pub fn write(&self) -> std::sync::LockResult<std::sync::RwLockWriteGuard<'_, Templates>> {
        self.0.write()
    }
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
