//! The dataset index: `episodes.parquet` in a directory of `.rmf` episodes, one row per
//! episode, built from the episodes' footers. It is an ordinary Parquet file (zstd) that
//! DuckDB, polars and pyarrow read as is, and opening a dataset reads it alone.
//!
//! Columns (spec/dataset.md): `id`, `file` (relative to the directory, `/`-separated),
//! `file_bytes`, `file_mtime_ns`, `finished`, `start_ns`, `end_ns`, `duration_s`,
//! `start_time_utc`, `clock`, `robot`, `task`, `operator`, `extra` (JSON), `samples`,
//! `streams`, a list of structs (`name`, `kind`, `count`, `t_min`, `t_max`, `rate_hz`,
//! `sensitivity`), and `signal_stats`, a list of structs with each signal stream's
//! normalization statistics (see [`super::stats`]).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use arrow_array::builder::{
    Float64Builder, Int64Builder, ListBuilder, StringBuilder, StructBuilder,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch, StringArray,
    StructArray,
};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::stats::StreamStats;
use rmf_core::with_dtype;
use rmf_core::StreamKind;
use rmf_core::{EpisodeReader, ReadOptions};
use rmf_core::{Error, Result};
use rmf_store::{Location, StoreOptions};

/// The index file's name inside a dataset directory.
pub const INDEX_FILE: &str = "episodes.parquet";

/// One stream of an episode, as the index lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedStream {
    /// Stream name.
    pub name: String,
    /// `signal`, `frames`, `audio` or `events`.
    pub kind: String,
    /// Samples.
    pub count: i64,
    /// First and last timestamps (`None` for an empty stream).
    pub t_min: Option<i64>,
    /// See `t_min`.
    pub t_max: Option<i64>,
    /// Nominal rate.
    pub rate_hz: Option<f64>,
    /// `public`, `internal` or `private`.
    pub sensitivity: String,
}

/// One row of the index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedEpisode {
    /// Episode id (UUID).
    pub id: String,
    /// File, relative to the dataset directory, `/`-separated.
    pub file: String,
    /// File size, and modification time (ns since the Unix epoch): a refresh re-reads a file
    /// only when either changed.
    pub file_bytes: i64,
    /// See `file_bytes`.
    pub file_mtime_ns: i64,
    /// Whether the file has its footer (false: opened by a recovery scan).
    pub finished: bool,
    /// Bytes of the footer record and trailer (finished files): a reader of the file in an
    /// object store opens it with one range request of exactly this size. `None` in indexes
    /// written before the column existed.
    pub footer_bytes: Option<i64>,
    /// Earliest and latest sample time over all streams (episode clock).
    pub start_ns: Option<i64>,
    /// See `start_ns`.
    pub end_ns: Option<i64>,
    /// Wall-clock start, RFC 3339.
    pub start_time_utc: String,
    /// Clock domain.
    pub clock: String,
    /// Robot.
    pub robot: String,
    /// Task.
    pub task: String,
    /// Operator.
    pub operator: String,
    /// Free metadata, JSON.
    pub extra: String,
    /// Samples over all streams.
    pub samples: i64,
    /// Streams in declaration order.
    pub streams: Vec<IndexedStream>,
    /// Statistics of every signal stream; `None` when the index was written without them
    /// (a refresh computes them).
    pub signal_stats: Option<Vec<StreamStats>>,
}

impl IndexedEpisode {
    /// Duration in seconds (0 for an empty episode).
    pub fn duration_s(&self) -> f64 {
        match (self.start_ns, self.end_ns) {
            (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
            _ => 0.0,
        }
    }

    /// A stream by name.
    pub fn stream(&self, name: &str) -> Option<&IndexedStream> {
        self.streams.iter().find(|s| s.name == name)
    }

    /// Reads an episode's footer (or scans a file without one), and its signal streams for their
    /// statistics, into an index row.
    pub fn from_file(dir: &Path, path: &Path) -> Result<Self> {
        let r = EpisodeReader::open(path)?;
        let (bytes, mtime) = file_stamp(path)?;
        Self::from_reader(&r, relative(dir, path), bytes, mtime)
    }

    /// [`IndexedEpisode::from_file`] for an open episode, named `file` in the index, of
    /// `bytes` bytes last modified at `mtime_ns`.
    pub fn from_reader(r: &EpisodeReader, file: String, bytes: i64, mtime_ns: i64) -> Result<Self> {
        let mtime = mtime_ns;
        let meta = r.meta();
        let mut streams = Vec::with_capacity(r.streams().len());
        for s in r.streams() {
            let sum = r.summary(&s.name)?;
            streams.push(IndexedStream {
                name: s.name.clone(),
                kind: s.kind.name().to_string(),
                count: sum.count as i64,
                t_min: sum.t_min,
                t_max: sum.t_max,
                rate_hz: s.rate_hz,
                sensitivity: s.sensitivity.name().to_string(),
            });
        }
        let (start_ns, end_ns) = r
            .time_range()
            .map_or((None, None), |(a, b)| (Some(a), Some(b)));
        let mut signal_stats = Vec::new();
        for s in r.streams() {
            // Encrypted streams get no statistics: the index is readable by anyone, and
            // statistics would leak what the encryption hides.
            if s.encryption.is_some() {
                continue;
            }
            if let StreamKind::Signal { dtype, .. } = &s.kind {
                let values: Vec<f64> = with_dtype!(*dtype, T => {
                    let (_, v) = r.signal_range::<T>(&s.name, i64::MIN, i64::MAX)?;
                    v.into_iter().map(rmf_core::Element::to_f64).collect()
                });
                signal_stats.push(StreamStats::of(&s.name, &values, s.signal_width()));
            }
        }
        Ok(IndexedEpisode {
            id: meta.id.to_string(),
            file,
            file_bytes: bytes,
            file_mtime_ns: mtime,
            finished: r.recovery().is_none(),
            footer_bytes: r.footer_bytes().map(|n| n as i64),
            start_ns,
            end_ns,
            start_time_utc: meta.start_time_utc.clone(),
            clock: meta.clock.clone(),
            robot: meta.robot.clone(),
            task: meta.task.clone(),
            operator: meta.operator.clone(),
            extra: serde_json::Value::Object(meta.extra.clone()).to_string(),
            samples: streams.iter().map(|s| s.count).sum(),
            streams,
            signal_stats: Some(signal_stats),
        })
    }
}

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexReport {
    /// Episodes in the index now.
    pub episodes: usize,
    /// Files read because they were new.
    pub added: Vec<String>,
    /// Files read again because their size or time changed.
    pub updated: Vec<String>,
    /// Index rows dropped because their file is gone.
    pub removed: Vec<String>,
    /// Files that could not be read, with the reason (not in the index).
    pub failed: Vec<(String, String)>,
}

/// Builds or refreshes `DIR/episodes.parquet` from every `.rmf` file under `dir` (sub-folders
/// included, sorted by path). Files whose size and modification time match their index row
/// are not opened again. The index is written to a temporary file, synced, then renamed.
pub fn build_index(dir: &Path) -> Result<IndexReport> {
    build_index_at(&Location::from(dir), &StoreOptions::default())
}

/// [`build_index`] of a directory or an object-store prefix (`s3://bucket/data/`): episodes
/// are listed, and each new or changed one is opened by its tail (one range request) and its
/// signal chunks (for the statistics); frames are not fetched. The index is uploaded whole.
pub fn build_index_at(dir: &Location, store: &StoreOptions) -> Result<IndexReport> {
    let old: HashMap<String, IndexedEpisode> = match read_index_at(dir, store) {
        Ok(rows) => rows.into_iter().map(|e| (e.file.clone(), e)).collect(),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            HashMap::new()
        }
        Err(Error::Remote {
            status: Some(404), ..
        }) => HashMap::new(),
        Err(e) => return Err(e),
    };
    let mut files = rmf_store::list(dir, ".rmf", store)?;
    // Hidden files and folders (temporary files among them) are not episodes.
    files.retain(|f| !f.rel.split('/').any(|c| c.starts_with('.')));
    let mut report = IndexReport::default();
    let mut rows = Vec::with_capacity(files.len());
    let mut seen = std::collections::HashSet::new();
    for f in files {
        let rel = f.rel.clone();
        seen.insert(rel.clone());
        let stamp = (f.size as i64, f.modified_ns);
        if let Some(row) = old.get(&rel) {
            if (row.file_bytes, row.file_mtime_ns) == stamp && row.signal_stats.is_some() {
                rows.push(row.clone());
                continue;
            }
        }
        let opened = rmf_store::source(&dir.join(&rel), Some(f.size), store)
            .and_then(|src| EpisodeReader::open_source(src, ReadOptions::default()))
            .and_then(|r| IndexedEpisode::from_reader(&r, rel.clone(), stamp.0, stamp.1));
        match opened {
            Ok(row) => {
                if old.contains_key(&rel) {
                    report.updated.push(rel);
                } else {
                    report.added.push(rel);
                }
                rows.push(row);
            }
            Err(e) => report.failed.push((rel, e.to_string())),
        }
    }
    report.removed = old.keys().filter(|f| !seen.contains(*f)).cloned().collect();
    report.removed.sort();
    report.episodes = rows.len();
    write_index_at(dir, &rows, store)?;
    Ok(report)
}

/// Reads `DIR/episodes.parquet`.
pub fn read_index(dir: &Path) -> Result<Vec<IndexedEpisode>> {
    read_index_at(&Location::from(dir), &StoreOptions::default())
}

/// A missing index says what builds it (a missing local directory stays that error).
fn no_index(e: Error, dir: &Location, loc: &Location) -> Error {
    let missing = match (&e, dir) {
        (_, Location::Local(p)) if !p.is_dir() => false,
        (Error::Io { source, .. }, _) => source.kind() == std::io::ErrorKind::NotFound,
        (Error::Remote { status, .. }, _) => *status == Some(404),
        _ => false,
    };
    if !missing {
        return e;
    }
    let detail = format!(
        "no dataset index ({INDEX_FILE}) in {dir}: build it with `rmf index {dir}` \
         (Python: rmf.index(...)); it lists the episodes and their streams"
    );
    Error::io(
        loc.to_string(),
        "read",
        std::io::Error::new(std::io::ErrorKind::NotFound, detail),
    )
}

/// [`read_index`] of a directory or an object-store prefix (one request).
pub fn read_index_at(dir: &Location, store: &StoreOptions) -> Result<Vec<IndexedEpisode>> {
    let (loc, _, batches) = index_batches(dir, store)?;
    let mut out = Vec::new();
    for batch in &batches {
        rows_of(batch, &mut out).map_err(|d| bad_index(&loc, d))?;
    }
    Ok(out)
}

/// The index of a directory or an object-store prefix as the Arrow table it is stored as
/// (schema and batches): what Python's `Dataset.episode_index` gives without its Parquet module.
pub fn read_index_table(
    dir: &Location,
    store: &StoreOptions,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let (_, schema, batches) = index_batches(dir, store)?;
    Ok((schema, batches))
}

fn index_batches(
    dir: &Location,
    store: &StoreOptions,
) -> Result<(Location, SchemaRef, Vec<RecordBatch>)> {
    let loc = dir.join(INDEX_FILE);
    let bytes = rmf_store::read_all(&loc, store).map_err(|e| no_index(e, dir, &loc))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .and_then(|b| b.build())
        .map_err(|e| bad_index(&loc, format!("not a readable Parquet file: {e}")))?;
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad_index(&loc, e.to_string()))?;
    Ok((loc, schema, batches))
}

fn bad_index(loc: &Location, detail: String) -> Error {
    Error::Malformed {
        file: loc.to_string(),
        what: "dataset index",
        offset: 0,
        detail,
    }
}

/// Writes `rows` as `DIR/episodes.parquet` (temporary file, sync, rename).
pub fn write_index(dir: &Path, rows: &[IndexedEpisode]) -> Result<()> {
    write_index_at(&Location::from(dir), rows, &StoreOptions::default())
}

/// [`write_index`] to a directory or an object-store prefix (uploaded whole: the index
/// appears complete or not at all).
pub fn write_index_at(dir: &Location, rows: &[IndexedEpisode], store: &StoreOptions) -> Result<()> {
    let loc = dir.join(INDEX_FILE);
    let batch = batch_of(rows).map_err(|e| Error::Encode(format!("dataset index: {e}")))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let encoded = (|| -> std::result::Result<Vec<u8>, parquet::errors::ParquetError> {
        let mut w = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(props))?;
        w.write(&batch)?;
        w.into_inner()
    })()
    .map_err(|e| Error::Encode(format!("{loc}: writing the dataset index: {e}")))?;
    rmf_store::write_all(&loc, encoded.into(), store)
}

pub(crate) fn find_episodes(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, "list", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, "list", e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, "stat", e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue; // temporary and hidden files
        }
        if kind.is_dir() {
            find_episodes(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|x| x == "rmf") {
            out.push(path);
        }
    }
    Ok(())
}

pub(crate) fn relative(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn file_stamp(path: &Path) -> Result<(i64, i64)> {
    let m = fs::metadata(path).map_err(|e| Error::io(path, "stat", e))?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    Ok((m.len() as i64, mtime))
}

fn stream_fields() -> Fields {
    Fields::from(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("count", DataType::Int64, false),
        Field::new("t_min", DataType::Int64, true),
        Field::new("t_max", DataType::Int64, true),
        Field::new("rate_hz", DataType::Float64, true),
        Field::new("sensitivity", DataType::Utf8, false),
    ])
}

fn stats_fields() -> Fields {
    let item = |t: DataType| Arc::new(Field::new("item", t, true));
    let list = |n: &str, t: DataType| Field::new(n, DataType::List(item(t)), false);
    Fields::from(vec![
        Field::new("stream", DataType::Utf8, false),
        list("count", DataType::Int64),
        list("non_finite", DataType::Int64),
        list("mean", DataType::Float64),
        list("m2", DataType::Float64),
        list("min", DataType::Float64),
        list("max", DataType::Float64),
        list("quantile_points", DataType::List(item(DataType::Float64))),
    ])
}

fn schema() -> SchemaRef {
    let s = |n: &str| Field::new(n, DataType::Utf8, false);
    let i = |n: &str, null| Field::new(n, DataType::Int64, null);
    Arc::new(Schema::new(vec![
        s("id"),
        s("file"),
        i("file_bytes", false),
        i("file_mtime_ns", false),
        Field::new("finished", DataType::Boolean, false),
        i("footer_bytes", true),
        i("start_ns", true),
        i("end_ns", true),
        Field::new("duration_s", DataType::Float64, false),
        s("start_time_utc"),
        s("clock"),
        s("robot"),
        s("task"),
        s("operator"),
        s("extra"),
        i("samples", false),
        Field::new(
            "streams",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(stream_fields()),
                true,
            ))),
            false,
        ),
        Field::new(
            "signal_stats",
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(stats_fields()),
                true,
            ))),
            false,
        ),
    ]))
}

fn batch_of(rows: &[IndexedEpisode]) -> std::result::Result<RecordBatch, arrow_schema::ArrowError> {
    let strings = |f: fn(&IndexedEpisode) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    let ints = |f: fn(&IndexedEpisode) -> Option<i64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Int64Array>())
    };
    let mut streams =
        ListBuilder::new(StructBuilder::from_fields(stream_fields(), rows.len())).with_field(
            Arc::new(Field::new("item", DataType::Struct(stream_fields()), true)),
        );
    for row in rows {
        let b = streams.values();
        for s in &row.streams {
            field::<StringBuilder>(b, 0).append_value(&s.name);
            field::<StringBuilder>(b, 1).append_value(&s.kind);
            field::<Int64Builder>(b, 2).append_value(s.count);
            field::<Int64Builder>(b, 3).append_option(s.t_min);
            field::<Int64Builder>(b, 4).append_option(s.t_max);
            field::<Float64Builder>(b, 5).append_option(s.rate_hz);
            field::<StringBuilder>(b, 6).append_value(&s.sensitivity);
            b.append(true);
        }
        streams.append(true);
    }
    let stats = stats_column(rows)?;
    RecordBatch::try_new(
        schema(),
        vec![
            strings(|r| &r.id),
            strings(|r| &r.file),
            ints(|r| Some(r.file_bytes)),
            ints(|r| Some(r.file_mtime_ns)),
            Arc::new(BooleanArray::from_iter(
                rows.iter().map(|r| Some(r.finished)),
            )),
            ints(|r| r.footer_bytes),
            ints(|r| r.start_ns),
            ints(|r| r.end_ns),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.duration_s()),
            )),
            strings(|r| &r.start_time_utc),
            strings(|r| &r.clock),
            strings(|r| &r.robot),
            strings(|r| &r.task),
            strings(|r| &r.operator),
            strings(|r| &r.extra),
            ints(|r| Some(r.samples)),
            Arc::new(streams.finish()),
            stats,
        ],
    )
}

/// The `signal_stats` column: per episode a list with one struct per signal stream, whose
/// fields are lists with one entry per element.
fn stats_column(
    rows: &[IndexedEpisode],
) -> std::result::Result<ArrayRef, arrow_schema::ArrowError> {
    use arrow_array::types::{Float64Type, Int64Type};
    use arrow_buffer::OffsetBuffer;
    type Lists<T> = Vec<Option<Vec<Option<T>>>>;
    let item = |t: DataType| Arc::new(Field::new("item", t, true));
    let ints = |v: &[u64]| Some(v.iter().map(|&c| Some(c as i64)).collect::<Vec<_>>());
    let floats = |v: &[f64]| Some(v.iter().map(|&x| Some(x)).collect::<Vec<_>>());
    let mut outer = vec![0i32];
    let mut names = Vec::new();
    let (mut count, mut non_finite): (Lists<i64>, Lists<i64>) = (Vec::new(), Vec::new());
    let (mut mean, mut m2, mut min, mut max): (Lists<f64>, Lists<f64>, Lists<f64>, Lists<f64>) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut q_offsets = vec![0i32];
    let mut q_points: Lists<f64> = Vec::new();
    for row in rows {
        for st in row.signal_stats.iter().flatten() {
            names.push(st.stream.clone());
            count.push(ints(&st.count));
            non_finite.push(ints(&st.non_finite));
            mean.push(floats(&st.mean));
            m2.push(floats(&st.m2));
            min.push(floats(&st.min));
            max.push(floats(&st.max));
            q_points.extend(st.quantile_points.iter().map(|p| floats(p)));
            q_offsets.push(q_points.len() as i32);
        }
        outer.push(names.len() as i32);
    }
    let i64s = |v: Lists<i64>| -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(v))
    };
    let f64s = |v: Lists<f64>| -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(v))
    };
    let points = f64s(q_points);
    let quantiles: ArrayRef = Arc::new(ListArray::try_new(
        item(points.data_type().clone()),
        OffsetBuffer::new(q_offsets.into()),
        points,
        None,
    )?);
    let structs = StructArray::try_new(
        stats_fields(),
        vec![
            Arc::new(StringArray::from_iter_values(names)),
            i64s(count),
            i64s(non_finite),
            f64s(mean),
            f64s(m2),
            f64s(min),
            f64s(max),
            quantiles,
        ],
        None,
    )?;
    Ok(Arc::new(ListArray::try_new(
        item(DataType::Struct(stats_fields())),
        OffsetBuffer::new(outer.into()),
        Arc::new(structs),
        None,
    )?))
}

/// The `signal_stats` of row `k`, if the index has that column.
fn stats_of(
    batch: &RecordBatch,
    k: usize,
) -> std::result::Result<Option<Vec<StreamStats>>, String> {
    let Some(col) = batch.column_by_name("signal_stats") else {
        return Ok(None);
    };
    let lists = col
        .as_any()
        .downcast_ref::<ListArray>()
        .ok_or("signal_stats is not a list")?;
    let value = lists.value(k);
    let st = value
        .as_any()
        .downcast_ref::<StructArray>()
        .ok_or("signal_stats items are not structs")?;
    let names = field_of::<StringArray>(st, "signal_stats", "stream")?;
    let list = |n: &str| field_of::<ListArray>(st, "signal_stats", n);
    let ints = |a: &ListArray, j: usize| -> std::result::Result<Vec<u64>, String> {
        let v = a.value(j);
        let v = v
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or("expected int64 items")?;
        Ok(v.values().iter().map(|&x| x.max(0) as u64).collect())
    };
    let floats = |a: &ListArray, j: usize| -> std::result::Result<Vec<f64>, String> {
        let v = a.value(j);
        let v = v
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or("expected float64 items")?;
        Ok(v.values().to_vec())
    };
    let (count, non_finite) = (list("count")?, list("non_finite")?);
    let (mean, m2, min, max, q) = (
        list("mean")?,
        list("m2")?,
        list("min")?,
        list("max")?,
        list("quantile_points")?,
    );
    let mut out = Vec::with_capacity(st.len());
    for j in 0..st.len() {
        let per_elem = q.value(j);
        let per_elem = per_elem
            .as_any()
            .downcast_ref::<ListArray>()
            .ok_or("quantile_points items are not lists")?;
        let quantile_points = (0..per_elem.len())
            .map(|e| floats(per_elem, e))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let s = StreamStats {
            stream: names.value(j).to_string(),
            count: ints(count, j)?,
            non_finite: ints(non_finite, j)?,
            mean: floats(mean, j)?,
            m2: floats(m2, j)?,
            min: floats(min, j)?,
            max: floats(max, j)?,
            quantile_points,
        };
        let w = s.count.len();
        if [
            s.non_finite.len(),
            s.mean.len(),
            s.m2.len(),
            s.min.len(),
            s.max.len(),
            s.quantile_points.len(),
        ]
        .iter()
        .any(|&l| l != w)
        {
            return Err(format!(
                "signal_stats of {:?}: fields of different lengths",
                s.stream
            ));
        }
        out.push(s);
    }
    Ok(Some(out))
}

/// The builder of field `i` of a struct builder (fields are created from `stream_fields`, so
/// the types match).
fn field<T: arrow_array::builder::ArrayBuilder>(b: &mut StructBuilder, i: usize) -> &mut T {
    #[allow(clippy::expect_used)]
    b.field_builder::<T>(i)
        .expect("struct field builders follow stream_fields()")
}

/// Field `name` of the struct array `st` (inside column `parent`) as a `T` array.
fn field_of<'a, T: 'static>(
    st: &'a StructArray,
    parent: &str,
    name: &str,
) -> std::result::Result<&'a T, String> {
    st.column_by_name(name)
        .ok_or_else(|| format!("{parent} has no field {name:?}"))?
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| format!("{parent}.{name} has an unexpected type"))
}

fn column<'a, T: 'static>(
    batch: &'a RecordBatch,
    name: &str,
) -> std::result::Result<&'a T, String> {
    batch
        .column_by_name(name)
        .ok_or_else(|| format!("no column {name:?}"))?
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| format!("column {name:?} has an unexpected type"))
}

fn rows_of(batch: &RecordBatch, out: &mut Vec<IndexedEpisode>) -> std::result::Result<(), String> {
    let s = |n| column::<StringArray>(batch, n);
    let i = |n| column::<Int64Array>(batch, n);
    let (id, file, robot, task, operator) = (
        s("id")?,
        s("file")?,
        s("robot")?,
        s("task")?,
        s("operator")?,
    );
    let (utc, clock, extra) = (s("start_time_utc")?, s("clock")?, s("extra")?);
    let (bytes, mtime, start, end, samples) = (
        i("file_bytes")?,
        i("file_mtime_ns")?,
        i("start_ns")?,
        i("end_ns")?,
        i("samples")?,
    );
    let finished = column::<BooleanArray>(batch, "finished")?;
    // Added after the first indexes were written: optional.
    let footer = batch
        .column_by_name("footer_bytes")
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>());
    let streams = column::<ListArray>(batch, "streams")?;
    let opt = |a: &Int64Array, k: usize| (!a.is_null(k)).then(|| a.value(k));
    for k in 0..batch.num_rows() {
        let list = streams.value(k);
        let st = list
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or("streams items are not structs")?;
        let names = field_of::<StringArray>(st, "streams", "name")?;
        let kinds = field_of::<StringArray>(st, "streams", "kind")?;
        let counts = field_of::<Int64Array>(st, "streams", "count")?;
        let tmin = field_of::<Int64Array>(st, "streams", "t_min")?;
        let tmax = field_of::<Int64Array>(st, "streams", "t_max")?;
        let rates = field_of::<Float64Array>(st, "streams", "rate_hz")?;
        let sens = field_of::<StringArray>(st, "streams", "sensitivity")?;
        let streams = (0..st.len())
            .map(|j| IndexedStream {
                name: names.value(j).to_string(),
                kind: kinds.value(j).to_string(),
                count: counts.value(j),
                t_min: opt(tmin, j),
                t_max: opt(tmax, j),
                rate_hz: (!rates.is_null(j)).then(|| rates.value(j)),
                sensitivity: sens.value(j).to_string(),
            })
            .collect();
        out.push(IndexedEpisode {
            id: id.value(k).to_string(),
            file: file.value(k).to_string(),
            file_bytes: bytes.value(k),
            file_mtime_ns: mtime.value(k),
            finished: finished.value(k),
            footer_bytes: footer.and_then(|a| opt(a, k)),
            start_ns: opt(start, k),
            end_ns: opt(end, k),
            start_time_utc: utc.value(k).to_string(),
            clock: clock.value(k).to_string(),
            robot: robot.value(k).to_string(),
            task: task.value(k).to_string(),
            operator: operator.value(k).to_string(),
            extra: extra.value(k).to_string(),
            samples: samples.value(k),
            streams,
            signal_stats: stats_of(batch, k)?,
        });
    }
    Ok(())
}
