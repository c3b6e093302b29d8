//! `run --partition hash:K/N` and `report merge`: the shares of a run, merged, report what the
//! unpartitioned run reports.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

use serde_json::Value;

/// Per scenario id: status, verdict and each step's findings as `(rule, grade)`. Messages are
/// left out: they name message ids, which differ from run to run.
type Facts = BTreeMap<String, (String, String, Vec<Vec<(String, String)>>)>;

fn facts(results: &Path) -> (Facts, Value, Value) {
    let text = std::fs::read_to_string(results).expect("results written");
    let json: Value = serde_json::from_str(&text).expect("results parse");
    let mut facts = Facts::new();
    for s in json["scenarios"].as_array().into_iter().flatten() {
        let steps = s["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|step| {
                step["findings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|f| (f["rule"].to_string(), f["grade"].to_string()))
                    .collect()
            })
            .collect();
        facts.insert(
            s["id"].as_str().expect("an id").to_owned(),
            (s["status"].to_string(), s["verdict"].to_string(), steps),
        );
    }
    (facts, json["summary"].clone(), json["verdict"].clone())
}

fn run(dir: &Path, partition: Option<&str>) -> Facts {
    let mut args: Vec<&OsStr> = vec![
        "run".as_ref(),
        "scenarios/carecommunication".as_ref(),
        "--filter".as_ref(),
        "new-".as_ref(),
        // Failing findings too, so that findings are compared and not only passes.
        "--fault".as_ref(),
        "fatal-for-valid".as_ref(),
    ];
    if let Some(p) = partition {
        args.push(OsStr::new("--partition"));
        args.push(OsStr::new(p));
    }
    let out = crate::support::run_with_reports(dir, &args);
    assert_eq!(out.status.code(), Some(1), "the fault fails the run");
    facts(&dir.join("results.json")).0
}

#[test]
fn report_merge_of_two_hash_partitions_equals_the_unpartitioned_run() {
    let tmp = tempfile::tempdir().expect("tmp");
    let whole_dir = tmp.path().join("whole");
    run(&whole_dir, None);
    let (whole, whole_summary, whole_verdict) = facts(&whole_dir.join("results.json"));
    assert_eq!(
        whole.len(),
        5,
        "the five `new-` CareCommunication scenarios"
    );
    let mut shares = Vec::new();
    for k in 1..=2 {
        let dir = tmp.path().join(format!("share-{k}"));
        let share = run(&dir, Some(&format!("hash:{k}/2")));
        assert!(!share.is_empty(), "share {k} has scenarios");
        shares.push((dir.join("results.json"), share));
    }
    // The shares split the run: no scenario in both, none in neither.
    let (a, b) = (&shares[0].1, &shares[1].1);
    assert!(a.keys().all(|id| !b.contains_key(id)), "{a:?} / {b:?}");
    assert_eq!(a.len() + b.len(), whole.len());
    let merged = tmp.path().join("merged");
    let out = crate::support::bin()
        .args(["report", "merge"])
        .arg(&shares[0].0)
        .arg(&shares[1].0)
        .arg("--report-json")
        .arg(merged.join("results.json"))
        .arg("--report-html")
        .arg(merged.join("r.html"))
        .arg("--report-junit")
        .arg(merged.join("j.xml"))
        .output()
        .expect("report merge");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a merge of failed shares fails: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (merged_facts, summary, verdict) = facts(&merged.join("results.json"));
    assert_eq!(merged_facts, whole);
    assert_eq!(summary, whole_summary);
    assert_eq!(verdict, whole_verdict);
    let html = std::fs::read_to_string(merged.join("r.html")).expect("merged HTML");
    let junit = std::fs::read_to_string(merged.join("j.xml")).expect("merged JUnit");
    for id in whole.keys() {
        assert!(html.contains(id.as_str()), "{id} not in the merged HTML");
        assert!(junit.contains(id.as_str()), "{id} not in the merged JUnit");
    }
}

#[test]
fn a_share_the_hash_gives_no_scenario_passes_empty_and_the_merge_takes_it() {
    // One scenario over four shares: three of them hold nothing, as in a CI matrix wider than a
    // small suite.
    let tmp = tempfile::tempdir().expect("tmp");
    let mut results = Vec::new();
    let mut ran = 0;
    for k in 1..=4 {
        let dir = tmp.path().join(format!("share-{k}"));
        let partition = format!("hash:{k}/4");
        let out = crate::support::run_with_reports(
            &dir,
            &[
                "run".as_ref(),
                "scenarios/carecommunication/new-json.toml".as_ref(),
                "--partition".as_ref(),
                partition.as_ref(),
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "share {k} passes: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        ran += facts(&dir.join("results.json")).0.len();
        results.push(dir.join("results.json"));
    }
    assert_eq!(ran, 1, "the scenario ran in exactly one share");
    let merged = tmp.path().join("merged.json");
    let out = crate::support::bin()
        .args(["report", "merge"])
        .args(&results)
        .arg("--report-json")
        .arg(&merged)
        .output()
        .expect("report merge");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (facts, _, verdict) = facts(&merged);
    assert_eq!(facts.len(), 1);
    assert_eq!(verdict, "PASSED");
}
