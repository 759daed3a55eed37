//! `events` streams: sparse records (interventions, notes, failures). Four string columns:
//! kind, operator, free text and a JSON payload, each stored as lengths plus zstd bytes.
//!
//! Buffers: 0 timestamps, then for kind, operator, text, payload in that order: lengths (u32),
//! UTF-8 bytes.

use std::ops::Range;
use std::sync::Arc;

use arrow_array::{ArrayRef, StringArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use serde::{Deserialize, Serialize};

use crate::chunk::{ChunkView, EncodedBuffer};
use crate::error::{Error, Result};
use rmf_codecs::column::CodecOptions;
use rmf_codecs::CodecError;

/// One event record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Event {
    /// What happened: `takeover_start`, `takeover_end`, `note`, `failure`, ...
    pub kind: String,
    /// Who (operator id), or empty.
    #[serde(default)]
    pub operator: String,
    /// Free text, or empty.
    #[serde(default)]
    pub text: String,
    /// Any JSON value (`null` when there is none).
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl Event {
    /// An event of `kind` with no operator, text or payload.
    pub fn new(kind: impl Into<String>) -> Self {
        Event {
            kind: kind.into(),
            ..Event::default()
        }
    }

    /// Sets the operator.
    pub fn with_operator(mut self, operator: impl Into<String>) -> Self {
        self.operator = operator.into();
        self
    }

    /// Sets the text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Sets the payload.
    pub fn with_payload(mut self, payload: serde_json::Value) -> Self {
        self.payload = payload;
        self
    }
}

/// One string column: lengths and concatenated UTF-8.
#[derive(Debug, Default)]
struct StrColumn {
    lens: Vec<u32>,
    bytes: Vec<u8>,
}

impl StrColumn {
    fn push(&mut self, s: &str) {
        self.lens.push(s.len() as u32);
        self.bytes.extend_from_slice(s.as_bytes());
    }
}

/// Events waiting to become a chunk.
#[derive(Debug, Default)]
pub(crate) struct EventsBuffer {
    pub(crate) t: Vec<i64>,
    columns: [StrColumn; 4],
}

impl EventsBuffer {
    pub(crate) fn push(&mut self, t: i64, e: &Event) {
        self.t.push(t);
        let payload = e.payload.to_string();
        for (col, s) in self
            .columns
            .iter_mut()
            .zip([&e.kind, &e.operator, &e.text, &payload])
        {
            col.push(s);
        }
    }

    pub(crate) fn text_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| c.bytes.len() + 4 * c.lens.len())
            .sum()
    }

    pub(crate) fn clear(&mut self) {
        self.t.clear();
        for c in &mut self.columns {
            c.lens.clear();
            c.bytes.clear();
        }
    }

    pub(crate) fn encode(
        &self,
        opts: &CodecOptions,
        out: &mut Vec<EncodedBuffer>,
    ) -> Result<(), CodecError> {
        for c in &self.columns {
            out.push(EncodedBuffer::numbers(&c.lens, opts)?);
            out.push(EncodedBuffer::bytes(&c.bytes, opts)?);
        }
        Ok(())
    }
}

/// Rows of event chunks gathered into four string arrays.
#[derive(Default)]
pub(crate) struct EventsAcc {
    columns: [(Vec<i32>, Vec<u8>); 4],
}

impl EventsAcc {
    pub(crate) fn append(
        &mut self,
        view: &ChunkView<'_>,
        n: u64,
        rows: Range<usize>,
    ) -> Result<()> {
        for (c, (offsets, bytes)) in self.columns.iter_mut().enumerate() {
            let lens: Vec<u32> = view.numbers(1 + 2 * c, n)?;
            let data = view.bytes(2 + 2 * c)?;
            let total: u64 = lens.iter().map(|&l| l as u64).sum();
            if total != data.len() as u64 {
                return Err(view.malformed(format!(
                    "event column {c}: lengths add up to {total} bytes, the column has {}",
                    data.len()
                )));
            }
            let start: usize = lens[..rows.start].iter().map(|&l| l as usize).sum();
            let mut pos = start;
            if offsets.is_empty() {
                offsets.push(0);
            }
            for &l in &lens[rows.clone()] {
                bytes.extend_from_slice(&data[pos..pos + l as usize]);
                pos += l as usize;
                let off = i32::try_from(bytes.len()).map_err(|_| {
                    view.malformed("more than 2 GiB of event text in one read".into())
                })?;
                offsets.push(off);
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<Vec<ArrayRef>> {
        self.columns
            .into_iter()
            .map(|(mut offsets, bytes)| {
                if offsets.is_empty() {
                    offsets.push(0);
                }
                let array = StringArray::try_new(
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    Buffer::from_vec(bytes),
                    None,
                )
                .map_err(|e| Error::Mismatch {
                    stream: "events".into(),
                    detail: format!("event text is not valid UTF-8: {e}"),
                })?;
                Ok(Arc::new(array) as ArrayRef)
            })
            .collect()
    }
}
