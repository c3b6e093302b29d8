//! Every fault profile of the reference vendor makes the bundled suite fail with a finding that
//! names the rule it breaks; the correct vendor passes. Run as users run it: `serve --fault NAME`
//! in one process, `run --target URL` in another.

use crate::support::{Serve, run_suite};
use medcom_harness::simulator::Fault;

#[test]
fn bundled_suite_passes_against_the_correct_reference_vendor() {
    let serve = Serve::start(&[]);
    let (code, failing, stdout) = run_suite(std::ffi::OsStr::new(&serve.url));
    assert_eq!(code, 0, "failing rules {failing:?}\n{stdout}");
}

#[test]
fn bundled_suite_passes_when_acknowledgements_arrive_later_at_the_listener() {
    let serve = Serve::start(&["--ack-delivery", "later"]);
    let (code, failing, stdout) = run_suite(std::ffi::OsStr::new(&serve.url));
    assert_eq!(code, 0, "failing rules {failing:?}\n{stdout}");
}

#[test]
fn every_fault_profile_fails_the_suite_naming_the_broken_rule() {
    let mut missed = Vec::new();
    for fault in Fault::ALL.into_iter().filter(|f| !f.folder_only()) {
        let serve = Serve::start(&["--fault", fault.name()]);
        let (code, failing, stdout) = run_suite(std::ffi::OsStr::new(&serve.url));
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

#[test]
fn a_folder_fault_on_the_embedded_vendor_sends_everything_through_its_folder() {
    // `run --fault envelope-name-mismatch` without a target: the fault shows only in an exchange
    // folder, so the embedded vendor serves one for every message, and the suite catches it.
    let dir = tempfile::tempdir().expect("tmp");
    let out = crate::support::run_with_reports(
        dir.path(),
        &[
            "run".as_ref(),
            "--fault".as_ref(),
            "envelope-name-mismatch".as_ref(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("over an exchange folder"), "{stdout}");
    let failing = crate::support::failing_rules(dir.path());
    assert!(!failing.is_empty());
    assert!(failing.iter().all(|r| *r == "vans-name"), "{failing:?}");
}

#[test]
fn an_envelope_fault_report_states_the_envelope_rule_in_its_rules_appendix() {
    // The rules appendix ("Rules cited") of the HTML report states every rule that fired; the
    // envelope rule `vans-name` is stated as the one catalogue has it (VANSEnvelope `Document/Name`
    // is the payload's statistical code, CodeSystem medcom-messaging-statisticalCodes).
    let dir = tempfile::tempdir().expect("tmp");
    let out = crate::support::run_with_reports(
        dir.path(),
        &[
            "run".as_ref(),
            "--fault".as_ref(),
            "envelope-name-mismatch".as_ref(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("the HTML report");
    let doc = scraper::Html::parse_document(&html);
    let row = scraper::Selector::parse("section#rules tbody tr").expect("valid CSS");
    let cell = scraper::Selector::parse("td").expect("valid CSS");
    let rows: Vec<Vec<String>> = doc
        .select(&row)
        .map(|r| {
            r.select(&cell)
                .map(|c| c.text().collect::<String>().trim().to_string())
                .collect()
        })
        .collect();
    let vans_name = rows
        .iter()
        .find(|cells| cells.first().map(String::as_str) == Some("vans-name"))
        .unwrap_or_else(|| panic!("no `vans-name` in the rules appendix: {rows:?}"));
    let statement = &vans_name[2];
    assert!(
        statement.contains("Document/Name") && statement.contains("statistical code"),
        "{vans_name:?}"
    );
    assert!(
        vans_name[3].contains("medcom-messaging-statisticalCodes"),
        "{vans_name:?}"
    );
}
