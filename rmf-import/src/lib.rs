//! # rmf-import: other formats into RMF episodes
//!
//! One module per source format, each turning a file made by another tool into an RMF episode
//! through `rmf_core::EpisodeWriter`, with a report of what was kept, converted or left out.
//!
//! | module | source | entry points |
//! |---|---|---|
//! | [`mcap`] | MCAP files (ROS 2 bags, CDR messages) | [`mcap::import_mcap`], [`mcap::McapImportOptions`] |
//! | [`wav`] | WAV files (PCM and float) | [`wav::import`], [`wav::export`] |
//!
//! LeRobot and HDF5 datasets are imported by the Python package (`rmf.convert`), which uses
//! the field's own readers for them.
//!
//! ## Example
//! ```
//! use rmf_core::EpisodeReader;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("rmf-doc-import-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! // A second of 16 kHz mono sound, as a microphone recorder writes it.
//! let (wav, episode) = (dir.join("mic.wav"), dir.join("mic.rmf"));
//! let spec = hound::WavSpec { channels: 1, sample_rate: 16_000, bits_per_sample: 16,
//!                             sample_format: hound::SampleFormat::Int };
//! let mut w = hound::WavWriter::create(&wav, spec)?;
//! for i in 0..16_000 {
//!     w.write_sample((i % 100) as i16)?;
//! }
//! w.finalize()?;
//!
//! // Into an episode: stream "mic", first sample at 5 s on the episode clock, 20 ms blocks.
//! let report = rmf_import::wav::import(&wav, &episode, "mic", 5_000_000_000, 20, true)?;
//! assert_eq!((report.frames, report.blocks), (16_000, 50));
//! let blocks = EpisodeReader::open(&episode)?.audio_range::<i16>("mic", i64::MIN, i64::MAX)?;
//! assert_eq!(blocks[1].t, 5_020_000_000);
//! # Ok(()) }
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod mcap;
pub mod wav;

pub use mcap::{
    import_mcap, McapImportOptions, McapImportReport, TimeSource, TopicReport,
    DEFAULT_MAX_RECORD_BYTES,
};
