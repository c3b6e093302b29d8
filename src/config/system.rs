//! The `[system]` table: the system under test as MedCom's test protocol names it on its first
//! page (vendor, system, version, test type, tester); `run`'s flags override the keys.

use serde::{Deserialize, Serialize};

/// Which of MedCom's two test runs this is. A vendor self-tests first (egentest), then MedCom
/// runs the final test (sluttest) of the same system version (MedCom's test protocols, "Test
/// type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestType {
    /// The vendor's own test before certification (egentest).
    SelfTest,
    /// MedCom's approval test (sluttest).
    FinalTest,
}

impl TestType {
    /// The config and command-line spelling: `self-test`, `final-test`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestType::SelfTest => "self-test",
            TestType::FinalTest => "final-test",
        }
    }

    /// The report's words: English with MedCom's Danish name.
    pub fn label(self) -> &'static str {
        match self {
            TestType::SelfTest => "self-test (egentest)",
            TestType::FinalTest => "final test (sluttest)",
        }
    }

    /// `self-test` or `final-test` (also `egentest`, `sluttest`); `None` otherwise.
    pub fn parse(text: &str) -> Option<TestType> {
        match text {
            "self-test" | "egentest" => Some(TestType::SelfTest),
            "final-test" | "sluttest" => Some(TestType::FinalTest),
            _ => None,
        }
    }
}

/// The system under test, as the first page of a MedCom test protocol names it. Every field is
/// optional: what is not given is shown as "not stated" in the reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemUnderTest {
    /// The vendor, the company (`[system] vendor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The system's product name (`[system] name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The system version tested (`[system] version`, `--system-version`): MedCom's final test
    /// must be of the same version as the self-test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Self-test or final test (`[system] test-type`, `--test-type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_type: Option<TestType>,
    /// Who ran the test (`[system] tester`, `--tester`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tester: Option<String>,
}

impl SystemUnderTest {
    /// Whether nothing is stated.
    pub fn is_empty(&self) -> bool {
        *self == SystemUnderTest::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_type_takes_english_and_medcoms_danish_names() {
        assert_eq!(TestType::parse("self-test"), Some(TestType::SelfTest));
        assert_eq!(TestType::parse("egentest"), Some(TestType::SelfTest));
        assert_eq!(TestType::parse("sluttest"), Some(TestType::FinalTest));
        assert_eq!(TestType::parse("final"), None);
    }
}
