//! One training sample from one episode: each requested stream at a reference time, either as
//! one value (as-of, nearest or linear, within a tolerance) or as a window of its own samples,
//! with a pad mask. Only the chunks holding the rows a sample needs are decoded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::align::{pick, secs_to_ns, Pick, Policy, Window};
use crate::chunk_cache::{ChunkCache, DecodedChunk};
use rmf_core::EpisodeReader;
use rmf_core::{DType, PixelFormat, StreamInfo, StreamKind};
use rmf_core::{Error, Result};

/// What to do when no sample lies within the tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Missing {
    /// Fail with [`Error::NoSampleNear`], naming the stream and the time.
    #[default]
    Error,
    /// Return zeros with the pad flag set.
    Pad,
}

/// A window, before it is fitted to a stream's rate.
#[derive(Debug, Clone, PartialEq)]
pub enum WindowSpec {
    /// Offsets in the stream's own samples (see [`Window::Steps`]).
    Steps(Vec<i64>),
    /// A span `(from, to]` of seconds relative to the reference time (see [`Window::Seconds`]):
    /// its slot count comes from the stream's nominal rate.
    Seconds {
        /// Start (excluded), seconds.
        from: f64,
        /// End (included), seconds.
        to: f64,
    },
}

/// How one stream enters a sample.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Query {
    /// One value at the reference time.
    At {
        /// How the value is found.
        policy: Policy,
        /// Largest distance to the sample(s) used; `None`: from the stream's rate
        /// ([`default_tolerance_ns`]).
        tolerance_ns: Option<i64>,
        /// What happens outside the tolerance.
        missing: Missing,
    },
    /// A window of samples around the reference time.
    Window(WindowSpec),
    /// An event stream as labels: the events in `(t + from, t + to]` seconds, and whether `t`
    /// is inside an intervention (see [`EventLabels`]).
    Events {
        /// Start of the span (excluded), seconds relative to `t`.
        from: f64,
        /// End (included).
        to: f64,
    },
}

impl Query {
    /// As-of within the default tolerance, an error outside it.
    pub fn asof() -> Self {
        Query::At {
            policy: Policy::AsOf,
            tolerance_ns: None,
            missing: Missing::Error,
        }
    }
}

/// One stream's part of a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamValue {
    /// Element type of `data` (`uint8` for rgb8/gray8 frames, `uint16` for gray16).
    pub dtype: DType,
    /// Shape of `data`: the slots of a window (absent for a single value), then one sample's
    /// shape (`[6]`, or `[height, width, 3]` for rgb8 frames).
    pub shape: Vec<usize>,
    /// Elements, little-endian, row-major.
    pub data: Vec<u8>,
    /// Per slot (one for a single value): the time of the sample used, or of the slot's
    /// replacement for padding, `i64::MIN` where there is none.
    pub t: Vec<i64>,
    /// Per slot: true where the slot is padding (outside the episode, outside a seconds span,
    /// or outside the tolerance with [`Missing::Pad`]).
    pub pad: Vec<bool>,
    /// Whether this is a window (slots first in `shape`) or one value.
    pub window: bool,
}

/// Event kind that starts an intervention (an operator takes over).
pub const TAKEOVER_START: &str = "takeover_start";
/// Event kind that ends it.
pub const TAKEOVER_END: &str = "takeover_end";

/// An event stream's events in time order, shared.
type EventList = Arc<[(i64, rmf_core::Event)]>;

/// An event stream's labels at one reference time.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLabels {
    /// Whether the reference time is inside an intervention: the last `takeover_start` or
    /// `takeover_end` event at or before it is a `takeover_start`.
    pub inside: bool,
    /// The events in the span asked for, in time order.
    pub events: Vec<(i64, rmf_core::Event)>,
}

/// The tolerance of a stream without an explicit one: one and a half sample periods, from the
/// nominal rate or else from the measured one; unlimited for a stream with fewer than two
/// samples and no rate.
pub fn default_tolerance_ns(info: &StreamInfo, times: &[i64]) -> i64 {
    let period = match info.rate_hz {
        Some(r) if r > 0.0 => 1e9 / r,
        _ => match (times.first(), times.last()) {
            (Some(a), Some(b)) if times.len() > 1 && b > a => {
                (*b - *a) as f64 / (times.len() - 1) as f64
            }
            _ => return i64::MAX,
        },
    };
    (1.5 * period).round() as i64
}

/// Samples one episode at reference times. Timestamps of each stream are decoded once and
/// kept (8 bytes a sample); values are decoded per call, from the chunks a sample needs.
pub struct EpisodeSampler {
    reader: EpisodeReader,
    /// Decoded signal chunks shared with the dataset's other episodes, if any.
    cache: Option<Arc<ChunkCache>>,
    times: Mutex<HashMap<usize, Arc<[i64]>>>,
    /// Event streams, read whole on first use (events are sparse).
    events: Mutex<HashMap<usize, EventList>>,
}

impl EpisodeSampler {
    /// A sampler over an open episode.
    pub fn new(reader: EpisodeReader) -> Self {
        EpisodeSampler {
            reader,
            cache: None,
            times: Mutex::new(HashMap::new()),
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps decoded signal chunks in `cache` (shared with other samplers) between samples.
    pub fn with_cache(mut self, cache: Arc<ChunkCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The episode.
    pub fn reader(&self) -> &EpisodeReader {
        &self.reader
    }

    /// Every timestamp of a stream, decoded on first use.
    pub fn times(&self, stream: &str) -> Result<Arc<[i64]>> {
        let s = self.reader.position(stream)?;
        if let Some(t) = self.lock().get(&s) {
            return Ok(t.clone());
        }
        let t: Arc<[i64]> = self.reader.times(stream)?.into();
        self.lock().insert(s, t.clone());
        Ok(t)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Arc<[i64]>>> {
        match self.times.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The labels of event stream `stream` at reference time `t`: events in `(t + from, t + to]`
    /// seconds and whether `t` is inside an intervention.
    pub fn labels(&self, stream: &str, t: i64, from: f64, to: f64) -> Result<EventLabels> {
        let s = self.reader.position(stream)?;
        let cached = match self.events.lock() {
            Ok(g) => g.get(&s).cloned(),
            Err(p) => p.into_inner().get(&s).cloned(),
        };
        let all = match cached {
            Some(a) => a,
            None => {
                let a: EventList = self.reader.events_range(stream, i64::MIN, i64::MAX)?.into();
                match self.events.lock() {
                    Ok(mut g) => g.insert(s, a.clone()),
                    Err(p) => p.into_inner().insert(s, a.clone()),
                };
                a
            }
        };
        let upto = all.partition_point(|(et, _)| *et <= t);
        let inside = all[..upto]
            .iter()
            .rev()
            .find(|(_, e)| e.kind == TAKEOVER_START || e.kind == TAKEOVER_END)
            .is_some_and(|(_, e)| e.kind == TAKEOVER_START);
        let (lo, hi) = (
            t.saturating_add(secs_to_ns(from)),
            t.saturating_add(secs_to_ns(to)),
        );
        let events = all
            .iter()
            .filter(|(et, _)| *et > lo && *et <= hi)
            .cloned()
            .collect();
        Ok(EventLabels { inside, events })
    }

    /// The positions in `ts` of the reference times at which `query` on `stream` has no
    /// sample and would fail, with the error each would raise: from timestamps alone, nothing
    /// decoded. Only [`Query::At`] with [`Missing::Error`] can fail this way (windows pad).
    pub fn failures(&self, stream: &str, ts: &[i64], query: &Query) -> Result<Vec<(usize, Error)>> {
        let Query::At {
            policy,
            tolerance_ns,
            missing: Missing::Error,
        } = query
        else {
            return Ok(Vec::new());
        };
        let s = self.reader.position(stream)?;
        let times = self.times(stream)?;
        let tol =
            tolerance_ns.unwrap_or_else(|| default_tolerance_ns(&self.reader.streams()[s], &times));
        Ok(ts
            .iter()
            .enumerate()
            .filter(|(_, &t)| matches!(pick(&times, t, *policy, tol), Pick::Missing))
            .map(|(k, &t)| (k, self.no_sample(stream, &times, t, *policy, tol)))
            .collect())
    }

    fn no_sample(&self, stream: &str, times: &[i64], t: i64, policy: Policy, tol: i64) -> Error {
        Error::NoSampleNear {
            file: self.reader.file_name().to_string(),
            stream: stream.to_string(),
            policy: policy.name(),
            t,
            tolerance_ns: tol,
            nearest: match pick(times, t, Policy::Nearest, i64::MAX) {
                Pick::Row(i) => times.get(i).copied(),
                _ => None,
            },
        }
    }

    /// The value of `stream` at reference time `t`.
    pub fn sample(&self, stream: &str, t: i64, query: &Query) -> Result<StreamValue> {
        let s = self.reader.position(stream)?;
        let info = &self.reader.streams()[s];
        let (elem_dtype, elem_shape) = element_of(info)?;
        let times = self.times(stream)?;
        match query {
            Query::At {
                policy,
                tolerance_ns,
                missing,
            } => {
                let float_signal = matches!(elem_dtype, DType::Float32 | DType::Float64)
                    && matches!(info.kind, StreamKind::Signal { .. });
                if *policy == Policy::Linear && !float_signal {
                    return Err(Error::InvalidArgument(format!(
                        "stream {stream:?}: linear interpolation is for float signals, not {} {elem_dtype}",
                        info.kind.name()
                    )));
                }
                let tol = tolerance_ns.unwrap_or_else(|| default_tolerance_ns(info, &times));
                let p = pick(&times, t, *policy, tol);
                let rows: Vec<usize> = match p {
                    Pick::Row(i) => vec![i],
                    Pick::Blend { lo, hi, .. } => vec![lo, hi],
                    Pick::Missing => Vec::new(),
                };
                if rows.is_empty() && *missing == Missing::Error {
                    return Err(self.no_sample(stream, &times, t, *policy, tol));
                }
                let (row_t, bytes) = self.rows(s, &rows)?;
                let size = elem_size(elem_dtype, &elem_shape);
                let data = match p {
                    Pick::Row(_) => bytes,
                    Pick::Blend { w, .. } => blend(elem_dtype, &bytes[..size], &bytes[size..], w),
                    Pick::Missing => vec![0; size],
                };
                Ok(StreamValue {
                    dtype: elem_dtype,
                    shape: elem_shape,
                    data,
                    t: vec![match p {
                        Pick::Row(_) => row_t[0],
                        Pick::Blend { .. } => t,
                        Pick::Missing => i64::MIN,
                    }],
                    pad: vec![p == Pick::Missing],
                    window: false,
                })
            }
            Query::Events { .. } => Err(Error::InvalidArgument(format!(
                "stream {stream:?}: event labels come from EpisodeSampler::labels"
            ))),
            Query::Window(spec) => {
                let window = match spec {
                    WindowSpec::Steps(steps) => Window::Steps(steps.clone()),
                    WindowSpec::Seconds { from, to } => {
                        let rate = info.rate_hz.ok_or_else(|| {
                            Error::InvalidArgument(format!(
                                "stream {stream:?} has no nominal rate: a window in seconds needs one to size its slots (give the stream a rate, or use steps)"
                            ))
                        })?;
                        let ordered = from.partial_cmp(to) == Some(std::cmp::Ordering::Less);
                        if !ordered || secs_to_ns(*to) == secs_to_ns(*from) {
                            return Err(Error::InvalidArgument(format!(
                                "stream {stream:?}: a window of seconds ({from}, {to}] must have from < to"
                            )));
                        }
                        Window::seconds(*from, *to, rate)
                    }
                };
                let slots = window.rows(&times, t);
                // Padding repeats the nearest real slot of the window (what a model sees at an
                // episode's edge); a window without one repeats the stream's sample nearest to
                // it (the last action, when the next 16 are asked at the last frame).
                let filled = if slots.iter().all(Option::is_none) {
                    vec![window.nearest_row(&times, t); slots.len()]
                } else {
                    fill_from_nearest(&slots)
                };
                let mut unique: Vec<usize> = filled.iter().flatten().copied().collect();
                unique.sort_unstable();
                unique.dedup();
                let (_, bytes) = self.rows(s, &unique)?;
                let size = elem_size(elem_dtype, &elem_shape);
                let mut data = Vec::with_capacity(slots.len() * size);
                let mut ts = Vec::with_capacity(slots.len());
                for src in &filled {
                    match src {
                        Some(row) => {
                            let k = unique.binary_search(row).map_err(|_| {
                                Error::InvalidArgument("internal: window row not gathered".into())
                            })?;
                            data.extend_from_slice(&bytes[k * size..(k + 1) * size]);
                            ts.push(times[*row]);
                        }
                        None => {
                            data.resize(data.len() + size, 0);
                            ts.push(i64::MIN);
                        }
                    }
                }
                let mut shape = vec![slots.len()];
                shape.extend(elem_shape);
                Ok(StreamValue {
                    dtype: elem_dtype,
                    shape,
                    data,
                    t: ts,
                    pad: slots.iter().map(Option::is_none).collect(),
                    window: true,
                })
            }
        }
    }

    /// Rows of stream `s` (any order, repeats allowed) as bytes, in the order given.
    fn rows(&self, s: usize, rows: &[usize]) -> Result<(Vec<i64>, Vec<u8>)> {
        if rows.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut unique = rows.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let signal = matches!(self.reader.streams()[s].kind, StreamKind::Signal { .. });
        let (t, bytes) = match &self.cache {
            Some(cache) if signal && cache.budget() > 0 => self.cached_rows(cache, s, &unique)?,
            _ => self.reader.row_bytes(s, &unique).map_err(|e| match e {
                Error::Mismatch { .. } => {
                    Error::InvalidArgument("only signal and frame streams can be sampled".into())
                }
                e => e,
            })?,
        };
        if unique == rows {
            return Ok((t, bytes));
        }
        let size = bytes.len() / unique.len();
        let mut out_t = Vec::with_capacity(rows.len());
        let mut out = Vec::with_capacity(rows.len() * size);
        for r in rows {
            let k = unique.binary_search(r).unwrap_or(0);
            out_t.push(t[k]);
            out.extend_from_slice(&bytes[k * size..(k + 1) * size]);
        }
        Ok((out_t, out))
    }
}

impl EpisodeSampler {
    /// Rows of signal stream `s` (ascending, unique), through the chunk cache: each chunk
    /// holding some is decoded whole unless cached.
    fn cached_rows(
        &self,
        cache: &ChunkCache,
        s: usize,
        rows: &[usize],
    ) -> Result<(Vec<i64>, Vec<u8>)> {
        let chunks = self.reader.chunks_of(s);
        let mut out_t = Vec::with_capacity(rows.len());
        let mut out = Vec::new();
        let mut first = 0usize; // stream row of the current chunk's row 0
        let mut next = 0usize;
        for &i in chunks {
            if next == rows.len() {
                break;
            }
            let n = self.reader.chunks()[i].rows as usize;
            if rows[next] >= first + n {
                first += n;
                continue;
            }
            let key = (self.reader.source_id(), s, i);
            let chunk = match cache.get(key) {
                Some(c) => c,
                None => {
                    let (t, bytes) = self.reader.chunk_row_bytes(i).map_err(|e| match e {
                        Error::Mismatch { .. } => {
                            Error::InvalidArgument("only signal streams are cached".into())
                        }
                        e => e,
                    })?;
                    let c = Arc::new(DecodedChunk { t, bytes });
                    cache.insert(key, c.clone());
                    c
                }
            };
            let size = chunk.bytes.len() / chunk.t.len().max(1);
            while next < rows.len() && rows[next] < first + n {
                let r = rows[next] - first;
                out_t.push(chunk.t[r]);
                out.extend_from_slice(&chunk.bytes[r * size..(r + 1) * size]);
                next += 1;
            }
            first += n;
        }
        if next < rows.len() {
            return Err(Error::InvalidArgument(format!(
                "row {} of stream {:?} does not exist ({first} rows)",
                rows[next],
                self.reader.streams()[s].name
            )));
        }
        Ok((out_t, out))
    }
}

/// For each slot, the row it takes its value from: its own, or for padding the nearest real
/// slot's (earlier one on a tie).
fn fill_from_nearest(slots: &[Option<usize>]) -> Vec<Option<usize>> {
    (0..slots.len())
        .map(|i| {
            slots[i].or_else(|| {
                (1..slots.len()).find_map(|d| {
                    let before = i.checked_sub(d).and_then(|j| slots[j]);
                    let after = slots.get(i + d).copied().flatten();
                    before.or(after)
                })
            })
        })
        .collect()
}

/// Element type and per-sample shape of a stream that can be sampled.
fn element_of(info: &StreamInfo) -> Result<(DType, Vec<usize>)> {
    match &info.kind {
        StreamKind::Signal { dtype, shape } => Ok((*dtype, shape.clone())),
        StreamKind::Frames {
            width,
            height,
            pixel_format,
            ..
        } => {
            let mut shape = vec![*height as usize, *width as usize];
            if pixel_format.channels() > 1 {
                shape.push(pixel_format.channels());
            }
            let dtype = match pixel_format {
                PixelFormat::Gray16 => DType::Uint16,
                _ => DType::Uint8,
            };
            Ok((dtype, shape))
        }
        other => Err(Error::InvalidArgument(format!(
            "stream {:?} is a {} stream: samples take signal and frame streams (events become labels)",
            info.name,
            other.name()
        ))),
    }
}

fn elem_size(dtype: DType, shape: &[usize]) -> usize {
    dtype.size() * shape.iter().product::<usize>()
}

/// `a * (1 - w) + b * w`, element by element, for float32 or float64 bytes.
fn blend(dtype: DType, a: &[u8], b: &[u8], w: f64) -> Vec<u8> {
    match dtype {
        DType::Float32 => {
            let (a, b): (Vec<f32>, Vec<f32>) = (
                bytemuck::pod_collect_to_vec(a),
                bytemuck::pod_collect_to_vec(b),
            );
            let out: Vec<f32> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x as f64 * (1.0 - w) + y as f64 * w) as f32)
                .collect();
            bytemuck::cast_slice(&out).to_vec()
        }
        _ => {
            let (a, b): (Vec<f64>, Vec<f64>) = (
                bytemuck::pod_collect_to_vec(a),
                bytemuck::pod_collect_to_vec(b),
            );
            let out: Vec<f64> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| x * (1.0 - w) + y * w)
                .collect();
            bytemuck::cast_slice(&out).to_vec()
        }
    }
}
