//! Table exports: Parquet and CSV hold exactly the stream's values, with the stream's axis names.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int64Type, UInt16Type};
use common::small_file;
use rmf_core::*;
use rmf_dataset::export::{element_names, export_stream, TableFormat};

#[test]
fn parquet_and_csv_hold_exactly_the_values() {
    let (dir, path, written) = small_file();
    let r = EpisodeReader::open(&path).unwrap();

    let pq = dir.path().join("ft.parquet");
    assert_eq!(
        export_stream(&r, "ft", &pq, TableFormat::Parquet).unwrap(),
        written.ft_t.len()
    );
    let file = std::fs::File::open(&pq).unwrap();
    let batches: Vec<_> =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
    let b = &batches[0];
    assert_eq!(b.schema().field(1).name(), "value[0]");
    let t: Vec<i64> = b.column(0).as_primitive::<Int64Type>().values().to_vec();
    assert_eq!(t, written.ft_t);
    for j in 0..3 {
        let col = b.column(1 + j).as_primitive::<Float32Type>();
        let want: Vec<f32> = written.ft_v.iter().skip(j).step_by(3).copied().collect();
        // Bit for bit (NaN payloads included).
        let got: Vec<u32> = col.values().iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    }
    let pq2 = dir.path().join("counter.parquet");
    export_stream(&r, "counter", &pq2, TableFormat::Parquet).unwrap();
    let file = std::fs::File::open(&pq2).unwrap();
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(
        b.column(1).as_primitive::<UInt16Type>().values().to_vec(),
        written.counter_v
    );

    let csv = dir.path().join("ft.csv");
    export_stream(&r, "ft", &csv, TableFormat::Csv).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("t,value[0],value[1],value[2]"));
    for (k, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0].parse::<i64>().unwrap(), written.ft_t[k]);
        for j in 0..3 {
            let got: f32 = cells[1 + j].parse().unwrap();
            let want = written.ft_v[3 * k + j];
            assert!(
                got == want || (got.is_nan() && want.is_nan()),
                "row {k}: {got} vs {want}"
            );
        }
    }

    let ev = dir.path().join("log.csv");
    export_stream(&r, "log", &ev, TableFormat::Csv).unwrap();
    let text = std::fs::read_to_string(&ev).unwrap();
    assert!(text.starts_with("t,kind,operator,text,payload\n"));
    assert_eq!(text.lines().count(), written.events.len() + 1);

    // CSV takes signals and events only; an existing file is not replaced.
    assert!(export_stream(&r, "cam", &dir.path().join("x.csv"), TableFormat::Csv).is_err());
    assert!(export_stream(&r, "ft", &csv, TableFormat::Csv).is_err());
    let shaped = StreamInfo::signal("j", DType::Float32, &[2, 3]);
    assert_eq!(element_names(&shaped)[4], "value[1,1]");
}

#[test]
fn audio_and_frames_go_to_parquet_exactly() {
    use arrow_array::types::Int16Type;
    use arrow_array::Array;
    let (dir, path, written) = small_file();
    let r = EpisodeReader::open(&path).unwrap();
    // The batch and the file's Arrow schema metadata (batches do not carry it).
    let read = |p: &std::path::Path| {
        let file = std::fs::File::open(p).unwrap();
        let builder =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let meta = builder.schema().metadata().clone();
        (builder.build().unwrap().next().unwrap().unwrap(), meta)
    };

    let mic = dir.path().join("mic.parquet");
    assert_eq!(
        export_stream(&r, "mic", &mic, TableFormat::Parquet).unwrap(),
        written.mic.len()
    );
    let (b, meta) = read(&mic);
    assert_eq!(meta["rmf.sample_rate"], "8000");
    assert_eq!(meta["rmf.channels"], "2");
    let t: Vec<i64> = b.column(0).as_primitive::<Int64Type>().values().to_vec();
    assert_eq!(t, written.mic.iter().map(|a| a.t).collect::<Vec<_>>());
    let lists = b.column(1).as_list::<i32>();
    for (i, block) in written.mic.iter().enumerate() {
        let v = lists.value(i);
        assert_eq!(
            v.as_primitive::<Int16Type>().values().to_vec(),
            block.samples
        );
    }

    let cam = dir.path().join("cam.parquet");
    export_stream(&r, "cam", &cam, TableFormat::Parquet).unwrap();
    let (b, meta) = read(&cam);
    assert_eq!(meta["rmf.pixel_format"], "gray16");
    let frames = b.column(1).as_fixed_size_binary();
    let got: Vec<u8> = (0..frames.len())
        .flat_map(|i| frames.value(i).to_vec())
        .collect();
    assert_eq!(got, written.cam);
    assert!(export_stream(&r, "mic", &dir.path().join("mic.csv"), TableFormat::Csv).is_err());
}

#[test]
fn events_without_payload_export_as_null() {
    use arrow_array::Array;
    let dir = common::tempdir();
    let path = dir.path().join("e.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let log = w.add_stream(StreamInfo::events("log")).unwrap();
    w.write_event(log, 1, &Event::new("note").with_text("no payload"))
        .unwrap();
    w.write_event(
        log,
        2,
        &Event::new("note").with_payload(serde_json::json!({"k": 1})),
    )
    .unwrap();
    w.finish().unwrap();
    let r = EpisodeReader::open(&path).unwrap();
    let pq = dir.path().join("log.parquet");
    export_stream(&r, "log", &pq, TableFormat::Parquet).unwrap();
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&pq).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap()
    .next()
    .unwrap()
    .unwrap();
    let payload = b.column(4).as_string::<i32>();
    assert!(payload.is_null(0));
    assert_eq!(payload.value(1), r#"{"k":1}"#);
    let csv = dir.path().join("log.csv");
    export_stream(&r, "log", &csv, TableFormat::Csv).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().nth(1), Some("1,note,,no payload,"));
}
