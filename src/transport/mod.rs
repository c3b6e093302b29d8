//! Transports: how messages reach the vendor's system and how the vendor's messages reach the
//! harness.
//!
//! Over HTTP the harness is a client of the vendor's endpoint (one POST per message, FHIR
//! `$process-message` style: the Bundle is the body) and a server for what the vendor delivers
//! later. An acknowledgement may come back in the HTTP response or later to the listener; both land
//! in the [`Inbox`], where steps claim what they wait for by content (the acknowledged letter id,
//! the Provenance that points to a sent message), so scenarios can run in parallel over one
//! listener.

mod folder;
mod http;
mod inbox;

pub use folder::{
    Arrived, Disposition, FolderError, FolderLayout, FolderWatcher, PROCESSED, REASON_SUFFIX,
    REJECTED, ReadPolicy, TEMPORARY_SUFFIXES, write_atomic,
};
pub use http::{Delivery, HttpTransport, Listener, TransportError};
pub use inbox::{Inbox, Origin, Received};

/// Watches a vendor's outbox: every complete file goes into `inbox`, unwrapped from its
/// VANSEnvelope when it comes in one and parsed as a FHIR message; a file that is not one moves
/// to `rejected/` with its reason, the others to `processed/`.
///
/// # Errors
/// [`FolderError`] when the folder cannot be watched.
pub fn watch_outbox(layout: &FolderLayout, inbox: Inbox) -> Result<FolderWatcher, FolderError> {
    FolderWatcher::start(
        &layout.outbox,
        ReadPolicy::default(),
        move |arrived: Arrived| {
            let unwrapped = crate::envelope::carry::unwrap_fhir(&arrived.bytes);
            let (payload, envelope) = match unwrapped {
                Ok(u) => {
                    let envelope = u
                        .envelope
                        .is_some()
                        .then(|| (arrived.bytes.clone(), u.findings));
                    (u.payload, envelope)
                }
                Err(e) => {
                    inbox.push_parsed(
                        Origin::File {
                            name: arrived.name.clone(),
                        },
                        arrived.bytes,
                        "application/xml".to_string(),
                        Err(e.clone()),
                        arrived.written_in_place,
                        None,
                    );
                    return Disposition::Rejected(e);
                }
            };
            let format = crate::message::Format::sniff(&payload);
            let media_type = format
                .map_or("application/octet-stream", |f| f.media_type())
                .to_string();
            let message =
                crate::message::Message::parse(payload.clone(), format).map_err(|e| e.to_string());
            // Not FHIR: an OIOXML letter or receipt is the other thing a VANS mailbox carries.
            if message.is_err()
                && let Ok(letter) = crate::oioxml::parse(&payload)
            {
                inbox.push_letter(
                    Origin::File {
                        name: arrived.name.clone(),
                    },
                    payload,
                    letter,
                    arrived.written_in_place,
                    envelope,
                );
                return Disposition::Processed;
            }
            let disposition = match &message {
                Ok(_) => Disposition::Processed,
                Err(e) => Disposition::Rejected(e.clone()),
            };
            inbox.push_parsed(
                Origin::File {
                    name: arrived.name.clone(),
                },
                payload,
                media_type,
                message,
                arrived.written_in_place,
                envelope,
            );
            disposition
        },
    )
}
