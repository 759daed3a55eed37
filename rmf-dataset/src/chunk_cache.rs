//! Decoded signal chunks kept between samples, with a hard memory bound.
//!
//! Training samples a window of a signal (the next 16 actions, the last 100 ms of force) out of
//! a chunk of thousands of rows; samples drawn near each other in an episode fall in the same
//! chunks. Keeping the decoded chunks saves decoding them again. The cache holds at most its
//! byte budget (decoded bytes: timestamps plus values), evicting the least recently used chunk,
//! so that memory stays bounded whatever the dataset's size. Frames are not cached here: a
//! decoded frame chunk is megabytes, and video decoders keep their own state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Default budget of a dataset's chunk cache: 32 MiB per process (each DataLoader worker has its
/// own), about 250 chunks of a 1 kHz 6-axis float32 stream at the writer's default 4 s chunks.
pub const DEFAULT_CHUNK_CACHE_BYTES: usize = 32 << 20;

/// One decoded chunk: its rows' timestamps and values (row-major bytes).
#[derive(Debug)]
pub struct DecodedChunk {
    /// Timestamps.
    pub t: Vec<i64>,
    /// Values, `row_bytes` per row.
    pub bytes: Vec<u8>,
}

impl DecodedChunk {
    fn size(&self) -> usize {
        self.t.len() * 8 + self.bytes.len()
    }
}

/// What identifies a chunk: the open file (its reader's process-unique id), stream, chunk.
pub type ChunkKey = (u64, usize, usize);

/// A least-recently-used cache of decoded chunks under a byte budget, shared by the episodes
/// of a dataset.
#[derive(Debug)]
pub struct ChunkCache {
    budget: usize,
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<ChunkKey, (Arc<DecodedChunk>, u64)>,
    bytes: usize,
    clock: u64,
}

impl ChunkCache {
    /// A cache holding at most `budget` decoded bytes (0 disables it).
    pub fn new(budget: usize) -> Self {
        ChunkCache {
            budget,
            inner: Mutex::new(Entries::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The chunk, if cached (and now the most recently used).
    pub fn get(&self, key: ChunkKey) -> Option<Arc<DecodedChunk>> {
        let mut e = self.lock();
        e.clock += 1;
        let now = e.clock;
        e.map.get_mut(&key).map(|(c, used)| {
            *used = now;
            c.clone()
        })
    }

    /// Keeps a chunk, evicting the least recently used until the budget holds. A chunk larger
    /// than the whole budget is not kept.
    pub fn insert(&self, key: ChunkKey, chunk: Arc<DecodedChunk>) {
        let size = chunk.size();
        if size > self.budget {
            return;
        }
        let mut e = self.lock();
        e.clock += 1;
        let now = e.clock;
        if let Some((old, _)) = e.map.insert(key, (chunk, now)) {
            e.bytes -= old.size();
        }
        e.bytes += size;
        while e.bytes > self.budget {
            let Some((&victim, _)) = e.map.iter().min_by_key(|(_, (_, used))| *used) else {
                break;
            };
            if let Some((c, _)) = e.map.remove(&victim) {
                e.bytes -= c.size();
            }
        }
    }

    /// Decoded bytes held now (never more than the budget).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// The budget.
    pub fn budget(&self) -> usize {
        self.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(rows: usize) -> Arc<DecodedChunk> {
        Arc::new(DecodedChunk {
            t: vec![0; rows],
            bytes: vec![0; rows * 8],
        })
    }

    #[test]
    fn evicts_least_recently_used_within_budget() {
        let c = ChunkCache::new(3 * 160); // three chunks of 10 rows (160 bytes each)
        for i in 0..3 {
            c.insert((1, 0, i), chunk(10));
        }
        assert!(c.get((1, 0, 0)).is_some()); // 0 is now the most recent
        c.insert((1, 0, 3), chunk(10));
        assert!(c.get((1, 0, 1)).is_none(), "the least recently used went");
        assert!(c.get((1, 0, 0)).is_some() && c.get((1, 0, 3)).is_some());
        assert_eq!(c.bytes(), 480);
        c.insert((1, 0, 9), chunk(100)); // over the whole budget: not kept
        assert!(c.get((1, 0, 9)).is_none());
        assert!(c.bytes() <= c.budget());
    }
}
