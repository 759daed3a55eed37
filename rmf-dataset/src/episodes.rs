//! A dataset: the episodes listed in `episodes.parquet`, flattened into one sequence of
//! samples. Sample `i` is a reference time in one episode (a sample of the reference stream,
//! or a tick of a fixed rate) with every requested stream aligned or windowed at it. Opening
//! reads the index alone; episode files are opened on first use and a bounded number stay open.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::align::secs_to_ns;
use crate::chunk_cache::ChunkCache;
use crate::index::{read_index_at, IndexedEpisode};
use crate::sample::{EpisodeSampler, EventLabels, Query, StreamValue, WindowSpec};
use crate::stats::{merge, MergedStats, StreamStats};
use rmf_core::{EpisodeReader, ReadOptions};
use rmf_core::{Error, Result};
use rmf_store::{Location, StoreOptions};

/// The timeline samples are drawn on.
#[derive(Debug, Clone, PartialEq)]
pub enum Reference {
    /// Every sample of this stream (e.g. `cam/front`): its real timestamps.
    Stream(String),
    /// Ticks at this rate from the episode's first sample to its last.
    RateHz(f64),
}

/// Threads that decode a batch unless told otherwise.
pub const DEFAULT_BATCH_THREADS: usize = 2;

/// Episode files a dataset keeps open at once unless told otherwise.
pub const DEFAULT_MAX_OPEN_EPISODES: usize = 16;

/// What a dataset samples: [`DatasetOptions::new`] and its `with_` setters.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetOptions {
    reference: Reference,
    streams: Vec<(String, Query)>,
    episodes: Option<Vec<String>>,
    max_open_episodes: usize,
    secret: Option<rmf_core::Secret>,
    chunk_cache_bytes: usize,
    store: StoreOptions,
    batch_threads: usize,
}

impl DatasetOptions {
    /// Samples at every sample of stream `reference`, with no other stream yet.
    pub fn new(reference: Reference) -> Self {
        DatasetOptions {
            reference,
            streams: Vec::new(),
            episodes: None,
            max_open_episodes: DEFAULT_MAX_OPEN_EPISODES,
            secret: None,
            chunk_cache_bytes: super::DEFAULT_CHUNK_CACHE_BYTES,
            store: StoreOptions::default(),
            batch_threads: DEFAULT_BATCH_THREADS,
        }
    }

    /// Adds a stream to every sample, taken as `query` says (streams come out in the order
    /// they are added).
    pub fn with_stream(mut self, name: impl Into<String>, query: Query) -> Self {
        self.streams.push((name.into(), query));
        self
    }

    /// Uses only these episodes, by id or file (as in the index); `None`: all.
    pub fn with_episodes(mut self, episodes: Option<Vec<String>>) -> Self {
        self.episodes = episodes;
        self
    }

    /// Decodes a batch ([`Dataset::get_many`]) on this many threads (default
    /// [`DEFAULT_BATCH_THREADS`]; 1 decodes on the calling thread's helper alone).
    pub fn with_batch_threads(mut self, n: usize) -> Self {
        self.batch_threads = n.max(1);
        self
    }

    /// Keeps at most this many episode files open at once (each keeps the timestamps of the
    /// streams sampled, 8 bytes a sample, and a memory map); the least recently used is closed
    /// first. Default [`DEFAULT_MAX_OPEN_EPISODES`].
    pub fn with_max_open_episodes(mut self, n: usize) -> Self {
        self.max_open_episodes = n;
        self
    }

    /// Opens encrypted streams with this key or passphrase (without one, sampling an
    /// encrypted stream is [`Error::Encrypted`]).
    pub fn with_secret(mut self, secret: Option<rmf_core::Secret>) -> Self {
        self.secret = secret;
        self
    }

    /// Keeps this many bytes of decoded signal chunks between samples (0: none), shared by
    /// every episode of the dataset in this process; see [`super::ChunkCache`]. Default
    /// [`super::DEFAULT_CHUNK_CACHE_BYTES`].
    pub fn with_chunk_cache_bytes(mut self, bytes: usize) -> Self {
        self.chunk_cache_bytes = bytes;
        self
    }

    /// Settings of the object store a dataset URL is in (over the environment's).
    pub fn with_store(mut self, store: StoreOptions) -> Self {
        self.store = store;
        self
    }

    /// See [`DatasetOptions::with_store`].
    pub fn store(&self) -> &StoreOptions {
        &self.store
    }

    /// The timeline.
    pub fn reference(&self) -> &Reference {
        &self.reference
    }

    /// Each stream of a sample and how it is taken, in output order.
    pub fn streams(&self) -> &[(String, Query)] {
        &self.streams
    }

    /// The episodes selected, if not all.
    pub fn episodes(&self) -> Option<&[String]> {
        self.episodes.as_deref()
    }
}

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Position of the episode in [`Dataset::episodes`].
    pub episode: usize,
    /// Reference time.
    pub t: i64,
    /// The requested signal and frame streams, in the order of [`DatasetOptions::streams`].
    pub values: Vec<(String, StreamValue)>,
    /// The requested event streams ([`Query::Events`]), in that order.
    pub labels: Vec<(String, EventLabels)>,
}

/// Episodes of a directory or an object-store prefix, sampled as one sequence.
pub struct Dataset {
    dir: Location,
    episodes: Vec<IndexedEpisode>,
    /// `starts[e]` is the index of episode `e`'s first sample; the last entry is the length.
    starts: Vec<u64>,
    opts: DatasetOptions,
    open: Mutex<VecDeque<(usize, Arc<EpisodeSampler>)>>,
    cache: Arc<ChunkCache>,
}

/// Checks at opening what a sample would otherwise refuse at the first `get`: a window in
/// seconds needs an ordered span and, in every episode, a stream with a nominal rate (its slot
/// count).
fn check_windows(episodes: &[IndexedEpisode], streams: &[(String, Query)]) -> Result<()> {
    for (name, q) in streams {
        let Query::Window(WindowSpec::Seconds { from, to }) = q else {
            continue;
        };
        let ordered = from.partial_cmp(to) == Some(std::cmp::Ordering::Less);
        if !ordered || secs_to_ns(*to) == secs_to_ns(*from) {
            return Err(Error::InvalidArgument(format!(
                "stream {name:?}: a window of seconds ({from}, {to}] must have from < to"
            )));
        }
        for e in episodes {
            if e.stream(name).is_some_and(|s| s.rate_hz.is_none()) {
                return Err(Error::InvalidArgument(format!(
                    "stream {name:?} of episode {} ({}) has no nominal rate: a window in seconds needs one to size its slots (declare the stream with rate_hz, or use a window in steps)",
                    e.id, e.file
                )));
            }
        }
    }
    Ok(())
}

impl Dataset {
    /// Opens `dir` by reading its index (`episodes.parquet`, see [`super::build_index`]).
    /// `dir` may be an object-store URL (`s3://bucket/data/`): opening is then one request for
    /// the index, and each episode is opened on first use by one range request for its footer.
    /// Fails, naming the episode, when a selected episode lacks a stream asked for.
    pub fn open(dir: impl AsRef<Path>, opts: DatasetOptions) -> Result<Self> {
        let dir = Location::from(dir.as_ref());
        let mut episodes = read_index_at(&dir, &opts.store)?;
        if let Some(want) = &opts.episodes {
            for w in want {
                if !episodes.iter().any(|e| &e.id == w || &e.file == w) {
                    return Err(Error::InvalidArgument(format!(
                        "{dir}: no episode {w:?} in the index (ids and files are accepted)"
                    )));
                }
            }
            episodes.retain(|e| want.iter().any(|w| w == &e.id || w == &e.file));
        }
        if let Reference::RateHz(hz) = opts.reference {
            if !(hz.is_finite() && hz > 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "a reference rate must be positive, got {hz} Hz"
                )));
            }
        }
        let mut names: Vec<&str> = opts.streams.iter().map(|(n, _)| n.as_str()).collect();
        if let Reference::Stream(r) = &opts.reference {
            names.push(r);
        }
        for e in &episodes {
            for n in &names {
                if e.stream(n).is_none() {
                    return Err(Error::InvalidArgument(format!(
                        "episode {} ({}) has no stream {n:?} (it has: {})",
                        e.id,
                        e.file,
                        e.streams
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
        }
        check_windows(&episodes, &opts.streams)?;
        let mut starts = Vec::with_capacity(episodes.len() + 1);
        let mut total = 0u64;
        for e in &episodes {
            starts.push(total);
            total += samples_in(e, &opts.reference);
        }
        starts.push(total);
        Ok(Dataset {
            dir,
            episodes,
            starts,
            cache: Arc::new(ChunkCache::new(opts.chunk_cache_bytes)),
            opts,
            open: Mutex::new(VecDeque::new()),
        })
    }

    /// Samples in the dataset.
    pub fn len(&self) -> u64 {
        self.starts.last().copied().unwrap_or(0)
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where each episode's samples start: episode `e` holds samples
    /// `starts[e]..starts[e + 1]`; the last entry is [`Dataset::len`].
    pub fn sample_starts(&self) -> &[u64] {
        &self.starts
    }

    /// Rank `rank` of `world`'s samples for a streaming loader, in the order `order` gives
    /// (see [`crate::order`]).
    pub fn rank_order(&self, order: &crate::Order, rank: u64, world: u64) -> crate::RankOrder {
        order.rank(&self.starts, rank, world)
    }

    /// The episodes used, in index order.
    pub fn episodes(&self) -> &[IndexedEpisode] {
        &self.episodes
    }

    /// The dataset directory or URL.
    pub fn location(&self) -> &Location {
        &self.dir
    }

    /// What is sampled.
    pub fn options(&self) -> &DatasetOptions {
        &self.opts
    }

    /// Normalization statistics of every signal stream, merged from the index (no episode
    /// is read): over the episodes used that have the stream. Fails if the index was written
    /// without statistics (refresh it with [`super::build_index`]).
    pub fn stats(&self) -> Result<Vec<MergedStats>> {
        merged_stats(&self.dir.to_string(), &self.episodes)
    }

    /// The episode and row within it of sample `i`.
    pub fn locate(&self, i: u64) -> Result<(usize, u64)> {
        if i >= self.len() {
            return Err(Error::InvalidArgument(format!(
                "sample {i} is out of range: the dataset has {} samples",
                self.len()
            )));
        }
        let e = self.starts.partition_point(|&s| s <= i) - 1;
        Ok((e, i - self.starts[e]))
    }

    /// Sample `i`.
    pub fn get(&self, i: u64) -> Result<Sample> {
        let (e, sampler, t) = self.reference_time(i)?;
        if sampler.reader().is_remote() {
            let chunks = self.plan(&sampler, t)?;
            sampler.reader().prefetch(&chunks)?;
        }
        self.assemble(e, &sampler, t)
    }

    /// Samples `indices`, in that order (a DataLoader's batch), decoded on
    /// [`DatasetOptions::with_batch_threads`] threads. Episodes in an object store fetch the
    /// chunks of all the samples first, one batch of parallel requests per episode and the
    /// episodes at once, so that a batch costs about one round trip instead of one per sample.
    pub fn get_many(&self, indices: &[u64]) -> Result<Vec<Sample>> {
        let located = indices
            .iter()
            .map(|&i| self.reference_time(i))
            .collect::<Result<Vec<_>>>()?;
        let mut plans: Vec<(Arc<EpisodeSampler>, Vec<usize>)> = Vec::new();
        for (_, sampler, t) in &located {
            if !sampler.reader().is_remote() {
                continue;
            }
            let chunks = self.plan(sampler, *t)?;
            match plans.iter_mut().find(|(s, _)| Arc::ptr_eq(s, sampler)) {
                Some((_, c)) => c.extend(chunks),
                None => plans.push((sampler.clone(), chunks)),
            }
        }
        // Each episode's batch on its own thread: their round trips overlap.
        std::thread::scope(|scope| {
            let running: Vec<_> = plans
                .iter()
                .map(|(s, c)| scope.spawn(move || s.reader().prefetch(c)))
                .collect();
            for h in running {
                h.join()
                    .map_err(|_| Error::InvalidArgument("a prefetch thread panicked".into()))??;
            }
            Ok::<(), Error>(())
        })?;
        // Decoding on threads: one process does the work of several DataLoader workers,
        // without pickling samples between processes.
        let threads = self.opts.batch_threads.clamp(1, located.len().max(1));
        let per = located.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let parts: Vec<_> = located
                .chunks(per)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(e, sampler, t)| self.assemble(*e, sampler, *t))
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(located.len());
            for h in parts {
                let got = h
                    .join()
                    .map_err(|_| Error::InvalidArgument("a decoding thread panicked".into()))?;
                out.extend(got?);
            }
            Ok(out)
        })
    }

    /// Sample `i` of the reference timeline is not the only time a harness asks about: the
    /// sample of episode `e` (its position in [`Dataset::episodes`]) at any time `t`, with the
    /// same streams and rules.
    pub fn sample_at(&self, e: usize, t: i64) -> Result<Sample> {
        if e >= self.episodes.len() {
            return Err(Error::InvalidArgument(format!(
                "episode {e} is out of range: the dataset has {} episodes",
                self.episodes.len()
            )));
        }
        let sampler = self.sampler(e)?;
        if sampler.reader().is_remote() {
            let chunks = self.plan(&sampler, t)?;
            sampler.reader().prefetch(&chunks)?;
        }
        self.assemble(e, &sampler, t)
    }

    /// Every sample that [`Dataset::get`] would refuse, with the error it would return: those
    /// where a stream taken at one time with [`crate::Missing::Error`] has no sample within its
    /// tolerance (an as-of stream that starts after the reference stream, a gap). Found from
    /// timestamps alone: each episode is opened and its streams' times read, nothing is
    /// decoded. In sample order.
    pub fn check(&self) -> Result<Vec<(u64, Error)>> {
        let mut out: Vec<(u64, Error)> = Vec::new();
        for e in 0..self.episodes.len() {
            let sampler = self.sampler(e)?;
            let first = self.starts[e];
            let ts = (0..self.starts[e + 1] - first)
                .map(|row| self.time_of(e, &sampler, row))
                .collect::<Result<Vec<i64>>>()?;
            let mut found = Vec::new();
            for (name, q) in &self.opts.streams {
                for (row, err) in sampler.failures(name, &ts, q)? {
                    found.push((first + row as u64, with_episode(err, &self.episodes[e])));
                }
            }
            // What `get` returns: the first failing stream of each sample.
            found.sort_by_key(|(i, _)| *i);
            found.dedup_by_key(|(i, _)| *i);
            out.extend(found);
        }
        Ok(out)
    }

    /// The episode of sample `i`, its sampler and the reference time.
    fn reference_time(&self, i: u64) -> Result<(usize, Arc<EpisodeSampler>, i64)> {
        let (e, row) = self.locate(i)?;
        let sampler = self.sampler(e)?;
        let t = self.time_of(e, &sampler, row)?;
        Ok((e, sampler, t))
    }

    /// The reference time of row `row` of episode `e`.
    fn time_of(&self, e: usize, sampler: &EpisodeSampler, row: u64) -> Result<i64> {
        Ok(match &self.opts.reference {
            Reference::Stream(name) => {
                let times = sampler.times(name)?;
                *times.get(row as usize).ok_or_else(|| Error::Mismatch {
                    stream: name.clone(),
                    detail: format!(
                        "episode {} has {} samples, the index said more",
                        self.episodes[e].file,
                        times.len()
                    ),
                })?
            }
            Reference::RateHz(hz) => {
                let start = self.episodes[e].start_ns.unwrap_or(0);
                start.saturating_add(tick_ns(row, *hz))
            }
        })
    }

    /// Every stream of episode `e` at reference time `t`.
    fn assemble(&self, e: usize, sampler: &EpisodeSampler, t: i64) -> Result<Sample> {
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for (name, q) in &self.opts.streams {
            let r = match q {
                Query::Events { from, to } => sampler
                    .labels(name, t, *from, *to)
                    .map(|l| labels.push((name.clone(), l))),
                _ => sampler
                    .sample(name, t, q)
                    .map(|v| values.push((name.clone(), v))),
            };
            r.map_err(|err| with_episode(err, &self.episodes[e]))?;
        }
        Ok(Sample {
            episode: e,
            t,
            values,
            labels,
        })
    }

    /// The chunks every stream of a sample at `t` will read (from the index: the time each
    /// query reaches): fetched in one batch of parallel range requests, a remote sample costs
    /// one round trip instead of one per stream. Chunks it misses are fetched when read.
    fn plan(&self, sampler: &EpisodeSampler, t: i64) -> Result<Vec<usize>> {
        let r = sampler.reader();
        let mut chunks = Vec::new();
        for (name, q) in &self.opts.streams {
            let s = r.position(name)?;
            let period = r.streams()[s]
                .rate_hz
                .filter(|hz| *hz > 0.0)
                .map_or(0, |hz| (1.5e9 / hz) as i64);
            let (before, after) = match q {
                Query::At { tolerance_ns, .. } => {
                    let tol = tolerance_ns.unwrap_or(period);
                    (tol, tol)
                }
                Query::Window(crate::sample::WindowSpec::Steps(steps)) => {
                    let lo = steps.iter().copied().min().unwrap_or(0).min(0);
                    let hi = steps.iter().copied().max().unwrap_or(0).max(0);
                    (
                        period.saturating_mul(lo.saturating_neg()),
                        period.saturating_mul(hi),
                    )
                }
                Query::Window(crate::sample::WindowSpec::Seconds { from, to }) => (
                    -rmf_core::time::secs_to_ns(from.min(0.0)),
                    rmf_core::time::secs_to_ns(to.max(0.0)),
                ),
                Query::Events { .. } => continue, // read whole, once per episode
            };
            chunks.extend(r.chunks_around(s, t.saturating_sub(before), t.saturating_add(after)));
        }
        Ok(chunks)
    }

    /// Decoded bytes the chunk cache holds now (at most `chunk_cache_bytes`).
    pub fn cache_bytes(&self) -> usize {
        self.cache.bytes()
    }

    /// The sampler of episode `e`, opening its file if it is not open.
    fn sampler(&self, e: usize) -> Result<Arc<EpisodeSampler>> {
        let mut open = match self.open.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if let Some(k) = open.iter().position(|(i, _)| *i == e) {
            let entry = open
                .remove(k)
                .ok_or_else(|| Error::InvalidArgument("internal".into()))?;
            let s = entry.1.clone();
            open.push_back(entry);
            return Ok(s);
        }
        let ep = &self.episodes[e];
        let mut read = match &self.opts.secret {
            Some(s) => ReadOptions::default().with_secret(s.clone()),
            None => ReadOptions::default(),
        };
        // The index knows the footer's length: a remote episode opens with one exact request.
        if let Some(n) = ep.footer_bytes.filter(|&n| n > 0) {
            read = read.with_tail_bytes(n as u64);
        }
        let size = u64::try_from(ep.file_bytes).ok();
        let src = rmf_store::source(&self.dir.join(&ep.file), size, &self.opts.store)?;
        let s = Arc::new(
            EpisodeSampler::new(EpisodeReader::open_source(src, read)?)
                .with_cache(self.cache.clone()),
        );
        if open.len() >= self.opts.max_open_episodes.max(1) {
            open.pop_front();
        }
        open.push_back((e, s.clone()));
        Ok(s)
    }
}

/// Samples episode `e` contributes on the timeline.
fn samples_in(e: &IndexedEpisode, reference: &Reference) -> u64 {
    match reference {
        Reference::Stream(name) => e.stream(name).map_or(0, |s| s.count.max(0) as u64),
        Reference::RateHz(hz) => match (e.start_ns, e.end_ns) {
            (Some(a), Some(b)) => ticks_within(b.saturating_sub(a), *hz),
            _ => 0,
        },
    }
}

/// Tick `k` of a rate reference, in ns after the episode's start.
fn tick_ns(k: u64, hz: f64) -> i64 {
    (k as f64 * 1e9 / hz).round() as i64
}

/// Ticks `k = 0, 1, …` with [`tick_ns`]`(k) <= span`: counted by the tick times themselves, so
/// that a last sample at exactly `n / hz` (290 frames at 30 fps end at 9.633333333 s, which a
/// float product puts just below tick 289) has its tick.
fn ticks_within(span: i64, hz: f64) -> u64 {
    let mut k = (span as f64 * hz / 1e9).floor().max(0.0) as u64;
    // The estimate is off by at most one either way; each loop runs at most twice.
    while k > 0 && tick_ns(k, hz) > span {
        k -= 1;
    }
    while tick_ns(k + 1, hz) <= span {
        k += 1;
    }
    k + 1
}

/// Adds the episode to errors that name only a stream.
fn with_episode(err: Error, e: &IndexedEpisode) -> Error {
    match err {
        // The message alone: its own "invalid argument: " prefix would be doubled.
        Error::InvalidArgument(msg) => {
            Error::InvalidArgument(format!("episode {} ({}): {msg}", e.id, e.file))
        }
        Error::Mismatch { .. } => {
            Error::InvalidArgument(format!("episode {} ({}): {err}", e.id, e.file))
        }
        other => other,
    }
}

/// Statistics of every signal stream over `episodes`, in order of first appearance.
pub fn merged_stats(dir: &str, episodes: &[IndexedEpisode]) -> Result<Vec<MergedStats>> {
    let mut names: Vec<&str> = Vec::new();
    for e in episodes {
        let stats = e.signal_stats.as_ref().ok_or_else(|| {
            Error::InvalidArgument(format!(
                "{dir}: the index has no statistics for {}; refresh it (rmf index)",
                e.file
            ))
        })?;
        for s in stats {
            if !names.contains(&s.stream.as_str()) {
                names.push(&s.stream);
            }
        }
    }
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let parts: Vec<&StreamStats> = episodes
            .iter()
            .flat_map(|e| e.signal_stats.iter().flatten())
            .filter(|s| s.stream == name)
            .collect();
        out.push(merge(&parts).ok_or_else(|| shape_disagreement(name, episodes))?);
    }
    Ok(out)
}

/// Which episodes give stream `name` how many elements: the error of a merge that cannot be.
fn shape_disagreement(name: &str, episodes: &[IndexedEpisode]) -> Error {
    let mut by_width: std::collections::BTreeMap<usize, Vec<&str>> = Default::default();
    for e in episodes {
        for s in e.signal_stats.iter().flatten().filter(|s| s.stream == name) {
            by_width.entry(s.count.len()).or_default().push(&e.file);
        }
    }
    let groups: Vec<String> = by_width
        .iter()
        .map(|(w, files)| {
            let shown = files.iter().take(3).copied().collect::<Vec<_>>().join(", ");
            let more = files.len().saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{w} elements in {} episodes ({shown}{more})", files.len())
        })
        .collect();
    Error::Mismatch {
        stream: name.to_string(),
        detail: format!(
            "episodes disagree on the stream's shape: {}; leave the stream out (rmf stats --streams, \
             Dataset streams=) or choose episodes that agree (--episodes)",
            groups.join("; ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_tick_is_counted_when_the_last_sample_is_on_it() {
        // 290 frames at 30 fps: the last at round(289e9 / 30) ns.
        assert_eq!(ticks_within(tick_ns(289, 30.0), 30.0), 290);
        assert_eq!(ticks_within(tick_ns(289, 30.0) - 1, 30.0), 289);
        for hz in [29.97, 30.0, 50.0, 1000.0 / 3.0, 7.0] {
            for k in [0u64, 1, 2, 99, 289, 1_000_003] {
                assert_eq!(ticks_within(tick_ns(k, hz), hz), k + 1, "{hz} Hz, tick {k}");
            }
        }
        assert_eq!(ticks_within(0, 30.0), 1);
    }
}
