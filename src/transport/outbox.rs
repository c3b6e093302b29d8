//! The outbox writer: how a message becomes a file in an exchange folder, for the harness writing
//! into a vendor's inbox and for the reference vendor writing into its outbox alike.
//!
//! Rules:
//!
//! - A file is named `{letter}_{envelope}_{n}.{ext}` ([`file_name`]): the letter id
//!   (`MessageHeader.id`, OIOXML `Letter/Identifier`), the envelope id (`Bundle.id`, OIOXML
//!   `Envelope/Identifier`) and the writer's send number `n`, which keeps a resend of the very same
//!   envelope from clashing with the first copy (files are never overwritten).
//! - Every message travels in a VANSEnvelope (`.vans.xml`), as in a VANS mailbox; a FHIR message
//!   with no envelope name (an `empty-message`) goes bare, with its own extension.
//! - Files are written atomically ([`super::write_atomic`]); [`WriteMode::InPlace`] is the wrong
//!   way, kept for the reference vendor's `writes-in-place` fault.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::folder::{FolderError, write_atomic};
use crate::message::Message;
use crate::oioxml::{Emessage, Encoding};

/// The name of a message file: `{letter}_{envelope}_{n}.{extension}` (extension without dot).
pub fn file_name(letter: &str, envelope: &str, n: u64, extension: &str) -> String {
    format!("{letter}_{envelope}_{n}.{extension}")
}

/// The extension of a file holding a VANSEnvelope.
pub const VANS_EXTENSION: &str = "vans.xml";

/// How a FHIR message is packed into a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Packing {
    /// In a VANSEnvelope named for the message (`MCM:<statistical code>`), or bare when the
    /// message has no envelope name.
    #[default]
    Envelope,
    /// In a VANSEnvelope with this `Name` instead of the right one (the reference vendor's
    /// `envelope-name-mismatch` fault).
    EnvelopeNamed(&'static str),
    /// As it is, with no envelope (an answer to a message that came bare).
    Bare,
}

/// How a file is put into a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    /// Atomically: a temporary name, then a rename ([`super::write_atomic`]).
    #[default]
    Atomic,
    /// Slowly in place under the final name, in four chunks 300 ms apart: the wrong way, which a
    /// reader must not take half-written (the reference vendor's `writes-in-place` fault).
    InPlace,
}

/// A file ready for an exchange folder.
#[derive(Debug, Clone)]
pub struct Parcel {
    /// The file name ([`file_name`]).
    pub name: String,
    /// The bytes of the file: the VANSEnvelope, or the message itself when it travels bare.
    pub bytes: Vec<u8>,
    /// The message as it is inside the envelope (equal to `bytes` when bare).
    pub payload: Vec<u8>,
    /// Whether `bytes` is a VANSEnvelope.
    pub enveloped: bool,
}

impl Parcel {
    /// A FHIR message as file number `n`, packed by `packing`.
    pub fn fhir(message: &Message, n: u64, packing: Packing) -> Parcel {
        let letter = message.identity.letter_id.as_deref().unwrap_or("message");
        let envelope = message
            .identity
            .envelope_id
            .as_deref()
            .unwrap_or("envelope");
        let wrapped = match packing {
            Packing::Envelope => crate::envelope::carry::wrap_fhir(message, None).ok(),
            Packing::EnvelopeNamed(name) => {
                crate::envelope::carry::wrap_fhir(message, Some(name)).ok()
            }
            Packing::Bare => None,
        };
        match wrapped {
            Some(bytes) => Parcel {
                name: file_name(letter, envelope, n, VANS_EXTENSION),
                bytes,
                payload: message.bytes.clone(),
                enveloped: true,
            },
            None => Parcel {
                name: file_name(letter, envelope, n, message.format.extension()),
                bytes: message.bytes.clone(),
                payload: message.bytes.clone(),
                enveloped: false,
            },
        }
    }

    /// A classic OIOXML letter or receipt, written in `encoding`, in a VANSEnvelope as file
    /// number `n`.
    pub fn letter(m: &Emessage, encoding: Encoding, n: u64) -> Parcel {
        let payload = crate::oioxml::write(m, encoding);
        let bytes = crate::envelope::carry::wrap_oioxml(&payload, &m.envelope_facts());
        Parcel {
            name: file_name(
                m.letter_identifier(),
                &m.envelope.identifier,
                n,
                VANS_EXTENSION,
            ),
            bytes,
            payload,
            enveloped: true,
        }
    }

    /// Writes the parcel into `dir` by `mode`; returns the path it gets.
    ///
    /// # Errors
    /// As [`super::write_atomic`]; with [`WriteMode::InPlace`] the writing goes on in the
    /// background and its errors are not reported.
    pub fn write(&self, dir: &Path, mode: WriteMode) -> Result<PathBuf, FolderError> {
        match mode {
            WriteMode::Atomic => write_atomic(dir, &self.name, &self.bytes),
            WriteMode::InPlace => {
                let path = dir.join(&self.name);
                let target = path.clone();
                let bytes = self.bytes.clone();
                std::thread::spawn(move || {
                    use std::io::Write;
                    let Ok(mut f) = std::fs::File::create(&target) else {
                        return;
                    };
                    for chunk in bytes.chunks(bytes.len().div_ceil(4).max(1)) {
                        let _ = f.write_all(chunk);
                        let _ = f.flush();
                        std::thread::sleep(Duration::from_millis(300));
                    }
                });
                Ok(path)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_named_letter_envelope_and_send_number() {
        assert_eq!(file_name("L1", "E1", 3, VANS_EXTENSION), "L1_E1_3.vans.xml");
    }

    #[test]
    fn an_oioxml_letter_travels_in_a_vans_envelope_named_for_its_identifiers() {
        let (letter, _) = crate::oioxml::build::xdis91(
            crate::oioxml::build::party("5790000000012", "999991000016001", "A"),
            crate::oioxml::build::party("5790000000029", "999981000016002", "B"),
            "Emne",
            "Tekst",
            &[],
        );
        let parcel = Parcel::letter(&letter, Encoding::Utf8, 7);
        assert_eq!(
            parcel.name,
            format!(
                "{}_{}_7.vans.xml",
                letter.letter_identifier(),
                letter.envelope.identifier
            )
        );
        assert!(parcel.enveloped);
        // The envelope carries the letter: reading it back gives the payload exactly.
        let read = crate::envelope::unwrap_vans(&parcel.bytes).expect("a VANSEnvelope");
        let crate::envelope::VansBody::Message(m) = read.body else {
            panic!("a message, not a receipt")
        };
        assert_eq!(m.payload, parcel.payload);
    }
}
