//! # rmf-codecs: how RMF turns values into stored bytes and back
//!
//! The lowest layer of RMF: it knows numbers, pixels and bytes, and nothing of files, streams
//! or clocks. `rmf-core` builds chunks out of these encodings; the spec's
//! `spec/encodings.md` and `spec/streams.md` say what each one stores.
//!
//! | module | what it holds |
//! |---|---|
//! | [`element`] | [`DType`], the ten numeric element types, and [`Element`], the Rust types behind them |
//! | [`pixel`] | [`PixelFormat`]: rgb8, gray8, gray16 |
//! | [`column`](mod@column) | column encodings: plain, zstd, delta + zstd, pco ([`Encoding`], [`CodecOptions`]) |
//! | [`frame`] | frame codecs: raw, PNG, JPEG, H.264 ([`FrameCodec`] carries each codec's parameters) |
//! | [`error`] | [`CodecError`] and [`InvalidName`] |
//!
//! ## Features
//!
//! | feature | default | what it adds | what it builds |
//! |---|---|---|---|
//! | `png` | yes | the `png` frame codec | `image` (PNG only) |
//! | `jpeg` | yes | the `jpeg` frame codec | `jpeg-encoder`, `zune-jpeg` |
//! | `h264` | yes | the `h264` frame codec | `openh264` (its C source, with nasm when present) |
//!
//! Without a codec's feature, frames of that codec fail with a [`CodecError`] that names the
//! feature; everything else works.
//!
//! ## Example
//! ```
//! use rmf_codecs::column::{decode_numbers, encode_numbers, CodecOptions};
//! use rmf_codecs::frame::{self, FrameCodec, FrameSpec};
//! use rmf_codecs::PixelFormat;
//!
//! // A column of numbers, compressed and back, bit for bit.
//! let values: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin()).collect();
//! let (encoding, stored) = encode_numbers(&values, &CodecOptions::default()).unwrap();
//! let back: Vec<f32> = decode_numbers(encoding, &stored, values.len()).unwrap();
//! assert_eq!(back, values);
//!
//! // One raw frame, stored as a zstd frame of its pixels.
//! let spec = FrameSpec { width: 4, height: 2, pixel_format: PixelFormat::Gray8, codec: FrameCodec::Raw };
//! let pixels = [7u8; 8];
//! let payload = frame::encode(&spec, &pixels, &CodecOptions::default()).unwrap();
//! assert_eq!(frame::decode(&spec, &payload).unwrap(), pixels);
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod column;
pub mod element;
pub mod error;
pub mod frame;
pub mod pixel;

pub use column::{CodecOptions, Encoding, PcoHint};
pub use element::{DType, Element};
pub use error::{CodecError, InvalidName};
pub use frame::{
    FrameCodec, FrameSpec, DEFAULT_GOP, DEFAULT_H264_QP, DEFAULT_JPEG_QUALITY, MAX_GOP,
};
pub use pixel::PixelFormat;
