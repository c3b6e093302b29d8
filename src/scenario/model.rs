//! The scenario model: what a scenario file says, after strict parsing.

use serde::Deserialize;
use serde_spanned::Spanned;
use std::path::PathBuf;
use std::time::Duration;

use crate::message::{Activity, Format};
use crate::oioxml::RefuseCode;

/// A scenario: metadata and the steps, in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Scenario {
    /// Stable id (`cc-receive-new-with-pdf`); names the scenario in every report.
    pub id: String,
    /// One line saying what is tested.
    pub title: String,
    /// The standard and version under test (`CareCommunication 5.0`).
    pub standard: String,
    /// Longer description for the report.
    #[serde(default)]
    pub description: Option<String>,
    /// The MedCom test-protocol steps it covers: a step of its own standard (`R-A`, `S-E`),
    /// several separated by commas, a step of another standard after that standard's name
    /// (`R-Tek-O, Acknowledgement send-fatal-error`). The step lists: `data/protocols.toml`.
    #[serde(default)]
    pub protocol_step: Option<String>,
    /// Rule ids it exercises.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Free tags for `--filter`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The transport the scenario needs: `folder` for classic OIOXML letters, which travel only
    /// through VANS mailboxes. Against an HTTP target the embedded reference vendor serves a
    /// folder for them; against a vendor's HTTP endpoint they are skipped.
    #[serde(default)]
    pub transport: Option<TransportKind>,
    /// The steps.
    #[serde(rename = "step")]
    pub steps: Vec<Spanned<Step>>,
    /// The file it was loaded from (set by the loader).
    #[serde(skip)]
    pub path: PathBuf,
    /// The 1-based line of each step's `[[step]]` table in the file, in step order (set by the
    /// loader), so an error of a step can say `scenario.toml:12`.
    #[serde(skip)]
    pub step_lines: Vec<usize>,
    /// The FHIR TestScript this scenario is (set by the loader for a `.json` TestScript file,
    /// whose actions the runner plays instead of `steps`).
    #[serde(skip)]
    pub testscript: Option<std::sync::Arc<crate::testscript::TestScript>>,
}

impl Scenario {
    /// Where step `index` (1-based) is written: `path:line`, or the path alone when the line is
    /// unknown (a scenario built in code).
    pub fn step_location(&self, index: usize) -> String {
        match index.checked_sub(1).and_then(|i| self.step_lines.get(i)) {
            Some(line) => format!("{}:{line}", self.path.display()),
            None => self.path.display().to_string(),
        }
    }
}

/// One step. Written as a `[[step]]` table with exactly one key, the step kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// Send a new message to the vendor.
    Send(Send),
    /// Wait for the vendor's acknowledgement of a sent message and judge it.
    ExpectAck(ExpectAck),
    /// Send a sent message again: new Bundle.id and timestamp, same MessageHeader.id (MR rules).
    Resend(Resend),
    /// Wait for a message the vendor sends (a reply, a forward, a new message) and judge it.
    ExpectMessage(ExpectMessage),
    /// Acknowledge a message the vendor sent.
    Ack(Ack),
    /// Ask the operator (a person, or the reference vendor) to do something in the vendor system.
    Instruct(Instruct),
    /// Send a classic XDIS91 letter, with an XBIN01 for each attachment (exchange folders).
    SendLetter(SendLetter),
    /// Wait for the XCTL receipt of a letter the harness sent and judge it.
    ExpectReceipt(ExpectReceipt),
    /// Wait for an XDIS91 letter from the vendor, with the XBIN01s it refers to, and judge them.
    ExpectLetter(ExpectLetter),
    /// Send the XCTL receipt for a letter the vendor sent.
    Receipt(ReceiptStep),
    /// Watch for the vendor's resends of a message left unacknowledged (KR7) and judge them:
    /// each a true resend, and no more than the `resend-limit` setting allows.
    ExpectResends(ExpectResends),
}

/// `expect-resends`: the vendor's resends of a captured vendor message the scenario did not
/// acknowledge.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExpectResends {
    /// The captured vendor message (from `expect-message`).
    pub of: String,
    /// How long to watch: every resend that arrives in this time is judged and counted. The step
    /// always takes this long. Default from the config (`default-within`).
    #[serde(default, with = "duration_opt")]
    pub during: Option<Duration>,
    /// The fewest resends that pass (default 1; 0 only checks the limit).
    #[serde(default)]
    pub at_least: Option<u32>,
}

/// Which way a scenario's messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// Exchange folders (VANS mailbox).
    Folder,
    /// HTTP.
    Http,
}

/// `send-letter`: a classic XDIS91 letter.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SendLetter {
    /// Capture name; its binary letters are `<as>-bin1`, `<as>-bin2`, …
    #[serde(rename = "as")]
    pub as_: String,
    /// The receiver's EAN; default the vendor's from the config.
    #[serde(default)]
    pub receiver_ean: Option<String>,
    /// `AdditionalInformation/Subject`.
    #[serde(default)]
    pub subject: Option<String>,
    /// The letter's text (`\n` becomes `<Break/>`).
    #[serde(default)]
    pub text: Option<String>,
    /// Attachments sent as XBIN01 letters (`file` and `title`; `content-type` picks the
    /// `ObjectExtensionCode`).
    #[serde(default)]
    pub attachments: Vec<AttachmentSpec>,
    /// Leave `Letter/VersionCode` out, a syntax error the receiver must refuse (`syntaksfejl`).
    #[serde(default)]
    pub syntax_error: bool,
    /// The letter type: `XDIS91` (default) or a home care letter or LÆ form by its `TypeCode`
    /// (`XDIS20`, `XLA121`, or `LA121` as MedCom abbreviates it), written from our template
    /// ([`crate::oioxml::form`]); `subject`, `text` and `attachments` are XDIS91's only.
    #[serde(default, rename = "type")]
    pub letter_type: Option<String>,
    /// The captured vendor letter this one answers (an XDIS14 answers an XDIS20, an XLA125 an
    /// XLA121, …): its patient and what the type quotes are copied.
    #[serde(default)]
    pub answers: Option<String>,
}

/// `expect-receipt`: the XCTL receipt of a sent letter.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExpectReceipt {
    /// The captured letter (or binary letter, `<as>-bin1`).
    #[serde(rename = "for")]
    pub for_: String,
    /// `positive` (default) or `negative`.
    #[serde(default)]
    pub kind: Option<String>,
    /// For a negative receipt: the expected RefuseCode.
    #[serde(default)]
    pub refuse_code: Option<String>,
    /// How long to wait; default from the config.
    #[serde(default, with = "duration_opt")]
    pub within: Option<Duration>,
    /// A golden receipt.
    #[serde(default)]
    pub golden: Option<String>,
    /// Must be the same receipt as this earlier one (a duplicate gets the same receipt).
    #[serde(default)]
    pub same_as: Option<String>,
    /// Capture name for the receipt.
    #[serde(default, rename = "as")]
    pub as_: Option<String>,
}

/// `expect-letter`: an XDIS91 from the vendor and its XBIN01s.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExpectLetter {
    /// Capture name.
    #[serde(rename = "as")]
    pub as_: String,
    /// How long to wait for the letter and its binary letters; default from the config.
    #[serde(default, with = "duration_opt")]
    pub within: Option<Duration>,
    /// The letter type to wait for: `XDIS91` (default) or a home care letter or LÆ form by its
    /// `TypeCode` (`XDIS16`, `XLA125`, …).
    #[serde(default, rename = "type")]
    pub letter_type: Option<String>,
    /// The captured letter of the harness this one must answer: judged by
    /// [`crate::oioxml::check::answer`] (`oioxml-answer-pair`, `oioxml-answer-quotes`).
    #[serde(default)]
    pub answers: Option<String>,
}

/// `receipt`: the harness's receipt for a vendor letter (and its binary letters).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ReceiptStep {
    /// The captured vendor letter.
    #[serde(rename = "for")]
    pub for_: String,
}

impl Step {
    /// The step kind as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Send(_) => "send",
            Step::ExpectAck(_) => "expect-ack",
            Step::Resend(_) => "resend",
            Step::ExpectMessage(_) => "expect-message",
            Step::Ack(_) => "ack",
            Step::Instruct(_) => "instruct",
            Step::SendLetter(_) => "send-letter",
            Step::ExpectReceipt(_) => "expect-receipt",
            Step::ExpectLetter(_) => "expect-letter",
            Step::Receipt(_) => "receipt",
            Step::ExpectResends(_) => "expect-resends",
        }
    }
}

/// `send`: render a template and send the message.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Send {
    /// A built-in template (`carecommunication/new`) or a template file relative to the scenario.
    pub message: String,
    /// Capture name for the sent message (`first`): later steps refer to it.
    #[serde(rename = "as")]
    pub as_: String,
    /// Wire format; JSON by default.
    #[serde(default)]
    pub format: Option<Format>,
    /// `Communication.category` code (default `other`).
    #[serde(default)]
    pub category: Option<String>,
    /// The letter's text.
    #[serde(default)]
    pub text: Option<String>,
    /// Attachments (bilag).
    #[serde(default)]
    pub attachments: Vec<AttachmentSpec>,
    /// For a reply or forward template: the captured message it follows up.
    #[serde(default)]
    pub follows: Option<String>,
    /// JSON Patch (RFC 6902) operations applied to the rendered FHIR JSON before sending, to
    /// build a deliberately broken message: `{ op = "replace", path = "/entry/0/…", value = "…" }`.
    #[serde(default)]
    pub patch: Vec<toml::Value>,
}

/// An attachment of a `send` step: a file (its bytes become `data`) or a link (`url`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AttachmentSpec {
    /// A file relative to the scenario file.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A link instead of data.
    #[serde(default)]
    pub url: Option<String>,
    /// `contentType`; for a file, default from its magic bytes.
    #[serde(default)]
    pub content_type: Option<String>,
    /// `title` (required by CareCommunication; never given a file extension automatically).
    pub title: String,
}

/// `expect-ack`: wait for the acknowledgement of a sent message.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExpectAck {
    /// The captured message it acknowledges.
    #[serde(rename = "for")]
    pub for_: String,
    /// How long to wait (`30s`, `2m`); KR7 allows 30 minutes, the default is 30 seconds.
    #[serde(default, with = "duration_opt")]
    pub within: Option<Duration>,
    /// Expected `response.code`: `ok` (default), `transient-error` or `fatal-error`; or the HL7
    /// v2 names `AA`, `AE`, `AR`, mapped by the `[rules] transient-error` setting.
    #[serde(default)]
    pub code: Option<String>,
    /// A golden acknowledgement to compare with (mirrors the scenario path under `golden/`).
    #[serde(default)]
    pub golden: Option<String>,
    /// Must be the same acknowledgement as this earlier captured one (MR8 duplicate rule).
    #[serde(default)]
    pub same_as: Option<String>,
    /// Capture name for the acknowledgement.
    #[serde(default, rename = "as")]
    pub as_: Option<String>,
}

/// The receipt an `expect-receipt` step waits for (`kind`): a positive (XCTL03) or a negative
/// one (XCTL02, or the VANS's XCTL01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptExpectation {
    /// `positive` (the default).
    Positive,
    /// `negative`.
    Negative,
}

impl ExpectReceipt {
    /// The receipt `kind` expects; the loader accepts only `positive` and `negative`.
    pub fn expected_kind(&self) -> ReceiptExpectation {
        match self.kind.as_deref() {
            Some("negative") => ReceiptExpectation::Negative,
            _ => ReceiptExpectation::Positive,
        }
    }

    /// The expected `refuse-code`, one of the list the loader checks it against.
    pub fn expected_refuse_code(&self) -> Option<RefuseCode> {
        self.refuse_code.as_deref().map(RefuseCode::parse)
    }
}

/// `resend`: send a captured message again as a resend.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Resend {
    /// The captured message to resend.
    pub of: String,
    /// Capture name of the resend (default `<of>-resend`).
    #[serde(default, rename = "as")]
    pub as_: Option<String>,
    /// Reuse the Bundle.id as well: the (yes, yes) case of the duplicate matrix, as when the
    /// original response was lost in transport.
    #[serde(default)]
    pub same_envelope: bool,
}

/// `expect-message`: wait for a message the vendor sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExpectMessage {
    /// Expected Provenance activity of the new message (`reply-message`, `forward-message`).
    #[serde(default)]
    pub activity: Option<String>,
    /// Expected MessageHeader event (default `care-communication-message`).
    #[serde(default)]
    pub event: Option<String>,
    /// The captured message it replies to or forwards (its Provenance points there).
    #[serde(default)]
    pub follows: Option<String>,
    /// How long to wait (`10m`); default 30 seconds.
    #[serde(default, with = "duration_opt")]
    pub within: Option<Duration>,
    /// Capture name.
    #[serde(rename = "as")]
    pub as_: String,
    /// A golden message to compare with.
    #[serde(default)]
    pub golden: Option<String>,
    /// For a HospitalNotification: the stay (a name of the scenario's choosing) the message
    /// belongs to. The next HospitalNotification is taken whatever its activity, and judged
    /// against the earlier messages of the stay (`hn-order`, `hn-episode`, …) as well as
    /// against `activity`.
    #[serde(default)]
    pub stay: Option<String>,
}

impl ExpectMessage {
    /// The expected `activity` as a code of `medcom-messaging-activityCodes`; the loader accepts
    /// only codes of that CodeSystem.
    pub fn expected_activity(&self) -> Option<Activity> {
        self.activity.as_deref().and_then(Activity::parse)
    }
}

/// `ack`: acknowledge a vendor message.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Ack {
    /// The captured vendor message.
    #[serde(rename = "for")]
    pub for_: String,
    /// `ok` (default), `transient-error` or `fatal-error`; or `AA`, `AE`, `AR` (mapped by the
    /// `[rules] transient-error` setting).
    #[serde(default)]
    pub code: Option<String>,
    /// Wire format; default the format of the acknowledged message.
    #[serde(default)]
    pub format: Option<Format>,
}

/// `instruct`: an operator task.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Instruct {
    /// The instruction as a person reads it.
    pub text: String,
    /// What the reference vendor does for it: `reply` or `forward`.
    #[serde(default)]
    pub action: Option<Action>,
    /// The captured message the action applies to.
    #[serde(default)]
    pub of: Option<String>,
    /// Wire format of the vendor's message (reference vendor only; default JSON).
    #[serde(default)]
    pub format: Option<Format>,
    /// With `action = "send-letter"`: the classic letter type to send, `XDIS91` (default) or a
    /// home care letter or LÆ form by its `TypeCode` (`XDIS16`, `XLA125`, …); an answer answers
    /// the letter `of` names (else the last one of the type it answers).
    #[serde(default, rename = "type")]
    pub letter_type: Option<String>,
    /// KR7: how long the reference vendor waits for an acknowledgement of its message before it
    /// resends (default 30 minutes, as governance 040 says). Say the same in `text` for a person.
    #[serde(default, with = "duration_opt")]
    pub resend_after: Option<Duration>,
    /// For `action = "hospital-notification"`: the event to send (`STIN`, `STAA`, `STOR`,
    /// `SLOR`, `SLHJ`, `MORS`, `RE_<event>`, `AN_<event>`).
    #[serde(default)]
    pub event: Option<String>,
    /// For `action = "hospital-notification"`: the stay the event belongs to (a name of the
    /// scenario's choosing; an admission starts it).
    #[serde(default)]
    pub stay: Option<String>,
}

/// What the reference vendor can do on instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Reply to the message (same thread, earlier attachments as references only).
    Reply,
    /// Forward the message (new thread, attachments included).
    Forward,
    /// Send a classic XDIS91 letter with a PDF as XBIN01 (exchange folders; `of` is not needed).
    SendLetter,
    /// Play the hospital: send HospitalNotification `event` of stay `stay` (`of` is not needed).
    HospitalNotification,
}

mod duration_opt {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    /// Whole seconds (`30`), fractional seconds (`0.5`) or text (`"30s"`, `"2m"`), at most a day:
    /// read exactly as the config's `default-within` is.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        crate::config::Seconds::deserialize(d).map(|s| Some(s.0))
    }
}
