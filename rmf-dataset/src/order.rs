//! The order a streaming loader visits a dataset's samples in: a pure function of the seed, the
//! epoch, the rank and the world size, so that every rank computes its share without talking
//! to the others, and a restart computes the same order again.
//!
//! 1. Each episode's samples are cut into **blocks** of `block` consecutive samples (the last
//!    block of an episode may be shorter). The blocks of all episodes are shuffled.
//! 2. The shuffled blocks, end to end, are the epoch's sequence of all `n` samples. Rank `r`
//!    of `w` takes the positions `[r·m, (r+1)·m)` of it, `m` samples per rank: `n / w` when
//!    the remainder is dropped, `⌈n / w⌉` when it is padded (positions past the end wrap to
//!    the start, as `DistributedSampler` pads).
//! 3. A **shuffle buffer** of `buffer` samples mixes the rank's positions: it fills, then each
//!    next position replaces a uniformly chosen one, which is emitted; the rest is shuffled at
//!    the end. This is the rank's order.
//! 4. Worker `k` of `K` takes, from the rank's order past the first `skip` samples, the groups
//!    of `group` consecutive samples numbered `k, k + K, k + 2K, ...`. A DataLoader asks its
//!    workers for batches of `group` samples round robin, so the batches it yields are the
//!    rank's order, in order, whatever `K` is: a state of "`skip` samples yielded" resumes
//!    with any number of workers.
//!
//! Randomness: a block keeps `block` consecutive reference times together (they share chunks,
//! so they read once); the buffer interleaves about `buffer / block` blocks at a time. Two
//! samples of one block are therefore never further apart than about `buffer` places, and a
//! larger block or smaller buffer is more local and less random.
//!
//! The generator is SplitMix64 with its keys derived from the seed, epoch and rank as written
//! here, so that another implementation (or a later version of this one) can reproduce an
//! order exactly; a general-purpose random crate does not promise stable streams.

/// Samples per block unless told otherwise: 2 s of a 30 Hz camera.
pub const DEFAULT_BLOCK: u64 = 64;
/// Samples in the shuffle buffer unless told otherwise (16 blocks).
pub const DEFAULT_BUFFER: u64 = 1024;

/// What to do with the `n mod world_size` samples that do not divide among the ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remainder {
    /// Give some ranks one more sample repeated from the start of the epoch's sequence, so
    /// that every rank has `⌈n / w⌉` samples (every sample is visited at least once).
    Pad,
    /// Leave out the last `n mod w` positions of the epoch's sequence (every rank has
    /// `⌊n / w⌋` samples; every visited sample is visited once).
    Drop,
}

/// The parameters of an order (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The seed of the shuffles.
    pub seed: u64,
    /// The epoch: each epoch has its own shuffles.
    pub epoch: u64,
    /// Consecutive samples kept together (at least 1).
    pub block: u64,
    /// Samples of the shuffle buffer (0 or 1: no mixing beyond the blocks).
    pub buffer: u64,
    /// The remainder policy.
    pub remainder: Remainder,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            seed: 0,
            epoch: 0,
            block: DEFAULT_BLOCK,
            buffer: DEFAULT_BUFFER,
            remainder: Remainder::Pad,
        }
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): one 64-bit state, well mixed output.
struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator of one purpose (`tag`) of one epoch and rank.
    fn keyed(seed: u64, epoch: u64, tag: u64, rank: u64) -> Self {
        let mut g = SplitMix64(seed);
        for k in [epoch, tag, rank] {
            g.0 = g.next() ^ k;
        }
        g
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `[0, n)` (`n ≥ 1`), by multiplying and keeping the high half (Lemire): the
    /// bias is below `n / 2^64`.
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

const TAG_BLOCKS: u64 = 1;
const TAG_BUFFER: u64 = 2;

impl Order {
    /// Samples each rank visits in an epoch of `n` samples.
    pub fn per_rank(&self, n: u64, world: u64) -> u64 {
        let world = world.max(1);
        match self.remainder {
            Remainder::Pad => n.div_ceil(world),
            Remainder::Drop => n / world,
        }
    }

    /// Rank `rank`'s order over a dataset whose episode `e` holds the samples
    /// `starts[e]..starts[e + 1]` (`starts` ascending, its last entry the sample count).
    pub fn rank(&self, starts: &[u64], rank: u64, world: u64) -> RankOrder {
        let mut blocks: Vec<(u64, u64)> = Vec::new();
        for w in starts.windows(2) {
            let (mut lo, hi) = (w[0], w[1]);
            while lo < hi {
                let end = hi.min(lo.saturating_add(self.block.max(1)));
                blocks.push((lo, end));
                lo = end;
            }
        }
        let mut g = SplitMix64::keyed(self.seed, self.epoch, TAG_BLOCKS, 0);
        for i in (1..blocks.len()).rev() {
            let j = g.below(i as u64 + 1) as usize;
            blocks.swap(i, j);
        }
        let n = starts.last().copied().unwrap_or(0);
        let m = self.per_rank(n, world);
        let first = rank.saturating_mul(m);
        RankOrder {
            span: Span::new(blocks, n, first, m),
            buffer: Vec::with_capacity(self.buffer.min(m).min(1 << 20) as usize),
            size: self.buffer.max(1),
            rng: SplitMix64::keyed(self.seed, self.epoch, TAG_BUFFER, rank),
            draining: false,
        }
    }
}

/// The positions `[first, first + m)` of the epoch's sequence (the shuffled blocks end to
/// end), wrapping past its end, as sample indices.
struct Span {
    blocks: Vec<(u64, u64)>,
    n: u64,
    /// The next position and how many are left.
    pos: u64,
    left: u64,
    /// The block holding `pos` and `pos`'s offset in the sequence at that block's start.
    block: usize,
    block_start: u64,
}

impl Span {
    fn new(blocks: Vec<(u64, u64)>, n: u64, first: u64, m: u64) -> Self {
        let mut s = Span {
            blocks,
            n,
            pos: 0,
            left: if n == 0 { 0 } else { m },
            block: 0,
            block_start: 0,
        };
        s.seek(if n == 0 { 0 } else { first % n });
        s
    }

    /// Puts the cursor at position `p` (`p < n`).
    fn seek(&mut self, p: u64) {
        self.pos = p;
        self.block = 0;
        self.block_start = 0;
        while let Some(&(lo, hi)) = self.blocks.get(self.block) {
            if p < self.block_start + (hi - lo) {
                break;
            }
            self.block_start += hi - lo;
            self.block += 1;
        }
    }
}

impl Iterator for Span {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.left == 0 {
            return None;
        }
        let &(lo, hi) = self.blocks.get(self.block)?;
        let sample = lo + (self.pos - self.block_start);
        self.left -= 1;
        self.pos += 1;
        if self.pos - self.block_start == hi - lo {
            self.block_start = self.pos;
            self.block += 1;
            if self.pos == self.n {
                self.seek(0); // padding wraps to the start
            }
        }
        Some(sample)
    }
}

/// One rank's samples in order (see the module documentation): an iterator of sample
/// indices, computed as it goes (memory: the blocks and the buffer).
pub struct RankOrder {
    span: Span,
    buffer: Vec<u64>,
    size: u64,
    rng: SplitMix64,
    draining: bool,
}

impl Iterator for RankOrder {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.size <= 1 {
            return self.span.next();
        }
        while !self.draining && (self.buffer.len() as u64) < self.size {
            match self.span.next() {
                Some(x) => self.buffer.push(x),
                None => self.draining = true,
            }
        }
        if self.buffer.is_empty() {
            return None;
        }
        let j = self.rng.below(self.buffer.len() as u64) as usize;
        if self.draining {
            return Some(self.buffer.swap_remove(j));
        }
        match self.span.next() {
            Some(x) => Some(std::mem::replace(&mut self.buffer[j], x)),
            None => {
                self.draining = true;
                Some(self.buffer.swap_remove(j))
            }
        }
    }
}

/// Worker `worker` of `workers`' share of a rank's `order`, past its first `skip` samples: the
/// groups of `group` consecutive samples numbered `worker`, `worker + workers`, ...
pub fn worker_share(
    order: impl Iterator<Item = u64>,
    skip: u64,
    group: u64,
    worker: u64,
    workers: u64,
) -> impl Iterator<Item = u64> {
    let (group, workers) = (group.max(1), workers.max(1));
    order
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .enumerate()
        .filter(move |(p, _)| (*p as u64 / group) % workers == worker)
        .map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts() -> Vec<u64> {
        // Four episodes of 100, 37, 1 and 250 samples.
        vec![0, 100, 137, 138, 388]
    }

    #[test]
    fn every_sample_once_per_epoch_across_ranks_and_workers() {
        for (world, workers, remainder) in [
            (2, 2, Remainder::Drop),
            (3, 2, Remainder::Drop),
            (1, 3, Remainder::Pad),
            (5, 1, Remainder::Pad),
        ] {
            let o = Order {
                seed: 7,
                remainder,
                ..Order::default()
            };
            let mut seen = Vec::new();
            for r in 0..world {
                for k in 0..workers {
                    seen.extend(worker_share(o.rank(&starts(), r, world), 0, 4, k, workers));
                }
            }
            let n = 388u64;
            assert_eq!(seen.len() as u64, o.per_rank(n, world) * world);
            seen.sort_unstable();
            let mut distinct = seen.clone();
            distinct.dedup();
            match remainder {
                // Exactly once: n mod world samples left out.
                Remainder::Drop => {
                    assert_eq!(distinct.len(), seen.len());
                    assert_eq!(seen.len() as u64, n - n % world);
                }
                // Every sample, and the padding repeats the fewest possible.
                Remainder::Pad => {
                    assert_eq!(distinct, (0..n).collect::<Vec<_>>());
                    assert_eq!(seen.len() as u64 - n, (world - n % world) % world);
                }
            }
        }
    }

    #[test]
    fn the_order_is_a_function_of_seed_and_epoch() {
        let o = Order {
            seed: 3,
            ..Order::default()
        };
        let a: Vec<u64> = o.rank(&starts(), 1, 2).collect();
        assert_eq!(a, o.rank(&starts(), 1, 2).collect::<Vec<_>>());
        let next = Order {
            epoch: 1,
            ..o.clone()
        };
        assert_ne!(a, next.rank(&starts(), 1, 2).collect::<Vec<_>>());
        let other = Order { seed: 4, ..o };
        assert_ne!(a, other.rank(&starts(), 1, 2).collect::<Vec<_>>());
    }

    #[test]
    fn pinned_order_of_seed_zero() {
        // The order is part of the contract (resumption across versions): it must not change.
        let o = Order {
            block: 4,
            buffer: 8,
            ..Order::default()
        };
        let got: Vec<u64> = o.rank(&[0, 10, 20], 0, 1).collect();
        let mut sorted = got.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        // Computed from the rules in spec/dataset.md by an independent implementation.
        assert_eq!(
            got,
            [17, 15, 9, 13, 4, 16, 14, 12, 1, 7, 10, 11, 5, 6, 19, 3, 18, 8, 0, 2]
        );
        let o = Order {
            seed: 7,
            ..Order::default()
        };
        let got: Vec<u64> = o.rank(&starts(), 1, 3).take(10).collect();
        assert_eq!(got, [264, 341, 130, 244, 246, 362, 342, 202, 225, 134]);
    }

    #[test]
    fn blocks_stay_near_each_other() {
        let o = Order {
            block: 8,
            buffer: 1,
            ..Order::default()
        };
        let got: Vec<u64> = o.rank(&starts(), 0, 1).collect();
        // Without a buffer, each block's samples come out consecutive and ascending.
        for w in got.chunks(8).take(5) {
            assert!(
                w.windows(2).all(|p| p[1] == p[0] + 1) || w.len() < 8,
                "{w:?}"
            );
        }
    }

    #[test]
    fn workers_together_yield_the_rank_order_batch_by_batch() {
        let o = Order::default();
        let rank: Vec<u64> = o.rank(&starts(), 0, 1).collect();
        for workers in 1..=4u64 {
            let shares: Vec<Vec<u64>> = (0..workers)
                .map(|k| worker_share(o.rank(&starts(), 0, 1), 10, 4, k, workers).collect())
                .collect();
            // A DataLoader takes a batch of 4 from each worker in turn.
            let mut merged = Vec::new();
            let mut at = vec![0usize; workers as usize];
            'outer: loop {
                for k in 0..workers as usize {
                    let s = &shares[k];
                    if at[k] >= s.len() {
                        break 'outer;
                    }
                    let end = (at[k] + 4).min(s.len());
                    merged.extend_from_slice(&s[at[k]..end]);
                    at[k] = end;
                }
            }
            assert_eq!(merged, rank[10..10 + merged.len()], "{workers} workers");
            assert!(rank.len() - 10 - merged.len() < 4 * workers as usize);
        }
    }
}
