//! Minisign key pairs: `key new` and the loading of keys for `evidence pack` and `verify`.
//!
//! The secret key is encrypted with a key derived from the password by scrypt, in minisign's own
//! format, so the `minisign` tool can use it too (`minisign -S -s KEY`). The public key file is
//! minisign's two lines (`untrusted comment: …` and the base64 key).

use std::path::{Path, PathBuf};

use super::EvidenceError;

/// A secret key, decrypted, with its public key.
pub struct KeyPair {
    /// The public key.
    pub public: minisign::PublicKey,
    /// The secret key, decrypted.
    pub secret: minisign::SecretKey,
}

/// The public key file of secret key file `secret`: `secret` with `.pub` appended
/// (`KEY` -> `KEY.pub`).
pub fn public_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_os_string();
    name.push(".pub");
    PathBuf::from(name)
}

/// Makes a key pair: the secret key encrypted with `password` at `secret`, the public key at
/// [`public_path`]. Neither file may exist; the secret key file is readable by its owner only.
///
/// # Errors
///
/// [`EvidenceError::KeyExists`] when a file exists, [`EvidenceError::Key`] when minisign cannot
/// make the key, [`EvidenceError::Write`] when a file cannot be written.
pub fn new_key_pair(secret: &Path, password: String) -> Result<PathBuf, EvidenceError> {
    let public = public_path(secret);
    for path in [secret, public.as_path()] {
        if path.exists() {
            return Err(EvidenceError::KeyExists {
                path: path.to_path_buf(),
            });
        }
    }
    let key_error = |e: minisign::PError| EvidenceError::Key {
        path: secret.to_path_buf(),
        message: e.to_string(),
    };
    let pair = minisign::KeyPair::generate_encrypted_keypair(Some(password)).map_err(key_error)?;
    let secret_box = pair
        .sk
        .to_box(Some("medcom-harness evidence key, encrypted"))
        .map_err(key_error)?;
    let public_box = pair.pk.to_box().map_err(key_error)?;
    write_new(secret, &secret_box.to_bytes(), true)?;
    write_new(&public, &public_box.to_bytes(), false)?;
    Ok(public)
}

/// Writes a file that must not exist yet; `private` makes it readable by its owner only.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), EvidenceError> {
    use std::io::Write as _;
    let failed = |source| EvidenceError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// Reads the secret key at `path` and decrypts it with `password`; the public key is derived
/// from it.
///
/// # Errors
///
/// [`EvidenceError::Read`] when the file cannot be read, [`EvidenceError::Key`] when it is not a
/// minisign secret key or the password is wrong.
pub fn read_secret_key(path: &Path, password: String) -> Result<KeyPair, EvidenceError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvidenceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let key_error = |e: minisign::PError| EvidenceError::Key {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let secret = minisign::SecretKeyBox::from_string(&text)
        .and_then(|b| b.into_secret_key(Some(password)))
        .map_err(key_error)?;
    let public = minisign::PublicKey::from_secret_key(&secret).map_err(key_error)?;
    Ok(KeyPair { public, secret })
}

/// Reads a public key: minisign's public key file (two lines), or the bare base64 key as
/// `minisign -P` takes it.
///
/// # Errors
///
/// [`EvidenceError::Read`] when the file cannot be read, [`EvidenceError::Key`] when it holds
/// no minisign public key.
pub fn read_public_key(path: &Path) -> Result<minisign::PublicKey, EvidenceError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvidenceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let key_error = |e: minisign::PError| EvidenceError::Key {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.lines().count() == 1 {
        minisign::PublicKey::from_base64(trimmed).map_err(key_error)
    } else {
        minisign::PublicKeyBox::from_string(&text)
            .and_then(minisign::PublicKeyBox::into_public_key)
            .map_err(key_error)
    }
}
