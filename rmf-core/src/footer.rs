//! Bodies of the episode, stream and footer records: the JSON they carry and the binary chunk
//! index (spec/format.md).

use serde::{Deserialize, Serialize};

use crate::crypt::KeyRecord;
use crate::error::{Error, Result};
use crate::format::{le_u32, le_u64, Bytes};
use crate::schema::{EpisodeMeta, StreamInfo};

/// Length of one chunk-index entry in the footer.
pub const INDEX_ENTRY_LEN: usize = 64;

/// Where a chunk is and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkEntry {
    /// Stream id.
    pub stream_id: u32,
    /// Smallest timestamp.
    pub t_min: i64,
    /// Largest timestamp.
    pub t_max: i64,
    /// Samples.
    pub rows: u64,
    /// Offset of the chunk record in the file.
    pub offset: u64,
    /// Length of the chunk record (header, body, CRC).
    pub length: u64,
    /// Sum of the decoded sizes of the chunk's buffers (for compression ratios).
    pub decoded_bytes: u64,
    /// The chunk's statistics bytes (signals: per-axis min then max).
    pub stats: Vec<u8>,
}

/// A stream with its id, as in stream records and the footer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamEntry {
    /// The id chunks refer to.
    pub id: u32,
    /// The declaration.
    #[serde(flatten)]
    pub info: StreamInfo,
}

/// Everything a finished file's footer holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Footer {
    /// Episode metadata.
    pub episode: EpisodeMeta,
    /// Stream table.
    pub streams: Vec<StreamEntry>,
    /// Chunk index, in file order.
    pub chunks: Vec<ChunkEntry>,
    /// Streams this version cannot use (a kind, codec or pixel format from a newer minor
    /// version): their chunks are indexed nowhere and skipped.
    pub skipped: Vec<SkippedStream>,
    /// The wrapped data key, when the file has encrypted streams.
    pub key: Option<KeyRecord>,
}

/// A declared stream this reader skips, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedStream {
    /// Its id.
    pub id: u32,
    /// Its name, if the JSON has one.
    pub name: String,
    /// Why it cannot be used.
    pub reason: String,
}

/// Parses one stream's JSON, telling apart "a stream this version cannot use" (`Ok(Err)`) from
/// JSON without even an id (`Err`).
pub(crate) fn stream_from_value(
    v: serde_json::Value,
) -> std::result::Result<std::result::Result<StreamEntry, SkippedStream>, String> {
    let id = v
        .get("id")
        .and_then(serde_json::Value::as_u64)
        .and_then(|id| u32::try_from(id).ok())
        .ok_or_else(|| format!("a stream without a valid \"id\": {v}"))?;
    let name = v
        .get("name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
        .to_string();
    let parsed = serde_json::from_value::<StreamEntry>(v)
        .map_err(|e| e.to_string())
        .and_then(|s| s.info.validate().map(|_| s).map_err(|e| e.to_string()));
    Ok(parsed.map_err(|reason| SkippedStream { id, name, reason }))
}

#[derive(Deserialize)]
struct FooterJson {
    episode: EpisodeMeta,
    streams: Vec<serde_json::Value>,
    #[serde(default)]
    key: Option<KeyRecord>,
}

fn json_error(file: &str, what: &'static str, offset: u64, e: serde_json::Error) -> Error {
    Error::Malformed {
        file: file.to_string(),
        what,
        offset,
        detail: format!("JSON does not match the schema: {e}"),
    }
}

/// Body of the episode record.
pub fn encode_episode(meta: &EpisodeMeta) -> Vec<u8> {
    serde_json::to_vec(meta).unwrap_or_default()
}

/// Parses the body of the episode record that starts at `offset`.
pub fn decode_episode(body: &[u8], file: &str, offset: u64) -> Result<EpisodeMeta> {
    serde_json::from_slice(body).map_err(|e| json_error(file, "episode record", offset, e))
}

/// Body of a stream record: id, then the declaration as JSON.
pub fn encode_stream(id: u32, info: &StreamInfo) -> Vec<u8> {
    let mut out = id.to_le_bytes().to_vec();
    out.extend_from_slice(&serde_json::to_vec(info).unwrap_or_default());
    out
}

/// Parses the body of the stream record that starts at `offset`.
pub fn decode_stream(body: &[u8], file: &str, offset: u64) -> Result<StreamEntry> {
    if body.len() < 4 {
        return Err(Error::Malformed {
            file: file.to_string(),
            what: "stream record",
            offset,
            detail: format!("body of {} bytes has no room for the stream id", body.len()),
        });
    }
    let info: StreamInfo = serde_json::from_slice(&body[4..])
        .map_err(|e| json_error(file, "stream record", offset, e))?;
    info.validate().map_err(|e| Error::Malformed {
        file: file.to_string(),
        what: "stream record",
        offset,
        detail: e.to_string(),
    })?;
    Ok(StreamEntry {
        id: le_u32(body),
        info,
    })
}

/// Body of the footer record.
pub fn encode_footer(f: &Footer) -> Vec<u8> {
    let json = serde_json::to_vec(&FooterJsonRef {
        episode: &f.episode,
        streams: &f.streams,
        key: f.key.as_ref(),
    })
    .unwrap_or_default();
    encode_footer_parts(&json, &f.chunks)
}

/// Body of the footer record from its JSON (`{"episode", "streams"}`) and chunk index.
pub fn encode_footer_parts(json: &[u8], chunks: &[ChunkEntry]) -> Vec<u8> {
    let stats_total: usize = chunks.iter().map(|c| c.stats.len()).sum();
    let mut out =
        Vec::with_capacity(4 + json.len() + 8 + chunks.len() * INDEX_ENTRY_LEN + 8 + stats_total);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(json);
    out.extend_from_slice(&(chunks.len() as u64).to_le_bytes());
    let mut stats_offset = 0u64;
    for c in chunks {
        out.extend_from_slice(&c.stream_id.to_le_bytes());
        out.extend_from_slice(&(c.stats.len() as u32).to_le_bytes());
        out.extend_from_slice(&c.t_min.to_le_bytes());
        out.extend_from_slice(&c.t_max.to_le_bytes());
        out.extend_from_slice(&c.rows.to_le_bytes());
        out.extend_from_slice(&c.offset.to_le_bytes());
        out.extend_from_slice(&c.length.to_le_bytes());
        out.extend_from_slice(&c.decoded_bytes.to_le_bytes());
        out.extend_from_slice(&stats_offset.to_le_bytes());
        stats_offset += c.stats.len() as u64;
    }
    out.extend_from_slice(&(stats_total as u64).to_le_bytes());
    for c in chunks {
        out.extend_from_slice(&c.stats);
    }
    out
}

#[derive(Serialize)]
struct FooterJsonRef<'a> {
    episode: &'a EpisodeMeta,
    streams: &'a [StreamEntry],
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a KeyRecord>,
}

/// Body of a key record.
pub fn encode_key(key: &KeyRecord) -> Vec<u8> {
    serde_json::to_vec(key).unwrap_or_default()
}

/// Parses the body of the key record that starts at `offset`.
pub fn decode_key(body: &[u8], file: &str, offset: u64) -> Result<KeyRecord> {
    serde_json::from_slice(body).map_err(|e| json_error(file, "key record", offset, e))
}

/// Parses a footer body found at file offset `body_offset`.
pub fn decode_footer(body: &[u8], file: &str, body_offset: u64) -> Result<Footer> {
    let b = Bytes::new(body, file);
    let malformed = |detail: String| Error::Malformed {
        file: file.to_string(),
        what: "footer",
        offset: body_offset,
        detail,
    };
    let json_len = b
        .u32(0, "footer")
        .map_err(|_| malformed("too short for its JSON length".into()))? as u64;
    let json = b.slice(4, json_len, "footer").map_err(|_| {
        malformed(format!(
            "JSON of {json_len} bytes runs past the footer's {} bytes",
            body.len()
        ))
    })?;
    let parsed: FooterJson =
        serde_json::from_slice(json).map_err(|e| json_error(file, "footer", body_offset, e))?;
    let mut streams = Vec::with_capacity(parsed.streams.len());
    let mut skipped = Vec::new();
    for v in parsed.streams {
        match stream_from_value(v).map_err(malformed)? {
            Ok(s) => streams.push(s),
            Err(skip) => skipped.push(skip),
        }
    }
    let mut pos = 4 + json_len;
    let count = b
        .u64(pos, "footer")
        .map_err(|_| malformed("missing chunk count".into()))?;
    pos += 8;
    let index_len = count
        .checked_mul(INDEX_ENTRY_LEN as u64)
        .filter(|&l| l <= b.len().saturating_sub(pos))
        .ok_or_else(|| malformed(format!("chunk count {count} does not fit in the footer")))?;
    let index = b.slice(pos, index_len, "footer chunk index")?;
    pos += index_len;
    let stats_len = b
        .u64(pos, "footer")
        .map_err(|_| malformed("missing stats length".into()))?;
    pos += 8;
    let stats = b
        .slice(pos, stats_len, "footer stats")
        .map_err(|_| malformed(format!("stats of {stats_len} bytes run past the footer")))?;
    let mut chunks = Vec::with_capacity(count as usize);
    for (i, e) in index.chunks_exact(INDEX_ENTRY_LEN).enumerate() {
        let entry_stats_len = le_u32(&e[4..8]) as u64;
        let stats_offset = le_u64(&e[56..64]);
        let entry_stats = stats_offset
            .checked_add(entry_stats_len)
            .filter(|&end| end <= stats_len)
            .map(|end| &stats[stats_offset as usize..end as usize])
            .ok_or_else(|| malformed(format!("chunk {i}: stats lie outside the stats section")))?;
        let c = ChunkEntry {
            stream_id: le_u32(&e[0..4]),
            t_min: le_u64(&e[8..16]) as i64,
            t_max: le_u64(&e[16..24]) as i64,
            rows: le_u64(&e[24..32]),
            offset: le_u64(&e[32..40]),
            length: le_u64(&e[40..48]),
            decoded_bytes: le_u64(&e[48..56]),
            stats: entry_stats.to_vec(),
        };
        if c.t_min > c.t_max {
            return Err(malformed(format!(
                "chunk {i}: t_min {} > t_max {}",
                c.t_min, c.t_max
            )));
        }
        chunks.push(c);
    }
    Ok(Footer {
        episode: parsed.episode,
        streams,
        chunks,
        skipped,
        key: parsed.key,
    })
}
