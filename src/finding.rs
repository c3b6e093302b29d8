//! Findings: the verdict data every check produces.
//!
//! A [`Finding`] is a judgement about one exchange: which rule it concerns ([`RuleId`]), how bad a
//! breach is on MedCom's approval scale ([`Grade`]), a sentence a person can act on, and references
//! to the evidence (the bytes sent and received) that show it. A finding is data, never an error:
//! the harness could do its job and the vendor's system did something wrong (or right, with
//! [`Grade::Ok`]).
//!
//! Rules make findings: [`Rule::breach`], [`Rule::pass`], [`Rule::finding`]. This module sits on
//! the rule catalogue and the grade scale and on nothing else of the crate.

pub use crate::grade::Grade;
pub use crate::rule::RuleId;

use crate::rule::Rule;
use serde::{Deserialize, Serialize};

/// One judgement about an exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's id as the standard names it (`KR3`, `MR8`, `medcom-acknowledgement-1`) or, for a
    /// rule the harness states from the standard's text, its catalogue id; serialized as that
    /// plain string.
    pub rule: RuleId,
    /// How bad it is; [`Grade::Ok`] records that the rule was checked and holds.
    pub grade: Grade,
    /// What happened, in a sentence a vendor's test engineer can act on.
    pub message: String,
    /// Ids of the evidence items (the runner's evidence list: bytes sent and received) that show
    /// it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Where in the message, as a FHIRPath-like path, when the finding is about one element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Rule {
    /// A finding for this rule at `grade`.
    pub fn finding(&self, grade: Grade, message: impl Into<String>) -> Finding {
        Finding::new(RuleId::of(self), grade, message)
    }

    /// A breach of this rule at its default grade.
    pub fn breach(&self, message: impl Into<String>) -> Finding {
        self.finding(self.grade, message)
    }

    /// A record that this rule was checked and holds.
    pub fn pass(&self, message: impl Into<String>) -> Finding {
        self.finding(Grade::Ok, message)
    }
}

impl Finding {
    /// A finding for the rule `rule` (a catalogue rule or a profile invariant) at `grade`.
    pub fn new(rule: RuleId, grade: Grade, message: impl Into<String>) -> Finding {
        Finding {
            rule,
            grade,
            message: message.into(),
            evidence: Vec::new(),
            location: None,
        }
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
    fn a_breach_takes_the_rules_default_grade_and_a_pass_is_ok() {
        let f = crate::rule::KR1.breach("no acknowledgement");
        assert_eq!((f.rule.as_str(), f.grade), ("KR1", Grade::F1));
        assert_eq!(crate::rule::KR1.pass("acknowledged").grade, Grade::Ok);
    }

    #[test]
    fn the_verdict_vocabulary_sits_at_the_bottom_of_the_module_graph() {
        // grade <- rule <- finding: each module names only the modules below it, so neither
        // `finding` <-> `rule` nor `finding` -> `run` can come back.
        let layers = [
            ("grade.rs", include_str!("grade.rs"), &[][..]),
            ("rule.rs", include_str!("rule.rs"), &["grade"][..]),
            (
                "finding.rs",
                include_str!("finding.rs"),
                &["grade", "rule"][..],
            ),
        ];
        for (file, text, below) in layers {
            for (at, _) in text.match_indices("crate::") {
                let module: String = text[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    module.is_empty() || below.contains(&module.as_str()),
                    "{file} names `crate::{module}`, which is not below it"
                );
            }
        }
    }

    #[test]
    fn a_finding_serializes_its_rule_as_a_plain_string() {
        let f = crate::rule::VANS_NAME
            .breach("wrong name")
            .at("Document/Name");
        let json = serde_json::to_value(&f).expect("json");
        assert_eq!(json["rule"], "vans-name");
        let back: Finding = serde_json::from_value(json).expect("json");
        assert_eq!(back, f);
    }
}
