//! `frames` streams: images. Each frame is encoded on its own when it is written (codec `raw`:
//! one zstd frame of the pixels; `png`, `jpeg`: an image file) and carries its own CRC32C, so
//! that reading one frame decodes and checks that frame only.
//!
//! Buffers: 0 timestamps, 1 payload lengths (u32), 2 payload CRC32Cs (u32), 3 payloads (plain).

use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, FixedSizeBinaryArray};
use arrow_buffer::Buffer;

use crate::chunk::{ChunkView, EncodedBuffer};
use crate::codec::{CodecError, CodecOptions};
use crate::error::Result;
use crate::frame_codec;
use crate::schema::StreamInfo;

/// Compressed frames waiting to become a chunk.
#[derive(Debug, Default)]
pub(crate) struct FramesBuffer {
    pub(crate) t: Vec<i64>,
    pub(crate) lens: Vec<u32>,
    crcs: Vec<u32>,
    pub(crate) payload: Vec<u8>,
}

impl FramesBuffer {
    /// Encodes one frame of raw pixels with the stream's codec and keeps it.
    pub(crate) fn push(
        &mut self,
        t: i64,
        pixels: &[u8],
        opts: &CodecOptions,
        info: &StreamInfo,
    ) -> Result<(), CodecError> {
        let payload = frame_codec::encode(info, pixels, opts)?;
        self.push_payload(t, payload);
        Ok(())
    }

    /// Keeps one frame payload that is encoded already.
    pub(crate) fn push_payload(&mut self, t: i64, payload: Vec<u8>) {
        self.t.push(t);
        self.lens.push(payload.len() as u32);
        self.crcs.push(crc32c::crc32c(&payload));
        self.payload.extend_from_slice(&payload);
    }

    pub(crate) fn clear(&mut self) {
        self.t.clear();
        self.lens.clear();
        self.crcs.clear();
        self.payload.clear();
    }

    pub(crate) fn encode(
        &self,
        opts: &CodecOptions,
        out: &mut Vec<EncodedBuffer>,
    ) -> Result<(), CodecError> {
        out.push(EncodedBuffer::numbers(&self.lens, opts)?);
        out.push(EncodedBuffer::numbers(&self.crcs, opts)?);
        out.push(EncodedBuffer::plain(self.payload.clone()));
        Ok(())
    }
}

/// Decompresses frames `rows` of a chunk with `n` rows into `out`.
pub(crate) fn append(
    view: &ChunkView<'_>,
    n: u64,
    info: &StreamInfo,
    rows: Range<usize>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let frame_bytes = info.frame_bytes();
    let lens: Vec<u32> = view.numbers(1, n)?;
    let crcs: Vec<u32> = view.numbers(2, n)?;
    let payload = view.plain_bytes_unchecked(3)?;
    let total: u64 = lens.iter().map(|&l| l as u64).sum();
    if total != payload.len() as u64 {
        return Err(view.malformed(format!(
            "frame lengths add up to {total} bytes, the payload buffer has {}",
            payload.len()
        )));
    }
    view.check_output((rows.len() as u64).saturating_mul(frame_bytes as u64))?;
    let mut start: u64 = lens[..rows.start].iter().map(|&l| l as u64).sum();
    out.reserve(rows.len() * frame_bytes);
    for r in rows {
        let end = start + lens[r] as u64;
        let bytes = payload.get(start as usize..end as usize).ok_or_else(|| {
            view.malformed(format!(
                "frame {r} at payload bytes {start}..{end} lies past the payload's {} bytes",
                payload.len()
            ))
        })?;
        view.touch(bytes.len() as u64);
        let computed = crc32c::crc32c(bytes);
        if computed != crcs[r] {
            return Err(view.checksum_error("frame payload", 3, start, crcs[r], computed));
        }
        let frame = frame_codec::decode(info, bytes)
            .map_err(|e| view.malformed(format!("frame {r}: {}", e.0)))?;
        if frame.len() != frame_bytes {
            return Err(view.malformed(format!(
                "frame {r} decodes to {} bytes, expected {frame_bytes}",
                frame.len()
            )));
        }
        out.extend_from_slice(&frame);
        start = end;
    }
    Ok(())
}

pub(crate) fn finish(bytes: Vec<u8>, frame_bytes: usize) -> Result<ArrayRef> {
    let array = FixedSizeBinaryArray::try_new(frame_bytes as i32, Buffer::from_vec(bytes), None)
        .map_err(|e| crate::kind::arrow_error("frames", e))?;
    Ok(Arc::new(array))
}
