//! The receiver's duplicate matrix (MedCom governance 020/043; DOMAIN.md §2 "Reliable
//! messaging", rule MR8).
//!
//! Every envelope has two ids: the envelope id, new on every send and resend (FHIR `Bundle.id`,
//! VANS `EnvelopeIdentifier`, ehmiSBDH scope `MESSAGEENVELOPEIDENTIFIER`), and the message id,
//! kept on a resend (FHIR `MessageHeader.id`, VANS `MetaInformation/Identifier`, ehmiSBDH scope
//! `MESSAGEIDENTIFIER`). A receiver classifies each arrival on (envelope id seen?, message id
//! seen?):
//!
//! | envelope id | message id | verdict |
//! |---|---|---|
//! | new | new | [`DuplicateVerdict::Process`] |
//! | seen | seen (together) | [`DuplicateVerdict::ResendOriginalResponse`]: the same envelope again, its response was lost |
//! | new | seen | [`DuplicateVerdict::Duplicate`]: a resend after a lost ack; answer with the first ack (MR8), never show it twice |
//! | seen | new | [`DuplicateVerdict::EnvelopeIdReused`]: an error |
//!
//! [`DuplicateMatrix`] remembers which message each envelope id carried, so an envelope id that
//! comes back with a *different* message is [`DuplicateVerdict::EnvelopeIdReused`] even when that
//! other message id was seen elsewhere. Ids are compared as written, after trimming whitespace.
//!
//! The reference vendor ([`crate::simulator`]) answers by this matrix, for FHIR messages
//! (Bundle.id, MessageHeader.id) and classic OIOXML letters (Envelope/Identifier,
//! Letter/Identifier) alike.

use std::collections::{HashMap, HashSet};

/// The pair of ids the matrix classifies on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DuplicateKey {
    /// Envelope id (new on every send).
    pub envelope_id: String,
    /// Message id (kept on a resend).
    pub message_id: String,
}

impl DuplicateKey {
    /// A key from the two ids, trimmed.
    pub fn new(envelope_id: &str, message_id: &str) -> DuplicateKey {
        DuplicateKey {
            envelope_id: envelope_id.trim().to_string(),
            message_id: message_id.trim().to_string(),
        }
    }
}

/// What a receiver does with an arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DuplicateVerdict {
    /// New envelope, new message: process it.
    Process,
    /// The same envelope again: its response was lost, send the original response again.
    ResendOriginalResponse,
    /// A new envelope with a message already received (a resend after a lost ack): log it, do not
    /// show it again, answer with the same acknowledgement as the first copy (MR8).
    Duplicate,
    /// An envelope id already used for another message: an error.
    EnvelopeIdReused,
}

/// The matrix on its own: (envelope id seen?, message id seen?) to a verdict.
pub fn classify(envelope_seen: bool, message_seen: bool) -> DuplicateVerdict {
    match (envelope_seen, message_seen) {
        (false, false) => DuplicateVerdict::Process,
        (true, true) => DuplicateVerdict::ResendOriginalResponse,
        (false, true) => DuplicateVerdict::Duplicate,
        (true, false) => DuplicateVerdict::EnvelopeIdReused,
    }
}

/// A receiver's memory of what arrived, for VANS and ehmiSBDH alike.
#[derive(Debug, Clone, Default)]
pub struct DuplicateMatrix {
    envelopes: HashMap<String, String>,
    messages: HashSet<String>,
}

impl DuplicateMatrix {
    /// An empty matrix.
    pub fn new() -> DuplicateMatrix {
        DuplicateMatrix::default()
    }

    /// The verdict for `key` without remembering it.
    pub fn check(&self, key: &DuplicateKey) -> DuplicateVerdict {
        match self.envelopes.get(&key.envelope_id) {
            Some(message) if *message == key.message_id => DuplicateVerdict::ResendOriginalResponse,
            Some(_) => DuplicateVerdict::EnvelopeIdReused,
            None => classify(false, self.messages.contains(&key.message_id)),
        }
    }

    /// The verdict for `key`, then remembers it. A reused envelope id keeps its first message.
    pub fn record(&mut self, key: &DuplicateKey) -> DuplicateVerdict {
        let verdict = self.check(key);
        if verdict != DuplicateVerdict::EnvelopeIdReused {
            self.envelopes
                .entry(key.envelope_id.clone())
                .or_insert_with(|| key.message_id.clone());
            self.messages.insert(key.message_id.clone());
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_has_four_outcomes() {
        assert_eq!(classify(false, false), DuplicateVerdict::Process);
        assert_eq!(
            classify(true, true),
            DuplicateVerdict::ResendOriginalResponse
        );
        assert_eq!(classify(false, true), DuplicateVerdict::Duplicate);
        assert_eq!(classify(true, false), DuplicateVerdict::EnvelopeIdReused);
    }

    #[test]
    fn a_receiver_sees_first_copy_lost_response_resend_and_reuse() {
        let mut matrix = DuplicateMatrix::new();
        let first = DuplicateKey::new("env-1", "letter-1");
        assert_eq!(matrix.record(&first), DuplicateVerdict::Process);
        assert_eq!(
            matrix.record(&first),
            DuplicateVerdict::ResendOriginalResponse
        );
        let resend = DuplicateKey::new("env-2", "letter-1");
        assert_eq!(matrix.record(&resend), DuplicateVerdict::Duplicate);
        let reused = DuplicateKey::new("env-1", "letter-2");
        assert_eq!(matrix.record(&reused), DuplicateVerdict::EnvelopeIdReused);
        assert_eq!(
            matrix.check(&DuplicateKey::new("env-3", "letter-2")),
            DuplicateVerdict::Process,
            "a message that only came in a reused envelope was never accepted"
        );
    }

    #[test]
    fn an_envelope_id_with_another_known_message_is_reuse_not_lost_response() {
        let mut matrix = DuplicateMatrix::new();
        matrix.record(&DuplicateKey::new("env-1", "letter-1"));
        matrix.record(&DuplicateKey::new("env-2", "letter-2"));
        assert_eq!(
            matrix.check(&DuplicateKey::new("env-1", "letter-2")),
            DuplicateVerdict::EnvelopeIdReused
        );
    }

    #[test]
    fn ids_are_trimmed() {
        let mut matrix = DuplicateMatrix::new();
        matrix.record(&DuplicateKey::new("env-1", "letter-1"));
        assert_eq!(
            matrix.check(&DuplicateKey::new("\n  env-1\n", " letter-1 ")),
            DuplicateVerdict::ResendOriginalResponse
        );
    }
}
