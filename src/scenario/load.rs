//! Loading scenario files: discovery, strict parsing, positions and did-you-mean hints.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::model::{Scenario, Step};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file or folder could not be read.
    #[error("failed to read scenario `{path}`")]
    Read {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
        /// A next step, such as "did you mean `expect-ack`?".
        hint: Option<String>,
    },
    /// The file is over `scenario-size-limit`: refused unread, so memory stays proportional to
    /// the work.
    #[error("scenario `{}` is {size} bytes, over the scenario size limit of {limit} bytes", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes (at least `limit + 1` when it grew while read).
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// Two scenarios share an id.
    #[error("scenario id `{id}` is used by both `{first}` and `{second}`")]
    DuplicateId {
        /// The id.
        id: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
    /// More than one file is broken: every error, so all can be fixed in one go.
    #[error("{} scenario files have errors", errors.len())]
    Several {
        /// The errors, by file.
        errors: Vec<ScenarioError>,
    },
    /// Nothing to run.
    #[error("no scenario files (*.toml) found in {paths}")]
    NoneFound {
        /// The paths searched.
        paths: String,
    },
}

impl ScenarioError {
    /// The hint to print after the error, if any.
    pub fn hint(&self) -> Option<&str> {
        match self {
            ScenarioError::Invalid { hint, .. } => hint.as_deref(),
            ScenarioError::NoneFound { .. } => {
                Some("scenario files end in `.toml`; the bundled suite is in `scenarios/`")
            }
            ScenarioError::TooLarge { .. } => Some(
                "a scenario file is a few KB; raise `scenario-size-limit` in the config if this one is meant to be this large",
            ),
            ScenarioError::Read { path, .. } if path.as_os_str() == "scenarios" => Some(
                "`run` without a path reads `./scenarios`: run it in the project folder, or name your scenario files or folders",
            ),
            _ => None,
        }
    }
}

/// Loads every scenario under `paths` (files, or folders searched recursively for `*.toml`),
/// ordered by path, refusing files over the default `scenario-size-limit`
/// ([`crate::config::SCENARIO_SIZE_LIMIT`]).
///
/// # Errors
/// The first [`ScenarioError`] met; a suite with a broken file does not run half.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioError> {
    load_limited(paths, crate::config::SCENARIO_SIZE_LIMIT)
}

/// As [`load`], refusing files over `limit` bytes ([`ScenarioError::TooLarge`]).
///
/// # Errors
/// As [`load`].
pub fn load_limited(paths: &[PathBuf], limit: u64) -> Result<Vec<Scenario>, ScenarioError> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files)?;
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(ScenarioError::NoneFound {
            paths: paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    // Each id's scenario, by position: a look-up per file, where a scan of the scenarios loaded
    // so far made loading 10,000 files quadratic.
    let mut ids: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut errors = Vec::new();
    for file in files {
        match load_file_limited(&file, limit) {
            Ok(scenario) => {
                if let Some(&other) = ids.get(&scenario.id) {
                    errors.push(ScenarioError::DuplicateId {
                        id: scenario.id.clone(),
                        first: scenarios[other].path.clone(),
                        second: file,
                    });
                } else {
                    ids.insert(scenario.id.clone(), scenarios.len());
                    scenarios.push(scenario);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(scenarios),
        1 => Err(errors.remove(0)),
        _ => Err(ScenarioError::Several { errors }),
    }
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let meta = std::fs::metadata(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let read = std::fs::read_dir(path).map_err(|source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    for entry in read {
        let entry = entry.map_err(|source| ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let p = entry.path();
        if p.is_dir() {
            collect(&p, files)?;
        } else if p.extension().is_some_and(|e| e == "toml")
            || (p.extension().is_some_and(|e| e == "json") && is_scenario_json(&p))
        {
            files.push(p);
        }
    }
    Ok(())
}

/// Whether the `.json` file at `path`, met in a folder, is a scenario: a FHIR TestScript, or a
/// file that cannot be told apart from a broken one (not JSON, or JSON without a
/// `resourceType`), which then fails to load naming the file as a broken TOML scenario does.
/// Other FHIR resources are not scenarios: a folder of MedCom's scripts also holds their example
/// Bundles and the IG's own resources. An unreadable file is a scenario too, so its read error
/// is reported rather than the file skipped.
fn is_scenario_json(path: &Path) -> bool {
    std::fs::read(path).map_or(true, |b| {
        !matches!(
            crate::testscript::json_kind(&b),
            crate::testscript::JsonKind::OtherResource(_)
        )
    })
}

/// A FHIR TestScript (JSON) as a scenario: its id, title and standard; the runner plays its
/// actions ([`Scenario::testscript`]). A file that is not JSON is an error at the line and
/// column of the syntax error; JSON that is not a TestScript, or a TestScript with nothing to
/// run, is an error of the file ([`crate::testscript::parse`]).
fn load_testscript(path: &Path, limit: u64) -> Result<Scenario, ScenarioError> {
    let text = read_limited(path, limit)?;
    let script = crate::testscript::parse(text.as_bytes()).map_err(|e| ScenarioError::Invalid {
        path: path.to_path_buf(),
        line: e.line,
        column: e.column,
        message: e.message,
        hint: Some(
            "a `.json` scenario is a FHIR TestScript resource (`\"resourceType\": \"TestScript\"`) with at least one `test`"
                .into(),
        ),
    })?;
    Ok(Scenario {
        id: script.id.clone(),
        title: script
            .title
            .clone()
            .or_else(|| script.description.clone())
            .unwrap_or_else(|| script.id.clone())
            .trim()
            .to_string(),
        standard: crate::testscript::standard_of(&script),
        description: script.description.clone(),
        protocol_step: None,
        rules: Vec::new(),
        tags: vec!["testscript".into()],
        transport: None,
        steps: Vec::new(),
        path: path.to_path_buf(),
        step_lines: Vec::new(),
        testscript: Some(std::sync::Arc::new(script)),
    })
}

/// Loads one scenario file, refusing one over the default `scenario-size-limit`.
///
/// # Errors
/// [`ScenarioError::Read`], [`ScenarioError::TooLarge`] or [`ScenarioError::Invalid`] with
/// line, column and a hint.
pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    load_file_limited(path, crate::config::SCENARIO_SIZE_LIMIT)
}

/// The text of the scenario file `path`, at most `limit` bytes.
fn read_limited(path: &Path, limit: u64) -> Result<String, ScenarioError> {
    use std::io::Read as _;
    let read_error = |source| ScenarioError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    let too_large = |size| ScenarioError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit,
    };
    if size > limit {
        return Err(too_large(size));
    }
    // The file may grow between the size and the read: never read past the limit.
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8: {e}"),
        ))
    })
}

/// As [`load_file`], refusing a file over `limit` bytes.
///
/// # Errors
/// As [`load_file`].
pub fn load_file_limited(path: &Path, limit: u64) -> Result<Scenario, ScenarioError> {
    if path.extension().is_some_and(|e| e == "json") {
        return load_testscript(path, limit);
    }
    let text = read_limited(path, limit)?;
    let invalid = |offset: usize, message: String, hint: Option<String>| {
        let (line, column) = line_column(&text, offset);
        ScenarioError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message,
            hint,
        }
    };
    let mut scenario: Scenario = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let mut message = e.message().trim().to_string();
        // serde's words for a `[[step]]` table with two step kinds, or none.
        if message.starts_with("wanted exactly 1 element") {
            message = if message.contains("found 0") || message.contains("no elements") {
                "this `[[step]]` has no step kind; give it one (`send`, `expect-ack`, `instruct`, …)".into()
            } else {
                "this `[[step]]` has more than one step kind; a step does one thing (`send`, `expect-ack`, `instruct`, …), so put each in its own `[[step]]`".into()
            };
        }
        let hint = did_you_mean(&message);
        invalid(offset, message, hint)
    })?;
    scenario.path = path.to_path_buf();
    // The line of each step's `[[step]]` header (its span may start at its first key).
    scenario.step_lines = scenario
        .steps
        .iter()
        .map(|s| {
            let start = s.span().start;
            let header = text
                .get(..(start + "[[step]]".len()).min(text.len()))
                .and_then(|before| before.rfind("[[step]]"))
                .unwrap_or(start);
            line_column(&text, header).0
        })
        .collect();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    // The id names the scenario in every report, file name and console line.
    if scenario.id.trim().is_empty() || scenario.id.chars().any(char::is_control) {
        let offset = text
            .match_indices("id")
            .map(|(i, _)| i)
            .find(|&i| {
                (i == 0 || text.as_bytes()[i - 1] == b'\n')
                    && text[i + 2..]
                        .trim_start_matches([' ', '\t'])
                        .starts_with('=')
            })
            .unwrap_or(0);
        return Err(invalid(
            offset,
            format!(
                "`id` {:?} must name the scenario: not empty, no control characters (tab, line break, NUL)",
                scenario.id
            ),
            None,
        ));
    }
    if scenario.steps.is_empty() {
        return Err(invalid(
            0,
            "a scenario needs at least one `[[step]]`".into(),
            None,
        ));
    }
    // Every reference to a capture must name a message an earlier step captured.
    let mut captured: BTreeSet<String> = BTreeSet::new();
    // Captures that are OIOXML letters (receipts answer those, acknowledgements the others).
    let mut letters: BTreeSet<String> = BTreeSet::new();
    // FHIR messages the vendor sent (`expect-message`), and those the scenario acknowledged.
    let mut from_vendor: BTreeSet<String> = BTreeSet::new();
    let mut acked: BTreeSet<String> = BTreeSet::new();
    for spanned in &scenario.steps {
        let offset = spanned.span().start;
        let step = spanned.get_ref();
        let check = |name: &str, key: &str, captured: &BTreeSet<String>| {
            if captured.contains(name) {
                Ok(())
            } else {
                let known = captured
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>();
                let hint = best_match(name, captured.iter().map(String::as_str))
                    .map(|m| format!("did you mean `{m}`?"))
                    .or_else(|| {
                        (!known.is_empty())
                            .then(|| format!("captured so far: {}", known.join(", ")))
                    });
                Err(invalid(
                    offset,
                    format!("`{key} = \"{name}\"` names no message captured by an earlier step"),
                    hint,
                ))
            }
        };
        let capture_once = |name: &str, captured: &BTreeSet<String>| {
            if captured.contains(name) {
                Err(invalid(
                    offset,
                    format!(
                        "`as = \"{name}\"` is used by an earlier step; every capture needs its own name"
                    ),
                    None,
                ))
            } else {
                Ok(())
            }
        };
        match step {
            Step::Send(s) => {
                if let Some(f) = &s.follows {
                    check(f, "follows", &captured)?;
                    if letters.contains(f) {
                        return Err(invalid(
                            offset,
                            format!(
                                "`follows = \"{f}\"` names an OIOXML letter; the FHIR templates reply to and forward FHIR messages only"
                            ),
                            Some("answer a letter with `receipt`, or follow a message from `expect-message`".into()),
                        ));
                    }
                }
                capture_once(&s.as_, &captured)?;
                check_template(&s.message, &dir).map_err(|(m, h)| invalid(offset, m, h))?;
                if let Some(c) = &s.category {
                    check_listed(c, "category", &crate::validate::CATEGORY_CODES)
                        .map_err(|(m, h)| invalid(offset, m, h))?;
                }
                for a in &s.attachments {
                    if let Some(f) = &a.file
                        && !dir.join(f).is_file()
                    {
                        return Err(invalid(
                            offset,
                            format!(
                                "attachment file `{}` does not exist (paths are relative to the scenario file)",
                                dir.join(f).display()
                            ),
                            None,
                        ));
                    }
                }
                if s.attachments
                    .iter()
                    .any(|a| a.file.is_some() == a.url.is_some())
                {
                    return Err(invalid(
                        offset,
                        "an attachment has either `file` or `url`, not both or neither".into(),
                        None,
                    ));
                }
                captured.insert(s.as_.clone());
            }
            Step::ExpectAck(a) => {
                check(&a.for_, "for", &captured)?;
                if let Some(s) = &a.same_as {
                    check(s, "same-as", &captured)?;
                }
                if let Some(code) = &a.code {
                    check_code(code).map_err(|m| invalid(offset, m, None))?;
                }
                if let Some(name) = &a.as_ {
                    captured.insert(name.clone());
                }
            }
            Step::Resend(r) => {
                check(&r.of, "of", &captured)?;
                let name = r.as_.clone().unwrap_or_else(|| format!("{}-resend", r.of));
                if letters.contains(&r.of) {
                    letters.insert(name.clone());
                }
                captured.insert(name);
            }
            Step::ExpectMessage(m) => {
                if let Some(f) = &m.follows {
                    check(f, "follows", &captured)?;
                }
                capture_once(&m.as_, &captured)?;
                if let Some(a) = &m.activity {
                    check_listed(a, "activity", &crate::validate::ACTIVITY_CODES)
                        .map_err(|(msg, h)| invalid(offset, msg, h))?;
                }
                captured.insert(m.as_.clone());
                from_vendor.insert(m.as_.clone());
            }
            Step::Ack(a) => {
                check(&a.for_, "for", &captured)?;
                acked.insert(a.for_.clone());
                if let Some(code) = &a.code {
                    check_code(code).map_err(|m| invalid(offset, m, None))?;
                }
            }
            Step::SendLetter(l) => {
                capture_once(&l.as_, &captured)?;
                check_letter_type(l.letter_type.as_deref())
                    .map_err(|m| invalid(offset, m, None))?;
                if let Some(a) = &l.answers {
                    check(a, "answers", &captured)?;
                }
                for a in &l.attachments {
                    match &a.file {
                        Some(f) if !dir.join(f).is_file() => {
                            return Err(invalid(
                                offset,
                                format!(
                                    "attachment file `{}` does not exist (paths are relative to the scenario file)",
                                    dir.join(f).display()
                                ),
                                None,
                            ));
                        }
                        None => return Err(invalid(
                            offset,
                            "a letter's attachment needs a `file`: XBIN01 carries bytes, not links"
                                .into(),
                            None,
                        )),
                        Some(_) => {}
                    }
                }
                captured.insert(l.as_.clone());
                letters.insert(l.as_.clone());
                for n in 1..=l.attachments.len() {
                    captured.insert(format!("{}-bin{n}", l.as_));
                    letters.insert(format!("{}-bin{n}", l.as_));
                }
            }
            Step::ExpectReceipt(r) => {
                check(&r.for_, "for", &captured)?;
                if !letters.contains(&r.for_) {
                    return Err(invalid(
                        offset,
                        format!(
                            "`for = \"{}\"` names a FHIR message; `expect-receipt` waits for the receipt of a letter from `send-letter`",
                            r.for_
                        ),
                        Some("a FHIR message is answered by `expect-ack`".into()),
                    ));
                }
                if r.refuse_code.is_some() && r.kind.as_deref() != Some("negative") {
                    return Err(invalid(offset, "`refuse-code` goes with `kind = \"negative\"`: only a negative receipt refuses".into(), None));
                }
                if let Some(s) = &r.same_as {
                    check(s, "same-as", &captured)?;
                }
                if let Some(k) = &r.kind {
                    check_listed(k, "kind", &["positive", "negative"])
                        .map_err(|(m, h)| invalid(offset, m, h))?;
                }
                if let Some(c) = &r.refuse_code {
                    check_listed(
                        c,
                        "refuse-code",
                        &[
                            "ikke_specificeret",
                            "ukendt_lokationsnummer",
                            "problem_med_modtagerID",
                            "problem_med_version",
                            "syntaksfejl",
                        ],
                    )
                    .map_err(|(m, h)| invalid(offset, m, h))?;
                }
                if let Some(name) = &r.as_ {
                    capture_once(name, &captured)?;
                    captured.insert(name.clone());
                }
            }
            Step::ExpectLetter(l) => {
                capture_once(&l.as_, &captured)?;
                check_letter_type(l.letter_type.as_deref())
                    .map_err(|m| invalid(offset, m, None))?;
                if let Some(a) = &l.answers {
                    check(a, "answers", &captured)?;
                }
                captured.insert(l.as_.clone());
                letters.insert(l.as_.clone());
            }
            Step::Receipt(r) => {
                check(&r.for_, "for", &captured)?;
                if !letters.contains(&r.for_) {
                    return Err(invalid(
                        offset,
                        format!(
                            "`for = \"{}\"` names a FHIR message; `receipt` answers a letter from `expect-letter`",
                            r.for_
                        ),
                        None,
                    ));
                }
            }
            Step::ExpectResends(r) => {
                check(&r.of, "of", &captured)?;
                if letters.contains(&r.of) {
                    return Err(invalid(
                        offset,
                        format!(
                            "`of = \"{}\"` names an OIOXML letter; `expect-resends` watches FHIR messages from `expect-message`",
                            r.of
                        ),
                        None,
                    ));
                }
                if !from_vendor.contains(&r.of) {
                    return Err(invalid(
                        offset,
                        format!(
                            "`of = \"{}\"` is not a message the vendor sent; `expect-resends` watches the vendor's resends of a message from `expect-message`",
                            r.of
                        ),
                        None,
                    ));
                }
                if acked.contains(&r.of) {
                    return Err(invalid(
                        offset,
                        format!(
                            "`{}` is acknowledged by an earlier `ack` step; a sender resends only what is not acknowledged (KR7)",
                            r.of
                        ),
                        Some("put `expect-resends` before the `ack`".into()),
                    ));
                }
                if r.during.is_some_and(|d| d.is_zero()) {
                    return Err(invalid(
                        offset,
                        "`during` must be longer than 0 seconds".into(),
                        None,
                    ));
                }
            }
            Step::Instruct(i) => {
                if let Some(of) = &i.of {
                    check(of, "of", &captured)?;
                }
                if let Some(after) = i.resend_after {
                    if !matches!(
                        i.action,
                        Some(super::model::Action::Reply | super::model::Action::Forward)
                    ) {
                        return Err(invalid(
                            offset,
                            "`resend-after` applies to the message the reference vendor sends for `action = \"reply\"` or `\"forward\"`".into(),
                            None,
                        ));
                    }
                    if after.is_zero() {
                        return Err(invalid(
                            offset,
                            "`resend-after` must be longer than 0 seconds".into(),
                            None,
                        ));
                    }
                }
                if i.action == Some(super::model::Action::HospitalNotification) {
                    let event = i.event.as_deref().unwrap_or_default();
                    if crate::hospitalnotification::Event::parse(event).is_none() {
                        return Err(invalid(
                            offset,
                            format!(
                                "`action = \"hospital-notification\"` needs `event`, one of {}",
                                crate::hospitalnotification::Event::NAMES.join(", ")
                            ),
                            None,
                        ));
                    }
                    if i.stay.is_none() {
                        return Err(invalid(
                            offset,
                            "`action = \"hospital-notification\"` needs `stay`, the name of the stay the event belongs to".into(),
                            None,
                        ));
                    }
                } else if i.event.is_some() || i.stay.is_some() {
                    return Err(invalid(
                        offset,
                        "`event` and `stay` go with `action = \"hospital-notification\"`".into(),
                        None,
                    ));
                }
                check_letter_type(i.letter_type.as_deref())
                    .map_err(|m| invalid(offset, m, None))?;
                if i.action.is_some()
                    && !matches!(
                        i.action,
                        Some(
                            super::model::Action::SendLetter
                                | super::model::Action::HospitalNotification
                        )
                    )
                    && i.of.is_none()
                {
                    return Err(invalid(
                        offset,
                        "an `instruct` with an `action` needs `of`, the message to act on".into(),
                        None,
                    ));
                }
            }
        }
    }
    Ok(scenario)
}

/// A `message` names a built-in template or an existing `.json`/`.xml` (`.hbs`) file.
fn check_template(name: &str, dir: &Path) -> Result<(), (String, Option<String>)> {
    let builtin: Vec<&str> = crate::template::BUILTIN.iter().map(|(n, _)| *n).collect();
    if builtin.contains(&name) {
        return Ok(());
    }
    let stem = name.strip_suffix(".hbs").unwrap_or(name);
    if stem.ends_with(".json") || stem.ends_with(".xml") {
        if dir.join(name).is_file() {
            return Ok(());
        }
        return Err((
            format!(
                "template file `{}` does not exist (paths are relative to the scenario file)",
                dir.join(name).display()
            ),
            None,
        ));
    }
    Err((
        format!("`{name}` is neither a built-in template nor a `.json`/`.xml` template file"),
        best_match(name, builtin.iter().copied())
            .map(|m| format!("did you mean `{m}`?"))
            .or_else(|| Some(format!("built-in templates: {}", builtin.join(", ")))),
    ))
}

/// A classic letter type a scenario may name: `XDIS91` or a type of
/// [`crate::oioxml::form::FORM_TYPES`].
fn check_letter_type(letter_type: Option<&str>) -> Result<(), String> {
    match letter_type {
        None => Ok(()),
        Some(t) if t.eq_ignore_ascii_case("XDIS91") => Ok(()),
        Some(t) if crate::oioxml::form::FormType::by_type_code(t).is_some() => Ok(()),
        Some(t) => Err(format!(
            "`type = \"{t}\"` is no letter type the harness writes; known: XDIS91, {}",
            crate::oioxml::form::FORM_TYPES
                .iter()
                .map(|f| f.type_code)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A code from a closed list, with a did-you-mean.
fn check_listed(code: &str, key: &str, list: &[&str]) -> Result<(), (String, Option<String>)> {
    if list.contains(&code) {
        return Ok(());
    }
    Err((
        format!("`{key} = \"{code}\"` is not a code MedCom defines for it"),
        best_match(code, list.iter().copied())
            .map(|m| format!("did you mean `{m}`?"))
            .or_else(|| Some(format!("the codes are: {}", list.join(", ")))),
    ))
}

fn check_code(code: &str) -> Result<(), String> {
    // The FHIR codes, or their HL7 v2 names, mapped at run time by `[rules] transient-error`.
    const CODES: [&str; 6] = ["ok", "transient-error", "fatal-error", "AA", "AE", "AR"];
    if CODES.contains(&code) {
        Ok(())
    } else {
        Err(format!(
            "`{code}` is not an acknowledgement code; use `ok`, `transient-error` or `fatal-error` (or their HL7 v2 names `AA`, `AE`, `AR`)"
        ))
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Turns toml/serde's "unknown field `x`, expected one of `a`, `b`" into "did you mean `a`?".
fn did_you_mean(message: &str) -> Option<String> {
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|prefix| message.split(prefix).nth(1))?;
    let word = unknown.split('`').next()?;
    let expected = message.split("expected").nth(1)?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    best_match(word, candidates.iter().copied()).map(|m| format!("did you mean `{m}`?"))
}

fn best_match<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    const HEAD: &str = "id = \"x\"\ntitle = \"t\"\nstandard = \"CareCommunication 5.0\"\n";

    #[test]
    fn each_step_knows_the_line_of_its_step_header() {
        let (_d, p) = write(&format!(
            "{HEAD}\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n\n# a comment\n[[step]]\nexpect-ack = {{ for = \"first\" }}\n"
        ));
        let s = load_file(&p).expect("loads");
        // HEAD is three lines, then a blank line: the headers are on lines 5 and 9.
        assert_eq!(s.step_lines, [5, 9]);
        assert_eq!(s.step_location(2), format!("{}:9", p.display()));
    }

    #[test]
    fn an_empty_id_or_one_with_a_control_character_is_refused_naming_its_line() {
        for id in ["", "  ", "a\\tb", "a\\u0000b", "a\\nb"] {
            let (_d, p) = write(&format!(
                "# a comment\nid = \"{id}\"\ntitle = \"t\"\nstandard = \"CareCommunication 5.0\"\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n"
            ));
            let e = load_file(&p).expect_err(id);
            let text = e.to_string();
            assert!(text.contains("s.toml:2"), "{id}: {text}");
            assert!(text.contains("`id`"), "{id}: {text}");
        }
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_naming_it() {
        let text = format!(
            "{HEAD}# {}\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n",
            "x".repeat(5000)
        );
        let (_d, p) = write(&text);
        let e = load_file_limited(&p, 1000).expect_err("over the limit");
        assert!(
            matches!(e, ScenarioError::TooLarge { limit: 1000, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("s.toml"), "{e}");
        assert!(e.hint().is_some());
        load_file_limited(&p, 100_000).expect("under the limit");
    }

    #[test]
    fn misspelt_step_kind_names_line_and_suggests_the_right_one() {
        let (_d, p) = write(&format!(
            "{HEAD}[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n[[step]]\nexpect-ak = {{ for = \"first\" }}\n"
        ));
        let e = load_file(&p).expect_err("must fail");
        let text = e.to_string();
        assert!(text.contains(":7:"), "{text}");
        assert_eq!(e.hint(), Some("did you mean `expect-ack`?"));
    }

    /// The load error of a scenario whose steps are `steps` (TOML `[[step]]` tables).
    fn error_of(steps: &str) -> String {
        let (_d, p) = write(&format!("{HEAD}{steps}"));
        load_file(&p).expect_err("must fail").to_string()
    }

    const SEND_AND_REPLY: &str = "[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\" }\n[[step]]\ninstruct = { text = \"Reply.\", action = \"reply\", of = \"first\" }\n[[step]]\nexpect-message = { activity = \"reply-message\", follows = \"first\", as = \"reply\" }\n";

    #[test]
    fn expect_resends_watches_an_unacknowledged_vendor_message() {
        let (_d, p) = write(&format!(
            "{HEAD}{SEND_AND_REPLY}[[step]]\nexpect-resends = {{ of = \"reply\", during = \"1s\" }}\n"
        ));
        load_file(&p).expect("a vendor message, not acknowledged yet");
        let e = error_of(&format!(
            "{SEND_AND_REPLY}[[step]]\nexpect-resends = {{ of = \"first\" }}\n"
        ));
        assert!(e.contains("is not a message the vendor sent"), "{e}");
        let e = error_of(&format!(
            "{SEND_AND_REPLY}[[step]]\nack = {{ for = \"reply\" }}\n[[step]]\nexpect-resends = {{ of = \"reply\" }}\n"
        ));
        assert!(e.contains("acknowledged by an earlier `ack`"), "{e}");
        let e = error_of(&format!(
            "{SEND_AND_REPLY}[[step]]\nexpect-resends = {{ of = \"reply\", during = \"0s\" }}\n"
        ));
        assert!(e.contains("`during` must be longer"), "{e}");
    }

    #[test]
    fn a_wait_is_whole_seconds_or_text_as_in_the_config() {
        for (within, seconds) in [("30", 30.0), ("0.5", 0.5), ("\"2m\"", 120.0)] {
            let (_d, p) = write(&format!(
                "{HEAD}[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"a\" }}\n[[step]]\nexpect-ack = {{ for = \"a\", within = {within} }}\n"
            ));
            let s = load_file(&p).expect("loads");
            match s.steps[1].get_ref() {
                crate::scenario::Step::ExpectAck(a) => {
                    assert_eq!(a.within.map(|d| d.as_secs_f64()), Some(seconds), "{within}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_wait_longer_than_a_day_and_a_step_without_a_kind_are_errors() {
        let e = error_of(
            "[[step]]\nsend = { message = \"carecommunication/new\", as = \"a\" }\n[[step]]\nexpect-ack = { for = \"a\", within = \"18446744073709551615s\" }\n",
        );
        assert!(e.contains("24 hours"), "{e}");
        let e = error_of("[[step]]\n");
        assert!(e.contains("has no step kind"), "{e}");
    }

    #[test]
    fn resend_after_belongs_to_a_reply_or_forward_and_is_not_zero() {
        let e = error_of("[[step]]\ninstruct = { text = \"Wait.\", resend-after = \"1s\" }\n");
        assert!(e.contains("`resend-after` applies to"), "{e}");
        let e = error_of(
            "[[step]]\nsend = { message = \"carecommunication/new\", as = \"first\" }\n[[step]]\ninstruct = { text = \"Reply.\", action = \"reply\", of = \"first\", resend-after = \"0s\" }\n",
        );
        assert!(e.contains("longer than 0 seconds"), "{e}");
    }

    #[test]
    fn a_fhir_template_does_not_follow_an_oioxml_letter() {
        let e = error_of(
            "transport = \"folder\"\n[[step]]\nexpect-letter = { as = \"theirs\" }\n[[step]]\nsend = { message = \"carecommunication/reply\", as = \"r\", follows = \"theirs\" }\n",
        );
        assert!(e.contains("names an OIOXML letter"), "{e}");
    }

    #[test]
    fn reference_to_an_unknown_capture_is_an_error_with_a_hint() {
        let (_d, p) = write(&format!(
            "{HEAD}[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n[[step]]\nexpect-ack = {{ for = \"frist\" }}\n"
        ));
        let e = load_file(&p).expect_err("must fail");
        assert!(e.to_string().contains("`for = \"frist\"`"), "{e}");
        assert_eq!(e.hint(), Some("did you mean `first`?"));
    }

    #[test]
    fn a_bad_duration_is_an_error() {
        let (_d, p) = write(&format!(
            "{HEAD}[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n[[step]]\nexpect-ack = {{ for = \"first\", within = \"soon\" }}\n"
        ));
        let e = load_file(&p).expect_err("must fail");
        assert!(e.to_string().contains("`soon` is not a duration"), "{e}");
    }

    #[test]
    fn ids_and_codes_stay_strings() {
        let (_d, p) = write(&format!(
            "{HEAD}tags = [\"0012\"]\n[[step]]\nsend = {{ message = \"carecommunication/new\", as = \"first\" }}\n"
        ));
        let s = load_file(&p).expect("loads");
        assert_eq!(s.tags, vec!["0012".to_string()]);
    }

    /// A minimal TestScript of our own: one test, one assert.
    const SCRIPT: &str = r#"{"resourceType": "TestScript", "id": "ours",
        "test": [{"action": [{"assert": {"expression": "true"}}]}]}"#;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        dir
    }

    /// A truncated TestScript among good ones is not skipped: the run refuses, naming the file
    /// and the line and column of the JSON syntax error, as for a broken TOML scenario.
    #[test]
    fn a_broken_json_file_in_a_folder_of_scripts_is_an_error_naming_it() {
        // Line 3 is ` "test": [}`: the `}` where a value must be is its 11th character.
        let broken = "{\"resourceType\": \"TestScript\",\n \"id\": \"cut\",\n \"test\": [}";
        let dir = folder(&[("a.json", SCRIPT), ("b.json", broken)]);
        let e = load(&[dir.path().to_path_buf()]).expect_err("a broken script");
        match &e {
            ScenarioError::Invalid {
                path, line, column, ..
            } => {
                assert!(path.ends_with("b.json"), "{e}");
                assert_eq!((*line, *column), (3, 11), "{e}");
            }
            other => panic!("not an Invalid error: {other}"),
        }
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        // Alone in its folder, it is named too (not "no scenario files found").
        let alone = folder(&[("b.json", broken)]);
        let e = load(&[alone.path().to_path_buf()]).expect_err("a broken script");
        assert!(matches!(e, ScenarioError::Invalid { line: 3, .. }), "{e}");
    }

    /// JSON without a `resourceType` cannot be told from a broken script: an error naming the
    /// file. Another FHIR resource in a folder (MedCom's example Bundles) is not a scenario;
    /// named on its own, it is an error saying it is not a TestScript.
    #[test]
    fn json_that_is_not_a_testscript_is_named_or_skipped_as_a_folder_holds_it() {
        let bundle = r#"{"resourceType": "Bundle", "id": "b", "type": "message"}"#;
        let dir = folder(&[("a.json", SCRIPT), ("c.json", "{\"id\": \"x\"}")]);
        let e = load(&[dir.path().to_path_buf()]).expect_err("no resourceType");
        assert!(
            matches!(&e, ScenarioError::Invalid { path, .. } if path.ends_with("c.json")),
            "{e}"
        );
        assert!(e.to_string().contains("resourceType"), "{e}");

        let dir = folder(&[("a.json", SCRIPT), ("Bundle-x.json", bundle)]);
        let loaded = load(&[dir.path().to_path_buf()]).expect("the Bundle is not a scenario");
        assert_eq!(loaded.len(), 1);
        assert_eq!(loaded[0].id, "ours");
        let e = load(&[dir.path().join("Bundle-x.json")]).expect_err("named on its own");
        assert!(e.to_string().contains("not a TestScript"), "{e}");
        assert!(e.to_string().contains("Bundle-x.json"), "{e}");
    }

    /// Several broken files are all listed at once, TOML and JSON alike.
    #[test]
    fn broken_json_and_toml_files_are_listed_together() {
        let dir = folder(&[
            ("a.json", "{\"resourceType\": \"TestScript\""),
            ("b.toml", "id = "),
        ]);
        let e = load(&[dir.path().to_path_buf()]).expect_err("two broken files");
        match e {
            ScenarioError::Several { errors } => assert_eq!(errors.len(), 2),
            other => panic!("not Several: {other}"),
        }
    }

    /// A TestScript with no test checks nothing, so it must never pass: the loader refuses it.
    #[test]
    fn a_testscript_without_a_test_is_an_error_not_a_pass() {
        let dir = folder(&[("x.json", r#"{"resourceType":"TestScript","id":"x"}"#)]);
        let e = load(&[dir.path().join("x.json")]).expect_err("no test");
        assert!(e.to_string().contains("has no test"), "{e}");
        assert!(e.to_string().contains("x.json"), "{e}");
    }
}
