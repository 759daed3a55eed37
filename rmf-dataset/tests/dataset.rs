//! Datasets: the episode index (built, refreshed, read back), and samples whose aligned values
//! and windows equal a brute-force reading of whole streams, across chunks and episodes.
#![allow(clippy::unwrap_used)]

use rmf_testkit::fixtures as common;

use std::path::Path;

use common::tempdir;
use rmf_core::*;
use rmf_dataset::*;

/// An episode with a jittered 30 Hz gray camera that drops every 7th frame, a 1 kHz 3-axis
/// signal and a 30 Hz action signal; chunks of 250 ms so reads cross chunks.
fn write_episode(path: &Path, seed: u64, seconds: i64) {
    let opts = WriteOptions::default().with_chunk_duration_ns(250_000_000);
    let mut w = EpisodeWriter::create(path, EpisodeMeta::new().with_task("t"), opts).unwrap();
    let cam = w
        .add_stream(StreamInfo::frames("cam", 8, 6, PixelFormat::Gray8).with_rate(30.0))
        .unwrap();
    let ft = w
        .add_stream(StreamInfo::signal("ft", DType::Float32, &[3]).with_rate(1000.0))
        .unwrap();
    let act = w
        .add_stream(StreamInfo::signal("action", DType::Float64, &[2]).with_rate(30.0))
        .unwrap();
    let mut rng = seed;
    let mut jitter = |amp: i64| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) as i64 % amp
    };
    let mut events: Vec<(i64, u8, i64)> = Vec::new(); // (t, stream, i)
    for i in 0..seconds * 1000 {
        events.push((i * 1_000_000 + jitter(200_000), 1, i));
    }
    for i in 0..seconds * 30 {
        if i % 7 != 3 {
            events.push((i * 33_333_333 + jitter(2_000_000), 0, i));
        }
        events.push((i * 33_333_333 + 5_000_000, 2, i));
    }
    events.sort();
    for (t, s, i) in events {
        match s {
            0 => w.write_frame(cam, t, &[(i % 256) as u8; 48]).unwrap(),
            1 => w
                .write_signal(ft, t, &[i as f32, -(i as f32), 0.5])
                .unwrap(),
            _ => w.write_signal(act, t, &[i as f64, t as f64]).unwrap(),
        }
    }
    w.finish().unwrap();
}

#[test]
fn the_index_is_built_refreshed_and_read_back() {
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("day2")).unwrap();
    write_episode(&dir.path().join("a.rmf"), 1, 2);
    write_episode(&dir.path().join("day2/b.rmf"), 2, 1);
    let r = build_index(dir.path()).unwrap();
    assert_eq!(r.added, ["a.rmf", "day2/b.rmf"]);
    assert_eq!(r.episodes, 2);
    let rows = read_index(dir.path()).unwrap();
    assert_eq!(
        rows[0],
        IndexedEpisode::from_file(dir.path(), &dir.path().join("a.rmf")).unwrap()
    );
    assert_eq!(rows[1].stream("ft").unwrap().count, 1000);
    assert!(rows[0].finished && rows[0].task == "t");

    // Nothing changed: nothing is read again.
    let r = build_index(dir.path()).unwrap();
    assert!(r.added.is_empty() && r.updated.is_empty() && r.removed.is_empty());
    // One file rewritten, one removed, one damaged file reported, not indexed.
    write_episode(&dir.path().join("a.rmf.new"), 3, 1);
    std::fs::rename(dir.path().join("a.rmf.new"), dir.path().join("a.rmf")).unwrap();
    std::fs::remove_file(dir.path().join("day2/b.rmf")).unwrap();
    std::fs::write(dir.path().join("junk.rmf"), b"not an episode").unwrap();
    let r = build_index(dir.path()).unwrap();
    assert_eq!(
        (r.updated.as_slice(), r.removed.as_slice()),
        (&["a.rmf".to_string()][..], &["day2/b.rmf".to_string()][..])
    );
    assert_eq!(r.failed.len(), 1);
    assert!(r.failed[0].1.contains("not an RMF file"), "{:?}", r.failed);
    assert_eq!(read_index(dir.path()).unwrap().len(), 1);
}

fn f64s(v: &StreamValue) -> Vec<f64> {
    bytemuck_f64(&v.data)
}

fn bytemuck_f64(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn samples_equal_a_brute_force_reading_of_whole_streams() {
    let dir = tempdir();
    write_episode(&dir.path().join("a.rmf"), 1, 2);
    write_episode(&dir.path().join("b.rmf"), 2, 1);
    build_index(dir.path()).unwrap();
    let opts = DatasetOptions::new(Reference::Stream("cam".into()))
        .with_stream("cam", Query::Window(WindowSpec::Steps(vec![-1, 0])))
        .with_stream("action", Query::Window(WindowSpec::Steps((0..4).collect())))
        .with_stream(
            "ft",
            Query::Window(WindowSpec::Seconds {
                from: -0.01,
                to: 0.0,
            }),
        )
        .with_stream(
            "action",
            Query::At {
                policy: Policy::AsOf,
                tolerance_ns: None,
                missing: Missing::Pad,
            },
        );
    let ds = Dataset::open(dir.path(), opts).unwrap();
    let n_cam: i64 = ds
        .episodes()
        .iter()
        .map(|e| e.stream("cam").unwrap().count)
        .sum();
    assert_eq!(ds.len() as i64, n_cam);

    for i in (0..ds.len()).step_by(3) {
        let s = ds.get(i).unwrap();
        let r = EpisodeReader::open(dir.path().join(&ds.episodes()[s.episode].file)).unwrap();
        let (cam_t, cam_px) = r.frames_range("cam", i64::MIN, i64::MAX).unwrap();
        let (act_t, act_v) = r.signal_range::<f64>("action", i64::MIN, i64::MAX).unwrap();
        let (ft_t, ft_v) = r.signal_range::<f32>("ft", i64::MIN, i64::MAX).unwrap();
        let row = cam_t.iter().position(|&t| t == s.t).unwrap();

        // Camera: the previous frame and this one; the first frame pads with itself.
        let cam = &s.values[0].1;
        assert_eq!(cam.shape, [2, 6, 8]);
        assert_eq!(cam.pad, [row == 0, false]);
        let prev = row.saturating_sub(1);
        assert_eq!(&cam.data[..48], &cam_px[prev * 48..prev * 48 + 48]);
        assert_eq!(&cam.data[48..], &cam_px[row * 48..row * 48 + 48]);

        // Actions: the one as of t and the next three, padded past the end.
        let anchor = act_t.iter().rposition(|&t| t <= s.t);
        let act = &s.values[1].1;
        let got = f64s(act);
        for k in 0..4 {
            let want = anchor.map_or(k as i64 - 1, |a| a as i64 + k as i64);
            let real = want >= 0 && (want as usize) < act_t.len();
            assert_eq!(act.pad[k], !real, "sample {i} step {k}");
            if real {
                assert_eq!(
                    got[2 * k..2 * k + 2],
                    act_v[2 * want as usize..2 * want as usize + 2]
                );
                assert_eq!(act.t[k], act_t[want as usize]);
            }
        }

        // Force: the last 10 ms = 10 slots of samples in (t - 10 ms, t].
        let ft = &s.values[2].1;
        assert_eq!(ft.shape, [10, 3]);
        let inside: Vec<usize> = (0..ft_t.len())
            .filter(|&j| ft_t[j] <= s.t && ft_t[j] > s.t - 10_000_000)
            .collect();
        let real: Vec<i64> =
            ft.t.iter()
                .zip(&ft.pad)
                .filter(|(_, p)| !**p)
                .map(|(t, _)| *t)
                .collect();
        let want: Vec<i64> = inside[inside.len().saturating_sub(10)..]
            .iter()
            .map(|&j| ft_t[j])
            .collect();
        assert_eq!(real, want);
        let vals: Vec<f32> = ft
            .data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let last = *inside.last().unwrap();
        assert_eq!(vals[27..30], ft_v[3 * last..3 * last + 3]);

        // As-of action, within 1.5 periods (50 ms) of t; padded before the first action.
        let a = &s.values[3].1;
        match anchor {
            Some(k) if s.t - act_t[k] <= 50_000_000 => {
                assert_eq!((a.pad[0], a.t[0]), (false, act_t[k]));
                assert_eq!(f64s(a), act_v[2 * k..2 * k + 2]);
            }
            _ => assert!(a.pad[0] && a.data.iter().all(|&b| b == 0)),
        }
    }
    assert!(ds.get(ds.len()).is_err());
}

#[test]
fn out_of_tolerance_samples_error_or_pad_and_linear_interpolates() {
    let dir = tempdir();
    write_episode(&dir.path().join("a.rmf"), 4, 1);
    build_index(dir.path()).unwrap();
    let strict = Query::At {
        policy: Policy::AsOf,
        tolerance_ns: Some(1_000),
        missing: Missing::Error,
    };
    let ds = Dataset::open(
        dir.path(),
        DatasetOptions::new(Reference::RateHz(100.0)).with_stream("action", strict),
    )
    .unwrap();
    let e = ds.get(1).unwrap_err();
    assert!(
        matches!(e, Error::NoSampleNear { ref stream, .. } if stream == "action"),
        "{e}"
    );
    assert!(e.to_string().contains("a.rmf"), "{e}");

    let padded = Query::At {
        policy: Policy::AsOf,
        tolerance_ns: Some(1_000),
        missing: Missing::Pad,
    };
    let linear = Query::At {
        policy: Policy::Linear,
        tolerance_ns: None,
        missing: Missing::Pad,
    };
    let opts = DatasetOptions::new(Reference::RateHz(100.0))
        .with_stream("action", padded)
        .with_stream("action", linear);
    let ds = Dataset::open(dir.path(), opts).unwrap();
    let s = ds.get(10).unwrap();
    assert!(s.values[0].1.pad[0] && s.values[0].1.data.iter().all(|&b| b == 0));
    // Linear: action element 1 is its own timestamp, so interpolation gives t back.
    let lin = f64s(&s.values[1].1);
    assert!(!s.values[1].1.pad[0]);
    assert!((lin[1] - s.t as f64).abs() < 1.0, "{} vs {}", lin[1], s.t);

    // Linear on frames, unknown streams and episodes are refused with names.
    let bad = DatasetOptions::new(Reference::Stream("cam".into())).with_stream(
        "cam",
        Query::At {
            policy: Policy::Linear,
            tolerance_ns: None,
            missing: Missing::Pad,
        },
    );
    assert!(Dataset::open(dir.path(), bad)
        .unwrap()
        .get(0)
        .unwrap_err()
        .to_string()
        .contains("float signals"));
    let e = Dataset::open(
        dir.path(),
        DatasetOptions::new(Reference::Stream("nope".into())),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("has no stream \"nope\""), "{e}");
    let o = DatasetOptions::new(Reference::Stream("cam".into()))
        .with_episodes(Some(vec!["zzz".into()]));
    assert!(Dataset::open(dir.path(), o).is_err());
}

#[test]
fn dataset_statistics_merge_from_the_index_to_those_of_all_values() {
    let dir = tempdir();
    write_episode(&dir.path().join("a.rmf"), 5, 2);
    write_episode(&dir.path().join("b.rmf"), 6, 1);
    build_index(dir.path()).unwrap();
    let ds = Dataset::open(
        dir.path(),
        DatasetOptions::new(Reference::Stream("cam".into())),
    )
    .unwrap();
    let stats = ds.stats().unwrap();
    let ft = stats.iter().find(|s| s.stream == "ft").unwrap();
    assert!(stats.iter().any(|s| s.stream == "action"));
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); 3];
    for f in ["a.rmf", "b.rmf"] {
        let (_, v) = EpisodeReader::open(dir.path().join(f))
            .unwrap()
            .signal_range::<f32>("ft", i64::MIN, i64::MAX)
            .unwrap();
        for (k, x) in v.iter().enumerate() {
            cols[k % 3].push(*x as f64);
        }
    }
    for (j, col) in cols.iter_mut().enumerate() {
        let n = col.len() as f64;
        let mean = col.iter().sum::<f64>() / n;
        let std = (col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert_eq!(ft.count[j], col.len() as u64);
        assert!(
            (ft.mean[j] - mean).abs() <= 1e-9 * (1.0 + mean.abs()),
            "{j}: {} {mean}",
            ft.mean[j]
        );
        assert!(
            (ft.std[j] - std).abs() <= 1e-9 * (1.0 + std),
            "{j}: {} {std}",
            ft.std[j]
        );
        col.sort_by(f64::total_cmp);
        assert_eq!((ft.min[j], ft.max[j]), (col[0], col[col.len() - 1]));
        for (q, v) in &ft.quantiles {
            // v is a q-quantile within 1 % of rank: ties count on both sides.
            let below = col.partition_point(|&x| x < v[j]) as f64 / n;
            let upto = col.partition_point(|&x| x <= v[j]) as f64 / n;
            assert!(
                below - 0.011 <= *q && *q <= upto + 0.011,
                "{j} q{q}: ranks {below}..{upto}"
            );
        }
    }
}

#[test]
fn events_become_labels_inside_interventions() {
    let dir = tempdir();
    let path = dir.path().join("e.rmf");
    let mut w = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default()).unwrap();
    let sig = w
        .add_stream(StreamInfo::signal("s", DType::Float32, &[]).with_rate(10.0))
        .unwrap();
    let log = w.add_stream(StreamInfo::events("interventions")).unwrap();
    let plan = [
        (250, TAKEOVER_START),
        (420, "note"),
        (610, TAKEOVER_END),
        (800, TAKEOVER_START),
    ];
    let mut k = 0;
    for i in 0..10i64 {
        let t = i * 100_000_000;
        while k < plan.len() && plan[k].0 * 1_000_000 <= t {
            w.write_event(log, plan[k].0 * 1_000_000, &Event::new(plan[k].1))
                .unwrap();
            k += 1;
        }
        w.write_signal(sig, t, &[i as f32]).unwrap();
    }
    w.finish().unwrap();
    build_index(dir.path()).unwrap();
    let opts = DatasetOptions::new(Reference::Stream("s".into())).with_stream(
        "interventions",
        Query::Events {
            from: -0.2,
            to: 0.0,
        },
    );
    let ds = Dataset::open(dir.path(), opts).unwrap();
    let inside: Vec<bool> = (0..10)
        .map(|i| ds.get(i).unwrap().labels[0].1.inside)
        .collect();
    // Takeover from 250 ms to 610 ms, and again from 800 ms on.
    assert_eq!(
        inside,
        [false, false, false, true, true, true, true, false, true, true]
    );
    let s5 = ds.get(5).unwrap(); // t = 500 ms: events in (300, 500] ms
    let kinds: Vec<&str> = s5.labels[0]
        .1
        .events
        .iter()
        .map(|(_, e)| e.kind.as_str())
        .collect();
    assert_eq!(kinds, ["note"]);
    assert!(s5.values.is_empty());
}

#[test]
fn the_chunk_cache_changes_no_sample_and_keeps_its_budget() {
    let dir = tempdir();
    write_episode(&dir.path().join("a.rmf"), 3, 2);
    write_episode(&dir.path().join("b.rmf"), 4, 2);
    build_index(dir.path()).unwrap();
    let opts = |cache: usize| {
        DatasetOptions::new(Reference::Stream("cam".into()))
            .with_stream("action", Query::Window(WindowSpec::Steps((0..4).collect())))
            .with_stream(
                "ft",
                Query::Window(WindowSpec::Seconds {
                    from: -0.02,
                    to: 0.0,
                }),
            )
            .with_chunk_cache_bytes(cache)
    };
    let plain = Dataset::open(dir.path(), opts(0)).unwrap();
    // About two chunks of "ft" (250 rows of 12 bytes and 8-byte times): constant eviction.
    let small = Dataset::open(dir.path(), opts(10_000)).unwrap();
    let big = Dataset::open(dir.path(), opts(DEFAULT_CHUNK_CACHE_BYTES)).unwrap();
    let n = plain.len();
    let mut k = 7u64;
    for _ in 0..300 {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let i = (k >> 33) % n;
        let want = plain.get(i).unwrap();
        for ds in [&small, &big] {
            let got = ds.get(i).unwrap();
            assert_eq!(got.t, want.t);
            for ((na, a), (nb, b)) in got.values.iter().zip(&want.values) {
                assert_eq!(na, nb);
                assert_eq!(
                    (&a.data, &a.t, &a.pad),
                    (&b.data, &b.t, &b.pad),
                    "sample {i} {na}"
                );
            }
        }
        assert!(small.cache_bytes() <= 10_000);
    }
    assert_eq!(plain.cache_bytes(), 0);
    assert!(big.cache_bytes() > 0);
}

#[test]
fn prefetched_samples_come_in_order_equal_to_get_and_an_error_ends_them() {
    let dir = tempdir();
    write_episode(&dir.path().join("a.rmf"), 5, 2);
    write_episode(&dir.path().join("b.rmf"), 6, 1);
    build_index(dir.path()).unwrap();
    let opts = DatasetOptions::new(Reference::Stream("cam".into()))
        .with_stream(
            "ft",
            Query::Window(WindowSpec::Seconds {
                from: -0.01,
                to: 0.0,
            }),
        )
        .with_stream("action", Query::Window(WindowSpec::Steps(vec![0, 1, 2])));
    let ds = std::sync::Arc::new(Dataset::open(dir.path(), opts).unwrap());
    let order = Order {
        seed: 11,
        block: 5,
        buffer: 16,
        ..Order::default()
    };
    let want: Vec<u64> = ds.rank_order(&order, 0, 1).collect();
    assert_eq!(want.len() as u64, ds.len());
    // A budget of about two samples and three threads: order and values must not depend on
    // which thread finishes first.
    let one = prefetch::sample_bytes(&ds.get(0).unwrap());
    let p = Prefetcher::new(ds.clone(), want.clone().into_iter(), 3, 2 * one).unwrap();
    let mut n = 0;
    for (got, &i) in p.zip(&want) {
        assert_eq!(got.unwrap(), ds.get(i).unwrap(), "sample {i}");
        n += 1;
    }
    assert_eq!(n, want.len());

    // A sample out of range in the middle of the order: the samples before it, then its
    // error, then nothing.
    let bad = vec![3, 1, u64::MAX, 2, 0];
    let got: Vec<_> = Prefetcher::new(ds.clone(), bad.into_iter(), 2, 1 << 20)
        .unwrap()
        .collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].as_ref().unwrap(), &ds.get(3).unwrap());
    assert_eq!(got[1].as_ref().unwrap(), &ds.get(1).unwrap());
    assert!(
        matches!(got[2], Err(Error::InvalidArgument(_))),
        "{:?}",
        got[2]
    );
}

#[test]
fn errors_say_what_fixes_them_a_missing_index_and_asof_before_the_first_sample() {
    let dir = tempdir();
    write_episode(&dir.path().join("a.rmf"), 7, 1);
    let opts = DatasetOptions::new(Reference::Stream("cam".into()));
    let e = Dataset::open(dir.path(), opts.clone()).err().unwrap();
    assert!(
        matches!(&e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{e}"
    );
    assert!(e.to_string().contains("`rmf index "), "{e}");
    // A directory that does not exist is that error, not "no index".
    let none = Dataset::open(dir.path().join("none"), opts.clone())
        .err()
        .unwrap();
    assert!(!none.to_string().contains("rmf index"), "{none}");

    build_index(dir.path()).unwrap();
    // The first frame (0-2 ms) comes before the first action (5 ms): as of it, no action.
    let ds = Dataset::open(dir.path(), opts.with_stream("action", Query::asof())).unwrap();
    let e = ds.get(0).unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, Error::NoSampleNear { policy: "asof", .. }),
        "{msg}"
    );
    assert!(
        msg.contains("ns later") && msg.contains("pad=True"),
        "{msg}"
    );
    assert!(ds.get(1).is_ok());

    // check() finds exactly the samples get() refuses, with the same errors, from times alone.
    let found = ds.check().unwrap();
    let refused: Vec<(u64, String)> = (0..ds.len())
        .filter_map(|i| ds.get(i).err().map(|e| (i, e.to_string())))
        .collect();
    assert_eq!(refused.len(), 1);
    let found: Vec<(u64, String)> = found.into_iter().map(|(i, e)| (i, e.to_string())).collect();
    assert_eq!(found, refused);

    // Any time, not only the reference timeline's: the same values as the sample at that time.
    let s = ds.get(5).unwrap();
    assert_eq!(ds.sample_at(0, s.t).unwrap(), s);
    let between = ds.sample_at(0, s.t + 1_000).unwrap();
    assert_eq!(between.values, s.values); // as-of: the same action
    assert!(ds.sample_at(1, s.t).is_err());
}
