//! The bundled suite over exchange folders: `serve --folder DIR` as the vendor, `run --target DIR`
//! as the harness. FHIR travels in VANSEnvelopes, classic letters get XCTL receipts; every folder
//! fault profile fails the suite with a finding that names the rule it breaks.

use crate::support::{Serve, bin};
use medcom_harness::simulator::Fault;

/// Runs the bundled suite against the folder `dir`; returns the exit code and the failing rules.
fn run_suite(dir: &std::path::Path) -> (i32, Vec<String>, String) {
    let out_dir = tempfile::tempdir().expect("tmp");
    let config = out_dir.path().join("fast.toml");
    std::fs::write(&config, "default-within = 3\n").expect("config");
    let json = out_dir.path().join("results.json");
    let out = bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--jobs", "4", "--config"])
        .arg(&config)
        .arg("--target")
        .arg(dir)
        .arg("--report-json")
        .arg(&json)
        .arg("--report-html")
        .arg(out_dir.path().join("r.html"))
        .arg("--report-junit")
        .arg(out_dir.path().join("j.xml"))
        .output()
        .expect("run");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap_or_default())
            .unwrap_or_default();
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
    (
        out.status.code().unwrap_or(-1),
        failing,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn bundled_suite_passes_over_folders_against_the_correct_reference_vendor() {
    let dir = tempfile::tempdir().expect("tmp");
    let _serve = Serve::start(&["--folder", &dir.path().display().to_string()]);
    let (code, failing, stdout) = run_suite(dir.path());
    assert_eq!(code, 0, "failing rules {failing:?}\n{stdout}");
    // Nothing is deleted: every file the harness wrote was handled into processed/ or rejected/.
    let processed = std::fs::read_dir(dir.path().join("in/processed"))
        .expect("in/processed")
        .count();
    assert!(processed >= 16, "{processed} files in in/processed");
    let left: Vec<_> = std::fs::read_dir(dir.path().join("in"))
        .expect("in")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .collect();
    assert!(left.is_empty(), "unhandled files left in in/: {left:?}");
}

#[test]
fn every_folder_fault_profile_fails_the_suite_naming_the_broken_rule() {
    let mut missed = Vec::new();
    for fault in Fault::ALL.into_iter().filter(|f| f.folder_only()) {
        let dir = tempfile::tempdir().expect("tmp");
        let _serve = Serve::start(&[
            "--folder",
            &dir.path().display().to_string(),
            "--fault",
            fault.name(),
        ]);
        let (code, failing, stdout) = run_suite(dir.path());
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
        "folder faults not caught:\n{}",
        missed.join("\n")
    );
}
