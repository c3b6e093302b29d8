//! Scenario files: TOML, parsed strictly.
//!
//! A scenario is one test of the vendor's system: metadata (`id`, `title`, `standard`,
//! `protocol-step`, `rules`, `tags`) and `[[step]]` tables, each with exactly one step kind:
//!
//! | step | what it does |
//! |---|---|
//! | `send` | renders a message template and sends it (`as` names it for later steps) |
//! | `expect-ack` | waits `within` for the acknowledgement of a sent message and judges it |
//! | `resend` | sends a message again with a new Bundle.id and the same MessageHeader.id |
//! | `expect-message` | waits for a message from the vendor (a reply, a forward) and judges it |
//! | `ack` | acknowledges a message the vendor sent |
//! | `instruct` | asks the operator (a person, or the reference vendor) to act |
//! | `send-letter` | sends a classic XDIS91 letter with an XBIN01 per attachment, or with `type` a home care letter or LÆ form (`XDIS20`, `XLA121`, …; `answers` a vendor letter) (folders) |
//! | `expect-receipt` | waits for the XCTL receipt of a letter and judges it |
//! | `expect-letter` | waits for an XDIS91 from the vendor with its XBIN01s, or with `type` a home care letter or LÆ form (`answers` the harness letter it must answer), and judges them |
//! | `receipt` | sends the harness's receipt for a vendor letter |
//! | `expect-resends` | watches `during` for the vendor's resends of an unacknowledged message (KR7) |
//!
//! TOML because codes, CPR numbers, SOR ids and EAN numbers must never be retyped by the parser.
//! Unknown keys are errors with the file, line and column and a did-you-mean; a step that refers
//! to a capture no earlier step made is an error too, before anything is sent.

mod load;
mod model;

pub use load::{ScenarioError, load, load_file, load_file_limited, load_limited};
pub use model::{
    Ack, Action, AttachmentSpec, ExpectAck, ExpectLetter, ExpectMessage, ExpectReceipt,
    ExpectResends, Instruct, ReceiptExpectation, ReceiptStep, Resend, Scenario, Send, SendLetter,
    Step, TransportKind,
};
