//! When a rejection is right: a scenario expected `ok`, the vendor answered otherwise, and the
//! message the harness sent breaks MedCom's rules as the run's `[rules]` set them (a narrowed
//! MIME list, a small size limit). Then the scenario and the config disagree and the vendor is
//! not to blame; the runner reports that as an error of the scenario, not as a finding.

use crate::finding::Grade;
use crate::message::{AckCode, Message};

/// The sent message's own breaches (`rule: message`, F2 or worse) when they acquit the vendor of
/// a non-`ok` acknowledgement `ack` to `sent`, where the scenario expected the FHIR code
/// `expected`; `None` when the vendor is to be judged as usual.
pub fn acquittal(
    sent: &Message,
    ack: &Message,
    expected: AckCode,
    rules: &crate::validate::Settings,
    ig: Option<&crate::validate::profile::Ig>,
) -> Option<Vec<String>> {
    let rejected = ack
        .identity
        .response
        .as_ref()
        .is_some_and(|r| r.code.is_some() && r.ack_code() != Some(AckCode::Ok));
    if expected != AckCode::Ok || !rejected {
        return None;
    }
    let own: Vec<String> = crate::validate::with_profiles(sent, rules, ig)
        .into_iter()
        .filter(|f| f.grade >= Grade::F2)
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect();
    (!own.is_empty()).then_some(own)
}
