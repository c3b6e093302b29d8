//! The reference vendor: a correct MedCom counterparty, with fault profiles.
//!
//! It is what `run` tests when no `--target` is given, and what `serve` runs on its own. Over HTTP
//! it accepts a message POSTed to any path and acknowledges it in the HTTP response, by the rules:
//!
//! - KR2: an acknowledgement is never acknowledged (`200 OK`, no body: MedCom's Acknowledgement
//!   TestScripts expect `200` or `201` for every POSTed message, acknowledgements included);
//! - KR3/KR6: a message that passes [`crate::validate`] gets `ok`, one that breaks a rule gets
//!   `fatal-error` with an OperationOutcome naming the issue (details code and FHIRPath location);
//! - the receiver's duplicate matrix ([`crate::envelope::DuplicateMatrix`]) on (Bundle.id seen?,
//!   MessageHeader.id seen?): (no, no) process; (yes, yes) the original response was lost, resend
//!   it; (no, yes) a resend after a lost acknowledgement (MR8), answer with the same
//!   acknowledgement. Either way the first acknowledgement is resent, not copied: the same code,
//!   response.identifier and MessageHeader.id in a new Bundle.id with a new Bundle.timestamp
//!   (MedCom's `acknowledgement-send-*-duplicate-*` TestScripts); (yes, no) an envelope id reused for a new letter: `fatal-error`
//!   `MSG_DUPLICATE_ID`. Classic OIOXML letters are judged by the same matrix on
//!   (Envelope/Identifier, Letter/Identifier).
//!
//! With [`AckDelivery::Later`] it answers `202 Accepted` and POSTs the acknowledgement to the URL a
//! harness registered with `POST /_harness/session {"deliver-to": URL}`.
//!
//! It also performs `instruct` steps ([`control`]): `POST /_harness/instruct` with an
//! [`Instruction`] makes it reply to or forward a message it received and deliver the result to a
//! URL or its exchange folder. `GET /_harness` says what it is. A [`Fault`] makes it misbehave in
//! one named way.
//!
//! Everything it sends goes through the transport seam ([`crate::transport::Route`]), as the
//! runner's messages do.
//!
//! Files: `vendor.rs` (settings, state, start and stop), `http.rs` (the HTTP front), `folder.rs`
//! (the exchange-folder front), `fhir.rs` (FHIR acknowledgements, replies and forwards),
//! `oioxml.rs` (XCTL receipts and XDIS91 letters), `hospital.rs` (the HospitalNotifications it
//! sends as a hospital), `resend.rs` (KR7 resends), `script.rs` (what MedCom's send TestScripts
//! ask a sender to do, `POST /_harness/script`), `control.rs` (the
//! control protocol, shared with the runner), `pdf.rs` (the PDF its letters carry), `fault.rs`.

pub mod control;
mod fault;
mod fhir;
mod folder;
mod hospital;
mod http;
mod oioxml;
mod pdf;
mod recent;
mod resend;
mod script;
mod vendor;

pub use control::{
    CONTROL_FILE, ControlFile, DeliverTo, Hello, Instruction, PRODUCT, Session,
    control_url_of_folder,
};
pub use fault::Fault;
pub use fhir::{HL7_OUTCOME, MEDCOM_ERRORS};
pub use script::{SCRIPT_PATH, ScriptDone, ScriptOrder};
pub use vendor::{AckDelivery, Simulator, VendorConfig};
