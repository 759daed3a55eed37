//! Frame codecs: one frame's raw pixels to a stored payload and back (spec/streams.md#frames).
//!
//! [`FrameCodec`] names a codec together with its parameters, so that a JPEG quality cannot be
//! given to H.264 or an H.264 keyframe interval to PNG. Image codecs ([`image`]) code each frame
//! on its own; video ([`h264`]) keeps encoder and decoder state between frames, so the episode
//! layer drives it frame by frame.
//!
//! Each codec is behind a feature (`png`, `jpeg`, `h264`). A build without one still reads and
//! writes every other stream and reports a typed error for frames of the missing codec.

// Without the `h264` feature the same names stand for a codec that reports its absence.
#[cfg_attr(not(feature = "h264"), path = "h264_absent.rs")]
pub mod h264;
pub mod image;

use crate::column::{self, CodecOptions};
use crate::error::{CodecError, InvalidName};
use crate::pixel::PixelFormat;

/// JPEG quality when a stream does not give one.
pub const DEFAULT_JPEG_QUALITY: u8 = 90;
/// H.264 quantizer when a stream does not give one (0..=51, lower is better and bigger).
/// Chosen by measurement: the highest qp within 1 dB of LeRobot's AV1 (crf 30) on the demo
/// camera and on panned photographs (benches/README.md, frame codecs).
pub const DEFAULT_H264_QP: u8 = 22;
/// H.264 keyframe interval when a stream does not give one: a random frame costs at most this
/// many frames of decoding.
pub const DEFAULT_GOP: u32 = 8;
/// Longest keyframe interval a writer accepts.
pub const MAX_GOP: u32 = 1000;

/// How frames are stored, with the parameters of that codec. Image codecs compress each frame
/// on its own, so one frame decodes alone; the video codec compresses groups of pictures that
/// start with a keyframe, and every chunk starts with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FrameCodec {
    /// Raw pixels, each frame one zstd frame.
    #[default]
    Raw,
    /// Each frame a PNG image (lossless; 8-bit RGB or grey, 16-bit grey).
    Png,
    /// Each frame a baseline JPEG image (lossy; rgb8 and gray8 only).
    Jpeg {
        /// 1..=100, higher is better and bigger.
        quality: u8,
    },
    /// H.264 video (lossy; rgb8 and gray8, even width and height): each frame one access unit,
    /// a keyframe (IDR) every `gop` frames and at the start of every chunk.
    H264 {
        /// Quantizer, 0..=51 (lower is better and bigger).
        qp: u8,
        /// Keyframe interval in frames, 1..=[`MAX_GOP`].
        gop: u32,
    },
}

impl FrameCodec {
    /// JPEG at [`DEFAULT_JPEG_QUALITY`].
    pub const JPEG: FrameCodec = FrameCodec::Jpeg {
        quality: DEFAULT_JPEG_QUALITY,
    };
    /// H.264 at [`DEFAULT_H264_QP`] and [`DEFAULT_GOP`].
    pub const H264: FrameCodec = FrameCodec::H264 {
        qp: DEFAULT_H264_QP,
        gop: DEFAULT_GOP,
    };

    /// The JSON name (`"raw"`, `"png"`, `"jpeg"`, `"h264"`).
    pub fn name(&self) -> &'static str {
        match self {
            FrameCodec::Raw => "raw",
            FrameCodec::Png => "png",
            FrameCodec::Jpeg { .. } => "jpeg",
            FrameCodec::H264 { .. } => "h264",
        }
    }

    /// Whether frames depend on earlier frames (decoding starts at a keyframe).
    pub fn is_video(&self) -> bool {
        matches!(self, FrameCodec::H264 { .. })
    }

    /// Parses `"raw"`, `"png"`, `"jpeg"` (or `"jpg"`) or `"h264"`, with the default parameters.
    pub fn parse(name: &str) -> Result<FrameCodec, InvalidName> {
        match name {
            "raw" => Ok(FrameCodec::Raw),
            "png" => Ok(FrameCodec::Png),
            "jpeg" | "jpg" => Ok(FrameCodec::JPEG),
            "h264" => Ok(FrameCodec::H264),
            other => Err(InvalidName(format!(
                "unknown frame codec {other:?} (expected raw, png, jpeg or h264)"
            ))),
        }
    }

    /// Parses a codec name with its optional settings, as a command line or a Python keyword
    /// argument gives them: `quality` for JPEG, `qp` and `gop` for H.264, `None` for the
    /// default. A setting of another codec is an error rather than silently ignored. Ranges
    /// are checked where a stream is declared.
    pub fn parse_with(
        name: &str,
        quality: Option<u8>,
        qp: Option<u8>,
        gop: Option<u32>,
    ) -> Result<FrameCodec, InvalidName> {
        let codec = FrameCodec::parse(name)?;
        // The same words as a stream declaration that mixes them up used to get.
        let video = || Err(InvalidName("qp and gop are for the h264 codec only".into()));
        let image = |q: u8| {
            Err(InvalidName(format!(
                "quality {q} is for the jpeg codec only"
            )))
        };
        match (codec, quality) {
            (FrameCodec::H264 { .. } | FrameCodec::Raw | FrameCodec::Png, Some(q)) => image(q),
            (FrameCodec::H264 { .. }, None) => Ok(codec.with_video(qp, gop)),
            _ if qp.is_some() || gop.is_some() => video(),
            (FrameCodec::Jpeg { quality: q }, given) => Ok(FrameCodec::Jpeg {
                quality: given.unwrap_or(q),
            }),
            (other, _) => Ok(other),
        }
    }

    /// This codec with JPEG quality `quality` (JPEG only; other codecs are returned as they
    /// are).
    pub fn with_quality(self, quality: u8) -> FrameCodec {
        match self {
            FrameCodec::Jpeg { .. } => FrameCodec::Jpeg { quality },
            other => other,
        }
    }

    /// This codec with the H.264 quantizer and keyframe interval given (`None` keeps each);
    /// other codecs are returned as they are.
    pub fn with_video(self, qp: Option<u8>, gop: Option<u32>) -> FrameCodec {
        match self {
            FrameCodec::H264 { qp: q, gop: g } => FrameCodec::H264 {
                qp: qp.unwrap_or(q),
                gop: gop.unwrap_or(g),
            },
            other => other,
        }
    }

    /// Whether this build holds the codec (its feature was enabled).
    pub fn is_available(&self) -> bool {
        match self {
            FrameCodec::Raw => true,
            FrameCodec::Png => cfg!(feature = "png"),
            FrameCodec::Jpeg { .. } => cfg!(feature = "jpeg"),
            FrameCodec::H264 { .. } => cfg!(feature = "h264"),
        }
    }
}

/// Everything a frame codec needs to know about a stream's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameSpec {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel layout.
    pub pixel_format: PixelFormat,
    /// Storage codec and its parameters.
    pub codec: FrameCodec,
}

impl FrameSpec {
    /// Bytes of one decoded frame.
    pub fn frame_bytes(&self) -> usize {
        self.width as usize * self.height as usize * self.pixel_format.bytes_per_pixel()
    }
}

/// The error for a codec this build was compiled without.
#[cfg_attr(
    all(feature = "png", feature = "jpeg", feature = "h264"),
    allow(dead_code)
)]
pub(crate) fn absent(codec: &FrameCodec) -> CodecError {
    let feature = codec.name();
    CodecError(format!(
        "this build has no {feature} frame codec (rmf-codecs feature `{feature}`; the rmf \
         command and the Python wheel have every codec)"
    ))
}

/// Video frames depend on the frames before them: the episode layer keeps their coder state.
fn video_error() -> CodecError {
    CodecError("h264 frames are coded with the frames before them, not one by one".into())
}

/// Encodes one frame of raw pixels (row-major; gray16 little-endian) with an image codec.
pub fn encode(spec: &FrameSpec, pixels: &[u8], opts: &CodecOptions) -> Result<Vec<u8>, CodecError> {
    match spec.codec {
        FrameCodec::Raw => column::zstd_compress(pixels, opts.zstd_level),
        FrameCodec::Png => image::encode_png(spec, pixels),
        FrameCodec::Jpeg { quality } => image::encode_jpeg(spec, pixels, quality),
        FrameCodec::H264 { .. } => Err(video_error()),
    }
}

/// Decodes one payload into exactly `spec.frame_bytes()` raw bytes, checking that the image has
/// the stream's size and pixel format.
pub fn decode(spec: &FrameSpec, payload: &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    decode_append(spec, payload, &mut out)?;
    Ok(out)
}

/// Like [`decode`], but appends the frame to `out`: raw and JPEG frames decode straight into
/// it (a 640x480 frame is 0.9 MB, and a copy of it costs a few % of a JPEG decode). `out` is
/// unchanged on error.
pub fn decode_append(
    spec: &FrameSpec,
    payload: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let want = spec.frame_bytes();
    let start = out.len();
    let appended = match spec.codec {
        FrameCodec::Raw => column::zstd_decompress_append(payload, want, out)?,
        FrameCodec::Jpeg { .. } => image::decode_jpeg_append(spec, payload, want, out)?,
        FrameCodec::Png => {
            let png = image::decode_png(spec, payload, want)?;
            out.extend_from_slice(&png);
            png.len()
        }
        FrameCodec::H264 { .. } => return Err(video_error()),
    };
    if appended != want {
        out.truncate(start);
        return Err(CodecError(format!(
            "decoded {appended} bytes, expected {want}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_with_applies_settings_to_their_codec_only() {
        assert_eq!(
            FrameCodec::parse_with("jpg", Some(70), None, None),
            Ok(FrameCodec::Jpeg { quality: 70 })
        );
        assert_eq!(
            FrameCodec::parse_with("h264", None, Some(30), None),
            Ok(FrameCodec::H264 {
                qp: 30,
                gop: DEFAULT_GOP
            })
        );
        assert_eq!(
            FrameCodec::parse_with("png", None, None, None),
            Ok(FrameCodec::Png)
        );
        for (name, quality, qp, gop) in [
            ("raw", Some(50), None, None),
            ("png", None, Some(20), None),
            ("jpeg", None, None, Some(4)),
            ("h264", Some(90), None, None),
        ] {
            let err = FrameCodec::parse_with(name, quality, qp, gop).unwrap_err();
            assert!(err.0.contains("codec only"), "{name}: {err}");
        }
        assert!(FrameCodec::parse_with("webp", None, None, None).is_err());
    }
}
