//! A run-wide cache of prepared goldens, so that a golden shared by many scenarios is parsed once.
//!
//! A suite often judges thousands of acknowledgements against one golden file. Parsing it, putting
//! its base64Binary values in canonical form and reading its placeholders cost as much as the
//! comparison itself, so [`GoldenCache`] keeps each file's [`PreparedGolden`] for the run, shared
//! by every scenario on every thread.
//!
//! The cache never decides what a golden says: the caller still reads the file on every
//! comparison (so a missing or unreadable golden fails as before), and a prepared golden is reused
//! only while the file holds exactly the same bytes. A golden rewritten during the run, by
//! `--update-golden always` or by hand, is therefore read anew at its next comparison.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::compare::{CompareOptions, Comparison, PreparedGolden};
use super::error::GoldenError;

/// How many golden files the cache holds at most. A suite names a handful of goldens per message
/// family; a suite of distinct goldens beyond this bound empties the cache and starts over, which
/// keeps its memory bounded (a prepared acknowledgement golden is some tens of KiB).
const CAPACITY: usize = 256;

/// The prepared goldens of one run, by file path; safe to share between threads.
#[derive(Debug, Default)]
pub struct GoldenCache {
    entries: Mutex<HashMap<PathBuf, Entry>>,
}

/// One golden file as it was when prepared.
#[derive(Debug)]
struct Entry {
    /// The file's bytes, to tell whether it changed since.
    bytes: Arc<[u8]>,
    golden: Arc<PreparedGolden>,
}

impl GoldenCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Compares `actual` with the golden `expected`, the bytes the caller just read from `path`,
    /// reusing the golden prepared from the same bytes of the same file when there is one.
    ///
    /// # Errors
    ///
    /// As [`super::compare()`], which this equals in every outcome.
    pub fn compare(
        &self,
        path: &Path,
        expected: &[u8],
        actual: &[u8],
        opts: &CompareOptions,
    ) -> Result<Comparison, GoldenError> {
        self.prepared(path, expected)?.compare(actual, opts)
    }

    /// As [`GoldenCache::compare`], for an actual message in FHIR JSON the caller holds parsed
    /// already ([`PreparedGolden::compare_json`]): `resource` is what `actual` parses to.
    ///
    /// # Errors
    ///
    /// As [`super::compare()`].
    pub fn compare_json(
        &self,
        path: &Path,
        expected: &[u8],
        actual: &[u8],
        resource: &serde_json::Value,
        opts: &CompareOptions,
    ) -> Result<Comparison, GoldenError> {
        self.prepared(path, expected)?
            .compare_json(actual, resource, opts)
    }

    /// The prepared golden for `expected`, the bytes of `path`: from the cache when the file still
    /// holds the bytes it was prepared from, else prepared now and kept.
    ///
    /// # Errors
    ///
    /// [`GoldenError`] when the golden cannot be parsed; a golden that cannot be parsed is not
    /// kept, so it fails the same way at every comparison.
    pub fn prepared(
        &self,
        path: &Path,
        expected: &[u8],
    ) -> Result<Arc<PreparedGolden>, GoldenError> {
        if let Some(entry) = self.lock().get(path)
            && *entry.bytes == *expected
        {
            return Ok(entry.golden.clone());
        }
        // Prepared outside the lock, so that other threads' look-ups do not wait for a parse.
        let golden = Arc::new(PreparedGolden::parse(expected).inspect_err(|_| {
            self.lock().remove(path);
        })?);
        let mut entries = self.lock();
        if entries.len() >= CAPACITY && !entries.contains_key(path) {
            entries.clear();
        }
        entries.insert(
            path.to_path_buf(),
            Entry {
                bytes: Arc::from(expected),
                golden: golden.clone(),
            },
        );
        Ok(golden)
    }

    /// The map, also after another thread panicked while holding it: every entry is complete
    /// (inserted whole), so the map is still sound.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Arc;

    use super::super::{CompareOptions, DifferenceKind, GoldenError, Side, compare};
    use super::GoldenCache;

    /// An acknowledgement-like FHIR message Bundle answering letter `letter` with `code`: a
    /// MessageHeader and an Organization, entries in the given order.
    fn ack(id: &str, letter: &str, code: &str, organization_first: bool) -> String {
        let header = format!(
            r#"{{"fullUrl": "urn:uuid:{id}", "resource": {{"resourceType": "MessageHeader", "id": "{id}", "response": {{"identifier": "{letter}", "code": "{code}"}}}}}}"#
        );
        let organization = r#"{"fullUrl": "urn:uuid:org", "resource": {"resourceType": "Organization", "id": "org", "name": "Lægehuset"}}"#;
        let entries = if organization_first {
            format!("{organization}, {header}")
        } else {
            format!("{header}, {organization}")
        };
        format!(r#"{{"resourceType": "Bundle", "type": "message", "entry": [{entries}]}}"#)
    }

    /// A golden for [`ack`]: any header id, the letter by capture, the given code.
    fn golden(code: &str) -> String {
        ack("{{uuid}}", "{{capture:first.letter-id}}", code, false)
    }

    fn opts() -> CompareOptions {
        CompareOptions {
            captures: BTreeMap::from([(
                "first.letter-id".to_owned(),
                "5a1b2c3d-0000-4000-8000-000000000001".to_owned(),
            )]),
            ignore: vec!["entry[*].resource.text".to_owned()],
            unordered: vec!["entry".to_owned()],
        }
    }

    const ID: &str = "0d4f6e2a-1111-4222-8333-444455556666";
    const LETTER: &str = "5a1b2c3d-0000-4000-8000-000000000001";

    #[test]
    fn a_golden_with_the_same_bytes_is_prepared_once() {
        let cache = GoldenCache::new();
        let path = Path::new("golden/cc/ack.json");
        let bytes = golden("ok");
        let first = cache.prepared(path, bytes.as_bytes()).expect("parses");
        let again = cache.prepared(path, bytes.as_bytes()).expect("parses");
        assert!(Arc::ptr_eq(&first, &again));
        // The same text under another path is another file, prepared on its own.
        let other = cache
            .prepared(Path::new("golden/cc/other.json"), bytes.as_bytes())
            .expect("parses");
        assert!(!Arc::ptr_eq(&first, &other));
    }

    #[test]
    fn a_golden_rewritten_during_the_run_is_read_anew() {
        let cache = GoldenCache::new();
        let path = Path::new("golden/cc/ack.json");
        let actual = ack(ID, LETTER, "ok", false);
        let before = cache
            .compare(path, golden("ok").as_bytes(), actual.as_bytes(), &opts())
            .expect("compares");
        assert!(before.is_match(), "{:?}", before.differences);
        // As `--update-golden always` (or a person) rewrites the file: now `ok` is wrong.
        let after = cache
            .compare(
                path,
                golden("fatal-error").as_bytes(),
                actual.as_bytes(),
                &opts(),
            )
            .expect("compares");
        assert_eq!(after.differences.len(), 1, "{:?}", after.differences);
        let difference = &after.differences[0];
        assert_eq!(difference.path, "entry[0].resource.response.code");
        assert_eq!(difference.kind, DifferenceKind::ValueMismatch);
        assert_eq!(difference.expected.as_deref(), Some("\"fatal-error\""));
        assert_eq!(difference.actual.as_deref(), Some("\"ok\""));
    }

    #[test]
    fn a_golden_that_cannot_be_parsed_fails_at_every_comparison() {
        let cache = GoldenCache::new();
        let path = Path::new("golden/cc/ack.json");
        let actual = ack(ID, LETTER, "ok", false);
        cache
            .compare(path, golden("ok").as_bytes(), actual.as_bytes(), &opts())
            .expect("compares");
        for _ in 0..2 {
            let error = cache
                .compare(path, b"{\"resourceType\": ", actual.as_bytes(), &opts())
                .expect_err("a broken golden");
            assert!(
                matches!(
                    error,
                    GoldenError::Json {
                        side: Side::Golden,
                        line: 1,
                        ..
                    }
                ),
                "{error:?}"
            );
        }
        let repaired = cache
            .compare(path, golden("ok").as_bytes(), actual.as_bytes(), &opts())
            .expect("compares");
        assert!(repaired.is_match());
    }

    #[test]
    fn the_cache_finds_what_compare_finds_for_a_match_and_a_mismatch() {
        let cache = GoldenCache::new();
        let path = Path::new("golden/cc/ack.json");
        let expected = golden("ok");
        // Entries after entry[0] are a set (bdl-12), so a reordered message still matches.
        let matching = ack(ID, LETTER, "ok", false);
        // A header that is not a UUID and a refusal: two differences.
        let refusing = ack("not-a-uuid", LETTER, "fatal-error", false);
        for actual in [&matching, &refusing, &matching] {
            let cached = cache
                .compare(path, expected.as_bytes(), actual.as_bytes(), &opts())
                .expect("compares");
            let direct =
                compare(expected.as_bytes(), actual.as_bytes(), &opts()).expect("compares");
            assert_eq!(cached, direct);
        }
        let refused = cache
            .compare(path, expected.as_bytes(), refusing.as_bytes(), &opts())
            .expect("compares");
        let paths: Vec<&str> = refused
            .differences
            .iter()
            .map(|d| d.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "entry[0].fullUrl",
                "entry[0].resource.id",
                "entry[0].resource.response.code"
            ]
        );
        assert!(
            refused.diff.starts_with("--- golden\n+++ actual\n"),
            "{}",
            refused.diff
        );
        let lines = |sign: char, text: &str| {
            refused
                .diff
                .lines()
                .filter(|line| line.starts_with(sign) && line.contains(text))
                .count()
        };
        assert_eq!(lines('-', "\"code\": \"ok\""), 1, "{}", refused.diff);
        assert_eq!(
            lines('+', "\"code\": \"fatal-error\""),
            1,
            "{}",
            refused.diff
        );
        assert!(
            refused
                .updated_golden
                .contains("{{capture:first.letter-id}}")
        );
    }

    #[test]
    fn an_unknown_capture_is_reported_after_the_actual_message_is_read() {
        let cache = GoldenCache::new();
        let path = Path::new("golden/cc/ack.json");
        let expected = golden("ok");
        let none = CompareOptions {
            captures: BTreeMap::new(),
            ..opts()
        };
        // An unreadable actual message is the first thing wrong, as with an uncached golden.
        let error = cache
            .compare(path, expected.as_bytes(), b"not a message", &none)
            .expect_err("unreadable");
        assert!(
            matches!(error, GoldenError::UnknownFormat { side: Side::Actual }),
            "{error:?}"
        );
        let actual = ack(ID, LETTER, "ok", false);
        let error = cache
            .compare(path, expected.as_bytes(), actual.as_bytes(), &none)
            .expect_err("no capture");
        match error {
            GoldenError::UnknownCapture { name, path, known } => {
                assert_eq!(name, "first.letter-id");
                assert_eq!(path, "entry[0].resource.response.identifier");
                assert!(known.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // Once captured, the same prepared golden compares.
        let compared = cache
            .compare(path, expected.as_bytes(), actual.as_bytes(), &opts())
            .expect("compares");
        assert!(compared.is_match());
    }
}
