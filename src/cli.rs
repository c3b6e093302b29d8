//! Command-line parsing and dispatch. Raw flags become validated settings here; the library never
//! sees clap types. Errors print as `error: …`, one `caused by: …` per source and a `hint: …`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use medcom_harness::certification;
use medcom_harness::config::{Config, Resources};
use medcom_harness::exit;
use medcom_harness::finding::Grade;
use medcom_harness::report;
use medcom_harness::run::{self, Settings, Target, UpdateGolden};
use medcom_harness::scenario;
use medcom_harness::simulator::{Fault, Simulator, VendorConfig};

const AFTER_HELP: &str = "\
Examples:
  medcom-harness run                              bundled suite vs the embedded reference vendor
  medcom-harness run --target http://vendor:8080/fhir/\\$process-message
  medcom-harness run scenarios/carecommunication --filter reply --jobs 1
  medcom-harness serve --listen 127.0.0.1:8080 --fault no-ack
  medcom-harness validate --ig medcom-ig/ message.json --format json
  medcom-harness diff expected.json actual.json --capture first.letter-id=…
      (a golden's {{capture:NAME}} placeholders each need a --capture; the report's failing
      steps show the diff against the run's own captures)

Exit codes: 0 every scenario ran and passed · 1 a scenario failed · 2 the harness could not
run, or none failed but not every scenario ran (skipped, could not run, interrupted: INCOMPLETE;
`--allow-skipped` lets skipped scenarios pass)";

/// Conformance test harness for Danish MedCom messaging: FHIR CareCommunication,
/// Acknowledgement and HospitalNotification, classic OIOXML letters and receipts, VANSEnvelope
/// and ehmiSBDH.
#[derive(Debug, Parser)]
#[command(name = "medcom-harness", version, after_help = AFTER_HELP, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios against a vendor system (default: the embedded reference vendor) and write
    /// the HTML, JUnit and JSON reports.
    Run(RunArgs),
    /// Run the reference vendor: a correct MedCom counterparty over HTTP, optionally with a fault.
    Serve(ServeArgs),
    /// Validate message files against MedCom's rules (exit 0 nothing worse than the threshold,
    /// 1 a worse finding, 2 a file could not be read).
    Validate(ValidateArgs),
    /// Compare two messages as the golden check does (exit 0 equal, 1 different).
    Diff(DiffArgs),
    /// List the fault profiles of the reference vendor and the rules they break. Use one with
    /// `run --fault NAME` (the embedded vendor) or `serve --fault NAME`; a fault that shows only
    /// in exchange folders makes the embedded vendor carry every message through its folder.
    Faults,
    /// Work with written reports: `report merge` joins partitioned runs.
    Report(ReportArgs),
    /// Traffic statistics over one or more runs' results.json (and their evidence): messages per
    /// MedCom statistical code and month, per sector pair (with `--registry`), acknowledgement and
    /// receipt latency, outcomes. Writes stats.html, stats.csv and stats.json.
    Stats(StatsArgs),
    /// "Hvem kan hvad": from the registry every unit with the message types it can receive and
    /// whether it has a messaging endpoint; from runs' results the matrix of tested system x
    /// standard x direction x feature, and a table in the columns of MedCom's list of approved
    /// systems. Writes capabilities.html, .csv and .json.
    Capabilities(CapabilitiesArgs),
    /// Make a minisign key pair for signing evidence packages.
    #[command(subcommand)]
    Key(certify::KeyCommand),
    /// Pack a run's evidence for MedCom in a signed zip, or verify such a package.
    #[command(subcommand)]
    Evidence(certify::EvidenceCommand),
    /// Record a reviewer's step in the run's review log: attest a manual step, comment, mark a
    /// step not relevant, override a finding's grade. The HTML report is written again with it.
    #[command(subcommand)]
    Review(certify::ReviewCommand),
    /// Write the commented configuration template, `harness.toml`, into the current folder
    /// (every key with its default and why; refused when the file exists, unless --force).
    Init(InitArgs),
    /// The FHIR package cache (`~/.fhir/packages`), where `run`, `serve` and `validate` find
    /// MedCom's implementation guides when no `--ig` is given.
    #[command(subcommand)]
    Ig(IgCommand),
}

#[derive(Debug, clap::Args)]
struct CapabilitiesArgs {
    /// results.json files of runs (optional).
    results: Vec<PathBuf>,
    /// SOR/EER registry files or folders: EER FHIR JSON (Organizations, Endpoints), SOR XML v1,
    /// SOR2 CSV.
    #[arg(long, value_name = "PATH")]
    registry: Vec<PathBuf>,
    /// Only units of this municipality (`Københavns Kommune`).
    #[arg(long, value_name = "NAME")]
    municipality: Option<String>,
    /// Only units of this SOR region code (`1084`).
    #[arg(long, value_name = "CODE")]
    region: Option<String>,
    /// Only units of this sector (`municipality`, `general practice`, `hospital`, `pharmacy`,
    /// `unknown`).
    #[arg(long, value_name = "SECTOR")]
    sector: Option<String>,
    /// Folder to write capabilities.html, .csv and .json into.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    output: PathBuf,
}

#[derive(Debug, clap::Args)]
struct StatsArgs {
    /// results.json files of runs (the evidence folder beside each is read too).
    #[arg(required = true)]
    results: Vec<PathBuf>,
    /// SOR/EER registry files or folders, for the sectors of senders and receivers.
    #[arg(long, value_name = "PATH")]
    registry: Vec<PathBuf>,
    /// Folder to write stats.html, stats.csv and stats.json into.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    output: PathBuf,
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    /// Replace an existing `harness.toml`.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
enum IgCommand {
    /// Install a downloaded IG package (`package.tgz`, from packages.fhir.org or MedCom's
    /// website) into the FHIR package cache as `<name>#<version>`, read from its package.json.
    Add {
        /// The package files.
        #[arg(required = true, value_name = "PACKAGE.tgz")]
        packages: Vec<PathBuf>,
    },
    /// List MedCom's packages in the FHIR package cache: what `run` loads without `--ig`.
    List,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Scenario files or folders (searched for *.toml).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    /// The vendor's HTTP endpoint that accepts FHIR messages (POST, the Bundle as body), or its
    /// exchange folder (the harness writes into `DIR/in` and reads `DIR/out`).
    /// Default: the embedded reference vendor.
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Run the embedded reference vendor with this fault profile (see `medcom-harness faults`).
    #[arg(long, value_name = "NAME", conflicts_with = "target", value_enum)]
    fault: Option<Fault>,
    /// Configuration file: harness and vendor identities, timeouts, threshold, `ig`, `schemas`
    /// and the `[rules]` settings (the commented defaults are src/config/harness.toml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// SOR/EER registry: EER FHIR JSON (Organizations, Endpoints), SOR XML v1 extracts or the
    /// SOR2 CSV export, as files or folders; repeatable, added to the config's `registry`. Every
    /// sender and receiver is then checked: the EAN/GLN exists, the SOR id is its unit, the
    /// receiver accepts the message type.
    #[arg(long, value_name = "PATH")]
    registry: Vec<PathBuf>,
    /// A MedCom implementation guide (a folder of IG resources or a `package.tgz`) to validate
    /// every received message against; repeatable, added to the config's `ig`.
    #[arg(long, value_name = "DIR")]
    ig: Vec<PathBuf>,
    /// HTML report.
    #[arg(long, value_name = "FILE", default_value = "reports/report.html")]
    report_html: PathBuf,
    /// JUnit XML report.
    #[arg(long, value_name = "FILE", default_value = "reports/junit.xml")]
    report_junit: PathBuf,
    /// JSON results; evidence files go to `evidence/` beside it.
    #[arg(long, value_name = "FILE", default_value = "reports/results.json")]
    report_json: PathBuf,
    /// Scenarios run at once (default: four per CPU; an exchange mostly waits on the vendor).
    #[arg(long, short = 'j', value_name = "N")]
    #[arg(value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Run only scenarios whose id, title or tags contain TEXT (repeatable).
    #[arg(long, value_name = "TEXT")]
    filter: Vec<String>,
    /// Leave out scenarios whose id, title or tags contain TEXT (repeatable).
    #[arg(long, value_name = "TEXT")]
    skip: Vec<String>,
    /// List the scenarios that would run, and exit.
    #[arg(long)]
    list: bool,
    /// The worst grade that still passes (MedCom approval: F4).
    #[arg(long, value_name = "GRADE", value_enum)]
    fail_on_worse_than: Option<Grade>,
    /// Write goldens from this run: `new` writes `<golden>.new` beside a mismatching golden,
    /// `always` replaces it.
    #[arg(long, value_enum, value_name = "MODE")]
    update_golden: Option<GoldenMode>,
    /// Finish a run that was killed: read its journal (`.journal.jsonl` beside the JSON
    /// results), run only the scenarios it did not finish, and write one report of all. Refused
    /// when the target, fault, config file, threshold or selection differ from the killed run's,
    /// or when that run finished.
    #[arg(long)]
    resume: bool,
    /// Let skipped scenarios pass the run (a suite that knows some scenarios need an operator).
    /// Without it a run with a skipped scenario is INCOMPLETE, never PASSED.
    #[arg(long)]
    allow_skipped: bool,
    /// Show CPR numbers in the reports and on the console as they are. By default they are
    /// masked (`250947-****`); the evidence files always keep the bytes exactly.
    #[arg(long)]
    show_cpr: bool,
    /// Run one stable share of the selected scenarios, by a hash of the scenario id:
    /// `hash:K/N` is share K of N (a CI matrix of N jobs; join their results with
    /// `medcom-harness report merge`).
    #[arg(long, value_name = "hash:K/N")]
    partition: Option<run::partition::Partition>,
    /// The language of the HTML report: English, or Danish with MedCom's Danish grade names.
    #[arg(long, value_enum, default_value = "en")]
    lang: certify::LangArg,
    /// The version of the system under test, for the reports (over the config's
    /// `[system] version`): MedCom's final test must be of the version self-tested.
    #[arg(long, value_name = "VERSION")]
    system_version: Option<String>,
    /// Self-test (egentest) or final test (sluttest), for the reports (over `[system] test-type`).
    #[arg(long, value_enum, value_name = "TYPE")]
    test_type: Option<TestTypeArg>,
    /// Who runs the test, for the reports (over `[system] tester`).
    #[arg(long, value_name = "NAME")]
    tester: Option<String>,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    #[command(subcommand)]
    command: ReportCommand,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Join the JSON results of partitioned runs (`run --partition hash:K/N`) into one HTML,
    /// JUnit and JSON report (exit 0 passed, 1 failed, 2 incomplete or not mergeable).
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
struct MergeArgs {
    /// The `results.json` of each share; their evidence folders stay where they are.
    #[arg(required = true, value_name = "RESULTS.json")]
    results: Vec<PathBuf>,
    /// HTML report.
    #[arg(long, value_name = "FILE", default_value = "reports/report.html")]
    report_html: PathBuf,
    /// JUnit XML report.
    #[arg(long, value_name = "FILE", default_value = "reports/junit.xml")]
    report_junit: PathBuf,
    /// JSON results.
    #[arg(long, value_name = "FILE", default_value = "reports/results.json")]
    report_json: PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TestTypeArg {
    SelfTest,
    FinalTest,
}

impl From<TestTypeArg> for certification::TestType {
    fn from(t: TestTypeArg) -> certification::TestType {
        match t {
            TestTypeArg::SelfTest => certification::TestType::SelfTest,
            TestTypeArg::FinalTest => certification::TestType::FinalTest,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GoldenMode {
    New,
    Always,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. The first line on stdout is
    /// `listening on http://HOST:PORT`.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: std::net::SocketAddr,
    /// Misbehave in one named way (see `medcom-harness faults`).
    #[arg(long, value_name = "NAME", value_enum)]
    fault: Option<Fault>,
    /// Configuration file; the reference vendor uses its `[vendor]` identity, its `ig` and its
    /// `[rules]` (what it validates by, how often it resends).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// SOR/EER registry: EER FHIR JSON (Organizations, Endpoints), SOR XML v1 extracts or the
    /// SOR2 CSV export, as files or folders; repeatable, added to the config's `registry`. Every
    /// sender and receiver is then checked: the EAN/GLN exists, the SOR id is its unit, the
    /// receiver accepts the message type.
    #[arg(long, value_name = "PATH")]
    registry: Vec<PathBuf>,
    /// Where acknowledgements go: in the HTTP `response`, or `later` (`202 Accepted`, then a POST
    /// to the URL the harness registers).
    #[arg(long, value_enum, default_value = "response", value_name = "WHEN")]
    ack_delivery: AckWhen,
    /// A MedCom implementation guide to validate received messages against (KR6); repeatable.
    #[arg(long, value_name = "DIR")]
    ig: Vec<PathBuf>,
    /// Serve an exchange folder too: messages are read from `DIR/in` and answered into
    /// `DIR/out` (written under a temporary name, then renamed). The HTTP endpoint stays up.
    #[arg(long, value_name = "DIR")]
    folder: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum AckWhen {
    Response,
    Later,
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Files to judge: FHIR messages (JSON or XML), classic OIOXML letters and receipts, and
    /// envelopes (VANSEnvelope, ehmiSBDH; `--payload` judges what they carry too).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Output: `text` (one finding per line: file, location, rule, grade, message) or `json`.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// Exit 1 when a finding is this grade or worse. Default: worse than the config's
    /// `threshold` (F4 without `--config`: F3, F2, F1 fail, as in MedCom approval).
    #[arg(long, value_name = "GRADE", value_enum)]
    fail_on: Option<Grade>,
    /// Print the checks that passed too (grade OK, where a rule reports them). Notes (grade OK,
    /// starting with `note:`) are always printed.
    #[arg(long)]
    all: bool,
    /// The MedCom implementation guides: a folder of IG resources (StructureDefinitions,
    /// ValueSets, CodeSystems) or a `package.tgz`, for profile validation.
    #[arg(long, value_name = "DIR")]
    ig: Vec<PathBuf>,
    /// MedCom's envelope XML Schemas, in the layout of the MedCom corpus
    /// (`vans-envelope/vans-envelope-1.0.4.xsd`, `dk-ehmi-sbdh/…/ehmiStandardBusinessDocumentHeader.xsd`).
    /// Default: `$MEDCOM_CORPUS`.
    #[arg(long, value_name = "DIR")]
    schemas: Option<PathBuf>,
    /// For an envelope, validate the message it carries as well.
    #[arg(long)]
    payload: bool,
    /// Configuration file: its `[rules]` settings (size limits, attachment MIME types, the
    /// letter-identifier order, the ehmiSBDH `BinaryContent` rule) and its `ig` apply.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// SOR/EER registry: EER FHIR JSON (Organizations, Endpoints), SOR XML v1 extracts or the
    /// SOR2 CSV export, as files or folders; repeatable, added to the config's `registry`. Every
    /// sender and receiver is then checked: the EAN/GLN exists, the SOR id is its unit, the
    /// receiver accepts the message type.
    #[arg(long, value_name = "PATH")]
    registry: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct DiffArgs {
    /// The expected message (a golden, placeholders allowed).
    expected: PathBuf,
    /// The actual message.
    actual: PathBuf,
    /// A value for a `{{capture:NAME}}` placeholder of the golden, as `NAME=VALUE`
    /// (e.g. `first.letter-id=0b0d7c43-…`); repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    capture: Vec<String>,
    /// Show CPR numbers in clear (default: masked as `DDMMYY-****`).
    #[arg(long)]
    show_cpr: bool,
}

/// Prints one line to stdout. When the reader has gone away (`validate … | head -1`), the
/// process ends quietly with 141 (128 + SIGPIPE), as Unix tools do, instead of panicking.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        medcom_harness::errln!("error: failed to write to stdout: {e}");
        std::process::exit(exit::ERROR);
    }
}

macro_rules! say {
    ($($arg:tt)*) => { say(format_args!($($arg)*)) };
}

mod certify;

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run_command(args),
        Command::Serve(args) => serve_command(args),
        Command::Validate(args) => validate_command(&args),
        Command::Diff(args) => diff_command(&args),
        Command::Report(ReportArgs {
            command: ReportCommand::Merge(args),
        }) => merge_command(&args),
        Command::Stats(args) => stats_command(&args),
        Command::Capabilities(args) => capabilities_command(&args),
        Command::Faults => {
            for f in Fault::ALL {
                say!(
                    "{:<34} {} [breaks {}]",
                    f.name(),
                    f.description(),
                    f.violates().join(", ")
                );
                for id in f.violates() {
                    if let Some(rule) = medcom_harness::rule::find(id) {
                        say!("{:<34}   source of {id}: {}", "", rule.source);
                    }
                }
            }
            Ok(exit::PASSED)
        }
        Command::Key(command) => certify::key_command(command),
        Command::Evidence(command) => certify::evidence_command(command),
        Command::Review(command) => certify::review_command(command),
        Command::Init(args) => init_command(&args),
        Command::Ig(command) => ig_command(command),
    };
    match result {
        Ok(code) => code,
        Err(failure) => {
            failure.print();
            exit::ERROR
        }
    }
}

/// An error to print: the error chain and an optional hint.
struct Failure {
    error: Box<dyn std::error::Error>,
    hint: Option<String>,
}

impl Failure {
    fn new(error: impl std::error::Error + 'static) -> Failure {
        Failure {
            error: Box::new(error),
            hint: None,
        }
    }

    fn msg(text: impl Into<String>, hint: Option<String>) -> Failure {
        Failure {
            error: text.into().into(),
            hint,
        }
    }

    fn print(&self) {
        medcom_harness::errln!("error: {}", self.error);
        let mut source = self.error.source();
        while let Some(s) = source {
            medcom_harness::errln!("caused by: {s}");
            source = s.source();
        }
        if let Some(h) = &self.hint {
            medcom_harness::errln!("hint: {h}");
        }
    }
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM; `false` when neither can be listened for.
async fn stop_signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                c = tokio::signal::ctrl_c() => c.is_ok(),
                t = term.recv() => t.is_some(),
            };
        }
    }
    tokio::signal::ctrl_c().await.is_ok()
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Failure::new)
}

/// `$MEDCOM_CORPUS`, the folder the library never looks up itself: read here, once.
fn corpus_env() -> Option<PathBuf> {
    std::env::var_os("MEDCOM_CORPUS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Whether to draw the progress line: stdout and stderr are both terminals (never in CI or when
/// either is redirected to a file or a pipe).
fn progress_line() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// Whether to colour console output: stdout is a terminal and `NO_COLOR` is unset or empty.
fn colour() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The implementation guides and schemas, loaded once for the whole command: the guides named
/// (`--ig`, the config's `ig`), or else MedCom's packages found in the FHIR package cache or
/// `$MEDCOM_CORPUS` (see [`ig_sources`]).
fn resources(igs: &[PathBuf], schemas: Option<&std::path::Path>) -> Result<Resources, Failure> {
    let found = ig_sources(igs);
    let loaded = load_found(&found, schemas)?;
    announce(&found);
    Ok(loaded)
}

/// `$HOME`, the folder of the FHIR package cache (`~/.fhir/packages`): read here, once.
fn home_env() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The guides a command validates with: those named, or else what
/// [`certification::discover`] finds in the package cache under `$HOME` or in `$MEDCOM_CORPUS`.
fn ig_sources(igs: &[PathBuf]) -> certification::Found {
    if igs.is_empty() {
        certification::discover(home_env().as_deref(), corpus_env().as_deref())
    } else {
        certification::Found {
            paths: igs.to_vec(),
            packages: igs
                .iter()
                .flat_map(|p| certification::describe_all(p, certification::PackageSource::Given))
                .collect(),
        }
    }
}

/// Says on stderr which guides profile validation uses, or that it does not run.
fn announce(found: &certification::Found) {
    if found.packages.is_empty() {
        medcom_harness::errln!(
            "warning: profile validation is off: no MedCom implementation guide found (give --ig, install one with `medcom-harness ig add PACKAGE.tgz`, or set MEDCOM_CORPUS)"
        );
        return;
    }
    let names: Vec<String> = found
        .packages
        .iter()
        .map(certification::IgPackage::reference)
        .collect();
    medcom_harness::errln!(
        "profiles: {} ({})",
        names.join(", "),
        found.packages[0].source.label()
    );
}

/// Loads `found` and takes `schemas` as the folder of MedCom's XSDs.
fn load_found(
    found: &certification::Found,
    schemas: Option<&std::path::Path>,
) -> Result<Resources, Failure> {
    let failed = |e: medcom_harness::validate::profile::IgError| Failure {
        error: Box::new(e),
        hint: Some("give a folder of IG resources or an IG package.tgz".into()),
    };
    let given = found
        .packages
        .iter()
        .all(|p| p.source == certification::PackageSource::Given);
    if given || found.packages.is_empty() {
        return Resources::load(&found.paths, schemas).map_err(failed);
    }
    Ok(Resources {
        ig: Some(std::sync::Arc::new(
            certification::load_packages(found).map_err(failed)?,
        )),
        ..Resources::load(&[], schemas).map_err(failed)?
    })
}

/// The SOR/EER registry of `paths`, loaded once for the whole command; `None` without paths.
fn registry(paths: &[PathBuf]) -> Result<Option<medcom_harness::registry::Shared>, Failure> {
    registry_with_own(paths, None, false)
}

/// [`registry`], knowing the run's own test identities (`[harness]`, `[vendor]` of `config`, and
/// with `reference_vendor` the reference vendor's built-in forward recipient): a finding on one
/// of them that the registry's files lack says what it is and what to add, and stderr says once
/// which of them are missing.
fn registry_with_own(
    paths: &[PathBuf],
    config: Option<&Config>,
    reference_vendor: bool,
) -> Result<Option<medcom_harness::registry::Shared>, Failure> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut loaded = medcom_harness::registry::Registry::load(paths).map_err(|e| Failure {
        error: Box::new(e),
        hint: Some("give EER FHIR JSON (a Bundle of Organizations/Endpoints), a SOR XML v1 extract (`SorTree`), a SOR2 CSV export, or a folder of them".into()),
    })?;
    if !loaded.skipped().is_empty() {
        eprintln!(
            "note: registry: passed over {} file(s) in its folders that are no SOR/EER data (first: {})",
            loaded.skipped().len(),
            loaded.skipped()[0].0.display()
        );
    }
    if let Some(c) = config {
        loaded.add_own(
            "the harness's own test identity",
            Some("harness"),
            &c.harness.ean,
            &c.harness.sor_id,
        );
        loaded.add_own(
            "the identity of the system under test",
            Some("vendor"),
            &c.vendor.ean,
            &c.vendor.sor_id,
        );
        if reference_vendor {
            let to = VendorConfig::new(c.vendor.clone()).forward_to;
            loaded.add_own(
                "the reference vendor's built-in forward recipient (a test identity)",
                None,
                &to.ean,
                &to.sor_id,
            );
        }
        for (own, missing) in loaded.own_missing() {
            let values = missing
                .iter()
                .map(|k| format!("{k} {}", if *k == "ean" { &own.gln } else { &own.sor_id }))
                .collect::<Vec<_>>()
                .join(", ");
            let set = own.table.as_ref().map_or_else(String::new, |t| {
                format!(
                    " or set `[{t}] {}` to a registered one",
                    missing.join("`/`")
                )
            });
            eprintln!(
                "note: registry ({}): {} ({values}{}) is not in it; its findings are F4 and it is not checked: add it to the registry{set}",
                loaded.files_named(),
                own.who,
                own.table
                    .as_ref()
                    .map_or_else(String::new, |t| format!(", config `[{t}]`")),
            );
        }
    }
    Ok(Some(medcom_harness::registry::Shared(std::sync::Arc::new(
        loaded,
    ))))
}

/// The final reports of a run that ran could not be written (the cause is the source): never a
/// reason to write a "not run" report, which would say no scenario ran.
#[derive(Debug)]
struct ReportsNotWritten(Box<dyn std::error::Error>);

impl std::fmt::Display for ReportsNotWritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the run's reports could not be written")
    }
}

impl std::error::Error for ReportsNotWritten {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}

/// The reports of one `run`: written "in progress" at its start, "not run" when it cannot start,
/// and finally from its outcome.
struct Reports {
    paths: report::Paths,
    options: report::Options,
    target: String,
    /// The run's credentials, redacted in every report once the configuration is known.
    secrets: std::sync::OnceLock<medcom_harness::transport::Secrets>,
}

impl Reports {
    fn write(&self, run: &run::RunOutcome) -> Result<(), Failure> {
        self.write_streamed(run, report::Streamed::default())
    }

    /// [`Reports::write`] with the scenarios' parts a [`report::ReportStream`] made during the run.
    fn write_streamed(
        &self,
        run: &run::RunOutcome,
        streamed: report::Streamed,
    ) -> Result<(), Failure> {
        let secrets = self.secrets.get().cloned().unwrap_or_default();
        report::write_all_streamed(run, &self.paths, &self.options, &secrets, streamed).map_err(|e| Failure {
            error: Box::new(e),
            hint: Some("the report paths were writable when the run started; check the disk and permissions".into()),
        })
    }

    /// Replaces the reports by a "not run" report naming why, and returns `failure` to print.
    fn not_run(&self, failure: Failure) -> Failure {
        let mut cause = failure.error.to_string();
        let mut source = failure.error.source();
        while let Some(s) = source {
            cause.push_str(&format!(": {s}"));
            source = s.source();
        }
        let placeholder = run::RunOutcome::placeholder(
            run::RunStatus::NotStarted,
            self.target.clone(),
            Grade::F4,
            Some(cause),
        );
        if let Err(e) = self.write(&placeholder) {
            e.print();
        }
        failure
    }
}

fn run_command(args: RunArgs) -> Result<i32, Failure> {
    let reports = Reports {
        paths: report::Paths {
            html: args.report_html.clone(),
            junit: args.report_junit.clone(),
            json: args.report_json.clone(),
        },
        options: report::Options {
            show_cpr: args.show_cpr,
            lang: certify::lang(args.lang),
        },
        target: match (&args.target, &args.fault) {
            (Some(t), _) => medcom_harness::transport::redact_url(t),
            (None, Some(f)) => format!("embedded reference vendor (fault `{f}`)"),
            (None, None) => "embedded reference vendor".into(),
        },
        secrets: std::sync::OnceLock::new(),
    };
    if !args.list && !args.resume {
        // Before anything runs: the reports can be written, and the previous run's reports are
        // replaced at once, so a stale PASSED never stands for this run.
        reports.paths.check().map_err(|e| Failure {
            error: Box::new(e),
            hint: Some("choose report files in a folder you may write to (`--report-html`, `--report-junit`, `--report-json`)".into()),
        })?;
        let placeholder = run::RunOutcome::placeholder(
            run::RunStatus::InProgress,
            reports.target.clone(),
            Grade::F4,
            None,
        );
        reports.write(&placeholder)?;
    }
    prepare_and_run(&args, &reports).map_err(|f| {
        // A refused `--resume` leaves the reports it would not go on from as they are.
        let refused = matches!(
            f.error.downcast_ref::<report::ReportError>(),
            Some(
                report::ReportError::ResumeFinished { .. }
                    | report::ReportError::ResumeMismatch { .. }
                    | report::ReportError::NoJournal { .. }
            )
        );
        let ran = f.error.downcast_ref::<ReportsNotWritten>().is_some();
        if args.list || refused || ran {
            f
        } else {
            reports.not_run(f)
        }
    })
}

fn prepare_and_run(args: &RunArgs, reports: &Reports) -> Result<i32, Failure> {
    let mut config = Config::load(args.config.as_deref()).map_err(Failure::new)?;
    // The one place secrets named by `[http] …-env` are read from the environment.
    config
        .http
        .auth
        .resolve(|name| std::env::var(name).ok())
        .map_err(Failure::new)?;
    // What the HTTP transport will redact (`HttpTransport::secrets`): the credentials and the
    // target URL's password and query tokens; the reports and the console redact them too.
    let secrets = medcom_harness::transport::Secrets::new(
        config.http.auth.secrets().into_iter().chain(
            args.target
                .as_deref()
                .map(medcom_harness::transport::secrets_in_url)
                .unwrap_or_default(),
        ),
    );
    let _ = reports.secrets.set(secrets.clone());
    config.ig.extend(args.ig.iter().cloned());
    config.registry.extend(args.registry.iter().cloned());
    config.rules.registry =
        registry_with_own(&config.registry, Some(&config), args.target.is_none())?;
    // `--system-version`, `--test-type`, `--tester` over the config's `[system]`.
    if let Some(v) = &args.system_version {
        config.system.version = Some(v.clone());
    }
    if let Some(t) = args.test_type {
        config.system.test_type = Some(t.into());
    }
    if let Some(t) = &args.tester {
        config.system.tester = Some(t.clone());
    }
    if let Some(g) = args.fail_on_worse_than {
        config.threshold = g;
    }
    let target = match (&args.target, &args.fault) {
        (Some(url), _) if url.starts_with("http://") || url.starts_with("https://") => {
            Target::Http(url.clone())
        }
        (Some(dir), _) => {
            let path = PathBuf::from(dir);
            if !path.is_dir() {
                return Err(Failure::msg(
                    format!("`--target {dir}` is neither an HTTP URL nor an existing folder"),
                    Some("give the vendor endpoint as `http://host:port/path`, or the exchange folder (with `in/` and `out/`)".into()),
                ));
            }
            Target::Folder(path)
        }
        (None, Some(f)) => Target::Embedded(Some(*f)),
        (None, None) => Target::Embedded(None),
    };
    let scenarios = match scenario::load_limited(&args.paths, config.scenario_size_limit) {
        Ok(s) => s,
        Err(scenario::ScenarioError::Several { errors }) => {
            // The reports (a CI artifact) name each broken file too, not only stderr.
            let listed: Vec<String> = errors
                .iter()
                .map(|e| match e.hint() {
                    Some(h) => format!("{e}\n  hint: {h}"),
                    None => e.to_string(),
                })
                .collect();
            return Err(Failure::msg(
                format!(
                    "{} scenario files have errors; nothing was run:\n{}",
                    errors.len(),
                    listed.join("\n")
                ),
                None,
            ));
        }
        Err(e) => {
            let hint = e.hint().map(str::to_string);
            return Err(Failure {
                error: Box::new(e),
                hint,
            });
        }
    };
    let matches = |s: &scenario::Scenario, text: &str| {
        s.id.contains(text) || s.title.contains(text) || s.tags.iter().any(|t| t.contains(text))
    };
    let found = scenarios.len();
    let scenarios: Vec<_> = scenarios
        .into_iter()
        .filter(|s| args.filter.is_empty() || args.filter.iter().any(|f| matches(s, f)))
        .filter(|s| !args.skip.iter().any(|f| matches(s, f)))
        .collect();
    let selected = scenarios.len();
    // Scenarios of the other shares are not "left out": another job runs them.
    let scenarios: Vec<_> = scenarios
        .into_iter()
        .filter(|s| args.partition.is_none_or(|p| p.includes(&s.id)))
        .collect();
    // Every report says what `--filter`/`--skip` left out: the verdict covers only the rest.
    let selection = run::Selection {
        filter: args.filter.clone(),
        skip: args.skip.clone(),
        left_out: found - selected,
        partition: args.partition.map(|p| p.to_string()),
    };
    if args.list {
        for s in &scenarios {
            say!(
                "{:<40} {:<10} {}",
                s.id,
                s.protocol_step.as_deref().unwrap_or("-"),
                s.title
            );
        }
        return Ok(exit::PASSED);
    }
    if scenarios.is_empty() {
        match args.partition {
            // A share of a small suite may hold nothing: it runs empty and passes, so that
            // `report merge` gets every share the CI matrix made.
            Some(p) => medcom_harness::errln!(
                "note: share {p} holds none of the selected scenarios; it is reported empty for `report merge`"
            ),
            None => {
                return Err(Failure::msg(
                    "no scenario left after --filter/--skip",
                    Some("`--list` shows what is selected".into()),
                ));
            }
        }
    }
    let ids: Vec<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
    let plan = report::Plan {
        target: reports.target.clone(),
        fault: args.fault.map(|f| f.to_string()),
        config: report::Plan::config_digest(args.config.as_deref()).map_err(Failure::new)?,
        threshold: config.threshold.as_str().to_owned(),
        scenarios: ids.iter().map(|id| id.to_string()).collect(),
        scenario_files: report::Plan::files_digest(scenarios.iter().map(|s| s.path.as_path())),
    };
    // Held to the end of the run, reports included.
    let folder = if args.resume {
        report::FolderLock::take_over(&reports.paths.json, std::time::Duration::from_secs(60))
    } else {
        report::FolderLock::take(&reports.paths.json)
    };
    let _folder = folder.map_err(|e| Failure {
        hint: matches!(e, report::ReportError::FolderInUse { .. }).then(|| {
            "wait for that run to end, or give this one other report paths (`--report-json DIR/results.json`)".to_string()
        }),
        error: Box::new(e),
    })?;
    let (mut journal, finished) = if args.resume {
        report::Journal::resume(&reports.paths.json, &ids, &plan).map_err(|e| {
            let hint = match &e {
                report::ReportError::ResumeFinished { .. } => "run without --resume to start a new run",
                report::ReportError::ResumeMismatch { .. } => "`--resume` goes on only with the killed run's target, fault, config file, threshold and selection; give those, or run without --resume to start a new run",
                _ => "`--resume` finishes a run that was killed, with the same `--report-json` folder; without it a new run starts",
            };
            Failure {
                error: Box::new(e),
                hint: Some(hint.into()),
            }
        })?
    } else {
        // A killed run's console said nothing: say what a new run replaces.
        if let Some(done) = report::Journal::unfinished(&reports.paths.json).filter(|n| *n > 0) {
            medcom_harness::errln!(
                "warning: {} held a run that did not finish ({done} scenario(s) done); this new run replaces it and its evidence (`--resume`, with the same target, fault, config, threshold and selection, would have finished it)",
                reports
                    .paths
                    .json
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(std::path::Path::new("."))
                    .display()
            );
        }
        (
            report::Journal::start(&reports.paths.json, &ids, &plan).map_err(Failure::new)?,
            Vec::new(),
        )
    };
    if args.resume {
        medcom_harness::errln!(
            "resuming: {} of {} scenario(s) finished before, {} to run",
            finished.len(),
            ids.len(),
            ids.len() - finished.len()
        );
    }
    // Each scenario's part of the reports is made as it finishes, in the background (those the
    // journal kept first): at the end only what needs the whole run is left.
    let stream = std::sync::Arc::new(report::ReportStream::start(
        &reports.paths,
        &reports.options,
        secrets.clone(),
        config.threshold,
    ));
    for f in &finished {
        stream.add(f.clone());
    }
    journal.stream_to(stream.clone());
    let scenarios: Vec<_> = scenarios
        .into_iter()
        .filter(|s| !finished.iter().any(|f| f.id == s.id))
        .collect();
    let found = ig_sources(&config.ig);
    let mut record =
        certification::Certification::new(&config, args.config.as_deref(), found.packages.clone());
    record.outdated = certification::outdated(
        &found.packages,
        scenarios.iter().map(|s| s.standard.as_str()),
    );
    for o in &record.outdated {
        medcom_harness::errln!("warning: {}", o.sentence());
    }
    let in_progress = run::RunOutcome {
        certification: Some(record.clone()),
        scenarios: finished.clone(),
        selection: selection.clone(),
        ..run::RunOutcome::placeholder(
            run::RunStatus::InProgress,
            reports.target.clone(),
            config.threshold,
            None,
        )
    };
    reports.write(&in_progress)?;
    let schemas = config.schemas.clone().or_else(corpus_env);
    let resources = load_found(&found, schemas.as_deref())?;
    announce(&found);
    let console = report::console::Console {
        show_cpr: args.show_cpr,
        ..report::console::Console::new(config.threshold, colour())
    };
    let mut outcome = if scenarios.is_empty() {
        run::RunOutcome {
            status: run::RunStatus::Finished,
            allow_skipped: args.allow_skipped,
            ..in_progress
        }
    } else {
        use std::io::IsTerminal;
        let settings = Settings {
            jobs: args.jobs.map_or_else(default_jobs, usize::from),
            update_golden: match args.update_golden {
                None => UpdateGolden::Never,
                Some(GoldenMode::New) => UpdateGolden::New,
                Some(GoldenMode::Always) => UpdateGolden::Always,
            },
            interactive: std::io::stdin().is_terminal(),
            allow_skipped: args.allow_skipped,
            ig: resources.ig,
            schemas: resources.schemas,
            recorder: Some(std::sync::Arc::new(journal)),
            ..Settings::new(config.clone(), target)
        };
        let (stop, interrupt) = tokio::sync::watch::channel(false);
        let progress = report::progress::Progress::new(progress_line());
        let shown = progress.clone();
        let events = move |e: run::Event| {
            shown.suspend(|| console.event(&e));
            shown.event(&e);
        };
        let ran = runtime()?.block_on(async move {
            // Ctrl-C, or SIGTERM (how CI systems and `docker stop` cancel a job), stops the run
            // early; what was exchanged so far still goes into the reports.
            tokio::spawn(async move {
                if stop_signal().await {
                    medcom_harness::errln!(
                        "interrupted: finishing the reports with what was exchanged so far"
                    );
                    let _ = stop.send(true);
                }
            });
            run::run_until(scenarios, settings, events, interrupt).await
        });
        progress.finish();
        ran.map_err(|e| {
                let hint = match &e {
                    run::RunError::Transport(_) => Some("choose another `listen` address in the config".to_string()),
                    run::RunError::Unreachable { .. } => Some("is the vendor system running and listening there? Check the host, port and firewall".to_string()),
                    run::RunError::Inbox { .. } => Some("the harness writes into `DIR/in`: give the user running it write permission there".to_string()),
                    _ => None,
                };
                Failure {
                    error: Box::new(e),
                    hint,
                }
            })?
    };
    // The journal's outcomes first, this run's after them: a scenario is counted once, its
    // later outcome winning.
    let ran = std::mem::take(&mut outcome.scenarios);
    outcome.scenarios = run::merge_by_id(finished, ran);
    outcome.scenarios.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.selection = selection;
    outcome.certification = Some(record);
    console.summary(&report::redacted_text(&outcome, &secrets));
    if let Some(note) = &outcome.note {
        medcom_harness::errln!("error: the run stopped early: {note}");
    }
    reports.write_streamed(&outcome, stream.finish()).map_err(|f| Failure {
        // The run happened: its reports must not be replaced by a "not run" one.
        error: Box::new(ReportsNotWritten(f.error)),
        hint: Some(
            "check the disk and permissions: the finished scenarios are in the journal beside the JSON results, and `medcom-harness run --resume` with the same arguments writes the reports without running them again"
                .into(),
        ),
    })?;
    certify::record_operator_answers(
        &reports.paths.json,
        &reports.paths.html,
        &outcome,
        std::env::var("USER").ok(),
    );
    if outcome.status == run::RunStatus::Finished && !outcome.interrupted {
        report::Journal::mark_finished(&reports.paths.json).map_err(Failure::new)?;
    }
    medcom_harness::errln!("report: {}", reports.paths.html.display());
    if outcome.interrupted || outcome.status == run::RunStatus::Interrupted {
        medcom_harness::errln!(
            "hint: `medcom-harness run --resume` with the same arguments runs the scenarios this run did not finish"
        );
    }
    // A scenario the harness could not run (its own config contradicts it, a capture is
    // missing), one skipped, or a run stopped early is not the vendor's failure: with no failure
    // beside it, the run is INCOMPLETE and ends 2.
    Ok(
        if outcome.interrupted || outcome.status == run::RunStatus::Interrupted {
            exit::ERROR
        } else {
            match outcome.verdict() {
                run::RunVerdict::Passed => exit::PASSED,
                run::RunVerdict::Failed => exit::FAILED,
                _ => exit::ERROR,
            }
        },
    )
}

/// `report merge`: the shares' results joined into one run, its three reports written.
fn merge_command(args: &MergeArgs) -> Result<i32, Failure> {
    let paths = report::Paths {
        html: args.report_html.clone(),
        junit: args.report_junit.clone(),
        json: args.report_json.clone(),
    };
    paths.check().map_err(Failure::new)?;
    let merged = report::merge(&args.results, &paths.json).map_err(Failure::new)?;
    report::write_all(
        &merged,
        &paths,
        &report::Options {
            show_cpr: true,
            ..report::Options::default()
        },
    )
    .map_err(Failure::new)?;
    let s = merged.summary();
    say!(
        "merged {} result file(s): {} scenarios, {} passed, {} failed, {} errors, {} skipped: {}",
        args.results.len(),
        merged.scenarios.len(),
        s.passed,
        s.failed,
        s.errors,
        s.skipped,
        merged.verdict().as_str()
    );
    Ok(match merged.verdict() {
        run::RunVerdict::Passed => exit::PASSED,
        run::RunVerdict::Failed => exit::FAILED,
        _ => exit::ERROR,
    })
}

fn serve_command(args: ServeArgs) -> Result<i32, Failure> {
    let mut config = Config::load(args.config.as_deref()).map_err(Failure::new)?;
    config.registry.extend(args.registry.iter().cloned());
    config.rules.registry = registry_with_own(&config.registry, Some(&config), true)?;
    let mut vc = VendorConfig::new(config.vendor.clone());
    vc.rules = config.rules.clone();
    vc.fault = args.fault;
    vc.folder = args.folder.clone();
    vc.log = true;
    let mut igs = config.ig.clone();
    igs.extend(args.ig.iter().cloned());
    let found = resources(&igs, config.schemas.clone().or_else(corpus_env).as_deref())?;
    vc.ig = found.ig;
    vc.schemas = found.schemas;
    vc.ack_delivery = match args.ack_delivery {
        AckWhen::Response => medcom_harness::simulator::AckDelivery::Response,
        AckWhen::Later => medcom_harness::simulator::AckDelivery::Later,
    };
    let rt = runtime()?;
    rt.block_on(async move {
        let sim = Simulator::start(args.listen, vc)
            .await
            .map_err(|e| Failure {
                error: Box::new(e),
                hint: Some(format!(
                    "is another program listening on {}? `--listen 127.0.0.1:0` picks a free port",
                    args.listen
                )),
            })?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {}", sim.url());
            let _ = out.flush();
        }
        medcom_harness::errln!(
            "reference vendor{}: POST FHIR messages to {}; Ctrl-C stops",
            args.fault
                .as_ref()
                .map(|f| format!(" with fault `{f}`"))
                .unwrap_or_default(),
            sim.url()
        );
        let _ = tokio::signal::ctrl_c().await;
        drop(sim);
        Ok(exit::PASSED)
    })
}

fn stats_command(args: &StatsArgs) -> Result<i32, Failure> {
    use medcom_harness::stats;
    let registry = registry(&args.registry)?;
    let traffic = stats::traffic::read(&args.results).map_err(|e| Failure {
        error: Box::new(e),
        hint: Some(
            "give the results.json a run wrote (`--report-json`, default reports/results.json)"
                .into(),
        ),
    })?;
    let computed = stats::compute(&traffic, registry.as_deref());
    stats::write(&computed, &args.output).map_err(Failure::new)?;
    medcom_harness::errln!(
        "{} message(s) over {} run(s); wrote stats.html, stats.csv and stats.json to {}",
        computed.messages.total,
        computed.runs.len(),
        args.output.display()
    );
    Ok(exit::PASSED)
}

fn capabilities_command(args: &CapabilitiesArgs) -> Result<i32, Failure> {
    use medcom_harness::capabilities;
    if args.results.is_empty() && args.registry.is_empty() {
        return Err(Failure::msg(
            "nothing to list: give results.json files, `--registry`, or both",
            Some(
                "`medcom-harness capabilities --registry eer_fhir_org.json reports/results.json`"
                    .into(),
            ),
        ));
    }
    let registry = registry(&args.registry)?;
    let traffic = medcom_harness::stats::traffic::read(&args.results).map_err(|e| Failure {
        error: Box::new(e),
        hint: Some(
            "give the results.json a run wrote (`--report-json`, default reports/results.json)"
                .into(),
        ),
    })?;
    let filter = capabilities::Filter {
        municipality: args.municipality.clone(),
        region: args.region.clone(),
        sector: args.sector.clone(),
    };
    let built = capabilities::build(registry.as_deref(), &traffic, &filter);
    capabilities::write(&built, &args.output).map_err(Failure::new)?;
    medcom_harness::errln!(
        "{} unit(s), {} tested cell(s); wrote capabilities.html, .csv and .json to {}",
        built.units.len(),
        built.matrix.len(),
        args.output.display()
    );
    Ok(exit::PASSED)
}

fn diff_command(args: &DiffArgs) -> Result<i32, Failure> {
    let read = |p: &PathBuf| {
        std::fs::read(p)
            .map_err(|e| Failure::msg(format!("failed to read `{}`: {e}", p.display()), None))
    };
    let (expected, actual) = (read(&args.expected)?, read(&args.actual)?);
    let mut opts = medcom_harness::golden::CompareOptions::default();
    for c in &args.capture {
        let (name, value) = c.split_once('=').ok_or_else(|| {
            Failure::msg(
                format!("`--capture {c}` is not NAME=VALUE"),
                Some(
                    "e.g. `--capture first.letter-id=0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10`".into(),
                ),
            )
        })?;
        opts.captures.insert(name.to_string(), value.to_string());
    }
    let comparison =
        medcom_harness::golden::compare(&expected, &actual, &opts).map_err(Failure::new)?;
    if comparison.is_match() {
        say!("equal");
        return Ok(exit::PASSED);
    }
    let shown = |text: String| {
        if args.show_cpr {
            text
        } else {
            medcom_harness::report::cpr::mask(&text).into_owned()
        }
    };
    let count = comparison.differences.len();
    say!(
        "{count} difference{} from the golden:",
        if count == 1 { "" } else { "s" }
    );
    for d in &comparison.differences {
        say!("  {}", shown(d.to_string()));
    }
    say!("\n{}", shown(comparison.diff.clone()));
    Ok(exit::FAILED)
}

/// `text` with every run of white space that holds a line break folded into one space.
fn one_line(text: &str) -> String {
    if !text.contains(['\n', '\r']) {
        return text.to_string();
    }
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn validate_command(args: &ValidateArgs) -> Result<i32, Failure> {
    let config = match &args.config {
        Some(path) => Some(Config::load(Some(path)).map_err(Failure::new)?),
        None => None,
    };
    // `--fail-on F3` fails on F3 or worse; without it the config's `threshold` (the worst grade
    // that passes) decides, and by default anything worse than F4 fails.
    let threshold = config.as_ref().map_or(Grade::F4, |c| c.threshold);
    let fails = |g: Grade| match args.fail_on {
        Some(limit) => g >= limit,
        None => g.fails(threshold),
    };
    let registry_paths: Vec<PathBuf> = config
        .iter()
        .flat_map(|c| c.registry.iter().cloned())
        .chain(args.registry.iter().cloned())
        .collect();
    let settings = medcom_harness::validate::Settings {
        payload: args.payload,
        registry: registry_with_own(&registry_paths, config.as_ref(), false)?,
        ..config.as_ref().map(|c| c.rules.clone()).unwrap_or_default()
    };
    // `--ig` adds to the config's `ig`.
    let igs: Vec<PathBuf> = config
        .iter()
        .flat_map(|c| c.ig.iter().cloned())
        .chain(args.ig.iter().cloned())
        .collect();
    let ig = resources(&igs, None)?.ig;
    // `--schemas`, else the config's `schemas`, else `$MEDCOM_CORPUS`. Schemas asked for by name
    // must load: a wrong folder is the user's error, not a finding on every envelope.
    let named = args
        .schemas
        .clone()
        .or_else(|| config.as_ref().and_then(|c| c.schemas.clone()));
    if let Some(dir) = &named {
        let files = medcom_harness::envelope::SchemaFiles::in_corpus(dir);
        medcom_harness::envelope::Validator::shared(&files).map_err(|e| Failure {
            error: Box::new(e),
            hint: Some(format!(
                "`{}` must hold MedCom's XSDs in the layout of MedCom's repositories: vans-envelope/vans-envelope-1.0.4.xsd and dk-ehmi-sbdh/input/pagecontent/ehmiSBDH/ehmiStandardBusinessDocumentHeader.xsd",
                dir.display()
            )),
        })?;
    }
    let schemas = named
        .or_else(corpus_env)
        .map(|dir| medcom_harness::envelope::SchemaFiles::in_corpus(&dir));
    let mut unreadable = false;
    let mut failed = false;
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in &args.files {
        // A file over the size limit is judged by its size alone: reading and parsing hundreds of
        // megabytes would cost the machine far more than the finding is worth.
        if let Ok(meta) = std::fs::metadata(path)
            && meta.is_file()
            && meta.len() > settings.size_limit
        {
            let finding = medcom_harness::rule::ATTACHMENT_SIZE.breach(format!(
                "the message is {} bytes, over the limit of {} bytes (not read further)",
                meta.len(),
                settings.size_limit
            ));
            failed |= fails(finding.grade);
            files.push((path, finding.grade, vec![finding]));
            continue;
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                medcom_harness::errln!("error: failed to read `{}`: {e}", path.display());
                errors.push((path, e.to_string()));
                unreadable = true;
                continue;
            }
        };
        let findings: Vec<_> =
            medcom_harness::validate::bytes(bytes, &settings, schemas.as_ref(), ig.as_deref())
                .into_iter()
                .filter(|f| args.all || f.grade != Grade::Ok || f.message.starts_with("note:"))
                .collect();
        let verdict = medcom_harness::finding::worst(&findings);
        failed |= findings.iter().any(|f| fails(f.grade));
        files.push((path, verdict, findings));
    }
    match args.format {
        OutputFormat::Text => {
            for (path, _, findings) in &files {
                for f in findings {
                    // One finding per line: a message quoting a validator's own line breaks
                    // (libxml2) is folded onto one line.
                    say!(
                        "{}: {}: {} {}: {}",
                        path.display(),
                        f.location.as_deref().unwrap_or("Bundle"),
                        f.rule,
                        f.grade,
                        one_line(&f.message)
                    );
                }
            }
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            medcom_harness::errln!(
                "{} file(s) validated, {} with a failing finding",
                files.len(),
                files
                    .iter()
                    .filter(|(_, _, fs)| fs.iter().any(|f| fails(f.grade)))
                    .count()
            );
            if ig.is_none() {
                medcom_harness::errln!(
                    "note: no implementation guide loaded (`--ig`, or `ig` in `--config`): MedCom's rules were checked, the IG's profiles (cardinality, datatypes, bindings, invariants) were not"
                );
            }
        }
        OutputFormat::Json => {
            // A file that could not be read is listed too, with `error` and no verdict.
            let doc = serde_json::json!({
                "files": files.iter().map(|(path, verdict, findings)| serde_json::json!({
                    "path": path.display().to_string(),
                    "verdict": verdict,
                    "findings": findings,
                })).chain(errors.iter().map(|(path, e)| serde_json::json!({
                    "path": path.display().to_string(),
                    "error": e,
                }))).collect::<Vec<_>>()
            });
            say!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    }
    Ok(if unreadable {
        exit::ERROR
    } else if failed {
        exit::FAILED
    } else {
        exit::PASSED
    })
}

/// The name `init` writes the template as; `run --config harness.toml` reads it.
const INIT_FILE: &str = "harness.toml";

fn init_command(args: &InitArgs) -> Result<i32, Failure> {
    let path = PathBuf::from(INIT_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(&path).map_err(|e| {
        let exists = e.kind() == std::io::ErrorKind::AlreadyExists;
        Failure {
            hint: exists.then(|| "`--force` replaces it".to_string()),
            error: Box::new(std::io::Error::new(
                e.kind(),
                format!(
                    "cannot write `{}`: {}",
                    path.display(),
                    if exists {
                        "it exists".to_string()
                    } else {
                        e.to_string()
                    }
                ),
            )),
        }
    })?;
    use std::io::Write as _;
    file.write_all(medcom_harness::config::DEFAULT_TOML.as_bytes())
        .map_err(Failure::new)?;
    medcom_harness::errln!(
        "wrote {}: set `[vendor]` and `[system]` for your system, then `medcom-harness run --config {} --target URL`",
        path.display(),
        path.display()
    );
    Ok(exit::PASSED)
}

fn ig_command(command: IgCommand) -> Result<i32, Failure> {
    let home = home_env().ok_or_else(|| {
        Failure::msg(
            "HOME is not set: the FHIR package cache is `$HOME/.fhir/packages`",
            Some("set HOME, or give the package with `--ig PACKAGE.tgz`".into()),
        )
    })?;
    match command {
        IgCommand::Add { packages } => {
            for tgz in &packages {
                let installed = certification::install(tgz, &home).map_err(|e| Failure {
                    error: Box::new(e),
                    hint: Some(
                        "give an IG package as published, a .tgz with `package/package.json`"
                            .into(),
                    ),
                })?;
                say!("installed {} in {}", installed.reference(), installed.path);
                if !installed.name.starts_with(certification::MEDCOM_PREFIX) {
                    medcom_harness::errln!(
                        "note: `{}` is not a MedCom package (`{}*`): `run` loads only MedCom's packages from the cache; give it with --ig",
                        installed.name,
                        certification::MEDCOM_PREFIX
                    );
                }
            }
        }
        IgCommand::List => {
            let packages = certification::in_cache(&home);
            for p in &packages {
                say!("{:<45} {}", p.reference(), p.path);
            }
            if packages.is_empty() {
                medcom_harness::errln!(
                    "no MedCom packages in `{}` (install one with `medcom-harness ig add PACKAGE.tgz`)",
                    std::path::Path::new(&home).join(".fhir/packages").display()
                );
            }
        }
    }
    Ok(exit::PASSED)
}

/// `run`'s default `--jobs`: four scenarios per CPU. An exchange mostly waits (on the vendor's
/// answer, on the disk): 300 exchanges against a local `serve` on 2 shared cores took 11.4 s
/// with `--jobs 1`, 9.7 s with 2, 7.6 s with 4 and 6.8 s with 8, for about 1 s of CPU each time;
/// one scenario per CPU left both cores mostly idle.
fn default_jobs() -> usize {
    4 * std::thread::available_parallelism().map_or(1, usize::from)
}
