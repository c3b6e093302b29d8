//! `run --partition hash:K/N`: one of N stable shares of the selected scenarios, so a CI matrix
//! of N machines runs the suite once between them and `report merge` joins their results.
//!
//! A scenario belongs to share `1 + h(id) mod N`, where `h` is 64-bit FNV-1a over the
//! scenario id's UTF-8 bytes (Fowler, Noll, Vo: <http://www.isthe.com/chongo/tech/comp/fnv/>):
//! the same id lands in the same share on every machine, harness version and run, whatever
//! else the suite holds. Applied after `--filter`/`--skip`.

/// One share of the scenarios: `index` of `count`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Which share, `1..=count`.
    pub index: u32,
    /// How many shares.
    pub count: u32,
}

/// A `--partition` value that is not `hash:K/N` with `1 <= K <= N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a partition: write `hash:K/N` with 1 <= K <= N, e.g. `hash:2/4`")]
pub struct PartitionError {
    /// The value given.
    pub given: String,
}

impl std::str::FromStr for Partition {
    type Err = PartitionError;

    fn from_str(text: &str) -> Result<Partition, PartitionError> {
        let bad = || PartitionError {
            given: text.to_owned(),
        };
        let (k, n) = text
            .strip_prefix("hash:")
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Partition { index, count })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hash:{}/{}", self.index, self.count)
    }
}

impl Partition {
    /// Whether the scenario `id` is in this share.
    pub fn includes(&self, id: &str) -> bool {
        fnv1a(id.as_bytes()) % u64::from(self.count) == u64::from(self.index - 1)
    }
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        // From the FNV reference test suite (test_fnv.c, FNV-1a 64-bit): "" and "a", "foobar".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn every_id_is_in_exactly_one_share() {
        let shares: Vec<Partition> = (1..=3)
            .map(|k| format!("hash:{k}/3").parse().expect("valid"))
            .collect();
        for i in 0..500 {
            let id = format!("cc-scenario-{i}");
            assert_eq!(shares.iter().filter(|p| p.includes(&id)).count(), 1, "{id}");
        }
    }

    #[test]
    fn only_hash_k_of_n_with_k_from_1_to_n_parses() {
        assert_eq!(
            "hash:2/4".parse::<Partition>(),
            Ok(Partition { index: 2, count: 4 })
        );
        for bad in [
            "hash:0/4",
            "hash:5/4",
            "2/4",
            "hash:a/4",
            "hash:1/0",
            "round:1/2",
        ] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }
}
