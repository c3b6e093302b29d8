//! Folder transport: VANS-style exchange folders, both directions.
//!
//! With `--target DIR` the harness writes into the vendor's inbox (`DIR/in`) and reads the vendor's
//! outbox (`DIR/out`); see [`FolderLayout`]. The reference vendor uses the same code the other way
//! round.
//!
//! Rules:
//!
//! - **Writes are atomic** ([`write_atomic`]): the bytes go to a temporary name in the same folder
//!   (`.<name>.XXXXXX.tmp`, hidden and `.tmp`, so readers of either convention skip it), are synced
//!   to disk, and the file is renamed to its final name without replacing anything; then the folder
//!   itself is synced. A reader never sees the final name with partial content, and an existing
//!   file is never overwritten.
//! - **Reads take only complete files** ([`FolderWatcher`]). A file is complete when
//!   1. a completion marker `<name><suffix>` exists, when [`ReadPolicy::completion_suffix`] is set
//!      (then this is the only rule: files without a marker are never taken); otherwise
//!   2. it arrived by a rename into the folder, as reported by the file-system events (the atomic
//!      drop convention: the rename *is* the completion signal), when
//!      [`ReadPolicy::trust_rename`] is on (default); otherwise
//!   3. its size and modification time have not changed for [`ReadPolicy::stable_for`].
//!
//!   After reading, the size and modification time are compared again; a file that changed while
//!   it was read is not handed over but waits again.
//!
//!   What each rule trusts: a marker or a rename is believed (a writer that renames or marks a
//!   file and then goes on writing it is caught only if it writes while the file is read); the
//!   stability rule cannot tell a finished file from a writer that paused longer than
//!   `stable_for`, so such a file is only *offered* ([`Arrived::settled`] `false`): a handler
//!   that finds it cut off answers [`Disposition::Incomplete`], and the file stays in place,
//!   unmoved, until it changes (then it is offered again) or has not changed for
//!   [`ReadPolicy::settle_for`] (then the handler's answer counts). A file is never moved to
//!   `rejected/` while it is written to: one that changed while the handler judged it waits
//!   again. On file systems with coarse timestamps (FAT, some shares: 2 s) a rewrite that keeps
//!   the size can go unseen. The VANS convention (temporary name, then rename) has none of these
//!   limits.
//! - **Only regular files are read.** A file is opened with `O_NOFOLLOW | O_NONBLOCK` and its
//!   type checked on the open handle: a symbolic link is never followed (its target is never
//!   opened, whatever it points to), a FIFO never blocks the watcher, a socket or device is never
//!   read. Such an entry, and a file larger than [`ReadPolicy::max_bytes`], is handed over
//!   without content ([`Arrived::refused`]) and moves to `rejected/` itself (a rename moves the
//!   link, not its target) with its reason.
//! - **A writer that dies mid-write** leaves a partial file. Under the stability rule it becomes
//!   stable and is handed over as it is; the caller's parser rejects it (at once, or, answering
//!   [`Disposition::Incomplete`], once it settled), so it lands in `rejected/` with its reason,
//!   visible in the report. Under a marker policy it never gets its
//!   marker and stays in the folder, untouched, for a person to look at.
//! - **Temporary names are ignored**: names starting with `.`, names ending with `.tmp`, `.part`,
//!   `.partial` or `.filepart` (any case), and the completion marker itself. Subfolders are
//!   ignored (the watch is not recursive), so `processed/` and `rejected/` are never read.
//! - **Arrival is event-driven** (`notify`), with a periodic rescan of the whole folder
//!   ([`ReadPolicy::rescan`]) for event queues that overflowed and network shares that send no
//!   events. Files already present at start are found by the first scan.
//! - **Handled files move** by rename to `processed/` or `rejected/` (then with `<name>.reason`
//!   beside it, holding the reason text, written before the file moves so a rejected file is never
//!   without its reason; backtick-quoted parts of the reason are replaced by `…`, so a `.reason`
//!   file says why and never echoes the content). Any name the file system allows is handled,
//!   a backslash included; a name that is not UTF-8 is refused like a link and moves to
//!   `rejected/` under its name with `U+FFFD` for each byte that is not UTF-8. A name already
//!   taken there gets a number before its extension
//!   (`ack.xml`, `ack.1.xml`, `ack.2.xml`, …). A completion marker moves beside its file.
//! - **Nothing is ever deleted or overwritten.** The only files this module removes are its own
//!   temporary files when a write fails.
//!
//! Delivery is **exactly once per watcher, at least once across crashes**: the handler is called
//! once for each complete file, and the file is moved only after the handler returned. If the
//! process dies between the two, the file is still in the folder and is handed over again on the
//! next start; the caller's duplicate detection (MedCom's duplicate rules on envelope and letter
//! ids) must cope, as it must for a vendor's resend. A file whose move fails stays in place, is not
//! handed over again by this watcher, and the failure is reported. A new file under a name that
//! was handled and moved away is a new file, and is handed over. Moves are not synced to disk: a
//! rename is atomic, so after a power failure a file is under its old name or its new one, never
//! lost, and under the old one it is simply handed over again.
//!
//! Errors that happen while watching (an unreadable file, a failed move, a folder that vanished)
//! are not fatal: the watcher goes on and keeps them, each reported once, for
//! [`FolderWatcher::take_errors`]. The file concerned stays where it is.
//!
//! Threads: the watcher runs on its own thread, not on the async runtime, and calls the handler
//! there, one file at a time (a slow handler delays the files behind it, never the runtime).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use notify::event::{EventKind, ModifyKind, RenameMode};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

/// The subfolder of a read folder that receives handled files.
pub const PROCESSED: &str = "processed";
/// The subfolder of a read folder that receives files the handler rejected.
pub const REJECTED: &str = "rejected";
/// The suffix of the file beside a rejected file that holds the reason: `<name>.reason`.
pub const REASON_SUFFIX: &str = ".reason";
/// Name endings of files still being written under a temporary name (compared ignoring ASCII
/// case). Names starting with `.` are temporary too.
pub const TEMPORARY_SUFFIXES: [&str; 4] = [".tmp", ".part", ".partial", ".filepart"];

/// The shortest rescan interval honoured, so a zero does not spin a core.
const MIN_RESCAN: Duration = Duration::from_millis(10);

/// The layout of an exchange folder: `<root>/in` (the vendor reads; the harness writes),
/// `<root>/out` (the vendor writes; the harness reads), and in each folder that is read,
/// `processed/` and `rejected/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderLayout {
    /// The exchange folder given with `--target DIR`.
    pub root: PathBuf,
    /// `<root>/in`: the harness writes here, the vendor reads.
    pub inbox: PathBuf,
    /// `<root>/out`: the vendor writes here, the harness reads.
    pub outbox: PathBuf,
}

impl FolderLayout {
    /// The layout under `root`; touches nothing on disk.
    pub fn new(root: &Path) -> FolderLayout {
        FolderLayout {
            root: root.to_path_buf(),
            inbox: root.join("in"),
            outbox: root.join("out"),
        }
    }

    /// Creates `in/`, `out/`, `out/processed/` and `out/rejected/` where missing. The vendor's
    /// own `in/processed` and `in/rejected` are left to the vendor ([`FolderWatcher::start`]
    /// creates them for whoever watches `in/`, such as the reference vendor).
    ///
    /// # Errors
    /// [`FolderError::CreateDir`] naming the folder that could not be created.
    pub fn create(&self) -> Result<(), FolderError> {
        for dir in [
            self.inbox.clone(),
            self.outbox.join(PROCESSED),
            self.outbox.join(REJECTED),
        ] {
            fs::create_dir_all(&dir).map_err(|source| FolderError::CreateDir {
                path: dir.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// When a file in a read folder counts as complete, and how the folder is watched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPolicy {
    /// A file is complete when its size and modification time have not changed for this long.
    ///
    /// Default 1 s. The window must outlast every pause of a writer that writes in place: local
    /// writers pause for milliseconds, but a vendor writing over SMB or NFS, or a JVM in a garbage
    /// collection, stalls for hundreds of milliseconds, and taking a file too early turns into a
    /// false finding against the vendor. The cost falls only on writers that write in place (which
    /// the VANS convention does not ask for): files renamed into the folder are taken at once
    /// ([`ReadPolicy::trust_rename`]).
    pub stable_for: Duration,
    /// Or: a marker file `<name><suffix>` (e.g. `".done"`) announces that `<name>` is complete.
    /// When set, files without a marker are never taken, whatever their age. `None` or an empty
    /// suffix: no markers. Default `None`.
    pub completion_suffix: Option<String>,
    /// Periodic rescan interval (event queues can overflow; network shares send no events).
    /// Default 1 s; at least 10 ms is used.
    pub rescan: Duration,
    /// A file that the file-system events report as renamed into the folder is complete at once,
    /// without waiting for [`ReadPolicy::stable_for`]: renaming a finished temporary file is how
    /// an atomic drop announces completion. Files found by a rescan instead (events missed or off)
    /// fall back to the stability rule. Ignored when [`ReadPolicy::completion_suffix`] is set.
    /// Default `true`. On macOS, FSEvents reports renames without their direction, so every file
    /// waits for stability there.
    pub trust_rename: bool,
    /// Watch with file-system events. `false`: rely on the rescan alone (for folders where the
    /// operating system cannot deliver events, or its watch limit is reached). Default `true`.
    pub events: bool,
    /// How long a file not known to be complete (not renamed in, no marker) must stay unchanged
    /// before the handler's [`Disposition::Incomplete`] counts: until then such a file is only
    /// offered ([`Arrived::settled`] `false`), and a handler that finds it cut off leaves it in
    /// place to be offered again when it changes or settles. Default 10 s: a vendor writing in
    /// place that pauses longer than [`ReadPolicy::stable_for`] is still read whole, and is
    /// judged for writing in place rather than for a message that never came.
    pub settle_for: Duration,
    /// The largest file read, in bytes. A larger file is not read: it moves to `rejected/` with
    /// its reason and the handler learns why ([`Arrived::refused`]). Default
    /// [`crate::MAX_BODY_BYTES`], the limit on an HTTP body.
    pub max_bytes: u64,
}

impl Default for ReadPolicy {
    fn default() -> ReadPolicy {
        ReadPolicy {
            stable_for: Duration::from_secs(1),
            completion_suffix: None,
            rescan: Duration::from_secs(1),
            trust_rename: true,
            events: true,
            settle_for: Duration::from_secs(10),
            max_bytes: crate::MAX_BODY_BYTES as u64,
        }
    }
}

impl ReadPolicy {
    /// Whether `name` is a temporary name or a completion marker, which the watcher never takes:
    /// a leading `.`, one of [`TEMPORARY_SUFFIXES`] (any case), or `<name><completion_suffix>`.
    pub fn ignores(&self, name: &str) -> bool {
        if name.starts_with('.') {
            return true;
        }
        let lower = name.to_ascii_lowercase();
        TEMPORARY_SUFFIXES
            .iter()
            .any(|suffix| lower.ends_with(suffix))
            || self.marked(name).is_some()
    }

    /// The completion suffix, when markers are on.
    fn suffix(&self) -> Option<&str> {
        self.completion_suffix.as_deref().filter(|s| !s.is_empty())
    }

    /// The file that `name` is the completion marker of, when it is one.
    fn marked<'a>(&self, name: &'a str) -> Option<&'a str> {
        name.strip_suffix(self.suffix()?)
            .filter(|base| !base.is_empty())
    }
}

/// Writes `bytes` atomically as `dir/name` and returns that path.
///
/// The bytes go to a temporary file in the same folder (`.<name>.XXXXXX.tmp`), which is synced to
/// disk, closed, and renamed to `name` without replacing anything; then `dir` is synced so the
/// rename survives a power failure. A reader polling `dir/name` sees nothing or everything.
///
/// # Errors
/// - [`FolderError::InvalidName`] when `name` is empty, `.`/`..`, or holds a path separator;
/// - [`FolderError::Exists`] when `dir/name` already exists (it is never overwritten);
/// - [`FolderError::Write`] when the temporary file cannot be written or renamed (it is removed);
/// - [`FolderError::SyncDir`] when the folder cannot be synced (the file is in place by then).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, FolderError> {
    if name.contains('\\') {
        return Err(FolderError::InvalidName {
            dir: dir.to_path_buf(),
            name: name.to_string(),
        });
    }
    write_new(dir, name, bytes)
}

/// [`write_atomic`] for any name the file system takes as one component (a backslash included,
/// as a vendor's file name may hold one): for the `.reason` file beside a rejected file.
fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, FolderError> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(FolderError::InvalidName {
            dir: dir.to_path_buf(),
            name: name.to_string(),
        });
    }
    let target = dir.join(name);
    if target.symlink_metadata().is_ok() {
        return Err(FolderError::Exists { path: target });
    }
    let failed = |source| FolderError::Write {
        path: target.clone(),
        source,
    };
    // The temporary name carries (the start of) the final name so a stray one can be traced.
    let prefix = format!(".{}.", name.chars().take(64).collect::<String>());
    // Readable by the mailbox's other users (a VANS client often runs as another user): the
    // usual 0644, not the temporary file's private 0600.
    #[cfg(unix)]
    let permissions = {
        use std::os::unix::fs::PermissionsExt;
        fs::Permissions::from_mode(0o644)
    };
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .permissions(permissions)
        .tempfile_in(dir)
        .map_err(failed)?;
    temp.write_all(bytes).map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    // Closed before the rename, so the file is finished in every sense when its name appears.
    let temp = temp.into_temp_path();
    temp.persist_noclobber(&target).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            FolderError::Exists {
                path: target.clone(),
            }
        } else {
            failed(e.error)
        }
    })?;
    sync_dir(dir).map_err(|source| FolderError::SyncDir {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(target)
}

/// A complete file that arrived in a watched folder.
#[derive(Clone)]
pub struct Arrived {
    /// Where it was read (`<dir>/<name>`); it moves away after the handler returns.
    pub path: PathBuf,
    /// The file name.
    pub name: String,
    /// The whole content.
    pub bytes: Vec<u8>,
    /// When the watcher first saw the name (an event or a scan), before it was known complete.
    pub landed: Instant,
    /// Whether the watcher saw the file change under its final name: it was written in place,
    /// not written under a temporary name and renamed (the VANS convention), so a careless
    /// reader could have taken it half-written.
    pub written_in_place: bool,
    /// Whether the file is known complete: it was renamed in, has its marker, or has not changed
    /// for [`ReadPolicy::settle_for`]. When `false` the file may still be growing: a handler that
    /// finds it cut off answers [`Disposition::Incomplete`] (and records nothing), and is offered
    /// it again when it changes or settles.
    pub settled: bool,
    /// Set when the watcher did not read the file, with the reason as a sentence ("the file is a
    /// symbolic link; …"): a symbolic link (never
    /// followed), not a regular file (a FIFO, a socket, a device), or larger than
    /// [`ReadPolicy::max_bytes`]. `bytes` is empty then, and whatever the handler answers, the
    /// file (a link itself, never its target) moves to `rejected/` with this reason.
    pub refused: Option<Refusal>,
}

/// Why the watcher did not read a file; the text is a sentence ("the file is a symbolic link;
/// …") that never quotes content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A symbolic link (not followed), a FIFO, a socket or a device.
    NotRegular(String),
    /// Larger than [`ReadPolicy::max_bytes`].
    TooLarge(String),
}

impl Refusal {
    /// The reason, as a sentence.
    pub fn reason(&self) -> &str {
        match self {
            Refusal::NotRegular(r) | Refusal::TooLarge(r) => r,
        }
    }
}

impl fmt::Debug for Arrived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arrived")
            .field("path", &self.path)
            .field("name", &self.name)
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .field("landed", &self.landed)
            .field("settled", &self.settled)
            .field("refused", &self.refused)
            .finish()
    }
}

/// What the handler decided about an arrived file; says where the file moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Handled: move to `processed/`.
    Processed,
    /// Not usable (not parseable, not a message): move to `rejected/`, with this reason written
    /// beside it as `<name>.reason` (UTF-8, a line end added when missing, and every
    /// backtick-quoted part replaced by `…`, so that the reason never echoes content).
    Rejected(String),
    /// Cut off, perhaps because it is still being written: when the file was not
    /// [`Arrived::settled`], it stays in place and is offered again when it changes or settles;
    /// when it was, this counts as [`Disposition::Rejected`] with this reason.
    Incomplete(String),
}

/// Why the folder transport could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// A folder could not be created.
    #[error("failed to create folder `{path}`")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A name to write is not a plain file name.
    #[error("`{name}` is not a plain file name for folder `{dir}`")]
    InvalidName {
        /// The folder written to.
        dir: PathBuf,
        /// The rejected name.
        name: String,
    },
    /// The name is taken; files are never overwritten.
    #[error("`{path}` already exists and is never overwritten")]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// A file could not be written.
    #[error("failed to write `{path}`")]
    Write {
        /// The final name that was to be written.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A folder could not be synced to disk after a rename.
    #[error("failed to sync folder `{path}` to disk")]
    SyncDir {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// File-system events could not be set up or failed.
    #[error("failed to watch folder `{path}`")]
    Watch {
        /// The watched folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: notify::Error,
    },
    /// The watched folder could not be listed (missing, not a folder, no permission).
    #[error("failed to list folder `{path}`")]
    Scan {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A file name is not UTF-8. No longer reported: such a file is refused and moved to
    /// `rejected/` ([`Refusal::NotRegular`]); kept so callers matching on it still compile.
    #[error("the name of `{path}` is not UTF-8")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A file could not be read; it stays in place and is tried again at the next rescan.
    #[error("failed to read `{path}`; the file stays in place")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A handled file could not be moved; it stays in place and is not handed over again by
    /// this watcher.
    #[error("failed to move `{from}` to `{to}`")]
    Move {
        /// Where the file is.
        from: PathBuf,
        /// Where it was to go.
        to: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The handler panicked; the file stays in place and is not handed over again by this
    /// watcher.
    #[error("the handler panicked on `{path}`; the file stays in place")]
    Handler {
        /// The file.
        path: PathBuf,
    },
    /// The watcher thread could not be started.
    #[error("failed to start the watcher thread for `{path}`")]
    Thread {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Watches one folder and hands over each complete file once; see the module docs for the rules.
/// Stops on drop (waiting for a handler call in progress to return).
pub struct FolderWatcher {
    dir: PathBuf,
    events: Option<RecommendedWatcher>,
    signals: mpsc::Sender<Signal>,
    stop: Arc<AtomicBool>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for FolderWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FolderWatcher")
            .field("dir", &self.dir)
            .field("events", &self.events.is_some())
            .finish_non_exhaustive()
    }
}

impl FolderWatcher {
    /// Watches `dir` (file-system events, not recursive, plus a rescan every
    /// [`ReadPolicy::rescan`]) and calls `handle` once for each complete file, on the watcher's
    /// own thread, then moves the file to `dir/processed/` or `dir/rejected/` as the returned
    /// [`Disposition`] says. Creates those two subfolders when missing. Files already in `dir`
    /// are handled too. Files that become complete together are handed over in name order.
    ///
    /// The handler must return in bounded time: files behind it wait, and dropping the watcher
    /// waits for it. A panic in the handler is caught and reported ([`FolderError::Handler`]); the
    /// file stays in place.
    ///
    /// # Errors
    /// - [`FolderError::Scan`] when `dir` is missing or not a folder;
    /// - [`FolderError::CreateDir`] when `processed/` or `rejected/` cannot be created;
    /// - [`FolderError::Watch`] when events cannot be set up (then consider
    ///   [`ReadPolicy::events`] `false`);
    /// - [`FolderError::Thread`] when the thread cannot be started.
    pub fn start(
        dir: &Path,
        policy: ReadPolicy,
        handle: impl Fn(Arrived) -> Disposition + Send + Sync + 'static,
    ) -> Result<FolderWatcher, FolderError> {
        let dir = std::path::absolute(dir).map_err(|source| FolderError::Scan {
            path: dir.to_path_buf(),
            source,
        })?;
        let meta = fs::metadata(&dir).map_err(|source| FolderError::Scan {
            path: dir.clone(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(FolderError::Scan {
                path: dir,
                source: io::Error::new(io::ErrorKind::NotADirectory, "not a folder"),
            });
        }
        for sub in [PROCESSED, REJECTED] {
            let path = dir.join(sub);
            fs::create_dir_all(&path).map_err(|source| FolderError::CreateDir { path, source })?;
        }
        let (signals, receiver) = mpsc::channel();
        // Events are set up before the thread's first scan, so nothing falls between the two.
        let events = if policy.events {
            let sender = signals.clone();
            let mut watcher = notify::recommended_watcher(move |event| {
                // A send fails only when the watcher thread is gone, that is, when stopping.
                let _ = sender.send(Signal::Event(event));
            })
            .map_err(|source| FolderError::Watch {
                path: dir.clone(),
                source,
            })?;
            watcher
                .watch(&dir, RecursiveMode::NonRecursive)
                .map_err(|source| FolderError::Watch {
                    path: dir.clone(),
                    source,
                })?;
            Some(watcher)
        } else {
            None
        };
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared::default());
        let worker = Worker {
            dir: dir.clone(),
            policy,
            handle: Box::new(handle),
            pending: HashMap::new(),
            stuck: HashSet::new(),
            reported: HashSet::new(),
            shared: Arc::clone(&shared),
            stop: Arc::clone(&stop),
        };
        let thread = thread::Builder::new()
            .name("folder-watcher".to_string())
            .spawn(move || worker.run(&receiver))
            .map_err(|source| FolderError::Thread {
                path: dir.clone(),
                source,
            })?;
        Ok(FolderWatcher {
            dir,
            events,
            signals,
            stop,
            shared,
            thread: Some(thread),
        })
    }

    /// The watched folder (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The errors met while watching since the last call, oldest first; each distinct error is
    /// reported once. None of them stopped the watcher.
    pub fn take_errors(&self) -> Vec<FolderError> {
        std::mem::take(
            &mut *self
                .shared
                .errors
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// How many full scans of the folder have finished; lets tests wait for "at least one more
    /// scan" instead of sleeping.
    #[cfg(test)]
    fn scans(&self) -> u64 {
        self.shared.scans.load(Ordering::Acquire)
    }
}

impl Drop for FolderWatcher {
    fn drop(&mut self) {
        drop(self.events.take());
        self.stop.store(true, Ordering::Release);
        // A send fails only when the thread is gone already.
        let _ = self.signals.send(Signal::Stop);
        if let Some(thread) = self.thread.take() {
            // A handler that drops its own watcher must not wait for itself.
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// What the watcher thread receives.
enum Signal {
    Event(notify::Result<notify::Event>),
    Stop,
}

/// State shared between the watcher thread and its [`FolderWatcher`].
#[derive(Default)]
struct Shared {
    errors: Mutex<Vec<FolderError>>,
    scans: AtomicU64,
}

/// The size and modification time of a file: when neither changes, nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// A file seen but not yet handed over.
#[derive(Debug)]
struct Pending {
    /// When the name was first seen.
    first_seen: Instant,
    /// When a change was last seen (an event, or a different stamp).
    changed: Instant,
    /// When to look at it next.
    due: Instant,
    /// The stamp when last looked at.
    stamp: Option<Stamp>,
    /// Renamed into the folder, with no write seen since.
    renamed_in: bool,
    /// Seen to change under its final name after it was first looked at.
    grew: bool,
    /// Offered before it settled and found cut off ([`Disposition::Incomplete`]): waits for a
    /// change or for [`ReadPolicy::settle_for`].
    held: bool,
}

/// The watcher thread's state.
struct Worker {
    dir: PathBuf,
    policy: ReadPolicy,
    handle: Box<dyn Fn(Arrived) -> Disposition + Send + Sync>,
    pending: HashMap<String, Pending>,
    /// Handed over but not moved (the move failed or the handler panicked): never handed over
    /// again while the name stays in the folder.
    stuck: HashSet<String>,
    /// Errors already reported, by their text.
    reported: HashSet<String>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn run(mut self, signals: &mpsc::Receiver<Signal>) {
        let rescan = self.policy.rescan.max(MIN_RESCAN);
        let mut next_scan = Instant::now();
        loop {
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            if Instant::now() >= next_scan {
                self.scan(Instant::now());
                next_scan = Instant::now() + rescan;
                self.shared.scans.fetch_add(1, Ordering::Release);
            }
            self.take_due();
            let wake = self
                .pending
                .values()
                .map(|p| p.due)
                .min()
                .map_or(next_scan, |due| due.min(next_scan));
            let mut signal =
                match signals.recv_timeout(wake.saturating_duration_since(Instant::now())) {
                    Ok(signal) => Some(signal),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                };
            // Everything queued is applied before looking at files, so one look serves a burst.
            while let Some(received) = signal {
                match received {
                    Signal::Stop => return,
                    Signal::Event(event) => {
                        if self.apply(event) {
                            next_scan = Instant::now();
                        }
                    }
                }
                signal = signals.try_recv().ok();
            }
        }
    }

    /// Applies one file-system event; returns whether a full rescan is needed.
    fn apply(&mut self, event: notify::Result<notify::Event>) -> bool {
        let event = match event {
            Ok(event) => event,
            Err(source) => {
                self.report(FolderError::Watch {
                    path: self.dir.clone(),
                    source,
                });
                return true;
            }
        };
        let mut rescan = event.need_rescan();
        if let EventKind::Access(_) = event.kind {
            // Opening and closing change nothing, and our own scans, reads and folder syncs open
            // files and the folder itself: reacting to those would loop.
            return rescan;
        }
        let now = Instant::now();
        let mut names = Vec::new();
        for path in &event.paths {
            if path == &self.dir {
                // The folder itself was removed, renamed or changed: a scan tells what is left.
                rescan = true;
            } else if path.parent() == Some(self.dir.as_path()) {
                names.push(path.file_name().and_then(|n| n.to_str()).map(str::to_owned));
            }
        }
        match event.kind {
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
                for name in names.into_iter().flatten() {
                    self.forget(&name);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
                for name in names.into_iter().flatten() {
                    self.touch(&name, now, true);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                if let [from, to] = names.as_slice() {
                    if let Some(from) = from {
                        self.forget(from);
                    }
                    if let Some(to) = to {
                        self.touch(to, now, true);
                    }
                }
            }
            _ => {
                for name in names.into_iter().flatten() {
                    self.touch(&name, now, false);
                }
            }
        }
        rescan
    }

    /// The name left the folder.
    fn forget(&mut self, name: &str) {
        self.pending.remove(name);
        self.stuck.remove(name);
    }

    /// Something happened to `name`: note it and decide when to look at it.
    fn touch(&mut self, name: &str, now: Instant, renamed: bool) {
        if let Some(base) = self.policy.marked(name) {
            // A marker appeared: look at its file now.
            if !self.policy.ignores(base) && !self.stuck.contains(base) {
                self.pending
                    .entry(base.to_string())
                    .or_insert_with(|| Pending::new(now, now))
                    .due = now;
            }
            return;
        }
        if self.policy.ignores(name) || self.stuck.contains(name) {
            return;
        }
        let stamp = fs::symlink_metadata(self.dir.join(name))
            .ok()
            .map(|m| Stamp::of(&m));
        let wait = if self.policy.suffix().is_some() {
            Duration::ZERO
        } else {
            self.policy.stable_for
        };
        let pending = self
            .pending
            .entry(name.to_string())
            .or_insert_with(|| Pending::new(now, now + wait));
        // A write event that changes a file already seen under this name: written in place.
        if !renamed && pending.stamp.is_some() && stamp.is_some() && pending.stamp != stamp {
            pending.grew = true;
        }
        pending.stamp = stamp;
        if renamed {
            pending.renamed_in = true;
            pending.held = false;
            pending.due = now;
        } else {
            pending.held = false;
            pending.renamed_in = false;
            pending.changed = now;
            pending.due = now + wait;
        }
    }

    /// Lists the folder and adds every file not yet known.
    fn scan(&mut self, now: Instant) {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(source) => {
                self.report(FolderError::Scan {
                    path: self.dir.clone(),
                    source,
                });
                return;
            }
        };
        let wait = if self.policy.suffix().is_some() {
            Duration::ZERO
        } else {
            self.policy.stable_for
        };
        let mut present = HashSet::new();
        for entry in entries {
            // An entry that vanished while listing is simply not there.
            let Ok(entry) = entry else { continue };
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                if let Some(shown) = self.refuse_name(&entry.path()) {
                    present.insert(shown);
                }
                continue;
            };
            if self.policy.ignores(&name) || self.stuck.contains(&name) {
                present.insert(name);
                continue;
            }
            if !self.pending.contains_key(&name) {
                let mut pending = Pending::new(now, now + wait);
                pending.stamp = entry.metadata().ok().map(|m| Stamp::of(&m));
                self.pending.insert(name.clone(), pending);
            }
            present.insert(name);
        }
        self.stuck.retain(|name| present.contains(name));
    }

    /// Looks at every file that is due, in order of due time, then name.
    fn take_due(&mut self) {
        let now = Instant::now();
        let mut due: Vec<(Instant, String)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(name, p)| (p.due, name.clone()))
            .collect();
        due.sort();
        for (_, name) in due {
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            self.check(&name, Instant::now());
        }
    }

    /// Decides whether `name` is complete; takes it when it is, or sets when to look again.
    fn check(&mut self, name: &str, now: Instant) {
        let path = self.dir.join(name);
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.pending.remove(name);
                return;
            }
            Err(source) => {
                // Dropped from the pending set; the next rescan tries again.
                self.pending.remove(name);
                self.report(FolderError::Read { path, source });
                return;
            }
        };
        if meta.is_dir() {
            self.pending.remove(name);
            return;
        }
        let stamp = Stamp::of(&meta);
        if let Some(why) = not_regular(&meta.file_type()) {
            // A link or a special file is never opened: refused at once, its target unread.
            self.refuse(
                name,
                path,
                Refusal::NotRegular(format!("the file is {why}")),
            );
            return;
        }
        let stable_for = self.policy.stable_for;
        let settle_for = self.policy.settle_for;
        let rescan = self.policy.rescan.max(MIN_RESCAN);
        let marker = self
            .policy
            .suffix()
            .map(|suffix| self.dir.join(format!("{name}{suffix}")));
        let trust_rename = self.policy.trust_rename;
        let Some(pending) = self.pending.get_mut(name) else {
            return;
        };
        let complete = if let Some(marker) = marker {
            let marked = marker.symlink_metadata().is_ok();
            if !marked {
                // Events announce the marker; the poll covers folders without events.
                pending.due = now + rescan;
            }
            marked
        } else if pending.renamed_in && trust_rename {
            true
        } else if pending.stamp != Some(stamp) {
            pending.grew |= pending.stamp.is_some();
            pending.held = false;
            pending.stamp = Some(stamp);
            pending.changed = now;
            pending.due = now + stable_for;
            false
        } else if pending.held {
            // Found cut off before: offered again only once it settled (or when it changes).
            let settled_at = pending.changed + settle_for;
            if now >= settled_at {
                true
            } else {
                pending.due = settled_at.min(now + rescan);
                false
            }
        } else if now.duration_since(pending.changed) >= stable_for {
            true
        } else {
            pending.due = pending.changed + stable_for;
            false
        };
        if complete {
            let settled = self.policy.suffix().is_some()
                || (pending.renamed_in && trust_rename)
                || now.duration_since(pending.changed) >= settle_for;
            self.take(name, path, stamp, now, settled);
        }
    }

    /// Hands over a file the watcher does not read (a link, a special file, one over the size
    /// limit) with `reason`, and moves it to `rejected/` with that reason whatever the handler
    /// answers. A link moves itself; its target is never opened.
    fn refuse(&mut self, name: &str, path: PathBuf, refusal: Refusal) {
        let Some(pending) = self.pending.remove(name) else {
            return;
        };
        let arrived = Arrived {
            path: path.clone(),
            name: name.to_string(),
            bytes: Vec::new(),
            landed: pending.first_seen,
            written_in_place: false,
            settled: true,
            refused: Some(refusal.clone()),
        };
        let handle = &self.handle;
        if panic::catch_unwind(AssertUnwindSafe(|| handle(arrived))).is_err() {
            self.stuck.insert(name.to_string());
            self.report(FolderError::Handler { path });
            return;
        }
        let disposition = Disposition::Rejected(refusal.reason().to_string());
        if let Err(e) = settle(&self.dir, name, &disposition, self.policy.suffix()) {
            self.stuck.insert(name.to_string());
            self.report(e);
        }
    }

    /// Hands over a file whose name is not UTF-8 (legal on Unix, never a MedCom name) without
    /// reading it, and moves it to `rejected/` under its name with each byte that is not UTF-8
    /// shown as `U+FFFD`, with its reason. Temporary names are left alone, as any other.
    /// Returns the name as shown, which stays known as stuck when the move failed, so the
    /// handler hears of it once.
    fn refuse_name(&mut self, path: &Path) -> Option<String> {
        let shown = path.file_name()?.to_string_lossy().into_owned();
        if self.policy.ignores(&shown) || self.stuck.contains(&shown) {
            return Some(shown);
        }
        let refusal = Refusal::NotRegular(
            "the file name is not UTF-8 (each byte that is not is shown as U+FFFD); the file was not read"
                .to_string(),
        );
        let arrived = Arrived {
            path: path.to_path_buf(),
            name: shown.clone(),
            bytes: Vec::new(),
            landed: Instant::now(),
            written_in_place: false,
            settled: true,
            refused: Some(refusal.clone()),
        };
        let handle = &self.handle;
        if panic::catch_unwind(AssertUnwindSafe(|| handle(arrived))).is_err() {
            self.stuck.insert(shown.clone());
            self.report(FolderError::Handler {
                path: path.to_path_buf(),
            });
            return Some(shown);
        }
        let disposition = Disposition::Rejected(refusal.reason().to_string());
        if let Err(e) = settle_from(&self.dir, path, &shown, &disposition, None) {
            self.stuck.insert(shown.clone());
            self.report(e);
        }
        Some(shown)
    }

    /// Reads a complete file, hands it over, and moves it.
    fn take(&mut self, name: &str, path: PathBuf, stamp: Stamp, now: Instant, settled: bool) {
        let bytes = match read_unchanged(&path, stamp, self.policy.max_bytes) {
            Ok(ReadOutcome::Whole(bytes)) => bytes,
            Ok(ReadOutcome::Refused(refusal)) => {
                self.refuse(name, path, refusal);
                return;
            }
            Ok(ReadOutcome::Changed) => {
                // It changed while it was read: it is still being written.
                if let Some(pending) = self.pending.get_mut(name) {
                    pending.renamed_in = false;
                    pending.held = false;
                    pending.grew = true;
                    pending.stamp = None;
                    pending.changed = now;
                    pending.due = now + self.policy.stable_for;
                }
                return;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.pending.remove(name);
                return;
            }
            Err(source) => {
                self.pending.remove(name);
                self.report(FolderError::Read { path, source });
                return;
            }
        };
        let Some(mut pending) = self.pending.remove(name) else {
            return;
        };
        let arrived = Arrived {
            path: path.clone(),
            name: name.to_string(),
            bytes,
            landed: pending.first_seen,
            written_in_place: pending.grew,
            settled,
            refused: None,
        };
        let handle = &self.handle;
        let Ok(mut disposition) = panic::catch_unwind(AssertUnwindSafe(|| handle(arrived))) else {
            self.stuck.insert(name.to_string());
            self.report(FolderError::Handler { path });
            return;
        };
        if let Disposition::Incomplete(reason) = disposition {
            if !settled {
                // Left in place, unmoved, to be offered again when it changes or settles.
                pending.held = true;
                pending.renamed_in = false;
                pending.stamp = Some(stamp);
                pending.due = now + self.policy.rescan.max(MIN_RESCAN);
                self.pending.insert(name.to_string(), pending);
                return;
            }
            disposition = Disposition::Rejected(reason);
        }
        if matches!(disposition, Disposition::Rejected(_))
            && fs::symlink_metadata(&path).is_ok_and(|m| Stamp::of(&m) != stamp)
        {
            // Written to while it was judged: still being written, so not rejected yet.
            pending.held = false;
            pending.renamed_in = false;
            pending.grew = true;
            pending.stamp = None;
            pending.changed = now;
            pending.due = now + self.policy.stable_for;
            self.pending.insert(name.to_string(), pending);
            return;
        }
        match settle(&self.dir, name, &disposition, self.policy.suffix()) {
            Ok(_) => {
                // Errors about this file may be reported again should they recur.
                let quoted = format!("`{}`", path.display());
                self.reported.retain(|key| !key.contains(&quoted));
            }
            Err(e) => {
                self.stuck.insert(name.to_string());
                self.report(e);
            }
        }
    }

    /// Keeps `error` for [`FolderWatcher::take_errors`] unless the same was reported before.
    fn report(&mut self, error: FolderError) {
        let mut key = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            key.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        if self.reported.insert(key) {
            self.shared
                .errors
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(error);
        }
    }
}

impl Pending {
    fn new(now: Instant, due: Instant) -> Pending {
        Pending {
            first_seen: now,
            changed: now,
            due,
            stamp: None,
            renamed_in: false,
            grew: false,
            held: false,
        }
    }
}

/// What reading a file gave.
enum ReadOutcome {
    /// The whole content, unchanged while it was read.
    Whole(Vec<u8>),
    /// It is not the file `stamp` described any more: it grew or was rewritten while being read.
    Changed,
    /// Not read, and why: a link, not a regular file, too large.
    Refused(Refusal),
}

/// Why a file of type `kind` is not read, or `None` for a regular file.
fn not_regular(kind: &fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        return None;
    }
    if kind.is_symlink() {
        return Some(
            "a symbolic link; the harness does not follow links in an exchange folder and did not read its target",
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a named pipe (FIFO), not a regular file; it was not read");
        }
        if kind.is_socket() {
            return Some("a socket, not a regular file; it was not read");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device, not a regular file; it was not read");
        }
    }
    Some("not a regular file; it was not read")
}

/// Opens `path` for reading without following a symbolic link in its last component
/// (`O_NOFOLLOW`: a link swapped in after the type was checked fails to open) and without
/// blocking on a FIFO (`O_NONBLOCK`).
fn open_no_follow(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Reads the whole file, at most `max_bytes`, through a handle that is checked to be a regular
/// file; see [`ReadOutcome`].
fn read_unchanged(path: &Path, stamp: Stamp, max_bytes: u64) -> io::Result<ReadOutcome> {
    let mut file = match open_no_follow(path) {
        Ok(file) => file,
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            let why = not_regular(&fs::symlink_metadata(path)?.file_type())
                .unwrap_or("a symbolic link; the harness does not follow links");
            return Ok(ReadOutcome::Refused(Refusal::NotRegular(format!(
                "the file is {why}"
            ))));
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if let Some(why) = not_regular(&meta.file_type()) {
        return Ok(ReadOutcome::Refused(Refusal::NotRegular(format!(
            "the file is {why}"
        ))));
    }
    if meta.len() > max_bytes {
        return Ok(ReadOutcome::Refused(Refusal::TooLarge(format!(
            "the file holds {} bytes, over the limit of {max_bytes} bytes; it was not read",
            meta.len()
        ))));
    }
    let capacity = usize::try_from(stamp.len.min(max_bytes)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    (&mut file).take(max_bytes + 1).read_to_end(&mut bytes)?;
    let read_through_handle = Stamp::of(&file.metadata()?);
    let at_path = Stamp::of(&fs::symlink_metadata(path)?);
    let unchanged = read_through_handle == stamp
        && at_path == stamp
        && u64::try_from(bytes.len()).is_ok_and(|len| len == stamp.len);
    Ok(if unchanged {
        ReadOutcome::Whole(bytes)
    } else {
        ReadOutcome::Changed
    })
}

/// `reason` for a `.reason` file: every backtick-quoted part replaced by `…` (the parts quote
/// values, which may be the file's content, and a `.reason` file says why, never what), a line
/// end added.
fn reason_text(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len() + 1);
    let mut parts = reason.split('`');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    let rest: Vec<&str> = parts.collect();
    for (i, part) in rest.iter().enumerate() {
        // Odd parts are quoted; an unclosed quote at the end is quoted too.
        if i % 2 == 0 {
            out.push_str("`…`");
        } else {
            out.push_str(part);
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Moves the handled file `dir/name` (and its completion marker) to `processed/` or `rejected/`
/// (then with the reason written first), under the first free numbered name. Returns the new path.
///
/// The folders are not synced after the move: a rename is atomic, so after a power failure the
/// file is under its old name or its new one, never lost, and under the old name it is handed
/// over again, as delivery is at least once anyway. Syncing would cost two disk flushes per file
/// (measured: a burst of 200 files took seconds instead of milliseconds).
fn settle(
    dir: &Path,
    name: &str,
    disposition: &Disposition,
    marker_suffix: Option<&str>,
) -> Result<PathBuf, FolderError> {
    settle_from(dir, &dir.join(name), name, disposition, marker_suffix)
}

/// [`settle`] for the file at `from`, moved under `name` (which differs from its own name only
/// when that is not UTF-8).
fn settle_from(
    dir: &Path,
    from: &Path,
    name: &str,
    disposition: &Disposition,
    marker_suffix: Option<&str>,
) -> Result<PathBuf, FolderError> {
    let (sub, reason) = match disposition {
        Disposition::Processed => (PROCESSED, None),
        Disposition::Rejected(reason) | Disposition::Incomplete(reason) => {
            (REJECTED, Some(reason_text(reason)))
        }
    };
    let from = from.to_path_buf();
    let into = dir.join(sub);
    fs::create_dir_all(&into).map_err(|source| FolderError::CreateDir {
        path: into.clone(),
        source,
    })?;
    let taken = |candidate: &str| into.join(candidate).symlink_metadata().is_ok();
    let mut number = 0;
    let (to, final_name) = loop {
        let candidate = numbered(name, number);
        number += 1;
        let reason_name = format!("{candidate}{REASON_SUFFIX}");
        if taken(&candidate)
            || (reason.is_some() && taken(&reason_name))
            || marker_suffix.is_some_and(|suffix| taken(&format!("{candidate}{suffix}")))
        {
            continue;
        }
        if let Some(reason) = &reason {
            match write_new(&into, &reason_name, reason.as_bytes()) {
                Ok(_) => {}
                Err(FolderError::Exists { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        let to = into.join(&candidate);
        match rename_noclobber(&from, &to) {
            Ok(()) => break (to, candidate),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(FolderError::Move { from, to, source }),
        }
    };
    if let Some(suffix) = marker_suffix {
        let marker = dir.join(format!("{name}{suffix}"));
        if marker.symlink_metadata().is_ok() {
            let marker_to = into.join(format!("{final_name}{suffix}"));
            rename_noclobber(&marker, &marker_to).map_err(|source| FolderError::Move {
                from: marker,
                to: marker_to,
                source,
            })?;
        }
    }
    Ok(to)
}

/// `name` for 0, else `name` with `.<number>` before its extension: `ack.xml` → `ack.1.xml`,
/// `ack` → `ack.1`.
fn numbered(name: &str, number: u32) -> String {
    if number == 0 {
        return name.to_string();
    }
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{}.{number}{}", &name[..dot], &name[dot..]),
        _ => format!("{name}.{number}"),
    }
}

/// Renames `from` to `to` unless `to` exists (`AlreadyExists` then), atomically where the system
/// allows: `renameat2(RENAME_NOREPLACE)` on Linux, `renamex_np(RENAME_EXCL)` on macOS,
/// `MoveFileEx` without replacing on Windows, and else a hard link then removal of the old name.
/// This is tempfile's no-clobber persist, used on a path whose cleanup is switched off, so the
/// file is never removed whatever happens.
fn rename_noclobber(from: &Path, to: &Path) -> io::Result<()> {
    let mut path = tempfile::TempPath::try_from_path(from)?;
    path.disable_cleanup(true);
    path.persist_noclobber(to).map_err(|e| e.error)
}

/// Syncs a folder's entries (a rename) to disk. Only Unix can open a folder for this.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    /// The environment variable that turns the test binary into a child process (see
    /// [`folder_child_process_entry`]): `writer` or `harness`.
    const CHILD_ROLE: &str = "FOLDER_TEST_CHILD_ROLE";
    const CHILD_DIR: &str = "FOLDER_TEST_CHILD_DIR";
    const CHILD_MARKER: &str = "FOLDER_TEST_CHILD_MARKER";
    /// What a complete test message ends with; the test handlers reject anything else.
    const TRAILER: &[u8] = b"</message>\n";

    /// One handler call, as the handler saw it.
    #[derive(Debug, Clone)]
    struct Seen {
        name: String,
        bytes: Vec<u8>,
        at: Instant,
        in_place: bool,
        settled: bool,
        refused: Option<Refusal>,
    }

    /// Records every handler call.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Seen>>>);

    impl Recorder {
        /// A handler that records, then decides with `judge`.
        fn handler(
            &self,
            judge: fn(&Arrived) -> Disposition,
        ) -> impl Fn(Arrived) -> Disposition + Send + Sync + 'static {
            let seen = Arc::clone(&self.0);
            move |arrived| {
                let disposition = judge(&arrived);
                seen.lock().expect("recorder lock").push(Seen {
                    name: arrived.name,
                    bytes: arrived.bytes,
                    at: Instant::now(),
                    in_place: arrived.written_in_place,
                    settled: arrived.settled,
                    refused: arrived.refused,
                });
                disposition
            }
        }

        fn all(&self) -> Vec<Seen> {
            self.0.lock().expect("recorder lock").clone()
        }

        fn count(&self, name: &str) -> usize {
            self.all().iter().filter(|s| s.name == name).count()
        }
    }

    fn accept_all(_: &Arrived) -> Disposition {
        Disposition::Processed
    }

    /// Accepts what ends with [`TRAILER`]: a stand-in for the caller's parser.
    fn judge_trailer(arrived: &Arrived) -> Disposition {
        if arrived.bytes.ends_with(TRAILER) {
            Disposition::Processed
        } else {
            Disposition::Rejected(format!(
                "truncated: {} bytes without the closing tag",
                arrived.bytes.len()
            ))
        }
    }

    /// As [`judge_trailer`], but a cut-off file that may still grow is [`Disposition::Incomplete`],
    /// as the harness's outbox handler answers.
    fn judge_settling(arrived: &Arrived) -> Disposition {
        match judge_trailer(arrived) {
            Disposition::Rejected(why) if !arrived.settled => Disposition::Incomplete(why),
            other => other,
        }
    }

    /// Every entry directly in `dir` that is not a folder (links and special files too), sorted.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("list folder")
            .map(|e| e.expect("entry"))
            .filter(|e| !e.file_type().expect("file type").is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn policy(stable_ms: u64) -> ReadPolicy {
        ReadPolicy {
            stable_for: Duration::from_millis(stable_ms),
            rescan: Duration::from_millis(100),
            ..ReadPolicy::default()
        }
    }

    /// Polls `ready` every 5 ms until it holds; fails the test after `within`.
    fn wait_for(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
        let deadline = Instant::now() + within;
        while !ready() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until the watcher has finished `n` more full scans.
    fn wait_scans(watcher: &FolderWatcher, n: u64) {
        let target = watcher.scans() + n;
        wait_for("rescans", Duration::from_secs(10), || {
            watcher.scans() >= target
        });
    }

    /// The names of the regular files directly in `dir`, sorted.
    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("list folder")
            .map(|e| e.expect("entry"))
            .filter(|e| e.file_type().expect("file type").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Deterministic content of `len` bytes ending with [`TRAILER`].
    fn message(len: usize, seed: u8) -> Vec<u8> {
        let mut bytes: Vec<u8> = (0..len - TRAILER.len())
            .map(|i| b'a' + ((i / 7 + usize::from(seed)) % 26) as u8)
            .collect();
        bytes.extend_from_slice(TRAILER);
        bytes
    }

    #[test]
    fn numbered_names_keep_their_extension() {
        assert_eq!(numbered("ack.xml", 0), "ack.xml");
        assert_eq!(numbered("ack.xml", 1), "ack.1.xml");
        assert_eq!(numbered("a.tar.gz", 2), "a.tar.2.gz");
        assert_eq!(numbered("noext", 3), "noext.3");
    }

    #[test]
    fn temporary_names_and_markers_are_recognised() {
        let plain = ReadPolicy::default();
        for name in [
            ".hidden",
            ".x.xml.abc123.tmp",
            "a.tmp",
            "b.PART",
            "c.partial",
            "d.filepart",
        ] {
            assert!(plain.ignores(name), "{name} is temporary");
        }
        for name in ["a.xml", "a.xml.done", "tmp", "a.tmpl"] {
            assert!(!plain.ignores(name), "{name} is a real name");
        }
        let marked = ReadPolicy {
            completion_suffix: Some(".done".into()),
            ..ReadPolicy::default()
        };
        assert!(marked.ignores("a.xml.done"));
        assert_eq!(marked.marked("a.xml.done"), Some("a.xml"));
        assert_eq!(marked.marked(".done"), None);
    }

    #[test]
    fn layout_creates_in_out_and_the_outbox_subfolders() {
        let root = tempfile::tempdir().expect("temp dir");
        let layout = FolderLayout::new(root.path());
        layout.create().expect("create");
        for dir in [
            layout.inbox.clone(),
            layout.outbox.join(PROCESSED),
            layout.outbox.join(REJECTED),
        ] {
            assert!(dir.is_dir(), "{} exists", dir.display());
        }
        layout.create().expect("create is idempotent");
    }

    #[test]
    fn atomic_write_never_shows_a_short_file_and_never_overwrites() {
        let dir = tempfile::tempdir().expect("temp dir");
        const FILES: usize = 8;
        const LEN: usize = 4 * 1024 * 1024;
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let dir = dir.path().to_path_buf();
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut complete_reads = 0_usize;
                while !done.load(Ordering::Acquire) {
                    for i in 0..FILES {
                        match fs::read(dir.join(format!("m{i}.xml"))) {
                            Ok(bytes) => {
                                assert_eq!(bytes.len(), LEN, "m{i}.xml seen short");
                                assert_eq!(bytes, message(LEN, i as u8), "m{i}.xml content");
                                complete_reads += 1;
                            }
                            Err(e) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
                        }
                    }
                }
                complete_reads
            })
        };
        for i in 0..FILES {
            let path = write_atomic(dir.path(), &format!("m{i}.xml"), &message(LEN, i as u8))
                .expect("write");
            assert_eq!(path, dir.path().join(format!("m{i}.xml")));
        }
        done.store(true, Ordering::Release);
        let complete_reads = reader.join().expect("reader thread");
        assert!(complete_reads > 0, "the reader saw the files");

        let again = write_atomic(dir.path(), "m0.xml", b"other");
        assert!(
            matches!(&again, Err(FolderError::Exists { path }) if path == &dir.path().join("m0.xml")),
            "{again:?}"
        );
        assert_eq!(
            fs::read(dir.path().join("m0.xml")).expect("read"),
            message(LEN, 0)
        );
        let expected: Vec<String> = (0..FILES).map(|i| format!("m{i}.xml")).collect();
        assert_eq!(
            files(dir.path()),
            expected,
            "no temporary file is left behind"
        );

        for bad in ["", ".", "..", "a/b", "a\\b"] {
            assert!(matches!(
                write_atomic(dir.path(), bad, b"x"),
                Err(FolderError::InvalidName { .. })
            ));
        }
    }

    #[test]
    fn a_file_renamed_into_the_folder_is_taken_without_waiting_for_stability() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let stable_for = Duration::from_secs(30);
        let watcher = FolderWatcher::start(
            dir.path(),
            ReadPolicy {
                stable_for,
                ..ReadPolicy::default()
            },
            recorder.handler(accept_all),
        )
        .expect("start");
        wait_scans(&watcher, 1);
        let written = Instant::now();
        write_atomic(dir.path(), "ack.xml", &message(1000, 1)).expect("write");
        wait_for("ack.xml", Duration::from_secs(10), || {
            recorder.count("ack.xml") == 1
        });
        assert!(written.elapsed() < stable_for);
        wait_for("the move", Duration::from_secs(10), || {
            files(&dir.path().join(PROCESSED)) == ["ack.xml"]
        });
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn temporary_names_are_ignored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let temporary = [".hidden", "a.tmp", "b.part", "c.partial", "d.filepart"];
        for name in temporary {
            fs::write(dir.path().join(name), b"not yet").expect("write");
        }
        fs::create_dir(dir.path().join("sub")).expect("subfolder");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(dir.path(), policy(50), recorder.handler(accept_all))
            .expect("start");
        fs::write(dir.path().join("e.part"), b"not yet").expect("write");
        fs::write(dir.path().join("real.xml"), b"<message/>").expect("write");
        wait_for("real.xml", Duration::from_secs(10), || {
            recorder.count("real.xml") == 1
        });
        wait_scans(&watcher, 2);
        let names: Vec<String> = recorder.all().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["real.xml"]);
        let mut left: Vec<String> = temporary.iter().map(|s| (*s).to_string()).collect();
        left.push("e.part".into());
        left.sort();
        assert_eq!(files(dir.path()), left);
        assert!(dir.path().join("sub").is_dir(), "a folder dropped in stays");
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn with_a_completion_suffix_a_file_is_taken_only_after_its_marker() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(
            dir.path(),
            ReadPolicy {
                completion_suffix: Some(".done".into()),
                ..policy(20)
            },
            recorder.handler(accept_all),
        )
        .expect("start");
        // Both a rename and a long-stable file wait for the marker.
        write_atomic(dir.path(), "renamed.xml", b"<a/>").expect("write");
        fs::write(dir.path().join("in-place.xml"), b"<b/>").expect("write");
        wait_scans(&watcher, 3);
        assert!(
            recorder.all().is_empty(),
            "nothing is taken without a marker"
        );

        fs::write(dir.path().join("renamed.xml.done"), b"").expect("marker");
        wait_for("renamed.xml", Duration::from_secs(10), || {
            recorder.count("renamed.xml") == 1
        });
        wait_for("the move", Duration::from_secs(10), || {
            files(&dir.path().join(PROCESSED)) == ["renamed.xml", "renamed.xml.done"]
        });
        assert_eq!(files(dir.path()), ["in-place.xml"]);
        assert_eq!(recorder.count("in-place.xml"), 0);
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn a_50_mb_file_written_slowly_in_place_is_handed_over_once_and_whole() {
        const PIECE: usize = 1024 * 1024;
        const PIECES: usize = 50;
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        // The default 1 s of stability, against pauses of at most 50 ms between pieces (and the
        // writer being throttled while the kernel flushes 50 MB of dirty pages).
        let watcher =
            FolderWatcher::start(dir.path(), policy(1000), recorder.handler(judge_trailer))
                .expect("start");
        let expected = message(PIECE * PIECES, 7);
        let started = Instant::now();
        let writer = {
            let path = dir.path().join("big.xml");
            let expected = expected.clone();
            thread::spawn(move || {
                let mut file = fs::File::create(&path).expect("create in place");
                for (i, piece) in expected.chunks(PIECE).enumerate() {
                    file.write_all(piece).expect("write piece");
                    file.flush().expect("flush");
                    // A slow writer: 20 to 50 ms between pieces.
                    thread::sleep(Duration::from_millis(20 + (i as u64 * 7) % 31));
                }
                Instant::now()
            })
        };
        let finished = writer.join().expect("writer thread");
        wait_for("big.xml", Duration::from_secs(30), || {
            recorder.count("big.xml") == 1
        });
        let seen = recorder.all();
        assert!(
            seen[0].at > finished,
            "handed over only after the last piece"
        );
        assert_eq!(seen[0].bytes.len(), expected.len());
        assert!(
            seen[0].bytes == expected,
            "the bytes handed over are the bytes written"
        );
        wait_for("the move", Duration::from_secs(10), || {
            files(&dir.path().join(PROCESSED)) == ["big.xml"]
        });
        eprintln!(
            "50 MB in place: written in {:?}, handed over {:?} after the last piece, {:?} in all",
            finished - started,
            seen[0].at - finished,
            started.elapsed()
        );
        wait_scans(&watcher, 2);
        assert_eq!(recorder.count("big.xml"), 1, "exactly once");
        assert!(files(dir.path()).is_empty());
        assert!(watcher.take_errors().is_empty());
    }

    /// Runs this test binary again as a child process in `role`, on `dir`.
    fn spawn_child(role: &str, dir: &Path, marker: Option<&str>) -> std::process::Child {
        let mut command = Command::new(std::env::current_exe().expect("test binary"));
        command
            .args([
                "folder_child_process_entry",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CHILD_ROLE, role)
            .env(CHILD_DIR, dir)
            .stdout(Stdio::null());
        if let Some(marker) = marker {
            command.env(CHILD_MARKER, marker);
        }
        command.spawn().expect("spawn child")
    }

    /// Not a test of its own: the body of the child processes the tests spawn. Does nothing
    /// unless [`CHILD_ROLE`] is set.
    ///
    /// - `writer`: a vendor that drops `complete.xml` atomically (plus its marker when
    ///   [`CHILD_MARKER`] is set), then writes `partial.xml` in place, slowly, for far longer
    ///   than any test waits: it is killed in the middle.
    /// - `harness`: a watcher whose handler notes the name in `<dir>/../seen` and kills the
    ///   process before the file can move.
    #[test]
    fn folder_child_process_entry() {
        let Ok(role) = std::env::var(CHILD_ROLE) else {
            return;
        };
        let dir = PathBuf::from(std::env::var_os(CHILD_DIR).expect("child folder"));
        match role.as_str() {
            "writer" => {
                write_atomic(&dir, "complete.xml", &message(100_000, 1)).expect("write");
                if let Ok(marker) = std::env::var(CHILD_MARKER) {
                    write_atomic(&dir, &format!("complete.xml{marker}"), b"").expect("marker");
                }
                // Built before the file is created: a pause longer than the stability window
                // before the first byte would rightly get the empty file taken.
                let content = message(64 * 1024 * 1024, 2);
                let mut file = fs::File::create(dir.join("partial.xml")).expect("create");
                for piece in content.chunks(16 * 1024) {
                    file.write_all(piece).expect("write piece");
                    thread::sleep(Duration::from_millis(5));
                }
            }
            "harness" => {
                let seen = dir.parent().expect("parent").join("seen");
                let _watcher = FolderWatcher::start(&dir, policy(20), move |arrived| {
                    fs::write(&seen, &arrived.name).expect("note");
                    std::process::abort();
                })
                .expect("start");
                thread::sleep(Duration::from_secs(60));
            }
            other => panic!("unknown child role {other}"),
        }
    }

    /// Starts the writer child, waits until `partial.xml` has at least 1 MiB, checks nothing was
    /// handed over yet, and kills it (SIGKILL on Unix). Returns the instant after the kill.
    fn kill_writer_mid_write(dir: &Path, recorder: &Recorder, marker: Option<&str>) -> Instant {
        let mut child = spawn_child("writer", dir, marker);
        wait_for("partial.xml to grow", Duration::from_secs(30), || {
            fs::metadata(dir.join("partial.xml")).is_ok_and(|m| m.len() >= 1024 * 1024)
        });
        assert_eq!(
            recorder.count("partial.xml"),
            0,
            "not taken while being written"
        );
        child.kill().expect("kill the writer");
        child.wait().expect("reap the writer");
        Instant::now()
    }

    #[test]
    fn a_vendor_killed_mid_write_leaves_a_stale_file_that_is_rejected_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let watcher =
            FolderWatcher::start(dir.path(), policy(1000), recorder.handler(judge_trailer))
                .expect("start");
        let killed = kill_writer_mid_write(dir.path(), &recorder, None);
        let processed = dir.path().join(PROCESSED);
        let rejected = dir.path().join(REJECTED);
        wait_for("both files to settle", Duration::from_secs(30), || {
            files(&processed).len() == 1 && files(&rejected).len() == 2
        });
        wait_scans(&watcher, 2);

        assert_eq!(
            files(dir.path()),
            Vec::<String>::new(),
            "nothing is left half-handled"
        );
        assert_eq!(files(&processed), ["complete.xml"]);
        assert_eq!(files(&rejected), ["partial.xml", "partial.xml.reason"]);
        assert_eq!(
            fs::read(processed.join("complete.xml")).expect("read"),
            message(100_000, 1)
        );
        let seen = recorder.all();
        assert_eq!(seen.len(), 2, "each file handed over once: {seen:?}");
        let partial = seen
            .iter()
            .find(|s| s.name == "partial.xml")
            .expect("partial seen");
        assert!(
            partial.at > killed,
            "the partial file was taken only after its writer died"
        );
        let stale = fs::read(rejected.join("partial.xml")).expect("read");
        assert!(stale.len() >= 1024 * 1024 && stale.len() < 64 * 1024 * 1024);
        assert!(partial.bytes == stale, "handed over as it was left, whole");
        assert_eq!(&stale[..], &message(64 * 1024 * 1024, 2)[..stale.len()]);
        let reason = fs::read_to_string(rejected.join("partial.xml.reason")).expect("reason");
        assert_eq!(
            reason,
            format!("truncated: {} bytes without the closing tag\n", stale.len())
        );
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn a_vendor_killed_mid_write_never_completes_under_a_marker_policy() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(
            dir.path(),
            ReadPolicy {
                completion_suffix: Some(".done".into()),
                ..policy(50)
            },
            recorder.handler(judge_trailer),
        )
        .expect("start");
        kill_writer_mid_write(dir.path(), &recorder, Some(".done"));
        let processed = dir.path().join(PROCESSED);
        wait_for("complete.xml to settle", Duration::from_secs(30), || {
            files(&processed).len() == 2
        });
        wait_scans(&watcher, 3);
        assert_eq!(files(&processed), ["complete.xml", "complete.xml.done"]);
        assert_eq!(
            files(dir.path()),
            ["partial.xml"],
            "the stale file stays for a person"
        );
        assert!(files(&dir.path().join(REJECTED)).is_empty());
        assert_eq!(recorder.count("partial.xml"), 0);
        assert_eq!(recorder.count("complete.xml"), 1);
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn a_harness_killed_inside_the_handler_hands_the_file_over_again_on_restart() {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("out");
        fs::create_dir(&dir).expect("folder");
        write_atomic(&dir, "letter.xml", &message(5000, 3)).expect("write");
        let mut child = spawn_child("harness", &dir, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("child status") {
                break status;
            }
            if Instant::now() > deadline {
                child.kill().expect("kill");
                panic!("the child harness did not die in its handler");
            }
            thread::sleep(Duration::from_millis(5));
        };
        assert!(!status.success());
        assert_eq!(
            fs::read_to_string(root.path().join("seen")).expect("seen"),
            "letter.xml"
        );
        assert_eq!(files(&dir), ["letter.xml"], "the file is still there");
        assert!(files(&dir.join(PROCESSED)).is_empty());

        let recorder = Recorder::default();
        let watcher =
            FolderWatcher::start(&dir, policy(20), recorder.handler(judge_trailer)).expect("start");
        wait_for("letter.xml again", Duration::from_secs(10), || {
            files(&dir.join(PROCESSED)) == ["letter.xml"]
        });
        assert_eq!(recorder.count("letter.xml"), 1);
        assert_eq!(recorder.all()[0].bytes, message(5000, 3));
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn rejected_files_get_a_reason_and_nothing_is_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let processed = dir.path().join(PROCESSED);
        let rejected = dir.path().join(REJECTED);
        fs::create_dir_all(&processed).expect("processed");
        fs::create_dir_all(&rejected).expect("rejected");
        fs::write(processed.join("ok.xml"), b"old ok").expect("write");
        fs::write(rejected.join("bad.xml"), b"old bad").expect("write");
        fs::write(rejected.join("bad.xml.reason"), b"old reason\n").expect("write");
        // A reason without its file still blocks the name: `bad.1.xml` must not pair with it.
        fs::write(rejected.join("bad.1.xml.reason"), b"orphan\n").expect("write");
        fs::write(dir.path().join("ok.xml"), message(100, 4)).expect("write");
        fs::write(dir.path().join("bad.xml"), b"no trailer").expect("write");

        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(dir.path(), policy(20), recorder.handler(judge_trailer))
            .expect("start");
        wait_for("both to settle", Duration::from_secs(10), || {
            files(dir.path()).is_empty() && files(&rejected).len() == 5
        });
        assert_eq!(files(&processed), ["ok.1.xml", "ok.xml"]);
        assert_eq!(fs::read(processed.join("ok.xml")).expect("read"), b"old ok");
        assert_eq!(
            fs::read(processed.join("ok.1.xml")).expect("read"),
            message(100, 4)
        );
        assert_eq!(
            files(&rejected),
            [
                "bad.1.xml.reason",
                "bad.2.xml",
                "bad.2.xml.reason",
                "bad.xml",
                "bad.xml.reason"
            ]
        );
        assert_eq!(
            fs::read(rejected.join("bad.xml")).expect("read"),
            b"old bad"
        );
        assert_eq!(
            fs::read(rejected.join("bad.1.xml.reason")).expect("read"),
            b"orphan\n"
        );
        assert_eq!(
            fs::read(rejected.join("bad.2.xml")).expect("read"),
            b"no trailer"
        );
        assert_eq!(
            fs::read_to_string(rejected.join("bad.2.xml.reason")).expect("read"),
            "truncated: 10 bytes without the closing tag\n"
        );
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn files_present_before_start_are_handled() {
        let dir = tempfile::tempdir().expect("temp dir");
        for i in 0..5 {
            write_atomic(dir.path(), &format!("early{i}.xml"), &message(100, i)).expect("write");
        }
        let recorder = Recorder::default();
        let _watcher = FolderWatcher::start(dir.path(), policy(20), recorder.handler(accept_all))
            .expect("start");
        wait_for("all five", Duration::from_secs(10), || {
            files(&dir.path().join(PROCESSED)).len() == 5
        });
        let names: Vec<String> = recorder.all().into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "early0.xml",
                "early1.xml",
                "early2.xml",
                "early3.xml",
                "early4.xml"
            ]
        );
    }

    #[test]
    fn a_rescan_finds_files_when_events_are_off() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(
            dir.path(),
            ReadPolicy {
                events: false,
                ..policy(20)
            },
            recorder.handler(accept_all),
        )
        .expect("start");
        wait_scans(&watcher, 1);
        write_atomic(dir.path(), "late.xml", &message(100, 5)).expect("write");
        fs::write(dir.path().join("in-place.xml"), message(100, 6)).expect("write");
        wait_for("both", Duration::from_secs(10), || {
            files(&dir.path().join(PROCESSED)).len() == 2
        });
        assert_eq!(recorder.count("late.xml"), 1);
        assert_eq!(recorder.count("in-place.xml"), 1);
    }

    #[test]
    fn an_empty_file_that_never_grows_is_handed_over_as_is() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let _watcher =
            FolderWatcher::start(dir.path(), policy(50), recorder.handler(judge_trailer))
                .expect("start");
        fs::File::create(dir.path().join("empty.xml")).expect("create");
        wait_for("empty.xml", Duration::from_secs(10), || {
            files(&dir.path().join(REJECTED)).len() == 2
        });
        assert_eq!(recorder.all()[0].bytes, b"");
        assert_eq!(
            fs::read_to_string(dir.path().join(REJECTED).join("empty.xml.reason")).expect("read"),
            "truncated: 0 bytes without the closing tag\n"
        );
    }

    #[test]
    fn a_file_removed_before_it_is_read_is_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(dir.path(), policy(200), recorder.handler(accept_all))
            .expect("start");
        fs::write(dir.path().join("gone.xml"), b"<x/>").expect("write");
        fs::remove_file(dir.path().join("gone.xml")).expect("remove");
        fs::write(dir.path().join("after.xml"), b"<y/>").expect("write");
        wait_for("after.xml", Duration::from_secs(10), || {
            files(&dir.path().join(PROCESSED)) == ["after.xml"]
        });
        wait_scans(&watcher, 2);
        assert_eq!(recorder.count("gone.xml"), 0);
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn a_panicking_handler_leaves_the_file_in_place_and_is_reported() {
        let dir = tempfile::tempdir().expect("temp dir");
        let calls = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&calls);
        let watcher = FolderWatcher::start(dir.path(), policy(20), move |arrived| {
            counted.fetch_add(1, Ordering::SeqCst);
            if arrived.name == "boom.xml" {
                panic!("handler bug (expected by this test)");
            }
            Disposition::Processed
        })
        .expect("start");
        write_atomic(dir.path(), "boom.xml", b"<x/>").expect("write");
        let mut errors = Vec::new();
        wait_for("the report", Duration::from_secs(10), || {
            errors.extend(watcher.take_errors());
            !errors.is_empty()
        });
        assert!(
            matches!(&errors[..], [FolderError::Handler { path }] if path.ends_with("boom.xml"))
        );
        write_atomic(dir.path(), "fine.xml", b"<y/>").expect("write");
        wait_for("fine.xml", Duration::from_secs(10), || {
            files(&dir.path().join(PROCESSED)) == ["fine.xml"]
        });
        wait_scans(&watcher, 2);
        assert_eq!(files(dir.path()), ["boom.xml"]);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "boom.xml was not handed over again"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_unreadable_file_is_reported_and_left_in_place() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let locked = dir.path().join("locked.xml");
        fs::write(&locked, b"<x/>").expect("write");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
        if fs::read(&locked).is_ok() {
            eprintln!("skipped: permissions do not apply to this user (root)");
            return;
        }
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(dir.path(), policy(20), recorder.handler(accept_all))
            .expect("start");
        let mut errors = Vec::new();
        wait_for("the report", Duration::from_secs(10), || {
            errors.extend(watcher.take_errors());
            !errors.is_empty()
        });
        wait_scans(&watcher, 3);
        errors.extend(watcher.take_errors());
        assert!(
            matches!(&errors[..], [FolderError::Read { path, .. }] if path == &locked),
            "reported once: {errors:?}"
        );
        assert_eq!(files(dir.path()), ["locked.xml"]);
        assert!(recorder.all().is_empty());
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).expect("chmod");
        wait_for("locked.xml once readable", Duration::from_secs(10), || {
            recorder.count("locked.xml") == 1
        });
    }

    #[test]
    fn an_idle_watcher_scans_only_at_its_interval() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("waiting.xml"), b"<x/>").expect("write");
        // A marker policy keeps one file pending for good; events are on.
        let watcher = FolderWatcher::start(
            dir.path(),
            ReadPolicy {
                completion_suffix: Some(".done".into()),
                ..policy(20)
            },
            |_| Disposition::Processed,
        )
        .expect("start");
        wait_scans(&watcher, 1);
        let before = watcher.scans();
        // A quiet period cannot be awaited as a condition; 1 s is 10 rescan intervals.
        thread::sleep(Duration::from_secs(1));
        let scans = watcher.scans() - before;
        assert!(
            scans <= 12,
            "{scans} scans in 1 s: the watcher reacts to its own reads"
        );
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("nope");
        let err = FolderWatcher::start(&missing, ReadPolicy::default(), |_| Disposition::Processed)
            .expect_err("missing folder");
        assert!(matches!(&err, FolderError::Scan { path, .. } if path == &missing));
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_moved_to_rejected_itself_and_its_target_is_never_read() {
        let outside = tempfile::tempdir().expect("temp dir");
        let secret = outside.path().join("shadow");
        fs::write(&secret, b"TOP-SECRET-4711\n").expect("write");
        let dir = tempfile::tempdir().expect("temp dir");
        std::os::unix::fs::symlink(&secret, dir.path().join("x.xml")).expect("link");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(dir.path(), policy(20), recorder.handler(accept_all))
            .expect("start");
        let rejected = dir.path().join(REJECTED);
        wait_for("the link to move", Duration::from_secs(10), || {
            entries(&rejected) == ["x.xml", "x.xml.reason"]
        });
        let moved = fs::symlink_metadata(rejected.join("x.xml")).expect("moved");
        assert!(moved.file_type().is_symlink(), "the link itself moved");
        assert_eq!(fs::read_link(rejected.join("x.xml")).expect("link"), secret);
        assert_eq!(fs::read(&secret).expect("target"), b"TOP-SECRET-4711\n");
        let seen = recorder.all();
        assert_eq!(seen.len(), 1);
        assert!(
            seen[0].bytes.is_empty(),
            "nothing of the target handed over"
        );
        let refused = seen[0].refused.clone().expect("refused");
        let refused = refused.reason();
        assert!(refused.contains("symbolic link"), "{refused}");
        let reason = fs::read_to_string(rejected.join("x.xml.reason")).expect("reason");
        assert!(reason.contains("symbolic link"), "{reason}");
        assert!(!reason.contains("TOP-SECRET"), "{reason}");
        assert!(entries(dir.path()).is_empty());
        assert!(watcher.take_errors().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_rejected_without_blocking_the_watcher() {
        let dir = tempfile::tempdir().expect("temp dir");
        let made = Command::new("mkfifo")
            .arg(dir.path().join("pipe.xml"))
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(dir.path(), policy(20), recorder.handler(accept_all))
            .expect("start");
        write_atomic(dir.path(), "after.xml", &message(100, 1)).expect("write");
        let rejected = dir.path().join(REJECTED);
        wait_for("both", Duration::from_secs(10), || {
            entries(&rejected) == ["pipe.xml", "pipe.xml.reason"]
                && files(&dir.path().join(PROCESSED)) == ["after.xml"]
        });
        let reason = fs::read_to_string(rejected.join("pipe.xml.reason")).expect("reason");
        assert!(reason.contains("FIFO"), "{reason}");
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn a_file_over_the_size_limit_is_rejected_unread() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(
            dir.path(),
            ReadPolicy {
                max_bytes: 1000,
                ..policy(20)
            },
            recorder.handler(accept_all),
        )
        .expect("start");
        write_atomic(dir.path(), "big.xml", &message(1001, 1)).expect("write");
        write_atomic(dir.path(), "fits.xml", &message(1000, 2)).expect("write");
        wait_for("both", Duration::from_secs(10), || {
            files(&dir.path().join(REJECTED)) == ["big.xml", "big.xml.reason"]
                && files(&dir.path().join(PROCESSED)) == ["fits.xml"]
        });
        let big = recorder
            .all()
            .into_iter()
            .find(|s| s.name == "big.xml")
            .expect("offered");
        assert!(big.bytes.is_empty());
        let refused = big.refused.expect("refused");
        assert!(matches!(&refused, Refusal::TooLarge(r) if r.contains("1001 bytes")));
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn names_with_a_backslash_and_other_legal_characters_are_handled_and_moved() {
        let dir = tempfile::tempdir().expect("temp dir");
        let names = [
            r"a\b.xml",
            "sp ace.xml",
            "æøå.xml",
            "q'uo\"te.xml",
            "-dash.xml",
            "x.xml\r",
        ];
        for (i, name) in names.iter().enumerate() {
            fs::write(dir.path().join(name), message(100, i as u8)).expect("write");
        }
        // A rejected one needs its `.reason` beside it under the same odd name.
        fs::write(dir.path().join(r"c:\bad.xml"), b"no trailer").expect("write");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(dir.path(), policy(20), recorder.handler(judge_trailer))
            .expect("start");
        let processed = dir.path().join(PROCESSED);
        wait_for("every name", Duration::from_secs(10), || {
            files(&processed).len() == names.len() && files(&dir.path().join(REJECTED)).len() == 2
        });
        let mut expected: Vec<String> = names.iter().map(|s| (*s).to_string()).collect();
        expected.sort();
        assert_eq!(files(&processed), expected);
        assert_eq!(
            files(&dir.path().join(REJECTED)),
            [r"c:\bad.xml", r"c:\bad.xml.reason"]
        );
        assert!(files(dir.path()).is_empty(), "nothing left in the folder");
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn a_reason_file_never_echoes_quoted_content() {
        let dir = tempfile::tempdir().expect("temp dir");
        let watcher = FolderWatcher::start(dir.path(), policy(20), |_| {
            Disposition::Rejected(
                "the body is neither FHIR JSON nor FHIR XML: it starts with `root:$6$secret`"
                    .into(),
            )
        })
        .expect("start");
        write_atomic(dir.path(), "shadow.xml", b"root:$6$secret:19000:0").expect("write");
        let reason_file = dir.path().join(REJECTED).join("shadow.xml.reason");
        wait_for("the reason", Duration::from_secs(10), || {
            reason_file.exists()
        });
        let reason = fs::read_to_string(&reason_file).expect("reason");
        assert_eq!(
            reason,
            "the body is neither FHIR JSON nor FHIR XML: it starts with `…`\n"
        );
        assert!(watcher.take_errors().is_empty());
        assert_eq!(reason_text("a `b` c `d"), "a `…` c `…`\n");
    }

    #[test]
    fn a_file_written_in_place_with_a_long_pause_is_read_whole_once_it_settles() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        // Stable after 50 ms, settled after 3 s; the writer pauses 600 ms mid-file.
        let watcher = FolderWatcher::start(
            dir.path(),
            ReadPolicy {
                settle_for: Duration::from_secs(3),
                ..policy(50)
            },
            recorder.handler(judge_settling),
        )
        .expect("start");
        let expected = message(20_000, 9);
        let (first, second) = expected.split_at(8_000);
        let mut file = fs::File::create(dir.path().join("slow.xml")).expect("create");
        file.write_all(first).expect("first half");
        file.flush().expect("flush");
        wait_for(
            "the half file to be offered",
            Duration::from_secs(10),
            || recorder.count("slow.xml") >= 1,
        );
        thread::sleep(Duration::from_millis(600));
        assert!(
            files(&dir.path().join(REJECTED)).is_empty(),
            "a half-written file is not rejected while its writer pauses"
        );
        assert_eq!(files(dir.path()), ["slow.xml"], "it stays in place");
        file.write_all(second).expect("second half");
        file.flush().expect("flush");
        drop(file);
        wait_for("slow.xml whole", Duration::from_secs(10), || {
            files(&dir.path().join(PROCESSED)) == ["slow.xml"]
        });
        let seen = recorder.all();
        let last = seen.last().expect("offered");
        assert!(last.bytes == expected, "handed over whole");
        assert!(last.in_place, "known as written in place");
        assert!(seen[0].bytes.len() < expected.len() && !seen[0].settled);
        assert!(files(&dir.path().join(REJECTED)).is_empty());
        assert!(watcher.take_errors().is_empty());
    }

    #[test]
    fn a_cut_off_file_that_never_grows_is_rejected_once_it_settles() {
        let dir = tempfile::tempdir().expect("temp dir");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(
            dir.path(),
            ReadPolicy {
                settle_for: Duration::from_millis(500),
                ..policy(20)
            },
            recorder.handler(judge_settling),
        )
        .expect("start");
        let started = Instant::now();
        fs::write(dir.path().join("cut.xml"), b"<message>").expect("write");
        wait_for("cut.xml rejected", Duration::from_secs(10), || {
            files(&dir.path().join(REJECTED)) == ["cut.xml", "cut.xml.reason"]
        });
        assert!(started.elapsed() >= Duration::from_millis(500));
        let seen = recorder.all();
        assert!(seen.last().is_some_and(|s| s.settled), "{seen:?}");
        assert_eq!(
            fs::read_to_string(dir.path().join(REJECTED).join("cut.xml.reason")).expect("read"),
            "truncated: 9 bytes without the closing tag\n"
        );
        assert!(watcher.take_errors().is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_name_that_is_not_utf8_is_moved_to_rejected_unread() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let raw = std::ffi::OsStr::from_bytes(b"latin1-\xe6\xf8\xe5.xml");
        fs::write(dir.path().join(raw), message(100, 1)).expect("write");
        let recorder = Recorder::default();
        let watcher = FolderWatcher::start(dir.path(), policy(20), recorder.handler(accept_all))
            .expect("start");
        let rejected = dir.path().join(REJECTED);
        wait_for("the move", Duration::from_secs(10), || {
            files(&rejected).len() == 2
        });
        assert_eq!(
            files(&rejected),
            [
                "latin1-\u{FFFD}\u{FFFD}\u{FFFD}.xml",
                "latin1-\u{FFFD}\u{FFFD}\u{FFFD}.xml.reason"
            ]
        );
        assert!(entries(dir.path()).is_empty(), "nothing left in the folder");
        let seen = recorder.all();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].bytes.is_empty());
        assert!(
            seen[0]
                .refused
                .as_ref()
                .is_some_and(|r| r.reason().contains("not UTF-8"))
        );
        assert!(watcher.take_errors().is_empty());
    }
}
