//! Checks: functions from messages to [`Finding`]s.
//!
//! Each check judges one rule of the catalogue ([`crate::rule`]) and returns findings, passes
//! (`OK`) included, so a report shows what was checked as well as what failed. Checks never do
//! I/O and never fail: a message too broken to judge is itself a finding.

mod acknowledgement;
mod attachment;
mod followup;
mod resend;

pub use acknowledgement::{
    acknowledgement, acknowledgement_alone, acknowledgement_with, same_acknowledgement,
};
pub use attachment::attachments;
pub use followup::{forward, reply};
pub use resend::resend;

use crate::finding::Finding;
