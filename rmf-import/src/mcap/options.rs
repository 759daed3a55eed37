//! What an import takes: [`McapImportOptions`] and [`TimeSource`].

#[allow(unused_imports)]
use super::*;

/// Codec of imported rgb8 and gray8 images when the options do not choose one.
pub const DEFAULT_COLOR_CODEC: FrameCodec = FrameCodec::H264;
/// Codec of imported gray16 (depth) images when the options do not choose one: lossless.
pub const DEFAULT_DEPTH_CODEC: FrameCodec = FrameCodec::Png;

/// Which clock stamps the imported samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    /// topics, the second half while messages are converted and written.
    pub(crate) progress: Option<Progress>,
    /// The largest record, or chunk once decompressed, that is read
    /// ([`DEFAULT_MAX_RECORD_BYTES`]): a bigger one is an error before memory is set aside.
    pub(crate) max_record_bytes: u64,
}

/// The default of [`McapImportOptions::with_max_record_bytes`]: 1 GiB, the same limit an RMF
/// reader puts on a decoded chunk ([`rmf_core::DEFAULT_MAX_CHUNK_BYTES`]). rosbag2 writes chunks
/// of a few MiB; only a single message larger than this would need it raised.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = rmf_core::DEFAULT_MAX_CHUNK_BYTES;

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
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
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

    /// Sets the largest MCAP record, or chunk once decompressed, that the import reads. A file
    /// whose record claims more is an error, before anything of that size is allocated.
    pub fn with_max_record_bytes(mut self, bytes: u64) -> Self {
        self.max_record_bytes = bytes;
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
