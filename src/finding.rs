//! Findings and grades: the verdict data every check produces.
//!
//! A [`Finding`] is a judgement about one exchange: which rule it concerns, how bad a breach is on
//! MedCom's approval scale ([`Grade`]), a sentence a person can act on, and references to the
//! evidence (the bytes sent and received) that show it. A finding is data, never an error: the
//! harness could do its job and the vendor's system did something wrong (or right, with
//! [`Grade::Ok`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// MedCom's grading scale for test-protocol findings (test protocols, "Vurdering"):
/// `F1` kritisk, `F2` alvorlig, `F3` betydelig, `F4` mindre betydelig, `OK`.
///
/// Ordered from best to worst, so `max()` over a step's findings is its verdict. MedCom approval
/// needs nothing worse than `F4`, which is the default threshold of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    /// The rule holds.
    #[serde(rename = "OK")]
    Ok,
    /// Minor (mindre betydelig): does not block approval.
    F4,
    /// Significant (betydelig).
    F3,
    /// Serious (alvorlig).
    F2,
    /// Critical (kritisk): the exchange cannot work.
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

/// One judgement about an exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's id as the standard names it (`KR3`, `MR8`, `medcom-acknowledgement-1`) or, for a
    /// rule the harness states from the standard's text, its catalogue id (see [`crate::rule`]).
    pub rule: String,
    /// How bad it is; [`Grade::Ok`] records that the rule was checked and holds.
    pub grade: Grade,
    /// What happened, in a sentence a vendor's test engineer can act on.
    pub message: String,
    /// Ids of the evidence items (see [`crate::run::Evidence`]) that show it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Where in the message, as a FHIRPath-like path, when the finding is about one element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Finding {
    /// A finding for `rule` with the rule's default grade from the catalogue.
    pub fn new(rule: &crate::rule::Rule, grade: Grade, message: impl Into<String>) -> Finding {
        Finding {
            rule: rule.id.to_string(),
            grade,
            message: message.into(),
            evidence: Vec::new(),
            location: None,
        }
    }

    /// A breach of `rule` at the rule's default grade.
    pub fn breach(rule: &crate::rule::Rule, message: impl Into<String>) -> Finding {
        Finding::new(rule, rule.grade, message)
    }

    /// A record that `rule` was checked and holds.
    pub fn pass(rule: &crate::rule::Rule, message: impl Into<String>) -> Finding {
        Finding::new(rule, Grade::Ok, message)
    }

    /// Adds evidence ids.
    pub fn with_evidence<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Finding {
        self.evidence.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Sets the location (FHIRPath-like path) inside the judged message.
    pub fn at(mut self, location: impl Into<String>) -> Finding {
        self.location = Some(location.into());
        self
    }
}

/// The worst grade among `findings`, [`Grade::Ok`] when there are none.
pub fn worst<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Grade {
    findings
        .into_iter()
        .map(|f| f.grade)
        .max()
        .unwrap_or(Grade::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
