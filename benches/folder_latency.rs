//! Folder-mode latency: from a file landing in a watched folder to the handler being called with
//! it, `cargo bench --bench folder_latency`. Target: median below 50 ms.
//!
//! The vendor is played by this program, writing into a folder under the target directory (a
//! real disk, not tmpfs), with the default [`ReadPolicy`]:
//!
//! - `atomic drop, one at a time`: write a temporary name, rename it to its final name (the VANS
//!   convention); "landed" is the instant the rename returned. The next file is dropped once the
//!   handler has seen the previous one.
//! - `atomic drop, burst`: the same, all files dropped back to back; each file's latency counts
//!   from its own rename, so the later ones include the queue before them (reading, handling and
//!   moving, with two folder syncs, per file).
//! - `in place`: written and closed under the final name; such a file is taken only after its size
//!   and time have been stable for `stable_for` (1 s by default), so this measures that window.

use medcom_harness::transport::{Disposition, FolderWatcher, ReadPolicy};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PAYLOAD: usize = 16 * 1024;
const SEQUENTIAL: usize = 300;
const BURST: usize = 200;
const IN_PLACE: usize = 10;

fn main() {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch folder");
    let payload: Vec<u8> = (0..PAYLOAD).map(|i| b"<Bundle/>\n"[i % 10]).collect();
    println!(
        "folder latency, landing -> handler, {PAYLOAD} byte files, default ReadPolicy, folder on {}",
        scratch.path().display()
    );

    let dir = scratch.path().join("sequential");
    std::fs::create_dir(&dir).expect("folder");
    let (watcher, seen) = watch(&dir, ReadPolicy::default());
    let mut latencies = Vec::new();
    for i in 0..SEQUENTIAL {
        let landed = drop_atomically(&dir, &format!("m{i:05}.xml"), &payload);
        let (_, at) = seen
            .recv_timeout(Duration::from_secs(5))
            .expect("handed over");
        latencies.push(at - landed);
    }
    drop(watcher);
    print("atomic drop, one at a time", &mut latencies);

    let dir = scratch.path().join("burst");
    std::fs::create_dir(&dir).expect("folder");
    let (watcher, seen) = watch(&dir, ReadPolicy::default());
    let landed: Vec<Instant> = (0..BURST)
        .map(|i| drop_atomically(&dir, &format!("m{i:05}.xml"), &payload))
        .collect();
    let mut latencies = Vec::new();
    for _ in 0..BURST {
        let (name, at) = seen
            .recv_timeout(Duration::from_secs(10))
            .expect("handed over");
        let index: usize = name[1..6].parse().expect("numbered name");
        latencies.push(at - landed[index]);
    }
    drop(watcher);
    print("atomic drop, burst", &mut latencies);

    let dir = scratch.path().join("in-place");
    std::fs::create_dir(&dir).expect("folder");
    let (watcher, seen) = watch(&dir, ReadPolicy::default());
    let mut latencies = Vec::new();
    for i in 0..IN_PLACE {
        std::fs::write(dir.join(format!("m{i:05}.xml")), &payload).expect("write in place");
        let landed = Instant::now();
        let (_, at) = seen
            .recv_timeout(Duration::from_secs(5))
            .expect("handed over");
        latencies.push(at - landed);
    }
    drop(watcher);
    print("in place (waits stable_for = 1 s)", &mut latencies);
}

/// Starts a watcher whose handler reports each name with the instant it was called.
fn watch(dir: &Path, policy: ReadPolicy) -> (FolderWatcher, mpsc::Receiver<(String, Instant)>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let watcher = FolderWatcher::start(dir, policy, move |arrived| {
        let at = Instant::now();
        let _ = tx
            .lock()
            .expect("sender lock")
            .send((arrived.name.clone(), at));
        Disposition::Processed
    })
    .expect("watcher starts");
    (watcher, rx)
}

/// Writes `name` the way a VANS-style vendor does; returns when it landed (the rename returned).
fn drop_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Instant {
    let temp = dir.join(format!("{name}.tmp"));
    std::fs::write(&temp, bytes).expect("write temporary file");
    std::fs::rename(&temp, dir.join(name)).expect("rename into place");
    Instant::now()
}

fn print(label: &str, latencies: &mut [Duration]) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "{label:<36} n={:<4} median {:>9.3} ms   p95 {:>9.3} ms   max {:>9.3} ms",
        latencies.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}
