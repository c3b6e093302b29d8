//! Reviewer steps: what a person adds to a run after it, kept in an append-only review log
//! (`review.jsonl`, JSON lines, beside `results.json`) that the HTML report shows and
//! `evidence pack` signs with the rest.
//!
//! A reviewer can attest a manual step of MedCom's test protocol (with files, e.g. screenshots,
//! copied into `review/` beside the log), comment on a protocol step, a scenario or a scenario
//! step, mark a protocol step or scenario "Not relevant" (MedCom's "Ikke relevant"), or override
//! the grade of a finding with a mandatory comment. The log is never rewritten: an entry is
//! corrected by a later entry, and the original grade stays in the results, in the log (`original`)
//! and in the report beside the override. Every entry records the run it is about (its start
//! time), so entries about an earlier run in the same folder are not shown as this run's.
//!
//! Source: MedCom's test protocols (grades F1–F4, OK, Ikke relevant per step; the reviewer's
//! assessment column) and the manual review, upload, comment and override features MedCom uses in
//! its test tool (the EU Interoperability Test Bed).

mod log;
pub mod prompt;

pub use log::{
    Attached, Entry, Kind, ReviewError, Subject, append, attachment_dir, log_path, read_log,
};
