//! The JSON form of a stream kind, as spec/streams.md writes it: frame codec parameters are
//! flat fields beside the codec's name (`"codec": "jpeg", "quality": 90`). In memory they live
//! inside [`FrameCodec`], so that no codec carries another's parameters; this module converts
//! between the two and refuses JSON that mixes them.

use rmf_codecs::{DType, FrameCodec, PixelFormat};
use serde::{Deserialize, Serialize};

use super::StreamKind;

/// A frame codec's name in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum CodecName {
    #[default]
    Raw,
    Png,
    Jpeg,
    H264,
    /// A codec of a newer rmf-codecs that this layer does not map yet: written by its own name
    /// (never as another codec's), and refused when read until it is mapped here.
    #[serde(skip_deserializing)]
    Other(String),
}

impl Serialize for CodecName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            CodecName::Raw => "raw",
            CodecName::Png => "png",
            CodecName::Jpeg => "jpeg",
            CodecName::H264 => "h264",
            CodecName::Other(name) => name,
        })
    }
}

/// [`StreamKind`] field for field as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(super) enum StreamKindWire {
    Signal {
        dtype: DType,
        shape: Vec<usize>,
    },
    Frames {
        width: u32,
        height: u32,
        pixel_format: PixelFormat,
        #[serde(default)]
        codec: CodecName,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quality: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        qp: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gop: Option<u32>,
    },
    Audio {
        sample_rate: u32,
        channels: u16,
        dtype: DType,
    },
    Events,
}

impl TryFrom<StreamKindWire> for StreamKind {
    type Error = String;

    fn try_from(w: StreamKindWire) -> Result<Self, String> {
        Ok(match w {
            StreamKindWire::Signal { dtype, shape } => StreamKind::Signal { dtype, shape },
            StreamKindWire::Frames {
                width,
                height,
                pixel_format,
                codec,
                quality,
                qp,
                gop,
            } => {
                if codec != CodecName::H264 && (qp.is_some() || gop.is_some()) {
                    return Err("qp and gop are for the h264 codec only".into());
                }
                if let (false, Some(q)) = (codec == CodecName::Jpeg, quality) {
                    return Err(format!("quality {q} is for the jpeg codec only"));
                }
                let codec = match (codec, quality, qp, gop) {
                    (CodecName::Raw, ..) => FrameCodec::Raw,
                    (CodecName::Png, ..) => FrameCodec::Png,
                    (CodecName::Jpeg, Some(quality), ..) => FrameCodec::Jpeg { quality },
                    (CodecName::Jpeg, None, ..) => {
                        return Err("JPEG quality must be 1..=100, got None".into())
                    }
                    (CodecName::H264, _, Some(qp), Some(gop)) => FrameCodec::H264 { qp, gop },
                    (CodecName::H264, _, None, _) => {
                        return Err("H.264 qp must be 0..=51, got None".into())
                    }
                    (CodecName::H264, _, _, None) => {
                        return Err(format!(
                            "H.264 gop must be 1..={} frames, got None",
                            rmf_codecs::MAX_GOP
                        ))
                    }
                    (CodecName::Other(name), ..) => {
                        return Err(format!("frame codec {name:?} is not mapped"))
                    }
                };
                StreamKind::Frames {
                    width,
                    height,
                    pixel_format,
                    codec,
                }
            }
            StreamKindWire::Audio {
                sample_rate,
                channels,
                dtype,
            } => StreamKind::Audio {
                sample_rate,
                channels,
                dtype,
            },
            StreamKindWire::Events => StreamKind::Events,
        })
    }
}

impl From<StreamKind> for StreamKindWire {
    fn from(k: StreamKind) -> Self {
        match k {
            StreamKind::Signal { dtype, shape } => StreamKindWire::Signal { dtype, shape },
            StreamKind::Frames {
                width,
                height,
                pixel_format,
                codec,
            } => {
                let (codec, quality, qp, gop) = match codec {
                    FrameCodec::Raw => (CodecName::Raw, None, None, None),
                    FrameCodec::Png => (CodecName::Png, None, None, None),
                    FrameCodec::Jpeg { quality } => (CodecName::Jpeg, Some(quality), None, None),
                    FrameCodec::H264 { qp, gop } => (CodecName::H264, None, Some(qp), Some(gop)),
                    other => (CodecName::Other(other.name().to_string()), None, None, None),
                };
                StreamKindWire::Frames {
                    width,
                    height,
                    pixel_format,
                    codec,
                    quality,
                    qp,
                    gop,
                }
            }
            StreamKind::Audio {
                sample_rate,
                channels,
                dtype,
            } => StreamKindWire::Audio {
                sample_rate,
                channels,
                dtype,
            },
            StreamKind::Events => StreamKindWire::Events,
        }
    }
}
