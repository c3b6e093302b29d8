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
//! A receiver that runs for long (`serve` as a load target) cannot remember every id:
//! [`DuplicateMatrix::bounded`] keeps the newest `capacity` envelopes and forgets the oldest
//! first (with an envelope's message id once no remembered envelope carries it). A copy that
//! arrives after more than `capacity` other envelopes is then processed as new; MedCom's resends
//! come minutes after the first copy (KR7), so a bound in the hundreds of thousands never
//! forgets one in a test.
//!
//! The reference vendor ([`crate::simulator`]) answers by this matrix, for FHIR messages
//! (Bundle.id, MessageHeader.id) and classic OIOXML letters (Envelope/Identifier,
//! Letter/Identifier) alike.

use std::collections::{HashMap, VecDeque};

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

/// A receiver's memory of what arrived, for VANS and ehmiSBDH alike: unbounded
/// ([`DuplicateMatrix::new`]) or the newest envelopes only ([`DuplicateMatrix::bounded`]).
#[derive(Debug, Clone, Default)]
pub struct DuplicateMatrix {
    /// Envelope id -> the message id it carried.
    envelopes: HashMap<String, String>,
    /// Message id -> how many remembered envelopes carried it.
    messages: HashMap<String, usize>,
    /// Remembered envelope ids, oldest first (kept only when bounded).
    order: VecDeque<String>,
    /// At most this many envelopes are remembered; `None`: all.
    capacity: Option<usize>,
}

impl DuplicateMatrix {
    /// An empty matrix that remembers every envelope.
    pub fn new() -> DuplicateMatrix {
        DuplicateMatrix::default()
    }

    /// An empty matrix that remembers the newest `capacity` envelopes (at least one), the oldest
    /// forgotten first: its memory stays bounded (about 200 bytes per envelope of UUID ids).
    pub fn bounded(capacity: usize) -> DuplicateMatrix {
        DuplicateMatrix {
            capacity: Some(capacity.max(1)),
            ..DuplicateMatrix::default()
        }
    }

    /// How many envelopes it remembers.
    pub fn len(&self) -> usize {
        self.envelopes.len()
    }

    /// Whether it remembers nothing.
    pub fn is_empty(&self) -> bool {
        self.envelopes.is_empty()
    }

    /// The verdict for `key` without remembering it.
    pub fn check(&self, key: &DuplicateKey) -> DuplicateVerdict {
        match self.envelopes.get(&key.envelope_id) {
            Some(message) if *message == key.message_id => DuplicateVerdict::ResendOriginalResponse,
            Some(_) => DuplicateVerdict::EnvelopeIdReused,
            None => classify(false, self.messages.contains_key(&key.message_id)),
        }
    }

    /// The verdict for `key`, then remembers it. A reused envelope id keeps its first message.
    pub fn record(&mut self, key: &DuplicateKey) -> DuplicateVerdict {
        let verdict = self.check(key);
        if matches!(
            verdict,
            DuplicateVerdict::Process | DuplicateVerdict::Duplicate
        ) {
            self.envelopes
                .insert(key.envelope_id.clone(), key.message_id.clone());
            *self.messages.entry(key.message_id.clone()).or_default() += 1;
            if let Some(capacity) = self.capacity {
                self.order.push_back(key.envelope_id.clone());
                while self.order.len() > capacity {
                    if let Some(oldest) = self.order.pop_front() {
                        self.forget(&oldest);
                    }
                }
            }
        }
        verdict
    }

    /// Forgets envelope `envelope_id`, and its message id when no other envelope carried it.
    fn forget(&mut self, envelope_id: &str) {
        let Some(message) = self.envelopes.remove(envelope_id) else {
            return;
        };
        if let Some(count) = self.messages.get_mut(&message) {
            *count -= 1;
            if *count == 0 {
                self.messages.remove(&message);
            }
        }
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
    fn a_bounded_matrix_forgets_the_oldest_envelope_first() {
        let mut matrix = DuplicateMatrix::bounded(2);
        matrix.record(&DuplicateKey::new("env-1", "letter-1"));
        matrix.record(&DuplicateKey::new("env-2", "letter-2"));
        matrix.record(&DuplicateKey::new("env-3", "letter-3"));
        assert_eq!(matrix.len(), 2);
        assert_eq!(
            matrix.check(&DuplicateKey::new("env-1", "letter-1")),
            DuplicateVerdict::Process,
            "the oldest envelope and its letter are forgotten"
        );
        assert_eq!(
            matrix.check(&DuplicateKey::new("env-9", "letter-2")),
            DuplicateVerdict::Duplicate
        );
    }

    #[test]
    fn a_bounded_matrix_keeps_a_letter_while_a_newer_envelope_carries_it() {
        let mut matrix = DuplicateMatrix::bounded(2);
        matrix.record(&DuplicateKey::new("env-1", "letter-1"));
        assert_eq!(
            matrix.record(&DuplicateKey::new("env-2", "letter-1")),
            DuplicateVerdict::Duplicate
        );
        matrix.record(&DuplicateKey::new("env-3", "letter-3"));
        assert_eq!(
            matrix.check(&DuplicateKey::new("env-4", "letter-1")),
            DuplicateVerdict::Duplicate,
            "env-1 is forgotten, but the resend in env-2 still names letter-1"
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
