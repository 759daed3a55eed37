//! Column encodings: how one buffer of a chunk is turned into stored bytes and back.
//!
//! Four encodings exist (spec/encodings.md): `plain` (the little-endian bytes as they are),
//! `zstd` (a zstd frame of those bytes) and `pco` (a pcodec standalone file of the numbers).
//! Numbers go through pco: on real sensor logs it stores 0.6-0.9x of zstd at the same speed
//! class, because it models numeric distributions and deltas instead of byte repeats
//! (measurements in `benches/` and the README). Bytes (frame payloads, strings) go through zstd,
//! or stay plain when they are compressed already.

use crate::schema::Element;

/// Default zstd level: fast enough for a small robot computer, within a few percent of level 9
/// on sensor bytes.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;
/// Default pco level (0..=12). Chosen by measurement on the IMU logs in `shared/data` and
/// synthetic force/torque: level 8 stores 2-10 % less but takes 3-40x longer; level 0 is often
/// larger than zstd (README, Benchmarks).
pub const DEFAULT_PCO_LEVEL: usize = 4;

/// How a buffer's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Encoding {
    /// The raw little-endian bytes.
    Plain = 0,
    /// One zstd frame of the raw bytes.
    Zstd = 1,
    /// A pco standalone file of the numbers (numeric buffers only).
    Pco = 2,
    /// Integers replaced by their wrapping differences from the previous value (the first
    /// value kept), then one zstd frame of those little-endian bytes. Regular clocks become
    /// runs of one repeated step, which zstd stores in almost nothing.
    DeltaZstd = 3,
}

impl Encoding {
    /// The encoding for a directory byte, if this version knows it.
    pub fn from_byte(b: u8) -> Option<Encoding> {
        match b {
            0 => Some(Encoding::Plain),
            1 => Some(Encoding::Zstd),
            2 => Some(Encoding::Pco),
            3 => Some(Encoding::DeltaZstd),
            _ => None,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Zstd => "zstd",
            Encoding::Pco => "pco",
            Encoding::DeltaZstd => "delta_zstd",
        }
    }
}

/// Compression settings shared by every column of a writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecOptions {
    /// zstd level for byte buffers (1..=22; negative levels are zstd's fast modes).
    pub zstd_level: i32,
    /// pco level for numeric buffers (0..=12).
    pub pco_level: usize,
}

impl Default for CodecOptions {
    fn default() -> Self {
        CodecOptions {
            zstd_level: DEFAULT_ZSTD_LEVEL,
            pco_level: DEFAULT_PCO_LEVEL,
        }
    }
}

/// A failure inside a codec; the caller adds file, stream and offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub String);

/// Encodes numbers with pco, or stores them plain when there are none.
pub fn encode_numbers<T: Element>(
    values: &[T],
    opts: &CodecOptions,
) -> Result<(Encoding, Vec<u8>), CodecError> {
    if values.is_empty() {
        return Ok((Encoding::Plain, Vec::new()));
    }
    let config = pco::ChunkConfig::default()
        .with_compression_level(opts.pco_level)
        .with_enable_8_bit(true);
    pco::standalone::simple_compress(values, &config)
        .map(|bytes| (Encoding::Pco, bytes))
        .map_err(|e| CodecError(format!("pco compression failed: {e}")))
}

/// pco's choice of mode and delta order for one column, reused for the column's next chunks:
/// the search is most of pco's compression time on chunks of a few thousand values, and a
/// sensor's statistics change slowly. Refreshed every [`PCO_HINT_REFRESH`] chunks.
#[derive(Debug, Clone, Default)]
pub struct PcoHint {
    config: Option<pco::ChunkConfig>,
    uses: u32,
    /// For timestamps: the encoding that won last time, and for how many chunks it was reused.
    times_choice: Option<(Encoding, u32)>,
}

/// Chunks after which a column's [`PcoHint`] is searched again.
pub const PCO_HINT_REFRESH: u32 = 64;

/// Like [`encode_numbers`], reusing and updating `hint`.
pub fn encode_numbers_hinted<T: Element>(
    values: &[T],
    opts: &CodecOptions,
    hint: &mut PcoHint,
) -> Result<(Encoding, Vec<u8>), CodecError> {
    if values.is_empty() {
        return Ok((Encoding::Plain, Vec::new()));
    }
    let err = |e: pco::errors::PcoError| CodecError(format!("pco compression failed: {e}"));
    if let Some(config) = hint
        .config
        .as_ref()
        .filter(|_| hint.uses < PCO_HINT_REFRESH)
    {
        hint.uses += 1;
        return pco::standalone::simple_compress(values, config)
            .map(|b| (Encoding::Pco, b))
            .map_err(err);
    }
    let config = pco::ChunkConfig::default()
        .with_compression_level(opts.pco_level)
        .with_enable_8_bit(true);
    let fc = pco::standalone::FileCompressor::default()
        .with_n_hint(values.len())
        .with_uniform_type(Some(pco::data_types::NumberType::new::<T>()));
    let mut out = fc.write_header(Vec::new()).map_err(err)?;
    let mut cc = fc.chunk_compressor(values, &config).map_err(err)?;
    let meta = cc.meta().clone();
    out = cc.write(out).map_err(err)?;
    out = fc.write_footer(out).map_err(err)?;
    let mode = match meta.mode {
        pco::metadata::Mode::Classic => pco::ModeSpec::Classic,
        _ => pco::ModeSpec::Auto,
    };
    let delta = match meta.delta_encoding {
        pco::metadata::DeltaEncoding::NoOp => pco::DeltaSpec::NoOp,
        pco::metadata::DeltaEncoding::Consecutive { order, .. } => {
            pco::DeltaSpec::TryConsecutive(order)
        }
        pco::metadata::DeltaEncoding::Lookback { .. } => pco::DeltaSpec::TryLookback,
        _ => pco::DeltaSpec::Auto,
    };
    hint.config = Some(config.with_mode_spec(mode).with_delta_spec(delta));
    hint.uses = 0;
    Ok((Encoding::Pco, out))
}

/// Encodes timestamps: delta + zstd, which stores a regular clock in almost nothing; when that
/// leaves more than a byte per value (a jittery clock), pco as well, keeping the smaller.
pub fn encode_times(
    t: &[i64],
    opts: &CodecOptions,
    hint: &mut PcoHint,
) -> Result<(Encoding, Vec<u8>), CodecError> {
    if t.is_empty() {
        return Ok((Encoding::Plain, Vec::new()));
    }
    // A clock's character (regular or jittery) persists: reuse the last winner for a while
    // instead of compressing twice every chunk.
    match hint.times_choice {
        Some((Encoding::Pco, n)) if n < PCO_HINT_REFRESH => {
            hint.times_choice = Some((Encoding::Pco, n + 1));
            return encode_numbers_hinted(t, opts, hint);
        }
        Some((Encoding::DeltaZstd, n)) if n < PCO_HINT_REFRESH => {
            hint.times_choice = Some((Encoding::DeltaZstd, n + 1));
        }
        _ => hint.times_choice = None,
    }
    let mut deltas = Vec::with_capacity(t.len());
    let mut prev = 0i64;
    for &x in t {
        deltas.push(x.wrapping_sub(prev));
        prev = x;
    }
    let dz = zstd_compress(bytemuck::cast_slice(&deltas), opts.zstd_level)?;
    if dz.len() <= t.len() {
        return Ok((Encoding::DeltaZstd, dz));
    }
    let (enc, p) = encode_numbers_hinted(t, opts, hint)?;
    Ok(if p.len() < dz.len() {
        (enc, p)
    } else {
        (Encoding::DeltaZstd, dz)
    })
}

/// Decodes exactly `count` numbers. Allocates `count` elements, which the caller bounds.
pub fn decode_numbers<T: Element>(
    encoding: Encoding,
    stored: &[u8],
    count: usize,
) -> Result<Vec<T>, CodecError> {
    match encoding {
        Encoding::Plain | Encoding::Zstd | Encoding::DeltaZstd => {
            let raw = if encoding == Encoding::Plain {
                Encoding::Plain
            } else {
                Encoding::Zstd
            };
            let bytes = decode_bytes(raw, stored, count * std::mem::size_of::<T>())?;
            let mut out = vec![<T as bytemuck::Zeroable>::zeroed(); count];
            bytemuck::cast_slice_mut::<T, u8>(&mut out).copy_from_slice(&bytes);
            if encoding == Encoding::DeltaZstd {
                undelta(&mut out)?;
            }
            Ok(out)
        }
        Encoding::Pco => {
            let mut out = vec![<T as bytemuck::Zeroable>::zeroed(); count];
            if count == 0 {
                return Ok(out);
            }
            let progress = pco::standalone::simple_decompress_into(stored, &mut out)
                .map_err(|e| CodecError(format!("pco data is corrupt: {e}")))?;
            if progress.n_processed != count || !progress.finished {
                return Err(CodecError(format!(
                    "pco data holds {}{} numbers, expected {count}",
                    progress.n_processed,
                    if progress.finished { "" } else { " or more" }
                )));
            }
            Ok(out)
        }
    }
}

/// Turns wrapping differences back into values, in place (integer types only).
fn undelta<T: Element>(values: &mut [T]) -> Result<(), CodecError> {
    match T::DTYPE {
        crate::DType::Float32 | crate::DType::Float64 => Err(CodecError(
            "delta_zstd encoding on a float buffer (integers only)".into(),
        )),
        _ => {
            // Integers of every width: reinterpret as the same-width unsigned type and add
            // with wrapping, which is what a two's-complement difference undoes.
            let size = std::mem::size_of::<T>();
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(values);
            let mut acc: u64 = 0;
            for v in bytes.chunks_exact_mut(size) {
                let mut b = [0u8; 8];
                b[..size].copy_from_slice(v);
                acc = acc.wrapping_add(u64::from_le_bytes(b));
                v.copy_from_slice(&acc.to_le_bytes()[..size]);
            }
            Ok(())
        }
    }
}

/// Encodes opaque bytes with zstd at the configured level.
pub fn encode_bytes(bytes: &[u8], opts: &CodecOptions) -> Result<(Encoding, Vec<u8>), CodecError> {
    if bytes.is_empty() {
        return Ok((Encoding::Plain, Vec::new()));
    }
    zstd_compress(bytes, opts.zstd_level).map(|c| (Encoding::Zstd, c))
}

/// Decodes exactly `len` bytes. Allocates at most `len` bytes, which the caller bounds.
pub fn decode_bytes(encoding: Encoding, stored: &[u8], len: usize) -> Result<Vec<u8>, CodecError> {
    let out = match encoding {
        Encoding::Plain => stored.to_vec(),
        Encoding::Zstd => zstd_decompress(stored, len)?,
        Encoding::Pco | Encoding::DeltaZstd => {
            return Err(CodecError(format!(
                "{} encoding on a byte buffer (it stores numbers only)",
                encoding.name()
            )))
        }
    };
    if out.len() != len {
        return Err(CodecError(format!(
            "{} data decodes to {} bytes, expected {len}",
            encoding.name(),
            out.len()
        )));
    }
    Ok(out)
}

thread_local! {
    // zstd contexts are reused per thread: creating one costs more than decompressing a small
    // buffer, and readers decode many small buffers (timestamps, frames, event text).
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static COMPRESSOR: std::cell::RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
}

/// One zstd frame, decompressed into at most `len` bytes.
pub fn zstd_decompress(stored: &[u8], len: usize) -> Result<Vec<u8>, CodecError> {
    let err = |e: std::io::Error| CodecError(format!("zstd data is corrupt: {e}"));
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(zstd::bulk::Decompressor::new().map_err(err)?);
        }
        match slot.as_mut() {
            Some(d) => d.decompress(stored, len).map_err(err),
            None => zstd::bulk::decompress(stored, len).map_err(err),
        }
    })
}

/// One zstd frame of `bytes` at `level`.
pub fn zstd_compress(bytes: &[u8], level: i32) -> Result<Vec<u8>, CodecError> {
    let err = |e: std::io::Error| CodecError(format!("zstd compression failed: {e}"));
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(l, _)| *l != level) {
            *slot = Some((level, zstd::bulk::Compressor::new(level).map_err(err)?));
        }
        match slot.as_mut() {
            Some((_, c)) => c.compress(bytes).map_err(err),
            None => zstd::bulk::compress(bytes, level).map_err(err),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_exactly_including_nan_bits() {
        let opts = CodecOptions::default();
        let v: Vec<f32> = vec![
            1.5,
            f32::NAN,
            -0.0,
            f32::INFINITY,
            f32::from_bits(0x7fc0_1234),
        ];
        let (enc, bytes) = encode_numbers(&v, &opts).unwrap();
        assert_eq!(enc, Encoding::Pco);
        let back: Vec<f32> = decode_numbers(enc, &bytes, v.len()).unwrap();
        let bits = |x: &[f32]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&v));

        let v: Vec<u8> = (0..=255).collect();
        let (enc, bytes) = encode_numbers(&v, &opts).unwrap();
        assert_eq!(decode_numbers::<u8>(enc, &bytes, 256).unwrap(), v);
    }

    #[test]
    fn wrong_counts_are_errors() {
        let opts = CodecOptions::default();
        let v: Vec<i64> = (0..1000).map(|i| i * 1_000_000).collect();
        let (enc, bytes) = encode_numbers(&v, &opts).unwrap();
        assert!(decode_numbers::<i64>(enc, &bytes, 999).is_err());
        assert!(decode_numbers::<i64>(enc, &bytes, 1001).is_err());
        let (enc, bytes) = encode_bytes(b"hello hello hello", &opts).unwrap();
        assert!(decode_bytes(enc, &bytes, 16).is_err());
        assert_eq!(decode_bytes(enc, &bytes, 17).unwrap(), b"hello hello hello");
    }

    #[test]
    fn timestamps_choose_delta_zstd_for_regular_clocks_and_round_trip() {
        let opts = CodecOptions::default();
        let mut hint = PcoHint::default();
        let regular: Vec<i64> = (0..4000)
            .map(|i| 1_000_000_000_000 + i * 1_000_000)
            .collect();
        let (enc, bytes) = encode_times(&regular, &opts, &mut hint).unwrap();
        assert_eq!(enc, Encoding::DeltaZstd);
        assert!(
            bytes.len() < 200,
            "{} bytes for a regular 1 kHz clock",
            bytes.len()
        );
        assert_eq!(decode_numbers::<i64>(enc, &bytes, 4000).unwrap(), regular);

        let extremes = vec![i64::MIN, i64::MAX, -1, 0, i64::MIN, 5];
        let (enc, bytes) = encode_times(&extremes, &opts, &mut hint).unwrap();
        assert_eq!(
            decode_numbers::<i64>(enc, &bytes, extremes.len()).unwrap(),
            extremes
        );
        assert!(decode_numbers::<f32>(Encoding::DeltaZstd, &bytes, 12).is_err());
    }

    #[test]
    fn hinted_pco_round_trips_across_refreshes() {
        let opts = CodecOptions::default();
        let mut hint = PcoHint::default();
        for chunk in 0..(PCO_HINT_REFRESH as usize + 3) {
            let v: Vec<f32> = (0..1000)
                .map(|i| ((chunk * 1000 + i) as f32 * 0.01).sin())
                .collect();
            let (enc, bytes) = encode_numbers_hinted(&v, &opts, &mut hint).unwrap();
            assert_eq!(decode_numbers::<f32>(enc, &bytes, v.len()).unwrap(), v);
        }
    }

    #[test]
    fn corrupt_pco_is_an_error_not_a_panic() {
        let opts = CodecOptions::default();
        let v: Vec<f64> = (0..500).map(|i| (i as f64 * 0.01).sin()).collect();
        let (enc, bytes) = encode_numbers(&v, &opts).unwrap();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            // Either an error or some numbers: never a panic.
            let _ = decode_numbers::<f64>(enc, &b, v.len());
            let _ = decode_numbers::<f64>(enc, &b[..i], v.len());
        }
    }
}
