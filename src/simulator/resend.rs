//! The reference vendor's resends (KR7): what it sends stays unacknowledged, so it sends it
//! again.

use std::sync::Arc;
use std::time::Duration;

use super::Fault;
use super::vendor::Vendor;
use crate::message::Message;
use crate::transport::{Route, Sent};

impl Vendor {
    /// KR7: while `message` stays unacknowledged, resend it along `route` every `after`, at most
    /// `rules.resend_limit` times (one more with the `resends-beyond-limit` fault), each time in a
    /// new envelope ([`Message::resend`]: new Bundle.id and timestamp, the same MessageHeader.id
    /// and letter).
    pub(super) fn resend_unacknowledged(
        self: &Arc<Self>,
        message: Message,
        after: Duration,
        route: Route,
    ) {
        let Some(letter) = message.identity.letter_id.clone() else {
            return;
        };
        let mut times = self.config.rules.resend_limit;
        if self.has(Fault::ResendsBeyondLimit) {
            times += 1;
        }
        let vendor = self.clone();
        tokio::spawn(async move {
            for n in 1..=times {
                tokio::time::sleep(after).await;
                if vendor.is_acked(&letter) {
                    return;
                }
                let Ok(again) = message.resend() else {
                    return;
                };
                let result = match vendor.send(&route, &again).await {
                    Ok(Sent::Posted(d)) if d.status.is_none() => Err(d.failure.unwrap_or_default()),
                    other => other.map(|_| ()),
                };
                if vendor.config.log {
                    match result {
                        Ok(()) => {
                            eprintln!("resent {} (resend {n} of {times}, KR7)", again.label())
                        }
                        Err(e) => eprintln!("could not resend {}: {e}", again.label()),
                    }
                }
            }
        });
    }
}
