//! The errors of this crate. Both carry only what a codec knows; the format layer above adds the
//! file, stream and byte offset.

/// A failure inside a codec (corrupt bytes, a size that does not fit, an encoder that refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(pub String);

/// A name that is not one of a closed set (a dtype, pixel format or codec name), or a setting
/// given to a codec it does not apply to; the message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidName(pub String);

/// Sets aside room for `n` more bytes in `out`, or an error saying so: a size that came from a
/// file must not abort the process when memory runs out (or `ulimit -v` says no).
pub fn try_room(out: &mut Vec<u8>, n: usize, what: &str) -> Result<(), CodecError> {
    out.try_reserve_exact(n).map_err(|_| {
        CodecError(format!(
            "cannot allocate {n} bytes for {what}: out of memory"
        ))
    })
}
