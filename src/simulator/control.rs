//! The control protocol between a harness and a reference vendor, as serde types both sides use.
//!
//! - `GET /_harness` answers a [`Hello`]; its `product` is [`PRODUCT`], by which the harness
//!   recognises a reference vendor it can instruct.
//! - `POST /_harness/session` with a [`Session`] says where acknowledgements sent later go
//!   (`204 No Content`).
//! - `POST /_harness/instruct` with an [`Instruction`] makes the vendor reply to or forward a
//!   message it received, or send a classic letter; `200 OK` with a line of text saying what it
//!   did, `400` for a bad instruction, `422` when it has nothing to follow up, `502` when the
//!   result could not be delivered.
//! - The vendor plays the hospital on `{"action": "hospital-notification", "event": "STOR",
//!   "stay": "s1", "letter-id": ID | "", "deliver-to": URL | "folder", "format": "json" | "xml",
//!   "receiver": {"ean": …, "sor-id": …, "name": …}}` (`receiver` optional): it sends
//!   HospitalNotification `event` of stay `stay` (an admission, `STIN`/`STAA`, starts the stay;
//!   every later event continues from the stay's latest message, revisions (`RE_…`) and
//!   cancellations (`AN_…`) act on the latest message of their kind). A non-empty `letter-id`
//!   becomes the notification's `MessageHeader.id`, so the caller can tell it from others in
//!   flight. `422` when the event cannot follow (no such stay, nothing to revise).
//! - A vendor serving an exchange folder announces its control URL there in [`CONTROL_FILE`]
//!   (a [`ControlFile`]).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

use super::vendor::Vendor;
use crate::message::Format;
use crate::scenario::Action;
use crate::transport::{FolderLayout, Route, Sent};

/// The `product` of `GET /_harness`, by which the harness recognises a reference vendor.
pub const PRODUCT: &str = "medcom-harness reference vendor";

/// The path a reference vendor says what it is on.
pub const HELLO_PATH: &str = "/_harness";
/// The path a harness registers its [`Session`] on.
pub const SESSION_PATH: &str = "/_harness/session";
/// The path a harness POSTs [`Instruction`]s to.
pub const INSTRUCT_PATH: &str = "/_harness/instruct";

/// The file in an exchange folder by which a reference vendor tells a harness its control URL.
pub const CONTROL_FILE: &str = "reference-vendor.json";

/// KR7: a sender may resend after 30 minutes without an acknowledgement.
pub const DEFAULT_RESEND_AFTER: Duration = Duration::from_secs(30 * 60);

/// The body of `GET /_harness`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PRODUCT`].
    pub product: String,
    /// The harness version the vendor is part of.
    pub version: String,
    /// The name of its fault profile, `null` for a correct vendor.
    pub fault: Option<String>,
}

/// The body of `POST /_harness/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Session {
    /// The URL acknowledgements sent later are POSTed to (the harness's listener).
    pub deliver_to: String,
}

/// Where an instruction's result goes: the string `"folder"` or a URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum DeliverTo {
    /// Into the vendor's exchange folder (its outbox).
    Folder,
    /// POSTed to this URL.
    Url(String),
}

impl From<String> for DeliverTo {
    fn from(s: String) -> DeliverTo {
        if s == "folder" {
            DeliverTo::Folder
        } else {
            DeliverTo::Url(s)
        }
    }
}

impl From<DeliverTo> for String {
    fn from(d: DeliverTo) -> String {
        match d {
            DeliverTo::Folder => "folder".to_string(),
            DeliverTo::Url(url) => url,
        }
    }
}

/// The body of `POST /_harness/instruct`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Instruction {
    /// What to do.
    pub action: Action,
    /// The `MessageHeader.id` of the received message to follow up (empty for `send-letter`);
    /// for `hospital-notification`, the `MessageHeader.id` to give the notification (empty: the
    /// vendor's own choice), by which the caller recognises it when it arrives.
    pub letter_id: String,
    /// Where the result goes.
    pub deliver_to: DeliverTo,
    /// The result's format (default JSON).
    #[serde(default)]
    pub format: Option<Format>,
    /// KR7: resend the result after this many milliseconds without an acknowledgement
    /// (default [`DEFAULT_RESEND_AFTER`]).
    #[serde(default)]
    pub resend_after_ms: Option<u64>,
    /// For `hospital-notification`: the event (`STIN`, `STAA`, `STOR`, `SLOR`, `SLHJ`, `MORS`,
    /// `RE_<event>`, `AN_<event>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// For `hospital-notification`: the caller's name for the stay; an admission starts it,
    /// later events continue from its latest message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stay: Option<String>,
    /// For `hospital-notification`: the municipality to notify (default the harness's default
    /// party).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<crate::template::Organization>,
    /// For `send-letter`: the classic letter type (`XDIS91` when absent, or a home care letter
    /// or LÆ form by its `TypeCode`, [`crate::oioxml::form::FORM_TYPES`]); `letter_id` then
    /// names the letter an answer answers (`Letter/Identifier`; empty: the last one received).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letter_type: Option<String>,
}

/// The body of [`CONTROL_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlFile {
    /// [`PRODUCT`].
    pub product: String,
    /// The vendor's HTTP base URL (`http://host:port`).
    pub url: String,
}

/// The HTTP base URL of the reference vendor serving the exchange folder `root`, if one does.
pub fn control_url_of_folder(root: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(CONTROL_FILE)).ok()?;
    let file: ControlFile = serde_json::from_str(&text).ok()?;
    Some(file.url)
}

/// Why the vendor did not do what it was told: an HTTP status and a line of text.
pub(super) struct Refusal {
    pub status: StatusCode,
    pub text: String,
}

impl Refusal {
    pub(super) fn new(status: StatusCode, text: impl Into<String>) -> Refusal {
        Refusal {
            status,
            text: text.into(),
        }
    }
}

impl Vendor {
    /// Performs `instruction`; returns what it did, in a line of text.
    pub(super) async fn perform(
        self: &Arc<Self>,
        instruction: Instruction,
    ) -> Result<String, Refusal> {
        let no_folder = || {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "this reference vendor serves no exchange folder",
            )
        };
        if instruction.action == Action::HospitalNotification {
            return self.perform_hospital_notification(instruction).await;
        }
        if instruction.action == Action::SendLetter {
            let root = self.config.folder.as_ref().ok_or_else(no_folder)?;
            let outbox = FolderLayout::new(root).outbox;
            if let Some(kind) = instruction
                .letter_type
                .as_deref()
                .and_then(crate::oioxml::form::FormType::by_type_code)
            {
                return self
                    .send_form(&outbox, kind, &instruction.letter_id)
                    .map_err(|e| Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, e));
            }
            return self
                .send_letter(&outbox)
                .map_err(|e| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e));
        }
        let resend_after = instruction
            .resend_after_ms
            .map_or(DEFAULT_RESEND_AFTER, Duration::from_millis);
        let message = self
            .follow_up(
                instruction.action,
                &instruction.letter_id,
                instruction.format.unwrap_or(Format::Json),
            )
            .map_err(|e| Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
        self.deliver_result(&instruction.deliver_to, message, resend_after)
            .await
    }

    /// Delivers `message`, the result of an instruction, to `deliver_to` and resends it while it
    /// stays unacknowledged (KR7, every `resend_after`); returns what it did, in a line of text.
    pub(super) async fn deliver_result(
        self: &Arc<Self>,
        deliver_to: &DeliverTo,
        message: crate::message::Message,
        resend_after: Duration,
    ) -> Result<String, Refusal> {
        let no_folder = || {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "this reference vendor serves no exchange folder",
            )
        };
        let route = match deliver_to {
            DeliverTo::Folder => {
                let root = self.config.folder.as_ref().ok_or_else(no_folder)?;
                Route::Folder(self.outbox_route(&FolderLayout::new(root).outbox, true))
            }
            DeliverTo::Url(url) => Route::Http(url.clone()),
        };
        let label = message.label();
        let text = match self.send(&route, &message).await {
            Ok(Sent::Written(_)) => format!("wrote {label} to {route}"),
            Ok(Sent::Posted(delivery)) => match delivery.status {
                Some(status) => format!(
                    "delivered {label} to {route} ({})",
                    StatusCode::from_u16(status)
                        .map_or_else(|_| status.to_string(), |s| s.to_string())
                ),
                None => {
                    return Err(Refusal::new(
                        StatusCode::BAD_GATEWAY,
                        format!(
                            "could not deliver to {route}: {}",
                            delivery.failure.unwrap_or_default()
                        ),
                    ));
                }
            },
            Err(e) => return Err(Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, e)),
        };
        self.resend_unacknowledged(message, resend_after, route);
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instruction_reads_and_writes_the_wire_form_the_harness_sends() {
        let wire = serde_json::json!({
            "action": "reply",
            "letter-id": "L1",
            "deliver-to": "folder",
            "format": "xml",
            "resend-after-ms": 500,
        });
        let i: Instruction = serde_json::from_value(wire.clone()).expect("reads");
        assert_eq!(i.deliver_to, DeliverTo::Folder);
        assert_eq!(i.format, Some(Format::Xml));
        assert_eq!(serde_json::to_value(&i).expect("writes"), wire);
        let url: Instruction = serde_json::from_value(serde_json::json!({
            "action": "forward",
            "letter-id": "L1",
            "deliver-to": "http://127.0.0.1:9/in",
        }))
        .expect("reads without the optional fields");
        assert_eq!(
            url.deliver_to,
            DeliverTo::Url("http://127.0.0.1:9/in".into())
        );
        assert_eq!(url.resend_after_ms, None);
    }
}
