//! One scenario's exchange with the vendor: its steps in order, its captures and its evidence.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::outcome::{
    Direction, Evidence, GoldenDiff, ScenarioOutcome, ScenarioStatus, StepError, StepOutcome,
    StepStatus,
};
use super::{Env, Event, Operator, UpdateGolden};
use crate::check;
use crate::finding::{Finding, Grade, worst};
use crate::message::{AckCode, Activity, Format, Message, attachment};
use crate::rule;
use crate::scenario::{self, Scenario, Step};
use crate::simulator::DeliverTo;
use crate::template::{AttachmentInput, Context};
use crate::transport::{Origin, Parcel, Received, Route};

mod capture;
mod letter;
mod script;

use capture::{Capture, Captures, Item};

/// A step could not be performed (an error) or has nothing to work on (skipped).
enum Stop {
    Error(String),
    Skip(String),
    Operator(String),
}

struct StepResult {
    summary: String,
    findings: Vec<Finding>,
    evidence: Vec<String>,
    diffs: Vec<GoldenDiff>,
}

impl StepResult {
    fn new(summary: impl Into<String>) -> StepResult {
        StepResult {
            summary: summary.into(),
            findings: Vec::new(),
            evidence: Vec::new(),
            diffs: Vec::new(),
        }
    }
}

/// An evidence write under way on a blocking thread (see [`crate::run::DeferredWrite`]).
type PendingWrite = tokio::task::JoinHandle<Result<(), (std::io::Error, Vec<u8>)>>;

struct Exchange<'a> {
    env: &'a Env,
    scenario: &'a Scenario,
    dir: PathBuf,
    /// The messages and letters the steps sent and received, by capture name.
    captures: Captures,
    evidence: Vec<Evidence>,
    own_acks: Vec<String>,
    step_index: usize,
    /// Why evidence could not be kept on disk, when it could not: the harness's failure.
    unrecorded: Option<String>,
    /// Evidence writes under way on blocking threads, by index in `evidence`.
    pending: Vec<(usize, PendingWrite)>,
    /// The resend interval given to the reference vendor by the last `instruct` with an action
    /// (`None`: its default, KR7's 30 minutes).
    resend_after: Option<Duration>,
    /// The MessageHeader.id the reference vendor was told to give the next HospitalNotification
    /// of a stay, by stay.
    hn_letters: std::collections::BTreeMap<String, String>,
    /// The HospitalNotifications received per stay (`expect-message` with `stay`), in order.
    stays: std::collections::BTreeMap<String, Vec<crate::hospitalnotification::Facts>>,
}

/// Runs every step of `scenario` and returns its outcome. Never fails: what goes wrong is in the
/// outcome.
pub(crate) async fn run_scenario(env: &Env, scenario: &Scenario) -> ScenarioOutcome {
    if let Some(ts) = &scenario.testscript {
        return script::run(env, scenario, ts).await;
    }
    let started = Instant::now();
    let mut x = Exchange::new(env, scenario);
    let mut steps = Vec::new();
    let mut status_reason: Option<(ScenarioStatus, String)> = None;
    for (i, spanned) in scenario.steps.iter().enumerate() {
        let step = spanned.get_ref();
        x.step_index = i + 1;
        let t = Instant::now();
        let mut error = None;
        let (status, reason, result) = if let Some((_, why)) = &status_reason {
            (
                StepStatus::Skipped,
                Some(format!("not run: {why}")),
                StepResult::new(describe(step)),
            )
        } else {
            let mut interrupt = env.interrupt.clone();
            let result = if *interrupt.borrow() {
                Err(Stop::Error(super::not_run_stopped()))
            } else {
                tokio::select! {
                    r = x.step(step) => r,
                    _ = interrupt.wait_for(|stop| *stop) => Err(Stop::Error(format!("cut short while the step ran: {}", super::STOPPED))),
                }
            };
            match result {
                Ok(r) => (StepStatus::Ran, None, r),
                Err(Stop::Skip(why)) => (
                    StepStatus::Skipped,
                    Some(why),
                    StepResult::new(describe(step)),
                ),
                Err(Stop::Error(why)) => {
                    let e = StepError {
                        location: scenario.step_location(i + 1),
                        step: i + 1,
                        kind: step.kind().to_string(),
                        message: why.clone(),
                    };
                    status_reason = Some((ScenarioStatus::Error, e.to_string()));
                    error = Some(e);
                    (
                        StepStatus::Error,
                        Some(why),
                        StepResult::new(describe(step)),
                    )
                }
                Err(Stop::Operator(why)) => {
                    status_reason = Some((ScenarioStatus::Skipped, why.clone()));
                    (
                        StepStatus::Skipped,
                        Some(why),
                        StepResult::new(describe(step)),
                    )
                }
            }
        };
        steps.push(StepOutcome {
            index: i + 1,
            kind: step.kind().to_string(),
            summary: result.summary,
            status,
            reason,
            error,
            findings: result.findings,
            evidence: result.evidence,
            diffs: result.diffs,
            duration: t.elapsed(),
        });
    }
    // KR2: an acknowledgement the harness sent must never be acknowledged.
    let kr2 = x.acks_of_own_acks();
    if let Some(last) = steps.last_mut() {
        last.findings.extend(kr2);
    }
    let verdict = worst(steps.iter().flat_map(|s| s.findings.iter()));
    // A scenario none of whose steps ran tested nothing: it is skipped, never passed.
    if status_reason.is_none() && steps.iter().all(|s| s.status == StepStatus::Skipped) {
        let why = steps
            .iter()
            .find_map(|s| s.reason.clone())
            .unwrap_or_default();
        status_reason = Some((ScenarioStatus::Skipped, why));
    }
    // Evidence the harness could not keep makes the scenario its error, whatever was judged.
    x.settle_evidence().await;
    if let Some(why) = x.unrecorded.take() {
        status_reason = Some((ScenarioStatus::Error, why));
    }
    let (status, reason) = match status_reason {
        Some((ScenarioStatus::Skipped, why)) if !verdict.fails(env.config.threshold) => {
            (ScenarioStatus::Skipped, Some(why))
        }
        Some((ScenarioStatus::Error, why)) => (ScenarioStatus::Error, Some(why)),
        _ if verdict.fails(env.config.threshold) => (ScenarioStatus::Failed, None),
        Some((_, why)) => (ScenarioStatus::Skipped, Some(why)),
        None => (ScenarioStatus::Passed, None),
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

fn describe(step: &Step) -> String {
    match step {
        Step::Send(s) => format!("send `{}` as `{}`", s.message, s.as_),
        Step::ExpectAck(a) => format!("expect the acknowledgement of `{}`", a.for_),
        Step::Resend(r) => format!("resend `{}`", r.of),
        Step::ExpectMessage(m) => format!(
            "expect a message `{}`",
            m.activity.as_deref().unwrap_or("from the vendor")
        ),
        Step::Ack(a) => format!("acknowledge `{}`", a.for_),
        Step::Instruct(i) => format!("instruct: {}", i.text),
        Step::SendLetter(l) => format!(
            "send an {} letter as `{}`",
            l.letter_type.as_deref().unwrap_or("XDIS91"),
            l.as_
        ),
        Step::ExpectReceipt(r) => format!("expect the receipt of `{}`", r.for_),
        Step::ExpectLetter(l) => format!(
            "expect an {} letter as `{}`",
            l.letter_type.as_deref().unwrap_or("XDIS91"),
            l.as_
        ),
        Step::Receipt(r) => format!("send the receipt for `{}`", r.for_),
        Step::ExpectResends(r) => format!("watch for resends of `{}`", r.of),
    }
}

impl<'a> Exchange<'a> {
    /// A fresh exchange for `scenario`: no captures, no evidence yet.
    fn new(env: &'a Env, scenario: &'a Scenario) -> Exchange<'a> {
        Exchange {
            env,
            scenario,
            dir: scenario
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default(),
            captures: Captures::default(),
            evidence: Vec::new(),
            own_acks: Vec::new(),
            step_index: 0,
            resend_after: None,
            unrecorded: None,
            pending: Vec::new(),
            stays: std::collections::BTreeMap::new(),
            hn_letters: std::collections::BTreeMap::new(),
        }
    }
}

impl Exchange<'_> {
    async fn step(&mut self, step: &Step) -> Result<StepResult, Stop> {
        match step {
            Step::Send(s) => self.send(s).await,
            Step::ExpectAck(a) => self.expect_ack(a).await,
            Step::Resend(r) => self.resend(r).await,
            Step::ExpectMessage(m) => self.expect_message(m).await,
            Step::Ack(a) => self.ack(a).await,
            Step::Instruct(i) => self.instruct(i).await,
            Step::SendLetter(l) => self.send_letter(l).await,
            Step::ExpectReceipt(r) => self.expect_receipt(r).await,
            Step::ExpectLetter(l) => self.expect_letter(l).await,
            Step::Receipt(r) => self.receipt(r).await,
            Step::ExpectResends(r) => self.expect_resends(r).await,
        }
    }

    fn captured(&self, name: &str) -> Result<&Message, Stop> {
        self.captures.message(name).ok_or_else(|| {
            Stop::Skip(format!(
                "`{name}` was not captured: the step that should have produced it got nothing"
            ))
        })
    }

    fn add_evidence(
        &mut self,
        direction: Direction,
        label: String,
        media_type: String,
        bytes: Vec<u8>,
    ) -> String {
        let id = format!("e{}", self.evidence.len() + 1);
        let mut evidence = Evidence::new(id.clone(), direction, label, media_type, bytes);
        if let Some(recorder) = &self.env.recorder
            && let Err(e) = recorder.evidence(&self.scenario.id, &mut evidence)
            && self.unrecorded.is_none()
        {
            self.unrecorded = Some(format!("failed to write evidence `{id}` to disk: {e}"));
        }
        self.evidence.push(evidence);
        id
    }

    /// As [`Exchange::add_evidence`] for bytes the caller keeps: the recorder writes them from
    /// the caller's buffer, and only their preview is copied (a big message is not copied to
    /// become evidence). Without a recorder, or when writing fails, the evidence holds a copy.
    fn add_evidence_of(
        &mut self,
        direction: Direction,
        label: String,
        media_type: String,
        bytes: &[u8],
    ) -> String {
        let id = format!("e{}", self.evidence.len() + 1);
        let Some(recorder) = &self.env.recorder else {
            return self.add_evidence(direction, label, media_type, bytes.to_vec());
        };
        let mut evidence = Evidence::preview_of(id.clone(), direction, label, media_type, bytes);
        // An item no bigger than its preview is written on a blocking thread from a copy of it,
        // while the exchange goes on (creating the file was a quarter of a scenario's time); a
        // bigger one from the caller's buffer, now, so it is never copied.
        let runtime = tokio::runtime::Handle::try_current();
        let written = match runtime {
            Ok(runtime) if !evidence.is_preview() => {
                let copy = evidence.bytes.clone();
                recorder
                    .evidence_deferred(&self.scenario.id, &mut evidence, copy)
                    .map(|write| {
                        if let Some(write) = write {
                            let index = self.evidence.len();
                            self.pending.push((index, runtime.spawn_blocking(write)));
                        }
                    })
            }
            _ => recorder.evidence_of(&self.scenario.id, &mut evidence, bytes),
        };
        if let Err(e) = written {
            self.unrecorded(&id, &e);
        }
        self.evidence.push(evidence);
        id
    }

    /// Notes the first evidence item the harness could not keep on disk.
    fn unrecorded(&mut self, id: &str, e: &std::io::Error) {
        if self.unrecorded.is_none() {
            self.unrecorded = Some(format!("failed to write evidence `{id}` to disk: {e}"));
        }
    }

    /// Waits for the evidence writes still under way (see [`Exchange::add_evidence_of`]): an
    /// item not written keeps its bytes in memory, loses its `file` and makes the scenario an
    /// error of the harness.
    async fn settle_evidence(&mut self) {
        for (index, write) in std::mem::take(&mut self.pending) {
            let failed = match write.await {
                Ok(Ok(())) => None,
                Ok(Err((e, bytes))) => Some((e, Some(bytes))),
                Err(e) => Some((std::io::Error::other(e), None)),
            };
            if let Some((e, bytes)) = failed {
                let id = self.evidence[index].id.clone();
                self.unrecorded(&id, &e);
                let evidence = &mut self.evidence[index];
                evidence.file = None;
                if let Some(bytes) = bytes {
                    evidence.bytes = bytes;
                }
            }
        }
    }

    /// Captures `message` as `name`, keeping the message itself (no copy).
    fn capture_owned(&mut self, name: &str, message: Message, evidence: &str) -> &mut Capture {
        self.capture_shared(name, std::sync::Arc::new(message), evidence)
    }

    /// As [`Exchange::capture_owned`], sharing `message` (the one that was sent: no copy).
    fn capture_shared(
        &mut self,
        name: &str,
        message: std::sync::Arc<Message>,
        evidence: &str,
    ) -> &mut Capture {
        self.captures
            .insert(name, Capture::new(Item::Message(message), evidence))
    }

    /// The message captured as `name`, shared (no copy).
    fn captured_shared(&self, name: &str) -> Result<std::sync::Arc<Message>, Stop> {
        self.captured(name)?;
        self.captures
            .message_shared(name)
            .ok_or_else(|| Stop::Error(format!("`{name}` is not a FHIR message")))
    }

    /// POSTs a message, keeps it and the response as evidence; the response body goes to the
    /// inbox for `expect-ack` to claim.
    /// Returns the evidence id of the sent message, the send number, and whether the vendor got it
    /// (an HTTP response came, or the file was written).
    ///
    /// A message over `[rules] size-limit` is not sent, and a file the harness may not write
    /// into the vendor's inbox is not the vendor's fault: both are errors of the step
    /// ([`Stop::Error`]), never findings.
    async fn deliver(
        &mut self,
        message: &std::sync::Arc<Message>,
        result: &mut StepResult,
    ) -> Result<(String, u64, bool), Stop> {
        self.within_size_limit(message.bytes.len(), "message")?;
        let sent = self.add_evidence_of(
            Direction::Sent,
            message.label(),
            message.format.media_type().into(),
            &message.bytes,
        );
        result.evidence.push(sent.clone());
        let seq = self.env.inbox.next_send();
        let route = self.route();
        let mut delivery = match &route {
            Route::Folder(folder) => {
                let parcel = Parcel::fhir(message, seq, folder.packing);
                self.within_size_limit(parcel.bytes.len(), "enveloped message")?;
                if let Err(e) = parcel.write(&folder.dir, folder.mode) {
                    return Err(Stop::Error(format!(
                        "the harness could not write the message into the vendor's inbox: {e}"
                    )));
                }
                if parcel.enveloped {
                    let id = self.add_evidence(
                        Direction::Sent,
                        format!("VANSEnvelope carrying {sent}"),
                        "application/xml".into(),
                        parcel.bytes,
                    );
                    result.evidence.push(id);
                }
                return Ok((sent, seq, true));
            }
            Route::Http(url) => self.env.http.send_shared(url, message).await,
        };
        let finding = check::delivery(
            delivery.status,
            delivery.failure.as_deref(),
            self.env.http.target(),
        );
        // A 2xx other than 200/201 is a note (`http-status`): the vendor took the message, and a
        // body it answered with is read as for 200.
        let taken =
            delivery.failure.is_none() && delivery.status.is_some_and(|s| (200..300).contains(&s));
        if taken && !delivery.body.iter().all(u8::is_ascii_whitespace) {
            // Moved, not copied: a body the vendor's system took is not read again below.
            self.env.inbox.push(
                Origin::Response { send_seq: seq },
                std::mem::take(&mut delivery.body),
                std::mem::take(&mut delivery.content_type),
            );
        }
        match (delivery.status, finding) {
            (Some(_), None) => {}
            (Some(_), Some(finding)) if taken => result.findings.push(finding),
            (Some(status), Some(finding)) => {
                let id = self.add_evidence(
                    Direction::Received,
                    format!("HTTP {status} response"),
                    delivery.content_type.clone(),
                    delivery.body.clone(),
                );
                result.evidence.push(id.clone());
                result.findings.push(finding.with_evidence([id]));
            }
            (None, finding) => {
                result.findings.extend(finding);
                return Ok((sent, seq, false));
            }
        }
        Ok((sent, seq, true))
    }

    /// [`Stop::Error`] when a message of `size` bytes the harness built is over `[rules]
    /// size-limit`: sending it would make the vendor's rightful refusal look like its fault.
    fn within_size_limit(&self, size: usize, what: &str) -> Result<(), Stop> {
        let limit = self.env.config.rules.size_limit;
        if u64::try_from(size).unwrap_or(u64::MAX) > limit {
            return Err(Stop::Error(format!(
                "the {what} the harness built is {size} bytes, over `[rules] size-limit` ({limit} bytes): not sent"
            )));
        }
        Ok(())
    }

    /// Where the harness's FHIR messages go: the vendor's inbox folder when FHIR travels through
    /// the exchange folder, its HTTP endpoint otherwise.
    fn route(&self) -> Route {
        match self
            .env
            .folder
            .as_ref()
            .filter(|_| self.env.fhir_over_folder)
        {
            Some(layout) => Route::folder(&layout.inbox),
            None => Route::Http(self.env.http.url().to_string()),
        }
    }

    async fn send(&mut self, s: &scenario::Send) -> Result<StepResult, Stop> {
        let config = &self.env.config;
        let hn_event = crate::hospitalnotification::Event::of_template(&s.message);
        let mut ctx = match &s.follows {
            // A HospitalNotification stays with the hospital: the next event of the stay is sent
            // by the same sender to the same receiver, from the stay's previous message.
            Some(prev) if hn_event.is_some() => {
                let _ = self.captured(prev)?;
                Context::new_message(
                    &config.fhir_base,
                    config.harness.clone(),
                    config.vendor.clone(),
                )
            }
            Some(prev) => Context::follow_up(
                &config.fhir_base,
                self.captured(prev)?,
                config.harness.clone(),
                None,
            ),
            None => Context::new_message(
                &config.fhir_base,
                config.harness.clone(),
                config.vendor.clone(),
            ),
        };
        if let Some(c) = &s.category {
            ctx.category = c.clone();
        }
        ctx.text = s.text.clone().unwrap_or_else(|| {
            format!(
                "Testbrev fra medcom-harness, scenarie {}.",
                self.scenario.id
            )
        });
        for a in &s.attachments {
            ctx.attachments.push(self.attachment(a)?.into());
        }
        // Big attachment data is not rendered: the template writes a marker where it goes, and
        // the text is moved into the parsed resource there (rendering copied it several times:
        // the context as JSON, JSON escaping, the rendered text, the parsed resource).
        let mut big_data: Vec<(String, String)> = Vec::new();
        for a in &mut ctx.attachments {
            if let Some(data) = a.attachment.data.take_if(|d| d.len() > SPLICE_BYTES) {
                let marker = format!("medcom-harness-attachment-data-{}", uuid::Uuid::new_v4());
                a.attachment.data = Some(marker.clone());
                big_data.push((marker, data));
            }
        }
        ctx.captures = self.captures.values();
        if let Some(event) = hn_event {
            let previous = match &s.follows {
                Some(prev) => Some(self.captured_shared(prev)?),
                None => None,
            };
            crate::hospitalnotification::prepare(&mut ctx, event, previous.as_deref())
                .map_err(|e| Stop::Error(e.to_string()))?;
        }
        // Registering a template file is exclusive and brief; rendering shares the lock, so
        // the scenarios that run at once render in parallel.
        let name = self
            .env
            .templates
            .write()
            .map_err(|_| Stop::Error("template registry poisoned".into()))?
            .resolve(&s.message, &self.dir)
            .map_err(|e| Stop::Error(e.to_string()))?;
        let mut resource = self
            .env
            .templates
            .lock()
            .map_err(|_| Stop::Error("template registry poisoned".into()))?
            .render_resource(&name, &ctx)
            .map_err(|e| Stop::Error(e.to_string()))?;
        drop(ctx);
        if !big_data.is_empty() {
            splice_data(&mut resource, &mut big_data);
        }
        if !s.patch.is_empty() {
            let ops: Value =
                serde_json::to_value(&s.patch).map_err(|e| Stop::Error(e.to_string()))?;
            let patch: json_patch::Patch = serde_json::from_value(ops)
                .map_err(|e| Stop::Error(format!("`patch` is not a JSON Patch: {e}")))?;
            json_patch::patch(&mut resource, &patch)
                .map_err(|e| Stop::Error(format!("`patch` does not apply: {e}")))?;
        }
        let format = s.format.unwrap_or(Format::Json);
        let message =
            Message::encode_owned(resource, format).map_err(|e| Stop::Error(e.to_string()))?;
        let mut result = StepResult::new(format!(
            "sent {} as `{}` ({format})",
            message.label(),
            s.as_
        ));
        let message = std::sync::Arc::new(message);
        let (evidence, seq, delivered) = self.deliver(&message, &mut result).await?;
        let step = self.step_index;
        let capture = self.capture_shared(&s.as_, message, &evidence);
        capture.send_seq = Some(seq);
        capture.undelivered_at = (!delivered).then_some(step);
        Ok(result)
    }

    fn attachment(&self, spec: &scenario::AttachmentSpec) -> Result<AttachmentInput, Stop> {
        if let Some(url) = &spec.url {
            return Ok(AttachmentInput {
                content_type: spec.content_type.clone(),
                title: spec.title.clone(),
                url: Some(url.clone()),
                ..AttachmentInput::default()
            });
        }
        let file = spec
            .file
            .as_ref()
            .map(|f| self.dir.join(f))
            .unwrap_or_default();
        // Read and encoded in chunks: only the base64 text is held, not the file's bytes too.
        let (data, fp) = attachment::encode_file(&file).map_err(|e| {
            Stop::Error(format!(
                "failed to read attachment `{}`: {e}",
                file.display()
            ))
        })?;
        let content_type = spec
            .content_type
            .clone()
            .or_else(|| fp.sniffed_type.clone())
            .ok_or_else(|| {
                Stop::Error(format!(
                    "attachment `{}`: give `content-type`, its magic bytes say nothing",
                    file.display()
                ))
            })?;
        Ok(AttachmentInput {
            content_type: Some(content_type),
            title: spec.title.clone(),
            data: Some(data),
            size: Some(fp.size),
            hash: Some(fp.sha1_base64),
            creation: None,
            url: None,
        })
    }

    fn within(&self, w: Option<Duration>) -> Duration {
        w.unwrap_or(self.env.config.default_within)
    }

    async fn expect_ack(&mut self, a: &scenario::ExpectAck) -> Result<StepResult, Stop> {
        let sent = self.captured_shared(&a.for_)?;
        let capture = self.captures.get(&a.for_);
        let seq = capture.and_then(|c| c.send_seq);
        let sent_evidence = capture.map(|c| c.evidence.clone());
        if let Some(step) = capture.and_then(|c| c.undelivered_at) {
            return Err(Stop::Skip(format!(
                "`{}` never reached the vendor (step {step}), so there is no acknowledgement to wait for",
                a.for_
            )));
        }
        let letter = sent.identity.letter_id.clone().unwrap_or_default();
        let within = self.within(a.within);
        let own = seq.map(|s| Origin::Response { send_seq: s });
        let found = self
            .env
            .inbox
            .claim(within, |r: &Received| {
                if own.as_ref() == Some(&r.origin) {
                    return true;
                }
                matches!(&r.origin, Origin::Delivered { .. } | Origin::File { .. })
                    && r.message.as_ref().is_ok_and(|m| {
                        m.is_acknowledgement()
                            && (m
                                .identity
                                .response
                                .as_ref()
                                .and_then(|x| x.identifier.as_deref())
                                == Some(letter.as_str())
                                || m.identity.refers_to_letter(&letter))
                    })
            })
            .await;
        let mut result = StepResult::new(format!(
            "waited up to {} for the acknowledgement of `{}`",
            humantime::format_duration(within),
            a.for_
        ));
        let Some(received) = found else {
            result.findings.push(
                rule::KR1
                    .breach(format!(
                        "no acknowledgement of `{}` (MessageHeader.id `{letter}`) within {}",
                        a.for_,
                        humantime::format_duration(within)
                    ))
                    .with_evidence(sent_evidence),
            );
            return Ok(result);
        };
        let how = match &received.origin {
            Origin::Response { .. } => "in the HTTP response".to_string(),
            Origin::Delivered { path } => format!("delivered later to the listener at `{path}`"),
            Origin::File { name } => format!("written to the exchange folder as `{name}`"),
        };
        let label = match &received.message {
            Ok(m) => format!("{}, {how}", m.label()),
            Err(_) => format!("unreadable answer, {how}"),
        };
        let ev = self.received_evidence(&received, label, &mut result);
        let ack = match received.message {
            Ok(m) => m,
            Err(e) => {
                result.findings.push(
                    rule::WELL_FORMED
                        .breach(format!("the answer is not a FHIR message: {e}"))
                        .with_evidence([ev]),
                );
                return Ok(result);
            }
        };
        result.summary = format!("received {}", ack.label());
        let codes = self.env.config.rules.ack_codes;
        // A scenario may name the code by its HL7 v2 name (`AE`); `[rules] transient-error` maps it.
        let expected = a
            .code
            .as_deref()
            .and_then(|c| codes.fhir(c))
            .unwrap_or(AckCode::Ok);
        // A rejection of a message the harness itself made invalid under the run's `[rules]`
        // is right: the scenario and the config disagree, and the vendor is not to blame.
        if let Some(own) = check::acquittal(&ack, expected, || {
            crate::validate::with_profiles(&sent, &self.env.config.rules, self.env.ig.as_deref())
        }) {
            return Err(Stop::Error(format!(
                "`{}` breaks MedCom's rules as this run's config sets them, so the vendor rightly did not answer `ok`: {}. Change the scenario or the config's `[rules]`",
                a.for_,
                own.join("; ")
            )));
        }
        let mut findings = check::acknowledgement_with(&ack, &sent, expected, codes);
        // The acknowledgement is a message of its own and is validated like any other.
        findings.extend(
            crate::validate::with_profiles(&ack, &self.env.config.rules, self.env.ig.as_deref())
                .into_iter()
                .filter(|f| f.grade != Grade::Ok),
        );
        if let Some(same) = &a.same_as {
            let first = self
                .captures
                .get(same)
                .and_then(|c| match &c.item {
                    Item::Message(m) if c.acknowledgement || m.is_acknowledgement() => Some(m),
                    _ => None,
                })
                .ok_or_else(|| {
                    Stop::Skip(format!("`{same}` holds no acknowledgement to compare with"))
                })?;
            findings.extend(check::same_acknowledgement(first, &ack));
        }
        if let Some(golden) = &a.golden {
            let (f, d) = self.golden(golden, &ack)?;
            findings.extend(f);
            result.diffs.extend(d);
        }
        result
            .findings
            .extend(findings.into_iter().map(|f| f.with_evidence([ev.clone()])));
        let name = a.as_.clone().unwrap_or_else(|| format!("{}-ack", a.for_));
        self.capture_owned(&name, ack, &ev).acknowledgement = true;
        Ok(result)
    }

    async fn resend(&mut self, r: &scenario::Resend) -> Result<StepResult, Stop> {
        if self.captures.letter(&r.of).is_some() {
            return self.resend_letter(r).await;
        }
        let original = self.captured_shared(&r.of)?;
        let message = if r.same_envelope {
            original.repeat()
        } else {
            original.resend()
        }
        .map_err(|e| Stop::Error(e.to_string()))?;
        let name = r.as_.clone().unwrap_or_else(|| format!("{}-resend", r.of));
        let mut result = StepResult::new(format!(
            "resent `{}` as `{name}`: {} Bundle.id `{}`, the same MessageHeader.id `{}`",
            r.of,
            if r.same_envelope { "the same" } else { "a new" },
            message.identity.envelope_id.as_deref().unwrap_or("?"),
            message.identity.letter_id.as_deref().unwrap_or("?")
        ));
        let message = std::sync::Arc::new(message);
        let (evidence, seq, delivered) = self.deliver(&message, &mut result).await?;
        let step = self.step_index;
        let capture = self.capture_shared(&name, message, &evidence);
        capture.send_seq = Some(seq);
        capture.undelivered_at = (!delivered).then_some(step);
        Ok(result)
    }

    async fn expect_message(&mut self, m: &scenario::ExpectMessage) -> Result<StepResult, Stop> {
        let previous = match &m.follows {
            Some(p) => Some(self.captured_shared(p)?),
            None => None,
        };
        let prev_letter = previous.as_ref().and_then(|p| p.identity.letter_id.clone());
        let event = m
            .event
            .clone()
            .unwrap_or_else(|| "care-communication-message".into());
        let within = self.within(m.within);
        // The next notification of a stay the reference vendor was told to send has the
        // MessageHeader.id the harness gave it.
        let hn_letter = m.stay.as_ref().and_then(|s| self.hn_letters.remove(s));
        let found = self
            .env
            .inbox
            .claim(within, |r: &Received| {
                matches!(r.origin, Origin::Delivered { .. } | Origin::File { .. })
                    && r.message.as_ref().is_ok_and(|msg| {
                        !msg.is_acknowledgement()
                            && hn_letter
                                .as_deref()
                                .is_none_or(|l| msg.identity.letter_id.as_deref() == Some(l))
                            && msg.identity.event.as_deref() == Some(event.as_str())
                            && prev_letter
                                .as_deref()
                                .is_none_or(|l| msg.identity.refers_to_letter(l))
                            && m.expected_activity().is_none_or(|a| {
                                msg.identity.activity_code() == Some(a)
                                    || prev_letter.is_some()
                                    || m.stay.is_some()
                            })
                    })
            })
            .await;
        let mut result = StepResult::new(format!(
            "waited up to {} for a `{}` message{}",
            humantime::format_duration(within),
            m.activity.as_deref().unwrap_or(&event),
            m.follows
                .as_ref()
                .map(|f| format!(" following `{f}`"))
                .unwrap_or_default()
        ));
        let Some(received) = found else {
            result.findings.push(rule::EXPECTED_MESSAGE.breach(format!(
                    "no {} message{} arrived within {}",
                    m.activity.as_deref().unwrap_or(&event),
                    m.follows
                        .as_ref()
                        .map(|f| format!(" following `{f}`"))
                        .unwrap_or_default(),
                    humantime::format_duration(within)
                )));
            return Ok(result);
        };
        // Taken out of the arrival, which the evidence reads only for its bytes: not copied.
        let mut received = received;
        let message =
            std::mem::replace(&mut received.message, Err(String::new())).map_err(Stop::Error)?;
        let ev = self.received_evidence(&received, message.label(), &mut result);
        result.summary = format!("received {}", message.label());
        let mut findings = Vec::new();
        if let Some(activity) = m.expected_activity() {
            if message.identity.activity_code() == Some(activity) {
                findings.push(
                    rule::EXPECTED_MESSAGE.pass(format!("the vendor sent a `{activity}` message")),
                );
            } else {
                findings.push(rule::EXPECTED_MESSAGE.breach(format!(
                    "expected a `{activity}` message, the vendor sent `{}`",
                    message.identity.activity().unwrap_or("no activity")
                )));
            }
        }
        findings.extend(crate::validate::with_profiles(
            &message,
            &self.env.config.rules,
            self.env.ig.as_deref(),
        ));
        // The attachment breaches are among the validation findings above; this adds the pass.
        findings.extend(
            check::attachments(&message, &self.env.mime)
                .into_iter()
                .filter(|f| f.grade == Grade::Ok),
        );
        if let Some(prev) = &previous {
            match message.identity.activity_code() {
                Some(Activity::ReplyMessage) => findings.extend(check::reply(&message, prev)),
                Some(Activity::ForwardMessage) => findings.extend(check::forward(&message, prev)),
                _ => {}
            }
        }
        // A HospitalNotification is judged against the earlier messages of its stay.
        if let Some(stay) = &m.stay
            && let Some(facts) = crate::hospitalnotification::Facts::of(&message)
        {
            let earlier = self.stays.entry(stay.clone()).or_default();
            findings.extend(crate::hospitalnotification::stay::judge(earlier, &facts));
            earlier.push(facts);
        }
        if let Some(golden) = &m.golden {
            let (f, d) = self.golden(golden, &message)?;
            findings.extend(f);
            result.diffs.extend(d);
        }
        result
            .findings
            .extend(findings.into_iter().map(|f| f.with_evidence([ev.clone()])));
        self.capture_owned(&m.as_, message, &ev);
        Ok(result)
    }

    async fn expect_resends(&mut self, r: &scenario::ExpectResends) -> Result<StepResult, Stop> {
        let first = self.captured_shared(&r.of)?;
        let letter = first.identity.letter_id.clone().unwrap_or_default();
        let during = self.within(r.during);
        let limit = self.env.config.rules.resend_limit;
        // With `resend-limit = 0` a sender may not resend at all.
        let at_least = r.at_least.unwrap_or(1.min(limit));
        if at_least > limit {
            return Err(Stop::Error(format!(
                "`at-least = {at_least}` asks for more resends than `[rules] resend-limit = {limit}` allows; no vendor can pass"
            )));
        }
        // The reference vendor resends at the interval the scenario gave it: a watch too short
        // for `at-least` resends would fail a correct vendor.
        if matches!(self.env.operator, Operator::ReferenceVendor(_)) {
            let every = self.resend_after.unwrap_or(Duration::from_secs(30 * 60));
            let needed = every.saturating_mul(at_least);
            if needed > during {
                return Err(Stop::Error(format!(
                    "the reference vendor resends every {} (the `instruct`'s `resend-after`, default 30 minutes as KR7), so {at_least} resend(s) take {}, longer than `during = {}`; give the `instruct` a shorter `resend-after` or `expect-resends` a longer `during`",
                    humantime::format_duration(every),
                    humantime::format_duration(needed),
                    humantime::format_duration(during)
                )));
            }
        }
        let deadline = tokio::time::Instant::now() + during;
        let mut result = StepResult::new(format!(
            "watched {} for resends of `{}` (MessageHeader.id `{letter}`)",
            humantime::format_duration(during),
            r.of
        ));
        let mut count = 0u32;
        let mut used: Vec<String> = first.identity.envelope_id.iter().cloned().collect();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            let found = self
                .env
                .inbox
                .claim(left, |x: &Received| {
                    matches!(x.origin, Origin::Delivered { .. } | Origin::File { .. })
                        && x.message.as_ref().is_ok_and(|m| {
                            !m.is_acknowledgement()
                                && m.identity.letter_id.as_deref() == Some(letter.as_str())
                        })
                })
                .await;
            let Some(mut received) = found else { break };
            let Ok(again) = std::mem::replace(&mut received.message, Err(String::new())) else {
                continue;
            };
            count += 1;
            let ev = self.received_evidence(
                &received,
                format!("resend {count}: {}", again.label()),
                &mut result,
            );
            let mut findings = check::resend(&first, &again, &used);
            used.extend(again.identity.envelope_id.iter().cloned());
            if count > limit {
                findings.push(rule::RESEND_LIMIT.breach(format!(
                    "resend {count} of `{}`: the `resend-limit` setting allows {limit}",
                    r.of
                )));
            }
            findings.extend(
                crate::validate::with_profiles(
                    &again,
                    &self.env.config.rules,
                    self.env.ig.as_deref(),
                )
                .into_iter()
                .filter(|f| f.grade != Grade::Ok),
            );
            result
                .findings
                .extend(findings.into_iter().map(|f| f.with_evidence([ev.clone()])));
            let name = format!("{}-resend-{count}", r.of);
            self.capture_owned(&name, again, &ev);
        }
        result.summary = format!(
            "{count} resend(s) of `{}` in {}",
            r.of,
            humantime::format_duration(during)
        );
        if count < at_least {
            result.findings.push(rule::KR7.breach(
                format!(
                    "{count} resend(s) of the unacknowledged `{}` within {}; expected at least {at_least} (KR7: a sender resends what is not acknowledged)",
                    r.of,
                    humantime::format_duration(during)
                ),
            ));
        }
        if count <= limit {
            result.findings.push(rule::RESEND_LIMIT.pass(format!(
                "{count} resend(s), within the `resend-limit` of {limit}"
            )));
        }
        Ok(result)
    }

    async fn ack(&mut self, a: &scenario::Ack) -> Result<StepResult, Stop> {
        let acked = self.captured_shared(&a.for_)?;
        let config = &self.env.config;
        let code = a
            .code
            .as_deref()
            .and_then(|c| config.rules.ack_codes.fhir(c))
            .unwrap_or(AckCode::Ok)
            .as_str();
        // Built directly, as the reference vendor builds its own: no template lock, no render.
        let resource = crate::template::acknowledgement(
            &config.fhir_base,
            &acked,
            &config.harness,
            code,
            &[],
            &crate::template::AckIds::fresh(),
        );
        let message = Message::encode_owned(resource, a.format.unwrap_or(acked.format))
            .map_err(|e| Stop::Error(e.to_string()))?;
        if let Some(l) = &message.identity.letter_id {
            self.own_acks.push(l.clone());
        }
        let mut result = StepResult::new(format!("acknowledged `{}` with `{code}`", a.for_));
        let message = std::sync::Arc::new(message);
        let (evidence, _, _) = self.deliver(&message, &mut result).await?;
        self.capture_shared(&format!("{}-ack", a.for_), message, &evidence);
        Ok(result)
    }

    async fn instruct(&mut self, i: &scenario::Instruct) -> Result<StepResult, Stop> {
        match &self.env.operator {
            Operator::ReferenceVendor(url) => {
                if i.action.is_some() {
                    self.resend_after = i.resend_after;
                }
                let Some(action) = i.action else {
                    return Ok(StepResult::new(format!(
                        "instruction for a person, nothing for the reference vendor to do: {}",
                        i.text
                    )));
                };
                let letter = match &i.of {
                    // The notification's MessageHeader.id, chosen here so that `expect-message`
                    // takes this one and no other scenario's.
                    None if action == crate::scenario::Action::HospitalNotification => {
                        let id = uuid::Uuid::new_v4().to_string();
                        self.hn_letters
                            .insert(i.stay.clone().unwrap_or_default(), id.clone());
                        id
                    }
                    // A classic letter the vendor answers is named by its Letter/Identifier.
                    Some(of) if action == crate::scenario::Action::SendLetter => self
                        .captures
                        .letter(of)
                        .map(|m| m.letter_identifier().to_string())
                        .unwrap_or_default(),
                    Some(of) => self
                        .captured(of)?
                        .identity
                        .letter_id
                        .clone()
                        .unwrap_or_default(),
                    None => String::new(),
                };
                let over_folder =
                    self.env.fhir_over_folder || action == crate::scenario::Action::SendLetter;
                if over_folder && self.env.folder.is_none() {
                    return Err(Stop::Skip("a classic letter travels through an exchange folder: run with `--target DIR`".into()));
                }
                let instruction = crate::simulator::Instruction {
                    action,
                    letter_id: letter,
                    deliver_to: if over_folder {
                        DeliverTo::Folder
                    } else {
                        DeliverTo::Url(self.env.listen_url.clone())
                    },
                    format: Some(i.format.unwrap_or(Format::Json)),
                    resend_after_ms: i
                        .resend_after
                        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                    event: i.event.clone(),
                    // Stays are the scenario's own: scenarios run at once share the vendor.
                    stay: i.stay.as_ref().map(|s| format!("{}/{s}", self.scenario.id)),
                    receiver: (action == crate::scenario::Action::HospitalNotification)
                        .then(|| self.env.config.harness.clone()),
                    letter_type: i.letter_type.clone(),
                };
                let body = serde_json::to_value(&instruction).map_err(|e| {
                    Stop::Error(format!("the instruction could not be written: {e}"))
                })?;
                match self.env.http.post_json(url, &body).await {
                    Ok((200, text)) => Ok(StepResult::new(format!(
                        "the reference vendor was instructed: {} ({text})",
                        i.text
                    ))),
                    Ok((status, text)) => Err(Stop::Error(format!(
                        "the reference vendor refused the instruction (HTTP {status}): {text}"
                    ))),
                    Err(e) => Err(Stop::Error(format!(
                        "the reference vendor's control endpoint `{url}` failed: {e}"
                    ))),
                }
            }
            Operator::Terminal => {
                // The person answers at the terminal; the answer goes to the review log once
                // the results are written (review::prompt).
                (self.env.events)(Event::Instruction {
                    scenario: self.scenario.id.clone(),
                    text: i.text.clone(),
                });
                let answer = tokio::task::spawn_blocking(|| {
                    super::prompt::ask(&mut std::io::stdin().lock(), &mut std::io::stderr())
                })
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(super::prompt::Answer::Done);
                super::prompt::keep(super::prompt::Pending {
                    scenario: self.scenario.id.clone(),
                    step: self.step_index,
                    instruction: i.text.clone(),
                    answer: answer.clone(),
                });
                Ok(StepResult::new(answer.summary(&i.text)))
            }
            Operator::None => Err(Stop::Operator(format!(
                "needs an operator (\"{}\"): run it at a terminal, or against the reference vendor",
                i.text
            ))),
        }
    }

    /// Compares `actual` with a golden file; on a mismatch updates it if asked.
    fn golden(
        &self,
        golden: &str,
        actual: &Message,
    ) -> Result<(Vec<Finding>, Vec<GoldenDiff>), Stop> {
        let path = super::golden_dir(&self.scenario.path).join(golden);
        let update = self.env.update_golden;
        let target = match update {
            UpdateGolden::Always => path.clone(),
            _ => PathBuf::from(format!("{}.new", path.display())),
        };
        let write_golden = |text: String| -> Result<(), Stop> {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Stop::Error(format!("failed to create `{}`: {e}", parent.display()))
                })?;
            }
            std::fs::write(&target, text).map_err(|e| {
                Stop::Error(format!(
                    "failed to write golden `{}`: {e}",
                    target.display()
                ))
            })
        };
        let expected = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                if update != UpdateGolden::Never {
                    // A first golden gets placeholders for this run's captured values, ids and
                    // times, so it passes on the next run; review it before committing it.
                    let text = crate::golden::render_normalized(&actual.bytes)
                        .map_err(|e| Stop::Error(e.to_string()))?;
                    write_golden(crate::golden::generalize(&text, &self.captures.values()))?;
                    return Ok((
                        vec![rule::GOLDEN.finding(
                            Grade::F4,
                            format!(
                                "golden `{}` did not exist; `{}` was written from this message for review",
                                path.display(),
                                target.display()
                            ),
                        )],
                        Vec::new(),
                    ));
                }
                return Err(Stop::Error(format!(
                    "failed to read golden `{}`: {e}; run with `--update-golden new` to write it from this run",
                    path.display()
                )));
            }
        };
        // Narratives are the sender's own text, and entry order matters only for entry[0]
        // (bdl-12), which unordered pairing still holds to the MessageHeader by its content.
        let (ignore, unordered) = match Format::sniff(&expected) {
            Some(Format::Xml) => (
                vec!["/Bundle/entry/resource/*/text".to_string()],
                vec!["/Bundle".to_string()],
            ),
            _ => (
                vec!["entry[*].resource.text".to_string()],
                vec!["entry".to_string()],
            ),
        };
        let opts = crate::golden::CompareOptions {
            captures: self.captures.values(),
            ignore,
            unordered,
        };
        // A message in JSON holds its parsed resource already: it is not parsed again.
        let comparison = match actual.format {
            Format::Json => self.env.goldens.compare_json(
                &path,
                &expected,
                &actual.bytes,
                &actual.resource,
                &opts,
            ),
            Format::Xml => self
                .env
                .goldens
                .compare(&path, &expected, &actual.bytes, &opts),
        }
        .map_err(|e| Stop::Error(format!("golden `{}`: {e}", path.display())))?;
        if comparison.is_match() {
            return Ok((
                vec![rule::GOLDEN.pass(format!("matches golden `{golden}`"))],
                Vec::new(),
            ));
        }
        let written = if update == UpdateGolden::Never {
            String::new()
        } else {
            write_golden(comparison.updated_golden.clone())?;
            format!("; `{}` was written from this message", target.display())
        };
        let list: Vec<String> = comparison
            .differences
            .iter()
            .take(5)
            .map(|d| d.to_string())
            .collect();
        let more = comparison.differences.len().saturating_sub(5);
        Ok((
            vec![
                rule::GOLDEN
                    .breach(format!(
                        "differs from golden `{golden}`: {}{}{written}",
                        list.join("; "),
                        if more > 0 {
                            format!(" and {more} more")
                        } else {
                            String::new()
                        }
                    ))
                    .at(comparison
                        .differences
                        .first()
                        .map(|d| d.path.clone())
                        .unwrap_or_default()),
            ],
            vec![GoldenDiff {
                golden: golden.to_string(),
                diff: comparison.diff,
            }],
        ))
    }

    /// Keeps what arrived as evidence, with the findings about how it arrived (written in place,
    /// its envelope); returns the evidence id.
    fn received_evidence(
        &mut self,
        received: &Received,
        label: String,
        result: &mut StepResult,
    ) -> String {
        let ev = self.add_evidence_of(
            Direction::Received,
            label,
            received.media_type.clone(),
            &received.bytes,
        );
        result.evidence.push(ev.clone());
        if received.written_in_place {
            result
                .findings
                .push(check::written_in_place(&file_name(received)).with_evidence([ev.clone()]));
        }
        self.envelope_findings(received, &ev, result);
        ev
    }

    /// Keeps the envelope a message arrived in as evidence, with its findings.
    fn envelope_findings(
        &mut self,
        received: &Received,
        payload_evidence: &str,
        result: &mut StepResult,
    ) {
        let Some(bytes) = &received.envelope else {
            if matches!(received.origin, Origin::File { .. }) {
                result
                    .findings
                    .push(check::not_enveloped().with_evidence([payload_evidence.to_string()]));
            }
            return;
        };
        let id = self.add_evidence_of(
            Direction::Received,
            format!("VANSEnvelope carrying {payload_evidence}"),
            "application/xml".into(),
            bytes,
        );
        result.evidence.push(id.clone());
        for f in &received.envelope_findings {
            result.findings.push(f.clone().with_evidence([id.clone()]));
        }
    }

    /// KR2 findings for acknowledgements of the harness's own acknowledgements.
    fn acks_of_own_acks(&mut self) -> Vec<Finding> {
        let own = self.own_acks.clone();
        if own.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        while let Some(r) = self.env.inbox.try_claim(&mut |r: &Received| {
            r.message.as_ref().is_ok_and(|m| {
                m.is_acknowledgement()
                    && m.identity
                        .response
                        .as_ref()
                        .and_then(|x| x.identifier.as_ref())
                        .is_some_and(|id| own.contains(id))
            })
        }) {
            let ev = self.add_evidence(
                Direction::Received,
                "acknowledgement of an acknowledgement".into(),
                r.media_type.clone(),
                r.bytes.clone(),
            );
            out.push(
                rule::KR2
                    .breach("the vendor acknowledged the harness's acknowledgement")
                    .with_evidence([ev]),
            );
        }
        if out.is_empty() {
            out.push(
                rule::KR2.pass("the vendor did not acknowledge the harness's acknowledgement"),
            );
        }
        out
    }
}

/// The name a vendor's message arrived under: its file name or listener path.
fn file_name(received: &Received) -> String {
    match &received.origin {
        Origin::Delivered { path } => path.clone(),
        Origin::File { name } => name.clone(),
        Origin::Response { .. } => String::new(),
    }
}

/// Attachment data longer than this (bytes of base64) is moved into the rendered message
/// instead of being rendered ([`splice_data`]).
const SPLICE_BYTES: usize = 64 * 1024;

/// Replaces every string of `resource` that is one of the markers of `data` (marker, text) with
/// its text, moved. A marker the template did not write leaves its text unused, as the text
/// itself would have been.
fn splice_data(resource: &mut Value, data: &mut Vec<(String, String)>) {
    match resource {
        Value::String(s) => {
            if let Some(i) = data.iter().position(|(marker, _)| marker == s) {
                *s = data.swap_remove(i).1;
            }
        }
        Value::Array(items) => {
            for item in items {
                if data.is_empty() {
                    return;
                }
                splice_data(item, data);
            }
        }
        Value::Object(map) => {
            for (_, item) in map.iter_mut() {
                if data.is_empty() {
                    return;
                }
                splice_data(item, data);
            }
        }
        _ => {}
    }
}
