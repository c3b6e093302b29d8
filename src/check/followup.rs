//! Follow-up rules: replies and forwards of a CareCommunication (thread, Provenance chain,
//! attachments).

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
    let mut missing = Vec::new();
    for old in &original.identity.attachments {
        let kept = forward
            .identity
            .attachments
            .iter()
            .any(|new| match (&old.data, &new.data) {
                (Some(a), Some(b)) => a.sha256 == b.sha256,
                _ => old.url.is_some() && old.url == new.url,
            });
        if !kept {
            missing.push(format!("`{}`", old.title.as_deref().unwrap_or("?")));
        }
    }
    if missing.is_empty() {
        out.push(rule::CC_FORWARD_KEEPS.pass(format!(
            "the forward keeps all {} attachment(s) byte for byte",
            original.identity.attachments.len()
        )));
    } else {
        out.push(rule::CC_FORWARD_KEEPS.breach(format!(
            "the forward lacks attachment(s) of the forwarded message: {}",
            missing.join(", ")
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
