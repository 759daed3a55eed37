//! What an episode declares: its metadata, its streams, their kinds and element types, and the
//! Arrow schema each stream kind is read as.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use arrow_array::types::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypt::StreamEncryption;
use crate::error::{Error, Result};

/// Numeric element types of signals, audio and stored buffers.
///
/// The JSON names are numpy's (`"float32"`, `"uint8"`, ...); the byte codes are used in chunk
/// buffer directories (spec/chunks.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// u8
    Uint8,
    /// u16
    Uint16,
    /// u32
    Uint32,
    /// u64
    Uint64,
    /// i8
    Int8,
    /// i16
    Int16,
    /// i32
    Int32,
    /// i64
    Int64,
    /// f32
    Float32,
    /// f64
    Float64,
}

impl DType {
    /// Every element type, in code order.
    pub const ALL: [DType; 10] = [
        DType::Uint8,
        DType::Uint16,
        DType::Uint32,
        DType::Uint64,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Float32,
        DType::Float64,
    ];

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Uint8 | DType::Int8 => 1,
            DType::Uint16 | DType::Int16 => 2,
            DType::Uint32 | DType::Int32 | DType::Float32 => 4,
            DType::Uint64 | DType::Int64 | DType::Float64 => 8,
        }
    }

    /// The numpy-style name, as in the stream JSON.
    pub fn name(self) -> &'static str {
        match self {
            DType::Uint8 => "uint8",
            DType::Uint16 => "uint16",
            DType::Uint32 => "uint32",
            DType::Uint64 => "uint64",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
        }
    }

    /// Parses a numpy-style name (`"float32"`) or a Rust one (`"f32"`).
    pub fn parse(name: &str) -> Result<DType> {
        let d = match name {
            "uint8" | "u8" => DType::Uint8,
            "uint16" | "u16" => DType::Uint16,
            "uint32" | "u32" => DType::Uint32,
            "uint64" | "u64" => DType::Uint64,
            "int8" | "i8" => DType::Int8,
            "int16" | "i16" => DType::Int16,
            "int32" | "i32" => DType::Int32,
            "int64" | "i64" => DType::Int64,
            "float32" | "f32" => DType::Float32,
            "float64" | "f64" => DType::Float64,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown dtype {other:?} (expected one of uint8..uint64, int8..int64, float32, float64)"
                )))
            }
        };
        Ok(d)
    }

    /// The byte code used in buffer directories (1..=10; 0 means opaque bytes).
    pub fn code(self) -> u8 {
        match self {
            DType::Uint8 => 1,
            DType::Uint16 => 2,
            DType::Uint32 => 3,
            DType::Uint64 => 4,
            DType::Int8 => 5,
            DType::Int16 => 6,
            DType::Int32 => 7,
            DType::Int64 => 8,
            DType::Float32 => 9,
            DType::Float64 => 10,
        }
    }

    /// The element type for a buffer-directory code.
    pub fn from_code(code: u8) -> Option<DType> {
        DType::ALL.iter().copied().find(|d| d.code() == code)
    }

    /// The Arrow data type of one element.
    pub fn arrow(self) -> DataType {
        match self {
            DType::Uint8 => DataType::UInt8,
            DType::Uint16 => DataType::UInt16,
            DType::Uint32 => DataType::UInt32,
            DType::Uint64 => DataType::UInt64,
            DType::Int8 => DataType::Int8,
            DType::Int16 => DataType::Int16,
            DType::Int32 => DataType::Int32,
            DType::Int64 => DataType::Int64,
            DType::Float32 => DataType::Float32,
            DType::Float64 => DataType::Float64,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Rust number type that can be a stream element. Implemented for the ten [`DType`]s.
pub trait Element:
    bytemuck::Pod
    + pco::data_types::Number
    + arrow_buffer::ArrowNativeType
    + PartialOrd
    + fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The matching [`DType`].
    const DTYPE: DType;
    /// The matching Arrow primitive type.
    type Arrow: ArrowPrimitiveType<Native = Self>;
    /// The value as f64 (rounded for 64-bit integers), for statistics and display.
    fn to_f64(self) -> f64;
}

macro_rules! element {
    ($($t:ty => $d:ident, $a:ty;)*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            type Arrow = $a;
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}

element! {
    u8 => Uint8, UInt8Type;
    u16 => Uint16, UInt16Type;
    u32 => Uint32, UInt32Type;
    u64 => Uint64, UInt64Type;
    i8 => Int8, Int8Type;
    i16 => Int16, Int16Type;
    i32 => Int32, Int32Type;
    i64 => Int64, Int64Type;
    f32 => Float32, Float32Type;
    f64 => Float64, Float64Type;
}

/// Runs `$body` with `$t` bound to the Rust type of a runtime [`DType`].
#[macro_export]
#[doc(hidden)]
macro_rules! with_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::DType::Uint8 => {
                type $t = u8;
                $body
            }
            $crate::DType::Uint16 => {
                type $t = u16;
                $body
            }
            $crate::DType::Uint32 => {
                type $t = u32;
                $body
            }
            $crate::DType::Uint64 => {
                type $t = u64;
                $body
            }
            $crate::DType::Int8 => {
                type $t = i8;
                $body
            }
            $crate::DType::Int16 => {
                type $t = i16;
                $body
            }
            $crate::DType::Int32 => {
                type $t = i32;
                $body
            }
            $crate::DType::Int64 => {
                type $t = i64;
                $body
            }
            $crate::DType::Float32 => {
                type $t = f32;
                $body
            }
            $crate::DType::Float64 => {
                type $t = f64;
                $body
            }
        }
    };
}

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

/// Pixel layout of a frame stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PixelFormat {
    /// 8-bit RGB, row-major, 3 bytes per pixel.
    Rgb8,
    /// 8-bit grey, 1 byte per pixel.
    Gray8,
    /// 16-bit grey (depth), little-endian, 2 bytes per pixel.
    Gray16,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Gray8 => 1,
            PixelFormat::Gray16 => 2,
        }
    }

    /// Channels per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Gray8 | PixelFormat::Gray16 => 1,
        }
    }

    /// Parses `"rgb8"`, `"gray8"` or `"gray16"`.
    pub fn parse(name: &str) -> Result<PixelFormat> {
        match name {
            "rgb8" => Ok(PixelFormat::Rgb8),
            "gray8" => Ok(PixelFormat::Gray8),
            "gray16" => Ok(PixelFormat::Gray16),
            other => Err(Error::InvalidArgument(format!(
                "unknown pixel format {other:?} (expected rgb8, gray8 or gray16)"
            ))),
        }
    }

    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgb8 => "rgb8",
            PixelFormat::Gray8 => "gray8",
            PixelFormat::Gray16 => "gray16",
        }
    }
}

/// How frames are stored. Image codecs compress each frame on its own, so one frame decodes
/// alone; the video codec compresses groups of pictures that start with a keyframe, and every
/// chunk starts with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameCodec {
    /// Raw pixels, each frame one zstd frame.
    #[default]
    Raw,
    /// Each frame a PNG image (lossless; 8-bit RGB or grey, 16-bit grey).
    Png,
    /// Each frame a baseline JPEG image (lossy; rgb8 and gray8 only).
    Jpeg,
    /// H.264 video (lossy; rgb8 and gray8, even width and height): each frame one access unit,
    /// a keyframe (IDR) every `gop` frames and at the start of every chunk.
    H264,
}

/// JPEG quality when a stream does not give one.
pub const DEFAULT_JPEG_QUALITY: u8 = 90;
/// H.264 quantizer when a stream does not give one (0..=51, lower is better and bigger).
/// Measured (`benches/python/bench_media.py`): the highest qp within 1 dB of LeRobot's AV1
/// (crf 30) on both the demo camera and panned photographs, at 0.3-0.9x its bytes.
pub const DEFAULT_H264_QP: u8 = 22;
/// H.264 keyframe interval when a stream does not give one: a random frame costs at most this
/// many frames of decoding.
pub const DEFAULT_GOP: u32 = 8;
/// Longest keyframe interval a writer accepts.
pub const MAX_GOP: u32 = 1000;

impl FrameCodec {
    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            FrameCodec::Raw => "raw",
            FrameCodec::Png => "png",
            FrameCodec::Jpeg => "jpeg",
            FrameCodec::H264 => "h264",
        }
    }

    /// Whether frames depend on earlier frames (decoding starts at a keyframe).
    pub fn is_video(self) -> bool {
        self == FrameCodec::H264
    }

    /// Parses `"raw"`, `"png"`, `"jpeg"` or `"h264"`.
    pub fn parse(name: &str) -> Result<FrameCodec> {
        match name {
            "raw" => Ok(FrameCodec::Raw),
            "png" => Ok(FrameCodec::Png),
            "jpeg" | "jpg" => Ok(FrameCodec::Jpeg),
            "h264" => Ok(FrameCodec::H264),
            other => Err(Error::InvalidArgument(format!(
                "unknown frame codec {other:?} (expected raw, png, jpeg or h264)"
            ))),
        }
    }
}

/// What a stream carries, with the parameters of that kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
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
        /// Storage codec.
        #[serde(default)]
        codec: FrameCodec,
        /// JPEG quality (1..=100); absent for other codecs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quality: Option<u8>,
        /// H.264 quantizer (0..=51, lower is better); absent for other codecs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        qp: Option<u8>,
        /// H.264 keyframe interval in frames; absent for other codecs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gop: Option<u32>,
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

    /// A frame stream of `width` x `height` images.
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
                quality: None,
                qp: None,
                gop: None,
            },
        )
    }

    /// Sets a frame stream's codec; `quality` is JPEG's (default [`DEFAULT_JPEG_QUALITY`]).
    /// H.264 gets the default quantizer and keyframe interval; see [`StreamInfo::with_video`].
    pub fn with_codec(mut self, codec: FrameCodec, quality: Option<u8>) -> Self {
        if let StreamKind::Frames {
            codec: c,
            quality: q,
            qp,
            gop,
            ..
        } = &mut self.kind
        {
            *c = codec;
            *q = match codec {
                FrameCodec::Jpeg => Some(quality.unwrap_or(DEFAULT_JPEG_QUALITY)),
                _ => quality,
            };
            (*qp, *gop) = match codec {
                FrameCodec::H264 => (Some(DEFAULT_H264_QP), Some(DEFAULT_GOP)),
                _ => (None, None),
            };
        }
        self
    }

    /// Sets an H.264 frame stream's quantizer (0..=51, lower is better and bigger) and keyframe
    /// interval (frames); `None` keeps the current value.
    pub fn with_video(mut self, qp: Option<u8>, gop: Option<u32>) -> Self {
        if let StreamKind::Frames { qp: q, gop: g, .. } = &mut self.kind {
            *q = qp.or(*q);
            *g = gop.or(*g);
        }
        self
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
                quality,
                qp,
                gop,
            } => {
                if *codec == FrameCodec::Jpeg && *pixel_format == PixelFormat::Gray16 {
                    return bad(
                        "JPEG holds 8-bit images: store gray16 (depth) with png or raw".into(),
                    );
                }
                if *codec == FrameCodec::H264 {
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
                    match qp {
                        Some(q) if *q <= 51 => {}
                        q => return bad(format!("H.264 qp must be 0..=51, got {q:?}")),
                    }
                    match gop {
                        Some(g) if (1..=MAX_GOP).contains(g) => {}
                        g => {
                            return bad(format!(
                                "H.264 gop must be 1..={MAX_GOP} frames, got {g:?}"
                            ))
                        }
                    }
                } else if qp.is_some() || gop.is_some() {
                    return bad("qp and gop are for the h264 codec only".into());
                }
                match (codec, quality) {
                    (FrameCodec::Jpeg, Some(q)) if (1..=100).contains(q) => {}
                    (FrameCodec::Jpeg, q) => {
                        return bad(format!("JPEG quality must be 1..=100, got {q:?}"))
                    }
                    (_, Some(q)) => return bad(format!("quality {q} is for the jpeg codec only")),
                    _ => {}
                }
                if *codec == FrameCodec::Jpeg && (*width > 65_535 || *height > 65_535) {
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

impl EpisodeMeta {
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

    #[test]
    fn dtype_names_and_codes_are_one_to_one() {
        for d in DType::ALL {
            assert_eq!(DType::parse(d.name()).unwrap(), d);
            assert_eq!(DType::from_code(d.code()), Some(d));
        }
        assert!(DType::parse("float16").is_err());
    }
}
