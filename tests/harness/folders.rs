//! The bundled suite over exchange folders: `serve --folder DIR` as the vendor, `run --target DIR`
//! as the harness. FHIR travels in VANSEnvelopes, classic letters get XCTL receipts; every folder
//! fault profile fails the suite with a finding that names the rule it breaks.

use crate::support::{Serve, run_suite};
use medcom_harness::simulator::Fault;

#[test]
fn bundled_suite_passes_over_folders_against_the_correct_reference_vendor() {
    let dir = tempfile::tempdir().expect("tmp");
    let _serve = Serve::start(&["--folder", &dir.path().display().to_string()]);
    let (code, failing, stdout) = run_suite(dir.path().as_os_str());
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
        let (code, failing, stdout) = run_suite(dir.path().as_os_str());
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
