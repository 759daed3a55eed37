//! Random access to one H.264 frame by its position in the group of pictures: the cost of a
//! call is a fixed part (finding the chunk, a decoder, colour conversion) plus one decode per
//! frame from the keyframe. Frames: a slow pan across `testdata/images/coffee.png`.
//!
//! ```text
//! cargo run --release -p rmf-benches --example frame_access [-- QP GOP]
//! ```

use std::time::Instant;

use rmf_core::*;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (qp, gop) = (
        args.first().copied().unwrap_or(DEFAULT_H264_QP as u32) as u8,
        args.get(1).copied().unwrap_or(DEFAULT_GOP),
    );
    let photo = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/images/coffee.png");
    let img = image::open(photo)?.into_rgb8();
    let (w, h, n) = (472u32, 400u32, 150usize);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("pan.rmf");
    let mut wr = EpisodeWriter::create(&path, EpisodeMeta::new(), WriteOptions::default())?;
    let cam = wr.add_stream(
        StreamInfo::frames("cam", w, h, PixelFormat::Rgb8).with_codec(FrameCodec::H264 { qp, gop }),
    )?;
    for i in 0..n {
        let x = (i as u32 * 2) % (img.width() - w);
        let frame = image::imageops::crop_imm(&img, x, 0, w, h).to_image();
        wr.write_frame(cam, i as i64 * 33_333_333, frame.as_raw())?;
    }
    let bytes = wr.finish()?.bytes;
    let r = EpisodeReader::open(&path)?;
    r.frame_at("cam", 0)?;
    println!(
        "{w}x{h} h264 qp {qp} gop {gop}: {:.1} KB/frame; at() by position in the GOP:",
        bytes as f64 / n as f64 / 1000.0
    );
    let reps = 20;
    for pos in 0..gop as usize {
        let frames: Vec<usize> = (1..)
            .map(|k| k * gop as usize + pos)
            .take_while(|&i| i < n)
            .collect();
        let started = Instant::now();
        for _ in 0..reps {
            for &i in &frames {
                r.frame_at("cam", i as i64 * 33_333_333)?;
            }
        }
        let per = started.elapsed().as_secs_f64() / (reps * frames.len()) as f64;
        println!("  position {pos}: {:.3} ms", per * 1e3);
    }
    Ok(())
}
