//! The transport seam: where a message goes, for the harness and the reference vendor alike.
//!
//! A [`Route`] is either an HTTP endpoint (one POST per message, the Bundle as the body) or an
//! exchange folder ([`FolderRoute`]: one file per message, in a VANSEnvelope, by the
//! [outbox writer](super::Parcel)). The runner sends its messages through it, and so does the
//! reference vendor: its answers in a folder, its later acknowledgements, replies, forwards and
//! resends. Sending reports facts ([`Sent`]); what they mean for a verdict is for
//! [`crate::check`] and the runner.

use std::path::PathBuf;

use super::folder::FolderError;
use super::http::{Delivery, HttpTransport};
use super::outbox::{Packing, Parcel, WriteMode};
use crate::message::Message;
use crate::oioxml::{Emessage, Encoding};

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// POSTed to this URL.
    Http(String),
    /// Written as a file into a folder.
    Folder(FolderRoute),
}

/// A folder messages are written into (a vendor's inbox, or the reference vendor's outbox), and
/// how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderRoute {
    /// The folder.
    pub dir: PathBuf,
    /// How a FHIR message is packed ([`Packing::Envelope`] normally).
    pub packing: Packing,
    /// How a file is written ([`WriteMode::Atomic`] normally).
    pub mode: WriteMode,
}

/// What happened to a message sent along a [`Route`].
#[derive(Debug, Clone)]
pub enum Sent {
    /// It was POSTed; what came back (a failed connection is data too).
    Posted(Delivery),
    /// It was written into the folder as this parcel.
    Written(Parcel),
}

impl FolderRoute {
    /// A folder written atomically, each message in its VANSEnvelope.
    pub fn new(dir: impl Into<PathBuf>) -> FolderRoute {
        FolderRoute {
            dir: dir.into(),
            packing: Packing::Envelope,
            mode: WriteMode::Atomic,
        }
    }

    /// Writes a FHIR message as the sender's file number `n`; returns what was written.
    ///
    /// # Errors
    /// [`FolderError`] when the file cannot be written.
    pub fn write(&self, message: &Message, n: u64) -> Result<Parcel, FolderError> {
        let parcel = Parcel::fhir(message, n, self.packing);
        parcel.write(&self.dir, self.mode)?;
        Ok(parcel)
    }

    /// Writes a classic OIOXML letter or receipt in `encoding` as the sender's file number `n`;
    /// returns what was written.
    ///
    /// # Errors
    /// [`FolderError`] when the file cannot be written.
    pub fn write_letter(
        &self,
        letter: &Emessage,
        encoding: Encoding,
        n: u64,
    ) -> Result<Parcel, FolderError> {
        let parcel = Parcel::letter(letter, encoding, n);
        parcel.write(&self.dir, self.mode)?;
        Ok(parcel)
    }
}

impl Route {
    /// A folder route that writes atomically, each message in its VANSEnvelope.
    pub fn folder(dir: impl Into<PathBuf>) -> Route {
        Route::Folder(FolderRoute::new(dir))
    }

    /// Sends `message` along the route with the HTTP client `http`; `n` is the sender's send
    /// number, which names the file on a folder route.
    ///
    /// # Errors
    /// [`FolderError`] when the file cannot be written; an HTTP failure is a [`Delivery`].
    pub async fn send(
        &self,
        http: &HttpTransport,
        message: &Message,
        n: u64,
    ) -> Result<Sent, FolderError> {
        match self {
            Route::Http(url) => Ok(Sent::Posted(http.send_to(url, message).await)),
            Route::Folder(folder) => folder.write(message, n).map(Sent::Written),
        }
    }
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Route::Http(url) => f.write_str(url),
            Route::Folder(folder) => write!(f, "{}", folder.dir.display()),
        }
    }
}
