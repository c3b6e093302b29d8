//! The project's data file for MedCom's TestScripts (`data/testscript-instructions.toml`):
//! how each Touchstone fixture is built, what the vendor must do for each `create` it performs,
//! and the known defects of the published scripts. Embedded in the binary; see the file's header
//! for its format.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The embedded data file.
pub const DEFAULT_TOML: &str = include_str!("../../data/testscript-instructions.toml");

/// The whole table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Touchstone fixture file name -> how to build it.
    #[serde(default)]
    pub fixture: BTreeMap<String, FixtureRecipe>,
    /// TestScript id -> (vendor fixture id -> instruction).
    #[serde(default)]
    pub script: BTreeMap<String, BTreeMap<String, Instruction>>,
    /// TestScript id -> (fixture id -> the `fixture` key built instead of its path's).
    #[serde(default, rename = "override")]
    pub override_: BTreeMap<String, BTreeMap<String, String>>,
    /// TestScript id -> the defects of the script itself (`[[defect.<id>]]`, one per element).
    #[serde(default)]
    pub defect: BTreeMap<String, Vec<Defect>>,
}

/// Why the data file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the TestScript data file is not valid")]
pub struct TableError(#[source] pub toml::de::Error);

impl Table {
    /// The embedded table.
    ///
    /// # Errors
    /// [`TableError`] when the embedded file does not parse (a unit test pins that it does).
    pub fn builtin() -> Result<Table, TableError> {
        toml::from_str(DEFAULT_TOML).map_err(TableError)
    }

    /// The recipe for a fixture reference (`/FHIRSandbox/…/CareCommunication-fixture.xml`), by its
    /// file name.
    pub fn recipe(&self, reference: &str) -> Option<(&str, &FixtureRecipe)> {
        let name = reference.rsplit(['/', '\\']).next().unwrap_or(reference);
        self.fixture
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
    }

    /// The recipe for fixture `id` of script `script` at `reference`: the script's override, or
    /// the one for the reference's file name. Returns the recipe's key too.
    pub fn recipe_for(
        &self,
        script: &str,
        id: &str,
        reference: &str,
    ) -> Option<(&str, &FixtureRecipe)> {
        match self.override_.get(script).and_then(|m| m.get(id)) {
            Some(key) => self
                .fixture
                .get_key_value(key)
                .map(|(k, v)| (k.as_str(), v)),
            None => self.recipe(reference),
        }
    }

    /// The instruction for the vendor's `create` of fixture `fixture` in script `script`.
    pub fn instruction(&self, script: &str, fixture: &str) -> Option<&Instruction> {
        self.script.get(script)?.get(fixture)
    }
}

/// How the harness builds a fixture.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FixtureRecipe {
    /// `carecommunication-new`, `acknowledgement`, `hospitalnotification` or `vendor`.
    pub build: String,
    /// MIME types, one attachment each.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// An Encounter with `episodeOfCare.identifier`.
    #[serde(default)]
    pub episode_of_care: bool,
    /// The acknowledgement code.
    #[serde(default)]
    pub code: Option<String>,
    /// The HospitalNotification event.
    #[serde(default)]
    pub event: Option<String>,
    /// Broken on purpose, so a correct receiver answers `fatal-error`.
    #[serde(default)]
    pub invalid: bool,
}

/// A defect of a published script.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defect {
    /// The action, `test[N].action[M]` (0-based, as JSON array indices).
    pub element: String,
    /// Why it is the script's, not the vendor's.
    pub why: String,
}

/// An attachment the vendor adds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AttachmentWish {
    /// MIME type of a data attachment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A link instead of data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Give `creation`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub creation: bool,
    /// Give the segment an author (practitioner extension).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub author: bool,
}

/// What the vendor must do for one `create`. The same shape travels in the control protocol
/// (`POST /_harness/script`), with `of` replaced by the MessageHeader.id it names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Instruction {
    /// `send-new`, `reply`, `forward`, `acknowledge`, `send-hospital-notification`.
    pub action: String,
    /// The fixture (or earlier vendor fixture) followed up or acknowledged; on the wire, its
    /// MessageHeader.id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<String>,
    /// A fixture file the harness delivers just before; its letter becomes `of`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_first: Option<String>,
    /// `Communication.category` code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// `Communication.topic.text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// `Communication.priority`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Attachments to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentWish>,
    /// The sender extension and a recipient.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sender_recipient: bool,
    /// `replacement-cpr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// An Encounter with an episodeOfCare identifier.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub episode_of_care: bool,
    /// `text-only`: forward only the message text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// `second-receiver`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The acknowledgement code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The HospitalNotification event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// `another-department`: a HospitalNotification from another department of the hospital
    /// (another SOR code and GLN than the stay's earlier messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// `admission-time`: a revision gives Encounter.period.start another time than the message
    /// it revises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revise: Option<String>,
}

impl Instruction {
    /// The instruction in words, for a person at a terminal or a report (`letter`: the
    /// MessageHeader.id `of` names, when known).
    pub fn describe(&self, letter: Option<&str>) -> String {
        let of = letter.map_or(String::new(), |l| {
            format!(" the message with MessageHeader.id `{l}`")
        });
        let mut parts = vec![match self.action.as_str() {
            "send-new" => "send a new CareCommunication to the harness".to_string(),
            "reply" => format!("reply to{of}"),
            "forward" => format!("forward{of}"),
            "acknowledge" => format!(
                "acknowledge{of} with `{}`",
                self.code.as_deref().unwrap_or("ok")
            ),
            "send-hospital-notification" => format!(
                "send the HospitalNotification `{}`{}",
                self.event.as_deref().unwrap_or("STIN"),
                if letter.is_some() {
                    format!(" of the stay of{of}")
                } else {
                    " for a new stay".into()
                }
            ),
            other => other.to_string(),
        }];
        let mut add = |cond: bool, text: String| {
            if cond {
                parts.push(text);
            }
        };
        add(
            self.category.is_some(),
            format!(
                "category `{}`",
                self.category.as_deref().unwrap_or_default()
            ),
        );
        add(
            self.topic.is_some(),
            format!("topic \"{}\"", self.topic.as_deref().unwrap_or_default()),
        );
        add(
            self.priority.is_some(),
            format!(
                "priority `{}`",
                self.priority.as_deref().unwrap_or_default()
            ),
        );
        let attachments: Vec<String> = self
            .attachments
            .iter()
            .map(|a| {
                a.url
                    .clone()
                    .or_else(|| a.content_type.clone())
                    .unwrap_or_default()
            })
            .collect();
        add(
            !attachments.is_empty(),
            format!("add the attachment(s) {}", attachments.join(", ")),
        );
        add(
            self.sender_recipient,
            "name a specific sender and recipient".into(),
        );
        add(
            self.patient.is_some(),
            format!(
                "patient identified by {}",
                self.patient.as_deref().unwrap_or_default()
            ),
        );
        add(
            self.episode_of_care,
            "include an Encounter with an episode-of-care identifier".into(),
        );
        add(
            self.payload.as_deref() == Some("text-only"),
            "forward only the message text".into(),
        );
        add(
            self.to.as_deref() == Some("second-receiver"),
            "forward to the second receiver".into(),
        );
        add(
            self.sender.as_deref() == Some("another-department"),
            "send it from another department (another SOR code and GLN)".into(),
        );
        add(
            self.revise.as_deref() == Some("admission-time"),
            "correct the admission time".into(),
        );
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_parses_and_names_every_published_send_script() {
        let t = Table::builtin().expect("parses");
        assert!(t.script.len() >= 44, "{}", t.script.len());
        assert_eq!(
            t.recipe("/FHIRSandbox/MedCom/x/Acknowledgement-fixture-ok.xml")
                .map(|(_, r)| r.build.as_str()),
            Some("acknowledgement")
        );
        assert!(t.recipe("../Fixtures/unknown.xml").is_none());
    }

    #[test]
    fn an_instruction_reads_as_a_sentence_for_a_person() {
        let i = Instruction {
            action: "reply".into(),
            category: Some("regarding-referral".into()),
            ..Default::default()
        };
        assert_eq!(
            i.describe(Some("abc")),
            "reply to the message with MessageHeader.id `abc`; category `regarding-referral`"
        );
    }
}
