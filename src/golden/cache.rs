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
