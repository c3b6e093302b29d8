//! The inbox: everything the vendor sent, kept in arrival order until a step claims it.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

use crate::message::{Format, Message};

/// Where a received message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The body of the HTTP response to the harness's send number `send_seq`.
    Response {
        /// The send it answered.
        send_seq: u64,
    },
    /// Delivered to the harness's listener.
    Delivered {
        /// The request path.
        path: String,
    },
    /// Written by the vendor into the exchange folder's `out/`.
    File {
        /// The file name.
        name: String,
    },
}

/// One thing the vendor sent.
#[derive(Debug, Clone)]
pub struct Received {
    /// Arrival number.
    pub seq: u64,
    /// Where it came from.
    pub origin: Origin,
    /// The bytes as received.
    pub bytes: Vec<u8>,
    /// The media type as received.
    pub media_type: String,
    /// The parsed message, or why it is not one.
    pub message: Result<Message, String>,
    /// Set when the vendor wrote the file in place instead of renaming a finished temporary
    /// file into the folder (folder transport only).
    pub written_in_place: bool,
    /// The OIOXML letter or receipt, when the payload is one instead of a FHIR message.
    pub letter: Option<crate::oioxml::Emessage>,
    /// The envelope the message arrived in (the file's bytes), when it came in one.
    pub envelope: Option<Vec<u8>>,
    /// Findings about that envelope (size, format, name, MIME service tag).
    pub envelope_findings: Vec<crate::finding::Finding>,
    /// Set when the harness refused to read what arrived (a link or special file in an exchange
    /// folder, [`crate::rule::FOLDER_LINK`]; a file over the size limit): the finding, to stand
    /// in for the usual "no scenario expected it". `bytes` is empty then.
    pub refused: Option<crate::finding::Finding>,
    /// The HTTP request headers it came with (names lower case), when it was POSTed to the
    /// listener ([`Inbox::push_with_headers`]); empty otherwise. TestScript `headerField`
    /// asserts and variables read them.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct State {
    next_seq: u64,
    /// The arrivals no step claimed yet, in order. A claimed arrival leaves (the step owns it):
    /// keeping them all made every claim scan the whole run's arrivals, and held every message
    /// of a 10,000-scenario run in memory.
    items: Vec<Received>,
}

/// Bundle.id -> (bytes, media type) of the Bundles the listener serves.
type Served = std::collections::HashMap<String, (Vec<u8>, String)>;

/// Arrivals, shared by the transports (which push) and the scenarios (which claim).
#[derive(Debug, Default, Clone)]
pub struct Inbox {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
    sends: Arc<std::sync::atomic::AtomicU64>,
    /// Bundle.id -> (bytes, media type): the Bundles the harness holds in its store for vendors
    /// that pull (`GET [base]/Bundle/{id}` on the listener), as a receive TestScript stores them.
    served: Arc<Mutex<Served>>,
}

impl Inbox {
    /// An empty inbox.
    pub fn new() -> Inbox {
        Inbox::default()
    }

    /// Offers `bytes` (of `media_type`) as `GET [base]/Bundle/{bundle_id}` on the listener.
    pub fn serve(&self, bundle_id: &str, bytes: Vec<u8>, media_type: String) {
        if let Ok(mut m) = self.served.lock() {
            m.insert(bundle_id.to_string(), (bytes, media_type));
        }
    }

    /// The bytes and media type offered as `Bundle/{bundle_id}`, if any.
    pub fn served(&self, bundle_id: &str) -> Option<(Vec<u8>, String)> {
        self.served.lock().ok()?.get(bundle_id).cloned()
    }

    /// A new send number, unique in this run, to tie an HTTP response to its send.
    pub fn next_send(&self) -> u64 {
        self.sends
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }

    /// Adds what arrived; parses it. Returns the arrival number.
    pub fn push(&self, origin: Origin, bytes: Vec<u8>, media_type: String) -> u64 {
        let hint = Format::from_content_type(&media_type);
        let message = Message::parse(bytes.clone(), hint).map_err(|e| e.to_string());
        self.push_parsed(origin, bytes, media_type, message, false, None)
    }

    /// Adds what arrived, already parsed.
    pub fn push_parsed(
        &self,
        origin: Origin,
        bytes: Vec<u8>,
        media_type: String,
        message: Result<Message, String>,
        written_in_place: bool,
        envelope: Option<(Vec<u8>, Vec<crate::finding::Finding>)>,
    ) -> u64 {
        self.insert(
            origin,
            bytes,
            media_type,
            message,
            None,
            written_in_place,
            envelope,
        )
    }

    /// Adds an arrival whole, under the lock, and only then wakes the waiters: a waiter must never
    /// see an arrival half-filled (it would not match, and sleep until its deadline).
    #[expect(
        clippy::too_many_arguments,
        reason = "one private constructor of an arrival"
    )]
    fn insert(
        &self,
        origin: Origin,
        bytes: Vec<u8>,
        media_type: String,
        message: Result<Message, String>,
        letter: Option<crate::oioxml::Emessage>,
        written_in_place: bool,
        envelope: Option<(Vec<u8>, Vec<crate::finding::Finding>)>,
    ) -> u64 {
        self.insert_refused(
            origin,
            bytes,
            media_type,
            message,
            letter,
            written_in_place,
            envelope,
            None,
        )
    }

    /// [`Inbox::insert`], with the refusal finding of an arrival that was not read.
    #[expect(
        clippy::too_many_arguments,
        reason = "one private constructor of an arrival"
    )]
    fn insert_refused(
        &self,
        origin: Origin,
        bytes: Vec<u8>,
        media_type: String,
        message: Result<Message, String>,
        letter: Option<crate::oioxml::Emessage>,
        written_in_place: bool,
        envelope: Option<(Vec<u8>, Vec<crate::finding::Finding>)>,
        refused: Option<crate::finding::Finding>,
    ) -> u64 {
        let (envelope, envelope_findings) = match envelope {
            Some((bytes, findings)) => (Some(bytes), findings),
            None => (None, Vec::new()),
        };
        self.push_received(|seq| Received {
            seq,
            origin,
            bytes,
            media_type,
            message,
            written_in_place,
            letter,
            envelope,
            envelope_findings,
            refused,
            headers: Vec::new(),
        })
    }

    /// Numbers an arrival and adds it whole under the lock, then wakes the waiters. Returns the
    /// arrival number.
    fn push_received(&self, received: impl FnOnce(u64) -> Received) -> u64 {
        let seq = {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            state.next_seq += 1;
            let seq = state.next_seq;
            state.items.push(received(seq));
            seq
        };
        self.notify.notify_waiters();
        seq
    }

    /// [`Inbox::push_parsed`] of a message POSTed to the listener, with its request `headers`
    /// (names lower case), whole under the lock like every arrival. Returns the arrival number.
    pub fn push_with_headers(
        &self,
        origin: Origin,
        bytes: Vec<u8>,
        media_type: String,
        message: Result<Message, String>,
        headers: Vec<(String, String)>,
    ) -> u64 {
        self.push_received(|seq| Received {
            seq,
            origin,
            bytes,
            media_type,
            message,
            written_in_place: false,
            letter: None,
            envelope: None,
            envelope_findings: Vec::new(),
            refused: None,
            headers,
        })
    }

    /// Adds what arrived, read once ([`crate::arrival::Arrival::read`]): a FHIR message, an
    /// OIOXML letter or receipt, or the reason it is neither. `envelope` is the envelope's bytes
    /// and findings, when the payload came in one. Returns the arrival number.
    pub fn push_arrival(
        &self,
        origin: Origin,
        arrival: crate::arrival::Arrival,
        written_in_place: bool,
        envelope: Option<(Vec<u8>, Vec<crate::finding::Finding>)>,
    ) -> u64 {
        use crate::arrival::Payload;
        let media_type = arrival.payload.media_type(&arrival.bytes).to_string();
        let (message, letter) = match arrival.payload {
            Payload::Fhir(message) => (Ok(message), None),
            Payload::Oioxml(letter) => {
                (Err("an OIOXML message, not FHIR".to_string()), Some(letter))
            }
            Payload::Unreadable(reason) => (Err(reason.to_string()), None),
        };
        self.insert(
            origin,
            arrival.bytes,
            media_type,
            message,
            letter,
            written_in_place,
            envelope,
        )
    }

    /// Adds something the harness refused to read (a link or special file in an exchange folder,
    /// a file over the size limit), with no content: `why` says what it is, and becomes a
    /// finding of `rule` ([`crate::rule::FOLDER_LINK`], [`crate::rule::ATTACHMENT_SIZE`]).
    pub fn push_refused(&self, origin: Origin, why: String, rule: &crate::rule::Rule) -> u64 {
        let finding = rule.breach(why.clone());
        self.insert_refused(
            origin,
            Vec::new(),
            "application/octet-stream".to_string(),
            Err(why),
            None,
            false,
            None,
            Some(finding),
        )
    }

    /// Adds an OIOXML letter or receipt that arrived.
    pub fn push_letter(
        &self,
        origin: Origin,
        bytes: Vec<u8>,
        letter: crate::oioxml::Emessage,
        written_in_place: bool,
        envelope: Option<(Vec<u8>, Vec<crate::finding::Finding>)>,
    ) -> u64 {
        self.insert(
            origin,
            bytes,
            "application/xml".to_string(),
            Err("an OIOXML message, not FHIR".to_string()),
            Some(letter),
            written_in_place,
            envelope,
        )
    }

    /// Claims the first unclaimed arrival `matches` accepts, waiting up to `within`.
    /// `None` when nothing matched in time.
    pub async fn claim(
        &self,
        within: Duration,
        mut matches: impl FnMut(&Received) -> bool,
    ) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(found) = self.try_claim(&mut matches) {
                return Some(found);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.try_claim(&mut matches);
            }
        }
    }

    /// Claims the first unclaimed arrival `matches` accepts, without waiting.
    pub fn try_claim(&self, matches: &mut impl FnMut(&Received) -> bool) -> Option<Received> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = state.items.iter().position(&mut *matches)?;
        Some(state.items.remove(at))
    }

    /// Every arrival no step claimed, in order.
    pub fn unclaimed(&self) -> Vec<Received> {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.items.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_waiter_sees_an_oioxml_arrival_whole_when_it_wakes() {
        // The letter is part of the arrival when the waiters wake: a predicate on it matches at
        // once instead of at the deadline.
        let inbox = Inbox::new();
        let pusher = inbox.clone();
        let letter = crate::oioxml::parse(include_bytes!("../../tests/fixtures/oioxml/xctl03.xml"))
            .expect("fixture");
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            pusher.push_letter(
                Origin::File {
                    name: "r.xml".into(),
                },
                b"<x/>".to_vec(),
                letter,
                false,
                None,
            );
        });
        let started = std::time::Instant::now();
        let got = inbox
            .claim(Duration::from_secs(5), |r| {
                r.letter.as_ref().is_some_and(|l| l.is_receipt())
            })
            .await;
        assert!(got.is_some());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "woken by the arrival, not the deadline"
        );
    }

    #[tokio::test]
    async fn claim_waits_for_a_later_arrival_and_takes_it_once() {
        let inbox = Inbox::new();
        let pusher = inbox.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            pusher.push(
                Origin::Delivered { path: "/".into() },
                b"x".to_vec(),
                "text/plain".into(),
            );
        });
        let got = inbox.claim(Duration::from_secs(2), |_| true).await;
        assert_eq!(got.map(|r| r.seq), Some(1));
        assert!(
            inbox
                .claim(Duration::from_millis(10), |_| true)
                .await
                .is_none()
        );
    }
}
