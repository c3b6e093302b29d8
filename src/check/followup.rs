//! Follow-up rules: replies and forwards of a CareCommunication (thread, Provenance chain,
//! attachments).
//!
//! The attachment rules are the words of the Communication profile's description in the
//! CareCommunication 5.0 IG: a reply names an earlier attachment by its segment identifier and
//! leaves its base64 content out; a forward includes the base64 content of the attachments it
//! forwards, and may leave whole segments out ("all relevant message segments").

use super::Finding;
use crate::message::{Activity, Message, reference_names};
use crate::rule;

/// Judges `reply` as a reply to `original`.
pub fn reply(reply: &Message, original: &Message) -> Vec<Finding> {
    let mut out = chain(reply, original, Activity::ReplyMessage);
    let (t1, t2) = (&original.identity.thread_id, &reply.identity.thread_id);
    if t1.is_some() && t1 == t2 {
        out.push(rule::CC_THREAD.pass("the reply keeps the thread id"));
    } else {
        out.push(
            rule::CC_THREAD
                .breach(format!(
                    "the reply's thread id {t2:?} differs from the original's {t1:?}"
                ))
                .at("Communication.identifier"),
        );
    }
    let mut resent = Vec::new();
    for old in &original.identity.attachments {
        for new in &reply.identity.attachments {
            let same_data =
                matches!((&old.data, &new.data), (Some(a), Some(b)) if a.sha256 == b.sha256);
            let same_url = old.url.is_some() && old.url == new.url;
            if same_data || same_url {
                resent.push(format!(
                    "`{}` at {}",
                    new.title.as_deref().unwrap_or("?"),
                    new.location
                ));
            }
        }
    }
    if resent.is_empty() {
        out.push(rule::CC_REPLY_NO_RESEND.pass("the reply does not resend earlier attachments"));
    } else {
        out.push(rule::CC_REPLY_NO_RESEND.breach(format!(
            "the reply resends the data or url of earlier attachment(s): {}",
            resent.join(", ")
        )));
    }
    out.extend(reply_identifiers(reply, original));
    out
}

/// `cc-reply-attachment-identifier`: every segment of `reply` that refers to an earlier
/// attachment (an attachment without `data` or `url`) carries the identifier of an attachment
/// segment of `original`. No finding when the reply refers to no attachment.
fn reply_identifiers(reply: &Message, original: &Message) -> Vec<Finding> {
    let earlier: Vec<&str> = original
        .identity
        .attachments
        .iter()
        .filter_map(|a| a.identifier.as_deref())
        .collect();
    let references: Vec<_> = reply
        .identity
        .attachments
        .iter()
        .filter(|a| !a.has_data && a.url.is_none())
        .collect();
    if references.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for a in &references {
        let title = a.title.as_deref().unwrap_or("?");
        match a.identifier.as_deref() {
            None => out.push(
                rule::CC_REPLY_ATTACHMENT_IDENTIFIER
                    .breach(format!(
                        "the reply refers to the earlier attachment `{title}` without the identifier of its segment"
                    ))
                    .at(a.location.clone()),
            ),
            Some(id) if !earlier.is_empty() && !earlier.contains(&id) => out.push(
                rule::CC_REPLY_ATTACHMENT_IDENTIFIER
                    .breach(format!(
                        "the reply refers to the attachment `{title}` by identifier `{id}`, which names no attachment of the previous message"
                    ))
                    .at(a.location.clone()),
            ),
            Some(_) => {}
        }
    }
    if out.is_empty() {
        out.push(rule::CC_REPLY_ATTACHMENT_IDENTIFIER.pass(format!(
            "the reply names each of the {} earlier attachment(s) it refers to by identifier",
            references.len()
        )));
    }
    out
}

/// Judges `forward` as a forward of `original`.
pub fn forward(forward: &Message, original: &Message) -> Vec<Finding> {
    let mut out = chain(forward, original, Activity::ForwardMessage);
    if forward.identity.thread_id.is_some()
        && forward.identity.thread_id != original.identity.thread_id
    {
        out.push(rule::CC_THREAD.pass("the forward starts a new thread"));
    } else {
        out.push(
            rule::CC_THREAD
                .breach("the forward keeps the original's thread id; a forward starts a new thread")
                .at("Communication.identifier"),
        );
    }
    out.extend(forward_attachments(forward, original));
    out
}

/// `cc-forward-attachment-data`: every attachment segment of `forward` carries its base64 content
/// (or, for a link, its url), and one under the identifier of an attachment of `original` carries
/// the same bytes (an edited attachment gets a new identifier). Segments left out are no finding.
fn forward_attachments(forward: &Message, original: &Message) -> Vec<Finding> {
    let mut out = Vec::new();
    for new in &forward.identity.attachments {
        let title = new.title.as_deref().unwrap_or("?");
        if !new.has_data && new.url.is_none() {
            out.push(
                rule::CC_FORWARD_ATTACHMENT_DATA
                    .breach(format!(
                        "the forwarded attachment `{title}` is without its base64 content"
                    ))
                    .at(new.location.clone()),
            );
            continue;
        }
        let earlier = original
            .identity
            .attachments
            .iter()
            .find(|old| old.identifier.is_some() && old.identifier == new.identifier);
        if let Some(old) = earlier
            && let (Some(a), Some(b)) = (&old.data, &new.data)
            && a.sha256 != b.sha256
        {
            out.push(
                rule::CC_FORWARD_ATTACHMENT_DATA
                    .breach(format!(
                        "the forwarded attachment `{title}` keeps the identifier {:?} of the earlier attachment but not its bytes ({} bytes, was {})",
                        new.identifier.as_deref().unwrap_or(""),
                        b.size,
                        a.size
                    ))
                    .at(new.location.clone()),
            );
        }
    }
    if out.is_empty() {
        let n = forward.identity.attachments.len();
        out.push(rule::CC_FORWARD_ATTACHMENT_DATA.pass(format!(
            "each of the {n} forwarded attachment(s) carries its content"
        )));
    }
    out
}

/// The Provenance chain: every Provenance of `original` carried over, and a new one with
/// `activity` that targets the follow-up's MessageHeader and points to the original.
fn chain(next: &Message, original: &Message, activity: Activity) -> Vec<Finding> {
    let mut out = Vec::new();
    let n = &next.identity;
    let o = &original.identity;
    let letter = n.letter_id.as_deref().unwrap_or("");
    let previous = o.letter_id.as_deref().unwrap_or("");
    let carried: Vec<_> = o
        .provenances
        .iter()
        .filter(|p| {
            !n.provenances
                .iter()
                .any(|q| q.id == p.id && q.targets == p.targets)
        })
        .map(|p| p.id.clone().unwrap_or_default())
        .collect();
    if !carried.is_empty() {
        out.push(rule::PROVENANCE_CHAIN.breach(format!(
            "earlier Provenance(s) {carried:?} are not carried over"
        )));
    }
    match n.provenances.iter().find(|p| p.targets_letter(letter)) {
        None => out.push(rule::PROVENANCE_CHAIN.breach(format!(
            "no Provenance targets the new MessageHeader `{letter}`"
        ))),
        Some(p) => {
            if p.activity_code() != Some(activity) {
                out.push(rule::PROVENANCE_CHAIN.breach(format!(
                    "the new Provenance's activity is `{}`, expected `{activity}`",
                    p.activity.as_deref().unwrap_or("missing")
                )));
            }
            let points = p.entities.iter().any(|e| {
                e.what_reference
                    .as_deref()
                    .is_some_and(|r| reference_names(r, "MessageHeader", previous))
            });
            if !points {
                out.push(rule::PROVENANCE_CHAIN.breach(format!(
                    "the new Provenance's entity.what does not point to the previous message `MessageHeader/{previous}`")));
            }
        }
    }
    if out.is_empty() {
        out.push(rule::PROVENANCE_CHAIN.pass(format!(
            "{} earlier Provenance(s) carried over and a new `{activity}` Provenance points to the previous message", o.provenances.len())));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Format;
    use crate::message::attachment::encode_base64;
    use crate::template::{AttachmentInput, Context, Organization, Templates};
    use serde_json::Value;

    /// The Communication profile's description in the CareCommunication 5.0 IG
    /// (https://medcomfhir.dk/ig/carecommunication/StructureDefinition-medcom-careCommunication-communication.html).
    const IG_REPLY: &str = "instead the identifier must always be included in a reply";
    const IG_FORWARD: &str = "the base64-encoded content of the attachments must be included";
    const IG_SEGMENTS: &str = "all relevant message segments must be included … when forwarding";

    fn org(ean: &str, sor: &str) -> Organization {
        Organization {
            ean: ean.into(),
            sor_id: sor.into(),
            name: "Test".into(),
        }
    }

    fn render(template: &str, ctx: &Context) -> Message {
        let resource = Templates::builtin()
            .render_resource(template, ctx)
            .expect("template");
        Message::encode(&resource, Format::Json).expect("message")
    }

    /// A new CareCommunication with a text segment and one PDF attachment segment.
    fn original() -> Message {
        let mut ctx = Context::new_message(
            "https://test.example/fhir/",
            org("5790000000012", "999991000016001"),
            org("5790000000029", "999981000016002"),
        );
        ctx.attachments.push(
            AttachmentInput {
                content_type: Some("application/pdf".into()),
                title: "Udskrivningsbrev".into(),
                data: Some(encode_base64(b"%PDF-1.4 a letter")),
                ..AttachmentInput::default()
            }
            .into(),
        );
        render("carecommunication/new", &ctx)
    }

    fn follow_up(template: &str, original: &Message, edit: impl Fn(&mut Value)) -> Message {
        let mut ctx = Context::follow_up(
            "https://test.example/fhir/",
            original,
            org("5790000000029", "999981000016002"),
            Some(org("5790000000036", "999971000016003")),
        );
        if let Some(previous) = ctx.previous.as_mut() {
            edit(previous);
        }
        render(template, &ctx)
    }

    fn of<'a>(findings: &'a [Finding], id: &str) -> Vec<&'a Finding> {
        findings.iter().filter(|f| f.rule == id).collect()
    }

    fn breaches(findings: &[Finding], id: &str) -> usize {
        of(findings, id)
            .iter()
            .filter(|f| f.grade != crate::grade::Grade::Ok)
            .count()
    }

    /// Drops the identifier extension of every payload segment in `segments`.
    fn without_identifiers(segments: &mut Value) {
        for seg in segments.as_array_mut().into_iter().flatten() {
            if let Some(ext) = seg.get_mut("extension").and_then(Value::as_array_mut) {
                ext.retain(|e| {
                    !e["url"]
                        .as_str()
                        .is_some_and(|u| u.ends_with("medcom-core-identifier-extension"))
                });
            }
        }
    }

    #[test]
    fn reply_naming_earlier_attachment_by_identifier_passes() {
        // IG: the base64 content is not included, "instead the identifier must always be included
        // in a reply".
        assert!(IG_REPLY.contains("identifier must always be included"));
        let first = original();
        let reply = follow_up("carecommunication/reply", &first, |_| {});
        let found = super::reply(&reply, &first);
        assert_eq!(breaches(&found, "cc-reply-attachment-identifier"), 0);
        assert_eq!(breaches(&found, "cc-reply-no-resend"), 0);
        assert_eq!(of(&found, "cc-reply-attachment-identifier").len(), 1);
    }

    #[test]
    fn reply_reference_without_identifier_is_a_finding() {
        assert!(IG_REPLY.contains("identifier must always be included"));
        let first = original();
        let reply = follow_up("carecommunication/reply", &first, |p| {
            without_identifiers(&mut p["payload_reference_only"]);
        });
        let found = super::reply(&reply, &first);
        assert_eq!(breaches(&found, "cc-reply-attachment-identifier"), 1);
        let f = of(&found, "cc-reply-attachment-identifier")[0];
        assert_eq!(f.grade, rule::CC_REPLY_ATTACHMENT_IDENTIFIER.grade);
        assert!(f.message.contains("Udskrivningsbrev"), "{}", f.message);
    }

    #[test]
    fn forward_with_attachment_data_passes() {
        assert!(IG_FORWARD.contains("base64-encoded content"));
        let first = original();
        let fwd = follow_up("carecommunication/forward", &first, |_| {});
        let found = super::forward(&fwd, &first);
        assert_eq!(breaches(&found, "cc-forward-attachment-data"), 0);
    }

    #[test]
    fn forward_of_text_only_passes_as_in_send_forward_partialthread() {
        // MedCom's TestScript carecommunication-send-forward-partialthread forwards only the
        // text ("Confirm that number of payloads is '2'": the new text and the forwarded one).
        assert!(IG_SEGMENTS.contains("relevant message segments"));
        let first = original();
        let fwd = follow_up("carecommunication/forward", &first, |p| {
            let text_only: Vec<Value> = p["payload"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s.get("contentAttachment").is_none())
                .cloned()
                .collect();
            p["payload"] = Value::Array(text_only);
        });
        let payload = fwd.resource["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["resource"]["resourceType"] == "Communication")
            .and_then(|e| e["resource"]["payload"].as_array())
            .map(Vec::len);
        assert_eq!(payload, Some(2), "the partial thread of the TestScript");
        let found = super::forward(&fwd, &first);
        assert_eq!(breaches(&found, "cc-forward-attachment-data"), 0);
    }

    #[test]
    fn forwarded_attachment_without_base64_content_is_f2() {
        assert!(IG_FORWARD.contains("must be included"));
        let first = original();
        let fwd = follow_up("carecommunication/forward", &first, |p| {
            p["payload"] = p["payload_reference_only"].clone();
        });
        let found = super::forward(&fwd, &first);
        assert_eq!(breaches(&found, "cc-forward-attachment-data"), 1);
        let f = of(&found, "cc-forward-attachment-data")[0];
        assert_eq!(f.grade, crate::grade::Grade::F2);
    }

    #[test]
    fn forwarded_attachment_with_other_bytes_under_its_identifier_is_a_finding() {
        // medcom-carecommunication-attachment-identifier: "If the attachment is edited and
        // reattached, a new UUID shall be applied."
        let first = original();
        let fwd = follow_up("carecommunication/forward", &first, |p| {
            for seg in p["payload"].as_array_mut().into_iter().flatten() {
                if let Some(att) = seg.get_mut("contentAttachment") {
                    att["data"] = Value::String(encode_base64(b"%PDF-1.4 edited"));
                }
            }
        });
        let found = super::forward(&fwd, &first);
        assert_eq!(breaches(&found, "cc-forward-attachment-data"), 1);
    }
}
