//! # rmf-core: the Robot Multimodal Format
//!
//! An RMF file holds one recorded robot episode: named streams of any rate (camera frames,
//! audio, numeric signals, event logs) whose samples all carry int64 nanosecond timestamps on
//! one shared clock. Samples are stored in chunks, one stream and one time window each,
//! compressed column by column and checksummed; a footer indexes every chunk by stream and time.
//! The file is written append-only, so a crash loses only the chunks not yet written, and any
//! program can read any stream at any time touching only the chunks it needs. `spec/` in the
//! repository describes the bytes.
//!
//! This crate is the format and the episode: what a recorder on a robot needs, and nothing of
//! datasets (`rmf-dataset`), other formats (`rmf-import`) or the `rmf` command (`rmf-cli`).
//! Its only RMF dependency is `rmf-codecs` (column encodings, frame codecs, element types),
//! re-exported as [`codecs`].
//!
//! ## Modules, from the bytes up
//!
//! | module | what it holds |
//! |---|---|
//! | [`format`](mod@format) | magic and version, record framing, CRC32C, the trailer; bounds-checked reads of file bytes |
//! | [`chunk`] | the body of a chunk record: header, statistics, buffer directory, buffers |
//! | [`footer`] | the episode, stream and footer records; the chunk index ([`ChunkEntry`]) |
//! | `schema` | what an episode declares: [`EpisodeMeta`], [`StreamInfo`], [`StreamKind`], [`Sensitivity`] |
//! | [`time`] | the episode clock: int64 ns, order within a stream, what a time range covers |
//! | `kind` | per stream kind: how samples are buffered, laid out in chunks and read as Arrow |
//! | [`crypt`] | encryption of private streams: keys, secrets, sealed chunks (feature `encryption`) |
//! | `write` | [`EpisodeWriter`] and [`WriteOptions`]; frame encoding on a thread per camera |
//! | [`source`] | where a reader's bytes come from: [`RangeSource`], a mapped file, memory; object stores implement it in `rmf-store` |
//! | `read` | [`EpisodeReader`], [`Stream`] and [`ReadOptions`]: time queries over the chunk index; range reads, coalesced and cached, for remote files |
//! | `recover` | [`recover`]: every intact chunk of a damaged or unfinished file |
//! | `validate` | [`validate`]: every checksum, the index against the records, every chunk decoded |
//! | [`edit`] | new files from old: drop, rename, relabel, trim, split, merge, redact, [`transcode`] |
//! | [`place`] | how new files appear: temporary name, sync, link into place |
//! | `progress`, `error` | [`Progress`] callbacks; the one [`Error`] type |
//!
//! ## Features
//!
//! | feature | default | what it adds | what it builds |
//! |---|---|---|---|
//! | `png` | yes | PNG frame streams (lossless, 8 and 16 bit) | `image` (PNG only) |
//! | `jpeg` | yes | JPEG frame streams | `jpeg-encoder`, `zune-jpeg` |
//! | `h264` | yes | H.264 frame streams | `openh264` (its C source; nasm's assembly when present) |
//! | `encryption` | yes | writing and reading encrypted private streams | `chacha20poly1305`, `argon2` |
//!
//! `--no-default-features` builds a writer and reader of signals, audio, events and raw
//! frames: a recorder that only logs sensors compiles no C and no image code. A file that uses
//! a missing feature still opens: its other streams read as usual, and the streams that need
//! the feature fail with [`Error::FeatureMissing`] (or a codec error naming the feature); edits
//! copy their chunks unopened.
//!
//! ## Write
//! ```
//! use rmf_core::{EpisodeMeta, EpisodeWriter, Event, StreamInfo, DType, PixelFormat, WriteOptions};
//!
//! # fn main() -> rmf_core::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("rmf-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("ep.rmf");
//! let meta = EpisodeMeta::new().with_robot("arm-1").with_task("pick cup").with_operator("op-7");
//! let mut w = EpisodeWriter::create(&path, meta, WriteOptions::default().with_overwrite(true))?;
//! let ft = w.add_stream(
//!     StreamInfo::signal("ft/wrist", DType::Float32, &[6])
//!         .with_rate(1000.0)
//!         .with_names(["fx", "fy", "fz", "tx", "ty", "tz"]),
//! )?;
//! let cam = w.add_stream(StreamInfo::frames("cam/front", 4, 2, PixelFormat::Gray8).with_rate(30.0))?;
//! let log = w.add_stream(StreamInfo::events("interventions"))?;
//! for i in 0..100i64 {
//!     let t = i * 1_000_000; // 1 kHz
//!     w.write_signal(ft, t, &[0.1f32, 0.2, 9.8, 0.0, 0.0, i as f32])?;
//!     if i % 33 == 0 {
//!         w.write_frame(cam, t, &[i as u8; 8])?;
//!     }
//! }
//! w.write_event(log, 50_000_000, &Event::new("takeover_start").with_operator("op-7"))?;
//! let summary = w.finish()?;
//! assert_eq!(summary.samples[0], ("ft/wrist".to_string(), 100));
//! # Ok(()) }
//! ```
//!
//! ## Read
//! ```
//! # use rmf_core::*;
//! # fn main() -> rmf_core::Result<()> {
//! # let dir = std::env::temp_dir().join(format!("rmf-doc-read-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let path = dir.join("ep.rmf");
//! # let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default().with_overwrite(true))?;
//! # let ft = w.add_stream(StreamInfo::signal("ft/wrist", DType::Float32, &[6]))?;
//! # for i in 0..100i64 { w.write_signal(ft, i * 1_000_000, &[0.1f32, 0.2, 9.8, 0.0, 0.0, i as f32])?; }
//! # w.finish()?;
//! use arrow_array::{Array, FixedSizeListArray, Float32Array};
//!
//! let r = EpisodeReader::open(&path)?;
//! let batch = r.read_range("ft/wrist", 10_000_000, 20_000_000)?; // [t0, t1)
//! assert_eq!(batch.num_rows(), 10);
//!
//! let last = r.at("ft/wrist", 42_500_000)?.expect("a sample at or before t");
//! let value = last.column(1).as_any().downcast_ref::<FixedSizeListArray>().unwrap().value(0);
//! let value = value.as_any().downcast_ref::<Float32Array>().unwrap();
//! assert_eq!(value.value(5), 42.0); // the sample at 42 ms
//!
//! // Or typed, without Arrow:
//! let (t, v) = r.signal_range::<f32>("ft/wrist", 0, i64::MAX)?;
//! assert_eq!((t.len(), v.len()), (100, 600));
//! # Ok(()) }
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(not(target_endian = "little"))]
compile_error!("rmf-core supports little-endian targets only (the file format is little-endian and buffers are cast in place)");

pub mod chunk;
pub mod crypt;
pub mod edit;
mod error;
pub mod footer;
pub mod format;
mod kind;
pub mod place;
mod progress;
mod read;
mod recover;
mod schema;
pub mod source;
pub mod time;
mod validate;
mod write;

/// The codec layer, re-exported: element types, pixel formats, column encodings, frame codecs.
pub use rmf_codecs as codecs;
pub use rmf_codecs::column as codec;
pub use rmf_codecs::{
    with_dtype, DType, Element, FrameCodec, FrameSpec, PixelFormat, DEFAULT_GOP, DEFAULT_H264_QP,
    DEFAULT_JPEG_QUALITY, MAX_GOP,
};

pub use crypt::{Key, KeyRecord, Secret, StreamEncryption, DEFAULT_MAX_KDF_COST};
pub use edit::{transcode, TranscodeOptions, TranscodeReport, TranscodedStream};
pub use error::{Error, Result};
pub use footer::{ChunkEntry, SkippedStream};
pub use kind::{AudioBlock, Event};
pub use progress::Progress;
pub use read::{
    coalesce, default_read_budget, memory_available, EpisodeReader, ReadOptions, SampleRef, Stream,
    StreamSummary, DEFAULT_COALESCE_GAP, DEFAULT_MAX_CHUNK_BYTES, DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_RANGE_CACHE_BYTES, DEFAULT_TAIL_BYTES,
};
pub use recover::{recover, recover_with, recover_with_limit, Damage, RecoveryReport};
pub use schema::{EpisodeMeta, Sensitivity, StreamInfo, StreamKind, WriterInfo, TAGS_KEY};
pub use source::{read_exact, InMemory, MappedFile, RangeSource, Tail};
pub use validate::{validate, validate_reader, validate_with, Problem, ValidationReport};
pub use write::{
    EpisodeWriter, FrameQueueReport, QueueFull, StreamId, WriteOptions, WriteSummary,
    DEFAULT_CHUNK_BYTES, DEFAULT_CHUNK_DURATION_NS, DEFAULT_FRAME_QUEUE, MAX_CHUNK_DECODED_BYTES,
};
