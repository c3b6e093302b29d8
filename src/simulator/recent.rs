//! A bounded memory of what the reference vendor answered: the newest entries by key, within a
//! count and a byte budget, the oldest forgotten first.
//!
//! `serve` as a load target receives tens of thousands of messages; keeping each (its bytes and
//! its parsed JSON, ~100 KB and more) made its memory grow without end (1.2 GB after 11,700
//! messages). The duplicate matrix keeps only ids; the messages and acknowledgements that
//! answer a duplicate (MR8) or build a follow-up are needed only for a while after they
//! arrived, so they live here.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Up to `max_entries` values by key, weighing at most `max_bytes` together (by the weight each
/// was inserted with); inserting past either bound forgets the oldest first. The newest entry
/// is always kept, whatever its weight. Keys are strings unless told (`K`).
#[derive(Debug)]
pub(super) struct Recent<V, K = String> {
    map: HashMap<K, (V, usize)>,
    /// Keys from oldest to newest.
    order: VecDeque<K>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl<V> Recent<V> {
    /// An empty memory by string keys of at most `max_entries` values weighing `max_bytes`
    /// together.
    pub(super) fn new(max_entries: usize, max_bytes: usize) -> Recent<V> {
        Recent::keyed(max_entries, max_bytes)
    }
}

impl<V, K: Hash + Eq + Clone> Recent<V, K> {
    /// An empty memory of at most `max_entries` values weighing `max_bytes` together.
    pub(super) fn keyed(max_entries: usize, max_bytes: usize) -> Recent<V, K> {
        Recent {
            map: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_entries: max_entries.max(1),
            max_bytes,
        }
    }

    /// The value under `key`, if still remembered.
    pub(super) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get(key).map(|(v, _)| v)
    }

    /// Remembers `value` under `key` with `weight` (bytes), replacing an earlier value of that
    /// key, then forgets the oldest entries until both bounds hold.
    pub(super) fn insert(&mut self, key: K, value: V, weight: usize) {
        match self.map.insert(key.clone(), (value, weight)) {
            Some((_, old)) => self.bytes -= old,
            None => self.order.push_back(key),
        }
        self.bytes += weight;
        while self.order.len() > 1
            && (self.order.len() > self.max_entries || self.bytes > self.max_bytes)
        {
            if let Some(oldest) = self.order.pop_front()
                && let Some((_, w)) = self.map.remove(&oldest)
            {
                self.bytes -= w;
            }
        }
    }

    /// How many values it holds.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_count_the_oldest_is_forgotten_first() {
        let mut recent = Recent::new(2, usize::MAX);
        recent.insert("a".into(), 1, 0);
        recent.insert("b".into(), 2, 0);
        recent.insert("c".into(), 3, 0);
        assert_eq!(recent.get("a"), None);
        assert_eq!((recent.get("b"), recent.get("c")), (Some(&2), Some(&3)));
    }

    #[test]
    fn past_the_byte_budget_the_oldest_go_but_the_newest_stays() {
        let mut recent = Recent::new(100, 10);
        recent.insert("a".into(), 'a', 4);
        recent.insert("b".into(), 'b', 4);
        recent.insert("c".into(), 'c', 4);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.get("a"), None);
        recent.insert("big".into(), 'x', 50);
        assert_eq!(recent.len(), 1);
        assert_eq!(recent.get("big"), Some(&'x'));
    }

    #[test]
    fn a_key_inserted_again_is_replaced_not_counted_twice() {
        let mut recent = Recent::new(2, usize::MAX);
        recent.insert("a".into(), 1, 5);
        recent.insert("a".into(), 2, 7);
        recent.insert("b".into(), 3, 0);
        assert_eq!((recent.get("a"), recent.get("b")), (Some(&2), Some(&3)));
        assert_eq!(recent.bytes, 7);
    }
}
