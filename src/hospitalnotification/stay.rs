//! The rules across the messages of one stay: a state machine over the HospitalNotifications of
//! one episode, in the order they arrived.
//!
//! [`judge`] takes the earlier messages of the stay and the new one and reports `hn-order`,
//! `hn-revision-target`, `hn-episode`, `hn-times` and `hn-provenance-carried` (each rule once,
//! a pass when it holds). The per-message rule `hn-consistency` (activity against Encounter) is
//! [`crate::validate::medcom::hospital_notification`].

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Change, Facts, latest_of_kind, split_activity};
use crate::finding::Finding;
use crate::rule;

/// Where a stay stands after its messages so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No message yet.
    Empty,
    /// Admitted (`in-progress`).
    Admitted,
    /// On leave (`onleave`).
    OnLeave,
    /// Discharged or dead (`finished`).
    Finished,
    /// The admission was cancelled.
    Cancelled,
}

/// The state of a stay and its current activity after `messages`, in order.
pub fn state_after(messages: &[Facts]) -> (State, String) {
    let mut state = State::Empty;
    let mut current = String::new();
    for m in messages {
        let (base, change) = split_activity(&m.activity);
        match change {
            Change::New => {
                if m.deceased {
                    state = State::Finished;
                } else if base.starts_with("admit-") || base == "end-leave-inpatient" {
                    state = State::Admitted;
                } else if base == "start-leave-inpatient" {
                    state = State::OnLeave;
                } else if base.starts_with("discharge-") {
                    state = State::Finished;
                }
                current = base.to_string();
            }
            Change::Revise => {}
            Change::Cancel => {
                state = match base {
                    b if b.starts_with("admit-") => State::Cancelled,
                    "start-leave-inpatient" => State::Admitted,
                    "end-leave-inpatient" => State::OnLeave,
                    _ => State::Admitted,
                };
            }
        }
    }
    (state, current)
}

fn instant(text: Option<&str>) -> Option<OffsetDateTime> {
    text.and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
}

/// Judges `message` (the facts of the newest HospitalNotification of a stay) against the
/// `earlier` messages of the same stay, in the order they came.
pub fn judge(earlier: &[Facts], message: &Facts) -> Vec<Finding> {
    let mut out = Vec::new();
    let (state, current) = state_after(earlier);
    let (base, change) = split_activity(&message.activity);
    let activity = &message.activity;
    // hn-order
    let order: Option<String> = match (change, state) {
        (Change::New, State::Empty) if !base.starts_with("admit-") => Some(format!(
            "`{activity}` before any admission: a stay starts with STIN or STAA"
        )),
        (Change::New, State::Empty) => None,
        (_, State::Empty) => Some(format!(
            "`{activity}` before any admission: there is nothing to revise or cancel"
        )),
        (Change::New, State::Finished | State::Cancelled) => Some(format!(
            "`{activity}` after the stay ended (discharge, death or a cancelled admission): only a revision or a cancellation may follow"
        )),
        (Change::New, _) if message.deceased && base == current => None,
        (Change::New, _) if base.starts_with("admit-") => Some(format!(
            "`{activity}` in a stay that is already admitted: a new admission starts a new stay"
        )),
        (Change::New, s) if base == "start-leave-inpatient" && s != State::Admitted => {
            Some(format!(
                "`{activity}` while the patient is on leave: a leave starts only while admitted"
            ))
        }
        (Change::New, s) if base == "end-leave-inpatient" && s != State::OnLeave => Some(format!(
            "`{activity}` without a leave: the patient is not on leave"
        )),
        (Change::New, _) if base == current => Some(format!(
            "`{activity}` again, and the patient is not deceased: the event happened already"
        )),
        _ => None,
    };
    out.push(match order {
        Some(why) => rule::HN_ORDER.breach(why),
        None => rule::HN_ORDER.pass(format!("`{activity}` may follow `{current}`")),
    });
    // hn-revision-target
    if change != Change::New {
        let (want_role, what) = if change == Change::Revise {
            ("revision", "revises")
        } else {
            ("removal", "cancels")
        };
        let target = earlier.last().and_then(|p| latest_of_kind(p, base));
        let named: Vec<&String> = message
            .entities
            .iter()
            .filter(|(role, _)| role == want_role)
            .map(|(_, letter)| letter)
            .collect();
        out.push(match (&target, named.as_slice()) {
            (Some(t), [one]) if *one == t => rule::HN_REVISION_TARGET.pass(format!(
                "`{activity}` {what} the latest `{base}` message `{t}`"
            )),
            (Some(t), []) => rule::HN_REVISION_TARGET
                .breach(format!(
                    "`{activity}` has no Provenance entity with role `{want_role}`; it should point to the latest `{base}` message `{t}`"
                ))
                .at("Provenance.entity"),
            (Some(t), names) => rule::HN_REVISION_TARGET
                .breach(format!(
                    "`{activity}` points to {}, not to the latest `{base}` message `{t}`",
                    names
                        .iter()
                        .map(|n| format!("`MessageHeader/{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .at("Provenance.entity.what"),
            (None, _) => rule::HN_REVISION_TARGET.breach(format!(
                "`{activity}`: the stay has no `{base}` message to act on"
            )),
        });
    }
    if let Some(first) = earlier.first() {
        // hn-episode
        out.push(if first.episode == message.episode {
            rule::HN_EPISODE.pass("the episodeOfCare identifier is the admission's")
        } else {
            rule::HN_EPISODE
                .breach(format!(
                    "episodeOfCare identifier `{}`, the admission's was `{}`",
                    message.episode.as_deref().unwrap_or("(none)"),
                    first.episode.as_deref().unwrap_or("(none)")
                ))
                .at("Encounter.episodeOfCare.identifier")
        });
        // hn-provenance-carried
        let previous = earlier.last().unwrap_or(first);
        let missing: Vec<&str> = previous
            .provenances
            .iter()
            .filter(|(id, _, _)| !message.provenances.iter().any(|(i, _, _)| i == id))
            .map(|(id, _, _)| id.as_str())
            .collect();
        out.push(if missing.is_empty() {
            rule::HN_PROVENANCE_CARRIED.pass(format!(
                "the {} Provenance(s) of the previous message are carried",
                previous.provenances.len()
            ))
        } else {
            rule::HN_PROVENANCE_CARRIED.breach(format!(
                "the previous message's Provenance(s) {} are missing",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        });
    }
    // hn-times
    let mut times = Vec::new();
    if let Some(first) = earlier.first()
        && let (Some(a), Some(b)) = (
            instant(first.period_start.as_deref()),
            instant(message.period_start.as_deref()),
        )
        && a != b
    {
        times.push(format!(
            "period.start `{}` is not the admission's `{}`",
            message.period_start.as_deref().unwrap_or_default(),
            first.period_start.as_deref().unwrap_or_default()
        ));
    }
    if let Some(previous) = earlier.last()
        && let (Some(a), Some(b)) = (
            instant(previous.timestamp.as_deref()),
            instant(message.timestamp.as_deref()),
        )
        && b < a
    {
        times.push(format!(
            "Bundle.timestamp `{}` is before the previous message's `{}`",
            message.timestamp.as_deref().unwrap_or_default(),
            previous.timestamp.as_deref().unwrap_or_default()
        ));
    }
    let start = instant(message.period_start.as_deref());
    for (what, t) in [
        ("the leave's start", message.leave_start.as_deref()),
        ("period.end", message.period_end.as_deref()),
    ] {
        if let (Some(s), Some(x)) = (start, instant(t))
            && x < s
        {
            times.push(format!(
                "{what} `{}` is before period.start",
                t.unwrap_or_default()
            ));
        }
    }
    if let (Some(s), Some(e)) = (
        instant(message.leave_start.as_deref()),
        instant(message.leave_end.as_deref()),
    ) && e < s
    {
        times.push("the leave ends before it starts".into());
    }
    out.push(if times.is_empty() {
        rule::HN_TIMES.pass("the stay's times are in order")
    } else {
        rule::HN_TIMES.breach(times.join("; "))
    });
    out
}
