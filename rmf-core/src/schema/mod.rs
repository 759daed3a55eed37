//! What an episode declares: its metadata, its streams, their kinds and element types, and the
//! Arrow schema each stream kind is read as.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use rmf_codecs::{DType, FrameCodec, FrameSpec, PixelFormat, MAX_GOP};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypt::StreamEncryption;
use crate::error::{Error, Result};

mod wire;

/// Who may see a stream. Tools that share or export data use it to decide what leaves.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Sensitivity {
    /// May be published.
    Public,
    /// Stays within the organisation (the default).
    #[default]
    Internal,
    /// Restricted even within the organisation.
    Private,
}

impl Sensitivity {
    /// Parses `"public"`, `"internal"` or `"private"`.
    pub fn parse(name: &str) -> Result<Sensitivity> {
        match name {
            "public" => Ok(Sensitivity::Public),
            "internal" => Ok(Sensitivity::Internal),
            "private" => Ok(Sensitivity::Private),
            other => Err(Error::InvalidArgument(format!(
                "sensitivity must be public, internal or private, not {other:?}"
            ))),
        }
    }

    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            Sensitivity::Public => "public",
            Sensitivity::Internal => "internal",
            Sensitivity::Private => "private",
        }
    }
}

/// What a stream carries, with the parameters of that kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "wire::StreamKindWire", into = "wire::StreamKindWire")]
#[non_exhaustive]
pub enum StreamKind {
    /// Fixed-shape numeric samples (force/torque, joint states, actions).
    Signal {
        /// Element type.
        dtype: DType,
        /// Shape of one sample, row-major (`[6]`, `[2, 7]`; `[]` for a scalar).
        shape: Vec<usize>,
    },
    /// Images.
    Frames {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Pixel layout.
        pixel_format: PixelFormat,
        /// Storage codec, with its parameters.
        codec: FrameCodec,
    },
    /// PCM audio in blocks; a block is stamped with the time of its first sample.
    Audio {
        /// Samples per second per channel.
        sample_rate: u32,
        /// Interleaved channels.
        channels: u16,
        /// `int16` or `float32`.
        dtype: DType,
    },
    /// Sparse records: interventions, notes, failures.
    Events,
}

impl StreamKind {
    /// `"signal"`, `"frames"`, `"audio"` or `"events"`.
    pub fn name(&self) -> &'static str {
        match self {
            StreamKind::Signal { .. } => "signal",
            StreamKind::Frames { .. } => "frames",
            StreamKind::Audio { .. } => "audio",
            StreamKind::Events => "events",
        }
    }
}

/// A stream as declared in the file: name, kind and descriptive fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StreamInfoWire")]
pub struct StreamInfo {
    /// Path-like name, unique in the episode (`cam/front`, `ft/wrist`).
    pub name: String,
    /// Kind and its parameters.
    #[serde(flatten)]
    pub kind: StreamKind,
    /// Nominal rate in Hz, if the stream has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_hz: Option<f64>,
    /// Per-axis names of a signal (one per element), or empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Units: one per element of a signal, or one for the whole stream (`"mm"` for depth), or
    /// empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<String>,
    /// Who may see the stream.
    #[serde(default)]
    pub sensitivity: Sensitivity,
    /// Free tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Set when the stream's chunks are encrypted (spec/encryption.md). A writer with a key
    /// sets it on every private stream; callers leave it `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<StreamEncryption>,
    /// Fields written by a newer minor version, kept as they are.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// StreamInfo as parsed, before the keys of its kind are taken out of `other` (serde hands a
/// catch-all map every key, including those another flattened field consumed).
#[derive(Deserialize)]
struct StreamInfoWire {
    name: String,
    #[serde(flatten)]
    kind: StreamKind,
    #[serde(default)]
    rate_hz: Option<f64>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    units: Vec<String>,
    #[serde(default)]
    sensitivity: Sensitivity,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    encryption: Option<StreamEncryption>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl From<StreamInfoWire> for StreamInfo {
    fn from(w: StreamInfoWire) -> Self {
        let mut other = w.other;
        if let Ok(Value::Object(kind_keys)) = serde_json::to_value(&w.kind) {
            for k in kind_keys.keys() {
                other.remove(k);
            }
        }
        StreamInfo {
            name: w.name,
            kind: w.kind,
            rate_hz: w.rate_hz,
            names: w.names,
            units: w.units,
            sensitivity: w.sensitivity,
            tags: w.tags,
            encryption: w.encryption,
            other,
        }
    }
}

impl StreamInfo {
    fn new(name: impl Into<String>, kind: StreamKind) -> Self {
        StreamInfo {
            name: name.into(),
            kind,
            rate_hz: None,
            names: Vec::new(),
            units: Vec::new(),
            sensitivity: Sensitivity::Internal,
            tags: BTreeMap::new(),
            encryption: None,
            other: Map::new(),
        }
    }

    /// A signal stream of `dtype` samples of `shape`.
    pub fn signal(name: impl Into<String>, dtype: DType, shape: &[usize]) -> Self {
        Self::new(
            name,
            StreamKind::Signal {
                dtype,
                shape: shape.to_vec(),
            },
        )
    }

    /// A frame stream of `width` x `height` images, stored raw until [`StreamInfo::with_codec`].
    pub fn frames(
        name: impl Into<String>,
        width: u32,
        height: u32,
        pixel_format: PixelFormat,
    ) -> Self {
        Self::new(
            name,
            StreamKind::Frames {
                width,
                height,
                pixel_format,
                codec: FrameCodec::Raw,
            },
        )
    }

    /// Sets a frame stream's codec and its parameters (`FrameCodec::Jpeg { quality: 90 }`,
    /// [`FrameCodec::H264`](const@FrameCodec::H264) for the defaults); other kinds are unchanged.
    pub fn with_codec(mut self, codec: FrameCodec) -> Self {
        if let StreamKind::Frames { codec: c, .. } = &mut self.kind {
            *c = codec;
        }
        self
    }

    /// A frame stream's size, pixel format and codec; `None` for other kinds.
    pub fn frame_spec(&self) -> Option<FrameSpec> {
        match self.kind {
            StreamKind::Frames {
                width,
                height,
                pixel_format,
                codec,
            } => Some(FrameSpec {
                width,
                height,
                pixel_format,
                codec,
            }),
            _ => None,
        }
    }

    /// An audio stream; `dtype` is `Int16` or `Float32`.
    pub fn audio(name: impl Into<String>, sample_rate: u32, channels: u16, dtype: DType) -> Self {
        Self::new(
            name,
            StreamKind::Audio {
                sample_rate,
                channels,
                dtype,
            },
        )
    }

    /// An event stream.
    pub fn events(name: impl Into<String>) -> Self {
        Self::new(name, StreamKind::Events)
    }

    /// Sets the nominal rate.
    pub fn with_rate(mut self, hz: f64) -> Self {
        self.rate_hz = Some(hz);
        self
    }

    /// Sets per-axis names.
    pub fn with_names<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Sets units.
    pub fn with_units<S: Into<String>>(mut self, units: impl IntoIterator<Item = S>) -> Self {
        self.units = units.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the sensitivity label.
    pub fn with_sensitivity(mut self, s: Sensitivity) -> Self {
        self.sensitivity = s;
        self
    }

    /// Adds a tag.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Elements per signal sample (product of the shape; 1 for a scalar), 0 for other kinds.
    pub fn signal_width(&self) -> usize {
        match &self.kind {
            StreamKind::Signal { shape, .. } => shape.iter().product(),
            _ => 0,
        }
    }

    /// Bytes of one decoded frame, 0 for other kinds.
    pub fn frame_bytes(&self) -> usize {
        match &self.kind {
            StreamKind::Frames {
                width,
                height,
                pixel_format,
                ..
            } => *width as usize * *height as usize * pixel_format.bytes_per_pixel(),
            _ => 0,
        }
    }

    /// Checks the declaration: a usable name, sane parameters, names/units that fit.
    pub fn validate(&self) -> Result<()> {
        let bad = |detail: String| {
            Err(Error::InvalidArgument(format!(
                "stream {:?}: {detail}",
                self.name
            )))
        };
        if self.name.is_empty()
            || self.name.len() > 255
            || self.name.starts_with('/')
            || self.name.ends_with('/')
            || self.name.contains("//")
            || self.name.chars().any(|c| c.is_control())
        {
            return bad(
                "a stream name is 1..255 bytes, path-like (`cam/front`), without control \
                 characters or empty path segments"
                    .into(),
            );
        }
        if let Some(r) = self.rate_hz {
            if !(r.is_finite() && r > 0.0) {
                return bad(format!("rate must be a positive number of Hz, got {r}"));
            }
        }
        if let Some(Err(detail)) = self.encryption.as_ref().map(StreamEncryption::validate) {
            return bad(detail);
        }
        match &self.kind {
            StreamKind::Signal { shape, .. } => {
                let width = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
                match width {
                    Some(w) if (1..=65_535).contains(&w) => {}
                    _ => {
                        return bad(format!(
                            "signal shape {shape:?} must hold 1..=65535 elements"
                        ))
                    }
                }
                let w = self.signal_width();
                if !self.names.is_empty() && self.names.len() != w {
                    return bad(format!("{} names for {w} elements", self.names.len()));
                }
                if !self.units.is_empty() && self.units.len() != w && self.units.len() != 1 {
                    return bad(format!(
                        "{} units for {w} elements (give 1 or {w})",
                        self.units.len()
                    ));
                }
            }
            StreamKind::Frames {
                width,
                height,
                pixel_format,
                codec,
            } => {
                if matches!(codec, FrameCodec::Jpeg { .. }) && *pixel_format == PixelFormat::Gray16
                {
                    return bad(
                        "JPEG holds 8-bit images: store gray16 (depth) with png or raw".into(),
                    );
                }
                if let FrameCodec::H264 { qp, gop } = codec {
                    if *pixel_format == PixelFormat::Gray16 {
                        return bad(
                            "H.264 holds 8-bit images: store gray16 (depth) losslessly with png or raw"
                                .into(),
                        );
                    }
                    if width % 2 != 0 || height % 2 != 0 || *width < 16 || *height < 16 {
                        return bad(format!(
                            "H.264 frames need an even width and height of at least 16, got {width}x{height}"
                        ));
                    }
                    if (*width).max(*height) > 3840 || (*width).min(*height) > 2160 {
                        return bad(format!(
                            "H.264 frames are at most 3840x2160 (or 2160x3840), got {width}x{height}"
                        ));
                    }
                    if *qp > 51 {
                        return bad(format!("H.264 qp must be 0..=51, got {:?}", Some(qp)));
                    }
                    if !(1..=MAX_GOP).contains(gop) {
                        return bad(format!(
                            "H.264 gop must be 1..={MAX_GOP} frames, got {:?}",
                            Some(gop)
                        ));
                    }
                }
                if let FrameCodec::Jpeg { quality } = codec {
                    if !(1..=100).contains(quality) {
                        return bad(format!(
                            "JPEG quality must be 1..=100, got {:?}",
                            Some(quality)
                        ));
                    }
                }
                if matches!(codec, FrameCodec::Jpeg { .. }) && (*width > 65_535 || *height > 65_535)
                {
                    return bad("JPEG images are at most 65535 pixels wide and high".into());
                }
                if *width == 0 || *height == 0 || (*width as u64 * *height as u64) > (1 << 28) {
                    return bad(format!(
                        "frame size {width}x{height} must be non-empty and at most 2^28 pixels"
                    ));
                }
            }
            StreamKind::Audio {
                sample_rate,
                channels,
                dtype,
            } => {
                if *sample_rate == 0 || *channels == 0 || *channels > 256 {
                    return bad(format!(
                        "audio needs a positive sample rate and 1..=256 channels, got {sample_rate} Hz, {channels} channels"
                    ));
                }
                if !matches!(dtype, DType::Int16 | DType::Float32) {
                    return bad(format!("audio samples are int16 or float32, not {dtype}"));
                }
            }
            StreamKind::Events => {}
        }
        Ok(())
    }

    /// The Arrow schema this stream's samples are read as (spec/streams.md).
    pub fn arrow_schema(&self) -> SchemaRef {
        let t = Field::new("t", DataType::Int64, false);
        let fields = match &self.kind {
            StreamKind::Signal { dtype, .. } => vec![
                t,
                Field::new(
                    "value",
                    DataType::FixedSizeList(
                        Arc::new(Field::new("item", dtype.arrow(), false)),
                        self.signal_width() as i32,
                    ),
                    false,
                ),
            ],
            StreamKind::Frames { .. } => vec![
                t,
                Field::new(
                    "frame",
                    DataType::FixedSizeBinary(self.frame_bytes() as i32),
                    false,
                ),
            ],
            StreamKind::Audio { dtype, .. } => vec![
                t,
                Field::new(
                    "samples",
                    DataType::List(Arc::new(Field::new("item", dtype.arrow(), false))),
                    false,
                ),
            ],
            StreamKind::Events => vec![
                t,
                Field::new("kind", DataType::Utf8, false),
                Field::new("operator", DataType::Utf8, false),
                Field::new("text", DataType::Utf8, false),
                Field::new("payload", DataType::Utf8, false),
            ],
        };
        Arc::new(Schema::new(fields))
    }
}

/// The library that wrote a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterInfo {
    /// Library name.
    pub library: String,
    /// Library version.
    pub version: String,
}

impl WriterInfo {
    /// For files that do not say who wrote them.
    pub fn unknown() -> Self {
        WriterInfo {
            library: "unknown".to_string(),
            version: String::new(),
        }
    }
}

impl Default for WriterInfo {
    fn default() -> Self {
        WriterInfo {
            library: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Episode metadata: who recorded what, when, on which clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpisodeMeta {
    /// Unique id of the episode (UUID v4 unless given).
    pub id: uuid::Uuid,
    /// Wall-clock start of the recording, ns since the Unix epoch (UTC).
    pub start_time_unix_ns: i64,
    /// The same instant in RFC 3339 (UTC), for people reading the JSON.
    #[serde(default)]
    pub start_time_utc: String,
    /// Name of the clock that every timestamp in the file is on (`robot_monotonic`).
    pub clock: String,
    /// Robot or embodiment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub robot: String,
    /// Task description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub task: String,
    /// Operator.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
    /// Free key/values.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// Library that wrote the file (stamped by the writer; "unknown" when a file lacks it).
    #[serde(default = "WriterInfo::unknown")]
    pub writer: WriterInfo,
    /// Fields written by a newer minor version, kept as they are.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Default for EpisodeMeta {
    fn default() -> Self {
        EpisodeMeta::new()
    }
}

/// The key of [`EpisodeMeta::extra`] that holds an episode's tags (a list of strings; `rmf
/// share --require-tag` checks it).
pub const TAGS_KEY: &str = "tags";

impl EpisodeMeta {
    /// The episode's tags: the strings of `extra.tags` (empty when there are none).
    pub fn tags(&self) -> Vec<String> {
        self.extra
            .get(TAGS_KEY)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// New metadata: a fresh UUID, the current time, clock `robot_monotonic`.
    pub fn new() -> Self {
        let now = std::time::SystemTime::now();
        let ns = now
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
            .unwrap_or(0);
        EpisodeMeta {
            id: uuid::Uuid::new_v4(),
            start_time_unix_ns: ns,
            start_time_utc: String::new(),
            clock: "robot_monotonic".to_string(),
            robot: String::new(),
            task: String::new(),
            operator: String::new(),
            extra: Map::new(),
            writer: WriterInfo::default(),
            other: Map::new(),
        }
        .with_start_time_unix_ns(ns)
    }

    /// Sets the wall-clock start (and its RFC 3339 form).
    pub fn with_start_time_unix_ns(mut self, ns: i64) -> Self {
        self.start_time_unix_ns = ns;
        self.start_time_utc = rfc3339(ns);
        self
    }

    /// Sets the id.
    pub fn with_id(mut self, id: uuid::Uuid) -> Self {
        self.id = id;
        self
    }

    /// Sets the clock name.
    pub fn with_clock(mut self, clock: impl Into<String>) -> Self {
        self.clock = clock.into();
        self
    }

    /// Sets the robot.
    pub fn with_robot(mut self, robot: impl Into<String>) -> Self {
        self.robot = robot.into();
        self
    }

    /// Sets the task.
    pub fn with_task(mut self, task: impl Into<String>) -> Self {
        self.task = task.into();
        self
    }

    /// Sets the operator.
    pub fn with_operator(mut self, operator: impl Into<String>) -> Self {
        self.operator = operator.into();
        self
    }

    /// Adds a free key/value.
    pub fn with_extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

/// RFC 3339 with nanoseconds, UTC; times before 1970 are written as the epoch.
fn rfc3339(ns: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns.max(0) as u64);
    humantime::format_rfc3339_nanos(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_json_keeps_unknown_fields_once_and_round_trips() {
        let json = r#"{"name":"cam","kind":"frames","width":4,"height":2,"pixel_format":"gray8","codec":"raw","future_field":[1,2],"sensitivity":"private"}"#;
        let s: StreamInfo = serde_json::from_str(json).unwrap();
        assert_eq!(s.other.len(), 1, "{:?}", s.other);
        assert_eq!(s.sensitivity, Sensitivity::Private);
        let back = serde_json::to_string(&s).unwrap();
        assert_eq!(back.matches("\"kind\"").count(), 1, "{back}");
        assert_eq!(serde_json::from_str::<StreamInfo>(&back).unwrap(), s);
    }
}
