//! The reference vendor's exchange-folder front: every complete file in `<root>/in` is answered
//! into `<root>/out` as the HTTP front would answer it (FHIR messages), or with an XCTL receipt
//! (classic OIOXML letters).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use super::Fault;
use super::control::{CONTROL_FILE, ControlFile, PRODUCT};
use super::vendor::Vendor;
use crate::arrival::{Arrival, Payload};
use crate::transport::{Disposition, FolderLayout, FolderWatcher, ReadPolicy};

/// Serves the exchange folder `root` and announces the control endpoint at `addr` in it.
pub(super) fn serve(
    root: &Path,
    vendor: Arc<Vendor>,
    addr: SocketAddr,
) -> std::io::Result<FolderWatcher> {
    let layout = FolderLayout::new(root);
    layout.create().map_err(std::io::Error::other)?;
    // Announce the control endpoint; replace an earlier run's file atomically.
    let control = serde_json::to_string(&ControlFile {
        product: PRODUCT.to_string(),
        url: format!("http://{addr}"),
    })
    .map_err(std::io::Error::other)?;
    let tmp = root.join(format!(".{CONTROL_FILE}.tmp"));
    std::fs::write(&tmp, control)?;
    std::fs::rename(&tmp, root.join(CONTROL_FILE))?;
    let outbox = layout.outbox.clone();
    FolderWatcher::start(&layout.inbox, ReadPolicy::default(), move |arrived| {
        // A link or special file is never read: it moves to `rejected/` as it is.
        if let Some(refused) = &arrived.refused {
            return Disposition::Rejected(refused.reason().to_string());
        }
        let arrival = Arrival::read(&arrived.bytes);
        let in_envelope = arrival.envelope.is_some();
        let message = match arrival.payload {
            Payload::Fhir(m) => m,
            // A classic OIOXML letter or receipt, answered with an XCTL receipt.
            Payload::Oioxml(letter) => {
                return match vendor.receipt_for(&letter, &arrival.bytes) {
                    Some(receipt) => match vendor.outbox_route(&outbox, true).write_letter(
                        &receipt,
                        crate::oioxml::Encoding::Utf8,
                        vendor.next_file(),
                    ) {
                        Ok(_) => Disposition::Processed,
                        Err(e) => {
                            Disposition::Rejected(format!("the receipt could not be written: {e}"))
                        }
                    },
                    None => Disposition::Processed,
                };
            }
            // A file written in place may still be growing: wait until it settles.
            Payload::Unreadable(reason) if !arrived.settled => {
                return Disposition::Incomplete(reason.to_string());
            }
            Payload::Unreadable(reason) => return Disposition::Rejected(reason.to_string()),
        };
        if message.is_acknowledgement() {
            vendor.note_ack(&message);
            return Disposition::Processed;
        }
        match vendor.answer(message) {
            Ok(_) if vendor.has(Fault::NoAck) => Disposition::Processed,
            Ok(ack) => match vendor
                .outbox_route(&outbox, in_envelope)
                .write(&ack, vendor.next_file())
            {
                Ok(_) => Disposition::Processed,
                Err(e) => Disposition::Rejected(format!("the answer could not be written: {e}")),
            },
            Err(e) => Disposition::Rejected(e),
        }
    })
    .map_err(std::io::Error::other)
}
