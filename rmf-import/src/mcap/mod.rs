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
//! | anything else | events `<topic>`, one `raw` event per message with payload `{"schema", "encoding", "data_base64"}`; or skipped ([`McapImportOptions::keep_unknown`]) |
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

/// Codec of imported rgb8 and gray8 images when the options do not choose one.
pub const DEFAULT_COLOR_CODEC: FrameCodec = FrameCodec::H264;
/// Codec of imported gray16 (depth) images when the options do not choose one: lossless.
pub const DEFAULT_DEPTH_CODEC: FrameCodec = FrameCodec::Png;

/// Which clock stamps the imported samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The message's `std_msgs/Header` stamp: when the sensor took the sample (the default).
    /// Messages without a header use the log time.
    #[default]
    HeaderStamp,
    /// The MCAP log time: when the recorder received the message.
    LogTime,
}

impl TimeSource {
    /// `"header_stamp"` or `"log_time"`.
    pub fn name(self) -> &'static str {
        match self {
            TimeSource::HeaderStamp => "header_stamp",
            TimeSource::LogTime => "log_time",
        }
    }
}

/// What [`import_mcap`] imports and how it stores it: `McapImportOptions::default()`, then the
/// `with_*` setters (fields are private so that options can be added without breaking
/// callers).
#[derive(Debug, Clone, PartialEq)]
pub struct McapImportOptions {
    /// The clock of every sample.
    pub(crate) time_source: TimeSource,
    /// Keep topics of unknown types as `raw` events (true), or skip them.
    pub(crate) keep_unknown: bool,
    /// Import only these topics (with or without the leading `/`); empty imports all.
    pub(crate) topics: Vec<String>,
    /// Codec of rgb8 and gray8 frames ([`DEFAULT_COLOR_CODEC`]); raw where it cannot hold a
    /// frame size (H.264 needs even sizes of at least 16).
    pub(crate) color_codec: FrameCodec,
    /// Codec of gray16 (depth) frames ([`DEFAULT_DEPTH_CODEC`]); png, else raw, where it cannot
    /// hold 16-bit frames.
    pub(crate) depth_codec: FrameCodec,
    /// JPEG quality, overriding the codec's (default [`rmf_core::DEFAULT_JPEG_QUALITY`]).
    pub(crate) quality: Option<u8>,
    /// H.264 quantizer, overriding the codec's (default [`rmf_core::DEFAULT_H264_QP`]).
    pub(crate) qp: Option<u8>,
    /// H.264 keyframe interval, overriding the codec's (default [`rmf_core::DEFAULT_GOP`]).
    pub(crate) gop: Option<u32>,
    /// Replace `output` if it exists.
    pub(crate) overwrite: bool,
    /// Told the bytes of the MCAP file imported: the first half while it is scanned for its
    /// topics (as far as the summary's message count tells; a bag cut short has none), the
    /// second half while messages are converted and written.
    pub(crate) progress: Option<Progress>,
}

impl Default for McapImportOptions {
    fn default() -> Self {
        McapImportOptions {
            time_source: TimeSource::HeaderStamp,
            keep_unknown: true,
            topics: Vec::new(),
            color_codec: DEFAULT_COLOR_CODEC,
            depth_codec: DEFAULT_DEPTH_CODEC,
            quality: None,
            qp: None,
            gop: None,
            overwrite: false,
            progress: None,
        }
    }
}

impl McapImportOptions {
    /// Sets the clock.
    pub fn with_time_source(mut self, t: TimeSource) -> Self {
        self.time_source = t;
        self
    }

    /// Keeps (true) or skips topics of unknown types.
    pub fn with_keep_unknown(mut self, on: bool) -> Self {
        self.keep_unknown = on;
        self
    }

    /// Adds a topic to import (the others are skipped).
    pub fn with_topic(mut self, topic: impl Into<String>) -> Self {
        self.topics.push(topic.into());
        self
    }

    /// Sets the codec of rgb8 and gray8 frames.
    pub fn with_color_codec(mut self, codec: FrameCodec) -> Self {
        self.color_codec = codec;
        self
    }

    /// Sets the codec of gray16 frames.
    pub fn with_depth_codec(mut self, codec: FrameCodec) -> Self {
        self.depth_codec = codec;
        self
    }

    /// Sets JPEG quality and H.264 quantizer and keyframe interval (`None` keeps defaults).
    pub fn with_codec_settings(
        mut self,
        quality: Option<u8>,
        qp: Option<u8>,
        gop: Option<u32>,
    ) -> Self {
        (self.quality, self.qp, self.gop) = (quality, qp, gop);
        self
    }

    /// Allows replacing `output`.
    pub fn with_overwrite(mut self, on: bool) -> Self {
        self.overwrite = on;
        self
    }

    /// Tells `progress` the bytes of the bag done (see the field's note in the type's docs).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The clock of every sample.
    pub fn time_source(&self) -> TimeSource {
        self.time_source
    }

    /// The codec a frame stream of `format` is stored with first (with the JPEG and H.264
    /// settings applied).
    pub fn codec_for(&self, format: PixelFormat) -> FrameCodec {
        let codec = match format {
            PixelFormat::Gray16 => self.depth_codec,
            _ => self.color_codec,
        };
        self.with_settings(codec)
    }

    /// `codec` with the JPEG quality and H.264 settings of these options.
    fn with_settings(&self, codec: FrameCodec) -> FrameCodec {
        let codec = match self.quality {
            Some(q) => codec.with_quality(q),
            None => codec,
        };
        codec.with_video(self.qp, self.gop)
    }
}

/// What happened to one MCAP channel (a topic).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicReport {
    /// The ROS topic (`/camera/color/image_raw`).
    pub topic: String,
    /// Its schema name (`sensor_msgs/msg/Image`), empty when the channel has none.
    pub schema: String,
    /// The channel's message encoding (`cdr`).
    pub message_encoding: String,
    /// Messages on the channel.
    pub messages: u64,
    /// Messages that became at least one sample.
    pub imported: u64,
    /// The streams the topic became.
    pub streams: Vec<String>,
    /// The clock of its samples (`None` when skipped).
    pub clock: Option<TimeSource>,
    /// True when its stamps went backwards and its messages were written in time order.
    pub sorted: bool,
    /// Why the whole topic was not imported.
    pub skipped: Option<String>,
    /// Anything else worth knowing: messages skipped and why, stamps that are zero, codec
    /// fallbacks.
    pub notes: Vec<String>,
}

/// What [`import_mcap`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McapImportReport {
    /// The MCAP file.
    pub input: PathBuf,
    /// The episode written.
    pub output: PathBuf,
    /// The clock asked for.
    pub time_source: TimeSource,
    /// Time of the first imported message (the episode's start), if any.
    pub start_time_ns: Option<i64>,
    /// Size of the episode file.
    pub bytes: u64,
    /// Chunks written.
    pub chunks: usize,
    /// One entry per channel, in the order they first appear in the file.
    pub topics: Vec<TopicReport>,
    /// Where and why reading stopped early (a truncated or damaged file): every message
    /// before that point was imported.
    pub damage: Option<String>,
}

impl McapImportReport {
    /// Every stream written, in topic order.
    pub fn streams(&self) -> Vec<&str> {
        self.topics
            .iter()
            .flat_map(|t| t.streams.iter().map(String::as_str))
            .collect()
    }

    /// The report of `topic` (with or without its leading `/`).
    pub fn topic(&self, topic: &str) -> Option<&TopicReport> {
        self.topics.iter().find(|t| same_topic(&t.topic, topic))
    }
}

impl fmt::Display for McapImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let imported = self.topics.iter().filter(|t| !t.streams.is_empty()).count();
        writeln!(
            f,
            "imported {} -> {}: {} of {} topics into {} streams ({} bytes, {} chunks; clock: {})",
            self.input.display(),
            self.output.display(),
            imported,
            self.topics.len(),
            self.streams().len(),
            self.bytes,
            self.chunks,
            self.time_source.name(),
        )?;
        if let Some(d) = &self.damage {
            writeln!(f, "  warning: {d}")?;
        }
        for t in &self.topics {
            write!(f, "  {}  {}  {} messages", t.topic, t.schema, t.messages)?;
            match &t.skipped {
                Some(why) => write!(f, ": skipped: {why}")?,
                None => write!(
                    f,
                    " -> {} ({} imported, clock {}{})",
                    t.streams.join(", "),
                    t.imported,
                    t.clock.unwrap_or_default().name(),
                    if t.sorted { ", sorted by time" } else { "" }
                )?,
            }
            writeln!(f)?;
            for n in &t.notes {
                writeln!(f, "      {n}")?;
            }
        }
        Ok(())
    }
}

/// Imports the MCAP file `input` (ROS 2 messages, CDR-encoded) into a new episode `output`.
/// See the module documentation for what each message type becomes.
pub fn import_mcap(
    input: &Path,
    output: &Path,
    opts: &McapImportOptions,
) -> Result<McapImportReport> {
    if !opts.overwrite && output.exists() {
        return Err(Error::InvalidArgument(format!(
            "{} exists (allow replacing it: McapImportOptions::overwrite, `--force`)",
            output.display()
        )));
    }
    let data = read_input(input)?;
    let file = input.display().to_string();
    let mut scan = scan(&data, &file, opts)?;
    let (start_time_ns, bytes, chunks) =
        rmf_core::place::write_new_file(output, opts.overwrite, |tmp| {
            write_episode(&data, input, &file, tmp, opts, &mut scan)
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

/// An error of the MCAP container (not of a message payload): the mcap reader says what, not
/// where, so it is reported as an I/O error of kind `InvalidData` on the file.
fn container_error(file: &str, e: mcap::McapError) -> Error {
    Error::Io {
        path: PathBuf::from(file),
        op: "read MCAP",
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
    }
}

/// The ROS 2 types this importer maps (and those it knows it cannot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MsgKind {
    Image,
    CompressedImage,
    JointState,
    Imu,
    Wrench,
    /// `audio_common_msgs` audio; `stamped` for `AudioDataStamped`.
    Audio {
        stamped: bool,
    },
    /// `audio_common_msgs/AudioInfo`: the format of the audio topics beside it.
    AudioInfo,
    /// Unknown: kept as raw events; `true` when its definition starts with a std_msgs/Header.
    Raw {
        has_header: bool,
    },
    Skip,
}

/// One channel's state through both passes.
struct Topic {
    report: TopicReport,
    kind: MsgKind,
    stream_name: String,
    /// Pass 1: the first and last times, and how often time went backwards.
    first_t: Option<i64>,
    last_t: Option<i64>,
    backwards: u64,
    zero_stamps: u64,
    /// Pass 2: messages seen so far, the held messages of a sorted topic, the sinks.
    seen: u64,
    held: Vec<Held>,
    sink: Sink,
    /// Skipped messages by reason.
    skips: BTreeMap<String, u64>,
    /// An AudioInfo topic: its first message that parses, or why none did.
    audio_info: Option<std::result::Result<AudioInfo, String>>,
    /// An AudioInfo topic whose later messages give another format.
    audio_info_changed: bool,
    /// Chosen by `--topic` (or no topics were named).
    selected: bool,
    /// An audio topic: the format its samples are stored in.
    audio: Option<AudioFormat>,
}

/// The fields of `audio_common_msgs/msg/AudioInfo`.
#[derive(Debug, Clone, PartialEq)]
struct AudioInfo {
    channels: u8,
    sample_rate: u32,
    sample_format: String,
    coding_format: String,
}

impl AudioInfo {
    fn parse(data: &[u8]) -> std::result::Result<Self, CdrError> {
        let mut c = Cdr::new(data)?;
        let channels = c.u8("channels")?;
        let sample_rate = c.u32("sample_rate")?;
        let sample_format = c.string("sample_format")?;
        c.u32("bitrate")?;
        let coding_format = c.string("coding_format")?;
        Ok(AudioInfo {
            channels,
            sample_rate,
            sample_format,
            coding_format,
        })
    }

    /// The PCM format of the audio it describes, or why it is not one RMF stores.
    fn format(&self) -> std::result::Result<AudioFormat, String> {
        let coding = self.coding_format.to_ascii_lowercase();
        if !matches!(coding.as_str(), "wave" | "wav" | "pcm" | "raw") {
            return Err(format!(
                "coding format {:?} is not PCM (wave)",
                self.coding_format
            ));
        }
        let dtype = match self.sample_format.to_ascii_uppercase().as_str() {
            "S16LE" => DType::Int16,
            "F32LE" => DType::Float32,
            other => {
                return Err(format!(
                    "sample format {other:?} is not one RMF audio stores (S16LE, F32LE)"
                ))
            }
        };
        if self.channels == 0 || self.sample_rate == 0 {
            return Err(format!(
                "{} channels at {} Hz",
                self.channels, self.sample_rate
            ));
        }
        Ok(AudioFormat {
            channels: self.channels.into(),
            sample_rate: self.sample_rate,
            dtype,
        })
    }
}

/// How an audio topic's bytes are read.
#[derive(Debug, Clone, Copy, PartialEq)]
struct AudioFormat {
    channels: u16,
    sample_rate: u32,
    dtype: DType,
}

struct Held {
    t: i64,
    index: u64,
    log_time: u64,
    data: Vec<u8>,
}

/// Where a topic's samples go, decided at its first message.
enum Sink {
    None,
    /// The topic cannot be written (a stream it needs could not be declared): why.
    Dead(String),
    Frames {
        id: StreamId,
        width: u32,
        height: u32,
        format: PixelFormat,
    },
    Signal(StreamId),
    Audio(StreamId),
    Joints(Box<[JointSink; 3]>),
    Events(StreamId),
}

#[derive(Default)]
enum JointSink {
    #[default]
    None,
    Dead(String),
    Stream {
        id: StreamId,
        n: usize,
        names: Vec<String>,
    },
}

const JOINT_FIELDS: [&str; 3] = ["position", "velocity", "effort"];
const IMU_NAMES: [&str; 10] = ["qx", "qy", "qz", "qw", "wx", "wy", "wz", "ax", "ay", "az"];
const IMU_UNITS: [&str; 10] = [
    "", "", "", "", "rad/s", "rad/s", "rad/s", "m/s^2", "m/s^2", "m/s^2",
];
const WRENCH_NAMES: [&str; 6] = ["fx", "fy", "fz", "tx", "ty", "tz"];
const WRENCH_UNITS: [&str; 6] = ["N", "N", "N", "N*m", "N*m", "N*m"];

fn same_topic(a: &str, b: &str) -> bool {
    a.trim_start_matches('/') == b.trim_start_matches('/')
}

/// `sensor_msgs/msg/Image` and `sensor_msgs/Image` alike: `sensor_msgs/Image`.
fn short_type(name: &str) -> String {
    name.replacen("/msg/", "/", 1)
}

/// Whether a ROS 2 message definition starts with a `std_msgs/Header` field.
fn starts_with_header(msgdef: &[u8]) -> bool {
    let text = String::from_utf8_lossy(msgdef);
    let first = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .find(|l| !l.is_empty());
    match first.map(|l| l.split_whitespace().collect::<Vec<_>>()) {
        Some(words) => {
            words.len() >= 2
                && matches!(
                    words[0],
                    "std_msgs/Header" | "std_msgs/msg/Header" | "Header"
                )
        }
        None => false,
    }
}

fn classify(channel: &mcap::Channel<'_>, opts: &McapImportOptions) -> (MsgKind, Option<String>) {
    let schema = channel.schema.as_deref();
    let ros2 = channel.message_encoding == "cdr"
        && schema.is_some_and(|s| s.encoding == "ros2msg" || s.encoding == "ros2idl");
    let name = schema.map_or(String::new(), |s| short_type(&s.name));
    if ros2 {
        let kind = match name.as_str() {
            "sensor_msgs/Image" => Some(MsgKind::Image),
            "sensor_msgs/CompressedImage" => Some(MsgKind::CompressedImage),
            "sensor_msgs/JointState" => Some(MsgKind::JointState),
            "sensor_msgs/Imu" => Some(MsgKind::Imu),
            "geometry_msgs/WrenchStamped" => Some(MsgKind::Wrench),
            "audio_common_msgs/AudioData" => Some(MsgKind::Audio { stamped: false }),
            "audio_common_msgs/AudioDataStamped" => Some(MsgKind::Audio { stamped: true }),
            "audio_common_msgs/AudioInfo" => Some(MsgKind::AudioInfo),
            _ => None,
        };
        if let Some(kind) = kind {
            return (kind, None);
        }
    }
    if opts.keep_unknown {
        let has_header =
            ros2 && schema.is_some_and(|s| s.encoding == "ros2msg" && starts_with_header(&s.data));
        (MsgKind::Raw { has_header }, None)
    } else {
        let what = if schema.is_none() {
            "a channel without a schema".to_string()
        } else if ros2 {
            "a message type this importer does not map".to_string()
        } else {
            format!(
                "not ROS 2 CDR (message encoding {:?})",
                channel.message_encoding
            )
        };
        (
            MsgKind::Skip,
            Some(format!(
                "{what}; unknown topics are skipped (--skip-unknown)"
            )),
        )
    }
}

impl Topic {
    fn clock(&self, opts: &McapImportOptions) -> TimeSource {
        match (opts.time_source, self.kind) {
            (TimeSource::LogTime, _)
            | (
                _,
                MsgKind::Raw { has_header: false }
                | MsgKind::Audio { stamped: false }
                | MsgKind::AudioInfo,
            ) => TimeSource::LogTime,
            _ => TimeSource::HeaderStamp,
        }
    }

    /// The time of a message on this topic's clock.
    fn time(
        &self,
        opts: &McapImportOptions,
        data: &[u8],
        log_time: u64,
    ) -> std::result::Result<i64, CdrError> {
        match self.clock(opts) {
            TimeSource::LogTime => i64::try_from(log_time).map_err(|_| CdrError::Invalid {
                what: "log time",
                offset: 0,
                detail: format!("log time {log_time} ns is past the int64 range"),
            }),
            TimeSource::HeaderStamp => Cdr::new(data)?.stamp(),
        }
    }

    fn skip(&mut self, reason: String) {
        *self.skips.entry(reason).or_insert(0) += 1;
    }
}

/// Which message a payload error is about.
#[derive(Clone, Copy)]
struct MsgRef {
    index: u64,
    log_time: u64,
}

fn payload_error(file: &str, topic: &str, m: MsgRef, e: CdrError) -> Error {
    let (offset, detail) = match e {
        CdrError::Truncated {
            what,
            offset,
            needed,
            available,
        } => (
            offset,
            format!("{what} needs {needed} bytes, {available} left (truncated message?)"),
        ),
        CdrError::Invalid {
            what,
            offset,
            detail,
        } => (offset, format!("{what}: {detail}")),
    };
    Error::Malformed {
        file: file.to_string(),
        what: "ROS 2 message payload",
        offset: offset as u64,
        detail: format!(
            "topic {topic:?}, message {} of the topic (from 0; log time {} ns): {detail}",
            m.index, m.log_time
        ),
    }
}

/// Pass 1: every channel, its message count and the order of its times.
fn scan(data: &[u8], file: &str, opts: &McapImportOptions) -> Result<Scan> {
    let mut topics: Vec<Topic> = Vec::new();
    let mut by_channel: HashMap<u16, usize> = HashMap::new();
    let mut messages = 0u64;
    let mut damage = None;
    // Progress is in bytes of the file: the first half for this pass, as far as the summary's
    // message count tells (a bag cut short has no summary: no progress until pass 2).
    let expected = mcap::Summary::read(data)
        .ok()
        .flatten()
        .and_then(|s| s.stats)
        .map(|st| st.message_count)
        .filter(|&n| n > 0);
    let stream = message_stream(data).map_err(|e| container_error(file, e))?;
    for msg in stream {
        if let Some(n) = expected.filter(|_| messages.is_multiple_of(256)) {
            let done = scaled(data.len() as u64 / 2, messages.min(n), n);
            report(opts.progress.as_ref(), done, data.len() as u64);
        }
        let msg = match msg {
            Ok(m) => m,
            // A file cut short (a recorder killed mid-write): keep what came before.
            Err(e @ mcap::McapError::UnexpectedEof) => {
                damage = Some(damage_note(file, messages, &e));
                break;
            }
            Err(e) => return Err(container_error(file, e)),
        };
        messages += 1;
        let i = match by_channel.get(&msg.channel.id) {
            Some(&i) => i,
            None => {
                let ch = &msg.channel;
                let selected =
                    opts.topics.is_empty() || opts.topics.iter().any(|t| same_topic(t, &ch.topic));
                let (kind, skipped) = match classify(ch, opts) {
                    c if selected => c,
                    // Read for the format of a selected audio topic; not stored itself.
                    (MsgKind::AudioInfo, _) => (MsgKind::AudioInfo, None),
                    _ => (MsgKind::Skip, Some(NOT_SELECTED.to_string())),
                };
                topics.push(Topic {
                    report: TopicReport {
                        topic: ch.topic.clone(),
                        schema: ch.schema.as_ref().map_or(String::new(), |s| s.name.clone()),
                        message_encoding: ch.message_encoding.clone(),
                        messages: 0,
                        imported: 0,
                        streams: Vec::new(),
                        clock: None,
                        sorted: false,
                        skipped,
                        notes: Vec::new(),
                    },
                    kind,
                    stream_name: ch.topic.trim_start_matches('/').to_string(),
                    first_t: None,
                    last_t: None,
                    backwards: 0,
                    zero_stamps: 0,
                    seen: 0,
                    held: Vec::new(),
                    sink: Sink::None,
                    skips: BTreeMap::new(),
                    audio_info: None,
                    audio_info_changed: false,
                    selected,
                    audio: None,
                });
                by_channel.insert(ch.id, topics.len() - 1);
                topics.len() - 1
            }
        };
        let topic = &mut topics[i];
        let m = MsgRef {
            index: topic.report.messages,
            log_time: msg.log_time,
        };
        topic.report.messages += 1;
        if topic.kind == MsgKind::Skip {
            continue;
        }
        if topic.kind == MsgKind::AudioInfo {
            // The first message that parses gives the format; a later different one is noted.
            let parsed = AudioInfo::parse(&msg.data)
                .map_err(|e| payload_error(file, &topic.report.topic, m, e).to_string());
            match (&topic.audio_info, parsed) {
                (Some(Ok(first)), Ok(next)) => topic.audio_info_changed |= *first != next,
                (Some(Ok(_)), Err(_)) => {}
                (_, parsed) => topic.audio_info = Some(parsed),
            }
        }
        let t = topic
            .time(opts, &msg.data, msg.log_time)
            .map_err(|e| payload_error(file, &topic.report.topic, m, e))?;
        if topic.clock(opts) == TimeSource::HeaderStamp && t == 0 {
            topic.zero_stamps += 1;
        }
        if topic.last_t.is_some_and(|last| t < last) {
            topic.backwards += 1;
        }
        topic.last_t = Some(topic.last_t.map_or(t, |last| last.max(t)));
        topic.first_t = Some(topic.first_t.map_or(t, |first| first.min(t)));
    }
    for want in &opts.topics {
        if !topics.iter().any(|t| same_topic(&t.report.topic, want)) {
            let known: Vec<&str> = topics.iter().map(|t| t.report.topic.as_str()).collect();
            return Err(Error::InvalidArgument(format!(
                "{file}: no topic {want:?} (topics: {})",
                known.join(", ")
            )));
        }
    }
    if messages == 0 {
        if let Some(d) = damage {
            return Err(Error::Io {
                path: PathBuf::from(file),
                op: "read MCAP",
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, d),
            });
        }
    }
    pair_audio(&mut topics, opts);
    for t in &mut topics {
        if t.kind == MsgKind::Skip {
            continue;
        }
        t.report.clock = Some(t.clock(opts));
        t.report.sorted = t.backwards > 0;
        if t.backwards > 0 {
            t.report.notes.push(format!(
                "timestamps went backwards {} times: messages written in time order",
                t.backwards
            ));
        }
        if t.zero_stamps > 0 {
            t.report.notes.push(format!(
                "{} messages have a zero header stamp (log time: --log-time)",
                t.zero_stamps
            ));
        }
    }
    Ok(Scan {
        topics,
        by_channel,
        messages,
        damage,
    })
}

/// The messages of an MCAP file in file order, checking each chunk's CRC (the mcap reader
/// does not by default: a changed byte would otherwise decode to wrong values).
fn message_stream(data: &[u8]) -> std::result::Result<mcap::MessageStream<'_>, mcap::McapError> {
    mcap::MessageStream::new_with_options(data, mcap::read::Options::ValidateChunkCrcs.into())
}

/// `span * part / whole` without overflow (0 for an empty whole).
fn scaled(span: u64, part: u64, whole: u64) -> u64 {
    (u128::from(span) * u128::from(part) / u128::from(whole.max(1))) as u64
}

/// What pass 1 found.
struct Scan {
    topics: Vec<Topic>,
    by_channel: HashMap<u16, usize>,
    /// Messages readable before the end or the damage.
    messages: u64,
    /// Why reading stopped early.
    damage: Option<String>,
}

/// The report of a file whose messages stop early: the mcap reader's error (it says what, not
/// where) and how many messages came before it.
fn damage_note(file: &str, messages: u64, e: &mcap::McapError) -> String {
    format!(
        "{file} is truncated or damaged after {messages} readable messages ({e}); \
         every message before that point was imported"
    )
}

const NOT_SELECTED: &str = "not selected (--topic)";

/// The namespace of a topic: `/mic` for `/mic/audio`.
fn namespace(topic: &str) -> &str {
    topic.rsplit_once('/').map_or("", |(ns, _)| ns)
}

/// Gives each audio topic the format of its AudioInfo topic (same namespace, or the file's only
/// one). Audio without a usable format is kept as raw events (or skipped); an AudioInfo topic
/// that serves an audio topic is not stored, one that serves none is an unknown topic.
fn pair_audio(topics: &mut [Topic], opts: &McapImportOptions) {
    let infos: Vec<usize> = (0..topics.len())
        .filter(|&i| topics[i].kind == MsgKind::AudioInfo)
        .collect();
    let mut used = HashSet::new();
    for i in 0..topics.len() {
        let MsgKind::Audio { stamped } = topics[i].kind else {
            continue;
        };
        let ns = namespace(&topics[i].report.topic);
        let beside: Vec<usize> = infos
            .iter()
            .copied()
            .filter(|&k| namespace(&topics[k].report.topic) == ns)
            .collect();
        let info = match (beside.as_slice(), infos.as_slice()) {
            ([k], _) | ([], [k]) => Some(*k),
            _ => None,
        };
        let format = match info {
            None if beside.len() > 1 => Err(format!(
                "{} AudioInfo topics in its namespace {ns:?}: which one is its format is unclear",
                beside.len()
            )),
            None => Err("no audio_common_msgs/AudioInfo topic gives its format".to_string()),
            Some(k) => {
                let from = &topics[k].report.topic;
                match &topics[k].audio_info {
                    Some(Ok(_)) if topics[k].audio_info_changed => {
                        Err(format!("{from}: the format changes within the bag"))
                    }
                    Some(Ok(a)) => a.format().map_err(|e| format!("{from}: {e}")),
                    Some(Err(e)) => Err(e.clone()),
                    None => Err(format!("{from} has no messages")),
                }
            }
        };
        if let (Some(k), Ok(_)) = (info, &format) {
            used.insert(k);
        }
        let t = &mut topics[i];
        match format {
            Ok(f) => {
                t.audio = Some(f);
                if let Some(k) = info {
                    let from = topics[k].report.topic.clone();
                    topics[i].report.notes.push(format!("format from {from}"));
                }
            }
            Err(why) if opts.keep_unknown => {
                t.kind = MsgKind::Raw {
                    has_header: stamped,
                };
                t.report.notes.push(format!("kept as raw events: {why}"));
            }
            Err(why) => {
                t.kind = MsgKind::Skip;
                t.report.skipped = Some(format!("audio not imported: {why}"));
            }
        }
    }
    for k in infos {
        let t = &mut topics[k];
        if used.contains(&k) {
            t.kind = MsgKind::Skip;
            t.report.skipped =
                Some("the format of the audio beside it, stored in its stream".into());
        } else if !t.selected {
            t.kind = MsgKind::Skip;
            t.report.skipped = Some(NOT_SELECTED.into());
        } else if opts.keep_unknown {
            t.kind = MsgKind::Raw { has_header: false };
        } else {
            t.kind = MsgKind::Skip;
            t.report.skipped =
                Some("an AudioInfo topic without audio beside it; unknown topics are skipped (--skip-unknown)".into());
        }
    }
}

/// The episode writer and the stream names taken so far.
struct Out {
    w: EpisodeWriter,
    names: HashSet<String>,
}

impl Out {
    /// Declares a stream: its id, or why it cannot be (an invalid or taken name).
    fn declare(&mut self, info: StreamInfo) -> Result<std::result::Result<StreamId, String>> {
        if let Err(e) = info.validate() {
            return Ok(Err(e.to_string()));
        }
        if !self.names.insert(info.name.clone()) {
            return Ok(Err(format!(
                "stream name {:?} is taken by another topic",
                info.name
            )));
        }
        self.w.add_stream(info).map(Ok)
    }
}

/// Pass 2: writes the episode to `path`; returns its start time, size and chunk count.
fn write_episode(
    data: &[u8],
    input: &Path,
    file: &str,
    path: &Path,
    opts: &McapImportOptions,
    scan: &mut Scan,
) -> Result<(Option<i64>, u64, usize)> {
    let Scan {
        topics,
        by_channel,
        messages,
        ..
    } = scan;
    let messages = *messages;
    let first = topics
        .iter()
        .filter(|t| t.kind != MsgKind::Skip)
        .filter_map(|t| t.first_t)
        .min();
    let clock = match opts.time_source {
        TimeSource::HeaderStamp => "ros2_header_stamp",
        TimeSource::LogTime => "mcap_log_time",
    };
    let source = input
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    let mut meta = EpisodeMeta::new()
        .with_clock(clock)
        .with_extra("imported_from", "mcap")
        .with_extra("source", source)
        .with_extra("time_source", opts.time_source.name());
    if let Some(t) = first {
        meta = meta.with_start_time_unix_ns(t);
    }
    let wopts = WriteOptions::default()
        .with_overwrite(true)
        // Unknown topics can be fast (/tf): their events are chunked like any stream.
        .with_flush_events(false);
    let mut out = Out {
        w: EpisodeWriter::create(path, meta, wopts)?,
        names: HashSet::new(),
    };
    let stream = message_stream(data).map_err(|e| container_error(file, e))?;
    // Pass 1 counted the readable messages; a damaged file stops where pass 1 stopped.
    for (n, msg) in stream.take(messages as usize).enumerate() {
        let msg = msg.map_err(|e| container_error(file, e))?;
        if n % 64 == 0 {
            // The second half of the progress, as far as messages tell.
            let half = data.len() as u64 / 2;
            let done = half + scaled(data.len() as u64 - half, n as u64, messages);
            report(opts.progress.as_ref(), done, data.len() as u64);
        }
        let Some(&i) = by_channel.get(&msg.channel.id) else {
            continue;
        };
        let topic = &mut topics[i];
        if topic.kind == MsgKind::Skip {
            continue;
        }
        let m = MsgRef {
            index: topic.seen,
            log_time: msg.log_time,
        };
        topic.seen += 1;
        let t = topic
            .time(opts, &msg.data, msg.log_time)
            .map_err(|e| payload_error(file, &topic.report.topic, m, e))?;
        if topic.report.sorted {
            topic.held.push(Held {
                t,
                index: m.index,
                log_time: m.log_time,
                data: msg.data.into_owned(),
            });
        } else {
            write_message(&mut out, topic, opts, file, m, t, &msg.data)?;
        }
    }
    for topic in topics.iter_mut() {
        let mut held = std::mem::take(&mut topic.held);
        held.sort_by_key(|h| (h.t, h.index));
        for h in held {
            let m = MsgRef {
                index: h.index,
                log_time: h.log_time,
            };
            write_message(&mut out, topic, opts, file, m, h.t, &h.data)?;
        }
    }
    for topic in topics.iter_mut() {
        if topic.kind == MsgKind::Skip {
            continue;
        }
        let skips = std::mem::take(&mut topic.skips);
        for (reason, n) in &skips {
            topic
                .report
                .notes
                .push(format!("{n} messages skipped: {reason}"));
        }
        if topic.report.streams.is_empty() && topic.report.skipped.is_none() {
            topic.report.skipped = Some(match (&topic.sink, skips.keys().next()) {
                (Sink::Dead(why), _) => why.clone(),
                (_, Some(reason)) => reason.clone(),
                _ => "no message could be imported".into(),
            });
            topic.report.clock = None;
        }
    }
    let summary = out.w.finish()?;
    report(opts.progress.as_ref(), data.len() as u64, data.len() as u64);
    Ok((first, summary.bytes, summary.chunks))
}

/// What became of one message that was not written: why (counted), or a damaged payload.
enum Skipped {
    Why(String),
    Bad(CdrError),
    Fatal(Error),
}

impl From<CdrError> for Skipped {
    fn from(e: CdrError) -> Self {
        Skipped::Bad(e)
    }
}

impl From<Error> for Skipped {
    fn from(e: Error) -> Self {
        Skipped::Fatal(e)
    }
}

fn write_message(
    out: &mut Out,
    topic: &mut Topic,
    opts: &McapImportOptions,
    file: &str,
    m: MsgRef,
    t: i64,
    data: &[u8],
) -> Result<()> {
    if let Sink::Dead(why) = &topic.sink {
        let why = why.clone();
        topic.skip(why);
        return Ok(());
    }
    let result = match topic.kind {
        MsgKind::Image | MsgKind::CompressedImage => write_image(out, topic, opts, t, data),
        MsgKind::JointState => write_joints(out, topic, t, data),
        MsgKind::Imu => write_fixed(out, topic, t, data, &IMU_NAMES, &IMU_UNITS, |c| {
            c.stamp()?;
            c.string("header.frame_id")?;
            let q = c.f64s::<4>("orientation")?;
            c.f64s::<9>("orientation_covariance")?;
            let w = c.f64s::<3>("angular_velocity")?;
            c.f64s::<9>("angular_velocity_covariance")?;
            let a = c.f64s::<3>("linear_acceleration")?;
            c.f64s::<9>("linear_acceleration_covariance")?;
            let mut v = q.to_vec();
            v.extend_from_slice(&w);
            v.extend_from_slice(&a);
            Ok(v)
        }),
        MsgKind::Wrench => write_fixed(out, topic, t, data, &WRENCH_NAMES, &WRENCH_UNITS, |c| {
            c.stamp()?;
            c.string("header.frame_id")?;
            let f = c.f64s::<3>("wrench.force")?;
            let tq = c.f64s::<3>("wrench.torque")?;
            Ok([f, tq].concat())
        }),
        MsgKind::Audio { stamped } => write_audio(out, topic, t, data, stamped),
        MsgKind::Raw { .. } => write_raw(out, topic, t, data),
        MsgKind::Skip | MsgKind::AudioInfo => Ok(false),
    };
    match result {
        Ok(true) => {
            topic.report.imported += 1;
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(Skipped::Why(why)) => {
            topic.skip(why);
            Ok(())
        }
        Err(Skipped::Bad(e)) => Err(payload_error(file, &topic.report.topic, m, e)),
        Err(Skipped::Fatal(e)) => Err(e),
    }
}

/// Declares a stream for `topic`; on failure the topic's sink is dead and the message skipped.
fn declare(out: &mut Out, topic: &mut Topic, info: StreamInfo) -> Result<StreamId, Skipped> {
    let name = info.name.clone();
    match out.declare(info)? {
        Ok(id) => {
            topic.report.streams.push(name);
            Ok(id)
        }
        Err(why) => {
            topic.sink = Sink::Dead(why.clone());
            Err(Skipped::Why(why))
        }
    }
}

fn tagged(info: StreamInfo, topic: &Topic, frame_id: &str) -> StreamInfo {
    let info = info
        .with_tag("ros_topic", topic.report.topic.clone())
        .with_tag("ros_type", topic.report.schema.clone());
    if frame_id.is_empty() {
        info
    } else {
        info.with_tag("frame_id", frame_id)
    }
}

/// A signal of fixed width (Imu, WrenchStamped).
fn write_fixed(
    out: &mut Out,
    topic: &mut Topic,
    t: i64,
    data: &[u8],
    names: &[&str],
    units: &[&str],
    parse: impl FnOnce(&mut Cdr<'_>) -> std::result::Result<Vec<f64>, CdrError>,
) -> Result<bool, Skipped> {
    let values = parse(&mut Cdr::new(data)?)?;
    let id = match topic.sink {
        Sink::Signal(id) => id,
        _ => {
            let frame_id = Cdr::new(data)?.frame_id()?;
            let info =
                StreamInfo::signal(topic.stream_name.clone(), DType::Float64, &[names.len()])
                    .with_names(names.iter().copied())
                    .with_units(units.iter().copied());
            let id = declare(out, topic, tagged(info, topic, &frame_id))?;
            topic.sink = Sink::Signal(id);
            id
        }
    };
    out.w.write_signal(id, t, &values)?;
    Ok(true)
}

fn write_joints(out: &mut Out, topic: &mut Topic, t: i64, data: &[u8]) -> Result<bool, Skipped> {
    let mut c = Cdr::new(data)?;
    c.stamp()?;
    let frame_id = c.string("header.frame_id")?;
    let names = c.string_seq("name")?;
    let fields = [
        c.f64_seq("position")?,
        c.f64_seq("velocity")?,
        c.f64_seq("effort")?,
    ];
    if !matches!(topic.sink, Sink::Joints(_)) {
        topic.sink = Sink::Joints(Box::default());
    }
    let mut wrote = false;
    for (k, values) in fields.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let field = JOINT_FIELDS[k];
        let Sink::Joints(sinks) = &mut topic.sink else {
            return Ok(wrote);
        };
        match &sinks[k] {
            JointSink::Dead(why) => {
                let why = why.clone();
                topic.skip(why);
                continue;
            }
            JointSink::Stream {
                id,
                n,
                names: known,
            } => {
                if values.len() != *n {
                    let why = format!("{field}: joint count changed from {n} to {}", values.len());
                    topic.skip(why);
                    continue;
                }
                if !known.is_empty() && names != *known {
                    let why = format!("{field}: joint names changed from {known:?} to {names:?}");
                    topic.skip(why);
                    continue;
                }
                out.w.write_signal(*id, t, values)?;
                wrote = true;
            }
            JointSink::None => {
                let n = values.len();
                let mut info = StreamInfo::signal(
                    format!("{}/{field}", topic.stream_name),
                    DType::Float64,
                    &[n],
                );
                let named = names.len() == n;
                if named {
                    info = info.with_names(names.iter().cloned());
                }
                let info = tagged(info, topic, &frame_id);
                let name = info.name.clone();
                let declared = out.declare(info)?;
                let Sink::Joints(sinks) = &mut topic.sink else {
                    return Ok(wrote);
                };
                match declared {
                    Ok(id) => {
                        sinks[k] = JointSink::Stream {
                            id,
                            n,
                            names: if named { names.clone() } else { Vec::new() },
                        };
                        topic.report.streams.push(name);
                        out.w.write_signal(id, t, values)?;
                        wrote = true;
                    }
                    Err(why) => {
                        sinks[k] = JointSink::Dead(why.clone());
                        topic.skip(why);
                    }
                }
            }
        }
    }
    Ok(wrote)
}

/// One audio block: the message's PCM bytes in the topic's format.
fn write_audio(
    out: &mut Out,
    topic: &mut Topic,
    t: i64,
    data: &[u8],
    stamped: bool,
) -> Result<bool, Skipped> {
    let Some(f) = topic.audio else {
        return Err(Skipped::Why("no audio format".into()));
    };
    let mut c = Cdr::new(data)?;
    let frame_id = if stamped {
        c.stamp()?;
        c.string("header.frame_id")?
    } else {
        String::new()
    };
    let bytes = c.bytes_seq("audio.data")?;
    if bytes.is_empty() {
        return Ok(false);
    }
    let frame = f.dtype.size() * f.channels as usize;
    if bytes.len() % frame != 0 {
        return Err(Skipped::Why(format!(
            "{} bytes of audio are not whole {}-channel {} samples",
            bytes.len(),
            f.channels,
            f.dtype
        )));
    }
    let id = match topic.sink {
        Sink::Audio(id) => id,
        _ => {
            let info = StreamInfo::audio(
                topic.stream_name.clone(),
                f.sample_rate,
                f.channels,
                f.dtype,
            );
            let id = declare(out, topic, tagged(info, topic, &frame_id))?;
            topic.sink = Sink::Audio(id);
            id
        }
    };
    match f.dtype {
        DType::Float32 => {
            let samples: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            out.w.write_audio(id, t, &samples)?;
        }
        _ => {
            let samples: Vec<i16> = bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            out.w.write_audio(id, t, &samples)?;
        }
    }
    Ok(true)
}

fn write_raw(out: &mut Out, topic: &mut Topic, t: i64, data: &[u8]) -> Result<bool, Skipped> {
    let id = match topic.sink {
        Sink::Events(id) => id,
        _ => {
            let info = StreamInfo::events(topic.stream_name.clone());
            let info = tagged(info, topic, "").with_tag("encoding", &topic.report.message_encoding);
            let id = declare(out, topic, info)?;
            topic.sink = Sink::Events(id);
            id
        }
    };
    let event = Event::new("raw").with_payload(serde_json::json!({
        "schema": topic.report.schema,
        "encoding": topic.report.message_encoding,
        "data_base64": base64::engine::general_purpose::STANDARD.encode(data),
    }));
    out.w.write_event(id, t, &event)?;
    Ok(true)
}

/// Decoded pixels of one image message.
struct Frame {
    width: u32,
    height: u32,
    format: PixelFormat,
    pixels: Vec<u8>,
    frame_id: String,
}

fn write_image(
    out: &mut Out,
    topic: &mut Topic,
    opts: &McapImportOptions,
    t: i64,
    data: &[u8],
) -> Result<bool, Skipped> {
    let f = match topic.kind {
        MsgKind::CompressedImage => compressed_frame(data)?,
        _ => raw_frame(data)?,
    };
    let id = match topic.sink {
        Sink::Frames {
            id,
            width,
            height,
            format,
        } => {
            if (width, height, format) != (f.width, f.height, f.format) {
                return Err(Skipped::Why(format!(
                    "image changed from {width}x{height} {} to {}x{} {}",
                    format.name(),
                    f.width,
                    f.height,
                    f.format.name()
                )));
            }
            id
        }
        _ => {
            let mut candidates = vec![opts.codec_for(f.format)];
            if f.format == PixelFormat::Gray16 {
                candidates.push(FrameCodec::Png);
            }
            candidates.push(FrameCodec::Raw);
            let mut chosen = None;
            for codec in candidates {
                let mut info =
                    StreamInfo::frames(topic.stream_name.clone(), f.width, f.height, f.format)
                        .with_codec(codec);
                if f.format == PixelFormat::Gray16 {
                    info = info.with_units(["mm"]);
                }
                match info.validate() {
                    Ok(()) => {
                        chosen = Some(info);
                        break;
                    }
                    Err(e) if codec != FrameCodec::Raw => {
                        topic.report.notes.push(format!(
                            "not stored as {}: {e}; stored as the next choice",
                            codec.name()
                        ));
                    }
                    Err(e) => return Err(Skipped::Why(e.to_string())),
                }
            }
            let Some(info) = chosen else {
                return Err(Skipped::Why("no frame codec holds these images".into()));
            };
            let info = tagged(info, topic, &f.frame_id);
            let id = declare(out, topic, info)?;
            topic.sink = Sink::Frames {
                id,
                width: f.width,
                height: f.height,
                format: f.format,
            };
            id
        }
    };
    out.w.write_frame(id, t, &f.pixels)?;
    Ok(true)
}

/// A `sensor_msgs/msg/Image` as packed rows of an RMF pixel format.
fn raw_frame(data: &[u8]) -> Result<Frame, Skipped> {
    let mut c = Cdr::new(data)?;
    c.stamp()?;
    let frame_id = c.string("header.frame_id")?;
    let height = c.u32("height")?;
    let width = c.u32("width")?;
    let encoding = c.string("encoding")?;
    let big_endian = c.u8("is_bigendian")? != 0;
    let step = c.u32("step")? as usize;
    let at = c.pos;
    let bytes = c.bytes_seq("data")?;
    let (format, bgr) = match encoding.as_str() {
        "rgb8" => (PixelFormat::Rgb8, false),
        "bgr8" => (PixelFormat::Rgb8, true),
        "mono8" | "8UC1" => (PixelFormat::Gray8, false),
        "mono16" | "16UC1" => (PixelFormat::Gray16, false),
        other => {
            let known = "rgb8, bgr8, mono8, 8UC1, mono16, 16UC1";
            let why = format!("image encoding {other:?} is not imported ({known} are)");
            return Err(Skipped::Why(why));
        }
    };
    if width == 0 || height == 0 {
        return Err(Skipped::Why(format!("empty image ({width}x{height})")));
    }
    let bpp = format.bytes_per_pixel();
    let invalid = |detail: String| {
        Skipped::Bad(CdrError::Invalid {
            what: "image data",
            offset: at,
            detail,
        })
    };
    let row = (width as usize)
        .checked_mul(bpp)
        .ok_or_else(|| invalid(format!("width {width} is too large")))?;
    if step < row {
        return Err(invalid(format!(
            "step {step} is less than {width} pixels of {bpp} bytes"
        )));
    }
    let needed = step
        .checked_mul(height as usize - 1)
        .and_then(|n| n.checked_add(row))
        .ok_or_else(|| invalid(format!("{height} rows of {step} bytes overflow")))?;
    if bytes.len() < needed {
        return Err(invalid(format!(
            "{} bytes hold less than {height} rows of {step} bytes ({needed} needed)",
            bytes.len()
        )));
    }
    let mut pixels = Vec::with_capacity(row * height as usize);
    for r in 0..height as usize {
        pixels.extend_from_slice(&bytes[r * step..r * step + row]);
    }
    if bgr {
        for px in pixels.chunks_exact_mut(3) {
            px.swap(0, 2);
        }
    }
    if format == PixelFormat::Gray16 && big_endian {
        for px in pixels.chunks_exact_mut(2) {
            px.swap(0, 1);
        }
    }
    Ok(Frame {
        width,
        height,
        format,
        pixels,
        frame_id,
    })
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A `sensor_msgs/msg/CompressedImage` (JPEG or PNG) decoded.
fn compressed_frame(data: &[u8]) -> Result<Frame, Skipped> {
    let mut c = Cdr::new(data)?;
    c.stamp()?;
    let frame_id = c.string("header.frame_id")?;
    let fmt = c.string("format")?;
    let at = c.pos;
    let mut bytes = c.bytes_seq("data")?;
    if fmt.contains("compressedDepth") {
        if fmt.contains("rvl") {
            return Err(Skipped::Why(format!(
                "compressed image format {fmt:?} (RVL) is not imported (JPEG and PNG are)"
            )));
        }
        // compressed_depth_image_transport puts a 12-byte header before the PNG.
        if !bytes.starts_with(PNG_MAGIC)
            && bytes.get(12..).is_some_and(|b| b.starts_with(PNG_MAGIC))
        {
            bytes = &bytes[12..];
        }
    }
    let img = image::load_from_memory(bytes).map_err(|e| CdrError::Invalid {
        what: "compressed image data",
        offset: at,
        detail: format!("format {fmt:?} does not decode: {e}"),
    })?;
    let (width, height) = (img.width(), img.height());
    let (format, pixels) = match img {
        image::DynamicImage::ImageLuma8(b) => (PixelFormat::Gray8, b.into_raw()),
        image::DynamicImage::ImageLuma16(b) => (
            PixelFormat::Gray16,
            b.into_raw().iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        image::DynamicImage::ImageRgb8(b) => (PixelFormat::Rgb8, b.into_raw()),
        other => (PixelFormat::Rgb8, other.to_rgb8().into_raw()),
    };
    Ok(Frame {
        width,
        height,
        format,
        pixels,
        frame_id,
    })
}

/// A payload that does not decode.
#[derive(Debug)]
enum CdrError {
    /// Fewer bytes than a field needs.
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// Bytes that break a rule (encapsulation, string terminator, UTF-8, sizes).
    Invalid {
        what: &'static str,
        offset: usize,
        detail: String,
    },
}

/// A reader of ROS 2 CDR payloads: a 4-byte encapsulation header (`00 01`: plain CDR,
/// little-endian), then primitives aligned to their size relative to the byte after the header;
/// strings are a u32 length (terminating NUL included) and the bytes; sequences a u32 count and
/// the elements. Every read is bounds-checked. Offsets are from the start of the payload.
struct Cdr<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cdr<'a> {
    fn new(data: &'a [u8]) -> std::result::Result<Self, CdrError> {
        match data {
            [0x00, 0x01, _, _, ..] => Ok(Cdr { data, pos: 4 }),
            [a, b, _, _, ..] => Err(CdrError::Invalid {
                what: "encapsulation header",
                offset: 0,
                detail: format!(
                    "{a:02x} {b:02x} is not plain little-endian CDR (00 01){}",
                    if (*a, *b) == (0, 0) {
                        "; big-endian CDR is not supported"
                    } else {
                        ""
                    }
                ),
            }),
            _ => Err(CdrError::Truncated {
                what: "encapsulation header",
                offset: 0,
                needed: 4,
                available: data.len(),
            }),
        }
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn align(&mut self, n: usize) {
        let rel = self.pos - 4;
        self.pos += (n - rel % n) % n;
    }

    fn take(&mut self, n: usize, what: &'static str) -> std::result::Result<&'a [u8], CdrError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.data.len() => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => Err(CdrError::Truncated {
                what,
                offset: self.pos,
                needed: n,
                available: self.remaining(),
            }),
        }
    }

    fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> std::result::Result<[u8; N], CdrError> {
        if N > 1 {
            self.align(N);
        }
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    fn u8(&mut self, what: &'static str) -> std::result::Result<u8, CdrError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> std::result::Result<u32, CdrError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn i32(&mut self, what: &'static str) -> std::result::Result<i32, CdrError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    fn f64(&mut self, what: &'static str) -> std::result::Result<f64, CdrError> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }

    fn f64s<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> std::result::Result<[f64; N], CdrError> {
        let mut out = [0.0; N];
        for v in &mut out {
            *v = self.f64(what)?;
        }
        Ok(out)
    }

    fn string(&mut self, what: &'static str) -> std::result::Result<String, CdrError> {
        let n = self.u32(what)? as usize;
        let at = self.pos;
        let bytes = match self.take(n, what)?.split_last() {
            None => &[][..], // some writers store "" as length 0
            Some((0, s)) => s,
            Some(_) => {
                return Err(CdrError::Invalid {
                    what,
                    offset: at,
                    detail: format!("a string of {n} bytes does not end with NUL"),
                })
            }
        };
        String::from_utf8(bytes.to_vec()).map_err(|e| CdrError::Invalid {
            what,
            offset: at,
            detail: format!("not UTF-8: {e}"),
        })
    }

    /// A sequence's element count, checked against the bytes left (`min_size` bytes at least
    /// per element), so that no hostile count makes a large allocation.
    fn count(
        &mut self,
        what: &'static str,
        min_size: usize,
    ) -> std::result::Result<usize, CdrError> {
        let n = self.u32(what)? as usize;
        match n.checked_mul(min_size) {
            Some(b) if b <= self.remaining() => Ok(n),
            _ => Err(CdrError::Truncated {
                what,
                offset: self.pos,
                needed: n.saturating_mul(min_size),
                available: self.remaining(),
            }),
        }
    }

    fn f64_seq(&mut self, what: &'static str) -> std::result::Result<Vec<f64>, CdrError> {
        let n = self.count(what, 8)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        self.align(8);
        let bytes = self.take(n * 8, what)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                f64::from_le_bytes(a)
            })
            .collect())
    }

    fn bytes_seq(&mut self, what: &'static str) -> std::result::Result<&'a [u8], CdrError> {
        let n = self.count(what, 1)?;
        self.take(n, what)
    }

    fn string_seq(&mut self, what: &'static str) -> std::result::Result<Vec<String>, CdrError> {
        let n = self.count(what, 4)?;
        (0..n).map(|_| self.string(what)).collect()
    }

    /// `header.stamp` (builtin_interfaces/Time) as ns: `sec * 1e9 + nanosec`.
    fn stamp(&mut self) -> std::result::Result<i64, CdrError> {
        let sec = self.i32("header.stamp.sec")?;
        let nanosec = self.u32("header.stamp.nanosec")?;
        Ok(sec as i64 * 1_000_000_000 + nanosec as i64)
    }

    /// `header.frame_id` of a message that starts with a header.
    fn frame_id(mut self) -> std::result::Result<String, CdrError> {
        self.stamp()?;
        self.string("header.frame_id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdr_reads_aligned_fields_and_refuses_short_input() {
        // header, u8 1, (pad 3) u32 7, f64 seq [2.5]: count at 8, pad to 16, value at 16.
        let mut b = vec![0, 1, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&2.5f64.to_le_bytes());
        let mut c = Cdr::new(&b).unwrap();
        assert_eq!(c.u8("a").unwrap(), 1);
        assert_eq!(c.u32("b").unwrap(), 7);
        assert_eq!(c.f64_seq("c").unwrap(), vec![2.5]);
        let mut short = Cdr::new(&b[..22]).unwrap();
        short.u8("a").unwrap();
        short.u32("b").unwrap();
        assert!(matches!(
            short.f64_seq("c"),
            Err(CdrError::Truncated { what: "c", .. })
        ));
        assert!(matches!(Cdr::new(&[0, 1]), Err(CdrError::Truncated { .. })));
        assert!(matches!(
            Cdr::new(&[0, 0, 0, 0]),
            Err(CdrError::Invalid { .. })
        ));
        // A hostile count is refused before allocating.
        let huge = [0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(Cdr::new(&huge).unwrap().string_seq("names").is_err());
    }

    #[test]
    fn header_detection() {
        assert!(starts_with_header(
            b"# comment\n\nstd_msgs/Header header\nfloat64 x\n"
        ));
        assert!(starts_with_header(b"Header header"));
        assert!(!starts_with_header(b"float64 x\nstd_msgs/Header header"));
        assert!(!starts_with_header(b""));
    }
}
