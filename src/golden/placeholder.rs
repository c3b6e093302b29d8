//! Placeholders in golden strings: parsing `{{…}}` markers out of a string and matching a value
//! against the resulting template.
//!
//! A template is a list of literal pieces and placeholders. Matching runs over byte positions and
//! keeps, for each piece, the set of positions the prefix of the template can end at, so a template
//! with several variable-length placeholders (`{{any}}`, `{{id}}`) is matched in time linear in the
//! value for each piece, never by exponential backtracking.

use std::collections::BTreeMap;

/// One placeholder, as written between `{{` and `}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Placeholder {
    /// `{{any}}`: any value.
    Any,
    /// `{{uuid}}`: a UUID of any version in 8-4-4-4-12 hex form, either case.
    Uuid,
    /// `{{id}}`: a FHIR id, `[A-Za-z0-9\-\.]{1,64}`.
    Id,
    /// `{{datetime}}`: a FHIR instant, a dateTime with seconds and a time zone.
    DateTime,
    /// `{{capture:NAME}}`: exactly the value captured under `NAME`.
    Capture(String),
}

impl Placeholder {
    /// Reads the text between `{{` and `}}`, or `None` if it names no placeholder.
    fn from_inner(inner: &str) -> Option<Self> {
        match inner {
            "any" => Some(Self::Any),
            "uuid" => Some(Self::Uuid),
            "id" => Some(Self::Id),
            "datetime" => Some(Self::DateTime),
            _ => inner
                .strip_prefix("capture:")
                .filter(|name| !name.is_empty())
                .map(|name| Self::Capture(name.to_owned())),
        }
    }

    /// The placeholder as written in a golden, braces included.
    fn text(&self) -> String {
        match self {
            Self::Any => "{{any}}".to_owned(),
            Self::Uuid => "{{uuid}}".to_owned(),
            Self::Id => "{{id}}".to_owned(),
            Self::DateTime => "{{datetime}}".to_owned(),
            Self::Capture(name) => format!("{{{{capture:{name}}}}}"),
        }
    }
}

/// A piece of a template: literal text or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Placeholder(Placeholder),
}

/// A golden string that holds at least one placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    pieces: Vec<Piece>,
}

/// The text between `{{` and `}}` named no known placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UnknownPlaceholder(pub(super) String);

/// A capture placeholder named a value that was not captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UnknownCapture(pub(super) String);

impl Template {
    /// Splits `text` into literal pieces and placeholders.
    ///
    /// Returns `Ok(None)` when the string holds no `{{…}}` at all, so that it is compared as plain
    /// text, and an error when a `{{…}}` names no known placeholder: a misspelt placeholder would
    /// otherwise be compared as literal text and fail with a confusing mismatch. An unclosed `{{` is
    /// literal text.
    pub(super) fn parse(text: &str) -> Result<Option<Self>, UnknownPlaceholder> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let after_open = &rest[open + 2..];
            let Some(close) = after_open.find("}}") else {
                break;
            };
            let inner = &after_open[..close];
            let placeholder = Placeholder::from_inner(inner)
                .ok_or_else(|| UnknownPlaceholder(format!("{{{{{inner}}}}}")))?;
            literal.push_str(&rest[..open]);
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Placeholder(placeholder));
            rest = &after_open[close + 2..];
        }
        if pieces.is_empty() {
            return Ok(None);
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        Ok(Some(Self { pieces }))
    }

    /// Whether the template is exactly `{{any}}`, which matches a whole value of any type.
    pub(super) fn is_any(&self) -> bool {
        matches!(
            self.pieces.as_slice(),
            [Piece::Placeholder(Placeholder::Any)]
        )
    }

    /// The capture name when the template is exactly one `{{capture:NAME}}`.
    pub(super) fn sole_capture(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [Piece::Placeholder(Placeholder::Capture(name))] => Some(name),
            _ => None,
        }
    }

    /// The names of all captures the template uses, in order.
    pub(super) fn capture_names(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Placeholder(Placeholder::Capture(name)) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The template with captured values filled in and other placeholders left as written, which
    /// is what a person should see as the expected value.
    pub(super) fn resolved_text(&self, captures: &BTreeMap<String, String>) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Placeholder(Placeholder::Capture(name)) => match captures.get(name) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&Placeholder::Capture(name.clone()).text()),
                },
                Piece::Placeholder(other) => out.push_str(&other.text()),
            }
        }
        out
    }

    /// Whether `value` as a whole matches the template.
    ///
    /// `{{any}}` inside a larger string matches any run of characters, the empty run included.
    pub(super) fn matches(
        &self,
        value: &str,
        captures: &BTreeMap<String, String>,
    ) -> Result<bool, UnknownCapture> {
        let bytes = value.as_bytes();
        let len = bytes.len();
        // `reach[p]` says that the pieces seen so far can match exactly `value[..p]`.
        let mut reach = vec![false; len + 1];
        reach[0] = true;
        for piece in &self.pieces {
            let mut next = vec![false; len + 1];
            let mut any_reached = false;
            for start in 0..=len {
                if !reach[start] {
                    continue;
                }
                match piece {
                    Piece::Literal(text) => mark_literal(bytes, start, text, &mut next),
                    Piece::Placeholder(Placeholder::Capture(name)) => {
                        let text = captures
                            .get(name)
                            .ok_or_else(|| UnknownCapture(name.clone()))?;
                        mark_literal(bytes, start, text, &mut next);
                    }
                    Piece::Placeholder(Placeholder::Any) => {
                        // Every later character boundary is reachable from the first reachable
                        // start, so the later starts add nothing.
                        for (end, slot) in next.iter_mut().enumerate().skip(start) {
                            *slot = *slot || value.is_char_boundary(end);
                        }
                        any_reached = true;
                    }
                    Piece::Placeholder(Placeholder::Uuid) => {
                        if is_uuid_at(bytes, start) {
                            next[start + UUID_LEN] = true;
                        }
                    }
                    Piece::Placeholder(Placeholder::Id) => {
                        for end in (start + 1)..=len.min(start + MAX_ID_LEN) {
                            if !is_id_byte(bytes[end - 1]) {
                                break;
                            }
                            next[end] = true;
                        }
                    }
                    Piece::Placeholder(Placeholder::DateTime) => {
                        if let Some(used) = instant_len_at(bytes, start) {
                            next[start + used] = true;
                        }
                    }
                }
                if any_reached {
                    break;
                }
            }
            reach = next;
        }
        Ok(reach[len])
    }
}

/// Marks the end of `text` when it occurs in `bytes` at `start`.
fn mark_literal(bytes: &[u8], start: usize, text: &str, next: &mut [bool]) {
    if bytes[start..].starts_with(text.as_bytes()) {
        next[start + text.len()] = true;
    }
}

const UUID_LEN: usize = 36;
const MAX_ID_LEN: usize = 64;

/// Whether a UUID in 8-4-4-4-12 hex form starts at `start`; any version, either case.
fn is_uuid_at(bytes: &[u8], start: usize) -> bool {
    let Some(candidate) = bytes.get(start..start + UUID_LEN) else {
        return false;
    };
    candidate.iter().enumerate().all(|(i, &b)| match i {
        8 | 13 | 18 | 23 => b == b'-',
        _ => b.is_ascii_hexdigit(),
    })
}

/// The characters of a FHIR id (FHIR R4 `id`: `[A-Za-z0-9\-\.]{1,64}`).
fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'.'
}

/// The length of a FHIR R4 `instant` starting at `start`, if one does.
///
/// The grammar is the instant regex of FHIR R4: `YYYY-MM-DDThh:mm:ss(.s+)?(Z|(+|-)hh:mm)` with the
/// year 0001-9999, month 01-12, day 01-31, hour 00-23, minute 00-59, second 00-60 (a leap second),
/// and a zone offset of at most 14:00. A fraction has at least one digit.
fn instant_len_at(bytes: &[u8], start: usize) -> Option<usize> {
    let mut cursor = Cursor { bytes, pos: start };
    let year = cursor.number(4)?;
    if year == 0 {
        return None;
    }
    cursor.byte(b'-')?;
    let month = cursor.number(2)?;
    cursor.byte(b'-')?;
    let day = cursor.number(2)?;
    cursor.byte(b'T')?;
    let hour = cursor.number(2)?;
    cursor.byte(b':')?;
    let minute = cursor.number(2)?;
    cursor.byte(b':')?;
    let second = cursor.number(2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if cursor.byte(b'.').is_some() {
        let digits_start = cursor.pos;
        while cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
            cursor.pos += 1;
        }
        if cursor.pos == digits_start {
            return None;
        }
    }
    match cursor.peek()? {
        b'Z' => cursor.pos += 1,
        b'+' | b'-' => {
            cursor.pos += 1;
            let zone_hour = cursor.number(2)?;
            cursor.byte(b':')?;
            let zone_minute = cursor.number(2)?;
            let fits =
                (zone_hour <= 13 && zone_minute <= 59) || (zone_hour == 14 && zone_minute == 0);
            if !fits {
                return None;
            }
        }
        _ => return None,
    }
    Some(cursor.pos - start)
}

/// A read position in a byte string, for the instant grammar.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn byte(&mut self, expected: u8) -> Option<()> {
        (self.peek()? == expected).then(|| self.pos += 1)
    }

    /// Reads exactly `digits` decimal digits as a number.
    fn number(&mut self, digits: usize) -> Option<u32> {
        let run = self.bytes.get(self.pos..self.pos + digits)?;
        let mut value = 0u32;
        for &b in run {
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(b - b'0');
        }
        self.pos += digits;
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(template: &str, value: &str) -> bool {
        let captures = BTreeMap::from([("first.letter-id".to_owned(), "abc-1".to_owned())]);
        Template::parse(template)
            .expect("known placeholders")
            .expect("a placeholder")
            .matches(value, &captures)
            .expect("known captures")
    }

    #[test]
    fn plain_text_is_not_a_template() {
        assert_eq!(Template::parse("urn:uuid:1234"), Ok(None));
        assert_eq!(Template::parse("an {{ unclosed"), Ok(None));
    }

    #[test]
    fn misspelt_placeholder_is_an_error() {
        assert_eq!(
            Template::parse("urn:uuid:{{uid}}"),
            Err(UnknownPlaceholder("{{uid}}".to_owned()))
        );
        assert_eq!(
            Template::parse("{{capture:}}"),
            Err(UnknownPlaceholder("{{capture:}}".to_owned()))
        );
    }

    #[test]
    fn uuid_matches_either_case_alone_or_inside_text() {
        assert!(matches("{{uuid}}", "0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d"));
        assert!(matches("{{uuid}}", "0C3B8A0E-5F2A-4B7E-9D1C-2E4F6A8B0C1D"));
        assert!(matches(
            "urn:uuid:{{uuid}}",
            "urn:uuid:0c3b8a0e-5f2a-1b7e-9d1c-2e4f6a8b0c1d"
        ));
        assert!(matches(
            "MessageHeader/{{uuid}}",
            "MessageHeader/0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d"
        ));
        assert!(!matches("{{uuid}}", "not-a-uuid"));
        assert!(!matches("{{uuid}}", "0c3b8a0e5f2a4b7e9d1c2e4f6a8b0c1d"));
        assert!(!matches(
            "{{uuid}}",
            "0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1dX"
        ));
        assert!(!matches(
            "urn:uuid:{{uuid}}",
            "urn:oid:0c3b8a0e-5f2a-4b7e-9d1c-2e4f6a8b0c1d"
        ));
    }

    #[test]
    fn id_matches_fhir_ids_only() {
        assert!(matches("{{id}}", "a"));
        assert!(matches("{{id}}", "Org-1.2"));
        assert!(matches("{{id}}", &"x".repeat(64)));
        assert!(!matches("{{id}}", &"x".repeat(65)));
        assert!(!matches("{{id}}", ""));
        assert!(!matches("{{id}}", "has space"));
        assert!(!matches("{{id}}", "under_score"));
        assert!(matches("Patient/{{id}}", "Patient/p1"));
    }

    #[test]
    fn datetime_needs_time_and_zone() {
        assert!(matches("{{datetime}}", "2024-05-01T12:30:00Z"));
        assert!(matches("{{datetime}}", "2024-05-01T12:30:00+02:00"));
        assert!(matches("{{datetime}}", "2024-05-01T12:30:00.123-14:00"));
        assert!(matches("{{datetime}}", "2016-12-31T23:59:60Z"));
        assert!(!matches("{{datetime}}", "2024-05-01"));
        assert!(!matches("{{datetime}}", "2024-05-01T12:30:00"));
        assert!(!matches("{{datetime}}", "2024-05-01T12:30Z"));
        assert!(!matches("{{datetime}}", "2024-13-01T12:30:00Z"));
        assert!(!matches("{{datetime}}", "2024-05-01T24:00:00Z"));
        assert!(!matches("{{datetime}}", "2024-05-01T12:30:00.Z"));
        assert!(!matches("{{datetime}}", "2024-05-01T12:30:00+14:30"));
        assert!(!matches("{{datetime}}", "0000-05-01T12:30:00Z"));
    }

    #[test]
    fn any_inside_text_matches_any_run_including_the_empty_one() {
        assert!(matches("a{{any}}b", "ab"));
        assert!(matches("a{{any}}b", "a-æøå-b"));
        assert!(!matches("a{{any}}b", "a-c"));
        assert!(matches("{{any}}/{{any}}/{{id}}", "x/y/z/w"));
    }

    #[test]
    fn capture_matches_the_captured_value_only() {
        assert!(matches(
            "MessageHeader/{{capture:first.letter-id}}",
            "MessageHeader/abc-1"
        ));
        assert!(!matches(
            "MessageHeader/{{capture:first.letter-id}}",
            "MessageHeader/abc-2"
        ));
        let template = Template::parse("{{capture:nope}}")
            .expect("known placeholder")
            .expect("a placeholder");
        assert_eq!(
            template.matches("x", &BTreeMap::new()),
            Err(UnknownCapture("nope".to_owned()))
        );
    }

    #[test]
    fn resolved_text_fills_captures_and_keeps_other_placeholders() {
        let captures = BTreeMap::from([("c".to_owned(), "42".to_owned())]);
        let template = Template::parse("{{uuid}}/{{capture:c}}")
            .expect("known placeholders")
            .expect("a placeholder");
        assert_eq!(template.resolved_text(&captures), "{{uuid}}/42");
    }
}

/// Turns a normalized message into a first golden: every value captured by earlier steps (at
/// least 8 characters long) becomes `{{capture:NAME}}`, then every remaining UUID becomes
/// `{{uuid}}` and every date-time with a zone `{{datetime}}`, so the golden holds what the
/// standard fixes and not this run's ids and times. When several captures share a value, the
/// shortest name (then the first alphabetically) is used.
pub fn generalize(text: &str, captures: &std::collections::BTreeMap<String, String>) -> String {
    let mut by_value: Vec<(&str, &str)> = Vec::new();
    for (name, value) in captures {
        if value.len() < 8 || value.contains("{{") {
            continue;
        }
        match by_value.iter_mut().find(|(v, _)| *v == value.as_str()) {
            Some(entry) => {
                if (name.len(), name.as_str()) < (entry.1.len(), entry.1) {
                    entry.1 = name;
                }
            }
            None => by_value.push((value, name)),
        }
    }
    // Longer values first, so a value that contains another is replaced whole.
    by_value.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    let mut out = text.to_string();
    for (value, name) in by_value {
        out = out.replace(value, &format!("{{{{capture:{name}}}}}"));
    }
    replace_shapes(&out)
}

fn replace_shapes(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if let Some(n) = uuid_at(&b[i..]) {
            out.push_str("{{uuid}}");
            i += n;
        } else if let Some(n) = datetime_at(&b[i..]) {
            out.push_str("{{datetime}}");
            i += n;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn uuid_at(b: &[u8]) -> Option<usize> {
    const SHAPE: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = 0;
    for (k, len) in SHAPE.iter().enumerate() {
        if b.len() < i + len || !b[i..i + len].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        i += len;
        if k < 4 {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
    }
    // Not part of a longer hex run.
    (!b.get(i).is_some_and(u8::is_ascii_hexdigit)).then_some(i)
}

fn datetime_at(b: &[u8]) -> Option<usize> {
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    match b.get(i) {
        Some(b'Z') => Some(i + 1),
        Some(b'+' | b'-')
            if digits(i + 1..i + 3) && b.get(i + 3) == Some(&b':') && digits(i + 4..i + 6) =>
        {
            Some(i + 6)
        }
        _ => None,
    }
}

#[cfg(test)]
mod generalize_tests {
    use super::generalize;
    use std::collections::BTreeMap;

    #[test]
    fn captures_uuids_and_times_become_placeholders() {
        let mut captures = BTreeMap::new();
        captures.insert(
            "first.letter-id".to_string(),
            "0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10".to_string(),
        );
        captures.insert("first.code".to_string(), "ok".to_string());
        let text = r#"{"identifier": "0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10", "id": "6cf34276-fa45-46fc-a610-309038da53c3", "t": "2026-11-29T18:05:31Z", "code": "ok", "ref": "MessageHeader/0b0d7c43-3d0e-4d61-9c38-5b3b8a6c2f10"}"#;
        let g = generalize(text, &captures);
        assert_eq!(
            g,
            r#"{"identifier": "{{capture:first.letter-id}}", "id": "{{uuid}}", "t": "{{datetime}}", "code": "ok", "ref": "MessageHeader/{{capture:first.letter-id}}"}"#
        );
    }
}
