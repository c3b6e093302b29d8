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
