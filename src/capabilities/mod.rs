//! "Hvem kan hvad" (who can do what): `medcom-harness capabilities [RESULTS.json…] --registry
//! PATH`. From the registry: every unit with the message types and versions it can receive (its
//! EER endpoints' `payloadType`, SOR's EDI type map where given) and whether it has a messaging
//! endpoint at all, counted per unit type; filterable by municipality, region and sector. From
//! runs' results: the matrix of tested system x standard x direction x feature with the
//! scenarios and verdicts that prove each cell, and a table in the columns of MedCom's public
//! list of approved systems (System, Leverandør, Systemtype, Standard, Standard ID (Version),
//! Kanal, Teststatus) to compare with it.
//!
//! What proves a capability. A matrix cell lists every scenario that tested it, each once with
//! its worst grade (two runs of one system that both ran a scenario give one entry). A scenario
//! that deliberately sends broken or unacceptable input (tagged `negative` or `invalid`: an
//! OIOXML letter without its VersionCode, a letter to an unknown EAN, a FHIR message that
//! breaks a profile invariant) shows only that the system refuses it: its one cell is the
//! feature `rejects invalid input`. In the approved-systems table a standard is `passed` for a
//! run when every scenario of it passed (refusal tests included) and at least one scenario
//! proves the exchange: it passed, is not such a refusal test, and a message of the standard's
//! type went its direction (to the system for `receive`, from it for `send`) without an answer
//! refusing it (acknowledgement `fatal-error`, negative receipt XCTL02). A standard tested only
//! with broken input gets no row. A run of MedCom's FHIR TestScripts (scenarios tagged
//! `testscript`) has no direction tags: a script is `send` when the system sent a message of
//! its standard's type (the harness may first send the message it answers, replies to or
//! forwards), else `receive`; for the Acknowledgement standard the acknowledgement is the
//! message. In a matrix cell a scenario that did not pass is never `OK`: `ERROR` when it could
//! not run to its end (a published script's own defect included), `FAILED` when it failed with
//! no worse grade; neither proves anything. The system is the run's `[system]` (`certification.system`
//! in `results.json`: name and version, vendor as Leverandør), else its target.
//!
//! Written as `capabilities.json` (everything), `capabilities.csv` (the units),
//! `capabilities-matrix.csv` and `capabilities-approved.csv`, and `capabilities.html`.

pub mod html;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::registry::Registry;
use crate::registry::message_type::label_of_uri;
use crate::stats::traffic::{Kind, Traffic};

/// Could not write the overview.
#[derive(Debug, thiserror::Error)]
pub enum CapabilitiesError {
    /// A file could not be written.
    #[error("failed to write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A CSV file could not be written.
    #[error("failed to write CSV `{path}`")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: csv::Error,
    },
}

/// Which units to list; empty fields select all. Matching is case-insensitive.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Municipality name (`Københavns Kommune`).
    pub municipality: Option<String>,
    /// SOR region code (`1084`).
    pub region: Option<String>,
    /// Sector (`municipality`, `general practice`, `hospital`, `pharmacy`, `unknown`).
    pub sector: Option<String>,
}

impl Filter {
    fn keeps(&self, u: &UnitLine) -> bool {
        let same = |want: &Option<String>, have: Option<&str>| {
            want.as_deref()
                .is_none_or(|w| have.is_some_and(|h| h.eq_ignore_ascii_case(w)))
        };
        same(&self.municipality, u.municipality.as_deref())
            && same(&self.region, u.region.as_deref())
            && same(&self.sector, Some(&u.sector))
    }
}

/// One unit of the registry with what it can receive.
#[derive(Debug, Clone, Serialize)]
pub struct UnitLine {
    /// SOR id.
    pub sor_id: String,
    /// Name.
    pub name: String,
    /// SOR level (`IE`, `SI`, `OE`).
    pub level: String,
    /// Unit type (EER `eer-sor-unit-type`, SOR type code); the level when none.
    pub unit_type: String,
    /// Municipality, when known.
    pub municipality: Option<String>,
    /// Region code, when known.
    pub region: Option<String>,
    /// Sector ([`crate::registry::Registry::sector_of`]).
    pub sector: String,
    /// What in the registry the sector is read from (`EER unit type `plejehjem``, `inferred: …`).
    pub sector_source: String,
    /// Parent SOR id, when the data has the tree.
    pub parent: Option<String>,
    /// Depth in the unit tree (0 at the top).
    pub depth: usize,
    /// Its location number, own or inherited.
    pub gln: Option<String>,
    /// Whether it has a messaging endpoint (references one, or an endpoint names it).
    pub has_endpoint: bool,
    /// Message types and versions it accepts (`carecommunication-message 5.0`), from its
    /// endpoints' `payloadType` and SOR's EDI type map.
    pub accepts: Vec<String>,
}

/// Units of one type with and without a messaging endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TypeCount {
    /// With an endpoint.
    pub with_endpoint: usize,
    /// Without.
    pub without_endpoint: usize,
}

/// One cell of the tested matrix.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The system under test.
    pub system: String,
    /// The standard and version (`CareCommunication 5.0`).
    pub standard: String,
    /// `send` (the system sends) or `receive`.
    pub direction: String,
    /// The feature (`format json`, `transport HTTP`, `activity reply`, `attachment application/pdf`).
    pub feature: String,
    /// Worst verdict of the proving scenarios.
    pub verdict: String,
    /// The proving scenarios with their verdicts: `cc-new-json (OK)`.
    pub scenarios: Vec<String>,
}

/// A row in the columns of MedCom's list of approved systems.
#[derive(Debug, Clone, Serialize)]
pub struct Approved {
    /// System.
    pub system: String,
    /// Leverandør (vendor).
    pub leverandor: String,
    /// Systemtype.
    pub systemtype: String,
    /// Standard.
    pub standard: String,
    /// Standard ID (Version).
    pub standard_id: String,
    /// Kanal (channel).
    pub kanal: String,
    /// Teststatus.
    pub teststatus: String,
}

/// The overview (the shape of `capabilities.json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Capabilities {
    /// Units, in tree order.
    pub units: Vec<UnitLine>,
    /// Per unit type.
    pub unit_types: BTreeMap<String, TypeCount>,
    /// Per sector ([`crate::registry::Registry::sector_of`]).
    pub sectors: BTreeMap<String, TypeCount>,
    /// The tested matrix.
    pub matrix: Vec<Cell>,
    /// The approved-systems table.
    pub approved: Vec<Approved>,
}

/// Builds the overview from `registry` (units, filtered) and `traffic` (the runs).
pub fn build(registry: Option<&Registry>, traffic: &Traffic, filter: &Filter) -> Capabilities {
    let mut out = Capabilities::default();
    if let Some(r) = registry {
        out.units = units(r).into_iter().filter(|u| filter.keeps(u)).collect();
        for u in &out.units {
            for c in [
                out.unit_types.entry(u.unit_type.clone()).or_default(),
                out.sectors.entry(u.sector.clone()).or_default(),
            ] {
                if u.has_endpoint {
                    c.with_endpoint += 1;
                } else {
                    c.without_endpoint += 1;
                }
            }
        }
    }
    out.matrix = matrix(traffic);
    out.approved = approved(traffic);
    out
}

fn units(r: &Registry) -> Vec<UnitLine> {
    let line = |u: &crate::registry::Unit| {
        let endpoints: Vec<_> = r.endpoints_of(u).collect();
        let mut accepts: Vec<String> = endpoints
            .iter()
            .flat_map(|e| e.payload_types.iter().map(|p| label_of_uri(p)))
            .chain(u.edi_types.iter().cloned())
            .collect();
        accepts.sort();
        accepts.dedup();
        UnitLine {
            sor_id: u.sor_id.clone(),
            name: crate::registry::strip_sor_suffix(&u.name).to_string(),
            level: u.level.clone(),
            unit_type: u.unit_type.clone().unwrap_or_else(|| u.level.clone()),
            municipality: u.municipality.clone(),
            region: u.region.clone(),
            sector: r.sector(&u.sor_id).to_string(),
            sector_source: r.sector_of(&u.sor_id).source,
            parent: u.parent.clone(),
            depth: r.ancestors(&u.sor_id).len(),
            gln: r.location_number(&u.sor_id).map(|(g, _)| g.to_string()),
            has_endpoint: !u.endpoints.is_empty() || !endpoints.is_empty(),
            accepts,
        }
    };
    // Tree order: each unit after its parent (depth-first), roots by SOR id.
    let all: Vec<&crate::registry::Unit> = r.units().collect();
    let mut children: BTreeMap<Option<&str>, Vec<&crate::registry::Unit>> = BTreeMap::new();
    for u in &all {
        let parent = u.parent.as_deref().filter(|p| r.unit(p).is_some());
        children.entry(parent).or_default().push(u);
    }
    let mut out = Vec::with_capacity(all.len());
    let mut stack: Vec<&crate::registry::Unit> = children.get(&None).cloned().unwrap_or_default();
    stack.reverse();
    while let Some(u) = stack.pop() {
        if out.iter().any(|l: &UnitLine| l.sor_id == u.sor_id) {
            continue;
        }
        out.push(line(u));
        if let Some(kids) = children.get(&Some(u.sor_id.as_str())) {
            stack.extend(kids.iter().rev());
        }
    }
    // Units in a loop of parents are listed too.
    for u in all {
        if !out.iter().any(|l| l.sor_id == u.sor_id) {
            out.push(line(u));
        }
    }
    out
}

/// The system a run tested: its `[system]` name and version (`TestJournal 1.2.3`) when the
/// results record them, else the run's target.
fn system(run: &crate::stats::traffic::Run) -> String {
    let text = |k: &str| {
        run.system[k]
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    match text("name").or(text("system")) {
        Some(name) => match text("version") {
            Some(v) => format!("{name} {v}"),
            None => name.to_string(),
        },
        None => run.target.clone(),
    }
}

/// The main standard of a scenario's `standard` text: the part before ` / ` or `;`.
fn main_standard(standard: &str) -> String {
    standard
        .split([';', '/'])
        .next()
        .unwrap_or(standard)
        .trim()
        .to_string()
}

/// A main standard taken apart: `XDIS20 XD2030C (NotificationOfAdmission)` is `XDIS20` version
/// `XD2030C`; `CareCommunication 5.0` is `CareCommunication` version `5.0`; `XDIS20
/// (NotificationOfAdmission)` has no version (the parenthesis is the document's title).
fn name_and_version(main: &str) -> (String, Option<String>) {
    let mut parts = main.split_whitespace();
    let name = parts.next().unwrap_or_default().to_string();
    let version = parts
        .next()
        .filter(|v| !v.starts_with('('))
        .map(str::to_string);
    (name, version)
}

/// The message type a standard's messages carry, as [`crate::stats::traffic::Item`] reads it:
/// the FHIR event code (`care-communication-message`) or the OIOXML `TypeCode` (`XDIS20`).
fn message_type_of(name: &str) -> String {
    match name {
        "CareCommunication" => "care-communication-message".into(),
        "HospitalNotification" => "hospital-notification-message".into(),
        "Acknowledgement" => "acknowledgement-message".into(),
        other => other.to_string(),
    }
}

/// Whether a scenario deliberately sends a broken or unacceptable input to see it refused (the
/// suite tags these `negative` (OIOXML syntax errors, unknown receivers) or `invalid` (FHIR
/// messages that break a profile)). It proves the refusal, never the capability.
fn deliberately_broken(s: &crate::stats::traffic::Scenario) -> bool {
    s.tags.iter().any(|t| t == "negative" || t == "invalid")
}

/// Whether `s` ran one of MedCom's FHIR TestScripts (tagged `testscript`): its tags say
/// nothing of its direction, its exchanged messages do.
fn is_testscript(s: &crate::stats::traffic::Scenario) -> bool {
    s.tags.iter().any(|t| t == "testscript")
}

/// The message type the scenario's main standard is about (`care-communication-message`).
fn wanted_type(s: &crate::stats::traffic::Scenario) -> String {
    message_type_of(&name_and_version(&main_standard(&s.standard)).0)
}

/// Whether item `i` is a message of the standard's own type `wanted` (an answer counts only
/// when the standard is the acknowledgement itself).
fn of_standard(i: &crate::stats::traffic::Item, wanted: &str) -> bool {
    matches!(i.kind, Kind::Fhir | Kind::Oioxml)
        && i.message_type == wanted
        && (i.answers.is_none() || wanted == "acknowledgement-message")
}

/// `send` when the scenario has the system send, else `receive`. A suite scenario says so in
/// its tags. A TestScript scenario is read from what it exchanged: `send` when the system sent
/// a message of the standard's type (MedCom's `*-send-*` scripts: the harness may first send
/// the message the system answers, replies to or forwards), `receive` when only the harness
/// did; with no such message, the script's name (`acknowledgement-send-…`) decides.
fn direction_of(traffic: &Traffic, s: &crate::stats::traffic::Scenario) -> &'static str {
    if !is_testscript(s) {
        return if s.tags.iter().any(|t| t == "send") {
            "send"
        } else {
            "receive"
        };
    }
    let wanted = wanted_type(s);
    let mine = || {
        traffic
            .items
            .iter()
            .filter(|i| i.run == s.run && i.scenario == s.id && of_standard(i, &wanted))
    };
    if mine().any(|i| i.direction == "received") {
        "send"
    } else if mine().any(|i| i.direction == "sent") {
        "receive"
    } else if s.id.split('-').any(|w| w == "send") {
        "send"
    } else {
        "receive"
    }
}

/// The grade a scenario shows in a matrix cell: its worst grade, except that a scenario that
/// did not pass is never `OK` there: `ERROR` when it could not run to its end (a script's own
/// defect, something the harness could not do), `FAILED` when it failed without a worse grade.
fn cell_grade(s: &crate::stats::traffic::Scenario) -> String {
    match s.status.as_str() {
        "error" => "ERROR".into(),
        "failed" if s.verdict == "OK" => "FAILED".into(),
        _ => s.verdict.clone(),
    }
}

/// Whether `s` proves its system can exchange its main standard's messages in its direction
/// (see the module docs): it passed, is not [`deliberately_broken`], and a message of that type
/// went the scenario's way (to the system for `receive`: evidence `sent`; from it for `send`:
/// `received`) and no answer refused it (an acknowledgement `fatal-error`, a negative receipt
/// XCTL02).
fn proves(traffic: &Traffic, s: &crate::stats::traffic::Scenario) -> bool {
    if s.status != "passed" || deliberately_broken(s) {
        return false;
    }
    let wanted = wanted_type(s);
    let way = if direction_of(traffic, s) == "send" {
        "received"
    } else {
        "sent"
    };
    let mine = |i: &&crate::stats::traffic::Item| i.run == s.run && i.scenario == s.id;
    let refused = |id: &str| {
        traffic.items.iter().filter(mine).any(|a| {
            a.answers.as_deref() == Some(id)
                && (a.statistical_code == "MCM:FCTL#fatal-error" || a.message_type == "XCTL02")
        })
    };
    traffic.items.iter().filter(mine).any(|i| {
        of_standard(i, &wanted) && i.direction == way && !i.id.as_deref().is_some_and(refused)
    })
}

/// Grades from best to worst, for "the worst verdict".
fn rank(verdict: &str) -> usize {
    ["OK", "F4", "F3", "F2", "F1", "FAILED", "ERROR"]
        .iter()
        .position(|g| *g == verdict)
        .unwrap_or(5)
}

/// (system, standard, direction, feature).
type CellKey = (String, String, String, String);

/// The matrix feature of a [`deliberately_broken`] scenario: all it shows.
pub const REJECTS_INVALID: &str = "rejects invalid input";

fn matrix(traffic: &Traffic) -> Vec<Cell> {
    // Per cell, each scenario once (two runs of one system may both run it), with its worst grade.
    let mut cells: BTreeMap<CellKey, BTreeMap<String, String>> = BTreeMap::new();
    for s in &traffic.scenarios {
        let Some(run) = traffic.runs.get(s.run) else {
            continue;
        };
        let direction = direction_of(traffic, s);
        // A TestScript's own features are those of the system's messages, not of the ones
        // the harness sent first to be answered, replied to or forwarded.
        let way = if direction == "send" {
            "received"
        } else {
            "sent"
        };
        let mut features: Vec<String> = Vec::new();
        if deliberately_broken(s) {
            features.push(REJECTS_INVALID.to_string());
        } else {
            let items = traffic.items.iter().filter(|i| {
                i.run == s.run
                    && i.scenario == s.id
                    && matches!(i.kind, Kind::Fhir | Kind::Oioxml)
                    && i.answers.is_none()
                    && i.message_type != "acknowledgement-message"
                    && (!is_testscript(s) || i.direction == way)
            });
            for i in items {
                features.push(format!("format {}", i.format));
                if let Some(a) = &i.activity {
                    features.push(format!("activity {}", a.trim_end_matches("-message")));
                }
                for m in &i.attachments {
                    features.push(format!("attachment {m}"));
                }
            }
            let folder = s.tags.iter().any(|t| t == "folder")
                || !(run.target.starts_with("http") || run.target.starts_with("embedded"));
            features.push(format!(
                "transport {}",
                if folder { "folder" } else { "HTTP" }
            ));
        }
        features.sort();
        features.dedup();
        for f in features {
            let proofs = cells
                .entry((
                    system(run),
                    main_standard(&s.standard),
                    direction.to_string(),
                    f,
                ))
                .or_default();
            let shown = cell_grade(s);
            let grade = proofs.entry(s.id.clone()).or_insert_with(|| shown.clone());
            if rank(&shown) > rank(grade) {
                *grade = shown;
            }
        }
    }
    cells
        .into_iter()
        .map(|((system, standard, direction, feature), proofs)| Cell {
            verdict: proofs
                .values()
                .map(String::as_str)
                .max_by_key(|v| rank(v))
                .unwrap_or("OK")
                .to_string(),
            scenarios: proofs.iter().map(|(id, v)| format!("{id} ({v})")).collect(),
            system,
            standard,
            direction,
            feature,
        })
        .collect()
}

/// `CareCommunication 5.0` -> (`CareCommunication`, `FDIS91 (5.0)`); `XDIS91 XD9134L` ->
/// (`XDIS91`, `XDIS91 (XD9134L)`); `XDIS20 (NotificationOfAdmission)` (no version) ->
/// (`XDIS20`, `XDIS20`). The FHIR standards' ids are MedCom's SOR-EDI codes (ConceptMap
/// `medcom-messaging-mapFhirToSorEdi`).
fn standard_id(standard: &str) -> (String, String) {
    let (name, version) = name_and_version(standard);
    let id = match name.as_str() {
        "CareCommunication" => "FDIS91".to_string(),
        "HospitalNotification" => "FDIS20".to_string(),
        "Acknowledgement" => "FCTL".to_string(),
        other => other.to_string(),
    };
    let id = match version {
        Some(v) => format!("{id} ({v})"),
        None => id,
    };
    (name, id)
}

fn approved(traffic: &Traffic) -> Vec<Approved> {
    // One row per run and standard; the scenarios of a standard's versions share it.
    let mut rows: BTreeMap<(usize, String), Vec<&crate::stats::traffic::Scenario>> =
        BTreeMap::new();
    for s in &traffic.scenarios {
        let (name, _) = name_and_version(&main_standard(&s.standard));
        rows.entry((s.run, name)).or_default().push(s);
    }
    rows.into_iter()
        .filter_map(|((run, name), scenarios)| {
            let r = traffic.runs.get(run)?;
            // Only scenarios that exchange real messages name a row and its versions: a
            // standard tested only with broken input is not listed at all.
            let mut ids: Vec<String> = scenarios
                .iter()
                .filter(|s| !deliberately_broken(s))
                .map(|s| standard_id(&main_standard(&s.standard)).1)
                .collect();
            ids.sort();
            ids.dedup();
            if ids.is_empty() {
                return None;
            }
            let folder = scenarios
                .iter()
                .any(|s| s.tags.iter().any(|t| t == "folder"));
            let proving: Vec<_> = scenarios.iter().filter(|s| proves(traffic, s)).collect();
            let mut directions: Vec<&str> =
                proving.iter().map(|s| direction_of(traffic, s)).collect();
            directions.sort();
            directions.dedup();
            let passed = !proving.is_empty() && scenarios.iter().all(|s| s.status == "passed");
            let text = |k: &str| {
                r.system[k]
                    .as_str()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .unwrap_or("—")
                    .to_string()
            };
            Some(Approved {
                system: system(r),
                leverandor: text("vendor"),
                systemtype: r.system["type"]
                    .as_str()
                    .or(r.system["system_type"].as_str())
                    .unwrap_or("—")
                    .to_string(),
                standard: name,
                standard_id: ids.join(", "),
                kanal: if folder {
                    "VANS (folder)"
                } else {
                    "HTTP (FHIR messaging)"
                }
                .into(),
                teststatus: format!(
                    "{} in harness test {} ({} of {} scenario(s) prove it{})",
                    if passed { "passed" } else { "not passed" },
                    r.started.get(..10).unwrap_or(&r.started),
                    proving.len(),
                    scenarios.len(),
                    if directions.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", directions.join(", "))
                    }
                ),
            })
        })
        .collect()
}

/// Writes the overview into `dir` (created if missing): `capabilities.json`,
/// `capabilities.csv`, `capabilities-matrix.csv`, `capabilities-approved.csv`,
/// `capabilities.html`.
///
/// # Errors
///
/// [`CapabilitiesError`] naming the file.
pub fn write(c: &Capabilities, dir: &Path) -> Result<(), CapabilitiesError> {
    let failed = |path: PathBuf| move |source| CapabilitiesError::Write { path, source };
    std::fs::create_dir_all(dir).map_err(failed(dir.to_path_buf()))?;
    let json = dir.join("capabilities.json");
    std::fs::write(
        &json,
        serde_json::to_string_pretty(c).unwrap_or_default() + "\n",
    )
    .map_err(failed(json.clone()))?;
    let csv_failed = |path: PathBuf| move |source| CapabilitiesError::Csv { path, source };
    let units = dir.join("capabilities.csv");
    write_csv(
        &units,
        &[
            "sor_id",
            "name",
            "level",
            "unit_type",
            "municipality",
            "region",
            "sector",
            "parent",
            "gln",
            "has_endpoint",
            "accepts",
            "sector_source",
        ],
        c.units.iter().map(|u| {
            vec![
                u.sor_id.clone(),
                u.name.clone(),
                u.level.clone(),
                u.unit_type.clone(),
                u.municipality.clone().unwrap_or_default(),
                u.region.clone().unwrap_or_default(),
                u.sector.clone(),
                u.parent.clone().unwrap_or_default(),
                u.gln.clone().unwrap_or_default(),
                u.has_endpoint.to_string(),
                u.accepts.join("; "),
                u.sector_source.clone(),
            ]
        }),
    )
    .map_err(csv_failed(units.clone()))?;
    let matrix = dir.join("capabilities-matrix.csv");
    write_csv(
        &matrix,
        &[
            "system",
            "standard",
            "direction",
            "feature",
            "verdict",
            "scenarios",
        ],
        c.matrix.iter().map(|m| {
            vec![
                m.system.clone(),
                m.standard.clone(),
                m.direction.clone(),
                m.feature.clone(),
                m.verdict.clone(),
                m.scenarios.join("; "),
            ]
        }),
    )
    .map_err(csv_failed(matrix.clone()))?;
    let approved = dir.join("capabilities-approved.csv");
    write_csv(
        &approved,
        &APPROVED_COLUMNS,
        c.approved.iter().map(|a| {
            vec![
                a.system.clone(),
                a.leverandor.clone(),
                a.systemtype.clone(),
                a.standard.clone(),
                a.standard_id.clone(),
                a.kanal.clone(),
                a.teststatus.clone(),
            ]
        }),
    )
    .map_err(csv_failed(approved.clone()))?;
    let page = dir.join("capabilities.html");
    std::fs::write(&page, html::page(c)).map_err(failed(page.clone()))?;
    Ok(())
}

/// The columns of MedCom's public list of approved systems.
pub const APPROVED_COLUMNS: [&str; 7] = [
    "System",
    "Leverandør",
    "Systemtype",
    "Standard",
    "Standard ID (Version)",
    "Kanal",
    "Teststatus",
];

fn write_csv(
    path: &Path,
    head: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record(head)?;
    for r in rows {
        w.write_record(&r)?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standards_get_medcoms_standard_ids() {
        // ConceptMap medcom-messaging-mapFhirToSorEdi: care-communication-message -> FDIS91.
        assert_eq!(
            standard_id("CareCommunication 5.0"),
            ("CareCommunication".into(), "FDIS91 (5.0)".into())
        );
        assert_eq!(
            standard_id("XDIS91 XD9134L"),
            ("XDIS91".into(), "XDIS91 (XD9134L)".into())
        );
        assert_eq!(main_standard("XDIS91 XD9134L / XCTL03"), "XDIS91 XD9134L");
    }
}

#[cfg(test)]
mod proof_tests {
    use super::*;
    use crate::stats::traffic::{Item, Run, Scenario};

    fn scenario(id: &str, standard: &str, tags: &[&str]) -> Scenario {
        Scenario {
            run: 0,
            id: id.into(),
            title: String::new(),
            standard: standard.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            status: "passed".into(),
            verdict: "OK".into(),
        }
    }

    fn letter(scenario: &str, direction: &str, type_code: &str, id: &str) -> Item {
        Item {
            run: 0,
            scenario: scenario.into(),
            evidence: "e1".into(),
            direction: direction.into(),
            kind: Kind::Oioxml,
            format: "xml".into(),
            message_type: type_code.into(),
            statistical_code: type_code.into(),
            month: None,
            at_ms: None,
            id: Some(id.into()),
            answers: None,
            activity: None,
            attachments: Vec::new(),
            sender: (None, None),
            receiver: (None, None),
        }
    }

    fn traffic(scenarios: Vec<Scenario>, items: Vec<Item>) -> Traffic {
        Traffic {
            runs: vec![Run {
                file: "results.json".into(),
                target: "exchange folder `x`".into(),
                started: "2026-12-07T18:00:00Z".into(),
                verdict: "OK".into(),
                system: serde_json::json!({"vendor": "Test A/S", "name": "TestJournal"}),
            }],
            scenarios,
            items,
        }
    }

    #[test]
    fn a_version_less_standard_gets_its_id_without_doubled_parentheses() {
        assert_eq!(
            standard_id("XDIS20 (NotificationOfAdmission)"),
            ("XDIS20".into(), "XDIS20".into())
        );
        assert_eq!(
            standard_id("XLA201 XLA2011001A (WorkingDisabilityRequest)"),
            ("XLA201".into(), "XLA201 (XLA2011001A)".into())
        );
    }

    #[test]
    fn only_a_passed_valid_exchange_in_the_scenarios_direction_proves_a_standard() {
        let std = "XDIS20 XD2030C (NotificationOfAdmission) / XCTL03";
        let good = scenario("good", std, &["receive", "folder"]);
        let broken = scenario("broken", std, &["receive", "negative", "folder"]);
        let wrong_way = scenario("wrong-way", std, &["send", "folder"]);
        let mut failed = scenario("failed", std, &["receive", "folder"]);
        failed.status = "failed".into();
        let refused = scenario("refused", std, &["receive", "folder"]);
        let mut receipt = letter("refused", "received", "XCTL02", "E9");
        receipt.answers = Some("E5".into());
        let t = traffic(
            vec![
                good.clone(),
                broken.clone(),
                wrong_way.clone(),
                failed.clone(),
                refused.clone(),
            ],
            vec![
                letter("good", "sent", "XDIS20", "E1"),
                letter("broken", "sent", "XDIS20", "E2"),
                // A send scenario where only the harness sent an XDIS20: not the system's.
                letter("wrong-way", "sent", "XDIS20", "E3"),
                letter("failed", "sent", "XDIS20", "E4"),
                letter("refused", "sent", "XDIS20", "E5"),
                receipt,
            ],
        );
        assert!(proves(&t, &good));
        assert!(!proves(&t, &broken));
        assert!(!proves(&t, &wrong_way));
        assert!(!proves(&t, &failed));
        assert!(!proves(&t, &refused));

        // Only the broken scenario: no row at all, and its one matrix cell is the refusal.
        let only = traffic(vec![broken], vec![letter("broken", "sent", "XDIS20", "E2")]);
        let c = build(None, &only, &Filter::default());
        assert!(c.approved.is_empty(), "{:?}", c.approved);
        assert_eq!(c.matrix.len(), 1);
        assert_eq!(c.matrix[0].feature, REJECTS_INVALID);
        assert_eq!(c.matrix[0].system, "TestJournal");
    }

    fn fhir(scenario: &str, direction: &str, event: &str, id: &str) -> Item {
        Item {
            kind: Kind::Fhir,
            format: "json".into(),
            ..letter(scenario, direction, event, id)
        }
    }

    #[test]
    fn a_testscript_takes_its_direction_from_who_sent_the_standards_message() {
        let std = "CareCommunication 5.0.0";
        // A reply script: the harness sends the new message, the system replies.
        let reply = scenario("cc-send-reply", std, &["testscript"]);
        let receive = scenario("cc-receive-new", std, &["testscript"]);
        // An acknowledgement send script: the harness sends a notification, the system acks.
        let ack = scenario("ack-send-ok", "Acknowledgement 2.0.0", &["testscript"]);
        let mut ack_item = fhir("ack-send-ok", "received", "acknowledgement-message", "A2");
        ack_item.answers = Some("H1".into());
        let mut defect = scenario("cc-send-defect", std, &["testscript"]);
        defect.status = "error".into();
        let t = traffic(
            vec![reply.clone(), receive.clone(), ack.clone(), defect.clone()],
            vec![
                fhir("cc-send-reply", "sent", "care-communication-message", "C1"),
                fhir(
                    "cc-send-reply",
                    "received",
                    "care-communication-message",
                    "C2",
                ),
                fhir("cc-receive-new", "sent", "care-communication-message", "C3"),
                fhir("ack-send-ok", "sent", "hospital-notification-message", "H1"),
                ack_item,
                fhir(
                    "cc-send-defect",
                    "received",
                    "care-communication-message",
                    "C4",
                ),
            ],
        );
        assert_eq!(direction_of(&t, &reply), "send");
        assert_eq!(direction_of(&t, &receive), "receive");
        assert_eq!(direction_of(&t, &ack), "send");
        assert!(proves(&t, &reply) && proves(&t, &receive) && proves(&t, &ack));
        assert!(!proves(&t, &defect));
        let c = build(None, &t, &Filter::default());
        for cell in c
            .matrix
            .iter()
            .filter(|c| c.scenarios.iter().any(|s| s.starts_with("cc-send-defect ")))
        {
            assert_eq!(cell.verdict, "ERROR", "{cell:?}");
        }
    }
}
