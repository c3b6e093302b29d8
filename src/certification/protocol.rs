//! MedCom's test protocols as the map of a run: which protocol steps the scenarios covered and
//! with what verdict, which steps need evidence a person adds, which did not run.
//!
//! The step lists are data, `data/protocols.toml` (embedded), with their sources. A scenario
//! names its steps in `protocol-step`: step ids of its own standard (the first word of its
//! `standard`: `CareCommunication 5.0` -> `CareCommunication`), or `<Standard> <step>` for a step
//! of another standard (`Acknowledgement send-ok`), separated by commas.

use serde::{Deserialize, Serialize};

use crate::finding::Grade;

/// The embedded step lists.
pub const PROTOCOLS_TOML: &str = include_str!("../../data/protocols.toml");

/// One MedCom test protocol: its steps in protocol order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Stable id: `carecommunication-receive`.
    pub id: String,
    /// For people: `CareCommunication, receive`.
    pub title: String,
    /// The title in Danish, for `--lang da`: `Korrespondancemeddelelse, modtagelse`.
    #[serde(default)]
    pub title_da: Option<String>,
    /// The standard whose scenarios name these steps (`CareCommunication`).
    pub standard: String,
    /// Where the step list comes from.
    pub source: String,
    /// The evidence a person adds for each step (a step may override); empty: none.
    #[serde(default)]
    pub manual: String,
    /// `manual` in Danish, for `--lang da`.
    #[serde(default)]
    pub manual_da: Option<String>,
    /// The steps.
    #[serde(rename = "step")]
    pub steps: Vec<ProtocolStep>,
}

/// One step of a protocol.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolStep {
    /// MedCom's step id: `R-A`, `S-Tek-C`, `send-ok`.
    pub id: String,
    /// The number of the step in MedCom's test protocol (`3.2.7.1`), which names its evidence
    /// files (`CareCommunication_3.2.7.1_A_R.xml`); absent where MedCom publishes no protocol.
    #[serde(default)]
    pub number: Option<String>,
    /// What the step is.
    pub title: String,
    /// Manual evidence for this step, overriding the protocol's (`""`: none).
    #[serde(default)]
    pub manual: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtocolFile {
    protocol: Vec<Protocol>,
}

/// The bundled protocols, in file order.
///
/// # Panics
/// Never for the embedded file: a test parses it.
pub fn bundled() -> Vec<Protocol> {
    toml::from_str::<ProtocolFile>(PROTOCOLS_TOML)
        .map(|f| f.protocol)
        .unwrap_or_default()
}

/// A step reference as a scenario writes it: `(standard, step id)`.
pub fn step_refs(standard: &str, protocol_step: &str) -> Vec<(String, String)> {
    let own = standard
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or_default();
    protocol_step
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.rsplit_once(char::is_whitespace) {
            Some((std, step)) => (std.trim().to_owned(), step.to_owned()),
            None => (own.to_owned(), item.to_owned()),
        })
        .collect()
}

/// Where a protocol step stands after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepState {
    /// A scenario naming it ran; `verdict` is the worst of those scenarios.
    Automatic,
    /// A scenario names it, but none of them ran (skipped, could not run).
    NotRun,
    /// No scenario of this run names it: the tester covers it by hand or not at all.
    NotCovered,
}

/// One step in the coverage table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepCoverage {
    /// MedCom's step id.
    pub id: String,
    /// Its number in MedCom's test protocol, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// What the step is.
    pub title: String,
    /// Where it stands.
    pub state: StepState,
    /// The worst verdict of the scenarios that ran it (`Automatic` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Grade>,
    /// Whether those scenarios passed (`Automatic` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// The scenarios that name it.
    pub scenarios: Vec<String>,
    /// The evidence a person must add to the protocol for it; absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
}

/// One protocol in the coverage table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProtocolCoverage {
    /// Protocol id.
    pub id: String,
    /// For people.
    pub title: String,
    /// The title in Danish, when the data file gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_da: Option<String>,
    /// Where its step list comes from.
    pub source: String,
    /// The protocol's usual manual evidence and its Danish words, for the report in Danish.
    #[serde(skip)]
    pub manual_da: Option<(String, String)>,
    /// Its steps, in protocol order.
    pub steps: Vec<StepCoverage>,
    /// Steps covered automatically.
    pub automatic: usize,
    /// Steps that need evidence a person adds (covered automatically or not).
    pub manual: usize,
    /// Steps not run: named by a scenario that did not run, or by none.
    pub not_run: usize,
}

/// A step a scenario names that no protocol lists.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnknownStep {
    /// The scenario.
    pub scenario: String,
    /// The step as written.
    pub step: String,
}

/// What the coverage table needs of one scenario of a run (the reporters build it from the
/// run's outcomes; this module knows nothing of the runner).
#[derive(Debug, Clone, Copy)]
pub struct ScenarioRef<'a> {
    /// The scenario's id.
    pub id: &'a str,
    /// Its `standard`.
    pub standard: &'a str,
    /// Its `protocol-step`, when stated.
    pub protocol_step: Option<&'a str>,
    /// Whether it ran to a verdict (passed or failed; not skipped, not an error).
    pub ran: bool,
    /// Whether it passed.
    pub passed: bool,
    /// Its verdict: the worst grade of its findings.
    pub verdict: Grade,
}

/// The coverage of a run, per protocol: only protocols whose standard a scenario of the run
/// names a step of.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Coverage {
    /// The protocols, in data-file order.
    pub protocols: Vec<ProtocolCoverage>,
    /// Steps the scenarios name that no protocol lists (a typo, or a newer protocol).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<UnknownStep>,
}

/// The coverage table of `scenarios` against `protocols`.
pub fn coverage(protocols: &[Protocol], scenarios: &[ScenarioRef<'_>]) -> Coverage {
    let refs: Vec<(&ScenarioRef<'_>, String, String)> = scenarios
        .iter()
        .flat_map(|s| {
            step_refs(s.standard, s.protocol_step.unwrap_or_default())
                .into_iter()
                .map(move |(std, step)| (s, std, step))
        })
        .collect();
    let unknown = refs
        .iter()
        .filter(|(_, std, step)| {
            !protocols.iter().any(|p| {
                p.standard.eq_ignore_ascii_case(std) && p.steps.iter().any(|s| &s.id == step)
            })
        })
        .map(|(s, std, step)| UnknownStep {
            scenario: s.id.to_owned(),
            step: format!("{std} {step}"),
        })
        .collect();
    let protocols = protocols
        .iter()
        .filter(|p| {
            refs.iter()
                .any(|(_, std, _)| p.standard.eq_ignore_ascii_case(std))
        })
        .map(|p| {
            let steps: Vec<StepCoverage> = p
                .steps
                .iter()
                .map(|step| {
                    let named: Vec<&ScenarioRef<'_>> = refs
                        .iter()
                        .filter(|(_, std, id)| {
                            p.standard.eq_ignore_ascii_case(std) && *id == step.id
                        })
                        .map(|(s, _, _)| *s)
                        .collect();
                    let ran: Vec<&&ScenarioRef<'_>> = named.iter().filter(|s| s.ran).collect();
                    let state = if !ran.is_empty() {
                        StepState::Automatic
                    } else if !named.is_empty() {
                        StepState::NotRun
                    } else {
                        StepState::NotCovered
                    };
                    let manual = step.manual.clone().unwrap_or_else(|| p.manual.clone());
                    let mut ids: Vec<String> = named.iter().map(|s| s.id.to_owned()).collect();
                    ids.dedup();
                    StepCoverage {
                        id: step.id.clone(),
                        number: step.number.clone(),
                        title: step.title.clone(),
                        state,
                        verdict: ran.iter().map(|s| s.verdict).max(),
                        passed: (!ran.is_empty()).then(|| ran.iter().all(|s| s.passed)),
                        scenarios: ids,
                        manual: (!manual.is_empty()).then_some(manual),
                    }
                })
                .collect();
            ProtocolCoverage {
                id: p.id.clone(),
                title: p.title.clone(),
                title_da: p.title_da.clone(),
                source: p.source.clone(),
                manual_da: p.manual_da.clone().map(|da| (p.manual.clone(), da)),
                automatic: steps
                    .iter()
                    .filter(|s| s.state == StepState::Automatic)
                    .count(),
                manual: steps.iter().filter(|s| s.manual.is_some()).count(),
                not_run: steps
                    .iter()
                    .filter(|s| s.state != StepState::Automatic)
                    .count(),
                steps,
            }
        })
        .collect();
    Coverage { protocols, unknown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_step_lists_parse_and_have_unique_ids() {
        let protocols: Vec<Protocol> = toml::from_str::<ProtocolFile>(PROTOCOLS_TOML)
            .expect("data/protocols.toml parses")
            .protocol;
        assert!(protocols.len() >= 4);
        for p in &protocols {
            let mut ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
            ids.sort_unstable();
            let n = ids.len();
            ids.dedup();
            assert_eq!(ids.len(), n, "duplicate step id in {}", p.id);
        }
        // The CareCommunication protocols' numbers as MedCom's own cross-references in the
        // protocols name them: receive "Load test data from 3.2.7.1 again" (the R-Tek-J
        // doublet), send "test step 3.3.4.5" in S2 (the reply to S-A, 3.3.4.1 onwards).
        let number = |protocol: &str, step: &str| {
            protocols
                .iter()
                .find(|p| p.id == protocol)
                .and_then(|p| p.steps.iter().find(|s| s.id == step))
                .and_then(|s| s.number.clone())
        };
        assert_eq!(
            number("carecommunication-receive", "R-Tek-J").as_deref(),
            Some("3.2.7.1")
        );
        assert_eq!(
            number("carecommunication-send", "S-A").as_deref(),
            Some("3.3.4.1")
        );
        // MedCom's Acknowledgement TestScripts 2.0.0 are 13 (DOMAIN facts: 13 scripts).
        let ack = protocols
            .iter()
            .find(|p| p.id == "acknowledgement")
            .expect("ack");
        assert_eq!(ack.steps.len(), 13);
    }

    #[test]
    fn a_step_of_another_standard_is_written_after_its_name() {
        assert_eq!(
            step_refs("CareCommunication 5.0", "R-A, Acknowledgement send-ok"),
            [
                ("CareCommunication".to_owned(), "R-A".to_owned()),
                ("Acknowledgement".to_owned(), "send-ok".to_owned())
            ]
        );
        assert!(step_refs("CareCommunication 5.0", "").is_empty());
    }
}
