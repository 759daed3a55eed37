//! `sensor_msgs/msg/Image` and `CompressedImage` decoded to RMF frames.

#[allow(unused_imports)]
use super::*;

/// Decoded pixels of one image message.
pub(super) struct Frame {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) format: PixelFormat,
    pub(super) pixels: Vec<u8>,
    pub(super) frame_id: String,
}

pub(super) fn write_image(
    out: &mut Out,
    topic: &mut Topic,
    opts: &McapImportOptions,
    t: i64,
    data: &[u8],
) -> Result<bool, Skipped> {
    let f = match topic.kind {
        MsgKind::CompressedImage => compressed_frame(data)?,
        _ => raw_frame(data)?,
    };
    let id = match topic.sink {
        Sink::Frames {
            id,
            width,
            height,
            format,
        } => {
            if (width, height, format) != (f.width, f.height, f.format) {
                return Err(Skipped::Why(format!(
                    "image changed from {width}x{height} {} to {}x{} {}",
                    format.name(),
                    f.width,
                    f.height,
                    f.format.name()
                )));
            }
            id
        }
        _ => {
            let mut candidates = vec![opts.codec_for(f.format)];
            if f.format == PixelFormat::Gray16 {
                candidates.push(FrameCodec::Png);
            }
            candidates.push(FrameCodec::Raw);
            let mut chosen = None;
            for codec in candidates {
                let mut info =
                    StreamInfo::frames(topic.stream_name.clone(), f.width, f.height, f.format)
                        .with_codec(codec);
                if f.format == PixelFormat::Gray16 {
                    info = info.with_units(["mm"]);
                }
                match info.validate() {
                    Ok(()) => {
                        chosen = Some(info);
                        break;
                    }
                    Err(e) if codec != FrameCodec::Raw => {
                        topic.report.notes.push(format!(
                            "not stored as {}: {e}; stored as the next choice",
                            codec.name()
                        ));
                    }
                    Err(e) => return Err(Skipped::Why(e.to_string())),
                }
            }
            let Some(info) = chosen else {
                return Err(Skipped::Why("no frame codec holds these images".into()));
            };
            let info = tagged(info, topic, &f.frame_id);
            let id = declare(out, topic, info)?;
            topic.sink = Sink::Frames {
                id,
                width: f.width,
                height: f.height,
                format: f.format,
            };
            id
        }
    };
    out.w.write_frame(id, t, &f.pixels)?;
    Ok(true)
}

/// A `sensor_msgs/msg/Image` as packed rows of an RMF pixel format.
pub(super) fn raw_frame(data: &[u8]) -> Result<Frame, Skipped> {
    let mut c = Cdr::new(data)?;
    c.stamp()?;
    let frame_id = c.string("header.frame_id")?;
    let height = c.u32("height")?;
    let width = c.u32("width")?;
    let encoding = c.string("encoding")?;
    let big_endian = c.u8("is_bigendian")? != 0;
    let step = c.u32("step")? as usize;
    let at = c.pos;
    let bytes = c.bytes_seq("data")?;
    let (format, bgr) = match encoding.as_str() {
        "rgb8" => (PixelFormat::Rgb8, false),
        "bgr8" => (PixelFormat::Rgb8, true),
        "mono8" | "8UC1" => (PixelFormat::Gray8, false),
        "mono16" | "16UC1" => (PixelFormat::Gray16, false),
        other => {
            let known = "rgb8, bgr8, mono8, 8UC1, mono16, 16UC1";
            let why = format!("image encoding {other:?} is not imported ({known} are)");
            return Err(Skipped::Why(why));
        }
    };
    if width == 0 || height == 0 {
        return Err(Skipped::Why(format!("empty image ({width}x{height})")));
    }
    let bpp = format.bytes_per_pixel();
    let invalid = |detail: String| {
        Skipped::Bad(CdrError::Invalid {
            what: "image data",
            offset: at,
            detail,
        })
    };
    let row = (width as usize)
        .checked_mul(bpp)
        .ok_or_else(|| invalid(format!("width {width} is too large")))?;
    if step < row {
        return Err(invalid(format!(
            "step {step} is less than {width} pixels of {bpp} bytes"
        )));
    }
    let needed = step
        .checked_mul(height as usize - 1)
        .and_then(|n| n.checked_add(row))
        .ok_or_else(|| invalid(format!("{height} rows of {step} bytes overflow")))?;
    if bytes.len() < needed {
        return Err(invalid(format!(
            "{} bytes hold less than {height} rows of {step} bytes ({needed} needed)",
            bytes.len()
        )));
    }
    let mut pixels = Vec::with_capacity(row * height as usize);
    for r in 0..height as usize {
        pixels.extend_from_slice(&bytes[r * step..r * step + row]);
    }
    if bgr {
        for px in pixels.chunks_exact_mut(3) {
            px.swap(0, 2);
        }
    }
    if format == PixelFormat::Gray16 && big_endian {
        for px in pixels.chunks_exact_mut(2) {
            px.swap(0, 1);
        }
    }
    Ok(Frame {
        width,
        height,
        format,
        pixels,
        frame_id,
    })
}

pub(super) const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A `sensor_msgs/msg/CompressedImage` (JPEG or PNG) decoded.
pub(super) fn compressed_frame(data: &[u8]) -> Result<Frame, Skipped> {
    let mut c = Cdr::new(data)?;
    c.stamp()?;
    let frame_id = c.string("header.frame_id")?;
    let fmt = c.string("format")?;
    let at = c.pos;
    let mut bytes = c.bytes_seq("data")?;
    if fmt.contains("compressedDepth") {
        if fmt.contains("rvl") {
            return Err(Skipped::Why(format!(
                "compressed image format {fmt:?} (RVL) is not imported (JPEG and PNG are)"
            )));
        }
        // compressed_depth_image_transport puts a 12-byte header before the PNG.
        if !bytes.starts_with(PNG_MAGIC)
            && bytes.get(12..).is_some_and(|b| b.starts_with(PNG_MAGIC))
        {
            bytes = &bytes[12..];
        }
    }
    let img = image::load_from_memory(bytes).map_err(|e| CdrError::Invalid {
        what: "compressed image data",
        offset: at,
        detail: format!("format {fmt:?} does not decode: {e}"),
    })?;
    let (width, height) = (img.width(), img.height());
    let (format, pixels) = match img {
        image::DynamicImage::ImageLuma8(b) => (PixelFormat::Gray8, b.into_raw()),
        image::DynamicImage::ImageLuma16(b) => (
            PixelFormat::Gray16,
            b.into_raw().iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        image::DynamicImage::ImageRgb8(b) => (PixelFormat::Rgb8, b.into_raw()),
        other => (PixelFormat::Rgb8, other.to_rgb8().into_raw()),
    };
    Ok(Frame {
        width,
        height,
        format,
        pixels,
        frame_id,
    })
}
