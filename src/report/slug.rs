//! Safe names built from scenario and evidence ids, for file names and HTML anchors.
//!
//! Ids come from scenario files and may hold anything (`cc/reply`, `..`, spaces, `æøå`). A slug
//! keeps `[A-Za-z0-9._-]`, turns every other character into `_`, never starts with `.` (no hidden
//! files, no `.`/`..`) and is never empty. Two ids can share a slug (`a/b`, `a_b`); [`Slugs`] hands
//! out unique ones by appending `-2`, `-3`, … in the order asked.

use std::collections::HashSet;

/// `text` with every character outside `[A-Za-z0-9._-]` replaced by `_`, a leading `.` replaced
/// by `_`, and `_` for empty text.
pub(crate) fn slug(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// Hands out slugs that are unique among those it has handed out.
#[derive(Debug, Default)]
pub(crate) struct Slugs {
    used: HashSet<String>,
}

impl Slugs {
    /// The slug of `text`, with `-2`, `-3`, … appended when an earlier call already took it.
    pub(crate) fn unique(&mut self, text: &str) -> String {
        let base = slug(text);
        let mut candidate = base.clone();
        let mut n = 1;
        while !self.used.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_safe(name: &str) -> bool {
        !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    }

    #[test]
    fn slug_keeps_only_safe_characters_and_never_climbs_folders() {
        for id in [
            "cc-new",
            "../../etc/passwd",
            ".",
            "..",
            "",
            "a b/c\\d",
            "æøå",
            ".hidden",
            "x\0y",
        ] {
            let s = slug(id);
            assert!(is_safe(&s), "{id:?} -> {s:?}");
            assert!(!s.contains('/') && s != "." && s != "..", "{id:?} -> {s:?}");
        }
    }

    #[test]
    fn slug_leaves_a_safe_id_as_it_is() {
        assert_eq!(
            slug("cc-receive-new_with.pdf-2"),
            "cc-receive-new_with.pdf-2"
        );
    }

    #[test]
    fn ids_that_share_a_slug_get_distinct_names() {
        let mut slugs = Slugs::default();
        let a = slugs.unique("a/b");
        let b = slugs.unique("a_b");
        let c = slugs.unique("a b");
        assert!(a != b && b != c && a != c);
        assert!([&a, &b, &c].iter().all(|s| is_safe(s)));
    }
}
