//! The evidence package MedCom asks for: every message of a run named by MedCom's convention,
//! the reports and the review log in one zip, with a manifest of SHA-256 sums signed in minisign's
//! format (Ed25519), so anyone can check it with the `minisign` tool as well as with
//! `medcom-harness evidence verify`.
//!
//! - [`key`]: `key new` writes a minisign key pair, the secret key scrypt-encrypted under a
//!   password exactly as the `minisign` tool writes it (the `minisign` crate implements the
//!   format); loading keys for signing and verifying.
//! - [`name`]: MedCom's evidence file names, `<Standard>_<step>_<letter>_<S|R>.<ext>` (e.g.
//!   `CareCommunication_3.4_A_S.xml`), given to every message of a run.
//! - [`manifest`]: the manifest, one `<sha256>  <path>` line per file (the format of
//!   `sha256sum`, so `sha256sum -c manifest.sha256` checks an unzipped package too).
//! - [`pack`]: `evidence pack`, the zip.
//! - [`verify`]: `evidence verify`, which checks the signature and names every changed, added and
//!   missing file.
//!
//! Layout of a package: the messages at the top (MedCom's reviewers open the zip and see them by
//! their protocol names), `evidence-index.tsv` saying which scenario, step and evidence id each
//! one is, `report/` (the HTML, JSON and JUnit reports as the run wrote them), `review/` (the
//! review log and the files reviewers attached), `manifest.sha256` and its signature
//! `manifest.sha256.minisig`.
//!
//! Source of the naming convention and of the zip: MedCom's test protocols, e.g. "Testprotokol
//! CareCommunication – afsendelse" 5.0.2 (April 2026), section "Dokumentation": evidence files are
//! named by standard, protocol step, a consecutive letter and S (sent) or R (received), and zipped
//! with the protocol. Minisign format: <https://jedisct1.github.io/minisign/>.

pub mod key;
pub mod manifest;
pub mod name;
pub mod pack;
pub mod verify;

use std::path::PathBuf;

pub use key::{KeyPair, new_key_pair, read_public_key, read_secret_key};
pub use pack::{Packed, pack};
pub use verify::{Problem, Verdict, verify};

/// The manifest's name inside a package.
pub const MANIFEST: &str = "manifest.sha256";
/// The manifest's minisign signature inside a package.
pub const SIGNATURE: &str = "manifest.sha256.minisig";
/// The table of evidence names inside a package.
pub const INDEX: &str = "evidence-index.tsv";

/// The harness could not make or read a package or a key. A package that does not verify is a
/// [`Verdict`], not an error.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// A file could not be read.
    #[error("failed to read `{}`", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("failed to write `{}`", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key file exists already; `key new` never overwrites one.
    #[error("`{}` exists already; a key is never overwritten", .path.display())]
    KeyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// A key could not be made, read or decrypted (a wrong password, a file that is not a
    /// minisign key).
    #[error("minisign key `{}`: {message}", .path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// What minisign said.
        message: String,
    },
    /// The manifest could not be signed.
    #[error("failed to sign the manifest: {message}")]
    Sign {
        /// What minisign said.
        message: String,
    },
    /// The JSON results could not be read.
    #[error("failed to read the results `{}`", .path.display())]
    Results {
        /// The results file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The zip could not be written or read as a zip.
    #[error("zip `{}`", .path.display())]
    Zip {
        /// The zip file.
        path: PathBuf,
        /// The zip library's error.
        #[source]
        source: zip::result::ZipError,
    },
}
