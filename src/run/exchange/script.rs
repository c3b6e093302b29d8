//! Playing a FHIR `TestScript` (MedCom's, or any in its shape) as one scenario.
//!
//! Actors: `origin` 1 (profile `FHIR-Client`) is the vendor's system, `destination` 1 (profile
//! `FHIR-Server`) is the harness. Operations:
//!
//! - without an origin (the test engine's own setup): `delete`, `create`, `update`,
//!   `updateCreate` act on the harness's own store; a `create` of a fixture builds it
//!   ([`crate::testscript::table`]: from our own templates, fresh ids, the report says so);
//! - `read` by the vendor of a stored Bundle: the harness delivers that message to the vendor
//!   and judges its acknowledgement (or, for an acknowledgement the harness sends, that none
//!   comes back, KR2); the response asserts see the HTTP status and the acknowledgement;
//! - `create` by the vendor: the vendor is told what to do (the reference vendor through
//!   `POST /_harness/script`; a person at a terminal is shown the test's description and what the
//!   asserts expect, on stderr; without a terminal that text is logged in the step, for the
//!   vendor's own automation), the harness waits `default-within` for the message, acknowledges it as a receiver does and keeps it as
//!   the fixture's request, which later variables and `direction = request` asserts read. An
//!   acknowledgement the vendor "creates" is its answer to the message the harness delivered.
//!
//! Each action becomes one step of the outcome (kind `setup.operation`, `test[1].assert`, …), so
//! the reports and the TestReport show them in order. A script's own defect (an undefined
//! variable, an unknown fixture, an expression that does not evaluate, a defect listed in the
//! data table) is an error of the step naming the element (`test[1].action[4]`: 0-based, as JSON
//! array indices into the script); the remaining actions still run and judge the vendor. The
//! scenario ends as an error of the script, or as the vendor's failure when an assert the
//! defect does not touch failed: a script's defect never hides a vendor's fault.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{Exchange, StepResult, Stop};
use crate::finding::{Finding, Grade};
use crate::message::{AckCode, Format, Message};
use crate::rule;
use crate::run::outcome::{ScenarioOutcome, ScenarioStatus, StepError, StepOutcome, StepStatus};
use crate::run::{Env, Event, Operator};
use crate::scenario::Scenario;
use crate::template::{Context, Organization};
use crate::testscript::{self, Assert, Instruction, Operation, Table, TestScript};
use crate::transport::{Origin, Received};

/// The embedded data table, read once.
fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table::builtin().unwrap_or_default())
}

/// A FHIRPath engine for runs without an IG: the R4 model only.
fn bare_ig() -> Option<&'static crate::validate::profile::Ig> {
    static IG: OnceLock<Option<crate::validate::profile::Ig>> = OnceLock::new();
    IG.get_or_init(|| crate::validate::profile::Ig::from_resources(Vec::new()).ok())
        .as_ref()
}

/// How one action ended.
enum Verdict {
    /// Passed, with what was found.
    Pass(String),
    /// Failed: the message, graded F4 when the assert is `warningOnly`.
    Fail(String, bool),
    /// The script's own defect, or something the harness could not do.
    Error(String),
    /// Not run, and why.
    Skip(String),
}

/// What the last operation left for the asserts after it.
#[derive(Default, Clone)]
struct Last {
    /// What the client sent (the vendor's message, or the fixture the harness delivered).
    request: Option<Message>,
    /// What came back (the vendor's acknowledgement of a delivered fixture).
    response: Option<Message>,
    /// The HTTP status of the response.
    status: Option<u16>,
    /// The response was the harness's own (the vendor's `create` was taken by the harness,
    /// which as the FHIR server stands in for the network).
    own_response: bool,
    /// The operation produced nothing to assert on, and why.
    missing: Option<String>,
    /// The HTTP headers of the request (names lower case): the vendor's POST as the listener
    /// got it, or what the harness sent with a delivered fixture.
    request_headers: Option<Vec<(String, String)>>,
    /// The HTTP headers of the vendor's answer to a delivered fixture (its `Content-Type`, and
    /// the headers of an acknowledgement it POSTed to the listener).
    response_headers: Option<Vec<(String, String)>>,
}

/// The state of one script run.
struct Play<'a, 'x> {
    x: &'x mut Exchange<'a>,
    script: &'a TestScript,
    /// Fixture id -> its message (built by the harness, or what the vendor sent for it).
    messages: HashMap<String, Message>,
    /// Fixture id -> the vendor's acknowledgement of the harness's delivery of it.
    acks: HashMap<String, Message>,
    /// `requestId`/`responseId` -> fixture id.
    aliases: HashMap<String, String>,
    /// The harness's own store: Bundle.id -> fixture id.
    store: HashMap<String, String>,
    /// Fixture id -> the HTTP request headers that carried its message (names lower case).
    headers: HashMap<String, Vec<(String, String)>>,
    /// Fixture file name -> the fixture id first built from it (a second one is its duplicate).
    built_from: HashMap<String, String>,
    last: Last,
    /// The test's description, told to a person before the vendor acts.
    test_description: Option<String>,
}

/// Runs `script` and returns its outcome. Never fails: what goes wrong is in the outcome.
pub(in crate::run) async fn run(
    env: &Env,
    scenario: &Scenario,
    script: &TestScript,
) -> ScenarioOutcome {
    let started = Instant::now();
    let mut x = super::Exchange::new(env, scenario);
    let mut play = Play {
        x: &mut x,
        script,
        messages: HashMap::new(),
        acks: HashMap::new(),
        aliases: HashMap::new(),
        store: HashMap::new(),
        built_from: HashMap::new(),
        headers: HashMap::new(),
        last: Last::default(),
        test_description: None,
    };
    let mut steps: Vec<StepOutcome> = Vec::new();
    let mut sections: Vec<(String, Option<String>, &[testscript::Action])> = Vec::new();
    if let Some(s) = &script.setup {
        sections.push(("setup".into(), None, &s.action));
    }
    for (i, t) in script.test.iter().enumerate() {
        sections.push((format!("test[{i}]"), t.description.clone(), &t.action));
    }
    if let Some(s) = &script.teardown {
        sections.push(("teardown".into(), None, &s.action));
    }
    let mut error: Option<String> = None;
    for (section, description, actions) in sections {
        play.test_description = description;
        for (j, action) in actions.iter().enumerate() {
            let element = format!("{section}.action[{j}]");
            let t = Instant::now();
            let index = steps.len() + 1;
            play.x.step_index = index;
            let interrupted = *env.interrupt.borrow();
            let (kind, summary, verdict, mut result) = if interrupted {
                (
                    "action",
                    String::new(),
                    Verdict::Error(crate::run::not_run_stopped()),
                    StepResult::new(""),
                )
            } else if let Some(op) = &action.operation {
                let mut result = StepResult::new("");
                let summary = describe_operation(op);
                let v = play.operation(op, &element, &mut result).await;
                ("operation", summary, v, result)
            } else if let Some(a) = &action.assert_ {
                let mut result = StepResult::new("");
                let summary = a
                    .description
                    .clone()
                    .or_else(|| a.label.clone())
                    .unwrap_or_else(|| "assert".into());
                let v = play.assert(a, &element, &mut result).await;
                ("assert", summary, v, result)
            } else {
                (
                    "action",
                    String::new(),
                    Verdict::Error(format!("{element}: neither an operation nor an assert")),
                    StepResult::new(""),
                )
            };
            let warning_only = action.assert_.as_ref().is_some_and(|a| a.warning_only);
            let (status, reason, step_error) = match verdict {
                Verdict::Pass(text) => {
                    result
                        .findings
                        .push(rule::TESTSCRIPT_ASSERT.pass(text.clone()).at(&element));
                    (StepStatus::Ran, None, None)
                }
                Verdict::Fail(text, warn) => {
                    let grade = if warn || warning_only {
                        Grade::F4
                    } else {
                        rule::TESTSCRIPT_ASSERT.grade
                    };
                    let evidence: Vec<String> = result.evidence.clone();
                    result.findings.push(
                        rule::TESTSCRIPT_ASSERT
                            .finding(grade, text)
                            .at(&element)
                            .with_evidence(evidence),
                    );
                    (StepStatus::Ran, None, None)
                }
                Verdict::Error(text) => {
                    let e = StepError {
                        location: format!("{}#{element}", scenario.path.display()),
                        step: index,
                        kind: format!("{section}.{kind}"),
                        message: text.clone(),
                    };
                    error.get_or_insert_with(|| e.to_string());
                    (StepStatus::Error, Some(text), Some(e))
                }
                Verdict::Skip(text) => (StepStatus::Skipped, Some(text), None),
            };
            steps.push(StepOutcome {
                index,
                kind: format!("{section}.{kind}"),
                summary: if result.summary.is_empty() {
                    summary
                } else {
                    format!("{summary}: {}", result.summary)
                },
                status,
                reason,
                error: step_error,
                findings: result.findings,
                evidence: result.evidence,
                diffs: result.diffs,
                duration: t.elapsed(),
            });
        }
    }
    if steps.is_empty() {
        // The loader refuses such a script; a script that ran nothing must never pass.
        error.get_or_insert_with(|| {
            format!(
                "TestScript `{}` has no test: nothing ran, so nothing passed",
                script.id
            )
        });
    }
    let kr2 = play.x.acks_of_own_acks();
    if let Some(last) = steps.last_mut() {
        last.findings.extend(kr2);
    }
    let verdict = crate::finding::worst(steps.iter().flat_map(|s| s.findings.iter()));
    x.settle_evidence().await;
    if let Some(why) = x.unrecorded.take() {
        error.get_or_insert(why);
    }
    // A vendor's failure is never hidden behind the script's own defect: the asserts the defect
    // does not touch ran and judged the vendor; the defect stays named in the reason.
    let (status, reason) = if verdict.fails(env.config.threshold) {
        (ScenarioStatus::Failed, error)
    } else if let Some(e) = error {
        (ScenarioStatus::Error, Some(e))
    } else {
        (ScenarioStatus::Passed, None)
    };
    ScenarioOutcome {
        status,
        verdict,
        reason,
        steps,
        evidence: x.evidence,
        duration: started.elapsed(),
        ..crate::run::outcome_of(scenario)
    }
}

fn describe_operation(op: &Operation) -> String {
    let who = if op.origin.is_some() {
        "the vendor"
    } else {
        "the harness"
    };
    let what = op
        .source_id
        .as_deref()
        .or(op.params.as_deref())
        .unwrap_or("");
    format!(
        "{who}: {} {} {what}",
        op.code(),
        op.resource.as_deref().unwrap_or("")
    )
    .trim_end()
    .to_string()
}

impl Play<'_, '_> {
    fn env(&self) -> &Env {
        self.x.env
    }

    /// Offers `message` on the listener as `GET [base]/Bundle/{Bundle.id}`, for vendors that
    /// pull what a receive script stored instead of (or besides) taking the delivery.
    fn serve(&self, message: &Message) {
        if let Some(id) = &message.identity.envelope_id {
            self.env().inbox.serve(
                id,
                message.bytes.clone(),
                message.format.media_type().to_string(),
            );
        }
    }

    fn ig(&self) -> Option<&crate::validate::profile::Ig> {
        match self.env().ig.as_deref() {
            Some(ig) => Some(ig),
            None => bare_ig(),
        }
    }

    /// The fixture reference of fixture `id`, if the script declares it.
    fn fixture_ref(&self, id: &str) -> Option<String> {
        self.script
            .fixture
            .iter()
            .find(|f| f.id == id)
            .and_then(|f| f.resource.as_ref()?.reference.clone())
    }

    /// The script's own defect when an operation's `sourceId` names a fixture the script does
    /// not declare (R4 TestScript: `operation.sourceId` is the id of a `fixture`): an error of
    /// the script naming `{element}.operation.sourceId`, never a verdict on the vendor.
    fn undeclared(&self, id: &str, element: &str) -> Option<Verdict> {
        if self.script.fixture.iter().any(|f| f.id == id) {
            return None;
        }
        let declared: Vec<String> = self
            .script
            .fixture
            .iter()
            .map(|f| format!("`{}`", f.id))
            .collect();
        let declared = if declared.is_empty() {
            "it declares none".to_string()
        } else {
            format!("it declares {}", declared.join(", "))
        };
        Some(Verdict::Error(format!(
            "{element}.operation.sourceId: fixture `{id}` is not declared in the script ({declared})"
        )))
    }

    /// The message a fixture id, request id or response id names, if there is one yet.
    fn message(&self, id: &str) -> Option<&Message> {
        let id = self.aliases.get(id).map_or(id, String::as_str);
        self.messages.get(id)
    }

    /// Evaluates a FHIRPath `expression` over `message`'s Bundle.
    fn eval(&self, message: &Message, expression: &str) -> Result<Vec<Value>, String> {
        let ig = self.ig().ok_or("no FHIRPath engine")?;
        crate::validate::profile::evaluate(ig, &message.resource, None, expression)
    }

    /// The value of variable `name` as `${name}` puts it into text.
    fn variable(&self, name: &str) -> Result<String, String> {
        let Some(v) = self.script.variable.iter().find(|v| v.name == name) else {
            return Err(format!(
                "variable `${{{name}}}` is used but the script defines no variable of that name"
            ));
        };
        let source = v.source_id.as_deref().unwrap_or_default();
        let Some(message) = self.message(source) else {
            let known = self.fixture_ref(source).is_some() || self.aliases.contains_key(source);
            return match &v.default_value {
                Some(d) => Ok(d.clone()),
                None if known => Err(format!(
                    "variable `{name}`: its source `{source}` has no message yet (the operation that makes it has not run or got nothing)"
                )),
                None => Err(format!(
                    "variable `{name}`: its sourceId `{source}` names no fixture, request or response of the script"
                )),
            };
        };
        if let Some(field) = &v.header_field {
            let fixture = self.aliases.get(source).map_or(source, String::as_str);
            let value = self.headers.get(fixture).and_then(|h| {
                h.iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(field))
                    .map(|(_, v)| v.clone())
            });
            return value.or_else(|| v.default_value.clone()).ok_or_else(|| {
                format!(
                    "variable `{name}`: the HTTP request that carried `{source}` has no header `{field}`"
                )
            });
        }
        let Some(expr) = v.expression.as_deref().or(v.path.as_deref()) else {
            return v
                .default_value
                .clone()
                .ok_or_else(|| format!("variable `{name}` has no expression, path or default"));
        };
        // A plain path from the Bundle reads the JSON text as written (the engine would render
        // an instant `…Z` as `…+00:00`, notes/fhirpath.md).
        if let Some(raw) = raw_path(&message.resource, expr) {
            return Ok(raw);
        }
        let (expr, _) = testscript::touchstone_quirks(expr);
        let items = self
            .eval(message, &expr)
            .map_err(|e| format!("variable `{name}`: `{expr}` does not evaluate: {e}"))?;
        Ok(items
            .first()
            .map(testscript::item_text)
            .or_else(|| v.default_value.clone())
            .unwrap_or_default())
    }

    /// `text` with every `${name}` replaced; an undefined one is the script's defect.
    fn substitute(&self, text: &str) -> Result<String, String> {
        let mut failure = None;
        let out = testscript::substitute(text, |name| match self.variable(name) {
            Ok(v) => Some(v),
            Err(e) => {
                failure = Some(e);
                None
            }
        });
        match (out, failure) {
            (Ok(s), _) => Ok(s),
            (Err(_), Some(e)) => Err(e),
            (Err(name), None) => Err(format!("variable `${{{name}}}` could not be resolved")),
        }
    }

    /// The note for a `${name}` the script puts into an expression unquoted whose value is a
    /// number (`value != ${hospitalSOR-STIN}`): FHIRPath then reads an integer literal and
    /// compares it with a string, which is never equal, so `!=` holds and `=` fails whatever the
    /// values are (as in Touchstone's Java engine). The note says so and gives the result of the
    /// expression as the script means it, with the value quoted. Empty when nothing is unquoted.
    fn unquoted_note(&self, raw: &str, target: &Message) -> String {
        let numeric: Vec<(String, String)> = testscript::unquoted_placeholders(raw)
            .into_iter()
            .filter_map(|n| {
                let v = self.variable(&n).ok()?;
                (!v.is_empty() && v.chars().all(|c| c.is_ascii_digit())).then_some((n, v))
            })
            .collect();
        if numeric.is_empty() {
            return String::new();
        }
        let intended = testscript::substitute(raw, |n| {
            let v = self.variable(n).ok()?;
            Some(if numeric.iter().any(|(m, _)| m == n) {
                format!("'{v}'")
            } else {
                v
            })
        });
        let meant = match intended {
            Ok(e) => {
                let (e, _) = testscript::touchstone_quirks(&e);
                match self.eval(target, &e) {
                    Ok(items) => format!(
                        "; with the value quoted, as the script means it, `{e}` gives {:?}",
                        items.iter().map(testscript::item_text).collect::<Vec<_>>()
                    ),
                    Err(err) => format!("; quoted, `{e}` does not evaluate: {err}"),
                }
            }
            Err(_) => String::new(),
        };
        let names: Vec<String> = numeric
            .iter()
            .map(|(n, v)| format!("`${{{n}}}` = {v}"))
            .collect();
        format!(
            " (note: {}: {}{meant})",
            testscript::QUIRK_UNQUOTED_NUMBER,
            names.join(", ")
        )
    }

    async fn operation(
        &mut self,
        op: &Operation,
        element: &str,
        result: &mut StepResult,
    ) -> Verdict {
        self.last = Last::default();
        let code = op.code();
        match (op.origin.is_some(), code) {
            (false, "delete") => {
                self.store.clear();
                self.last.status = Some(204);
                self.last.own_response = true;
                Verdict::Pass(
                    "the harness's own store: the Bundles an earlier run left are gone".into(),
                )
            }
            (false, "create" | "update" | "updateCreate") => {
                let Some(id) = op.source_id.clone() else {
                    return Verdict::Error(format!("{element}: a `{code}` without `sourceId`"));
                };
                if let Some(defect) = self.undeclared(&id, element) {
                    return defect;
                }
                match self.fixture(&id, result).await {
                    Ok(msg) => {
                        let bundle_id = msg.identity.envelope_id.clone().unwrap_or_default();
                        self.store.insert(bundle_id.clone(), id.clone());
                        self.serve(&msg);
                        self.last.request = Some(msg);
                        self.last.status = Some(if code == "create" { 201 } else { 200 });
                        self.last.own_response = true;
                        Verdict::Pass(format!(
                            "fixture `{id}` is in the harness's own store as Bundle/{bundle_id}"
                        ))
                    }
                    Err(e) => Verdict::Error(format!("{element}: {e}")),
                }
            }
            (true, "read" | "vread") => self.deliver_stored(op, element, result).await,
            (true, "create" | "update" | "updateCreate") => {
                self.vendor_creates(op, element, result).await
            }
            (_, other) => Verdict::Skip(format!(
                "operation `{other}` {} is not something MedCom's scripts need; not run",
                if op.origin.is_some() {
                    "by the vendor"
                } else {
                    "by the harness"
                }
            )),
        }
    }

    /// Builds fixture `id` (once) from the data table; returns its message.
    async fn fixture(&mut self, id: &str, result: &mut StepResult) -> Result<Message, String> {
        if let Some(m) = self.messages.get(id) {
            return Ok(m.clone());
        }
        let reference = self
            .fixture_ref(id)
            .ok_or_else(|| format!("fixture `{id}` is not declared in the script"))?;
        let (file, recipe) = table().recipe_for(&self.script.id, id, &reference).ok_or_else(|| {
            format!(
                "fixture `{id}` (`{reference}`) is a Touchstone path MedCom did not publish, and the data table (data/testscript-instructions.toml) says nothing of it"
            )
        })?;
        let file = file.to_string();
        if recipe.build == "vendor" {
            return Err(format!(
                "fixture `{id}` stands for what the vendor sends; the vendor has not sent it yet"
            ));
        }
        // A second fixture from the same file is a duplicate of the first: Touchstone fills a
        // new `${UUID}` Bundle.id into the same letter.
        if let Some(first) = self.built_from.get(&file).cloned()
            && let Some(m) = self.messages.get(&first).cloned()
        {
            let dup = m.resend().map_err(|e| e.to_string())?;
            result.summary = format!(
                "built `{id}` as a duplicate of `{first}` (same MessageHeader.id, new Bundle.id), as Touchstone builds both from `{file}`"
            );
            self.messages.insert(id.to_string(), dup.clone());
            return Ok(dup);
        }
        let message = self.build(&file, recipe)?;
        result.summary = format!(
            "built `{id}` for `{file}` from the harness's own templates with fresh ids ({})",
            message.label()
        );
        self.built_from.insert(file, id.to_string());
        self.messages.insert(id.to_string(), message.clone());
        Ok(message)
    }

    /// A message built for a fixture recipe.
    fn build(&self, file: &str, recipe: &testscript::FixtureRecipe) -> Result<Message, String> {
        let config = &self.env().config;
        let templates = self
            .env()
            .templates
            .lock()
            .map_err(|_| "template registry poisoned".to_string())?;
        let resource = match recipe.build.as_str() {
            "carecommunication-new" => {
                let mut ctx = Context::new_message(
                    &config.fhir_base,
                    config.harness.clone(),
                    config.vendor.clone(),
                );
                ctx.text = format!("Testbrev fra medcom-harness ({file}).");
                for ct in &recipe.attachments {
                    let wish = testscript::AttachmentWish {
                        content_type: Some(ct.clone()),
                        ..Default::default()
                    };
                    ctx.attachments
                        .push(testscript::shape::attachment_for(&wish, &ctx.now)?.into());
                }
                let mut r = templates
                    .render_resource("carecommunication/new", &ctx)
                    .map_err(|e| e.to_string())?;
                let what = Instruction {
                    episode_of_care: recipe.episode_of_care,
                    ..Default::default()
                };
                testscript::shape::apply(&mut r, &what, &config.fhir_base, None);
                r
            }
            "acknowledgement" => {
                // An acknowledgement of a message "the vendor sent": built in memory from the
                // vendor to the harness, then acknowledged by the harness.
                let ctx = Context::new_message(
                    &config.fhir_base,
                    config.vendor.clone(),
                    config.harness.clone(),
                );
                let letter = templates
                    .render_resource("carecommunication/new", &ctx)
                    .map_err(|e| e.to_string())?;
                let letter = Message::encode(&letter, Format::Json).map_err(|e| e.to_string())?;
                let code = recipe.code.as_deref().unwrap_or("ok");
                let issues = if code == "ok" {
                    Vec::new()
                } else {
                    vec![crate::template::Issue {
                        severity: "error".into(),
                        code: if code == "transient-error" {
                            "transient"
                        } else {
                            "invalid"
                        }
                        .into(),
                        system: crate::simulator::HL7_OUTCOME.into(),
                        details: "MSG_BAD_FORMAT".into(),
                        diagnostics: format!("acknowledged `{code}` by medcom-harness ({file})"),
                        expression: None,
                    }]
                };
                let ctx = Context::acknowledgement(
                    &config.fhir_base,
                    &letter,
                    config.harness.clone(),
                    code,
                    issues,
                );
                templates
                    .render_resource("acknowledgement/ack", &ctx)
                    .map_err(|e| e.to_string())?
            }
            "hospitalnotification" => {
                let name = recipe.event.as_deref().unwrap_or("STIN");
                let event = crate::hospitalnotification::Event::parse(name)
                    .ok_or_else(|| format!("`{name}` is not a HospitalNotification event"))?;
                let mut r = crate::hospitalnotification::render(
                    &templates,
                    &config.fhir_base,
                    config.harness.clone(),
                    config.vendor.clone(),
                    event,
                    None,
                    None,
                )?;
                if recipe.invalid {
                    // A Bundle.timestamp without a time zone breaks FHIR's instant and MedCom's
                    // time-zone rule: a correct receiver answers `fatal-error` (KR6).
                    if let Some(t) = r.get_mut("timestamp")
                        && let Some(text) = t.as_str()
                    {
                        let local: String = text.chars().take(19).collect();
                        *t = Value::from(local);
                    }
                }
                r
            }
            other => return Err(format!("unknown fixture build `{other}` in the data table")),
        };
        Message::encode(&resource, Format::Json).map_err(|e| e.to_string())
    }

    /// `read` by the vendor: deliver the stored Bundle it names and judge the answer.
    async fn deliver_stored(
        &mut self,
        op: &Operation,
        element: &str,
        result: &mut StepResult,
    ) -> Verdict {
        let params = match self.substitute(op.params.as_deref().unwrap_or_default()) {
            Ok(p) => p,
            Err(e) => return Verdict::Error(format!("{element}.params: {e}")),
        };
        let id = params
            .trim_start_matches('/')
            .split(['?', '/'])
            .next()
            .unwrap_or_default();
        let fixture = match op.target_id.clone().or_else(|| self.store.get(id).cloned()) {
            Some(f) => f,
            None => {
                return Verdict::Error(format!(
                    "{element}: the harness's store holds no Bundle `{id}`"
                ));
            }
        };
        match self.deliver_fixture(&fixture, result).await {
            Ok(text) => Verdict::Pass(text),
            Err(Stop::Error(e)) => Verdict::Error(format!("{element}: {e}")),
            Err(Stop::Skip(e) | Stop::Operator(e)) => Verdict::Skip(e),
        }
    }

    /// Delivers fixture `id` to the vendor and judges the acknowledgement (or, for an
    /// acknowledgement, that none comes back).
    async fn deliver_fixture(&mut self, id: &str, result: &mut StepResult) -> Result<String, Stop> {
        let message = self.fixture(id, result).await.map_err(Stop::Error)?;
        // An `acknowledge` order for this fixture goes to the vendor before the delivery.
        let order = table()
            .script
            .get(&self.script.id)
            .into_iter()
            .flatten()
            .find(|(_, i)| i.action == "acknowledge" && i.of.as_deref() == Some(id))
            .map(|(_, i)| i.clone());
        let expected = match &order {
            Some(i) => i
                .code
                .as_deref()
                .and_then(AckCode::parse)
                .unwrap_or(AckCode::Ok),
            None => {
                let invalid = self
                    .fixture_ref(id)
                    .and_then(|r| table().recipe(&r).map(|(_, rec)| rec.invalid))
                    .unwrap_or(false);
                if invalid {
                    AckCode::FatalError
                } else {
                    AckCode::Ok
                }
            }
        };
        if let Some(i) = &order {
            self.order(i, message.identity.letter_id.clone(), result)
                .await?;
        }
        self.serve(&message);
        let sent_headers = vec![(
            "content-type".to_string(),
            message.format.media_type().to_string(),
        )];
        self.headers.insert(id.to_string(), sent_headers.clone());
        let message = std::sync::Arc::new(message);
        let (evidence, seq, delivered) = self.x.deliver(&message, result).await?;
        self.last.request_headers = Some(sent_headers);
        self.last.request = Some(Message::clone(&message));
        if !delivered {
            self.last.missing = Some("the vendor could not be reached".into());
            return Ok(format!("delivered `{id}`: no response ({evidence})"));
        }
        let letter = message.identity.letter_id.clone().unwrap_or_default();
        let own = Origin::Response { send_seq: seq };
        if message.is_acknowledgement() {
            // KR2: an acknowledgement is never acknowledged; the vendor answers 200/201 only.
            self.last.status = Some(200);
            let back = self
                .env()
                .inbox
                .claim(Duration::from_millis(200), |r: &Received| r.origin == own)
                .await;
            if let Some(r) = back {
                let ev =
                    self.x
                        .received_evidence(&r, "answer to an acknowledgement".into(), result);
                result.findings.push(
                    rule::KR2
                        .breach(format!(
                            "the vendor answered the acknowledgement `{id}` with a message"
                        ))
                        .with_evidence([ev]),
                );
            } else {
                result.findings.push(rule::KR2.pass(format!(
                    "the vendor took the acknowledgement `{id}` without acknowledging it"
                )));
            }
            return Ok(format!(
                "delivered the acknowledgement `{id}` to the vendor"
            ));
        }
        let within = self.env().config.default_within;
        let found = self
            .env()
            .inbox
            .claim(within, |r: &Received| {
                if r.origin == own {
                    return true;
                }
                matches!(&r.origin, Origin::Delivered { .. } | Origin::File { .. })
                    && r.message.as_ref().is_ok_and(|m| {
                        m.is_acknowledgement()
                            && m.identity
                                .response
                                .as_ref()
                                .and_then(|x| x.identifier.as_deref())
                                == Some(letter.as_str())
                    })
            })
            .await;
        self.last.status = Some(200);
        let Some(received) = found else {
            result.findings.push(
                rule::KR1
                    .breach(format!(
                        "no acknowledgement of `{id}` (MessageHeader.id `{letter}`) within {}",
                        humantime::format_duration(within)
                    ))
                    .with_evidence([evidence]),
            );
            self.last.missing = Some(format!("the vendor did not acknowledge `{id}`"));
            return Ok(format!("delivered `{id}` to the vendor"));
        };
        let ev = self
            .x
            .received_evidence(&received, "acknowledgement".into(), result);
        let mut answer_headers = received.headers.clone();
        if !answer_headers.iter().any(|(n, _)| n == "content-type") {
            answer_headers.push(("content-type".into(), received.media_type.clone()));
        }
        self.last.response_headers = Some(answer_headers);
        let Ok(ack) = received.message.clone() else {
            result.findings.push(
                rule::WELL_FORMED
                    .breach("the vendor's answer is not a FHIR message")
                    .with_evidence([ev]),
            );
            return Ok(format!("delivered `{id}` to the vendor"));
        };
        let codes = self.env().config.rules.ack_codes;
        result.findings.extend(
            crate::check::acknowledgement_with(&ack, &message, expected, codes)
                .into_iter()
                .map(|f| f.with_evidence([ev.clone()])),
        );
        self.acks.insert(id.to_string(), ack.clone());
        self.last.response = Some(ack.clone());
        Ok(format!(
            "delivered `{id}` to the vendor; it answered {}",
            ack.label()
        ))
    }

    /// What a person (or the report) is told for `what`: the test's description from the
    /// script, and what its asserts expect, from the data file.
    fn instruction_text(&self, what: &Instruction, letter: Option<&str>) -> String {
        let expected = what.describe(letter);
        match self.test_description.as_deref() {
            Some(d) => format!("{d} (the script's asserts expect you to: {expected})"),
            None => format!("Do this in your system: {expected}"),
        }
    }

    /// Sends the reference vendor an order, or tells the operator; returns the MessageHeader.id
    /// of what the vendor says it sent.
    async fn order(
        &mut self,
        what: &Instruction,
        letter_id: Option<String>,
        result: &mut StepResult,
    ) -> Result<Option<String>, Stop> {
        let env = self.x.env;
        match &env.operator {
            Operator::ReferenceVendor(instruct) => {
                let url = instruct.replace(
                    crate::simulator::control::INSTRUCT_PATH,
                    crate::simulator::SCRIPT_PATH,
                );
                let order = crate::simulator::ScriptOrder {
                    instruction: what.clone(),
                    letter_id,
                    deliver_to: env.listen_url.clone(),
                    receiver: Some(env.config.harness.clone()),
                    second_receiver: Some(second_identity()),
                    format: Some(Format::Json),
                };
                let body = serde_json::to_value(&order)
                    .map_err(|e| Stop::Error(format!("the order could not be written: {e}")))?;
                match env.http.post_json(&url, &body).await {
                    Ok((200, text)) => {
                        let done: crate::simulator::ScriptDone = serde_json::from_str(&text)
                            .map_err(|e| {
                                Stop::Error(format!(
                                    "the reference vendor's answer is not a script result: {e}"
                                ))
                            })?;
                        result.findings.push(rule::TESTSCRIPT_ASSERT.pass(format!(
                            "the reference vendor was told to `{}`: {}",
                            what.action, done.text
                        )));
                        Ok(done.letter_id)
                    }
                    Ok((status, text)) => Err(Stop::Error(format!(
                        "the reference vendor refused the order `{}` (HTTP {status}): {text}",
                        what.action
                    ))),
                    Err(e) => Err(Stop::Error(format!(
                        "the reference vendor's control endpoint `{url}` failed: {e}"
                    ))),
                }
            }
            Operator::Terminal => {
                let text = self.instruction_text(what, letter_id.as_deref());
                result.summary = format!("the operator was told: {text}");
                (env.events)(Event::Instruction {
                    scenario: self.script.id.clone(),
                    text: text.clone(),
                });
                let _ = tokio::task::spawn_blocking(|| {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)
                })
                .await;
                Ok(None)
            }
            Operator::None => {
                // No terminal to tell a person: a vendor's own automation is expected to act.
                // The instruction is logged in the report and the harness waits as usual.
                let text = self.instruction_text(what, letter_id.as_deref());
                result.summary = format!(
                    "no terminal to tell an operator; logged here for the vendor's system: {text}"
                );
                Ok(None)
            }
        }
    }

    /// `create` by the vendor: tell it what to do, wait for the message, acknowledge it.
    async fn vendor_creates(
        &mut self,
        op: &Operation,
        element: &str,
        result: &mut StepResult,
    ) -> Verdict {
        let Some(fixture) = op.source_id.clone() else {
            return Verdict::Error(format!("{element}: a `create` without `sourceId`"));
        };
        if let Some(defect) = self.undeclared(&fixture, element) {
            return defect;
        }
        for alias in [&op.request_id, &op.response_id].into_iter().flatten() {
            self.aliases.insert(alias.clone(), fixture.clone());
        }
        let what = table()
            .instruction(&self.script.id, &fixture)
            .cloned()
            .unwrap_or_else(|| Instruction {
                action: "send-new".into(),
                ..Default::default()
            });
        if what.action == "acknowledge" {
            let of = what.of.clone().unwrap_or_default();
            return match self.acks.get(&of).cloned() {
                Some(ack) => {
                    self.messages.insert(fixture.clone(), ack.clone());
                    self.last.request = Some(ack.clone());
                    self.last.status = Some(200);
                    self.last.own_response = true;
                    Verdict::Pass(format!(
                        "the vendor's acknowledgement of `{of}`: {}",
                        ack.label()
                    ))
                }
                None => {
                    self.last.missing = Some(format!("the vendor did not acknowledge `{of}`"));
                    Verdict::Fail(
                        format!("the vendor sent no acknowledgement of `{of}` for `{fixture}`"),
                        false,
                    )
                }
            };
        }
        // The letter the action follows up: a fixture delivered first, or one named by `of`.
        let mut letter = None;
        let mut followed: Option<Message> = None;
        if let Some(file) = &what.deliver_first {
            let id = format!("{fixture}-original");
            let Some((_, recipe)) = table().recipe(file) else {
                return Verdict::Error(format!(
                    "{element}: the data table has no fixture `{file}`"
                ));
            };
            let message = match self.build(file, recipe) {
                Ok(m) => m,
                Err(e) => return Verdict::Error(format!("{element}: {e}")),
            };
            self.messages.insert(id.clone(), message.clone());
            self.store.insert(
                message.identity.envelope_id.clone().unwrap_or_default(),
                id.clone(),
            );
            if let Err(e) = self.deliver_fixture(&id, result).await {
                return stop_verdict(element, e);
            }
            letter = message.identity.letter_id.clone();
            followed = Some(message);
        } else if let Some(of) = &what.of {
            followed = self.message(of).cloned();
            letter = match self.message(of) {
                Some(m) => m.identity.letter_id.clone(),
                None => {
                    self.last.missing = Some(format!("`{of}` was never sent"));
                    return Verdict::Skip(format!("`{of}` has no message to follow up"));
                }
            };
        }
        let sent = match self.order(&what, letter, result).await {
            Ok(l) => l,
            Err(e) => return stop_verdict(element, e),
        };
        let within = self.env().config.default_within;
        let found = self
            .env()
            .inbox
            .claim(within, |r: &Received| {
                matches!(r.origin, Origin::Delivered { .. } | Origin::File { .. })
                    && r.message.as_ref().is_ok_and(|m| {
                        !m.is_acknowledgement()
                            && sent
                                .as_deref()
                                .is_none_or(|l| m.identity.letter_id.as_deref() == Some(l))
                    })
            })
            .await;
        let Some(received) = found else {
            self.last.missing = Some(format!("the vendor sent nothing for `{fixture}`"));
            return Verdict::Fail(
                format!(
                    "no message from the vendor for `{fixture}` within {}",
                    humantime::format_duration(within)
                ),
                false,
            );
        };
        let label = match &received.message {
            Ok(m) => m.label(),
            Err(_) => "unreadable message".into(),
        };
        let ev = self.x.received_evidence(&received, label, result);
        self.headers
            .insert(fixture.clone(), received.headers.clone());
        self.last.request_headers = Some(received.headers.clone());
        let message = match received.message {
            Ok(m) => m,
            Err(e) => {
                self.last.missing = Some("the vendor's message is unreadable".into());
                return Verdict::Fail(format!("the vendor's message is not FHIR: {e}"), false);
            }
        };
        // Received as a receiver receives it: a reply or forward is held to MedCom's follow-up
        // rules (CareCommunication IG, Communication profile description), beside the asserts.
        if let Some(prev) = &followed {
            let rules = match message.identity.activity_code() {
                Some(crate::message::Activity::ReplyMessage) => crate::check::reply(&message, prev),
                Some(crate::message::Activity::ForwardMessage) => {
                    crate::check::forward(&message, prev)
                }
                _ => Vec::new(),
            };
            result
                .findings
                .extend(rules.into_iter().map(|f| f.with_evidence([ev.clone()])));
        }
        self.messages.insert(fixture.clone(), message.clone());
        self.last.request = Some(message.clone());
        self.last.status = Some(202);
        self.last.own_response = true;
        // The harness acknowledges it as a receiver does.
        let name = format!("{fixture}@{}", self.x.step_index);
        self.x.capture_owned(&name, message.clone(), &ev);
        let ack = crate::scenario::Ack {
            for_: name,
            code: None,
            format: None,
        };
        if let Err(e) = self.x.ack(&ack).await.map(|r| {
            result.evidence.extend(r.evidence);
            result.findings.extend(r.findings);
        }) {
            return stop_verdict(element, e);
        }
        Verdict::Pass(format!(
            "the vendor sent {}; the harness acknowledged it",
            message.label()
        ))
    }

    async fn assert(&mut self, a: &Assert, element: &str, result: &mut StepResult) -> Verdict {
        let defect = table()
            .defect
            .get(&self.script.id)
            .into_iter()
            .flatten()
            .find(|d| d.element == element);
        let verdict = self.judge(a, element, result);
        match (verdict, defect) {
            (Verdict::Fail(text, _), Some(d)) => Verdict::Error(format!(
                "{element}: a defect of the script, not the vendor: {} (the assert said: {text})",
                d.why
            )),
            (v, _) => v,
        }
    }

    /// The message an assert looks at.
    fn target(&self, a: &Assert) -> Result<Option<Message>, String> {
        if let Some(id) = &a.source_id {
            return match self.message(id) {
                Some(m) => Ok(Some(m.clone())),
                None if self.fixture_ref(id).is_some() || self.aliases.contains_key(id) => Ok(None),
                None => Err(format!(
                    "sourceId `{id}` names no fixture, request or response"
                )),
            };
        }
        Ok(if a.on_request() {
            self.last.request.clone()
        } else {
            self.last.response.clone()
        })
    }

    fn judge(&mut self, a: &Assert, element: &str, result: &mut StepResult) -> Verdict {
        let warn = a.warning_only;
        if let Some(codes) = &a.response_code {
            let op = a.operator.as_deref().unwrap_or("equals");
            // The operator is the script's to get right whoever answered: a typo is its defect.
            if let Err(e) = testscript::compare(op, &[], codes) {
                return Verdict::Error(format!("{element}.operator: {e}"));
            }
            let Some(status) = self.last.status else {
                return Verdict::Skip(
                    self.last
                        .missing
                        .clone()
                        .unwrap_or_else(|| "no response to judge".into()),
                );
            };
            if self.last.own_response {
                return Verdict::Pass(format!(
                    "the harness is the FHIR server here and took the request itself (HTTP {status}); `{op} {codes}` judges the test tool, not the vendor"
                ));
            }
            return match testscript::compare(op, &[status.to_string()], codes) {
                Ok(true) => Verdict::Pass(format!("HTTP {status} is {op} `{codes}`")),
                Ok(false) => Verdict::Fail(format!("HTTP {status}, expected {op} `{codes}`"), warn),
                Err(e) => Verdict::Error(format!("{element}.operator: {e}")),
            };
        }
        if let Some(name) = &a.header_field {
            return self.judge_header(a, name, element);
        }
        let target = match self.target(a) {
            Ok(Some(m)) => m,
            Ok(None) => {
                return Verdict::Skip(
                    self.last
                        .missing
                        .clone()
                        .unwrap_or_else(|| "the operation before it produced no message".into()),
                );
            }
            Err(e) => return Verdict::Error(format!("{element}.sourceId: {e}")),
        };
        if let Some(ev) = self
            .x
            .evidence
            .iter()
            .rev()
            .find(|e| e.sha256 == crate::message::AttachmentData::of(&target.bytes))
        {
            result.evidence.push(ev.id.clone());
        }
        if let Some(rt) = &a.resource {
            let actual = target.resource["resourceType"].as_str().unwrap_or("");
            return if actual == rt {
                Verdict::Pass(format!("the resource is a {rt}"))
            } else {
                Verdict::Fail(
                    format!("the resource is a `{actual}`, expected `{rt}`"),
                    warn,
                )
            };
        }
        if let Some(ct) = &a.content_type {
            let media = target.format.media_type();
            return if media.contains(ct.as_str()) {
                Verdict::Pass(format!("content type {media}"))
            } else {
                Verdict::Fail(format!("content type {media}, expected `{ct}`"), warn)
            };
        }
        if let Some(profile_id) = &a.validate_profile_id {
            return self.validate_profile(profile_id, &target, element, warn);
        }
        let Some(raw) = a.expression.as_deref().or(a.path.as_deref()) else {
            return Verdict::Skip("an assert the engine does not implement (no expression, responseCode, resource, contentType or validateProfileId)".into());
        };
        let expr = match self.substitute(raw) {
            Ok(e) => e,
            Err(e) => return Verdict::Error(format!("{element}.expression: {e}")),
        };
        // `expr` is the script's expression as written (quotes kept) with `${…}` filled in; the
        // engine evaluates `evaluated`, which applies Touchstone's readings.
        let (evaluated, quirk) = testscript::touchstone_quirks(&expr);
        let mut note = if quirk && raw.contains("ofType('") {
            format!(" (note: {})", testscript::QUIRK_OFTYPE_STRING)
        } else if quirk {
            format!(" (note: {})", testscript::QUIRK_COUNT_STRING)
        } else {
            String::new()
        };
        let items = match self.eval(&target, &evaluated) {
            Ok(i) => i,
            Err(e) => {
                let read = if quirk {
                    format!(" (read as `{evaluated}`)")
                } else {
                    String::new()
                };
                return Verdict::Error(format!(
                    "{element}.expression: `{expr}`{read} does not parse or evaluate in FHIRPath: {e}"
                ));
            }
        };
        note.push_str(&self.unquoted_note(raw, &target));
        let texts: Vec<String> = items.iter().map(testscript::item_text).collect();
        if let Some(other) = &a.compare_to_source_id {
            let Some(cmp_expr) = a
                .compare_to_source_expression
                .as_deref()
                .or(a.compare_to_source_path.as_deref())
            else {
                return Verdict::Error(format!(
                    "{element}: `compareToSourceId` without `compareToSourceExpression`"
                ));
            };
            let Some(other_msg) = self.message(other).cloned() else {
                return Verdict::Error(format!(
                    "{element}.compareToSourceId: `{other}` names no message"
                ));
            };
            let theirs = match self.eval(&other_msg, cmp_expr) {
                Ok(i) => i.iter().map(testscript::item_text).collect::<Vec<_>>(),
                Err(e) => {
                    return Verdict::Error(format!(
                        "{element}.compareToSourceExpression: does not evaluate: {e}"
                    ));
                }
            };
            let op = a.operator.as_deref().unwrap_or("equals");
            let same = texts == theirs;
            let pass = match op {
                "equals" => same,
                "notEquals" => !same,
                other => {
                    return Verdict::Error(format!(
                        "{element}.operator: `{other}` with compareToSourceId is not supported"
                    ));
                }
            };
            let text = format!("`{expr}` gives {texts:?}, `{other}` gives {theirs:?} ({op})");
            return if pass {
                Verdict::Pass(text)
            } else {
                Verdict::Fail(text, warn)
            };
        }
        match a.operator.as_deref().filter(|o| *o != "eval") {
            Some(op) => {
                let value = match self.substitute(a.value.as_deref().unwrap_or_default()) {
                    Ok(v) => v,
                    Err(e) => return Verdict::Error(format!("{element}.value: {e}")),
                };
                match testscript::compare(op, &texts, &value) {
                    Ok(true) => {
                        Verdict::Pass(format!("`{expr}` gives {texts:?}, {op} `{value}`{note}"))
                    }
                    Ok(false) => Verdict::Fail(
                        format!("`{expr}` gives {texts:?}, expected {op} `{value}`{note}"),
                        warn,
                    ),
                    Err(e) => Verdict::Error(format!("{element}.operator: {e}")),
                }
            }
            None => {
                if testscript::truthy(&items) {
                    Verdict::Pass(format!("`{expr}` holds{note}"))
                } else {
                    Verdict::Fail(format!("`{expr}` gives {texts:?}, not true{note}"), warn)
                }
            }
        }
    }

    /// A `headerField` assert: the header's values in the request (`direction = request`) or
    /// the response, compared by `operator` (default `equals` with a `value`, else `notEmpty`).
    fn judge_header(&self, a: &Assert, name: &str, element: &str) -> Verdict {
        let warn = a.warning_only;
        if !a.on_request() && self.last.own_response {
            return Verdict::Pass(format!(
                "the harness is the FHIR server here and answered the request itself; its `{name}` header judges the test tool, not the vendor"
            ));
        }
        let headers = if a.on_request() {
            &self.last.request_headers
        } else {
            &self.last.response_headers
        };
        let Some(headers) = headers else {
            return Verdict::Skip(
                self.last
                    .missing
                    .clone()
                    .unwrap_or_else(|| "no HTTP exchange to read headers from".into()),
            );
        };
        let values: Vec<String> = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect();
        let value = match self.substitute(a.value.as_deref().unwrap_or_default()) {
            Ok(v) => v,
            Err(e) => return Verdict::Error(format!("{element}.value: {e}")),
        };
        let op = a.operator.as_deref().unwrap_or(if a.value.is_some() {
            "equals"
        } else {
            "notEmpty"
        });
        let side = if a.on_request() {
            "request"
        } else {
            "response"
        };
        match testscript::compare(op, &values, &value) {
            Ok(true) => Verdict::Pass(format!(
                "the {side}'s `{name}` header {values:?} is {op} `{value}`"
            )),
            Ok(false) => Verdict::Fail(
                format!("the {side}'s `{name}` header is {values:?}, expected {op} `{value}`"),
                warn,
            ),
            Err(e) => Verdict::Error(format!("{element}.operator: {e}")),
        }
    }

    fn validate_profile(
        &self,
        profile_id: &str,
        target: &Message,
        element: &str,
        warn: bool,
    ) -> Verdict {
        let Some(canonical) = self
            .script
            .profile
            .iter()
            .find(|p| p.id == profile_id)
            .and_then(|p| p.reference.clone())
        else {
            return Verdict::Error(format!(
                "{element}.validateProfileId: the script declares no profile `{profile_id}`"
            ));
        };
        let Some(ig) = self.env().ig.as_deref() else {
            return Verdict::Skip(format!(
                "no implementation guide is loaded (`--ig`), so `{canonical}` cannot be checked"
            ));
        };
        let base = canonical.split('|').next().unwrap_or(&canonical);
        if !ig.profile_urls().contains(&base) {
            return Verdict::Fail(
                format!("the profile `{canonical}` is not in the loaded implementation guides"),
                true,
            );
        }
        let errors: Vec<Finding> = crate::validate::profile::validate_bundle(ig, &target.resource)
            .into_iter()
            .filter(|f| f.grade.fails(Grade::F4))
            .collect();
        if errors.is_empty() {
            Verdict::Pass(format!(
                "valid against `{canonical}` and the profiles it implies"
            ))
        } else {
            let first: Vec<String> = errors
                .iter()
                .take(3)
                .map(|f| format!("{} {}", f.rule, f.message))
                .collect();
            // The script names the release it means (`…|5.0.1`); judged by another release
            // (an older package in the cache), a breach is that release's, graded F4 as the
            // profile validator grades a version it does not have (`profile-version`).
            let pin = canonical.split_once('|').map(|(_, v)| v);
            let loaded = ig.profile(base).and_then(|p| p.version.clone());
            let major_minor = |v: &str| v.split('.').take(2).collect::<Vec<_>>().join(".");
            let other_release = match (pin, loaded.as_deref()) {
                (Some(pin), Some(loaded)) => major_minor(pin) != major_minor(loaded),
                _ => false,
            };
            let note = if other_release {
                format!(
                    " (graded F4: the script asks for version {} of the profile, the loaded guide has {}; load the package of version {} to judge them)",
                    pin.unwrap_or_default(),
                    loaded.as_deref().unwrap_or_default(),
                    pin.unwrap_or_default()
                )
            } else {
                String::new()
            };
            Verdict::Fail(
                format!(
                    "{} profile error(s) against `{canonical}`: {}{note}",
                    errors.len(),
                    first.join("; ")
                ),
                warn || other_release,
            )
        }
    }
}

/// The text at `expression` when it is a plain path of names from `Bundle` (`Bundle.timestamp`,
/// `Bundle.id`) that reaches a JSON primitive.
fn raw_path(bundle: &Value, expression: &str) -> Option<String> {
    let rest = expression.strip_prefix("Bundle.")?;
    let mut v = bundle;
    for name in rest.split('.') {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        v = v.get(name)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(v.to_string()),
        _ => None,
    }
}

fn stop_verdict(element: &str, stop: Stop) -> Verdict {
    match stop {
        Stop::Error(e) => Verdict::Error(format!("{element}: {e}")),
        Stop::Skip(e) | Stop::Operator(e) => Verdict::Skip(e),
    }
}

/// The harness's second identity, the receiver of a forward to a second receiver.
fn second_identity() -> Organization {
    Organization {
        ean: "5790000000036".into(),
        sor_id: "999971000016003".into(),
        name: "Anden modtager (test)".into(),
    }
}
