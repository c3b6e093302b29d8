//! Checks: functions from messages to [`Finding`]s.
//!
//! Each check judges one rule of the catalogue ([`crate::rule`]) and returns findings, passes
//! (`OK`) included, so a report shows what was checked as well as what failed. Checks never do
//! I/O (the envelope's XML Schema check is [`crate::validate`]'s) and never fail: a message too
//! broken to judge is itself a finding. The transports and the runner report facts (what was
//! sent, what came back, how a file arrived); the judging of them lives here.

mod acknowledgement;
mod acquittal;
mod attachment;
mod delivery;
mod followup;
mod receipt;
mod resend;

pub use acknowledgement::{
    acknowledgement, acknowledgement_alone, acknowledgement_with, same_acknowledgement,
};
pub use acquittal::acquittal;
pub use attachment::attachments;
pub use delivery::{delivery, envelope_arrival, not_enveloped, not_written, written_in_place};
pub use followup::{forward, reply};
pub use receipt::receipt_kind;
pub use resend::resend;

use crate::finding::Finding;
