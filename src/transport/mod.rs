//! Transports: how messages reach the vendor's system and how the vendor's messages reach the
//! harness.
//!
//! Over HTTP the harness is a client of the vendor's endpoint (one POST per message, FHIR
//! `$process-message` style: the Bundle is the body) and a server for what the vendor delivers
//! later. An acknowledgement may come back in the HTTP response or later to the listener; both land
//! in the [`Inbox`], where steps claim what they wait for by content (the acknowledged letter id,
//! the Provenance that points to a sent message), so scenarios can run in parallel over one
//! listener.

mod http;
mod inbox;

pub use http::{Delivery, HttpTransport, Listener, TransportError};
pub use inbox::{Inbox, Origin, Received};
