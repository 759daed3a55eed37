//! The `h264` frame codec in a build without the `h264` feature: the same names as the real
//! module, every constructor failing with a typed error, so that the episode layer needs no
//! feature switches of its own and a file with video still opens (its other streams read).

use crate::error::CodecError;
use crate::pixel::PixelFormat;

/// NAL unit type of an IDR slice (ITU-T H.264 Table 7-1).
const NAL_IDR_SLICE: u8 = 5;

fn absent() -> CodecError {
    super::absent(&super::FrameCodec::H264)
}

/// Stands for the H.264 encoder; cannot be made in this build.
#[derive(Debug)]
pub struct H264Encoder(());

impl H264Encoder {
    /// Fails: this build has no H.264.
    pub fn new(_: u32, _: u32, _: PixelFormat, _: u8) -> Result<Self, CodecError> {
        Err(absent())
    }

    /// Never reached (no encoder exists).
    pub fn encode(&mut self, _: &[u8], _: bool) -> Result<Vec<u8>, CodecError> {
        Err(absent())
    }
}

/// Stands for the H.264 decoder; cannot be made in this build.
#[derive(Debug)]
pub struct H264Decoder(());

impl H264Decoder {
    /// Fails: this build has no H.264.
    pub fn take(
        _: u32,
        _: u32,
        _: PixelFormat,
        _: Option<(u64, u64)>,
        _: usize,
        _: usize,
    ) -> Result<(Self, usize), CodecError> {
        Err(absent())
    }

    /// Never reached (no decoder exists).
    pub fn recycle(self, _: Option<(u64, u64)>, _: usize) {}

    /// Never reached (no decoder exists).
    pub fn decode(&mut self, _: &[u8], _: Option<&mut Vec<u8>>) -> Result<(), CodecError> {
        Err(absent())
    }
}

/// Whether an Annex B access unit holds an IDR slice (a keyframe that decodes on its own):
/// a check of the bytes, which validation does without a decoder.
pub fn is_keyframe(unit: &[u8]) -> bool {
    unit.windows(4)
        .any(|w| w[0] == 0 && w[1] == 0 && w[2] == 1 && w[3] & 0x1f == NAL_IDR_SLICE)
}
