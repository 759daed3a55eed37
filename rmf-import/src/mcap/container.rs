//! The MCAP container: its messages in file order, with every length from the file checked
//! before anything is allocated for it.
//!
//! Framing, chunk decompression and chunk CRCs are the `mcap` crate's sans-I/O reader's. Its
//! convenience readers are not used: in mcap 0.26, `MessageStream` sets no record length limit
//! (a record length of 2^64-1 overflows and panics; a chunk claiming 2^38 uncompressed bytes
//! aborts the process on allocation), and `parse_record` reserves a string's claimed u32 length
//! before reading it (binrw's `count`). Here the reader is given a limit, fed no more than the
//! file holds, and the three records an import needs (Schema, Channel, Message) are parsed by
//! the bounds-checked [`Body`] below. Everything else (indexes, attachments, the summary) is
//! skipped unparsed.

use std::collections::BTreeMap;
use std::sync::Arc;

use mcap::read::ChannelAccumulator;
use mcap::records::{op, Channel as ChannelRecord, SchemaHeader};
use mcap::sans_io::linear_reader::{LinearReadEvent, LinearReader, LinearReaderOptions};

/// One message, with its channel (and the channel's schema).
pub(super) struct Message {
    pub(super) channel: Arc<mcap::Channel<'static>>,
    pub(super) log_time: u64,
    pub(super) data: Vec<u8>,
}

/// Why the messages stopped early.
#[derive(Debug)]
pub(super) enum Stop {
    /// The file ends inside a record: a recording cut short. What came before is good.
    Truncated(String),
    /// Bytes that break the container's rules (or a limit), read up to `offset`.
    Bad { offset: u64, detail: String },
}

/// The messages of an MCAP file, in file order, up to its Data End record.
pub(super) struct Messages<'a> {
    data: &'a [u8],
    /// Bytes of `data` handed to the reader so far.
    fed: usize,
    reader: LinearReader,
    channels: ChannelAccumulator<'static>,
    done: bool,
}

impl<'a> Messages<'a> {
    /// Reads `data`, refusing any record or decompressed chunk over `max_record_bytes`.
    pub(super) fn new(data: &'a [u8], max_record_bytes: u64) -> Self {
        let limit = usize::try_from(max_record_bytes).unwrap_or(usize::MAX);
        let options = LinearReaderOptions::default()
            .with_record_length_limit(limit)
            // A chunk's CRC is checked before any of its messages is yielded: a changed byte
            // must not decode to wrong values. This also makes the limit apply to the chunk's
            // claimed uncompressed size before a buffer of that size is made.
            .with_prevalidate_chunk_crcs(true);
        Messages {
            data,
            fed: 0,
            reader: LinearReader::new_with_options(options),
            channels: ChannelAccumulator::default(),
            done: false,
        }
    }

    /// How many bytes of the file have been read (for progress, and for where an error is).
    pub(super) fn bytes_read(&self) -> u64 {
        self.fed as u64
    }

    fn bad(&mut self, detail: impl Into<String>) -> Option<Result<Message, Stop>> {
        self.done = true;
        Some(Err(Stop::Bad {
            offset: self.fed as u64,
            detail: detail.into(),
        }))
    }
}

impl Iterator for Messages<'_> {
    type Item = Result<Message, Stop>;

    fn next(&mut self) -> Option<Self::Item> {
        // Each turn either feeds bytes (at most the file's length in all) or consumes a record,
        // so the loop ends.
        while !self.done {
            let record = match self.reader.next_event()? {
                Err(mcap::McapError::UnexpectedEof) => {
                    self.done = true;
                    return Some(Err(Stop::Truncated(
                        mcap::McapError::UnexpectedEof.to_string(),
                    )));
                }
                Err(e) => {
                    let detail = e.to_string();
                    return self.bad(detail);
                }
                Ok(LinearReadEvent::ReadRequest(want)) => {
                    // Never more than the file has left: the request is a hint from lengths
                    // in the file, and `insert` allocates what it is asked for.
                    let n = want.min(self.data.len() - self.fed);
                    self.reader
                        .insert(n)
                        .copy_from_slice(&self.data[self.fed..self.fed + n]);
                    self.reader.notify_read(n);
                    self.fed += n;
                    continue;
                }
                Ok(LinearReadEvent::Record { opcode, data }) => parse(opcode, data),
            };
            match record {
                Ok(Record::Schema(header, data)) => {
                    if let Err(e) = self.channels.add_schema(header, data.into()) {
                        return self.bad(e.to_string());
                    }
                }
                Ok(Record::Channel(ch)) => {
                    if let Err(e) = self.channels.add_channel(ch) {
                        return self.bad(e.to_string());
                    }
                }
                Ok(Record::Message {
                    channel,
                    log_time,
                    data,
                }) => {
                    let Some(channel) = self.channels.get(channel) else {
                        return self.bad(format!("a message on channel {channel}, never defined"));
                    };
                    return Some(Ok(Message {
                        channel,
                        log_time,
                        data,
                    }));
                }
                Ok(Record::DataEnd) => self.done = true,
                Ok(Record::Other) => {}
                Err(detail) => return self.bad(detail),
            }
        }
        None
    }
}

/// The records an import reads.
enum Record {
    Schema(SchemaHeader, Vec<u8>),
    Channel(ChannelRecord),
    Message {
        channel: u16,
        log_time: u64,
        data: Vec<u8>,
    },
    DataEnd,
    Other,
}

fn parse(opcode: u8, body: &[u8]) -> Result<Record, String> {
    let mut b = Body { b: body, at: 0 };
    let (what, record) = match opcode {
        op::SCHEMA => ("Schema", schema(&mut b)),
        op::CHANNEL => ("Channel", channel(&mut b)),
        op::MESSAGE => ("Message", message(&mut b)),
        op::DATA_END => return Ok(Record::DataEnd),
        _ => return Ok(Record::Other),
    };
    record.map_err(|e| format!("{what} record: {e}"))
}

fn schema(b: &mut Body) -> Result<Record, String> {
    let id = b.u16()?;
    let name = b.string()?;
    let encoding = b.string()?;
    let len = b.u32()?;
    let data = b.take(u64::from(len))?.to_vec();
    Ok(Record::Schema(SchemaHeader { id, name, encoding }, data))
}

fn channel(b: &mut Body) -> Result<Record, String> {
    let id = b.u16()?;
    let schema_id = b.u16()?;
    let topic = b.string()?;
    let message_encoding = b.string()?;
    let map_len = b.u32()?;
    let mut map = Body {
        b: b.take(u64::from(map_len))?,
        at: 0,
    };
    let mut metadata = BTreeMap::new();
    // Each entry takes at least 8 bytes of the map, so this ends.
    while map.at < map.b.len() {
        let k = map.string()?;
        let v = map.string()?;
        metadata.insert(k, v);
    }
    Ok(Record::Channel(ChannelRecord {
        id,
        schema_id,
        topic,
        message_encoding,
        metadata,
    }))
}

fn message(b: &mut Body) -> Result<Record, String> {
    let channel = b.u16()?;
    let _sequence = b.u32()?;
    let log_time = b.u64()?;
    let _publish_time = b.u64()?;
    Ok(Record::Message {
        channel,
        log_time,
        data: b.rest().to_vec(),
    })
}

/// A record's body, read with every length checked against what is left of it.
struct Body<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Body<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
        let left = self.b.len() - self.at;
        match usize::try_from(n) {
            Ok(n) if n <= left => {
                let s = &self.b[self.at..self.at + n];
                self.at += n;
                Ok(s)
            }
            _ => Err(format!(
                "a field at byte {} of the record claims {n} bytes, {left} are left",
                self.at
            )),
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self.take(N as u64)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u16(&mut self) -> Result<u16, String> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, String> {
        self.array().map(u64::from_le_bytes)
    }

    fn string(&mut self) -> Result<String, String> {
        let at = self.at;
        let len = self.u32()?;
        let s = self.take(u64::from(len))?;
        String::from_utf8(s.to_vec()).map_err(|_| format!("the string at byte {at} is not UTF-8"))
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.at..];
        self.at = self.b.len();
        s
    }
}
