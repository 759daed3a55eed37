//! Export of streams to the tables other tools read: Parquet (readable by DuckDB, polars, pandas
//! and pyarrow) for every kind, CSV for signals and events. Signals get one typed column per
//! element; audio a list of interleaved samples per block; frames their decoded pixels (see
//! also `rmf export-frames` and `rmf export-wav`).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, PrimitiveArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use rmf_core::with_dtype;
use rmf_core::EpisodeReader;
use rmf_core::{Element, StreamInfo, StreamKind};
use rmf_core::{Error, Result};

/// The table a stream exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableFormat {
    /// Apache Parquet, zstd-compressed columns.
    Parquet,
    /// Comma-separated values with a header row (RFC 4180 quoting).
    Csv,
}

impl TableFormat {
    /// From a file name's extension: `.parquet` or `.csv`.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "parquet" => Some(TableFormat::Parquet),
            "csv" => Some(TableFormat::Csv),
            _ => None,
        }
    }
}

/// The column names of a signal's elements: its per-axis names, else `value` with the element's
/// index (`value[3]`, or `value[1,4]` for a `[2, 7]` shape).
pub fn element_names(info: &StreamInfo) -> Vec<String> {
    let width = info.signal_width();
    if info.names.len() == width {
        return info.names.clone();
    }
    let shape = match &info.kind {
        StreamKind::Signal { shape, .. } => shape.clone(),
        _ => Vec::new(),
    };
    (0..width)
        .map(|mut i| {
            let mut idx = vec![0; shape.len()];
            for (k, d) in shape.iter().enumerate().rev() {
                idx[k] = i % d;
                i /= d;
            }
            let parts: Vec<String> = idx.iter().map(usize::to_string).collect();
            format!("value[{}]", parts.join(","))
        })
        .collect()
}

/// Stream `name` as a table: `t` (int64 ns on the episode clock), then one column per signal element; `kind`, `operator`,
/// `text`, `payload` (JSON) for events; `samples` (a list of interleaved samples per block) for
/// audio; `frame` (decoded pixels, row-major) for frames. Audio and frame tables carry their
/// rate, channels, size and pixel format as schema metadata (`rmf.*`).
pub fn stream_table(r: &EpisodeReader, name: &str) -> Result<RecordBatch> {
    let info = r.stream(name)?.info();
    let arrow = |e: arrow_schema::ArrowError| Error::Encode(format!("stream {name:?}: {e}"));
    match &info.kind {
        StreamKind::Signal { dtype, .. } => {
            let width = info.signal_width();
            let names = element_names(info);
            let (t, columns, data_type): (Vec<i64>, Vec<ArrayRef>, DataType) = with_dtype!(*dtype, T => {
                let (t, v) = r.signal_range::<T>(name, i64::MIN, i64::MAX)?;
                let columns = (0..width)
                    .map(|j| {
                        let col = v.iter().skip(j).step_by(width).copied();
                        Arc::new(PrimitiveArray::<<T as Element>::Arrow>::from_iter_values(col)) as ArrayRef
                    })
                    .collect();
                (t, columns, <T as Element>::DTYPE.arrow())
            });
            let mut fields = vec![time_field()];
            fields.extend(
                names
                    .iter()
                    .map(|n| Field::new(n, data_type.clone(), false)),
            );
            let mut all: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(t))];
            all.extend(columns);
            RecordBatch::try_new(Arc::new(Schema::new(fields)), all).map_err(arrow)
        }
        StreamKind::Events => {
            let events = r.events_range(name, i64::MIN, i64::MAX)?;
            let col = |f: fn(&rmf_core::Event) -> String| -> ArrayRef {
                Arc::new(StringArray::from_iter_values(
                    events.iter().map(|(_, e)| f(e)),
                ))
            };
            let schema = Schema::new(vec![
                time_field(),
                Field::new("kind", DataType::Utf8, false),
                Field::new("operator", DataType::Utf8, false),
                Field::new("text", DataType::Utf8, false),
                // SQL NULL for an event without payload (JSON null), so DuckDB and pandas see
                // a missing value rather than the text "null".
                Field::new("payload", DataType::Utf8, true),
            ]);
            RecordBatch::try_new(
                Arc::new(schema),
                vec![
                    Arc::new(Int64Array::from_iter_values(events.iter().map(|(t, _)| *t))),
                    col(|e| e.kind.clone()),
                    col(|e| e.operator.clone()),
                    col(|e| e.text.clone()),
                    Arc::new(StringArray::from_iter(events.iter().map(|(_, e)| {
                        (!e.payload.is_null()).then(|| e.payload.to_string())
                    }))),
                ],
            )
            .map_err(arrow)
        }
        StreamKind::Audio {
            sample_rate,
            channels,
            ..
        } => renamed_with_metadata(
            &r.read_all(name)?,
            &[
                ("rmf.sample_rate", sample_rate.to_string()),
                ("rmf.channels", channels.to_string()),
            ],
        )
        .map_err(arrow),
        StreamKind::Frames {
            width,
            height,
            pixel_format,
            ..
        } => renamed_with_metadata(
            &r.read_all(name)?,
            &[
                ("rmf.width", width.to_string()),
                ("rmf.height", height.to_string()),
                ("rmf.pixel_format", pixel_format.name().to_string()),
            ],
        )
        .map_err(arrow),
        other => Err(Error::InvalidArgument(format!(
            "stream {name:?}: {} streams have no table form",
            other.name()
        ))),
    }
}

/// A reader's batch (`t`, values) with its time column described and `metadata` on the schema.
fn renamed_with_metadata(
    batch: &RecordBatch,
    metadata: &[(&str, String)],
) -> std::result::Result<RecordBatch, arrow_schema::ArrowError> {
    let schema = Schema::new(vec![time_field(), batch.schema().field(1).as_ref().clone()])
        .with_metadata(
            metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<std::collections::HashMap<String, String>>(),
        );
    RecordBatch::try_new(Arc::new(schema), batch.columns().to_vec())
}

/// Writes stream `name` of `r` to `out` as a table (temporary file, sync, rename); refuses an
/// existing `out`. Returns the number of rows.
pub fn export_stream(
    r: &EpisodeReader,
    name: &str,
    out: &Path,
    format: TableFormat,
) -> Result<usize> {
    export_stream_with(r, name, out, format, false)
}

/// [`export_stream`], replacing an existing `out` when `overwrite`.
pub fn export_stream_with(
    r: &EpisodeReader,
    name: &str,
    out: &Path,
    format: TableFormat,
    overwrite: bool,
) -> Result<usize> {
    if !overwrite {
        rmf_core::place::refuse_existing(out)?;
    }
    let kind = &r.stream(name)?.kind;
    if format == TableFormat::Csv && !matches!(kind, StreamKind::Signal { .. } | StreamKind::Events)
    {
        return Err(Error::InvalidArgument(format!(
            "stream {name:?} is a {} stream: CSV takes signals and events; use Parquet (or export-frames / export-wav)",
            kind.name()
        )));
    }
    let batch = stream_table(r, name)?;
    // Writing can only fail for I/O reasons (the batch is already built): report them as such,
    // naming the output.
    let io = |op: &'static str| move |e: std::io::Error| Error::io(out, op, e);
    let parquet = |e: parquet::errors::ParquetError| {
        Error::io(out, "write Parquet", std::io::Error::other(e))
    };
    rmf_core::place::write_new_file(out, overwrite, |tmp| {
        let file = std::fs::File::create_new(tmp).map_err(io("create"))?;
        let file = match format {
            TableFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                let mut w =
                    ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(parquet)?;
                w.write(&batch).map_err(parquet)?;
                w.into_inner().map_err(parquet)?
            }
            TableFormat::Csv => {
                let mut w = std::io::BufWriter::new(file);
                write_csv(&batch, &mut w).map_err(io("write CSV"))?;
                w.into_inner()
                    .map_err(|e| Error::io(out, "write CSV", e.into_error()))?
            }
        };
        file.sync_all().map_err(io("sync"))
    })?;
    Ok(batch.num_rows())
}

/// CSV with a header; numbers as the shortest text that reads back to the same value (`NaN`,
/// `inf`, `-inf` for non-finite floats); text quoted when it holds a comma, quote or line break.
fn write_csv(batch: &RecordBatch, w: &mut impl Write) -> std::io::Result<()> {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let header: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| quote(f.name()))
        .collect();
    writeln!(w, "{}", header.join(","))?;
    let cells: Vec<Box<dyn Fn(usize) -> String + '_>> = batch
        .columns()
        .iter()
        .map(|c| cell_writer(c.as_ref(), &quote))
        .collect();
    for row in 0..batch.num_rows() {
        let line: Vec<String> = cells.iter().map(|f| f(row)).collect();
        writeln!(w, "{}", line.join(","))?;
    }
    Ok(())
}

/// A function printing row `i` of a column.
fn cell_writer<'a>(
    c: &'a dyn arrow_array::Array,
    quote: &'a dyn Fn(&str) -> String,
) -> Box<dyn Fn(usize) -> String + 'a> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::*;
    macro_rules! prim {
        ($t:ty) => {{
            let a = c.as_primitive::<$t>();
            Box::new(move |i| format!("{}", a.value(i)))
        }};
    }
    match c.data_type() {
        DataType::Utf8 => {
            let a = c.as_string::<i32>();
            Box::new(move |i| {
                if arrow_array::Array::is_null(a, i) {
                    String::new()
                } else {
                    quote(a.value(i))
                }
            })
        }
        DataType::Int8 => prim!(Int8Type),
        DataType::Int16 => prim!(Int16Type),
        DataType::Int32 => prim!(Int32Type),
        DataType::Int64 => prim!(Int64Type),
        DataType::UInt8 => prim!(UInt8Type),
        DataType::UInt16 => prim!(UInt16Type),
        DataType::UInt32 => prim!(UInt32Type),
        DataType::UInt64 => prim!(UInt64Type),
        DataType::Float32 => prim!(Float32Type),
        DataType::Float64 => prim!(Float64Type),
        _ => Box::new(|_| String::new()),
    }
}

/// The time column of every export: `t`, as the spec, Python and the conformance files name
/// it; its unit and clock ride as field metadata for tools that show them.
fn time_field() -> Field {
    let metadata: std::collections::HashMap<String, String> = [
        ("unit".to_string(), "ns".to_string()),
        ("clock".to_string(), "episode".to_string()),
    ]
    .into();
    Field::new("t", DataType::Int64, false).with_metadata(metadata)
}
