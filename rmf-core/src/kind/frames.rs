//! `frames` streams: images. Each frame is encoded when it is written (codec `raw`: one zstd
//! frame of the pixels; `png`, `jpeg`: an image file; `h264`: one access unit) and carries its
//! own CRC32C, so that reading one frame checks only the bytes it decodes: that frame, or for
//! video the frames from the keyframe before it.
//!
//! Buffers: 0 timestamps, 1 payload lengths (u32), 2 payload CRC32Cs (u32), 3 payloads (plain);
//! video adds 4 keyframe flags (u8, 1 where decoding may start; row 0 always).

use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, FixedSizeBinaryArray};
use arrow_buffer::Buffer;

use crate::chunk::{ChunkView, EncodedBuffer};
use crate::error::Result;
use crate::schema::{StreamInfo, StreamKind};
use rmf_codecs::column::CodecOptions;
use rmf_codecs::frame;
use rmf_codecs::frame::h264::{self, H264Decoder, H264Encoder};
use rmf_codecs::CodecError;
use rmf_codecs::{FrameCodec, FrameSpec, PixelFormat};

/// Compressed frames waiting to become a chunk.
#[derive(Debug, Default)]
pub(crate) struct FramesBuffer {
    pub(crate) t: Vec<i64>,
    pub(crate) lens: Vec<u32>,
    crcs: Vec<u32>,
    pub(crate) payload: Vec<u8>,
    /// Video only: 1 where a keyframe starts a group of pictures.
    keyframes: Vec<u8>,
    video: Option<Video>,
}

/// The state a video stream keeps between frames.
#[derive(Debug)]
struct Video {
    /// Created at the first frame, so that declaring a stream costs nothing. Boxed: OpenH264's
    /// output descriptor is several kilobytes.
    encoder: Option<Box<H264Encoder>>,
    gop: usize,
}

/// The video parameters of a frame stream, if its codec is a video codec:
/// (width, height, pixel format, qp, gop).
fn video_params(info: &StreamInfo) -> Option<(u32, u32, PixelFormat, u8, u32)> {
    match &info.kind {
        StreamKind::Frames {
            width,
            height,
            pixel_format,
            codec: FrameCodec::H264 { qp, gop },
        } => Some((*width, *height, *pixel_format, *qp, *gop)),
        _ => None,
    }
}

/// The frame parameters of a stream, for the image codecs.
fn spec(info: &StreamInfo) -> Result<FrameSpec, CodecError> {
    info.frame_spec()
        .ok_or_else(|| CodecError("not a frame stream".into()))
}

impl FramesBuffer {
    pub(crate) fn new(info: &StreamInfo) -> Self {
        FramesBuffer {
            video: video_params(info).map(|(.., gop)| Video {
                encoder: None,
                gop: gop.max(1) as usize,
            }),
            ..FramesBuffer::default()
        }
    }

    /// Encodes one frame of raw pixels with the stream's codec and keeps it. A video stream's
    /// first frame in a chunk, and every `gop`-th after it, is a keyframe.
    pub(crate) fn push(
        &mut self,
        t: i64,
        pixels: &[u8],
        opts: &CodecOptions,
        info: &StreamInfo,
    ) -> Result<(), CodecError> {
        let payload = match &mut self.video {
            None => frame::encode(&spec(info)?, pixels, opts)?,
            Some(video) => {
                let encoder = match &mut video.encoder {
                    Some(e) => e,
                    slot => {
                        let (w, h, pf, qp, _) = video_params(info)
                            .ok_or_else(|| CodecError("not a video stream".into()))?;
                        slot.insert(Box::new(H264Encoder::new(w, h, pf, qp)?))
                    }
                };
                let key = self.t.len().is_multiple_of(video.gop);
                let unit = encoder.encode(pixels, key)?;
                self.keyframes.push(key as u8);
                unit
            }
        };
        self.t.push(t);
        self.lens.push(payload.len() as u32);
        self.crcs.push(crc32c::crc32c(&payload));
        self.payload.extend_from_slice(&payload);
        Ok(())
    }

    pub(crate) fn clear(&mut self) {
        self.t.clear();
        self.lens.clear();
        self.crcs.clear();
        self.payload.clear();
        self.keyframes.clear();
    }

    pub(crate) fn encode(
        &self,
        opts: &CodecOptions,
        out: &mut Vec<EncodedBuffer>,
    ) -> Result<(), CodecError> {
        out.push(EncodedBuffer::numbers(&self.lens, opts)?);
        out.push(EncodedBuffer::numbers(&self.crcs, opts)?);
        out.push(EncodedBuffer::plain(self.payload.clone()));
        if self.video.is_some() {
            out.push(EncodedBuffer::numbers(&self.keyframes, opts)?);
        }
        Ok(())
    }
}

/// Decodes frames `rows` of a chunk with `n` rows into `out`.
pub(crate) fn append(
    view: &ChunkView<'_>,
    n: u64,
    info: &StreamInfo,
    rows: Range<usize>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let frame_bytes = info.frame_bytes();
    let payloads = Payloads::open(view, n)?;
    view.check_output((rows.len() as u64).saturating_mul(frame_bytes as u64))?;
    // The pixels go to numpy as they are, spare capacity included: exact for the first rows
    // (one frame, or one chunk's), amortized when more chunks follow (exact growth would copy
    // everything decoded so far once per chunk; untouched capacity costs no resident memory).
    let need = rows.len() * frame_bytes;
    if out.is_empty() {
        out.reserve_exact(need);
    } else {
        out.reserve(need);
    }
    let Some((width, height, pixel_format, ..)) = video_params(info) else {
        let spec = spec(info).map_err(|e| view.malformed(e.0))?;
        for r in rows {
            frame::decode_append(&spec, payloads.get(r)?, out)
                .map_err(|e| view.malformed(format!("frame {r}: {}", e.0)))?;
        }
        return Ok(());
    };
    // Video: decode from the last keyframe at or before the first row asked for.
    let keyframes: Vec<u8> = view.numbers(4, n)?;
    if keyframes.first() != Some(&1) || keyframes.iter().any(|&k| k > 1) {
        return Err(view.malformed(
            "keyframe flags must be 0 or 1, with 1 at row 0 (a chunk starts with a keyframe)"
                .into(),
        ));
    }
    let start = keyframes[..=rows.start]
        .iter()
        .rposition(|&k| k == 1)
        .unwrap_or(0);
    let video_err = |r: usize, e: CodecError| view.malformed(format!("frame {r}: {}", e.0));
    let chunk = (view.source != 0).then_some((view.source, view.body_offset));
    let (mut decoder, from) =
        H264Decoder::take(width, height, pixel_format, chunk, start, rows.start)
            .map_err(|e| video_err(start, e))?;
    for (r, &key) in keyframes.iter().enumerate().take(rows.end).skip(from) {
        let unit = payloads.get(r)?;
        if key == 1 && !h264::is_keyframe(unit) {
            return Err(view.malformed(format!(
                "frame {r} is flagged as a keyframe but holds no IDR slice"
            )));
        }
        let before = out.len();
        let keep = (r >= rows.start).then_some(&mut *out);
        decoder.decode(unit, keep).map_err(|e| video_err(r, e))?;
        if r >= rows.start && out.len() - before != frame_bytes {
            return Err(view.malformed(format!(
                "frame {r} decodes to {} bytes, expected {frame_bytes}",
                out.len() - before
            )));
        }
    }
    decoder.recycle(chunk, rows.end);
    Ok(())
}

/// The stored frames of a chunk, each checked against its CRC when it is used.
struct Payloads<'v, 'a> {
    view: &'v ChunkView<'a>,
    crcs: Vec<u32>,
    /// `offsets[r]..offsets[r + 1]` is frame `r` in `bytes`.
    offsets: Vec<u64>,
    bytes: &'a [u8],
}

impl<'v, 'a> Payloads<'v, 'a> {
    fn open(view: &'v ChunkView<'a>, n: u64) -> Result<Self> {
        let lens: Vec<u32> = view.numbers(1, n)?;
        let crcs: Vec<u32> = view.numbers(2, n)?;
        let bytes = view.plain_bytes_unchecked(3)?;
        let mut offsets = Vec::with_capacity(lens.len() + 1);
        let mut total = 0u64;
        offsets.push(0);
        for &l in &lens {
            total += l as u64;
            offsets.push(total);
        }
        if total != bytes.len() as u64 {
            return Err(view.malformed(format!(
                "frame lengths add up to {total} bytes, the payload buffer has {}",
                bytes.len()
            )));
        }
        Ok(Payloads {
            view,
            crcs,
            offsets,
            bytes,
        })
    }

    /// The stored bytes of frame `r`, after checking their CRC.
    fn get(&self, r: usize) -> Result<&'a [u8]> {
        let (start, end) = (self.offsets[r], self.offsets[r + 1]);
        // In range: the offsets add up to the buffer's length (checked in `open`).
        let bytes = &self.bytes[start as usize..end as usize];
        self.view.touch(bytes.len() as u64);
        let computed = crc32c::crc32c(bytes);
        if computed != self.crcs[r] {
            return Err(self.view.checksum_error(
                "frame payload",
                3,
                start,
                self.crcs[r],
                computed,
            ));
        }
        Ok(bytes)
    }
}

/// The stored bytes of every frame of a chunk (each checked against its CRC), undecoded.
pub(crate) fn stored(view: &ChunkView<'_>, n: u64) -> Result<Vec<Vec<u8>>> {
    let payloads = Payloads::open(view, n)?;
    (0..n as usize)
        .map(|r| payloads.get(r).map(<[u8]>::to_vec))
        .collect()
}

pub(crate) fn finish(bytes: Vec<u8>, frame_bytes: usize) -> Result<ArrayRef> {
    let array = FixedSizeBinaryArray::try_new(frame_bytes as i32, Buffer::from_vec(bytes), None)
        .map_err(|e| crate::kind::arrow_error("frames", e))?;
    Ok(Arc::new(array))
}
