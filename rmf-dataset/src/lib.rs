//! # rmf-dataset: many episodes, sampled for training, shared and exported
//!
//! The dataset layer: many episodes, sampled at reference times with every other stream
//! aligned to them (as-of, nearest, linear) or windowed around them, with pad masks.
//! Alignment happens at read time; nothing is resampled on disk.

pub mod align;
pub mod chunk_cache;
pub mod export;
pub mod index;
pub mod sample;
pub mod share;
pub mod stats;

pub use align::{Policy, Window};
pub use chunk_cache::{ChunkCache, DEFAULT_CHUNK_CACHE_BYTES};
pub use episodes::{
    merged_stats, Dataset, DatasetOptions, Reference, Sample, DEFAULT_MAX_OPEN_EPISODES,
};
pub use index::{build_index, read_index, IndexReport, IndexedEpisode, IndexedStream, INDEX_FILE};
pub use sample::{
    default_tolerance_ns, EpisodeSampler, EventLabels, Missing, Query, StreamValue, WindowSpec,
    TAKEOVER_END, TAKEOVER_START,
};

mod episodes;
pub use stats::{merge as merge_stats, MergedStats, StreamStats, REPORTED_QUANTILES};
