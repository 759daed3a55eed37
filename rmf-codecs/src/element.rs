//! Element types: the ten numeric types of signals, audio and stored buffers, and the Rust
//! types that stand for them.

use std::fmt;

use arrow_array::types::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_schema::DataType;
use serde::{Deserialize, Serialize};

use crate::error::InvalidName;

/// Numeric element types of signals, audio and stored buffers.
///
/// The JSON names are numpy's (`"float32"`, `"uint8"`, ...); the byte codes are used in chunk
/// buffer directories (spec/chunks.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DType {
    /// u8
    Uint8,
    /// u16
    Uint16,
    /// u32
    Uint32,
    /// u64
    Uint64,
    /// i8
    Int8,
    /// i16
    Int16,
    /// i32
    Int32,
    /// i64
    Int64,
    /// f32
    Float32,
    /// f64
    Float64,
}

impl DType {
    /// Every element type, in code order.
    pub const ALL: [DType; 10] = [
        DType::Uint8,
        DType::Uint16,
        DType::Uint32,
        DType::Uint64,
        DType::Int8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Float32,
        DType::Float64,
    ];

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Uint8 | DType::Int8 => 1,
            DType::Uint16 | DType::Int16 => 2,
            DType::Uint32 | DType::Int32 | DType::Float32 => 4,
            DType::Uint64 | DType::Int64 | DType::Float64 => 8,
        }
    }

    /// The numpy-style name, as in the stream JSON.
    pub fn name(self) -> &'static str {
        match self {
            DType::Uint8 => "uint8",
            DType::Uint16 => "uint16",
            DType::Uint32 => "uint32",
            DType::Uint64 => "uint64",
            DType::Int8 => "int8",
            DType::Int16 => "int16",
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
        }
    }

    /// Parses a numpy-style name (`"float32"`) or a Rust one (`"f32"`).
    pub fn parse(name: &str) -> Result<DType, InvalidName> {
        let d = match name {
            "uint8" | "u8" => DType::Uint8,
            "uint16" | "u16" => DType::Uint16,
            "uint32" | "u32" => DType::Uint32,
            "uint64" | "u64" => DType::Uint64,
            "int8" | "i8" => DType::Int8,
            "int16" | "i16" => DType::Int16,
            "int32" | "i32" => DType::Int32,
            "int64" | "i64" => DType::Int64,
            "float32" | "f32" => DType::Float32,
            "float64" | "f64" => DType::Float64,
            other => {
                return Err(InvalidName(format!(
                    "unknown dtype {other:?} (expected one of uint8..uint64, int8..int64, float32, float64)"
                )))
            }
        };
        Ok(d)
    }

    /// The byte code used in buffer directories (1..=10; 0 means opaque bytes).
    pub fn code(self) -> u8 {
        match self {
            DType::Uint8 => 1,
            DType::Uint16 => 2,
            DType::Uint32 => 3,
            DType::Uint64 => 4,
            DType::Int8 => 5,
            DType::Int16 => 6,
            DType::Int32 => 7,
            DType::Int64 => 8,
            DType::Float32 => 9,
            DType::Float64 => 10,
        }
    }

    /// The element type for a buffer-directory code.
    pub fn from_code(code: u8) -> Option<DType> {
        DType::ALL.iter().copied().find(|d| d.code() == code)
    }

    /// The Arrow data type of one element.
    pub fn arrow(self) -> DataType {
        match self {
            DType::Uint8 => DataType::UInt8,
            DType::Uint16 => DataType::UInt16,
            DType::Uint32 => DataType::UInt32,
            DType::Uint64 => DataType::UInt64,
            DType::Int8 => DataType::Int8,
            DType::Int16 => DataType::Int16,
            DType::Int32 => DataType::Int32,
            DType::Int64 => DataType::Int64,
            DType::Float32 => DataType::Float32,
            DType::Float64 => DataType::Float64,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A Rust number type that can be a stream element. Implemented for the ten [`DType`]s.
pub trait Element:
    bytemuck::Pod
    + pco::data_types::Number
    + arrow_buffer::ArrowNativeType
    + PartialOrd
    + fmt::Debug
    + Send
    + Sync
    + 'static
{
    /// The matching [`DType`].
    const DTYPE: DType;
    /// The matching Arrow primitive type.
    type Arrow: ArrowPrimitiveType<Native = Self>;
    /// The value as f64 (rounded for 64-bit integers), for statistics and display.
    fn to_f64(self) -> f64;
}

macro_rules! element {
    ($($t:ty => $d:ident, $a:ty;)*) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            type Arrow = $a;
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}

element! {
    u8 => Uint8, UInt8Type;
    u16 => Uint16, UInt16Type;
    u32 => Uint32, UInt32Type;
    u64 => Uint64, UInt64Type;
    i8 => Int8, Int8Type;
    i16 => Int16, Int16Type;
    i32 => Int32, Int32Type;
    i64 => Int64, Int64Type;
    f32 => Float32, Float32Type;
    f64 => Float64, Float64Type;
}

/// Runs `$body` with `$t` bound to the Rust type of a runtime [`DType`].
#[macro_export]
#[doc(hidden)]
macro_rules! with_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::DType::Uint8 => {
                type $t = u8;
                $body
            }
            $crate::DType::Uint16 => {
                type $t = u16;
                $body
            }
            $crate::DType::Uint32 => {
                type $t = u32;
                $body
            }
            $crate::DType::Uint64 => {
                type $t = u64;
                $body
            }
            $crate::DType::Int8 => {
                type $t = i8;
                $body
            }
            $crate::DType::Int16 => {
                type $t = i16;
                $body
            }
            $crate::DType::Int32 => {
                type $t = i32;
                $body
            }
            $crate::DType::Int64 => {
                type $t = i64;
                $body
            }
            $crate::DType::Float32 => {
                type $t = f32;
                $body
            }
            $crate::DType::Float64 => {
                type $t = f64;
                $body
            }
            // DType is #[non_exhaustive] to other crates; this macro lives beside it and names
            // every variant, so this arm is never taken.
            #[allow(unreachable_patterns)]
            _ => unreachable!("with_dtype! names every DType"),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtype_names_and_codes_are_one_to_one() {
        for d in DType::ALL {
            assert_eq!(DType::parse(d.name()).unwrap(), d);
            assert_eq!(DType::from_code(d.code()), Some(d));
        }
        assert!(DType::parse("float16").is_err());
    }
}
