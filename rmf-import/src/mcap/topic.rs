//! One MCAP channel through both passes: which ROS 2 type it carries ([`MsgKind`]), where its
//! samples go ([`Sink`]), and payload errors that name the message.

#[allow(unused_imports)]
use super::*;

/// The ROS 2 types this importer maps (and those it knows it cannot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MsgKind {
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
pub(super) struct Topic {
    pub(super) report: TopicReport,
    pub(super) kind: MsgKind,
    pub(super) stream_name: String,
    /// Pass 1: the first and last times, and how often time went backwards.
    pub(super) first_t: Option<i64>,
    pub(super) last_t: Option<i64>,
    pub(super) backwards: u64,
    pub(super) zero_stamps: u64,
    /// Pass 2: messages seen so far, the held messages of a sorted topic, the sinks.
    pub(super) seen: u64,
    pub(super) held: Vec<Held>,
    pub(super) sink: Sink,
    /// Skipped messages by reason.
    pub(super) skips: BTreeMap<String, u64>,
    /// An AudioInfo topic: its first message that parses, or why none did.
    pub(super) audio_info: Option<std::result::Result<AudioInfo, String>>,
    /// An AudioInfo topic whose later messages give another format.
    pub(super) audio_info_changed: bool,
    /// Chosen by `--topic` (or no topics were named).
    pub(super) selected: bool,
    /// An audio topic: the format its samples are stored in.
    pub(super) audio: Option<AudioFormat>,
}

/// How an audio topic's bytes are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct AudioFormat {
    pub(super) channels: u16,
    pub(super) sample_rate: u32,
    pub(super) dtype: DType,
}

pub(super) struct Held {
    pub(super) t: i64,
    pub(super) index: u64,
    pub(super) log_time: u64,
    pub(super) data: Vec<u8>,
}

/// Where a topic's samples go, decided at its first message.
pub(super) enum Sink {
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
pub(super) enum JointSink {
    #[default]
    None,
    Dead(String),
    Stream {
        id: StreamId,
        n: usize,
        names: Vec<String>,
    },
}

pub(super) const JOINT_FIELDS: [&str; 3] = ["position", "velocity", "effort"];
pub(super) const IMU_NAMES: [&str; 10] =
    ["qx", "qy", "qz", "qw", "wx", "wy", "wz", "ax", "ay", "az"];
pub(super) const IMU_UNITS: [&str; 10] = [
    "", "", "", "", "rad/s", "rad/s", "rad/s", "m/s^2", "m/s^2", "m/s^2",
];
pub(super) const WRENCH_NAMES: [&str; 6] = ["fx", "fy", "fz", "tx", "ty", "tz"];
pub(super) const WRENCH_UNITS: [&str; 6] = ["N", "N", "N", "N*m", "N*m", "N*m"];

pub(super) fn same_topic(a: &str, b: &str) -> bool {
    a.trim_start_matches('/') == b.trim_start_matches('/')
}

/// `sensor_msgs/msg/Image` and `sensor_msgs/Image` alike: `sensor_msgs/Image`.
pub(super) fn short_type(name: &str) -> String {
    name.replacen("/msg/", "/", 1)
}

/// Whether a ROS 2 message definition starts with a `std_msgs/Header` field.
pub(super) fn starts_with_header(msgdef: &[u8]) -> bool {
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

pub(super) fn classify(
    channel: &mcap::Channel<'_>,
    opts: &McapImportOptions,
) -> (MsgKind, Option<String>) {
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
    pub(super) fn clock(&self, opts: &McapImportOptions) -> TimeSource {
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
    pub(super) fn time(
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

    pub(super) fn skip(&mut self, reason: String) {
        *self.skips.entry(reason).or_insert(0) += 1;
    }
}

/// Which message a payload error is about.
#[derive(Clone, Copy)]
pub(super) struct MsgRef {
    pub(super) index: u64,
    pub(super) log_time: u64,
}

pub(super) fn payload_error(file: &str, topic: &str, m: MsgRef, e: CdrError) -> Error {
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
