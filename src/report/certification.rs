//! The certification block of the HTML report: who and what was tested (vendor, system,
//! version, test type, tester), the configuration and its SHA-256, the `[rules]` choices, the IG
//! packages loaded or a warning that profile validation did not run, and the coverage table of
//! MedCom's test protocols. A separate template (`certification.html.hbs`) under the header,
//! shown when the run carries a [`crate::certification::Certification`].

use serde::Serialize;

use crate::certification::PackageSource;
use crate::certification::protocol::{self, StepState};

/// The warning of [`crate::certification::Certification::warning`] in Danish.
const NO_PROFILES_DA: &str = "profilvalidering blev ikke udført: ingen af MedComs implementeringsguides blev indlæst, så meddelelserne blev kun bedømt efter MedComs regler, ikke efter IG'ens profiler. Installér MedComs pakker (`medcom-harness ig add PAKKE.tgz`), sæt MEDCOM_CORPUS, eller angiv --ig";
use crate::run::RunOutcome;

/// The template of the block, registered as the partial `certification`.
pub(super) const TEMPLATE: &str = include_str!("certification.html.hbs");

/// The coverage table's template, registered as the partial `coverage` (after the summary).
pub(super) const COVERAGE: &str = include_str!("coverage.html.hbs");

#[derive(Serialize)]
pub(super) struct CertificationView {
    facts: Vec<Fact>,
    config_file: String,
    config_sha256: String,
    rules: Vec<Fact>,
    packages: Vec<PackageView>,
    warning: Option<&'static str>,
    /// One warning per package older than the standard the scenarios test.
    outdated: Vec<String>,
    protocols: Vec<ProtocolView>,
    unknown: Vec<String>,
}

#[derive(Serialize)]
struct Fact {
    name: String,
    value: Option<String>,
}

#[derive(Serialize)]
struct PackageView {
    reference: String,
    source: &'static str,
    path: String,
}

#[derive(Serialize)]
struct ProtocolView {
    title: String,
    /// The manual evidence most steps need, said once above the table.
    usual_manual: Option<String>,
    source: String,
    total: usize,
    automatic: usize,
    manual: usize,
    not_run: usize,
    steps: Vec<StepView>,
}

#[derive(Serialize)]
struct StepView {
    id: String,
    /// The step's number in MedCom's protocol, when known.
    number: Option<String>,
    title: String,
    /// `passed`, `failed`, `skipped` (not run), `none` (no scenario).
    state_class: &'static str,
    verdict: Option<super::html::GradeView>,
    scenarios: String,
    manual: Option<String>,
}

/// The protocol coverage of `run`'s scenarios.
pub(super) fn coverage_of(run: &RunOutcome) -> protocol::Coverage {
    use crate::run::ScenarioStatus;
    let refs: Vec<protocol::ScenarioRef<'_>> = run
        .scenarios
        .iter()
        .map(|s| protocol::ScenarioRef {
            id: &s.id,
            standard: &s.standard,
            protocol_step: s.protocol_step.as_deref(),
            ran: matches!(s.status, ScenarioStatus::Passed | ScenarioStatus::Failed),
            passed: s.status == ScenarioStatus::Passed,
            verdict: s.verdict,
        })
        .collect();
    protocol::coverage(&protocol::bundled(), &refs)
}

impl CertificationView {
    /// The view of `run`'s certification record in `lang`; `None` when it has none.
    pub(super) fn of(run: &RunOutcome, lang: super::Lang) -> Option<CertificationView> {
        let c = run.certification.as_ref()?;
        let l = lang.labels();
        let s = &c.system;
        let coverage = coverage_of(run);
        Some(CertificationView {
            facts: vec![
                Fact {
                    name: l.vendor.to_owned(),
                    value: s.vendor.clone(),
                },
                Fact {
                    name: l.system.to_owned(),
                    value: s.name.clone(),
                },
                Fact {
                    name: l.version.to_owned(),
                    value: s.version.clone(),
                },
                Fact {
                    name: l.test_type.to_owned(),
                    value: s.test_type.map(|t| {
                        match t {
                            crate::certification::TestType::SelfTest => l.test_types.self_test,
                            crate::certification::TestType::FinalTest => l.test_types.final_test,
                        }
                        .to_owned()
                    }),
                },
                Fact {
                    name: l.tester.to_owned(),
                    value: s.tester.clone(),
                },
            ],
            config_file: c.config_file.clone(),
            config_sha256: c.config_sha256.clone(),
            rules: c
                .rules
                .iter()
                .map(|(k, v)| Fact {
                    name: k.clone(),
                    value: Some(v.clone()),
                })
                .collect(),
            packages: c
                .ig_packages
                .iter()
                .map(|p| PackageView {
                    reference: p.reference(),
                    source: match p.source {
                        PackageSource::Given => l.package_sources.given,
                        PackageSource::PackageCache => l.package_sources.cache,
                        PackageSource::Corpus => l.package_sources.corpus,
                    },
                    path: p.path.clone(),
                })
                .collect(),
            warning: c.warning().map(|en| lang.pick(en, NO_PROFILES_DA)),
            outdated: c
                .outdated
                .iter()
                .map(|o| lang.pick(o.sentence(), o.sentence_da()))
                .collect(),
            protocols: coverage
                .protocols
                .into_iter()
                .map(|p| {
                    // The protocol's manual evidence in the page's language.
                    let words = |m: String| match (lang, &p.manual_da) {
                        (super::Lang::Da, Some((en, da))) if *en == m => da.clone(),
                        _ => m,
                    };
                    let usual = usual_manual(&p.steps);
                    ProtocolView {
                        usual_manual: usual.clone().map(words),
                        title: match (lang, p.title_da) {
                            (super::Lang::Da, Some(da)) => da,
                            _ => p.title,
                        },
                        source: p.source,
                        total: p.steps.len(),
                        automatic: p.automatic,
                        manual: p.manual,
                        not_run: p.not_run,
                        steps: p
                            .steps
                            .into_iter()
                            .map(|step| {
                                // The state's words are the page's (`coverage_states`).
                                let state_class = match (step.state, step.passed) {
                                    (StepState::Automatic, Some(true)) => "passed",
                                    (StepState::Automatic, _) => "failed",
                                    (StepState::NotRun, _) => "skipped",
                                    (StepState::NotCovered, _) => "none",
                                };
                                StepView {
                                    id: step.id,
                                    number: step.number,
                                    title: step.title,
                                    state_class,
                                    verdict: step.verdict.map(super::html::GradeView::of),
                                    scenarios: step.scenarios.join(", "),
                                    manual: match (&step.manual, &usual) {
                                        (Some(m), Some(u)) if m == u => Some(l.yes.to_owned()),
                                        (m, _) => m.clone().map(words),
                                    },
                                }
                            })
                            .collect(),
                    }
                })
                .collect(),
            unknown: coverage
                .unknown
                .into_iter()
                .map(|u| format!("{} ({} {})", u.step, l.step_scenario, u.scenario))
                .collect(),
        })
    }
}

/// The manual evidence most of `steps` need, when any does.
fn usual_manual(steps: &[protocol::StepCoverage]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in steps.iter().filter_map(|s| s.manual.as_deref()) {
        *counts.entry(m).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(m, _)| m.to_owned())
}
