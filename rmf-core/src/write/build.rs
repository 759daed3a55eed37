//! Turning an open chunk into a chunk record with its index entry: shared by the writer's own
//! thread and the frame encoder threads.

use rmf_codecs::column::{CodecOptions, PcoHint};

use crate::chunk::{build_chunk_body, ChunkHeader};
use crate::error::Result;
use crate::footer::ChunkEntry;
use crate::format::{write_record, RecordKind};
use crate::kind::OpenChunk;
use crate::schema::StreamInfo;

/// A chunk record ready to append, with its index entry (offset still to fill in).
pub(crate) struct ReadyChunk {
    pub(crate) record: Vec<u8>,
    pub(crate) entry: ChunkEntry,
}

/// Encodes an open chunk into a chunk record; `None` when it holds no samples.
pub(crate) fn build_chunk(
    stream_id: u32,
    info: &StreamInfo,
    open: &OpenChunk,
    codec: &CodecOptions,
    hints: &mut Vec<PcoHint>,
) -> Result<Option<ReadyChunk>> {
    let times = open.times();
    let (Some(&t_min), Some(&t_max)) = (times.first(), times.last()) else {
        return Ok(None);
    };
    let rows = times.len() as u64;
    let decoded_bytes = raw_bytes(open, info);
    let (stats, buffers) = open.encode(codec, hints)?;
    let header = ChunkHeader {
        stream_id,
        t_min,
        t_max,
        rows,
    };
    let body = build_chunk_body(&header, &stats, &buffers);
    let mut record = Vec::new();
    write_record(&mut record, RecordKind::Chunk, &body);
    let entry = ChunkEntry {
        stream_id,
        t_min,
        t_max,
        rows,
        offset: 0,
        length: record.len() as u64,
        decoded_bytes,
        stats,
    };
    Ok(Some(ReadyChunk { record, entry }))
}

/// The size of the chunk's samples in Arrow form (8 bytes per timestamp plus the values), the
/// denominator of compression ratios.
pub(crate) fn raw_bytes(open: &OpenChunk, info: &StreamInfo) -> u64 {
    let rows = open.times().len() as u64;
    let values = match open {
        OpenChunk::Frames(_) => rows * info.frame_bytes() as u64,
        other => (other.buffered_bytes() as u64).saturating_sub(8 * rows),
    };
    8 * rows + values
}
