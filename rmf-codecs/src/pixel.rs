//! Pixel layouts of frame streams.

use serde::{Deserialize, Serialize};

use crate::error::InvalidName;

/// Pixel layout of a frame stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PixelFormat {
    /// 8-bit RGB, row-major, 3 bytes per pixel.
    Rgb8,
    /// 8-bit grey, 1 byte per pixel.
    Gray8,
    /// 16-bit grey (depth), little-endian, 2 bytes per pixel.
    Gray16,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Gray8 => 1,
            PixelFormat::Gray16 => 2,
        }
    }

    /// Channels per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Gray8 | PixelFormat::Gray16 => 1,
        }
    }

    /// Parses `"rgb8"`, `"gray8"` or `"gray16"`.
    pub fn parse(name: &str) -> Result<PixelFormat, InvalidName> {
        match name {
            "rgb8" => Ok(PixelFormat::Rgb8),
            "gray8" => Ok(PixelFormat::Gray8),
            "gray16" => Ok(PixelFormat::Gray16),
            other => Err(InvalidName(format!(
                "unknown pixel format {other:?} (expected rgb8, gray8 or gray16)"
            ))),
        }
    }

    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            PixelFormat::Rgb8 => "rgb8",
            PixelFormat::Gray8 => "gray8",
            PixelFormat::Gray16 => "gray16",
        }
    }
}
