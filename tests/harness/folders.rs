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

/// Files in the vendor's outbox before a short run starts are not lost when the run ends: the
/// run waits for them, each is an unclaimed arrival, and a symbolic link fails the run.
#[cfg(unix)]
#[test]
fn outbox_files_there_before_a_short_run_are_reported_and_a_symlink_fails_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out/");
    std::fs::write(out.join("stray.txt"), b"not a message").expect("stray file");
    std::os::unix::fs::symlink("/etc/hostname", out.join("evil.xml")).expect("symlink");
    let _serve = Serve::start(&["--folder", &dir.path().display().to_string()]);
    let reports = tempfile::tempdir().expect("tmp");
    let config = reports.path().join("fast.toml");
    std::fs::write(&config, "default-within = 3\n").expect("write config");
    let run = crate::support::run_with_reports(
        reports.path(),
        &[
            "run".as_ref(),
            "scenarios/carecommunication/new-json.toml".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            "--target".as_ref(),
            dir.path().as_os_str(),
        ],
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let text = std::fs::read_to_string(reports.path().join("results.json")).expect("results");
    let results: serde_json::Value = serde_json::from_str(&text).expect("json");
    let unclaimed: Vec<String> = results["unclaimed"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pair| pair[1].to_string())
        .collect();
    assert!(
        unclaimed
            .iter()
            .any(|f| f.contains("folder-link") && f.contains("F2") && f.contains("evil.xml")),
        "no F2 folder-link finding for the symlink: {unclaimed:?}"
    );
    assert!(
        unclaimed.iter().any(|f| f.contains("stray.txt")),
        "the stray file is not an unclaimed arrival: {unclaimed:?}"
    );
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert_eq!(results["passed"], false);
    assert_eq!(results["verdict"], "FAILED");
    assert!(
        !out.join("stray.txt").exists(),
        "stray.txt left unhandled in out/"
    );
}
