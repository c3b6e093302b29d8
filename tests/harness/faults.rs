//! Every fault profile of the reference vendor makes the bundled suite fail with a finding that
//! names the rule it breaks; the correct vendor passes. Run as users run it: `serve --fault NAME`
//! in one process, `run --target URL` in another.

use crate::support::{Serve, bin};
use medcom_harness::simulator::Fault;

fn fast_config(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("fast.toml");
    std::fs::write(&p, "default-within = 2\n").expect("write config");
    p
}

/// Runs the bundled suite against `url`; returns the exit code and the failing rule ids.
fn run_suite(url: &str) -> (i32, Vec<String>, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let config = fast_config(dir.path());
    let json = dir.path().join("results.json");
    let out = bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--target", url, "--jobs", "4", "--config"])
        .arg(&config)
        .arg("--report-json")
        .arg(&json)
        .arg("--report-html")
        .arg(dir.path().join("r.html"))
        .arg("--report-junit")
        .arg(dir.path().join("j.xml"))
        .output()
        .expect("run");
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut failing = Vec::new();
    for s in results["scenarios"].as_array().into_iter().flatten() {
        for step in s["steps"].as_array().into_iter().flatten() {
            for f in step["findings"].as_array().into_iter().flatten() {
                if f["grade"] != "OK" && f["grade"] != "F4" {
                    failing.push(f["rule"].as_str().unwrap_or("").to_string());
                }
            }
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), failing, stdout)
}

#[test]
fn bundled_suite_passes_against_the_correct_reference_vendor() {
    let serve = Serve::start(&[]);
    let (code, failing, stdout) = run_suite(&serve.url);
    assert_eq!(code, 0, "failing rules {failing:?}\n{stdout}");
}

#[test]
fn bundled_suite_passes_when_acknowledgements_arrive_later_at_the_listener() {
    let serve = Serve::start(&["--ack-delivery", "later"]);
    let (code, failing, stdout) = run_suite(&serve.url);
    assert_eq!(code, 0, "failing rules {failing:?}\n{stdout}");
}

#[test]
fn every_fault_profile_fails_the_suite_naming_the_broken_rule() {
    let mut missed = Vec::new();
    for fault in Fault::ALL.into_iter().filter(|f| !f.folder_only()) {
        let serve = Serve::start(&["--fault", fault.name()]);
        let (code, failing, stdout) = run_suite(&serve.url);
        let named = fault
            .violates()
            .iter()
            .all(|r| failing.iter().any(|f| f == r));
        if code != 1 || !named {
            missed.push(format!(
                "{fault}: exit {code}, failing rules {failing:?}, wanted {:?}\n{stdout}",
                fault.violates()
            ));
        }
    }
    assert!(
        missed.is_empty(),
        "faults not caught:\n{}",
        missed.join("\n")
    );
}
