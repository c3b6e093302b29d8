//! The manifest of a package: one line per file, `<sha256 hex>  <path>`, sorted by path, in the
//! format `sha256sum` writes and checks. It lists every file of the package except itself and its
//! signature; the signature over it is what makes every listed byte count.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

/// The SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The manifest text of `files` (path in the package -> SHA-256 hex).
pub fn render(files: &BTreeMap<String, String>) -> String {
    files
        .iter()
        .map(|(path, sha)| format!("{sha}  {path}\n"))
        .collect()
}

/// The files a manifest lists (path -> SHA-256 hex), or the first line that is not
/// `<64 hex digits>  <path>` (1-based) with the line.
///
/// # Errors
///
/// `(line number, line)` of a malformed or repeated line.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut files = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let bad = || (i + 1, line.to_string());
        let (sha, path) = line.split_once("  ").ok_or_else(bad)?;
        let hex = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex
            || path.is_empty()
            || files
                .insert(path.to_string(), sha.to_ascii_lowercase())
                .is_some()
        {
            return Err(bad());
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_is_the_fips_180_2_example() {
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_manifest_reads_back_as_written_and_rejects_a_repeated_path() {
        let files = BTreeMap::from([
            ("b.xml".to_string(), "a".repeat(64)),
            ("a/c.json".to_string(), "b".repeat(64)),
        ]);
        let text = render(&files);
        assert_eq!(
            text.lines().next(),
            Some(format!("{}  a/c.json", "b".repeat(64)).as_str())
        );
        assert_eq!(parse(&text), Ok(files));
        let twice = format!("{}  x\n{}  x\n", "a".repeat(64), "b".repeat(64));
        assert_eq!(parse(&twice).map_err(|e| e.0), Err(2));
    }
}
