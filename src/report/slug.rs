//! Safe names built from scenario and evidence ids, for file names and HTML anchors.
//!
//! Ids come from scenario files and may hold anything (`cc/reply`, `..`, spaces, `æøå`). A slug
//! keeps `[A-Za-z0-9._-]`, writes the Danish letters as Danish does without them (`æ` `ae`, `ø`
//! `oe`, `å` `aa`), turns every other character into `_`, never starts with `.` (no hidden files,
//! no `.`/`..`) and is never empty.
//!
//! A file name ([`file_slug`]) of an id the slug had to change ends in 8 hex digits of the id's
//! SHA-256, so it is the same whichever scenarios run with it (`--filter`, `--partition`,
//! `--resume`) and never takes the name of an id that needed no change (`a/b`, `a_b`). [`Slugs`]
//! still hands out unique names, appending `-2`, `-3`, … in the order asked, and counts names
//! that differ only in case as taken (`A`, `a`: one file on macOS and Windows).

use std::collections::HashSet;

/// `text` with `æøåÆØÅ` written `ae oe aa Ae Oe Aa`, every other character outside
/// `[A-Za-z0-9._-]` replaced by `_`, a leading `.` replaced by `_`, and `_` for empty text.
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') => out.push(c),
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            'Æ' => out.push_str("Ae"),
            'Ø' => out.push_str("Oe"),
            'Å' => out.push_str("Aa"),
            _ => out.push('_'),
        }
    }
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// The longest slug [`file_slug`] gives, in bytes: a file name holds at most 255 bytes on
/// common file systems, and an evidence file's name adds the item and extension to it.
const FILE_SLUG_MAX: usize = 120;

/// [`slug`] for a file name. An id the slug changed ends in `-` and 8 hex digits of the SHA-256
/// of `text` (the same name in every run that has the id); one longer than [`FILE_SLUG_MAX`]
/// keeps its first 100 bytes and ends in `-` and 16 hex digits, so two long ids that share a
/// start stay apart and none makes a name the file system refuses.
pub(crate) fn file_slug(text: &str) -> String {
    use sha2::Digest as _;
    let full = slug(text);
    let hex = |digits: usize| -> String {
        let digest = sha2::Sha256::digest(text.as_bytes());
        digest
            .iter()
            .take(digits / 2)
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    if full.len() > FILE_SLUG_MAX - 9 {
        // The slug is ASCII, so any byte index is a character boundary.
        return if full.len() <= FILE_SLUG_MAX && full == text {
            full
        } else {
            format!("{}-{}", &full[..full.len().min(100)], hex(16))
        };
    }
    if full == text {
        full
    } else {
        format!("{full}-{}", hex(8))
    }
}

/// Hands out slugs that are unique among those it has handed out.
#[derive(Debug, Default)]
pub(crate) struct Slugs {
    /// The names handed out, in lower case.
    used: HashSet<String>,
}

impl Slugs {
    /// The slug of `text`, with `-2`, `-3`, … appended when an earlier call already took it.
    pub(crate) fn unique(&mut self, text: &str) -> String {
        self.unique_from(slug(text))
    }

    /// As [`Slugs::unique`], from [`file_slug`]: for file names.
    pub(crate) fn unique_file(&mut self, text: &str) -> String {
        self.unique_from(file_slug(text))
    }

    fn unique_from(&mut self, base: String) -> String {
        let mut candidate = base.clone();
        let mut n = 1;
        while !self.used.insert(candidate.to_ascii_lowercase()) {
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

    #[test]
    fn danish_letters_are_written_as_danish_does_without_them() {
        // Danish practice where the letters cannot be written (e-mail addresses, domain names).
        assert_eq!(
            slug("indlæggelse-ørelæge-på-sygehus"),
            "indlaeggelse-oerelaege-paa-sygehus"
        );
        assert_eq!(slug("ÆØÅ"), "AeOeAa");
    }

    #[test]
    fn a_changed_ids_file_name_is_the_same_whatever_else_runs_and_never_an_unchanged_ids() {
        // Selection-independent: the name of `a/b` does not depend on whether `a_b` runs too.
        let alone = Slugs::default().unique_file("a/b");
        let mut both = Slugs::default();
        let plain = both.unique_file("a_b");
        let changed = both.unique_file("a/b");
        assert_eq!(plain, "a_b");
        assert_eq!(changed, alone);
        assert_ne!(changed, plain);
        assert!(is_safe(&changed));
        assert_eq!(file_slug("blødning"), file_slug("blødning"));
        assert!(file_slug("blødning").starts_with("bloedning-"));
    }

    #[test]
    fn names_that_differ_only_in_case_are_distinct_files_on_case_insensitive_disks() {
        let mut slugs = Slugs::default();
        let upper = slugs.unique_file("CC-New");
        let lower = slugs.unique_file("cc-new");
        assert_eq!(upper, "CC-New");
        assert_ne!(upper.to_ascii_lowercase(), lower.to_ascii_lowercase());
    }

    #[test]
    fn a_long_id_gets_a_file_name_the_file_system_takes_and_two_such_ids_stay_apart() {
        let a = "L".repeat(300);
        let b = format!("{}M", "L".repeat(299));
        let (sa, sb) = (file_slug(&a), file_slug(&b));
        assert!(sa.len() <= FILE_SLUG_MAX && sb.len() <= FILE_SLUG_MAX);
        assert_ne!(sa, sb);
        assert!(is_safe(&sa));
        // NAME_MAX is 255 bytes on ext4, tmpfs, XFS, APFS and NTFS.
        assert!(format!("{sa}.e1000.json").len() <= 255);
        assert_eq!(file_slug("cc-new-json"), "cc-new-json");
    }
}
