//! Column encodings: how one buffer of a chunk is turned into stored bytes and back.
//!
//! Four encodings exist (spec/encodings.md): `plain` (the little-endian bytes as they are),
//! `zstd` (a zstd frame of those bytes) and `pco` (a pcodec standalone file of the numbers).
//! Numbers go through pco: on real sensor logs it stores less than zstd at the same speed
//! class, because it models numeric distributions and deltas instead of byte repeats
//! (benches/README.md). Bytes (frame payloads, strings) go through zstd,
//! or stay plain when they are compressed already.

use crate::element::Element;
use crate::error::CodecError;

/// Default zstd level: fast enough for a small robot computer, within a few percent of level 9
/// on sensor bytes.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;
/// Default pco level (0..=12). Chosen by measurement on real IMU logs and synthetic
/// force/torque: higher levels store a little less for many times the time, level 0 is often
/// larger than zstd (benches/README.md, "Numbers behind the defaults").
pub const DEFAULT_PCO_LEVEL: usize = 4;

/// How a buffer's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
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

/// Compression settings shared by every column of a writer: [`CodecOptions::default`] and its
/// `with_` setters (non-exhaustive, so that a new setting breaks no caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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

impl CodecOptions {
    /// Sets the zstd level of byte buffers.
    pub fn with_zstd_level(mut self, level: i32) -> Self {
        self.zstd_level = level;
        self
    }

    /// Sets the pco level of numeric buffers.
    pub fn with_pco_level(mut self, level: usize) -> Self {
        self.pco_level = level;
        self
    }
}

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
    if let Some(config) = hint
        .config
        .as_ref()
        .filter(|_| hint.uses < PCO_HINT_REFRESH)
    {
        hint.uses += 1;
        return pco_compress(values, config).map(|b| (Encoding::Pco, b));
    }
    let (out, config) = pco_search(values, opts)?;
    hint.config = Some(config);
    hint.uses = 0;
    Ok((Encoding::Pco, out))
}

fn pco_error(e: pco::errors::PcoError) -> CodecError {
    CodecError(format!("pco compression failed: {e}"))
}

/// One pco standalone file of `values` with `config`.
fn pco_compress<T: Element>(
    values: &[T],
    config: &pco::ChunkConfig,
) -> Result<Vec<u8>, CodecError> {
    pco::standalone::simple_compress(values, config).map_err(pco_error)
}

/// Compresses with pco's own search of mode and delta encoding; returns the file and the
/// configuration that repeats pco's choice without searching.
fn pco_search<T: Element>(
    values: &[T],
    opts: &CodecOptions,
) -> Result<(Vec<u8>, pco::ChunkConfig), CodecError> {
    let config = pco::ChunkConfig::default()
        .with_compression_level(opts.pco_level)
        .with_enable_8_bit(true);
    let fc = pco::standalone::FileCompressor::default()
        .with_n_hint(values.len())
        .with_uniform_type(Some(pco::data_types::NumberType::new::<T>()));
    let mut out = fc.write_header(Vec::new()).map_err(pco_error)?;
    let mut cc = fc.chunk_compressor(values, &config).map_err(pco_error)?;
    let meta = cc.meta().clone();
    out = cc.write(out).map_err(pco_error)?;
    out = fc.write_footer(out).map_err(pco_error)?;
    // Integer multiples (e.g. a microsecond clock in nanoseconds) keep their base: searching the
    // mode again on every chunk costs time for nothing (benches/README.md, "Numbers behind the defaults").
    let mode = match meta.mode {
        pco::metadata::Mode::Classic => pco::ModeSpec::Classic,
        pco::metadata::Mode::IntMult(pco::metadata::DynLatent::U64(base)) => {
            pco::ModeSpec::TryIntMult(base)
        }
        pco::metadata::Mode::IntMult(pco::metadata::DynLatent::U32(base)) => {
            pco::ModeSpec::TryIntMult(base.into())
        }
        _ => pco::ModeSpec::Auto,
    };
    let delta = match meta.delta_encoding {
        pco::metadata::DeltaEncoding::NoOp => pco::DeltaSpec::NoOp,
        pco::metadata::DeltaEncoding::Consecutive { order, .. } => {
            pco::DeltaSpec::TryConsecutive(order)
        }
        // Lookback deltas (a previous value that is close, not just the last one) pay off on
        // sample-and-hold sensors, but compress several times slower than consecutive deltas
        // for columns only a little smaller (benches/README.md, "Numbers behind the defaults"). The column's next chunks use first-order
        // deltas instead (readers decode both alike).
        pco::metadata::DeltaEncoding::Lookback { .. } => pco::DeltaSpec::TryConsecutive(1),
        _ => pco::DeltaSpec::Auto,
    };
    Ok((out, config.with_mode_spec(mode).with_delta_spec(delta)))
}

/// Encodes timestamps. A regular clock (delta + zstd within one bit per value: one step
/// repeated) takes `delta_zstd`, which stores it in almost nothing and decodes fastest. Any other
/// clock takes the smallest of `delta_zstd`, pco's own choice and pco with first-order deltas
/// (a clock is a step plus jitter), and that winner is reused for the next
/// [`PCO_HINT_REFRESH`] chunks without trying the others.
pub fn encode_times(
    t: &[i64],
    opts: &CodecOptions,
    hint: &mut PcoHint,
) -> Result<(Encoding, Vec<u8>), CodecError> {
    if t.is_empty() {
        return Ok((Encoding::Plain, Vec::new()));
    }
    let delta_zstd = |t: &[i64]| {
        let mut deltas = Vec::with_capacity(t.len());
        let mut prev = 0i64;
        for &x in t {
            deltas.push(x.wrapping_sub(prev));
            prev = x;
        }
        zstd_compress(bytemuck::cast_slice(&deltas), opts.zstd_level)
    };
    let mut dz = None;
    match (hint.times_choice, &hint.config) {
        (Some((Encoding::Pco, n)), Some(config)) if n < PCO_HINT_REFRESH => {
            hint.times_choice = Some((Encoding::Pco, n + 1));
            return pco_compress(t, config).map(|b| (Encoding::Pco, b));
        }
        (Some((Encoding::DeltaZstd, n)), _) if n < PCO_HINT_REFRESH => {
            let d = delta_zstd(t)?;
            // Still within a byte per value: keep it; otherwise the clock changed, choose again.
            if d.len() <= t.len() {
                hint.times_choice = Some((Encoding::DeltaZstd, n + 1));
                return Ok((Encoding::DeltaZstd, d));
            }
            dz = Some(d);
        }
        _ => {}
    }
    let dz = match dz {
        Some(d) => d,
        None => delta_zstd(t)?,
    };
    if dz.len() * 8 <= t.len() {
        hint.times_choice = Some((Encoding::DeltaZstd, 0));
        return Ok((Encoding::DeltaZstd, dz));
    }
    // A jittery clock (the 400 Hz x-IMU3 walk) is smaller and faster with pco than with
    // delta_zstd; and pco's own search can pick int-mult mode where classic first-order deltas
    // store less (the 100 Hz x-IMU3 log), so both are tried (benches/README.md, "Numbers behind the defaults").
    let (searched, searched_config) = pco_search(t, opts)?;
    let step_config = pco::ChunkConfig::default()
        .with_compression_level(opts.pco_level)
        .with_mode_spec(pco::ModeSpec::Classic)
        .with_delta_spec(pco::DeltaSpec::TryConsecutive(1));
    let step = pco_compress(t, &step_config)?;
    let (p, config) = if step.len() <= searched.len() {
        (step, step_config)
    } else {
        (searched, searched_config)
    };
    if p.len() < dz.len() {
        hint.config = Some(config);
        hint.times_choice = Some((Encoding::Pco, 0));
        Ok((Encoding::Pco, p))
    } else {
        hint.times_choice = Some((Encoding::DeltaZstd, 0));
        Ok((Encoding::DeltaZstd, dz))
    }
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
            let mut out = zeroed::<T>(count)?;
            bytemuck::cast_slice_mut::<T, u8>(&mut out).copy_from_slice(&bytes);
            if encoding == Encoding::DeltaZstd {
                undelta(&mut out)?;
            }
            Ok(out)
        }
        Encoding::Pco => {
            let mut out = zeroed::<T>(count)?;
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

/// `count` zeroed numbers, or an error when the memory cannot be had (`count` comes from a
/// file: running out must not abort the process).
fn zeroed<T: Element>(count: usize) -> Result<Vec<T>, CodecError> {
    let mut out = Vec::new();
    out.try_reserve_exact(count).map_err(|_| {
        CodecError(format!(
            "cannot allocate {} bytes for {count} numbers: out of memory",
            count.saturating_mul(std::mem::size_of::<T>())
        ))
    })?;
    out.resize(count, <T as bytemuck::Zeroable>::zeroed());
    Ok(out)
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

fn corrupt(e: std::io::Error) -> CodecError {
    CodecError(format!("zstd data is corrupt: {e}"))
}

/// Runs `f` with this thread's decompression context.
fn with_decompressor<R>(
    f: impl FnOnce(&mut zstd::bulk::Decompressor<'static>) -> std::io::Result<R>,
) -> Result<R, CodecError> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let d = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::new().map_err(corrupt)?),
        };
        f(d).map_err(corrupt)
    })
}

/// One zstd frame, decompressed into at most `len` bytes.
pub fn zstd_decompress(stored: &[u8], len: usize) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    crate::error::try_room(&mut out, len, "zstd data")?;
    with_decompressor(|d| d.decompress_to_buffer(stored, &mut out))?;
    Ok(out)
}

/// Decompresses one zstd frame of at most `len` bytes onto the end of `out`, without an
/// intermediate buffer; returns the bytes appended. `out` is unchanged on error.
pub fn zstd_decompress_append(
    stored: &[u8],
    len: usize,
    out: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    // zstd may fill all the room after `start`, which can be more than `len`: check the size the
    // frame declares first (this library's writer always declares it).
    match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(n)) if n > len as u64 => {
            return Err(CodecError(format!(
                "zstd data holds {n} bytes, at most {len} expected"
            )))
        }
        Ok(Some(_)) => {}
        Ok(None) | Err(_) => {
            // No declared size (or a corrupt header, which decompression reports): a buffer of
            // exactly `len` bounds the work.
            let v = zstd_decompress(stored, len)?;
            out.extend_from_slice(&v);
            return Ok(v.len());
        }
    }
    let start = out.len();
    crate::error::try_room(out, len, "zstd data")?;
    let mut dest = std::io::Cursor::new(&mut *out);
    dest.set_position(start as u64);
    match with_decompressor(|d| d.decompress_to_buffer(stored, &mut dest)) {
        Ok(n) if n <= len => Ok(n),
        Ok(n) => {
            out.truncate(start);
            Err(CodecError(format!(
                "zstd data holds {n} bytes, at most {len} expected"
            )))
        }
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
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
    fn a_jittery_clock_keeps_its_winning_encoding_for_the_next_chunks() {
        let opts = CodecOptions::default();
        let mut hint = PcoHint::default();
        // 1 kHz with +-20 us of jitter: pco beats delta_zstd, once searched, then reused.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for chunk in 0..(PCO_HINT_REFRESH as i64 + 2) {
            let t: Vec<i64> = (0..1000)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (chunk * 1000 + i) * 1_000_000 + (x % 40_000) as i64
                })
                .collect();
            let (enc, bytes) = encode_times(&t, &opts, &mut hint).unwrap();
            assert_eq!(enc, Encoding::Pco, "chunk {chunk}");
            assert!(bytes.len() < 5 * t.len() / 2, "{} bytes", bytes.len());
            assert!(matches!(hint.times_choice, Some((Encoding::Pco, _))));
            assert_eq!(decode_numbers::<i64>(enc, &bytes, t.len()).unwrap(), t);
        }
        // A regular clock after it: delta_zstd again once the choice is searched again.
        let regular: Vec<i64> = (0..1000).map(|i| i * 1_000_000).collect();
        let mut fresh = PcoHint::default();
        let (enc, _) = encode_times(&regular, &opts, &mut fresh).unwrap();
        assert_eq!(enc, Encoding::DeltaZstd);
        assert!(matches!(fresh.times_choice, Some((Encoding::DeltaZstd, 0))));
    }

    #[test]
    fn a_microsecond_clock_keeps_its_integer_base() {
        let opts = CodecOptions::default();
        let mut hint = PcoHint::default();
        let mut x = 88_172_645_463_325_252u64;
        for chunk in 0..3i64 {
            let t: Vec<i64> = (0..4000)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (chunk * 4000 + i) * 1_000_000 + (x % 40) as i64 * 1000
                })
                .collect();
            let (enc, bytes) = encode_times(&t, &opts, &mut hint).unwrap();
            assert_eq!(enc, Encoding::Pco);
            assert!(bytes.len() < t.len(), "{} bytes", bytes.len());
            assert_eq!(decode_numbers::<i64>(enc, &bytes, t.len()).unwrap(), t);
            assert!(matches!(
                hint.config.as_ref().map(|c| &c.mode_spec),
                Some(pco::ModeSpec::TryIntMult(1000))
            ));
        }
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
