//! Property tests: random streams of random shapes, timestamps and chunk sizes round-trip
//! exactly, and as-of / nearest / range queries agree with a brute-force model.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use proptest::prelude::*;
use rmf_core::*;

fn stream_case() -> impl Strategy<Value = (Vec<i64>, Vec<f64>, usize, usize, Vec<i64>)> {
    (1usize..4, 0usize..300, 64usize..4096).prop_flat_map(|(width, n, chunk_bytes)| {
        (
            // Non-decreasing timestamps with repeats and negative values.
            (any::<i32>(), prop::collection::vec(0i64..3_000_000, n)).prop_map(|(start, steps)| {
                let mut t = start as i64 * 1000;
                steps
                    .into_iter()
                    .map(|s| {
                        t += if s < 300_000 { 0 } else { s };
                        t
                    })
                    .collect::<Vec<i64>>()
            }),
            prop::collection::vec(prop_oneof![any::<f64>(), -1e3f64..1e3], n * width),
            Just(width),
            Just(chunk_bytes),
            prop::collection::vec(any::<i64>(), 8),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_streams_round_trip_and_queries_match_a_model((ts, vs, width, chunk_bytes, probes) in stream_case()) {
        let dir = common::tempdir();
        let path = dir.path().join("p.rmf");
        let opts = WriteOptions::default().with_chunk_bytes(chunk_bytes).with_chunk_duration_ns(5_000_000);
        let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), opts).unwrap();
        let id = w.add_stream(StreamInfo::signal("s", DType::Float64, &[width])).unwrap();
        // Write in uneven batches.
        let mut i = 0;
        while i < ts.len() {
            let k = (ts.len() - i).min(1 + i % 7);
            w.write_signals(id, &ts[i..i + k], &vs[i * width..(i + k) * width]).unwrap();
            i += k;
        }
        w.finish().unwrap();

        let r = EpisodeReader::open(&path).unwrap();
        let (rt, rv) = r.signal_range::<f64>("s", i64::MIN, i64::MAX).unwrap();
        let keep = ts.iter().take_while(|&&t| t < i64::MAX).count();
        prop_assert_eq!(&rt, &ts[..keep].to_vec());
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&rv), bits(&vs[..keep * width]));

        let mut probe_times: Vec<i64> = probes;
        probe_times.extend(ts.iter().flat_map(|&t| [t - 1, t, t + 1]).take(60));
        for &p in &probe_times {
            // as-of: the last index with t <= p.
            let model = ts.iter().rposition(|&t| t <= p);
            let got = r.find_at("s", p).unwrap();
            prop_assert_eq!(got.map(|g| g.t), model.map(|m| ts[m]));
            if let Some(m) = model {
                let (t, v) = r.signal_at::<f64>("s", p).unwrap().unwrap();
                prop_assert_eq!(t, ts[m]);
                prop_assert_eq!(bits(&v), bits(&vs[m * width..(m + 1) * width]));
            }
            // nearest: minimal distance, the earlier on a tie.
            let model = ts
                .iter()
                .map(|&t| ((t as i128 - p as i128).abs(), t))
                .min_by_key(|&(d, t)| (d, t))
                .map(|(_, t)| t);
            prop_assert_eq!(r.find_nearest("s", p).unwrap().map(|g| g.t), model);
            // ranges: half-open.
            let q = p.saturating_add(2_000_000);
            let n = ts.iter().filter(|&&t| t >= p && t < q).count();
            prop_assert_eq!(r.read_range("s", p, q).unwrap().num_rows(), n);
        }
        prop_assert!(validate(&path).unwrap().is_ok());
    }
}
