//! The `h264` frame codec (spec/streams.md#frames): frames become H.264 access units through
//! OpenH264, built from source by the `openh264` crate (no system library, no ffmpeg).
//!
//! Pixels go to YUV 4:2:0 on the way in: `rgb8` through BT.601 limited range (the conversion
//! OpenH264's own helpers do, signalled in the stream's VUI so that ffmpeg shows the same
//! colours), `gray8` as the luma plane itself with neutral chroma (signalled as full range), so
//! a grey image comes back through the codec without a colour conversion.
//!
//! The encoder keeps state between frames (P frames refer to the frame before). The writer asks
//! for a keyframe (an IDR access unit, with its SPS and PPS) at every chunk start and every
//! `gop` frames, so a reader starts decoding at the last keyframe at or before the frame it
//! wants, with a fresh decoder.

use std::sync::Mutex;

use openh264::decoder::Decoder;
use openh264::encoder::{
    Complexity, Encoder, EncoderConfig, FrameType, QpRange, RateControlMode, UsageType, VuiConfig,
};
use openh264::formats::{RgbSliceU8, YUVBuffer, YUVSource};
use openh264::{OpenH264API, Timestamp};

use crate::error::CodecError;
use crate::pixel::PixelFormat;

/// NAL unit type of an IDR slice (ITU-T H.264 Table 7-1).
const NAL_IDR_SLICE: u8 = 5;

fn err(what: &str, e: impl std::fmt::Display) -> CodecError {
    CodecError(format!("H.264 {what}: {e}"))
}

/// A grey frame as YUV 4:2:0: the pixels are the luma plane, chroma stays neutral.
struct GrayPlanes {
    y: Vec<u8>,
    chroma: Vec<u8>,
    width: usize,
    height: usize,
}

impl YUVSource for GrayPlanes {
    fn dimensions(&self) -> (usize, usize) {
        (self.width, self.height)
    }
    fn strides(&self) -> (usize, usize, usize) {
        (self.width, self.width / 2, self.width / 2)
    }
    fn y(&self) -> &[u8] {
        &self.y
    }
    fn u(&self) -> &[u8] {
        &self.chroma
    }
    fn v(&self) -> &[u8] {
        &self.chroma
    }
}

/// The encoder's input picture, reused from frame to frame.
enum Picture {
    Rgb(YUVBuffer),
    Gray(GrayPlanes),
}

/// Encodes the frames of one stream, in order.
pub struct H264Encoder {
    enc: Encoder,
    /// Frames encoded so far: the encoder's clock (see the rate control note in `new`).
    frames: u64,
    picture: Picture,
    width: usize,
    height: usize,
    pixel_format: PixelFormat,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "H264Encoder({}x{})", self.width, self.height)
    }
}

impl H264Encoder {
    /// An encoder at a fixed quantizer `qp` (no rate control: every frame gets the quality
    /// asked for, and no frame is ever skipped).
    pub fn new(
        width: u32,
        height: u32,
        pixel_format: PixelFormat,
        qp: u8,
    ) -> Result<Self, CodecError> {
        if pixel_format == PixelFormat::Gray16 || qp > 51 {
            return Err(CodecError(format!(
                "H.264 encodes 8-bit frames at qp 0..=51, not {} at qp {qp}",
                pixel_format.name()
            )));
        }
        let vui = match pixel_format {
            PixelFormat::Gray8 => VuiConfig::bt601().full_range(true),
            _ => VuiConfig::bt601(),
        };
        let config = EncoderConfig::new()
            .usage_type(UsageType::CameraVideoRealTime)
            // A fixed quantizer: buffer-based rate control held at min = max QP, and no frame
            // skipping (the other rate control modes print a warning when skipping is off).
            .rate_control_mode(RateControlMode::Bufferbased)
            .qp(QpRange::new(qp, qp))
            .skip_frames(false)
            .scene_change_detect(false)
            .background_detection(false)
            .complexity(Complexity::Medium)
            // One thread: the writer runs one encoder per stream, and a robot's other cores
            // are busy with the robot.
            .num_threads(1)
            .vui(vui);
        let enc = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| err("encoder set-up failed", e))?;
        let (w, h) = (width as usize, height as usize);
        let picture = match pixel_format {
            PixelFormat::Gray8 => Picture::Gray(GrayPlanes {
                y: vec![0; w * h],
                chroma: vec![128; w * h / 4],
                width: w,
                height: h,
            }),
            _ => Picture::Rgb(YUVBuffer::new(w, h)),
        };
        Ok(H264Encoder {
            enc,
            frames: 0,
            picture,
            width: w,
            height: h,
            pixel_format,
        })
    }

    /// Encodes one frame of raw pixels; a keyframe (IDR) when `keyframe` is set.
    pub fn encode(&mut self, pixels: &[u8], keyframe: bool) -> Result<Vec<u8>, CodecError> {
        let want = self.width * self.height * self.pixel_format.bytes_per_pixel();
        if pixels.len() != want {
            return Err(CodecError(format!(
                "H.264 frame of {} bytes, expected {want}",
                pixels.len()
            )));
        }
        if keyframe {
            self.enc.force_intra_frame();
        }
        let stamp = Timestamp::from_millis(self.frames.saturating_mul(1000));
        self.frames += 1;
        let bits = match &mut self.picture {
            Picture::Rgb(yuv) => {
                yuv.read_rgb8(RgbSliceU8::new(pixels, (self.width, self.height)));
                self.enc.encode_at(yuv, stamp)
            }
            Picture::Gray(g) => {
                g.y.copy_from_slice(pixels);
                self.enc.encode_at(g, stamp)
            }
        }
        .map_err(|e| err("encoding failed", e))?;
        let frame_type = bits.frame_type();
        let out = bits.to_vec();
        match frame_type {
            FrameType::IDR => {}
            FrameType::P | FrameType::I if !keyframe => {}
            other => {
                return Err(CodecError(format!(
                    "H.264 encoder produced a {other:?} frame where a {} was due",
                    if keyframe { "keyframe" } else { "frame" }
                )))
            }
        }
        if out.is_empty() {
            return Err(CodecError(
                "H.264 encoder produced no bytes for a frame".into(),
            ));
        }
        Ok(out)
    }
}

/// Decodes a run of access units that starts at a keyframe.
pub struct H264Decoder {
    dec: Decoder,
    width: usize,
    height: usize,
    pixel_format: PixelFormat,
    /// Where the decoder stands: (open file id, chunk offset, next row), when it last decoded
    /// rows of a chunk that can be named (the caller names chunks; see `rmf_core::chunk::ChunkView::source`).
    at: Option<(u64, u64, usize)>,
}

/// Idle decoders, kept for the next read: setting one up costs more than decoding a keyframe
/// (OpenH264 allocates and clears its buffers), a keyframe resets a used one, and one that
/// stopped inside a chunk continues there when the next read wants a later frame of the same
/// group of pictures (a video played forward, a window of consecutive frames).
static IDLE_DECODERS: Mutex<Vec<H264Decoder>> = Mutex::new(Vec::new());
/// At most this many idle decoders are kept (a few MB each at camera sizes).
const MAX_IDLE_DECODERS: usize = 8;

impl H264Decoder {
    /// A decoder for frames of this size to decode rows from `keyframe` (a keyframe row) up to
    /// at least `first`, in chunk `chunk` (file id, offset) if it can be named: an idle decoder
    /// that stopped in that chunk between the two if there is one (it continues), else an idle
    /// one of the size, else a new one. Returns the decoder and the row to decode from.
    pub fn take(
        width: u32,
        height: u32,
        pixel_format: PixelFormat,
        chunk: Option<(u64, u64)>,
        keyframe: usize,
        first: usize,
    ) -> Result<(Self, usize), CodecError> {
        let (width, height) = (width as usize, height as usize);
        let fits =
            |d: &H264Decoder| (d.width, d.height, d.pixel_format) == (width, height, pixel_format);
        if let Ok(mut idle) = IDLE_DECODERS.lock() {
            let resume = chunk.and_then(|(src, off)| {
                idle.iter().position(|d| {
                    fits(d)
                        && matches!(d.at, Some((s, o, next)) if (s, o) == (src, off) && (keyframe..=first).contains(&next))
                })
            });
            if let Some(i) = resume {
                let d = idle.remove(i);
                let next = d.at.map_or(keyframe, |(_, _, n)| n);
                return Ok((d, next));
            }
            // Not resuming: take one that stands nowhere, else the one recycled longest ago
            // (the list is in recycling order), so that another thread's reads do not take
            // the decoder a forward read is about to continue.
            let unplaced = idle.iter().position(|d| fits(d) && d.at.is_none());
            if let Some(i) = unplaced.or_else(|| idle.iter().position(fits)) {
                let mut d = idle.remove(i);
                d.at = None;
                return Ok((d, keyframe));
            }
        }
        let dec = Decoder::new().map_err(|e| err("decoder set-up failed", e))?;
        Ok((
            H264Decoder {
                dec,
                width,
                height,
                pixel_format,
                at: None,
            },
            keyframe,
        ))
    }

    /// Gives the decoder back for reuse after a run that decoded without error, standing before
    /// row `next` of `chunk` (a decoder that failed is dropped: its state is unknown).
    pub fn recycle(mut self, chunk: Option<(u64, u64)>, next: usize) {
        self.at = chunk.map(|(s, o)| (s, o, next));
        if let Ok(mut idle) = IDLE_DECODERS.lock() {
            if idle.len() >= MAX_IDLE_DECODERS {
                idle.remove(0);
            }
            idle.push(self);
        }
    }

    /// Decodes the next access unit. With `out`, appends its pixels (the stream's pixel
    /// format, `width * height * bytes_per_pixel` bytes); without, only advances the decoder
    /// (frames between the keyframe and the one asked for).
    pub fn decode(&mut self, unit: &[u8], out: Option<&mut Vec<u8>>) -> Result<(), CodecError> {
        let picture = self
            .dec
            .decode(unit)
            .map_err(|e| err("bitstream does not decode", e))?
            .ok_or_else(|| CodecError("H.264 access unit decoded to no picture".into()))?;
        let (w, h) = picture.dimensions();
        if (w, h) != (self.width, self.height) {
            return Err(CodecError(format!(
                "H.264 picture is {w}x{h}, the stream is {}x{}",
                self.width, self.height
            )));
        }
        let Some(out) = out else { return Ok(()) };
        let start = out.len();
        match self.pixel_format {
            PixelFormat::Rgb8 => {
                crate::error::try_room(out, w * h * 3, "a decoded H.264 frame")?;
                out.resize(start + w * h * 3, 0);
                picture.write_rgb8(&mut out[start..]);
            }
            PixelFormat::Gray8 => {
                let stride = picture.strides().0;
                let y = picture.y();
                crate::error::try_room(out, w * h, "a decoded H.264 frame")?;
                for row in 0..h {
                    let line = y.get(row * stride..row * stride + w).ok_or_else(|| {
                        CodecError(format!("H.264 luma plane is short at row {row}"))
                    })?;
                    out.extend_from_slice(line);
                }
            }
            PixelFormat::Gray16 => {
                return Err(CodecError("H.264 does not hold gray16 frames".into()));
            }
        }
        Ok(())
    }
}

/// Whether an Annex B access unit holds an IDR slice (a keyframe that decodes on its own).
pub fn is_keyframe(unit: &[u8]) -> bool {
    // NAL units follow 3-byte start codes (a 4-byte one ends in the same 3 bytes).
    unit.windows(4)
        .any(|w| w[0] == 0 && w[1] == 0 && w[2] == 1 && w[3] & 0x1f == NAL_IDR_SLICE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(w: usize, h: usize, i: usize) -> Vec<u8> {
        (0..w * h * 3)
            .map(|k| ((k / 3 % w + k / 3 / w + 4 * i) % 200 + (k % 3) * 20) as u8)
            .collect()
    }

    #[test]
    fn keyframes_decode_alone_and_p_frames_follow() {
        let (w, h) = (64, 48);
        let mut enc = H264Encoder::new(w as u32, h as u32, PixelFormat::Rgb8, 20).unwrap();
        let units: Vec<Vec<u8>> = (0..6)
            .map(|i| enc.encode(&frame(w, h, i), i % 3 == 0).unwrap())
            .collect();
        let keys: Vec<bool> = units.iter().map(|u| is_keyframe(u)).collect();
        assert_eq!(keys, [true, false, false, true, false, false]);
        // A fresh decoder starting at the second keyframe.
        let (mut dec, _) =
            H264Decoder::take(w as u32, h as u32, PixelFormat::Rgb8, None, 0, 0).unwrap();
        let mut out = Vec::new();
        for u in &units[3..] {
            dec.decode(u, Some(&mut out)).unwrap();
        }
        assert_eq!(out.len(), 3 * w * h * 3);
    }

    #[test]
    fn gray_frames_keep_their_values_closely() {
        let (w, h) = (32, 32);
        let pixels: Vec<u8> = (0..w * h).map(|k| (k % 251) as u8).collect();
        let mut enc = H264Encoder::new(w as u32, h as u32, PixelFormat::Gray8, 0).unwrap();
        let unit = enc.encode(&pixels, true).unwrap();
        let (mut dec, _) =
            H264Decoder::take(w as u32, h as u32, PixelFormat::Gray8, None, 0, 0).unwrap();
        let mut out = Vec::new();
        dec.decode(&unit, Some(&mut out)).unwrap();
        let mse = out
            .iter()
            .zip(&pixels)
            .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
            .sum::<f64>()
            / pixels.len() as f64;
        let psnr = 10.0 * (255.0f64 * 255.0 / mse).log10();
        // QP 0 is near-lossless (H.264 baseline has no lossless mode); no colour conversion.
        assert!(psnr > 40.0, "qp 0 grey PSNR {psnr:.1} dB");
    }

    #[test]
    fn a_fresh_read_takes_an_unplaced_decoder_before_one_that_can_continue() {
        // A size only this test uses: the idle list is shared by the process.
        let (w, h, pf) = (48u32, 16u32, PixelFormat::Rgb8);
        let (a, _) = H264Decoder::take(w, h, pf, None, 0, 0).unwrap();
        let (b, _) = H264Decoder::take(w, h, pf, None, 0, 0).unwrap();
        // `a` stands before row 5 of chunk (1, 100); `b` stands nowhere, recycled later.
        a.recycle(Some((1, 100)), 5);
        b.recycle(None, 0);
        // A read of another chunk takes `b`, not the decoder a forward read would continue.
        let (other, from) = H264Decoder::take(w, h, pf, Some((2, 0)), 0, 3).unwrap();
        assert_eq!((other.at, from), (None, 0));
        // The forward read of chunk (1, 100) still continues at row 5.
        let (cont, from) = H264Decoder::take(w, h, pf, Some((1, 100)), 0, 7).unwrap();
        assert_eq!((cont.at, from), (Some((1, 100, 5)), 5));
        // Not continuing (row 3 is before where it stands): a decoder is reset to the keyframe.
        cont.recycle(Some((1, 100)), 5);
        other.recycle(Some((3, 0)), 2);
        let (d, from) = H264Decoder::take(w, h, pf, Some((1, 100)), 0, 3).unwrap();
        assert_eq!((d.at, from), (None, 0));
        d.recycle(None, 0);
    }
}
