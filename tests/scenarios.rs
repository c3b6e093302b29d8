//! Every bundled scenario as a test: each runs against the embedded reference vendor and must
//! pass. `cargo test --test scenarios -- --list` lists them; a name filter runs one.

use libtest_mimic::{Arguments, Failed, Trial};
use medcom_harness::config::Config;
use medcom_harness::run::{self, ScenarioStatus, Settings, Target, UpdateGolden};
use std::path::Path;

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let scenarios = match medcom_harness::scenario::load(&[root]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("failed to load the bundled suite: {e}");
            std::process::exit(2);
        }
    };
    let new_json = scenarios.iter().find(|s| s.id == "cc-new-json").cloned();
    let mut trials: Vec<Trial> = scenarios
        .into_iter()
        .map(|scenario| {
            let name = scenario.id.clone();
            let kind = scenario.standard.clone();
            Trial::test(name, move || run_one(scenario)).with_kind(kind)
        })
        .collect();
    if let Some(scenario) = new_json {
        let again = scenario.clone();
        trials.push(Trial::test(
            "evidence_the_disk_refuses_makes_the_scenario_an_error_and_stays_in_memory",
            move || unwritable_evidence(scenario),
        ));
        trials.push(Trial::test(
            "a_run_stopped_after_one_scenario_lists_the_others_as_not_started_not_as_errors",
            move || stopped_after_one(again),
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}

/// A recorder on a full disk: every evidence write fails (`ENOSPC`), the deferred ones too.
#[derive(Debug)]
struct FullDisk;

fn no_space() -> std::io::Error {
    std::io::Error::from_raw_os_error(28)
}

impl run::Recorder for FullDisk {
    fn scenario_started(&self, _: &str) -> std::io::Result<()> {
        Ok(())
    }
    fn evidence(&self, _: &str, _: &mut run::Evidence) -> std::io::Result<()> {
        Err(no_space())
    }
    fn evidence_deferred(
        &self,
        _: &str,
        evidence: &mut run::Evidence,
        bytes: Vec<u8>,
    ) -> std::io::Result<Option<run::DeferredWrite>> {
        evidence.file = Some("evidence/never-written.json".into());
        Ok(Some(Box::new(move || Err((no_space(), bytes)))))
    }
    fn scenario_finished(&self, _: &run::ScenarioOutcome) -> std::io::Result<()> {
        Ok(())
    }
}

/// The harness's own failure to keep evidence is never a vendor's pass: the scenario is an
/// error naming the item, and each item keeps its bytes in memory with no file claimed.
fn unwritable_evidence(scenario: medcom_harness::scenario::Scenario) -> Result<(), Failed> {
    let mut settings = settings()?;
    settings.recorder = Some(std::sync::Arc::new(FullDisk));
    let outcome = run_alone(scenario, settings)?;
    let s = &outcome.scenarios[0];
    let reason = s.reason.clone().unwrap_or_default();
    if s.status != ScenarioStatus::Error || !reason.contains("failed to write evidence `e1`") {
        return Err(format!("{:?}: {reason}", s.status).into());
    }
    if s.evidence.is_empty() {
        return Err("no evidence kept".into());
    }
    for e in &s.evidence {
        if e.file.is_some() || e.bytes.len() != e.size {
            return Err(format!(
                "`{}` claims {:?}, holds {} of {} bytes",
                e.id,
                e.file,
                e.bytes.len(),
                e.size
            )
            .into());
        }
    }
    Ok(())
}

/// A stop (Ctrl-C) after the first of three scenarios: the first keeps its verdict, the two that
/// never began are skipped ("not started"), not errors of the harness or the vendor, and the run
/// says it was interrupted.
fn stopped_after_one(scenario: medcom_harness::scenario::Scenario) -> Result<(), Failed> {
    let three: Vec<_> = (1..=3)
        .map(|i| {
            let mut s = scenario.clone();
            s.id = format!("{}-{i}", s.id);
            s
        })
        .collect();
    let (stop, interrupt) = tokio::sync::watch::channel(false);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let outcome = rt
        .block_on(run::run_until(
            three,
            settings()?,
            move |e| {
                if let run::Event::ScenarioFinished(_) = e {
                    let _ = stop.send(true);
                }
            },
            interrupt,
        ))
        .map_err(|e| e.to_string())?;
    if outcome.status != run::RunStatus::Interrupted {
        return Err(format!("run status {:?}", outcome.status).into());
    }
    let statuses: Vec<_> = outcome.scenarios.iter().map(|s| s.status).collect();
    if statuses
        != [
            ScenarioStatus::Passed,
            ScenarioStatus::Skipped,
            ScenarioStatus::Skipped,
        ]
    {
        return Err(format!("{statuses:?}").into());
    }
    for s in &outcome.scenarios[1..] {
        let reason = s.reason.clone().unwrap_or_default();
        if !reason.starts_with("not started") || !s.evidence.is_empty() {
            return Err(format!("`{}`: {reason}", s.id).into());
        }
    }
    Ok(())
}

/// `scenario` run by itself with `settings`, on a runtime of two worker threads.
fn run_alone(
    scenario: medcom_harness::scenario::Scenario,
    settings: Settings,
) -> Result<run::RunOutcome, Failed> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    Ok(rt
        .block_on(run::run(vec![scenario], settings, |_| {}))
        .map_err(|e| e.to_string())?)
}

fn settings() -> Result<Settings, Failed> {
    Ok(Settings {
        config: Config::load(None).map_err(|e| e.to_string())?,
        target: Target::Embedded(None),
        jobs: 1,
        update_golden: UpdateGolden::Never,
        interactive: false,
        allow_skipped: false,
        ig: None,
        // The library reads no environment variable: the envelope XSDs come from the corpus
        // folder (`$MEDCOM_CORPUS`, default `../shared/medcom`, as the other tests read it).
        schemas: Some(medcom_harness::envelope::SchemaFiles::in_corpus(&corpus())),
        recorder: None,
    })
}

/// The MedCom corpus: `$MEDCOM_CORPUS`, default `../shared/medcom` (as `tests/harness` reads
/// it). Panics when it is missing, so that the scenarios never run without the envelope XSDs.
fn corpus() -> std::path::PathBuf {
    let dir = std::env::var_os("MEDCOM_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/medcom"));
    assert!(
        dir.join("PROVENANCE.tsv").is_file(),
        "the MedCom corpus is missing at `{}` (set MEDCOM_CORPUS)",
        dir.display()
    );
    dir
}

fn run_one(scenario: medcom_harness::scenario::Scenario) -> Result<(), Failed> {
    let settings = settings()?;
    let outcome = run_alone(scenario, settings)?;
    let s = &outcome.scenarios[0];
    if s.status == ScenarioStatus::Passed {
        return Ok(());
    }
    let mut text = format!("{:?}: {}\n", s.status, s.reason.clone().unwrap_or_default());
    for (step, f) in s.failures(outcome.threshold) {
        text.push_str(&format!(
            "  step {} {}: {} {}: {}\n",
            step.index, step.kind, f.rule, f.grade, f.message
        ));
    }
    for step in &s.steps {
        for d in &step.diffs {
            text.push_str(&format!("  golden {}:\n{}\n", d.golden, d.diff));
        }
    }
    Err(text.into())
}
