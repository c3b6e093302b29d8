//! When a rejection is right: a scenario expected `ok`, the vendor answered otherwise, and the
//! message the harness sent breaks MedCom's rules as the run's `[rules]` set them (a narrowed
//! MIME list, a small size limit). Then the scenario and the config disagree and the vendor is
//! not to blame; the runner reports that as an error of the scenario, not as a finding.

use crate::finding::{Finding, Grade};
use crate::message::{AckCode, Message};

/// The sent message's own breaches (`rule: message`, F2 or worse, from `own_findings`: the sent
/// message validated under the run's `[rules]`, asked for only when needed) when they acquit
/// the vendor of a non-`ok` acknowledgement `ack`, where the scenario expected the FHIR code
/// `expected`; `None` when the vendor is to be judged as usual.
pub fn acquittal(
    ack: &Message,
    expected: AckCode,
    own_findings: impl FnOnce() -> Vec<Finding>,
) -> Option<Vec<String>> {
    let rejected = ack
        .identity
        .response
        .as_ref()
        .is_some_and(|r| r.code.is_some() && r.ack_code() != Some(AckCode::Ok));
    if expected != AckCode::Ok || !rejected {
        return None;
    }
    let own: Vec<String> = own_findings()
        .into_iter()
        .filter(|f| f.grade >= Grade::F2)
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    (!own.is_empty()).then_some(own)
}
