//! MedCom's grading scale, the bottom of the verdict vocabulary: the rule catalogue (module
//! `rule`) gives every rule a default grade on it and every finding (module `finding`) is graded
//! on it. This module depends on nothing else of the crate.

use serde::{Deserialize, Serialize};
use std::fmt;

/// MedCom's grading scale for test-protocol findings (test protocols, "Vurdering"):
/// `F1` kritisk, `F2` alvorlig, `F3` betydelig, `F4` mindre betydelig, `OK`.
///
/// Ordered from best to worst, so `max()` over a step's findings is its verdict. MedCom approval
/// needs nothing worse than `F4`, which is the default threshold of a suite. On the command line
/// (`--fail-on`, `--fail-on-worse-than`) it is a closed set spelled as MedCom writes it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
pub enum Grade {
    /// The rule holds.
    #[serde(rename = "OK")]
    #[value(name = "OK")]
    Ok,
    /// Minor (mindre betydelig): does not block approval.
    #[value(name = "F4")]
    F4,
    /// Significant (betydelig).
    #[value(name = "F3")]
    F3,
    /// Serious (alvorlig).
    #[value(name = "F2")]
    F2,
    /// Critical (kritisk): the exchange cannot work.
    #[value(name = "F1")]
    F1,
}

impl Grade {
    /// The grade as MedCom writes it: `OK`, `F1` … `F4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Ok => "OK",
            Grade::F4 => "F4",
            Grade::F3 => "F3",
            Grade::F2 => "F2",
            Grade::F1 => "F1",
        }
    }

    /// Parses `OK`, `F1` … `F4` (case-insensitive).
    pub fn parse(text: &str) -> Option<Grade> {
        match text.to_ascii_uppercase().as_str() {
            "OK" => Some(Grade::Ok),
            "F4" => Some(Grade::F4),
            "F3" => Some(Grade::F3),
            "F2" => Some(Grade::F2),
            "F1" => Some(Grade::F1),
            _ => None,
        }
    }

    /// Whether this grade fails a suite whose threshold is `threshold` (the worst grade that still
    /// passes; MedCom approval passes `F4`).
    pub fn fails(self, threshold: Grade) -> bool {
        self > threshold
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn grades_order_from_ok_to_critical() {
        assert!(Grade::Ok < Grade::F4 && Grade::F4 < Grade::F3);
        assert!(Grade::F3 < Grade::F2 && Grade::F2 < Grade::F1);
    }

    #[test]
    fn approval_threshold_f4_passes_f4_and_fails_f3() {
        assert!(!Grade::F4.fails(Grade::F4));
        assert!(Grade::F3.fails(Grade::F4));
        assert!(!Grade::Ok.fails(Grade::F4));
    }

    #[test]
    fn command_line_spells_grades_as_medcom_test_protocols_do() {
        // MedCom's test protocols write the scale `OK`, `F1` … `F4`; a user may type `f3`.
        assert_eq!(Grade::from_str("F3", true), Ok(Grade::F3));
        assert_eq!(Grade::from_str("f3", true), Ok(Grade::F3));
        assert_eq!(Grade::from_str("ok", true), Ok(Grade::Ok));
        assert!(Grade::from_str("F5", true).is_err());
    }
}
