//! The certification block of the HTML report: who and what was tested (vendor, system,
//! version, test type, tester), the configuration and its SHA-256, the `[rules]` choices, the IG
//! packages loaded or a warning that profile validation did not run, and the coverage table of
//! MedCom's test protocols. A separate template (`certification.html.hbs`) under the header,
//! shown when the run carries a [`crate::certification::Certification`].

use serde::Serialize;

use crate::certification::protocol::{self, StepState};
use crate::run::RunOutcome;

/// The template of the block, registered as the partial `certification`.
pub(super) const TEMPLATE: &str = include_str!("certification.html.hbs");

#[derive(Serialize)]
pub(super) struct CertificationView {
    facts: Vec<Fact>,
    config_file: String,
    config_sha256: String,
    rules: Vec<Fact>,
    packages: Vec<PackageView>,
    warning: Option<&'static str>,
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
    title: String,
    state: &'static str,
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
    /// The view of `run`'s certification record; `None` when it has none.
    pub(super) fn of(run: &RunOutcome) -> Option<CertificationView> {
        let c = run.certification.as_ref()?;
        let s = &c.system;
        let coverage = coverage_of(run);
        Some(CertificationView {
            facts: vec![
                Fact {
                    name: "Vendor".to_owned(),
                    value: s.vendor.clone(),
                },
                Fact {
                    name: "System".to_owned(),
                    value: s.name.clone(),
                },
                Fact {
                    name: "Version".to_owned(),
                    value: s.version.clone(),
                },
                Fact {
                    name: "Test type".to_owned(),
                    value: s.test_type.map(|t| t.label().to_owned()),
                },
                Fact {
                    name: "Tester".to_owned(),
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
                    source: p.source.label(),
                    path: p.path.clone(),
                })
                .collect(),
            warning: c.warning(),
            protocols: coverage
                .protocols
                .into_iter()
                .map(|p| {
                    let usual = usual_manual(&p.steps);
                    ProtocolView {
                        usual_manual: usual.clone(),
                        title: p.title,
                        source: p.source,
                        total: p.steps.len(),
                        automatic: p.automatic,
                        manual: p.manual,
                        not_run: p.not_run,
                        steps: p
                            .steps
                            .into_iter()
                            .map(|step| {
                                let (state, state_class) = match (step.state, step.passed) {
                                    (StepState::Automatic, Some(true)) => {
                                        ("automatic: passed", "passed")
                                    }
                                    (StepState::Automatic, _) => ("automatic: failed", "failed"),
                                    (StepState::NotRun, _) => ("not run", "skipped"),
                                    (StepState::NotCovered, _) => ("not run: no scenario", "none"),
                                };
                                StepView {
                                    id: step.id,
                                    title: step.title,
                                    state,
                                    state_class,
                                    verdict: step.verdict.map(super::html::GradeView::of),
                                    scenarios: step.scenarios.join(", "),
                                    manual: match (&step.manual, &usual) {
                                        (Some(m), Some(u)) if m == u => Some("yes".to_owned()),
                                        (m, _) => m.clone(),
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
                .map(|u| format!("{} (scenario {})", u.step, u.scenario))
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
