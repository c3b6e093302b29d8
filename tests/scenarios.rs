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
    let trials = scenarios
        .into_iter()
        .map(|scenario| {
            let name = scenario.id.clone();
            let kind = scenario.standard.clone();
            Trial::test(name, move || run_one(scenario)).with_kind(kind)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run_one(scenario: medcom_harness::scenario::Scenario) -> Result<(), Failed> {
    let settings = Settings {
        config: Config::load(None).map_err(|e| e.to_string())?,
        target: Target::Embedded(None),
        jobs: 1,
        update_golden: UpdateGolden::Never,
        interactive: false,
        allow_skipped: false,
        ig: None,
        // The library reads no environment variable: the envelope XSDs come from the corpus
        // folder as the command line finds it.
        schemas: std::env::var_os("MEDCOM_CORPUS")
            .map(|dir| medcom_harness::envelope::SchemaFiles::in_corpus(Path::new(&dir))),
        recorder: None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let outcome = rt
        .block_on(run::run(vec![scenario], settings, |_| {}))
        .map_err(|e| e.to_string())?;
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
