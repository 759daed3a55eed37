//! MCAP / ROS 2 import: one `.mcap` file (a ROS 2 bag) becomes one episode.
//!
//! Messages are read with the `mcap` crate (chunks compressed with zstd or lz4 included) and
//! their payloads decoded by a small CDR reader of this module (plain CDR, little-endian, the
//! encoding of ROS 2's default middlewares). What each ROS 2 type becomes:
//!
//! | ROS 2 type | streams |
//! |---|---|
//! | `sensor_msgs/msg/Image` | frames `<topic>`: `rgb8` and `bgr8` (converted) as rgb8, `mono8`/`8UC1` as gray8, `mono16`/`16UC1` as gray16 with units `["mm"]`; other encodings are skipped with the reason |
//! | `sensor_msgs/msg/CompressedImage` | frames `<topic>`: JPEG or PNG (also `compressedDepth` PNG) decoded, then as an Image |
//! | `sensor_msgs/msg/JointState` | signals `<topic>/position`, `/velocity`, `/effort`: float64 `[n]` named by `name`; empty arrays write nothing; a message whose joint count or names differ from the stream's is skipped and counted |
//! | `sensor_msgs/msg/Imu` | signal `<topic>`: float64 `[10]` `qx qy qz qw wx wy wz ax ay az` (covariances are not kept) |
//! | `geometry_msgs/msg/WrenchStamped` | signal `<topic>`: float64 `[6]` `fx fy fz tx ty tz` |
//! | `audio_common_msgs/msg/AudioData`, `AudioDataStamped` | audio `<topic>`: PCM `S16LE` as i16, `F32LE` as f32, at the sample rate and channel count of the first message that parses of the `audio_common_msgs/msg/AudioInfo` topic in the same namespace (`/mic/audio` takes `/mic/audio_info`; the only AudioInfo topic of the file otherwise); each message is one block. Audio without such a format (no AudioInfo, `mp3`, other sample formats) is kept as raw events (or skipped, like unknown topics) with the reason in the report |
//! | anything else | events `<topic>`, one `raw` event per message with payload `{"schema", "encoding", "data_base64"}`; or skipped ([`McapImportOptions::with_keep_unknown`]) |
//!
//! The AudioInfo topic itself is not stored as a stream when an audio topic takes its format
//! (the stream's sample rate, channels and type are that format); an AudioInfo topic whose
//! format changes within the bag gives none; `AudioData` has no header, so
//! its blocks are stamped with their log time, which is when the block arrived rather than when
//! its first sample was taken: prefer `AudioDataStamped`.
//!
//! Stream names are the topics without their leading `/`. Every sample is stamped with its
//! message's `std_msgs/Header` stamp (`sec * 1e9 + nanosec`, [`TimeSource::HeaderStamp`], the
//! default; for unknown types too when their definition starts with a header, else the log
//! time) or with the MCAP log time ([`TimeSource::LogTime`]). A topic whose stamps go backwards
//! is written in time order (the report says so): an RMF stream's times never decrease.
//!
//! The file is read twice, first for the times (to find each topic's order and the episode's
//! start), then for the samples; only the messages of out-of-order topics are held in memory.
//! The episode is written beside `output` and renamed into place when complete, so a failed
//! import leaves no half file. Damaged payloads are errors ([`Error::Malformed`], "ROS 2 message
//! payload") naming the file, the topic, the message (its index in the topic, from 0, and its
//! log time) and the byte offset within the message where decoding failed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Serialize;

use rmf_core::{
    DType, EpisodeMeta, EpisodeWriter, Error, Event, FrameCodec, PixelFormat, Progress, Result,
    StreamId, StreamInfo, WriteOptions,
};

/// Reports to `progress`, if any.
fn report(progress: Option<&Progress>, done: u64, total: u64) {
    if let Some(p) = progress {
        p.report(done, total);
    }
}

mod audio;
mod cdr;
mod container;
mod frames;
mod options;
mod report;
mod scan;
mod sink;
mod topic;

use audio::*;
use cdr::*;
use container::{Messages, Stop};
use frames::*;
pub use options::{
    McapImportOptions, TimeSource, DEFAULT_COLOR_CODEC, DEFAULT_DEPTH_CODEC,
    DEFAULT_MAX_RECORD_BYTES,
};
pub use report::{McapImportReport, TopicReport};
use scan::*;
use sink::*;
use topic::*;

/// Imports the MCAP file `input` (ROS 2 messages, CDR-encoded) into a new episode `output`.
/// See the module documentation for what each message type becomes.
pub fn import_mcap(
    input: &Path,
    output: &Path,
    opts: &McapImportOptions,
) -> Result<McapImportReport> {
    if !opts.overwrite {
        // Before reading the input; publishing checks again.
        rmf_core::place::refuse_existing(output)?;
    }
    let data = read_input(input)?;
    let file = input.display().to_string();
    let mut scan = guarded(&file, || scan(&data, &file, opts))?;
    let (start_time_ns, bytes, chunks) =
        rmf_core::place::write_new_file(output, opts.overwrite, |tmp| {
            guarded(&file, || {
                write_episode(&data, input, &file, tmp, opts, &mut scan)
            })
        })?;
    Ok(McapImportReport {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        time_source: opts.time_source,
        start_time_ns,
        bytes,
        chunks,
        topics: scan.topics.into_iter().map(|t| t.report).collect(),
        damage: scan.damage,
    })
}

/// Runs `f`, turning a panic into an error instead of an aborted process. Every length from the
/// file is checked before the mcap crate sees it (see `container`), so no panic is known; this
/// is the last resort should the crate have another.
fn guarded<T>(file: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::Io {
            path: PathBuf::from(file),
            op: "read MCAP",
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the MCAP reader failed ({why}): the file is damaged or not MCAP"),
            ),
        })
    })
}

/// The MCAP file's bytes, memory-mapped.
enum Input {
    Mapped(memmap2::Mmap),
    Empty,
}

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(m) => m,
            Input::Empty => &[],
        }
    }
}

fn read_input(path: &Path) -> Result<Input> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io(path, "stat", e))?
        .len();
    if len == 0 {
        return Ok(Input::Empty);
    }
    // SAFETY: the map is read-only and lives for this import only; an MCAP file changed by
    // another process while it is imported is outside what this importer supports (as for
    // every mmap-based reader, including EpisodeReader).
    #[allow(unsafe_code)]
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, "mmap", e))?;
    Ok(Input::Mapped(map))
}

/// An error of the MCAP container (not of a message payload), as an I/O error of kind
/// `InvalidData` on the file. The mcap reader says what, not where a record starts: the error
/// says how far reading got.
fn container_error(file: &str, len: u64, stop: Stop) -> Error {
    let detail = match stop {
        Stop::Truncated(e) => e,
        Stop::Bad { offset, detail } => {
            format!("{detail} (stopped after byte {offset} of {len})")
        }
    };
    Error::Io {
        path: PathBuf::from(file),
        op: "read MCAP",
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, detail),
    }
}
