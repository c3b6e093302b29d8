//! Transports: how messages reach the vendor's system and how the vendor's messages reach the
//! harness.
//!
//! Over HTTP the harness is a client of the vendor's endpoint (one POST per message, FHIR
//! `$process-message` style: the Bundle is the body) and a server for what the vendor delivers
//! later. An acknowledgement may come back in the HTTP response or later to the listener; both land
//! in the [`Inbox`], where steps claim what they wait for by content (the acknowledged letter id,
//! the Provenance that points to a sent message), so scenarios can run in parallel over one
//! listener.
//!
//! Both directions of both transports go through one seam, [`Route`] (HTTP | folder), which the
//! runner and the reference vendor use alike; files are written by one outbox writer
//! ([`Parcel`], named `{letter}_{envelope}_{n}`). Transports report facts; judging them is
//! [`crate::check`]'s.

mod auth;
mod folder;
mod http;
mod inbox;
mod outbox;
mod redact;
mod route;

pub use auth::{Auth, AuthError, Secret};

pub use folder::{
    Arrived, Disposition, FolderError, FolderLayout, FolderWatcher, PROCESSED, REASON_SUFFIX,
    REJECTED, ReadPolicy, Refusal, TEMPORARY_SUFFIXES, write_atomic,
};
pub use http::{
    Delivery, HttpSettings, HttpTransport, Listener, PROBE_LIMIT, TransportError, reachable_ip,
};
pub use inbox::{Inbox, Origin, Received};
pub use outbox::{Packing, Parcel, VANS_EXTENSION, WriteMode, file_name};
pub use redact::{MASK, SECRET_QUERY_NAMES, Secrets, redact_url, secrets_in_url};
pub use route::{FolderRoute, Route, Sent};

use crate::arrival::{Arrival, Payload, Unreadable};

/// Watches a vendor's outbox: every complete file is read once ([`Arrival::read`]: unwrapped from
/// its envelope when it comes in one, then a FHIR message or an OIOXML letter) and goes into
/// `inbox`; a file that is neither moves to `rejected/` with its reason, the others to
/// `processed/`. A file that cannot be read while it may still be growing (written in place, not
/// yet settled) is left to settle first, so a vendor that pauses mid-write is judged for writing
/// in place, not for a message that never came. A link or special file is never read: it goes
/// into `inbox` as a [`crate::rule::FOLDER_LINK`] refusal with no content (a file over the size
/// limit, unread, as a [`crate::rule::ATTACHMENT_SIZE`] one). An envelope is judged against its
/// payload and against MedCom's XML Schema (`schemas`; without them a note says it was not
/// schema-validated), by the `rules` settings.
///
/// # Errors
/// [`FolderError`] when the folder cannot be watched.
pub fn watch_outbox(
    layout: &FolderLayout,
    inbox: Inbox,
    schemas: Option<crate::envelope::SchemaFiles>,
    rules: crate::validate::Settings,
) -> Result<FolderWatcher, FolderError> {
    FolderWatcher::start(
        &layout.outbox,
        ReadPolicy::default(),
        move |arrived: Arrived| {
            let origin = Origin::File {
                name: arrived.name.clone(),
            };
            if let Some(refused) = &arrived.refused {
                let rule = match refused {
                    Refusal::NotRegular(_) => &crate::rule::FOLDER_LINK,
                    Refusal::TooLarge(_) => &crate::rule::ATTACHMENT_SIZE,
                };
                inbox.push_refused(
                    origin,
                    format!(
                        "`{}` in the exchange folder was not read: {}",
                        arrived.name,
                        refused.reason()
                    ),
                    rule,
                );
                return Disposition::Rejected(refused.reason().to_string());
            }
            let arrival = Arrival::read(&arrived.bytes);
            if let Payload::Unreadable(reason) = &arrival.payload
                && !arrived.settled
            {
                return Disposition::Incomplete(reason.to_string());
            }
            // An envelope that cannot be read, or one without a payload, is rejected whole.
            if let Payload::Unreadable(
                reason @ (Unreadable::Envelope { .. } | Unreadable::Receipt),
            ) = &arrival.payload
            {
                let reason = reason.to_string();
                inbox.push_parsed(
                    origin,
                    arrived.bytes,
                    "application/xml".to_string(),
                    Err(reason.clone()),
                    arrived.written_in_place,
                    None,
                );
                return Disposition::Rejected(reason);
            }
            let envelope = arrival.envelope.is_some().then(|| {
                let carried = arrival.envelope_problems();
                let schema = schemas.as_ref().map(|files| {
                    crate::validate::envelope_schema(&arrived.bytes, &rules, Some(files))
                });
                let findings =
                    crate::check::envelope_arrival(arrival.envelope_kind(), carried, schema);
                (arrived.bytes.clone(), findings)
            });
            let disposition = match &arrival.payload {
                Payload::Unreadable(reason) => Disposition::Rejected(reason.to_string()),
                Payload::Fhir(_) | Payload::Oioxml(_) => Disposition::Processed,
            };
            inbox.push_arrival(origin, arrival, arrived.written_in_place, envelope);
            disposition
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Grade;
    use crate::message::Message;
    use std::time::Duration;

    fn message() -> Message {
        crate::template::sample_message()
    }

    /// Drops `bytes` into a watched outbox and returns the envelope findings of its arrival.
    async fn arrival_findings(bytes: Vec<u8>, schemas: bool) -> Vec<crate::finding::Finding> {
        let dir = tempfile::tempdir().expect("tmp");
        let layout = FolderLayout::new(dir.path());
        layout.create().expect("layout");
        let inbox = Inbox::new();
        let schemas =
            schemas.then(|| crate::envelope::SchemaFiles::in_corpus(&crate::test_corpus()));
        let _watcher = watch_outbox(
            &layout,
            inbox.clone(),
            schemas,
            crate::validate::Settings::default(),
        )
        .expect("watch");
        write_atomic(&layout.outbox, "m.xml", &bytes).expect("write");
        let received = inbox
            .claim(Duration::from_secs(10), |_| true)
            .await
            .expect("the file arrives");
        assert!(received.envelope.is_some(), "arrived in an envelope");
        received.envelope_findings
    }

    #[tokio::test]
    async fn an_envelope_arriving_in_a_folder_is_judged_by_medcoms_xml_schema() {
        let good = crate::envelope::carry::wrap_fhir(&message(), None).expect("wraps");
        let findings = arrival_findings(good.clone(), true).await;
        assert!(
            findings
                .iter()
                .any(|f| f.grade == Grade::Ok
                    && f.message.contains("valid against MedCom's XML Schema")),
            "{findings:?}"
        );
        // An element the schema does not have: xmllint says "This element is not expected"; the
        // envelope still carries its payload, so only the schema can tell.
        let text = String::from_utf8(good).expect("utf-8");
        assert!(text.contains("</SentDateTime>"));
        let bad = text.replace("</SentDateTime>", "</SentDateTime><Extra/>");
        let findings = arrival_findings(bad.into_bytes(), true).await;
        let breaches: Vec<_> = findings.iter().filter(|f| f.grade != Grade::Ok).collect();
        assert_eq!(breaches.len(), 1, "{findings:?}");
        assert_eq!(breaches[0].rule, "envelope");
        assert!(breaches[0].message.contains("Extra"), "{breaches:?}");
        assert!(
            breaches[0]
                .location
                .as_deref()
                .is_some_and(|l| l.starts_with("line "))
        );
    }

    #[tokio::test]
    async fn without_the_xsds_an_envelope_gets_a_note_not_a_vendor_finding() {
        let good = crate::envelope::carry::wrap_fhir(&message(), None).expect("wraps");
        let findings = arrival_findings(good, false).await;
        assert!(
            findings.iter().all(|f| f.grade == Grade::Ok),
            "{findings:?}"
        );
        assert!(
            findings
                .iter()
                .any(|f| f.message.contains("not schema-validated"))
        );
    }

    #[tokio::test]
    async fn a_vendor_pausing_mid_write_in_place_is_judged_for_it_not_lost() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("tmp");
        let layout = FolderLayout::new(dir.path());
        layout.create().expect("layout");
        let inbox = Inbox::new();
        let _watcher = watch_outbox(
            &layout,
            inbox.clone(),
            None,
            crate::validate::Settings::default(),
        )
        .expect("watch");
        let bytes = message().bytes;
        let (first, second) = bytes.split_at(bytes.len() / 2);
        let path = layout.outbox.join("ack.json");
        let mut file = std::fs::File::create(&path).expect("create in place");
        file.write_all(first).expect("first half");
        file.flush().expect("flush");
        // Longer than the 1 s a file must stay unchanged to be looked at.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            std::fs::read_dir(layout.outbox.join(REJECTED))
                .expect("rejected/")
                .next()
                .is_none(),
            "the half-written file is not rejected while its writer pauses"
        );
        assert!(inbox.unclaimed().is_empty(), "nothing recorded of the half");
        file.write_all(second).expect("second half");
        file.flush().expect("flush");
        drop(file);
        let received = inbox
            .claim(Duration::from_secs(10), |_| true)
            .await
            .expect("the whole file arrives");
        assert!(received.message.is_ok(), "{:?}", received.message.err());
        assert!(received.written_in_place, "judged as written in place");
        assert_eq!(received.bytes, bytes);
        assert!(inbox.unclaimed().is_empty(), "exactly one arrival");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_link_in_the_outbox_is_a_folder_link_finding_with_nothing_of_its_target() {
        let secret = tempfile::NamedTempFile::new().expect("tmp");
        std::fs::write(secret.path(), b"TOP-SECRET-0815").expect("write");
        let dir = tempfile::tempdir().expect("tmp");
        let layout = FolderLayout::new(dir.path());
        layout.create().expect("layout");
        std::os::unix::fs::symlink(secret.path(), layout.outbox.join("x.xml")).expect("link");
        let inbox = Inbox::new();
        let _watcher = watch_outbox(
            &layout,
            inbox.clone(),
            None,
            crate::validate::Settings::default(),
        )
        .expect("watch");
        let received = inbox
            .claim(Duration::from_secs(10), |_| true)
            .await
            .expect("the link is reported");
        assert!(received.bytes.is_empty());
        let finding = received.refused.expect("a refusal finding");
        assert_eq!(finding.rule, "folder-link");
        assert!(
            finding.message.contains("symbolic link"),
            "{}",
            finding.message
        );
        assert!(!finding.message.contains("TOP-SECRET"));
    }
}
