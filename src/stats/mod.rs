//! Traffic statistics over one or more runs (`medcom-harness stats RESULTS.json…`), counted the
//! way MedCom counts VANS and EHMI traffic: messages per statistical code and per month, per
//! sector pair (from the registry), acknowledgement and receipt latency per message type, and the
//! runs' outcomes. Written as `stats.json`, `stats.csv` and `stats.html` (charts as inline SVG).
//!
//! # Rules
//!
//! - A message is a FHIR message or an OIOXML letter/receipt the run sent or received, each
//!   transmission once (a resend counts again, as VANS counts it); envelopes that carry one are
//!   not counted twice ([`traffic`]).
//! - Latency: from the capture of a message to the capture of the acknowledgement that names its
//!   MessageHeader.id (FHIR), or of the receipt that names its `Envelope/Identifier` (OIOXML), in
//!   the same scenario; an answer pairs with the latest message before it. Median and p95 are
//!   nearest-rank percentiles (the smallest value with at least 50 % / 95 % of the values at or
//!   below it), in milliseconds. Results without capture times (`at`) give no latency.
//! - Sector of a party: [`crate::registry::Registry::sector`] of its SOR id; `unknown` when the
//!   registry does not say, `no registry` without one.

pub mod html;
pub mod traffic;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::registry::Registry;
pub use traffic::{Item, Kind, Traffic};

/// Could not read the runs or write the statistics.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// A results file could not be read.
    #[error("failed to read results `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A results file is not JSON.
    #[error("results `{path}` are not JSON")]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// An output file could not be written.
    #[error("failed to write `{path}`")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The CSV could not be written.
    #[error("failed to write CSV `{path}`")]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: csv::Error,
    },
}

/// A count under one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    /// Sent by the harness.
    pub sent: usize,
    /// Received from the vendor.
    pub received: usize,
    /// Both.
    pub total: usize,
}

impl Count {
    fn add(&mut self, direction: &str) {
        self.total += 1;
        if direction == "sent" {
            self.sent += 1;
        } else {
            self.received += 1;
        }
    }
}

/// Latency of one kind of answer to one message type, in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// `acknowledgement` or `receipt`.
    pub answer: String,
    /// The answered message type (`care-communication-message`, `XDIS91`).
    pub message_type: String,
    /// How many answers were paired.
    pub count: usize,
    /// Nearest-rank median.
    pub median_ms: i128,
    /// Nearest-rank 95th percentile.
    pub p95_ms: i128,
    /// Largest.
    pub max_ms: i128,
}

/// One run as the statistics list it.
#[derive(Debug, Clone, Serialize)]
pub struct RunLine {
    /// The results file.
    pub file: String,
    /// Target.
    pub target: String,
    /// Started.
    pub started: String,
    /// Verdict.
    pub verdict: String,
    /// Messages counted.
    pub messages: usize,
}

/// The statistics (the shape of `stats.json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// The runs.
    pub runs: Vec<RunLine>,
    /// Messages counted (FHIR messages and OIOXML letters/receipts).
    pub messages: Count,
    /// Envelopes seen around them (not counted in `messages`).
    pub envelopes: usize,
    /// Per statistical code.
    pub by_code: BTreeMap<String, Count>,
    /// Per month (`YYYY-MM`), then statistical code.
    pub by_month: BTreeMap<String, BTreeMap<String, usize>>,
    /// Per sector pair (`sender sector -> receiver sector`).
    pub by_sector_pair: BTreeMap<String, usize>,
    /// Per message type and format (`care-communication-message json`).
    pub by_type_and_format: BTreeMap<String, usize>,
    /// Acknowledgement and receipt latency per message type.
    pub latency: Vec<Latency>,
    /// Scenario outcomes: status -> count.
    pub scenario_status: BTreeMap<String, usize>,
    /// Scenario verdicts: grade -> count.
    pub scenario_verdicts: BTreeMap<String, usize>,
}

/// Computes the statistics of `traffic`; `registry` gives the sectors.
pub fn compute(traffic: &Traffic, registry: Option<&Registry>) -> Stats {
    let mut stats = Stats::default();
    let counted = |i: &&Item| matches!(i.kind, Kind::Fhir | Kind::Oioxml);
    for (n, run) in traffic.runs.iter().enumerate() {
        stats.runs.push(RunLine {
            file: run.file.display().to_string(),
            target: run.target.clone(),
            started: run.started.clone(),
            verdict: run.verdict.clone(),
            messages: traffic
                .items
                .iter()
                .filter(counted)
                .filter(|i| i.run == n)
                .count(),
        });
    }
    for i in traffic.items.iter().filter(counted) {
        stats.messages.add(&i.direction);
        stats
            .by_code
            .entry(i.statistical_code.clone())
            .or_default()
            .add(&i.direction);
        *stats
            .by_month
            .entry(i.month.clone().unwrap_or_else(|| "unknown".into()))
            .or_default()
            .entry(i.statistical_code.clone())
            .or_default() += 1;
        let sector = |sor: &Option<String>| match (registry, sor) {
            (None, _) => "no registry",
            (Some(_), None) => "unknown",
            (Some(r), Some(s)) => r.sector(s),
        };
        *stats
            .by_sector_pair
            .entry(format!(
                "{} -> {}",
                sector(&i.sender.1),
                sector(&i.receiver.1)
            ))
            .or_default() += 1;
        *stats
            .by_type_and_format
            .entry(format!("{} {}", i.message_type, i.format))
            .or_default() += 1;
    }
    stats.envelopes = traffic
        .items
        .iter()
        .filter(|i| i.kind == Kind::Envelope)
        .count();
    stats.latency = latency(traffic);
    for s in &traffic.scenarios {
        *stats.scenario_status.entry(s.status.clone()).or_default() += 1;
        *stats
            .scenario_verdicts
            .entry(s.verdict.clone())
            .or_default() += 1;
    }
    stats
}

/// Pairs every acknowledgement and receipt with the message it answers (module docs).
fn latency(traffic: &Traffic) -> Vec<Latency> {
    let mut samples: BTreeMap<(String, String), Vec<i128>> = BTreeMap::new();
    for answer in &traffic.items {
        let (Some(answers), Some(at)) = (answer.answers.as_deref(), answer.at_ms) else {
            continue;
        };
        let kind = if answer.kind == Kind::Fhir {
            "acknowledgement"
        } else {
            "receipt"
        };
        let original = traffic
            .items
            .iter()
            .filter(|o| {
                o.run == answer.run
                    && o.scenario == answer.scenario
                    && o.kind == answer.kind
                    && o.answers.is_none()
                    && o.id.as_deref() == Some(answers)
                    && o.at_ms.is_some_and(|t| t <= at)
            })
            .max_by_key(|o| o.at_ms);
        if let Some(o) = original
            && let Some(t) = o.at_ms
        {
            samples
                .entry((kind.to_string(), o.message_type.clone()))
                .or_default()
                .push(at - t);
        }
    }
    samples
        .into_iter()
        .map(|((answer, message_type), mut v)| {
            v.sort_unstable();
            Latency {
                answer,
                message_type,
                count: v.len(),
                median_ms: nearest_rank(&v, 50),
                p95_ms: nearest_rank(&v, 95),
                max_ms: v.last().copied().unwrap_or_default(),
            }
        })
        .collect()
}

/// The nearest-rank `p`th percentile of sorted `v` (0 when empty).
pub fn nearest_rank(v: &[i128], p: usize) -> i128 {
    if v.is_empty() {
        return 0;
    }
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank.min(v.len()) - 1]
}

/// Writes `stats.json`, `stats.csv` and `stats.html` into `dir` (created if missing).
///
/// # Errors
///
/// [`StatsError::Write`] or [`StatsError::Csv`] naming the file.
pub fn write(stats: &Stats, dir: &Path) -> Result<(), StatsError> {
    let failed = |path: PathBuf| move |source| StatsError::Write { path, source };
    std::fs::create_dir_all(dir).map_err(failed(dir.to_path_buf()))?;
    let json = dir.join("stats.json");
    let text = serde_json::to_string_pretty(stats).unwrap_or_default();
    std::fs::write(&json, text + "\n").map_err(failed(json.clone()))?;
    let csv_path = dir.join("stats.csv");
    write_csv(stats, &csv_path).map_err(|source| StatsError::Csv {
        path: csv_path.clone(),
        source,
    })?;
    let page = dir.join("stats.html");
    std::fs::write(&page, html::page(stats)).map_err(failed(page.clone()))?;
    Ok(())
}

/// The CSV: one row per number, columns `table,key,detail,sent,received,total,median_ms,p95_ms,max_ms`.
fn write_csv(stats: &Stats, path: &Path) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "table",
        "key",
        "detail",
        "sent",
        "received",
        "total",
        "median_ms",
        "p95_ms",
        "max_ms",
    ])?;
    let n = |x: usize| x.to_string();
    w.write_record([
        "messages",
        "all",
        "",
        &n(stats.messages.sent),
        &n(stats.messages.received),
        &n(stats.messages.total),
        "",
        "",
        "",
    ])?;
    for (code, c) in &stats.by_code {
        w.write_record([
            "statistical-code",
            code,
            "",
            &n(c.sent),
            &n(c.received),
            &n(c.total),
            "",
            "",
            "",
        ])?;
    }
    for (month, codes) in &stats.by_month {
        for (code, count) in codes {
            w.write_record(["month", month, code, "", "", &n(*count), "", "", ""])?;
        }
    }
    for (pair, count) in &stats.by_sector_pair {
        w.write_record(["sector-pair", pair, "", "", "", &n(*count), "", "", ""])?;
    }
    for (t, count) in &stats.by_type_and_format {
        w.write_record(["type-and-format", t, "", "", "", &n(*count), "", "", ""])?;
    }
    for l in &stats.latency {
        w.write_record([
            "latency",
            &l.message_type,
            &l.answer,
            "",
            "",
            &n(l.count),
            &l.median_ms.to_string(),
            &l.p95_ms.to_string(),
            &l.max_ms.to_string(),
        ])?;
    }
    for (status, count) in &stats.scenario_status {
        w.write_record([
            "scenario-status",
            status,
            "",
            "",
            "",
            &n(*count),
            "",
            "",
            "",
        ])?;
    }
    for (grade, count) in &stats.scenario_verdicts {
        w.write_record([
            "scenario-verdict",
            grade,
            "",
            "",
            "",
            &n(*count),
            "",
            "",
            "",
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_follow_the_definition() {
        // Nearest rank: the ceil(p/100 * n)-th smallest value.
        let v: Vec<i128> = (1..=20).collect();
        assert_eq!(nearest_rank(&v, 50), 10);
        assert_eq!(nearest_rank(&v, 95), 19);
        assert_eq!(nearest_rank(&[7], 95), 7);
        assert_eq!(nearest_rank(&[], 50), 0);
    }
}
