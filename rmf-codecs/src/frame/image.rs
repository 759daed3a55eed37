//! The image codecs: `png` and `jpeg` frames are ordinary image files that any image library
//! opens. PNG is read and written with the `image` crate; JPEG is written with `jpeg-encoder`
//! (4:2:0 chroma; `image` writes 4:4:4 only) and read with `zune-jpeg` (the decoder `image`
//! uses), called directly so that it decodes into the caller's buffer.

#[cfg(feature = "png")]
use std::io::Cursor;

#[cfg(feature = "png")]
use image::{ColorType, ExtendedColorType, ImageEncoder, ImageFormat};

use super::FrameSpec;
use crate::error::CodecError;
#[cfg(any(feature = "png", feature = "jpeg"))]
use crate::pixel::PixelFormat;

#[cfg(feature = "png")]
fn color(pf: PixelFormat) -> ExtendedColorType {
    match pf {
        PixelFormat::Rgb8 => ExtendedColorType::Rgb8,
        PixelFormat::Gray8 => ExtendedColorType::L8,
        PixelFormat::Gray16 => ExtendedColorType::L16,
    }
}

/// A PNG of one frame, at fast compression with adaptive filters.
#[cfg(feature = "png")]
pub(crate) fn encode_png(s: &FrameSpec, pixels: &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let enc = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    // `image` takes 16-bit samples in native order (little-endian here, as RMF's raw gray16)
    // and writes PNG's big-endian itself.
    enc.write_image(pixels, s.width, s.height, color(s.pixel_format))
        .map_err(|e| CodecError(format!("png encoding failed: {e}")))?;
    Ok(out)
}

#[cfg(not(feature = "png"))]
pub(crate) fn encode_png(_: &FrameSpec, _: &[u8]) -> Result<Vec<u8>, CodecError> {
    Err(super::absent(&super::FrameCodec::Png))
}

#[cfg(not(feature = "png"))]
pub(crate) fn decode_png(_: &FrameSpec, _: &[u8], _: usize) -> Result<Vec<u8>, CodecError> {
    Err(super::absent(&super::FrameCodec::Png))
}

#[cfg(not(feature = "jpeg"))]
pub(crate) fn encode_jpeg(_: &FrameSpec, _: &[u8], _: u8) -> Result<Vec<u8>, CodecError> {
    Err(super::absent(&super::FrameCodec::JPEG))
}

#[cfg(not(feature = "jpeg"))]
pub(crate) fn decode_jpeg_append(
    _: &FrameSpec,
    _: &[u8],
    _: usize,
    _: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    Err(super::absent(&super::FrameCodec::JPEG))
}

/// A baseline JPEG with chroma at half resolution both ways (4:2:0), as camera pipelines and
/// video store colour: against `image`'s 4:4:4 at the same quality, frames decode and encode
/// faster and are smaller, at a lower PSNR (benches/README.md, "Numbers behind the defaults").
#[cfg(feature = "jpeg")]
pub(crate) fn encode_jpeg(
    s: &FrameSpec,
    pixels: &[u8],
    quality: u8,
) -> Result<Vec<u8>, CodecError> {
    let size = |v: u32| {
        u16::try_from(v)
            .map_err(|_| CodecError(format!("jpeg holds at most 65535 pixels a side, got {v}")))
    };
    let (width, height) = (size(s.width)?, size(s.height)?);
    let color = match s.pixel_format {
        PixelFormat::Rgb8 => jpeg_encoder::ColorType::Rgb,
        PixelFormat::Gray8 => jpeg_encoder::ColorType::Luma,
        PixelFormat::Gray16 => return Err(CodecError("jpeg does not hold gray16 frames".into())),
    };
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    if s.pixel_format == PixelFormat::Rgb8 {
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    }
    enc.encode(pixels, width, height, color)
        .map_err(|e| CodecError(format!("jpeg encoding failed: {e}")))?;
    Ok(out)
}

#[cfg(any(feature = "png", feature = "jpeg"))]
fn size_error(s: &FrameSpec, width: usize, height: usize) -> CodecError {
    CodecError(format!(
        "{} image is {width}x{height}, the stream is {}x{}",
        s.codec.name(),
        s.width,
        s.height
    ))
}

/// JPEG through `zune-jpeg` (the decoder `image` uses), called directly so that it writes
/// into `out`. The image must have the stream's size and one (gray8) or three (rgb8) colour
/// components; nothing is converted between grey and colour.
#[cfg(feature = "jpeg")]
pub(crate) fn decode_jpeg_append(
    s: &FrameSpec,
    payload: &[u8],
    want: usize,
    out: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    let err = |e: zune_jpeg::errors::DecodeErrors| {
        CodecError(format!("jpeg payload does not decode: {e}"))
    };
    let wanted_space = match s.pixel_format {
        PixelFormat::Rgb8 => ColorSpace::RGB,
        PixelFormat::Gray8 => ColorSpace::Luma,
        PixelFormat::Gray16 => {
            return Err(CodecError("jpeg cannot hold gray16 pixels".into()));
        }
    };
    // The stream declares the size: the decoder refuses anything bigger before allocating.
    let options = zune_jpeg::zune_core::options::DecoderOptions::default()
        .set_strict_mode(false)
        .set_max_width(s.width as usize)
        .set_max_height(s.height as usize);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
        zune_jpeg::zune_core::bytestream::ZCursor::new(payload),
        options,
    );
    decoder.decode_headers().map_err(err)?;
    let (width, height) = decoder
        .dimensions()
        .ok_or_else(|| CodecError("jpeg headers give no size".into()))?;
    if (width, height) != (s.width as usize, s.height as usize) {
        return Err(size_error(s, width, height));
    }
    let found = decoder
        .input_colorspace()
        .ok_or_else(|| CodecError("jpeg headers give no colour space".into()))?;
    if found.num_components() != wanted_space.num_components() {
        return Err(CodecError(format!(
            "jpeg image holds {found:?} pixels, the stream is {}",
            s.pixel_format.name()
        )));
    }
    decoder.set_options(decoder.options().jpeg_set_out_colorspace(wanted_space));
    if decoder.output_buffer_size() != Some(want) {
        return Err(CodecError(format!(
            "jpeg image decodes to {:?} bytes, expected {want}",
            decoder.output_buffer_size()
        )));
    }
    let start = out.len();
    // Exact: a frame's Vec goes to numpy as it is, spare capacity included.
    crate::error::try_room(out, want, "a decoded JPEG frame")?;
    out.resize(start + want, 0);
    match decoder.decode_into(&mut out[start..]) {
        Ok(()) => Ok(want),
        Err(e) => {
            out.truncate(start);
            Err(err(e))
        }
    }
}

#[cfg(feature = "png")]
pub(crate) fn decode_png(
    s: &FrameSpec,
    payload: &[u8],
    want: usize,
) -> Result<Vec<u8>, CodecError> {
    let mut reader = image::ImageReader::with_format(Cursor::new(payload), ImageFormat::Png);
    // The stream declares the size: refuse anything bigger before decoding.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(s.width);
    limits.max_image_height = Some(s.height);
    limits.max_alloc = Some(want as u64 * 2 + (1 << 20));
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| CodecError(format!("png payload does not decode: {e}")))?;
    if (img.width(), img.height()) != (s.width, s.height) {
        return Err(size_error(s, img.width() as usize, img.height() as usize));
    }
    Ok(match (s.pixel_format, img.color()) {
        (PixelFormat::Rgb8, ColorType::Rgb8) | (PixelFormat::Gray8, ColorType::L8) => {
            img.into_bytes()
        }
        (PixelFormat::Gray16, ColorType::L16) => {
            let v = img.into_luma16().into_raw();
            v.iter().flat_map(|x| x.to_le_bytes()).collect()
        }
        (pf, found) => {
            return Err(CodecError(format!(
                "png image holds {found:?} pixels, the stream is {}",
                pf.name()
            )))
        }
    })
}

#[cfg(all(test, feature = "png", feature = "jpeg"))]
mod tests {
    use super::super::{decode, decode_append, encode, FrameCodec};
    use super::*;
    use crate::column::{self as codec, CodecOptions};

    fn stream(width: u32, height: u32, pixel_format: PixelFormat, codec: FrameCodec) -> FrameSpec {
        FrameSpec {
            width,
            height,
            pixel_format,
            codec,
        }
    }

    /// A smooth gradient: JPEG keeps it within a few levels.
    fn gradient(w: u32, h: u32, channels: u32) -> Vec<u8> {
        (0..w * h * channels)
            .map(|i| {
                let (x, y) = ((i / channels) % w, (i / channels) / w);
                (x * 3 + y * 2 + (i % channels) * 40) as u8
            })
            .collect()
    }

    #[test]
    fn jpeg_and_raw_append_after_what_is_there() {
        for (pf, channels) in [(PixelFormat::Rgb8, 3), (PixelFormat::Gray8, 1)] {
            for codec in [FrameCodec::JPEG, FrameCodec::Raw, FrameCodec::Png] {
                let info = stream(32, 16, pf, codec);
                let pixels = gradient(32, 16, channels);
                let payload = encode(&info, &pixels, &CodecOptions::default()).unwrap();
                let mut out = vec![7u8; 5];
                decode_append(&info, &payload, &mut out).unwrap();
                assert_eq!(out.len(), 5 + pixels.len(), "{codec:?} {pf:?}");
                assert_eq!(&out[..5], &[7u8; 5]);
                let worst = out[5..]
                    .iter()
                    .zip(&pixels)
                    .map(|(a, b)| a.abs_diff(*b))
                    .max()
                    .unwrap();
                let limit = if codec == FrameCodec::JPEG { 24 } else { 0 };
                assert!(worst <= limit, "{codec:?} {pf:?}: off by {worst}");
                assert_eq!(decode(&info, &payload).unwrap(), out[5..]);
            }
        }
    }

    #[test]
    fn a_jpeg_of_another_size_or_colour_is_refused_and_out_is_unchanged() {
        let rgb = stream(32, 16, PixelFormat::Rgb8, FrameCodec::JPEG);
        let small = encode(
            &stream(16, 16, PixelFormat::Rgb8, FrameCodec::JPEG),
            &gradient(16, 16, 3),
            &CodecOptions::default(),
        )
        .unwrap();
        let grey = encode(
            &stream(32, 16, PixelFormat::Gray8, FrameCodec::JPEG),
            &gradient(32, 16, 1),
            &CodecOptions::default(),
        )
        .unwrap();
        let mut out = vec![1u8, 2, 3];
        let e = decode_append(&rgb, &small, &mut out).unwrap_err();
        assert!(e.0.contains("16x16, the stream is 32x16"), "{}", e.0);
        let e = decode_append(&rgb, &grey, &mut out).unwrap_err();
        assert!(e.0.contains("the stream is rgb8"), "{}", e.0);
        let e = decode_append(&rgb, b"not a jpeg", &mut out).unwrap_err();
        assert!(e.0.contains("does not decode"), "{}", e.0);
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn cut_jpeg_and_raw_payloads_never_panic_and_leave_out_unchanged_on_error() {
        for codec in [FrameCodec::JPEG, FrameCodec::Raw] {
            let info = stream(32, 16, PixelFormat::Rgb8, codec);
            let payload = encode(&info, &gradient(32, 16, 3), &CodecOptions::default()).unwrap();
            for cut in 0..payload.len() {
                let mut out = vec![9u8];
                match decode_append(&info, &payload[..cut], &mut out) {
                    Ok(()) => assert_eq!(out.len(), 1 + info.frame_bytes()),
                    Err(_) => assert_eq!(out, [9]),
                }
            }
        }
    }

    #[test]
    fn flipped_bytes_in_a_jpeg_never_panic() {
        // Chunk CRCs catch damage on disk; this is a crafted file whose CRCs were recomputed.
        for pf in [PixelFormat::Rgb8, PixelFormat::Gray8] {
            let channels = if pf == PixelFormat::Rgb8 { 3 } else { 1 };
            let info = stream(32, 16, pf, FrameCodec::JPEG);
            let payload =
                encode(&info, &gradient(32, 16, channels), &CodecOptions::default()).unwrap();
            for i in 0..payload.len() {
                for x in [0x01u8, 0x80, 0xff] {
                    let mut bad = payload.clone();
                    bad[i] ^= x;
                    let mut out = vec![5u8];
                    match decode_append(&info, &bad, &mut out) {
                        Ok(()) => assert_eq!(out.len(), 1 + info.frame_bytes()),
                        Err(_) => assert_eq!(out, [5]),
                    }
                }
            }
        }
    }

    #[test]
    fn a_raw_payload_of_the_wrong_length_is_refused() {
        let info = stream(4, 4, PixelFormat::Gray8, FrameCodec::Raw);
        for n in [15usize, 16, 17, 1000] {
            // With the size in the frame header (as this library writes) and without it.
            let declared = codec::zstd_compress(&vec![3u8; n], 3).unwrap();
            let streamed = zstd::stream::encode_all(&vec![3u8; n][..], 3).unwrap();
            for payload in [declared, streamed] {
                let mut out = Vec::with_capacity(4096);
                let got = decode_append(&info, &payload, &mut out);
                if n == 16 {
                    assert!(got.is_ok() && out == [3u8; 16]);
                } else {
                    assert!(got.is_err(), "{n} bytes");
                    assert!(out.is_empty());
                }
            }
        }
    }
}
