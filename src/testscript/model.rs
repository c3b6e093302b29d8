//! The parts of a FHIR R4 `TestScript` the engine reads, as serde types.
//!
//! Lenient by design: MedCom's scripts carry Touchstone extensions and elements the engine does
//! not use (`contact`, `jurisdiction`, `metadata`); unknown keys are ignored, and what the
//! engine cannot do with a known element is reported per action when it runs. Source: FHIR R4
//! (4.0.1) TestScript, <https://hl7.org/fhir/R4/testscript.html>.

use serde::Deserialize;

/// A TestScript resource.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestScript {
    /// Always `TestScript`.
    pub resource_type: String,
    /// The logical id; names the script in every report.
    #[serde(default)]
    pub id: String,
    /// The canonical URL (`TestReport.testScript` points here).
    #[serde(default)]
    pub url: Option<String>,
    /// Business version.
    #[serde(default)]
    pub version: Option<String>,
    /// Computer-friendly name.
    #[serde(default)]
    pub name: Option<String>,
    /// Human-friendly title.
    #[serde(default)]
    pub title: Option<String>,
    /// What the script tests.
    #[serde(default)]
    pub description: Option<String>,
    /// The clients: `origin.index` 1 is the vendor's system (profile `FHIR-Client`).
    #[serde(default)]
    pub origin: Vec<Actor>,
    /// The servers: `destination.index` 1 is the harness (profile `FHIR-Server`).
    #[serde(default)]
    pub destination: Vec<Actor>,
    /// Fixtures by id.
    #[serde(default)]
    pub fixture: Vec<Fixture>,
    /// Profiles by id, for `validateProfileId`.
    #[serde(default)]
    pub profile: Vec<ProfileRef>,
    /// Variables, substituted as `${name}`.
    #[serde(default)]
    pub variable: Vec<Variable>,
    /// Setup actions.
    #[serde(default)]
    pub setup: Option<Section>,
    /// Tests, each a list of actions.
    #[serde(default)]
    pub test: Vec<Test>,
    /// Teardown actions.
    #[serde(default)]
    pub teardown: Option<Section>,
}

/// An origin or destination.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// 1-based index the operations refer to.
    pub index: u32,
    /// `FHIR-Client` / `FHIR-Server`.
    #[serde(default)]
    pub profile: Option<Coding>,
}

/// A Coding.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Coding {
    /// The system.
    #[serde(default)]
    pub system: Option<String>,
    /// The code.
    #[serde(default)]
    pub code: Option<String>,
}

/// A fixture: a resource the script names.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fixture {
    /// The id operations and variables refer to.
    pub id: String,
    /// Where the resource is (`../Fixtures/CareCommunication-fixture.xml`).
    #[serde(default)]
    pub resource: Option<Reference>,
}

/// A Reference.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reference {
    /// The reference.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A profile the script validates against.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileRef {
    /// The id `validateProfileId` names.
    pub id: String,
    /// The profile's canonical, possibly `|version`.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A variable.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    /// The name, used as `${name}`.
    pub name: String,
    /// A FHIRPath over the source.
    #[serde(default)]
    pub expression: Option<String>,
    /// An XPath/JSONPath over the source (read as FHIRPath, as Touchstone does for JSON).
    #[serde(default)]
    pub path: Option<String>,
    /// An HTTP header of the source's response.
    #[serde(default)]
    pub header_field: Option<String>,
    /// The value when the source yields nothing.
    #[serde(default)]
    pub default_value: Option<String>,
    /// A fixture id or an operation's `requestId`/`responseId`.
    #[serde(default)]
    pub source_id: Option<String>,
}

/// `setup` or `teardown`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Section {
    /// The actions, in order.
    #[serde(default)]
    pub action: Vec<Action>,
}

/// One `test`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Test {
    /// Its id.
    #[serde(default)]
    pub id: Option<String>,
    /// Its name.
    #[serde(default)]
    pub name: Option<String>,
    /// What it does; told to the operator.
    #[serde(default)]
    pub description: Option<String>,
    /// The actions, in order.
    #[serde(default)]
    pub action: Vec<Action>,
}

/// An action: an operation or an assert.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Action {
    /// An operation.
    #[serde(default)]
    pub operation: Option<Operation>,
    /// An assert.
    #[serde(rename = "assert", default)]
    pub assert_: Option<Assert>,
}

/// An operation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// `create`, `read`, `updateCreate`, `delete`, …
    #[serde(rename = "type", default)]
    pub type_: Option<Coding>,
    /// The resource type.
    #[serde(default)]
    pub resource: Option<String>,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// `xml`/`json`.
    #[serde(default)]
    pub accept: Option<String>,
    /// The client (absent: the test engine itself).
    #[serde(default)]
    pub origin: Option<u32>,
    /// The server.
    #[serde(default)]
    pub destination: Option<u32>,
    /// Path and query after the resource type (`/${bundleid}`).
    #[serde(default)]
    pub params: Option<String>,
    /// Names the request for later variables and asserts.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Names the response for later variables and asserts.
    #[serde(default)]
    pub response_id: Option<String>,
    /// The fixture sent (or, from the vendor, the fixture that stands for what it sends).
    #[serde(default)]
    pub source_id: Option<String>,
    /// The fixture whose id the operation targets.
    #[serde(default)]
    pub target_id: Option<String>,
    /// An absolute URL.
    #[serde(default)]
    pub url: Option<String>,
}

impl Operation {
    /// The operation code (`create`), empty when missing.
    pub fn code(&self) -> &str {
        self.type_
            .as_ref()
            .and_then(|t| t.code.as_deref())
            .unwrap_or("")
    }
}

/// An assert.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assert {
    /// Label.
    #[serde(default)]
    pub label: Option<String>,
    /// What it checks.
    #[serde(default)]
    pub description: Option<String>,
    /// `request` or `response` (default response).
    #[serde(default)]
    pub direction: Option<String>,
    /// The other side of a comparison.
    #[serde(default)]
    pub compare_to_source_id: Option<String>,
    /// FHIRPath over the other side.
    #[serde(default)]
    pub compare_to_source_expression: Option<String>,
    /// Path over the other side.
    #[serde(default)]
    pub compare_to_source_path: Option<String>,
    /// `xml`/`json` or a MIME type.
    #[serde(default)]
    pub content_type: Option<String>,
    /// FHIRPath.
    #[serde(default)]
    pub expression: Option<String>,
    /// An HTTP header.
    #[serde(default)]
    pub header_field: Option<String>,
    /// `equals`, `notEquals`, `in`, `notIn`, `greaterThan`, `lessThan`, `empty`, `notEmpty`,
    /// `contains`, `notContains`, `eval`.
    #[serde(default)]
    pub operator: Option<String>,
    /// Path (read as FHIRPath).
    #[serde(default)]
    pub path: Option<String>,
    /// The resource type expected.
    #[serde(default)]
    pub resource: Option<String>,
    /// `okay`, `created`, … (R4 `assert-response-code-types`).
    #[serde(default)]
    pub response: Option<String>,
    /// HTTP status codes, comma-separated.
    #[serde(default)]
    pub response_code: Option<String>,
    /// The fixture or request/response evaluated (default: the last operation's).
    #[serde(default)]
    pub source_id: Option<String>,
    /// A `profile.id`.
    #[serde(default)]
    pub validate_profile_id: Option<String>,
    /// The expected value.
    #[serde(default)]
    pub value: Option<String>,
    /// A failure is a warning (graded F4).
    #[serde(default)]
    pub warning_only: bool,
}

impl Assert {
    /// Whether the assert judges the request (what the client sent).
    pub fn on_request(&self) -> bool {
        self.direction.as_deref() == Some("request")
    }
}
