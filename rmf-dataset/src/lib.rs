//! # rmf-dataset: many episodes, sampled for training, shared and exported
//!
//! The dataset layer: a directory of episodes, indexed in `episodes.parquet`, sampled at
//! reference times with every other stream aligned to them (as-of, nearest, linear) or windowed
//! around them, with pad masks. Alignment happens at read time; nothing is resampled on disk.
//! The rules are in `spec/dataset.md`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`index`] | [`build_index`] / [`read_index`]: one Parquet row per episode, refreshed only for changed files |
//! | [`align`] | the alignment policies ([`Policy`]) and windows over one stream's times |
//! | [`sample`] | one episode sampled: [`Query`] per stream, [`StreamValue`] and [`EventLabels`] out |
//! | `episodes` | [`Dataset`]: every episode as one sequence of samples, a bounded set of open files |
//! | [`chunk_cache`] | decoded signal chunks kept between samples, within a byte budget |
//! | [`stats`] | normalization statistics merged from the index without reading episodes |
//! | [`order`] | a streaming loader's order: blocks, ranks, shuffle buffer, workers; a pure function |
//! | [`prefetch`] | samples decoded ahead on threads, in order, within a byte budget |
//! | [`share`] | copies for sharing: only what may leave, with provenance |
//! | [`export`] | a stream as a Parquet or CSV table |
//!
//! ## Example
//! ```
//! use rmf_core::{DType, EpisodeMeta, EpisodeWriter, StreamInfo, WriteOptions};
//! use rmf_dataset::{build_index, Dataset, DatasetOptions, Missing, Policy, Query, Reference};
//!
//! # fn main() -> rmf_core::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("rmf-doc-dataset-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! # std::fs::create_dir_all(&dir).unwrap();
//! // Two episodes: a 10 Hz action stream and a 100 Hz joint stream on one clock.
//! for name in ["a.rmf", "b.rmf"] {
//!     let mut w = EpisodeWriter::create(dir.join(name), EpisodeMeta::new(), WriteOptions::default())?;
//!     let act = w.add_stream(StreamInfo::signal("action", DType::Float32, &[2]).with_rate(10.0))?;
//!     let q = w.add_stream(StreamInfo::signal("joints", DType::Float32, &[1]).with_rate(100.0))?;
//!     for i in 0..100i64 {
//!         let t = i * 10_000_000;
//!         w.write_signal(q, t, &[i as f32])?;
//!         if i % 10 == 0 {
//!             w.write_signal(act, t + 1_000_000, &[i as f32, 0.0])?;
//!         }
//!     }
//!     w.finish()?;
//! }
//! build_index(&dir)?; // writes dir/episodes.parquet
//!
//! // One sample per action; the joints as the controller saw them (the last at or before t).
//! let asof = Query::At { policy: Policy::AsOf, tolerance_ns: None, missing: Missing::Error };
//! let ds = Dataset::open(
//!     &dir,
//!     DatasetOptions::new(Reference::Stream("action".into())).with_stream("joints", asof),
//! )?;
//! assert_eq!(ds.len(), 20);
//! let s = ds.get(3)?; // episode 0, the action at 30 ms + 1 ms
//! assert_eq!(s.t, 301_000_000);
//! let joints = &s.values[0].1;
//! assert_eq!(joints.t, [300_000_000]); // the joint sample at 300 ms, not the one after
//! # Ok(()) }
//! ```

pub mod align;
pub mod chunk_cache;
pub mod export;
pub mod index;
pub mod order;
pub mod prefetch;
pub mod sample;
pub mod share;
pub mod stats;

pub use align::{Policy, Window};
pub use chunk_cache::{ChunkCache, DEFAULT_CHUNK_CACHE_BYTES};
pub use episodes::{
    merged_stats, Dataset, DatasetOptions, Reference, Sample, DEFAULT_BATCH_THREADS,
    DEFAULT_MAX_OPEN_EPISODES,
};
pub use index::{
    build_index, build_index_at, read_index, read_index_at, read_index_table, write_index_at,
    IndexReport, IndexedEpisode, IndexedStream, INDEX_FILE,
};
pub use order::{worker_share, Order, RankOrder, Remainder, DEFAULT_BLOCK, DEFAULT_BUFFER};
pub use prefetch::{Prefetcher, DEFAULT_PREFETCH_BYTES};
pub use sample::{
    default_tolerance_ns, EpisodeSampler, EventLabels, Missing, Query, StreamValue, WindowSpec,
    TAKEOVER_END, TAKEOVER_START,
};

mod episodes;
pub use stats::{merge as merge_stats, MergedStats, StreamStats, REPORTED_QUANTILES};
