//! # medcom-harness
//!
//! A conformance test harness for Danish MedCom healthcare messaging. It plays the counterparty of
//! a vendor's system: it sends scenario messages to the vendor's HTTP endpoint, receives what the
//! vendor sends back (acknowledgements, replies, forwards), judges every exchange against MedCom's
//! rules and golden messages, and writes an HTML certification report with JUnit and JSON beside
//! it. An embedded reference vendor with named fault profiles is the default target.
//!
//! ## Glossary
//!
//! - **message**: a FHIR `Bundle` of type `message`, MessageHeader first.
//! - **envelope id / letter id**: `Bundle.id` (new on every send) and `MessageHeader.id` (kept
//!   on a resend), governance 052.2.
//! - **acknowledgement (ack)**: the answer to every message except acknowledgements (KR1, KR2),
//!   with `response.code` `ok`, `transient-error` or `fatal-error`.
//! - **Provenance / activity**: the history of a message (`new-message`, `reply-message`, …).
//! - **thread**: `Communication.identifier` of a CareCommunication, kept by a reply.
//! - **attachment (bilag)**: `Communication.payload.contentAttachment`.
//! - **EAN/GLN, SOR id**: the location number and the organisation register id of a party.
//! - **arrival**: bytes from anywhere read once into an optional envelope and a payload (FHIR
//!   message, OIOXML letter, or unreadable with the reason), see [`arrival`].
//! - **scenario, step, golden, finding, grade, verdict, evidence**: see [`scenario`],
//!   [`golden`], [`finding`], [`grade`], [`run`].
//! - **rule**: one catalogue ([`rule`]) of FHIR, MedCom, envelope, OIOXML and folder rules, each
//!   with its default grade, statement and source; findings name their rule by [`rule::RuleId`].
//!
//! Start at [`run::run`].

pub mod arrival;
pub mod capabilities;
pub mod certification;
pub mod check;
pub mod config;
pub mod encoding;
pub mod envelope;
pub mod evidence;
pub mod fhir;
pub mod finding;
pub mod golden;
pub mod grade;
pub mod hospitalnotification;
pub mod identifier;
pub mod message;
pub mod oioxml;
pub mod registry;
pub mod report;
pub mod review;
pub mod rule;
pub mod run;
pub mod scenario;
pub mod simulator;
pub mod stats;
pub mod template;
pub mod testscript;
pub mod transport;
pub mod validate;

/// The largest HTTP body the harness and the reference vendor accept, in bytes: 100 MB, the
/// governance limit for a whole enveloped message (DOMAIN.md §2), plus base64 and XML overhead.
pub const MAX_BODY_BYTES: usize = 160 * 1024 * 1024;

/// Exit codes of the command line.
pub mod exit {
    /// Every scenario passed (or: nothing worse than the threshold; `diff`: equal).
    pub const PASSED: i32 = 0;
    /// A scenario failed, a finding is worse than the threshold (`diff`: different).
    pub const FAILED: i32 = 1;
    /// The harness could not run: bad arguments, an unreadable scenario, a port in use; or
    /// scenarios that could not run, with none failed.
    pub const ERROR: i32 = 2;
}

/// The MedCom corpus for unit tests: `$MEDCOM_CORPUS`, default `../shared/medcom` beside the
/// project. Panics when it is missing, so a run without the corpus fails loudly.
#[cfg(test)]
pub(crate) fn test_corpus() -> std::path::PathBuf {
    let dir = std::env::var_os("MEDCOM_CORPUS").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/medcom"),
        std::path::PathBuf::from,
    );
    assert!(
        dir.join("PROVENANCE.tsv").is_file(),
        "the MedCom corpus is missing at `{}` (set MEDCOM_CORPUS to the folder holding PROVENANCE.tsv)",
        dir.display()
    );
    dir
}
