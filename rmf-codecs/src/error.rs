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
